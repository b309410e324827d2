"""The waiting list: joined only when nothing is free, each freed seat offered in turn, held, confirmed or handed on."""

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from appointments.booking import appointment_book, appointment_cancel, slot_withdraw
from appointments.models import Appointment, Notification, Petition, TurnAway
from appointments.notify.messages import message_render
from appointments.notify.models import WaitlistEntry
from appointments.notify.waitlist import (
    waitlist_join,
    waitlist_leave,
    waitlist_offer_confirm,
    waitlist_offer_decline,
    waitlist_offer_next,
    waitlist_offers_task,
    waitlist_position,
    waitlist_sweep,
)
from appointments.outcomes.lifecycle import petition_refer
from departments.audit import AuditEvent
from scheduler.errors import Conflict
from tests import factories as f
from tests.notify.waitlist_support import (  # noqa: F401 - fixtures
    book,
    fresh,
    full_fixture,
    in_chinese_fixture,
    in_days,
    petition_of,
    slot_at,
    wait,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_chinese")]

State = WaitlistEntry.State
HOUR = dt.timedelta(hours=1)


def offer_tasks(department) -> list[DBTaskResult]:
    return [
        task
        for task in DBTaskResult.objects.all()
        if task.task_path.endswith("waitlist_offers_task") and task.args_kwargs["args"] == [department.pk]
    ]


# Joining -------------------------------------------------------------------------------------------------------


def test_a_resident_cannot_join_while_the_department_still_has_a_free_time(kiosk, department):
    slot_at(department, in_days(2))
    petition = f.petition(kiosk, department, name="李建国")

    with pytest.raises(Conflict) as refused:
        waitlist_join(actor=kiosk, petition=petition)

    assert "还有空闲时间" in str(refused.value.message)
    assert not WaitlistEntry.objects.exists()


def test_a_resident_joins_when_every_time_is_taken_and_joining_again_keeps_the_same_place(kiosk, department, full):
    petition = f.petition(kiosk, department, name="欧阳娜娜")

    entry = waitlist_join(actor=kiosk, petition=petition)
    again = waitlist_join(actor=kiosk, petition=petition)

    assert again.pk == entry.pk and entry.state == State.WAITING
    assert (entry.department_id, entry.community_id) == (department.pk, kiosk.kiosk.community_id)
    assert WaitlistEntry.objects.count() == 1
    event = AuditEvent.objects.get(action="waitlist.join")
    assert event.detail == {"department": department.code} and event.target_id == str(entry.pk)


def test_a_department_with_nothing_published_can_be_waited_for(kiosk, department):
    entry = wait(kiosk, department, name="赵桂芝")

    assert entry.state == State.WAITING and waitlist_position(entry) == 1


def test_a_booked_petition_or_one_not_accepted_cannot_join(kiosk, department, full, dept_staff):
    _slot, taken = full
    with pytest.raises(Conflict):
        waitlist_join(actor=kiosk, petition=taken.petition)
    refused = f.petition(kiosk, department, name="孙小红")
    Petition.objects.filter(pk=refused.pk).update(status=Petition.Status.NOT_ACCEPTED, not_accepted_reason="不属于")
    refused.refresh_from_db()
    with pytest.raises(Conflict):
        waitlist_join(actor=kiosk, petition=refused)

    assert not WaitlistEntry.objects.exists()


def test_joining_itself_records_no_turn_away_the_kiosk_counts_those(kiosk, department, full):
    wait(kiosk, department, name="李建国")

    assert not TurnAway.objects.exists()


# Offers --------------------------------------------------------------------------------------------------------


def test_a_cancelled_seat_is_offered_to_the_first_resident_who_joined_and_no_one_else(kiosk, department, full):
    slot, taken = full
    now = timezone.now()
    first = wait(kiosk, department, name="李建国", now=now - 3 * HOUR)
    second = wait(kiosk, department, name="刘芳", now=now - 2 * HOUR)
    third = wait(kiosk, department, name="欧阳娜娜", now=now - HOUR)
    assert [waitlist_position(e) for e in (first, second, third)] == [1, 2, 3]

    appointment_cancel(actor=kiosk, appointment_id=taken.pk)
    offered = waitlist_offer_next(department_id=department.pk, now=now)

    assert [e.pk for e in offered] == [first.pk]
    first = fresh(first)
    assert first.state == State.OFFERED and first.offer.slot_id == slot.pk
    assert first.offer.status == Appointment.Status.OFFERED and first.offered_at == now
    assert first.offer_expires_at == now + 2 * HOUR
    assert [fresh(e).state for e in (second, third)] == [State.WAITING, State.WAITING]
    assert waitlist_position(fresh(second)) == 1
    # Nothing more to offer: asking again changes nothing.
    assert waitlist_offer_next(department_id=department.pk, now=now) == []


def test_the_next_seat_that_frees_goes_to_the_next_in_line(kiosk, department):
    slot = slot_at(department, in_days(3), capacity=2)
    one, two = book(kiosk, department, slot, name="张伟"), book(kiosk, department, slot, name="刘芳")
    first = wait(kiosk, department, name="李建国", now=timezone.now() - HOUR)
    second = wait(kiosk, department, name="孙小红")

    appointment_cancel(actor=kiosk, appointment_id=one.pk)
    waitlist_offer_next(department_id=department.pk)
    appointment_cancel(actor=kiosk, appointment_id=two.pk)
    waitlist_offer_next(department_id=department.pk)

    assert fresh(first).state == fresh(second).state == State.OFFERED
    assert {fresh(first).offer.seat_id, fresh(second).offer.seat_id} == {one.seat_id, two.seat_id}


def test_a_cancellation_queues_the_offer_task_after_commit_which_makes_the_offer(
    kiosk, department, full, django_capture_on_commit_callbacks
):
    _slot, taken = full
    entry = wait(kiosk, department, name="李建国")

    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(actor=kiosk, appointment_id=taken.pk)

    assert len(offer_tasks(department)) == 1
    assert fresh(entry).state == State.WAITING  # not before the worker runs the task
    assert waitlist_offers_task.call(department.pk) == 1
    assert fresh(entry).state == State.OFFERED


def test_no_task_is_queued_when_nobody_waits(kiosk, department, full, django_capture_on_commit_callbacks):
    _slot, taken = full

    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(actor=kiosk, appointment_id=taken.pk)

    assert offer_tasks(department) == []


def test_the_offer_sms_is_queued_with_the_offer_and_carries_no_personal_data(kiosk, department, full):
    _slot, taken = full
    petition = f.petition(kiosk, department, name="阿依古丽·买买提", phone="13912345678")
    entry = waitlist_join(actor=kiosk, petition=petition)
    appointment_cancel(actor=kiosk, appointment_id=taken.pk)
    waitlist_offer_next(department_id=department.pk)
    entry = fresh(entry)

    sms = Notification.objects.get(kind="waitlist_offer")
    assert sms.key == f"waitlist:{entry.pk}:offer:{entry.offer_id}"
    assert (sms.petition_id, sms.appointment_id, sms.state) == (petition.pk, entry.offer_id, "pending")
    assert sms.detail == {"expires_at": entry.offer_expires_at.isoformat()}
    body = message_render(sms)
    assert petition.query_code in body and petition.reference in body
    resident = petition.resident
    for personal in (resident.name, "阿依古丽", petition.contact_phone, resident.id_number):
        assert personal not in body and personal not in str(sms.detail)


def test_a_withdrawn_time_is_never_offered_and_an_offer_in_it_goes_back_in_line_for_another_seat(
    kiosk, department, dept_admin
):
    early, late = slot_at(department, in_days(2)), slot_at(department, in_days(3))
    in_early, in_late = book(kiosk, department, early, name="张伟"), book(kiosk, department, late, name="刘芳")
    entry = wait(kiosk, department, name="李建国")

    # The department withdraws a booked time: its seat is not free for anyone, so nothing is offered.
    slot_withdraw(actor=dept_admin, slot_id=early.pk, reason="部门临时有会")
    assert waitlist_offer_next(department_id=department.pk) == []
    assert Appointment.objects.get(pk=in_early.pk).status == Appointment.Status.CANCELLED

    # A seat of the other time frees and is offered; then that time is withdrawn too, while the offer stands.
    appointment_cancel(actor=kiosk, appointment_id=in_late.pk)
    waitlist_offer_next(department_id=department.pk)
    held = fresh(entry).offer
    assert held.slot_id == late.pk
    slot_withdraw(actor=dept_admin, slot_id=late.pk, reason="部门临时有会")
    other = slot_at(department, in_days(4))
    sweep = waitlist_sweep()

    entry = fresh(entry)
    assert sweep.returned == 1
    assert Appointment.objects.get(pk=held.pk).cancel_reason_code == "offer_lapsed"
    assert entry.state == State.OFFERED and entry.offer.slot_id == other.pk  # its place kept, another seat offered


def test_a_newly_published_week_offers_its_seats_to_whoever_waits(
    kiosk, department, django_capture_on_commit_callbacks
):
    first = wait(kiosk, department, name="李建国", now=timezone.now() - HOUR)
    second = wait(kiosk, department, name="刘芳")
    f.rule(department, weekday=(timezone.localdate() + dt.timedelta(days=8)).weekday(), capacity=1)

    year, week, _day = (timezone.localdate() + dt.timedelta(days=7)).isocalendar()
    with django_capture_on_commit_callbacks(execute=True):
        f.publish(department, f"{year}-W{week:02d}", confirm_provisional_holidays=True)

    assert len(offer_tasks(department)) == 1
    waitlist_offers_task.call(department.pk)
    first, second = fresh(first), fresh(second)
    assert first.state == second.state == State.OFFERED
    assert first.offer.slot.starts_at < second.offer.slot.starts_at  # the first to join gets the earliest time


# Expiry and handing on -----------------------------------------------------------------------------------------


@pytest.fixture
def offered(kiosk, department, full):
    """李建国 waited first and holds the freed seat; 刘芳 waits behind him."""
    _slot, taken = full
    now = timezone.now()
    first = wait(kiosk, department, name="李建国", now=now - 2 * HOUR)
    second = wait(kiosk, department, name="刘芳", now=now - HOUR)
    appointment_cancel(actor=kiosk, appointment_id=taken.pk)
    waitlist_offer_next(department_id=department.pk, now=now)
    return fresh(first), fresh(second), now


def test_an_unanswered_offer_passes_to_the_next_resident_when_it_expires(offered):
    first, second, now = offered

    assert waitlist_sweep(now=now + 2 * HOUR - dt.timedelta(seconds=1)).expired == 0
    assert fresh(first).state == State.OFFERED
    sweep = waitlist_sweep(now=now + 2 * HOUR)

    lapsed = Appointment.objects.get(pk=first.offer_id)
    assert (sweep.expired, sweep.offered) == (1, 1)
    assert fresh(first).state == State.EXPIRED and fresh(first).closed_at == now + 2 * HOUR
    assert (lapsed.status, lapsed.cancel_reason_code, lapsed.cancelled_at) == (
        "cancelled",
        "offer_lapsed",
        now + 2 * HOUR,
    )
    second = fresh(second)
    assert second.state == State.OFFERED and second.offer.seat_id == lapsed.seat_id
    assert second.offer_expires_at == now + 4 * HOUR
    # The lapsed offer's SMS, had it not left yet, is stopped.
    assert Notification.objects.get(appointment=lapsed).state == "cancelled"


@override_settings(WAITLIST_OFFER_HOURS=0.5)
def test_the_hold_is_configurable(kiosk, department, full):
    _slot, taken = full
    entry = wait(kiosk, department, name="李建国")
    appointment_cancel(actor=kiosk, appointment_id=taken.pk)
    now = timezone.now()

    waitlist_offer_next(department_id=department.pk, now=now)

    assert fresh(entry).offer_expires_at == now + dt.timedelta(minutes=30)


def test_an_offer_never_outlasts_the_last_moment_the_time_can_be_booked(kiosk, department):
    now = timezone.now().replace(microsecond=0)
    soon = slot_at(department, now + 90 * dt.timedelta(minutes=1), notice=30)
    taken = book(kiosk, department, soon, name="张伟")
    entry = wait(kiosk, department, name="李建国")
    appointment_cancel(actor=kiosk, appointment_id=taken.pk)

    waitlist_offer_next(department_id=department.pk, now=now)

    assert fresh(entry).offer_expires_at == soon.starts_at - dt.timedelta(minutes=30)


def test_a_time_too_close_to_answer_for_is_not_offered(kiosk, department):
    now = timezone.now()
    soon = slot_at(department, now + dt.timedelta(minutes=40), notice=30)
    taken = book(kiosk, department, soon, name="张伟")
    entry = wait(kiosk, department, name="李建国")
    appointment_cancel(actor=kiosk, appointment_id=taken.pk)

    assert waitlist_offer_next(department_id=department.pk, now=now) == []
    assert fresh(entry).state == State.WAITING


def test_the_sweep_offers_a_seat_whose_task_was_lost(kiosk, department, full):
    entry = wait(kiosk, department, name="李建国")
    slot_at(department, in_days(5))  # a time added without anyone telling the waiting list

    assert waitlist_sweep().offered == 1
    assert fresh(entry).state == State.OFFERED


# Answering an offer --------------------------------------------------------------------------------------------


def test_confirming_an_offer_books_the_seat_with_every_consequence_of_a_booking(kiosk, offered, settings):
    first, second, now = offered
    sweeps = DBTaskResult.objects.filter(task_path__endswith="video_attendance_sweep_task")
    sweeps.delete()  # those of the booking whose cancellation freed the seat, at the same time

    appointment = waitlist_offer_confirm(actor=kiosk, petition=first.petition, now=now + HOUR)

    assert appointment.pk == first.offer_id and appointment.status == Appointment.Status.BOOKED
    assert appointment.kiosk_id == kiosk.kiosk.pk
    assert petition_of(first).status == Petition.Status.SCHEDULED
    assert fresh(first).state == State.BOOKED
    assert Notification.objects.filter(appointment=appointment, kind="booked").exists()
    assert AuditEvent.objects.filter(action="appointment.book", target_id=str(appointment.pk)).exists()
    assert fresh(second).state == State.WAITING
    assert waitlist_sweep(now=now + 3 * HOUR).expired == 0  # a booked offer never expires
    # Its attendance is decided, and its room closed, by sweeps queued in the same transaction.
    ends_at = appointment.slot.ends_at
    grace, closes = settings.VIDEO_NO_SHOW_GRACE_MINUTES + 1, settings.VIDEO_JOIN_CLOSES_AFTER_MINUTES + 1
    assert sorted(r.run_after for r in sweeps) == [ends_at + dt.timedelta(minutes=m) for m in (grace, closes)]


def test_declining_an_offer_releases_the_seat_for_the_next_resident(kiosk, offered):
    first, second, now = offered

    entry = waitlist_offer_decline(actor=kiosk, petition=first.petition, now=now + HOUR)

    released = Appointment.objects.get(pk=first.offer_id)
    assert entry.state == State.EXPIRED
    assert (released.status, released.cancel_reason_code) == ("cancelled", "offer_lapsed")
    waitlist_offer_next(department_id=first.department_id, now=now + HOUR)
    assert fresh(second).offer.seat_id == released.seat_id


def test_an_expired_offer_cannot_be_confirmed(kiosk, offered):
    first, _second, now = offered

    with pytest.raises(Conflict) as refused:
        waitlist_offer_confirm(actor=kiosk, petition=first.petition, now=now + 2 * HOUR)

    assert "已经顺延给下一位" in str(refused.value.message)
    assert Appointment.objects.get(pk=first.offer_id).status == Appointment.Status.OFFERED
    assert petition_of(first).status == Petition.Status.RECEIVED


def test_a_waiting_resident_with_no_offer_has_nothing_to_confirm(kiosk, offered):
    _first, second, now = offered

    with pytest.raises(Conflict):
        waitlist_offer_confirm(actor=kiosk, petition=second.petition, now=now)


def test_leaving_the_list_gives_back_the_place(kiosk, offered):
    first, second, now = offered

    waitlist_leave(actor=kiosk, petition=second.petition)
    waitlist_leave(actor=kiosk, petition=first.petition)

    assert fresh(second).state == fresh(first).state == State.LEFT
    assert Appointment.objects.get(pk=first.offer_id).cancel_reason_code == "offer_lapsed"


# Booking another way, referral ---------------------------------------------------------------------------------


def test_booking_another_time_while_an_offer_is_held_releases_the_offer(kiosk, department, offered):
    first, _second, _now = offered
    later = slot_at(department, in_days(6))

    result = appointment_book(actor=kiosk, petition_reference=first.petition.reference, slot_id=later.pk)

    assert result.appointment.status == Appointment.Status.BOOKED and result.appointment.slot_id == later.pk
    assert Appointment.objects.get(pk=first.offer_id).cancel_reason_code == "offer_lapsed"
    assert fresh(first).state == State.BOOKED


def test_booking_the_offered_time_itself_the_ordinary_way_takes_the_same_seat(kiosk, department, offered):
    first, _second, _now = offered

    result = appointment_book(actor=kiosk, petition_reference=first.petition.reference, slot_id=first.offer.slot_id)

    assert result.appointment.seat_id == first.offer.seat_id
    assert fresh(first).state == State.BOOKED


def test_a_referred_petition_leaves_the_old_departments_list_and_its_seat_is_released(
    kiosk, offered, dept_staff, other_department
):
    first, second, _now = offered

    petition_refer(actor=dept_staff, petition=second.petition, to_department=other_department.code, reason="属人社局")
    petition_refer(actor=dept_staff, petition=first.petition, to_department=other_department.code, reason="属人社局")

    assert fresh(first).state == fresh(second).state == State.LEFT
    assert Appointment.objects.get(pk=first.offer_id).cancel_reason_code == "offer_lapsed"
