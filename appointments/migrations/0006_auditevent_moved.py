"""The audit trail now belongs to departments (departments.0002 takes over the same table)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("appointments", "0005_appointment_cancel_reason_code"), ("departments", "0002_auditevent")]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="AuditEvent")], database_operations=[]),
    ]
