"""Kiosk keys, staff tokens and the caller (an Actor) that every other service is scoped to."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from . import policy
from .models import ApiToken, Community, Kiosk, StaffMember

KIOSK_KEY_PREFIX = "kiosk_"
API_TOKEN_PREFIX = "staff_"  # noqa: S105 - a prefix, not a secret


def _digest(secret: str) -> str:
    # Keys carry 256 bits of randomness, so a plain SHA-256 is enough; no slow hash needed.
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Actor:
    """Who is calling: a kiosk, a staff member, or nobody (a public read)."""

    kiosk: Kiosk | None = None
    staff: StaffMember | None = None

    def __str__(self) -> str:
        return self.principal

    @property
    def principal(self) -> str:
        if self.kiosk is not None:
            return f"kiosk:{self.kiosk.pk}"
        if self.staff is not None:
            return f"staff:{self.staff.pk}"
        return "anonymous"

    @property
    def community_id(self) -> int | None:
        if self.kiosk is not None:
            return self.kiosk.community_id
        if self.staff is not None:
            return self.staff.community_id
        return None

    # The role rules themselves live in departments/policy.py; these read them for the caller.
    @property
    def is_petition_officer(self) -> bool:
        return policy.is_petition_officer(self)

    def is_department_member(self, department_id: int) -> bool:
        return policy.is_department_member(self, department_id)

    def can_manage_department(self, department_id: int) -> bool:
        return policy.can_manage_department(self, department_id)


@transaction.atomic
def kiosk_key_create(*, community: Community, name: str = "") -> tuple[Kiosk, str]:
    """Register a kiosk for a community and return it with its key, which is never stored."""
    key = KIOSK_KEY_PREFIX + secrets.token_urlsafe(32)
    kiosk = Kiosk.objects.create(
        community=community,
        name=name or f"{community.name} kiosk",
        key_hash=_digest(key),
        key_prefix=key[: len(KIOSK_KEY_PREFIX) + 4],
    )
    return kiosk, key


def kiosk_key_rotate(*, kiosk: Kiosk) -> str:
    """Give a kiosk a new key; the old one stops working at once."""
    key = KIOSK_KEY_PREFIX + secrets.token_urlsafe(32)
    kiosk.key_hash = _digest(key)
    kiosk.key_prefix = key[: len(KIOSK_KEY_PREFIX) + 4]
    kiosk.revoked_at = None
    kiosk.save(update_fields=["key_hash", "key_prefix", "revoked_at"])
    return key


def kiosk_revoke(*, kiosk: Kiosk) -> None:
    """Stop a kiosk's key from working."""
    Kiosk.objects.filter(pk=kiosk.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def kiosk_authenticate(key: str | None) -> Kiosk | None:
    """Return the active kiosk holding this key, noting when it was last seen."""
    if not key or not key.startswith(KIOSK_KEY_PREFIX) or len(key) > 200:
        return None
    kiosk = (
        Kiosk.objects.select_related("community__street__district")
        .filter(key_hash=_digest(key), revoked_at__isnull=True)
        .first()
    )
    if kiosk is None or not hmac.compare_digest(kiosk.key_hash, _digest(key)):
        return None
    now = timezone.now()
    # Write at most once a minute: the kiosk polls, and last-seen need not be exact.
    if kiosk.last_seen_at is None or (now - kiosk.last_seen_at).total_seconds() > 60:
        Kiosk.objects.filter(pk=kiosk.pk).update(last_seen_at=now)
        kiosk.last_seen_at = now
    return kiosk


def api_token_create(*, staff: StaffMember, name: str) -> tuple[ApiToken, str]:
    """Create a personal bearer token for a staff member and return it once."""
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken.objects.create(staff=staff, name=name, token_hash=_digest(token))
    return record, token


def api_token_authenticate(token: str | None) -> StaffMember | None:
    """Return the active staff member owning this bearer token."""
    if not token or not token.startswith(API_TOKEN_PREFIX) or len(token) > 200:
        return None
    record = (
        ApiToken.objects.select_related("staff__user", "staff__department", "staff__community")
        .filter(token_hash=_digest(token), revoked_at__isnull=True, staff__user__is_active=True)
        .first()
    )
    if record is None:
        return None
    ApiToken.objects.filter(pk=record.pk).update(last_used_at=timezone.now())
    return record.staff


def staff_for_user(user) -> StaffMember | None:
    """Return the staff record of a signed-in Django user, if they have one."""
    if user is None or not user.is_authenticated:
        return None
    try:
        return StaffMember.objects.select_related("department", "community").get(user=user)
    except StaffMember.DoesNotExist:
        return None
