"""Small database helpers shared by the apps."""

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import EmptyResultSet
from django.db import models
from django.db.models.functions import Upper
from django.db.models.lookups import IContains, Lookup

# The longest free text any field takes (notes, descriptions, strategy fields): a page of text. Model
# TextFields carry it as max_length (forms and admin enforce it), the API's optional_text() by default.
LONG_TEXT = 2000


class TrigramIndex(GinIndex):
    """A pg_trgm GIN index on PostgreSQL; a plain expression index on SQLite (the zero-setup default),
    where GIN and operator classes do not exist."""

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor == "postgresql":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        expressions = [e.get_source_expressions()[0] if isinstance(e, OpClass) else e for e in self.expressions]
        return models.Index(*expressions, name=self.name).create_sql(model, schema_editor, **kwargs)


def trigram(expression, *, name: str) -> TrigramIndex:
    return TrigramIndex(OpClass(expression, name="gin_trgm_ops"), name=name)


class Bigrams(models.Func):
    """The character bigrams of a text, as text[] (SQL function kam_bigrams, created on PostgreSQL by
    customers migration 0012): 中国银行 -> {中国,国银,银行}. Trigrams serve words of 3+ characters; most
    Chinese search words have 2, and a GIN index over the bigrams finds them anywhere in a name."""

    function = "kam_bigrams"
    output_field = ArrayField(models.TextField())


class BigramIndex(GinIndex):
    """A GIN index over kam_bigrams(UPPER(column)) on PostgreSQL; on SQLite (no GIN, no kam_bigrams) a
    plain index on UPPER(column), as TrigramIndex does: searches there are a plain LIKE."""

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor == "postgresql":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        expressions = [e.get_source_expressions()[0] if isinstance(e, Bigrams) else e for e in self.expressions]
        return models.Index(*expressions, name=self.name).create_sql(model, schema_editor, **kwargs)


def bigram(field: str, *, name: str) -> BigramIndex:
    """The index BigramContains(F(field), word) uses."""
    return BigramIndex(Bigrams(Upper(field)), name=name)


def contains_word(fields: list[str], word: str, *, extra: models.Q | None = None) -> models.Q:
    """Rows where one of `fields` contains the 2-character `word` (case-insensitive), or `extra` holds,
    written for both of PostgreSQL's ways of answering it:

        (f1 icontains OR f2 icontains OR extra) AND (f1 bigrams OR f2 bigrams OR extra)

    A bitmap scan of the bigram indexes answers the second part from the index (@> on arrays is exact)
    and filters with the cheap LIKE. A scan newest first, the plan for a common word (有限: 86% of
    names), filters with the LIKE first and calls the bigram function (~5 µs a call) only on the rows
    that passed it. With the bigram part alone it would call the function on every row it passes; with
    the LIKE alone a rare word would read the whole table. The price: the planner multiplies the two
    parts' selectivities and expects fewer rows than there are (服务, in 5,900 of 100,000 names: 630),
    which leans it towards the index."""
    like, bigrams = models.Q(), models.Q()
    for field in fields:
        like |= models.Q(**{f"{field}__icontains": word})
        bigrams |= models.Q(BigramContains(models.F(field), word))
    if extra:
        like, bigrams = like | extra, bigrams | extra
    return like & bigrams


class BigramContains(Lookup):
    """`lhs` contains the 2-character `word` anywhere, case-insensitively. On PostgreSQL it compiles to
    `kam_bigrams(UPPER(lhs)) @> ARRAY[UPPER(word)]`, the expression of bigram(...) indexes; elsewhere
    to icontains (SQLite: a LIKE over the whole table, fine for the zero-setup default's small data).
    A lookup is an expression: filter(BigramContains(F("name"), "银行")) or combine it with Q()."""

    lookup_name = "bigram_contains"

    def __init__(self, lhs, rhs):
        self.word = rhs
        super().__init__(lhs, rhs)

    def as_sql(self, compiler, connection):
        return compiler.compile(IContains(self.lhs, self.word))

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = compiler.compile(Bigrams(Upper(self.lhs)))
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} @> ARRAY[UPPER({rhs})]", (*lhs_params, *rhs_params)


def key_then_id(expression, *, descending: bool) -> tuple:
    """ORDER BY a sort key, then the id in the same direction: an index on (key, id) is read as it lies,
    forwards or backwards, and pages stay stable when keys tie (list pages and the API's keyset alike)."""
    if descending:
        return (expression.desc(), models.F("id").desc())
    return (expression.asc(), models.F("id").asc())


def numbered_code(prefix: str):
    """The expression for a record's number: `prefix` + its id padded to 8 digits (KA00000042, OP00000042).
    Written with an UPDATE right after the insert, so the number always matches the id."""
    from django.db.models.functions import Cast, Concat, LPad

    return Concat(
        models.Value(prefix),
        LPad(Cast("id", models.CharField()), 8, models.Value("0")),
        output_field=models.CharField(),
    )


class ScopedQuerySet(models.QuerySet):
    """The base of every queryset whose rows not everyone may see (NetBox's restricted queryset).

    `visible_to(user)` is the one choke point per model: a subclass says who sees what in `scope(user)`;
    a signed-out or deactivated user sees nothing. The result is marked with the reader, and the mark
    survives chaining (filter, annotate, values, none), so `kam.api.viewsets.ScopedViewSet` can refuse a
    queryset that never went through `visible_to` instead of a reviewer having to notice it."""

    _scoped_for = None  # the pk of the user this queryset was scoped for

    def visible_to(self, user):
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            scoped = self.none()
        else:
            scoped = self.scope(user)
        scoped._scoped_for = user.pk
        return scoped

    def scope(self, user):
        """The rows `user` (signed in, active) may see. Subclasses say who sees what; until one does, nobody
        sees anything (a model that forgot its rule leaks nothing)."""
        return self.none()

    def is_scoped_for(self, user) -> bool:
        return self._scoped_for is not None and self._scoped_for == user.pk

    def _clone(self):
        clone = super()._clone()
        clone._scoped_for = self._scoped_for
        return clone


class VisibleToAllQuerySet(ScopedQuerySet):
    """Reference data every signed-in user reads (the product catalogue, routing rules behind their own
    role check): scoping is explicit even when it lets everything through."""

    def scope(self, user):
        return self.all()


@models.Field.register_lookup
class AnyOf(models.Lookup):
    """`field__any_of=[ids]`: membership in a list of values passed as ONE array parameter on PostgreSQL
    (`field = ANY(%s)`), where `__in` writes one placeholder per value. For the visibility lists (a supervisor's
    portfolio holds thousands of ids, used by several queries per request) that keeps SQL text, parsing and
    parameter binding constant in the list's length. Other databases get the plain IN list."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, list(self.rhs))

    def as_sql(self, compiler, connection):
        values = list(self.rhs)
        if not values:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", (*lhs_params, *values)


models.ForeignObject.register_lookup(AnyOf)  # related fields keep their own lookup table
