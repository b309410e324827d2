"""The task worker (django-tasks-db's db_worker) with the SMS sweep beside it, so `make run` needs no cron."""

import logging
import os
import signal
import sys
import threading
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker

from appointments.notify.sending import notifications_sweep
from scheduler.faults import is_connection_loss
from scheduler.health import worker_heartbeat_record

logger = logging.getLogger("appointments.notify.worker")
# How long a stopping worker waits for the sweep to finish the batch it holds (one provider call per row).
SWEEP_STOP_TIMEOUT_SECONDS = 60


def sweep_loop(stop: threading.Event, every: float) -> None:
    """Run the SMS sweep every `every` seconds until `stop` is set; a failing sweep is logged and tried again."""
    try:
        while not stop.is_set():
            close_old_connections()
            try:
                report = notifications_sweep(stop=stop)
                if report.sent or report.failed or report.unknown or report.stale:
                    logger.info("SMS sweep: %s", report.as_dict())
            except Exception:
                logger.exception("The SMS sweep failed; trying again in %s s", every)
            stop.wait(every)
    finally:
        connection.close()


def heartbeat_loop(stop: threading.Event, every: float) -> None:
    """Tell the health endpoint this worker is alive, every `every` seconds, until `stop` is set."""
    while not stop.is_set():
        try:
            worker_heartbeat_record()
        except Exception:
            logger.exception("Could not record the worker heartbeat; trying again in %s s", every)
        stop.wait(every)


def retention_loop(stop: threading.Event, every: float) -> None:
    """Run retention (appointments.retention) when a day has passed since the last run; check every `every` s."""
    from appointments.retention import retention_due, retention_run

    while not stop.is_set():
        close_old_connections()
        try:
            if retention_due():
                logger.info("Retention: %s", retention_run().as_dict())
        except Exception:
            logger.exception("Retention failed; trying again in %s s", every)
        stop.wait(every)


class FinishingWorker(Worker):
    """db_worker's loop, stopped by SIGTERM/SIGINT between two steps instead of at once.

    db_worker exits from the signal handler when it is not running a task, even in the middle of a database call
    (its poll for tasks), which leaves a half-finished COMMIT and exit status 1. Here the first signal only ends
    the loop: the current step (a poll, a task, a sleep of at most --interval) finishes first. A second signal
    still stops it at once.
    """

    def run(self) -> None:
        """db_worker's loop, resumed after the database connection is lost (a failover) instead of exiting."""
        while True:
            try:
                return super().run()
            except (OperationalError, InterfaceError) as error:
                if not self.running or not is_connection_loss(error):
                    raise
                logger.warning("The database connection was lost; reconnecting in %s s.", self.interval)
                connection.close()
                time.sleep(self.interval or 1)

    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        if not self.running:
            self.reset_signals()
            sys.exit(1)
        logger.warning("Received %s: stopping after the current step.", signal.strsignal(signum))
        self.running = False


class Command(DbWorkerCommand):
    help = "Run the database task worker, and the SMS sweep every SMS_SWEEP_SECONDS beside it."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--sweep-seconds",
            type=float,
            default=None,
            help="Seconds between SMS sweeps (default: settings.SMS_SWEEP_SECONDS; 0 turns the sweep off).",
        )
        # The sweep thread and the autoreloader's two processes do not mix: reload only when asked.
        parser.set_defaults(reload=False)

    def handle(self, *args: Any, **options: Any) -> None:
        sweep_seconds = options.pop("sweep_seconds", None)
        every = settings.SMS_SWEEP_SECONDS if sweep_seconds is None else sweep_seconds
        # With --reload the first process only watches files; the sweep runs in the one that works.
        watcher_only = options.get("reload") and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true"
        stop = threading.Event()
        sweeper = None
        if every > 0 and not watcher_only:
            sweeper = threading.Thread(target=sweep_loop, args=(stop, every), name="sms-sweep", daemon=True)
            sweeper.start()
        if not watcher_only:
            beat_every = settings.HEALTH_WORKER_MAX_AGE_SECONDS / 4
            threading.Thread(target=heartbeat_loop, args=(stop, beat_every), name="heartbeat", daemon=True).start()
            threading.Thread(target=retention_loop, args=(stop, 3600.0), name="retention", daemon=True).start()
        try:
            if options.get("reload"):
                super().handle(*args, **options)
            else:
                self._work(**options)
        finally:
            # The task loop has stopped; the sweep finishes the batch it holds and stops too.
            stop.set()
            if sweeper is not None:
                sweeper.join(timeout=SWEEP_STOP_TIMEOUT_SECONDS)

    def _work(self, **options: Any) -> None:
        """db_worker's own handle, with a worker that stops between steps."""
        self.configure_logging(options["verbosity"])
        queue_names = options["queue_name"].split(",")
        excluded = options["exclude_queues"].split(",") if options["exclude_queues"] else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = FinishingWorker(
            queue_names=queue_names,
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
            excluded_queue_names=excluded,
        )
        worker.configure_signals()
        worker.run()
