"""Shared by the notification engine's tests: a settable clock, bookings at chosen times, and scripted providers."""

import datetime as dt
import threading

import pytest
from django.utils import timezone

from appointments.booking import appointment_book
from appointments.models import Appointment, Notification, OutboxMessage
from appointments.notify.sms.base import SentSms, SmsProviderError
from scheduler.models import Slot

State = Notification.State
Kind = Notification.Kind


class Clock:
    """timezone.now() as the test sets it: every service that asks the time gets this one."""

    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, moment: dt.datetime) -> dt.datetime:
        self.now = moment
        return moment

    def advance(self, **delta) -> dt.datetime:
        self.now = self.now + dt.timedelta(**delta)
        return self.now


@pytest.fixture
def clock(monkeypatch):
    frozen = Clock(timezone.now())
    monkeypatch.setattr(timezone, "now", frozen)
    return frozen


@pytest.fixture
def local_sms(settings):
    """Messages go to the local outbox (the table staff read), as in the demo."""
    settings.SMS_BACKEND = "appointments.notify.sms.local.LocalSmsBackend"
    return OutboxMessage.objects


def book_before(kiosk, petition, slot: Slot, *, clock: Clock, **before) -> Appointment:
    """Book the petition into a published slot at the moment `before` (hours=3, …) ahead of its start."""
    if dt.timedelta(**before) < dt.timedelta(minutes=slot.min_notice_minutes):
        Slot.objects.filter(pk=slot.pk).update(min_notice_minutes=0)
    clock.set(slot.starts_at - dt.timedelta(**before))
    return appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=slot.pk).appointment


def rows(**filters) -> list[Notification]:
    return list(Notification.objects.filter(**filters).order_by("due_at", "pk"))


def kinds_and_states(**filters) -> list[tuple[str, str]]:
    return [(n.kind, n.state) for n in rows(**filters)]


class ScriptedProvider:
    """A provider whose answers the test writes in advance (an SmsProviderError to raise, or None to accept)."""

    name = "scripted"
    script: list = []
    sent: list[tuple[str, str, str | None]] = []
    # What the row looked like in the database while the provider had it (state, claimed_at, body).
    seen: list[tuple[str, object, str]] = []
    delay: float = 0.0
    lock = threading.Lock()

    def send(self, *, to: str, body: str, status_callback: str | None) -> SentSms:
        row = Notification.objects.filter(body=body).values_list("state", "claimed_at", "body").first()
        with ScriptedProvider.lock:
            ScriptedProvider.seen.append(row)
            answer = ScriptedProvider.script.pop(0) if ScriptedProvider.script else None
        if ScriptedProvider.delay:
            threading.Event().wait(ScriptedProvider.delay)
        if isinstance(answer, BaseException):
            raise answer
        with ScriptedProvider.lock:
            ScriptedProvider.sent.append((to, body, status_callback))
            number = len(ScriptedProvider.sent)
        return SentSms(sid=f"SMscripted{number:024d}", status="queued")


@pytest.fixture
def scripted(settings):
    settings.SMS_BACKEND = "tests.notify.engine_support.ScriptedProvider"
    ScriptedProvider.script = []
    ScriptedProvider.sent = []
    ScriptedProvider.seen = []
    ScriptedProvider.delay = 0.0
    return ScriptedProvider


def transient(message: str = "Twilio is busy") -> SmsProviderError:
    return SmsProviderError(message, code="20429")


def permanent(message: str = "Invalid 'To' phone number") -> SmsProviderError:
    return SmsProviderError(message, permanent=True, code="21211")


def maybe_sent(message: str = "Read timed out") -> SmsProviderError:
    return SmsProviderError(message, maybe_sent=True, code="timeout")
