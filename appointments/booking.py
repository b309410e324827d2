"""Booking, cancelling, rescheduling and checking in: every rule about who sits in which seat."""

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from departments.audit import AuditEvent, audit_record
from departments.services import Actor
from scheduler.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, SlotFull
from scheduler.models import SEAT_HOLDING_STATUSES, Seat, Slot
from scheduler.selectors import slot_booking_error
from scheduler.text import text_clean

from . import identity, signals
from .models import Appointment, IdempotencyRecord, Petition, Resident
from .notify import hooks as notify_hooks
from .notify.waitlist import waitlist_offer_release_for_booking
from .outcomes.lifecycle import BOOKABLE_STATUSES, petition_transition
from .petitions import (
    _lookup_guard,
    _lookup_missed,
    petition_create,
    petition_for_actor,
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
    if actor.is_petition_officer:
        return True
    if actor.staff is not None and actor.is_department_member(appointment.slot.department_id):
        return True
    return actor.community_id is not None and actor.community_id == appointment.community_id


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
    slot = Slot.objects.select_for_update(of=("self",)).select_related("week", "department").filter(pk=slot_id).first()
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
    return slot


def _seat_take(
    *, actor: Actor, petition: Petition, slot_id: int, now: dt.datetime, rescheduled_from: Appointment | None = None
) -> Appointment:
    """Put a petition into a free seat of a slot; the caller holds the transaction."""
    if petition.status not in BOOKABLE_STATUSES:
        raise Conflict(
            _("A petition that is '%(status)s' cannot be booked.") % {"status": petition.get_status_display()},
            field="petition",
        )
    if Appointment.objects.filter(petition=petition, status__in=ACTIVE).exists():
        raise Conflict(
            _("This petition already has an appointment; cancel or reschedule it instead."), field="petition"
        )
    # Lock the resident so that two bookings of theirs cannot slip past the overlap check together.
    Resident.objects.select_for_update().filter(pk=petition.resident_id).first()
    slot = _slot_for_booking(slot_id=slot_id, petition=petition, now=now)
    overlapping = Appointment.objects.filter(
        petition__resident_id=petition.resident_id,
        status__in=ACTIVE,
        slot__starts_at__lt=slot.ends_at,
        slot__ends_at__gt=slot.starts_at,
    )
    if overlapping.exists():
        raise Conflict(_("You already have another appointment at this time."), field="slot")
    # A seat held for this petition by a waiting-list offer gives way to the one booked now (a petition holds one).
    waitlist_offer_release_for_booking(petition=petition, actor=actor, now=now)

    appointment = seat_claim(
        slot=slot,
        petition=petition,
        kiosk=actor.kiosk,
        booked_by=actor.staff,
        rescheduled_from=rescheduled_from,
        **_calendar_identity_after(rescheduled_from),
    )
    if appointment is None:
        raise SlotFull(_("Sorry, this time was just taken. Please choose another time."), field="slot")

    if petition.status != Petition.Status.SCHEDULED:
        petition_transition(petition=petition, to=Petition.Status.SCHEDULED, actor=actor)
    appointment.slot = slot
    return appointment


def _calendar_identity_after(previous: Appointment | None) -> dict:
    """A moved booking stays one calendar event: the same UID, and a SEQUENCE above the one it replaces."""
    if previous is None:
        return {}
    return {"calendar_uid": previous.calendar_uid, "calendar_sequence": previous.calendar_sequence + 1}


def seat_claim(*, slot: Slot, petition: Petition, **fields) -> Appointment | None:
    """Put a petition into the first free seat of a (locked) slot, or None when every seat is held."""
    free_seats = (
        Seat.objects.filter(slot=slot, number__lte=slot.capacity)
        .exclude(appointments__status__in=SEAT_HOLDING_STATUSES)
        .order_by("number")
        .values_list("pk", flat=True)
    )
    for seat_id in list(free_seats):
        try:
            # The partial unique index on (seat) decides a race; the loser moves on to the next seat.
            with transaction.atomic():
                return Appointment.objects.create(
                    petition=petition, seat_id=seat_id, slot=slot, community=petition.community, **fields
                )
        except IntegrityError:
            continue
    return None


def _idempotency_key_check(key: str | None) -> None:
    if not (0 < len(key or "") <= IDEMPOTENCY_KEY_MAX) or not (key or "").isprintable():
        raise InvalidInput(_("The Idempotency-Key must be 1 to 100 printable characters."), field="Idempotency-Key")


def _booked(*, actor: Actor, appointment: Appointment, slot_id: int) -> BookingResult:
    """Record a new booking and announce it once the transaction has committed."""
    audit_record(actor=actor, action="appointment.book", target=appointment, detail={"slot": slot_id})
    notify_hooks.on_booked(appointment=appointment)
    transaction.on_commit(lambda: signals.appointment_booked.send(sender=Appointment, appointment=appointment))
    return BookingResult(appointment=appointment_queryset().get(pk=appointment.pk))


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
        replay = _replay(actor=actor, key=idempotency_key, fingerprint=fingerprint)
        if replay:
            return replay
    petition = petition_for_actor(actor=actor, reference=petition_reference)
    # Serialise bookings of one petition, so a retry waits for the first attempt and then replays it.
    petition = Petition.objects.select_for_update().select_related("resident", "department").get(pk=petition.pk)
    if idempotency_key is not None:
        replay = _replay(actor=actor, key=idempotency_key, fingerprint=fingerprint)
        if replay:
            return replay

    appointment = _seat_take(actor=actor, petition=petition, slot_id=slot_id, now=now)
    if idempotency_key is not None:
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(
                    principal=actor.principal, key=idempotency_key, fingerprint=fingerprint, appointment=appointment
                )
        except IntegrityError:
            # Same key, another petition, at the same instant: refuse this one, keeping the first.
            raise InvalidInput(
                _("This Idempotency-Key was already used for a different request."), field="Idempotency-Key"
            ) from None
    return _booked(actor=actor, appointment=appointment, slot_id=slot_id)


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
            appointment = _seat_take(actor=actor, petition=petition, slot_id=slot_id, now=now)
            IdempotencyRecord.objects.create(
                principal=actor.principal, key=idempotency_key, fingerprint=fingerprint, appointment=appointment
            )
    except (DomainError, IntegrityError):
        replay = _replay(actor=actor, key=idempotency_key, fingerprint=fingerprint)
        if replay:
            return replay
        raise
    return _booked(actor=actor, appointment=appointment, slot_id=slot_id)


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


@transaction.atomic(durable=True)
def appointment_cancel(
    *, actor: Actor, appointment_id: int, reason: str = "", now: dt.datetime | None = None
) -> Appointment:
    """Cancel a booked appointment and free its seat; the petition returns to where it was."""
    now = now or timezone.now()
    appointment = appointment_for_actor(actor=actor, appointment_id=appointment_id, lock=True)
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
    if previous.status != Appointment.Status.BOOKED:
        raise Conflict(
            _("An appointment that is '%(status)s' cannot be rescheduled.") % {"status": previous.get_status_display()},
            field="appointment",
        )
    if previous.slot_id == slot_id:
        raise InvalidInput(_("The appointment is already at this time."), field="slot")
    petition = (
        Petition.objects.select_for_update().select_related("resident", "department").get(pk=previous.petition_id)
    )
    _cancel(actor=actor, appointment=previous, code=CancelReason.RESCHEDULED, reason="", now=now)
    appointment = _seat_take(actor=actor, petition=petition, slot_id=slot_id, now=now, rescheduled_from=previous)
    audit_record(actor=actor, action="appointment.reschedule", target=appointment, detail={"from": previous.pk})
    notify_hooks.on_rescheduled(previous=previous, appointment=appointment)
    transaction.on_commit(
        lambda: signals.appointment_rescheduled.send(sender=Appointment, appointment=appointment, previous=previous)
    )
    return appointment_queryset().get(pk=appointment.pk)


@transaction.atomic(durable=True)
def appointment_check_in(*, actor: Actor, appointment_id: int, now: dt.datetime | None = None) -> Appointment:
    """Record that the resident has arrived at the community office for their session."""
    now = now or timezone.now()
    appointment = appointment_for_actor(actor=actor, appointment_id=appointment_id, lock=True)
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
    if not actor.can_manage_department(slot.department_id):
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
