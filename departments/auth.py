"""How API callers prove who they are: a kiosk key, a staff bearer token, or a staff session."""

from django.http import HttpRequest
from ninja.security import APIKeyHeader, HttpBearer
from ninja.security.session import SessionAuth

from .services import Actor, api_token_authenticate, kiosk_authenticate, staff_for_user


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
    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        staff = staff_for_user(request.user)
        return Actor(staff=staff) if staff else None


def any_caller() -> list:
    return [KioskKey(), StaffToken(), StaffSession()]


def staff_only() -> list:
    return [StaffToken(), StaffSession()]
