"""Background work for video sessions, run by the database task worker (manage.py db_worker)."""

import datetime as dt
import logging

from django.conf import settings
from django.tasks import task

from ..models import Appointment
from .services import video_attendance_sweep

logger = logging.getLogger(__name__)


@task
def video_attendance_sweep_task() -> dict:
    """Decide attendance of every session whose slot ended more than the grace period ago."""
    return video_attendance_sweep().as_dict()


def attendance_sweep_schedule(appointment: Appointment) -> None:
    """Queue sweeps for when this appointment's attendance can be decided and when its room should close."""
    if not video_attendance_sweep_task.get_backend().supports_defer:
        return
    ends_at = appointment.slot.ends_at
    # A minute late on purpose, so the sweep never runs a moment before the grace period is over.
    for minutes in {settings.VIDEO_NO_SHOW_GRACE_MINUTES, settings.VIDEO_JOIN_CLOSES_AFTER_MINUTES}:
        run_after = ends_at + dt.timedelta(minutes=minutes + 1)
        video_attendance_sweep_task.using(run_after=run_after).enqueue()


def on_appointment_scheduled(sender, appointment: Appointment, **kwargs) -> None:
    try:
        attendance_sweep_schedule(appointment)
    except Exception:
        # The booking is already committed; a missed enqueue is caught by the next sweep of any kind.
        logger.exception("Could not queue the attendance sweep for appointment %s", appointment.pk)
