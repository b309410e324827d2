"""Publishing many departments' week at once gives exactly the slots and seats that publishing each one gives."""

import datetime as dt

import pytest
from django.utils import timezone

from scheduler.models import Closure, ScheduleWeek, Seat, Slot
from scheduler.publishing import week_publish, weeks_publish_bulk
from tests import factories as f


def coming_week(weeks_ahead: int = 1) -> tuple[int, int]:
    year, week, _ = (timezone.localdate() + dt.timedelta(weeks=weeks_ahead)).isocalendar()
    return year, week


def with_rules(code: str):
    department = f.department(code, f"部门{code}")
    f.rule(department, weekday=0, start="08:30", end="11:45", minutes=25, buffer=5, capacity=3)
    f.rule(department, weekday=0, start="10:00", end="12:00", minutes=30, capacity=1)  # overlaps: the first wins
    f.rule(department, weekday=2, start="14:00", end="17:00", minutes=40, capacity=2, notice=120, window=30)
    f.rule(department, weekday=4, start="09:00", end="10:00", minutes=15, capacity=5)
    return department


def shape(department) -> list[tuple]:
    return [
        (s.starts_at, s.ends_at, s.capacity, s.min_notice_minutes, s.booking_window_days, s.status, seats)
        for s, seats in (
            (s, list(Seat.objects.filter(slot=s).order_by("number").values_list("number", flat=True)))
            for s in Slot.objects.filter(department=department).order_by("starts_at")
        )
    ]


@pytest.mark.django_db
def test_the_bulk_path_publishes_the_same_slots_and_seats_as_week_publish():
    one, many = with_rules("one"), [with_rules(f"many{n}") for n in range(3)]
    year, week = coming_week()
    wednesday = dt.date.fromisocalendar(year, week, 3)
    Closure.objects.create(department=many[1], start_date=wednesday, end_date=wednesday, reason="装修")
    Closure.objects.create(department=one, start_date=wednesday, end_date=wednesday, reason="装修")
    week_publish(department=one, iso_year=year, iso_week=week, confirm_provisional_holidays=True)

    results = weeks_publish_bulk(departments=many, iso_year=year, iso_week=week, confirm_provisional_holidays=True)

    assert shape(many[1]) == shape(one) and shape(one)
    assert shape(many[0]) != shape(many[1])  # the closure is only one department's
    assert results[many[0].pk].created == Slot.objects.filter(department=many[0]).count()
    assert set(ScheduleWeek.objects.filter(department__in=many).values_list("status", flat=True)) == {"published"}
    for department in many:
        again = week_publish(department=department, iso_year=year, iso_week=week, confirm_provisional_holidays=True)
        assert (again.created, again.updated, again.removed) == (0, 0, 0)


@pytest.mark.django_db
def test_a_week_already_there_is_republished_the_careful_way():
    department = with_rules("again")
    year, week = coming_week(2)
    week_publish(department=department, iso_year=year, iso_week=week, confirm_provisional_holidays=True)
    f.rule(department, weekday=1, start="09:00", end="10:00", minutes=30, capacity=2)

    results = weeks_publish_bulk(
        departments=[department], iso_year=year, iso_week=week, confirm_provisional_holidays=True
    )

    assert results[department.pk].created == 2
    assert ScheduleWeek.objects.filter(department=department).count() == 1
