"""Load the shipped abbreviation dictionary (customers.naming_data.ABBREVIATIONS) into NameAbbreviation.

Rows that already exist (a data steward may have edited them) are left alone, so the migration can be
re-applied safely; reversing it leaves the rows, which are data by then.
"""

from django.db import migrations

from customers.naming_data import ABBREVIATIONS


def load_abbreviations(apps, schema_editor):
    NameAbbreviation = apps.get_model("customers", "NameAbbreviation")
    existing = set(NameAbbreviation.objects.values_list("abbreviation", flat=True))
    NameAbbreviation.objects.bulk_create(
        NameAbbreviation(abbreviation=abbreviation, full_name=full_name, note=note)
        for abbreviation, full_name, note in ABBREVIATIONS
        if abbreviation not in existing
    )


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_reference_data")]

    operations = [migrations.RunPython(load_abbreviations, migrations.RunPython.noop)]
