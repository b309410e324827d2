"""The reads and the one service the kiosk added: filing and booking in one step, days with their state."""

import datetime as dt

import pytest
from django.utils import timezone

from appointments.booking import appointment_book, petition_file_and_book
from appointments.models import Appointment, IdempotencyRecord, Petition
from scheduler.errors import InvalidInput, SlotFull
from scheduler.models import Closure, HolidayOverride
from scheduler.selectors import day_list_availability, slot_list_nearest_free
from tests import factories as f

from .conftest import day_of

pytestmark = pytest.mark.django_db


def file_and_book(actor, department, slot, key="k-1", **overrides):
    values = {
        "name": "王秀兰",
        "phone": "13840012345",
        "id_number": "210100194703150025",
        "category": "housing",
        "summary": "回迁房的房产证一直办不下来。",
        "department": department.code,
    }
    values.update(overrides)
    return petition_file_and_book(actor=actor, slot_id=slot.pk, idempotency_key=key, **values)


def test_filing_and_booking_happen_together(kiosk, published, open_slots):
    result = file_and_book(kiosk, published, open_slots[0])
    appointment = result.appointment
    assert not result.replayed and appointment.status == Appointment.Status.BOOKED
    assert appointment.petition.status == Petition.Status.SCHEDULED
    assert appointment.petition.community == kiosk.kiosk.community and appointment.kiosk == kiosk.kiosk


def test_when_the_seat_is_gone_nothing_is_filed(kiosk, published, open_slots):
    slot = open_slots[0]
    for _seat in range(slot.capacity):
        other = f.petition(kiosk, published)
        appointment_book(actor=kiosk, petition_reference=other.reference, slot_id=slot.pk)
    before = Petition.objects.count()
    with pytest.raises(SlotFull):
        file_and_book(kiosk, published, slot)
    assert Petition.objects.count() == before and not IdempotencyRecord.objects.filter(key="k-1").exists()


def test_a_retry_with_the_same_key_returns_the_first_booking(kiosk, published, open_slots):
    first = file_and_book(kiosk, published, open_slots[0])
    again = file_and_book(kiosk, published, open_slots[0])
    assert again.replayed and again.appointment.pk == first.appointment.pk
    assert Petition.objects.count() == 1


def test_the_same_key_for_another_request_is_refused(kiosk, published, open_slots):
    file_and_book(kiosk, published, open_slots[0])
    with pytest.raises(InvalidInput):
        file_and_book(kiosk, published, open_slots[1])
    assert Appointment.objects.count() == 1


def test_bad_identity_files_nothing(kiosk, published, open_slots):
    with pytest.raises(InvalidInput) as error:
        file_and_book(kiosk, published, open_slots[0], id_number="210100194703150026")
    assert error.value.field == "resident.id_number" and not Petition.objects.exists()


def test_nearest_free_times_surround_the_lost_one(kiosk, published, open_slots):
    lost = open_slots[3]
    for _seat in range(lost.capacity):
        other = f.petition(kiosk, published)
        appointment_book(actor=kiosk, petition_reference=other.reference, slot_id=lost.pk)
    nearest = slot_list_nearest_free(department=published, around=lost.starts_at, limit=4)
    assert lost not in nearest and len(nearest) == 4
    assert [s.starts_at for s in nearest] == sorted(s.starts_at for s in nearest)
    distance = max(abs(s.starts_at - lost.starts_at) for s in nearest)
    others = [s for s in open_slots if s not in nearest and s != lost]
    assert all(abs(s.starts_at - lost.starts_at) >= distance for s in others)


def test_days_keep_holidays_closures_and_weekends_in_the_list(published, open_slots):
    days_with_times = sorted({day_of(s) for s in open_slots})
    holiday, closed = dt.date.fromisoformat(days_with_times[0]), dt.date.fromisoformat(days_with_times[1])
    HolidayOverride.objects.create(date=holiday, kind=HolidayOverride.Kind.HOLIDAY, name="临时调休")
    Closure.objects.create(department=published, start_date=closed, end_date=closed, reason="全员培训")
    days = {d.date: d for d in day_list_availability(department=published)}
    assert len(days) == 14 and min(days) == timezone.localdate()
    assert (days[holiday].state, days[holiday].reason, days[holiday].slots) == ("holiday", "临时调休", [])
    assert (days[closed].state, days[closed].reason) == ("closed", "全员培训")
    assert all(d.state == "weekend" for day, d in days.items() if day.weekday() >= 5)
    bookable = [d for d in days.values() if d.is_bookable]
    assert bookable and all(d.free_seats == sum(s.remaining for s in d.slots) > 0 for d in bookable)


def test_days_beyond_the_published_weeks_say_so(published):
    days = day_list_availability(department=published, days=21)
    last_weekday = [d for d in days if d.date.weekday() < 5][-1]  # in the third week: never published here
    assert last_weekday.state == "not_published"


def test_a_full_day_is_shown_full(kiosk, published, open_slots):
    day = day_of(open_slots[0])
    for slot in [s for s in open_slots if day_of(s) == day]:
        for _seat in range(slot.remaining):
            other = f.petition(kiosk, published)
            appointment_book(actor=kiosk, petition_reference=other.reference, slot_id=slot.pk)
    state = next(d for d in day_list_availability(department=published) if d.date.isoformat() == day)
    assert state.state == "full" and not state.is_bookable


def test_the_day_list_reads_the_calendar_and_the_slots_in_two_queries(published, open_slots, other_department):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    days_with_times = sorted({day_of(s) for s in open_slots})
    first, second, third = (dt.date.fromisoformat(d) for d in days_with_times[:3])
    HolidayOverride.objects.create(date=first, kind=HolidayOverride.Kind.HOLIDAY, name="临时调休")
    HolidayOverride.objects.create(date=first + dt.timedelta(days=40), kind=HolidayOverride.Kind.HOLIDAY, name="远")
    Closure.objects.create(department=published, start_date=second, end_date=second, reason="全员培训")
    Closure.objects.create(department=None, start_date=third, end_date=third, reason="全区停电")
    Closure.objects.create(department=other_department, start_date=first, end_date=third, reason="别的部门")
    with CaptureQueriesContext(connection) as queries:
        days = {d.date: d for d in day_list_availability(department=published, days=21)}

    assert len(queries) == 2, [q["sql"] for q in queries]
    assert (days[first].state, days[first].reason) == ("holiday", "临时调休")
    assert (days[second].state, days[second].reason) == ("closed", "全员培训")
    assert (days[third].state, days[third].reason) == ("closed", "全区停电")
    assert [d.state for d in days.values() if d.date.weekday() < 5][-1] == "not_published"
    assert any(d.is_bookable for d in days.values())
