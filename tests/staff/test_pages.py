"""The staff pages: each person sees their own sessions, with the resident's ID masked, and can act on them."""

import datetime as dt

import pytest
from django.utils import timezone

from appointments.models import Appointment, VideoSession
from appointments.video.services import video_attendance_sweep
from departments.audit import AuditEvent
from departments.models import StaffMember
from tests import factories as f
from tests.video.support import slot_move

pytestmark = pytest.mark.django_db


def signed_in(client, actor):
    client.force_login(actor.staff.user)
    return client


def test_staff_pages_ask_for_a_sign_in(client):
    response = client.get("/staff/sessions/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/staff/sessions/")


def test_the_sign_in_page_signs_staff_in_and_sends_them_to_their_page(client, dept_staff):
    page = client.get("/accounts/login/?next=/staff/")
    assert page.status_code == 200 and b'name="password"' in page.content

    response = client.post(
        "/accounts/login/", {"username": "dept_staff", "password": "pw-for-tests-123", "next": "/staff/"}
    )
    assert response.status_code == 302
    assert client.get("/staff/")["Location"] == "/staff/sessions/"


def test_a_user_without_a_staff_role_is_refused(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("visitor", password="x-visitor-pass-1"))

    assert client.get("/staff/sessions/").status_code == 403


def test_each_role_lands_on_its_own_page(client, dept_staff, dept_admin, officer, worker):
    for actor, page in ((dept_staff, "sessions"), (dept_admin, "sessions"), (officer, "office"), (worker, "community")):
        assert signed_in(client, actor).get("/staff/")["Location"] == f"/staff/{page}/"


def test_department_staff_see_todays_session_with_the_id_number_masked(client, live_appointment, dept_staff):
    resident = live_appointment.petition.resident

    response = signed_in(client, dept_staff).get("/staff/sessions/")

    content = response.content.decode()
    assert response.status_code == 200
    assert resident.name in content
    assert resident.id_number_masked in content
    assert resident.id_number not in content
    assert live_appointment.petition.reference in content
    assert f"/staff/sessions/{live_appointment.pk}/join/" in content


def test_a_session_later_this_week_shows_when_joining_opens(client, appointment, dept_staff):
    slot_move(appointment.slot, starts_at=timezone.now() + dt.timedelta(hours=3))

    content = signed_in(client, dept_staff).get("/staff/sessions/").content.decode()

    assert appointment.petition.resident.name in content
    assert f"/staff/sessions/{appointment.pk}/join/" not in content


@pytest.mark.parametrize(
    ("now_local", "hours_ahead", "where"),
    [
        ("2026-12-06 23:10", 3, "week"),  # Sunday night, Monday's first session: next calendar week, still shown
        ("2026-12-04 17:00", 64, "week"),  # Friday evening, Monday morning
        ("2026-12-02 09:00", 2, "today"),
        ("2026-12-02 09:00", 24 * 7 + 12, "week"),  # the seventh day ahead, still listed
        ("2026-12-02 09:00", 24 * 8 + 1, None),  # beyond the seventh day
        ("2026-12-02 09:00", -30, None),  # yesterday
    ],
)
def test_department_sessions_cover_today_and_the_next_seven_days_across_the_calendar_week(
    appointment, now_local, hours_ahead, where
):
    from appointments.video.selectors import department_sessions

    now = timezone.make_aware(dt.datetime.fromisoformat(now_local))
    slot_move(appointment.slot, starts_at=now + dt.timedelta(hours=hours_ahead, minutes=7))  # off the grid: no clash

    sessions = department_sessions(department=appointment.slot.department, now=now)

    found = [key for key, rows in sessions.items() if appointment.pk in [r.appointment.pk for r in rows]]
    assert found == ([where] if where else [])


def test_another_departments_staff_do_not_see_the_session(client, live_appointment, outsider):
    content = signed_in(client, outsider).get("/staff/sessions/").content.decode()

    assert live_appointment.petition.resident.name not in content


def test_the_community_worker_sees_who_is_booked_today_and_checks_them_in(client, live_appointment, worker):
    signed_in(client, worker)
    page = client.get("/staff/community/").content.decode()
    assert live_appointment.petition.resident.name in page
    assert f"/staff/community/check-in/{live_appointment.pk}" in page

    response = client.post(f"/staff/community/check-in/{live_appointment.pk}")

    assert response.status_code == 302
    live_appointment.refresh_from_db()
    assert live_appointment.status == Appointment.Status.CHECKED_IN
    assert AuditEvent.objects.filter(action="appointment.check_in", actor=worker.principal).exists()


def test_a_worker_of_another_community_can_neither_see_nor_check_in(client, live_appointment, other_worker):
    signed_in(client, other_worker)
    assert live_appointment.petition.resident.name not in client.get("/staff/community/").content.decode()

    client.post(f"/staff/community/check-in/{live_appointment.pk}")

    live_appointment.refresh_from_db()
    assert live_appointment.status == Appointment.Status.BOOKED


def test_the_petition_office_sees_live_sessions_of_every_department(client, live_appointment, officer):
    content = signed_in(client, officer).get("/staff/office/").content.decode()

    assert live_appointment.petition.resident.name in content
    assert str(live_appointment.slot.department) in content
    assert f"/staff/sessions/{live_appointment.pk}/join/" in content


def test_a_flagged_session_shows_for_the_petition_office_until_it_is_dealt_with(
    client, local_video, appointment, officer
):
    video_attendance_sweep(now=appointment.slot.ends_at + dt.timedelta(minutes=16))
    session = VideoSession.objects.get(appointment=appointment)
    signed_in(client, officer)
    assert session.flag_reason in client.get("/staff/office/").content.decode()

    client.post(f"/staff/office/flags/{session.pk}/clear")

    session.refresh_from_db()
    assert session.flagged_at is None
    assert AuditEvent.objects.filter(action="video.flag_cleared").exists()


def test_only_the_petition_office_opens_the_office_page(client, dept_admin):
    assert signed_in(client, dept_admin).get("/staff/office/").status_code == 403


# Joining --------------------------------------------------------------------------------------------------------


def test_the_join_page_has_the_call_controls(client, local_video, live_appointment, dept_staff):
    response = signed_in(client, dept_staff).get(f"/staff/sessions/{live_appointment.pk}/join/")

    content = response.content.decode()
    assert response.status_code == 200
    for control in ('id="join"', 'id="mute"', 'id="camera"', 'id="leave"', 'id="reconnecting"', 'id="elapsed"'):
        assert control in content
    assert "vendor/twilio-video.min.js" in content
    assert "//cdn" not in content and "https://" not in content


def test_the_local_backend_says_plainly_that_no_provider_is_configured(client, local_video, live_appointment, worker):
    content = signed_in(client, worker).get(f"/staff/sessions/{live_appointment.pk}/join/").content.decode()

    assert 'id="local-notice"' in content
    assert 'id="expected"' in content


def test_an_outsider_opening_the_join_page_is_told_it_does_not_exist_and_nothing_is_recorded(
    client, local_video, live_appointment, outsider
):
    before = AuditEvent.objects.count()

    response = signed_in(client, outsider).get(f"/staff/sessions/{live_appointment.pk}/join/")

    assert response.status_code == 404
    assert b'role="alert"' in response.content
    assert AuditEvent.objects.count() == before


# The join token itself is an API operation: tests/trust/test_video_token_api.py.


def test_department_staff_can_end_the_room_for_everyone(client, twilio_video, live_appointment, dept_staff, kiosk_key):
    client.post(f"/api/v1/appointments/{live_appointment.pk}/video-token", headers={"X-Kiosk-Key": kiosk_key})

    response = signed_in(client, dept_staff).post(f"/staff/sessions/{live_appointment.pk}/end")

    assert response.status_code == 302
    method, url, data = twilio_video.sent[-1]
    assert url.endswith(VideoSession.objects.get().room_sid) and data == {"Status": "completed"}
    assert VideoSession.objects.get().status == VideoSession.Status.COMPLETED


def test_a_community_worker_cannot_end_the_room(client, local_video, live_appointment, worker):
    response = signed_in(client, worker).post(f"/staff/sessions/{live_appointment.pk}/end")

    assert response.status_code == 403


# Weekly hours ---------------------------------------------------------------------------------------------------


def test_the_department_admin_sees_the_coming_weeks_with_holidays_and_make_up_days(client, dept_admin, published):
    from scheduler.models import HolidayOverride

    today = timezone.localdate()
    monday = today + dt.timedelta(days=7 - today.weekday())
    HolidayOverride.objects.create(date=monday, kind="holiday", name="测试假日")
    HolidayOverride.objects.create(date=monday + dt.timedelta(days=5), kind="working_day", name="调休上班")

    response = signed_in(client, dept_admin).get("/staff/hours/")
    assert response.status_code == 302
    content = client.get(response["Location"]).content.decode()

    assert "kind-holiday" in content and "测试假日" in content
    assert "kind-makeup_workday" in content
    assert content.count('name="action" value="publish"') == 4


def test_an_admin_cannot_keep_another_departments_hours(client, outsider, department):
    assert signed_in(client, outsider).get(f"/staff/hours/{department.code}/").status_code == 403


def test_department_staff_cannot_keep_hours(client, dept_staff, department):
    assert signed_in(client, dept_staff).get(f"/staff/hours/{department.code}/").status_code == 403


def test_a_petition_officer_can_keep_any_departments_hours(client, officer, department, other_department):
    signed_in(client, officer)
    assert client.get("/staff/hours/").status_code == 200
    assert client.get(f"/staff/hours/{other_department.code}/").status_code == 200


def test_an_admin_adds_a_rule(client, dept_admin, department):
    response = signed_in(client, dept_admin).post(
        f"/staff/hours/{department.code}/",
        {
            "action": "rule-save",
            "rule-weekday": "2",
            "rule-start_time": "14:00",
            "rule-end_time": "16:00",
            "rule-session_minutes": "30",
            "rule-buffer_minutes": "0",
            "rule-capacity": "2",
            "rule-effective_from": "2026-01-01",
            "rule-min_notice_minutes": "60",
            "rule-booking_window_days": "14",
        },
    )

    assert response.status_code == 302
    rule = department.rules.get()
    assert (rule.weekday, rule.start_time, rule.capacity) == (2, dt.time(14), 2)
    assert AuditEvent.objects.filter(action="rule.create", actor=dept_admin.principal).exists()


def test_a_rule_that_ends_before_it_starts_is_refused_with_the_form_shown_again(client, dept_admin, department):
    response = signed_in(client, dept_admin).post(
        f"/staff/hours/{department.code}/",
        {
            "action": "rule-save",
            "rule-weekday": "2",
            "rule-start_time": "16:00",
            "rule-end_time": "14:00",
            "rule-session_minutes": "30",
            "rule-buffer_minutes": "0",
            "rule-capacity": "2",
            "rule-effective_from": "2026-01-01",
            "rule-min_notice_minutes": "60",
            "rule-booking_window_days": "14",
        },
    )

    assert response.status_code == 200
    assert b'class="error"' in response.content
    assert not department.rules.exists()


def test_an_admin_edits_and_deletes_a_rule(client, dept_admin, department):
    rule = f.rule(department, weekday=0)
    signed_in(client, dept_admin)
    assert b'value="09:00"' in client.get(f"/staff/hours/{department.code}/?rule={rule.pk}").content

    client.post(f"/staff/hours/{department.code}/", {"action": "rule-delete", "rule_id": rule.pk})

    assert not department.rules.exists()


def test_an_admin_adds_and_removes_a_closure(client, dept_admin, department):
    signed_in(client, dept_admin)
    client.post(
        f"/staff/hours/{department.code}/",
        {
            "action": "closure-save",
            "closure-start_date": "2026-12-24",
            "closure-end_date": "2026-12-25",
            "closure-reason": "年终盘点",
        },
    )
    closure = department.closures.get()
    assert closure.reason == "年终盘点"

    client.post(f"/staff/hours/{department.code}/", {"action": "closure-delete", "closure_id": closure.pk})

    assert not department.closures.exists()


def test_publishing_a_week_makes_its_times(client, dept_admin, department):
    f.weekday_rules(department)
    year, week, _ = (timezone.localdate() + dt.timedelta(days=7)).isocalendar()

    response = signed_in(client, dept_admin).post(
        f"/staff/hours/{department.code}/",
        {"action": "publish", "week": f"{year}-W{week:02d}", "confirm_provisional_holidays": "1"},
    )

    assert response.status_code == 302
    week_row = department.weeks.get(iso_year=year, iso_week=week)
    assert week_row.status == "published" and week_row.slots.exists()
    assert week_row.published_by == dept_admin.staff.user


def test_a_week_in_an_unannounced_holiday_year_needs_an_explicit_confirmation(client, dept_admin, department, settings):
    settings.HOLIDAY_CONFIRMED_YEARS = []
    f.weekday_rules(department)
    year, week, _ = (timezone.localdate() + dt.timedelta(days=7)).isocalendar()
    label = f"{year}-W{week:02d}"
    signed_in(client, dept_admin)
    page = client.get(f"/staff/hours/{department.code}/").content.decode()
    assert f'id="confirm-{label}"' in page

    refused = client.post(f"/staff/hours/{department.code}/", {"action": "publish", "week": label})
    assert refused.status_code == 422
    assert b'role="alert"' in refused.content
    assert not department.weeks.filter(iso_year=year, iso_week=week, status="published").exists()

    accepted = client.post(
        f"/staff/hours/{department.code}/", {"action": "publish", "week": label, "confirm_provisional_holidays": "1"}
    )
    assert accepted.status_code == 302
    assert department.weeks.get(iso_year=year, iso_week=week).provisional_holidays_confirmed


def test_a_community_worker_cannot_open_the_hours_page(client, worker):
    assert signed_in(client, worker).get("/staff/hours/").status_code == 403


def test_staff_pages_speak_chinese_by_default(client, live_appointment, dept_staff):
    content = signed_in(client, dept_staff).get("/staff/sessions/").content.decode()

    assert "我的接访" in content


def test_staff_pages_speak_english_when_asked(client, live_appointment, dept_staff):
    content = signed_in(client, dept_staff).get("/staff/sessions/", headers={"Accept-Language": "en"}).content.decode()

    assert "My sessions" in content


def test_a_petition_officer_in_another_department_row_still_has_the_office_role(client, other_department):
    officer = f.staff("officer3", StaffMember.Role.PETITION_OFFICER, department=other_department)
    client.force_login(officer.user)

    assert client.get("/staff/")["Location"] == "/staff/office/"


def test_video_sessions_are_readable_in_the_django_admin(admin_client, local_video, live_appointment, dept_staff):
    from appointments.video.services import video_token_issue

    session = video_token_issue(actor=dept_staff, appointment_id=live_appointment.pk).session

    assert admin_client.get("/admin/appointments/videosession/").status_code == 200
    assert admin_client.get(f"/admin/appointments/videosession/{session.pk}/change/").status_code == 200


def test_a_twilio_backend_without_credentials_is_reported_not_crashed(client, settings, live_appointment, dept_staff):
    settings.VIDEO_BACKEND = "appointments.video.twilio.TwilioVideoBackend"
    settings.TWILIO_API_KEY_SECRET = ""
    signed_in(client, dept_staff)

    assert client.get(f"/staff/sessions/{live_appointment.pk}/join/").status_code == 503
    assert client.post(f"/api/v1/appointments/{live_appointment.pk}/video-token").status_code == 503
