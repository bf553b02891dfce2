from django.db import migrations

from channels import reference


class Migration(migrations.Migration):
    dependencies = [("channels", "0002_initial")]

    operations = [migrations.RunPython(reference.load, migrations.RunPython.noop)]
