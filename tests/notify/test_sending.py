"""Sending exactly once: claim before calling, what each failure leaves, stale claims, and two sweeps at once."""

import datetime as dt
import threading
from collections import Counter

import pytest
from django.db import connection

from appointments.booking import appointment_book
from appointments.models import Notification, Petition
from appointments.notify.sending import (
    SEND_ATTEMPTS_MAX,
    notification_send,
    notifications_mark_stale_unknown,
    notifications_send_due,
    notifications_sweep,
)
from appointments.notify.services import notification_create
from tests import factories as f
from tests.notify.engine_support import (
    Kind,
    State,
    book_before,
    maybe_sent,
    permanent,
    transient,
)


@pytest.fixture
def appointment(kiosk, petition, open_slots):
    return appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=open_slots[0].pk).appointment


@pytest.fixture
def confirmation(appointment):
    """The booking confirmation, due now, alone: without its reminders, moving the clock sends nothing else."""
    Notification.objects.filter(appointment=appointment).exclude(kind=Kind.BOOKED).delete()
    return Notification.objects.get(appointment=appointment, kind=Kind.BOOKED)


def withdrawn_notices(appointment, count: int, *, petitions: list[Petition] | None = None) -> list[Notification]:
    """`count` due messages with different words (a withdrawal reason each), spread over `petitions`."""
    petitions = petitions or [appointment.petition]
    return [
        notification_create(
            key=f"test:withdrawn:{n}",
            kind=Kind.WITHDRAWN,
            petition=petitions[n % len(petitions)],
            appointment=appointment,
            detail={"reason": f"第{n}号检修"},
        )
        for n in range(count)
    ]


def fresh(notification: Notification) -> Notification:
    return Notification.objects.get(pk=notification.pk)


def test_a_row_is_marked_sending_with_its_text_before_the_provider_is_called(confirmation, scripted):
    notifications_send_due()

    ((state, claimed_at, body),) = scripted.seen
    assert state == State.SENDING
    assert claimed_at is not None
    assert body.startswith("【信访局】预约成功：")


def test_a_sent_message_records_the_provider_its_sid_and_when(confirmation, scripted, settings):
    settings.PUBLIC_BASE_URL = "https://petition.example.gov.cn"

    report = notifications_send_due()

    row = fresh(confirmation)
    assert (report.sent, row.state, row.provider, row.provider_status) == (1, State.SENT, "scripted", "queued")
    assert row.provider_sid == "SMscripted" + "1".zfill(24)
    assert row.sent_at is not None
    ((to, body, callback),) = scripted.sent
    assert to == row.petition.contact_phone and to.startswith("+86")
    assert body == row.body
    assert callback == "https://petition.example.gov.cn/webhooks/twilio/sms"


def test_the_local_backend_puts_the_message_in_the_outbox_once(confirmation, local_sms):
    notifications_sweep()
    notifications_sweep()

    (message,) = local_sms.all()
    row = fresh(confirmation)
    assert (message.sid, message.body, message.to) == (row.provider_sid, row.body, row.petition.contact_phone)


def test_a_transient_error_before_sending_puts_the_message_back_for_later(confirmation, scripted, clock):
    scripted.script = [transient()]

    notifications_send_due()

    row = fresh(confirmation)
    assert (row.state, row.claimed_at, row.error_code) == (State.PENDING, None, "20429")
    assert row.due_at == clock.now + dt.timedelta(seconds=30)
    assert row.detail["send_attempts"] == 1
    notifications_send_due()
    assert len(scripted.seen) == 1  # not before its new time

    clock.advance(seconds=31)
    notifications_send_due()

    assert fresh(confirmation).state == State.SENT
    assert len(scripted.sent) == 1


def test_a_message_the_provider_keeps_refusing_for_a_while_fails_after_the_last_attempt(
    kiosk, petition, open_slots, scripted, clock
):
    # A time far enough ahead that the hours of retrying end before it starts (a confirmation for a session already
    # begun is dropped as too late, whatever the hour of the week the test runs at).
    later = next(s for s in open_slots if s.starts_at > clock.now + dt.timedelta(hours=SEND_ATTEMPTS_MAX + 3))
    booked = appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=later.pk).appointment
    Notification.objects.filter(appointment=booked).exclude(kind=Kind.BOOKED).delete()
    confirmation = Notification.objects.get(appointment=booked, kind=Kind.BOOKED)
    scripted.script = [transient() for _ in range(SEND_ATTEMPTS_MAX)]

    for _attempt in range(SEND_ATTEMPTS_MAX + 2):
        notifications_send_due()
        clock.advance(hours=1)

    row = fresh(confirmation)
    assert (row.state, row.detail["send_attempts"], row.error_code) == (State.FAILED, SEND_ATTEMPTS_MAX, "20429")
    assert len(scripted.seen) == SEND_ATTEMPTS_MAX
    assert scripted.sent == []


def test_a_permanent_refusal_fails_at_once_and_is_never_tried_again(confirmation, scripted, clock):
    scripted.script = [permanent()]

    notifications_send_due()
    clock.advance(days=1)
    notifications_sweep()

    row = fresh(confirmation)
    assert (row.state, row.error_code, row.error_message) == (State.FAILED, "21211", "Invalid 'To' phone number")
    assert len(scripted.seen) == 1


@pytest.mark.parametrize("error", [maybe_sent(), RuntimeError("connection reset")], ids=["timeout", "crash"])
def test_a_message_that_may_have_left_is_unknown_and_never_sent_again(confirmation, scripted, clock, error):
    scripted.script = [error]

    notifications_send_due()
    clock.advance(days=1)
    notifications_sweep()

    row = fresh(confirmation)
    assert row.state == State.UNKNOWN
    assert row.error_code in ("timeout", "provider_error")
    assert len(scripted.seen) == 1


def test_an_invalid_mobile_fails_without_calling_the_provider(confirmation, scripted):
    Petition.objects.filter(pk=confirmation.petition_id).update(contact_phone="12345")

    notifications_send_due()

    row = fresh(confirmation)
    assert (row.state, row.error_code) == (State.FAILED, "invalid_number")
    assert scripted.seen == []


def test_a_message_left_sending_by_a_dead_worker_becomes_unknown_and_is_never_resent(
    confirmation, scripted, clock, settings
):
    settings.SMS_SENDING_STALE_SECONDS = 120
    Notification.objects.filter(pk=confirmation.pk).update(state=State.SENDING, claimed_at=clock.now)

    clock.advance(seconds=119)
    assert notifications_mark_stale_unknown() == 0
    clock.advance(seconds=2)
    notifications_sweep()
    notifications_sweep()

    row = fresh(confirmation)
    assert (row.state, row.error_code) == (State.UNKNOWN, "worker_lost")
    assert scripted.seen == []


def test_a_worker_that_finishes_after_its_row_was_declared_unknown_still_records_it_sent(
    confirmation, scripted, clock, settings, monkeypatch
):
    """A very slow call: the sweep declared the row unknown meanwhile, but the worker learns it left."""
    settings.SMS_SENDING_STALE_SECONDS = 0
    original = scripted.send

    def slow_send(self, **kwargs):
        clock.advance(seconds=5)
        notifications_mark_stale_unknown()
        assert fresh(confirmation).state == State.UNKNOWN
        return original(self, **kwargs)

    monkeypatch.setattr(scripted, "send", slow_send)
    notifications_send_due()

    assert fresh(confirmation).state == State.SENT


def test_sending_one_message_by_id_waits_for_its_time_and_sends_it_once(kiosk, petition, open_slots, scripted, clock):
    booked = book_before(kiosk, petition, open_slots[0], clock=clock, days=2)
    reminder = Notification.objects.get(appointment=booked, kind=Kind.REMINDER_HOUR)

    assert notification_send(reminder.pk) == State.PENDING
    clock.set(reminder.due_at)
    assert notification_send(reminder.pk) == State.SENT
    assert notification_send(reminder.pk) == State.SENT
    assert notification_send(0) == "missing"

    assert len(scripted.sent) == 1


def test_a_claimed_batch_leaves_other_due_rows_to_the_next_one(appointment, scripted):
    notices = withdrawn_notices(appointment, 25)

    report = notifications_send_due()

    assert report.sent == 26  # the booking confirmation too
    assert all(fresh(n).state == State.SENT for n in notices)


@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_running_together_send_every_message_exactly_once(kiosk, published, open_slots, scripted):
    petitions = [f.petition(kiosk, published) for _ in range(3)]
    appointment = appointment_book(
        actor=kiosk, petition_reference=petitions[0].reference, slot_id=open_slots[0].pk
    ).appointment
    notices = withdrawn_notices(appointment, 120, petitions=petitions)
    scripted.delay = 0.002
    start = threading.Barrier(2)
    reports = []

    def sweep():
        try:
            start.wait()
            reports.append(notifications_sweep())
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(reports) == 2
    bodies = Counter(body for _to, body, _callback in scripted.sent)
    assert len(bodies) == 121 and set(bodies.values()) == {1}
    assert sum(report.sent for report in reports) == 121
    if connection.vendor == "postgresql":
        # Both really worked at once (on SQLite one writer at a time may take everything).
        assert all(report.sent for report in reports), [r.as_dict() for r in reports]
    states = Counter(Notification.objects.filter(pk__in=[n.pk for n in notices]).values_list("state", flat=True))
    assert states == {State.SENT: 120}
