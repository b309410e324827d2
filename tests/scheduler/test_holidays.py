"""China's statutory holidays and make-up working days decide which days hold consultations."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from scheduler.calendar import days_info, holiday_year_is_confirmed
from scheduler.errors import ProvisionalHolidayYear
from scheduler.models import HolidayOverride, HolidayYear, ScheduleWeek, Slot
from tests import factories as f

pytestmark = pytest.mark.django_db

MAKEUP_SATURDAY = dt.date(2026, 2, 14)  # 调休上班 for the Spring Festival
SPRING_FESTIVAL_MONDAY = dt.date(2026, 2, 16)
ORDINARY_WEDNESDAY = dt.date(2026, 3, 4)
ORDINARY_SATURDAY = dt.date(2026, 3, 7)


@pytest.fixture(autouse=True)
def confirmed_years(settings):
    settings.HOLIDAY_CONFIRMED_YEARS = [2025, 2026]
    settings.MAKEUP_WORKDAY_FOLLOWS_WEEKDAY = 0


@pytest.fixture
def every_weekday(department):
    """Hours on Monday to Friday, 09:00–10:00, two sessions."""
    f.weekday_rules(department, start="09:00", end="10:00")
    return department


def slot_days(department) -> set[dt.date]:
    zone = ZoneInfo("Asia/Shanghai")
    return {s.starts_at.astimezone(zone).date() for s in Slot.objects.filter(department=department)}


def week_of(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def test_it_knows_2026_02_14_is_a_make_up_working_day():
    assert days_info([MAKEUP_SATURDAY])[MAKEUP_SATURDAY].kind == "makeup_workday"
    assert days_info([MAKEUP_SATURDAY])[MAKEUP_SATURDAY].is_working_day


def test_it_knows_2026_02_16_is_a_holiday():
    info = days_info([SPRING_FESTIVAL_MONDAY])[SPRING_FESTIVAL_MONDAY]
    assert info.kind == "holiday"
    assert not info.is_working_day


def test_a_make_up_working_day_gets_consultation_hours_when_the_setting_says_so(settings, every_weekday):
    settings.CONSULT_ON_MAKEUP_WORKDAYS = True

    f.publish(every_weekday, week_of(MAKEUP_SATURDAY))

    assert MAKEUP_SATURDAY in slot_days(every_weekday)
    saturday = [s for s in Slot.objects.filter(department=every_weekday) if s.starts_at.date() == MAKEUP_SATURDAY]
    assert len(saturday) == 2  # Monday's hours: 09:00 and 09:30
    assert MAKEUP_SATURDAY + dt.timedelta(days=1) not in slot_days(every_weekday)


def test_a_make_up_working_day_follows_the_configured_weekday(settings, department):
    settings.CONSULT_ON_MAKEUP_WORKDAYS = True
    settings.MAKEUP_WORKDAY_FOLLOWS_WEEKDAY = 2
    f.rule(department, weekday=0, start="09:00", end="09:30")
    f.rule(department, weekday=2, start="15:00", end="15:30")

    f.publish(department, week_of(MAKEUP_SATURDAY))

    saturday = Slot.objects.get(starts_at__date=MAKEUP_SATURDAY)
    assert saturday.starts_at.astimezone(ZoneInfo("Asia/Shanghai")).hour == 15


def test_a_make_up_working_day_gets_no_hours_when_the_setting_is_off(settings, every_weekday):
    settings.CONSULT_ON_MAKEUP_WORKDAYS = False

    f.publish(every_weekday, week_of(MAKEUP_SATURDAY))

    assert MAKEUP_SATURDAY not in slot_days(every_weekday)
    assert MAKEUP_SATURDAY - dt.timedelta(days=1) in slot_days(every_weekday)


def test_the_spring_festival_holiday_has_no_consultation_hours(every_weekday):
    f.publish(every_weekday, week_of(SPRING_FESTIVAL_MONDAY))

    assert SPRING_FESTIVAL_MONDAY not in slot_days(every_weekday)
    # 2026-02-16 to 02-20 are all days off: the whole week is empty, but it is still published.
    assert slot_days(every_weekday) == set()
    assert ScheduleWeek.objects.get(department=every_weekday).status == ScheduleWeek.Status.PUBLISHED


def test_an_override_can_make_an_ordinary_working_day_a_day_off(every_weekday):
    HolidayOverride.objects.create(date=ORDINARY_WEDNESDAY, kind=HolidayOverride.Kind.HOLIDAY, name="区庆")

    f.publish(every_weekday, week_of(ORDINARY_WEDNESDAY))

    assert ORDINARY_WEDNESDAY not in slot_days(every_weekday)
    assert ORDINARY_WEDNESDAY - dt.timedelta(days=1) in slot_days(every_weekday)


def test_an_override_can_make_a_statutory_holiday_a_working_day(every_weekday):
    HolidayOverride.objects.create(date=SPRING_FESTIVAL_MONDAY, kind=HolidayOverride.Kind.WORKING_DAY, name="值班")

    f.publish(every_weekday, week_of(SPRING_FESTIVAL_MONDAY))

    assert slot_days(every_weekday) == {SPRING_FESTIVAL_MONDAY}


def test_an_override_can_make_a_weekend_day_a_make_up_working_day(settings, every_weekday):
    settings.CONSULT_ON_MAKEUP_WORKDAYS = True
    HolidayOverride.objects.create(date=ORDINARY_SATURDAY, kind=HolidayOverride.Kind.WORKING_DAY, name="补班")

    f.publish(every_weekday, week_of(ORDINARY_SATURDAY))

    assert days_info([ORDINARY_SATURDAY])[ORDINARY_SATURDAY].kind == "makeup_workday"
    assert ORDINARY_SATURDAY in slot_days(every_weekday)


def test_it_refuses_to_publish_into_an_unannounced_year_without_confirmation(every_weekday):
    with pytest.raises(ProvisionalHolidayYear) as excinfo:
        f.publish(every_weekday, "2028-W10")

    assert excinfo.value.field == "confirm_provisional_holidays"
    assert "2028" in str(excinfo.value)
    assert not ScheduleWeek.objects.exists()
    assert not Slot.objects.exists()


def test_it_publishes_into_an_unannounced_year_when_confirmed_and_says_so(every_weekday):
    result = f.publish(every_weekday, "2028-W10", confirm_provisional_holidays=True)

    assert result.provisional_years == [2028]
    assert result.week.provisional_holidays_confirmed is True
    assert Slot.objects.filter(department=every_weekday).count() == 10


def test_a_week_reaching_into_an_unannounced_year_is_provisional(every_weekday):
    # 2026-W53 runs from Monday 2026-12-28 to Sunday 2027-01-03.
    with pytest.raises(ProvisionalHolidayYear) as excinfo:
        f.publish(every_weekday, "2026-W53")
    assert "2027" in str(excinfo.value)


def test_a_holiday_year_row_marks_a_year_as_announced(every_weekday):
    assert not holiday_year_is_confirmed(2028)
    HolidayYear.objects.create(year=2028, announced_on=dt.date(2027, 11, 4))

    result = f.publish(every_weekday, "2028-W10")

    assert holiday_year_is_confirmed(2028)
    assert result.provisional_years == []
    assert result.week.provisional_holidays_confirmed is False


def test_the_confirmed_years_setting_marks_a_year_as_announced(settings, every_weekday):
    settings.HOLIDAY_CONFIRMED_YEARS = [2026, 2028]

    result = f.publish(every_weekday, "2028-W10")

    assert result.provisional_years == []
