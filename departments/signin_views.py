"""The second factor's pages: give a code, enrol an authenticator (QR code, recovery codes), use a recovery code."""

import base64

import segno
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .signin import (
    recovery_code_use,
    recovery_device,
    second_factor_pending,
    second_factor_verify,
    second_factor_wait_seconds,
    totp_device_confirmed,
    totp_device_for_enrolment,
    totp_enrol_confirm,
)

DEFAULT_NEXT = "/staff/"


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or DEFAULT_NEXT
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return DEFAULT_NEXT
    return target


def _to(name: str, next_url: str) -> HttpResponseRedirect:
    from django.urls import reverse
    from django.utils.http import urlencode

    return HttpResponseRedirect(f"{reverse(f'signin:{name}')}?{urlencode({'next': next_url})}")


def _wait_message(seconds: int) -> str:
    return _("Too many wrong codes. Please wait %(seconds)d seconds and try again.") % {"seconds": seconds}


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Ask the code from the person's authenticator app (or send them to enrol one first)."""
    next_url = _next(request)
    if not second_factor_pending(request.user):
        return HttpResponseRedirect(next_url)
    device = totp_device_confirmed(request.user)
    if device is None:
        return _to("enrol", next_url)
    error = ""
    status = 200
    if request.method == "POST":
        wait = second_factor_wait_seconds(device)
        if wait:
            error, status = _wait_message(wait), 429
        elif second_factor_verify(request=request, code=request.POST.get("code", "")):
            return HttpResponseRedirect(next_url)
        else:
            error, status = _("That code is not right. Enter the 6 digits your app shows now."), 400
    return render(request, "registration/second_factor.html", {"next": next_url, "error": error}, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    """First sign-in: show the secret as a QR code and text, confirm it with one code, then the recovery codes."""
    next_url = _next(request)
    if not second_factor_pending(request.user) or totp_device_confirmed(request.user) is not None:
        return _to("verify", next_url)
    device = totp_device_for_enrolment(user=request.user)
    error = ""
    status = 200
    if request.method == "POST":
        wait = second_factor_wait_seconds(device)
        if wait:
            error, status = _wait_message(wait), 429
        else:
            codes = totp_enrol_confirm(request=request, device=device, code=request.POST.get("code", ""))
            if codes is not None:
                return render(request, "registration/recovery_codes.html", {"codes": codes, "next": next_url})
            error, status = _("That code is not right. Enter the 6 digits your app shows now."), 400
    secret = base64.b32encode(device.bin_key).decode()
    context = {
        "next": next_url,
        "error": error,
        "qr": segno.make(device.config_url, error="m").svg_inline(scale=4, title=_("Authenticator QR code")),
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
    }
    return render(request, "registration/second_factor_enrol.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def recovery(request: HttpRequest) -> HttpResponse:
    """Sign in with one of the one-time recovery codes when the authenticator is lost."""
    next_url = _next(request)
    if not second_factor_pending(request.user):
        return HttpResponseRedirect(next_url)
    error = ""
    status = 200
    if request.method == "POST":
        wait = second_factor_wait_seconds(recovery_device(request.user))
        if wait:
            error, status = _wait_message(wait), 429
        elif recovery_code_use(request=request, code=request.POST.get("code", "")):
            return HttpResponseRedirect(next_url)
        else:
            error, status = _("That recovery code is not right, or it was used already."), 400
    return render(
        request, "registration/second_factor_recovery.html", {"next": next_url, "error": error}, status=status
    )
