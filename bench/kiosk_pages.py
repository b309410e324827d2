"""Benchmark the kiosk pages: bytes on first load, server time at demo size, SQL queries at two data sizes.

Run:  .venv/bin/python bench/kiosk_pages.py
      It loads the demo district (make demo's seed_demo) into a throwaway SQLite file, walks every kiosk
      screen with Django's test client (in-process: the server's own time, no network), then adds 20 departments
      with published weeks and 600 bookings and counts the queries again. KIOSK_BENCH_DATABASE_URL=postgres://...
      points it at a scratch PostgreSQL database instead (its tables are dropped and re-created).
Bytes are what a kiosk with an empty cache downloads for the page: the HTML plus every stylesheet and
script it links, uncompressed (the figure with gzip is shown beside it).
"""

import datetime as dt
import gzip
import os
import re
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
_scratch = tempfile.TemporaryDirectory(prefix="kiosk-bench-")
os.environ["DATABASE_URL"] = os.environ.get("KIOSK_BENCH_DATABASE_URL") or f"sqlite:///{_scratch.name}/bench.sqlite3"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scheduler.test_settings")
os.environ.setdefault("TASKS_BACKEND", "django.tasks.backends.dummy.DummyBackend")

import django  # noqa: E402

warnings.filterwarnings("ignore", message="No directory at")  # staticfiles/ exists only after collectstatic

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from appointments.booking import appointment_book  # noqa: E402
from appointments.models import Appointment, Petition  # noqa: E402
from departments.models import Department, Kiosk  # noqa: E402
from departments.services import Actor, kiosk_key_rotate  # noqa: E402
from scheduler.errors import DomainError  # noqa: E402
from scheduler.models import ScheduleWeek, Seat, Slot  # noqa: E402
from scheduler.selectors import slot_list_open  # noqa: E402
from tests import factories as f  # noqa: E402

RUNS = 30
ASSET = re.compile(r'<(?:link[^>]+href|script[^>]+src)="([^"]+\.(?:css|js))"')


def soon_booking(kiosk: Kiosk, department: Department) -> Petition:
    """A booking at 蓝山社区 starting in 30 minutes, so that the check-in screens have something to show."""
    starts = timezone.now().replace(second=11, microsecond=0) + dt.timedelta(minutes=30)
    year, week, _ = timezone.localtime(starts).isocalendar()
    schedule, _ = ScheduleWeek.objects.get_or_create(department=department, iso_year=year, iso_week=week)
    ScheduleWeek.objects.filter(pk=schedule.pk).update(status=ScheduleWeek.Status.PUBLISHED)
    slot = Slot.objects.create(
        department=department,
        week=schedule,
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=30),
        capacity=1,
        min_notice_minutes=0,
    )
    Seat.objects.create(slot=slot, number=1)
    actor = Actor(kiosk=kiosk)
    petition = f.petition(actor, department, phone="13840012345")
    appointment_book(actor=actor, petition_reference=petition.reference, slot_id=slot.pk)
    return petition


def open_slots(department: Department) -> list[Slot]:
    return [s for s in slot_list_open(department=department) if s.remaining]


def prepare(client: Client, kiosk: Kiosk, department: Department) -> dict[str, str]:
    """Put one kiosk session in the middle of every flow and return the pages to measure."""
    slots = open_slots(department)
    first, second = slots[0], slots[1]
    resident = {"name": "王秀兰", "phone": "13998765432", "id_number": f.valid_id_number()}
    client.post("/kiosk/book/", resident)
    client.post("/kiosk/book/category/", {"category": "housing"})
    client.post("/kiosk/book/summary/", {"summary": "回迁房的房产证一直办不下来。"})
    client.post("/kiosk/book/department/", {"department": department.code})
    client.post("/kiosk/book/time/", {"slot": first.pk})
    token = re.search(r'name="token" value="([^"]+)"', client.get("/kiosk/book/confirm/").content.decode()).group(1)
    assert client.post("/kiosk/book/confirm/", {"token": token}).status_code == 302
    client.post("/kiosk/book/", {**resident, "id_number": f.valid_id_number()})
    client.post("/kiosk/book/category/", {"category": "housing"})
    client.post("/kiosk/book/summary/", {"summary": "小区保洁公司拖欠我两个月工资。"})
    client.post("/kiosk/book/department/", {"department": department.code})
    client.post("/kiosk/book/time/", {"slot": second.pk})
    soon = soon_booking(kiosk, department)
    assert client.post("/kiosk/check-in/", {"query_code": soon.query_code}).status_code == 302
    assert client.post("/kiosk/progress/", {"query_code": soon.query_code, "phone_last4": "2345"}).status_code == 302
    client.post("/kiosk/progress/reschedule/time/", {"slot": slots[2].pk})
    day = timezone.localtime(second.starts_at).date().isoformat()
    return {
        "Start": "/kiosk/",
        "Who are you": "/kiosk/book/",
        "Category": "/kiosk/book/category/",
        "Summary": "/kiosk/book/summary/",
        "Department": "/kiosk/book/department/",
        "Day": "/kiosk/book/day/",
        "Time": f"/kiosk/book/time/?day={day}",
        "Confirm": "/kiosk/book/confirm/",
        "Receipt (with QR)": "/kiosk/book/receipt/",
        "Progress lookup": "/kiosk/progress/",
        "Progress": "/kiosk/progress/status/",
        "Cancel": "/kiosk/progress/cancel/",
        "Reschedule: day": "/kiosk/progress/reschedule/",
        "Reschedule: time": f"/kiosk/progress/reschedule/time/?day={day}",
        "Reschedule: confirm": "/kiosk/progress/reschedule/confirm/",
        "Check in": "/kiosk/check-in/",
        "Checked in": "/kiosk/check-in/done/",
    }


def first_load_bytes(client: Client, url: str) -> tuple[int, int]:
    """Bytes of the page and every stylesheet and script it links: (raw, gzip)."""
    html = client.get(url).content
    bodies = [html]
    for asset in sorted(set(ASSET.findall(html.decode()))):
        response = client.get(asset)
        bodies.append(b"".join(response.streaming_content) if response.streaming else response.content)
    return sum(len(b) for b in bodies), sum(len(gzip.compress(b)) for b in bodies)


def server_ms(client: Client, url: str) -> tuple[float, float]:
    timings = []
    for _ in range(RUNS):
        start = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def queries(client: Client, pages: dict[str, str]) -> dict[str, int]:
    counts = {}
    for name, url in pages.items():
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        counts[name] = len(captured)
    return counts


def grow(kiosk: Kiosk, *, departments: int, bookings: int) -> None:
    """Add departments with published weeks (thousands of slots) and hundreds of bookings."""
    for n in range(departments):
        dept = f.department(f"bench{n:02d}", f"区测试局{n}")
        f.weekday_rules(dept, capacity=4, start="08:00", end="17:00", minutes=20)
        f.publish_next_weeks(dept)
    actor = Actor(kiosk=kiosk)
    target = bookings
    departments = list(Department.objects.filter(code__startswith="bench"))
    made = 0
    for dept in departments:
        for slot in open_slots(dept):
            for _seat in range(slot.remaining):
                if made >= target:
                    return
                petition = f.petition(actor, dept, category="other")
                try:
                    appointment_book(actor=actor, petition_reference=petition.reference, slot_id=slot.pk)
                except DomainError:
                    continue
                made += 1


def main() -> None:
    if connection.vendor == "postgresql":
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    call_command("seed_demo", quiet_logins=True)
    kiosk = Kiosk.objects.select_related("community").get(community__name="蓝山社区")
    key = kiosk_key_rotate(kiosk=kiosk)
    department = Department.objects.get(code="fangchan")

    client = Client()
    client.cookies[settings.KIOSK_KEY_COOKIE] = key
    pages = prepare(client, kiosk, department)
    client.get("/kiosk/")  # warm up: templates, translations, the kiosk's last-seen write
    demo_size = (Petition.objects.count(), Appointment.objects.count(), Slot.objects.count())

    rows = []
    for name, url in pages.items():
        raw, packed = first_load_bytes(client, url)
        median, p95 = server_ms(client, url)
        rows.append((name, url, raw, packed, median, p95))
    small = queries(client, pages)
    grow(kiosk, departments=20, bookings=600)
    large_size = (Petition.objects.count(), Appointment.objects.count(), Slot.objects.count())
    large = queries(client, pages)

    print(f"database: {connection.vendor}; {RUNS} requests per page, in-process (no network)")
    print(f"demo size: {demo_size[0]} petitions, {demo_size[1]} appointments, {demo_size[2]} slots")
    print(f"grown:     {large_size[0]} petitions, {large_size[1]} appointments, {large_size[2]} slots")
    print()
    print("| page | first load (HTML+CSS+JS) | gzip | server median | p95 | queries (demo) | queries (grown) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, _url, raw, packed, median, p95 in rows:
        print(
            f"| {name} | {raw / 1024:.1f} KB | {packed / 1024:.1f} KB | {median:.1f} ms | {p95:.1f} ms "
            f"| {small[name]} | {large[name]} |"
        )
    worst_bytes = max(r[2] for r in rows) / 1024
    worst_ms = max(r[4] for r in rows)
    constant = small == large
    print()
    print(f"largest page {worst_bytes:.1f} KB (budget 150 KB); slowest median {worst_ms:.1f} ms (budget 50 ms); ")
    print(f"query counts {'identical' if constant else 'DIFFERENT'} at both sizes")
    if worst_bytes > 150 or worst_ms > 50 or not constant:
        sys.exit(1)


if __name__ == "__main__":
    main()
