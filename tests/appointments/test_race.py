"""Many kiosks racing for the same seats: the database, not a Python check, decides.

Runs on SQLite and on PostgreSQL (CI runs the suite on both), with real separate connections.
"""

import threading
from collections import Counter

import pytest
from django.db import connection, connections
from django.test import Client

from appointments.booking import appointment_book
from appointments.models import Appointment
from scheduler.errors import DomainError, SlotFull
from scheduler.models import ConsultationRule
from scheduler.selectors import slot_list_open
from tests import factories as f

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.race]

RACERS = 50
ROUNDS = 5


def _race(callables):
    """Start every callable at the same instant, each on its own thread and database connection."""
    barrier = threading.Barrier(len(callables))
    outcomes = [None] * len(callables)

    def run(index, fn):
        try:
            barrier.wait()
            outcomes[index] = ("ok", fn())
        except SlotFull as exc:
            outcomes[index] = ("full", exc)
        except DomainError as exc:
            outcomes[index] = (type(exc).__name__, exc)
        except Exception as exc:  # noqa: BLE001 - any other failure is itself a test failure
            outcomes[index] = ("error", repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(callables)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


@pytest.fixture
def race_setup(places):
    community = places[2]
    department = f.department()
    f.weekday_rules(department, capacity=2)
    f.publish_next_weeks(department)
    kiosk, _key = f.kiosk_actor(community)
    slots = [s for s in slot_list_open(department=department) if s.remaining == 2]
    assert len(slots) >= ROUNDS
    return department, kiosk, slots


def test_fifty_connections_racing_for_two_seats_get_exactly_two_bookings(race_setup):
    department, kiosk, slots = race_setup
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW max_connections")
            assert int(cursor.fetchone()[0]) > RACERS + 5, "PostgreSQL needs room for every racer"
    for round_number in range(ROUNDS):
        slot = slots[round_number]
        petitions = [f.petition(kiosk, department) for _ in range(RACERS)]
        outcomes = _race(
            [
                (lambda p=p, s=slot: appointment_book(actor=kiosk, petition_reference=p.reference, slot_id=s.pk))
                for p in petitions
            ]
        )
        kinds = Counter(kind for kind, _ in outcomes)
        assert kinds == {"ok": 2, "full": RACERS - 2}, (round_number, kinds, [o for o in outcomes if o[0] == "error"])
        held = Appointment.objects.filter(slot=slot, status=Appointment.Status.BOOKED)
        assert held.count() == 2
        assert sorted(held.values_list("seat__number", flat=True)) == [1, 2]


def test_two_kiosks_racing_for_the_last_seat_get_one_booking_and_one_clear_409(race_setup, other_community):
    department, kiosk, slots = race_setup
    ConsultationRule.objects.update(capacity=1)
    slot = slots[0]
    # Take one of the two seats so exactly one is left.
    first = f.petition(kiosk, department)
    appointment_book(actor=kiosk, petition_reference=first.reference, slot_id=slot.pk)
    other_kiosk, other_key = f.kiosk_actor(other_community)
    _, key = f.kiosk_actor(kiosk.kiosk.community)
    contenders = [(key, f.petition(kiosk, department)), (other_key, f.petition(other_kiosk, department))]
    responses = []

    def post(kiosk_key, petition):
        response = Client().post(
            "/api/v1/appointments",
            {"petition": petition.reference, "slot": slot.pk},
            content_type="application/json",
            headers={"X-Kiosk-Key": kiosk_key, "Idempotency-Key": f"race-{petition.reference}"},
        )
        responses.append(response)
        return response.status_code

    outcomes = _race([(lambda k=k, p=p: post(k, p)) for k, p in contenders])
    assert sorted(code for _, code in outcomes) == [201, 409]
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.json()["code"] == "slot_full"
    assert loser.json()["field"] == "slot"
    assert Appointment.objects.filter(slot=slot, status=Appointment.Status.BOOKED).count() == 2


def test_a_retry_racing_its_own_first_attempt_gets_the_same_appointment(race_setup):
    department, kiosk, slots = race_setup
    petition = f.petition(kiosk, department)
    outcomes = _race(
        [
            (
                lambda: appointment_book(
                    actor=kiosk, petition_reference=petition.reference, slot_id=slots[0].pk, idempotency_key="retry-1"
                )
            )
            for _ in range(8)
        ]
    )
    assert {kind for kind, _ in outcomes} == {"ok"}, outcomes
    assert {result.appointment.pk for _, result in outcomes} == {Appointment.objects.get(petition=petition).pk}
    assert sum(not result.replayed for _, result in outcomes) == 1


def test_the_database_itself_refuses_a_second_holder_of_a_seat(race_setup):
    """Bypass every service check: the partial unique index still stops the double booking."""
    from django.db import IntegrityError, transaction

    department, kiosk, slots = race_setup
    slot = slots[0]
    seat = slot.seats.get(number=1)
    first, second = f.petition(kiosk, department), f.petition(kiosk, department)
    Appointment.objects.create(petition=first, seat=seat, slot=slot)
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(petition=second, seat=seat, slot=slot)
    # A cancelled appointment frees the seat for someone else.
    Appointment.objects.filter(petition=first).update(
        status="cancelled", cancelled_at=slot.starts_at, cancel_reason_code="cancelled_by_resident"
    )
    Appointment.objects.create(petition=second, seat=seat, slot=slot)
    assert Appointment.objects.filter(seat=seat, status="booked").count() == 1


def test_without_the_slot_lock_the_unique_index_alone_still_gives_exactly_two(race_setup, monkeypatch):
    """Take the row lock away: every racer reads the same free seats, and the index still decides."""
    from django.db.models.query import QuerySet

    monkeypatch.setattr(QuerySet, "select_for_update", lambda self, *args, **kwargs: self)
    department, kiosk, slots = race_setup
    slot = slots[0]
    petitions = [f.petition(kiosk, department) for _ in range(RACERS)]
    outcomes = _race(
        [
            (lambda p=p: appointment_book(actor=kiosk, petition_reference=p.reference, slot_id=slot.pk))
            for p in petitions
        ]
    )
    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds == {"ok": 2, "full": RACERS - 2}, (kinds, [o for o in outcomes if o[0] == "error"])
    assert Appointment.objects.filter(slot=slot, status=Appointment.Status.BOOKED).count() == 2
