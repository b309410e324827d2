"""Booking, cancelling, rescheduling and checking in: every rule about who sits in which seat."""

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from departments.audit import AuditEvent, audit_record, audit_record_many
from departments.services import Actor
from scheduler.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, SlotFull
from scheduler.models import SEAT_HOLDING_STATUSES, Seat, Slot
from scheduler.selectors import slot_booking_error
from scheduler.text import text_clean

from . import identity, policy, signals
from .models import Appointment, IdempotencyRecord, Petition, Resident, WaitlistEntry
from .notify import hooks as notify_hooks
from .notify.waitlist import waitlist_offer_release_for_booking
from .outcomes.lifecycle import BOOKABLE_STATUSES, petition_transition, petition_transition_detail
from .petitions import (
    _lookup_guard,
    _lookup_missed,
    petition_create,
    petition_visible_to,
)

ACTIVE = Appointment.ACTIVE_STATUSES
# A resident may check in from this long before their session until it ends.
CHECK_IN_OPENS_BEFORE = dt.timedelta(hours=2)
IDEMPOTENCY_KEY_MAX = 100
# A cancellation or withdrawal reason, as stored on the appointment and the slot.
REASON_MAX = 200
CancelReason = Appointment.CancelReason


@dataclass(frozen=True)
class BookingResult:
    appointment: Appointment
    replayed: bool = False


def appointment_queryset():
    return Appointment.objects.select_related(
        "seat", "slot__department", "petition__resident", "petition__department", "community", "kiosk"
    )


def appointment_visible_to(appointment: Appointment, actor: Actor) -> bool:
    return policy.can_view_appointment(actor, appointment)


def appointment_for_actor(*, actor: Actor, appointment_id: int, lock: bool = False) -> Appointment:
    """Load an appointment only if this caller may see it (others get the same 404 as a missing one)."""
    queryset = appointment_queryset()
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    appointment = queryset.filter(pk=appointment_id).first()
    if appointment is None or not appointment_visible_to(appointment, actor):
        raise NotFound(_("No appointment %(id)s was found.") % {"id": appointment_id}, field="appointment")
    return appointment


def _slot_for_booking(*, slot_id: int, petition: Petition, now: dt.datetime) -> Slot:
    slot = Slot.objects.select_for_update(of=("self",)).select_related("week").filter(pk=slot_id).first()
    if slot is None:
        raise NotFound(_("There is no such consultation time."), field="slot")
    if slot.department_id != petition.department_id:
        raise InvalidInput(
            _("This time belongs to %(other)s, but the petition is for %(dept)s.")
            % {"other": slot.department.name, "dept": petition.department.name},
            field="slot",
        )
    error = slot_booking_error(slot, now=now)
    if error is not None:
        raise error
    # The petition's department, already loaded: the same row.
    slot.department = petition.department
    return slot


@dataclass
class SeatTaken:
    """A seat just taken, what it took to take it, and the audit events still to be written with the booking's."""

    appointment: Appointment
    # The petition was on a waiting list when it was booked (its place there is closed with the booking).
    waiting: bool
    events: list[tuple[str, Model, dict | None]]


def _petition_locked(*, actor: Actor, reference: str) -> Petition | None:
    """Read and lock a petition and its resident once, with what the booking shows; None when not this caller's."""
    if not (isinstance(reference, str) and reference.isprintable() and len(reference) <= 64):
        return None
    petition = (
        # The resident too: two bookings of theirs must not slip past the overlap check together.
        Petition.objects.select_for_update(of=("self", "resident"))
        .select_related("resident", "department", "community", "category")
        .filter(reference=reference)
        .first()
    )
    return petition if petition is not None and petition_visible_to(petition, actor) else None


def _seat_take(
    *,
    actor: Actor,
    petition: Petition,
    slot_id: int,
    now: dt.datetime,
    rescheduled_from: Appointment | None = None,
    resident_locked: bool = False,
) -> SeatTaken:
    """Put a petition into a free seat of a slot; the caller holds the transaction and writes the audit events."""
    if petition.status not in BOOKABLE_STATUSES:
        raise Conflict(
            _("A petition that is '%(status)s' cannot be booked.") % {"status": petition.get_status_display()},
            field="petition",
        )
    if not resident_locked:
        # Lock the resident so that two bookings of theirs cannot slip past the overlap check together.
        Resident.objects.select_for_update().filter(pk=petition.resident_id).values_list("pk").first()
    slot = _slot_for_booking(slot_id=slot_id, petition=petition, now=now)
    overlapping = Appointment.objects.filter(
        petition__resident_id=petition.resident_id,
        status__in=ACTIVE,
        slot__starts_at__lt=slot.ends_at,
        slot__ends_at__gt=slot.starts_at,
    )
    if overlapping.exists():
        raise Conflict(_("You already have another appointment at this time."), field="slot")
    # Locked with the petition held, so nobody can join or be offered a seat meanwhile; nearly always none.
    waiting = WaitlistEntry.objects.select_for_update().filter(petition=petition, state__in=WaitlistEntry.OPEN_STATES)
    on_waitlist = bool(list(waiting.values_list("pk", flat=True)))
    if on_waitlist:
        # A seat held for this petition by a waiting-list offer gives way to the one booked now (a petition holds one).
        waitlist_offer_release_for_booking(petition=petition, actor=actor, now=now)

    try:
        appointment = _seat_claim(
            slot=slot,
            petition=petition,
            kiosk=actor.kiosk,
            booked_by=actor.staff,
            rescheduled_from=rescheduled_from,
            **_calendar_identity_after(rescheduled_from),
        )
    except _PetitionHoldsSeat:
        # The one-active-per-petition index decides, rather than a query asked before it.
        raise Conflict(
            _("This petition already has an appointment; cancel or reschedule it instead."), field="petition"
        ) from None
    if appointment is None:
        raise SlotFull(_("Sorry, this time was just taken. Please choose another time."), field="slot")

    events: list[tuple[str, Model, dict | None]] = []
    if petition.status != Petition.Status.SCHEDULED:
        previous = petition.status
        petition_transition(petition=petition, to=Petition.Status.SCHEDULED, actor=actor, audit=False)
        events.append(("petition.status", petition, petition_transition_detail(previous=previous, to=petition.status)))
    appointment.slot = slot
    appointment.petition = petition
    appointment.community = petition.community
    appointment.kiosk = actor.kiosk
    return SeatTaken(appointment=appointment, waiting=on_waitlist, events=events)


def _calendar_identity_after(previous: Appointment | None) -> dict:
    """A moved booking stays one calendar event: the same UID, and a SEQUENCE above the one it replaces."""
    if previous is None:
        return {}
    return {"calendar_uid": previous.calendar_uid, "calendar_sequence": previous.calendar_sequence + 1}


class _PetitionHoldsSeat(Exception):
    """The petition already holds a seat (booked, checked in or offered): its unique index said so."""


# What SQLite says instead of a constraint's name: the columns of the unique index that refused the row.
_SQLITE_UNIQUE_COLUMNS = {
    "appointments_appointment.petition_id": "appointment_one_active_per_petition",
    "appointments_appointment.seat_id": "appointment_one_holder_per_seat",
    "appointments_idempotencyrecord.principal, appointments_idempotencyrecord.key": (
        "idempotency_key_unique_per_caller"
    ),
}


def constraint_violated(error: IntegrityError) -> str:
    """The name of the constraint a refused write broke ("" when the database does not say)."""
    name = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
    if name:
        return name
    message = str(error)
    prefix = "UNIQUE constraint failed: "
    return _SQLITE_UNIQUE_COLUMNS.get(message[len(prefix) :], "") if message.startswith(prefix) else ""


def _seat_claim(*, slot: Slot, petition: Petition, **fields) -> Appointment | None:
    """Put a petition into the first free seat of a (locked) slot; None when every seat is held."""
    free_seats = (
        Seat.objects.filter(slot=slot, number__lte=slot.capacity)
        .exclude(appointments__status__in=SEAT_HOLDING_STATUSES)
        .order_by("number")
        .only("pk", "number", "slot_id")
    )
    for seat in list(free_seats):
        try:
            # The partial unique index on (seat) decides a race; the loser moves on to the next seat.
            with transaction.atomic():
                return Appointment.objects.create(
                    petition=petition, seat=seat, slot=slot, community_id=petition.community_id, **fields
                )
        except IntegrityError as error:
            if constraint_violated(error) == "appointment_one_active_per_petition":
                raise _PetitionHoldsSeat from None
            continue
    return None


def seat_claim(*, slot: Slot, petition: Petition, **fields) -> Appointment | None:
    """Put a petition into the first free seat of a (locked) slot, or None when every seat (or the petition) is held."""
    try:
        return _seat_claim(slot=slot, petition=petition, **fields)
    except _PetitionHoldsSeat:
        return None


def _idempotency_key_check(key: str | None) -> None:
    if not (0 < len(key or "") <= IDEMPOTENCY_KEY_MAX) or not (key or "").isprintable():
        raise InvalidInput(_("The Idempotency-Key must be 1 to 100 printable characters."), field="Idempotency-Key")


def _booked(*, actor: Actor, taken: SeatTaken, slot_id: int) -> BookingResult:
    """Record a new booking (its audit events in one INSERT) and announce it once the transaction has committed.

    The answer is built from the rows the booking loaded, not read again.
    """
    appointment = taken.appointment
    audit_record_many(actor=actor, events=[*taken.events, ("appointment.book", appointment, {"slot": slot_id})])
    from .video.tasks import attendance_sweeps_due  # video's services read bookings: imported when first needed

    # Its messages' sending tasks and its attendance sweeps: one INSERT in this transaction, none of their own after.
    notify_hooks.on_booked(
        appointment=appointment, waiting=taken.waiting, fresh=True, also=attendance_sweeps_due(appointment)
    )
    transaction.on_commit(lambda: signals.appointment_booked.send(sender=Appointment, appointment=appointment))
    return BookingResult(appointment=appointment)


def _fingerprint(*parts) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def _replay(*, actor: Actor, key: str, fingerprint: str) -> BookingResult | None:
    record = IdempotencyRecord.objects.filter(principal=actor.principal, key=key).first()
    if record is None:
        return None
    if record.fingerprint != fingerprint:
        raise InvalidInput(_("This Idempotency-Key was already used for a different request."), field="Idempotency-Key")
    return BookingResult(appointment=appointment_queryset().get(pk=record.appointment_id), replayed=True)


@transaction.atomic(durable=True)
def appointment_book(
    *,
    actor: Actor,
    petition_reference: str,
    slot_id: int,
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> BookingResult:
    """Book a petition into a slot. With an idempotency key, a retried request returns the first result."""
    now = now or timezone.now()
    fingerprint = _fingerprint(petition_reference, slot_id)
    if idempotency_key is not None:
        _idempotency_key_check(idempotency_key)
    # Locked first, so that bookings of one petition queue here: a retry waits for the first attempt, then replays it.
    petition = _petition_locked(actor=actor, reference=petition_reference)
    if idempotency_key is not None:
        replay = _replay(actor=actor, key=idempotency_key, fingerprint=fingerprint)
        if replay:
            return replay
    if petition is None:
        raise NotFound(
            _("No petition with reference '%(ref)s' was found.") % {"ref": petition_reference}, field="petition"
        )

    taken = _seat_take(actor=actor, petition=petition, slot_id=slot_id, now=now, resident_locked=True)
    if idempotency_key is not None:
        try:
            # No savepoint: a refusal here rolls the whole booking back anyway.
            IdempotencyRecord.objects.create(
                principal=actor.principal, key=idempotency_key, fingerprint=fingerprint, appointment=taken.appointment
            )
        except IntegrityError:
            # Same key, another petition, at the same instant: refuse this one, keeping the first.
            raise InvalidInput(
                _("This Idempotency-Key was already used for a different request."), field="Idempotency-Key"
            ) from None
    return _booked(actor=actor, taken=taken, slot_id=slot_id)


@transaction.atomic(durable=True)
def petition_file_and_book(
    *,
    actor: Actor,
    name: str,
    phone: str,
    id_number: str,
    category: str,
    summary: str,
    department: str | None,
    slot_id: int,
    idempotency_key: str,
    now: dt.datetime | None = None,
) -> BookingResult:
    """File a resident's matter and book it into a slot: both happen or neither, and a retry replays."""
    now = now or timezone.now()
    _idempotency_key_check(idempotency_key)
    who = identity.lookup_hash((id_number or "").strip().upper())
    fingerprint = _fingerprint("file-and-book", who, category, department, (summary or "").strip(), slot_id)
    replay = _replay(actor=actor, key=idempotency_key, fingerprint=fingerprint)
    if replay:
        return replay
    try:
        # A savepoint, so that a double tap which lost the race can still find the winner's booking below.
        with transaction.atomic():
            petition = petition_create(
                actor=actor,
                name=name,
                phone=phone,
                id_number=id_number,
                category=category,
                summary=summary,
                department=department,
            )
            taken = _seat_take(actor=actor, petition=petition, slot_id=slot_id, now=now)
            IdempotencyRecord.objects.create(
                principal=actor.principal, key=idempotency_key, fingerprint=fingerprint, appointment=taken.appointment
            )
    except (DomainError, IntegrityError):
        replay = _replay(actor=actor, key=idempotency_key, fingerprint=fingerprint)
        if replay:
            return replay
        raise
    return _booked(actor=actor, taken=taken, slot_id=slot_id)


def _previous_petition_status(petition: Petition) -> str:
    """The status the petition had before it was last scheduled (so cancelling restores it)."""
    event = (
        AuditEvent.objects.filter(
            target_type="appointments.petition",
            target_id=str(petition.pk),
            action="petition.status",
            detail__to=Petition.Status.SCHEDULED,
        )
        .order_by("-at", "-pk")
        .first()
    )
    previous = (event.detail.get("from") if event else None) or Petition.Status.RECEIVED
    return previous if previous != Petition.Status.SCHEDULED else Petition.Status.RECEIVED


def _petition_unschedule(*, petition_id: int, actor: Actor) -> None:
    """Return a petition whose appointment was cancelled to where it was, unless it has moved on since."""
    petition = Petition.objects.select_for_update().get(pk=petition_id)
    if petition.status == Petition.Status.SCHEDULED:
        petition_transition(petition=petition, to=_previous_petition_status(petition), actor=actor)


def _cancel(*, actor: Actor, appointment: Appointment, code: str, reason: str, now: dt.datetime) -> None:
    appointment.status = Appointment.Status.CANCELLED
    appointment.cancelled_at = now
    appointment.cancel_reason_code = code
    appointment.cancel_reason = reason[:REASON_MAX]
    appointment.calendar_sequence += 1
    appointment.save(
        update_fields=[
            "status",
            "cancelled_at",
            "cancel_reason_code",
            "cancel_reason",
            "calendar_sequence",
            "updated_at",
        ]
    )
    audit_record(actor=actor, action="appointment.cancel", target=appointment, detail={"code": code})


def appointment_cancel_for_referral(*, actor: Actor, petition: Petition) -> None:
    """Cancel a referred petition's open appointment with the department it leaves (inside the referral)."""
    now = timezone.now()
    for appointment in Appointment.objects.select_for_update().filter(petition=petition, status__in=ACTIVE):
        if appointment.slot.ends_at <= now or appointment.status == Appointment.Status.CHECKED_IN:
            # Held or under way: the consultation took place with the referring department.
            appointment.status = Appointment.Status.COMPLETED
            appointment.save(update_fields=["status", "updated_at"])
            audit_record(actor=actor, action="appointment.complete", target=appointment)
        else:
            _cancel(actor=actor, appointment=appointment, code=CancelReason.REFERRED, reason="", now=now)
            notify_hooks.on_cancelled(appointment=appointment)
            transaction.on_commit(
                partial(signals.appointment_cancelled.send, sender=Appointment, appointment=appointment)
            )


def _may_change_booking(actor: Actor, appointment: Appointment) -> None:
    if not policy.can_cancel_appointment(actor, appointment):
        raise Forbidden(
            _("Only the resident's community office, the department's admin or the petition office change bookings.")
        )


@transaction.atomic(durable=True)
def appointment_cancel(
    *, actor: Actor, appointment_id: int, reason: str = "", now: dt.datetime | None = None
) -> Appointment:
    """Cancel a booked appointment and free its seat; the petition returns to where it was."""
    now = now or timezone.now()
    appointment = appointment_for_actor(actor=actor, appointment_id=appointment_id, lock=True)
    _may_change_booking(actor, appointment)
    if appointment.status != Appointment.Status.BOOKED:
        raise Conflict(
            _("An appointment that is '%(status)s' cannot be cancelled.")
            % {"status": appointment.get_status_display()},
            field="appointment",
        )
    if appointment.slot.starts_at <= now:
        raise Conflict(_("This appointment has already started and cannot be cancelled."), field="appointment")
    reason = text_clean(reason or "", field="reason", max_length=REASON_MAX, multiline=True)
    _cancel(actor=actor, appointment=appointment, code=CancelReason.CANCELLED_BY_RESIDENT, reason=reason, now=now)
    _petition_unschedule(petition_id=appointment.petition_id, actor=actor)
    notify_hooks.on_cancelled(appointment=appointment)
    transaction.on_commit(lambda: signals.appointment_cancelled.send(sender=Appointment, appointment=appointment))
    return appointment


@transaction.atomic(durable=True)
def appointment_reschedule(
    *, actor: Actor, appointment_id: int, slot_id: int, now: dt.datetime | None = None
) -> Appointment:
    """Move a booked appointment to another slot; if the new slot cannot be had, nothing changes."""
    now = now or timezone.now()
    previous = appointment_for_actor(actor=actor, appointment_id=appointment_id, lock=True)
    _may_change_booking(actor, previous)
    if previous.status != Appointment.Status.BOOKED:
        raise Conflict(
            _("An appointment that is '%(status)s' cannot be rescheduled.") % {"status": previous.get_status_display()},
            field="appointment",
        )
    if previous.slot_id == slot_id:
        raise InvalidInput(_("The appointment is already at this time."), field="slot")
    petition = (
        Petition.objects.select_for_update(of=("self", "resident"))
        .select_related("resident", "department", "community")
        .get(pk=previous.petition_id)
    )
    _cancel(actor=actor, appointment=previous, code=CancelReason.RESCHEDULED, reason="", now=now)
    taken = _seat_take(
        actor=actor, petition=petition, slot_id=slot_id, now=now, rescheduled_from=previous, resident_locked=True
    )
    appointment = taken.appointment
    audit_record_many(
        actor=actor, events=[*taken.events, ("appointment.reschedule", appointment, {"from": previous.pk})]
    )
    notify_hooks.on_rescheduled(previous=previous, appointment=appointment)
    from .video.tasks import attendance_sweep_schedule

    attendance_sweep_schedule(appointment)
    transaction.on_commit(
        lambda: signals.appointment_rescheduled.send(sender=Appointment, appointment=appointment, previous=previous)
    )
    return appointment  # with the rows the move loaded, not read again


@transaction.atomic(durable=True)
def appointment_check_in(*, actor: Actor, appointment_id: int, now: dt.datetime | None = None) -> Appointment:
    """Record that the resident has arrived at the community office for their session."""
    now = now or timezone.now()
    appointment = appointment_for_actor(actor=actor, appointment_id=appointment_id, lock=True)
    if not policy.can_check_in(actor, appointment):
        raise Forbidden(_("Residents are checked in by their community office."))
    if appointment.status == Appointment.Status.CHECKED_IN:
        return appointment
    if appointment.status != Appointment.Status.BOOKED:
        raise Conflict(
            _("An appointment that is '%(status)s' cannot be checked in.")
            % {"status": appointment.get_status_display()},
            field="appointment",
        )
    if now < appointment.slot.starts_at - CHECK_IN_OPENS_BEFORE:
        raise Conflict(_("Check-in opens two hours before your appointment."), field="appointment")
    if now > appointment.slot.ends_at:
        raise Conflict(_("This appointment time has already ended."), field="appointment")
    appointment.status = Appointment.Status.CHECKED_IN
    appointment.checked_in_at = now
    appointment.save(update_fields=["status", "checked_in_at", "updated_at"])
    audit_record(actor=actor, action="appointment.check_in", target=appointment)
    transaction.on_commit(lambda: signals.appointment_checked_in.send(sender=Appointment, appointment=appointment))
    return appointment


@transaction.atomic(durable=True)
def slot_withdraw(*, actor: Actor, slot_id: int, reason: str, now: dt.datetime | None = None) -> list[Appointment]:
    """Take a published slot out of the schedule, cancelling its appointments with the reason given."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    slot = Slot.objects.select_for_update().select_related("department").filter(pk=slot_id).first()
    if slot is None:
        raise NotFound(_("There is no such consultation time."), field="slot")
    if not policy.can_manage_department(actor, slot.department_id):
        raise Forbidden(_("Only the department's admin or a petition officer may withdraw its times."))
    if not reason:
        raise InvalidInput(_("Please give a reason; residents will be told it."), field="reason")
    reason = text_clean(reason, field="reason", max_length=REASON_MAX, min_length=1)
    cancelled = []
    for appointment in appointment_queryset().filter(slot=slot, status=Appointment.Status.BOOKED):
        _cancel(actor=actor, appointment=appointment, code=CancelReason.SLOT_WITHDRAWN, reason=reason, now=now)
        _petition_unschedule(petition_id=appointment.petition_id, actor=actor)
        notify_hooks.on_cancelled(appointment=appointment)
        cancelled.append(appointment)
    slot.status = Slot.Status.WITHDRAWN
    slot.withdrawn_reason = reason[:200]
    slot.withdrawn_by_publishing = False
    slot.save(update_fields=["status", "withdrawn_reason", "withdrawn_by_publishing"])
    audit_record(actor=actor, action="slot.withdraw", target=slot, detail={"reason": reason[:200]})
    for appointment in cancelled:
        transaction.on_commit(partial(signals.appointment_cancelled.send, sender=Appointment, appointment=appointment))
    return cancelled


def appointment_find_for_check_in(
    *, community_id: int, query_code: str, principal: str | None = None
) -> Appointment | None:
    """Find the active appointment of a petition by its query code, at this community.

    With a principal (the kiosk asking), repeated misses are refused for a while, so codes cannot be guessed.
    """
    guard = _lookup_guard(principal)
    appointment = None
    if (query_code or "").isdigit():
        appointment = (
            appointment_queryset()
            .filter(petition__query_code=query_code, community_id=community_id, status__in=ACTIVE)
            .first()
        )
    if appointment is None:
        _lookup_missed(guard)
    return appointment
