"""Booking, cancelling, rescheduling, checking in and withdrawing: the rules about who sits where."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from appointments.booking import (
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_for_actor,
    appointment_reschedule,
    slot_withdraw,
)
from appointments.models import Appointment, IdempotencyRecord, Petition
from appointments.outcomes.lifecycle import petition_transition
from departments.audit import AuditEvent
from departments.models import StaffMember
from departments.services import Actor
from scheduler.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    OutsideBookingWindow,
    SlotFull,
    SlotUnavailable,
)
from scheduler.models import ScheduleWeek, Slot
from scheduler.selectors import slot_list_open
from tests import factories as f

pytestmark = pytest.mark.django_db

NOW = f.local("2026-03-01 10:00")  # the Sunday before 2026-W10


@pytest.fixture
def week(department):
    """The department's hours for 2026-W10: Monday to Friday 09:00–11:00, 30-minute sessions, 2 seats."""
    f.weekday_rules(department, start="09:00", end="11:00", capacity=2, notice=60, window=14)
    f.publish(department, "2026-W10")
    return department


@pytest.fixture
def other_week(other_department):
    f.weekday_rules(other_department, start="09:00", end="11:00", capacity=2)
    f.publish(other_department, "2026-W10")
    return other_department


def slot_at(department, when: str) -> Slot:
    return Slot.objects.get(department=department, starts_at=f.local(when))


@pytest.fixture
def monday_nine(week):
    return slot_at(week, "2026-03-02 09:00")


@pytest.fixture
def monday_half_past(week):
    return slot_at(week, "2026-03-02 09:30")


@pytest.fixture
def matter(kiosk, week):
    return f.petition(kiosk, week)


def book(actor, petition, slot, *, now=NOW, key=None):
    return appointment_book(
        actor=actor, petition_reference=petition.reference, slot_id=slot.pk, idempotency_key=key, now=now
    )


def test_it_books_the_first_seat_and_schedules_the_petition(kiosk, matter, monday_nine):
    result = book(kiosk, matter, monday_nine)

    appointment = result.appointment
    assert not result.replayed
    assert (appointment.status, appointment.seat.number, appointment.slot_id) == ("booked", 1, monday_nine.pk)
    assert appointment.kiosk == kiosk.kiosk
    assert appointment.community == kiosk.kiosk.community
    matter.refresh_from_db()
    assert matter.status == Petition.Status.SCHEDULED
    assert AuditEvent.objects.filter(action="appointment.book", target_id=str(appointment.pk)).exists()


def test_it_fills_seats_in_order_and_then_says_the_slot_is_full(kiosk, week, monday_nine):
    first = book(kiosk, f.petition(kiosk, week), monday_nine).appointment
    second = book(kiosk, f.petition(kiosk, week), monday_nine).appointment
    third = f.petition(kiosk, week)

    with pytest.raises(SlotFull):
        book(kiosk, third, monday_nine)

    assert (first.seat.number, second.seat.number) == (1, 2)
    third.refresh_from_db()
    assert third.status == Petition.Status.RECEIVED
    assert Appointment.objects.filter(slot=monday_nine).count() == 2


def test_it_rejects_a_slot_that_has_already_passed(kiosk, matter, monday_nine):
    with pytest.raises(OutsideBookingWindow) as excinfo:
        book(kiosk, matter, monday_nine, now=f.local("2026-03-02 12:00"))
    assert excinfo.value.field == "slot"


def test_it_rejects_a_slot_inside_the_minimum_notice(kiosk, matter, monday_nine):
    with pytest.raises(OutsideBookingWindow):
        book(kiosk, matter, monday_nine, now=f.local("2026-03-02 08:01"))
    assert book(kiosk, matter, monday_nine, now=f.local("2026-03-02 08:00")).appointment.pk


def test_it_rejects_a_slot_beyond_the_booking_window(kiosk, matter, monday_nine):
    with pytest.raises(OutsideBookingWindow) as excinfo:
        book(kiosk, matter, monday_nine, now=monday_nine.starts_at - dt.timedelta(days=14, minutes=1))
    assert "14" in str(excinfo.value)
    assert book(kiosk, matter, monday_nine, now=monday_nine.starts_at - dt.timedelta(days=14)).appointment.pk


def test_it_rejects_a_slot_of_a_week_that_is_not_published(kiosk, matter, monday_nine):
    ScheduleWeek.objects.filter(pk=monday_nine.week_id).update(status=ScheduleWeek.Status.DRAFT)

    with pytest.raises(SlotUnavailable):
        book(kiosk, matter, monday_nine)
    assert not Appointment.objects.exists()


def test_it_rejects_a_slot_of_a_closed_week(kiosk, matter, monday_nine):
    ScheduleWeek.objects.filter(pk=monday_nine.week_id).update(status=ScheduleWeek.Status.CLOSED)

    with pytest.raises(SlotUnavailable):
        book(kiosk, matter, monday_nine)


def test_it_rejects_a_withdrawn_slot(kiosk, matter, monday_nine):
    Slot.objects.filter(pk=monday_nine.pk).update(status=Slot.Status.WITHDRAWN)

    with pytest.raises(SlotUnavailable):
        book(kiosk, matter, monday_nine)


def test_it_rejects_a_slot_that_does_not_exist(kiosk, matter):
    with pytest.raises(NotFound) as excinfo:
        appointment_book(actor=kiosk, petition_reference=matter.reference, slot_id=987654, now=NOW)
    assert excinfo.value.field == "slot"


def test_it_rejects_a_slot_of_another_department(kiosk, matter, other_week):
    theirs = slot_at(other_week, "2026-03-02 09:00")

    with pytest.raises(InvalidInput) as excinfo:
        book(kiosk, matter, theirs)
    assert excinfo.value.field == "slot"
    assert not Appointment.objects.exists()


def test_it_rejects_a_petition_that_is_not_open_for_booking(kiosk, matter, monday_nine):
    Petition.objects.filter(pk=matter.pk).update(status=Petition.Status.CLOSED)

    with pytest.raises(Conflict) as excinfo:
        book(kiosk, matter, monday_nine)
    assert excinfo.value.field == "petition"


def test_a_petition_holds_only_one_active_appointment(kiosk, matter, monday_nine, monday_half_past):
    book(kiosk, matter, monday_nine)

    with pytest.raises(Conflict) as excinfo:
        book(kiosk, matter, slot_at(matter.department, "2026-03-03 09:00"))
    assert excinfo.value.field == "petition"
    assert Appointment.objects.filter(petition=matter).count() == 1


def test_the_database_itself_refuses_a_second_active_appointment_for_a_petition(kiosk, matter, monday_nine):
    book(kiosk, matter, monday_nine)
    other_slot = slot_at(matter.department, "2026-03-03 09:00")

    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(petition=matter, seat=other_slot.seats.get(number=1), slot=other_slot)


def test_the_database_itself_refuses_two_holders_of_one_seat(kiosk, week, monday_nine):
    first = book(kiosk, f.petition(kiosk, week), monday_nine).appointment
    intruder = f.petition(kiosk, week)

    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(petition=intruder, seat=first.seat, slot=monday_nine)


def test_a_cancelled_appointment_lets_the_petition_book_again(kiosk, matter, monday_nine):
    first = book(kiosk, matter, monday_nine).appointment
    appointment_cancel(actor=kiosk, appointment_id=first.pk, now=NOW)

    again = book(kiosk, matter, slot_at(matter.department, "2026-03-03 09:00")).appointment

    assert again.pk != first.pk and again.status == "booked"


def test_a_resident_cannot_hold_two_overlapping_appointments_for_two_petitions(kiosk, week, other_week):
    id_number = f.valid_id_number()
    housing = f.petition(kiosk, week, id_number=id_number)
    labour = f.petition(kiosk, other_week, id_number=id_number)
    assert housing.resident_id == labour.resident_id
    book(kiosk, housing, slot_at(week, "2026-03-02 09:00"))

    with pytest.raises(Conflict) as excinfo:
        book(kiosk, labour, slot_at(other_week, "2026-03-02 09:00"))
    assert excinfo.value.field == "slot"

    # Back to back is not overlapping.
    assert book(kiosk, labour, slot_at(other_week, "2026-03-02 09:30")).appointment.pk


def test_a_resident_cannot_hold_partly_overlapping_appointments(kiosk, week):
    justice = f.department("sifa", "区司法局")
    f.rule(justice, weekday=0, start="09:15", end="09:45")
    f.publish(justice, "2026-W10")
    id_number = f.valid_id_number()
    book(kiosk, f.petition(kiosk, week, id_number=id_number), slot_at(week, "2026-03-02 09:00"))

    with pytest.raises(Conflict):
        book(kiosk, f.petition(kiosk, justice, id_number=id_number), slot_at(justice, "2026-03-02 09:15"))


def test_a_cancelled_appointment_does_not_block_the_residents_other_bookings(kiosk, week, other_week):
    id_number = f.valid_id_number()
    first = book(kiosk, f.petition(kiosk, week, id_number=id_number), slot_at(week, "2026-03-02 09:00")).appointment
    appointment_cancel(actor=kiosk, appointment_id=first.pk, now=NOW)

    other = f.petition(kiosk, other_week, id_number=id_number)
    assert book(kiosk, other, slot_at(other_week, "2026-03-02 09:00")).appointment.status == "booked"


def test_two_residents_may_book_the_same_time(kiosk, week, monday_nine):
    book(kiosk, f.petition(kiosk, week), monday_nine)
    assert book(kiosk, f.petition(kiosk, week), monday_nine).appointment.seat.number == 2


def test_cancelling_frees_the_seat_and_returns_the_petition_to_received(kiosk, week, monday_nine):
    matter = f.petition(kiosk, week)
    appointment = book(kiosk, matter, monday_nine).appointment
    book(kiosk, f.petition(kiosk, week), monday_nine)

    cancelled = appointment_cancel(actor=kiosk, appointment_id=appointment.pk, reason="家中有事", now=NOW)

    assert cancelled.status == Appointment.Status.CANCELLED
    assert cancelled.cancelled_at == NOW
    assert cancelled.cancel_reason == "家中有事"
    matter.refresh_from_db()
    assert matter.status == Petition.Status.RECEIVED
    newcomer = book(kiosk, f.petition(kiosk, week), monday_nine).appointment
    assert newcomer.seat.number == 1


def test_cancelling_restores_the_status_the_petition_had_before_scheduling(kiosk, officer, matter, monday_nine):
    petition_transition(petition=matter, to=Petition.Status.ACCEPTED, actor=officer)
    appointment = book(kiosk, matter, monday_nine).appointment

    appointment_cancel(actor=kiosk, appointment_id=appointment.pk, now=NOW)

    matter.refresh_from_db()
    assert matter.status == Petition.Status.ACCEPTED


@pytest.mark.parametrize(
    "status",
    [
        Petition.Status.RECEIVED,
        Petition.Status.ACCEPTED,
        Petition.Status.REFERRED,
        Petition.Status.FOLLOW_UP,
        Petition.Status.REOPENED,
    ],
)
def test_cancelling_returns_any_bookable_petition_to_where_it_was(kiosk, matter, monday_nine, status):
    Petition.objects.filter(pk=matter.pk).update(status=status)
    matter.refresh_from_db()
    appointment = book(kiosk, matter, monday_nine).appointment

    appointment_cancel(actor=kiosk, appointment_id=appointment.pk, now=NOW)

    matter.refresh_from_db()
    assert matter.status == status


def test_withdrawing_a_slot_returns_a_follow_up_petition_to_follow_up(kiosk, officer, matter, monday_nine):
    Petition.objects.filter(pk=matter.pk).update(status=Petition.Status.FOLLOW_UP)
    matter.refresh_from_db()
    book(kiosk, matter, monday_nine)

    slot_withdraw(actor=officer, slot_id=monday_nine.pk, reason="停电", now=NOW)

    matter.refresh_from_db()
    assert matter.status == Petition.Status.FOLLOW_UP


def test_cancelling_leaves_a_petition_that_moved_on_where_it_is(kiosk, officer, matter, monday_nine):
    appointment = book(kiosk, matter, monday_nine).appointment
    matter.refresh_from_db()
    petition_transition(petition=matter, to=Petition.Status.REFERRED, actor=officer)

    appointment_cancel(actor=kiosk, appointment_id=appointment.pk, now=NOW)

    matter.refresh_from_db()
    assert matter.status == Petition.Status.REFERRED
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED


def test_it_refuses_to_cancel_twice(kiosk, matter, monday_nine):
    appointment = book(kiosk, matter, monday_nine).appointment
    appointment_cancel(actor=kiosk, appointment_id=appointment.pk, now=NOW)

    with pytest.raises(Conflict):
        appointment_cancel(actor=kiosk, appointment_id=appointment.pk, now=NOW)


def test_it_refuses_to_cancel_an_appointment_that_has_started(kiosk, matter, monday_nine):
    appointment = book(kiosk, matter, monday_nine).appointment

    with pytest.raises(Conflict):
        appointment_cancel(actor=kiosk, appointment_id=appointment.pk, now=monday_nine.starts_at)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_rescheduling_moves_the_appointment_to_the_new_time(kiosk, matter, monday_nine):
    old = book(kiosk, matter, monday_nine).appointment
    tuesday = slot_at(matter.department, "2026-03-03 10:00")

    new = appointment_reschedule(actor=kiosk, appointment_id=old.pk, slot_id=tuesday.pk, now=NOW)

    assert new.pk != old.pk
    assert (new.slot_id, new.status, new.rescheduled_from_id) == (tuesday.pk, "booked", old.pk)
    old.refresh_from_db()
    assert (old.status, old.cancel_reason_code, old.cancel_reason) == ("cancelled", "rescheduled", "")
    matter.refresh_from_db()
    assert matter.status == Petition.Status.SCHEDULED
    assert [s.remaining for s in slot_list_open(department=matter.department, now=NOW) if s.pk == monday_nine.pk] == [2]


def test_a_failed_reschedule_changes_nothing(kiosk, week, matter, monday_nine, monday_half_past):
    old = book(kiosk, matter, monday_nine).appointment
    book(kiosk, f.petition(kiosk, week), monday_half_past)
    book(kiosk, f.petition(kiosk, week), monday_half_past)
    events = AuditEvent.objects.count()

    with pytest.raises(SlotFull):
        appointment_reschedule(actor=kiosk, appointment_id=old.pk, slot_id=monday_half_past.pk, now=NOW)

    old.refresh_from_db()
    assert (old.status, old.cancelled_at, old.cancel_reason) == ("booked", None, "")
    matter.refresh_from_db()
    assert matter.status == Petition.Status.SCHEDULED
    assert Appointment.objects.filter(petition=matter).count() == 1
    assert AuditEvent.objects.count() == events


def test_it_refuses_to_reschedule_into_a_time_that_has_passed(kiosk, matter, monday_nine):
    old = book(kiosk, matter, slot_at(matter.department, "2026-03-03 09:00")).appointment

    with pytest.raises(OutsideBookingWindow):
        appointment_reschedule(
            actor=kiosk, appointment_id=old.pk, slot_id=monday_nine.pk, now=f.local("2026-03-02 10:00")
        )
    old.refresh_from_db()
    assert old.status == Appointment.Status.BOOKED


def test_it_refuses_to_reschedule_to_the_same_time(kiosk, matter, monday_nine):
    old = book(kiosk, matter, monday_nine).appointment

    with pytest.raises(InvalidInput):
        appointment_reschedule(actor=kiosk, appointment_id=old.pk, slot_id=monday_nine.pk, now=NOW)


def test_it_refuses_to_reschedule_to_another_departments_time(kiosk, matter, monday_nine, other_week):
    old = book(kiosk, matter, monday_nine).appointment

    with pytest.raises(InvalidInput):
        appointment_reschedule(
            actor=kiosk, appointment_id=old.pk, slot_id=slot_at(other_week, "2026-03-03 09:00").pk, now=NOW
        )
    old.refresh_from_db()
    assert old.status == Appointment.Status.BOOKED


def test_it_refuses_to_reschedule_a_cancelled_appointment(kiosk, matter, monday_nine):
    old = book(kiosk, matter, monday_nine).appointment
    appointment_cancel(actor=kiosk, appointment_id=old.pk, now=NOW)

    with pytest.raises(Conflict):
        appointment_reschedule(
            actor=kiosk, appointment_id=old.pk, slot_id=slot_at(matter.department, "2026-03-03 09:00").pk, now=NOW
        )


def test_check_in_opens_two_hours_before_and_closes_when_the_session_ends(kiosk, matter, monday_nine):
    appointment = book(kiosk, matter, monday_nine).appointment

    with pytest.raises(Conflict):
        appointment_check_in(actor=kiosk, appointment_id=appointment.pk, now=f.local("2026-03-02 06:59"))

    checked = appointment_check_in(actor=kiosk, appointment_id=appointment.pk, now=f.local("2026-03-02 07:00"))
    assert checked.status == Appointment.Status.CHECKED_IN
    assert checked.checked_in_at == f.local("2026-03-02 07:00")
    again = appointment_check_in(actor=kiosk, appointment_id=appointment.pk, now=f.local("2026-03-02 08:00"))
    assert again.checked_in_at == f.local("2026-03-02 07:00")


def test_it_refuses_check_in_after_the_session_has_ended(kiosk, matter, monday_nine):
    appointment = book(kiosk, matter, monday_nine).appointment

    with pytest.raises(Conflict):
        appointment_check_in(actor=kiosk, appointment_id=appointment.pk, now=f.local("2026-03-02 09:31"))
    assert appointment_check_in(actor=kiosk, appointment_id=appointment.pk, now=f.local("2026-03-02 09:30")).status == (
        Appointment.Status.CHECKED_IN
    )


def test_it_refuses_check_in_for_a_cancelled_appointment(kiosk, matter, monday_nine):
    appointment = book(kiosk, matter, monday_nine).appointment
    appointment_cancel(actor=kiosk, appointment_id=appointment.pk, now=NOW)

    with pytest.raises(Conflict):
        appointment_check_in(actor=kiosk, appointment_id=appointment.pk, now=f.local("2026-03-02 08:30"))


def test_a_checked_in_appointment_can_no_longer_be_cancelled(kiosk, matter, monday_nine):
    appointment = book(kiosk, matter, monday_nine).appointment
    appointment_check_in(actor=kiosk, appointment_id=appointment.pk, now=f.local("2026-03-02 08:30"))

    with pytest.raises(Conflict):
        appointment_cancel(actor=kiosk, appointment_id=appointment.pk, now=f.local("2026-03-02 08:31"))


def test_withdrawing_a_slot_cancels_its_appointments_with_the_reason(kiosk, dept_admin, week, monday_nine):
    first = f.petition(kiosk, week)
    second = f.petition(kiosk, week)
    one = book(kiosk, first, monday_nine).appointment
    two = book(kiosk, second, monday_nine).appointment

    cancelled = slot_withdraw(actor=dept_admin, slot_id=monday_nine.pk, reason="  主任外出开会  ", now=NOW)

    assert {a.pk for a in cancelled} == {one.pk, two.pk}
    for appointment in (one, two):
        appointment.refresh_from_db()
        assert (appointment.status, appointment.cancel_reason) == ("cancelled", "主任外出开会")
    for petition in (first, second):
        petition.refresh_from_db()
        assert petition.status == Petition.Status.RECEIVED
    monday_nine.refresh_from_db()
    assert (monday_nine.status, monday_nine.withdrawn_reason) == ("withdrawn", "主任外出开会")
    assert monday_nine.pk not in [s.pk for s in slot_list_open(department=week, now=NOW)]
    with pytest.raises(SlotUnavailable):
        book(kiosk, first, monday_nine)


def test_a_petition_officer_may_withdraw_any_departments_slot(officer, monday_nine):
    slot_withdraw(actor=officer, slot_id=monday_nine.pk, reason="停电", now=NOW)
    monday_nine.refresh_from_db()
    assert monday_nine.status == Slot.Status.WITHDRAWN


@pytest.mark.parametrize("who", ["kiosk", "dept_staff", "outsider"])
def test_withdrawing_a_slot_needs_a_manager_of_its_department(request, who, kiosk, matter, monday_nine):
    appointment = book(kiosk, matter, monday_nine).appointment
    actor = request.getfixturevalue(who)

    with pytest.raises(Forbidden):
        slot_withdraw(actor=actor, slot_id=monday_nine.pk, reason="不想开", now=NOW)

    monday_nine.refresh_from_db()
    appointment.refresh_from_db()
    assert (monday_nine.status, appointment.status) == ("open", "booked")


def test_withdrawing_a_slot_needs_a_reason(dept_admin, monday_nine):
    with pytest.raises(InvalidInput) as excinfo:
        slot_withdraw(actor=dept_admin, slot_id=monday_nine.pk, reason="   ", now=NOW)
    assert excinfo.value.field == "reason"
    monday_nine.refresh_from_db()
    assert monday_nine.status == Slot.Status.OPEN


def test_a_retry_with_the_same_idempotency_key_returns_the_same_appointment(kiosk, matter, monday_nine):
    first = book(kiosk, matter, monday_nine, key="retry-1")

    second = book(kiosk, matter, monday_nine, key="retry-1")

    assert second.replayed and not first.replayed
    assert second.appointment.pk == first.appointment.pk
    assert Appointment.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_a_replay_returns_the_appointment_even_after_the_slot_filled_up(kiosk, week, matter, monday_nine):
    first = book(kiosk, matter, monday_nine, key="retry-2")
    book(kiosk, f.petition(kiosk, week), monday_nine)

    assert book(kiosk, matter, monday_nine, key="retry-2").appointment.pk == first.appointment.pk


def test_the_same_idempotency_key_with_a_different_body_is_invalid(kiosk, matter, monday_nine, monday_half_past):
    book(kiosk, matter, monday_nine, key="retry-3")

    with pytest.raises(InvalidInput) as excinfo:
        book(kiosk, matter, monday_half_past, key="retry-3")
    assert excinfo.value.field == "Idempotency-Key"
    assert Appointment.objects.count() == 1


def test_idempotency_keys_belong_to_the_caller(kiosk, other_kiosk_and_key, week, matter, monday_nine):
    book(kiosk, matter, monday_nine, key="shared-key")
    other_kiosk = other_kiosk_and_key[0]
    theirs = f.petition(other_kiosk, week)

    result = book(other_kiosk, theirs, monday_nine, key="shared-key")

    assert not result.replayed
    assert result.appointment.petition_id == theirs.pk


@pytest.mark.parametrize("key", ["", "x" * 101, "bad\nkey"])
def test_it_rejects_a_malformed_idempotency_key(kiosk, matter, monday_nine, key):
    with pytest.raises(InvalidInput) as excinfo:
        book(kiosk, matter, monday_nine, key=key)
    assert excinfo.value.field == "Idempotency-Key"
    assert not Appointment.objects.exists()


def test_a_kiosk_of_another_community_cannot_see_or_change_the_appointment(
    kiosk, other_kiosk_and_key, matter, monday_nine
):
    appointment = book(kiosk, matter, monday_nine).appointment
    stranger = other_kiosk_and_key[0]

    with pytest.raises(NotFound):
        appointment_for_actor(actor=stranger, appointment_id=appointment.pk)
    with pytest.raises(NotFound):
        appointment_cancel(actor=stranger, appointment_id=appointment.pk, now=NOW)
    with pytest.raises(NotFound):
        appointment_reschedule(
            actor=stranger, appointment_id=appointment.pk, slot_id=slot_at(matter.department, "2026-03-03 09:00").pk
        )
    with pytest.raises(NotFound):
        book(stranger, f.petition(kiosk, matter.department), monday_nine)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_who_sees_an_appointment(kiosk, officer, dept_staff, outsider, places, matter, monday_nine):
    appointment = book(kiosk, matter, monday_nine).appointment
    worker = Actor(staff=f.staff("worker", StaffMember.Role.COMMUNITY_WORKER, community=places[2]))
    other_worker = Actor(staff=f.staff("worker2", StaffMember.Role.COMMUNITY_WORKER, community=places[3]))

    for actor in (kiosk, officer, dept_staff, worker):
        assert appointment_for_actor(actor=actor, appointment_id=appointment.pk).pk == appointment.pk
    for actor in (outsider, other_worker, Actor()):
        with pytest.raises(NotFound):
            appointment_for_actor(actor=actor, appointment_id=appointment.pk)


def test_a_closure_added_after_publishing_stops_booking_and_hides_the_days_times(kiosk, published, open_slots):
    from django.utils import timezone

    from scheduler.errors import SlotUnavailable
    from scheduler.models import Closure
    from scheduler.selectors import slot_list_open

    slot = open_slots[0]
    day = timezone.localtime(slot.starts_at).date()
    Closure.objects.create(department=published, start_date=day, end_date=day, reason="集中学习")
    petition = f.petition(kiosk, published)

    with pytest.raises(SlotUnavailable) as excinfo:
        appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=slot.pk)
    assert excinfo.value.field == "slot"
    assert not Appointment.objects.exists()
    assert all(timezone.localtime(s.starts_at).date() != day for s in slot_list_open(department=published))
