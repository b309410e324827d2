from django.db import migrations

from appointments.taxonomy import categories_install



def seed(apps, schema_editor):
    categories_install(apps.get_model("appointments", "PetitionCategory"))


class Migration(migrations.Migration):
    dependencies = [("appointments", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
