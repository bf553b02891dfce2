"""Server-rendered pages of the orders app. The catalogue is reference data every signed-in user may read."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from orders import selectors
from orders.forms import CatalogueFilterForm


@require_GET
def product_list(request):
    form = CatalogueFilterForm(request.GET)
    # A bad category shows as a form error above the whole (non-legacy) catalogue.
    filters = form.cleaned_data if form.is_valid() else {}
    groups = selectors.product_catalogue(
        category=filters.get("category", ""), include_legacy=filters.get("legacy", False)
    )
    template = "orders/_product_table.html" if request.htmx else "orders/product_list.html"
    return render(request, template, {"form": form, "groups": groups})
