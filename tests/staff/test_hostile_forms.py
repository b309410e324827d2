"""Every staff form posted hostile values as every role: never a 500, nothing changes, a message in Chinese says why."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from appointments.models import Appointment, Resident, VideoSession
from departments.audit import AuditEvent
from departments.models import StaffMember
from scheduler.models import Closure, ConsultationRule, ScheduleWeek, Seat, Slot
from tests import factories as f

pytestmark = pytest.mark.django_db

Role = StaffMember.Role
ROLES = [
    Role.DEPARTMENT_STAFF,
    Role.DEPARTMENT_ADMIN,
    Role.PETITION_OFFICER,
    Role.COMMUNITY_WORKER,
    "no_role",
    "anonymous",
]
KEEPERS_OF_HOURS = [Role.DEPARTMENT_ADMIN, Role.PETITION_OFFICER]

# Values no field here should take. Each is tried in every field of a form, one field at a time.
HOSTILE = [
    "99999999999",
    str(2**70),
    "-1",
    "abc",
    "３０",
    "٣٠",
    "",
    "x" * 10_000,
    "\x00",
    "3\x000",
    "a\x07b",
    "\u202e30",
    "\u200b",
    "30; DROP TABLE scheduler_slot; --",
    "<script>alert(1)</script>",
    "1e3",
    "NaN",
    "１",
]
# Values refused by a one-line text field (the reason of a closure); ordinary but odd text is accepted, see below.
HOSTILE_TEXT = [
    "",
    "   ",
    "x" * 10_000,
    "长" * 201,
    "\x00",
    "年终\x00盘点",
    "年终\x07盘点",
    "年终\x1b[31m盘点",
    "\u202e点盘终年",
    "年终\u2066盘点\u2069",
    "\u200f年终盘点",
    "\u200b",
    "\u200b\u200d\ufeff\u2060",
    "第一行\n第二行",
    "年终\u2028盘点",
]
HOSTILE_DATES = ["9999-99-99", "0000-00-00", "２０２６-12-24", "2026-12-24\u202e", "2026-02-30", "-2026-01-01"]
HOSTILE_TIMES = ["25:00", "24:00", "１０:00", "10:00\x00", "-1:00", "10:60"]
HOSTILE_WEEKS = [
    "9999-W52",
    "２026-W51",
    "2026-W５1",
    "2020-W53",
    "0001-W01",
    "2026-W54",
    "2026-W00",
    "2026-w51",
    "2026-W51\u202e",
    "\u200b",
    "2026-W51; DROP TABLE scheduler_slot",
]
RULE_FIELDS = {
    "weekday": "2",
    "start_time": "14:00",
    "end_time": "16:00",
    "session_minutes": "30",
    "buffer_minutes": "0",
    "capacity": "2",
    "effective_from": "2026-01-01",
    "effective_until": "",
    "min_notice_minutes": "60",
    "booking_window_days": "14",
}
CLOSURE_FIELDS = {"start_date": "2027-01-04", "end_date": "2027-01-05", "reason": "年终盘点"}
CJK = re.compile(r"[\u4e00-\u9fff]")
ERROR_TEXT = re.compile(r'class="error"[^>]*>(.*?)</(?:p|span|li)>', re.S)


@pytest.fixture
def world(published, other_department, community, other_community, appointment):
    """One department with published hours and a booking; another department with its own rule and closure."""
    own_closure = Closure.objects.create(
        department=published, start_date=dt.date(2027, 2, 1), end_date=dt.date(2027, 2, 1), reason="盘点"
    )
    other_rule = f.rule(other_department, weekday=1)
    other_closure = Closure.objects.create(
        department=other_department, start_date=dt.date(2027, 1, 4), end_date=dt.date(2027, 1, 4), reason="培训"
    )
    shared_closure = Closure.objects.create(
        department=None, start_date=dt.date(2027, 1, 1), end_date=dt.date(2027, 1, 1), reason="元旦"
    )
    members = {
        Role.DEPARTMENT_STAFF: f.staff("h_staff", Role.DEPARTMENT_STAFF, department=published),
        Role.DEPARTMENT_ADMIN: f.staff("h_admin", Role.DEPARTMENT_ADMIN, department=published),
        Role.PETITION_OFFICER: f.staff("h_officer", Role.PETITION_OFFICER),
        Role.COMMUNITY_WORKER: f.staff("h_worker", Role.COMMUNITY_WORKER, community=other_community),
    }
    return {
        "department": published,
        "other_department": other_department,
        "appointment": appointment,
        "own_rule": published.rules.first(),
        "own_closure": own_closure,
        "other_rule": other_rule,
        "other_closure": other_closure,
        "shared_closure": shared_closure,
        "members": members,
    }


def client_as(role: str, world, django_user_model) -> Client:
    client = Client()
    if role == "no_role":
        client.force_login(django_user_model.objects.create_user("h_visitor", password="pw-for-tests-123"))
    elif role != "anonymous":
        client.force_login(world["members"][role].user)
    return client


def snapshot() -> dict:
    """The state a refused request must leave as it was (refused attempts may still be audited)."""
    return {
        "rules": sorted(ConsultationRule.objects.values_list()),
        "closures": sorted(Closure.objects.values_list()),
        "weeks": sorted(ScheduleWeek.objects.values_list("pk", "status", "published_at")),
        "slots": sorted(Slot.objects.values_list()),
        "seats": Seat.objects.count(),
        "appointments": sorted(Appointment.objects.values_list("pk", "status", "checked_in_at", "cancel_reason")),
        "sessions": sorted(VideoSession.objects.values_list("pk", "status", "flagged_at")),
        "residents": sorted(Resident.objects.values_list("pk", "name")),
        "audit": AuditEvent.objects.exclude(action__endswith="_refused").count(),
    }


def assert_refused(client: Client, response, role: str, what) -> None:
    """No server error; a signed-in person is told why, in Chinese; a stranger is sent to sign in."""
    assert response.status_code < 500, (role, what, response.status_code)
    if role == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], (role, what)
        return
    page = response
    if response.status_code == 302:
        page = client.get(response["Location"])
    messages = [m for m in ERROR_TEXT.findall(page.content.decode()) if m.strip()]
    assert messages, (role, what, response.status_code, page.content.decode()[-2000:])
    assert any(CJK.search(m) for m in messages), (role, what, messages)


def post_each(client, url, role, base: dict, field: str, values, before) -> None:
    if role != Role.PETITION_OFFICER:
        # The same form parses every role's post alike: the officer gets every value, others a sample (keeps CI fast).
        values = values[::4]
    for value in values:
        response = client.post(url, {**base, field: value})
        assert_refused(client, response, role, (field, value[:40]))
        assert snapshot() == before, (role, field, value[:40])


# The weekly-hours page -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", KEEPERS_OF_HOURS)
@pytest.mark.parametrize("field", RULE_FIELDS)
def test_a_rule_with_a_hostile_value_in_any_field_is_refused(world, django_user_model, role, field):
    client = client_as(role, world, django_user_model)
    url = f"/staff/hours/{world['department'].code}/"
    base = {"action": "rule-save", **{f"rule-{k}": v for k, v in RULE_FIELDS.items()}}
    values = list(HOSTILE)
    if field.endswith("_time"):
        values += HOSTILE_TIMES
    if field.startswith("effective_"):
        values += HOSTILE_DATES
    if field == "effective_until":
        values = [v for v in values if v.strip()] + ["2020-01-01"]  # empty means "no end"; before the start is not
    if field == "end_time":
        values.append("13:00")
    before = snapshot()

    post_each(client, url, role, base, f"rule-{field}", values, before)


@pytest.mark.parametrize("role", KEEPERS_OF_HOURS)
@pytest.mark.parametrize("field", CLOSURE_FIELDS)
def test_a_closure_with_a_hostile_value_in_any_field_is_refused(world, django_user_model, role, field):
    client = client_as(role, world, django_user_model)
    url = f"/staff/hours/{world['department'].code}/"
    base = {"action": "closure-save", **{f"closure-{k}": v for k, v in CLOSURE_FIELDS.items()}}
    values = HOSTILE_TEXT if field == "reason" else [*HOSTILE, *HOSTILE_DATES]
    if field == "end_date":
        values = [*values, "2027-01-03"]  # before the first day
    before = snapshot()

    post_each(client, url, role, base, f"closure-{field}", values, before)


def bad_ids(world, kind: str) -> list[str]:
    """Ids a form should never act on: malformed, out of range, missing, or another department's."""
    foreign = (
        [str(world["other_rule"].pk)]
        if kind == "rule"
        else [str(world[k].pk) for k in ("other_closure", "shared_closure")]
    )
    return [*HOSTILE, "0", str(2**63), "99999999999999999999", "1 OR 1=1", "1.0", " 1", *foreign]


@pytest.mark.parametrize("role", KEEPERS_OF_HOURS)
@pytest.mark.parametrize(
    "action, field", [("rule-delete", "rule_id"), ("closure-delete", "closure_id"), ("rule-save", "rule_id")]
)
def test_deleting_or_editing_with_a_bad_or_foreign_id_is_refused(world, django_user_model, role, action, field):
    client = client_as(role, world, django_user_model)
    url = f"/staff/hours/{world['department'].code}/"
    base = {"action": action}
    if action == "rule-save":
        base.update({f"rule-{k}": v for k, v in RULE_FIELDS.items()})
    before = snapshot()

    post_each(client, url, role, base, field, bad_ids(world, field.removesuffix("_id")), before)
    response = client.post(url, base)  # the id left out altogether
    if action != "rule-save":  # (without an id, a rule-save adds a rule: that is its job)
        assert_refused(client, response, role, "no id")
        assert snapshot() == before


@pytest.mark.parametrize("role", KEEPERS_OF_HOURS)
def test_publishing_a_hostile_week_is_refused_with_a_message(world, django_user_model, role):
    client = client_as(role, world, django_user_model)
    url = f"/staff/hours/{world['department'].code}/"
    last_week = timezone.localdate() - dt.timedelta(days=7)
    ended = f"{last_week.isocalendar().year}-W{last_week.isocalendar().week:02d}"
    before = snapshot()

    post_each(client, url, role, {"action": "publish"}, "week", [*HOSTILE, *HOSTILE_WEEKS, ended], before)
    for response in (
        client.post(url, {"action": "publish"}),
        client.post(url, {"action": "publish", "week": ["a", "b"]}),
    ):
        assert response.status_code == 422
        assert_refused(client, response, role, "publish without a week")
    assert snapshot() == before


@pytest.mark.parametrize("role", KEEPERS_OF_HOURS)
def test_an_unknown_action_or_a_bad_rule_to_edit_is_refused(world, django_user_model, role):
    client = client_as(role, world, django_user_model)
    url = f"/staff/hours/{world['department'].code}/"
    before = snapshot()

    post_each(client, url, role, {}, "action", [v for v in HOSTILE if v] + ["RULE-DELETE", "publish\u200b"], before)
    for value in [*bad_ids(world, "rule")]:
        response = client.get(url, {"rule": value})
        assert response.status_code == 404, value[:40]
        assert_refused(client, response, role, ("?rule=", value[:40]))


@pytest.mark.parametrize("role", [r for r in ROLES if r not in KEEPERS_OF_HOURS])
def test_people_who_do_not_keep_hours_are_refused_whatever_they_post(world, django_user_model, role):
    client = client_as(role, world, django_user_model)
    url = f"/staff/hours/{world['department'].code}/"
    rule = {f"rule-{k}": v for k, v in RULE_FIELDS.items()}
    closure = {f"closure-{k}": v for k, v in CLOSURE_FIELDS.items()}
    posts = [
        {"action": "rule-save", **rule},
        {"action": "rule-save", **rule, "rule-capacity": "99999999999"},
        {"action": "rule-delete", "rule_id": world["own_rule"].pk},
        {"action": "rule-delete", "rule_id": "abc"},
        {"action": "closure-save", **closure},
        {"action": "closure-save", **closure, "closure-reason": "\u202e"},
        {"action": "closure-delete", "closure_id": world["own_closure"].pk},
        {"action": "closure-delete", "closure_id": "abc"},
        {"action": "publish", "week": "9999-W52"},
        {"action": "\x00"},
    ]
    before = snapshot()

    for data in posts:
        assert_refused(client, client.post(url, data), role, data["action"])
        assert snapshot() == before
    assert_refused(client, client.get(url, {"rule": "abc"}), role, "?rule=abc")


def test_an_admin_cannot_touch_another_departments_hours(world, django_user_model):
    client = client_as(Role.DEPARTMENT_ADMIN, world, django_user_model)
    url = f"/staff/hours/{world['other_department'].code}/"
    before = snapshot()

    for data in (
        {"action": "rule-delete", "rule_id": world["other_rule"].pk},
        {"action": "closure-delete", "closure_id": world["other_closure"].pk},
        {"action": "publish", "week": "2026-W53"},
    ):
        response = client.post(url, data)
        assert response.status_code == 403
        assert_refused(client, response, Role.DEPARTMENT_ADMIN, data)
    assert snapshot() == before


@pytest.mark.parametrize(
    "reason",
    [
        "'; DROP TABLE scheduler_closure; --",
        "<script>alert('x')</script>",
        "{{ request.user }} {% csrf_token %}",
        "O'Brien & 子",
    ],
)
def test_odd_but_harmless_text_is_kept_as_written_and_shown_escaped(world, django_user_model, reason):
    client = client_as(Role.DEPARTMENT_ADMIN, world, django_user_model)
    url = f"/staff/hours/{world['department'].code}/"
    data = {
        "action": "closure-save",
        **{f"closure-{k}": v for k, v in CLOSURE_FIELDS.items()},
        "closure-reason": reason,
    }

    assert client.post(url, data).status_code == 302

    assert world["department"].closures.filter(reason=reason).exists()
    page = client.get(url).content.decode()
    assert escape(reason) in page
    assert "<script>alert" not in page


def test_a_closure_reason_is_saved_composed_and_trimmed(world, django_user_model):
    client = client_as(Role.DEPARTMENT_ADMIN, world, django_user_model)
    url = f"/staff/hours/{world['department'].code}/"
    data = {"action": "closure-save", **{f"closure-{k}": v for k, v in CLOSURE_FIELDS.items()}}

    client.post(url, {**data, "closure-reason": "  Cafe\u0301 盘点\u3000"})

    assert world["department"].closures.filter(reason="Caf\u00e9 盘点").exists()


# Sessions, check-in, flags -----------------------------------------------------------------------------------------


def bad_appointment_ids(world) -> list[int]:
    missing = Appointment.objects.order_by("-pk").first().pk + 1000
    return [0, missing, 2**31, 2**63, 10**30]


@pytest.mark.parametrize("role", ROLES)
def test_session_pages_with_a_bad_id_answer_with_a_message(world, django_user_model, role, local_video):
    client = client_as(role, world, django_user_model)
    ids = bad_appointment_ids(world)
    before = snapshot()

    for appointment_id in ids:
        for method, url in (
            ("post", f"/staff/community/check-in/{appointment_id}"),
            ("post", f"/staff/sessions/{appointment_id}/end"),
            ("post", f"/staff/office/flags/{appointment_id}/clear"),
            ("get", f"/staff/sessions/{appointment_id}/join/"),
        ):
            response = getattr(client, method)(url)
            assert_refused(client, response, role, url)
        response = client.post(f"/api/v1/appointments/{appointment_id}/video-token")
        assert response.status_code < 500 and response.status_code >= 400
        assert CJK.search(response.json()["detail"])
    assert snapshot() == before


def test_a_worker_of_another_community_cannot_check_in_the_appointment(world, django_user_model):
    client = client_as(Role.COMMUNITY_WORKER, world, django_user_model)  # works at 福安社区; booked at 蓝山社区
    before = snapshot()

    response = client.post(f"/staff/community/check-in/{world['appointment'].pk}")

    assert_refused(client, response, Role.COMMUNITY_WORKER, "check-in")
    assert snapshot() == before


@pytest.mark.parametrize("key", ["\x00", "kiosk_" + "x" * 10_000, "kiosk_\u202e", "' OR 1=1 --", "ｋｉｏｓｋ_abc"])
def test_the_video_token_operation_refuses_a_hostile_kiosk_key(world, client, key):
    response = client.post(f"/api/v1/appointments/{world['appointment'].pk}/video-token", headers={"X-Kiosk-Key": key})

    assert 400 <= response.status_code < 500
    assert CJK.search(response.json()["detail"])


# Sign-in and language ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE)
def test_the_sign_in_form_refuses_hostile_values_without_a_server_error(world, client, value):
    response = client.post("/accounts/login/", {"username": value, "password": value})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("value", ["\x00", "x" * 10_000, "zh-hans\u202e", "../../etc/passwd", "ｚｈ"])
def test_the_language_switch_ignores_hostile_values(world, client, value):
    response = client.post("/i18n/setlang/", {"language": value, "next": value})

    assert response.status_code < 500


# Correcting a resident's name -------------------------------------------------------------------------------------

HOSTILE_NAMES = [
    "",
    "\u200b",
    "\u200b\u200d\ufeff",
    "王\u202e兰",
    "\u2066王秀兰\u2069",
    "王\x00兰",
    "王\n兰",
    "王" * 51,
]


@pytest.mark.parametrize("role", ROLES)
def test_finding_a_resident_by_a_hostile_id_number_is_refused(world, django_user_model, role):
    client = client_as(role, world, django_user_model)
    before = snapshot()

    post_each(client, "/staff/residents/name/", role, {"action": "find"}, "id_number", HOSTILE, before)


def test_a_hostile_name_correction_is_refused_and_the_name_stays(world, django_user_model, kiosk):
    id_number = f.valid_id_number()
    resident = f.petition(kiosk, world["department"], id_number=id_number).resident
    client = client_as(Role.PETITION_OFFICER, world, django_user_model)
    assert client.post("/staff/residents/name/", {"action": "find", "id_number": id_number}).status_code == 200
    before = snapshot()

    post_each(
        client,
        "/staff/residents/name/",
        Role.PETITION_OFFICER,
        {"action": "correct", "reason": "typing_error"},
        "name",
        HOSTILE_NAMES,
        before,
    )
    post_each(
        client,
        "/staff/residents/name/",
        Role.PETITION_OFFICER,
        {"action": "correct", "name": "王秀英"},
        "reason",
        [v for v in HOSTILE if v],
        before,
    )
    resident.refresh_from_db()
    assert resident.name == "王秀兰"
