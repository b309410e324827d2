"""Which slots a resident may book now, and how many seats each has left."""

import datetime as dt

import pytest

from appointments.booking import appointment_book
from scheduler.errors import NotFound
from scheduler.models import ScheduleWeek, Slot
from scheduler.selectors import department_get, slot_list_open
from tests import factories as f

pytestmark = pytest.mark.django_db

NOW = f.local("2026-03-01 10:00")


@pytest.fixture
def week(department):
    f.weekday_rules(department, start="09:00", end="10:00", capacity=2, notice=60, window=3)
    f.publish(department, "2026-W10")
    return department


def local_starts(slots) -> list[str]:
    return [s.starts_at.astimezone(f.local("2026-01-01 00:00").tzinfo).strftime("%d %H:%M") for s in slots]


def test_it_lists_only_times_inside_the_notice_and_the_window(week):
    # A 3-day window from Sunday 10:00 reaches Wednesday 10:00; 60 minutes' notice is enough at exactly 60.
    assert local_starts(slot_list_open(department=week, now=NOW)) == [
        "02 09:00",
        "02 09:30",
        "03 09:00",
        "03 09:30",
        "04 09:00",
        "04 09:30",
    ]
    assert local_starts(slot_list_open(department=week, now=f.local("2026-03-02 08:30"))) == [
        "02 09:30",
        "03 09:00",
        "03 09:30",
        "04 09:00",
        "04 09:30",
    ]


def test_it_filters_by_local_dates(week):
    slots = slot_list_open(department=week, now=NOW, date_from=dt.date(2026, 3, 3), date_to=dt.date(2026, 3, 3))
    assert local_starts(slots) == ["03 09:00", "03 09:30"]


def test_it_counts_the_remaining_seats_and_can_leave_full_slots_out(week, kiosk):
    first = Slot.objects.filter(department=week).order_by("starts_at").first()
    for _ in range(2):
        petition = f.petition(kiosk, week)
        appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=first.pk, now=NOW)

    listed = slot_list_open(department=week, now=NOW)
    assert (listed[0].pk, listed[0].remaining) == (first.pk, 0)
    assert all(s.remaining == 2 for s in listed[1:])
    assert first.pk not in [s.pk for s in slot_list_open(department=week, now=NOW, include_full=False)]


def test_it_leaves_out_withdrawn_slots_and_unpublished_weeks(week, other_department):
    first = Slot.objects.filter(department=week).order_by("starts_at").first()
    Slot.objects.filter(pk=first.pk).update(status=Slot.Status.WITHDRAWN)
    assert first.pk not in [s.pk for s in slot_list_open(department=week, now=NOW)]

    ScheduleWeek.objects.filter(department=week).update(status=ScheduleWeek.Status.DRAFT)
    assert slot_list_open(department=week, now=NOW) == []


def test_it_finds_an_active_department_by_code(department):
    assert department_get("fangchan") == department
    department.is_active = False
    department.save()
    for code in ["fangchan", "nosuch", "", None, 12, "fang\x00chan", "x" * 1000]:
        with pytest.raises(NotFound):
            department_get(code)


def test_a_slot_reads_in_local_time(week):
    slot = Slot.objects.filter(department=week).order_by("starts_at").first()
    assert str(slot).endswith("2026-03-02 09:00")
