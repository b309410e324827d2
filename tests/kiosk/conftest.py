import datetime as dt
import re

import pytest
from django.conf import settings
from django.utils import timezone

from appointments.booking import appointment_book
from appointments.models import PetitionCategory
from scheduler.models import ScheduleWeek, Seat, Slot
from tests import factories as f

SUMMARY = "回迁房的房产证一直办不下来。"


@pytest.fixture
def kiosk_client(client, kiosk_key):
    """A test client holding the kiosk cookie of 蓝山社区, as the setup screen leaves it."""
    client.cookies[settings.KIOSK_KEY_COOKIE] = kiosk_key
    return client


@pytest.fixture
def resident():
    return {"name": "王秀兰", "phone": f.valid_phone(), "id_number": f.valid_id_number()}


@pytest.fixture
def suggesting(published):
    """Every category suggests the published department, as the demo's mapping does."""
    PetitionCategory.objects.update(suggested_department=published)
    return published


def slot_at(department, starts_at: dt.datetime, *, capacity: int = 1, notice: int = 0) -> Slot:
    """A published slot at an exact time (for check-in, which only opens shortly before)."""
    year, week, _ = timezone.localtime(starts_at).isocalendar()
    schedule, _ = ScheduleWeek.objects.get_or_create(
        department=department, iso_year=year, iso_week=week, defaults={"status": ScheduleWeek.Status.PUBLISHED}
    )
    ScheduleWeek.objects.filter(pk=schedule.pk).update(status=ScheduleWeek.Status.PUBLISHED)
    slot = Slot.objects.create(
        department=department,
        week=schedule,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=30),
        capacity=capacity,
        min_notice_minutes=notice,
    )
    Seat.objects.bulk_create(Seat(slot=slot, number=n) for n in range(1, capacity + 1))
    return slot


@pytest.fixture
def booked_soon(kiosk, published):
    """A petition of 蓝山社区 booked into a session starting in 30 minutes (check-in is open)."""
    slot = slot_at(published, timezone.now().replace(second=7, microsecond=0) + dt.timedelta(minutes=30))
    petition = f.petition(kiosk, published, phone="13840012345")
    appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=slot.pk)
    return petition.appointments.get()


@pytest.fixture
def booked_later(kiosk, published, open_slots):
    """A petition of 蓝山社区 booked into the last open time (it can still be moved or cancelled)."""
    petition = f.petition(kiosk, published, phone="13840012345")
    appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=open_slots[-1].pk)
    return petition.appointments.get()


def walk_to_confirm(client, resident: dict, department, slot: Slot):
    """Answer every booking question on the kiosk and return the confirm page."""
    assert client.post("/kiosk/book/", resident).status_code == 302
    assert client.post("/kiosk/book/category/", {"category": "housing"}).status_code == 302
    assert client.post("/kiosk/book/summary/", {"summary": SUMMARY}).status_code == 302
    assert client.post("/kiosk/book/department/", {"department": department.code}).status_code == 302
    assert client.post("/kiosk/book/time/", {"slot": slot.pk}).status_code == 302
    response = client.get("/kiosk/book/confirm/")
    assert response.status_code == 200
    return response


def confirm_token(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


def day_of(slot: Slot) -> str:
    return timezone.localtime(slot.starts_at).date().isoformat()
