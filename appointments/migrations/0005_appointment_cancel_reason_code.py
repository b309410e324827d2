"""A cancelled appointment records why as a code: at the resident's request, rescheduled, or the time withdrawn."""

from django.db import migrations, models
from django.db.models import Q


def backfill(apps, schema_editor):
    Appointment = apps.get_model("appointments", "Appointment")
    cancelled = Appointment.objects.filter(status="cancelled")
    replaced = Appointment.objects.filter(rescheduled_from__isnull=False).values("rescheduled_from")
    cancelled.filter(Q(pk__in=replaced) | Q(cancel_reason="rescheduled")).update(
        cancel_reason_code="rescheduled", cancel_reason=""
    )
    cancelled.filter(cancel_reason_code="", slot__status="withdrawn").update(cancel_reason_code="slot_withdrawn")
    cancelled.filter(cancel_reason_code="", cancel_reason="cancelled by resident").update(
        cancel_reason_code="cancelled_by_resident", cancel_reason=""
    )
    cancelled.filter(cancel_reason_code="").update(cancel_reason_code="cancelled_by_resident")


class Migration(migrations.Migration):
    dependencies = [("appointments", "0004_petition_contact"), ("scheduler", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="appointment",
            name="cancel_reason_code",
            field=models.CharField(
                blank=True,
                choices=[
                    ("cancelled_by_resident", "Cancelled at the resident's request"),
                    ("rescheduled", "Moved to another time"),
                    ("slot_withdrawn", "The department withdrew this consultation time"),
                ],
                max_length=30,
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="appointment",
            constraint=models.CheckConstraint(
                condition=(
                    Q(status="cancelled")
                    & Q(cancel_reason_code__in=["cancelled_by_resident", "rescheduled", "slot_withdrawn"])
                )
                | (~Q(status="cancelled") & Q(cancel_reason_code="")),
                name="appointment_cancel_reason_code_valid",
            ),
        ),
    ]
