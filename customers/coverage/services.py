"""Service coverage writes (services): the supervisor's one-click assignment of an uncovered customer to a
member of their team. It goes through customers.services.customer_update, so the assignment history and the
customer's history are written like any other reassignment."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from channels.models import User
from customers import services
from customers.coverage.selectors import assignment_candidates, roles_for_tier
from customers.models import Customer
from customers.policy import may_assign_from_coverage


def coverage_assign(*, customer: Customer, account_manager: User, by: User) -> Customer:
    """Give an uncovered customer an account manager from the supervisor's team. Goes through
    services.customer_update, so the assignment history and the customer's history are written the
    same way as any other reassignment."""
    if not may_assign_from_coverage(by):
        raise PermissionDenied(_("Only a supervisor may assign customers from the coverage page."))
    if not assignment_candidates(by).filter(pk=account_manager.pk).exists():
        raise ValidationError({"account_manager": [_("Choose an active member of your team.")]})
    tier = customer.service_tier or customer.tier
    roles = roles_for_tier(tier)
    if roles and account_manager.role not in roles:
        raise ValidationError(
            {"account_manager": [_("A tier %(tier)s customer needs an account manager, not a phone account manager.")
                                 % {"tier": tier}]}
        )  # fmt: skip
    if customer.account_manager_id == account_manager.pk:
        raise ValidationError({"account_manager": [_("This customer is already served by %(name)s.")
                                                   % {"name": account_manager}]})  # fmt: skip
    return services.customer_update(
        customer=customer, by=by, account_manager=account_manager, reason=_("Coverage gap"), confirm_not_duplicate=True
    )
