"""The waiting list under real concurrency (PostgreSQL): an offer, a kiosk booking, other offer-makers and the expiry
sweep racing for the same seat — the database decides, and no seat ever has two holders."""

import datetime as dt
import threading
from collections import Counter

import pytest
from django.db import connection, connections
from django.utils import timezone

from appointments.booking import appointment_book, appointment_cancel
from appointments.models import Appointment
from appointments.notify.models import WaitlistEntry
from appointments.notify.waitlist import waitlist_offer_confirm, waitlist_offer_next, waitlist_sweep
from scheduler.errors import Conflict, SlotFull
from scheduler.models import SEAT_HOLDING_STATUSES
from tests import factories as f
from tests.notify.waitlist_support import NAMES, book, fresh, in_days, slot_at, wait

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.race,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and concurrent writers: PostgreSQL only"),
]

ROUNDS = 8
State = WaitlistEntry.State


def race(*callables):
    """Start every callable at the same instant, each on its own thread and database connection."""
    barrier = threading.Barrier(len(callables))
    outcomes: list = [None] * len(callables)

    def run(index, fn):
        try:
            barrier.wait()
            outcomes[index] = ("ok", fn())
        except SlotFull as exc:
            outcomes[index] = ("full", exc)
        except Conflict as exc:
            outcomes[index] = ("conflict", exc)
        except Exception as exc:  # noqa: BLE001 - any other failure is itself a test failure
            outcomes[index] = ("error", repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(callables)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def holders(slot) -> int:
    return Appointment.objects.filter(slot=slot, status__in=SEAT_HOLDING_STATUSES).count()


@pytest.fixture
def setting(places):
    department = f.department()
    kiosk, _key = f.kiosk_actor(places[2])
    return department, kiosk


def test_an_offer_and_a_kiosk_booking_racing_for_the_last_seat_never_both_hold_it(setting):
    department, kiosk = setting
    kinds: Counter = Counter()
    for round_number in range(ROUNDS):
        # Nothing is free, so a resident may wait; then one seat appears, and both sides reach for it at once.
        waiting = wait(kiosk, department, name=NAMES[round_number % len(NAMES)])
        slot = slot_at(department, in_days(2, hour=8 + round_number))
        booker = f.petition(kiosk, department, name="王秀兰")

        offer, booking = race(
            lambda: waitlist_offer_next(department_id=department.pk),
            lambda p=booker, s=slot: appointment_book(actor=kiosk, petition_reference=p.reference, slot_id=s.pk),
        )

        assert offer[0] == "ok" and booking[0] in ("ok", "full"), (round_number, offer, booking)
        assert holders(slot) == 1, round_number
        offered = len(offer[1])
        assert offered + (booking[0] == "ok") == 1, (round_number, offer, booking)
        kinds["offer" if offered else "booking"] += 1
        if offered:
            assert WaitlistEntry.objects.get(offer__slot=slot).state == State.OFFERED
        assert fresh(waiting).state in (State.WAITING, State.OFFERED)
    assert sum(kinds.values()) == ROUNDS


def test_several_workers_offering_at_once_make_one_offer_per_seat_to_the_first_in_line(setting):
    department, kiosk = setting
    slot = slot_at(department, in_days(3), capacity=2)
    taken = [book(kiosk, department, slot, name=name) for name in ("张伟", "刘芳")]
    now = timezone.now()
    entries = [
        wait(kiosk, department, name=name, now=now - dt.timedelta(minutes=10 - n))
        for n, name in enumerate(["李建国", "欧阳娜娜", "孙小红"])
    ]
    for appointment in taken:
        appointment_cancel(actor=kiosk, appointment_id=appointment.pk)

    outcomes = race(*[lambda: waitlist_offer_next(department_id=department.pk)] * 4)

    assert [kind for kind, _result in outcomes] == ["ok"] * 4, outcomes
    assert sum(len(result) for _kind, result in outcomes) == 2
    assert [fresh(e).state for e in entries] == [State.OFFERED, State.OFFERED, State.WAITING]
    assert holders(slot) == 2


def test_a_confirmation_racing_the_expiry_sweep_either_books_or_hands_on_never_both(setting):
    department, kiosk = setting
    results: Counter = Counter()
    for round_number in range(ROUNDS):
        slot = slot_at(department, in_days(4, hour=8 + round_number))
        taken = book(kiosk, department, slot, name="张伟")
        first = wait(kiosk, department, name=NAMES[round_number % len(NAMES)])
        appointment_cancel(actor=kiosk, appointment_id=taken.pk)
        waitlist_offer_next(department_id=department.pk)
        first = fresh(first)
        expires = first.offer_expires_at
        assert expires is not None and first.offer.slot_id == slot.pk

        confirm, sweep = race(
            lambda p=first.petition, e=expires: waitlist_offer_confirm(
                actor=kiosk, petition=p, now=e - dt.timedelta(seconds=1)
            ),
            lambda e=expires: waitlist_sweep(now=e),
        )

        assert sweep[0] == "ok" and confirm[0] in ("ok", "conflict"), (round_number, confirm, sweep)
        offer = Appointment.objects.get(pk=first.offer_id)
        if confirm[0] == "ok":
            assert offer.status == Appointment.Status.BOOKED and fresh(first).state == State.BOOKED
            assert sweep[1].expired == 0
        else:
            assert offer.status == Appointment.Status.CANCELLED and fresh(first).state == State.EXPIRED
        assert holders(slot) <= 1
        if not holders(slot):
            book(kiosk, department, slot, name="刘芳")  # the seat handed on is taken, so the next round starts full
        results[confirm[0]] += 1
    assert sum(results.values()) == ROUNDS
