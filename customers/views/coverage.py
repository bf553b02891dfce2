"""The service coverage page and its one-click assignment. Thin: customers.coverage.selectors reads,
customers.coverage.services writes, customers.policy decides who may; the form is customers.forms.coverage."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from customers.coverage import selectors, services
from customers.forms.coverage import AssignForm, candidate_label
from customers.models import Customer
from customers.policy import may_assign_from_coverage, may_see_coverage
from kam.pagination import CappedPaginator

PAGE_SIZE = 25
# An admin picks from every account manager: the select stays bounded.
MAX_CANDIDATES = 500


def _page(request, queryset, param: str):
    """One page of a gap list (each list pages on its own parameter); a bad page number shows page 1."""
    paginator = CappedPaginator(queryset, PAGE_SIZE)
    try:
        return paginator.page(request.GET.get(param) or 1)
    except (PageNotAnInteger, EmptyPage):
        return paginator.page(1)


@require_GET
def coverage_page(request):
    user = request.user
    if not may_see_coverage(user):
        raise Http404
    uncovered = _page(request, selectors.uncovered_customers(user=user), "uncovered_page")
    may_assign = may_assign_from_coverage(user)
    if may_assign and uncovered.object_list:
        required = selectors.required_roles()
        candidates = list(selectors.assignment_candidates(user)[:MAX_CANDIDATES])
        for customer in uncovered.object_list:
            roles = selectors.roles_for_tier(customer.served_tier, required)
            customer.candidates = [
                (c, candidate_label(c))
                for c in candidates
                if c.pk != customer.account_manager_id and (not roles or c.role in roles)
            ]
    context = {
        "uncovered": uncovered,
        "overdue": _page(request, selectors.overdue_visits(user=user), "overdue_page"),
        "over_capacity": _page(request, selectors.over_capacity(user=user), "capacity_page"),
        "may_assign": may_assign,
    }
    return render(request, "customers/coverage.html", context)


@require_POST
def coverage_assign(request, pk: int):
    user = request.user
    if not may_assign_from_coverage(user):
        raise Http404
    customer = get_object_or_404(Customer.objects.editable_by(user).live(), pk=pk)
    form = AssignForm(request.POST, candidates=selectors.assignment_candidates(user))
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("account_manager", [_("Choose an account manager.")])))
    else:
        try:
            services.coverage_assign(customer=customer, account_manager=form.cleaned_data["account_manager"], by=user)
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("%(customer)s is now served by %(name)s.")
                % {"customer": customer.name, "name": form.cleaned_data["account_manager"]},
            )
    return redirect(reverse("customers:coverage") + "#uncovered")
