"""Statutory periods counted in calendar or working days, across month ends, leap years and long holidays."""

import datetime as dt

import pytest

from scheduler.deadlines import china_working_day, china_working_days, deadline_after

D = dt.date


def weekdays_only(day: dt.date) -> bool:
    return day.weekday() < 5


# (start, days, working_days, expected) with the 2026 State Council schedule: Spring Festival 2026-02-15 … 02-23
# off (02-14 and 02-28 make-up working Saturdays); National Day 2026-10-01 … 10-07 off (09-20 and 10-10 make-up).
TABLE = [
    # Calendar days: the start day is not counted.
    (D(2026, 3, 2), 15, False, D(2026, 3, 17)),
    (D(2026, 1, 20), 15, False, D(2026, 2, 4)),  # across a month end
    (D(2026, 1, 31), 30, False, D(2026, 3, 2)),  # 2026-03-02 is a Monday
    (D(2024, 2, 14), 15, False, D(2024, 2, 29)),  # leap year: 29 February exists and is a Thursday
    (D(2023, 2, 14), 15, False, D(2023, 3, 1)),  # not a leap year
    (D(2026, 5, 15), 60, False, D(2026, 7, 14)),
    (D(2026, 5, 15), 90, False, D(2026, 8, 13)),  # 60 days and the one extension of 30
    # Ending on a weekend moves to the next working day.
    (D(2026, 3, 6), 15, False, D(2026, 3, 23)),  # would end Saturday 03-21
    # Ending inside the Spring Festival moves past it; on a make-up Saturday it stays.
    (D(2026, 2, 1), 15, False, D(2026, 2, 24)),  # 02-16 falls in the holiday; 02-24 is the first working day after
    (D(2026, 1, 30), 15, False, D(2026, 2, 14)),  # 02-14 is a make-up working Saturday
    (D(2026, 2, 13), 15, False, D(2026, 2, 28)),  # 02-28 too
    # National Day.
    (D(2026, 9, 16), 15, False, D(2026, 10, 8)),  # 10-01 in the holiday → Thursday 10-08
    (D(2026, 9, 5), 15, False, D(2026, 9, 20)),  # Sunday 09-20 is a make-up working day: the period ends on it
    (D(2026, 9, 6), 15, False, D(2026, 9, 21)),  # 09-21 is a Monday
    # Working days.
    (D(2026, 3, 2), 15, True, D(2026, 3, 23)),
    (D(2026, 2, 10), 5, True, D(2026, 2, 24)),  # 02-11, 02-12, 02-13, 02-14 (make-up Sat), then 02-24
    (D(2026, 9, 28), 3, True, D(2026, 10, 8)),  # 09-29, 09-30, then 10-08 after National Day
    (D(2026, 10, 8), 2, True, D(2026, 10, 10)),  # 10-09 and the make-up Saturday 10-10
    (D(2026, 12, 30), 3, True, D(2027, 1, 5)),  # across a year end and New Year's Day
    # Zero days: the start itself.
    (D(2026, 2, 15), 0, False, D(2026, 2, 15)),
    (D(2026, 2, 15), 0, True, D(2026, 2, 15)),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("start", "days", "working", "expected"), TABLE)
def test_a_period_ends_on_the_right_day(start, days, working, expected, settings):
    settings.HOLIDAY_CONFIRMED_YEARS = [2023, 2024, 2026]
    assert deadline_after(start, days, working_days=working, is_working_day=china_working_day) == expected
    ranged = china_working_days(start, start + dt.timedelta(days=120))
    assert deadline_after(start, days, working_days=working, is_working_day=ranged) == expected


def test_calendar_days_with_a_plain_weekday_calendar():
    assert deadline_after(D(2026, 3, 2), 60, working_days=False, is_working_day=weekdays_only) == D(2026, 5, 1)
    assert deadline_after(D(2026, 3, 3), 60, working_days=False, is_working_day=weekdays_only) == D(2026, 5, 4)


def test_working_days_with_a_plain_weekday_calendar():
    assert deadline_after(D(2026, 3, 6), 1, working_days=True, is_working_day=weekdays_only) == D(2026, 3, 9)
    assert deadline_after(D(2026, 3, 2), 10, working_days=True, is_working_day=weekdays_only) == D(2026, 3, 16)


def test_a_negative_period_is_a_programming_error():
    with pytest.raises(ValueError):
        deadline_after(D(2026, 3, 2), -1, working_days=False, is_working_day=weekdays_only)
