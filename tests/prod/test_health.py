"""The health endpoint: 200 when the database, the cache and a task worker are all there, 503 naming what is not."""

import threading
import time
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import override_settings

from appointments.management.commands.worker import heartbeat_loop
from scheduler.health import WORKER_HEARTBEAT_KEY, worker_heartbeat_record

from ._production import free_port

pytestmark = pytest.mark.django_db


def redis_at_closed_port() -> dict:
    location = f"redis://127.0.0.1:{free_port()}/0"
    return {"default": {"BACKEND": "scheduler.resilient_cache.ResilientRedisCache", "LOCATION": location}}


def test_it_answers_200_when_the_database_the_cache_and_a_worker_are_there(client):
    worker_heartbeat_record()
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "worker": "ok"}}
    assert "no-store" in response["Cache-Control"]


def test_it_answers_503_when_no_worker_was_ever_seen(client):
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "worker": "fail"}


def test_it_answers_503_when_the_last_worker_heartbeat_is_too_old(client, settings):
    from django.core.cache import cache

    cache.set(WORKER_HEARTBEAT_KEY, time.time() - settings.HEALTH_WORKER_MAX_AGE_SECONDS - 5)
    assert client.get("/health/").json()["checks"]["worker"] == "fail"


def test_a_database_that_does_not_answer_is_a_503_that_tells_nothing_of_the_error(client):
    worker_heartbeat_record()
    refusal = OperationalError('connection to server at "10.20.30.40", port 5432 failed: password authentication')
    with mock.patch("scheduler.health.connection.cursor", side_effect=refusal):
        response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "fail", "cache": "ok", "worker": "ok"}
    assert b"10.20.30.40" not in response.content and b"password" not in response.content


def test_with_redis_gone_it_answers_503_for_the_cache_and_the_worker_instead_of_failing(client):
    with override_settings(CACHES=redis_at_closed_port()):
        response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "fail", "worker": "fail"}


def test_load_balancers_may_poll_it_over_plain_http_when_everything_else_redirects_to_https(client):
    with override_settings(SECURE_SSL_REDIRECT=True):
        assert client.get("/kiosk/").status_code == 301
        assert client.get("/health/").status_code in (200, 503)


def test_only_get_is_answered(client):
    assert client.post("/health/").status_code == 405


def test_the_task_worker_records_its_heartbeat_while_it_runs(client):
    stop = threading.Event()
    beating = threading.Thread(target=heartbeat_loop, args=(stop, 0.05))
    beating.start()
    try:
        deadline = time.monotonic() + 5
        while client.get("/health/").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.get("/health/").status_code == 200
    finally:
        stop.set()
        beating.join(timeout=5)
    assert not beating.is_alive()
