"""Kiosk keys and staff bearer tokens: shown once, stored only as a hash, revocable."""

import datetime as dt
import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from departments.models import ApiToken, Kiosk, StaffMember
from departments.services import (
    api_token_authenticate,
    api_token_create,
    kiosk_authenticate,
    kiosk_key_create,
    kiosk_key_rotate,
    kiosk_revoke,
)
from tests import factories as f

pytestmark = pytest.mark.django_db


def row_values(instance) -> list[str]:
    return [str(getattr(instance, field.attname)) for field in instance._meta.concrete_fields]


def test_a_new_kiosk_key_is_returned_once_and_only_its_hash_is_stored(community):
    kiosk, key = kiosk_key_create(community=community, name="一楼大厅")

    assert key.startswith("kiosk_") and len(key) > 40
    stored = Kiosk.objects.get(pk=kiosk.pk)
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert not any(key in value for value in row_values(stored))
    assert stored.key_prefix == key[:10]
    assert stored.name == "一楼大厅" and stored.community == community and stored.is_active


def test_two_kiosks_get_different_keys(community):
    assert kiosk_key_create(community=community)[1] != kiosk_key_create(community=community)[1]


def test_a_kiosk_authenticates_with_its_key(community):
    kiosk, key = kiosk_key_create(community=community)

    assert kiosk_authenticate(key) == kiosk


@pytest.mark.parametrize("key", [None, "", "kiosk_wrong", "not-a-kiosk-key", "kiosk_" + "a" * 300])
def test_a_wrong_or_malformed_key_authenticates_nobody(community, key):
    kiosk_key_create(community=community)
    assert kiosk_authenticate(key) is None


def test_a_revoked_kiosk_no_longer_authenticates(community):
    kiosk, key = kiosk_key_create(community=community)

    kiosk_revoke(kiosk=kiosk)

    assert kiosk_authenticate(key) is None
    assert Kiosk.objects.get(pk=kiosk.pk).revoked_at is not None


def test_rotating_a_key_stops_the_old_one_and_reactivates_the_kiosk(community):
    kiosk, old = kiosk_key_create(community=community)
    kiosk_revoke(kiosk=kiosk)
    kiosk.refresh_from_db()

    new = kiosk_key_rotate(kiosk=kiosk)

    assert new != old
    assert kiosk_authenticate(old) is None
    assert kiosk_authenticate(new) == kiosk
    assert Kiosk.objects.get(pk=kiosk.pk).key_hash == hashlib.sha256(new.encode()).hexdigest()


def test_authenticating_notes_when_the_kiosk_was_last_seen(community):
    kiosk, key = kiosk_key_create(community=community)
    assert kiosk.last_seen_at is None

    kiosk_authenticate(key)
    first = Kiosk.objects.get(pk=kiosk.pk).last_seen_at
    assert first is not None and timezone.now() - first < dt.timedelta(seconds=10)

    kiosk_authenticate(key)  # within the minute: no write
    assert Kiosk.objects.get(pk=kiosk.pk).last_seen_at == first

    an_hour_ago = timezone.now() - dt.timedelta(hours=1)
    Kiosk.objects.filter(pk=kiosk.pk).update(last_seen_at=an_hour_ago)
    kiosk_authenticate(key)
    assert Kiosk.objects.get(pk=kiosk.pk).last_seen_at > an_hour_ago + dt.timedelta(minutes=59)


def test_the_kiosk_key_command_prints_a_key_that_works(community):
    out = StringIO()

    call_command("kiosk_key", "create", "--community", community.code, "--name", "大厅", stdout=out)

    key = out.getvalue().strip().splitlines()[-1]
    kiosk = kiosk_authenticate(key)
    assert kiosk is not None and kiosk.community == community and kiosk.name == "大厅"


def test_the_kiosk_key_command_rotates_and_revokes(community):
    kiosk, old = kiosk_key_create(community=community)
    out = StringIO()

    call_command("kiosk_key", "rotate", "--kiosk", str(kiosk.pk), stdout=out)
    new = out.getvalue().strip().splitlines()[-1]
    assert kiosk_authenticate(old) is None and kiosk_authenticate(new) == kiosk

    call_command("kiosk_key", "revoke", "--kiosk", str(kiosk.pk), stdout=StringIO())
    assert kiosk_authenticate(new) is None


@pytest.mark.parametrize(
    "args",
    [["create"], ["create", "--community", "nosuch"], ["rotate"], ["revoke", "--kiosk", "999999"]],
)
def test_the_kiosk_key_command_explains_what_is_missing(community, args):
    with pytest.raises(CommandError):
        call_command("kiosk_key", *args, stdout=StringIO())
    assert not Kiosk.objects.exists()


def test_the_api_accepts_a_kiosk_key_header_and_refuses_a_revoked_one(client, kiosk_and_key):
    # Probe with a harmless GET: a live key gets past authentication to a 404, a revoked one does not.
    kiosk, key = kiosk_and_key
    response = client.get("/api/v1/appointments/999999", headers={"X-Kiosk-Key": key})
    assert response.status_code == 404  # authenticated, then not found

    kiosk_revoke(kiosk=kiosk.kiosk)
    response = client.get("/api/v1/appointments/999999", headers={"X-Kiosk-Key": key})
    assert response.status_code == 401
    assert "detail" in response.json()


def test_a_staff_token_is_stored_only_as_a_hash_and_authenticates(department):
    member = f.staff("admin", StaffMember.Role.DEPARTMENT_ADMIN, department=department)

    record, token = api_token_create(staff=member, name="integration")

    assert token.startswith("staff_")
    stored = ApiToken.objects.get(pk=record.pk)
    assert not any(token in value for value in row_values(stored))
    assert api_token_authenticate(token) == member
    assert ApiToken.objects.get(pk=record.pk).last_used_at is not None
    assert api_token_authenticate("staff_wrong") is None
    assert api_token_authenticate(None) is None


def test_a_revoked_token_or_a_deactivated_user_authenticates_nobody(department):
    member = f.staff("admin", StaffMember.Role.DEPARTMENT_ADMIN, department=department)
    record, token = api_token_create(staff=member, name="integration")
    _, second = api_token_create(staff=member, name="second")

    ApiToken.objects.filter(pk=record.pk).update(revoked_at=timezone.now())
    assert api_token_authenticate(token) is None

    member.user.is_active = False
    member.user.save()
    assert api_token_authenticate(second) is None


def test_a_bearer_token_lets_a_department_admin_publish_through_the_api(client, department, settings):
    # Week 10 of next year: one that has not ended, with no public holiday in it.
    year = timezone.localdate().year + 1
    settings.HOLIDAY_CONFIRMED_YEARS = [year]
    f.weekday_rules(department)
    member = f.staff("admin", StaffMember.Role.DEPARTMENT_ADMIN, department=department)
    token = f.token_for(member)
    url = f"/api/v1/departments/{department.code}/weeks/{year}-W10/publish"

    ok = client.post(url, headers={"Authorization": f"Bearer {token}"})
    refused = client.post(url, headers={"Authorization": "Bearer staff_nope"})

    assert ok.status_code == 200, ok.content
    assert ok.json()["created"] == 20
    assert refused.status_code == 401
    assert "detail" in refused.json()


def test_the_api_token_command_prints_a_token_that_works(department):
    member = f.staff("integrator", StaffMember.Role.PETITION_OFFICER)
    out = StringIO()

    call_command("api_token", "create", "--user", "integrator", "--name", "report export", stdout=out)

    token = out.getvalue().strip().splitlines()[-1]
    assert api_token_authenticate(token) == member
    assert ApiToken.objects.get(staff=member).name == "report export"


def test_the_api_token_command_refuses_an_unknown_or_inactive_user(department):
    member = f.staff("gone", StaffMember.Role.PETITION_OFFICER)
    member.user.is_active = False
    member.user.save()

    for username in ["nobody", "gone"]:
        with pytest.raises(CommandError):
            call_command("api_token", "create", "--user", username, stdout=StringIO())
    assert not ApiToken.objects.exists()
