"""/api/v1/kb/articles/ (read-only): the knowledge base as the caller may see it, searchable with `q` (two
Chinese characters find an article that contains them anywhere), by kind and category."""

import django_filters
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers

from kam.api.errors import INVALID, NOT_FOUND
from kam.api.filters import IdFilter
from kam.api.viewsets import ScopedViewSet
from service import selectors
from service.models import KbArticle, KbScriptStep


class KbScriptStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = KbScriptStep
        fields = ["sequence", "question", "answer"]
        read_only_fields = fields


class KbArticleSerializer(serializers.ModelSerializer):
    steps = KbScriptStepSerializer(many=True, read_only=True)

    class Meta:
        model = KbArticle
        fields = ["id", "title", "kind", "category", "body", "version", "updated_at", "useful", "not_useful", "steps"]
        read_only_fields = fields


class KbArticleFilterSet(filters.FilterSet):
    q = django_filters.CharFilter(method="search", max_length=selectors.MAX_QUERY,
                                  label=gettext_lazy("Words in the title, the text or a script step"))  # fmt: skip
    kind = django_filters.ChoiceFilter(choices=KbArticle.Kind.choices, label=gettext_lazy("Kind"))
    category = IdFilter(field_name="category_id", label=gettext_lazy("Category id"))

    class Meta:
        model = KbArticle
        fields = ["q", "kind", "category"]

    def search(self, queryset, name, value):
        return selectors.kb_text_match(queryset, value)


@extend_schema_view(
    list=extend_schema(summary="Search the knowledge base", responses={200: KbArticleSerializer(many=True), **INVALID}),
    retrieve=extend_schema(summary="Get an article", responses={200: KbArticleSerializer, **NOT_FOUND}),
)
class KbArticleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = KbArticle.objects.none()
    serializer_class = KbArticleSerializer
    filterset_class = KbArticleFilterSet

    def get_queryset(self):
        return KbArticle.objects.visible_to(self.request.user).prefetch_related("steps").order_by("-updated_at", "-id")
