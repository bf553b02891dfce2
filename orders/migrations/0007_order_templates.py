"""Order templates, lead times and accepting channels of the shipped catalogue (orders.reference_templates)."""

from django.db import migrations

from orders import reference_templates


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0008_workstations_calendar"),
        ("orders", "0006_provisioning_sla"),
    ]

    operations = [migrations.RunPython(reference_templates.load, reference_templates.unload)]
