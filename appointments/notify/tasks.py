"""Background work for SMS, run by the database task worker: send one message, and sweep up whatever is due."""

from django.tasks import task

from .sending import notification_send, notifications_sweep


@task
def notification_send_task(notification_id: int) -> str:
    """Send one notification if it is due and unsent (queued after commit when it is created or moved)."""
    return notification_send(notification_id)


@task
def notifications_sweep_task() -> dict:
    """Mark what a dead worker left as unknown, send what is due and unsent, and offer freed seats."""
    return notifications_sweep().as_dict()
