from django.db import migrations

from customers import reference


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(reference.load, migrations.RunPython.noop)]
