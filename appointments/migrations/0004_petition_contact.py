"""A petition keeps the name and mobile given when it was filed."""

from django.db import migrations, models


def copy_contact(apps, schema_editor):
    Petition = apps.get_model("appointments", "Petition")
    for petition in Petition.objects.select_related("resident").only("pk", "resident__name", "resident__phone"):
        Petition.objects.filter(pk=petition.pk).update(
            contact_name=petition.resident.name, contact_phone=petition.resident.phone
        )


class Migration(migrations.Migration):
    dependencies = [("appointments", "0003_video_sessions")]

    operations = [
        migrations.AddField(
            model_name="petition",
            name="contact_name",
            field=models.CharField(default="", editable=False, max_length=50, verbose_name="name as given"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="petition",
            name="contact_phone",
            field=models.CharField(default="", editable=False, max_length=20, verbose_name="mobile as given"),
            preserve_default=False,
        ),
        migrations.RunPython(copy_contact, migrations.RunPython.noop),
    ]
