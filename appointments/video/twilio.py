"""Twilio Programmable Video: group rooms created server-side, tokens minted locally, signed callbacks."""

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VideoGrant
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from .base import Room, VideoProviderError

# Twilio's error for "a room with this UniqueName is already in progress".
# Network failures surface from the client as requests' exceptions, not Twilio's; both mean "try again".
ROOM_EXISTS = 53113


class TwilioVideoBackend:
    name = "twilio"

    def __init__(self, *, http_client: TwilioHttpClient | None = None):
        self.account_sid = settings.TWILIO_ACCOUNT_SID
        self.api_key_sid = settings.TWILIO_API_KEY_SID
        self.api_key_secret = settings.TWILIO_API_KEY_SECRET
        self.auth_token = settings.TWILIO_AUTH_TOKEN
        if not (self.account_sid and self.api_key_sid and self.api_key_secret and self.auth_token):
            raise VideoProviderError(
                "Twilio video needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_API_KEY_SID, TWILIO_API_KEY_SECRET.",
                permanent=True,
            )
        self.http_client = http_client or self.http_client_default()

    def http_client_default(self) -> TwilioHttpClient:
        return TwilioHttpClient(timeout=10)

    def client(self) -> Client:
        # An API key, not the account's auth token, authenticates REST calls (it can be revoked alone).
        return Client(self.api_key_sid, self.api_key_secret, self.account_sid, http_client=self.http_client)

    def room_ensure(self, *, unique_name: str, status_callback: str | None) -> Room:
        rooms = self.client().video.v1.rooms
        options = {
            "unique_name": unique_name,
            "type": "group",  # new Twilio accounts get group rooms only
            "max_participants": settings.VIDEO_MAX_PARTICIPANTS,
            "empty_room_timeout": settings.VIDEO_EMPTY_ROOM_TIMEOUT_MINUTES,
            "unused_room_timeout": settings.VIDEO_UNUSED_ROOM_TIMEOUT_MINUTES,
        }
        if status_callback:
            options.update(status_callback=status_callback, status_callback_method="POST")
        try:
            room = rooms.create(**options)
        except TwilioRestException as error:
            if error.code != ROOM_EXISTS:
                raise VideoProviderError(f"Twilio refused the room: {error.msg}", permanent=error.status < 500)
            try:
                room = rooms(unique_name).fetch()
            except (TwilioException, requests.RequestException) as again:
                raise VideoProviderError(f"Twilio room lookup failed: {again}") from again
        except (TwilioException, requests.RequestException) as error:
            raise VideoProviderError(f"Twilio could not be reached: {error}") from error
        return Room(sid=room.sid, unique_name=room.unique_name or unique_name, status=room.status or "in-progress")

    def room_complete(self, *, room_sid: str) -> None:
        try:
            self.client().video.v1.rooms(room_sid).update(status="completed")
        except TwilioRestException as error:
            # Already ended (or never started): nothing left to close.
            if error.status == 404:
                return
            raise VideoProviderError(f"Twilio did not end the room: {error.msg}", permanent=error.status < 500)
        except (TwilioException, requests.RequestException) as error:
            raise VideoProviderError(f"Twilio could not be reached: {error}") from error

    def token_mint(self, *, identity: str, room: str, ttl: int) -> str:
        token = AccessToken(self.account_sid, self.api_key_sid, self.api_key_secret, identity=identity, ttl=ttl)
        token.add_grant(VideoGrant(room=room))
        return token.to_jwt()


def callback_signature_valid(*, url: str, params: dict[str, str], signature: str) -> bool:
    """Check X-Twilio-Signature with the account's auth token, whichever backend makes the rooms."""
    if not (signature and settings.TWILIO_AUTH_TOKEN):
        return False
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(url, params, signature)
