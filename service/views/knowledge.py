"""Knowledge-base pages: search (a two-character query finds it anywhere), an article with its script steps and
versions, and the "was this useful" vote. Articles are written in the admin (versions kept by the service)."""

from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from kam.pagination import page_of
from service import selectors
from service.models import KbArticle
from service.services import knowledge as services


@require_GET
def kb_list(request):
    q = request.GET.get("q", "")[: selectors.MAX_QUERY]
    kind = request.GET.get("kind", "")
    kind = kind if kind in KbArticle.Kind.values else ""
    rows = selectors.kb_search(request.user, q=q, kind=kind)
    paginator, page, message = page_of(request, rows, 25)
    return render(request, "service/kb_list.html", {
        "page": page or paginator.page(1), "page_error": message, "q": q, "kind": kind,
        "kinds": KbArticle.Kind.choices,
    })  # fmt: skip


def _article(user, pk: int) -> KbArticle:
    article = KbArticle.objects.visible_to(user).filter(pk=pk).select_related("category", "updated_by").first()
    if article is None:
        raise Http404
    return article


@require_GET
def kb_detail(request, pk: int):
    article = _article(request.user, pk)
    return render(request, "service/kb_detail.html", {
        "article": article, "steps": list(article.steps.order_by("sequence")),
        "versions": list(article.versions.select_related("edited_by").order_by("-version")[:20]),
    })  # fmt: skip


@require_POST
def kb_feedback(request, pk: int):
    article = _article(request.user, pk)
    services.feedback(article, by=request.user, useful=request.POST.get("useful") == "yes")
    return redirect("service:kb-detail", pk=article.pk)
