"""Background work for video sessions, run by the database task worker (manage.py db_worker)."""

import datetime as dt
import threading
from functools import partial

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from ..models import Appointment
from ..taskqueue import Queued, tasks_enqueue
from .services import video_attendance_sweep


@task
def video_attendance_sweep_task() -> dict:
    """Decide attendance of every session whose slot ended more than the grace period ago."""
    return video_attendance_sweep().as_dict()


# The sweep moments this process has queued a sweep for. A sweep decides every session due by then, so one per
# moment is enough: the seats of one time (and the same times across departments) share it, and a booking costs no
# task of its own when its moments are already queued. Another process may queue the same moment once more; a
# second sweep finds nothing left to do.
_queued: set[dt.datetime] = set()
_queued_lock = threading.Lock()


def _not_yet_queued(run_after: dt.datetime) -> bool:
    with _queued_lock:
        now = timezone.now()
        _queued.difference_update({moment for moment in _queued if moment < now})
        return run_after not in _queued


def _remember_queued(run_after: dt.datetime) -> None:
    with _queued_lock:
        _queued.add(run_after)


def attendance_sweeps_forget() -> None:
    """Forget which sweeps this process queued (the queue was emptied: a test's rollback, a pruned table)."""
    with _queued_lock:
        _queued.clear()


def attendance_sweeps_due(appointment: Appointment) -> list[Queued]:
    """The sweeps for when this appointment's attendance can be decided and when its room should close, less those
    this process has already queued; for the caller to queue with its change (appointments.taskqueue).

    A moment counts as queued once the caller's transaction has committed: a booking rolled back leaves it free.
    """
    if not video_attendance_sweep_task.get_backend().supports_defer:
        return []
    ends_at = appointment.slot.ends_at
    due = []
    # A minute late on purpose, so the sweep never runs a moment before the grace period is over.
    for minutes in sorted({settings.VIDEO_NO_SHOW_GRACE_MINUTES, settings.VIDEO_JOIN_CLOSES_AFTER_MINUTES}):
        run_after = ends_at + dt.timedelta(minutes=minutes + 1)
        if _not_yet_queued(run_after):
            due.append(Queued(video_attendance_sweep_task, run_after))
            transaction.on_commit(partial(_remember_queued, run_after))
    return due


def attendance_sweep_schedule(appointment: Appointment) -> None:
    """Queue this appointment's attendance sweeps with the caller's change (a move, an accepted offer, the demo)."""
    tasks_enqueue(attendance_sweeps_due(appointment))
