"""The kiosk writes days and times one way: "12月3日 星期四 上午9:30–10:00", "Thursday 3 December, 9:30–10:00 am"."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import translation

from appointments.kiosk.format import kiosk_day, kiosk_time, kiosk_when

from .conftest import SUMMARY

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, 3, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("start", "chinese", "english"),
    [
        (at(9, 30), "12月3日 星期四 上午9:30–10:00", "Thursday 3 December, 9:30–10:00 am"),
        (at(11, 30), "12月3日 星期四 上午11:30–中午12:00", "Thursday 3 December, 11:30 am–12:00 pm"),
        (at(12, 30), "12月3日 星期四 中午12:30–下午1:00", "Thursday 3 December, 12:30–1:00 pm"),
        (at(14), "12月3日 星期四 下午2:00–2:30", "Thursday 3 December, 2:00–2:30 pm"),
        (at(3, 5), "12月3日 星期四 凌晨3:05–3:35", "Thursday 3 December, 3:05–3:35 am"),
        (at(19), "12月3日 星期四 晚上7:00–7:30", "Thursday 3 December, 7:00–7:30 pm"),
    ],
)
def test_a_session_is_written_the_same_way_in_both_languages(start, chinese, english):
    end = start + dt.timedelta(minutes=30)
    with translation.override("zh-hans"):
        assert kiosk_when(start, end) == chinese
    with translation.override("en"):
        assert kiosk_when(start, end) == english


def test_a_time_is_the_local_time_of_the_service_whatever_zone_it_comes_in():
    utc = at(9, 30).astimezone(dt.UTC)
    with translation.override("zh-hans"):
        assert kiosk_time(utc) == "上午9:30"
    with translation.override("en"):
        assert kiosk_time(utc) == "9:30 am"


def test_the_year_is_written_only_when_it_is_not_this_one():
    today = dt.date(2026, 11, 30)
    with translation.override("zh-hans"):
        assert kiosk_day(dt.date(2026, 12, 3), today=today) == "12月3日 星期四"
        assert kiosk_day(dt.date(2025, 12, 3), today=today) == "2025年12月3日 星期三"
    with translation.override("en"):
        assert kiosk_day(dt.date(2025, 12, 3), today=today) == "Wednesday 3 December 2025"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "day", "time"),
    [
        ("zh-hans", r"\d{1,2}月\d{1,2}日 星期.", r"(上午|中午|下午)\d{1,2}:\d{2}–"),
        ("en", r"[A-Z][a-z]+day \d{1,2} [A-Z][a-z]+", r"\d{1,2}:\d{2}–\d{1,2}:\d{2} (am|pm)"),
    ],
)
def test_the_day_and_time_screens_use_the_one_format(
    kiosk_client, resident, suggesting, open_slots, language, day, time
):
    kiosk_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    kiosk_client.post("/kiosk/book/", resident)
    kiosk_client.post("/kiosk/book/category/", {"category": "housing"})
    kiosk_client.post("/kiosk/book/summary/", {"summary": SUMMARY})
    kiosk_client.post("/kiosk/book/department/", {"department": suggesting.code})
    days = kiosk_client.get("/kiosk/book/day/").content.decode()
    first = open_slots[0]
    times = kiosk_client.get(f"/kiosk/book/time/?day={first.starts_at.astimezone(SHANGHAI).date()}").content.decode()
    kiosk_client.post("/kiosk/book/time/", {"slot": first.pk})
    confirm = kiosk_client.get("/kiosk/book/confirm/").content.decode()
    day_dates = re.findall(r'<span class="day-date">([^<]*)</span>', days)
    assert len(day_dates) == 14 and all(re.fullmatch(day, text) for text in day_dates), day_dates
    slot_times = re.findall(r'<span class="time-at">([^<]*)</span>', times)
    assert slot_times and all(re.match(time, text) for text in slot_times), slot_times
    with translation.override(language):
        assert kiosk_when(first.starts_at, first.ends_at) in confirm
    shown = re.sub(r"<[^>]*>", " ", days + times + confirm)  # what the screens show, not their links
    # Neither of the old ways: "2026-12-03" nor a zero-padded 24-hour "09:00".
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b|\b0\d:\d{2}\b", shown)
