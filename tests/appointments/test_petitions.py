"""Filing a resident's matter: category, summary, department, and where it was filed."""

import re

import pytest

from appointments.models import Petition, PetitionCategory, Resident
from appointments.outcomes.lifecycle import petition_transition
from appointments.petitions import petition_create, petition_find_by_query_code
from departments.audit import AuditEvent
from scheduler.errors import Conflict, InvalidInput
from tests import factories as f

pytestmark = pytest.mark.django_db


def file(actor, **kwargs):
    values = {
        "name": "李建国",
        "phone": "13998765432",
        "id_number": f.valid_id_number(),
        "category": "labour-social-security",
        "summary": "小区保洁公司拖欠我两个月工资。",
        "department": "fangchan",
    }
    values.update(kwargs)
    return petition_create(actor=actor, **values)


def test_it_files_a_petition_with_a_reference_and_a_query_code(kiosk, department):
    petition = file(kiosk)

    assert re.fullmatch(r"XF\d{8}\d{6}", petition.reference)
    assert re.fullmatch(r"\d{8}", petition.query_code)
    assert petition.status == Petition.Status.RECEIVED
    assert petition.department == department
    assert petition.category.code == "labour-social-security"
    assert petition.community == kiosk.kiosk.community
    assert AuditEvent.objects.filter(action="petition.create", target_id=str(petition.pk)).exists()


def test_two_petitions_get_different_references_and_query_codes(kiosk, department):
    one, two = file(kiosk), file(kiosk)
    assert one.reference != two.reference
    assert one.query_code != two.query_code


def test_it_rejects_an_unknown_category(kiosk, department):
    with pytest.raises(InvalidInput) as excinfo:
        file(kiosk, category="astrology")
    assert excinfo.value.field == "category"
    assert not Petition.objects.exists()


def test_it_rejects_an_inactive_category(kiosk, department):
    PetitionCategory.objects.filter(code="education").update(is_active=False)

    with pytest.raises(InvalidInput) as excinfo:
        file(kiosk, category="education")
    assert excinfo.value.field == "category"


@pytest.mark.parametrize("summary", ["", "   ", "太短了", "  四个字啊  "])
def test_it_rejects_a_summary_that_is_too_short(kiosk, department, summary):
    with pytest.raises(InvalidInput) as excinfo:
        file(kiosk, summary=summary)
    assert excinfo.value.field == "summary"


def test_it_accepts_a_summary_of_exactly_five_characters(kiosk, department):
    assert file(kiosk, summary=" 工资没发放 ").summary == "工资没发放"


def test_it_rejects_a_summary_that_is_too_long(kiosk, department):
    with pytest.raises(InvalidInput) as excinfo:
        file(kiosk, summary="长" * 2001)
    assert excinfo.value.field == "summary"


def test_it_rejects_an_unknown_department(kiosk, department):
    with pytest.raises(InvalidInput) as excinfo:
        file(kiosk, department="nosuch")
    assert excinfo.value.field == "department"
    assert not Petition.objects.exists()
    assert not Resident.objects.exists()


def test_it_rejects_an_inactive_department(kiosk, department):
    department.is_active = False
    department.save()

    with pytest.raises(InvalidInput):
        file(kiosk, department=department.code)


def test_it_uses_the_categorys_suggested_department_when_none_is_given(kiosk, department, other_department):
    PetitionCategory.objects.filter(code="labour-social-security").update(suggested_department=other_department)

    petition = file(kiosk, department=None)

    assert petition.department == other_department


def test_a_department_given_by_the_resident_wins_over_the_suggestion(kiosk, department, other_department):
    PetitionCategory.objects.filter(code="labour-social-security").update(suggested_department=other_department)

    assert file(kiosk, department=department.code).department == department


def test_it_asks_for_a_department_when_the_category_suggests_none(kiosk, department):
    PetitionCategory.objects.filter(code="other").update(suggested_department=None)

    with pytest.raises(InvalidInput) as excinfo:
        file(kiosk, category="other", department="")
    assert excinfo.value.field == "department"


def test_bad_resident_details_file_nothing(kiosk, department):
    with pytest.raises(InvalidInput) as excinfo:
        file(kiosk, id_number="210100194703150026")
    assert excinfo.value.field == "resident.id_number"
    with pytest.raises(InvalidInput) as excinfo:
        file(kiosk, phone="024-8888-8888")
    assert excinfo.value.field == "resident.phone"
    assert not Petition.objects.exists()
    assert not Resident.objects.exists()


def test_a_community_worker_files_for_their_own_community(places, department):
    from departments.models import StaffMember
    from departments.services import Actor

    worker = Actor(staff=f.staff("worker", StaffMember.Role.COMMUNITY_WORKER, community=places[3]))

    assert file(worker).community == places[3]


def test_a_resident_finds_their_petition_by_query_code_and_the_last_four_digits(kiosk, department):
    petition = file(kiosk, phone="13998765432")

    assert petition_find_by_query_code(query_code=petition.query_code, phone_last4="5432") == petition
    assert petition_find_by_query_code(query_code=petition.query_code, phone_last4="0000") is None
    assert petition_find_by_query_code(query_code="abc", phone_last4="5432") is None


def test_the_lifecycle_refuses_an_illegal_transition(kiosk, department):
    petition = file(kiosk)

    with pytest.raises(Conflict):
        petition_transition(petition=petition, to=Petition.Status.CLOSED)
    petition.refresh_from_db()
    assert petition.status == Petition.Status.RECEIVED
