from django.db import migrations

from orders import reference


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [migrations.RunPython(reference.load, migrations.RunPython.noop)]
