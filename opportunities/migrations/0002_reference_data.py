from django.db import migrations

from opportunities import reference


class Migration(migrations.Migration):
    dependencies = [("opportunities", "0001_initial")]

    operations = [migrations.RunPython(reference.load, migrations.RunPython.noop)]
