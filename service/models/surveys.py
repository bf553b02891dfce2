"""Satisfaction follow-up after a ticket is resolved (seed 003 C3: 30, 60 or 90 days after closure; DOMAIN.md §5.2:
complaints within 24–48 h). The policy's `follow_up_hours` decides when; the customer's contact gets a link by
SMS to a page that works without login — signed, single-use, expiring — or an agent calls from the follow-up
list. "Unsatisfied" reopens the ticket once."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from customers.models import CustomerOwnedQuerySet
from kam.db import LONG_TEXT
from service.models.tickets import Ticket

__all__ = ["FollowUp"]


class FollowUpQuerySet(CustomerOwnedQuerySet):
    customer_field = "ticket__customer"


class FollowUp(models.Model):
    class Answer(models.TextChoices):
        SATISFIED = "satisfied", _("Satisfied")
        FAIRLY = "fairly", _("Fairly satisfied")
        UNSATISFIED = "unsatisfied", _("Unsatisfied")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="follow_ups", verbose_name=_("ticket"))
    due_at = models.DateTimeField(_("due at"))
    sent_at = models.DateTimeField(_("link sent at"), null=True, blank=True)
    answer = models.CharField(_("answer"), max_length=12, choices=Answer.choices, blank=True)
    score = models.PositiveSmallIntegerField(_("score (1–5)"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True, max_length=LONG_TEXT)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("satisfaction follow-up")
        verbose_name_plural = _("satisfaction follow-ups")
        indexes = [
            models.Index(fields=["due_at"], name="follow_up_to_send",
                         condition=Q(sent_at__isnull=True, answered_at__isnull=True)),
        ]  # fmt: skip
        constraints = [
            models.CheckConstraint(condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5),
                                   name="follow_up_score_1_to_5"),
        ]  # fmt: skip

    def __str__(self):
        return f"{self.ticket} {self.get_answer_display() or '…'}"
