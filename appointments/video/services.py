"""Who may join an appointment's video room and when, what the provider reports, and attendance afterwards."""

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import time_format
from django.utils.translation import gettext as _

from departments.audit import audit_record
from departments.services import Actor
from scheduler.errors import DomainError, Forbidden, NotFound

from .. import policy
from ..booking import _previous_petition_status, appointment_queryset
from ..models import Appointment, Petition, VideoParticipant, VideoParticipantEvent, VideoSession
from ..outcomes.lifecycle import petition_transition
from .base import VideoProviderError, video_provider

logger = logging.getLogger(__name__)

Side = VideoParticipantEvent.Side
# Appointments whose room may still be joined.
JOINABLE_STATUSES = (Appointment.Status.BOOKED, Appointment.Status.CHECKED_IN)


class VideoAccessDenied(Forbidden):
    """A join attempt that the rules refuse; `code` says which rule."""


def join_window(appointment: Appointment) -> tuple[dt.datetime, dt.datetime]:
    """Return when joining the appointment's room opens and when it closes."""
    opens = appointment.slot.starts_at - dt.timedelta(minutes=settings.VIDEO_JOIN_OPENS_BEFORE_MINUTES)
    closes = appointment.slot.ends_at + dt.timedelta(minutes=settings.VIDEO_JOIN_CLOSES_AFTER_MINUTES)
    return opens, closes


def actor_side(actor: Actor, appointment: Appointment) -> str | None:
    """Say which side of the table this caller sits on for this appointment, or None if they have no seat."""
    return policy.video_side(actor, appointment)


def participant_identity(actor: Actor, side: str) -> str:
    """The identity a participant carries in the room: their side and who they are, no personal data."""
    return f"{side}:{actor.principal}"


def side_of_identity(identity: str) -> str:
    side = (identity or "").split(":", 1)[0]
    return side if side in Side.values else Side.UNKNOWN


def join_refusal(*, actor: Actor, appointment: Appointment, now: dt.datetime) -> DomainError | None:
    """Say why this caller may not join this appointment's room now, or None when they may.

    To a caller with no seat at this table the appointment does not exist: the same 404 as a missing one.
    """
    if actor_side(actor, appointment) is None:
        return _not_found(appointment.pk)
    if appointment.status not in JOINABLE_STATUSES:
        return VideoAccessDenied(
            _("This appointment is '%(status)s', so its video session is closed.")
            % {"status": appointment.get_status_display()},
            code="appointment_not_active",
        )
    opens, closes = join_window(appointment)
    if now < opens:
        return VideoAccessDenied(
            _("Joining opens %(minutes)s minutes before the session starts, at %(time)s.")
            % {
                "minutes": settings.VIDEO_JOIN_OPENS_BEFORE_MINUTES,
                "time": time_format(timezone.localtime(opens), "H:i"),
            },
            code="too_early",
        )
    if now > closes:
        return VideoAccessDenied(
            _("Joining closed %(minutes)s minutes after the session ended.")
            % {"minutes": settings.VIDEO_JOIN_CLOSES_AFTER_MINUTES},
            code="too_late",
        )
    return None


def room_name_for(appointment: Appointment) -> str:
    return f"{settings.VIDEO_ROOM_PREFIX}{appointment.pk}"


def video_session_get_or_create(*, appointment: Appointment, provider_name: str) -> VideoSession:
    session, _created = VideoSession.objects.get_or_create(
        appointment=appointment, defaults={"provider": provider_name, "room_name": room_name_for(appointment)}
    )
    return session


@dataclass(frozen=True)
class VideoPass:
    """What a client needs to enter a room."""

    token: str
    room_name: str
    identity: str
    side: str
    provider: str
    expires_at: dt.datetime
    session: VideoSession


def _not_found(appointment_id: int) -> NotFound:
    return NotFound(_("No appointment %(id)s was found.") % {"id": appointment_id}, field="appointment")


def _appointment_load(appointment_id: int) -> Appointment:
    appointment = appointment_queryset().filter(pk=appointment_id).first()
    if appointment is None:
        raise _not_found(appointment_id)
    return appointment


def video_join_check(*, actor: Actor, appointment_id: int, now: dt.datetime | None = None) -> Appointment:
    """Load an appointment for joining, or raise: NotFound to a caller with no seat, VideoAccessDenied to one
    who is too early, too late or whose appointment is over.

    Refusals are not written to the audit trail: the API's throttle bounds how often anyone may try, and a row
    per try would let anyone fill the trail.
    """
    now = now or timezone.now()
    appointment = _appointment_load(appointment_id)
    refusal = join_refusal(actor=actor, appointment=appointment, now=now)
    if refusal is not None:
        raise refusal
    return appointment


def video_token_issue(
    *, actor: Actor, appointment_id: int, status_callback: str | None = None, now: dt.datetime | None = None
) -> VideoPass:
    """Open (or reuse) the appointment's room and mint a short-lived token for this caller."""
    now = now or timezone.now()
    appointment = video_join_check(actor=actor, appointment_id=appointment_id, now=now)
    provider = video_provider()
    session = video_session_get_or_create(appointment=appointment, provider_name=provider.name)
    room = provider.room_ensure(unique_name=session.room_name, status_callback=status_callback)
    if session.room_sid != room.sid or session.provider != provider.name:
        session.room_sid, session.provider = room.sid, provider.name
        session.save(update_fields=["room_sid", "provider"])
    side = actor_side(actor, appointment)
    if side is None:  # video_join_check has already refused a caller with no side
        raise RuntimeError("A caller allowed to join must have a side.")
    identity = participant_identity(actor, side)
    ttl = settings.VIDEO_TOKEN_TTL_SECONDS
    token = provider.token_mint(identity=identity, room=session.room_name, ttl=ttl)
    audit_record(actor=actor, action="video.token_issue", target=appointment, detail={"side": side})
    return VideoPass(
        token=token,
        room_name=session.room_name,
        identity=identity,
        side=side,
        provider=provider.name,
        expires_at=now + dt.timedelta(seconds=ttl),
        session=session,
    )


def video_session_end(*, actor: Actor, appointment_id: int, now: dt.datetime | None = None) -> VideoSession | None:
    """End the room for everyone; only the department's staff or the petition office may."""
    now = now or timezone.now()
    appointment = _appointment_load(appointment_id)
    if actor_side(actor, appointment) is None:
        raise _not_found(appointment_id)
    if not policy.can_end_video(actor, appointment):
        raise Forbidden(_("Only the department's staff or the petition office can end a session for everyone."))
    session = VideoSession.objects.filter(appointment=appointment).first()
    if session is None or session.status == VideoSession.Status.COMPLETED:
        return session
    _room_complete(session, now=now)
    audit_record(actor=actor, action="video.end", target=session)
    return session


def _room_complete(session: VideoSession, *, now: dt.datetime) -> None:
    if session.room_sid:
        video_provider().room_complete(room_sid=session.room_sid)
    VideoSession.objects.filter(pk=session.pk).exclude(status=VideoSession.Status.COMPLETED).update(
        status=VideoSession.Status.COMPLETED, ended_at=now
    )
    session.refresh_from_db()


# Status callbacks ---------------------------------------------------------------------------------------------

ROOM_EVENTS = {"room-created", "room-ended"}
PARTICIPANT_EVENTS = {"participant-connected", "participant-disconnected"}


def _parse_timestamp(value: str) -> dt.datetime | None:
    parsed = parse_datetime(value or "")
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, dt.UTC)
    return parsed


def _fingerprint(params: dict[str, str]) -> str:
    parts = [params.get(k, "") for k in ("StatusCallbackEvent", "RoomSid", "ParticipantSid", "TrackSid")]
    parts += [params.get("Timestamp", ""), params.get("SequenceNumber", "")]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _sequence(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def video_callback_record(*, params: dict[str, str]) -> str:
    """Record one provider callback once, then rebuild the session from all its events in time order."""
    event = params.get("StatusCallbackEvent", "")
    occurred_at = _parse_timestamp(params.get("Timestamp", ""))
    if event not in ROOM_EVENTS | PARTICIPANT_EVENTS:
        return "ignored"
    if occurred_at is None:
        return "ignored"
    session = (
        VideoSession.objects.filter(room_name=params.get("RoomName", "")).first()
        or VideoSession.objects.filter(room_sid=params.get("RoomSid") or "-").first()
    )
    if session is None:
        return "unknown_room"
    identity = params.get("ParticipantIdentity", "")
    with transaction.atomic():
        session = VideoSession.objects.select_for_update().get(pk=session.pk)
        try:
            with transaction.atomic():
                VideoParticipantEvent.objects.create(
                    session=session,
                    fingerprint=_fingerprint(params),
                    event=event,
                    occurred_at=occurred_at,
                    sequence=_sequence(params.get("SequenceNumber")),
                    room_sid=params.get("RoomSid", "")[:64],
                    participant_sid=params.get("ParticipantSid", "")[:64],
                    participant_identity=identity[:128],
                    side=side_of_identity(identity) if identity else "",
                )
        except IntegrityError:
            return "duplicate"
        _session_rebuild(session)
    return "recorded"


def _session_rebuild(session: VideoSession) -> None:
    """Derive the room's status and each connection's join and leave from the events, by timestamp."""
    status = VideoSession.Status.PENDING
    started_at = ended_at = None
    connections: dict[str, dict] = {}
    for event in session.events.order_by("occurred_at", "sequence", "pk"):
        # A room closed for lack of use is made anew under the same name: the latest one is the room.
        session.room_sid = event.room_sid or session.room_sid
        if event.event in ("room-created", "participant-connected") and status != VideoSession.Status.IN_PROGRESS:
            status, ended_at = VideoSession.Status.IN_PROGRESS, None
            started_at = started_at or event.occurred_at
        elif event.event == "room-ended":
            status, ended_at = VideoSession.Status.COMPLETED, event.occurred_at
        if event.event in PARTICIPANT_EVENTS and event.participant_sid:
            row = connections.setdefault(
                event.participant_sid,
                {
                    "identity": event.participant_identity,
                    "side": event.side or Side.UNKNOWN,
                    "joined": None,
                    "left": None,
                },
            )
            if event.event == "participant-connected":
                row["joined"] = row["joined"] or event.occurred_at
            else:
                row["left"] = event.occurred_at
    session.status, session.started_at, session.ended_at = status, started_at, ended_at
    session.save(update_fields=["status", "started_at", "ended_at", "room_sid"])
    for sid, row in connections.items():
        VideoParticipant.objects.update_or_create(
            session=session,
            participant_sid=sid,
            defaults={
                "identity": row["identity"],
                "side": row["side"],
                "joined_at": row["joined"],
                "left_at": row["left"],
            },
        )


# Attendance after the session ---------------------------------------------------------------------------------


@dataclass
class SweepResult:
    no_show: list[int] = field(default_factory=list)
    flagged: list[int] = field(default_factory=list)
    checked: int = 0
    rooms_completed: int = 0

    def as_dict(self) -> dict:
        return {
            "checked": self.checked,
            "no_show": self.no_show,
            "flagged": self.flagged,
            "rooms_completed": self.rooms_completed,
        }


def _attended(session: VideoSession, side: str) -> bool:
    return session.participants.filter(side=side, joined_at__isnull=False).exists()


@transaction.atomic
def _attendance_decide(appointment_id: int, *, now: dt.datetime, result: SweepResult) -> None:
    appointment = Appointment.objects.select_for_update().select_related("slot").get(pk=appointment_id)
    session = video_session_get_or_create(appointment=appointment, provider_name=video_provider().name)
    session = VideoSession.objects.select_for_update().get(pk=session.pk)
    if session.attendance_checked_at is not None or appointment.status not in JOINABLE_STATUSES:
        return
    resident_side = _attended(session, Side.COMMUNITY)
    department = _attended(session, Side.DEPARTMENT)
    reasons = []
    if not resident_side:
        if appointment.status == Appointment.Status.CHECKED_IN:
            # The resident was at the office: a failed connection is not their absence.
            reasons.append(_("The resident was checked in but the community office never connected."))
        else:
            appointment.status = Appointment.Status.NO_SHOW
            appointment.save(update_fields=["status", "updated_at"])
            audit_record(actor=None, action="appointment.no_show", target=appointment)
            # The matter is still open: the petition goes back to where it was, ready to be booked again.
            petition = Petition.objects.select_for_update().get(pk=appointment.petition_id)
            if petition.status == Petition.Status.SCHEDULED:
                petition_transition(petition=petition, to=_previous_petition_status(petition))
            result.no_show.append(appointment.pk)
    if not department:
        reasons.append(_("No department staff joined the session."))
    if resident_side and department:
        # Both sides were in the room: the consultation took place; the answer is recorded next.
        appointment.status = Appointment.Status.COMPLETED
        appointment.save(update_fields=["status", "updated_at"])
        audit_record(actor=None, action="appointment.complete", target=appointment)
        petition = Petition.objects.select_for_update().get(pk=appointment.petition_id)
        if petition.status == Petition.Status.SCHEDULED:
            petition_transition(petition=petition, to=Petition.Status.IN_CONSULTATION, reason="session_held")
    session.attendance_checked_at = now
    session.resident_side_attended = resident_side
    session.department_attended = department
    if reasons:
        session.flagged_at = now
        session.flag_reason = " ".join(str(r) for r in reasons)[:200]
        audit_record(actor=None, action="video.flagged", target=session, detail={"department_attended": department})
        result.flagged.append(appointment.pk)
    session.save(
        update_fields=[
            "attendance_checked_at",
            "resident_side_attended",
            "department_attended",
            "flagged_at",
            "flag_reason",
        ]
    )
    result.checked += 1


def video_attendance_sweep(*, now: dt.datetime | None = None) -> SweepResult:
    """After each slot's end plus the grace period, mark no-shows and flag sessions no department joined."""
    now = now or timezone.now()
    result = SweepResult()
    decided_by = now - dt.timedelta(minutes=settings.VIDEO_NO_SHOW_GRACE_MINUTES)
    due = (
        Appointment.objects.filter(status__in=JOINABLE_STATUSES, slot__ends_at__lte=decided_by)
        .exclude(video_session__attendance_checked_at__isnull=False)
        .order_by("slot__ends_at")
        .values_list("pk", flat=True)
    )
    for appointment_id in list(due):
        _attendance_decide(appointment_id, now=now, result=result)

    # Rooms still open once joining has closed are ended, so nobody lingers in them.
    closed_by = now - dt.timedelta(minutes=settings.VIDEO_JOIN_CLOSES_AFTER_MINUTES)
    lingering = VideoSession.objects.filter(
        appointment__slot__ends_at__lte=closed_by,
        status__in=[VideoSession.Status.PENDING, VideoSession.Status.IN_PROGRESS],
    ).exclude(room_sid="")
    for session in lingering:
        try:
            _room_complete(session, now=now)
            result.rooms_completed += 1
        except VideoProviderError:
            logger.warning("Could not end video room %s; will retry on the next sweep.", session.room_sid)
    return result


def video_flag_clear(*, actor: Actor, session_id: int) -> VideoSession:
    """A petition officer marks a flagged session as dealt with."""
    if not policy.can_clear_video_flag(actor):
        raise Forbidden(_("Only a petition officer can clear a flag."))
    session = VideoSession.objects.filter(pk=session_id).first()
    if session is None:
        raise NotFound(_("There is no such video session."))
    if session.flagged_at is not None:
        audit_record(actor=actor, action="video.flag_cleared", target=session, detail={"reason": session.flag_reason})
        VideoSession.objects.filter(pk=session.pk).update(flagged_at=None)
        session.refresh_from_db()
    return session
