"""Reads behind the staff pages: whose sessions are when, and whether their rooms can be joined now."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from departments.models import Community, Department, StaffMember
from departments.services import Actor

from ..booking import appointment_queryset
from ..models import Appointment, VideoParticipant, VideoSession
from .services import JOINABLE_STATUSES, Side, join_window, participant_identity

# What the pages list: everything but cancelled bookings.
LISTED_STATUSES = ("booked", "checked_in", "completed", "no_show")


@dataclass
class SessionRow:
    appointment: Appointment
    opens_at: dt.datetime
    closes_at: dt.datetime
    can_join: bool
    is_live: bool
    is_over: bool
    session: VideoSession | None

    @property
    def slot(self):
        return self.appointment.slot

    @property
    def petition(self):
        return self.appointment.petition

    @property
    def resident(self):
        return self.appointment.petition.resident

    @property
    def connected(self) -> list[VideoParticipant]:
        if self.session is None:
            return []
        return [p for p in self.session.participants.all() if p.joined_at and not p.left_at]


def _rows(queryset: QuerySet[Appointment], now: dt.datetime) -> list[SessionRow]:
    rows = []
    for appointment in queryset:
        opens, closes = join_window(appointment)
        session = getattr(appointment, "video_session", None)
        active = appointment.status in JOINABLE_STATUSES
        rows.append(
            SessionRow(
                appointment=appointment,
                opens_at=opens,
                closes_at=closes,
                can_join=active and opens <= now <= closes,
                is_live=appointment.slot.starts_at <= now <= appointment.slot.ends_at,
                is_over=now > appointment.slot.ends_at,
                session=session,
            )
        )
    return rows


def _base() -> QuerySet[Appointment]:
    return (
        appointment_queryset()
        .select_related("video_session", "petition__category", "community")
        .prefetch_related(Prefetch("video_session__participants"))
        .filter(status__in=LISTED_STATUSES)
        .order_by("slot__starts_at", "seat__number")
    )


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    return start, start + dt.timedelta(days=1)


def department_sessions(*, department: Department, now: dt.datetime | None = None) -> dict[str, list[SessionRow]]:
    """The department's sessions today and in the next seven days.

    A rolling week, not the calendar one: on a Friday or a Sunday evening, staff still see Monday's sessions.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    day_start, day_end = _day_bounds(today)
    week_end = _day_bounds(today + dt.timedelta(days=7))[1]
    rows = _rows(
        _base().filter(slot__department=department, slot__starts_at__gte=day_start, slot__starts_at__lt=week_end), now
    )
    return {
        "today": [r for r in rows if r.slot.starts_at < day_end],
        "week": [r for r in rows if r.slot.starts_at >= day_end],
    }


def community_today(*, community: Community, now: dt.datetime | None = None) -> list[SessionRow]:
    """Who is booked at this community office today."""
    now = now or timezone.now()
    day_start, day_end = _day_bounds(timezone.localdate(now))
    return _rows(_base().filter(community=community, slot__starts_at__gte=day_start, slot__starts_at__lt=day_end), now)


def office_sessions(*, now: dt.datetime | None = None, days_ahead: int = 7) -> dict[str, list]:
    """Every department's live and upcoming sessions, and the sessions flagged to the petition office."""
    now = now or timezone.now()
    rows = _rows(
        _base().filter(
            status__in=JOINABLE_STATUSES,
            slot__ends_at__gte=now - dt.timedelta(minutes=30),
            slot__starts_at__lt=now + dt.timedelta(days=days_ahead),
        ),
        now,
    )
    flagged = (
        VideoSession.objects.filter(flagged_at__isnull=False)
        .select_related("appointment__slot__department", "appointment__petition__resident", "appointment__community")
        .order_by("-flagged_at")
    )
    return {
        "live": [r for r in rows if r.can_join],
        "upcoming": [r for r in rows if not r.can_join and r.opens_at > now],
        "flagged": list(flagged),
    }


def _staff_name(member: StaffMember) -> str:
    place = member.department or member.community
    person = member.user.get_full_name() or member.user.get_username()
    return f"{person} · {place}" if place else person


def _side_of(member: StaffMember) -> str:
    if member.role == StaffMember.Role.PETITION_OFFICER:
        return Side.PETITION_OFFICE
    if member.role == StaffMember.Role.COMMUNITY_WORKER:
        return Side.COMMUNITY
    return Side.DEPARTMENT


def _members_for(appointment: Appointment) -> list[StaffMember]:
    staff = StaffMember.objects.select_related("user", "department", "community").filter(user__is_active=True)
    members = staff.filter(department=appointment.slot.department)
    members |= staff.filter(role=StaffMember.Role.PETITION_OFFICER)
    if appointment.community_id is not None:
        # Without this check, community_id=None would match every staff member without a community.
        members |= staff.filter(role=StaffMember.Role.COMMUNITY_WORKER, community_id=appointment.community_id)
    return list(members.order_by("user__username"))


def expected_names(*, appointment: Appointment) -> dict[str, str]:
    """Names to show for the identities that may appear in this appointment's room."""
    # Only staff are issued tokens (the staff pages); a kiosk never joins: the resident uses the worker's device.
    return {participant_identity(Actor(staff=m), _side_of(m)): _staff_name(m) for m in _members_for(appointment)}


@dataclass(frozen=True)
class ExpectedGroup:
    """People the session is waiting for, by the part they play in it."""

    side: str
    names: list[str]


def expected_participants(*, appointment: Appointment) -> list[ExpectedGroup]:
    """Who will really be in the room: the department's staff, the community worker beside the resident
    (the resident joins on that worker's device, not on the kiosk), and the petition office, which may look in.
    """
    members = _members_for(appointment)
    groups = [
        ExpectedGroup(side=side, names=[_staff_name(m) for m in members if _side_of(m) == side])
        for side in (Side.DEPARTMENT, Side.COMMUNITY, Side.PETITION_OFFICE)
    ]
    return [group for group in groups if group.names or group.side == Side.DEPARTMENT]
