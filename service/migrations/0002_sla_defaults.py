"""The shipped SLA policies (service.reference, DOMAIN.md §5.2)."""

from django.db import migrations

from service.reference import load


class Migration(migrations.Migration):
    dependencies = [("service", "0001_tickets_sla")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
