"""Tickets (工单) of the service desk: consultations, complaints, faults, service requests and suggestions from
every intake channel (seed 003 C3), owned by whoever took them first until a hand-over is accepted (首问负责制,
seed 004), routed to a queue (a workstation: network operations, billing, the platform desks…) or a person.
Every hand-off, note, message to the customer and change of status is a `TicketEvent`: the timeline."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from channels.models import BilingualName
from customers.models import CustomerOwnedQuerySet
from kam.db import LONG_TEXT, VisibleToAllQuerySet

__all__ = ["TicketCategory", "Ticket", "TicketEvent", "FaultReport", "OPEN_TICKET_STATES"]


class Kind(models.TextChoices):
    CONSULTATION = "consultation", _("Consultation")
    COMPLAINT = "complaint", _("Complaint")
    FAULT = "fault", _("Fault")
    SERVICE_REQUEST = "service_request", _("Service request")
    SUGGESTION = "suggestion", _("Suggestion")


class TicketCategoryQuerySet(VisibleToAllQuerySet):
    def chain(self, category_id: int | None) -> list[tuple[int, int | None]]:
        """(id, queue id) of the category and of each category above it, deepest first (one query: the tree is
        small reference data). SLA policies, queues and knowledge suggestions all read it."""
        rows = {pk: (parent, queue) for pk, parent, queue in self.values_list("pk", "parent_id", "queue_id")}
        chain: list[tuple[int, int | None]] = []
        seen: set[int] = set()
        while category_id in rows and category_id not in seen:  # a loop in the tree stops the walk
            seen.add(category_id)
            parent, queue = rows[category_id]
            chain.append((category_id, queue))
            category_id = parent
        return chain


class TicketCategory(BilingualName):
    """The admin-edited category tree (e.g. 投诉 › 计费争议 › 套餐资费). A category may name the queue its tickets go
    to; the deepest category with a queue decides."""

    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )
    kind = models.CharField(
        _("ticket kind"), max_length=16, choices=Kind.choices, blank=True, help_text=_("Blank: any kind.")
    )
    queue = models.ForeignKey(
        "channels.Workstation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("queue"), help_text=_("Where tickets of this category go (blank: the parent's queue)."),
    )  # fmt: skip
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    objects = TicketCategoryQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = _("ticket category")
        verbose_name_plural = _("ticket categories")


class TicketQuerySet(CustomerOwnedQuerySet):
    def scope(self, user):
        """Whoever sees the customer; and whoever the ticket is in the hands of (its owner, its assignee, the
        person it is offered to, the staff of its queue), though they see no customer list."""
        condition = self.customer_condition(user)
        if condition is None:
            return self
        mine = Q(owner=user) | Q(assignee=user) | Q(handover_to=user)
        if user.workstation_id:
            mine |= Q(queue_id=user.workstation_id)
        return self.filter(condition | mine)


class Ticket(models.Model):
    Kind = Kind

    class RequestType(models.TextChoices):
        CHANGE = "change", _("Service change")
        SUSPENSION = "suspension", _("Suspension")
        MEMBER_ADD = "member_add", _("Add members")
        MEMBER_REMOVE = "member_remove", _("Remove members")
        GROUP_INFO = "group_info", _("Group information change")

    class Channel(models.TextChoices):
        HOTLINE = "hotline", _("Group hotline")
        ACCOUNT_MANAGER = "account_manager", _("Account manager")
        HALL = "hall", _("Service hall")
        WEB = "web", _("Web")
        EMAIL = "email", _("E-mail")
        FAX = "fax", _("Fax")
        LETTER = "letter", _("Letter")
        DEALER = "dealer", _("Dealer")

    class Status(models.TextChoices):
        NEW = "new", pgettext_lazy("ticket status", "New")
        IN_PROGRESS = "in_progress", pgettext_lazy("ticket status", "In progress")
        WAITING = "waiting", _("Waiting for the customer")
        RESOLVED = "resolved", pgettext_lazy("ticket status", "Resolved")
        CLOSED = "closed", pgettext_lazy("ticket status", "Closed")
        REFUSED = "refused", pgettext_lazy("ticket status", "Refused")

    class Priority(models.IntegerChoices):
        URGENT = 1, _("Urgent")
        HIGH = 2, _("High")
        NORMAL = 3, _("Normal")
        LOW = 4, _("Low")

    number = models.CharField(_("number"), max_length=12, unique=True, null=True, blank=True, editable=False)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="tickets", verbose_name=_("customer")
    )
    contact = models.ForeignKey(
        "customers.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("contact"),
    )  # fmt: skip
    caller_phone = models.CharField(_("caller's number"), max_length=20, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    request_type = models.CharField(_("request type"), max_length=16, choices=RequestType.choices, blank=True)
    category = models.ForeignKey(
        TicketCategory, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("category")
    )
    channel = models.CharField(_("intake channel"), max_length=16, choices=Channel.choices, default=Channel.HOTLINE)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    subject = models.CharField(pgettext_lazy("heading", "title"), max_length=200)
    description = models.TextField(_("description"), blank=True, max_length=LONG_TEXT)
    # faults: what is affected and how (the written fault report reads these)
    subscription = models.ForeignKey(
        "orders.Subscription", on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets",
        verbose_name=_("affected subscription"),
    )  # fmt: skip
    symptom = models.CharField(_("symptom"), max_length=300, blank=True)
    impact = models.CharField(_("impact"), max_length=300, blank=True)
    cause = models.CharField(_("cause"), max_length=300, blank=True)
    regulator_appeal = models.BooleanField(
        _("regulator appeal (申诉)"), default=False, help_text=_("The customer appealed to the regulator.")
    )

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_tickets", verbose_name=_("owner"),
        help_text=_("First-contact ownership: who took the ticket answers for it until a hand-over is accepted."),
    )  # fmt: skip
    handover_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("hand-over offered to"), help_text=_("The owner stays until this person accepts."),
    )  # fmt: skip
    queue = models.ForeignKey(
        "channels.Workstation", on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets",
        verbose_name=_("queue"),
    )  # fmt: skip
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="assigned_tickets",
        verbose_name=_("assignee"),
    )  # fmt: skip
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.NEW)
    sla_policy = models.ForeignKey(
        "service.SlaPolicy", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("SLA policy"),
    )  # fmt: skip
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolution = models.TextField(
        _("resolution told to the customer"), blank=True, max_length=LONG_TEXT,
        help_text=_("When a request is refused: the reason the customer is told."),
    )  # fmt: skip
    # member and group-information change requests (seed 004: through the hotline): what is asked, and once it is
    # applied through the customers services, when and by whom (never twice)
    request_data = models.JSONField(_("what is requested"), default=dict, blank=True)
    request_applied_at = models.DateTimeField(_("request applied at"), null=True, blank=True)
    request_applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("request applied by"),
    )  # fmt: skip
    opportunity = models.ForeignKey(
        "opportunities.Opportunity", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("opportunity captured"), help_text=_("Found during service and passed to sales."),
    )  # fmt: skip
    repeat_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("repeat of"), help_text=_("A complaint of the same customer and category within 30 days."),
    )  # fmt: skip
    reopened = models.PositiveSmallIntegerField(
        _("times reopened"), default=0, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), db_index=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    revision = models.PositiveIntegerField(_("revision"), default=0, editable=False)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="ticket_customer_recent"),
            models.Index(
                fields=["queue", "priority", "created_at"],
                name="ticket_queue_open",
                condition=Q(status__in=["new", "in_progress", "waiting"]),
            ),  # fmt: skip
            models.Index(
                fields=["assignee", "priority", "created_at"],
                name="ticket_assignee_open",
                condition=Q(status__in=["new", "in_progress", "waiting"]),
            ),  # fmt: skip
        ]

    def __str__(self):
        return self.number or f"#{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_TICKET_STATES


OPEN_TICKET_STATES = (Ticket.Status.NEW, Ticket.Status.IN_PROGRESS, Ticket.Status.WAITING)


class TicketEventQuerySet(CustomerOwnedQuerySet):
    customer_field = "ticket__customer"


class TicketEvent(models.Model):
    """One line of a ticket's timeline."""

    class Action(models.TextChoices):
        CREATE = "create", pgettext_lazy("ticket event", "Created")
        ASSIGN = "assign", _("Assigned")
        HAND_OVER = "hand_over", _("Hand-over offered")
        ACCEPT = "accept", _("Hand-over accepted")
        NOTE = "note", _("Internal note")
        MESSAGE = "message", _("Message to the customer")
        CUSTOMER = "customer", _("Customer contact")
        WAIT = "wait", _("Waiting for the customer")
        RESUME = "resume", _("Work resumed")
        RESOLVE = "resolve", pgettext_lazy("ticket event", "Resolved")
        CLOSE = "close", pgettext_lazy("ticket event", "Closed")
        REFUSE = "refuse", pgettext_lazy("ticket event", "Refused")
        REOPEN = "reopen", _("Reopened")
        OPPORTUNITY = "opportunity", _("Opportunity captured")
        APPLIED = "applied", _("Request applied")
        FAULT_REPORT = "report", _("Fault report sent")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events", verbose_name=_("ticket"))
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("by"),
    )  # fmt: skip
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("to"),
    )  # fmt: skip
    to_queue = models.ForeignKey(
        "channels.Workstation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("to queue"),
    )  # fmt: skip
    note = models.TextField(_("note"), blank=True, max_length=LONG_TEXT)

    objects = TicketEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        indexes = [models.Index(fields=["ticket", "at"], name="ticket_event_timeline")]

    def __str__(self):
        return f"{self.ticket} {self.get_action_display()}"


class FaultReport(models.Model):
    """The written fault report (seed 004: fault-analysis reports; DOMAIN.md §5.2 — outages of A/B customers'
    lines): cause, impact, duration, fix and prevention, sent to the customer and kept on the ticket. An A/B
    customer's fault is not resolved without one."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="fault_report",
                                  verbose_name=_("ticket"))  # fmt: skip
    cause = models.TextField(_("cause"), max_length=LONG_TEXT)
    impact = models.TextField(_("impact"), max_length=LONG_TEXT)
    started_at = models.DateTimeField(_("outage from"))
    restored_at = models.DateTimeField(_("restored at"))
    fix = models.TextField(_("what was done"), max_length=LONG_TEXT)
    prevention = models.TextField(_("prevention"), max_length=LONG_TEXT)
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("written by"))  # fmt: skip
    written_at = models.DateTimeField(_("written at"))
    sent_to = models.CharField(_("sent to"), max_length=200, blank=True)

    objects = TicketEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("fault report")
        verbose_name_plural = _("fault reports")
        constraints = [
            models.CheckConstraint(condition=Q(restored_at__gte=models.F("started_at")),
                                   name="fault_report_restored_after_start"),
        ]  # fmt: skip

    def __str__(self):
        return f"{self.ticket}"

    @property
    def duration(self):
        return self.restored_at - self.started_at
