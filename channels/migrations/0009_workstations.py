"""Provisioning reference data: the workstations and the 2026–2027 working calendar (channels.reference)."""

from django.db import migrations

from channels import reference


def load(apps, schema_editor):
    reference.load_workstations(apps, schema_editor)
    reference.load_calendar(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("channels", "0008_workstations_calendar")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
