"""SMS notifications: which messages a change causes, when they are due, and sending each exactly once."""

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.utils import timezone

from ..models import Appointment, Notification, Outcome, Petition
from ..taskqueue import Queued, tasks_enqueue
from .messages import answer_detail, cancel_detail

logger = logging.getLogger(__name__)

Kind = Notification.Kind
State = Notification.State
# Messages about a booking that stand only while it does: a cancellation or a move makes them wrong.
APPOINTMENT_BOUND_KINDS = (Kind.BOOKED, Kind.REMINDER_DAY, Kind.REMINDER_HOUR, Kind.RESCHEDULED, Kind.WAITLIST_OFFER)


def notification_create(
    *,
    key: str,
    kind: str,
    petition: Petition,
    due_at: dt.datetime | None = None,
    appointment: Appointment | None = None,
    detail: dict[str, Any] | None = None,
) -> Notification:
    """Queue one message inside the caller's transaction; the same key again returns the row already queued.

    The key names the event ("appointment:12:booked"), so that an event retried or replayed is told once.
    """
    notification, created = Notification.objects.get_or_create(
        key=key,
        defaults={
            "kind": kind,
            "petition": petition,
            "appointment": appointment,
            "language": petition.language,
            "detail": detail or {},
            "due_at": due_at or timezone.now(),
        },
    )
    if created:
        notification_send_enqueue(notification_id=notification.pk, due_at=notification.due_at)
    return notification


def notifications_send_enqueue(pending: list[tuple[int, dt.datetime]], *, also: Iterable[Queued] = ()) -> None:
    """Queue the sending tasks of several messages (id, due time) written in the caller's transaction, with any
    other tasks the same change causes (`also`).

    With the database queue they are one INSERT in that transaction (a booking queues its confirmation, two
    reminders and its attendance sweeps); otherwise each goes after commit (appointments.taskqueue).
    """
    from .tasks import notification_send_task

    tasks_enqueue([*(Queued(notification_send_task, due_at, (pk,)) for pk, due_at in pending), *also])


def notification_send_enqueue(*, notification_id: int, due_at: dt.datetime) -> None:
    """Queue the task that sends the message at its due time, once the caller's transaction is safe.

    A task that is lost (the queue emptied, the worker gone) costs only time: the sweep sends what is due and unsent.
    """
    notifications_send_enqueue([(notification_id, due_at)])


def _reminders_due(appointment: Appointment, *, now: dt.datetime) -> dict[str, dt.datetime | None]:
    """When each reminder of a booking is due: settings.SMS_REMINDER_HOURS before it starts, if still ahead."""
    starts_at = appointment.slot.starts_at
    kinds = (Kind.REMINDER_DAY, Kind.REMINDER_HOUR)
    plan: dict[str, dt.datetime | None] = {}
    for kind, hours in zip(kinds, settings.SMS_REMINDER_HOURS, strict=True):
        due_at = starts_at - dt.timedelta(hours=hours)
        plan[kind] = due_at if due_at > now else None
    return plan


def _key(appointment: Appointment, kind: str) -> str:
    return f"appointment:{appointment.pk}:{kind}"


def _reminders_create(appointment: Appointment, *, now: dt.datetime) -> None:
    for kind, due_at in _reminders_due(appointment, now=now).items():
        if due_at is not None:
            notification_create(
                key=_key(appointment, kind),
                kind=kind,
                petition=appointment.petition,
                appointment=appointment,
                due_at=due_at,
            )


def _pending_stop(appointment: Appointment, *, kinds=APPOINTMENT_BOUND_KINDS) -> int:
    """Stop the messages of a booking that have not left yet; one being sent right now is left to its worker."""
    return Notification.objects.filter(appointment=appointment, kind__in=kinds, state=State.PENDING).update(
        state=State.CANCELLED
    )


def notifications_for_booking(
    *, appointment: Appointment, now: dt.datetime | None = None, fresh: bool = False, also: Iterable[Queued] = ()
) -> None:
    """Queue the booking confirmation and the reminders 24 hours and 1 hour before, with the booking's other tasks.

    fresh: the appointment was created in this very transaction, so none of its messages can exist yet and all are
    written in one INSERT (and their tasks, with `also`, in one more).
    """
    now = now or timezone.now()
    if fresh:
        due = {Kind.BOOKED: now} | {k: d for k, d in _reminders_due(appointment, now=now).items() if d is not None}
        made = Notification.objects.bulk_create(
            Notification(
                key=_key(appointment, kind),
                kind=kind,
                petition=appointment.petition,
                appointment=appointment,
                language=appointment.petition.language,
                detail={},
                due_at=due_at,
            )
            for kind, due_at in due.items()
        )
        notifications_send_enqueue([(notification.pk, notification.due_at) for notification in made], also=also)
        return
    tasks_enqueue(also)
    notification_create(
        key=_key(appointment, Kind.BOOKED),
        kind=Kind.BOOKED,
        petition=appointment.petition,
        appointment=appointment,
        due_at=now,
    )
    _reminders_create(appointment, now=now)


def notifications_for_reschedule(
    *, previous: Appointment, appointment: Appointment, now: dt.datetime | None = None
) -> None:
    """Move pending reminders to the new time and queue the reschedule notice."""
    now = now or timezone.now()
    plan = _reminders_due(appointment, now=now)
    # Locked, so that a worker claiming one of them now either sends it before the move or skips it for good.
    pending = Notification.objects.select_for_update().filter(
        appointment=previous, kind__in=tuple(plan), state=State.PENDING
    )
    for notification in pending:
        due_at = plan[notification.kind]
        if due_at is None:
            notification.state = State.CANCELLED
            notification.save(update_fields=["state"])
            continue
        # The same row, so the same message: whatever was queued for the old time now waits for the new one.
        notification.appointment = appointment
        notification.key = _key(appointment, notification.kind)
        notification.due_at = due_at
        notification.save(update_fields=["appointment", "key", "due_at"])
        notification_send_enqueue(notification_id=notification.pk, due_at=due_at)
    _pending_stop(previous)
    # A reminder already sent for the old time (or never planned, when it was booked late) may be due again;
    # a moved one already has its key for the new booking and is not made twice.
    _reminders_create(appointment, now=now)
    notification_create(
        key=_key(appointment, Kind.RESCHEDULED),
        kind=Kind.RESCHEDULED,
        petition=appointment.petition,
        appointment=appointment,
        due_at=now,
        detail={"previous_starts_at": previous.slot.starts_at.isoformat()},
    )


def notifications_for_cancel(*, appointment: Appointment, notify: bool = True, now: dt.datetime | None = None) -> None:
    """Stop pending reminders and queue the cancellation (or withdrawal) notice."""
    now = now or timezone.now()
    _pending_stop(appointment)
    code = appointment.cancel_reason_code
    if not notify or code not in (
        Appointment.CancelReason.CANCELLED_BY_RESIDENT,
        Appointment.CancelReason.SLOT_WITHDRAWN,
        Appointment.CancelReason.REFERRED,
    ):
        # A lapsed waiting-list offer tells nobody (the next resident is offered the seat); a move has its own notice.
        return
    if code == Appointment.CancelReason.SLOT_WITHDRAWN:
        kind, detail = Kind.WITHDRAWN, {"reason": appointment.cancel_reason}
    else:
        kind, detail = Kind.CANCELLED, cancel_detail(appointment)
    notification_create(
        key=_key(appointment, kind),
        kind=kind,
        petition=appointment.petition,
        appointment=appointment,
        due_at=now,
        detail=detail,
    )


def notifications_for_outcome(*, outcome: Outcome, now: dt.datetime | None = None) -> None:
    """Queue the 'your answer is ready' message with a link to rate it."""
    notification_create(
        key=f"outcome:{outcome.pk}:{Kind.ANSWERED}",
        kind=Kind.ANSWERED,
        petition=outcome.petition,
        appointment=None,
        due_at=now or timezone.now(),
        detail=answer_detail(outcome),
    )
