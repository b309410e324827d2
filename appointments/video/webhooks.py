"""Twilio's room status callbacks: signed, possibly repeated, possibly out of order."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .services import video_callback_record
from .twilio import callback_signature_valid


def callback_url(request: HttpRequest) -> str:
    """The exact address Twilio called: the configured public one, or this request's (proxy headers per settings)."""
    if settings.VIDEO_PUBLIC_BASE_URL:
        return settings.VIDEO_PUBLIC_BASE_URL + request.get_full_path()
    return request.build_absolute_uri()


@csrf_exempt
@require_POST
def twilio_video(request: HttpRequest) -> HttpResponse:
    params = request.POST.dict()
    if not callback_signature_valid(
        url=callback_url(request), params=params, signature=request.headers.get("X-Twilio-Signature", "")
    ):
        return HttpResponse("invalid signature", status=403, content_type="text/plain")
    outcome = video_callback_record(params=params)
    # Twilio only needs a 2xx; the outcome helps whoever reads the provider's debugger.
    return HttpResponse(outcome, content_type="text/plain")
