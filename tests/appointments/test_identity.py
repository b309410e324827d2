"""A resident's ID and mobile numbers: validated, stored encrypted, found by a keyed hash, shown masked."""

import pytest
from django.db import connection
from django.utils import translation
from stdnum.cn import ric

from appointments import identity
from appointments.models import Resident
from appointments.petitions import resident_upsert
from scheduler.errors import InvalidInput
from tests import factories as f

GOOD_ID = "210100194703150025"  # valid GB 11643 check character


def wrong_check_character(id_number: str) -> str:
    last = id_number[-1]
    return id_number[:-1] + ("1" if last != "1" else "2")


def test_it_accepts_a_valid_id_number_and_upper_cases_the_x():
    assert identity.id_number_clean(GOOD_ID) == GOOD_ID
    assert identity.id_number_clean("21010019520808001x") == "21010019520808001X"


def test_it_rejects_an_id_number_with_a_wrong_check_character():
    with translation.override("en"), pytest.raises(InvalidInput) as excinfo:
        identity.id_number_clean(wrong_check_character(GOOD_ID), field="resident.id_number")
    assert excinfo.value.field == "resident.id_number"
    assert "last character" in str(excinfo.value)


def test_it_rejects_an_id_number_with_an_impossible_birth_date():
    base = "210100" + "19500230" + "001"  # 30 February

    with translation.override("en"), pytest.raises(InvalidInput) as excinfo:
        identity.id_number_clean(base + ric.calc_check_digit(base + "0"))
    assert "birth date" in str(excinfo.value)


@pytest.mark.parametrize("value", ["", "2101001947031500", GOOD_ID + "1", "21010019470315002A", "abc"])
def test_it_rejects_an_id_number_of_the_wrong_length_or_form(value):
    with pytest.raises(InvalidInput) as excinfo:
        identity.id_number_clean(value)
    assert excinfo.value.field == "id_number"


def test_it_rejects_an_id_number_that_is_not_a_string():
    with pytest.raises(InvalidInput):
        identity.id_number_clean(None)


@pytest.mark.parametrize(
    ("value", "e164"),
    [
        ("13840012345", "+8613840012345"),
        ("138 4001 2345", "+8613840012345"),
        ("+86 138-4001-2345", "+8613840012345"),
        ("17012345678", "+8617012345678"),
    ],
)
def test_it_normalises_a_mainland_mobile_number_to_e164(value, e164):
    assert identity.phone_clean(value) == e164


@pytest.mark.parametrize("value", ["", "1384001234", "138400123456", "abc", "23840012345", "+", "1" * 40])
def test_it_rejects_a_malformed_mobile_number(value):
    with pytest.raises(InvalidInput) as excinfo:
        identity.phone_clean(value, field="resident.phone")
    assert excinfo.value.field == "resident.phone"


@pytest.mark.parametrize("value", ["02488888888", "024-8888-8888", "4001234567"])
def test_it_rejects_a_landline_or_service_number(value):
    with pytest.raises(InvalidInput):
        identity.phone_clean(value)


def test_it_masks_an_id_number_and_a_mobile_number():
    assert identity.id_number_mask(GOOD_ID) == "210***********0025"
    assert identity.phone_mask("+8613840012345") == "138****2345"
    assert identity.phone_last4("+8613840012345") == "2345"


def test_encryption_round_trips_and_is_not_the_clear_text():
    token = identity.encrypt(GOOD_ID)
    assert GOOD_ID not in token
    assert identity.decrypt(token) == GOOD_ID
    assert identity.encrypt(GOOD_ID) != token  # a fresh IV each time


def test_decrypting_garbage_gives_an_empty_string():
    assert identity.decrypt("not-a-token") == ""


def test_the_lookup_hash_depends_on_the_key(settings):
    first = identity.lookup_hash(GOOD_ID)
    assert first == identity.lookup_hash(GOOD_ID)
    assert GOOD_ID not in first
    settings.FIELD_ENCRYPTION_KEY = "another-key-0123456789abcdef0123456789abcdef"
    assert identity.lookup_hash(GOOD_ID) != first


@pytest.mark.django_db
def test_the_id_number_is_stored_encrypted_never_in_the_clear():
    resident = resident_upsert(name="王秀兰", phone="13840012345", id_number=GOOD_ID)

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Resident._meta.db_table} WHERE id = %s", [resident.pk])  # noqa: S608
        row = cursor.fetchone()
    assert not any(GOOD_ID in str(value) for value in row)
    assert not any(GOOD_ID[6:14] in str(value) for value in row)  # not even the birth date
    stored = Resident.objects.get(pk=resident.pk)
    assert stored.id_number == GOOD_ID
    assert stored.id_number_masked == "210***********0025"
    assert stored.phone_masked == "138****2345"
    assert GOOD_ID not in str(stored)


@pytest.mark.django_db
def test_a_resident_is_found_again_by_id_number_and_kept_current():
    first = resident_upsert(name="王秀兰", phone="13840012345", id_number=GOOD_ID)

    again = resident_upsert(name=" 王秀兰 ", phone="13998765432", id_number=GOOD_ID.lower())

    assert again.pk == first.pk
    assert Resident.objects.get(pk=first.pk).phone == "+8613998765432"
    other = resident_upsert(name="王秀兰", phone="13840012345", id_number=f.valid_id_number())
    assert other.pk != first.pk
    assert Resident.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "field"), [("", "resident.name"), ("   ", "resident.name"), ("王" * 51, "resident.name")]
)
def test_it_rejects_a_missing_or_overlong_name(name, field):
    with pytest.raises(InvalidInput) as excinfo:
        resident_upsert(name=name, phone="13840012345", id_number=GOOD_ID)
    assert excinfo.value.field == field
    assert not Resident.objects.exists()
