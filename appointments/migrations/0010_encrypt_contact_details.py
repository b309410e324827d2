"""Encrypt residents' names and mobiles (and the SMS outbox's numbers) like their ID numbers, with keyed hashes.

The columns first become plain text wide enough for ciphertext; the rows are then encrypted in batches, the ID
number's hash is recomputed under the derived lookup key, and only then do the fields become encrypted fields.
"""

import hashlib
import hmac

from django.conf import settings
from django.db import migrations, models

import appointments.fields

BATCH = 500


def _batches(queryset):
    last = 0
    while True:
        rows = list(queryset.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not rows:
            return
        yield rows
        last = rows[-1].pk


def _sealed(value: str) -> str:
    from appointments import identity

    if not value:
        return value
    try:
        identity.decrypt_strict(value)
    except identity.UndecryptableValue:
        return identity.encrypt(value)
    return value  # already encrypted (a rerun after a partial one)


def _opened(value: str) -> str:
    from appointments import identity

    return identity.decrypt(value) if value else value


def encrypt_rows(apps, schema_editor):
    from appointments import identity

    Resident = apps.get_model("appointments", "Resident")
    Petition = apps.get_model("appointments", "Petition")
    OutboxMessage = apps.get_model("appointments", "OutboxMessage")
    for rows in _batches(Resident.objects.all()):
        for row in rows:
            name, phone = _opened(_sealed(row.name)), _opened(_sealed(row.phone))
            id_number = identity.decrypt(row.id_number_encrypted) if row.id_number_encrypted else ""
            Resident.objects.filter(pk=row.pk).update(
                name=_sealed(row.name),
                phone=_sealed(row.phone),
                name_tags=identity.name_tags(name),
                phone_hash=identity.phone_hash(phone),
                id_number_hash=identity.lookup_hash(id_number) if id_number else row.id_number_hash,
            )
    for rows in _batches(Petition.objects.all()):
        for row in rows:
            name, phone = _opened(_sealed(row.contact_name)), _opened(_sealed(row.contact_phone))
            Petition.objects.filter(pk=row.pk).update(
                contact_name=_sealed(row.contact_name),
                contact_phone=_sealed(row.contact_phone),
                contact_name_tags=identity.name_tags(name),
                contact_phone_hash=identity.phone_hash(phone),
            )
    for rows in _batches(OutboxMessage.objects.all()):
        for row in rows:
            OutboxMessage.objects.filter(pk=row.pk).update(to=_sealed(row.to))


def decrypt_rows(apps, schema_editor):
    from appointments import identity

    Resident = apps.get_model("appointments", "Resident")
    Petition = apps.get_model("appointments", "Petition")
    OutboxMessage = apps.get_model("appointments", "OutboxMessage")
    for rows in _batches(Resident.objects.all()):
        for row in rows:
            id_number = identity.decrypt(row.id_number_encrypted) if row.id_number_encrypted else ""
            # The hash as it was before this migration: HMAC under the field key itself.
            old_hash = hmac.new(settings.FIELD_ENCRYPTION_KEY.encode(), id_number.encode(), hashlib.sha256).hexdigest()
            Resident.objects.filter(pk=row.pk).update(
                name=_opened(row.name)[:50],
                phone=_opened(row.phone)[:20],
                id_number_hash=old_hash if id_number else row.id_number_hash,
            )
    for rows in _batches(Petition.objects.all()):
        for row in rows:
            Petition.objects.filter(pk=row.pk).update(
                contact_name=_opened(row.contact_name)[:50], contact_phone=_opened(row.contact_phone)[:20]
            )
    for rows in _batches(OutboxMessage.objects.all()):
        for row in rows:
            OutboxMessage.objects.filter(pk=row.pk).update(to=_opened(row.to)[:20])


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0009_notifications_waitlist_feeds"),
    ]

    operations = [
        migrations.AddField(
            model_name="petition",
            name="contact_name_tags",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="petition",
            name="contact_phone_hash",
            field=models.CharField(blank=True, db_index=True, default="", editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="resident",
            name="anonymised_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="anonymised"),
        ),
        migrations.AddField(
            model_name="resident",
            name="name_tags",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="resident",
            name="phone_hash",
            field=models.CharField(blank=True, db_index=True, default="", editable=False, max_length=64),
        ),
        # Plain text first, wide enough for ciphertext; the rows are encrypted while the fields are still plain.
        migrations.AlterField(model_name="outboxmessage", name="to", field=models.TextField()),
        migrations.AlterField(
            model_name="petition",
            name="contact_name",
            field=models.TextField(editable=False, verbose_name="name as given"),
        ),
        migrations.AlterField(
            model_name="petition",
            name="contact_phone",
            field=models.TextField(editable=False, verbose_name="mobile as given"),
        ),
        migrations.AlterField(model_name="resident", name="name", field=models.TextField(verbose_name="name")),
        migrations.AlterField(model_name="resident", name="phone", field=models.TextField(verbose_name="mobile")),
        migrations.RunPython(encrypt_rows, decrypt_rows, elidable=False),
        migrations.AlterField(
            model_name="outboxmessage",
            name="to",
            field=appointments.fields.EncryptedTextField(max_length=20),
        ),
        migrations.AlterField(
            model_name="petition",
            name="contact_name",
            field=appointments.fields.EncryptedTextField(editable=False, max_length=50, verbose_name="name as given"),
        ),
        migrations.AlterField(
            model_name="petition",
            name="contact_phone",
            field=appointments.fields.EncryptedTextField(editable=False, max_length=20, verbose_name="mobile as given"),
        ),
        migrations.AlterField(
            model_name="resident",
            name="name",
            field=appointments.fields.EncryptedTextField(max_length=50, verbose_name="name"),
        ),
        migrations.AlterField(
            model_name="resident",
            name="phone",
            field=appointments.fields.EncryptedTextField(max_length=20, verbose_name="mobile"),
        ),
    ]
