"""The key-account database: customers, hierarchy, relations, contacts, spend, members, visits,
naming aliases and the account-manager assignment history."""

from dataclasses import dataclass

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce, Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from channels import roles
from channels.models import BilingualName, Role, User
from kam import request_cache
from kam.db import LONG_TEXT, ScopedQuerySet, bigram, trigram

MAX_HIERARCHY_DEPTH = 4  # 总部 → 省 → 市 → 区县 (DOMAIN.md §7.3)


class Region(models.Model):
    """GB/T 2260 administrative division (province → city → district)."""

    class Level(models.IntegerChoices):
        PROVINCE = 1, _("Province")
        CITY = 2, _("City")
        DISTRICT = 3, _("District")

    code = models.CharField(_("code"), max_length=6, primary_key=True)
    name = models.CharField(_("name"), max_length=50)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self):
        return self.name

    @property
    def full_name(self) -> str:
        parts, node = [], self
        while node is not None:
            parts.append(node.name)
            node = node.parent
        return "".join(reversed(parts))


class Industry(BilingualName):
    """GB/T 4754-2017 section (门类 A–T)."""

    code = models.CharField(_("code"), max_length=1, primary_key=True)
    importance = models.PositiveSmallIntegerField(
        _("importance"), default=50, help_text=_("0–100, used by value scoring.")
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("industry")
        verbose_name_plural = _("industries")

    def __str__(self):
        return f"{self.code} {self.label}"


class Tier(models.TextChoices):
    A1 = "A1", _("A1 high value")
    A2 = "A2", _("A2 strategic")
    B1 = "B1", _("B1 benchmark")
    B2 = "B2", _("B2 potential")
    C = "C", _("C standard")
    D = "D", _("D small / clustered")


class TierLevel(BilingualName):
    """Per-tier service norms (DOMAIN.md §1.2): data, editable by an admin."""

    code = models.CharField(_("tier"), max_length=2, choices=Tier.choices, primary_key=True)
    visit_cycle_days = models.PositiveIntegerField(_("visit cycle (days)"))
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["sort_order"]
        verbose_name = _("tier level")
        verbose_name_plural = _("tier levels")


class CustomerQuerySet(ScopedQuerySet):
    def live(self):
        """Everything except records merged into another customer."""
        return self.exclude(status=Customer.Status.MERGED)

    def scope(self, user):
        """The one choke point for customer visibility (pages, API, admin, exports).

        - admin, data steward, analyst, call-center agent, dispatcher: every customer
          (agents see service fields only; the field policy in customers.policy enforces that);
        - account manager / phone account manager: the customers they manage and those customers'
          subsidiaries (down to MAX_HIERARCHY_DEPTH);
        - supervisor: the customers of the teams they supervise, their subsidiaries, their own, and the
          customers without an account manager in their teams' industries (to assign them).
        """
        if user.sees_all_customers:
            return self
        return self.filter(portfolio(user).customer_condition())

    def editable_by(self, user):
        """Customers the user may change: what they see, minus read-only roles."""
        if not may_edit_customers(user):
            return self.visible_to(user).none()
        return self.visible_to(user)


def may_edit_customers(user) -> bool:
    """The role part of editable_by: analysts read, agents and dispatchers look up."""
    if not getattr(user, "is_authenticated", False) or user.is_read_only:
        return False
    return user.is_superuser or user.role not in roles.LOOKUP_ONLY


def visible_ids_among(user, ids) -> set[int]:
    """Which of these ids (of customers already loaded) the user may open: visible_to's rule answered
    from the per-request portfolio (for links and buttons on a page); a supervisor's ids outside it cost one
    query for the unassigned pool."""
    ids = {pk for pk in ids if pk is not None}
    if not ids or not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    if user.sees_all_customers:
        return ids
    served = portfolio(user)
    found = ids & served.ids
    rest = ids - found
    if rest and served.pool_industries:
        found |= set(Customer.objects.filter(served.pool_condition(), pk__in=rest).values_list("pk", flat=True))
    return found


@dataclass(frozen=True)
class Portfolio:
    """The customers a user serves: `ids` (the customers they or their team manage, with the subsidiaries of
    everything they serve), and for a supervisor the unassigned pool — live or not, every customer nobody serves
    in `pool_industries` — kept as a condition, not a list: it grows with the province, and a page of it is read
    from the index without collecting it first."""

    ids: frozenset = frozenset()
    pool_industries: tuple = ()

    def pool_condition(self, prefix: str = "") -> Q:
        return Q(**{f"{prefix}account_manager__isnull": True, f"{prefix}industry_id__any_of": self.pool_industries})

    def customer_condition(self) -> Q:
        condition = Q(pk__any_of=self.ids)
        return condition | self.pool_condition() if self.pool_industries else condition


def portfolio(user) -> Portfolio:
    """The user's portfolio, once per request. A bounded walk down the hierarchy (one indexed query per level,
    at most MAX_HIERARCHY_DEPTH) from the served customers and, for a supervisor, from the unassigned pool
    (its children found through a join, the pool itself never listed)."""
    return request_cache.memo(("portfolio", user.pk), lambda: _portfolio(user))


def portfolio_ids(user) -> list[int]:
    """Every id of the portfolio, the unassigned pool included (for the rows that belong to customers, filtered
    by their foreign key's index)."""

    def collect():
        served = portfolio(user)
        ids = set(served.ids)
        if served.pool_industries:
            ids.update(Customer.objects.filter(served.pool_condition()).order_by().values_list("pk", flat=True))
        return sorted(ids)

    return request_cache.memo(("portfolio_ids", user.pk), collect)


def _portfolio(user) -> Portfolio:
    pool: tuple = ()
    if user.role == Role.SUPERVISOR:
        # The team's customers and the supervisor's own, plus customers nobody serves in the industries the
        # supervisor's teams cover, so that coverage gaps can be assigned (seed 002: customers belong to the
        # company).
        managers = User.objects.filter(Q(team__supervisor=user) | Q(pk=user.pk)).values("pk")
        pool = tuple(sorted(set(user.supervised_teams.exclude(industry=None).values_list("industry", flat=True))))
        ids = set(Customer.objects.filter(account_manager__in=managers).order_by().values_list("pk", flat=True))
    elif user.role in roles.ACCOUNT_MANAGERS:
        ids = set(Customer.objects.filter(account_manager=user).order_by().values_list("pk", flat=True))
    else:
        return Portfolio()
    # Subsidiaries level by level through the parent index (a recursive query would sort the table per level):
    # the first level below the served customers and below the pool, then their children, down to the maximum depth.
    level = set(_children(ids))
    if pool:
        pool_children = Customer.objects.filter(Portfolio(pool_industries=pool).pool_condition("parent__"))
        level |= set(pool_children.order_by().values_list("pk", flat=True))
    for depth in range(1, MAX_HIERARCHY_DEPTH):
        level -= ids
        if not level:
            break
        ids |= level
        if depth < MAX_HIERARCHY_DEPTH - 1:
            level = set(_children(level))
    return Portfolio(ids=frozenset(ids), pool_industries=pool)


def _children(parent_ids) -> list[int]:
    if not parent_ids:
        return []
    return list(Customer.objects.filter(parent_id__any_of=parent_ids).order_by().values_list("pk", flat=True))


class CustomerOwnedQuerySet(ScopedQuerySet):
    """Rows that belong to one customer (contacts, visits, spend, members, tier changes, and the orders,
    tickets and alerts of the apps above): visible exactly when their customer is (`Customer.objects.visible_to`).

    Every model with a foreign key to the customer that people read uses it as its manager
    (`objects = CustomerOwnedQuerySet.as_manager()`), or a subclass that widens `scope` (opportunities are
    also visible to whoever captured or received them). `customer_field` names the foreign key."""

    customer_field = "customer"

    def scope(self, user):
        condition = self.customer_condition(user)
        return self if condition is None else self.filter(condition)

    def customer_condition(self, user) -> Q | None:
        """The filter for rows of customers `user` may see; None when they see every customer. An id list
        from the per-request portfolio, not a join: the planner serves it from the foreign key's index."""
        if user.sees_all_customers:
            return None
        return Q(**{f"{self.customer_field}_id__any_of": portfolio_ids(user)})


# Sort expressions of the nullable computed columns (not evaluated yet = lowest), shared by the list's ordering and
# the indexes that serve it: the query must repeat the index's expression exactly.
SORT_VALUE = Coalesce("value_score", Value(-1), output_field=models.IntegerField())
SORT_REVENUE = Coalesce(
    "avg_monthly_revenue", Value(-1), output_field=models.DecimalField(max_digits=14, decimal_places=2)
)


class Customer(models.Model):
    """A key account (集团客户). Fields follow seed 000 I.5 A–B."""

    class Status(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        ACTIVE = "active", _("Active")
        AT_RISK = "at_risk", _("At risk")
        CHURNED = "churned", _("Churned")
        MERGED = "merged", _("Merged")

    class Ownership(models.TextChoices):
        STATE = "state", _("State-owned")
        COLLECTIVE = "collective", _("Collective")
        PRIVATE = "private", _("Private")
        FOREIGN = "foreign", _("Foreign-invested")
        HMT = "hmt", _("Hong Kong, Macao, Taiwan invested")
        GOVERNMENT = "government", _("Government / public institution")
        MIXED = "mixed", _("Mixed ownership")
        OTHER = "other", _("Other")

    class Attitude(models.TextChoices):
        SUPPORTIVE = "supportive", _("Supportive")
        FRIENDLY = "friendly", _("Friendly")
        NEUTRAL = "neutral", _("Neutral")
        COOL = "cool", _("Cool")
        HOSTILE = "hostile", _("Hostile")

    # Computed tier and value outputs that are finance data (tier_reason quotes the customer's revenue; the value
    # score weighs it): call-center agents do not get them, like the sensitive fields (customers.policy).
    FINANCE_FIELDS = ("tier_reason", "avg_monthly_revenue", "lifetime_value", "value_score")
    # Fields a call-center agent must not see (finance, strategy, attitude, budget).
    SENSITIVE_FIELDS = (
        "main_business",
        "organisation",
        "development_plan",
        "business_needs",
        "key_purchase_factors",
        "purchase_decision_process",
        "annual_revenue",
        "profit_growth",
        "annual_budget",
        "telecom_budget",
        "reimbursement_policy",
        "competitor_products",
        "attitude",
    )

    # Basic information (seed 000 I.5 A)
    name = models.CharField(_("legal name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=100, blank=True)
    code = models.CharField(_("customer code"), max_length=12, unique=True, null=True, blank=True, editable=False)
    # NULL, not "", for "none": the partial unique constraint must ignore customers without a code.
    credit_code = models.CharField(_("unified social credit code"), max_length=18, null=True, blank=True)  # noqa: DJ001
    credit_code_exception = models.CharField(_("reason for a non-conforming credit code"), max_length=200, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=6, blank=True)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("region")
    )
    industry = models.ForeignKey(
        Industry, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("industry")
    )
    ownership = models.CharField(_("ownership type"), max_length=20, choices=Ownership.choices, blank=True)
    phone = models.CharField(_("main phone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.URLField(_("website"), blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    members_count = models.PositiveIntegerField(_("group members"), default=0)
    relationship_since = models.DateField(_("customer since"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PROSPECT)
    tier = models.CharField(_("tier"), max_length=2, choices=Tier.choices, blank=True)
    is_strategic = models.BooleanField(_("strategic"), default=False)
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="customers",
        verbose_name=_("account manager"),
    )
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_from",
        verbose_name=_("merged into"),
    )

    # Strategy and finance (seed 000 I.5 B)
    main_business = models.TextField(_("main business"), blank=True, max_length=LONG_TEXT)
    organisation = models.TextField(_("organisation"), blank=True, max_length=LONG_TEXT)
    development_plan = models.TextField(_("development plan"), blank=True, max_length=LONG_TEXT)
    business_needs = models.TextField(_("business needs"), blank=True, max_length=LONG_TEXT)
    key_purchase_factors = models.TextField(_("key purchase factors"), blank=True, max_length=LONG_TEXT)
    purchase_decision_process = models.TextField(_("purchase decision process"), blank=True, max_length=LONG_TEXT)
    annual_revenue = models.DecimalField(
        _("annual revenue (10k RMB)"), max_digits=14, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0)],
    )  # fmt: skip
    profit_growth = models.DecimalField(_("profit growth (%)"), max_digits=7, decimal_places=2, null=True, blank=True)
    annual_budget = models.DecimalField(
        _("annual budget (10k RMB)"), max_digits=14, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0)],
    )  # fmt: skip
    telecom_budget = models.DecimalField(
        _("telecom budget (10k RMB)"), max_digits=14, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0)],
    )  # fmt: skip
    reimbursement_policy = models.TextField(_("reimbursement policy"), blank=True, max_length=LONG_TEXT)
    competitor_products = models.TextField(_("competitor products in use"), blank=True, max_length=LONG_TEXT)
    attitude = models.CharField(_("attitude towards us"), max_length=12, choices=Attitude.choices, blank=True)

    # Matching keys maintained by customers.services (see customers.naming)
    name_core = models.CharField(_("normalised name"), max_length=200, blank=True, editable=False)
    name_region = models.CharField(_("region words in the name"), max_length=100, blank=True, editable=False)
    phone_digits = models.CharField(_("main phone (digits)"), max_length=20, blank=True, editable=False)

    # Segmentation (issue 3), maintained by customers.tiering: the published tier above is what
    # everyone sees; these explain it and carry the evaluation's state between runs.
    tier_changed_at = models.DateTimeField(_("tier changed"), null=True, blank=True, editable=False)
    tier_reason = models.CharField(_("why this tier"), max_length=300, blank=True, editable=False)
    tier_computed = models.CharField(
        _("tier by the rules"),
        max_length=2,
        choices=Tier.choices,
        blank=True,
        editable=False,
        help_text=_("What the latest evaluation computed; published on the schedule."),
    )
    tier_below_count = models.PositiveSmallIntegerField(_("evaluations below the band"), default=0, editable=False)
    # Service flags (seed 003 C3: is the customer blacklisted, is it high-value; differentiated service, 差异化服务),
    # each kept with the reason and who set it (customers.services.service_flags_set).
    is_vip = models.BooleanField(_("VIP handling"), default=False, editable=False)
    is_blacklisted = models.BooleanField(_("blacklisted"), default=False, editable=False)
    service_flag_reason = models.CharField(_("why (service flags)"), max_length=300, blank=True, editable=False)
    service_flag_by = models.ForeignKey(
        "channels.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False,
        verbose_name=_("service flags set by"),
    )  # fmt: skip
    service_flag_at = models.DateTimeField(_("service flags set at"), null=True, blank=True, editable=False)
    service_tier = models.CharField(
        _("service tier"),
        max_length=2,
        choices=Tier.choices,
        blank=True,
        editable=False,
        help_text=_("The tier served: a subsidiary inherits max(own tier, parent's tier − 1)."),
    )
    avg_monthly_revenue = models.DecimalField(
        _("average monthly revenue (RMB)"), max_digits=14, decimal_places=2, null=True, blank=True, editable=False
    )
    value_score = models.PositiveSmallIntegerField(_("value score"), null=True, blank=True, editable=False)
    value_factors = models.JSONField(_("value score by factor"), default=dict, blank=True, editable=False)
    lifetime_value = models.DecimalField(
        _("lifetime value estimate (RMB)"), max_digits=16, decimal_places=2, null=True, blank=True, editable=False
    )

    is_demo = models.BooleanField(_("demo record"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    history = HistoricalRecords(
        excluded_fields=[
            "updated_at", "name_core", "name_region", "phone_digits", "tier_computed", "tier_below_count",
            "avg_monthly_revenue", "value_score", "value_factors", "lifetime_value", "service_tier",
        ]
    )  # fmt: skip
    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            # Unique among customers that are not merged away (a merged record keeps its old code).
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=Q(credit_code__isnull=False) & ~Q(status="merged"),
                name="%(app_label)s_%(class)s_credit_code_unique_live",
            ),
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="%(app_label)s_%(class)s_not_own_parent"),
            models.CheckConstraint(
                condition=Q(status__in=["prospect", "active", "at_risk", "churned", "merged"]),
                name="%(app_label)s_%(class)s_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(tier__in=["", "A1", "A2", "B1", "B2", "C", "D"]), name="%(app_label)s_%(class)s_tier_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="merged", merged_into__isnull=False)
                | (~Q(status="merged") & Q(merged_into__isnull=True)),
                name="%(app_label)s_%(class)s_merged_has_survivor",
            ),
            # Revenue and budgets are amounts, never below zero (profit growth may be).
            models.CheckConstraint(
                condition=(Q(annual_revenue__isnull=True) | Q(annual_revenue__gte=0))
                & (Q(annual_budget__isnull=True) | Q(annual_budget__gte=0))
                & (Q(telecom_budget__isnull=True) | Q(telecom_budget__gte=0)),
                name="%(app_label)s_%(class)s_amounts_not_negative",
            ),
        ]
        indexes = [
            # "my customers" list: WHERE account_manager_id = ? ORDER BY id DESC
            models.Index(fields=["account_manager", "-id"], name="cust_am_id_idx"),
            # filters on the list page and the API
            models.Index(fields=["tier", "id"], name="cust_tier_sort_idx"),
            models.Index(fields=["status", "-id"], name="cust_status_id_idx"),
            models.Index(fields=["industry", "-id"], name="cust_industry_id_idx"),
            models.Index(fields=["region", "-id"], name="cust_region_id_idx"),
            # value ranking and segment filters on value
            models.Index(fields=["value_score", "-id"], name="cust_value_id_idx"),
            # The list's sort links (page and API), each a (key, id) index read forwards or backwards: a page of
            # 25 is the first 25 index entries, whatever the table's size (customers.filters.CustomerOrdering).
            models.Index(fields=["name", "id"], name="cust_name_sort_idx"),
            models.Index(fields=["members_count", "id"], name="cust_members_sort_idx"),
            models.Index(SORT_VALUE, "id", name="cust_value_sort_idx"),
            models.Index(SORT_REVENUE, "id", name="cust_revenue_sort_idx"),
            # A supervisor's portfolio includes the customers nobody serves in their teams' industries.
            # (with the id: read from the index alone, no visit to the scattered rows)
            models.Index(
                fields=["industry", "id"], condition=Q(account_manager__isnull=True), name="cust_unassigned_idx"
            ),
            # exact lookups: credit code search, caller lookup by main phone, duplicate blocking
            models.Index(fields=["credit_code"], name="cust_credit_code_idx"),
            models.Index(fields=["phone_digits"], name="cust_phone_digits_idx"),
            models.Index(fields=["name_core", "name_region"], name="cust_name_core_idx"),
            # 1-2 character searches (trigrams need 3): prefix LIKE on name, short name and trade name;
            # varchar_pattern_ops because the database collation is not "C" (ignored on SQLite)
            models.Index(fields=["name"], name="cust_name_prefix_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["short_name"], name="cust_short_prefix_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["name_core"], name="cust_core_prefix_idx", opclasses=["varchar_pattern_ops"]),
            # name search (icontains compiles to UPPER(col) LIKE on PostgreSQL) and duplicate blocking
            trigram(Upper("name"), name="cust_name_trgm"),
            trigram(Upper("short_name"), name="cust_short_name_trgm"),
            trigram("name_core", name="cust_name_core_trgm"),
            # 2-character search anywhere in the name or short name (trigrams need 3), BigramContains
            bigram("name", name="cust_name_bigram"),
            bigram("short_name", name="cust_short_name_bigram"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("customers:detail", args=[self.pk])

    @property
    def display_name(self) -> str:
        return self.short_name or self.name


class CustomerAlias(models.Model):
    """Another name a customer is known by: a former name, a merged duplicate's name, a nickname."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("Entered")
        MERGE = "merge", _("Merged duplicate")
        FORMER = "former", _("Former name")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="aliases", verbose_name=_("customer"))
    name = models.CharField(_("alias"), max_length=200)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.MANUAL)
    name_core = models.CharField(max_length=200, blank=True, editable=False)
    name_region = models.CharField(max_length=100, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("customer alias")
        verbose_name_plural = _("customer aliases")
        constraints = [models.UniqueConstraint(fields=["customer", "name"], name="%(app_label)s_%(class)s_unique")]
        indexes = [
            models.Index(fields=["name_core", "name_region"], name="alias_name_core_idx"),
            # alias search and duplicate blocking
            trigram(Upper("name"), name="alias_name_trgm"),
            trigram("name_core", name="alias_name_core_trgm"),
            # 2-character alias search
            bigram("name", name="alias_name_bigram"),
        ]

    def __str__(self):
        return self.name


class NameAbbreviation(models.Model):
    """Naming rule dictionary: a common abbreviation and the full name it stands for (工行 = 中国工商银行)."""

    abbreviation = models.CharField(_("abbreviation"), max_length=50, unique=True)
    full_name = models.CharField(_("full name"), max_length=100)
    note = models.CharField(_("note"), max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["abbreviation"]
        verbose_name = _("name abbreviation")
        verbose_name_plural = _("name abbreviations")

    def __str__(self):
        return f"{self.abbreviation} = {self.full_name}"


class CustomerRelation(models.Model):
    """A typed relation between two customers outside the legal hierarchy."""

    class Kind(models.TextChoices):
        AFFILIATE = "affiliate", _("Affiliate")
        SHAREHOLDER = "shareholder", _("Shareholder")
        SUPPLIER = "supplier", _("Supplier")
        CUSTOMER = "customer", _("Customer of")
        PARTNER = "partner", _("Business partner")
        COMPETITOR = "competitor", _("Competitor")

    from_customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="relations_out", verbose_name=_("customer")
    )
    to_customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="relations_in", verbose_name=_("related customer")
    )
    kind = models.CharField(_("relation"), max_length=12, choices=Kind.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("customer relation")
        verbose_name_plural = _("customer relations")
        constraints = [
            models.UniqueConstraint(
                fields=["from_customer", "to_customer", "kind"], name="%(app_label)s_%(class)s_unique"
            ),
            models.CheckConstraint(
                condition=~Q(from_customer=models.F("to_customer")), name="%(app_label)s_%(class)s_not_self"
            ),
        ]

    def __str__(self):
        return f"{self.from_customer} → {self.get_kind_display()} → {self.to_customer}"


class Contact(models.Model):
    """A contact / key person at a customer (seed 000 I.5 A). A key person who leaves is kept."""

    class Gender(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    class Education(models.TextChoices):
        HIGH_SCHOOL = "high_school", _("High school or below")
        COLLEGE = "college", _("College")
        BACHELOR = "bachelor", _("Bachelor")
        MASTER = "master", _("Master")
        DOCTOR = "doctor", _("Doctorate")

    class DecisionRole(models.TextChoices):
        DECISION_MAKER = "decision_maker", _("Decision maker")
        INFLUENCER = "influencer", _("Influencer")
        FINANCE = "finance", _("Finance approver")
        TECHNICAL = "technical", _("Technical evaluator")
        USER = "user", _("User")
        GATEKEEPER = "gatekeeper", _("Gatekeeper")

    class Influence(models.TextChoices):
        HIGH = "high", _("High")
        MEDIUM = "medium", _("Medium")
        LOW = "low", _("Low")

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="contacts", verbose_name=_("customer")
    )
    name = models.CharField(_("full name"), max_length=50)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    education = models.CharField(_("education"), max_length=12, choices=Education.choices, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    title = models.CharField(pgettext_lazy("contact", "title"), max_length=100, blank=True)  # job title
    decision_role = models.CharField(
        _("role in purchase decision"), max_length=15, choices=DecisionRole.choices, blank=True
    )
    influence = models.CharField(_("influence"), max_length=6, choices=Influence.choices, blank=True)
    attitude = models.CharField(_("attitude towards us"), max_length=12, choices=Customer.Attitude.choices, blank=True)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)
    office_phone = models.CharField(_("office phone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    hobbies = models.TextField(_("hobbies"), blank=True, max_length=LONG_TEXT)
    character = models.TextField(_("character"), blank=True, max_length=LONG_TEXT)
    is_key_person = models.BooleanField(_("key person"), default=False)
    active_from = models.DateField(_("active from"), null=True, blank=True)
    active_to = models.DateField(_("active to"), null=True, blank=True, help_text=_("Set when the person leaves."))
    mobile_digits = models.CharField(max_length=20, blank=True, editable=False)
    office_phone_digits = models.CharField(max_length=20, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # Fields a call-center agent must not see.
    SENSITIVE_FIELDS = ("attitude", "hobbies", "character", "influence", "decision_role", "birthday")

    history = HistoricalRecords(excluded_fields=["updated_at", "mobile_digits", "office_phone_digits"])

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-is_key_person", "name", "id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.CheckConstraint(
                condition=Q(active_to__isnull=True)
                | Q(active_from__isnull=True)
                | Q(active_to__gte=models.F("active_from")),
                name="%(app_label)s_%(class)s_active_range",
            ),
        ]
        indexes = [
            # caller lookup by phone
            models.Index(fields=["mobile_digits"], name="contact_mobile_idx"),
            models.Index(fields=["office_phone_digits"], name="contact_office_idx"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_active(self) -> bool:
        return self.active_to is None or self.active_to >= timezone.localdate()


class SpendCategory(models.TextChoices):
    """Telecom spend categories (seed 000 II.1)."""

    VOICE = "voice", _("Voice")
    DATA = "data", _("Mobile data")
    LEASED_LINE = "leased_line", _("Leased lines")
    INTERNET = "internet", _("Internet access")
    VALUE_ADDED = "value_added", _("Value-added services")
    CLOUD_IDC = "cloud_idc", _("Cloud / IDC")
    IOT = "iot", _("IoT")
    OTHER = "other", _("Other")


class SpendRecord(models.Model):
    """Billed telecom spend of one customer for one month and category (RMB)."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="spend", verbose_name=_("customer"))
    month = models.DateField(_("month"), help_text=_("First day of the billed month."))
    category = models.CharField(_("category"), max_length=12, choices=SpendCategory.choices)
    amount = models.DecimalField(_("amount (RMB)"), max_digits=14, decimal_places=2)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-month", "category"]
        verbose_name = _("spend record")
        verbose_name_plural = _("spend records")
        constraints = [
            # Also serves the 360 page's "spend of one customer over 12 months" query.
            models.UniqueConstraint(fields=["customer", "month", "category"], name="%(app_label)s_%(class)s_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="%(app_label)s_%(class)s_amount_not_negative"),
            models.CheckConstraint(condition=Q(month__day=1), name="%(app_label)s_%(class)s_month_first_day"),
        ]
        indexes = [
            # the latest billed month, MAX(month), read by tier evaluation and the 360 page
            models.Index(fields=["month"], name="spend_month_idx"),
        ]

    def __str__(self):
        return f"{self.customer_id} {self.month:%Y-%m} {self.category} {self.amount}"


class GroupMember(models.Model):
    """A mobile number attached to a group customer (集团成员)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        LEFT = "left", _("Left")
        PORTED_OUT = "ported_out", _("Ported out")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="members", verbose_name=_("customer"))
    msisdn = models.CharField(_("mobile number"), max_length=11)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    joined_on = models.DateField(_("joined"))
    left_on = models.DateField(_("left"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-joined_on"]
        verbose_name = _("group member")
        verbose_name_plural = _("group members")
        constraints = [
            # Also serves per-customer member queries (360 trend).
            models.UniqueConstraint(fields=["customer", "msisdn"], name="%(app_label)s_%(class)s_unique"),
            models.CheckConstraint(
                condition=Q(status="active", left_on__isnull=True) | (~Q(status="active") & Q(left_on__isnull=False)),
                name="%(app_label)s_%(class)s_left_on_matches_status",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "left", "ported_out"]), name="%(app_label)s_%(class)s_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["msisdn"], name="member_msisdn_idx")]

    def __str__(self):
        return self.msisdn


class MemberCount(models.Model):
    """Group members of one customer per month, derived from the member rows (GroupMember) so the 360 chart
    reads at most 12 rows whatever the number of members.

    `active` is the number of members at the end of the month by the chart's rule (joined on or before the
    month's last day, not left by then); `joined` and `left` are the joins and departures dated in the month
    (a departure dated before its join counts in the join's month, where it cancels it). A row exists for every
    month with a join or a departure and for the current month; a month without a row has the `active` of the
    latest row before it (nothing changed), or 0 before the first. Written only by
    customers.services.member_months_recompute (after every member write) and member_months_record (daily)."""

    # Derived rows: they go with the customer, and a merge recomputes them rather than moving them. No index of
    # its own: the unique constraint's index leads with the customer.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, db_index=False, related_name="member_counts", verbose_name=_("customer")
    )
    month = models.DateField(_("month"), help_text=_("First day of the month."))
    active = models.PositiveIntegerField(_("active members"), help_text=_("Active at the end of the month."))
    joined = models.PositiveIntegerField(_("joined"))
    left = models.PositiveIntegerField(_("left"))

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["customer", "-month"]
        verbose_name = _("monthly member count")
        verbose_name_plural = _("monthly member counts")
        constraints = [
            # Also serves the 360 chart: the latest 12 rows of one customer up to this month (a backward index scan).
            models.UniqueConstraint(fields=["customer", "month"], name="%(app_label)s_%(class)s_unique"),
            models.CheckConstraint(condition=Q(month__day=1), name="%(app_label)s_%(class)s_month_first_day"),
        ]

    def __str__(self):
        return f"{self.customer_id} {self.month:%Y-%m} {self.active}"


class Visit(models.Model):
    """Visit log (seed 000 拜访客户日志)."""

    class Kind(models.TextChoices):
        ON_SITE = "on_site", _("On-site visit")
        PHONE = "phone", _("Phone call")
        SENIOR = "senior", _("Senior-level visit")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="visits", verbose_name=_("customer"))
    visited_on = models.DateField(_("date"))
    kind = models.CharField(pgettext_lazy("visit", "kind"), max_length=10, choices=Kind.choices, default=Kind.ON_SITE)
    contacts = models.ManyToManyField(Contact, blank=True, related_name="visits", verbose_name=_("contacts met"))
    purpose = models.CharField(_("purpose"), max_length=300)
    outcome = models.TextField(_("outcome"), blank=True, max_length=LONG_TEXT)
    next_step = models.CharField(_("next step"), max_length=300, blank=True)
    next_visit_on = models.DateField(_("next visit planned"), null=True, blank=True)
    visited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visits", verbose_name=_("visited by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-visited_on", "-id"]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        indexes = [models.Index(fields=["customer", "-visited_on"], name="visit_customer_date_idx")]

    def __str__(self):
        return f"{self.visited_on} {self.get_kind_display()} {self.purpose}"


class AccountManagerAssignment(models.Model):
    """Who served the customer when (seed 002: customers must not leave with the sales person)."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("customer")
    )
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="assignments",
        verbose_name=_("account manager"),
    )
    started_at = models.DateTimeField(_("from"))
    ended_at = models.DateTimeField(_("to"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned by"),
    )

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("account-manager assignment")
        verbose_name_plural = _("account-manager assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(ended_at__isnull=True), name="%(app_label)s_%(class)s_one_current"
            ),
        ]

    def __str__(self):
        return f"{self.customer_id} ← {self.account_manager_id}"


class MergeRecord(models.Model):
    """A merge of a duplicate into a survivor, with what moved."""

    survivor = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="merges_in", verbose_name=_("survivor")
    )
    duplicate = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="merges_out", verbose_name=_("duplicate")
    )
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("merged by")
    )
    merged_at = models.DateTimeField(_("merged at"), auto_now_add=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    moved = models.JSONField(_("moved records"), default=dict)

    class Meta:
        ordering = ["-merged_at"]
        verbose_name = _("merge")
        verbose_name_plural = _("merges")

    def __str__(self):
        return f"{self.duplicate_id} → {self.survivor_id}"
