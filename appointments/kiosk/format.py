"""How the kiosk writes days and times: one format on every screen, "12月3日 星期四 上午9:30" in Chinese."""

import datetime as dt

from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import pgettext


def kiosk_day(value: dt.date | dt.datetime, *, today: dt.date | None = None) -> str:
    """Write a day as "12月3日 星期四" / "Thursday 3 December", with the year only when it is not this year."""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    today = today or timezone.localdate()
    if value.year == today.year:
        return date_format(value, pgettext("kiosk day", "l j F"))
    return date_format(value, pgettext("kiosk day with year", "l j F Y"))


def _clock(value: dt.datetime) -> str:
    return f"{value.hour % 12 or 12}:{value.minute:02d}"


def _period(value: dt.datetime) -> str:
    # English needs two halves of the day; Chinese names five (凌晨, 上午, 中午, 下午, 晚上), so each gets a context.
    if value.hour < 6:
        return pgettext("kiosk time, before 6:00", "am")
    if value.hour < 12:
        return pgettext("kiosk time", "am")
    if value.hour < 13:
        return pgettext("kiosk time, 12:00 to 12:59", "pm")
    if value.hour < 18:
        return pgettext("kiosk time", "pm")
    return pgettext("kiosk time, from 18:00", "pm")


def kiosk_time(value: dt.datetime, end: dt.datetime | None = None) -> str:
    """Write a time, or a time range, on a 12-hour clock: "上午9:30–10:00" / "9:30–10:00 am"."""
    start = timezone.localtime(value)
    one = pgettext("kiosk time", "%(clock)s %(period)s")
    if end is None:
        return one % {"clock": _clock(start), "period": _period(start)}
    end = timezone.localtime(end)
    if _period(start) != _period(end):
        return "–".join(one % {"clock": _clock(t), "period": _period(t)} for t in (start, end))
    return pgettext("kiosk time range", "%(start)s–%(end)s %(period)s") % {
        "start": _clock(start),
        "end": _clock(end),
        "period": _period(start),
    }


def kiosk_when(starts_at: dt.datetime, ends_at: dt.datetime | None = None) -> str:
    """Write the day and time of a session: "12月3日 星期四 上午9:30–10:00"."""
    return pgettext("kiosk day and time", "%(day)s, %(time)s") % {
        "day": kiosk_day(starts_at),
        "time": kiosk_time(starts_at, ends_at),
    }
