"""Sending each SMS exactly once: claim due rows (SKIP LOCKED), mark them sending, then call the provider.

The order is what makes it safe. A row is marked "sending" and committed before the provider is called, so that no
other worker can take it again; if the worker dies during the call, nobody can know whether the message left, and
the row becomes "unknown" for a community worker to follow up — it is never sent a second time by itself.
"""

import datetime as dt
import logging
import threading
from dataclasses import dataclass, field
from importlib import import_module

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import Appointment, Notification
from .delivery import sms_status_callback_url
from .messages import message_render
from .sms.base import SmsProvider, SmsProviderError, phone_e164, sms_provider

logger = logging.getLogger(__name__)

Kind = Notification.Kind
State = Notification.State

# Rows claimed at once: few, so that a row waits in "sending" only for the calls ahead of it in its batch.
CLAIM_BATCH = 10
# A sweep stops after this many batches, so that one worker's sweep ends even while messages keep coming.
SWEEP_BATCHES_MAX = 100
# A provider that could not take a message (it was never sent) is asked again later, this many times in all.
SEND_ATTEMPTS_MAX = 5
RETRY_DELAYS = (dt.timedelta(seconds=30), dt.timedelta(minutes=2), dt.timedelta(minutes=10), dt.timedelta(minutes=30))
# A reminder found this long after its time is no longer a reminder: it is dropped, never sent late.
REMINDER_GRACE: dict[str, dt.timedelta] = {
    Kind.REMINDER_DAY: dt.timedelta(minutes=30),
    Kind.REMINDER_HOUR: dt.timedelta(minutes=10),
}
# Messages about a booking that only make sense while it stands, and the appointment statuses they need.
LIVE_STATUSES: dict[str, tuple[str, ...]] = {
    Kind.BOOKED: Appointment.ACTIVE_STATUSES,
    Kind.REMINDER_DAY: Appointment.ACTIVE_STATUSES,
    Kind.REMINDER_HOUR: Appointment.ACTIVE_STATUSES,
    Kind.RESCHEDULED: Appointment.ACTIVE_STATUSES,
    Kind.WAITLIST_OFFER: (Appointment.Status.OFFERED,),
}


@dataclass
class Claim:
    """A row marked "sending" by this worker, with the number to send it to."""

    notification: Notification
    to: str


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    unknown: int = 0
    retried: int = 0
    # Claimed but dropped before sending: cancelled (the booking changed) or expired (too late).
    dropped: int = 0
    stale: int = 0
    states: list[str] = field(default_factory=list)

    def count(self, state: str) -> None:
        self.states.append(state)
        if state in (State.SENT, State.DELIVERED):
            self.sent += 1
        elif state == State.FAILED:
            self.failed += 1
        elif state == State.UNKNOWN:
            self.unknown += 1
        elif state == State.PENDING:
            self.retried += 1

    def as_dict(self) -> dict:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "unknown": self.unknown,
            "retried": self.retried,
            "dropped": self.dropped,
            "stale": self.stale,
        }


def _why_not_now(notification: Notification, *, now: dt.datetime) -> str | None:
    """The final state of a message that must not be sent any more, or None if it still should be."""
    kind = notification.kind
    appointment = notification.appointment
    if kind in LIVE_STATUSES and appointment is not None:
        if appointment.status not in LIVE_STATUSES[kind]:
            return State.CANCELLED
        if appointment.slot.starts_at <= now:
            return State.EXPIRED
    grace = REMINDER_GRACE.get(kind)
    if grace is not None and now - notification.due_at > grace:
        return State.EXPIRED
    if kind == Kind.WAITLIST_OFFER and appointment is not None:
        entry = getattr(appointment, "waitlist_entry", None)
        if entry is not None and entry.offer_expires_at is not None and entry.offer_expires_at <= now:
            return State.EXPIRED
    return None


def notifications_claim(
    *, limit: int = CLAIM_BATCH, now: dt.datetime | None = None, notification_id: int | None = None
) -> list[Claim]:
    """Take due, unsent rows for this worker: each is marked "sending" (with its text) and committed before any call.

    Rows another worker holds are skipped (SKIP LOCKED on PostgreSQL; SQLite lets one writer in at a time). A row
    whose booking changed, or a reminder whose time has passed, is closed here instead of being sent.
    """
    now = now or timezone.now()
    claims: list[Claim] = []
    with transaction.atomic():
        due = Notification.objects.select_for_update(skip_locked=True).filter(state=State.PENDING, due_at__lte=now)
        if notification_id is not None:
            due = due.filter(pk=notification_id)
        ids = list(due.order_by("due_at", "pk").values_list("pk", flat=True)[:limit])
        rows = Notification.objects.filter(pk__in=ids).select_related(
            "petition__community",
            "petition__department",
            "appointment__slot__department",
            "appointment__community",
        )
        for notification in rows.order_by("due_at", "pk"):
            final = _why_not_now(notification, now=now)
            if final is not None:
                notification.state = final
                notification.save(update_fields=["state"])
                continue
            notification.claimed_at = now
            try:
                to = phone_e164(notification.petition.contact_phone)
                notification.body = message_render(notification, now=now)
            except SmsProviderError as error:
                notification.state = State.FAILED
                notification.error_code = error.code or "invalid_number"
                notification.error_message = str(error)[:300]
                notification.save(update_fields=["state", "claimed_at", "error_code", "error_message"])
                continue
            except Exception as error:
                # A fault of ours (a template, missing data): never blocks the queue, and is shown as failed.
                logger.exception("Could not write notification %s", notification.pk)
                notification.state = State.FAILED
                notification.error_code = "render_error"
                notification.error_message = type(error).__name__
                notification.save(update_fields=["state", "claimed_at", "error_code", "error_message"])
                continue
            notification.state = State.SENDING
            notification.save(update_fields=["state", "claimed_at", "body"])
            claims.append(Claim(notification=notification, to=to))
    return claims


def _finish(notification: Notification, **fields) -> bool:
    """Record what became of a claimed row, unless it is no longer this worker's claim."""
    mine = Notification.objects.filter(
        pk=notification.pk, claimed_at=notification.claimed_at, state__in=(State.SENDING, State.UNKNOWN)
    )
    if fields.get("state") == State.PENDING:
        # Only a row still in our hands goes back to the queue: one declared unknown stays unknown.
        mine = mine.filter(state=State.SENDING)
    return mine.update(**fields) == 1


def _sent(notification: Notification, *, provider: SmsProvider, sid: str, status: str, now: dt.datetime) -> None:
    fields = {"state": State.SENT, "provider": provider.name, "provider_status": status[:20], "sent_at": now}
    try:
        with transaction.atomic():
            _finish(notification, provider_sid=sid[:64], **fields)
    except IntegrityError:
        # The provider named two messages alike (a mock does): the message still left, once.
        logger.warning("Provider %s gave notification %s a sid already recorded", provider.name, notification.pk)
        _finish(notification, error_code="duplicate_sid", **fields)


def _retry_or_fail(notification: Notification, *, error: SmsProviderError, now: dt.datetime) -> str:
    detail = dict(notification.detail or {})
    attempts = int(detail.get("send_attempts") or 0) + 1
    detail["send_attempts"] = attempts
    message = str(error)[:300]
    if attempts >= SEND_ATTEMPTS_MAX:
        _finish(
            notification, state=State.FAILED, detail=detail, error_code=error.code or "gave_up", error_message=message
        )
        return State.FAILED
    due_at = now + RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
    returned = _finish(
        notification,
        state=State.PENDING,
        claimed_at=None,
        due_at=due_at,
        detail=detail,
        error_code=error.code,
        error_message=message,
    )
    if not returned:
        return State.UNKNOWN
    from .services import notification_send_enqueue

    notification_send_enqueue(notification_id=notification.pk, due_at=due_at)
    return State.PENDING


def notification_deliver(claim: Claim, *, provider: SmsProvider, now: dt.datetime | None = None) -> str:
    """Hand one claimed message to the provider and record the result; answers the row's new state."""
    notification = claim.notification
    try:
        sent = provider.send(to=claim.to, body=notification.body, status_callback=sms_status_callback_url())
    except SmsProviderError as error:
        now = now or timezone.now()
        if error.maybe_sent:
            _finish(
                notification, state=State.UNKNOWN, error_code=error.code or "maybe_sent", error_message=str(error)[:300]
            )
            return State.UNKNOWN
        if error.permanent:
            _finish(
                notification, state=State.FAILED, error_code=error.code or "refused", error_message=str(error)[:300]
            )
            return State.FAILED
        return _retry_or_fail(notification, error=error, now=now)
    except Exception as error:
        # Nothing says whether the message left before the failure: unknown, never sent again by itself.
        logger.exception("Provider %s failed on notification %s", provider.name, notification.pk)
        _finish(notification, state=State.UNKNOWN, error_code="provider_error", error_message=type(error).__name__)
        return State.UNKNOWN
    _sent(notification, provider=provider, sid=sent.sid, status=sent.status, now=now or timezone.now())
    return State.SENT


def _provider() -> SmsProvider | None:
    try:
        return sms_provider()
    except SmsProviderError:
        # Settings, not messages, are wrong: leave everything queued until they are fixed.
        logger.exception("The SMS provider %s cannot be used", settings.SMS_BACKEND)
        return None


def notification_send(notification_id: int, *, now: dt.datetime | None = None) -> str:
    """Send one notification if it is due and no other worker has it; answers what became of it."""
    provider = _provider()
    if provider is None:
        return "no_provider"
    claims = notifications_claim(limit=1, now=now, notification_id=notification_id)
    if not claims:
        state = Notification.objects.filter(pk=notification_id).values_list("state", flat=True).first()
        return state or "missing"
    return notification_deliver(claims[0], provider=provider, now=now)


def notifications_send_due(
    *, now: dt.datetime | None = None, stop: threading.Event | None = None, batches: int = SWEEP_BATCHES_MAX
) -> SendReport:
    """Send whatever is due and unsent, a batch at a time, until none is left (or `stop` is set)."""
    report = SendReport()
    provider = _provider()
    if provider is None:
        return report
    for _batch in range(batches):
        claims = notifications_claim(limit=CLAIM_BATCH, now=now)
        if not claims:
            break
        # A claimed batch is always finished, even when asked to stop: its rows must not be left "sending".
        for claim in claims:
            report.count(notification_deliver(claim, provider=provider, now=now))
        if stop is not None and stop.is_set():
            break
    return report


def notifications_mark_stale_unknown(*, now: dt.datetime | None = None) -> int:
    """Rows left "sending" longer than SMS_SENDING_STALE_SECONDS belong to a worker that died: mark them unknown.

    Whether such a message left cannot be known, so it is shown to the community worker and never sent again.
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.SMS_SENDING_STALE_SECONDS)
    count = Notification.objects.filter(state=State.SENDING, claimed_at__lt=cutoff).update(
        state=State.UNKNOWN,
        error_code="worker_lost",
        error_message="The worker stopped while sending; the message may or may not have left.",
    )
    if count:
        logger.warning("%d SMS left 'sending' by a stopped worker are now 'unknown'", count)
    return count


def notifications_sweep(*, now: dt.datetime | None = None, stop: threading.Event | None = None) -> SendReport:
    """The periodic catch-all: unknown for what a dead worker left, send what is due, offer freed seats."""
    stale = notifications_mark_stale_unknown(now=now)
    report = notifications_send_due(now=now, stop=stop)
    report.stale = stale
    waitlist_sweep = getattr(import_module("appointments.notify.waitlist"), "waitlist_sweep", None)
    if waitlist_sweep is not None and not (stop is not None and stop.is_set()):
        try:
            waitlist_sweep()
        except Exception:
            logger.exception("The waiting-list sweep failed")
    return report
