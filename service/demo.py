"""The service desk of the demo province (manage.py seed_service): the category tree with its queues (the
network operations center and billing support, each with a manager and an engineer), knowledge articles and
answer scripts, and tickets on the demo customers in every state — taken at the hotline over the last weeks
through the services, so their clocks, breaches, follow-ups and timelines are what the app would have made.
Logins: noc_lin (network operations engineer), billing_xu (billing support engineer)."""

import datetime as dt
import random

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from channels.models import Role, User, Workstation
from customers.models import Contact, Customer
from orders.models import Subscription
from service.models import KbArticle, KbScriptStep, Ticket, TicketCategory
from service.services import sweep
from service.services import tickets as services

QUEUES = (
    ("noc", "网络维护中心", "Network operations center", ("noc_mgr", "林主管"), ("noc_lin", "林工")),
    ("billing", "计费支撑", "Billing support", ("billing_mgr", "徐主管"), ("billing_xu", "徐工")),
)
# (kind, name, English name, queue code, children)
CATEGORIES = (
    ("complaint", "投诉", "Complaints", None, (("计费争议", "Billing dispute", "billing"),
                                               ("网络质量", "Network quality", "noc"),
                                               ("服务态度", "Staff attitude", None))),
    ("fault", "故障", "Faults", "noc", (("专线中断", "Leased line down", "noc"), ("语音故障", "Voice fault", "noc"))),
    ("service_request", "服务请求", "Service requests", None, (("成员变更", "Member change", None),
                                                              ("停复机", "Suspension and resumption", None))),
    ("consultation", "咨询", "Consultations", None, (("资费咨询", "Tariff questions", None),)),
)  # fmt: skip
ARTICLES = (
    ("script", "计费争议应答话术", "计费争议", "先致歉，再核对，最后说明处理时限。",
     (("客户对哪个月的账单有疑问？", "您好，请问是哪个月的账单有疑问？我马上为您核对。"),
      ("核对后确有多收？", "经核对确有多收，我们将在3个工作日内退还，给您带来不便非常抱歉。"))),
    ("script", "专线中断首问话术", "专线中断", "记录故障现象与影响范围，告知预计恢复时间。",
     (("哪条专线、从什么时候中断？", "请您告诉我专线编号和中断开始的时间，我立即派单抢修。"),
      ("影响范围？", "请问中断影响哪些业务和多少用户？"))),
    ("tariff", "集团V网资费说明", "资费咨询",
     "集团V网内短号互拨免费；网外按套餐标准资费计费；成员月功能费0–10元。", ()),
    ("solution", "专线双路由方案", None, "核心专线建议双路由热备：两条物理分离的路由，故障时自动切换。", ()),
    ("competitor", "竞争对手专线促销（2026年）", None, "某运营商对新签三年期专线给予首年八折优惠，注意挽留。", ()),
)  # fmt: skip
SUBJECTS = {
    "complaint": ("月账单多收费用", "专线速率达不到签约带宽", "客服回复不及时", "套餐变更未生效"),
    "fault": ("专线中断", "专线丢包严重", "总机无法呼入", "IMS固话无拨号音"),
    "service_request": ("新增集团成员20人", "办理停机保号", "变更集团联系人"),
    "consultation": ("咨询5G专网资费", "咨询云视讯开通流程"),
}
REQUEST_TYPES = ("member_add", "suspension", "group_info")


def already_seeded() -> int:
    return Ticket.objects.count()


class DemoService:
    def __init__(self, *, seed: int = 2026, tickets: int = 60):
        self.random = random.Random(seed)
        self.count = tickets
        self.now = timezone.now()

    def run(self) -> dict:
        with transaction.atomic():
            self._queues()
            self._categories()
            self._articles()
            made = self._tickets()
        swept = sweep.sweep(now=self.now)
        return {"tickets": made, "breached": swept.breached, "articles": KbArticle.objects.count()}

    def _queues(self) -> None:
        password = make_password(settings.DEMO_PASSWORD)
        self.queues = {}
        for code, name, name_en, (manager_login, manager_name), (engineer_login, engineer_name) in QUEUES:
            queue, _ = Workstation.objects.get_or_create(code=code, defaults={"name": name, "name_en": name_en,
                                                                               "sort_order": 90})  # fmt: skip
            manager, _ = User.objects.get_or_create(username=manager_login, defaults={
                "display_name": manager_name, "role": Role.WORKSTATION_MANAGER, "workstation": queue,
                "password": password})  # fmt: skip
            User.objects.get_or_create(username=engineer_login, defaults={
                "display_name": engineer_name, "role": Role.WORKSTATION_EXECUTOR, "workstation": queue,
                "password": password})  # fmt: skip
            Workstation.objects.filter(pk=queue.pk, manager__isnull=True).update(manager=manager)
            self.queues[code] = queue

    def _categories(self) -> None:
        self.categories: dict[str, list[TicketCategory]] = {}
        self.by_name: dict[str, TicketCategory] = {}
        for order, (kind, name, name_en, queue, children) in enumerate(CATEGORIES):
            parent, _ = TicketCategory.objects.get_or_create(name=name, parent=None, defaults={
                "name_en": name_en, "kind": kind, "queue": self.queues.get(queue), "sort_order": order})  # fmt: skip
            for child_order, (child, child_en, child_queue) in enumerate(children):
                row, _ = TicketCategory.objects.get_or_create(name=child, parent=parent, defaults={
                    "name_en": child_en, "kind": kind, "queue": self.queues.get(child_queue),
                    "sort_order": child_order})  # fmt: skip
                self.categories.setdefault(kind, []).append(row)
                self.by_name[child] = row

    def _articles(self) -> None:
        for kind, title, category, body, steps in ARTICLES:
            article, made = KbArticle.objects.get_or_create(title=title, defaults={
                "kind": kind, "body": body, "category": self.by_name.get(category)})  # fmt: skip
            if made:
                KbScriptStep.objects.bulk_create(
                    KbScriptStep(article=article, sequence=n, question=q, answer=a) for n, (q, a) in enumerate(steps, 1)
                )

    def _tickets(self) -> int:
        agent = User.objects.filter(role=Role.AGENT).order_by("pk").first()
        if agent is None:
            return 0
        customers = list(Customer.objects.filter(is_demo=True, status=Customer.Status.ACTIVE)
                         .select_related("account_manager").order_by("pk")[:400])  # fmt: skip
        if not customers:
            return 0
        engineers = {code: User.objects.filter(workstation=queue, role=Role.WORKSTATION_EXECUTOR).first()
                     for code, queue in self.queues.items()}  # fmt: skip
        made = 0
        for _ in range(self.count):
            customer = self.random.choice(customers)
            kind = self.random.choices(list(SUBJECTS), weights=(4, 3, 2, 1))[0]
            contact = Contact.objects.filter(customer=customer).order_by("pk").first()
            subscription = (Subscription.objects.filter(customer=customer).order_by("pk").first()
                            if kind == "fault" else None)  # fmt: skip
            taken = self.now - dt.timedelta(hours=self.random.randint(1, 24 * 30))
            request_type = self.random.choice(REQUEST_TYPES) if kind == "service_request" else ""
            ticket = services.ticket_create(
                by=agent, customer=customer, kind=kind, subject=self.random.choice(SUBJECTS[kind]),
                category=self.random.choice(self.categories[kind]), contact=contact,
                caller_phone=contact.mobile if contact else "", subscription=subscription,
                request_type=request_type, request_data=self._request_data(request_type),
                description="热线来电", now=taken,
            )  # fmt: skip
            made += 1
            fate = self.random.random()
            if fate < 0.15:
                continue  # still new: nobody answered yet
            services.message_customer(ticket, by=agent, text="您好，已受理，我们会尽快处理。",
                                      now=taken + dt.timedelta(minutes=self.random.randint(5, 240)))  # fmt: skip
            queue = ticket.queue
            if queue is not None and engineers.get(queue.code):
                services.assign(ticket, by=agent, assignee=engineers[queue.code], queue=queue,
                                now=taken + dt.timedelta(hours=1))  # fmt: skip
            if fate < 0.5 or taken > self.now - dt.timedelta(hours=6):
                continue  # in progress
            worker = ticket.assignee or agent
            done = taken + dt.timedelta(hours=self.random.randint(2, 60))
            if services.needs_fault_report(ticket):
                services.fault_report_write(
                    ticket, by=worker, cause="光缆被施工挖断", impact="客户总部与分支机构间业务中断",
                    started_at=taken - dt.timedelta(minutes=30), restored_at=min(done, self.now),
                    fix="抢修熔接并切换备用路由", prevention="增加双路由保护", now=min(done, self.now),
                )  # fmt: skip
            services.resolve(Ticket.objects.get(pk=ticket.pk), by=worker, resolution="问题已处理完毕，感谢您的耐心。",
                             now=min(done, self.now))  # fmt: skip
        return made

    def _request_data(self, request_type: str) -> dict:
        if request_type == "member_add":
            return {
                "msisdns": [f"1395{self.random.randint(0, 9_999_999):07d}" for _ in range(self.random.randint(1, 5))]
            }
        if request_type == "group_info":
            return {"address": "宁波市鄞州区天童南路588号"}
        return {}


def seed(**options) -> dict:
    return DemoService(**options).run()
