"""Small database helpers shared by the apps."""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models


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


def numbered_code(prefix: str):
    """The expression for a record's number: `prefix` + its id padded to 8 digits (KA00000042, OP00000042).
    Written with an UPDATE right after the insert, so the number always matches the id."""
    from django.db.models.functions import Cast, Concat, LPad

    return Concat(
        models.Value(prefix),
        LPad(Cast("id", models.CharField()), 8, models.Value("0")),
        output_field=models.CharField(),
    )
