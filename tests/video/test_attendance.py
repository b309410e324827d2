"""After a slot ends plus the grace period: who never came is a no-show, and a missing department is flagged."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from appointments.booking import appointment_book, appointment_check_in
from appointments.models import Appointment, VideoParticipant, VideoSession
from appointments.video.services import video_attendance_sweep, video_token_issue
from appointments.video.tasks import video_attendance_sweep_task
from departments.audit import AuditEvent
from tests import factories as f
from tests.video.support import slot_move

pytestmark = pytest.mark.django_db


def connect(session: VideoSession, side: str, sid: str, at: dt.datetime) -> None:
    VideoParticipant.objects.create(session=session, participant_sid=sid, identity=f"{side}:x", side=side, joined_at=at)


@pytest.fixture
def ended(local_video, appointment, dept_staff, settings):
    """The appointment's slot ended just over the grace period ago, and its room had been opened."""
    settings.VIDEO_NO_SHOW_GRACE_MINUTES = 15
    now = timezone.now()
    slot_move(appointment.slot, starts_at=now - dt.timedelta(minutes=30 + 16))
    appointment.refresh_from_db()
    session = video_token_issue(actor=dept_staff, appointment_id=appointment.pk, now=appointment.slot.starts_at).session
    return appointment, session, now


def test_a_resident_who_never_connected_is_a_no_show(ended):
    appointment, session, now = ended

    result = video_attendance_sweep(now=now)

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.NO_SHOW
    assert result.no_show == [appointment.pk]
    assert AuditEvent.objects.filter(action="appointment.no_show", target_id=str(appointment.pk)).exists()


def test_after_a_no_show_the_petition_can_be_booked_again(ended):
    appointment, session, now = ended

    video_attendance_sweep(now=now)

    appointment.petition.refresh_from_db()
    assert appointment.petition.status == "received"


def test_nothing_is_decided_before_the_grace_period_is_over(ended):
    appointment, session, now = ended

    video_attendance_sweep(now=appointment.slot.ends_at + dt.timedelta(minutes=14))

    appointment.refresh_from_db()
    session.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
    assert session.attendance_checked_at is None and session.flagged_at is None


def test_a_session_no_department_staff_joined_is_flagged_to_the_petition_office(ended):
    appointment, session, now = ended
    connect(session, "community", "PA1", appointment.slot.starts_at)
    connect(session, "petition_office", "PA2", appointment.slot.starts_at)

    result = video_attendance_sweep(now=now)

    appointment.refresh_from_db()
    session.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
    assert result.flagged == [appointment.pk]
    assert session.flagged_at == now
    assert session.resident_side_attended is True and session.department_attended is False
    assert session.flag_reason  # written in the service's language, for the petition office to read


def test_a_session_both_sides_attended_is_completed_neither_a_no_show_nor_flagged(ended):
    appointment, session, now = ended
    connect(session, "community", "PA1", appointment.slot.starts_at)
    connect(session, "department", "PA2", appointment.slot.starts_at)

    result = video_attendance_sweep(now=now)

    appointment.refresh_from_db()
    session.refresh_from_db()
    assert appointment.status == Appointment.Status.COMPLETED
    # The consultation took place; the petition waits for the department's answer.
    assert appointment.petition.status == "in_consultation"
    assert (result.no_show, result.flagged, result.checked) == ([], [], 1)
    assert session.flagged_at is None and session.attendance_checked_at == now


def test_nobody_at_all_is_both_a_no_show_and_a_flag(ended):
    appointment, session, now = ended

    result = video_attendance_sweep(now=now)

    assert result.no_show == [appointment.pk] and result.flagged == [appointment.pk]


def test_a_resident_checked_in_whose_office_never_connected_is_flagged_not_a_no_show(ended, kiosk):
    appointment, session, now = ended
    Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.CHECKED_IN, checked_in_at=now)
    connect(session, "department", "PA2", appointment.slot.starts_at)

    result = video_attendance_sweep(now=now)

    appointment.refresh_from_db()
    session.refresh_from_db()
    assert appointment.status == Appointment.Status.CHECKED_IN
    assert result.flagged == [appointment.pk] and session.flagged_at is not None


def test_an_appointment_nobody_opened_a_room_for_is_decided_too(local_video, appointment):
    now = appointment.slot.ends_at + dt.timedelta(minutes=16)

    video_attendance_sweep(now=now)

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.NO_SHOW
    assert VideoSession.objects.get(appointment=appointment).flagged_at == now


def test_sweeping_twice_decides_once(ended):
    appointment, session, now = ended

    video_attendance_sweep(now=now)
    second = video_attendance_sweep(now=now + dt.timedelta(minutes=5))

    assert second.checked == 0 and second.no_show == []
    assert AuditEvent.objects.filter(action="appointment.no_show").count() == 1


def test_cancelled_appointments_are_left_alone(local_video, appointment, kiosk):
    from appointments.booking import appointment_cancel

    appointment_cancel(actor=kiosk, appointment_id=appointment.pk)

    result = video_attendance_sweep(now=appointment.slot.ends_at + dt.timedelta(hours=1))

    assert result.checked == 0
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED


def test_a_room_still_open_when_joining_closes_is_ended(ended, local_video):
    appointment, session, now = ended
    later = appointment.slot.ends_at + dt.timedelta(minutes=31)

    result = video_attendance_sweep(now=later)

    session.refresh_from_db()
    assert result.rooms_completed == 1
    assert session.status == VideoSession.Status.COMPLETED
    assert ("room_complete", {"room_sid": session.room_sid}) in local_video


def test_the_task_runs_the_sweep(ended):
    appointment, session, now = ended

    outcome = video_attendance_sweep_task.call()

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.NO_SHOW
    assert outcome["no_show"] == [appointment.pk]


def test_booking_queues_sweeps_for_after_the_grace_period_and_the_join_window(
    local_video, kiosk, published, open_slots, django_capture_on_commit_callbacks, settings
):
    petition = f.petition(kiosk, published)
    with django_capture_on_commit_callbacks(execute=True):
        booked = appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=open_slots[1].pk)

    ends_at = booked.appointment.slot.ends_at
    queued = sorted(
        DBTaskResult.objects.filter(task_path__endswith="video_attendance_sweep_task"), key=lambda r: r.run_after
    )
    assert [r.run_after for r in queued] == [
        ends_at + dt.timedelta(minutes=settings.VIDEO_NO_SHOW_GRACE_MINUTES + 1),
        ends_at + dt.timedelta(minutes=settings.VIDEO_JOIN_CLOSES_AFTER_MINUTES + 1),
    ]


@pytest.mark.django_db(transaction=True)
def test_the_database_worker_runs_a_queued_sweep(ended):
    appointment, session, now = ended
    queued = video_attendance_sweep_task.enqueue()

    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.NO_SHOW
    assert DBTaskResult.objects.get(pk=queued.id).status == "SUCCESSFUL"


def test_the_management_command_runs_the_same_sweep(ended, capsys):
    appointment, session, now = ended

    call_command("video_sweep")

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.NO_SHOW
    assert "no-show 1" in capsys.readouterr().out


def test_check_in_still_works_before_the_sweep(local_video, appointment, worker):
    appointment_check_in(actor=worker, appointment_id=appointment.pk, now=appointment.slot.starts_at)

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CHECKED_IN


def test_bookings_sharing_a_time_share_its_sweeps(
    local_video, kiosk, published, open_slots, django_capture_on_commit_callbacks, settings
):
    slot = open_slots[1]
    assert slot.capacity >= 2
    for n in range(min(slot.capacity, 3)):
        petition = f.petition(kiosk, published, name=["王秀兰", "李建国", "张伟"][n])
        with django_capture_on_commit_callbacks(execute=True):
            appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=slot.pk)
    later = next(s for s in open_slots if s.ends_at > slot.ends_at)
    with django_capture_on_commit_callbacks(execute=True):
        appointment_book(actor=kiosk, petition_reference=f.petition(kiosk, published).reference, slot_id=later.pk)

    queued = sorted(r.run_after for r in DBTaskResult.objects.filter(task_path__endswith="video_attendance_sweep_task"))
    grace, closes = settings.VIDEO_NO_SHOW_GRACE_MINUTES + 1, settings.VIDEO_JOIN_CLOSES_AFTER_MINUTES + 1
    expected = {ends + dt.timedelta(minutes=m) for ends in (slot.ends_at, later.ends_at) for m in (grace, closes)}
    assert queued == sorted(expected)


def test_a_booking_rolled_back_leaves_its_sweeps_to_the_next_booking_of_that_time(
    local_video, kiosk, published, open_slots, django_capture_on_commit_callbacks, settings, monkeypatch
):
    from appointments.notify import services as notify_services

    slot = open_slots[1]
    petition = f.petition(kiosk, published, name="王秀兰")

    class Refused(Exception):
        pass

    def queued_then_refused(**kwargs):
        real(**kwargs)  # the messages and the sweeps are written, in the booking's transaction
        raise Refused

    real = notify_services.notifications_for_booking
    monkeypatch.setattr(notify_services, "notifications_for_booking", queued_then_refused)
    with pytest.raises(Refused), django_capture_on_commit_callbacks(execute=True):
        appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=slot.pk)
    assert not DBTaskResult.objects.exists()
    monkeypatch.undo()

    with django_capture_on_commit_callbacks(execute=True):
        appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=slot.pk)
    queued = DBTaskResult.objects.filter(task_path__endswith="video_attendance_sweep_task")
    grace, closes = settings.VIDEO_NO_SHOW_GRACE_MINUTES + 1, settings.VIDEO_JOIN_CLOSES_AFTER_MINUTES + 1
    assert sorted(r.run_after for r in queued) == [slot.ends_at + dt.timedelta(minutes=m) for m in (grace, closes)]


def test_a_move_queues_the_sweeps_of_its_new_time(
    local_video, kiosk, published, open_slots, django_capture_on_commit_callbacks, settings
):
    from appointments.booking import appointment_reschedule

    booked = appointment_book(
        actor=kiosk, petition_reference=f.petition(kiosk, published).reference, slot_id=open_slots[1].pk
    )
    later = next(s for s in open_slots if s.ends_at > open_slots[1].ends_at)
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        appointment_reschedule(actor=kiosk, appointment_id=booked.appointment.pk, slot_id=later.pk)

    queued = sorted(r.run_after for r in DBTaskResult.objects.filter(task_path__endswith="video_attendance_sweep_task"))
    grace, closes = settings.VIDEO_NO_SHOW_GRACE_MINUTES + 1, settings.VIDEO_JOIN_CLOSES_AFTER_MINUTES + 1
    assert queued == [later.ends_at + dt.timedelta(minutes=m) for m in (grace, closes)]
