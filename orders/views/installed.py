"""Pages of the installed base: the 360 "Subscriptions" panel and a leaving customer's release checklist
(seed 000 I.3 item 21). The customer is fetched through `Customer.objects.visible_to`: another person's
customer is a 404."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from customers.models import Customer
from kam.form_helpers import add_service_errors
from orders import policy
from orders.forms_installed import CustomerLeaveForm
from orders.selectors import installed as selectors
from orders.services import installed as services


def customer_panel_context(request, customer: Customer) -> dict:
    """Four queries whatever the number of subscriptions (see selectors.subscriptions_panel; may start)."""
    context = selectors.subscriptions_panel(request.user, customer)
    context["may_start_leaving"] = bool(context["live_count"]) and policy.may_start_customer_leaving(
        request.user, customer
    )
    return context


@require_http_methods(["GET", "POST"])
def release_checklist(request, pk: int):
    """What a leaving customer holds and whether each resource went back to the pool; the customer's editors
    start the leaving here (one termination order for everything live)."""
    customer = get_object_or_404(Customer.objects.visible_to(request.user).live(), pk=pk)
    may_start = policy.may_start_customer_leaving(request.user, customer)
    form = None
    status = 200
    if request.method == "POST":
        if not may_start:
            raise PermissionDenied
        form = CustomerLeaveForm(request.POST)
        if form.is_valid():
            try:
                order = services.customer_leave(customer, by=request.user, reason=form.cleaned_data["reason"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, gettext("Termination order %(number)s submitted.") % {"number": order.number})
                return redirect(reverse("orders:release-checklist", args=[customer.pk]))
        status = 400
    rows = selectors.release_checklist(customer)
    live_count = selectors.live_subscriptions(request.user, customer).count()
    covered = sum(1 for row in rows if row.subscription.status in selectors.LIVE_STATES)
    if form is None and may_start and live_count > covered:
        form = CustomerLeaveForm()
    context = {
        "customer": customer,
        "rows": rows,
        "orders": list(selectors.termination_orders(customer).order_by("-created_at", "-id")[:20]),
        "form": form,
        "released_count": sum(1 for row in rows for item in row.items if item.released),
        "to_release_count": sum(1 for row in rows for item in row.items if not item.released),
    }
    return render(request, "orders/installed/release_checklist.html", context, status=status)
