"""Where the booking and outcome services tell this package what changed, inside their own transactions.

Rows (notifications, waiting-list changes) are written in the caller's transaction, so that a change and what the
resident is told about it commit together or not at all; sending happens after commit, on the task worker.
"""

from collections.abc import Iterable

from django.db import transaction

from ..models import Appointment, Outcome
from ..taskqueue import Queued
from . import services, waitlist


def on_booked(
    *, appointment: Appointment, waiting: bool = True, fresh: bool = False, also: Iterable[Queued] = ()
) -> None:
    """A new booking: confirm it, plan its reminders, and close the petition's place on any waiting list.

    waiting=False: the caller, holding the petition's lock, saw it on no waiting list. fresh: the appointment was
    created in this transaction (it has no messages yet). also: other tasks of the booking, queued with its messages'.
    """
    if waiting:
        waitlist.waitlist_close_for_booking(appointment=appointment)
    services.notifications_for_booking(appointment=appointment, fresh=fresh, also=also)


def on_rescheduled(*, previous: Appointment, appointment: Appointment) -> None:
    """A booking moved: its reminders move with it, the resident is told, and the old seat may go to someone waiting."""
    services.notifications_for_reschedule(previous=previous, appointment=appointment)
    seats_freed(department_id=previous.slot.department_id)


def on_cancelled(*, appointment: Appointment, notify: bool = True) -> None:
    """A booking ended early: stop its reminders, tell the resident why, offer the seat to the next waiting."""
    services.notifications_for_cancel(appointment=appointment, notify=notify)
    seats_freed(department_id=appointment.slot.department_id)


def on_outcome_recorded(*, outcome: Outcome) -> None:
    """The department answered: tell the resident, with a link to rate the answer."""
    services.notifications_for_outcome(outcome=outcome)


def seats_freed(*, department_id: int) -> None:
    """Seats of a department may have come free: once committed, offer them to whoever waits."""
    transaction.on_commit(lambda: waitlist.waitlist_offers_enqueue(department_id=department_id))
