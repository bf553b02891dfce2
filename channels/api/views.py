"""Notifications API: the caller's own in-app notifications, and marking them read. Nobody lists anyone
else's: the queryset is the caller's inbox, so another person's notification id is a 404."""

from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from channels.api.filters import NotificationFilterSet
from channels.api.serializers import MarkReadSerializer, NotificationSerializer
from channels.models import Notification
from channels.notifications import mark_read
from kam.api.viewsets import ScopedViewSet


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
