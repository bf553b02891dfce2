"""Writes of the knowledge base: an article saved keeps what it said before as a version; feedback is one vote
per person, the article's counts recomputed from the votes (never drifting)."""

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from channels.models import User
from service.models import KbArticle, KbArticleVersion, KbFeedback


def article_save(article: KbArticle, *, by: User) -> KbArticle:
    """Save an article (new or changed). A change of its title or text keeps the previous ones as a version and
    moves the article's version on."""
    article.full_clean(exclude=["updated_by"])
    with transaction.atomic():
        if article.pk is not None:
            before = (
                KbArticle.objects.select_for_update().filter(pk=article.pk).values("title", "body", "version").first()
            )
            if before and (before["title"], before["body"]) != (article.title, article.body):
                KbArticleVersion.objects.create(
                    article=article, version=before["version"], title=before["title"], body=before["body"],
                    edited_by=by, edited_at=timezone.now(),
                )  # fmt: skip
                article.version = before["version"] + 1
        article.updated_by = by
        article.save()
    return article


def feedback(article: KbArticle, *, by: User, useful: bool) -> KbArticle:
    """ "Was this useful": the person's vote (a second vote replaces the first)."""
    with transaction.atomic():
        KbFeedback.objects.update_or_create(article=article, user=by, defaults={"useful": useful})
        counts = KbFeedback.objects.filter(article=article).aggregate(
            yes=Count("pk", filter=Q(useful=True)), no=Count("pk", filter=Q(useful=False))
        )
        KbArticle.objects.filter(pk=article.pk).update(useful=counts["yes"], not_useful=counts["no"])
        article.useful, article.not_useful = counts["yes"], counts["no"]
    return article
