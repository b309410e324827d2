"""Benchmark the city-wide operations on the city data set: publishing, the office dashboard, the weekly report.

Run:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/petition_bench .venv/bin/python bench/city_pages.py [--small]
      (CITY_KEEP=1 reuses the city built by bench/city.py). Budgets (issue [9/10]): publishing every department's
      next week under 5 s, the office dashboard under 1 s, the weekly report's figures, CSV and charts under 5 s.
      Publishing is rolled back afterwards, so the run can be repeated on a kept city.
"""

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scheduler.test_settings")

import city  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Max  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from appointments.office.figures import dashboard_figures, week_report  # noqa: E402
from appointments.office.report import report_charts, report_csv  # noqa: E402
from departments.models import Department, StaffMember  # noqa: E402
from departments.services import Actor  # noqa: E402
from scheduler.calendar import days_info  # noqa: E402
from scheduler.models import ScheduleWeek  # noqa: E402
from scheduler.publishing import weeks_publish_bulk  # noqa: E402

BUDGETS = {"publish next week": 5.0, "office dashboard": 1.0, "weekly report": 5.0}


def _timed(call) -> tuple[float, int, object]:
    with CaptureQueriesContext(connection) as queries:
        began = time.perf_counter()
        value = call()
        elapsed = time.perf_counter() - began
    return elapsed, len(queries), value


def measure() -> dict[str, tuple[float, int]]:
    departments = list(Department.objects.filter(code__startswith="p").order_by("code"))
    last = ScheduleWeek.objects.filter(department=departments[0]).aggregate(y=Max("iso_year"))["y"]
    week = ScheduleWeek.objects.filter(department=departments[0], iso_year=last).aggregate(w=Max("iso_week"))["w"]
    following = (dt.date.fromisocalendar(last, week, 1) + dt.timedelta(weeks=1)).isocalendar()
    days_info([dt.date.fromisocalendar(following[0], following[1], 1)])  # the holiday calendar, loaded once per process
    figures = {}
    with transaction.atomic():
        elapsed, queries, results = _timed(
            lambda: weeks_publish_bulk(
                departments=departments,
                iso_year=following[0],
                iso_week=following[1],
                confirm_provisional_holidays=True,
            )
        )
        created = sum(r.created for r in results.values())
        transaction.set_rollback(True)
    figures["publish next week"] = (elapsed, queries, f"{created:,} slots for {len(results)} departments")
    officer = Actor(staff=StaffMember.objects.get(user__username="city-officer"))
    elapsed, queries, _ = _timed(lambda: dashboard_figures(actor=officer))
    figures["office dashboard"] = (elapsed, queries, "the district's figures this week")
    monday = timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday() + 7)
    year, number, _day = monday.isocalendar()
    ids = [d.pk for d in departments]

    def report():
        made = week_report(iso_year=year, iso_week=number, department_ids=ids)
        report_csv(made)
        report_charts(made)
        return made

    elapsed, queries, made = _timed(report)
    figures["weekly report"] = (elapsed, queries, f"figures + CSV + charts, {made.total.handled:,} handled")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="the short run the test suite makes")
    args = parser.parse_args()
    with city.city_database(small=args.small):
        counts = city.counts()
        figures = measure()
    print(f"database: {connection.vendor}; " + ", ".join(f"{k}: {v:,}" for k, v in counts.items()))
    missed = []
    for name, (elapsed, queries, what) in figures.items():
        budget = BUDGETS[name]
        print(f"{name:18}: {elapsed:6.2f} s ({queries} queries; {what}); budget {budget:.0f} s")
        if elapsed > budget and not args.small:
            missed.append(name)
    if missed:
        raise SystemExit(f"over budget: {', '.join(missed)}")


if __name__ == "__main__":
    main()
