"""Each kiosk page runs a fixed number of SQL queries, however much data the district holds."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.booking import appointment_book
from scheduler.models import Closure, HolidayOverride
from scheduler.selectors import slot_list_open
from tests import factories as f

from .conftest import confirm_token, day_of, walk_to_confirm

pytestmark = pytest.mark.django_db

# The most any kiosk page may take: session, kiosk, and a handful of reads.
MAX_QUERIES = 10


def grow(kiosk, published, *, departments: int, petitions: int) -> None:
    """Add departments with published weeks, bookings, closures and holiday overrides."""
    for n in range(departments):
        dept = f.department(f"dept{n}", f"区第{n}局")
        f.weekday_rules(dept, capacity=3)
        f.publish_next_weeks(dept)
    free = [s for s in slot_list_open(department=published) if s.remaining][1:-1]
    for n in range(petitions):
        petition = f.petition(kiosk, published)
        slot = free[n % len(free)]
        if slot.remaining > 0:
            appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=slot.pk)
            slot.remaining -= 1
    dates = sorted({day_of(s) for s in free})
    Closure.objects.create(department=None, start_date=dates[-1], end_date=dates[-1], reason="区里统一培训")
    HolidayOverride.objects.get_or_create(date=dates[0], defaults={"kind": "working_day", "name": "调整"})


def page_queries(kiosk_client, pages: dict[str, str]) -> dict[str, int]:
    counts = {}
    for name, url in pages.items():
        with CaptureQueriesContext(connection) as queries:
            response = kiosk_client.get(url)
        assert response.status_code == 200, (name, response.status_code, response.get("Location"))
        counts[name] = len(queries)
    return counts


def test_every_kiosk_page_runs_a_constant_number_of_queries(
    client, kiosk_client, kiosk, resident, suggesting, open_slots, booked_soon
):
    # A session in the middle of every flow at once: booking answered up to confirm, a receipt,
    # a progress lookup with a chosen new time, and a check-in.
    token = confirm_token(
        walk_to_confirm(kiosk_client, {**resident, "phone": "13840012345"}, suggesting, open_slots[0])
    )
    kiosk_client.post("/kiosk/book/confirm/", {"token": token})
    walk_to_confirm(kiosk_client, _another(), suggesting, open_slots[1])
    kiosk_client.post("/kiosk/check-in/", {"query_code": booked_soon.petition.query_code})
    kiosk_client.post("/kiosk/progress/", {"query_code": booked_soon.petition.query_code, "phone_last4": "2345"})
    kiosk_client.post("/kiosk/progress/reschedule/time/", {"slot": open_slots[2].pk})
    day = day_of(open_slots[1])
    pages = {
        "start": "/kiosk/",
        "identity": "/kiosk/book/",
        "category": "/kiosk/book/category/",
        "summary": "/kiosk/book/summary/",
        "department": "/kiosk/book/department/",
        "day": "/kiosk/book/day/",
        "time": f"/kiosk/book/time/?day={day}",
        "confirm": "/kiosk/book/confirm/",
        "receipt": "/kiosk/book/receipt/",
        "progress": "/kiosk/progress/",
        "progress status": "/kiosk/progress/status/",
        "cancel": "/kiosk/progress/cancel/",
        "progress receipt": "/kiosk/progress/receipt/",
        "reschedule day": "/kiosk/progress/reschedule/",
        "reschedule time": f"/kiosk/progress/reschedule/time/?day={day}",
        "reschedule confirm": "/kiosk/progress/reschedule/confirm/",
        "check-in": "/kiosk/check-in/",
        "checked in": "/kiosk/check-in/done/",
    }
    kiosk_client.get("/kiosk/")  # the kiosk's last-seen time is written at most once a minute; not per page
    small = page_queries(kiosk_client, pages)
    with CaptureQueriesContext(connection) as setup:
        client.get("/kiosk/setup/")
    small["setup"] = len(setup)

    grow(kiosk, suggesting, departments=6, petitions=25)

    large = page_queries(kiosk_client, pages)
    with CaptureQueriesContext(connection) as setup:
        client.get("/kiosk/setup/")
    large["setup"] = len(setup)
    assert large == small
    assert max(small.values()) <= MAX_QUERIES, small


def _another() -> dict:
    return {"name": "李建国", "phone": f.valid_phone(), "id_number": f.valid_id_number()}
