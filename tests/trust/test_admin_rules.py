"""The admin inside the rules: records the services own are shown, never edited or deleted, and its actions call
the same services as every other page; people on record are deactivated, never deleted. Through the real pages."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client

from appointments.booking import appointment_book
from appointments.models import Appointment, Petition, VideoSession
from departments.audit import AuditEvent
from departments.models import ApiToken, StaffMember
from scheduler.models import ScheduleWeek, Slot
from tests import factories as f

pytestmark = pytest.mark.django_db

ROOT_PASSWORD = "pw-for-tests-123"


def admin_client_for(user, language="zh-hans") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


@pytest.fixture
def officer_root():
    """A superuser who is also a petition officer: the admin acts through the services as that officer."""
    user = get_user_model().objects.create_superuser("chief", "chief@example.invalid", ROOT_PASSWORD)
    StaffMember.objects.create(user=user, role=StaffMember.Role.PETITION_OFFICER)
    return user


@pytest.fixture
def root_client(officer_root):
    return admin_client_for(officer_root)


@pytest.fixture
def booked(kiosk, open_slots, published):
    petition = f.petition(kiosk, published, name="赵桂芝", id_number=f.valid_id_number(area="210104"))
    slot = open_slots[-1]
    appointment = appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=slot.pk).appointment
    return appointment


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def action(client, url, name, objects, **extra):
    data = {"action": name, "_selected_action": [str(o.pk) for o in objects], "index": "0", **extra}
    return client.post(url, data, follow=True)


def test_an_appointment_cannot_be_deleted_in_the_admin_and_its_seat_stays_taken(root_client, booked):
    url = f"/admin/appointments/appointment/{booked.pk}/"

    assert root_client.get(f"{url}delete/").status_code == 403
    assert root_client.post(f"{url}delete/", {"post": "yes"}).status_code == 403
    assert root_client.post(f"{url}change/", {"status": "cancelled"}).status_code == 403
    bulk = action(root_client, "/admin/appointments/appointment/", "delete_selected", [booked], post="yes")

    assert bulk.status_code == 200
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED
    assert booked.seat_id is not None
    assert Petition.objects.get(pk=booked.petition_id).status == Petition.Status.SCHEDULED


def test_cancelling_in_the_admin_asks_a_reason_then_cancels_through_the_service(root_client, booked):
    changelist = "/admin/appointments/appointment/"

    asked = action(root_client, changelist, "cancel_with_reason", [booked])
    assert asked.status_code == 200
    assert 'name="reason"' in asked.content.decode()
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED

    done = action(root_client, changelist, "cancel_with_reason", [booked], apply="1", reason="部门临时停电，请改约")

    assert done.status_code == 200
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.CANCELLED
    assert booked.cancel_reason == "部门临时停电，请改约"
    assert Petition.objects.get(pk=booked.petition_id).status == Petition.Status.RECEIVED
    event = AuditEvent.objects.get(action="appointment.cancel", target_id=str(booked.pk))
    assert event.user.username == "chief"
    assert any("1" in m for m in messages_of(done))


def test_a_cancellation_without_a_reason_is_asked_again_and_changes_nothing(root_client, booked):
    again = action(
        root_client, "/admin/appointments/appointment/", "cancel_with_reason", [booked], apply="1", reason=" "
    )

    assert again.status_code == 200
    assert "errornote" in again.content.decode()
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED


def test_a_refusal_of_the_service_is_shown_as_a_message_in_the_admins_language(officer_root, booked):
    changelist = "/admin/appointments/appointment/"
    english = admin_client_for(officer_root, "en")
    action(english, changelist, "cancel_with_reason", [booked], apply="1", reason="first")
    booked.refresh_from_db()
    cancelled_at = booked.cancelled_at

    second = action(english, changelist, "cancel_with_reason", [booked], apply="1", reason="again")
    chinese = action(admin_client_for(officer_root), changelist, "cancel_with_reason", [booked], apply="1", reason="再")

    assert any("cannot be cancelled" in m for m in messages_of(second))
    assert any("无法取消" in m or "不能取消" in m for m in messages_of(chinese)), messages_of(chinese)
    booked.refresh_from_db()
    assert (booked.cancel_reason, booked.cancelled_at) == ("first", cancelled_at)


def test_an_admin_account_that_is_no_staff_member_cannot_act(booked):
    bare_root = get_user_model().objects.create_superuser("root", "root@example.invalid", ROOT_PASSWORD)
    client = admin_client_for(bare_root, "en")

    response = action(client, "/admin/appointments/appointment/", "cancel_with_reason", [booked], apply="1", reason="x")

    assert any("not linked to a staff member" in m for m in messages_of(response))
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED


def test_a_petition_cannot_be_moved_to_another_department_in_the_admin(root_client, booked, other_department):
    url = f"/admin/appointments/petition/{booked.petition_id}/change/"

    assert root_client.post(url, {"department": other_department.pk, "status": "received"}).status_code == 403

    petition = Petition.objects.get(pk=booked.petition_id)
    assert petition.department_id == booked.slot.department_id
    assert petition.status == Petition.Status.SCHEDULED


def test_a_weeks_status_cannot_be_edited_and_publishing_goes_through_the_service(root_client, published):
    week = ScheduleWeek.objects.filter(department=published).order_by("iso_year", "iso_week").last()
    url = f"/admin/scheduler/scheduleweek/{week.pk}/"

    page = root_client.get(f"{url}change/")
    assert page.status_code == 200
    assert 'name="status"' not in page.content.decode()
    assert root_client.post(f"{url}change/", {"status": "draft"}).status_code == 403
    assert root_client.post(f"{url}delete/", {"post": "yes"}).status_code == 403
    assert root_client.get("/admin/scheduler/scheduleweek/add/").status_code == 403
    week.refresh_from_db()
    assert week.status == ScheduleWeek.Status.PUBLISHED

    action(root_client, "/admin/scheduler/scheduleweek/", "publish_from_rules", [week])

    week.refresh_from_db()
    assert week.published_by.username == "chief"
    assert AuditEvent.objects.filter(action="week.publish", target_id=str(week.pk)).exists()


def test_a_department_admin_cannot_publish_another_departments_week_from_the_admin(published, other_department):
    user = f.staff("renshe_admin", StaffMember.Role.DEPARTMENT_ADMIN, department=other_department).user
    user.is_staff = user.is_superuser = True
    user.save()
    week = ScheduleWeek.objects.filter(department=published).first()
    published_at = week.published_at

    response = action(admin_client_for(user, "en"), "/admin/scheduler/scheduleweek/", "publish_from_rules", [week])

    assert any("Only the department's admin or a petition officer" in m for m in messages_of(response))
    week.refresh_from_db()
    assert week.published_at == published_at


def test_a_slot_is_withdrawn_only_with_a_reason_and_its_bookings_are_cancelled(root_client, booked):
    slot = booked.slot
    url = f"/admin/scheduler/slot/{slot.pk}/"
    assert root_client.post(f"{url}delete/", {"post": "yes"}).status_code == 403
    assert Slot.objects.filter(pk=slot.pk).exists()

    action(root_client, "/admin/scheduler/slot/", "withdraw_with_reason", [slot], apply="1", reason="办公楼检修")

    slot.refresh_from_db()
    booked.refresh_from_db()
    assert slot.status == Slot.Status.WITHDRAWN
    assert (booked.status, booked.cancel_reason_code, booked.cancel_reason) == (
        "cancelled",
        "slot_withdrawn",
        "办公楼检修",
    )


def test_video_sessions_and_outcomes_cannot_be_added_changed_or_deleted(root_client):
    for model in ("videosession", "outcome", "appointment", "slot"):
        app = "scheduler" if model == "slot" else "appointments"
        assert root_client.get(f"/admin/{app}/{model}/").status_code == 200
        assert root_client.get(f"/admin/{app}/{model}/add/").status_code == 403
    assert not VideoSession.objects.exists()


def test_a_staff_users_account_cannot_be_deleted_and_the_admin_says_why(root_client, officer_root, department):
    member = f.staff("fangchan_li", StaffMember.Role.DEPARTMENT_STAFF, department=department)
    url = f"/admin/auth/user/{member.user_id}/delete/"

    shown = root_client.get(url, follow=True)
    posted = root_client.post(url, {"post": "yes"}, follow=True)
    bulk = action(root_client, "/admin/auth/user/", "delete_selected", [member.user], post="yes")

    assert shown.redirect_chain[0][0] == f"/admin/auth/user/{member.user_id}/change/"
    assert any("不能删除" in m or "cannot be deleted" in m for m in messages_of(posted)), messages_of(posted)
    assert bulk.status_code == 200
    assert get_user_model().objects.filter(pk=member.user_id, is_active=True).exists()


def test_someone_in_the_audit_trail_is_kept_even_without_a_staff_record(root_client, booked):
    worker = get_user_model().objects.create_user("former_worker", password=ROOT_PASSWORD)
    AuditEvent.objects.create(
        actor="staff:999", user=worker, action="appointment.check_in", target_type="x", target_id="1"
    )

    english = admin_client_for(get_user_model().objects.get(username="chief"), "en")
    response = english.post(f"/admin/auth/user/{worker.pk}/delete/", {"post": "yes"}, follow=True)

    assert any("Deactivate" in m for m in messages_of(response))
    assert get_user_model().objects.filter(pk=worker.pk).exists()


def test_an_account_nobody_relies_on_can_still_be_deleted(root_client):
    typo = get_user_model().objects.create_user("typo_account", password=ROOT_PASSWORD)

    root_client.post(f"/admin/auth/user/{typo.pk}/delete/", {"post": "yes"})

    assert not get_user_model().objects.filter(pk=typo.pk).exists()


def test_deactivating_a_staff_member_stops_sign_in_and_tokens_and_is_audited(root_client, department):
    member = f.staff("fangchan_wang", StaffMember.Role.DEPARTMENT_ADMIN, department=department)
    token = f.token_for(member)

    action(root_client, "/admin/auth/user/", "deactivate", [member.user])

    member.user.refresh_from_db()
    assert member.user.is_active is False
    assert not ApiToken.objects.filter(staff=member, revoked_at__isnull=True).exists()
    assert (
        Client().post("/accounts/login/", {"username": "fangchan_wang", "password": ROOT_PASSWORD}).status_code == 200
    )
    api = Client().get("/api/v1/reports/weekly", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.status_code == 401
    event = AuditEvent.objects.get(action="user.deactivate", target_id=str(member.user_id))
    assert event.user.username == "chief"


def test_a_token_is_revoked_by_the_action_and_editing_never_brings_it_back(root_client, department):
    member = f.staff("fangchan_qian", StaffMember.Role.DEPARTMENT_STAFF, department=department)
    f.token_for(member)
    token = ApiToken.objects.get(staff=member)

    action(root_client, "/admin/departments/apitoken/", "revoke", [token])
    root_client.post(f"/admin/departments/apitoken/{token.pk}/change/", {"name": "tests", "revoked_at_0": ""})

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(action="api_token.revoke", target_id=str(token.pk)).exists()
