import re

import pytest

from appointments.booking import appointment_book
from appointments.video.selectors import expected_names, expected_participants
from departments.models import StaffMember
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_a_booking_without_a_community_lists_only_its_department_and_the_petition_office(
    officer, dept_staff, outsider, published, open_slots, community
):
    f.staff("worker_elsewhere", StaffMember.Role.COMMUNITY_WORKER, community=community)
    petition = f.petition(officer, published)  # filed at the petition office: no community
    appointment = appointment_book(
        actor=officer, petition_reference=petition.reference, slot_id=open_slots[0].pk
    ).appointment
    assert appointment.community_id is None

    names = expected_names(appointment=appointment)

    listed = " ".join(names)
    assert f"staff:{dept_staff.staff.pk}" in listed
    assert f"staff:{officer.staff.pk}" in listed
    assert f"staff:{outsider.staff.pk}" not in listed
    assert not any(identity.startswith("community:") for identity in names)


def test_the_join_page_expects_the_department_the_community_worker_and_the_petition_office_not_the_kiosk(
    client, local_video, live_appointment, officer, dept_staff, worker, other_worker, kiosk
):
    """The resident joins on the community worker's device: the kiosk is never someone to wait for."""
    groups = {group.side: group.names for group in expected_participants(appointment=live_appointment)}

    assert groups == {
        "department": ["dept_staff · 区房产局"],
        "community": ["worker · 蓝山社区"],
        "petition_office": ["officer"],
    }
    client.force_login(worker.staff.user)
    page = client.get(f"/staff/sessions/{live_appointment.pk}/join/").content.decode()
    expected = re.search(r'<ul id="expected".*?</section>', page, re.DOTALL).group(0)
    assert (
        "区房产局（主持接访）" in expected
        and "蓝山社区陪同群众的社区工作人员" in expected
        and "信访局（可随时进入旁听）" in expected
    )
    assert "worker · 蓝山社区" in expected and "other_worker" not in expected
    assert str(kiosk.kiosk) not in expected and "自助终端" not in expected


def test_no_kiosk_is_named_among_those_who_may_connect(live_appointment, kiosk, worker):
    names = expected_names(appointment=live_appointment)

    assert not any(identity.startswith(f"community:{kiosk.principal}") for identity in names)
    assert names[f"community:{worker.principal}"] == "worker · 蓝山社区"
