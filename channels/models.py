"""The organisation that serves customers: channel types, their responsibility matrix, teams,
partners (social-channel agents) and the staff user model."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from channels import roles
from channels.roles import Role
from kam.db import LONG_TEXT, ScopedQuerySet


class CustomerClass(models.TextChoices):
    """Customer classes of the channel responsibility matrix (seed 004: A/B/C/D and prospects)."""

    A = "A", _("Class A")
    B = "B", _("Class B")
    C = "C", _("Class C")
    D = "D", _("Class D")
    PROSPECT = "prospect", _("Prospect")


class ChannelFunction(models.TextChoices):
    SERVICE = "service", _("Service and retention")
    SALES = "sales", _("Sales")
    LEAD_CAPTURE = "lead_capture", _("Opportunity capture and transfer")
    HANDLING = "handling", _("Business handling")
    COMPLAINT = "complaint", _("Enquiries and complaints")
    EXPERIENCE = "experience", _("Experience and demonstration")
    DISPATCH = "dispatch", _("Coordination and dispatch")


class BilingualName(models.Model):
    """Reference rows carry a Chinese and an English name; `label` follows the active language."""

    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)

    class Meta:
        abstract = True

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name


class ChannelType(BilingualName):
    """A sales/service channel (seed 004 一、渠道定位)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    description = models.TextField(_("description"), blank=True, max_length=LONG_TEXT)
    functions = models.JSONField(_("functions"), default=list, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("channel type")
        verbose_name_plural = _("channel types")

    def function_labels(self) -> list[str]:
        labels = dict(ChannelFunction.choices)
        return [str(labels.get(f, f)) for f in self.functions]


class ChannelResponsibility(models.Model):
    """One cell of the responsibility matrix: which channel covers which customer class, and how."""

    class Level(models.TextChoices):
        PRIMARY = "primary", _("Main channel")
        AUXILIARY = "auxiliary", _("Auxiliary channel")

    channel_type = models.ForeignKey(
        ChannelType, on_delete=models.CASCADE, related_name="responsibilities", verbose_name=_("channel")
    )
    customer_class = models.CharField(_("customer class"), max_length=10, choices=CustomerClass.choices)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, default=Level.PRIMARY)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["channel_type__sort_order", "customer_class"]
        verbose_name = _("channel responsibility")
        verbose_name_plural = _("channel responsibility matrix")
        constraints = [
            models.UniqueConstraint(fields=["channel_type", "customer_class"], name="%(app_label)s_%(class)s_one_cell"),
            models.CheckConstraint(
                condition=Q(customer_class__in=CustomerClass.values), name="%(app_label)s_%(class)s_class_valid"
            ),
            models.CheckConstraint(
                condition=Q(level__in=["primary", "auxiliary"]), name="%(app_label)s_%(class)s_level_valid"
            ),
        ]

    def __str__(self):
        return f"{self.channel_type} / {self.get_customer_class_display()} / {self.get_level_display()}"


class Team(models.Model):
    """An industry team of account managers under a supervisor (行业经理)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    industry = models.ForeignKey(
        "customers.Industry", on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("industry")
    )
    supervisor = models.ForeignKey(
        "channels.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supervised_teams",
        verbose_name=_("supervisor"),
    )
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("parent team"),
        help_text=_("The next level up (district → city → province): service escalations climb this chain."),
    )  # fmt: skip

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self):
        return self.name


class Partner(models.Model):
    """A social-channel partner agent (代理商); core agents take uncovered customers of their area."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    channel_type = models.ForeignKey(ChannelType, on_delete=models.PROTECT, verbose_name=_("channel"))
    is_core = models.BooleanField(_("core agent"), default=False)
    region_code = models.CharField(_("region code"), max_length=6, blank=True)
    industries = models.JSONField(_("industries"), default=list, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("partner agent")
        verbose_name_plural = _("partner agents")

    def __str__(self):
        return self.name


class Workstation(BilingualName):
    """A provisioning workstation (工位: resource check, survey, design, construction, data build, test,
    acceptance, platform review). Work-order steps wait in its queue; its manager answers for its time limits
    (seed 000 I.3: workstation hand-offs with clear responsibility)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    manager = models.ForeignKey(
        "channels.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="managed_workstations",
        verbose_name=_("workstation manager"),
    )  # fmt: skip
    is_it_support = models.BooleanField(
        _("IT support"), default=False, help_text=_("Answers for interface failures of the provisioning system.")
    )
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("workstation")
        verbose_name_plural = _("workstations")


class CalendarDay(models.Model):
    """An exception to the working week (Monday–Friday): a public holiday on a weekday, or a weekend day that
    is worked (调休). Provisioning lead times and SLA clocks count working days through `channels.calendar`."""

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("working day"), default=False)
    name = models.CharField(_("name"), max_length=50, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("working calendar")

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.name}".strip()


class User(AbstractUser):
    """A member of staff of some channel. The role decides what they may see and do."""

    role = models.CharField(_("role"), max_length=30, choices=Role.choices, default=Role.ACCOUNT_MANAGER)
    channel_type = models.ForeignKey(
        ChannelType, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("channel")
    )
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="members", verbose_name=_("team")
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="staff", verbose_name=_("partner")
    )
    workstation = models.ForeignKey(
        Workstation, on_delete=models.SET_NULL, null=True, blank=True, related_name="staff",
        verbose_name=_("workstation"),
    )  # fmt: skip
    display_name = models.CharField(_("display name"), max_length=50, blank=True)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)
    capacity = models.PositiveIntegerField(
        _("portfolio capacity"), null=True, blank=True, help_text=_("Maximum number of customers served.")
    )

    objects = UserManager()

    class Meta:
        ordering = ["username"]
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="%(app_label)s_%(class)s_role_valid"),
        ]

    def __str__(self):
        return self.display_name or self.get_full_name() or self.username

    # Role helpers used by the visibility rules (customers.models.CustomerQuerySet.visible_to).
    @property
    def is_admin_role(self) -> bool:
        return self.is_superuser or self.role == Role.ADMIN

    @property
    def sees_all_customers(self) -> bool:
        return self.is_superuser or self.role in roles.SEE_ALL_CUSTOMERS

    @property
    def is_read_only(self) -> bool:
        return self.role in roles.READ_ONLY and not self.is_superuser

    @property
    def may_post_feeds(self) -> bool:
        """Billing feeds (spend, members) name customers across the whole database: admins and the
        integration login only."""
        return self.is_admin_role or self.role in roles.SYSTEMS

    @property
    def sees_service_fields_only(self) -> bool:
        """Call-center agents see no finance, strategy, attitude or budget fields."""
        return self.role == Role.AGENT and not self.is_superuser


class NotificationQuerySet(ScopedQuerySet):
    def scope(self, user):
        """Everyone reads their own inbox only."""
        return self.filter(recipient=user)


class Notification(models.Model):
    """An in-app notification; `channels.notifications` also sends it by e-mail (and SMS when urgent)."""

    recipient = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("recipient")
    )
    kind = models.SlugField(_("kind"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True, max_length=LONG_TEXT)
    link = models.CharField(_("link"), max_length=300, blank=True)
    urgent = models.BooleanField(_("urgent"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent by e-mail/SMS"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox_idx"),
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread_idx"),
        ]

    def __str__(self):
        return self.title


class ExportJobQuerySet(ScopedQuerySet):
    def scope(self, user):
        """Everyone sees their own exports only: a file holds what its requester could see when it was made."""
        return self.filter(user=user)


class ExportJob(models.Model):
    """A large export prepared in the background (channels.exports): the kind says what is exported (kinds are
    registered by the apps that own the data), `parameters` which rows. The file lives in a private folder
    (settings.KAM_EXPORT_DIR) and is served only to its requester, until `expires_at`."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Being prepared")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    class Format(models.TextChoices):
        XLSX = "xlsx", _("Excel (XLSX)")
        CSV = "csv", _("CSV")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="export_jobs", verbose_name=_("requested by"))
    kind = models.SlugField(_("kind"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    format = models.CharField(_("format"), max_length=10, choices=Format.choices)
    # The requester's language: the worker writes the headers and the notification in it.
    language = models.CharField(_("language"), max_length=10, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    row_count = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    # When the task was last sent to the broker; the sweeper sends it again when this is too long ago.
    queued_at = models.DateTimeField(_("queued"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    objects = ExportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        indexes = [
            # "My exports" (page and API, keyset by id): a user's newest first.
            models.Index(fields=["user", "-id"], name="exportjob_mine_idx"),
            # The sweeper: queued or running jobs by age (a handful at any time).
            models.Index(
                fields=["created_at"], condition=Q(status__in=["queued", "running"]), name="exportjob_pending_idx"
            ),
            # The expiry sweep: ready files past their time.
            models.Index(fields=["expires_at"], condition=Q(status="done"), name="exportjob_expiry_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed", "expired"]),
                name="%(app_label)s_%(class)s_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(format__in=["xlsx", "csv"]), name="%(app_label)s_%(class)s_format_valid"
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.get_format_display()}, {self.get_status_display()})"
