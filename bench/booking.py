"""Benchmark the booking spine: query counts as data grows, and booking under contention.

Run:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/petition_bench .venv/bin/python bench/booking.py
      (or without DATABASE_URL for SQLite). It creates and drops its own test database.
      With --http [--small] (PostgreSQL): books over HTTP through gunicorn (deploy/gunicorn.conf.py) on the city
      data set (bench/city.py; CITY_KEEP=1 reuses it) at 16 and 64 concurrent clients, checks that no seat is held
      twice and no slot is over capacity, and runs pgbench's single-INSERT transactions in the same minute.
Figures are ratios measured side by side in one run; the machine is shared and noisy.
"""

import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scheduler.test_settings")

import django  # noqa: E402

django.setup()

from django.db import connection, connections  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from appointments.booking import appointment_book  # noqa: E402
from scheduler.errors import SlotFull  # noqa: E402
from scheduler.selectors import slot_list_open  # noqa: E402
from tests import factories as f  # noqa: E402


def build(departments: int):
    _, _, community, _ = f.district()
    kiosk, _ = f.kiosk_actor(community)
    made = []
    for i in range(departments):
        dept = f.department(f"d{i:03d}", f"部门{i}")
        f.weekday_rules(dept, capacity=3, start="08:00", end="17:00", minutes=20)
        f.publish_next_weeks(dept)
        made.append(dept)
    return kiosk, made


def listing_queries(dept) -> tuple[int, float]:
    with CaptureQueriesContext(connection) as ctx:
        start = time.perf_counter()
        slot_list_open(department=dept)
        elapsed = time.perf_counter() - start
    return len(ctx.captured_queries), elapsed


def contention(kiosk, dept, racers: int) -> tuple[float, int, int]:
    slot = next(s for s in slot_list_open(department=dept) if s.remaining == s.capacity)
    petitions = [f.petition(kiosk, dept) for _ in range(racers)]
    barrier = threading.Barrier(racers)
    durations, results = [], []

    def run(p):
        barrier.wait()
        start = time.perf_counter()
        try:
            appointment_book(actor=kiosk, petition_reference=p.reference, slot_id=slot.pk)
            results.append("ok")
        except SlotFull:
            results.append("full")
        finally:
            durations.append(time.perf_counter() - start)
            connections.close_all()

    threads = [threading.Thread(target=run, args=(p,)) for p in petitions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statistics.median(durations), results.count("ok"), results.count("full")


def main() -> None:
    setup_test_environment()
    old = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        kiosk, small = build(2)
        q_small, t_small = listing_queries(small[0])
        _, large = build(40)
        q_large, t_large = listing_queries(large[-1])
        single, ok1, _ = contention(kiosk, small[0], 1)
        crowd, ok, full = contention(kiosk, small[1], 30)
        print(f"database: {connection.vendor}")
        print(f"slot listing queries: {q_small} with 2 departments, {q_large} with 42 (ratio {q_large / q_small:.2f})")
        print(f"slot listing time ratio 42 vs 2 departments: {t_large / t_small:.2f}")
        print(
            f"booking median latency: alone {single * 1000:.1f} ms, 30 racing for 3 seats {crowd * 1000:.1f} ms "
            f"(ratio {crowd / single:.1f}); outcome {ok} booked, {full} told full"
        )
    finally:
        connection.creation.destroy_test_db(old, verbosity=0)


def http_main(small: bool) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import booking_http

    booking_http.run(small=small)


if __name__ == "__main__":
    if "--http" in sys.argv:
        http_main(small="--small" in sys.argv)
    else:
        main()
