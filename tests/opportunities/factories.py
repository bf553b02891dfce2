import factory
from factory.django import DjangoModelFactory

from channels.models import Role
from opportunities import models
from tests.channels.factories import UserFactory
from tests.customers.factories import CustomerFactory


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
