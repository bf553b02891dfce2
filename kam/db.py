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
