"""The shared cache of open times: reused between changes, renewed by every change, never wrong for long.

The strongest check is the random walk: after each of many changes made through the services (bookings,
cancellations, moves, offers, closures of one department and of every one, republishing with other hours,
withdrawals), the cached listing and the kiosk's day list equal what the database says at that moment.
"""

import datetime as dt
import random

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.booking import appointment_book, appointment_cancel, appointment_reschedule, slot_withdraw
from appointments.models import Appointment
from scheduler import availability_cache
from scheduler.availability_cache import OpenRows, availability_changed, open_rows_cached
from scheduler.hours import closure_delete, closure_save
from scheduler.models import Closure, ConsultationRule, HolidayOverride, ScheduleWeek, Slot
from scheduler.publishing import week_close, weeks_publish_bulk
from scheduler.selectors import day_list_availability, slot_list_open
from tests import factories as f

pytestmark = pytest.mark.django_db


def listed(department, **kwargs) -> list[tuple[int, int]]:
    return [(s.pk, s.remaining) for s in slot_list_open(department=department, **kwargs)]


def days(department, **kwargs) -> list[tuple]:
    return [
        (d.date, d.state, d.reason, [(s.pk, s.remaining) for s in d.slots])
        for d in day_list_availability(department=department, **kwargs)
    ]


def same_as_database(department) -> None:
    assert listed(department, cached=True) == listed(department)
    assert listed(department, cached=True, include_full=False) == listed(department, include_full=False)
    with availability_off():
        truth = days(department)
    assert days(department) == truth


def availability_off() -> override_settings:
    """The kiosk's day list read straight from the database (the cache turned off for a moment)."""
    return override_settings(AVAILABILITY_CACHE_SECONDS=0)


def test_a_second_listing_between_changes_asks_the_database_nothing(published):
    first = listed(published, cached=True)
    assert first

    with CaptureQueriesContext(connection) as ctx:
        again = listed(published, cached=True)
    assert again == first and len(ctx.captured_queries) == 0

    # The kiosk's day list: its calendar and its slots both kept.
    days(published)
    with CaptureQueriesContext(connection) as ctx:
        again = days(published)
    assert len(ctx.captured_queries) == 0
    with availability_off():
        assert again == days(published)


def test_a_holiday_override_renews_every_departments_day_list(published, other_department):
    day = next(d for d in day_list_availability(department=published) if d.state == "open").date
    days(published), days(other_department)

    override = HolidayOverride.objects.create(date=day, kind=HolidayOverride.Kind.HOLIDAY, name="临时休息日")
    shown = {d.date: d for d in day_list_availability(department=published)}
    assert (shown[day].state, shown[day].reason) == ("holiday", "临时休息日")
    same_as_database(published)
    same_as_database(other_department)

    override.delete()
    assert {d.date: d for d in day_list_availability(department=published)}[day].state == "open"
    same_as_database(published)


def test_a_booking_is_seen_at_once_by_the_next_listing(kiosk, published):
    slot = listed(published, cached=True)[0]
    petition = f.petition(kiosk, published)

    appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=slot[0])

    assert dict(listed(published, cached=True))[slot[0]] == slot[1] - 1
    same_as_database(published)


def test_times_that_pass_drop_out_of_a_kept_listing(published):
    now = timezone.now()
    kept = slot_list_open(department=published, cached=True, now=now)
    later = kept[0].starts_at + dt.timedelta(minutes=1)

    shown = slot_list_open(department=published, cached=True, now=later)

    assert kept[0].pk not in {s.pk for s in shown}
    assert [s.pk for s in shown] == [s.pk for s in slot_list_open(department=published, now=later)]


def test_a_closure_of_every_department_renews_every_department(officer, published, other_department):
    f.weekday_rules(other_department)
    f.publish_next_weeks(other_department)
    listed(published, cached=True), listed(other_department, cached=True)
    day = timezone.localtime(slot_list_open(department=other_department)[0].starts_at)

    closure = closure_save(
        actor=officer, closure=Closure(department=None, start_date=day.date(), end_date=day.date(), reason="停电")
    )
    same_as_database(published)
    same_as_database(other_department)
    assert all(timezone.localtime(s.starts_at).date() != day.date() for s in slot_list_open(department=published))

    closure_delete(actor=officer, closure=closure)
    same_as_database(published)
    same_as_database(other_department)


def test_closing_a_week_and_publishing_in_bulk_renew_the_listing(published, other_department):
    listed(published, cached=True)
    week = ScheduleWeek.objects.filter(department=published).order_by("iso_year", "iso_week").first()
    week_close(week=week)
    same_as_database(published)

    f.weekday_rules(other_department)
    assert listed(other_department, cached=True) == []
    today = timezone.localdate()
    for offset in (0, 7):
        year, number, _ = (today + dt.timedelta(days=offset)).isocalendar()
        weeks_publish_bulk(
            departments=[other_department], iso_year=year, iso_week=number, confirm_provisional_holidays=True
        )
    assert listed(other_department, cached=True) == listed(other_department) != []


def test_a_reader_who_read_before_a_change_committed_cannot_leave_old_times_behind(
    published, django_capture_on_commit_callbacks
):
    lower = timezone.now()
    upper = lower + dt.timedelta(days=14)
    loads = []

    def load(start):
        loads.append(start)
        return OpenRows(lower=start, upper=upper, rows=[("row", len(loads))], closed=frozenset())

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        # The writer renews the generation inside its transaction; a reader elsewhere, seeing the old rows
        # (the writer has not committed), keeps them under the new generation…
        availability_changed([published.pk])
        stale = open_rows_cached(department_id=published.pk, span=("t",), lower=lower, upper=upper, load=load)
        assert open_rows_cached(department_id=published.pk, span=("t",), lower=lower, upper=upper, load=load) == stale
    # …until the writer commits, which renews it again: the next reader loads afresh.
    fresh = open_rows_cached(department_id=published.pk, span=("t",), lower=lower, upper=upper, load=load)

    assert stale.rows == [("row", 1)] and fresh.rows == [("row", 2)]


def test_without_a_lifetime_the_cache_is_off_and_every_listing_reads_the_database(settings, published):
    settings.AVAILABILITY_CACHE_SECONDS = 0
    listed(published, cached=True)

    with CaptureQueriesContext(connection) as ctx:
        listed(published, cached=True)

    assert len(ctx.captured_queries) == 2


def test_a_kept_listing_expires_with_its_lifetime(published):
    kept = listed(published, cached=True)
    # As if another process changed a seat by a path that told nobody: only the lifetime bounds how long.
    slot_id = kept[0][0]
    Slot.objects.filter(pk=slot_id).update(capacity=1)
    assert listed(published, cached=True) == kept

    availability_cache.cache.clear()  # what the lifetime's end does
    assert listed(published, cached=True) == listed(published) != kept


@pytest.mark.parametrize("seed", [3, 17, 2026])
def test_after_each_random_change_the_cached_times_are_the_databases(
    seed, kiosk, published, officer, dept_admin, other_department
):
    rng = random.Random(seed)
    f.weekday_rules(other_department)
    f.publish_next_weeks(other_department)
    petitions = [f.petition(kiosk, published, phone=f.valid_phone(900 + n)) for n in range(12)]
    booked: dict[int, Appointment] = {}
    closures: list[Closure] = []
    today = timezone.localdate()

    def free_slot():
        free = [s for s in slot_list_open(department=published) if s.remaining]
        return rng.choice(free) if free else None

    def book():
        waiting = [p for p in petitions if p.pk not in booked]
        slot = free_slot()
        if waiting and slot:
            petition = rng.choice(waiting)
            booked[petition.pk] = appointment_book(
                actor=kiosk, petition_reference=petition.reference, slot_id=slot.pk
            ).appointment

    def cancel():
        if booked:
            pk = rng.choice(sorted(booked))
            appointment_cancel(actor=kiosk, appointment_id=booked.pop(pk).pk, reason="有事")

    def move():
        slot = free_slot()
        if booked and slot:
            pk = rng.choice(sorted(booked))
            if booked[pk].slot_id != slot.pk:
                booked[pk] = appointment_reschedule(actor=kiosk, appointment_id=booked[pk].pk, slot_id=slot.pk)

    def close():
        day = today + dt.timedelta(days=rng.randrange(0, 12))
        mine = rng.random() < 0.6
        closure = Closure(department=published if mine else None, start_date=day, end_date=day, reason="检修")
        closures.append(closure_save(actor=rng.choice([dept_admin, officer]) if mine else officer, closure=closure))

    def reopen():
        if closures:
            closure = closures.pop(rng.randrange(len(closures)))
            closure_delete(actor=officer, closure=closure)

    def republish():
        # Other hours from now on: some slots go (or are withdrawn, when booked), others are made.
        ConsultationRule.objects.filter(department=published).update(
            capacity=rng.choice([1, 2, 3]), end_time=dt.time(rng.choice([10, 11, 12]), 0)
        )
        f.publish_next_weeks(published)
        for pk, appointment in list(booked.items()):
            appointment.refresh_from_db()
            if appointment.status != Appointment.Status.BOOKED:
                booked.pop(pk)

    def withdraw():
        slot = free_slot()
        if slot:
            for cancelled in slot_withdraw(actor=officer, slot_id=slot.pk, reason="人员调整"):
                booked.pop(cancelled.petition_id, None)

    def holiday():
        # A day off, or a working day, added or taken back by staff (every department's calendar).
        day = today + dt.timedelta(days=rng.randrange(0, 12))
        found = HolidayOverride.objects.filter(date=day).first()
        if found is not None:
            found.delete()
        else:
            kind = rng.choice(list(HolidayOverride.Kind))
            HolidayOverride.objects.create(date=day, kind=kind, name="调休" if kind == "working_day" else "临时休息")

    moves = [book, book, book, cancel, move, close, reopen, republish, withdraw, holiday]
    listed(published, cached=True)
    for _ in range(18):
        rng.choice(moves)()
        same_as_database(published)
        same_as_database(other_department)
