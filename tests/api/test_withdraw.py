import pytest

from appointments.booking import appointment_book
from appointments.models import Appointment
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(kiosk, published, open_slots):
    petition = f.petition(kiosk, published)
    return appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=open_slots[0].pk).appointment


def test_a_department_admin_withdraws_a_booked_time_and_the_booking_is_cancelled_with_the_reason(
    client, dept_admin, booked
):
    token = f.token_for(dept_admin.staff)
    response = client.post(
        f"/api/v1/slots/{booked.slot_id}/withdraw",
        {"reason": "科室集中培训"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"slot": booked.slot_id, "cancelled_appointments": [booked.pk]}
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.CANCELLED and booked.cancel_reason == "科室集中培训"
    assert booked.petition.status == "received"


def test_it_refuses_a_withdrawal_without_a_reason(client, dept_admin, booked):
    token = f.token_for(dept_admin.staff)
    response = client.post(
        f"/api/v1/slots/{booked.slot_id}/withdraw",
        {"reason": "  "},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422
    assert response.json()["field"] == "reason"
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED


def test_another_departments_admin_and_kiosks_cannot_withdraw(client, outsider, kiosk_key, booked):
    token = f.token_for(outsider.staff)
    response = client.post(
        f"/api/v1/slots/{booked.slot_id}/withdraw",
        {"reason": "x"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 403
    response = client.post(
        f"/api/v1/slots/{booked.slot_id}/withdraw",
        {"reason": "x"},
        content_type="application/json",
        headers={"X-Kiosk-Key": kiosk_key},
    )
    assert response.status_code == 401
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED
