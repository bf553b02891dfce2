"""Read operations: scoped, prefetched querysets for pages and the API."""

import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.cache import cache
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from channels import roles
from channels.models import User
from customers import identifiers, naming
from customers.models import (
    AccountManagerAssignment,
    Contact,
    Customer,
    CustomerAlias,
    GroupMember,
    MemberCount,
    MergeRecord,
    Region,
    SpendCategory,
    SpendRecord,
    TierLevel,
    Visit,
    visible_ids_among,
)
from kam.db import contains_word
from kam.pagination import Tiered

SUBSTRING_MIN_LENGTH = 2  # a word of 2 characters (bigram index) or more (trigram index) matches anywhere
TRIGRAM_MIN_LENGTH = 3  # pg_trgm extracts no trigram from a shorter pattern
ALIAS_HITS = 500  # customers found through their aliases, at most (an IN list in the final condition)
CODE_PATTERN = re.compile(r"^KA\d{1,8}$", re.I)
CREDIT_CODE_PATTERN = re.compile(r"^[0-9A-Z]{18}$", re.I)


def customer_list(*, user: User) -> QuerySet[Customer]:
    """Live customers the user may see, with what a list row shows (no per-row queries)."""
    return Customer.objects.visible_to(user).live().select_related("account_manager", "industry", "region", "parent")


def _search_term(term: str | None) -> str:
    return " ".join((term or "").split())


def _is_identifier(term: str) -> bool:
    """A customer code, a credit code or a phone number: looked up exactly, not as a name."""
    if CODE_PATTERN.match(term) or CREDIT_CODE_PATTERN.match(term):
        return True
    return len(identifiers.phone_digits(term)) >= 7 and not re.search(r"[^\d\s+\-()]", term)


def customer_search(queryset: QuerySet[Customer], term: str) -> QuerySet[Customer]:
    """Search by name, short name, alias, customer code, credit code or phone (customer or contact).

    A word of 2 characters or more matches anywhere in the name, the short name or an alias. A single
    character matches only at the start of the name, short name or trade name (字号, the normalised name
    without region and legal form): a bounded prefix range, not most of the table.

    Each branch uses an index on PostgreSQL: bigram GIN for 2 characters (kam.db.contains_word),
    trigram GIN on UPPER(name)/UPPER(short_name)/alias name for 3 or more, b-tree for prefixes, code,
    credit code and phone digits. Alias and contact hits are resolved to ids first so the final
    condition stays index-friendly (an OR with a correlated subquery would scan). The order is the
    queryset's; customer_search_ranked puts exact and prefix matches first."""
    term = _search_term(term)
    if not term:
        return queryset
    if CODE_PATTERN.match(term):
        return queryset.filter(code=term.upper())
    if CREDIT_CODE_PATTERN.match(term):
        return queryset.filter(credit_code=term.upper())
    if _is_identifier(term):
        return queryset.filter(pk__in=_ids_by_phone(identifiers.phone_digits(term)))
    if len(term) < SUBSTRING_MIN_LENGTH:
        return queryset.filter(_prefix_condition(term))
    return queryset.filter(_substring_condition(term))


def _substring_condition(term: str, alias_ids: list[int] | None = None) -> Q:
    """The term (2 characters or more) anywhere in the name, the short name or an alias (the customers
    of `alias_ids` when the aliases were looked up already)."""
    if alias_ids is None:
        alias_ids = [customer for customer, _name in _alias_hits(term)]
    named_so = Q(pk__in=sorted(set(alias_ids))) if alias_ids else None
    if len(term) < TRIGRAM_MIN_LENGTH:
        return contains_word(["name", "short_name"], term, extra=named_so)
    condition = Q(name__icontains=term) | Q(short_name__icontains=term)
    return condition | named_so if named_so else condition


def _alias_hits(term: str) -> list[tuple[int, str]]:
    """(customer id, alias) of up to ALIAS_HITS aliases holding the term (2 characters or more)."""
    if len(term) < TRIGRAM_MIN_LENGTH:
        aliases = CustomerAlias.objects.filter(contains_word(["name"], term))
    else:
        aliases = CustomerAlias.objects.filter(name__icontains=term)
    return list(aliases.order_by().values_list("customer_id", "name")[:ALIAS_HITS])  # no sort of all hits


def _prefix_condition(term: str) -> Q:
    """Names, short names or trade names that start with the term (b-tree prefix indexes)."""
    condition = Q(name__startswith=term) | Q(short_name__startswith=term)
    core = naming.clean(term)
    return condition | Q(name_core__startswith=core) if core else condition


def customer_search_ranked(queryset: QuerySet[Customer], term: str) -> QuerySet[Customer] | Tiered:
    """customer_search(queryset, term) in the order a person searching expects: first the customers whose
    name, short name, trade name or an alias is the term, then those whose name, short name or trade name
    starts with it, then the rest; each group in the queryset's own order (newest first unless sorted).

    One query per group a page reads, each stopping at the page's end and answered from the b-tree
    indexes (exact, prefix) or the search's own (the rest): an ORDER BY over a computed rank would read
    and sort every match instead (86,000 of 100,000 customers for 有限). Identifiers (codes, phones) match
    exactly: nothing to rank, the plain search comes back."""
    term = _search_term(term)
    if not term or _is_identifier(term):
        return customer_search(queryset, term)
    core = naming.clean(term)
    exact = Q(name=term) | Q(short_name=term)
    prefix = Q(name__startswith=term) | Q(short_name__startswith=term)
    if len(term) < SUBSTRING_MIN_LENGTH:  # a single character matches prefixes only: two groups
        if core:
            exact, prefix = exact | Q(name_core=core), prefix | Q(name_core__startswith=core)
        tiers = [queryset.filter(exact), queryset.filter(prefix).exclude(exact)]
        return Tiered(tiers, whole=queryset.filter(prefix), rows=queryset)
    aliases = _alias_hits(term)
    if named_so := sorted({customer for customer, name in aliases if name.upper() == term.upper()}):
        exact |= Q(pk__in=named_so)
    if core:
        # A trade name is not the name: it ranks a match only when the name holds the term too (a cheap
        # LIKE on the rows of the trade-name index, no bigram function).
        inside = Q(name__icontains=term) | Q(short_name__icontains=term)
        exact |= Q(name_core=core) & inside
        prefix |= Q(name_core__startswith=core) & inside
    matches = _substring_condition(term, [customer for customer, _name in aliases])  # holds exact and prefix
    tiers = [
        queryset.filter(exact),
        queryset.filter(prefix).exclude(exact),
        queryset.filter(matches).exclude(exact).exclude(prefix),
    ]
    return Tiered(tiers, whole=queryset.filter(matches), rows=queryset)


def _ids_by_phone(digits: str) -> list[int]:
    ids = set(Customer.objects.filter(phone_digits=digits).values_list("pk", flat=True)[:200])
    ids.update(
        Contact.objects.filter(Q(mobile_digits=digits) | Q(office_phone_digits=digits)).values_list(
            "customer_id", flat=True
        )[:200]
    )
    return sorted(ids)


def region_with_descendants(code: str) -> list[str]:
    """A province or city code with every division below it (for the region filter)."""
    codes, frontier = {code}, [code]
    while frontier:
        frontier = list(Region.objects.filter(parent__in=frontier).values_list("code", flat=True))
        codes.update(frontier)
    return sorted(codes)


@dataclass
class CallerMatch:
    customer: Customer
    contact: Contact | None
    is_member: bool = False  # the number is an active group member's mobile


def caller_lookup(*, user: User, phone: str) -> list[CallerMatch]:
    """Customers (and the contact) behind a calling number, whatever its formatting."""
    digits = identifiers.phone_digits(phone)
    if len(digits) < 7:
        return []
    visible = Customer.objects.visible_to(user).live().select_related("account_manager")
    matches: dict[int, CallerMatch] = {}
    contacts = (
        Contact.objects.visible_to(user)
        .filter(Q(mobile_digits=digits) | Q(office_phone_digits=digits))
        .exclude(customer__status=Customer.Status.MERGED)
        .select_related("customer__account_manager")
        .order_by("-is_key_person", "pk")[:20]
    )
    for contact in contacts:
        matches.setdefault(contact.customer_id, CallerMatch(contact.customer, contact))
    for customer in visible.filter(phone_digits=digits)[:20]:
        matches.setdefault(customer.pk, CallerMatch(customer, None))
    # A caller may be an employee on the group's plan: an active member number identifies the group.
    for customer in visible.filter(
        pk__in=GroupMember.objects.filter(msisdn=digits, status=GroupMember.Status.ACTIVE).values("customer_id")[:20]
    ):
        matches.setdefault(customer.pk, CallerMatch(customer, None, is_member=True))
    return list(matches.values())


# --- the 360 page -------------------------------------------------------------------------------------


def customer_detail(*, user: User, pk: int) -> Customer:
    """One customer the user may see (merged records too: they show where they went). Raises
    Customer.DoesNotExist otherwise, which views turn into a 404.

    visible_to's rule is applied through visible_ids_among (the same rule, answered from the
    per-request portfolio): an id list inside this joined query costs PostgreSQL more planning
    time than the whole fetch."""
    if not visible_ids_among(user, [pk]):
        raise Customer.DoesNotExist
    return (
        Customer.objects
        # Few joins on purpose: with eight tables PostgreSQL spends ~5 ms planning this one row.
        .select_related("account_manager__team", "industry", "region__parent", "parent")
        .annotate(
            visit_cycle_days=Subquery(TierLevel.objects.filter(code=OuterRef("tier")).values("visit_cycle_days")[:1])
        )
        .prefetch_related(
            Prefetch("aliases", queryset=CustomerAlias.objects.order_by("name")),
        )
        .get(pk=pk)
    )


def hierarchy(customer: Customer) -> tuple[list[Customer], list[Customer]]:
    """Ancestors (top first) and the direct children of a customer."""
    ancestors: list[Customer] = []
    node = customer.parent
    while node is not None and len(ancestors) < 10:
        ancestors.append(node)
        node = Customer.objects.filter(pk=node.parent_id).first() if node.parent_id else None
    ancestors.reverse()
    children = list(customer.children.live().select_related("account_manager").order_by("name")[:200])
    return ancestors, children


def contacts_of(customer: Customer) -> QuerySet[Contact]:
    return customer.contacts.all()


def visits_of(customer: Customer, *, limit: int = 20) -> list[Visit]:
    return list(
        customer.visits.select_related("visited_by").prefetch_related("contacts").order_by("-visited_on", "-id")[:limit]
    )


CHART_CACHE_SECONDS = 3600


def chart_cache_key(customer_id: int) -> str:
    return f"kam:customer-charts:{customer_id}"


def customer_charts(customer: Customer) -> dict:
    """The 360 page's 12-month spend and members series. Billed facts change only when a feed
    arrives, so they are cached per customer (and per day, the axis ends this month); the feeds
    and merges drop the entry (customers.services.customer_charts_forget)."""
    today = timezone.localdate()
    cached = cache.get(chart_cache_key(customer.pk))
    if cached and cached["day"] == today:
        return cached
    charts = {"day": today, "spend": spend_by_month(customer), "members": members_trend(customer)}
    cache.set(chart_cache_key(customer.pk), charts, CHART_CACHE_SECONDS)
    return charts


def month_starts(months: int, *, until: date | None = None) -> list[date]:
    """The first days of the last `months` months, oldest first, ending with the current month."""
    until = until or timezone.localdate()
    year, month = until.year, until.month
    out = []
    for _i in range(months):
        out.append(date(year, month, 1))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(out))


def spend_by_month(customer: Customer, *, months: int = 12, until: date | None = None) -> dict:
    """Spend per category for the last `months` billed months: {"months": [...], "series": {cat: [...]}}."""
    axis = month_starts(months, until=until)
    rows = (
        SpendRecord.objects.filter(customer=customer, month__gte=axis[0], month__lte=axis[-1])
        .values("month", "category")
        .annotate(total=Sum("amount"))
    )
    labels = dict(SpendCategory.choices)
    series: dict[str, list[float]] = {}
    index = {m: i for i, m in enumerate(axis)}
    for row in rows:
        values = series.setdefault(row["category"], [0.0] * len(axis))
        values[index[row["month"]]] = float(row["total"])
    return {
        "months": [m.strftime("%Y-%m") for m in axis],
        "series": [{"category": c, "label": str(labels.get(c, c)), "values": v} for c, v in sorted(series.items())],
        "total": sum(sum(v) for v in series.values()),
    }


def members_trend(customer: Customer, *, months: int = 12, until: date | None = None) -> dict:
    """Active members at the end of each of the last `months` months (joined by the month's last day, not left
    by then), read from the monthly member counts (MemberCount): at most `months` rows of one index, whatever
    the number of members. A month without a row has the count of the latest row before it (no join or
    departure since), and 0 before the customer's first member."""
    axis = month_starts(months, until=until)
    # The rows of the window and, when the window has fewer than `months`, the latest before it.
    rows = list(
        MemberCount.objects.filter(customer=customer, month__lte=axis[-1])
        .order_by("-month")
        .values_list("month", "active")[:months]
    )
    rows.reverse()
    values, active, i = [], 0, 0
    for month in axis:
        while i < len(rows) and rows[i][0] <= month:
            active = rows[i][1]
            i += 1
        values.append(active)
    return {"months": [m.strftime("%Y-%m") for m in axis], "values": values}


def next_visit_due(customer: Customer, *, last_visit: Visit | None) -> date | None:
    """When the next visit is due: the planned date of the last visit, else the last visit plus the
    tier's visit cycle (TierLevel rows), else today for a tiered customer never visited."""
    if last_visit is not None and last_visit.next_visit_on:
        return last_visit.next_visit_on
    if not customer.tier:
        return last_visit.visited_on + timedelta(days=180) if last_visit else None
    cycle = getattr(customer, "visit_cycle_days", None)  # annotated by customer_detail
    if cycle is None:
        cycle = TierLevel.objects.filter(code=customer.tier).values_list("visit_cycle_days", flat=True).first()
    cycle = cycle or 180
    if last_visit is None:
        return timezone.localdate()
    return last_visit.visited_on + timedelta(days=cycle)


def assignment_history(customer: Customer) -> list[AccountManagerAssignment]:
    return list(
        customer.assignments.select_related("account_manager", "assigned_by").order_by("-started_at", "-id")[:50]
    )


@dataclass
class Change:
    when: object
    who: object
    reason: str
    kind: str  # "+", "~" or "-"
    subject: str
    changes: list[tuple[str, object, object]]  # (field label, old, new); related records as Ref


HISTORY_WINDOW = 500  # history rows read per model for one page; older changes are in the admin


@dataclass(frozen=True)
class Ref:
    """A related record in a change line: its name, and a link when the reader may open it."""

    text: str
    url: str = ""

    def __str__(self) -> str:
        return self.text


def change_history(
    customer: Customer, *, limit: int = 50, hidden: dict | None = None, user: User | None = None
) -> list[Change]:
    """Changes to the customer (and the records merged into it) and to its contacts, newest first.

    Reads a bounded window of history rows per model in one query each and diffs consecutive
    versions of the same record in memory (simple_history's prev_record would query per row).
    `hidden` maps a model to field names the reader may not see (customers.policy); their changes are left out.
    Foreign keys show the related record's name (one query per related model), customers linked for a
    `user` who may open them."""
    # The customer and the records merged into it, as one indexed subquery (an OR of "= pk" with a
    # subquery would scan the history table).
    family = Customer.objects.filter(Q(pk=customer.pk) | Q(merged_into=customer)).values("pk")
    entries: list[Change] = []
    for history, field in ((Customer.history, "id"), (Contact.history, "customer_id")):
        records = list(
            history.filter(**{f"{field}__in": family})
            .select_related("history_user")
            .order_by("-history_date", "-history_id")[:HISTORY_WINDOW]
        )
        older: dict[int, object] = {}
        for record in reversed(records):  # oldest first, so each record meets its predecessor
            entries.append(_change_entry(record, older.get(record.id), (hidden or {}).get(record.instance_type, ())))
            older[record.id] = record
    entries.sort(key=lambda e: e.when, reverse=True)
    entries = entries[:limit]
    _name_related(entries, user)
    return entries


def _name_related(entries: list[Change], user: User | None) -> None:
    """Replace the raw ids of foreign-key changes (客户经理: 3 → 2) by the records' names, in place."""
    wanted: dict[type, set] = {}
    for entry in entries:
        for field, old, new in entry.changes:
            if field.is_relation:
                wanted.setdefault(field.related_model, set()).update(v for v in (old, new) if v is not None)
    names = {model: {obj.pk: obj for obj in model._default_manager.filter(pk__in=ids)} for model, ids in wanted.items()}
    linkable = set()
    if user is not None and Customer in names:
        linkable = visible_ids_among(user, names[Customer])

    def ref(model, value):
        obj = names.get(model, {}).get(value)
        if obj is None:
            return value
        url = obj.get_absolute_url() if model is Customer and obj.pk in linkable else ""
        return Ref(str(obj), url)

    for entry in entries:
        entry.changes = [
            (field, ref(field.related_model, old), ref(field.related_model, new)) if field.is_relation
            else (field, old, new)
            for field, old, new in entry.changes
        ]  # fmt: skip
        entry.changes = [(str(field.verbose_name), old, new) for field, old, new in entry.changes]


def _change_entry(record, previous, hidden=()) -> Change:
    model = record.instance_type
    changes: list[tuple[str, object, object]] = []
    if record.history_type == "~" and previous is not None:
        for change in record.diff_against(previous, excluded_fields=hidden).changes:
            field = model._meta.get_field(change.field)
            changes.append((field, _display(field, change.old), _display(field, change.new)))
    return Change(
        when=record.history_date,
        who=record.history_user,
        reason=record.history_change_reason or "",
        kind=record.history_type,
        subject=f"{model._meta.verbose_name}: {getattr(record, 'name', '')}",
        changes=changes,
    )


def _display(field, value):
    if field.choices and value not in (None, ""):
        return dict(field.flatchoices).get(value, value)
    return value


def related_counts(customer: Customer) -> list[tuple[str, int]]:
    """What points at a customer, per kind of record (the merge screen shows what will move).

    One COUNT per reverse relation, whatever the number of rows; relations added by later apps
    (opportunities, orders, tickets) are counted too. Merge records stay with the merged record."""
    counts = []
    for relation in Customer._meta.related_objects:
        # Merge records stay with the merged record; monthly member counts are recomputed, not moved.
        if not relation.one_to_many or relation.related_model in (MergeRecord, MemberCount):
            continue
        n = relation.related_model._default_manager.filter(**{relation.field.name: customer}).count()
        if n:
            model = relation.related_model
            label = model._meta.verbose_name_plural
            if model is Customer:  # the self relations: subsidiaries and records merged into this one
                label = f"{label} ({relation.field.verbose_name})"
            counts.append((str(label), n))
    return counts


def visits_due(*, user: User, within_days: int = 14, limit: int = 20) -> list[tuple[Customer, date]]:
    """Tiered customers the user serves whose next visit (next_visit_due's rule) falls within
    `within_days`, overdue first. Two queries over the user's portfolio (not the whole table):
    the customers with their last visit annotated, and the tier cycles."""
    last = Visit.objects.filter(customer=OuterRef("pk")).order_by("-visited_on", "-id")
    customers = (
        Customer.objects.visible_to(user)
        .live()
        .filter(account_manager__isnull=False)
        .exclude(tier="")
        .annotate(last_visited_on=Subquery(last.values("visited_on")[:1]),
                  last_next_visit_on=Subquery(last.values("next_visit_on")[:1]))
        .only("pk", "name", "short_name", "code", "tier")
    )  # fmt: skip
    cycles = dict(TierLevel.objects.values_list("code", "visit_cycle_days"))
    horizon = timezone.localdate() + timedelta(days=within_days)
    due = []
    for customer in customers:
        if customer.last_next_visit_on:
            when = customer.last_next_visit_on
        elif customer.last_visited_on:
            when = customer.last_visited_on + timedelta(days=cycles.get(customer.tier) or 180)
        else:
            when = timezone.localdate()
        if when <= horizon:
            due.append((customer, when))
    due.sort(key=lambda item: (item[1], item[0].pk))
    return due[:limit]


def visible_duplicates(*, user: User, candidates) -> tuple[list, int]:
    """Likely duplicates (duplicates.DuplicateCandidate) split into those `user` may see and the number of
    the others: a customer the user may not open is counted, never named (pages, API, imports alike; a data
    steward sees every one). Answered from the per-request portfolio, without a query."""
    visible = visible_ids_among(user, [c.customer.pk for c in candidates])
    shown = [c for c in candidates if c.customer.pk in visible]
    return shown, len(candidates) - len(shown)


@dataclass
class DuplicateRows:
    """Likely duplicates for a page: the candidates the user may see (`for row in rows`) and how many others
    exist in portfolios the user may not see (`hidden`). True when there is anything to confirm."""

    shown: list
    hidden: int

    def __iter__(self):
        return iter(self.shown)

    def __bool__(self) -> bool:
        return bool(self.shown) or self.hidden > 0


def duplicate_candidate_rows(*, user: User, candidates) -> DuplicateRows:
    return DuplicateRows(*visible_duplicates(user=user, candidates=candidates))


def account_managers() -> QuerySet[User]:
    """Active staff who may hold a portfolio (the choices of handover and assignment forms)."""
    return User.objects.filter(role__in=roles.PORTFOLIO, is_active=True).order_by("username")
