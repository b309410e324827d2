"""The API operation that lets a participant into an appointment's video room: a thin call into the video service."""

import datetime as dt

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Path, Router, Schema

from departments.auth import any_caller
from scheduler.errors import DomainError
from scheduler.schemas import errors

from ..models import VideoParticipantEvent
from .base import VideoProviderError
from .services import video_token_issue

router = Router(auth=any_caller(), tags=["appointments"])


class VideoUnavailable(DomainError):
    """The video provider cannot be reached or is not set up; nothing was issued."""

    status_code = 503
    code = "service_unavailable"


class VideoTokenOut(Schema):
    token: str = Field(..., description="The access token to connect with (Twilio Video, or a local preview token)")
    room: str = Field(..., description="The room's unique name")
    identity: str = Field(..., description="Who the caller is in the room: their side and principal, no personal data")
    side: VideoParticipantEvent.Side = Field(..., description="Which side of the table the caller sits on")
    provider: str = Field(..., description="`twilio`, or `local` when no provider is configured (preview only)")
    expires_at: dt.datetime = Field(..., description="When the token stops working")


def status_callback_url(request: HttpRequest) -> str:
    """The address the provider reports room events to (the public one when the server sits behind a proxy)."""
    path = reverse("video-webhook")
    if settings.VIDEO_PUBLIC_BASE_URL:
        return settings.VIDEO_PUBLIC_BASE_URL + path
    return request.build_absolute_uri(path)


@router.post(
    "/appointments/{appointment_id}/video-token",
    response={200: VideoTokenOut, **errors(401, 403, 404, 422, 503)},
    operation_id="video_token_issue",
    url_name="video_token_issue",
    summary="Get a token to join an appointment's video room",
    description=(
        "Opens the appointment's room if need be and mints a short-lived token for the caller: the kiosk or "
        "community worker of its community, its department's staff, or a petition officer. To anyone else the "
        "appointment is a 404, exactly as one that does not exist. 403 when the caller belongs in the room but "
        "it is not open now (before the join window, after it, or the appointment is no longer booked); 503 when "
        "the video service cannot be reached. Kiosk key or staff (a session sends its CSRF token)."
    ),
)
def video_token_issue_endpoint(request, appointment_id: int = Path(..., description="The appointment's id")):
    try:
        grant = video_token_issue(
            actor=request.auth, appointment_id=appointment_id, status_callback=status_callback_url(request)
        )
    except VideoProviderError:
        raise VideoUnavailable(
            _("The video service cannot be reached right now. Please try again in a minute.")
        ) from None
    return {
        "token": grant.token,
        "room": grant.room_name,
        "identity": grant.identity,
        "side": grant.side,
        "provider": grant.provider,
        "expires_at": grant.expires_at,
    }
