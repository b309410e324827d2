"""Background tasks queued with the change that causes them (SMS sending, video attendance sweeps)."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone


@dataclass(frozen=True)
class Queued:
    """A task to queue: run as soon as a worker is free when `run_after` is not ahead, else not before it."""

    task: Any
    run_after: dt.datetime
    args: tuple = ()


def tasks_enqueue(tasks: Iterable[Queued]) -> None:
    """Queue tasks so that they exist exactly when the caller's change does.

    A queue kept in the database takes them in the caller's own transaction, in one INSERT: they commit with the
    change or not at all, and cost no transaction of their own. Any other queue gets them after commit, so that
    nothing runs for a change that was rolled back; there a task due later is left out when the queue cannot defer
    (the sweeps send or decide what is due), and a failed enqueue costs only time, never the committed change.
    """
    by_backend: dict[str, list[Queued]] = {}
    for queued in tasks:
        by_backend.setdefault(queued.task.backend, []).append(queued)
    in_transaction = transaction.get_connection().in_atomic_block
    for batch in by_backend.values():
        backend = batch[0].task.get_backend()
        if in_transaction and _queue_is_transactional(backend):
            _database_queue_many(backend, batch)
            continue
        for queued in batch:
            transaction.on_commit(partial(_enqueue_one, queued), robust=True)


def _enqueue_one(queued: Queued) -> None:
    task = queued.task
    if queued.run_after > timezone.now():
        if not task.get_backend().supports_defer:
            return
        task = task.using(run_after=queued.run_after)
    task.enqueue(*queued.args)


def _queue_is_transactional(backend) -> bool:
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(backend, DatabaseBackend)


def _database_queue_many(backend, tasks: list[Queued]) -> None:
    """What DatabaseBackend.enqueue writes for each task (see tests/notify/test_notifications.py, which compares the
    rows with the library's own), in one INSERT; then the task_enqueued signal for each, as enqueue sends it."""
    from django_tasks_db.compat import normalize_json, task_enqueued
    from django_tasks_db.models import DBTaskResult, get_date_max

    now = timezone.now()
    rows: list[Any] = []
    for queued in tasks:
        task = queued.task.using(run_after=queued.run_after) if queued.run_after > now else queued.task
        backend.validate_task(task)
        rows.append(
            DBTaskResult(
                id=backend._get_id(),
                args_kwargs=normalize_json({"args": list(queued.args), "kwargs": {}}),
                priority=task.priority,
                task_path=task.module_path,
                queue_name=task.queue_name,
                # What the library's pre_save handler puts for "as soon as a worker is free" (bulk_create sends none).
                run_after=task.run_after or get_date_max(),
                backend_name=backend.alias,
            )
        )
    for row in DBTaskResult.objects.bulk_create(rows):
        task_enqueued.send(type(backend), task_result=row.task_result)
