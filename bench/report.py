"""Benchmark the weekly data report: figures, CSV, charts and PDF for a small district and a city-sized one.

Run:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/petition_bench .venv/bin/python bench/report.py [--city N]
      (or without DATABASE_URL for SQLite; --smoke for the short version the test suite runs). It creates and drops
      its own test database. N is the city's number of petitions (default 100,000 over 300 departments and 2,000
      communities). Figures are ratios measured side by side in one run; the machine is shared and noisy.
"""

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scheduler.test_settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from appointments.models import Outcome, OutcomeItem, Petition, PetitionCategory, Rating, Resident  # noqa: E402
from appointments.office.figures import week_report  # noqa: E402
from appointments.office.report import report_charts, report_csv, report_pdf  # noqa: E402
from departments.audit import AuditEvent  # noqa: E402
from departments.models import Community, Department, District, StaffMember, Street  # noqa: E402
from tests import factories as f  # noqa: E402

BATCH = 2000


def build(*, petitions: int, departments: int, communities: int, tag: str, monday: dt.date) -> None:
    """A district of the given size whose petitions were filed and answered over the four weeks before `monday`."""
    f.categories()
    district = District.objects.create(code=f"{tag}-d", name=f"{tag}区")
    streets = Street.objects.bulk_create(
        Street(district=district, code=f"{tag}-s{n}", name=f"{tag}街道{n}") for n in range(max(1, communities // 20))
    )
    places = Community.objects.bulk_create(
        Community(street=streets[n % len(streets)], code=f"{tag}-c{n}", name=f"{tag}社区{n}")
        for n in range(communities)
    )
    depts = Department.objects.bulk_create(
        Department(code=f"{tag}-p{n}", name=f"{tag}部门{n}") for n in range(departments)
    )
    staff = f.staff(f"{tag}-staff", StaffMember.Role.DEPARTMENT_STAFF, department=depts[0])
    categories = list(PetitionCategory.objects.all())
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(monday - dt.timedelta(weeks=4), dt.time(9), tzinfo=zone)
    for first in range(0, petitions, BATCH):
        numbers = range(first, min(first + BATCH, petitions))
        residents = Resident.objects.bulk_create(
            Resident(
                name=f"居民{n}",
                phone=f"+86138{n:08d}",
                id_number_encrypted="",
                id_number_hash=f"{tag}-{n}",
                id_number_masked="210***********0000",
            )
            for n in numbers
        )
        made = Petition.objects.bulk_create(
            Petition(
                reference=f"{tag}{n:09d}",
                query_code=f"{tag}{n:08d}"[-12:],
                resident=resident,
                contact_name=resident.name,
                contact_phone=resident.phone,
                category=categories[n % len(categories)],
                summary="楼上漏水三个月了，物业一直不管。",
                department=depts[n % len(depts)],
                community=places[n % len(places)],
                status=Petition.Status.ANSWERED if n % 3 else Petition.Status.RECEIVED,
            )
            for n, resident in zip(numbers, residents, strict=True)
        )
        # Spread filing over four weeks; two in three answered a few days later, one in five of those rated.
        for n, petition in zip(numbers, made, strict=True):
            received = start + dt.timedelta(minutes=(n * 7919) % (28 * 24 * 60))
            Petition.objects.filter(pk=petition.pk).update(received_at=received)
            petition.received_at = received
        answered = [(n, p) for n, p in zip(numbers, made, strict=True) if n % 3]
        for n, p in answered:
            p.accepted_at = p.received_at + dt.timedelta(days=1)
            p.answered_at = p.received_at + dt.timedelta(days=3 + n % 5)
        Petition.objects.bulk_update([p for _, p in answered], ["accepted_at", "answered_at"])
        outcomes = Outcome.objects.bulk_create(
            Outcome(
                petition=p,
                department_id=p.department_id,
                answer="经核实，已责成物业维修。",
                recorded_by=staff,
                told_at=p.answered_at,
            )
            for _, p in answered
        )
        OutcomeItem.objects.bulk_create(
            OutcomeItem(outcome=o, position=1, request="维修", decision=OutcomeItem.Decision.SUPPORTED)
            for o in outcomes
        )
        Rating.objects.bulk_create(
            Rating(outcome=o, level=Rating.Level.DISSATISFIED if n % 7 == 0 else Rating.Level.SATISFIED)
            for (n, _), o in zip(answered, outcomes, strict=True)
            if n % 5 == 0
        )
        AuditEvent.objects.bulk_create(
            AuditEvent(
                actor="bench",
                action="petition.status",
                target_type="appointments.petition",
                target_id=str(p.pk),
                detail={"from": "received", "to": "answered"},
            )
            for _, p in answered
        )


def measure(week: tuple[int, int], department_ids: list[int]) -> dict[str, float]:
    with CaptureQueriesContext(connection) as queries:
        began = time.perf_counter()
        report = week_report(iso_year=week[0], iso_week=week[1], department_ids=department_ids)
        figures = time.perf_counter() - began
    began = time.perf_counter()
    report_csv(report)
    csv = time.perf_counter() - began
    began = time.perf_counter()
    charts = report_charts(report)
    chart_time = time.perf_counter() - began
    began = time.perf_counter()
    pdf = report_pdf(report, charts=charts)
    pdf_time = time.perf_counter() - began
    return {
        "queries": len(queries),
        "figures": figures,
        "csv": csv,
        "charts": chart_time,
        "pdf": pdf_time,
        "pdf_kb": len(pdf) / 1024,
        "handled": report.total.handled,
    }


def run(*, small: int, city: int, city_departments: int, city_communities: int) -> dict[str, dict[str, float]]:
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    last_week = (monday - dt.timedelta(days=7)).isocalendar()[:2]
    build(petitions=small, departments=9, communities=30, tag="S", monday=monday)
    small_ids = list(Department.objects.filter(code__startswith="S-").values_list("pk", flat=True))
    build(petitions=city, departments=city_departments, communities=city_communities, tag="C", monday=monday)
    city_ids = list(Department.objects.filter(code__startswith="C-").values_list("pk", flat=True))
    if connection.vendor == "postgresql":
        # Measure with statistics that describe the data just loaded: with stale ones the planner may pick a plan
        # (nested loops over every petition) that no running district, where autovacuum keeps them fresh, would get.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {"small": measure(last_week, small_ids), "city": measure(last_week, city_ids)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--city", type=int, default=100_000, help="petitions in the city-sized district")
    parser.add_argument("--smoke", action="store_true", help="a short run, as the test suite does")
    args = parser.parse_args()
    sizes = (
        {"small": 60, "city": 600, "city_departments": 20, "city_communities": 40}
        if args.smoke
        else {"small": 400, "city": args.city, "city_departments": 300, "city_communities": 2000}
    )
    setup_test_environment()
    old = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        result = run(**sizes)
    finally:
        connection.creation.destroy_test_db(old, verbosity=0)
    print(f"database: {connection.vendor}; petitions: {sizes['small']} (small) and {sizes['city']} (city)")
    for name, row in result.items():
        print(
            f"{name:5}: {row['queries']} queries, figures {row['figures'] * 1000:.0f} ms, "
            f"csv {row['csv'] * 1000:.0f} ms, "
            f"charts {row['charts'] * 1000:.0f} ms, pdf {row['pdf'] * 1000:.0f} ms ({row['pdf_kb']:.0f} KiB), "
            f"handled {row['handled']}"
        )
    small, city = result["small"], result["city"]
    print(
        f"city vs small: queries {city['queries']} vs {small['queries']}, "
        f"figures time ratio {city['figures'] / small['figures']:.1f} "
        f"for {sizes['city'] / sizes['small']:.0f}× the data"
    )


if __name__ == "__main__":
    main()
