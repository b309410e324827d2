"""Which messages each change causes, and when: bookings, reminders, moves, cancellations, withdrawals, answers."""

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from django_tasks_db.models import DBTaskResult, get_date_max

from appointments.booking import appointment_cancel, appointment_reschedule, slot_withdraw
from appointments.models import Appointment, Notification, Rating
from appointments.notify.sending import notifications_sweep
from appointments.notify.services import notifications_for_booking, notifications_for_cancel
from appointments.outcomes.lifecycle import petition_refer
from appointments.outcomes.services import ItemIn, OutcomeIn, outcome_record
from tests.notify.engine_support import (
    Kind,
    State,
    book_before,
    kinds_and_states,
    rows,
)

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def sent_bodies(outbox) -> list[str]:
    return list(outbox.order_by("created_at", "pk").values_list("body", flat=True))


# Booking -------------------------------------------------------------------------------------------------------


def test_a_booking_two_days_ahead_is_confirmed_at_once_and_reminded_a_day_and_an_hour_before(
    kiosk, petition, open_slots, clock
):
    slot = open_slots[0]

    appointment = book_before(kiosk, petition, slot, clock=clock, days=2)

    booked, day, hour = rows(appointment=appointment)
    assert (booked.kind, booked.key, booked.due_at) == (Kind.BOOKED, f"appointment:{appointment.pk}:booked", clock.now)
    assert (day.kind, day.key, day.due_at) == (
        Kind.REMINDER_DAY,
        f"appointment:{appointment.pk}:reminder_24h",
        slot.starts_at - DAY,
    )
    assert (hour.kind, hour.key, hour.due_at) == (
        Kind.REMINDER_HOUR,
        f"appointment:{appointment.pk}:reminder_1h",
        slot.starts_at - HOUR,
    )
    assert {n.state for n in (booked, day, hour)} == {State.PENDING}
    assert {n.language for n in (booked, day, hour)} == {"zh-hans"}


def test_a_booking_three_hours_ahead_gets_no_day_reminder(kiosk, petition, open_slots, clock):
    appointment = book_before(kiosk, petition, open_slots[0], clock=clock, hours=3)

    assert kinds_and_states(appointment=appointment) == [
        (Kind.BOOKED, State.PENDING),
        (Kind.REMINDER_HOUR, State.PENDING),
    ]


def test_a_booking_thirty_minutes_ahead_gets_no_reminder_at_all(kiosk, petition, open_slots, clock):
    appointment = book_before(kiosk, petition, open_slots[0], clock=clock, minutes=30)

    assert kinds_and_states(appointment=appointment) == [(Kind.BOOKED, State.PENDING)]


def test_the_same_booking_announced_twice_is_told_once(kiosk, petition, open_slots, clock):
    appointment = book_before(kiosk, petition, open_slots[0], clock=clock, days=2)

    notifications_for_booking(appointment=appointment)

    assert len(rows(appointment=appointment)) == 3


def test_each_message_is_queued_on_the_task_worker_after_commit_at_its_due_time(
    kiosk, petition, open_slots, clock, django_capture_on_commit_callbacks
):
    slot = open_slots[0]
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book_before(kiosk, petition, slot, clock=clock, days=2)

    by_id = {n.pk: n for n in rows(appointment=appointment)}
    tasks = DBTaskResult.objects.filter(task_path="appointments.notify.tasks.notification_send_task")
    queued = {task.args_kwargs["args"][0]: task.run_after for task in tasks}
    assert set(queued) == set(by_id)
    booked = next(n for n in by_id.values() if n.kind == Kind.BOOKED)
    assert queued[booked.pk] == get_date_max()  # as soon as a worker is free
    assert {queued[n.pk] for n in by_id.values() if n.kind != Kind.BOOKED} == {
        slot.starts_at - DAY,
        slot.starts_at - HOUR,
    }


# Reminders at their time, and never late -----------------------------------------------------------------------


def test_each_reminder_is_sent_at_its_time_and_only_then(kiosk, petition, open_slots, clock, local_sms):
    slot = open_slots[0]
    appointment = book_before(kiosk, petition, slot, clock=clock, days=2)
    notifications_sweep()
    assert kinds_and_states(appointment=appointment) == [
        (Kind.BOOKED, State.SENT),
        (Kind.REMINDER_DAY, State.PENDING),
        (Kind.REMINDER_HOUR, State.PENDING),
    ]

    clock.set(slot.starts_at - DAY - dt.timedelta(minutes=1))
    notifications_sweep()
    assert local_sms.count() == 1

    clock.set(slot.starts_at - DAY + dt.timedelta(minutes=2))
    notifications_sweep()
    clock.set(slot.starts_at - HOUR)
    notifications_sweep()
    notifications_sweep()

    assert [state for _kind, state in kinds_and_states(appointment=appointment)] == [State.SENT] * 3
    bodies = sent_bodies(local_sms)
    assert len(bodies) == 3
    assert bodies[0].startswith("【信访局】预约成功：")
    assert bodies[1].startswith("【信访局】提醒：") and "今天" not in bodies[1]
    assert bodies[2].startswith("【信访局】提醒：今天")
    to = set(local_sms.values_list("to", flat=True))
    assert to == {petition.contact_phone}


@pytest.mark.parametrize(
    ("late", "state"),
    [
        (dt.timedelta(minutes=29), State.SENT),
        (dt.timedelta(minutes=31), State.EXPIRED),
        (dt.timedelta(hours=20), State.EXPIRED),
    ],
)
def test_a_day_reminder_found_past_its_grace_is_expired_never_sent_late(
    kiosk, petition, open_slots, clock, local_sms, late, state
):
    slot = open_slots[0]
    appointment = book_before(kiosk, petition, slot, clock=clock, days=2)
    Notification.objects.filter(kind=Kind.BOOKED).update(state=State.CANCELLED)

    clock.set(slot.starts_at - DAY + late)
    notifications_sweep()

    assert Notification.objects.get(appointment=appointment, kind=Kind.REMINDER_DAY).state == state
    assert local_sms.count() == (1 if state == State.SENT else 0)


def test_an_hour_reminder_found_after_the_session_started_is_expired(kiosk, petition, open_slots, clock, local_sms):
    slot = open_slots[0]
    appointment = book_before(kiosk, petition, slot, clock=clock, hours=3)

    clock.set(slot.starts_at + dt.timedelta(minutes=1))
    notifications_sweep()

    assert kinds_and_states(appointment=appointment) == [
        (Kind.BOOKED, State.EXPIRED),
        (Kind.REMINDER_HOUR, State.EXPIRED),
    ]
    assert local_sms.count() == 0


def test_an_hour_reminder_eleven_minutes_late_is_expired_but_nine_minutes_late_is_sent(
    kiosk, petition, open_slots, clock, local_sms
):
    first, second = open_slots[0], open_slots[-1]
    early = book_before(kiosk, petition, first, clock=clock, hours=3)
    Notification.objects.filter(kind=Kind.BOOKED).update(state=State.CANCELLED)

    clock.set(first.starts_at - HOUR + dt.timedelta(minutes=11))
    notifications_sweep()
    assert Notification.objects.get(appointment=early, kind=Kind.REMINDER_HOUR).state == State.EXPIRED

    moved = appointment_reschedule(actor=kiosk, appointment_id=early.pk, slot_id=second.pk, now=clock.now)
    Notification.objects.filter(kind=Kind.RESCHEDULED).update(state=State.CANCELLED)
    clock.set(second.starts_at - HOUR + dt.timedelta(minutes=9))
    notifications_sweep()
    assert Notification.objects.get(appointment=moved, kind=Kind.REMINDER_HOUR).state == State.SENT
    assert local_sms.count() == 1


def test_a_reminder_whose_booking_was_cancelled_meanwhile_is_not_sent(kiosk, petition, open_slots, clock, local_sms):
    slot = open_slots[0]
    appointment = book_before(kiosk, petition, slot, clock=clock, days=2)
    # As if the booking had ended by a path that told nobody: the check at sending time still stops it.
    Appointment.objects.filter(pk=appointment.pk).update(
        status=Appointment.Status.CANCELLED, cancel_reason_code="offer_lapsed", cancelled_at=clock.now
    )

    clock.set(slot.starts_at - HOUR)
    notifications_sweep()

    assert {state for _kind, state in kinds_and_states(appointment=appointment)} == {State.CANCELLED}
    assert local_sms.count() == 0


# Rescheduling --------------------------------------------------------------------------------------------------


def test_rescheduling_moves_the_pending_reminders_to_the_new_time_and_tells_the_resident(
    kiosk, petition, open_slots, clock, local_sms
):
    first = open_slots[0]
    # Moved from three days before the first time: the new one must lie in the booking window seen from then
    # (on a Monday small hours, the last published time lies beyond it).
    second = [s for s in open_slots if s.starts_at < first.starts_at + dt.timedelta(days=10)][-1]
    assert second.starts_at - first.starts_at > DAY
    previous = book_before(kiosk, petition, first, clock=clock, days=3)
    notifications_sweep()
    reminders = {n.kind: n.pk for n in rows(appointment=previous, kind__startswith="reminder")}

    moved = appointment_reschedule(actor=kiosk, appointment_id=previous.pk, slot_id=second.pk)

    # The same rows, now about the new booking and due before its time.
    now_moved = {n.kind: n for n in rows(pk__in=reminders.values())}
    assert {kind: n.pk for kind, n in now_moved.items()} == reminders
    assert {n.appointment_id for n in now_moved.values()} == {moved.pk}
    assert now_moved[Kind.REMINDER_DAY].due_at == second.starts_at - DAY
    assert now_moved[Kind.REMINDER_HOUR].due_at == second.starts_at - HOUR
    assert now_moved[Kind.REMINDER_DAY].key == f"appointment:{moved.pk}:reminder_24h"
    assert rows(appointment=previous, state=State.PENDING) == []
    notice = Notification.objects.get(appointment=moved, kind=Kind.RESCHEDULED)
    assert notice.detail == {"previous_starts_at": first.starts_at.isoformat()}

    # Sending everything up to the new session: each message once, none for the old time.
    for moment in sorted({clock.now, first.starts_at - DAY, first.starts_at - HOUR, second.starts_at - DAY}):
        clock.set(moment)
        notifications_sweep()
    clock.set(second.starts_at - HOUR)
    notifications_sweep()
    notifications_sweep()

    bodies = sent_bodies(local_sms)
    assert [b.split("：")[0] for b in bodies] == [
        "【信访局】预约成功",
        "【信访局】已改约",
        "【信访局】提醒",
        "【信访局】提醒",
    ]
    assert len(set(bodies)) == len(bodies)
    assert all(n.state == State.SENT for n in rows(appointment=moved))
    assert Notification.objects.filter(state=State.SENT).count() == local_sms.count() == 4


def test_rescheduling_to_a_time_less_than_a_day_ahead_drops_the_day_reminder(kiosk, petition, open_slots, clock):
    first, second = open_slots[0], open_slots[-1]
    previous = book_before(kiosk, petition, first, clock=clock, days=3)
    day_reminder = Notification.objects.get(appointment=previous, kind=Kind.REMINDER_DAY)

    clock.set(second.starts_at - dt.timedelta(hours=5))
    moved = appointment_reschedule(actor=kiosk, appointment_id=previous.pk, slot_id=second.pk)

    day_reminder.refresh_from_db()
    assert day_reminder.state == State.CANCELLED
    assert kinds_and_states(appointment=moved) == [
        (Kind.RESCHEDULED, State.PENDING),
        (Kind.REMINDER_HOUR, State.PENDING),
    ]


def test_a_day_reminder_already_sent_for_the_old_time_is_planned_again_for_the_new_one(
    kiosk, petition, open_slots, clock, local_sms
):
    first, second = open_slots[0], open_slots[-1]
    previous = book_before(kiosk, petition, first, clock=clock, days=2)
    clock.set(first.starts_at - DAY)
    notifications_sweep()
    assert Notification.objects.get(appointment=previous, kind=Kind.REMINDER_DAY).state == State.SENT

    moved = appointment_reschedule(actor=kiosk, appointment_id=previous.pk, slot_id=second.pk)

    assert Notification.objects.get(appointment=previous, kind=Kind.REMINDER_DAY).state == State.SENT
    again = Notification.objects.get(appointment=moved, kind=Kind.REMINDER_DAY)
    assert (again.state, again.due_at) == (State.PENDING, second.starts_at - DAY)


# Cancelling and withdrawing ------------------------------------------------------------------------------------


def test_a_resident_cancelling_stops_the_reminders_and_is_told_it_is_cancelled(
    kiosk, petition, open_slots, clock, local_sms
):
    slot = open_slots[0]
    appointment = book_before(kiosk, petition, slot, clock=clock, days=2)

    appointment_cancel(actor=kiosk, appointment_id=appointment.pk, reason="有事去不了")
    for moment in (clock.now, slot.starts_at - DAY, slot.starts_at - HOUR):
        clock.set(moment)
        notifications_sweep()

    assert kinds_and_states(appointment=appointment) == [
        (Kind.BOOKED, State.CANCELLED),
        (Kind.CANCELLED, State.SENT),
        (Kind.REMINDER_DAY, State.CANCELLED),
        (Kind.REMINDER_HOUR, State.CANCELLED),
    ]
    (body,) = sent_bodies(local_sms)
    assert body.startswith("【信访局】已取消：") and petition.reference in body
    assert "有事去不了" not in body


def test_a_withdrawn_time_tells_the_resident_the_departments_reason(
    kiosk, petition, open_slots, clock, dept_admin, local_sms
):
    slot = open_slots[0]
    appointment = book_before(kiosk, petition, slot, clock=clock, days=2)
    notifications_sweep()

    slot_withdraw(actor=dept_admin, slot_id=slot.pk, reason="当天全局停电检修")
    notifications_sweep()

    withdrawn = Notification.objects.get(appointment=appointment, kind=Kind.WITHDRAWN)
    assert withdrawn.detail == {"reason": "当天全局停电检修"}
    assert withdrawn.state == State.SENT
    assert "区房产局取消了" in withdrawn.body and "原因：当天全局停电检修" in withdrawn.body
    assert rows(appointment=appointment, kind__startswith="reminder", state=State.PENDING) == []
    assert Notification.objects.filter(kind=Kind.CANCELLED).count() == 0


def test_a_referral_cancels_the_session_saying_where_the_matter_went(
    kiosk, petition, open_slots, clock, officer, other_department, local_sms
):
    appointment = book_before(kiosk, petition, open_slots[0], clock=clock, days=2)

    petition_refer(actor=officer, petition=petition, to_department=other_department.code, reason="属人社局职责")
    notifications_sweep()

    notice = Notification.objects.get(appointment=appointment, kind=Kind.CANCELLED)
    assert notice.detail == {"reason": "referred", "to_department": "区人社局"}
    assert "事项已转区人社局办理" in notice.body
    assert notice.state == State.SENT


def test_a_lapsed_waiting_list_offer_tells_nobody(kiosk, petition, open_slots, clock):
    appointment = book_before(kiosk, petition, open_slots[0], clock=clock, days=2)
    Appointment.objects.filter(pk=appointment.pk).update(
        status=Appointment.Status.CANCELLED, cancel_reason_code="offer_lapsed", cancelled_at=clock.now
    )
    appointment.refresh_from_db()

    notifications_for_cancel(appointment=appointment)

    assert {state for _kind, state in kinds_and_states(appointment=appointment)} == {State.CANCELLED}
    assert Notification.objects.filter(kind__in=[Kind.CANCELLED, Kind.WITHDRAWN]).count() == 0


def test_a_cancellation_with_notify_off_stops_reminders_without_a_notice(kiosk, petition, open_slots, clock):
    appointment = book_before(kiosk, petition, open_slots[0], clock=clock, days=2)
    Appointment.objects.filter(pk=appointment.pk).update(
        status=Appointment.Status.CANCELLED, cancel_reason_code="cancelled_by_resident", cancelled_at=clock.now
    )
    appointment.refresh_from_db()

    notifications_for_cancel(appointment=appointment, notify=False)

    assert {state for _kind, state in kinds_and_states(appointment=appointment)} == {State.CANCELLED}


# The answer ----------------------------------------------------------------------------------------------------


def test_an_answer_is_sent_with_a_link_that_rates_it(petition, dept_staff, client, local_sms):
    outcome = outcome_record(
        actor=dept_staff,
        petition=petition,
        data=OutcomeIn(answer="经核实，房产证将于一个月内办好。", items=[ItemIn(request="办证", decision="supported")]),
    )
    notifications_sweep()

    (body,) = sent_bodies(local_sms)
    assert body.startswith("【信访局】区房产局已答复您的事项" + petition.reference)
    link = re.search(r"https?://\S+/r/[^/\s]+/", body).group(0)
    page = client.get(urlsplit(link).path)
    assert page.status_code == 200
    assert "房产证将于一个月内办好" in page.content.decode()

    rated = client.post(urlsplit(link).path, {"level": "satisfied"})

    assert rated.status_code == 302
    rating = Rating.objects.get(outcome=outcome)
    assert (rating.level, rating.kiosk) == ("satisfied", None)


def test_messages_queued_together_are_the_rows_the_queue_writes_one_by_one(db):
    """The booking's one INSERT of its sending tasks writes what django-tasks-db's own enqueue writes."""
    from appointments.notify.services import notifications_send_enqueue
    from appointments.notify.tasks import notification_send_task

    later = dt.datetime(2031, 5, 6, 7, 8, tzinfo=dt.UTC)
    columns = ("status", "args_kwargs", "priority", "task_path", "queue_name", "backend_name", "run_after")
    notification_send_task.enqueue(101)
    notification_send_task.using(run_after=later).enqueue(102)
    one_by_one = list(DBTaskResult.objects.order_by("enqueued_at").values_list(*columns))
    DBTaskResult.objects.all().delete()

    notifications_send_enqueue([(101, dt.datetime(2000, 1, 1, tzinfo=dt.UTC)), (102, later)])
    together = list(DBTaskResult.objects.order_by("enqueued_at").values_list(*columns))

    assert together == one_by_one
    assert together[0][-1] == get_date_max() and together[1][-1] == later
