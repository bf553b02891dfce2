"""Renewal opportunities for agreements nearing their end (orders.services.agreements calls this through its
renewal hook: orders sits below opportunities and never imports it).

The rule for "one exists": an open opportunity of the customer whose need type is renewal. The account manager
works one renewal conversation per customer at a time; a second agreement ending meanwhile is part of it."""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from opportunities import services
from opportunities.models import Kind, NeedType, Opportunity

logger = logging.getLogger("kam.opportunities")


def open_renewals(agreements) -> list[Opportunity]:
    """Capture a renewal opportunity, by and for the customer's account manager, for each agreement whose
    customer has no open renewal opportunity yet. Agreements of a customer without an account manager are
    left to the 90/60/30-day reminders."""
    customer_ids = {a.customer_id for a in agreements}
    taken = set(
        Opportunity.objects.open()
        .filter(customer_id__in=customer_ids, need_type=NeedType.RENEWAL)
        .values_list("customer_id", flat=True)
    )
    created = []
    for agreement in agreements:
        manager = agreement.customer.account_manager
        if agreement.customer_id in taken or manager is None or not manager.is_active:
            continue
        products = [item.product for item in agreement.items.all()]
        try:
            with transaction.atomic():  # one refused capture must not undo the others
                opp = services.opportunity_capture(
                    by=manager, kind=Kind.OPPORTUNITY, customer=agreement.customer, need_type=NeedType.RENEWAL,
                    title=_("Renewal of agreement %(number)s") % {"number": agreement.number},
                    description=_("Agreement %(number)s (%(title)s) ends on %(ends)s.") % {
                        "number": agreement.number, "title": agreement.title, "ends": agreement.ends_on.isoformat()},
                    products=products, expected_close=agreement.ends_on,
                )  # fmt: skip
        except (ValidationError, PermissionDenied):
            # The manager can no longer capture for this customer (role changed, customer merged): the
            # 90/60/30-day reminders still reach whoever serves it.
            logger.warning("no renewal opportunity for agreement %s", agreement.pk, exc_info=True)
            continue
        taken.add(agreement.customer_id)
        created.append(opp)
    return created
