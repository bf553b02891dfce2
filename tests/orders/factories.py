from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from orders.models import Product


class ProductFactory(DjangoModelFactory):
    """A catalogue product. The migration already loads the real catalogue (orders.reference); codes here
    start with T so they never collide with it. Use Product.objects.get(code="INET") for a real product."""

    class Meta:
        model = Product
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"T{n:04d}")
    name = factory.Sequence(lambda n: f"测试产品{n}")
    name_en = factory.Sequence(lambda n: f"Test product {n}")
    category = "语音"
    provisioning_type = Product.Provisioning.BOSS_DIRECT
    billing_unit = "按成员"
    list_price_min = Decimal("10")
    list_price_max = Decimal("50")
    sla_class_default = "standard"
    sort_order = factory.Sequence(lambda n: 1000 + n)


class AgreementTemplateFactory(DjangoModelFactory):
    class Meta:
        model = "orders.AgreementTemplate"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"tpl-{n}")
    name = factory.Sequence(lambda n: f"专线标准协议{n}")
    name_en = factory.Sequence(lambda n: f"Leased line standard {n}")
    default_term_months = 24
    default_discount_cap = Decimal("10")
    default_sla_class = "AA"


class AgreementFactory(DjangoModelFactory):
    """A draft agreement written directly; tests of the rules go through orders.services.agreements."""

    class Meta:
        model = "orders.Agreement"

    customer = factory.SubFactory("tests.customers.factories.CustomerFactory")
    title = factory.Sequence(lambda n: f"测试协议{n}")
    created_by = factory.SelfAttribute("customer.account_manager")
    discount_cap = Decimal("10")


class ResourceFactory(DjangoModelFactory):
    """A free inventory row (circuit id by default) in Hangzhou, the region of tests' customers."""

    class Meta:
        model = "orders.Resource"

    kind = "circuit"
    identifier = factory.Sequence(lambda n: f"HZ-CIR-{n:06d}")
    region_code = "330100"
    status = "free"


class SubscriptionFactory(DjangoModelFactory):
    """A live subscription written directly (the flow through orders is orders.services.installed.apply_line)."""

    class Meta:
        model = "orders.Subscription"

    customer = factory.SubFactory("tests.customers.factories.CustomerFactory")
    product = factory.LazyFunction(lambda: Product.objects.get(code="INET"))
    service_id = factory.Sequence(lambda n: f"SVT{n:07d}")
    bandwidth_mbps = 100
    monthly_price = Decimal("3000.00")
    sla_class = "A"


class WorkstationFactory(DjangoModelFactory):
    """A provisioning workstation (工位); codes start with t- so they never collide with the reference rows."""

    class Meta:
        model = "channels.Workstation"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"t-ws-{n}")
    name = factory.Sequence(lambda n: f"测试工位{n}")
    name_en = factory.Sequence(lambda n: f"Test workstation {n}")


class StepTemplateFactory(DjangoModelFactory):
    class Meta:
        model = "orders.StepTemplate"

    product = factory.SubFactory(ProductFactory, provisioning_type=Product.Provisioning.WORK_ORDER)
    sequence = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"步骤{n}")
    name_en = factory.Sequence(lambda n: f"Step {n}")
    workstation = factory.SubFactory(WorkstationFactory)
    duration_hours = 8


class ProvisioningOrderFactory(DjangoModelFactory):
    """A submitted order waiting for provisioning (the customer and the person who entered it are required)."""

    class Meta:
        model = "orders.Order"

    status = "submitted"
    created_by = factory.LazyAttribute(lambda o: o.customer.account_manager)


class ProvisioningLineFactory(DjangoModelFactory):
    class Meta:
        model = "orders.OrderLine"

    product = factory.SubFactory(ProductFactory)
    quantity = 1
    unit_price = Decimal("1000")
