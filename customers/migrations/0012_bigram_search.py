# 2-character search anywhere in a name: a function returning the character bigrams of a text and GIN
# indexes over it (see kam.db.Bigrams, BigramContains). PostgreSQL only; SQLite searches with a plain LIKE.

import django.db.models.functions.text
from django.conf import settings
from django.db import migrations

import kam.db

# PL/pgSQL: about a third faster than the SQL form (SELECT ARRAY(SELECT substr(...) FROM generate_series(...))),
# measured over 30,000 names; still ~5 µs a call against ~1 µs for a LIKE, so searches never filter rows
# with it alone (kam.db.contains_word: a LIKE first, the function only on the rows that passed it; a bitmap
# scan of its index does not call it at all). No DISTINCT: the GIN index keeps each key once per row anyway,
# and @> does not mind repeats. IMMUTABLE (a pure function of its argument) so it can be indexed, PARALLEL
# SAFE, STRICT: NULL in, NULL out. Only built-ins inside, so a restricted search_path (restore, maintenance)
# finds them. COST 10: above a LIKE's, so a filter always tests the LIKE first; at 100 (the default) and
# 1000 the planner over-priced scans newest first and chose parallel plans, 3-5x slower at 100,000 customers
# on the 2-core machine (服务: 1.9 ms serial, 11-12 ms parallel).
CREATE_BIGRAMS = """
CREATE OR REPLACE FUNCTION kam_bigrams(value text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 10
AS $$
DECLARE
    bigrams text[] := '{}';
BEGIN
    FOR i IN 1 .. char_length(value) - 1 LOOP
        bigrams := bigrams || substr(value, i, 2);
    END LOOP;
    RETURN bigrams;
END
$$
"""
DROP_BIGRAMS = "DROP FUNCTION IF EXISTS kam_bigrams(text)"


def create_bigrams(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_BIGRAMS)


def drop_bigrams(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_BIGRAMS)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0011_member_counts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(create_bigrams, drop_bigrams, elidable=False),
        migrations.AddIndex(
            model_name="customer",
            index=kam.db.BigramIndex(
                kam.db.Bigrams(django.db.models.functions.text.Upper("name")), name="cust_name_bigram"
            ),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=kam.db.BigramIndex(
                kam.db.Bigrams(django.db.models.functions.text.Upper("short_name")), name="cust_short_name_bigram"
            ),
        ),
        migrations.AddIndex(
            model_name="customeralias",
            index=kam.db.BigramIndex(
                kam.db.Bigrams(django.db.models.functions.text.Upper("name")), name="alias_name_bigram"
            ),
        ),
    ]
