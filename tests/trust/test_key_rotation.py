"""Rotating the field key: rows written under the old key stay readable and findable, then move to the new key."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from appointments import identity, key_rotation
from appointments.models import OutboxMessage, Petition, Resident
from appointments.outcomes.selectors import PetitionSearch, petition_search
from appointments.petitions import resident_find_by_id_number, resident_for_filing
from tests import factories as f

pytestmark = pytest.mark.django_db

KEY_1 = "first-field-key-0123456789abcdef0123456789abcdef"
KEY_2 = "second-field-key-fedcba9876543210fedcba9876543210"
KEY_UNKNOWN = "a-key-nobody-configured-0123456789abcdef012345"

PEOPLE = [
    ("王秀兰", f.id_number_for("210104", "19470312", 21)),
    ("阿依古丽·买买提", f.id_number_for("650102", "19881105", 64)),
    ("陈志强", f.id_number_for("440106", "20011230", 7)),
    ("李娜", f.id_number_for("810000", "19650701", 402)),
    ("Zhang Wei", f.id_number_for("110101", "19920229", 15)),
]


def _raw(model, *columns: str) -> list[tuple]:
    meta = model._meta
    names = ", ".join(connection.ops.quote_name(meta.get_field(c).column) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {names} FROM {meta.db_table} ORDER BY id")  # noqa: S608
        return cursor.fetchall()


def _every_stored_value() -> list[tuple]:
    return (
        _raw(Resident, "name", "phone", "id_number_encrypted", "id_number_hash", "name_tags", "phone_hash")
        + _raw(Petition, "contact_name", "contact_phone", "contact_name_tags", "contact_phone_hash")
        + _raw(OutboxMessage, "to")
    )


def _decrypts_under(key: str, token: str) -> bool:
    try:
        identity._fernet(key).decrypt(token.encode())
    except Exception:
        return False
    return True


@pytest.fixture
def under_key_1(settings, kiosk, published):
    """Five residents (one with two petitions) and a local SMS, all written under key 1."""
    settings.FIELD_ENCRYPTION_KEY, settings.FIELD_ENCRYPTION_OLD_KEYS = KEY_1, []
    petitions = [
        f.petition(kiosk, published, name=name, id_number=number, phone=f.valid_phone()) for name, number in PEOPLE
    ]
    petitions.append(f.petition(kiosk, published, name=PEOPLE[0][0], id_number=PEOPLE[0][1], summary="第二件事。"))
    OutboxMessage.objects.create(sid="SMlocal1", to=petitions[0].contact_phone, body="您的预约已确认。")
    return petitions


def _rotate_to_key_2(settings) -> None:
    settings.FIELD_ENCRYPTION_KEY, settings.FIELD_ENCRYPTION_OLD_KEYS = KEY_2, [KEY_1]


def test_rows_under_the_old_key_are_readable_and_found_before_the_rotation_has_run(settings, under_key_1, officer):
    _rotate_to_key_2(settings)

    for petition, (name, number) in zip(under_key_1, PEOPLE, strict=False):
        resident = Resident.objects.get(pk=petition.resident_id)
        assert (resident.name, resident.id_number) == (name, number)
        assert resident_find_by_id_number(actor=officer, id_number=number).pk == resident.pk
    # Filing again under the new key finds the same resident instead of registering a second one.
    again = resident_for_filing(actor=None, name="王秀兰", phone=f.valid_phone(), id_number=PEOPLE[0][1])
    assert again.pk == under_key_1[0].resident_id
    assert Resident.objects.count() == len(PEOPLE)


def test_after_rotation_and_removing_the_old_key_every_row_reads_and_is_found(settings, under_key_1, officer):
    phones = {p.pk: p.contact_phone for p in under_key_1}
    _rotate_to_key_2(settings)

    call_command("rotate_field_key", batch_size=2, stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.FIELD_ENCRYPTION_OLD_KEYS = []

    for petition, (name, number) in zip(under_key_1, PEOPLE, strict=False):
        stored = Petition.objects.select_related("resident").get(pk=petition.pk)
        assert (stored.contact_name, stored.contact_phone) == (name, phones[petition.pk])
        assert (stored.resident.name, stored.resident.id_number) == (name, number)
        assert resident_find_by_id_number(actor=officer, id_number=number).pk == stored.resident_id
        found = petition_search(actor=officer, search=PetitionSearch(text=name[-2:]))
        assert petition.pk in {p.pk for p in found}
        assert Petition.objects.get(contact_phone_hash=identity.phone_hash(phones[petition.pk])).pk == petition.pk
        assert Resident.objects.filter(phone_hash=identity.phone_hash(stored.resident.phone)).get() == stored.resident
    assert OutboxMessage.objects.get().to == phones[under_key_1[0].pk]
    for row in _every_stored_value():
        for token in (value for value in row if value and value.startswith("gAAAA")):
            assert _decrypts_under(KEY_2, token) and not _decrypts_under(KEY_1, token)


def test_a_second_run_changes_nothing(settings, under_key_1):
    _rotate_to_key_2(settings)
    first = key_rotation.field_key_rotate(batch_size=3)
    stored = _every_stored_value()

    second = key_rotation.field_key_rotate(batch_size=3)

    assert first.total_rotated == len(PEOPLE) + len(under_key_1) + 1
    assert second.total_rotated == 0
    assert _every_stored_value() == stored


def test_an_interrupted_run_is_resumed_by_running_it_again(settings, under_key_1, monkeypatch):
    _rotate_to_key_2(settings)
    real_batch = key_rotation._rotate_batch
    calls = []

    def failing_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise ConnectionError("the database went away")
        return real_batch(*args, **kwargs)

    monkeypatch.setattr(key_rotation, "_rotate_batch", failing_second_batch)
    with pytest.raises(ConnectionError):
        key_rotation.field_key_rotate(batch_size=2)
    monkeypatch.setattr(key_rotation, "_rotate_batch", real_batch)
    done_first = _raw(Resident, "name")[:2]

    resumed = key_rotation.field_key_rotate(batch_size=2)

    assert resumed.rotated["appointments.Resident"] == len(PEOPLE) - 2
    assert _raw(Resident, "name")[:2] == done_first  # the committed batch was not written again
    settings.FIELD_ENCRYPTION_OLD_KEYS = []
    assert [r.name for r in Resident.objects.order_by("pk")] == [name for name, _ in PEOPLE]


def test_a_dry_run_counts_and_changes_nothing(settings, under_key_1):
    _rotate_to_key_2(settings)
    stored = _every_stored_value()

    report = key_rotation.field_key_rotate(dry_run=True)

    assert report.rotated["appointments.Resident"] == len(PEOPLE)
    assert _every_stored_value() == stored


def test_a_value_no_configured_key_opens_stops_the_run_naming_the_row_not_the_value(settings, under_key_1):
    settings.FIELD_ENCRYPTION_KEY, settings.FIELD_ENCRYPTION_OLD_KEYS = KEY_UNKNOWN, [KEY_2]

    with pytest.raises(CommandError) as failure:
        call_command("rotate_field_key")

    assert "appointments.Resident" in str(failure.value) and "FIELD_ENCRYPTION_OLD_KEYS" in str(failure.value)
    assert not any(name in str(failure.value) for name, _ in PEOPLE)


def test_reading_a_row_whose_key_was_removed_too_early_fails_loudly(settings, under_key_1):
    settings.FIELD_ENCRYPTION_KEY, settings.FIELD_ENCRYPTION_OLD_KEYS = KEY_2, []

    with pytest.raises(identity.UndecryptableValue):
        Resident.objects.get(pk=under_key_1[0].resident_id).name  # noqa: B018


def test_names_mobiles_and_id_numbers_are_not_in_the_clear_in_the_database(under_key_1):
    dump = repr(_every_stored_value())

    for petition, (name, number) in zip(under_key_1, PEOPLE, strict=False):
        assert name not in dump and number not in dump
        assert petition.contact_phone not in dump and petition.contact_phone[3:] not in dump
