"""Publishing an ISO week turns a department's weekly rules into slots and seats, idempotently."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from appointments.booking import appointment_book, appointment_cancel
from appointments.models import Appointment
from scheduler.errors import Conflict, InvalidInput, SlotFull
from scheduler.models import Closure, ScheduleWeek, Seat, Slot
from scheduler.publishing import iso_week_parse, week_close
from scheduler.selectors import slot_list_open
from tests import factories as f

pytestmark = pytest.mark.django_db

WEEK = "2026-W10"  # Monday 2026-03-02 to Sunday 2026-03-08: no holidays, no make-up days
MONDAY = dt.date(2026, 3, 2)
BEFORE_THE_WEEK = f.local("2026-03-01 10:00")


def starts(slots) -> list[str]:
    return [s.starts_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%a %H:%M") for s in slots]


def slots_of(department) -> list[Slot]:
    return list(Slot.objects.filter(department=department).order_by("starts_at"))


def book(actor, department, slot, **kwargs):
    petition = f.petition(actor, department, **kwargs)
    return appointment_book(actor=actor, petition_reference=petition.reference, slot_id=slot.pk, now=BEFORE_THE_WEEK)


def test_it_cuts_sessions_from_the_rule_with_buffers_and_one_seat_per_capacity(department):
    f.rule(department, weekday=0, start="09:00", end="11:00", minutes=30, buffer=10, capacity=3)

    result = f.publish(department, WEEK)

    slots = slots_of(department)
    assert starts(slots) == ["Mon 09:00", "Mon 09:40", "Mon 10:20"]
    assert all(s.ends_at - s.starts_at == dt.timedelta(minutes=30) for s in slots)
    assert all(s.capacity == 3 for s in slots)
    for slot in slots:
        assert list(slot.seats.values_list("number", flat=True)) == [1, 2, 3]
    assert result.created == 3 and result.updated == 0 and result.removed == 0
    assert result.week.status == ScheduleWeek.Status.PUBLISHED
    assert result.week.label == WEEK


def test_it_stores_aware_datetimes_at_the_local_time_in_asia_shanghai(department):
    f.rule(department, weekday=2, start="14:00", end="14:30")

    f.publish(department, WEEK)

    slot = Slot.objects.get(department=department)
    assert slot.starts_at.tzinfo is not None
    assert slot.starts_at == dt.datetime(2026, 3, 4, 6, 0, tzinfo=dt.UTC)
    local = slot.starts_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert (local.date(), local.hour, local.minute) == (dt.date(2026, 3, 4), 14, 0)


def test_it_copies_notice_and_window_from_the_rule_into_the_slot(department):
    f.rule(department, weekday=0, start="09:00", end="09:30", notice=120, window=7)

    f.publish(department, WEEK)

    slot = Slot.objects.get(department=department)
    assert (slot.min_notice_minutes, slot.booking_window_days) == (120, 7)


def test_it_skips_a_day_closed_for_one_department_only(department, other_department):
    for dept in (department, other_department):
        f.weekday_rules(dept, start="09:00", end="10:00")
    Closure.objects.create(department=department, start_date=MONDAY, end_date=MONDAY, reason="staff training")

    f.publish(department, WEEK)
    f.publish(other_department, WEEK)

    assert "Mon 09:00" not in starts(slots_of(department))
    assert "Tue 09:00" in starts(slots_of(department))
    assert "Mon 09:00" in starts(slots_of(other_department))


def test_it_skips_days_closed_for_every_department(department, other_department):
    for dept in (department, other_department):
        f.weekday_rules(dept, start="09:00", end="10:00")
    Closure.objects.create(
        department=None, start_date=MONDAY + dt.timedelta(days=1), end_date=MONDAY + dt.timedelta(days=2), reason="x"
    )

    f.publish(department, WEEK)
    f.publish(other_department, WEEK)

    for dept in (department, other_department):
        days = {s.split()[0] for s in starts(slots_of(dept))}
        assert days == {"Mon", "Thu", "Fri"}


def test_it_applies_a_rule_only_between_its_effective_dates(department):
    f.weekday_rules(
        department, start="09:00", end="09:30", effective_from=dt.date(2026, 1, 1), effective_until=dt.date(2026, 3, 3)
    )
    f.weekday_rules(department, start="15:00", end="15:30", effective_from=dt.date(2026, 3, 5))
    f.rule(department, weekday=0, start="17:00", end="17:30", effective_from=dt.date(2026, 3, 9))

    f.publish(department, WEEK)

    assert starts(slots_of(department)) == ["Mon 09:00", "Tue 09:00", "Thu 15:00", "Fri 15:00"]


def test_it_lets_the_first_rule_win_when_two_rules_give_the_same_start(department):
    f.rule(department, weekday=0, start="09:00", end="10:00", capacity=2)
    f.rule(department, weekday=0, start="09:30", end="10:30", capacity=4)

    f.publish(department, WEEK)

    assert starts(slots_of(department)) == ["Mon 09:00", "Mon 09:30", "Mon 10:00"]
    assert Slot.objects.filter(department=department).count() == 3


def test_publishing_the_same_week_twice_changes_nothing(department):
    f.weekday_rules(department, capacity=2)
    first = f.publish(department, WEEK)
    slot_ids = set(Slot.objects.values_list("pk", flat=True))
    seat_ids = set(Seat.objects.values_list("pk", flat=True))

    second = f.publish(department, WEEK)

    assert first.created == 20
    assert (second.created, second.updated, second.removed, second.kept_booked) == (0, 0, 0, [])
    assert second.week.pk == first.week.pk
    assert set(Slot.objects.values_list("pk", flat=True)) == slot_ids
    assert set(Seat.objects.values_list("pk", flat=True)) == seat_ids
    assert ScheduleWeek.objects.filter(department=department).count() == 1


def test_republishing_after_a_rule_change_adds_and_removes_free_slots(department):
    rule = f.rule(department, weekday=0, start="09:00", end="10:00")
    f.publish(department, WEEK)
    kept = Slot.objects.get(department=department, starts_at=f.local("2026-03-02 09:00"))

    rule.start_time, rule.end_time = dt.time(9, 0), dt.time(9, 30)
    rule.save()
    f.rule(department, weekday=1, start="09:00", end="09:30")
    result = f.publish(department, WEEK)

    assert starts(slots_of(department)) == ["Mon 09:00", "Tue 09:00"]
    assert (result.created, result.removed) == (1, 1)
    assert Slot.objects.filter(pk=kept.pk).exists()


def test_republishing_never_drops_a_booked_slot_the_rules_no_longer_give(department, kiosk):
    rule = f.rule(department, weekday=0, start="09:00", end="10:00")
    f.publish(department, WEEK)
    late = Slot.objects.get(department=department, starts_at=f.local("2026-03-02 09:30"))
    booking = book(kiosk, department, late)

    rule.end_time = dt.time(9, 30)
    rule.save()
    result = f.publish(department, WEEK)

    assert [s.pk for s in result.kept_booked] == [late.pk]
    assert result.removed == 0
    booking.appointment.refresh_from_db()
    assert booking.appointment.status == Appointment.Status.BOOKED
    assert Slot.objects.get(pk=late.pk).status == Slot.Status.OPEN


def test_republishing_takes_out_a_slot_whose_only_booking_was_cancelled_and_keeps_its_history(department, kiosk):
    rule = f.rule(department, weekday=0, start="09:00", end="10:00")
    f.publish(department, WEEK)
    late = Slot.objects.get(department=department, starts_at=f.local("2026-03-02 09:30"))
    booking = book(kiosk, department, late)
    appointment_cancel(actor=kiosk, appointment_id=booking.appointment.pk, now=BEFORE_THE_WEEK)

    rule.end_time = dt.time(9, 30)
    rule.save()
    result = f.publish(department, WEEK)

    assert result.removed == 1 and result.kept_booked == []
    assert late.pk not in [s.pk for s in slot_list_open(department=department, now=BEFORE_THE_WEEK)]
    cancelled = Appointment.objects.get(pk=booking.appointment.pk)
    assert cancelled.status == Appointment.Status.CANCELLED and cancelled.slot_id == late.pk


def test_a_slot_taken_out_by_publishing_comes_back_when_the_rules_give_it_again(department, kiosk):
    rule = f.rule(department, weekday=0, start="09:00", end="10:00")
    f.publish(department, WEEK)
    late = Slot.objects.get(department=department, starts_at=f.local("2026-03-02 09:30"))
    booking = book(kiosk, department, late)
    appointment_cancel(actor=kiosk, appointment_id=booking.appointment.pk, now=BEFORE_THE_WEEK)
    rule.end_time = dt.time(9, 30)
    rule.save()
    f.publish(department, WEEK)

    rule.end_time = dt.time(10, 0)
    rule.save()
    result = f.publish(department, WEEK)

    assert (result.created, result.updated) == (0, 1)
    assert late.pk in [s.pk for s in slot_list_open(department=department, now=BEFORE_THE_WEEK)]


def test_shrinking_capacity_never_removes_a_taken_seat(department, kiosk):
    rule = f.rule(department, weekday=0, start="09:00", end="10:00", capacity=3)
    f.publish(department, WEEK)
    first = Slot.objects.get(department=department, starts_at=f.local("2026-03-02 09:00"))
    one = book(kiosk, department, first)
    two = book(kiosk, department, first)
    appointment_cancel(actor=kiosk, appointment_id=one.appointment.pk, now=BEFORE_THE_WEEK)
    assert two.appointment.seat.number == 2

    rule.capacity = 1
    rule.save()
    result = f.publish(department, WEEK)

    first.refresh_from_db()
    assert first.capacity == 2
    assert list(first.seats.values_list("number", flat=True)) == [1, 2]
    assert Seat.objects.filter(pk=two.appointment.seat_id).exists()
    second = Slot.objects.get(department=department, starts_at=f.local("2026-03-02 09:30"))
    assert second.capacity == 1
    assert list(second.seats.values_list("number", flat=True)) == [1]
    assert result.updated == 2


def test_shrinking_capacity_past_a_seat_with_a_cancelled_booking_leaves_only_capacity_bookable(department, kiosk):
    rule = f.rule(department, weekday=0, start="09:00", end="09:30", capacity=2)
    f.publish(department, WEEK)
    slot = Slot.objects.get(department=department)
    book(kiosk, department, slot)
    second = book(kiosk, department, slot)
    appointment_cancel(actor=kiosk, appointment_id=second.appointment.pk, now=BEFORE_THE_WEEK)

    rule.capacity = 1
    rule.save()
    f.publish(department, WEEK)

    slot.refresh_from_db()
    assert slot.capacity == 1
    assert [s.remaining for s in slot_list_open(department=department, now=BEFORE_THE_WEEK)] == [0]
    with pytest.raises(SlotFull):
        book(kiosk, department, slot)
    assert Appointment.objects.filter(slot=slot, status=Appointment.Status.BOOKED).count() == 1


def test_growing_capacity_adds_seats_to_existing_slots(department):
    rule = f.rule(department, weekday=0, start="09:00", end="09:30", capacity=1)
    f.publish(department, WEEK)
    slot = Slot.objects.get(department=department)

    rule.capacity = 3
    rule.save()
    f.publish(department, WEEK)

    slot.refresh_from_db()
    assert slot.capacity == 3
    assert list(slot.seats.values_list("number", flat=True)) == [1, 2, 3]


def test_republishing_does_not_reopen_a_withdrawn_slot(department, officer):
    from appointments.booking import slot_withdraw

    f.rule(department, weekday=0, start="09:00", end="09:30")
    f.publish(department, WEEK)
    slot = Slot.objects.get(department=department)
    slot_withdraw(actor=officer, slot_id=slot.pk, reason="部门会议", now=BEFORE_THE_WEEK)

    f.publish(department, WEEK)

    slot.refresh_from_db()
    assert slot.status == Slot.Status.WITHDRAWN


def test_it_refuses_to_publish_a_closed_week(department):
    f.rule(department, weekday=0)
    result = f.publish(department, WEEK)
    week_close(week=result.week)

    with pytest.raises(Conflict):
        f.publish(department, WEEK)
    assert ScheduleWeek.objects.get(pk=result.week.pk).status == ScheduleWeek.Status.CLOSED


def test_it_records_who_published_and_when(department, dept_admin):
    f.rule(department, weekday=0)

    result = f.publish(department, WEEK, published_by=dept_admin.staff.user)

    week = ScheduleWeek.objects.get(pk=result.week.pk)
    assert week.published_by == dept_admin.staff.user
    assert week.published_at is not None


@pytest.mark.parametrize(
    "value, today",
    [
        ("2026-W10", dt.date(2026, 3, 1)),
        ("2026-W01", dt.date(2025, 12, 29)),
        ("2026-W53", dt.date(2026, 3, 1)),
        ("2020-W53", dt.date(2020, 12, 30)),
        ("2028-W52", dt.date(2026, 1, 1)),
    ],
)
def test_it_parses_iso_weeks_that_exist_and_have_not_ended(value, today):
    year, week = iso_week_parse(value, today=today)
    assert f"{year}-W{week:02d}" == value


@pytest.mark.parametrize(
    "value",
    [
        "2026-W54",
        "2025-W53",
        "2026-W00",
        "abc",
        "",
        None,
        202610,
        "2026-W10\n",
        "2026-10",
        "2026-W1",
        "2026W10",
        " 2026-W10",
        "2026-w10",
        "２026-W51",
        "2026-W５1",
        "٢٠٢٦-W51",
        "2026-W51\x00",
        "\u202e2026-W51",
    ],
)
def test_it_rejects_a_week_that_is_malformed_or_does_not_exist(value):
    with pytest.raises(InvalidInput) as excinfo:
        iso_week_parse(value, today=dt.date(2026, 3, 1))
    assert excinfo.value.field == "week"


@pytest.mark.parametrize("value", ["2026-W09", "2020-W53", "0001-W01", "2025-W52"])
def test_it_refuses_a_week_that_has_already_ended(value):
    with pytest.raises(InvalidInput) as excinfo:
        iso_week_parse(value, today=dt.date(2026, 3, 2))
    assert excinfo.value.field == "week"


def test_the_current_week_may_still_be_published_on_its_sunday():
    assert iso_week_parse("2026-W10", today=dt.date(2026, 3, 8)) == (2026, 10)
    with pytest.raises(InvalidInput):
        iso_week_parse("2026-W10", today=dt.date(2026, 3, 9))


@pytest.mark.parametrize("value", ["2029-W01", "9999-W52", "2100-W01"])
def test_it_refuses_a_week_more_than_two_years_ahead(value):
    with pytest.raises(InvalidInput, match="2025") as excinfo:
        iso_week_parse(value, today=dt.date(2026, 3, 2))
    assert excinfo.value.field == "week"


def test_the_years_follow_the_iso_year_not_the_calendar_year():
    # 2027-01-01 is a Friday of ISO week 2026-W53: the current ISO year is still 2026.
    assert iso_week_parse("2028-W52", today=dt.date(2027, 1, 1)) == (2028, 52)
    with pytest.raises(InvalidInput):
        iso_week_parse("2029-W01", today=dt.date(2027, 1, 1))


def test_a_week_is_checked_against_the_day_in_asia_shanghai(monkeypatch):
    # 2026-03-08 17:00 UTC is already Monday 2026-03-09 01:00 in Shanghai: week 10 has ended there.
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 3, 8, 17, 0, tzinfo=dt.UTC))
    with pytest.raises(InvalidInput):
        iso_week_parse("2026-W10")
    assert iso_week_parse("2026-W11") == (2026, 11)


@pytest.mark.parametrize("value", ["２026-W51", "2026-W５1"])
def test_a_week_in_full_width_digits_is_refused_with_a_message_that_says_how_to_write_it(value):
    with pytest.raises(InvalidInput, match="0–9"):
        iso_week_parse(value, today=dt.date(2026, 3, 1))
