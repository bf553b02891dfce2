"""The orders half of the demo province (`manage.py seed_orders`, after `seed_demo`): provisioning staff at
every workstation, a pool of resources per city, agreements (some ending within 90 days, some in approval,
changed by a named editor), the installed base matching each customer's billed spend categories, orders in
every state with their work orders (steps done on time or late, some overdue now, some blocked) and a
customer that left with its resources released.

Rows are bulk-inserted in a handful of statements per kind, so the same code seeds the benchmark's volumes
(`--subscriptions 1000000 --orders 200000`): nothing here goes through the services one row at a time.
Numbers follow the services' rule (prefix + id, written by one UPDATE after the insert)."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from channels.models import ChannelType, Role, User, Workstation
from customers.models import Contact, Customer, SpendRecord
from kam.db import numbered_code
from kam.demo import Summary, TimedSteps
from orders.demo_installed import POOL, seed_resource_pool
from orders.models import (
    Agreement,
    AgreementItem,
    AgreementTemplate,
    AgreementVersion,
    Order,
    OrderField,
    OrderLine,
    Product,
    ProductResourceNeed,
    Resource,
    StepEvent,
    StepTemplate,
    Subscription,
    WorkOrder,
    WorkStep,
)

BATCH = 5000
D = Decimal

# Billed spend category (customers.SpendCategory) -> catalogue products a customer with that spend holds.
CATEGORY_PRODUCTS = {
    "voice": ("VPMN", "N400", "SWBD", "IMSFIX"),
    "data": ("GPLAN", "APN"),
    "leased_line": ("DATA", "MPLS", "SDWAN"),
    "internet": ("INET", "EBB"),
    "value_added": ("QXT", "GCRBT", "MAIL", "MOA", "VCONF", "GMMS"),
    "cloud_idc": ("CLOUD", "IDC"),
    "iot": ("IOT",),
    "other": ("SEC", "ECARD"),
}
# Products whose lines are circuits (the SLA class of a line follows the customer's tier).
LINE_PRODUCTS = ("INET", "DATA", "MPLS", "SDWAN", "IDC", "EBB")
BANDWIDTHS = (10, 20, 50, 100, 200, 500, 1000)
SLA_BY_TIER = {"A1": "AAA", "A2": "AA", "B1": "AA", "B2": "A"}

# Provisioning staff of the demo: one manager and two executors per workstation; the first two are demo
# logins (the password of seed_demo).
STAFF_NAMES = (
    "何军",
    "马丽",
    "黄涛",
    "林峰",
    "郭静",
    "罗斌",
    "梁红",
    "宋杰",
    "唐宁",
    "韩雪",
    "冯刚",
    "董梅",
    "萧然",
    "程亮",
    "曹阳",
    "袁媛",
    "邓超",
    "许晴",
    "傅强",
    "沈洁",
    "曾鹏",
    "彭飞",
    "吕琳",
    "苏航",
    "卢岩",
    "蒋欣",
    "蔡明",
)
DEMO_STAFF_LOGINS = (
    ("ws_he", Role.WORKSTATION_EXECUTOR),  # executor at the first workstation of the long flow
    ("wsm_ma", Role.WORKSTATION_MANAGER),  # its manager
)

AGREEMENT_TEMPLATES = (
    (
        "lines",
        "专线业务合作协议",
        "Leased-line service agreement",
        36,
        D("20"),
        "AA",
        False,
        ("INET", "DATA", "MPLS", "SDWAN", "EBB", "IDC", "SEC"),
    ),
    (
        "voice",
        "集团语音及短彩信业务协议",
        "Group voice and messaging agreement",
        12,
        D("15"),
        "standard",
        True,
        ("VPMN", "GCRBT", "N400", "SWBD", "IMSFIX", "QXT", "GMMS", "MAS"),
    ),
    (
        "ict",
        "信息化及云业务协议",
        "Business applications and cloud agreement",
        24,
        D("25"),
        "A",
        False,
        ("MAIL", "ECARD", "MOA", "VCONF", "CLOUD", "APN", "IOT", "GPLAN", "EDU"),
    ),
)


@dataclass(slots=True)
class Cust:
    pk: int
    tier: str
    city: str
    manager_id: int | None
    contact_phone: str
    categories: list[str] = field(default_factory=list)
    agreement: Agreement | None = None


class DemoOrders(TimedSteps):
    def __init__(
        self,
        *,
        seed: int = 2026,
        subscriptions: int | None = None,
        orders: int | None = None,
        steps: int | None = None,
        open_share: float = 0.03,
        progress=lambda message: None,
        now: dt.datetime | None = None,
    ):
        self.rng = random.Random(seed)
        self.target_subscriptions = subscriptions
        self.target_orders = orders
        self.target_steps = steps
        self.open_share = open_share
        self.progress = progress
        self.now = now or timezone.now()
        self.today = timezone.localdate(self.now)
        self.summary = Summary()

    # --- driver ---------------------------------------------------------------------------------------------

    def run(self) -> Summary:
        started = timezone.now()
        with transaction.atomic():
            self._timed("load", self._load)
            self._timed("staff", self._staff)
            self._timed("resources", self._resources)
            self._timed("agreements", self._agreements)
            self._timed("subscriptions", self._subscriptions)
            self._timed("orders", self._orders)
            self._timed("churned customer", self._churned)
        self.summary.timings["total"] = (timezone.now() - started).total_seconds()
        return self.summary

    def _load(self) -> None:
        self.products = {p.code: p for p in Product.objects.all()}
        self.fields: dict[int, list[OrderField]] = defaultdict(list)
        for f in OrderField.objects.order_by("product_id", "sort_order"):
            self.fields[f.product_id].append(f)
        self.steps: dict[int, list[StepTemplate]] = defaultdict(list)
        for s in StepTemplate.objects.order_by("product_id", "sequence"):
            self.steps[s.product_id].append(s)
        self.workstations = list(Workstation.objects.all())
        self.needs: dict[int, list[str]] = defaultdict(list)
        for product_id, kind in ProductResourceNeed.objects.values_list("product_id", "kind"):
            self.needs[product_id].append(kind)
        self.channels = {c.code: c for c in ChannelType.objects.all()}
        contacts = dict(
            Contact.objects.filter(customer__is_demo=True, mobile__gt="")
            .order_by("customer_id", "id")
            .distinct("customer_id")
            .values_list("customer_id", "mobile")
            if _postgres()
            else Contact.objects.filter(customer__is_demo=True, mobile__gt="").values_list("customer_id", "mobile")
        )
        self.customers: dict[int, Cust] = {}
        rows = Customer.objects.filter(is_demo=True, status__in=["active", "at_risk"]).values_list(
            "pk", "tier", "region_id", "account_manager_id"
        )
        for pk, tier, region, manager in rows.order_by("pk"):
            city = (region or "330100")[:4] + "00"
            self.customers[pk] = Cust(pk, tier or "D", city, manager, contacts.get(pk, ""))
        latest = SpendRecord.objects.aggregate(m=Max("month"))["m"]
        if latest:
            recent = SpendRecord.objects.filter(month__gte=latest - dt.timedelta(days=92), customer__is_demo=True)
            for pk, category in recent.values_list("customer_id", "category").distinct():
                if pk in self.customers and category not in self.customers[pk].categories:
                    self.customers[pk].categories.append(category)
        for c in self.customers.values():
            c.categories.sort()
        self.cities = sorted({c.city for c in self.customers.values()}) or ["330100"]
        self.entered_by = (
            User.objects.filter(username="ops_zhao").first() or User.objects.filter(is_superuser=True).first()
        )

    # --- staff ----------------------------------------------------------------------------------------------

    def _staff(self) -> None:
        password = make_password(settings.DEMO_PASSWORD)
        names = iter(STAFF_NAMES * 4)
        self.executors: dict[int, list[User]] = defaultdict(list)
        existing = set(
            User.objects.filter(role__in=[Role.WORKSTATION_EXECUTOR, Role.WORKSTATION_MANAGER]).values_list(
                "username", flat=True
            )
        )
        users = []
        for ws in self.workstations:
            for index, role in enumerate(
                (Role.WORKSTATION_MANAGER, Role.WORKSTATION_EXECUTOR, Role.WORKSTATION_EXECUTOR)
            ):
                username = f"ws_{ws.code}_{index}"
                if ws is self.workstations[0] and index in (0, 1):
                    username = next(u for u, r in DEMO_STAFF_LOGINS if r == role)
                if username in existing:
                    continue
                users.append(
                    User(
                        username=username,
                        display_name=next(names),
                        role=role,
                        workstation=ws,
                        password=password,
                        channel_type=self.channels.get("operations_center"),
                    )
                )
        User.objects.bulk_create(users, batch_size=BATCH)
        self.summary.counts[_("provisioning staff")] += len(users)
        for user in User.objects.filter(role__in=[Role.WORKSTATION_EXECUTOR, Role.WORKSTATION_MANAGER]):
            if user.role == Role.WORKSTATION_MANAGER:
                Workstation.objects.filter(pk=user.workstation_id, manager__isnull=True).update(manager=user)
            else:
                self.executors[user.workstation_id].append(user)

    # --- inventory ------------------------------------------------------------------------------------------

    def _resources(self) -> None:
        """The demo pool per city (orders.demo_installed), large enough for the installed base and the orders in
        flight of the busiest city."""
        demand: dict[tuple[str, str], int] = defaultdict(int)
        for c in self.customers.values():
            for category in c.categories:
                for code in CATEGORY_PRODUCTS.get(category, ())[:2]:
                    product = self.products.get(code)
                    for kind in self.needs.get(product.pk, ()) if product else ():
                        demand[(c.city, kind)] += 1
        if self.target_subscriptions:
            # the benchmark's volumes: each city's pool of a kind sized to its own demand
            factor = self.target_subscriptions / max(1, sum(len(c.categories) for c in self.customers.values()))
            counts = {key: int(n * factor * 1.2) + 1 for key, n in demand.items()}
            created = seed_resource_pool(self.cities, counts=counts)
        else:
            scale = max([n / POOL[kind][1] for (_city, kind), n in demand.items()] or [1]) * 1.5 + 1
            created = seed_resource_pool(self.cities, scale=scale)
        self.free: dict[tuple[str, str], list[int]] = defaultdict(list)
        rows = Resource.objects.filter(status="free").values_list("pk", "kind", "region_code").order_by("-pk")
        for pk, kind, city in rows:
            self.free[(city, kind)].append(pk)
        self.summary.counts[_("resources")] += created

    def _take(self, city: str, kind: str) -> int | None:
        pool = self.free.get((city, kind)) or self.free.get((self.cities[0], kind))
        return pool.pop() if pool else None

    # --- agreements -----------------------------------------------------------------------------------------

    def _agreements(self) -> None:
        templates = {}
        for code, name, name_en, term, cap, sla, renew, products in AGREEMENT_TEMPLATES:
            template, _created = AgreementTemplate.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "name_en": name_en,
                    "default_term_months": term,
                    "default_discount_cap": cap,
                    "default_sla_class": sla,
                    "auto_renewal": renew,
                },
            )
            template.products.set([self.products[p] for p in products if p in self.products])
            templates[code] = (template, set(products))
        rng = self.rng
        drafted_by = {c.pk: c.manager_id or self.entered_by.pk for c in self.customers.values()}
        agreements, plans = [], []
        for c in self.customers.values():
            if c.tier not in ("A1", "A2", "B1", "B2") or not c.categories:
                continue
            if rng.random() > 0.8:
                continue
            key = "lines" if {"leased_line", "internet"} & set(c.categories) else rng.choice(("voice", "ict"))
            template, covered = templates[key]
            status = _weighted(
                rng,
                (("effective", 80), ("expired", 5), ("terminated", 3), ("draft", 6), ("in_approval", 4), ("signed", 2)),
            )
            term = template.default_term_months
            if status == "effective":
                # one in eight ends within 90 days, the rest some time in the term
                ends = self.today + dt.timedelta(
                    days=rng.randint(5, 89) if rng.random() < 0.125 else rng.randint(90, term * 30)
                )
            elif status in ("expired", "terminated"):
                ends = self.today - dt.timedelta(days=rng.randint(10, 400))
            else:
                ends = None
            starts = _months_before(ends, term) if ends else None
            a = Agreement(
                customer_id=c.pk,
                template=template,
                title=f"{template.name}（{self.today.year if not starts else starts.year}）",
                status=status,
                term_months=term,
                auto_renewal=template.auto_renewal,
                sla_class=SLA_BY_TIER.get(c.tier, "standard") if key == "lines" else template.default_sla_class,
                discount_cap=template.default_discount_cap,
                terms=template.body,
                starts_on=starts,
                ends_on=ends,
                created_by_id=drafted_by[c.pk],
                created_at=self.now
                - dt.timedelta(days=(self.today - starts).days + 20 if starts else rng.randint(1, 20)),
                signed_on=starts - dt.timedelta(days=5) if starts else None,
                effective_at=_at(starts) if starts else None,
                submitted_at=self.now - dt.timedelta(days=2) if status in ("in_approval", "signed") else None,
                ended_at=_at(ends) if status == "terminated" else None,
                end_reason="客户业务调整，双方协商终止" if status == "terminated" else "",
            )
            agreements.append(a)
            plans.append((c, covered))
        Agreement.objects.bulk_create(agreements, batch_size=BATCH)
        if agreements:
            Agreement.objects.filter(
                pk__gte=agreements[0].pk, number__isnull=True, status__in=["effective", "expired", "terminated"]
            ).update(number=numbered_code("AG"))
        items = []
        for a, (c, covered) in zip(agreements, plans, strict=True):
            for code in sorted(covered):
                product = self.products.get(code)
                if product is None or not any(code in CATEGORY_PRODUCTS.get(cat, ()) for cat in c.categories):
                    continue
                items.append(
                    AgreementItem(
                        agreement=a,
                        product=product,
                        unit_price=_price(self.rng, product),
                        discount=D(self.rng.choice((0, 5, 10, 15))),
                    )
                )
            if a.status == "effective":
                c.agreement = a
        AgreementItem.objects.bulk_create(items, batch_size=BATCH)
        # A few effective agreements changed since by a named editor (the account manager): version 2 with its diff.
        versions = []
        changed = [a for a in agreements if a.status == "effective"][::15]
        for a in changed:
            editor = a.created_by_id
            versions.append(
                AgreementVersion(
                    agreement=a,
                    version=2,
                    changed_by_id=editor,
                    changed_at=self.now - dt.timedelta(days=self.rng.randint(3, 60)),
                    reason="客户扩容，商务条款调整",
                    changes={"discount_cap": [str(a.discount_cap), str(a.discount_cap + 5)]},
                    snapshot={"discount_cap": str(a.discount_cap + 5), "title": a.title},
                )
            )
            a.editors.add(editor)
        AgreementVersion.objects.bulk_create(versions, batch_size=BATCH)
        Agreement.objects.filter(pk__in=[a.pk for a in changed]).update(version=2, discount_cap=F("discount_cap") + 5)
        self.summary.counts[_("agreements")] += len(agreements)

    # --- installed base -------------------------------------------------------------------------------------

    def _subscriptions(self) -> None:
        rng = self.rng
        plans: list[tuple[Cust, Product]] = []
        for c in self.customers.values():
            for category in c.categories:
                codes = [code for code in CATEGORY_PRODUCTS.get(category, ()) if code in self.products]
                if codes:
                    picks = 2 if c.tier in ("A1", "A2") and len(codes) > 1 else 1
                    for code in rng.sample(codes, picks):
                        plans.append((c, self.products[code]))
        if self.target_subscriptions and plans:
            base = list(plans)
            while len(plans) < self.target_subscriptions:
                plans.extend(base[: self.target_subscriptions - len(plans)])
        first = (Subscription.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        subs = []
        for n, (c, product) in enumerate(plans):
            started = self.today - dt.timedelta(days=rng.randint(20, 1500))
            values = self._values(product, c)
            quantity = values.get("members") or values.get("cards") or 1
            price = _price(rng, product)
            s = Subscription(
                customer_id=c.pk,
                product=product,
                agreement=c.agreement
                if c.agreement and c.agreement.starts_on and c.agreement.starts_on <= started
                else None,
                service_id=f"SV{first + n:08d}",
                status="suspended" if rng.random() < 0.01 else "active",
                quantity=quantity if isinstance(quantity, int) else 1,
                bandwidth_mbps=values.get("bandwidth"),
                members=values.get("members"),
                monthly_price=price,
                sla_class=SLA_BY_TIER.get(c.tier, "standard") if product.code in LINE_PRODUCTS else "standard",
                attributes=values,
                started_on=started,
            )
            subs.append(s)
        Subscription.objects.bulk_create(subs, batch_size=BATCH)
        taken = []
        for s, (c, product) in zip(subs, plans, strict=True):
            for kind in self.needs.get(product.pk, ()):
                pk = self._take(c.city, kind)
                if pk is not None:
                    taken.append((pk, s.pk, s.started_on))
        self._use_resources(taken)
        self.subscriptions = list(zip(subs, [c for c, _p in plans], strict=True))
        self.summary.counts[_("subscriptions")] += len(subs)

    def _use_resources(self, taken: list[tuple[int, int, dt.date]]) -> None:
        if not taken:
            return
        if _postgres():  # one UPDATE ... FROM (VALUES ...) per batch: bulk_update's CASE is quadratic in the batch
            from django.db import connection

            with connection.cursor() as cursor:
                for start in range(0, len(taken), BATCH):
                    batch = taken[start : start + BATCH]
                    cursor.execute(
                        "UPDATE orders_resource r SET status = 'in_use', subscription_id = v.sub, "
                        "in_use_since = v.since FROM (VALUES "
                        + ", ".join(["(%s, %s, %s::timestamptz)"] * len(batch))
                        + ") AS v(id, sub, since) "
                        "WHERE r.id = v.id",
                        [value for pk, sub, since in batch for value in (pk, sub, _at(since))],
                    )
            return
        objs = [
            Resource(pk=pk, status="in_use", subscription_id=sub, in_use_since=_at(since)) for pk, sub, since in taken
        ]
        Resource.objects.bulk_update(objs, ["status", "subscription_id", "in_use_since"], batch_size=BATCH)

    def _values(self, product: Product, c: Cust) -> dict:
        """Template values that pass the product's order template (generic by field kind)."""
        values = {}
        for f in self.fields.get(product.pk, []):
            values[f.key] = _field_value(self.rng, f, c)
        if product.code in LINE_PRODUCTS and "bandwidth" not in values:
            values["bandwidth"] = self.rng.choice(BANDWIDTHS)
        return values

    # --- orders ---------------------------------------------------------------------------------------------

    def _orders(self) -> None:
        """Every subscription came from a completed order; the newest ones (six months) with their work order
        and step history, for the assessment. Then orders in flight in every state."""
        rng = self.rng
        recent = self.today - dt.timedelta(days=183)
        history = self.subscriptions
        if self.target_orders:
            history = history[: self.target_orders]
        orders, lines, done = [], [], []
        for s, c in history:
            entered = _at(s.started_on) - dt.timedelta(days=rng.randint(1, 25))
            o = Order(
                customer_id=c.pk,
                agreement_id=s.agreement_id,
                kind="new",
                status="completed",
                source="manual",
                intake_channel=self.channels.get("account_manager"),
                created_by_id=c.manager_id or self.entered_by.pk,
                created_at=entered,
                submitted_at=entered + dt.timedelta(hours=2),
                completed_at=_at(s.started_on),
                requested_on=s.started_on,
                committed_on=s.started_on,
                first_time_right=rng.random() > 0.12,
            )
            orders.append(o)
            lines.append(
                OrderLine(
                    order=o,
                    product=s.product,
                    quantity=s.quantity,
                    unit_price=s.monthly_price,
                    values=s.attributes,
                    subscription=s,
                    status="completed",
                    provisioning_type=s.product.provisioning_type,
                    completed_at=_at(s.started_on),
                )
            )
            if self.steps.get(s.product.pk):
                done.append((s.started_on, s.product.pk, ("done", len(lines) - 1, o, c, entered)))
        wo_plans = self._history_plans(done, recent)
        # orders in flight
        live = [c for c in self.customers.values() if c.categories]
        open_count = max(12, int(len(live) * self.open_share))
        states = (("draft", 15), ("in_approval", 8), ("submitted", 5), ("in_progress", 57), ("cancelled", 15))
        wanted_products = [p for p in self.products.values() if self.steps.get(p.pk) and not p.legacy] or list(
            self.products.values()
        )
        for n in range(open_count):
            c = live[(n * 7919) % len(live)]
            status = states[n % len(states)][0] if n < len(states) else _weighted(rng, states)
            product = rng.choice(wanted_products)
            entered = self.now - dt.timedelta(days=rng.randint(1, 12), hours=rng.randint(0, 8))
            o = Order(
                customer_id=c.pk,
                agreement=c.agreement,
                kind="new",
                status=status,
                source="manual",
                intake_channel=self.channels.get("account_manager"),
                created_by_id=c.manager_id or self.entered_by.pk,
                created_at=entered,
                requested_on=self.today + dt.timedelta(days=10),
                needs_construction=product.code in ("DATA", "MPLS") and rng.random() < 0.3,
            )
            if status != "draft":
                o.submitted_at = entered + dt.timedelta(hours=1)
                o.committed_on = self.today + dt.timedelta(days=rng.randint(2, 20))
            if status == "in_approval":
                o.approval_reasons = [
                    str(_("The discount of %(product)s is above the agreement's cap.") % {"product": product.code})
                ]
            if status == "cancelled":
                o.cancelled_at, o.cancel_reason = entered + dt.timedelta(days=1), "客户暂缓建设"
            orders.append(o)
            lines.append(
                OrderLine(
                    order=o,
                    product=product,
                    quantity=1,
                    unit_price=_price(rng, product),
                    values=self._values(product, c),
                    provisioning_type=product.provisioning_type,
                    status={"in_progress": "provisioning", "cancelled": "cancelled"}.get(status, "pending"),
                )
            )
            if status == "in_progress":
                wo_plans.append(("open", len(lines) - 1, o, c, o.submitted_at))
        Order.objects.bulk_create(orders, batch_size=BATCH)
        if orders:
            Order.objects.filter(pk__gte=orders[0].pk, number__isnull=True).update(number=numbered_code("OR"))
        for line in lines:
            line.order_id = line.order.pk
        OrderLine.objects.bulk_create(lines, batch_size=BATCH)
        self._work_orders(wo_plans, lines)
        self.summary.counts[_("orders")] += len(orders)

    def _history_plans(self, done: list, recent: dt.date) -> list:
        """Completed orders that keep their work order and steps: those of the last six months, or with a steps
        target (the benchmark's volume) the newest ones until about that many steps."""
        if not self.target_steps:
            return [plan for started_on, _product, plan in done if started_on >= recent]
        plans, total = [], 0
        for _started_on, product, plan in sorted(done, key=lambda item: item[0], reverse=True):
            if total >= self.target_steps:
                break
            plans.append(plan)
            total += sum(1 for t in self.steps[product] if not t.only_with_construction)
        return sorted(plans, key=lambda plan: plan[1])

    def _work_orders(self, plans, lines: list[OrderLine]) -> None:
        rng = self.rng
        work_orders, step_rows, events = [], [], []
        opened = 0
        for state, line_index, order, c, started in plans:
            line = lines[line_index]
            templates = [
                t for t in self.steps[line.product_id] if not t.only_with_construction or order.needs_construction
            ]
            wo = WorkOrder(
                order_line=line,
                customer_id=c.pk,
                status="completed" if state == "done" else "open",
                created_at=started,
                due_at=_at(order.committed_on or self.today) + dt.timedelta(hours=18),
            )
            moment = started
            current = len(templates) if state == "done" else rng.randint(0, len(templates) - 1)
            # of the work orders in flight, one in eight is blocked and one in four late (deterministic shares)
            opened += state == "open"
            blocked = state == "open" and opened % 8 == 3
            overdue = state == "open" and not blocked and opened % 4 == 1
            steps = []
            for i, t in enumerate(templates):
                executors = self.executors.get(t.workstation_id) or [None]
                who = executors[rng.randrange(len(executors))]
                limit = dt.timedelta(hours=t.duration_hours * 2.6)  # office hours on the calendar, roughly
                step = WorkStep(
                    work_order=wo,
                    customer_id=c.pk,
                    sequence=t.sequence,
                    name=t.name,
                    name_en=t.name_en,
                    action=t.action,
                    workstation_id=t.workstation_id,
                    duration_hours=t.duration_hours,
                )
                if i < current:
                    took = limit * rng.uniform(0.3, 1.4 if rng.random() < 0.25 else 0.95)
                    step.status, step.assignee, step.completed_by = "done", who, who
                    step.ready_at, step.due_at = moment, moment + limit
                    step.started_at, step.completed_at = moment + took * 0.2, moment + took
                    step.on_time = step.completed_at <= step.due_at
                    moment = step.completed_at
                elif i == current:
                    if overdue:
                        moment = self.now - limit - dt.timedelta(hours=rng.randint(2, 30))
                    else:
                        moment = max(moment, self.now - limit * rng.uniform(0.1, 0.6))
                    step.ready_at, step.due_at = moment, moment + limit
                    if blocked:
                        step.status, step.assignee, step.started_at = "blocked", who, moment + dt.timedelta(hours=1)
                        step.block_reason = rng.choice(
                            ("客户机房未具备施工条件", "管道资源不足，等待扩容", "客户联系人暂不在岗")
                        )
                    elif rng.random() < 0.6:
                        step.status, step.assignee, step.started_at = "in_progress", who, moment + dt.timedelta(hours=1)
                    else:
                        step.status = "ready"
                steps.append(step)
            if state == "done":
                wo.completed_at = moment
            elif blocked:
                wo.status = "blocked"
            work_orders.append(wo)
            step_rows.extend(steps)
        WorkOrder.objects.bulk_create(work_orders, batch_size=BATCH)
        if work_orders:
            WorkOrder.objects.filter(pk__gte=work_orders[0].pk, number__isnull=True).update(number=numbered_code("WO"))
        for step in step_rows:
            step.work_order_id = step.work_order.pk
        WorkStep.objects.bulk_create(step_rows, batch_size=BATCH)
        for step in step_rows:
            if step.ready_at:
                events.append(StepEvent(step=step, action="ready", at=step.ready_at))
            if step.started_at:
                events.append(StepEvent(step=step, action="claim", actor=step.assignee, at=step.started_at))
            if step.status == "blocked":
                events.append(
                    StepEvent(
                        step=step, action="block", actor=step.assignee, at=step.started_at, note=step.block_reason
                    )
                )
            if step.completed_at:
                events.append(StepEvent(step=step, action="complete", actor=step.completed_by, at=step.completed_at))
        StepEvent.objects.bulk_create(events, batch_size=BATCH)
        self.summary.counts[_("work orders")] += len(work_orders)
        self.summary.counts[_("work-order steps")] += len(step_rows)

    # --- a customer that left -------------------------------------------------------------------------------

    def _churned(self) -> None:
        """One C-class customer left last month: termination orders for everything it held, completed, and its
        resources back in the pool (seed 000 I.3 item 21)."""
        holding = defaultdict(list)
        for s, c in self.subscriptions:
            if self.needs.get(s.product_id):
                holding[c.pk].append(s)
        candidates = [pk for pk, subs in holding.items() if self.customers[pk].tier in ("C", "D") and len(subs) >= 1]
        if not candidates:
            return
        pk = candidates[0]
        customer_subs = [s for s, c in self.subscriptions if c.pk == pk]
        left = self.today - dt.timedelta(days=20)
        order = Order.objects.create(
            customer_id=pk,
            kind="terminate",
            status="completed",
            source="termination",
            created_by=self.entered_by,
            created_at=_at(left) - dt.timedelta(days=5),
            submitted_at=_at(left) - dt.timedelta(days=5),
            completed_at=_at(left),
            note="客户整体迁出本地，业务全部拆机",
            requested_on=left,
            committed_on=left,
        )
        Order.objects.filter(pk=order.pk).update(number=numbered_code("OR"))
        OrderLine.objects.bulk_create(
            [
                OrderLine(
                    order=order,
                    product=s.product,
                    quantity=s.quantity,
                    unit_price=s.monthly_price,
                    subscription=s,
                    status="completed",
                    provisioning_type=s.product.provisioning_type,
                    completed_at=_at(left),
                )
                for s in customer_subs
            ]
        )
        Subscription.objects.filter(pk__in=[s.pk for s in customer_subs]).update(status="terminated", ended_on=left)
        Resource.objects.filter(subscription__in=[s.pk for s in customer_subs]).update(
            status="free", subscription=None, in_use_since=None, released_at=_at(left)
        )
        Customer.objects.filter(pk=pk).update(status=Customer.Status.CHURNED)
        self.summary.counts[_("customers that left")] += 1


# --- helpers ------------------------------------------------------------------------------------------------


def _postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def _weighted(rng: random.Random, choices) -> str:
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights)[0]


def _months_before(day: dt.date, months: int) -> dt.date:
    month = day.month - months
    year = day.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return dt.date(year, month, min(day.day, 28)) + dt.timedelta(days=1)


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))


def _price(rng: random.Random, product: Product) -> Decimal:
    low = product.list_price_min if product.list_price_min is not None else D("100")
    high = product.list_price_max if product.list_price_max is not None else low * 5
    if high <= low:
        return low
    return (low + (high - low) * D(rng.randint(0, 100)) / 100).quantize(D("0.01"))


def _field_value(rng: random.Random, f: OrderField, c: Cust):
    kind = f.kind
    if f.choices:
        return rng.choice(f.choices)
    low = int(f.min_value) if f.min_value is not None else 1
    high = int(f.max_value) if f.max_value is not None else max(low, 100)
    if kind == "bandwidth":
        fitting = [b for b in BANDWIDTHS if low <= b <= high]
        return rng.choice(fitting) if fitting else low
    if kind in ("integer", "decimal"):
        return rng.randint(low, min(high, low + 200))
    if kind == "phone":
        return c.contact_phone or "13800000000"
    if kind == "address":
        return "浙江省某市某区示范路" + str(rng.randint(1, 999)) + "号"
    if kind == "ip_block":
        return rng.choice([p for p in (29, 28, 27) if low <= p <= high] or [low])
    if kind == "apn":
        return f"cmzj{c.pk}.zj"
    if kind == "date":
        return dt.date.today().isoformat()
    return "示例"[: f.max_length]


def already_seeded() -> int:
    return Order.objects.count()


def seed(**options) -> Summary:
    return DemoOrders(**options).run()
