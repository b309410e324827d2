"""Twilio's SMS status callbacks: signed, possibly repeated, possibly out of order."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..video.twilio import callback_signature_valid
from .delivery import sms_status_record


def callback_url(request: HttpRequest) -> str:
    """The exact address Twilio called: the public one each message was sent with (see sms_status_callback_url)."""
    return settings.PUBLIC_BASE_URL + request.get_full_path()


@csrf_exempt
@require_POST
def twilio_sms(request: HttpRequest) -> HttpResponse:
    params = request.POST.dict()
    if not callback_signature_valid(
        url=callback_url(request), params=params, signature=request.headers.get("X-Twilio-Signature", "")
    ):
        return HttpResponse("invalid signature", status=403, content_type="text/plain")
    outcome = sms_status_record(params=params)
    # Twilio only needs a 2xx; the outcome helps whoever reads the provider's debugger.
    return HttpResponse(outcome, content_type="text/plain")
