"""The base of every API viewset.

`ScopedViewSet.get_queryset` returns `queryset.visible_to(request.user)`; a subclass that builds its own
queryset (select_related, a selector) still has to end in `visible_to`: whatever its `get_queryset`
returns is checked, and a queryset that was never scoped for the caller raises ImproperlyConfigured
(a test run finds it, not a leak in production). `validated()` runs an input serializer and returns its
data (400 with field messages otherwise)."""

import functools

from django.core.exceptions import ImproperlyConfigured
from rest_framework import viewsets

from kam.api.permissions import PERMISSIONS


def validated(serializer_class, request, *, data=None, partial: bool = False) -> dict:
    serializer = serializer_class(
        data=request.data if data is None else data, partial=partial, context={"request": request}
    )
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _checked(get_queryset):
    @functools.wraps(get_queryset)
    def scoped_get_queryset(self):
        queryset = get_queryset(self)
        if getattr(self, "swagger_fake_view", False):
            return queryset
        is_scoped = getattr(queryset, "is_scoped_for", None)
        if is_scoped is None or not is_scoped(self.request.user):
            raise ImproperlyConfigured(
                f"{type(self).__name__}.get_queryset must return a queryset scoped by visible_to(request.user)"
            )
        return queryset

    return scoped_get_queryset


class ScopedViewSet(viewsets.GenericViewSet):
    permission_classes = PERMISSIONS

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            cls.get_queryset = _checked(cls.__dict__["get_queryset"])

    def get_queryset(self):
        # `queryset` on the class may be `Model.objects.none()` (it types the schema): start from the model.
        return self.queryset.model._default_manager.visible_to(self.request.user)


ScopedViewSet.get_queryset = _checked(ScopedViewSet.get_queryset)
