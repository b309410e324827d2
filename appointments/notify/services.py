"""SMS notifications: which messages a change causes, when they are due, and sending each exactly once."""

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..models import Appointment, Notification, Outcome, Petition
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


def notifications_send_enqueue(pending: list[tuple[int, dt.datetime]]) -> None:
    """Queue the sending tasks of several messages (id, due time) written in the caller's transaction.

    With the database queue they are one INSERT in that transaction (a booking queues its confirmation and two
    reminders); otherwise each goes as `notification_send_enqueue` would send it.
    """
    from .tasks import notification_send_task

    backend = notification_send_task.get_backend()
    if not (transaction.get_connection().in_atomic_block and _queue_is_transactional(backend)):
        for notification_id, due_at in pending:
            notification_send_enqueue(notification_id=notification_id, due_at=due_at)
        return
    _database_queue_many(
        backend, [(notification_send_task, due_at, [notification_id]) for notification_id, due_at in pending]
    )


def _database_queue_many(backend, tasks: list[tuple[Any, dt.datetime, list]]) -> None:
    """What DatabaseBackend.enqueue writes for each task (see tests/notify/test_notifications.py, which compares the
    rows with the library's own), in one INSERT; then the task_enqueued signal for each, as enqueue sends it."""
    from django_tasks_db.compat import normalize_json, task_enqueued
    from django_tasks_db.models import DBTaskResult, get_date_max

    now = timezone.now()
    rows: list[Any] = []
    for task, due_at, args in tasks:
        queued = task.using(run_after=due_at) if due_at > now else task
        backend.validate_task(queued)
        rows.append(
            DBTaskResult(
                id=backend._get_id(),
                args_kwargs=normalize_json({"args": args, "kwargs": {}}),
                priority=queued.priority,
                task_path=queued.module_path,
                queue_name=queued.queue_name,
                # What the library's pre_save handler puts for "as soon as a worker is free" (bulk_create sends none).
                run_after=queued.run_after or get_date_max(),
                backend_name=backend.alias,
            )
        )
    for row in DBTaskResult.objects.bulk_create(rows):
        task_enqueued.send(type(backend), task_result=row.task_result)


def notification_send_enqueue(*, notification_id: int, due_at: dt.datetime) -> None:
    """Queue the task that sends the message at its due time, once the caller's transaction is safe.

    A queue kept in the database takes the task in the caller's own transaction: it commits with the message or not
    at all, and costs no transaction of its own. Any other queue gets it after commit, so that nothing is sent for
    a change that was rolled back. A task that is lost (the queue emptied, the worker gone) costs only time: the
    sweep sends what is due and unsent.
    """
    from .tasks import notification_send_task

    def enqueue() -> None:
        task = notification_send_task
        if due_at > timezone.now():
            if not task.get_backend().supports_defer:
                return  # the sweep sends it when it is due
            task = task.using(run_after=due_at)
        task.enqueue(notification_id)

    if transaction.get_connection().in_atomic_block and _queue_is_transactional(notification_send_task.get_backend()):
        enqueue()
    else:
        transaction.on_commit(enqueue, robust=True)


def _queue_is_transactional(backend) -> bool:
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(backend, DatabaseBackend)


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


def notifications_for_booking(*, appointment: Appointment, now: dt.datetime | None = None, fresh: bool = False) -> None:
    """Queue the booking confirmation and the reminders 24 hours and 1 hour before.

    fresh: the appointment was created in this very transaction, so none of its messages can exist yet and all are
    written in one INSERT.
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
        notifications_send_enqueue([(notification.pk, notification.due_at) for notification in made])
        return
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
