import pytest

from appointments.booking import appointment_book
from appointments.video.selectors import expected_names
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
