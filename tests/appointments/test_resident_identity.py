"""Nobody can take over a resident's identity: the name held for an ID number decides, contacts stay per petition."""

import pytest
from django.test import Client
from django.utils import translation

from appointments.models import Petition, Resident
from appointments.petitions import (
    identity_check,
    name_key,
    petition_create,
    petition_find_by_query_code,
    resident_name_correct,
)
from departments.audit import AuditEvent
from departments.models import StaffMember
from departments.services import Actor
from scheduler.errors import Forbidden, ResidentNameMismatch
from tests import factories as f

pytestmark = pytest.mark.django_db

ID = f.id_number_for("210104", "19380412", 26)  # an elderly resident of 大东区


def file(actor, **kwargs):
    values = {
        "name": "王秀兰",
        "phone": "13840012345",
        "id_number": ID,
        "category": "housing",
        "summary": "回迁房的房产证一直办不下来。",
        "department": "fangchan",
    }
    values.update(kwargs)
    f.categories()
    return petition_create(actor=actor, **values)


@pytest.fixture
def worker(community):
    return Actor(staff=f.staff("worker", StaffMember.Role.COMMUNITY_WORKER, community=community))


def test_a_filing_under_another_name_is_refused_and_changes_nothing(kiosk, other_kiosk_and_key, department):
    first = file(kiosk)
    audit_before = AuditEvent.objects.count()

    with translation.override("en"), pytest.raises(ResidentNameMismatch) as excinfo:
        file(other_kiosk_and_key[0], name="赵大强", phone="13999990000")

    assert excinfo.value.field == "resident.name"
    assert "community worker" in str(excinfo.value)
    assert "王秀兰" not in str(excinfo.value)  # the registered name is never revealed
    resident = Resident.objects.get()
    assert (resident.name, resident.phone) == ("王秀兰", "+8613840012345")
    assert Petition.objects.count() == 1
    assert petition_find_by_query_code(query_code=first.query_code, phone_last4="2345") == first
    assert AuditEvent.objects.count() == audit_before


@pytest.mark.parametrize("spelling", ["王秀兰", " 王 秀 兰 ", "王秀兰\u3000"])
def test_the_same_name_written_with_other_spaces_is_the_same_name(kiosk, department, spelling):
    file(kiosk)
    assert file(kiosk, name=spelling).resident == Resident.objects.get()


def test_a_minority_name_matches_whichever_middle_dot_the_input_method_typed(kiosk, department):
    number = f.id_number_for("650102", "19560301", 4)
    file(kiosk, name="阿依古丽·买买提", id_number=number)
    assert file(kiosk, name="阿依古丽•买买提", id_number=number).resident.name == "阿依古丽·买买提"
    assert name_key("Chan Tai Man") == name_key("CHAN  TAI MAN")


def test_a_new_mobile_is_taken_for_the_new_petition_only_and_audited(kiosk, department):
    first = file(kiosk, phone="13840012345")

    second = file(kiosk, phone="13998765432")

    first.refresh_from_db()
    assert first.contact_phone == "+8613840012345"
    assert second.contact_phone == "+8613998765432"
    assert Resident.objects.get().phone == "+8613998765432"  # the latest contact
    # Each petition is found with the mobile it was filed with.
    assert petition_find_by_query_code(query_code=first.query_code, phone_last4="2345") == first
    assert petition_find_by_query_code(query_code=first.query_code, phone_last4="5432") is None
    assert petition_find_by_query_code(query_code=second.query_code, phone_last4="5432") == second
    change = AuditEvent.objects.get(action="resident.update")
    assert change.detail == {"fields": ["phone"]}
    assert change.actor == kiosk.principal
    assert "13998765432" not in str(change.detail) and "5432" not in str(change.detail)


def test_a_petition_keeps_the_name_as_written(kiosk, department):
    petition = file(kiosk, name=" 王 秀兰 ")
    assert petition.contact_name == "王 秀兰"
    assert file(kiosk, name="王秀兰").contact_name == "王秀兰"


def test_registering_a_resident_is_audited_without_values(kiosk, department):
    file(kiosk)
    created = AuditEvent.objects.get(action="resident.create")
    assert created.detail == {"fields": ["name", "phone"]}
    assert ID not in str(created.detail)


def test_identity_check_refuses_a_different_name_before_anything_is_filed(kiosk, department):
    file(kiosk)
    with pytest.raises(ResidentNameMismatch):
        identity_check(name="赵大强", phone="13840012345", id_number=ID)
    assert identity_check(name="王秀兰", phone="13840012345", id_number=ID.lower())[2] == ID
    # Nobody registered yet: any name will do.
    assert identity_check(name="赵大强", phone="13840012345", id_number=f.valid_id_number())[0] == "赵大强"


def test_a_community_worker_corrects_the_name_audited_and_the_resident_files_again(kiosk, department, worker):
    first = file(kiosk, name="王秀蓝")  # typed wrongly the first time
    resident = first.resident

    resident_name_correct(actor=worker, resident_id=resident.pk, name="王秀兰", reason="typing_error")

    resident.refresh_from_db()
    assert resident.name == "王秀兰"
    first.refresh_from_db()
    assert first.contact_name == "王秀蓝"  # the earlier petition keeps what it was filed with
    event = AuditEvent.objects.get(action="resident.name_correct")
    assert event.detail == {"fields": ["name"], "reason": "typing_error"}
    assert event.user == worker.staff.user
    assert "王秀" not in str(event.detail)
    assert file(kiosk, name="王秀兰").resident == resident


@pytest.mark.parametrize("role", ["department_staff", "department_admin"])
def test_department_staff_cannot_correct_a_name(kiosk, department, role):
    resident = file(kiosk).resident
    member = Actor(staff=f.staff(f"x-{role}", role, department=department))
    with pytest.raises(Forbidden):
        resident_name_correct(actor=member, resident_id=resident.pk, name="赵大强", reason="other")
    with pytest.raises(Forbidden):
        resident_name_correct(actor=kiosk, resident_id=resident.pk, name="赵大强", reason="other")
    assert Resident.objects.get().name == "王秀兰"


# The page ----------------------------------------------------------------------------------------------------


@pytest.fixture
def worker_client(worker):
    client = Client()
    client.force_login(worker.staff.user)
    return client


def test_the_page_finds_the_resident_by_card_and_never_echoes_the_number(worker_client, kiosk, department):
    file(kiosk, name="王秀蓝")

    page = worker_client.post("/staff/residents/name/", {"action": "find", "id_number": ID}).content.decode()

    assert ID not in page
    assert "210***********" in page
    assert "王秀蓝" in page
    assert page.count('name="id_number"') == 0

    done = worker_client.post(
        "/staff/residents/name/", {"action": "correct", "name": "王秀兰", "reason": "typing_error"}, follow=True
    )
    assert Resident.objects.get().name == "王秀兰"
    assert "登记姓名已更正" in done.content.decode()


@pytest.mark.parametrize(
    ("id_number", "words"),
    [
        ("12345", "18 位"),
        (f.id_number_for("210104", "19380412", 27), "还没有登记"),
        (ID[:-1] + ("1" if ID[-1] != "1" else "2"), "最后一位"),
    ],
)
def test_the_page_explains_a_number_it_cannot_use_without_echoing_it(
    worker_client, kiosk, department, id_number, words
):
    file(kiosk)
    page = worker_client.post("/staff/residents/name/", {"action": "find", "id_number": id_number}).content.decode()
    assert words in page
    assert id_number not in page


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"name": "", "reason": "other"}, "请输入您的姓名"),
        ({"name": "王秀兰", "reason": "because"}, "请选择更正姓名的原因"),
        ({"name": "\u202e兰秀王", "reason": "other"}, "U+202E"),
        ({"name": "\u200b\u200b", "reason": "other"}, 'role="alert"'),
        ({"name": "王" * 60, "reason": "other"}, "姓名太长"),
    ],
)
def test_the_page_refuses_a_bad_correction_and_changes_nothing(worker_client, kiosk, department, data, words):
    file(kiosk, name="王秀蓝")
    worker_client.post("/staff/residents/name/", {"action": "find", "id_number": ID})

    response = worker_client.post("/staff/residents/name/", {"action": "correct", **data})

    assert response.status_code == 200
    assert words in response.content.decode()
    assert Resident.objects.get().name == "王秀蓝"
    assert not AuditEvent.objects.filter(action="resident.name_correct").exists()


def test_a_correction_without_a_resident_found_first_changes_nothing(worker_client, kiosk, department):
    file(kiosk, name="王秀蓝")
    response = worker_client.post("/staff/residents/name/", {"action": "correct", "name": "X", "reason": "other"})
    assert response.status_code == 200
    assert Resident.objects.get().name == "王秀蓝"


@pytest.mark.parametrize("role", ["department_staff", "department_admin"])
def test_department_members_cannot_open_the_page(kiosk, department, role):
    client = Client()
    client.force_login(f.staff(f"p-{role}", role, department=department).user)
    assert client.get("/staff/residents/name/").status_code == 403
