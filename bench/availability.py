"""Benchmark a department's open times at city scale: the selector beside the bare SQL returning the same rows.

Run:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/petition_bench .venv/bin/python bench/availability.py [--small]
      (CITY_KEEP=1 reuses the city built by bench/city.py). Reports p50/p95 in-process over 31 days for the API's
      listing and the kiosk's day list, the queries each runs, and the ratio to the bare SQL, in one run; then the
      same two with the department's open times in the shared cache (`scheduler.availability_cache`, as the API
      and the kiosk read them), warm: set REDIS_URL to measure it on Redis, as production runs.
"""

import argparse
import datetime as dt
import os
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scheduler.test_settings")

import city  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from departments.models import Department  # noqa: E402
from scheduler.availability_cache import cache_seconds  # noqa: E402
from scheduler.models import SEAT_HOLDING_STATUSES  # noqa: E402
from scheduler.publishing import service_zone  # noqa: E402
from scheduler.selectors import day_list_availability, slot_list_open  # noqa: E402

DAYS = 31
# The bare query a person would write for "this department's open times with their free seats".
BARE = """
SELECT s.id, s.starts_at, s.ends_at, s.capacity,
       s.capacity - (SELECT count(*) FROM appointments_appointment a
                     WHERE a.slot_id = s.id AND a.status IN ({holding})) AS remaining
FROM scheduler_slot s JOIN scheduler_scheduleweek w ON w.id = s.week_id
WHERE s.department_id = %s AND s.status = 'open' AND w.status = 'published'
  AND s.starts_at >= %s AND s.starts_at < %s
ORDER BY s.starts_at
"""


def _bare(department_id: int, lower: dt.datetime, upper: dt.datetime) -> list[tuple]:
    holding = ", ".join(f"'{s}'" for s in SEAT_HOLDING_STATUSES)
    with connection.cursor() as cursor:
        cursor.execute(BARE.format(holding=holding), [department_id, lower, upper])
        return cursor.fetchall()


def _timed(call, rounds: int) -> tuple[float, float]:
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        call()
        samples.append(time.perf_counter() - began)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def measure(rounds: int) -> dict[str, tuple]:
    departments = list(Department.objects.filter(code__startswith="p").order_by("code"))
    rng = random.Random(7)
    zone = service_zone()
    today = timezone.localdate(timezone=zone)
    date_to = today + dt.timedelta(days=DAYS - 1)
    now = timezone.now()
    upper = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    picks = [rng.choice(departments) for _ in range(rounds)]
    sample = picks[0]
    listed = slot_list_open(department=sample, date_from=today, date_to=date_to, now=now)
    bare_rows = _bare(sample.pk, now, upper)
    # The same rows (the selector also drops times inside the notice period, which the bare query cannot know).
    assert {s.pk for s in listed} <= {r[0] for r in bare_rows}, "the selector listed a time the bare query did not"
    with CaptureQueriesContext(connection) as listing_queries:
        slot_list_open(department=sample, date_from=today, date_to=date_to)
    it = iter(picks * 5)
    with override_settings(AVAILABILITY_CACHE_SECONDS=0):  # every reading from the database
        with CaptureQueriesContext(connection) as day_queries:
            day_list_availability(department=sample, days=14)
        result = {
            "listing": _timed(lambda: slot_list_open(department=next(it), date_from=today, date_to=date_to), rounds),
            "bare": _timed(lambda: _bare(next(it).pk, timezone.now(), upper), rounds),
            "kiosk days": _timed(lambda: day_list_availability(department=next(it), days=14), rounds),
        }
    # Warm: every picked department's times read once (as the first kiosk to ask would), then timed.
    cache.clear()
    for department in set(picks):
        slot_list_open(department=department, date_from=today, date_to=date_to, cached=True)
        day_list_availability(department=department, days=14)
    cached = slot_list_open(department=sample, date_from=today, date_to=date_to, now=now, cached=True)
    assert [(s.pk, s.taken) for s in cached] == [(s.pk, s.taken) for s in listed], "the cache listed other times"
    with CaptureQueriesContext(connection) as cached_listing_queries:
        slot_list_open(department=sample, date_from=today, date_to=date_to, cached=True)
    with CaptureQueriesContext(connection) as cached_day_queries:
        day_list_availability(department=sample, days=14)
    result["listing, cached"] = _timed(
        lambda: slot_list_open(department=next(it), date_from=today, date_to=date_to, cached=True), rounds
    )
    result["kiosk days, cached"] = _timed(lambda: day_list_availability(department=next(it), days=14), rounds)
    return {
        **result,
        "rows": (len(listed), len(bare_rows)),
        "queries": (len(listing_queries), len(day_queries), len(cached_listing_queries), len(cached_day_queries)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="the short run the test suite makes")
    args = parser.parse_args()
    with city.city_database(small=args.small):
        counts = city.counts()
        figures = measure(rounds=30 if args.small else 300)
    print(f"database: {connection.vendor}; " + ", ".join(f"{k}: {v:,}" for k, v in counts.items()))
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    print(f"cache: {backend}, open times kept {cache_seconds()} s")
    bare_p50, bare_p95 = figures["bare"]
    for name in ("listing", "kiosk days", "bare", "listing, cached", "kiosk days, cached"):
        p50, p95 = figures[name]
        print(f"{name:18}: p50 {p50 * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms, {p50 / bare_p50:.1f}× bare (p50)")
    compare = Path(__file__).resolve().parent / ".venv-compare" / "bin" / "python"
    if compare.exists() and not args.small:
        # django-appointment, in its own environment, on the same 31 days (see compare_django_appointment.py).
        line = (
            subprocess.run(
                [str(compare), str(Path(__file__).resolve().parent / "compare_django_appointment.py")],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "COMPARE_ROUNDS": "10"},
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        theirs = float(re.search(r"p50 ([0-9.]+) ms", line).group(1)) / 1000
        for name in ("listing", "listing, cached"):
            ours = figures[name][0]
            print(f"{line}; ours ({name}) {ours * 1000:.2f} ms: {theirs / ours:.0f}× faster")
    listing, days, cached_listing, cached_days = figures["queries"]
    print(
        f"rows: {figures['rows'][0]} listed, {figures['rows'][1]} bare; queries: listing {listing}, "
        f"kiosk day list {days}; with the cache warm: listing {cached_listing}, kiosk day list {cached_days}"
    )


if __name__ == "__main__":
    main()
