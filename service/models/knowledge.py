"""The knowledge base (seed 000 I.5 G, items 17–18; seed 003 C3: scripts that guide the agent): articles on
tariffs, promotions, technical solutions, cases, industry news and competitors, and answer scripts made of
question/answer steps. Articles belong to a ticket category (suggested on tickets of that category and below),
are visible to the roles they name (none: all staff), keep every published version, and collect "was this
useful" votes — one per person."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from channels.models import Role
from kam.db import LONG_TEXT, ScopedQuerySet
from service.models.sla import ChoicesList
from service.models.tickets import TicketCategory

__all__ = ["KbArticle", "KbArticleVersion", "KbScriptStep", "KbFeedback"]

ARTICLE_TEXT = 20_000  # an article's body: a few pages of text, bounded


class KbArticleQuerySet(ScopedQuerySet):
    def scope(self, user):
        """Published articles for the roles they name (none named: every member of staff); admins see drafts.
        The role is matched in the list's JSON text (quoted, so "account_manager" is not found inside
        "phone_account_manager"): the same filter on PostgreSQL and SQLite."""
        if user.is_admin_role:
            return self.all()
        return self.filter(is_published=True).filter(models.Q(roles=[]) | models.Q(roles__icontains=f'"{user.role}"'))


class KbArticle(models.Model):
    class Kind(models.TextChoices):
        TARIFF = "tariff", _("Tariff")
        PROMOTION = "promotion", _("Promotion")
        SOLUTION = "solution", _("Technical solution")
        CASE = "case", pgettext_lazy("knowledge base", "Case")
        NEWS = "news", _("Industry news")
        COMPETITOR = "competitor", _("Competitor information")
        SCRIPT = "script", _("Answer script")

    title = models.CharField(pgettext_lazy("heading", "title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    category = models.ForeignKey(
        TicketCategory, on_delete=models.SET_NULL, null=True, blank=True, related_name="articles",
        verbose_name=_("category"), help_text=_("Suggested on tickets of this category and the ones below it."),
    )  # fmt: skip
    body = models.TextField(_("text"), max_length=ARTICLE_TEXT)
    roles = models.JSONField(
        _("visible to roles"), default=list, blank=True, validators=[ChoicesList(Role.values)],
        help_text=_("Empty: every member of staff."),
    )  # fmt: skip
    is_published = models.BooleanField(_("published"), default=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("updated by"),
    )  # fmt: skip
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    useful = models.PositiveIntegerField(_("useful"), default=0, editable=False)
    not_useful = models.PositiveIntegerField(_("not useful"), default=0, editable=False)

    objects = KbArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("knowledge article")
        verbose_name_plural = _("knowledge articles")
        indexes = [models.Index(fields=["category", "is_published"], name="kb_article_category")]

    def __str__(self):
        return self.title


class KbArticleVersion(models.Model):
    """What an article said before a change: the text, who changed it and when."""

    article = models.ForeignKey(KbArticle, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField(_("version"))
    title = models.CharField(pgettext_lazy("heading", "title"), max_length=200)
    body = models.TextField(_("text"), max_length=ARTICLE_TEXT)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("by"),
    )  # fmt: skip
    edited_at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["article", "-version"]
        verbose_name = _("knowledge article version")
        verbose_name_plural = _("knowledge article versions")
        constraints = [models.UniqueConstraint(fields=["article", "version"], name="kb_version_unique")]

    def __str__(self):
        return f"{self.article} v{self.version}"


class KbScriptStep(models.Model):
    """One step of an answer script: what to ask (or check), and what to say."""

    article = models.ForeignKey(KbArticle, on_delete=models.CASCADE, related_name="steps")
    sequence = models.PositiveSmallIntegerField(_("sequence"))
    question = models.CharField(_("question"), max_length=300)
    answer = models.TextField(_("answer"), max_length=LONG_TEXT)

    class Meta:
        ordering = ["article", "sequence"]
        verbose_name = _("script step")
        verbose_name_plural = _("script steps")

    def __str__(self):
        return f"{self.article} {self.sequence}"


class KbFeedback(models.Model):
    article = models.ForeignKey(KbArticle, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    useful = models.BooleanField(_("useful"))
    at = models.DateTimeField(_("at"), auto_now=True)

    class Meta:
        verbose_name = _("article feedback")
        verbose_name_plural = _("article feedback")
        constraints = [models.UniqueConstraint(fields=["article", "user"], name="kb_feedback_once")]

    def __str__(self):
        return f"{self.article} {self.useful}"
