from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from channels.models import Notification
from kam.api.fields import id_field


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
        child=id_field(), required=False, max_length=500,
        help_text=_("Only these notifications; leave out to mark all of yours read."),
    )  # fmt: skip
