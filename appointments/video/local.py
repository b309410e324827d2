"""A video provider for the demo and tests: no account, no network, and an outbox of what it was asked."""

import hashlib
import hmac

from django.conf import settings
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VideoGrant

from .base import Room

# What the local backend was asked to do, newest last (like Django's locmem email outbox).
outbox: list[tuple[str, dict]] = []

LOCAL_ACCOUNT_SID = "AC" + "0" * 32
LOCAL_KEY_SID = "SK" + "0" * 32


def _local_secret() -> str:
    return hmac.new(settings.SECRET_KEY.encode(), b"local-video", hashlib.sha256).hexdigest()


class LocalVideoBackend:
    name = "local"

    def room_ensure(self, *, unique_name: str, status_callback: str | None) -> Room:
        outbox.append(("room_ensure", {"unique_name": unique_name, "status_callback": status_callback}))
        return Room(sid="local-" + unique_name, unique_name=unique_name)

    def room_complete(self, *, room_sid: str) -> None:
        outbox.append(("room_complete", {"room_sid": room_sid}))

    def token_mint(self, *, identity: str, room: str, ttl: int) -> str:
        # The same kind of token Twilio would get, signed with a local key; no server will accept it.
        token = AccessToken(LOCAL_ACCOUNT_SID, LOCAL_KEY_SID, _local_secret(), identity=identity, ttl=ttl)
        token.add_grant(VideoGrant(room=room))
        return token.to_jwt()
