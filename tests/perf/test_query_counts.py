"""What one booking costs the database: statements per booking, bounded so that the cost cannot creep back."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from appointments.models import Notification
from scheduler.selectors import slot_list_open
from tests import factories as f

# Before issue [9/10]: 38 statements in 4 transactions (the petition read twice, the key looked up twice, an
# "already booked?" query, two audit INSERTs, a 9-table re-read, notifications one by one, tasks after commit).
BOOKING_STATEMENTS_MAX = 18


@pytest.fixture
def setting(db):
    _, _, community, _ = f.district()
    kiosk, key = f.kiosk_actor(community)
    department = f.department()
    f.weekday_rules(department, capacity=3, start="08:00", end="17:00", minutes=20)
    f.publish_next_weeks(department)
    return kiosk, key, department, slot_list_open(department=department)


def book(client, key, petition, slot, idempotency_key):
    return client.post(
        "/api/v1/appointments",
        json.dumps({"petition": petition.reference, "slot": slot.pk}),
        content_type="application/json",
        headers={"X-Kiosk-Key": key, "Idempotency-Key": idempotency_key, "Accept-Language": "en"},
    )


def test_a_booking_over_the_api_runs_a_bounded_number_of_statements_in_one_transaction(client, setting):
    kiosk, key, department, slots = setting
    assert book(client, key, f.petition(kiosk, department), slots[0], "warm-up").status_code == 201
    petition = f.petition(kiosk, department, name="李建国")
    with CaptureQueriesContext(connection) as ctx:
        response = book(client, key, petition, slots[1], "k-2")
    assert response.status_code == 201, response.content
    statements = [q["sql"] for q in ctx.captured_queries]
    assert len(statements) <= BOOKING_STATEMENTS_MAX, "\n".join(statements)
    # Built from what the booking loaded: no re-read of the appointment with its petition, slot and department.
    assert not any(s.startswith("SELECT") and '"appointments_appointment"."calendar_uid"' in s for s in statements)
    assert sum(s.startswith('INSERT INTO "appointments_auditevent"') for s in statements) == 1
    assert sum(s.startswith('INSERT INTO "appointments_notification"') for s in statements) == 1
    assert sum(s.startswith('INSERT INTO "django_tasks_database_dbtaskresult"') for s in statements) == 1
    assert response.json()["seat"] == 1 and response.json()["department"]["code"] == department.code


def test_a_booking_queues_every_task_it_causes_in_its_own_transaction_in_one_insert(
    client, setting, django_capture_on_commit_callbacks
):
    kiosk, key, department, slots = setting
    petition = f.petition(kiosk, department)
    with CaptureQueriesContext(connection) as ctx, django_capture_on_commit_callbacks(execute=True):
        response = book(client, key, petition, slots[3], "k-3")
    assert response.status_code == 201, response.content

    # Nothing is queued after commit: the sweeps of its time go in with its messages' sending tasks.
    inserts = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('INSERT INTO "django_tasks_database_')]
    assert len(inserts) == 1
    paths = list(DBTaskResult.objects.values_list("task_path", flat=True))
    messages = Notification.objects.filter(appointment_id=response.json()["id"]).count()
    assert sum(p.endswith("notification_send_task") for p in paths) == messages >= 1
    assert sum(p.endswith("video_attendance_sweep_task") for p in paths) == 2


def test_a_petition_already_booked_is_refused_by_its_unique_index_with_the_same_message(client, setting):
    kiosk, key, department, slots = setting
    petition = f.petition(kiosk, department)
    assert book(client, key, petition, slots[0], "first").status_code == 201
    response = book(client, key, petition, slots[5], "second")
    assert response.status_code == 409
    assert response.json()["field"] == "petition"
    assert "already has an appointment" in response.json()["detail"]
    assert petition.appointments.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL only")
def test_postgresql_prepares_the_statements_a_booking_runs_again(client, setting):
    # Django asks psycopg to prepare nothing unless told; settings tell it to, so that after a few bookings on a
    # connection PostgreSQL no longer parses (nor, on a generic plan, plans) the booking's fixed statements.
    kiosk, key, department, slots = setting
    for n in range(6):
        response = book(client, key, f.petition(kiosk, department), slots[4 + n], f"prepared-{n}")
        assert response.status_code == 201, response.content
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any('FOR UPDATE OF "appointments_petition"' in s for s in prepared), prepared
    assert any(s.startswith('INSERT INTO "appointments_appointment"') for s in prepared), prepared
