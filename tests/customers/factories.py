import datetime
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from customers import models
from customers.identifiers import make_credit_code
from tests.channels.factories import UserFactory


class CustomerFactory(DjangoModelFactory):
    """Writes through the model directly; tests of the create flow use customers.services."""

    class Meta:
        model = models.Customer
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"浙江测试{n:05d}科技有限公司")
    status = models.Customer.Status.ACTIVE
    tier = models.Tier.C
    region_id = "330100"
    industry_id = "I"

    @factory.post_generation
    def keys(obj, create, extracted, **kwargs):
        """Fill the matching keys and the code the way customers.services does."""
        if create:
            from customers.services import customer_refresh_keys

            customer_refresh_keys(customer=obj)


def credit_code(n: int, region: str = "330100") -> str:
    return make_credit_code(authority="91", region_code=region, body8=f"MA{n:06d}")


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = models.Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Faker("name", locale="zh_CN")
    title = "信息中心主任"
    mobile = factory.Sequence(lambda n: f"1380000{n:04d}")
    mobile_digits = factory.LazyAttribute(lambda o: o.mobile)


class SpendFactory(DjangoModelFactory):
    class Meta:
        model = models.SpendRecord

    customer = factory.SubFactory(CustomerFactory)
    month = datetime.date(2026, 10, 1)
    category = models.SpendCategory.VOICE
    amount = Decimal("1000.00")


class MemberFactory(DjangoModelFactory):
    class Meta:
        model = models.GroupMember

    customer = factory.SubFactory(CustomerFactory)
    msisdn = factory.Sequence(lambda n: f"1390000{n:04d}")
    joined_on = datetime.date(2025, 1, 1)


class VisitFactory(DjangoModelFactory):
    class Meta:
        model = models.Visit

    customer = factory.SubFactory(CustomerFactory)
    visited_on = datetime.date(2026, 11, 1)
    purpose = "季度拜访"
    visited_by = factory.SubFactory(UserFactory)
