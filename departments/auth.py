"""How API callers prove who they are: a kiosk key, a staff bearer token, or a staff session."""

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import APIKeyHeader, HttpBearer
from ninja.security.session import SessionAuth
from ninja.utils import check_csrf

from .services import Actor, api_token_authenticate, kiosk_authenticate, staff_for_user


class CsrfRefused(HttpError):
    """A signed-in session sent a change without the CSRF token of our pages."""

    def __init__(self) -> None:
        super().__init__(403, "CSRF check failed")


class KioskKey(APIKeyHeader):
    param_name = "X-Kiosk-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        kiosk = kiosk_authenticate(key)
        return Actor(kiosk=kiosk) if kiosk else None


class StaffToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        staff = api_token_authenticate(token)
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
        return Actor(staff=staff)

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        staff = staff_for_user(request.user)
        return Actor(staff=staff) if staff else None


def any_caller() -> list:
    return [KioskKey(), StaffToken(), StaffSession()]


def staff_only() -> list:
    return [StaffToken(), StaffSession()]
