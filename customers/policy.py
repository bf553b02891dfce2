"""Field-level policy: which customer and contact fields a role may read (ASVS 8.2.3).

Row-level visibility is CustomerQuerySet.visible_to; this module decides the columns. Pages, API
serializers, exports and admin all ask here."""

from channels.models import User
from customers.models import Contact, Customer


def hidden_customer_fields(user: User) -> frozenset[str]:
    """Call-center agents see service-relevant fields only: no finance, strategy, attitude or budget."""
    if user.sees_service_fields_only:
        return frozenset(Customer.SENSITIVE_FIELDS)
    return frozenset()


def hidden_contact_fields(user: User) -> frozenset[str]:
    if user.sees_service_fields_only:
        return frozenset(Contact.SENSITIVE_FIELDS)
    return frozenset()


def may_see_spend(user: User) -> bool:
    """Billed spend is finance data: call-center agents do not see it."""
    return not user.sees_service_fields_only


def can_edit(user: User, customer: Customer) -> bool:
    return Customer.objects.editable_by(user).filter(pk=customer.pk).exists()
