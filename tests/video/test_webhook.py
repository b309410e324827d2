"""Twilio's room status callbacks: only signed ones count, each is kept once, and time order wins."""

import datetime as dt

import pytest
from twilio.request_validator import RequestValidator

from appointments.models import VideoParticipant, VideoParticipantEvent, VideoSession
from appointments.video.services import video_token_issue
from tests.video.support import TEST_AUTH_TOKEN

pytestmark = pytest.mark.django_db

URL = "http://testserver/webhooks/twilio/video"
T0 = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)


def stamp(minutes: float) -> str:
    return (T0 + dt.timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def sign(params: dict, url: str = URL, token: str = TEST_AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


@pytest.fixture
def session(twilio_credentials, local_video, appointment, dept_staff):
    grant = video_token_issue(actor=dept_staff, appointment_id=appointment.pk, now=appointment.slot.starts_at)
    return grant.session


def event(session: VideoSession, name: str, minutes: float, sequence: int, **extra) -> dict:
    return {
        "AccountSid": "AC" + "1" * 32,
        "RoomName": session.room_name,
        "RoomSid": "RM" + "b" * 32,
        "RoomStatus": "completed" if name == "room-ended" else "in-progress",
        "RoomType": "group",
        "StatusCallbackEvent": name,
        "Timestamp": stamp(minutes),
        "SequenceNumber": str(sequence),
        **extra,
    }


def joined(session, minutes, sequence, sid="PA1", identity="department:staff:1"):
    return event(session, "participant-connected", minutes, sequence, ParticipantSid=sid, ParticipantIdentity=identity)


def left(session, minutes, sequence, sid="PA1", identity="department:staff:1"):
    return event(
        session,
        "participant-disconnected",
        minutes,
        sequence,
        ParticipantSid=sid,
        ParticipantIdentity=identity,
        ParticipantDuration="300",
    )


def deliver(client, params: dict, *, signature: str | None = None, **headers):
    if signature is None:
        signature = sign(params)
    if signature:
        headers["X-Twilio-Signature"] = signature
    return client.post("/webhooks/twilio/video", params, headers=headers)


def test_a_signed_callback_is_recorded(client, session):
    response = deliver(client, event(session, "room-created", 0, 0))

    assert response.status_code == 200
    session.refresh_from_db()
    assert session.status == VideoSession.Status.IN_PROGRESS
    assert session.started_at == T0
    assert session.room_sid == "RM" + "b" * 32


def test_an_unsigned_callback_is_refused(client, session):
    response = deliver(client, event(session, "room-created", 0, 0), signature="")

    assert response.status_code == 403
    assert not VideoParticipantEvent.objects.exists()


def test_a_callback_signed_with_another_key_is_refused(client, session):
    params = event(session, "room-created", 0, 0)

    response = deliver(client, params, signature=sign(params, token="not-our-auth-token-0123456789abcdef"))

    assert response.status_code == 403
    assert not VideoParticipantEvent.objects.exists()


def test_a_callback_altered_after_signing_is_refused(client, session):
    params = joined(session, 1, 1)
    signature = sign(params)
    params["ParticipantIdentity"] = "community:kiosk:1"

    response = deliver(client, params, signature=signature)

    assert response.status_code == 403
    assert not VideoParticipant.objects.exists()


def test_a_callback_signed_for_another_address_is_refused(client, session):
    params = event(session, "room-created", 0, 0)

    response = deliver(client, params, signature=sign(params, url="https://elsewhere.example/webhooks/twilio/video"))

    assert response.status_code == 403


def test_a_get_is_not_a_callback(client, session):
    assert client.get("/webhooks/twilio/video").status_code == 405


def test_a_repeated_callback_is_kept_once(client, session):
    params = joined(session, 1, 1)

    first = deliver(client, params)
    again = deliver(client, params)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.content == b"duplicate"
    assert VideoParticipantEvent.objects.filter(session=session).count() == 1
    assert VideoParticipant.objects.filter(session=session).count() == 1


def test_callbacks_arriving_out_of_order_are_applied_in_time_order(client, session):
    # Twilio sends them in order; the network does not promise to deliver them so.
    for params in (
        left(session, 20, 4),
        event(session, "room-ended", 25, 5),
        joined(session, 2, 2),
        event(session, "room-created", 0, 0),
        joined(session, 3, 3, sid="PA2", identity="community:kiosk:9"),
    ):
        assert deliver(client, params).status_code == 200

    session.refresh_from_db()
    assert session.status == VideoSession.Status.COMPLETED
    assert (session.started_at, session.ended_at) == (T0, T0 + dt.timedelta(minutes=25))
    staff = VideoParticipant.objects.get(session=session, participant_sid="PA1")
    assert (staff.joined_at, staff.left_at) == (T0 + dt.timedelta(minutes=2), T0 + dt.timedelta(minutes=20))
    assert staff.side == "department"
    resident = VideoParticipant.objects.get(session=session, participant_sid="PA2")
    assert resident.side == "community" and resident.left_at is None


def test_a_room_reopened_after_it_ended_is_in_progress_again(client, session):
    for params in (event(session, "room-created", 0, 0), event(session, "room-ended", 10, 1)):
        deliver(client, params)
    deliver(client, event(session, "room-created", 12, 0) | {"RoomSid": "RM" + "c" * 32})

    session.refresh_from_db()
    assert session.status == VideoSession.Status.IN_PROGRESS and session.ended_at is None


def test_a_callback_for_a_room_we_never_made_is_acknowledged_and_ignored(client, session):
    params = event(session, "room-created", 0, 0) | {"RoomName": "someone-elses-room", "RoomSid": "RM" + "d" * 32}

    response = deliver(client, params)

    assert response.status_code == 200 and response.content == b"unknown_room"
    assert not VideoParticipantEvent.objects.exists()


def test_behind_a_trusted_proxy_the_public_address_is_the_one_validated(client, session, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.USE_X_FORWARDED_HOST = True
    settings.ALLOWED_HOSTS = ["testserver", "petition.example.gov.cn"]
    params = event(session, "room-created", 0, 0)
    public = "https://petition.example.gov.cn/webhooks/twilio/video"
    proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "petition.example.gov.cn"}

    assert deliver(client, params, signature=sign(params, url=URL), **proxy).status_code == 403
    assert deliver(client, params, signature=sign(params, url=public), **proxy).status_code == 200


def test_proxy_headers_are_ignored_unless_the_proxy_is_trusted(client, session, settings):
    settings.SECURE_PROXY_SSL_HEADER = None
    settings.USE_X_FORWARDED_HOST = False
    params = event(session, "room-created", 0, 0)
    public = "https://petition.example.gov.cn/webhooks/twilio/video"
    proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "petition.example.gov.cn"}

    assert deliver(client, params, signature=sign(params, url=public), **proxy).status_code == 403
    assert deliver(client, params, signature=sign(params, url=URL), **proxy).status_code == 200


def test_a_configured_public_address_is_the_one_validated(client, session, settings):
    settings.VIDEO_PUBLIC_BASE_URL = "https://petition.example.gov.cn"
    params = event(session, "room-created", 0, 0)

    assert deliver(client, params).status_code == 403
    signature = sign(params, url="https://petition.example.gov.cn/webhooks/twilio/video")
    assert deliver(client, params, signature=signature).status_code == 200


def test_without_an_auth_token_every_callback_is_refused(client, session, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    params = event(session, "room-created", 0, 0)

    assert deliver(client, params, signature=sign(params, token="")).status_code == 403
