"""The waiting list: residents who found no free time, offered each seat that frees, in the order they joined."""

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext as _

from departments.audit import audit_record
from departments.models import Department
from departments.services import Actor
from scheduler.errors import Conflict
from scheduler.models import SEAT_HOLDING_STATUSES, ScheduleWeek, Seat, Slot
from scheduler.selectors import MAX_WINDOW_DAYS, slot_booking_error, slot_list_open

from ..models import Appointment, Petition
from ..outcomes.lifecycle import BOOKABLE_STATUSES, petition_transition
from .models import WaitlistEntry
from .services import notification_create

logger = logging.getLogger(__name__)

State = WaitlistEntry.State
OPEN_STATES = WaitlistEntry.OPEN_STATES
ACTIVE = Appointment.ACTIVE_STATUSES
# A seat is offered only if the resident would have at least this long to come and confirm it.
OFFER_MIN_HOLD = dt.timedelta(minutes=15)
# Expired offers handled per sweep; the next sweep takes the rest.
SWEEP_BATCH = 500


def offer_hold() -> dt.timedelta:
    """How long an offered seat is held for the resident (settings.WAITLIST_OFFER_HOURS)."""
    return dt.timedelta(hours=float(settings.WAITLIST_OFFER_HOURS))


def _clock(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


# Reads -----------------------------------------------------------------------------------------------------------


def waitlist_department_has_free_time(*, department: Department, now: dt.datetime | None = None) -> bool:
    """Tell whether a resident could book a free seat of this department now (so need not wait)."""
    return bool(slot_list_open(department=department, now=now, include_full=False))


def waitlist_position(entry: WaitlistEntry) -> int:
    """The resident's number in line: 1 for the next to be offered a seat."""
    ahead = WaitlistEntry.objects.filter(department_id=entry.department_id, state=State.WAITING).filter(
        Q(joined_at__lt=entry.joined_at) | Q(joined_at=entry.joined_at, pk__lt=entry.pk)
    )
    return ahead.count() + 1


@dataclass(frozen=True)
class WaitlistStatus:
    """Where a petition stands on the waiting list, as the kiosk tells the resident."""

    entry: WaitlistEntry
    position: int | None = None  # while waiting
    offer: Appointment | None = None  # while a seat is held
    offer_expired: bool = False  # held, but past its time (the sweep is about to hand it on)

    @property
    def waiting(self) -> bool:
        return self.entry.state == State.WAITING

    @property
    def offer_open(self) -> bool:
        return self.offer is not None and not self.offer_expired


def waitlist_status_get(*, petition: Petition, now: dt.datetime | None = None) -> WaitlistStatus | None:
    """The petition's open place on the waiting list (with the seat offered, if any), or None."""
    now = now or timezone.now()
    entry = (
        WaitlistEntry.objects.select_related("department", "offer__slot__department", "offer__community")
        .filter(petition=petition, state__in=OPEN_STATES)
        .first()
    )
    if entry is None:
        return None
    if entry.state == State.WAITING:
        return WaitlistStatus(entry=entry, position=waitlist_position(entry))
    expired = entry.offer_expires_at is not None and entry.offer_expires_at <= now
    return WaitlistStatus(entry=entry, offer=entry.offer, offer_expired=expired)


def waitlist_join_refusal(*, petition: Petition, now: dt.datetime | None = None) -> str | None:
    """Say why this petition cannot join its department's waiting list now, or None when it can."""
    if petition.status not in BOOKABLE_STATUSES:
        return _("A petition that is '%(status)s' cannot be booked.") % {"status": petition.get_status_display()}
    if not petition.department.is_active:
        return _("This department no longer takes bookings.")
    if Appointment.objects.filter(petition=petition, status__in=ACTIVE).exists():
        return _("This petition already has an appointment; cancel or reschedule it instead.")
    if waitlist_department_has_free_time(department=petition.department, now=now):
        return _("%(name)s has free times: please choose one instead of waiting.") % {"name": petition.department.name}
    return None


def waitlist_counts_by_department(
    *,
    department_ids: list[int] | None = None,
    joined_from: dt.datetime | None = None,
    joined_before: dt.datetime | None = None,
) -> dict[int, dict[str, int]]:
    """For each department, in one query: "waiting", residents on its waiting list now (waiting or holding an
    offer), and "joined", those who joined it in the period given (each was also counted as turned away)."""
    entries = WaitlistEntry.objects.all()
    if department_ids is not None:
        entries = entries.filter(department_id__in=department_ids)
    open_now = Q(state__in=OPEN_STATES)
    # Without a period, "joined" is counted over nothing (the same condition as "waiting", never both met).
    in_period = ~open_now & open_now
    if joined_from is not None and joined_before is not None:
        in_period = Q(joined_at__gte=joined_from, joined_at__lt=joined_before)
    rows = (
        entries.filter(open_now | in_period)
        .values("department_id")
        .annotate(waiting=Count("pk", filter=open_now), joined=Count("pk", filter=in_period))
        .order_by()
        .values_list("department_id", "waiting", "joined")
    )
    return {department_id: {"waiting": waiting, "joined": joined} for department_id, waiting, joined in rows}


# Joining ---------------------------------------------------------------------------------------------------------


def _locked_petition(petition_id: int) -> Petition:
    return Petition.objects.select_for_update(of=("self",)).select_related("department").get(pk=petition_id)


def _join_locked(*, actor: Actor, petition: Petition, now: dt.datetime) -> WaitlistEntry:
    """Put a locked petition on its department's waiting list; the caller holds the transaction."""
    entry = WaitlistEntry.objects.filter(petition=petition, state__in=OPEN_STATES).first()
    if entry is not None:
        return entry  # already waiting (a second tap, or a retry): the same place in line
    refusal = waitlist_join_refusal(petition=petition, now=now)
    if refusal is not None:
        raise Conflict(refusal, field="petition")
    community = actor.kiosk.community if actor.kiosk is not None else petition.community
    try:
        with transaction.atomic():
            entry = WaitlistEntry.objects.create(
                petition=petition, department=petition.department, community=community, joined_at=now
            )
    except IntegrityError:
        # Joined by a concurrent request a moment ago (the unique index allows one open place per petition).
        return WaitlistEntry.objects.get(petition=petition, state__in=OPEN_STATES)
    audit_record(actor=actor, action="waitlist.join", target=entry, detail={"department": petition.department.code})
    return entry


@transaction.atomic(durable=True)
def waitlist_join(*, actor: Actor, petition: Petition, now: dt.datetime | None = None) -> WaitlistEntry:
    """Put a petition on the waiting list of its department, which has no free time; joining twice is one place."""
    now = now or timezone.now()
    return _join_locked(actor=actor, petition=_locked_petition(petition.pk), now=now)


@transaction.atomic(durable=True)
def waitlist_file_and_join(
    *,
    actor: Actor,
    name: str,
    phone: str,
    id_number: str,
    category: str,
    summary: str,
    department: str,
    now: dt.datetime | None = None,
) -> WaitlistEntry:
    """File a resident's matter and put it on the waiting list of a department with no free time, or neither.

    A repeated request (a double tap) for the same matter gives the same place in line, not a second petition.
    """
    from ..petitions import petition_create, resident_for_filing

    now = now or timezone.now()
    # Locks the resident (registering them if new), so that two taps at once are decided one after the other.
    resident = resident_for_filing(actor=actor, name=name, phone=phone, id_number=id_number)
    same_matter = (
        WaitlistEntry.objects.select_related("petition")
        .filter(
            petition__resident=resident,
            department__code=department,
            petition__category__code=category,
            petition__summary=(summary or "").strip(),
            state__in=OPEN_STATES,
        )
        .first()
    )
    if same_matter is not None:
        return same_matter
    petition = petition_create(
        actor=actor,
        name=name,
        phone=phone,
        id_number=id_number,
        category=category,
        summary=summary,
        department=department,
    )
    return _join_locked(actor=actor, petition=_locked_petition(petition.pk), now=now)


@transaction.atomic(durable=True)
def waitlist_leave(*, actor: Actor, petition: Petition, now: dt.datetime | None = None) -> WaitlistEntry:
    """Take a petition off the waiting list at the resident's wish (a seat held for it is released)."""
    now = now or timezone.now()
    petition = _locked_petition(petition.pk)
    entry = WaitlistEntry.objects.select_for_update().filter(petition=petition, state__in=OPEN_STATES).first()
    if entry is None:
        raise Conflict(_("This matter is not on a waiting list."), field="petition")
    _entry_close(entry=entry, state=State.LEFT, actor=actor, now=now)
    return entry


# Offering seats --------------------------------------------------------------------------------------------------


def _offer_expiry(slot: Slot, now: dt.datetime) -> dt.datetime:
    """The offer stands for the configured hours, but never past the slot's last moment for booking."""
    return min(now + offer_hold(), slot.starts_at - dt.timedelta(minutes=slot.min_notice_minutes))


def _busy_times(petition: Petition) -> list[tuple[dt.datetime, dt.datetime]]:
    """When this resident already has an appointment (of any of their petitions)."""
    return list(
        Appointment.objects.filter(petition__resident_id=petition.resident_id, status__in=ACTIVE).values_list(
            "slot__starts_at", "slot__ends_at"
        )
    )


def _seat_hold(*, petition: Petition, slot_id: int, now: dt.datetime) -> Appointment | None:
    """Hold a free seat of a slot for a petition as an offer, or None if the slot has no seat for it now."""
    slot = Slot.objects.select_for_update(of=("self",)).select_related("week").filter(pk=slot_id).first()
    if slot is None or slot_booking_error(slot, now=now) is not None:
        return None
    from ..booking import seat_claim  # booking imports this package's hooks

    appointment = seat_claim(slot=slot, petition=petition, status=Appointment.Status.OFFERED)
    if appointment is not None:
        appointment.slot = slot
    return appointment


@dataclass
class _Attempt:
    entry: WaitlistEntry
    offered: bool


def _offer_to_first_waiting(*, department_id: int, now: dt.datetime, passed_over: set[int]) -> _Attempt | None:
    """Offer a free seat to the first resident waiting; None when nobody waits or no seat is free."""
    with transaction.atomic():
        # One offer-maker per department at a time, so that seats go strictly in the order residents joined.
        department = Department.objects.select_for_update().filter(pk=department_id).first()
        if department is None:
            return None
        free = [
            slot
            for slot in slot_list_open(department=department, now=now, include_full=False)
            if _offer_expiry(slot, now) - now >= OFFER_MIN_HOLD
        ]
        if not free:
            return None
        first = (
            WaitlistEntry.objects.filter(department_id=department_id, state=State.WAITING)
            .exclude(pk__in=passed_over)
            .order_by("joined_at", "pk")
            .values_list("pk", "petition_id")
            .first()
        )
        if first is None:
            return None
        entry_id, petition_id = first
        # Locks in the order every waiting-list change takes them: petition, then its entry, then the slot.
        petition = _locked_petition(petition_id)
        entry = WaitlistEntry.objects.select_for_update().get(pk=entry_id)
        if entry.state != State.WAITING:
            return _Attempt(entry=entry, offered=False)
        if petition.department_id != department_id or petition.status not in BOOKABLE_STATUSES:
            # Referred or decided since it joined: it no longer waits for this department.
            _entry_close(entry=entry, state=State.LEFT, actor=None, now=now)
            return _Attempt(entry=entry, offered=False)
        if Appointment.objects.filter(petition=petition, status__in=ACTIVE).exists():
            _entry_close(entry=entry, state=State.BOOKED, actor=None, now=now)
            return _Attempt(entry=entry, offered=False)
        busy = _busy_times(petition)
        for slot in free:
            if any(start < slot.ends_at and slot.starts_at < end for start, end in busy):
                continue  # the resident already has another appointment then
            appointment = _seat_hold(petition=petition, slot_id=slot.pk, now=now)
            if appointment is not None:
                _offer_record(entry=entry, appointment=appointment, petition=petition, now=now)
                return _Attempt(entry=entry, offered=True)
        return _Attempt(entry=entry, offered=False)


def _offer_record(*, entry: WaitlistEntry, appointment: Appointment, petition: Petition, now: dt.datetime) -> None:
    expires_at = _offer_expiry(appointment.slot, now)
    entry.state = State.OFFERED
    entry.offer = appointment
    entry.offered_at = now
    entry.offer_expires_at = expires_at
    entry.save(update_fields=["state", "offer", "offered_at", "offer_expires_at"])
    audit_record(
        actor=None,
        action="waitlist.offer",
        target=entry,
        detail={"appointment": appointment.pk, "slot": appointment.slot_id, "expires_at": expires_at.isoformat()},
    )
    notification_create(
        kind="waitlist_offer",
        key=f"waitlist:{entry.pk}:offer:{appointment.pk}",
        petition=petition,
        appointment=appointment,
        due_at=now,
        detail={"expires_at": expires_at.isoformat()},
    )


def waitlist_offer_next(*, department_id: int, now: dt.datetime | None = None) -> list[WaitlistEntry]:
    """Offer each free seat of a department to the residents waiting for it, first joined first; return the offers.

    Each offer is its own transaction: a seat is held (an appointment "offered"), the resident's place records
    it with its expiry, and the SMS is queued with it.
    """
    now = now or timezone.now()
    offered: list[WaitlistEntry] = []
    # Residents no free seat suits (they already have an appointment at each free time) keep their place.
    passed_over: set[int] = set()
    while (
        attempt := _offer_to_first_waiting(department_id=department_id, now=now, passed_over=passed_over)
    ) is not None:
        if attempt.offered:
            offered.append(attempt.entry)
        else:
            passed_over.add(attempt.entry.pk)
    return offered


@task
def waitlist_offers_task(department_id: int) -> int:
    """Offer a department's free seats to whoever waits for them; return how many offers were made."""
    return len(waitlist_offer_next(department_id=department_id))


def waitlist_offers_enqueue(*, department_id: int) -> None:
    """After commit: queue the task that offers a department's free seats to the residents waiting for it."""
    if not WaitlistEntry.objects.filter(department_id=department_id, state=State.WAITING).exists():
        return
    try:
        waitlist_offers_task.enqueue(department_id)
    except Exception:
        # The change is already committed; the sweep, every minute, offers whatever free seats remain.
        logger.exception("Could not queue waiting-list offers for department %s", department_id)


def on_week_published(sender, department_id: int, **kwargs) -> None:
    """A newly published week may have free seats: offer them to whoever waits for the department."""
    waitlist_offers_enqueue(department_id=department_id)


# Releasing a held seat and closing a place in line ---------------------------------------------------------------


def _offer_release(*, offer: Appointment, actor: Actor | None, now: dt.datetime) -> None:
    """Give back a seat held by an offer: the appointment is cancelled as a lapsed offer, its SMS stopped."""
    from . import hooks

    if offer.status != Appointment.Status.OFFERED:
        return
    offer.status = Appointment.Status.CANCELLED
    offer.cancelled_at = now
    offer.cancel_reason_code = Appointment.CancelReason.OFFER_LAPSED
    offer.calendar_sequence += 1
    offer.save(update_fields=["status", "cancelled_at", "cancel_reason_code", "calendar_sequence", "updated_at"])
    audit_record(actor=actor, action="appointment.cancel", target=offer, detail={"code": offer.cancel_reason_code})
    # Stops a pending offer SMS, and once committed offers the seat to the next resident waiting.
    hooks.on_cancelled(appointment=offer, notify=False)


def _entry_close(*, entry: WaitlistEntry, state: str, actor: Actor | None, now: dt.datetime) -> None:
    """Close a place in line (booked, expired or left), releasing the seat it held; the entry is locked."""
    if entry.state == State.OFFERED and entry.offer_id is not None:
        offer = Appointment.objects.select_for_update(of=("self",)).select_related("slot").get(pk=entry.offer_id)
        _offer_release(offer=offer, actor=actor, now=now)
    entry.state = state
    entry.closed_at = now
    entry.save(update_fields=["state", "closed_at"])
    audit_record(actor=actor, action="waitlist.close", target=entry, detail={"state": state})


def _entry_back_in_line(*, entry: WaitlistEntry, offer_id: int, now: dt.datetime) -> None:
    """The seat offered can no longer be had (withdrawn, closed): release it and wait again in the same place."""
    offer = Appointment.objects.select_for_update(of=("self",)).select_related("slot").get(pk=offer_id)
    _offer_release(offer=offer, actor=None, now=now)
    entry.state = State.WAITING
    entry.offer = None
    entry.offered_at = None
    entry.offer_expires_at = None
    entry.save(update_fields=["state", "offer", "offered_at", "offer_expires_at"])
    audit_record(actor=None, action="waitlist.offer_withdrawn", target=entry, detail={"appointment": offer.pk})


def waitlist_offer_release_for_booking(*, petition: Petition, actor: Actor, now: dt.datetime) -> None:
    """A petition being booked into a seat of its choice gives up the seat its offer holds (the caller locked it).

    Booking calls this before taking the new seat: the one-active-per-petition index counts an offer too.
    """
    entry = (
        WaitlistEntry.objects.select_for_update()
        .filter(petition=petition, state=State.OFFERED, offer__status=Appointment.Status.OFFERED)
        .first()
    )
    if entry is not None:
        _entry_close(entry=entry, state=State.BOOKED, actor=actor, now=now)


def waitlist_close_for_booking(*, appointment: Appointment) -> None:
    """A petition got a booking: it no longer waits (and a seat offered to it is released)."""
    now = timezone.now()
    entries = WaitlistEntry.objects.select_for_update().filter(
        petition_id=appointment.petition_id, state__in=OPEN_STATES
    )
    for entry in entries:
        if entry.offer_id == appointment.pk:
            # The offer itself was confirmed: its seat is the booking, nothing to release.
            entry.state = State.BOOKED
            entry.closed_at = now
            entry.save(update_fields=["state", "closed_at"])
            audit_record(actor=None, action="waitlist.close", target=entry, detail={"state": State.BOOKED})
        else:
            _entry_close(entry=entry, state=State.BOOKED, actor=None, now=now)


def waitlist_close_for_referral(*, petition) -> None:
    """A referred petition leaves its old department's waiting list (it may join the new one's)."""
    now = timezone.now()
    for entry in WaitlistEntry.objects.select_for_update().filter(petition=petition, state__in=OPEN_STATES):
        _entry_close(entry=entry, state=State.LEFT, actor=None, now=now)


# The resident answers an offer -----------------------------------------------------------------------------------


def _offer_locked(*, petition: Petition) -> tuple[WaitlistEntry, int]:
    """The petition's place holding an offer, locked, with the id of the appointment that holds the seat."""
    entry = WaitlistEntry.objects.select_for_update().filter(petition=petition, state__in=OPEN_STATES).first()
    if entry is None or entry.state != State.OFFERED or entry.offer_id is None:
        raise Conflict(_("No time is being held for you at the moment."), field="offer")
    return entry, entry.offer_id


def _expired_message(entry: WaitlistEntry) -> str:
    return _(
        "This time was held for you until %(time)s and has passed to the next resident waiting. "
        "You can join the waiting list again."
    ) % {"time": _clock(entry.offer_expires_at or timezone.now())}


@transaction.atomic(durable=True)
def waitlist_offer_confirm(*, actor: Actor, petition: Petition, now: dt.datetime | None = None) -> Appointment:
    """Book the seat held for a resident, who confirmed it at a kiosk with the query code, before the offer expired."""
    from .. import signals
    from . import hooks

    now = now or timezone.now()
    petition = _locked_petition(petition.pk)
    entry, offer_id = _offer_locked(petition=petition)
    if entry.offer_expires_at is not None and now >= entry.offer_expires_at:
        raise Conflict(_expired_message(entry), field="offer")
    appointment = Appointment.objects.select_for_update(of=("self",)).select_related("slot__week").get(pk=offer_id)
    if appointment.status != Appointment.Status.OFFERED:
        raise Conflict(_expired_message(entry), field="offer")
    if slot_booking_error(appointment.slot, now=now) is not None:
        raise Conflict(
            _("Sorry, this time can no longer be booked. You keep your place on the waiting list."), field="offer"
        )
    if petition.status not in BOOKABLE_STATUSES:
        raise Conflict(
            _("A petition that is '%(status)s' cannot be booked.") % {"status": petition.get_status_display()},
            field="petition",
        )
    slot = appointment.slot
    overlapping = Appointment.objects.filter(
        petition__resident_id=petition.resident_id,
        status__in=ACTIVE,
        slot__starts_at__lt=slot.ends_at,
        slot__ends_at__gt=slot.starts_at,
    )
    if overlapping.exists():
        raise Conflict(_("You already have another appointment at this time."), field="offer")
    appointment.status = Appointment.Status.BOOKED
    appointment.kiosk = actor.kiosk
    appointment.booked_by = actor.staff
    appointment.save(update_fields=["status", "kiosk", "booked_by", "updated_at"])
    if petition.status != Petition.Status.SCHEDULED:
        petition_transition(petition=petition, to=Petition.Status.SCHEDULED, actor=actor)
    # The same consequences as any booking: audited, confirmed by SMS with reminders, announced after commit.
    audit_record(
        actor=actor, action="appointment.book", target=appointment, detail={"slot": slot.pk, "waitlist": entry.pk}
    )
    from ..video.tasks import attendance_sweeps_due  # video's services read bookings: imported when first needed

    hooks.on_booked(appointment=appointment, also=attendance_sweeps_due(appointment))
    transaction.on_commit(lambda: signals.appointment_booked.send(sender=Appointment, appointment=appointment))
    return appointment


@transaction.atomic(durable=True)
def waitlist_offer_decline(*, actor: Actor, petition: Petition, now: dt.datetime | None = None) -> WaitlistEntry:
    """The resident does not want the time held for them: the seat goes to the next resident waiting."""
    now = now or timezone.now()
    petition = _locked_petition(petition.pk)
    entry, _offer_id = _offer_locked(petition=petition)
    _entry_close(entry=entry, state=State.EXPIRED, actor=actor, now=now)
    return entry


# The sweep -------------------------------------------------------------------------------------------------------


@dataclass
class WaitlistSweep:
    expired: int = 0
    returned: int = 0  # offers whose seat could no longer be had: back in line
    offered: int = 0
    departments: set[int] = field(default_factory=set)

    def as_dict(self) -> dict:
        return {"expired": self.expired, "returned": self.returned, "offered": self.offered}


def _offer_lapse(*, entry_id: int, now: dt.datetime, sweep: WaitlistSweep) -> None:
    """Close one offer that expired or can no longer stand, in its own transaction."""
    with transaction.atomic():
        petition_id = WaitlistEntry.objects.filter(pk=entry_id).values_list("petition_id", flat=True).first()
        if petition_id is None:
            return
        petition = _locked_petition(petition_id)
        entry = WaitlistEntry.objects.select_for_update().get(pk=entry_id)
        if entry.state != State.OFFERED or entry.offer_id is None:
            return  # answered meanwhile
        offer = Appointment.objects.select_related("slot__week").get(pk=entry.offer_id)
        sweep.departments.add(entry.department_id)
        if offer.status != Appointment.Status.OFFERED:
            # Its seat was taken back some other way: the place in line is over.
            _entry_close(entry=entry, state=State.EXPIRED, actor=None, now=now)
            sweep.expired += 1
        elif petition.status not in BOOKABLE_STATUSES or petition.department_id != entry.department_id:
            _entry_close(entry=entry, state=State.LEFT, actor=None, now=now)
        elif entry.offer_expires_at is not None and entry.offer_expires_at <= now:
            _entry_close(entry=entry, state=State.EXPIRED, actor=None, now=now)
            sweep.expired += 1
        elif offer.slot.status != Slot.Status.OPEN or offer.slot.week.status != ScheduleWeek.Status.PUBLISHED:
            _entry_back_in_line(entry=entry, offer_id=offer.pk, now=now)
            sweep.returned += 1


def _departments_with_waiting_and_free_seats(now: dt.datetime) -> set[int]:
    """Departments someone waits for that have a free seat ahead (one query; offering re-checks every rule)."""
    waiting = WaitlistEntry.objects.filter(state=State.WAITING).values("department_id")
    seats = (
        Seat.objects.filter(
            slot__department_id__in=waiting,
            slot__status=Slot.Status.OPEN,
            slot__week__status=ScheduleWeek.Status.PUBLISHED,
            slot__starts_at__gt=now,
            slot__starts_at__lte=now + dt.timedelta(days=MAX_WINDOW_DAYS),
            number__lte=F("slot__capacity"),
        )
        .exclude(appointments__status__in=SEAT_HOLDING_STATUSES)
        .values_list("slot__department_id", flat=True)
        .distinct()
    )
    return set(seats)


def waitlist_sweep(now: dt.datetime | None = None) -> WaitlistSweep:
    """Hand on expired offers, return offers whose seat was withdrawn, and offer every free seat someone waits for.

    Run every minute by the notification sweep; each step is its own short transaction.
    """
    now = now or timezone.now()
    sweep = WaitlistSweep()
    stale = (
        WaitlistEntry.objects.filter(state=State.OFFERED)
        .filter(
            Q(offer_expires_at__lte=now)
            | ~Q(offer__status=Appointment.Status.OFFERED)
            | ~Q(offer__slot__status=Slot.Status.OPEN)
            | ~Q(offer__slot__week__status=ScheduleWeek.Status.PUBLISHED)
            | ~Q(petition__status__in=BOOKABLE_STATUSES)
            | ~Q(petition__department_id=F("department_id"))
        )
        .order_by("offer_expires_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for entry_id in list(stale):
        _offer_lapse(entry_id=entry_id, now=now, sweep=sweep)
    for department_id in sorted(sweep.departments | _departments_with_waiting_and_free_seats(now)):
        sweep.offered += len(waitlist_offer_next(department_id=department_id, now=now))
    return sweep
