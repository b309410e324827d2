"""Calendar files: an appointment as an .ics invitation, and secret-address feeds of hours and sessions."""

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from departments.audit import audit_record
from departments.models import Department, StaffMember
from departments.services import Actor
from scheduler.errors import Forbidden, InvalidInput
from scheduler.models import ConsultationRule
from scheduler.publishing import service_zone, week_plan

from ..models import Appointment, PetitionCategory
from .models import CalendarFeed

PRODID = "-//District petition office//Video petition consultations//ZH"
# Its own salt, so that no other signed value of the project can be replayed as a calendar address.
APPOINTMENT_TOKEN_SALT = "appointments.notify.calendars.appointment"  # noqa: S105 - a salt, not a secret
FEED_TOKEN_PREFIX = "cal_"  # noqa: S105 - a prefix, not a secret
TOKEN_MAX_LENGTH = 200
# What a subscribed calendar shows: booked sessions (not offers held for the waiting list, not cancelled ones).
FEED_SESSION_STATUSES = ("booked", "checked_in", "completed")
# A feed covers a bounded window around today, in whole ISO weeks, so its size never grows with history.
FEED_WEEKS_BACK, FEED_WEEKS_AHEAD = 4, 12
# A petition officer's feed holds every department's sessions: a narrower window keeps it readable.
OFFICER_FEED_WEEKS_BACK, OFFICER_FEED_WEEKS_AHEAD = 1, 4
FEED_REFRESH = dt.timedelta(hours=1)
RESCHEDULE_CHAIN_MAX = 100
BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def calendar_domain() -> str:
    """The domain that makes calendar UIDs globally unique (RFC 5545 suggests UID@domain)."""
    configured = getattr(settings, "CALENDAR_UID_DOMAIN", "")
    return configured or urlsplit(settings.PUBLIC_BASE_URL).hostname or "petition.invalid"


def _organizer_email() -> str:
    # A service address, never a person's: RFC 5546 requires an ORGANIZER on a REQUEST and a CANCEL.
    return getattr(settings, "CALENDAR_ORGANIZER_EMAIL", "") or "noreply@petition.invalid"


def _absolute(path: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def _local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment, service_zone())


# One appointment as a calendar file ----------------------------------------------------------------------------


def _appointment_signer() -> signing.Signer:
    # "." keeps the token URL-friendly (the default ":" would need care in some QR readers).
    return signing.Signer(salt=APPOINTMENT_TOKEN_SALT, sep=".")


def appointment_calendar_token(appointment_id: int) -> str:
    """The unguessable part of an appointment's calendar address (the id, signed)."""
    return _appointment_signer().sign(str(int(appointment_id)))


def appointment_calendar_url_for(appointment_id: int) -> str:
    """The absolute address of an appointment's .ics file, from its id alone (no query)."""
    token = appointment_calendar_token(appointment_id)
    return _absolute(reverse("calendars:appointment", kwargs={"token": token}))


def appointment_calendar_url(appointment: Appointment) -> str:
    """The absolute address of an appointment's .ics file, for a QR code, an SMS or the API."""
    return appointment_calendar_url_for(appointment.pk)


def _appointments_for_calendar():
    return Appointment.objects.select_related("slot__department", "petition__category", "community")


def appointment_current(appointment: Appointment) -> Appointment:
    """Follow a rescheduled appointment to the one that replaced it, so that an old link shows the time now."""
    for _hop in range(RESCHEDULE_CHAIN_MAX):
        if not (
            appointment.status == Appointment.Status.CANCELLED
            and appointment.cancel_reason_code == Appointment.CancelReason.RESCHEDULED
        ):
            break
        following = _appointments_for_calendar().filter(rescheduled_from=appointment).first()
        if following is None:
            break
        appointment = following
    return appointment


def appointment_for_calendar_token(token: str) -> Appointment | None:
    """The appointment a calendar address stands for, or None for a token that is not ours."""
    if not isinstance(token, str) or len(token) > TOKEN_MAX_LENGTH:
        return None
    try:
        value = _appointment_signer().unsign(token)
    except signing.BadSignature:
        return None
    if not value.isascii() or not value.isdigit():
        return None
    return _appointments_for_calendar().filter(pk=int(value)).first()


def _category_name(category: PetitionCategory) -> str:
    english = (translation.get_language() or "").startswith("en")
    return (category.name_en or category.name) if english else category.name


def _organizer(department: Department) -> icalendar.vCalAddress:
    organizer = icalendar.vCalAddress(f"mailto:{_organizer_email()}")
    organizer.params["CN"] = department.name
    return organizer


def _department_attendee(department: Department) -> icalendar.vCalAddress:
    # RFC 5546 wants at least one ATTENDEE on a REQUEST. The resident has no e-mail here and must not be named, so
    # the department itself attends (as organizer and chair): calendar programs then ask nobody to reply.
    attendee = icalendar.vCalAddress(f"mailto:{_organizer_email()}")
    attendee.params.update({"CN": department.name, "ROLE": "CHAIR", "PARTSTAT": "ACCEPTED", "RSVP": "FALSE"})
    return attendee


def _appointment_description(appointment: Appointment) -> str:
    petition = appointment.petition
    community = appointment.community
    lines = [
        _("Reference: %(reference)s") % {"reference": petition.reference},
        _("Matter: %(category)s") % {"category": _category_name(petition.category)},
    ]
    if appointment.status == Appointment.Status.CANCELLED:
        # The reason's label only: a reason typed by a person may hold anything, a phone number included.
        lines.append(
            _("This consultation is cancelled: %(reason)s") % {"reason": appointment.get_cancel_reason_code_display()}
        )
    else:
        if community is not None:
            lines.append(
                _("Please come to %(community)s 10 minutes early and check in at the kiosk with your query code.")
                % {"community": community.name}
            )
        lines.append(_("Please bring your resident ID card and your receipt."))
    return "\n".join(lines)


def _location(appointment: Appointment) -> str:
    community = appointment.community
    if community is None:
        return ""
    return f"{community.name} {community.address}".strip()


def _calendar(
    *, method: str, uid: str, name: str | None = None, refresh: dt.timedelta | None = None
) -> icalendar.Calendar:
    return icalendar.Calendar.new(prodid=PRODID, method=method, name=name, uid=uid, refresh_interval=refresh)


def appointment_ics(appointment: Appointment) -> bytes:
    """The appointment as an iTIP message: METHOD:REQUEST while it stands, METHOD:CANCEL once cancelled.

    One UID across reschedules and a SEQUENCE that grows with each change, so that a calendar program updates the
    event it already has. A rescheduled-away appointment answers with the one that replaced it.
    """
    appointment = appointment_current(appointment)
    petition = appointment.petition
    department = appointment.slot.department
    cancelled = appointment.status == Appointment.Status.CANCELLED
    with translation.override(petition.language or settings.LANGUAGE_CODE):
        summary = _("Video petition consultation · %(department)s") % {"department": department.name}
        description = _appointment_description(appointment)
        calendar = _calendar(
            method="CANCEL" if cancelled else "REQUEST",
            uid=f"calendar-{appointment.calendar_uid}@{calendar_domain()}",
        )
        if cancelled:
            status = icalendar.STATUS.CANCELLED
        elif appointment.status == Appointment.Status.OFFERED:
            status = icalendar.STATUS.TENTATIVE
        else:
            status = icalendar.STATUS.CONFIRMED
        event = icalendar.Event.new(
            uid=f"{appointment.calendar_uid}@{calendar_domain()}",
            sequence=appointment.calendar_sequence,
            stamp=timezone.now(),
            start=_local(appointment.slot.starts_at),
            end=_local(appointment.slot.ends_at),
            summary=summary,
            description=description,
            location=_location(appointment) or None,
            organizer=_organizer(department),
            attendees=[_department_attendee(department)],
            status=status,
            url=appointment_calendar_url(appointment),
            created=appointment.created_at,
            last_modified=appointment.updated_at,
        )
        if not cancelled:
            alarm = icalendar.Alarm()
            alarm.add("ACTION", "DISPLAY")
            alarm.add("TRIGGER", dt.timedelta(hours=-1))
            alarm.add("DESCRIPTION", summary)
            event.add_component(alarm)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def appointment_ics_filename(appointment: Appointment) -> str:
    return f"consultation-{appointment.petition.reference}.ics"


# Feeds: secret addresses a calendar program subscribes to ---------------------------------------------------------


def _token_digest(token: str) -> str:
    # Tokens carry 256 bits of randomness, so a plain SHA-256 is enough; no slow hash needed.
    return hashlib.sha256(token.encode()).hexdigest()


def calendar_feed_url(token: str) -> str:
    """The absolute address of a feed (shown once, when the token is issued)."""
    return _absolute(reverse("calendars:feed", kwargs={"token": token}))


def _feed_owner_check(*, actor: Actor, department: Department | None, staff: StaffMember | None) -> None:
    if (department is None) == (staff is None):
        raise InvalidInput(_("A calendar feed belongs to one department or one staff member."), field="owner")
    if department is not None and not actor.can_manage_department(department.pk):
        raise Forbidden(_("Only the department's admin or a petition officer may manage its calendar feed."))
    if staff is not None and (actor.staff is None or actor.staff.pk != staff.pk):
        raise Forbidden(_("Each staff member manages only their own calendar feed."))


def _feed_owner_lock(*, department: Department | None, staff: StaffMember | None) -> None:
    # Two regenerations at once queue on the owner's row instead of racing for the one live feed.
    if department is not None:
        Department.objects.select_for_update().filter(pk=department.pk).first()
    elif staff is not None:
        StaffMember.objects.select_for_update().filter(pk=staff.pk).first()


def _live_feeds(*, department: Department | None, staff: StaffMember | None):
    owner = Q(department=department) if department is not None else Q(staff=staff)
    return CalendarFeed.objects.filter(owner, revoked_at__isnull=True)


def calendar_feed_live(
    *, department: Department | None = None, staff: StaffMember | None = None
) -> CalendarFeed | None:
    """The feed now working for a department or a staff member, if any (its token cannot be shown again)."""
    if (department is None) == (staff is None):
        return None
    return _live_feeds(department=department, staff=staff).first()


@transaction.atomic(durable=True)
def calendar_feed_issue(
    *, actor: Actor, department: Department | None = None, staff: StaffMember | None = None
) -> tuple[CalendarFeed, str]:
    """Issue a new feed address for a department or a staff member; any older address stops working at once."""
    _feed_owner_check(actor=actor, department=department, staff=staff)
    _feed_owner_lock(department=department, staff=staff)
    now = timezone.now()
    replaced = _live_feeds(department=department, staff=staff).update(revoked_at=now)
    token = FEED_TOKEN_PREFIX + secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(
        department=department,
        staff=staff,
        token_hash=_token_digest(token),
        token_hint=token[-4:],
        created_by=actor.staff,
    )
    audit_record(actor=actor, action="calendar_feed.issue", target=feed, detail={"replaced": replaced})
    return feed, token


@transaction.atomic(durable=True)
def calendar_feed_revoke(
    *, actor: Actor, department: Department | None = None, staff: StaffMember | None = None
) -> bool:
    """Stop the live feed of a department or a staff member; tell whether there was one."""
    _feed_owner_check(actor=actor, department=department, staff=staff)
    feed = _live_feeds(department=department, staff=staff).select_for_update().first()
    if feed is None:
        return False
    feed.revoked_at = timezone.now()
    feed.save(update_fields=["revoked_at"])
    audit_record(actor=actor, action="calendar_feed.revoke", target=feed)
    return True


def calendar_feed_for_token(token: str) -> CalendarFeed | None:
    """The live feed behind an address, or None (unknown, revoked, or its owner no longer active)."""
    if not isinstance(token, str) or not token.startswith(FEED_TOKEN_PREFIX) or len(token) > TOKEN_MAX_LENGTH:
        return None
    digest = _token_digest(token)
    feed = (
        CalendarFeed.objects.select_related("department", "staff__user", "staff__department", "staff__community")
        .filter(token_hash=digest, revoked_at__isnull=True)
        .first()
    )
    if feed is None or not hmac.compare_digest(feed.token_hash, digest):
        return None
    if feed.staff is not None and not feed.staff.user.is_active:
        return None
    return feed


@dataclass(frozen=True)
class FeedScope:
    """What one feed shows: whose hours (if any), which sessions, over which days."""

    title: str
    first: dt.date
    last: dt.date
    sessions: Q
    hours_department: Department | None = None


def _weeks_window(today: dt.date, back: int, ahead: int) -> tuple[dt.date, dt.date]:
    monday = today - dt.timedelta(days=today.weekday())
    return monday - dt.timedelta(weeks=back), monday + dt.timedelta(weeks=ahead, days=6)


def calendar_feed_scope(feed: CalendarFeed, *, today: dt.date) -> FeedScope:
    """Work out what a feed shows from its owner: a department, or a staff member by their role."""
    first, last = _weeks_window(today, FEED_WEEKS_BACK, FEED_WEEKS_AHEAD)
    department = feed.department
    staff = feed.staff
    if department is None and staff is not None and staff.role != StaffMember.Role.COMMUNITY_WORKER:
        department = staff.department  # department staff and admins: their department; officers have none
    if department is not None:
        title = _("%(department)s · consultation hours and sessions") % {"department": department.name}
        return FeedScope(title, first, last, Q(slot__department=department), hours_department=department)
    if staff is not None and staff.role == StaffMember.Role.COMMUNITY_WORKER and staff.community is not None:
        title = _("%(community)s · video consultations") % {"community": staff.community.name}
        return FeedScope(title, first, last, Q(community=staff.community))
    if staff is not None and staff.role == StaffMember.Role.PETITION_OFFICER:
        first, last = _weeks_window(today, OFFICER_FEED_WEEKS_BACK, OFFICER_FEED_WEEKS_AHEAD)
        return FeedScope(_("All departments · video consultations"), first, last, Q())
    return FeedScope(_("No video consultations"), first, last, Q(pk__in=[]))


def _at(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=service_zone())


@dataclass
class RuleOccurrences:
    rule: ConsultationRule
    days: set[dt.date]


def _rule_days(department: Department, first: dt.date, last: dt.date) -> list[RuleOccurrences]:
    """Each rule's days with consultations, exactly as publishing works them out week by week."""
    found: dict[int, RuleOccurrences] = {}
    monday = first - dt.timedelta(days=first.weekday())
    while monday <= last:
        year, week, _weekday = monday.isocalendar()
        for day in week_plan(department=department, iso_year=year, iso_week=week):
            if not first <= day.info.date <= last:
                continue
            for planned in day.slots:
                found.setdefault(planned.rule.pk, RuleOccurrences(planned.rule, set())).days.add(day.info.date)
        monday += dt.timedelta(weeks=1)
    return sorted(found.values(), key=lambda r: (r.rule.weekday, r.rule.start_time, r.rule.pk))


def _hours_event(occurrences: RuleOccurrences, department: Department, first: dt.date, last: dt.date):
    """One rule as one recurring event: RRULE for its weekday, EXDATE where no hours run, RDATE for make-up days."""
    rule = occurrences.rule
    since = max(rule.effective_from, first)
    until = min(rule.effective_until or last, last)
    nominal = [
        since + dt.timedelta(days=n)
        for n in range((until - since).days + 1)
        if (since + dt.timedelta(days=n)).weekday() == rule.weekday
    ]
    actual = sorted(occurrences.days)
    begin = nominal[0] if nominal else actual[0]
    summary = _("Consultation hours · %(department)s") % {"department": department.name}
    numbers = {"minutes": rule.session_minutes, "buffer": rule.buffer_minutes, "capacity": rule.capacity}
    if rule.buffer_minutes:
        description = _("%(minutes)s-minute sessions (%(buffer)s minutes apart), %(capacity)s at a time.") % numbers
    else:
        description = _("%(minutes)s-minute sessions, %(capacity)s at a time.") % numbers
    event = icalendar.Event.new(
        uid=f"hours-{rule.pk}@{calendar_domain()}",
        stamp=timezone.now(),
        start=_at(begin, rule.start_time),
        end=_at(begin, rule.end_time),
        summary=summary,
        description=description,
        transparency=icalendar.TRANSP.TRANSPARENT,
    )
    if nominal:
        event.add(
            "RRULE",
            {
                "FREQ": "WEEKLY",
                "BYDAY": [BYDAY[rule.weekday]],
                "UNTIL": _at(nominal[-1], rule.start_time).astimezone(dt.UTC),
            },
        )
        excluded = sorted(set(nominal) - occurrences.days)
        if excluded:
            event.add("EXDATE", [_at(day, rule.start_time) for day in excluded])
        added = sorted(occurrences.days - set(nominal))
    else:
        added = actual[1:]
    if added:
        event.add("RDATE", [_at(day, rule.start_time) for day in added])
    return event


def _surname(name: str) -> str:
    # The first character: right for most Chinese surnames, a shortened one for compound surnames (欧阳 → 欧).
    name = name.strip()
    return name[:1] or "?"


def _session_event(appointment: Appointment):
    petition = appointment.petition
    slot = appointment.slot
    event = icalendar.Event.new(
        uid=f"{appointment.calendar_uid}@{calendar_domain()}",
        sequence=appointment.calendar_sequence,
        stamp=timezone.now(),
        start=_local(slot.starts_at),
        end=_local(slot.ends_at),
        summary=f"{_surname(petition.contact_name)} · {_category_name(petition.category)}",
        description=slot.department.name,
        location=appointment.community.name if appointment.community is not None else None,
        status=icalendar.STATUS.CONFIRMED,
    )
    return event


def _feed_sessions(scope: FeedScope):
    starts = _at(scope.first, dt.time.min)
    ends = _at(scope.last + dt.timedelta(days=1), dt.time.min)
    return (
        Appointment.objects.filter(scope.sessions)
        .filter(status__in=FEED_SESSION_STATUSES, slot__starts_at__gte=starts, slot__starts_at__lt=ends)
        .select_related("slot__department", "petition__category", "community")
        .only(
            "calendar_uid",
            "calendar_sequence",
            "status",
            "slot__starts_at",
            "slot__ends_at",
            "slot__department__name",
            "petition__contact_name",
            "petition__category__name",
            "petition__category__name_en",
            "community__name",
        )
        .order_by("slot__starts_at", "pk")
    )


def calendar_feed_ics(*, feed: CalendarFeed, today: dt.date | None = None) -> bytes:
    """A feed as a calendar: the department's weekly hours as recurring events, and each booked session.

    Sessions show the resident's surname and the matter's category only. Queries do not grow with the number of
    events: one for the sessions, and a few per week of the window for the hours.
    """
    today = today or timezone.localdate(timezone=service_zone())
    scope = calendar_feed_scope(feed, today=today)
    calendar = _calendar(
        method="PUBLISH", name=scope.title, uid=f"feed-{feed.pk}@{calendar_domain()}", refresh=FEED_REFRESH
    )
    calendar.add("X-PUBLISHED-TTL", FEED_REFRESH)
    if scope.hours_department is not None:
        for occurrences in _rule_days(scope.hours_department, scope.first, scope.last):
            calendar.add_component(_hours_event(occurrences, scope.hours_department, scope.first, scope.last))
    for appointment in _feed_sessions(scope):
        calendar.add_component(_session_event(appointment))
    calendar.add_missing_timezones()
    return calendar.to_ical()
