"""The small interface every video provider implements, and how the configured one is chosen."""

from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class VideoProviderError(Exception):
    """A provider call failed; `permanent` says whether retrying can help."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Room:
    sid: str
    unique_name: str
    status: str = "in-progress"


class VideoProvider(Protocol):
    # "twilio" or "local": the join page uses it to decide whether to connect at all.
    name: str

    def room_ensure(self, *, unique_name: str, status_callback: str | None) -> Room:
        """Create the group room for this name, or return the one already in progress."""
        ...

    def room_complete(self, *, room_sid: str) -> None:
        """End the room for everyone in it."""
        ...

    def token_mint(self, *, identity: str, room: str, ttl: int) -> str:
        """Mint an access token that lets one identity into one room."""
        ...


def video_provider() -> VideoProvider:
    """Return the provider named by settings.VIDEO_BACKEND (a dotted path, like EMAIL_BACKEND)."""
    return import_string(settings.VIDEO_BACKEND)()
