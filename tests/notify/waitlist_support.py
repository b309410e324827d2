"""Builders for the waiting-list tests: a department whose only times are taken, and residents who wait for it."""

import datetime as dt

import pytest
from django.utils import timezone, translation

from appointments.booking import appointment_book
from appointments.models import Appointment, Petition
from appointments.notify.models import WaitlistEntry
from appointments.notify.waitlist import waitlist_join
from departments.services import Actor
from scheduler.models import ScheduleWeek, Seat, Slot
from tests import factories as f

# Residents of varied names, so that a search of messages for a name means something.
NAMES = ["李建国", "张伟", "刘芳", "欧阳娜娜", "阿依古丽·买买提", "赵桂芝", "孙小红"]


def slot_at(department, starts_at: dt.datetime, *, capacity: int = 1, notice: int = 0, window: int = 14) -> Slot:
    """A published slot of a department at an exact time, with its seats."""
    year, week, _day = timezone.localtime(starts_at).isocalendar()
    schedule, _created = ScheduleWeek.objects.get_or_create(
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
        booking_window_days=window,
    )
    Seat.objects.bulk_create(Seat(slot=slot, number=n) for n in range(1, capacity + 1))
    return slot


def in_days(days: float, *, hour: int = 9, minute: int = 30) -> dt.datetime:
    """A time some days ahead, at a given clock time in the service's zone."""
    day = timezone.localdate() + dt.timedelta(days=int(days))
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_current_timezone())


def book(kiosk: Actor, department, slot: Slot, *, name: str = "刘芳") -> Appointment:
    """Another resident books a seat of the slot."""
    petition = f.petition(kiosk, department, name=name)
    return appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=slot.pk).appointment


def wait(kiosk: Actor, department, *, name: str, now: dt.datetime | None = None) -> WaitlistEntry:
    """A resident files a matter with the department and joins its waiting list."""
    petition = f.petition(kiosk, department, name=name, phone=f.valid_phone())
    return waitlist_join(actor=kiosk, petition=petition, now=now)


def fresh(entry: WaitlistEntry) -> WaitlistEntry:
    return WaitlistEntry.objects.select_related("offer__slot", "petition").get(pk=entry.pk)


def petition_of(entry: WaitlistEntry) -> Petition:
    return Petition.objects.select_related("department", "resident").get(pk=entry.petition_id)


@pytest.fixture(name="full")
def full_fixture(kiosk, department):
    """区房产局 with one time, two days ahead, and its only seat taken: nothing free in the booking window."""
    slot = slot_at(department, in_days(2))
    taken = book(kiosk, department, slot, name="张伟")
    return slot, taken


@pytest.fixture(name="in_chinese")
def in_chinese_fixture():
    """Messages as the kiosk and staff pages say them by default (whatever an earlier test left active)."""
    with translation.override("zh-hans"):
        yield
