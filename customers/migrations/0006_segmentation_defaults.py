from django.db import migrations

from customers import reference


class Migration(migrations.Migration):
    dependencies = [("customers", "0005_segmentation")]

    operations = [migrations.RunPython(reference.load_segmentation_defaults, migrations.RunPython.noop)]
