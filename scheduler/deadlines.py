"""Counting a period of days from a date, as statutory deadlines are counted, in calendar or working days."""

import datetime as dt
from collections.abc import Callable

from .calendar import days_info

IsWorkingDay = Callable[[dt.date], bool]


def deadline_after(start: dt.date, days: int, *, working_days: bool, is_working_day: IsWorkingDay) -> dt.date:
    """The last day of a period of `days` days that begins the day after `start`.

    In calendar days, a period that would end on a rest day (a weekend or a statutory holiday) ends on the next
    working day instead, as Chinese law counts periods (民法典 art. 201 and 203). In working days, only working
    days are counted (make-up working days count; holidays and ordinary weekends do not).
    """
    if days < 0:
        raise ValueError("A period cannot be negative.")
    if working_days:
        day, counted = start, 0
        while counted < days:
            day += dt.timedelta(days=1)
            if is_working_day(day):
                counted += 1
        return day
    day = start + dt.timedelta(days=days)
    while days and not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def china_working_day(day: dt.date) -> bool:
    """Tell whether the scheduler's calendar (holidays, make-up days, staff overrides) makes this a working day."""
    return days_info([day])[day].is_working_day


def china_working_days(first: dt.date, last: dt.date) -> IsWorkingDay:
    """A working-day test for a range of dates, classified with one read of the overrides."""
    span = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    known = {day: info.is_working_day for day, info in days_info(span).items()}

    def is_working_day(day: dt.date) -> bool:
        return known[day] if day in known else china_working_day(day)

    return is_working_day
