"""The API base viewset makes scoping impossible to forget: every viewset of the API is a ScopedViewSet, and
one whose queryset never went through visible_to fails loudly instead of answering with other people's rows."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import get_resolver
from rest_framework import mixins
from rest_framework.test import APIRequestFactory, force_authenticate

from customers.api.serializers import ContactSerializer
from customers.models import Contact, Customer
from kam.api.viewsets import ScopedViewSet
from tests.customers.factories import ContactFactory, CustomerFactory


def api_viewsets() -> set[type]:
    found = set()

    def walk(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns)
            elif hasattr(pattern.callback, "cls"):
                found.add(pattern.callback.cls)

    for prefix in get_resolver().url_patterns:
        if str(prefix.pattern).startswith("api/v1/"):
            walk(prefix.url_patterns)
    # Views over rows (a queryset); the schema, docs and token views have none.
    return {cls for cls in found if getattr(cls, "queryset", None) is not None}


def test_every_api_viewset_over_rows_is_a_scoped_viewset():
    viewsets = api_viewsets()
    assert len(viewsets) >= 10  # customers, contacts, visits, spend, members, tiers, segments, opportunities…
    assert not [cls.__name__ for cls in viewsets if not issubclass(cls, ScopedViewSet)]


class ForgetfulContactViewSet(mixins.ListModelMixin, ScopedViewSet):
    """What a new endpoint's author might write: every contact, unscoped."""

    queryset = Contact.objects.none()
    serializer_class = ContactSerializer

    def get_queryset(self):
        return Contact.objects.select_related("customer")


class CarefulContactViewSet(ForgetfulContactViewSet):
    def get_queryset(self):
        return Contact.objects.visible_to(self.request.user).select_related("customer")


@pytest.mark.django_db
def test_a_viewset_that_forgets_visible_to_fails_instead_of_leaking(am, outsider):
    ContactFactory(customer=CustomerFactory(account_manager=outsider))
    request = APIRequestFactory().get("/api/v1/contacts/")
    force_authenticate(request, user=am)

    with pytest.raises(ImproperlyConfigured, match="visible_to"):
        ForgetfulContactViewSet.as_view({"get": "list"})(request)
    request = APIRequestFactory().get("/api/v1/contacts/")
    force_authenticate(request, user=am)
    assert CarefulContactViewSet.as_view({"get": "list"})(request).data["results"] == []
    assert Customer.objects.count() == 1
