import factory
from factory.django import DjangoModelFactory

from channels.models import ChannelType, Partner, Role
from opportunities import models
from tests.customers.factories import CustomerFactory, UserFactory


class PartnerFactory(DjangoModelFactory):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"杭州合作{n}通信服务有限公司")
    channel_type = factory.LazyFunction(lambda: ChannelType.objects.get(code="social_channel"))
    is_core = True
    region_code = "330100"
    industries = factory.LazyFunction(list)


class PhoneManagerFactory(UserFactory):
    role = Role.PHONE_ACCOUNT_MANAGER
    channel_type = factory.LazyFunction(lambda: ChannelType.objects.get(code="phone_account_manager"))


class OpportunityFactory(DjangoModelFactory):
    """A captured opportunity written directly (pending routing); flows go through opportunities.services."""

    class Meta:
        model = models.Opportunity
        skip_postgeneration_save = True

    kind = models.Kind.LEAD
    title = factory.Sequence(lambda n: f"专线需求{n}")
    customer = factory.SubFactory(CustomerFactory)
    captured_by = factory.SubFactory(UserFactory, role=Role.AGENT)
    routing_status = models.RoutingStatus.PENDING
    routing_requested_at = factory.LazyFunction(lambda: __import__("django.utils.timezone").utils.timezone.now())
