"""What one request costs in CPU through the whole stack, beside the cheapest requests the same stack answers.

Run:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/petition_bench CITY_KEEP=1 REDIS_URL=redis://127.0.0.1:6379/3 \
      .venv/bin/python bench/request_cost.py [--small] [--requests N]
In-process through Django's test client (middleware, django-ninja, the kiosk key, the throttles, the ORM), on the
city data set (bench/city.py), one database connection. CPU time, not wall time, so that a busy machine moves the
figures less: this process's own, and for bookings also its PostgreSQL backend's (read from /proc). Ends with the
CPU a booking may cost, PostgreSQL included, for 2 cores to take 10x the issue's old 36-63 bookings/s, and (on
PostgreSQL) what the same booking's SQL costs replayed through a bare psycopg cursor: the floor for any booking path,
hand-written SQL included.
"""

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scheduler.test_settings")
# One client makes every request here: the API's limits would stop it long before the measurement ends.
os.environ.setdefault("API_THROTTLE_ANONYMOUS", "100000000/m")
os.environ.setdefault("API_THROTTLE_CALLER", "100000000/m")

import django  # noqa: E402

django.setup()

import booking_http  # noqa: E402
import city  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

OLD_RATE = (36, 63)  # bookings/s before issue [9/10], from its text


def _process_cpu() -> float:
    times = os.times()
    return times.user + times.system


def _backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _per_request(calls, count: int, backend_pid: int | None) -> tuple[float, float | None]:
    """Milliseconds of CPU per call: this process's, and its PostgreSQL backend's (None where not readable)."""
    for call in calls[:5]:
        call()
    own, backend = _process_cpu(), _backend_cpu(backend_pid) if backend_pid else None
    for call in calls[5 : 5 + count]:
        call()
    own_ms = (_process_cpu() - own) / count * 1000
    backend_ms = (_backend_cpu(backend_pid) - backend) / count * 1000 if backend_pid else None
    return own_ms, backend_ms


def _book(client: Client, key: str, reference: str, slot_id: int) -> int:
    """Book through the API as a kiosk; the new appointment's id."""
    response = client.post(
        "/api/v1/appointments",
        json.dumps({"petition": reference, "slot": slot_id}),
        content_type="application/json",
        headers={"X-Kiosk-Key": key, "Idempotency-Key": f"cost-{reference}"},
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def measure(count: int) -> dict[str, tuple[float, float | None]]:
    cache.clear()
    key, jobs = booking_http.prepare(count + 5)
    client = Client()

    def book(reference: str, slot_id: int) -> int:
        return _book(client, key, reference, slot_id)

    def read(path: str, **headers: str):
        def call() -> None:
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.status_code)

        return call

    first = book(*jobs[0])
    connection.ensure_connection()
    backend_pid = connection.connection.info.backend_pid if connection.vendor == "postgresql" else None
    reads = {
        "a static file (WhiteNoise, no view)": read("/static/kiosk/kiosk.css"),
        "GET /api/v1/categories (public, 1 query)": read("/api/v1/categories"),
        "GET /api/v1/appointments/{id} (kiosk key, 1 read)": read(
            f"/api/v1/appointments/{first}", **{"X-Kiosk-Key": key}
        ),
    }
    figures = {name: _per_request([call] * (count + 5), count, None) for name, call in reads.items()}
    bookings = [lambda job=job: book(*job) for job in jobs[1:]]
    figures["POST /api/v1/appointments (a booking)"] = _per_request(bookings, count - 1, backend_pid)
    return figures


def bare_replay(count: int) -> tuple[float, float]:
    """CPU per booking (this process, its PostgreSQL backend) of bookings' statements run as captured, through a
    bare psycopg connection, each in a transaction rolled back: no Django, no ORM, statements prepared.

    Each booking is made once through the API, its statements captured, what it wrote undone (its audit events
    stay: the trail refuses deletes), and then replayed once: every replay writes different keys, as real ones do.
    """
    import psycopg
    from django_tasks_db.models import DBTaskResult

    from appointments.models import Appointment, IdempotencyRecord, Notification, Petition

    key, jobs = booking_http.prepare(count + 5)
    client = Client()
    captured_bookings, appointments = [], []
    began = timezone.now()
    for reference, slot_id in jobs:
        statements: list[tuple[str, object]] = []

        def capture(execute, sql, params, many, context, statements=statements):
            statements.append((sql, params))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(capture):
            appointments.append(_book(client, key, reference, slot_id))
        # The request's own statements with their values (BEGIN and COMMIT are not executed through cursors; what
        # runs after the commit, the audit sealer's batch on its own schedule, is left out).
        sealing = next((n for n, (sql, _) in enumerate(statements) if "appointments_auditevent SET seq" in sql), None)
        captured_bookings.append(statements[:sealing])
    notifications = list(Notification.objects.filter(appointment_id__in=appointments).values_list("pk", flat=True))
    IdempotencyRecord.objects.filter(appointment_id__in=appointments).delete()
    Notification.objects.filter(pk__in=notifications).delete()
    DBTaskResult.objects.filter(enqueued_at__gte=began).delete()  # no worker runs here: all are the bookings'
    Appointment.objects.filter(pk__in=appointments).delete()
    Petition.objects.filter(reference__in=[reference for reference, _ in jobs]).update(status=Petition.Status.RECEIVED)

    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname=settings["NAME"],
        context=connection.connection.adapters,  # Django's own adapters, as its connection sends the values
    ) as bare:

        def replay(statements: list[tuple[str, object]]):
            def call() -> None:
                with bare.transaction(force_rollback=True), bare.cursor() as cursor:
                    for sql, params in statements:
                        cursor.execute(sql, params)

            return call

        return _per_request([replay(statements) for statements in captured_bookings], count, bare.info.backend_pid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="the small city (seconds to build)")
    parser.add_argument("--requests", type=int, default=300, help="requests of each kind (default 300)")
    args = parser.parse_args()
    with city.city_database(small=args.small):
        figures = measure(max(args.requests, 10))
        bare = bare_replay(max(args.requests, 10)) if connection.vendor == "postgresql" else None
    print(f"database: {connection.vendor}; CPU per request, in-process, {args.requests} of each")
    for name, (own, backend) in figures.items():
        database = f", its PostgreSQL backend {backend:.2f} ms" if backend is not None else ""
        print(f"  {name:52} {own:6.2f} ms{database}")
    if bare is not None:
        print(
            f"  {'the same booking SQL, bare psycopg, prepared':52} {bare[0]:6.2f} ms, its PostgreSQL backend "
            f"{bare[1]:.2f} ms"
        )
    cores = os.cpu_count() or 1
    low, high = (1000 * cores / (10 * rate) for rate in OLD_RATE)
    print(
        f"10x the old {OLD_RATE[0]}-{OLD_RATE[1]} bookings/s on {cores} cores leaves {high:.1f}-{low:.1f} ms of CPU "
        "per booking, PostgreSQL and the load generator included."
    )


if __name__ == "__main__":
    main()
