"""Signing in: who needs a second factor (TOTP), enrolment, codes and recovery codes, deactivating staff accounts,
and the limit on wrong kiosk keys and bearer tokens from one address. See docs/signin.md."""

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from ninja.throttling import BaseThrottle

from .audit import AuditEvent, audit_record
from .models import ApiToken, StaffMember
from .services import Actor, staff_for_user

# Roles whose sign-in asks a code after the password; admin-site users (is_staff, superusers) are asked too.
SECOND_FACTOR_ROLES = (StaffMember.Role.PETITION_OFFICER, StaffMember.Role.DEPARTMENT_ADMIN)
RECOVERY_CODES = 10
TOTP_DEVICE_NAME = "authenticator"
RECOVERY_DEVICE_NAME = "recovery codes"
# Pages a signed-in person still needs before giving the code: the code pages themselves, signing out, the
# language switch and static files. The API decides for itself (departments/auth.py: StaffSession), kiosk pages and
# webhooks do not use a person's session.
NOT_GUARDED = (
    "/accounts/login/",
    "/accounts/logout/",
    "/accounts/second-factor/",
    "/admin/login/",
    "/admin/logout/",
    "/static/",
    "/i18n/",
    "/favicon.ico",
    "/api/",
    "/kiosk/",
    "/webhooks/",
)


def second_factor_required(user) -> bool:
    """Whether this user must give a TOTP code after the password: officers, department admins, admin-site users."""
    if not getattr(settings, "SIGNIN_OTP_REQUIRED", True) or user is None or not user.is_authenticated:
        return False
    if user.is_superuser or user.is_staff:
        return True
    try:
        return user.staff.role in SECOND_FACTOR_ROLES
    except StaffMember.DoesNotExist:
        return False


def second_factor_pending(user) -> bool:
    """Whether this user must still give a code in this session."""
    return second_factor_required(user) and not (hasattr(user, "is_verified") and user.is_verified())


def second_factor_redirect(request: HttpRequest, next_url: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse('signin:verify')}?{urlencode({'next': next_url})}")


class SecondFactorRequired:
    """Send a person who signed in with a password but still owes a code to the code page, for every staff page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(NOT_GUARDED) and second_factor_pending(request.user):
            return second_factor_redirect(request, request.get_full_path())
        return self.get_response(request)


def totp_device_confirmed(user) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def totp_device_for_enrolment(*, user) -> TOTPDevice:
    """The person's unconfirmed authenticator, made on first use; its secret stays the same until confirmed."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def _actor_for(user) -> Actor | None:
    staff = staff_for_user(user)
    return Actor(staff=staff) if staff else None


@transaction.atomic
def totp_enrol_confirm(*, request: HttpRequest, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm a new authenticator with its first code; return fresh one-time recovery codes, or None if wrong."""
    user = request.user
    if device.user_id != user.pk or device.confirmed or not device.verify_token(_digits(code)):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    # One authenticator and one set of recovery codes per person: enrolling again replaces both.
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    StaticDevice.objects.filter(user=user).delete()
    recovery = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=recovery, token=c) for c in codes])
    otp_login(request, device)
    audit_record(actor=_actor_for(user), user=user, action="signin.totp_enrol", target=device)
    return codes


def second_factor_verify(*, request: HttpRequest, code: str) -> bool:
    """Check a code from the person's authenticator; a right one marks this session verified."""
    device = totp_device_confirmed(request.user)
    if device is None or not device.verify_token(_digits(code)):
        return False
    otp_login(request, device)
    return True


def recovery_device(user) -> StaticDevice | None:
    return StaticDevice.objects.devices_for_user(user, confirmed=True).first()


@transaction.atomic
def recovery_code_use(*, request: HttpRequest, code: str) -> bool:
    """Check a one-time recovery code; a right one is used up and marks this session verified."""
    device = recovery_device(request.user)
    token = "".join(code.split()).lower()[:16]
    if device is None or not token or not device.verify_token(token):
        return False
    otp_login(request, device)
    audit_record(
        actor=_actor_for(request.user),
        user=request.user,
        action="signin.recovery_code_used",
        target=device,
        detail={"left": device.token_set.count()},
    )
    return True


def second_factor_wait_seconds(device: Device | None) -> int:
    """Seconds before this device accepts another try after wrong codes (django-otp doubles the wait each time)."""
    if device is None:
        return 0
    allowed, data = device.verify_is_allowed()
    if allowed or not data or "locked_until" not in data:
        return 0
    return max(1, int((data["locked_until"] - timezone.now()).total_seconds()) + 1)


def _digits(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch.isdigit())[:8]


def user_on_record(user) -> bool:
    """Whether deleting this account would lose who did what: a staff member, or anyone in the audit trail."""
    return StaffMember.objects.filter(user=user).exists() or AuditEvent.objects.filter(user=user).exists()


@transaction.atomic
def user_deactivate(*, user, by) -> bool:
    """Stop an account signing in (password, API tokens, second factor) while keeping it on record."""
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        return False
    user.is_active = False
    user.save(update_fields=["is_active"])
    ApiToken.objects.filter(staff__user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    audit_record(actor=_actor_for(by), user=by, action="user.deactivate", target=user)
    return True


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by) -> bool:
    """Stop a personal API token working, for good."""
    if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()) == 0:
        return False
    audit_record(actor=_actor_for(by), user=by, action="api_token.revoke", target=token)
    return True


# Wrong kiosk keys and bearer tokens, counted per client address in the shared cache. Keys are long random
# secrets, so the limit is not what stops guessing; it stops an address from making the service look up key after
# key. Per address: a kiosk behind the same address as the one sending wrong keys waits out the window too.
def _bad_credentials_key(request: HttpRequest) -> str:
    return f"signin:bad-credentials:{BaseThrottle().get_ident(request) or 'unknown'}"


def bad_credentials_blocked(request: HttpRequest) -> bool:
    """Whether this address sent too many wrong keys or tokens in the window (then no key is even looked up)."""
    return (cache.get(_bad_credentials_key(request)) or 0) >= settings.BAD_CREDENTIALS_LIMIT


def bad_credentials_note(request: HttpRequest) -> None:
    """Count one wrong kiosk key or bearer token from this address; the window starts at the first."""
    key = _bad_credentials_key(request)
    window = settings.BAD_CREDENTIALS_WINDOW_SECONDS
    try:
        cache.add(key, 0, window)
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)


class TooManyWrongCredentials(Exception):
    """This address sent too many wrong kiosk keys or tokens: it waits out the window before any is looked up."""

    def __init__(self) -> None:
        self.retry_after = settings.BAD_CREDENTIALS_WINDOW_SECONDS
        self.message = _(
            "Too many wrong kiosk keys or tokens came from this address. Please wait %(minutes)d minutes."
        ) % {"minutes": max(1, self.retry_after // 60)}
        super().__init__(self.message)


def credential_check[T](request: HttpRequest, look_up: Callable[[], T | None]) -> T | None:
    """Look a kiosk key or token up unless this address is blocked (TooManyWrongCredentials); count a wrong one."""
    if bad_credentials_blocked(request):
        raise TooManyWrongCredentials()
    found = look_up()
    if found is None:
        bad_credentials_note(request)
    return found


def axes_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The username a failed sign-in is counted under, cut to the longest a user can have.

    Django's login form does not refuse an over-long username before authenticating; axes would then store it
    whole, and PostgreSQL refuses more than its column holds (a 500 for a 10,000-character name).
    """
    source = credentials if credentials else getattr(request, "data", request.POST)
    username = source.get(settings.AXES_USERNAME_FORM_FIELD) if source else None
    if username is None:
        return None
    field = get_user_model()._meta.get_field(get_user_model().USERNAME_FIELD)
    longest = getattr(field, "max_length", None) or 150
    return str(username)[:longest]


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """The page django-axes shows while sign-in is paused: how many wrong passwords, and how long to wait."""
    from axes.helpers import get_cool_off, get_failure_limit
    from django.shortcuts import render

    cool_off = get_cool_off(request)
    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "cooloff_timedelta": cool_off,
        "cooloff_minutes": max(1, round(cool_off.total_seconds() / 60)) if cool_off else None,
    }
    return render(request, "registration/locked_out.html", context, status=429)
