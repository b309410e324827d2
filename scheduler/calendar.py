"""Which days hold consultations: China's statutory holidays and make-up working days, with overrides."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import holidays
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import HolidayOverride, HolidayYear


@dataclass(frozen=True)
class DayInfo:
    date: dt.date
    kind: str  # "workday", "weekend", "holiday", "makeup_workday"
    name: str = ""

    @property
    def is_working_day(self) -> bool:
        return self.kind in ("workday", "makeup_workday")


@lru_cache(maxsize=32)
def _china(year: int) -> holidays.HolidayBase:
    return holidays.China(years=year)


def holiday_year_is_confirmed(year: int) -> bool:
    """Tell whether the State Council's schedule for this year is known (not a rule-based guess)."""
    return year in settings.HOLIDAY_CONFIRMED_YEARS or HolidayYear.objects.filter(year=year).exists()


def days_info(days: list[dt.date], *, overrides: Iterable[HolidayOverride] | None = None) -> dict[dt.date, DayInfo]:
    """Classify each day, applying staff overrides over the `holidays` package.

    `overrides` are the staff's overrides among these days when the caller has already read them (the kiosk's day
    list reads them together with the closures and published weeks).
    """
    read = HolidayOverride.objects.filter(date__in=days) if overrides is None else overrides
    by_date = {o.date: o for o in read}
    result = {}
    for day in days:
        override = by_date.get(day)
        if override is not None:
            kind = (
                "holiday"
                if override.kind == HolidayOverride.Kind.HOLIDAY
                else ("makeup_workday" if day.weekday() >= 5 else "workday")
            )
            result[day] = DayInfo(day, kind, override.name)
            continue
        calendar = _china(day.year)
        if day in calendar:
            result[day] = DayInfo(day, "holiday", calendar.get(day) or "")
        elif day.weekday() >= 5 and day in calendar.weekend_workdays:
            result[day] = DayInfo(day, "makeup_workday", str(_("Make-up working day")))
        elif day.weekday() >= 5:
            result[day] = DayInfo(day, "weekend")
        else:
            result[day] = DayInfo(day, "workday")
    return result


def consultation_weekday(info: DayInfo) -> int | None:
    """Return whose weekday's rules apply on this day, or None when no hours run."""
    if info.kind == "holiday":
        return None
    if info.kind == "makeup_workday":
        if not settings.CONSULT_ON_MAKEUP_WORKDAYS:
            return None
        return settings.MAKEUP_WORKDAY_FOLLOWS_WEEKDAY
    return info.date.weekday()
