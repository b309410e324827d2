"""How API callers prove who they are: a kiosk key, a staff bearer token, or a staff session."""

from collections.abc import Callable

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import APIKeyHeader, HttpBearer
from ninja.security.session import SessionAuth
from ninja.utils import check_csrf

from .services import Actor, api_token_authenticate, kiosk_authenticate, staff_for_user
from .signin import TooManyWrongCredentials, credential_check, second_factor_pending


class CsrfRefused(HttpError):
    """A signed-in session sent a change without the CSRF token of our pages."""

    def __init__(self) -> None:
        super().__init__(403, "CSRF check failed")


class SignInRefused(HttpError):
    """A caller refused before any key is looked up: too many wrong keys, or a session that still owes its code."""

    def __init__(self, status_code: int, message, retry_after: int | None = None) -> None:
        super().__init__(status_code, str(message))
        self.message = message
        self.retry_after = retry_after


def _counted[T](request: HttpRequest, look_up: Callable[[], T | None]) -> T | None:
    try:
        return credential_check(request, look_up)
    except TooManyWrongCredentials as refused:
        raise SignInRefused(429, refused.message, retry_after=refused.retry_after)


class KioskKey(APIKeyHeader):
    param_name = "X-Kiosk-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        if not key:
            return None
        kiosk = _counted(request, lambda: kiosk_authenticate(key))
        return Actor(kiosk=kiosk) if kiosk else None


class StaffToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        staff = _counted(request, lambda: api_token_authenticate(token))
        return Actor(staff=staff) if staff else None


class StaffSession(SessionAuth):
    def __call__(self, request: HttpRequest) -> Actor | None:
        # Find the session's staff member before checking CSRF: a caller without a session is simply not
        # signed in (401), and only a signed-in browser must prove that the request came from our pages (403).
        staff = staff_for_user(request.user)
        if staff is None:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request) is not None:
            raise CsrfRefused()
        if second_factor_pending(request.user):
            # Signed in with the password only; bearer tokens are not affected (docs/signin.md).
            raise SignInRefused(401, _("Finish signing in with the code from your authenticator app first."))
        return Actor(staff=staff)

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        staff = staff_for_user(request.user)
        return Actor(staff=staff) if staff else None


def any_caller() -> list:
    return [KioskKey(), StaffToken(), StaffSession()]


def staff_only() -> list:
    return [StaffToken(), StaffSession()]
