"""Finding customers that may already exist (DOMAIN.md §7.2, ECOSYSTEM.md §2.10, seed 002).

Signals and scores (0-100), strongest first:

- same unified social credit code: 100 (one legal entity; reported even inside the parent's family);
- same name key (customers.naming: same core and same region words): 95;
- an alias (former name, merged duplicate's name) with the same name key: 95, reported on the alias's
  customer;
- same main phone: 90;
- similar name in the same region: the similarity (75-94; a fuzzy match never outranks an exact one).

Names in different regions are never similar: a head office, its province branch, city branch and
district sub-branch differ only by region words, and all exist as separate customers.

Similarity of two cores (same region)
-------------------------------------
The highest of: rapidfuzz `ratio` on the characters; `ratio` on the pinyin syllables minus 15 (a
homophone typo, 娃哈哈/哇哈哈, is likelier than a homophone company, but both happen); 80 when one core
is the start of the other and has 2+ characters (华为 / 华为技术, the trade name alone). It is 0 when the
cores start with different dictionary organisations (中国农业银行 / 中国农业发展银行) or when the parts
where they differ both hold numerals (第一/第二人民医院, 中铁一局/二局: sibling units, not spellings). A region or
national word both cores start with is ignored (it is there only because the rest is an industry
word, customers.naming rule 4): 浙江大学 / 浙江工业大学 compare as 大学 / 工业大学.

Calibration: 51 hand-labelled pairs of real-looking names, keyed with the shipped dictionary and
scored by this module (D same customer 20, R same group 8, N different 23); threshold 75, a warning
the user confirms with a reason, never a block
----------------------------------------------------------------------------------------------------
- D found, 16 of 20. Equal keys (exact, 95): 国寿杭州分公司 / 中国人寿保险股份有限公司杭州分公司,
  杭州地铁集团 / 杭州市地铁集团有限责任公司, 浙江省能源集团 / ...有限公司. Similar: 海康威视数字技术 /
  数字科技 88, typo 海康威视/海康威市 88, 电子政务服务中心/政务服务中心 86, 娃哈哈/哇哈哈 85 (pinyin),
  华为技术/华为 80, 吉利/吉利控股 80, 民卡服务/民卡 80, 交通投资/交通 80 (prefix), 第一人民医院/第一医院 80,
  城市建设投资/城建投资 80, 人民财产保险/人保 80, 大华技术/大华科技 75.
- D missed, 4: 日报报业/日报社 57 (the industry words differ); 浙江农信 / 浙江省农村信用社联合社 (needs a
  dictionary row); 浙江物产中大元通 / 物产中大 and 宁波舟山港 / 宁波港: the same company written with and
  without a region word lands in two regions, and regions must agree (else every branch would match its
  head office). Those are left to the credit code and the phone.
- R (same group) reported, 6 of 8, intended: the user links parent and subsidiary instead of creating
  an unrelated record. 杭州娃哈哈集团有限公司 / 杭州娃哈哈食品有限公司 80, 吉利/吉利汽车 80, 锦江/锦江百货 80,
  传化/传化化学品 80, 海康威视数字技术/系统技术 75; 杭州钢铁集团 / 杭州钢铁股份 are equal keys (organisation
  forms are ignored). Not reported: 老板电器/老板实业 50, 浙江大学/浙江大学医学院 (region differs).
- N not reported, 20 of 23: 杭州市人民政府 / 宁波市人民政府 67, 浙江大学 / 浙江工业大学 67 (shared 浙江
  ignored), 北京银行 / 北京农商银行 67, 萧山/余杭区人民医院 67, 浙江省人民医院/中医院 57, 邮电器材/工程 50,
  娃哈哈/哈哈娃玩具 50, 联华华商/华联商厦 50, 杭州市公安局/教育局 33, 阿里巴巴广告/阿里妈妈软件 29,
  第一/第二人民医院 0, 第二/第十四中学 0, 中铁一局/二局 0 (numerals), 农业银行/农业发展银行 0, 工商/建设
  银行 0, 中国银行/人民银行 0 (dictionary organisations); 浙江理工大学, 杭州联合银行, 宁波通商银行 vs the
  city's own university or bank differ in region.
- N reported, 3 false alarms: 大华技术/华大技术 75 and 西子电梯/西奥电梯 75 (4-character cores sharing the
  industry half), 华为通信/华威通信 85 (homophone trade names). A threshold of 80 would drop the two at 75
  but also 大华技术/大华科技 (D) and 海康威视 数字/系统技术 (R); 75 stays because a missed duplicate costs
  more (two managers working one customer, 撞单) than a confirmation.

Candidate blocking (never a scan of all names in Python; at most 4 queries whatever the table size)
--------------------------------------------------------------------------------------------------
1. exact lookups on indexed columns: (name_core, name_region), credit_code, phone_digits;
2. name candidates in the same region, at most 50: on PostgreSQL `name_core % core` (pg_trgm, GIN
   index cust_name_core_trgm) or `name_core LIKE 'xx%'` (same index), best trigram similarity first;
   on SQLite (the zero-setup default, a few thousand rows) `name_core LIKE '%xx%'` on the first two
   characters of the core, prefix matches and closest lengths first;
3. aliases: exact key or the same blocking, at most 50 (alias_name_core_idx / alias_name_core_trgm);
4. PostgreSQL only, first: `set_config('pg_trgm.similarity_threshold', '0.2', true)`, local to the
   transaction. On 2,000 synthetic pairs of 4-10 character cores with one or two edits scoring >= 75,
   the trigram test alone missed 19.8 % at pg_trgm's default 0.3 and 4.0 % at 0.2; with the prefix
   arm, 13.6 % and 3.5 %. Homophone typos in short names (娃哈哈/哇哈哈, similarity 0.14) share too few
   trigrams to be found by name; their pinyin rule applies to candidates found otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection, transaction
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Abs, Length
from django.utils.translation import gettext as _
from pypinyin import lazy_pinyin
from rapidfuzz import fuzz

from customers import naming
from customers.identifiers import clean_credit_code, phone_digits
from customers.models import TIER_RANK, Customer, CustomerAlias

SCORE_CREDIT_CODE = 100
SCORE_SAME_NAME = 95
SCORE_SAME_PHONE = 90
SIMILARITY_THRESHOLD = 75
SIMILARITY_CEILING = 94  # below every exact signal
PREFIX_SCORE = 80
HOMOPHONE_PENALTY = 15
CANDIDATE_LIMIT = 50
TRIGRAM_THRESHOLD = 0.2
BLOCK_PREFIX_LENGTH = 2
MIN_PHONE_DIGITS = 7  # an area code or an extension alone is no evidence
NUMERALS = frozenset("0123456789零〇一二三四五六七八九十百千两")


@dataclass
class DuplicateCandidate:
    customer: Customer
    score: int
    reasons: list[str]


def find_duplicates(
    *,
    name: str,
    credit_code: str | None = None,
    phone: str | None = None,
    parent: Customer | None = None,
    exclude: Customer | None = None,
    limit: int = 10,
) -> list[DuplicateCandidate]:
    """Live customers that may be the one described, best first (score desc, then id).

    `parent` is the parent the new or edited customer hangs under: that parent, its other children and
    its own parent are family, not duplicates, unless they carry the same credit code. `exclude` is the
    customer being edited. Merged customers are never reported; an alias reports its customer.
    """
    key = naming.name_key(name)
    code = clean_credit_code(credit_code)
    digits = phone_digits(phone)
    if len(digits) < MIN_PHONE_DIGITS:
        digits = ""
    with _trigram_threshold():
        customers = _customer_candidates(key, code=code, digits=digits, exclude=exclude)
        aliases = _alias_candidates(key, exclude=exclude)

    found: dict[int, DuplicateCandidate] = {}

    def report(customer: Customer, score: int, *reasons: str) -> None:
        candidate = found.setdefault(customer.pk, DuplicateCandidate(customer=customer, score=0, reasons=[]))
        candidate.score = max(candidate.score, score)
        candidate.reasons += [reason for reason in reasons if reason not in candidate.reasons]

    for customer in customers:
        same_code = bool(code) and customer.credit_code == code
        if same_code:
            report(customer, SCORE_CREDIT_CODE, _("Same unified social credit code"))
        same_key = bool(key.core) and (customer.name_core, customer.name_region) == (key.core, key.region)
        if _is_family(customer, parent) and not (same_key and customer.parent_id == parent.pk):
            # Family members are different units of one group, except the same branch entered twice
            # under one parent (identical name key).
            continue
        if same_key:
            report(customer, SCORE_SAME_NAME, _same_name_reason())
        elif key.core and customer.name_region == key.region:
            score = name_similarity(key.core, customer.name_core)
            if score >= SIMILARITY_THRESHOLD:
                report(customer, min(score, SIMILARITY_CEILING), _similarity_reason(score))
        if digits and customer.phone_digits == digits:
            report(customer, SCORE_SAME_PHONE, _("Same main phone"))

    for alias in aliases:
        if _is_family(alias.customer, parent):
            continue
        alias_reason = _("Alias: %(alias)s") % {"alias": alias.name}
        if (alias.name_core, alias.name_region) == (key.core, key.region):
            report(alias.customer, SCORE_SAME_NAME, alias_reason, _same_name_reason())
        elif alias.name_region == key.region:
            score = name_similarity(key.core, alias.name_core)
            if score >= SIMILARITY_THRESHOLD:
                report(alias.customer, min(score, SIMILARITY_CEILING), alias_reason, _similarity_reason(score))

    ranked = sorted(found.values(), key=lambda candidate: (-candidate.score, candidate.customer.pk))
    return ranked[:limit]


def name_similarity(core_a: str, core_b: str) -> int:
    """How alike two name cores are, 0-100 (rules and calibration in the module docstring)."""
    if core_a == core_b:
        return 100
    known_a, known_b = naming.known_organisation(core_a), naming.known_organisation(core_b)
    if known_a and known_b and known_a != known_b:
        return 0
    head = naming.shared_leading_word(core_a, core_b)
    a, b = core_a[len(head) :], core_b[len(head) :]
    if _differ_by_numerals(a, b):
        return 0
    by_characters = fuzz.ratio(a, b)
    by_sound = fuzz.ratio(lazy_pinyin(a), lazy_pinyin(b)) - HOMOPHONE_PENALTY
    shorter, longer = sorted((a, b), key=len)
    by_prefix = PREFIX_SCORE if len(shorter) >= 2 and longer.startswith(shorter) else 0
    return round(max(by_characters, by_sound, by_prefix))


def probable_duplicate_groups(*, limit: int = 50) -> list[list[Customer]]:
    """Groups of live customers sharing a name key or a credit code, largest groups first (the data
    steward's clean-up list). One GROUP BY query finds the keys, one query fetches the customers.

    Live customers cannot share a credit code today (constraint customers_customer_credit_code_unique_live);
    the code arm keeps the screen right if that constraint is ever relaxed for imports.
    """
    live = Customer.objects.live()
    # Both arms select the same three columns in the same order (kind, first, second) for the UNION.
    by_name = (
        live.exclude(name_core="")
        .values(kind=Value("name"), first=F("name_core"), second=F("name_region"))
        .annotate(size=Count("id"))
        .filter(size__gt=1)
        .order_by()  # no per-arm ORDER BY in a compound statement (SQLite)
    )
    by_code = (
        live.filter(credit_code__isnull=False)
        .values(kind=Value("code"), first=F("credit_code"), second=Value(""))
        .annotate(size=Count("id"))
        .filter(size__gt=1)
        .order_by()  # no per-arm ORDER BY in a compound statement (SQLite)
    )
    groups = list(by_name.union(by_code, all=True).order_by("-size", "kind", "first", "second")[:limit])
    if not groups:
        return []
    condition = Q()
    for group in groups:
        if group["kind"] == "name":
            condition |= Q(name_core=group["first"], name_region=group["second"])
        else:
            condition |= Q(credit_code=group["first"])
    members: dict[tuple[str, str, str], list[Customer]] = {}
    for customer in live.filter(condition).select_related("account_manager", "region").order_by("id"):
        members.setdefault(("name", customer.name_core, customer.name_region), []).append(customer)
        if customer.credit_code:
            members.setdefault(("code", customer.credit_code, ""), []).append(customer)
    return [sorted(members[(group["kind"], group["first"], group["second"])], key=survivor_rank) for group in groups]


# --- which record survives a merge ---------------------------------------------------------------------

# The fields whose filling tells the most complete record (the basics a steward checks first).
COMPLETENESS_FIELDS = (
    "short_name", "credit_code", "address", "postal_code", "region_id", "industry_id", "ownership", "phone",
    "email", "website", "employees", "relationship_since", "parent_id",
)  # fmt: skip


def filled_fields(customer: Customer) -> int:
    return sum(1 for name in COMPLETENESS_FIELDS if getattr(customer, name) not in (None, ""))


def survivor_rank(customer: Customer) -> tuple:
    """Sort key that puts the record to keep first: the most used and most complete one — a registered
    credit code, an account manager, the better tier, more group members, more revenue, more fields filled —
    and the oldest only as the last tie-break (the oldest is often the informal one, e.g. 杭州工行)."""
    return (
        not customer.credit_code,
        customer.account_manager_id is None,
        TIER_RANK.get(customer.tier, len(TIER_RANK) + 1),
        -customer.members_count,
        -(customer.avg_monthly_revenue or 0),
        -filled_fields(customer),
        customer.pk,
    )


def survivor_reasons(survivor: Customer, others: list[Customer]) -> list[str]:
    """Why `survivor` is proposed over `others`: the first criteria of survivor_rank it wins on."""
    reasons = []
    if survivor.credit_code and any(not c.credit_code for c in others):
        reasons.append(_("it has the registered credit code"))
    if survivor.account_manager_id and any(c.account_manager_id is None for c in others):
        reasons.append(_("it has an account manager"))
    rank = TIER_RANK.get(survivor.tier)
    if rank is not None and any(TIER_RANK.get(c.tier, len(TIER_RANK) + 1) > rank for c in others):
        reasons.append(_("it has the better tier (%(tier)s)") % {"tier": survivor.tier})
    if any(c.members_count < survivor.members_count for c in others):
        reasons.append(_("it has the most group members (%(count)d)") % {"count": survivor.members_count})
    if any(filled_fields(c) < filled_fields(survivor) for c in others):
        reasons.append(_("it is the most complete record"))
    return reasons or [_("the records are alike; it is the oldest")]


# --- candidates ------------------------------------------------------------------------------------


def _customer_candidates(
    key: naming.NameKey, *, code: str | None, digits: str, exclude: Customer | None
) -> list[Customer]:
    live = Customer.objects.live().select_related("account_manager")
    if exclude is not None and exclude.pk:
        live = live.exclude(pk=exclude.pk)
    exact = Q()
    if key.core:
        exact |= Q(name_core=key.core, name_region=key.region)
    if code:
        exact |= Q(credit_code=code)
    if digits:
        exact |= Q(phone_digits=digits)
    candidates = list(live.filter(exact).order_by("id")[:CANDIDATE_LIMIT]) if exact else []
    if key.core:
        seen = {customer.pk for customer in candidates}
        candidates += [c for c in _block(live, key) if c.pk not in seen]
    return candidates


def _alias_candidates(key: naming.NameKey, *, exclude: Customer | None) -> list[CustomerAlias]:
    if not key.core:
        return []
    aliases = CustomerAlias.objects.select_related("customer__account_manager").exclude(
        customer__status=Customer.Status.MERGED
    )
    if exclude is not None and exclude.pk:
        aliases = aliases.exclude(customer_id=exclude.pk)
    exact = Q(name_core=key.core, name_region=key.region)
    aliases = aliases.annotate(exact=Case(When(exact, then=Value(1)), default=Value(0), output_field=IntegerField()))
    return list(_block(aliases, key, also=exact, first="-exact"))


def _block(queryset: QuerySet, key: naming.NameKey, *, also: Q | None = None, first: str | None = None) -> QuerySet:
    """At most CANDIDATE_LIMIT rows in the key's region whose name core looks like the key's, best first."""
    prefix = key.core[:BLOCK_PREFIX_LENGTH]
    ordering = [first] if first else []
    if connection.vendor == "postgresql":
        # Both arms are served by the GIN trigram index (pg_trgm also answers LIKE 'xx%').
        near = Q(name_core__trigram_similar=key.core) | Q(name_core__startswith=prefix)
        queryset = queryset.annotate(similarity=TrigramSimilarity("name_core", key.core))
        ordering += ["-similarity", "id"]
    else:
        near = Q(name_core__contains=prefix)
        queryset = queryset.annotate(
            at_start=Case(
                When(name_core__startswith=prefix, then=Value(0)), default=Value(1), output_field=IntegerField()
            ),
            length_gap=Abs(Length("name_core") - len(key.core)),
        )
        ordering += ["at_start", "length_gap", "id"]
    condition = Q(name_region=key.region) & near
    if also is not None:
        condition |= also
    return queryset.filter(condition).order_by(*ordering)[:CANDIDATE_LIMIT]


@contextmanager
def _trigram_threshold() -> Iterator[None]:
    """Lower pg_trgm's similarity threshold for the `%` operator (default 0.3, see calibration) for the
    queries inside, without touching the session: set_config(..., true) lasts until the transaction ends,
    so the block runs in one (joining the caller's transaction if there is one, without a savepoint)."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('pg_trgm.similarity_threshold', %s, true)", [str(TRIGRAM_THRESHOLD)])
        yield


def _is_family(customer: Customer, parent: Customer | None) -> bool:
    """The parent, the parent's parent and the parent's other children (no query: ids are on the rows)."""
    if parent is None or parent.pk is None:
        return False
    return customer.pk in (parent.pk, parent.parent_id) or customer.parent_id == parent.pk


def _differ_by_numerals(a: str, b: str) -> bool:
    """True when the parts where a and b differ both contain numerals (第一/第二人民医院)."""
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    middle_a, middle_b = a[start : len(a) - end], b[start : len(b) - end]
    return bool(NUMERALS.intersection(middle_a)) and bool(NUMERALS.intersection(middle_b))


def _same_name_reason() -> str:
    return _("Same name once legal form, region spelling and abbreviations are ignored")


def _similarity_reason(score: int) -> str:
    return _("Name similarity %(score)d") % {"score": score}
