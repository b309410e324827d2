"""Authentication as a real browser or program meets it: Django's client with CSRF enforced, as in production."""

import json

import pytest
from django.test import Client
from django.utils import timezone

from appointments.booking import appointment_book
from appointments.models import Appointment, Petition
from departments.models import ApiToken, StaffMember
from departments.services import kiosk_revoke
from scheduler.models import ScheduleWeek
from tests import factories as f

pytestmark = pytest.mark.django_db

CSRF_SECRET = "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6"


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def booked(kiosk, published, open_slots):
    petition = f.petition(kiosk, published)
    return appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=open_slots[0].pk).appointment


@pytest.fixture
def writes(booked, open_slots):
    """Every operation that changes something, with a body that would otherwise be acceptable."""
    week = f"{timezone.localdate().year + 1}-W10"
    return {
        "petition_create": (
            "/api/v1/petitions",
            {
                "resident": {"name": "王秀兰", "phone": "13840012345", "id_number": f.valid_id_number()},
                "category": "housing",
                "summary": "回迁房的房产证一直办不下来。",
            },
        ),
        "appointment_book": ("/api/v1/appointments", {"petition": booked.petition.reference, "slot": open_slots[1].pk}),
        "appointment_cancel": (f"/api/v1/appointments/{booked.pk}/cancel", {}),
        "appointment_reschedule": (f"/api/v1/appointments/{booked.pk}/reschedule", {"slot": open_slots[2].pk}),
        "slot_withdraw": (f"/api/v1/slots/{booked.slot_id}/withdraw", {"reason": "科室集中培训"}),
        "week_publish": (f"/api/v1/departments/{booked.slot.department.code}/weeks/{week}/publish", None),
    }


def send(client, url, body, **headers):
    if body is None:
        return client.post(url, headers=headers)
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def nothing_changed(booked) -> bool:
    booked.refresh_from_db()
    return (
        booked.status == Appointment.Status.BOOKED
        and Appointment.objects.count() == 1
        and Petition.objects.count() == 1
        and not ScheduleWeek.objects.filter(iso_year=timezone.localdate().year + 1).exists()
    )


def revoked_kiosk_key(community) -> str:
    kiosk, key = f.kiosk_actor(community)
    kiosk_revoke(kiosk=kiosk.kiosk)
    return key


def revoked_token(department) -> str:
    admin = f.staff("revoked_admin", StaffMember.Role.DEPARTMENT_ADMIN, department=department)
    token = f.token_for(admin)
    ApiToken.objects.filter(staff=admin).update(revoked_at=timezone.now())
    return token


CREDENTIALS = {
    "none": lambda community, department: {},
    "a forged kiosk key": lambda community, department: {"X-Kiosk-Key": "kiosk_forged-key-0123456789"},
    "a revoked kiosk key": lambda community, department: {"X-Kiosk-Key": revoked_kiosk_key(community)},
    "an unknown bearer token": lambda community, department: {"Authorization": "Bearer staff_forged-0123456789"},
    "a revoked bearer token": lambda community, department: {"Authorization": f"Bearer {revoked_token(department)}"},
    "a malformed authorization": lambda community, department: {"Authorization": "Basic dXNlcjpwdw=="},
}
OPERATIONS = [
    "petition_create",
    "appointment_book",
    "appointment_cancel",
    "appointment_reschedule",
    "slot_withdraw",
    "week_publish",
]


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("credential", CREDENTIALS)
def test_a_post_without_valid_credentials_is_401_even_with_csrf_enforced(
    csrf_client, community, published, writes, booked, operation, credential
):
    url, body = writes[operation]

    response = send(csrf_client, url, body, **CREDENTIALS[credential](community, published))

    assert response.status_code == 401, response.content
    assert response.json()["code"] == "not_authenticated"
    assert nothing_changed(booked)


def test_a_read_without_credentials_is_401(csrf_client, booked):
    response = csrf_client.get(f"/api/v1/appointments/{booked.pk}")

    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")


def test_a_signed_in_user_who_is_not_staff_is_401(csrf_client, django_user_model, writes, booked):
    csrf_client.force_login(django_user_model.objects.create_user("visitor", password="pw-for-tests-123"))
    url, body = writes["appointment_cancel"]

    response = send(csrf_client, url, body)

    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
    assert nothing_changed(booked)


@pytest.mark.parametrize("operation", ["appointment_cancel", "slot_withdraw", "week_publish"])
def test_a_signed_in_staff_member_without_the_csrf_token_is_refused_with_403(
    csrf_client, dept_admin, writes, booked, operation
):
    csrf_client.force_login(dept_admin.staff.user)
    url, body = writes[operation]

    response = send(csrf_client, url, body, **{"Accept-Language": "en"})

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "csrf_failed"
    assert "CSRF" in response.json()["detail"]
    assert nothing_changed(booked)


def test_a_signed_in_staff_member_with_the_csrf_token_may_write(csrf_client, dept_admin, writes, booked):
    csrf_client.force_login(dept_admin.staff.user)
    csrf_client.cookies["csrftoken"] = CSRF_SECRET
    url, body = writes["appointment_cancel"]

    response = send(csrf_client, url, body, **{"X-CSRFToken": CSRF_SECRET})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"


def test_a_signed_in_staff_member_reads_without_a_csrf_token(csrf_client, dept_admin, booked):
    csrf_client.force_login(dept_admin.staff.user)

    response = csrf_client.get(f"/api/v1/appointments/{booked.pk}")

    assert response.status_code == 200 and response.json()["id"] == booked.pk


def test_a_kiosk_key_needs_no_csrf_token_even_beside_a_staff_session(csrf_client, dept_admin, kiosk_key, booked):
    csrf_client.force_login(dept_admin.staff.user)

    response = send(csrf_client, f"/api/v1/appointments/{booked.pk}/cancel", {}, **{"X-Kiosk-Key": kiosk_key})

    assert response.status_code == 200, response.content


def test_a_staff_bearer_token_needs_no_csrf_token(csrf_client, dept_admin, writes, booked):
    url, body = writes["slot_withdraw"]

    response = send(csrf_client, url, body, Authorization=f"Bearer {f.token_for(dept_admin.staff)}")

    assert response.status_code == 200, response.content
    assert response.json()["cancelled_appointments"] == [booked.pk]
