"""The video join token is an API operation like every other: one authentication, one error body, and the same
404 for an appointment that is missing and for one that is not the caller's."""

import pytest
from django.test import Client

from appointments.models import Appointment, VideoSession
from departments.audit import AuditEvent
from departments.services import api_token_create

pytestmark = pytest.mark.django_db


def url(appointment_id: int) -> str:
    return f"/api/v1/appointments/{appointment_id}/video-token"


def bearer(actor) -> dict:
    return {"Authorization": f"Bearer {api_token_create(staff=actor.staff, name='tests')[1]}"}


def test_a_signed_in_staff_member_gets_a_token_only_with_the_csrf_token_of_the_page(
    local_video, live_appointment, dept_staff
):
    client = Client(enforce_csrf_checks=True)
    client.force_login(dept_staff.staff.user)

    refused = client.post(url(live_appointment.pk))
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"

    client.get(f"/staff/sessions/{live_appointment.pk}/join/")
    response = client.post(url(live_appointment.pk), headers={"X-CSRFToken": client.cookies["csrftoken"].value})

    assert response.status_code == 200
    body = response.json()
    assert body["room"] == f"petition-appointment-{live_appointment.pk}"
    assert body["identity"] == f"department:staff:{dept_staff.staff.pk}"
    assert body["side"] == "department" and body["provider"] == "local" and body["token"]


def test_the_join_page_points_its_script_at_the_api_operation(client, local_video, live_appointment, dept_staff):
    client.force_login(dept_staff.staff.user)

    page = client.get(f"/staff/sessions/{live_appointment.pk}/join/").content.decode()

    assert f'data-token-url="{url(live_appointment.pk)}"' in page


def test_the_kiosk_of_the_community_gets_a_token_with_its_key(client, local_video, live_appointment, kiosk_key):
    response = client.post(url(live_appointment.pk), headers={"X-Kiosk-Key": kiosk_key})

    assert response.status_code == 200
    assert response.json()["side"] == "community"


def test_a_staff_token_works_as_on_every_other_operation(client, local_video, live_appointment, officer):
    response = client.post(url(live_appointment.pk), headers=bearer(officer))

    assert response.status_code == 200
    assert response.json()["side"] == "petition_office"


@pytest.mark.parametrize("caller", ["other kiosk", "other department", "other community's worker"])
def test_an_appointment_that_is_not_yours_is_answered_exactly_as_one_that_does_not_exist(
    client, local_video, live_appointment, other_kiosk_and_key, outsider, other_worker, caller
):
    headers = {
        "other kiosk": {"X-Kiosk-Key": other_kiosk_and_key[1]},
        "other department": bearer(outsider),
        "other community's worker": bearer(other_worker),
    }[caller]
    missing = Appointment.objects.order_by("-pk").first().pk + 1

    theirs = client.post(url(live_appointment.pk), headers=headers)
    nobodys = client.post(url(missing), headers=headers)

    assert theirs.status_code == nobodys.status_code == 404
    assert theirs.json()["code"] == nobodys.json()["code"] == "not_found"
    assert theirs.json()["detail"].replace(str(live_appointment.pk), "N") == nobodys.json()["detail"].replace(
        str(missing), "N"
    )
    assert not VideoSession.objects.exists()


def test_refused_tries_write_nothing_to_the_audit_trail(
    client, local_video, appointment, other_kiosk_and_key, kiosk_key
):
    before = AuditEvent.objects.count()

    for _ in range(5):
        assert client.post(url(appointment.pk), headers={"X-Kiosk-Key": other_kiosk_and_key[1]}).status_code == 404
    # The resident's own kiosk, a day early: it may know why, and is told.
    early = client.post(url(appointment.pk), headers={"X-Kiosk-Key": kiosk_key, "Accept-Language": "en"})

    assert early.status_code == 403 and "Joining opens" in early.json()["detail"]
    assert AuditEvent.objects.count() == before


def test_tries_are_throttled_like_every_other_operation(
    client, settings, local_video, appointment, other_kiosk_and_key
):
    settings.API_THROTTLE_CALLER = "3/min"
    headers = {"X-Kiosk-Key": other_kiosk_and_key[1]}

    statuses = [client.post(url(appointment.pk), headers=headers).status_code for _ in range(5)]

    assert statuses == [404, 404, 404, 429, 429]


def test_nobody_signed_in_is_asked_to_authenticate(client, local_video, live_appointment):
    response = client.post(url(live_appointment.pk))

    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_the_operation_is_documented_with_its_answer_and_its_errors(client):
    operation = client.get("/api/openapi.json").json()["paths"]["/api/v1/appointments/{appointment_id}/video-token"][
        "post"
    ]

    assert operation["operationId"] == "video_token_issue"
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/VideoTokenOut"
    }
    assert {"401", "403", "404", "429", "503"} <= set(operation["responses"])
    assert {"KioskKey", "StaffToken", "StaffSession"} == {name for s in operation["security"] for name in s}


def test_the_old_hand_authenticated_address_is_gone(client, local_video, live_appointment, kiosk_key):
    response = client.post(f"/staff/sessions/{live_appointment.pk}/token", headers={"X-Kiosk-Key": kiosk_key})

    assert response.status_code == 404


def test_an_unreachable_video_service_is_a_503_with_the_one_error_body(client, settings, live_appointment, kiosk_key):
    settings.VIDEO_BACKEND = "appointments.video.twilio.TwilioVideoBackend"
    settings.TWILIO_API_KEY_SECRET = ""

    response = client.post(url(live_appointment.pk), headers={"X-Kiosk-Key": kiosk_key})

    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable" and response.json()["detail"]


def test_the_twilio_room_is_created_with_our_status_callback(client, twilio_video, live_appointment, kiosk_key):
    response = client.post(url(live_appointment.pk), headers={"X-Kiosk-Key": kiosk_key})

    assert response.status_code == 200
    _method, _url, data = twilio_video.sent[0]
    assert data["StatusCallback"] == "http://testserver/webhooks/twilio/video"
    assert data["UniqueName"] == f"petition-appointment-{live_appointment.pk}"
    session = VideoSession.objects.get(appointment=live_appointment)
    assert session.provider == "twilio" and session.room_sid.startswith("RM")
