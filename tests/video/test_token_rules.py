"""Who may enter an appointment's room, and when: the rules as a table of role × moment."""

import datetime as dt

import jwt
import pytest

from appointments.video.local import _local_secret
from appointments.video.services import VideoAccessDenied, video_token_issue
from departments.audit import AuditEvent
from departments.models import StaffMember
from departments.services import Actor
from scheduler.errors import NotFound
from tests import factories as f

pytestmark = pytest.mark.django_db

ROLES = {
    # role: (how to make the caller, whether they belong in the room)
    "department staff": ("dept_staff", True),
    "department admin": ("dept_admin", True),
    "petition officer": ("officer", True),
    "community worker of the resident's community": ("worker", True),
    "kiosk of the resident's community": ("kiosk", True),
    "staff of another department": ("outsider", False),
    "community worker of another community": ("other_worker", False),
    "kiosk of another community": ("other_kiosk", False),
    "nobody signed in": (None, False),
}
MINUTE = dt.timedelta(minutes=1)
MOMENTS = {
    # moment: (time relative to the slot, whether it falls in the join window)
    "16 minutes before the start": (lambda s: s.starts_at - 16 * MINUTE, False),
    "15 minutes before the start": (lambda s: s.starts_at - 15 * MINUTE, True),
    "during the session": (lambda s: s.starts_at + 10 * MINUTE, True),
    "30 minutes after the end": (lambda s: s.ends_at + 30 * MINUTE, True),
    "31 minutes after the end": (lambda s: s.ends_at + 31 * MINUTE, False),
}


@pytest.mark.parametrize("moment", MOMENTS)
@pytest.mark.parametrize("role", ROLES)
def test_a_token_is_issued_only_to_the_people_of_the_appointment_inside_its_window(
    request, local_video, appointment, role, moment
):
    fixture, belongs = ROLES[role]
    actor = request.getfixturevalue(fixture) if fixture else Actor()
    when, inside = MOMENTS[moment]
    now = when(appointment.slot)

    if belongs and inside:
        grant = video_token_issue(actor=actor, appointment_id=appointment.pk, now=now)
        claims = jwt.decode(grant.token, _local_secret(), algorithms=["HS256"])
        assert claims["grants"]["video"] == {"room": f"petition-appointment-{appointment.pk}"}
        assert claims["grants"]["identity"] == grant.identity
        assert AuditEvent.objects.filter(action="video.token_issue", target_id=str(appointment.pk)).count() == 1
    elif not belongs:
        # To a caller with no seat at the table the appointment does not exist, whenever they ask.
        with pytest.raises(NotFound):
            video_token_issue(actor=actor, appointment_id=appointment.pk, now=now)
        assert not AuditEvent.objects.filter(target_id=str(appointment.pk), action__startswith="video.").exists()
    else:
        with pytest.raises(VideoAccessDenied) as caught:
            video_token_issue(actor=actor, appointment_id=appointment.pk, now=now)
        assert caught.value.code == ("too_early" if now < appointment.slot.starts_at else "too_late")
        assert caught.value.status_code == 403
        assert not AuditEvent.objects.filter(target_id=str(appointment.pk), action__startswith="video.").exists()


def test_the_token_lives_only_a_few_minutes(local_video, appointment, dept_staff, settings):
    settings.VIDEO_TOKEN_TTL_SECONDS = 120
    now = appointment.slot.starts_at

    grant = video_token_issue(actor=dept_staff, appointment_id=appointment.pk, now=now)

    claims = jwt.decode(grant.token, _local_secret(), algorithms=["HS256"], options={"verify_exp": False})
    assert claims["exp"] - claims["nbf"] <= 120
    assert grant.expires_at == now + dt.timedelta(seconds=120)


def test_identities_say_which_side_each_person_sits_on(local_video, appointment, dept_staff, officer, worker, kiosk):
    now = appointment.slot.starts_at
    sides = {
        video_token_issue(actor=actor, appointment_id=appointment.pk, now=now).identity.split(":")[0]
        for actor in (dept_staff, officer, worker, kiosk)
    }
    assert sides == {"department", "petition_office", "community"}


def test_a_cancelled_appointment_cannot_be_joined(local_video, appointment, kiosk, dept_staff):
    from appointments.booking import appointment_cancel

    appointment_cancel(actor=kiosk, appointment_id=appointment.pk, reason="不去了")

    with pytest.raises(VideoAccessDenied) as caught:
        video_token_issue(actor=dept_staff, appointment_id=appointment.pk, now=appointment.slot.starts_at)
    assert caught.value.code == "appointment_not_active"


def test_a_deactivated_account_cannot_join(local_video, appointment, dept_staff):
    dept_staff.staff.user.is_active = False
    dept_staff.staff.user.save()

    with pytest.raises(NotFound):
        video_token_issue(actor=dept_staff, appointment_id=appointment.pk, now=appointment.slot.starts_at)


def test_a_revoked_kiosk_cannot_join(local_video, appointment, kiosk):
    from departments.services import kiosk_revoke

    kiosk_revoke(kiosk=kiosk.kiosk)
    kiosk.kiosk.refresh_from_db()

    with pytest.raises(NotFound):
        video_token_issue(actor=kiosk, appointment_id=appointment.pk, now=appointment.slot.starts_at)


def test_the_room_is_created_once_per_appointment_and_reused(local_video, appointment, dept_staff, worker):
    now = appointment.slot.starts_at
    first = video_token_issue(actor=dept_staff, appointment_id=appointment.pk, now=now)
    second = video_token_issue(actor=worker, appointment_id=appointment.pk, now=now)

    assert first.session.pk == second.session.pk
    assert first.room_name == second.room_name == f"petition-appointment-{appointment.pk}"
    assert [call for call, _ in local_video] == ["room_ensure", "room_ensure"]


def test_a_petition_officer_of_any_department_may_join(local_video, appointment, other_department):
    officer = Actor(staff=f.staff("officer2", StaffMember.Role.PETITION_OFFICER, department=other_department))

    grant = video_token_issue(actor=officer, appointment_id=appointment.pk, now=appointment.slot.starts_at)

    assert grant.side == "petition_office"
