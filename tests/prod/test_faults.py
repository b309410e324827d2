"""Faults survived: the database dropping the app's connections (between requests and in the middle of a booking),
and Redis going away. On PostgreSQL, where connections are terminated as a failover does."""

import json
import logging
import re
import time
import uuid

import httpx
import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from appointments.models import Appointment, Petition
from tests import factories as f

from ._production import free_port
from .conftest import admin_dsn, needs_postgres, terminate_backends

LIVE_REDIS = "redis://127.0.0.1:6379/14"
SUMMARY = "单位拖欠工资已经半年，劳动监察一直没有处理结果。"


def terminate(pid: int) -> None:
    """Terminate one backend and wait until it is gone, as a database restart would end it."""
    with psycopg.connect(admin_dsn(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        for _ in range(100):
            if not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
                return
            time.sleep(0.05)


class DropConnectionAtFirst:
    """An execute wrapper that kills this very connection just before the first INSERT into `table`."""

    def __init__(self, table: str):
        self.table, self.fired = table, False

    def __call__(self, execute, sql, params, many, context):
        if not self.fired and sql.startswith("INSERT") and f'"{self.table}"' in sql:
            self.fired = True
            terminate(context["connection"].connection.info.backend_pid)
        return execute(sql, params, many, context)


@pytest.fixture
def kiosk_client(client, kiosk_key):
    client.cookies[settings.KIOSK_KEY_COOKIE] = kiosk_key
    return client


@pytest.fixture
def suggesting(published):
    f.categories()
    from appointments.models import PetitionCategory

    PetitionCategory.objects.update(suggested_department=published)
    return published


def walk_to_confirm(client, resident: dict, department, slot) -> str:
    """Answer every booking question on the kiosk; return the confirm page's token."""
    assert client.post("/kiosk/book/", resident).status_code == 302
    assert client.post("/kiosk/book/category/", {"category": "housing"}).status_code == 302
    assert client.post("/kiosk/book/summary/", {"summary": SUMMARY}).status_code == 302
    assert client.post("/kiosk/book/department/", {"department": department.code}).status_code == 302
    assert client.post("/kiosk/book/time/", {"slot": slot.pk}).status_code == 302
    page = client.get("/kiosk/book/confirm/")
    assert page.status_code == 200
    return re.search(r'name="token" value="([^"]+)"', page.content.decode()).group(1)


# The database drops the connection in the middle of a booking.


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_the_kiosk_retries_a_booking_cut_off_by_a_lost_connection_and_the_resident_gets_one(
    kiosk_client, suggesting, open_slots
):
    resident = {"name": "刘淑珍", "phone": "15104471290", "id_number": f.valid_id_number("19640902", 17, "210104")}
    token = walk_to_confirm(kiosk_client, resident, suggesting, open_slots[0])
    drop = DropConnectionAtFirst("appointments_appointment")
    with connection.execute_wrapper(drop):
        response = kiosk_client.post("/kiosk/book/confirm/", {"token": token})
    assert drop.fired, "the connection was never dropped: the test proves nothing"
    assert response.status_code == 302 and response["Location"].endswith("/kiosk/book/receipt/")
    assert kiosk_client.get(response["Location"]).status_code == 200
    assert Petition.objects.count() == 1
    assert Appointment.objects.filter(slot=open_slots[0]).count() == 1


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_an_api_booking_cut_off_by_a_lost_connection_answers_503_and_its_retry_books_once(
    client, kiosk, kiosk_key, published, open_slots
):
    petition = f.petition(kiosk, published, phone="13604415523")
    headers = {"X-Kiosk-Key": kiosk_key, "Idempotency-Key": "kiosk-7f3a-0001"}
    body = json.dumps({"petition": petition.reference, "slot": open_slots[1].pk})
    drop = DropConnectionAtFirst("appointments_appointment")
    with connection.execute_wrapper(drop):
        cut = client.post("/api/v1/appointments", body, content_type="application/json", headers=headers)
    assert drop.fired
    assert cut.status_code == 503, cut.content
    assert cut["Retry-After"] == "1" and cut.json()["code"] == "service_unavailable"
    assert not Appointment.objects.filter(petition=petition).exists()
    retried = client.post("/api/v1/appointments", body, content_type="application/json", headers=headers)
    assert retried.status_code == 201, retried.content
    again = client.post("/api/v1/appointments", body, content_type="application/json", headers=headers)
    assert again.json()["id"] == retried.json()["id"]
    assert Appointment.objects.filter(petition=petition).count() == 1


# The database drops every connection of the app between requests (gunicorn, persistent connections).


@needs_postgres
def test_after_the_database_drops_every_connection_no_request_fails_and_the_workers_carry_on(production_stack):
    stack = production_stack
    kiosk = {"X-Kiosk-Key": stack.seed["kiosk_key"]}
    with httpx.Client(timeout=10) as client:
        for base in stack.urls:  # every app server holds a persistent connection now
            assert client.get(f"{base}/api/v1/departments", headers=kiosk).status_code == 200
        assert terminate_backends(stack.dbname) >= 2
        answers = [client.get(f"{base}/api/v1/departments", headers=kiosk).status_code for base in stack.urls * 3]
        filed = client.post(
            f"{stack.urls[1]}/api/v1/petitions",
            json={
                "resident": {"name": "马建国", "phone": "13322450913", "id_number": f.valid_id_number("19710623", 8)},
                "category": "housing",
                "summary": SUMMARY,
                "department": stack.seed["department"],
            },
            headers=kiosk,
        )
        health = [client.get(f"{base}/health/").status_code for base in stack.urls]
    assert answers == [200] * 6
    assert filed.status_code == 201, filed.text
    assert health == [200, 200]
    assert all(process.poll() is None for process in stack.processes), stack.logs()
    assert "Internal Server Error" not in stack.logs()


# Redis goes away.


def redis_at_closed_port() -> dict:
    location = f"redis://127.0.0.1:{free_port()}/0"
    return {"default": {"BACKEND": "scheduler.resilient_cache.ResilientRedisCache", "LOCATION": location}}


@pytest.mark.django_db
def test_with_redis_gone_the_kiosk_still_books_and_a_warning_is_logged(kiosk_client, suggesting, open_slots, caplog):
    resident = {"name": "孙立军", "phone": "18640093317", "id_number": f.valid_id_number("19880117", 41, "210106")}
    with override_settings(CACHES=redis_at_closed_port()), caplog.at_level(logging.WARNING, "scheduler.cache"):
        from scheduler.resilient_cache import ResilientRedisCache

        ResilientRedisCache._last_warning = 0.0
        token = walk_to_confirm(kiosk_client, resident, suggesting, open_slots[2])
        booked = kiosk_client.post("/kiosk/book/confirm/", {"token": token})
        looked_up = kiosk_client.post("/kiosk/progress/", {"query_code": "40417733", "phone_last4": "3317"})
    assert booked.status_code == 302 and booked["Location"].endswith("/kiosk/book/receipt/")
    assert Appointment.objects.filter(slot=open_slots[2]).count() == 1
    assert looked_up.status_code < 500
    assert any("Redis cannot be reached" in record.getMessage() for record in caplog.records)


@pytest.mark.django_db
def test_with_redis_gone_the_api_answers_without_counting_its_limits(client, kiosk_key, published, settings):
    settings.API_THROTTLE_ANONYMOUS = settings.API_THROTTLE_CALLER = "2/m"
    with override_settings(CACHES=redis_at_closed_port()):
        answers = [client.get("/api/v1/departments", headers={"X-Kiosk-Key": kiosk_key}).status_code for _ in range(4)]
    assert answers == [200] * 4


@pytest.mark.django_db
def test_with_redis_gone_the_listing_reads_the_database_and_shows_each_booking_at_once(
    client, kiosk, kiosk_key, published, open_slots
):
    """The department's open times are cached in Redis (scheduler.availability_cache); without it they are read."""
    from appointments.booking import appointment_book

    def seats_free() -> dict[int, int]:
        listed = client.get(f"/api/v1/departments/{published.code}/slots", headers={"X-Kiosk-Key": kiosk_key})
        assert listed.status_code == 200, listed.text
        return {row["id"]: row["remaining"] for row in listed.json()}

    slot = open_slots[0]
    with override_settings(CACHES=redis_at_closed_port(), AVAILABILITY_CACHE_SECONDS=15):
        before = seats_free()
        appointment_book(actor=kiosk, petition_reference=f.petition(kiosk, published).reference, slot_id=slot.pk)
        after = seats_free()
    assert set(before) == {s.pk for s in open_slots}
    assert after[slot.pk] == before[slot.pk] - 1
    assert {k: v for k, v in after.items() if k != slot.pk} == {k: v for k, v in before.items() if k != slot.pk}


@pytest.mark.django_db
def test_with_redis_there_the_same_limits_are_counted(client, kiosk_key, published, settings):
    settings.API_THROTTLE_ANONYMOUS = settings.API_THROTTLE_CALLER = "2/m"
    # Keys of this test run only: another run may share the Redis server (CI runs two suites at once).
    live = {
        "default": {
            "BACKEND": "scheduler.resilient_cache.ResilientRedisCache",
            "LOCATION": LIVE_REDIS,
            "KEY_PREFIX": f"prod-limits-{uuid.uuid4().hex}",
        }
    }
    with override_settings(CACHES=live):
        answers = [client.get("/api/v1/departments", headers={"X-Kiosk-Key": kiosk_key}).status_code for _ in range(4)]
    assert answers == [200, 200, 429, 429]


def test_the_redis_cache_reuses_one_client_per_pool_and_round_trips():
    from django.core.cache.backends.redis import RedisCacheClient

    from scheduler.resilient_cache import ResilientRedisCache

    cache = ResilientRedisCache(LIVE_REDIS, {"KEY_PREFIX": f"prod-client-{uuid.uuid4().hex}"})
    cache.set("k", {"seats": [1, 2]}, 30)
    assert cache.get_many(["k", "missing"]) == {"k": {"seats": [1, 2]}}
    assert cache._cache.get_client() is cache._cache.get_client(write=True)
    assert RedisCacheClient.get_client(cache._cache) is not RedisCacheClient.get_client(cache._cache)  # Django's way
    cache.delete("k")
