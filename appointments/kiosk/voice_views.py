"""The kiosk's voice and elder-mode switches, and the audio rendered on demand."""

import json
import logging
import subprocess

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from .voice import VoiceToolMissing, clip_urls, idle_clips, render, said_path, say_token_read, screen_clips

logger = logging.getLogger(__name__)
# Both are remembered for this visit only: starting over (or the idle reset) flushes the session.
VOICE_ON = "kiosk_voice_on"
ELDER = "kiosk_elder"
# The clip's name is a digest of its text, so a cached copy never goes stale.
AUDIO_MAX_AGE = 30 * 24 * 3600


def assist_context(request, template: str, context: dict) -> dict:
    """What every kiosk page needs for the voice button and the large-text switch."""
    clips = screen_clips(template, context)
    return {
        "voice_on": bool(request.session.get(VOICE_ON)),
        "elder": bool(request.session.get(ELDER)),
        "voice_playlist": json.dumps(clip_urls(clips)),
        "voice_idle_playlist": json.dumps(clip_urls(idle_clips())),
        # A screen that had nothing to forget (Start, fresh) starts the idle reset once a switch is turned on.
        "idle_on_switch": settings.KIOSK_IDLE_SECONDS if getattr(request, "kiosk", None) else 0,
    }


def _switched(request, key: str, on: bool):
    if on:
        request.session[key] = True
    else:
        request.session.pop(key, None)
    if request.headers.get("X-Kiosk-Switch"):  # kiosk.js switches in place and only tells the server
        return HttpResponse(status=204)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=False):
        back = ""
    return redirect(back or "kiosk:start")


@require_POST
def voice_switch(request):
    """Turn reading aloud on or off for the rest of this visit."""
    return _switched(request, VOICE_ON, request.POST.get("voice") == "on")


@require_POST
def elder_switch(request):
    """Turn large text on or off for the rest of this visit."""
    return _switched(request, ELDER, request.POST.get("elder") == "on")


@require_GET
def say(request, token: str):
    """Play a text this server signed into a page (a department's name, a day): rendered once, then cached."""
    asked = say_token_read(token)
    if asked is None:
        raise Http404
    text, language = asked
    path = said_path(text, language)
    if not path.exists():
        try:
            render(text, language, path)
        except (VoiceToolMissing, subprocess.SubprocessError, OSError):
            logger.exception("kiosk voice: a clip could not be rendered")  # the page skips it and reads on
            return HttpResponse(status=503)
    else:
        path.touch()  # kept while in use; the build forgets clips unused for a while
    response = FileResponse(path.open("rb"), content_type="audio/ogg")
    response["Cache-Control"] = f"public, max-age={AUDIO_MAX_AGE}, immutable"
    return response
