"""Provisioning reference data: the work-order steps of every product (orders.reference_provisioning)."""

from django.db import migrations

from orders.reference_provisioning import load_step_templates


def load(apps, schema_editor):
    load_step_templates(
        apps.get_model("orders", "Product"), apps.get_model("orders", "StepTemplate"),
        apps.get_model("channels", "Workstation"),
    )  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [("orders", "0004_installed_resource_needs"), ("channels", "0009_workstations")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
