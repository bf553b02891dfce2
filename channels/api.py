"""Notifications API: the caller's own in-app notifications, and marking them read. Nobody lists anyone
else's: the queryset is the caller's inbox, so another person's notification id is a 404."""

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from channels.models import Notification
from channels.notifications import mark_read
from kam.api.viewsets import ScopedViewSet


class NotificationSerializer(serializers.ModelSerializer):
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "link", "urgent", "created_at", "read_at", "is_read"]
        read_only_fields = fields

    def get_is_read(self, obj) -> bool:
        return obj.read_at is not None


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=500,
        help_text=_("Only these notifications; leave out to mark all of yours read."),
    )  # fmt: skip


class NotificationFilterSet(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull", label=_("Unread only"))

    class Meta:
        model = Notification
        fields = ["unread", "kind"]


@extend_schema_view(
    list=extend_schema(summary="My notifications", description="Newest first; `unread=true` for the unread ones."),
    retrieve=extend_schema(summary="Get one of my notifications"),
)
class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = Notification.objects.none()  # types the schema; get_queryset is the caller's inbox
    serializer_class = NotificationSerializer
    permission_classes = [IsAuthenticated]  # analysts too mark their own notifications read
    filterset_class = NotificationFilterSet

    def get_queryset(self):
        return Notification.objects.visible_to(self.request.user)

    @extend_schema(
        summary="Mark my notifications read",
        request=MarkReadSerializer,
        responses=inline_serializer("MarkReadResult", {"marked": serializers.IntegerField()}),
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def read(self, request):
        serializer = MarkReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response({"marked": mark_read(request.user, serializer.validated_data.get("ids"))})
