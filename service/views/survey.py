"""The public satisfaction page: reached from the SMS link without logging in. The link is signed, expires
(KAM_FOLLOW_UP_LINK_DAYS) and answers once; a forged link is a 404, an expired or used one a 410 that says so.
It shows the ticket's number and title only — nothing else about the customer."""

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from kam.form_helpers import add_service_errors
from service.forms import FollowUpForm
from service.services import follow_up as services


def _refused(request, reason: str):
    status = 404 if reason == "forged" else 410
    return render(request, "service/survey.html", {"refused": reason}, status=status)


@login_not_required
@require_http_methods(["GET", "POST"])
def survey(request, token: str):
    try:
        item = services.open_link(token)
    except services.LinkRefused as exc:
        return _refused(request, exc.reason)
    form = FollowUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.answer(token, answer=data["answer"], score=data["score"], comment=data["comment"])
        except services.LinkRefused as exc:
            return _refused(request, exc.reason)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return render(request, "service/survey.html", {"thanks": True})
    status = 400 if request.method == "POST" else 200
    return render(request, "service/survey.html", {"form": form, "ticket": item.ticket}, status=status)
