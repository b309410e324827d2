"""The Twilio backend drives the real twilio client against Prism, which checks each request against Twilio's API."""

import jwt
import pytest
from twilio.http.response import Response

from appointments.video.base import VideoProviderError, video_provider
from appointments.video.twilio import TwilioVideoBackend
from tests.video.support import TEST_ACCOUNT_SID, TEST_API_KEY_SECRET, TEST_API_KEY_SID, PrismHttpClient

CALLBACK = "https://petition.example.gov.cn/webhooks/twilio/video"


def test_the_setting_chooses_the_twilio_backend(twilio_video):
    assert isinstance(video_provider(), TwilioVideoBackend)
    assert video_provider().name == "twilio"


def test_it_creates_a_group_room_named_for_the_appointment_with_callback_and_limits(twilio_video, settings):
    room = video_provider().room_ensure(unique_name="petition-appointment-42", status_callback=CALLBACK)

    assert room.sid.startswith("RM")
    method, url, data = twilio_video.sent[-1]
    assert (method, url) == ("POST", f"{PrismHttpClient.base_url}/v1/Rooms")
    assert data["UniqueName"] == "petition-appointment-42"
    assert data["Type"] == "group"
    assert data["StatusCallback"] == CALLBACK
    assert data["StatusCallbackMethod"] == "POST"
    assert data["MaxParticipants"] == settings.VIDEO_MAX_PARTICIPANTS
    assert data["EmptyRoomTimeout"] == settings.VIDEO_EMPTY_ROOM_TIMEOUT_MINUTES
    assert data["UnusedRoomTimeout"] == settings.VIDEO_UNUSED_ROOM_TIMEOUT_MINUTES


def test_it_completes_a_room(twilio_video):
    video_provider().room_complete(room_sid="RM" + "a" * 32)

    method, url, data = twilio_video.sent[-1]
    assert method == "POST" and url.endswith("/v1/Rooms/RM" + "a" * 32)
    assert data == {"Status": "completed"}


def test_a_request_twilio_would_refuse_becomes_a_permanent_provider_error(twilio_video, settings):
    settings.VIDEO_EMPTY_ROOM_TIMEOUT_MINUTES = "soon"  # Prism answers 422, as Twilio would answer 400

    with pytest.raises(VideoProviderError) as caught:
        video_provider().room_ensure(unique_name="petition-appointment-43", status_callback=None)
    assert caught.value.permanent


def test_it_reuses_the_room_in_progress_when_the_name_is_taken(twilio_video, monkeypatch):
    original = PrismHttpClient.request

    def room_exists_once(self, method, url, *args, **kwargs):
        if method == "POST" and url.endswith("/v1/Rooms"):
            PrismHttpClient.sent.append((method, url, dict(kwargs.get("data") or {})))
            return Response(400, '{"code": 53113, "message": "Room exists", "status": 400}')
        return original(self, method, url, *args, **kwargs)

    monkeypatch.setattr(PrismHttpClient, "request", room_exists_once)
    room = video_provider().room_ensure(unique_name="petition-appointment-44", status_callback=None)

    assert room.sid.startswith("RM")
    assert [(m, u.rsplit("/", 1)[-1]) for m, u, _ in twilio_video.sent] == [
        ("POST", "Rooms"),
        ("GET", "petition-appointment-44"),
    ]


def test_it_says_so_when_twilio_cannot_be_reached(twilio_video):
    PrismHttpClient.base_url = "http://127.0.0.1:9"  # nothing listens on the discard port

    with pytest.raises(VideoProviderError) as caught:
        video_provider().room_ensure(unique_name="petition-appointment-45", status_callback=None)
    assert not caught.value.permanent


def test_tokens_grant_one_room_to_one_identity_for_a_short_time(twilio_video, settings):
    settings.VIDEO_TOKEN_TTL_SECONDS = 300
    token = video_provider().token_mint(identity="department:staff:7", room="petition-appointment-42", ttl=300)

    claims = jwt.decode(token, TEST_API_KEY_SECRET, algorithms=["HS256"])
    assert claims["iss"] == TEST_API_KEY_SID
    assert claims["sub"] == TEST_ACCOUNT_SID
    assert claims["grants"] == {"identity": "department:staff:7", "video": {"room": "petition-appointment-42"}}
    assert claims["exp"] - claims["nbf"] <= 300


def test_the_backend_refuses_to_start_without_credentials(settings):
    settings.TWILIO_API_KEY_SECRET = ""

    with pytest.raises(VideoProviderError):
        TwilioVideoBackend()
