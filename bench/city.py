"""Build a city-sized district for the benchmarks: 300 departments × 52 published weeks, 220,000 petitions.

Weeks are published with the project's own publishing (`weeks_publish_bulk`, which plans exactly as `week_publish`
does), and a sample is republished with `week_publish`, which must then change nothing. Petitions, appointments,
outcomes and audit rows are written in bulk. `--small` builds a few departments for the test suite's smoke run.

Run:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/petition_bench .venv/bin/python bench/city.py [--small]
Other benchmarks call `city_database()`: with CITY_KEEP=1 the built database (test_<name>) is kept and reused.
"""

import argparse
import contextlib
import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scheduler.test_settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from appointments.models import (  # noqa: E402
    Appointment,
    Outcome,
    Petition,
    PetitionCategory,
    Resident,
)
from departments.audit import AuditEvent, audit_seal  # noqa: E402
from departments.models import Community, Department, District, StaffMember, Street  # noqa: E402
from scheduler.models import ConsultationRule, ScheduleWeek, Slot  # noqa: E402
from scheduler.publishing import week_publish, weeks_publish_bulk  # noqa: E402
from tests import factories as f  # noqa: E402

FULL = {"departments": 300, "weeks": 52, "petitions": 220_000, "communities": 2000}
SMALL = {"departments": 6, "weeks": 4, "petitions": 300, "communities": 20}
BATCH = 5000
# Half the weeks lie behind (with consultations held), half ahead (with bookings waiting).
PAST_SHARE = 0.5


@contextlib.contextmanager
def _stamps_as_given(*fields):
    """Let bulk inserts carry their own timestamps (history), instead of auto_now(_add)'s 'now'."""
    saved = [(field, field.auto_now_add, field.auto_now) for field in fields]
    for field, _, _ in saved:
        field.auto_now_add = field.auto_now = False
    try:
        yield
    finally:
        for field, added, saved_now in saved:
            field.auto_now_add, field.auto_now = added, saved_now


def _weeks(count: int) -> list[tuple[int, int]]:
    monday = timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday())
    first = monday - dt.timedelta(weeks=int(count * PAST_SHARE))
    return [tuple((first + dt.timedelta(weeks=n)).isocalendar())[:2] for n in range(count)]


def build(*, departments: int, weeks: int, petitions: int, communities: int, log=print) -> dict[str, float]:
    """Build the district; return how long each part took (seconds)."""
    timings: dict[str, float] = {}
    began = time.perf_counter()
    f.categories()
    district = District.objects.create(code="city", name="沈阳市大东区")
    streets = Street.objects.bulk_create(
        Street(district=district, code=f"s{n}", name=f"街道{n}") for n in range(max(1, communities // 20))
    )
    places = Community.objects.bulk_create(
        Community(street=streets[n % len(streets)], code=f"c{n}", name=f"社区{n}") for n in range(communities)
    )
    depts = Department.objects.bulk_create(
        Department(code=f"p{n:03d}", name=f"部门{n}", kind=Department.Kind.FUNCTIONAL) for n in range(departments)
    )
    ConsultationRule.objects.bulk_create(
        ConsultationRule(
            department=dept,
            weekday=weekday,
            start_time=dt.time(start),
            end_time=dt.time(start + 2, 30),
            session_minutes=30,
            buffer_minutes=0,
            capacity=2,
            effective_from=dt.date(2020, 1, 1),
            min_notice_minutes=60,
            booking_window_days=31,
        )
        for dept in depts
        for weekday in range(5)
        for start in (9, 14)
    )
    f.staff("city-officer", StaffMember.Role.PETITION_OFFICER)
    staff = f.staff("city-staff", StaffMember.Role.DEPARTMENT_STAFF, department=depts[0])
    timings["district"] = time.perf_counter() - began

    began = time.perf_counter()
    for iso_year, iso_week in _weeks(weeks):
        weeks_publish_bulk(departments=depts, iso_year=iso_year, iso_week=iso_week, confirm_provisional_holidays=True)
    timings["publish"] = time.perf_counter() - began
    log(f"published {Slot.objects.count():,} slots in {timings['publish']:.1f} s")

    began = time.perf_counter()
    sample = [
        (depts[n], week)
        for n, week in zip(range(0, departments, max(1, departments // 5)), _weeks(weeks)[::7], strict=False)
    ]
    for dept, (iso_year, iso_week) in sample:
        again = week_publish(department=dept, iso_year=iso_year, iso_week=iso_week, confirm_provisional_holidays=True)
        if again.created or again.updated or again.removed:
            raise SystemExit(f"bulk publishing differs from week_publish for {dept.code} {iso_year}-W{iso_week}")
    timings["check"] = time.perf_counter() - began
    log(f"republished {len(sample)} sampled weeks with week_publish: identical")

    began = time.perf_counter()
    _petitions(petitions=petitions, places=places, staff=staff)
    timings["petitions"] = time.perf_counter() - began
    began = time.perf_counter()
    # Sealed into the hash chain, as a running district's events are moments after they commit (otherwise the
    # first request measured would seal the whole history).
    audit_seal(batch=5000)
    timings["audit seal"] = time.perf_counter() - began
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # as autovacuum would have by now (it is off on these machines)
    return timings


def _received(starts_at: dt.datetime, n: int, now: dt.datetime) -> dt.datetime:
    """When a petition booked into this time was filed: a few days before it, and never later than now (the
    bookings far ahead are spread over the last month, so that this week's activity is a week's worth)."""
    before = starts_at - dt.timedelta(days=3 + n % 5)
    return before if before < now else now - dt.timedelta(days=n % 31, hours=1 + n % 23)


def _petitions(*, petitions: int, places: list[Community], staff: StaffMember) -> None:
    """Petitions booked into every third slot's first seat: held ones answered, coming ones waiting."""
    categories = list(PetitionCategory.objects.all())
    now = timezone.now()
    chosen = list(
        Slot.objects.filter(seats__number=1)
        .extra(where=["scheduler_slot.id %% 3 = 0"])  # spread over departments and weeks, one booking per slot
        .order_by("pk")
        .values_list("pk", "seats__pk", "department_id", "starts_at")[:petitions]
    )
    received, updated = Petition._meta.get_field("received_at"), Petition._meta.get_field("updated_at")
    at = AuditEvent._meta.get_field("at") if AuditEvent._meta.get_field("at").auto_now_add else None
    stamped = [received, updated, at] if at else [received, updated]
    for first in range(0, len(chosen), BATCH):
        part = chosen[first : first + BATCH]
        numbers = range(first, first + len(part))
        with transaction.atomic(), _stamps_as_given(*stamped):
            residents = Resident.objects.bulk_create(
                Resident(
                    name=f"居民{n}",
                    phone=f"+86139{n:08d}",
                    id_number_encrypted="",
                    id_number_hash=f"city-{n}",
                    id_number_masked="210***********0000",
                )
                for n in numbers
            )
            made = []
            for n, resident, (_slot, _seat, department_id, starts_at) in zip(numbers, residents, part, strict=True):
                held = starts_at < now
                made.append(
                    Petition(
                        reference=f"C{n:09d}",
                        query_code=f"{n:012d}",
                        resident=resident,
                        contact_name=resident.name,
                        contact_phone=resident.phone,
                        category=categories[n % len(categories)],
                        summary="楼上漏水三个月了，物业一直不管。",
                        department_id=department_id,
                        community=places[n % len(places)],
                        status=(Petition.Status.ANSWERED if n % 3 else Petition.Status.IN_CONSULTATION)
                        if held
                        else Petition.Status.SCHEDULED,
                        received_at=_received(starts_at, n, now),
                        accepted_at=starts_at - dt.timedelta(days=2) if held else None,
                        answered_at=starts_at + dt.timedelta(days=1) if held and n % 3 else None,
                    )
                )
            for p, (_slot, _seat, _dept, starts_at) in zip(made, part, strict=True):
                # Last saved when its status last moved (the office's figures rely on it, as on a running district).
                p.updated_at = p.answered_at or (starts_at if starts_at < now else p.received_at)
            made = Petition.objects.bulk_create(made)
            appointments = Appointment.objects.bulk_create(
                Appointment(
                    petition=p,
                    seat_id=seat_id,
                    slot_id=slot_id,
                    community_id=p.community_id,
                    status=(Appointment.Status.NO_SHOW if n % 11 == 0 else Appointment.Status.COMPLETED)
                    if starts_at < now
                    else Appointment.Status.BOOKED,
                )
                for n, p, (slot_id, seat_id, _dept, starts_at) in zip(numbers, made, part, strict=True)
            )
            Outcome.objects.bulk_create(
                Outcome(
                    petition=p,
                    department_id=p.department_id,
                    answer="经核实，已责成物业维修。",
                    recorded_by=staff,
                    told_at=p.answered_at,
                )
                for p in made
                if p.answered_at is not None
            )
            events = []
            for p, a, (_slot, _seat, _dept, starts_at) in zip(made, appointments, part, strict=True):
                # Every move of the status is on record, as the app records it (the office's figures for a past
                # week read the moves made since).
                moves = [("received", "scheduled", p.received_at)]
                if p.status != Petition.Status.SCHEDULED:
                    moves.append(("scheduled", "in_consultation", starts_at))
                if p.status == Petition.Status.ANSWERED:
                    moves.append(("in_consultation", "answered", p.answered_at))
                events += [
                    AuditEvent(
                        actor="bench", action="petition.status", target_type="appointments.petition",
                        target_id=str(p.pk), detail={"from": was, "to": to}, at=at,
                    )
                    for was, to, at in moves[1:]
                ]  # fmt: skip
                events += [
                    AuditEvent(
                        actor="bench", action="petition.create", target_type="appointments.petition",
                        target_id=str(p.pk), detail={}, at=p.received_at,
                    ),
                    AuditEvent(
                        actor="bench", action="petition.status", target_type="appointments.petition",
                        target_id=str(p.pk), detail={"from": "received", "to": "scheduled"}, at=p.received_at,
                    ),
                    AuditEvent(
                        actor="bench", action="appointment.book", target_type="appointments.appointment",
                        target_id=str(a.pk), detail={"slot": a.slot_id}, at=p.received_at,
                    ),
                ]  # fmt: skip
            AuditEvent.objects.bulk_create(events)


@contextlib.contextmanager
def city_database(*, small: bool, log=print):
    """A test database holding the city (built here, or kept from an earlier run with CITY_KEEP=1)."""
    keep = os.environ.get("CITY_KEEP") == "1"
    setup_test_environment()
    old = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=keep)
    try:
        if not Department.objects.filter(code="p000").exists():
            began = time.perf_counter()
            build(**(SMALL if small else FULL), log=log)
            log(f"built the city in {time.perf_counter() - began:.0f} s")
        yield
    finally:
        connection.close()
        if not keep:
            connection.creation.destroy_test_db(old, verbosity=0)


def counts() -> dict[str, int]:
    return {
        "departments": Department.objects.count(),
        "weeks": ScheduleWeek.objects.count(),
        "slots": Slot.objects.count(),
        "seats": Slot.objects.aggregate(n=django.db.models.Sum("capacity"))["n"] or 0,
        "petitions": Petition.objects.count(),
        "appointments": Appointment.objects.count(),
        "audit rows": AuditEvent.objects.count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="a few departments, as the test suite builds")
    args = parser.parse_args()
    setup_test_environment()
    old = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        began = time.perf_counter()
        timings = build(**(SMALL if args.small else FULL))
        total = time.perf_counter() - began
        print(
            f"database: {connection.vendor}; built in {total:.1f} s; "
            + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
        )
        print(", ".join(f"{k}: {v:,}" for k, v in counts().items()))
    finally:
        connection.creation.destroy_test_db(old, verbosity=0)


if __name__ == "__main__":
    main()
