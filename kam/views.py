"""The home page: the panels the apps registered (kam.home) that fit the user, or the start links."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from kam.home import render_home_panels


@require_GET
def home(request):
    panels = render_home_panels(request)
    scripts = list(dict.fromkeys(script for panel in panels for script in panel.scripts))
    context = {"panels": panels, "scripts": scripts, "start_links": not any(p.summary for p in panels)}
    return render(request, "home.html", context)
