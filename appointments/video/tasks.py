"""Background work for video sessions, run by the database task worker (manage.py db_worker)."""

import datetime as dt
import logging
import threading

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from ..models import Appointment
from .services import video_attendance_sweep

logger = logging.getLogger(__name__)


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


def _first_to_queue(run_after: dt.datetime) -> bool:
    with _queued_lock:
        if run_after in _queued:
            return False
        now = timezone.now()
        _queued.difference_update({moment for moment in _queued if moment < now})
        _queued.add(run_after)
        return True


def attendance_sweeps_forget() -> None:
    """Forget which sweeps this process queued (the queue was emptied: a test's rollback, a pruned table)."""
    with _queued_lock:
        _queued.clear()


def attendance_sweep_schedule(appointment: Appointment) -> None:
    """Queue sweeps for when this appointment's attendance can be decided and when its room should close."""
    if not video_attendance_sweep_task.get_backend().supports_defer:
        return
    ends_at = appointment.slot.ends_at
    # A minute late on purpose, so the sweep never runs a moment before the grace period is over.
    for minutes in {settings.VIDEO_NO_SHOW_GRACE_MINUTES, settings.VIDEO_JOIN_CLOSES_AFTER_MINUTES}:
        run_after = ends_at + dt.timedelta(minutes=minutes + 1)
        if not _first_to_queue(run_after):
            continue
        try:
            video_attendance_sweep_task.using(run_after=run_after).enqueue()
        except Exception:
            with _queued_lock:
                _queued.discard(run_after)
            raise


def on_appointment_scheduled(sender, appointment: Appointment, **kwargs) -> None:
    try:
        attendance_sweep_schedule(appointment)
    except Exception:
        # The booking is already committed; a missed enqueue is caught by the next sweep of any kind.
        logger.exception("Could not queue the attendance sweep for appointment %s", appointment.pk)
