"""A resident's ID and mobile numbers: validated, stored encrypted, found by a keyed hash, shown masked."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone, translation

from appointments import identity
from appointments.models import Resident
from appointments.petitions import resident_for_filing
from scheduler.errors import InvalidInput
from tests import factories as f

GOOD_ID = "210100194703150025"  # valid GB 11643 check character


def wrong_check_character(id_number: str) -> str:
    last = id_number[-1]
    return id_number[:-1] + ("1" if last != "1" else "2")


def test_it_accepts_a_valid_id_number_and_upper_cases_the_x():
    assert identity.id_number_clean(GOOD_ID) == GOOD_ID
    assert identity.id_number_clean("21010019520808001x") == "21010019520808001X"


def test_it_accepts_full_width_digits_and_spaces_from_an_input_method():
    assert identity.id_number_clean(" ２１０１００１９４７０３１５００２５ ") == GOOD_ID
    assert identity.id_number_clean("210100 19470315 0025") == GOOD_ID


# Real-shaped numbers across provinces and birth years. The elderly residents of 大东区 and 皇姑区 (codes that
# python-stdnum dates from 1983), 天河区 (1985), the Hong Kong permit (1997), and codes missing from its table
# (210107, the Taiwan permit 830000) were all refused or crashed when the county table decided.
GENUINE = [
    (area, birth)
    for area, births in [
        ("210104", ["19200101", "19360518", "19470315", "19821231", "19830101", "20050709"]),
        ("210105", ["19220229" if False else "19240229", "19451001", "19580607", "19820630"]),
        ("210102", ["19300303", "19661111"]),
        ("210103", ["19280808", "19791010"]),
        ("210107", ["19381212", "19900101"]),
        ("440106", ["19310415", "19841231", "19850101", "20100101"]),
        ("810000", ["19260101", "19700707", "19961231", "20001212"]),
        ("820000", ["19350505", "19990101"]),
        ("830000", ["19290909", "19881008"]),
        ("710000", ["19400404"]),
        ("110101", ["19200101", "19491001", "20261129"]),
        ("120101", ["19521111"]),
        ("130102", ["19330303"]),
        ("140105", ["19600601"]),
        ("150102", ["19710707"]),
        ("220102", ["19440404"]),
        ("230103", ["19570505"]),
        ("310104", ["19210521", "19680606"]),
        ("320102", ["19550505"]),
        ("330106", ["19810101"]),
        ("340104", ["19620202"]),
        ("350102", ["19730303"]),
        ("360102", ["19840404"]),
        ("370202", ["19250505"]),
        ("410105", ["19950505"]),
        ("420106", ["19370707"]),
        ("430104", ["19480808"]),
        ("450103", ["19590909"]),
        ("460105", ["19881010"]),
        ("500103", ["19201231", "19970701"]),
        ("510107", ["19411111"]),
        ("520102", ["19631212"]),
        ("530102", ["19740101"]),
        ("540102", ["19850202"]),
        ("610113", ["19960303"]),
        ("620102", ["20070404"]),
        ("630102", ["20180505"]),
        ("640104", ["19270606"]),
        ("650102", ["19390707"]),
    ]
    for birth in births
]


@pytest.mark.parametrize(("area", "birth"), GENUINE)
def test_it_accepts_every_genuine_number_whatever_the_area_and_birth_year(area, birth):
    for serial in (1, 37, 999):
        number = f.id_number_for(area, birth, serial)
        assert identity.id_number_clean(number) == number


def test_every_birth_year_from_1920_to_this_year_is_accepted_in_every_province():
    today = timezone.localdate()
    for year in range(1920, today.year + 1):
        for province in sorted(identity.ID_PROVINCE_PREFIXES):
            born = dt.date(year, 1 + year % 12, 1 + year % 28)
            if born > today:
                born = today
            number = f.id_number_for(f"{province}0102", f"{born:%Y%m%d}", year % 1000)
            assert identity.id_number_clean(number) == number


@pytest.mark.parametrize("area", [f"{p:02d}{c:04d}" for p in range(100) for c in (0, 104, 9999)])
def test_no_area_code_causes_anything_but_acceptance_or_a_clear_refusal(area):
    number = f.id_number_for(area, "19400101", 21)
    with translation.override("en"):
        if int(area[:2]) in identity.ID_PROVINCE_PREFIXES:
            assert identity.id_number_clean(number) == number
        else:
            with pytest.raises(InvalidInput) as excinfo:
                identity.id_number_clean(number)
            assert "province or region" in str(excinfo.value)


def test_it_rejects_an_id_number_with_a_wrong_check_character():
    with translation.override("en"), pytest.raises(InvalidInput) as excinfo:
        identity.id_number_clean(wrong_check_character(GOOD_ID), field="resident.id_number")
    assert excinfo.value.field == "resident.id_number"
    assert "last character" in str(excinfo.value)


@pytest.mark.parametrize(
    ("birth", "words"),
    [
        ("19500230", "not a real date"),  # 30 February
        ("19230229", "not a real date"),  # not a leap year
        ("19501301", "not a real date"),
        ("19500100", "not a real date"),
        ("00000000", "not a real date"),
        ("18991231", "before 1900"),
        ("18500101", "before 1900"),
    ],
)
def test_it_rejects_an_id_number_with_an_impossible_birth_date(birth, words):
    with translation.override("en"), pytest.raises(InvalidInput) as excinfo:
        identity.id_number_clean(f.id_number_for("210104", birth, 1))
    assert words in str(excinfo.value)


def test_it_rejects_a_birth_date_in_the_future():
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with translation.override("en"), pytest.raises(InvalidInput) as excinfo:
        identity.id_number_clean(f.id_number_for("210104", f"{tomorrow:%Y%m%d}", 1))
    assert "in the future" in str(excinfo.value)


@pytest.mark.parametrize(
    "area",
    [
        "000000",
        "100101",
        "160101",
        "240101",
        "300101",
        "380101",
        "470101",
        "550101",
        "600101",
        "660101",
        "700101",
        "720101",
        "800101",
        "840101",
        "910101",
        "990101",
    ],
)
def test_it_rejects_an_area_that_is_no_province(area):
    with translation.override("en"), pytest.raises(InvalidInput) as excinfo:
        identity.id_number_clean(f.id_number_for(area, "19500101", 1), field="resident.id_number")
    assert excinfo.value.field == "resident.id_number"
    assert "province or region" in str(excinfo.value)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("", "this one has 0"),
        ("2101001947031500", "this one has 16"),
        (GOOD_ID + "1", "this one has 19"),
        ("21010019470315002A", "17 digits and a digit or X"),
        ("X10100194703150025", "17 digits and a digit or X"),
        ("2101001947031500\x002", "17 digits and a digit or X"),
        ("abcdefghijklmnopqr", "17 digits and a digit or X"),
        ("\u0662\u0661\u0660100194703150025", "17 digits and a digit or X"),  # Arabic-Indic digits
    ],
)
def test_it_rejects_an_id_number_of_the_wrong_length_or_form(value, words):
    with translation.override("en"), pytest.raises(InvalidInput) as excinfo:
        identity.id_number_clean(value)
    assert excinfo.value.field == "id_number"
    assert words in str(excinfo.value)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("2101001947031500", "18 位"),
        (wrong_check_character(GOOD_ID), "最后一位"),
        (f.id_number_for("210104", "19500230", 1), "出生日期"),
        (f.id_number_for("990101", "19500101", 1), "省"),
    ],
)
def test_every_refusal_speaks_the_residents_language(value, words):
    with translation.override("zh-hans"), pytest.raises(InvalidInput) as excinfo:
        identity.id_number_clean(value)
    assert words in str(excinfo.value)


@pytest.mark.parametrize("value", [None, 210100194703150025, ["210100194703150025"], b"210100194703150025"])
def test_it_rejects_an_id_number_that_is_not_a_string(value):
    with pytest.raises(InvalidInput):
        identity.id_number_clean(value)


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
    resident = resident_for_filing(actor=None, name="王秀兰", phone="13840012345", id_number=GOOD_ID)

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
    first = resident_for_filing(actor=None, name="王秀兰", phone="13840012345", id_number=GOOD_ID)

    again = resident_for_filing(actor=None, name=" 王秀兰 ", phone="13998765432", id_number=GOOD_ID.lower())

    assert again.pk == first.pk
    assert Resident.objects.get(pk=first.pk).phone == "+8613998765432"
    other = resident_for_filing(actor=None, name="王秀兰", phone="13840012345", id_number=f.valid_id_number())
    assert other.pk != first.pk
    assert Resident.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "field"), [("", "resident.name"), ("   ", "resident.name"), ("王" * 51, "resident.name")]
)
def test_it_rejects_a_missing_or_overlong_name(name, field):
    with pytest.raises(InvalidInput) as excinfo:
        resident_for_filing(actor=None, name=name, phone="13840012345", id_number=GOOD_ID)
    assert excinfo.value.field == field
    assert not Resident.objects.exists()
