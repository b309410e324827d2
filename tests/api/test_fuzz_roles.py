"""Every API operation, called as every kind of caller with generated and hostile values: never a 500.

test_fuzz.py drives the API as a kiosk; staff-only operations then stop at authentication. Here each role sends its
own credentials (a staff bearer token, a kiosk key, or nothing), generated requests are steered half of the time to
records that exist (so they get past the lookup), and a fixed list of hostile values goes into every field.
"""

import json
import os
import zlib

import pytest
import schemathesis
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from appointments.booking import appointment_book
from appointments.models import Appointment, Petition, Resident
from departments.audit import AuditEvent
from departments.models import StaffMember
from scheduler.models import Closure, ConsultationRule, ScheduleWeek, Seat, Slot
from scheduler.wsgi import application
from tests import factories as f

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
# CI runs a bounded, repeatable sample; a longer search sets FUZZ_EXAMPLES (docs/fuzzing.md).
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
CONFORMANCE = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

Role = StaffMember.Role
ROLES = [
    "anonymous",
    "kiosk",
    Role.DEPARTMENT_STAFF,
    Role.DEPARTMENT_ADMIN,
    Role.PETITION_OFFICER,
    Role.COMMUNITY_WORKER,
]


@pytest.fixture(autouse=True)
def keep_connection_open():
    """Calling the WSGI app directly would close the test's connection after each request; keep it open."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def unthrottled(settings):
    # Hundreds of requests from one caller would soon be answered 429 and go no deeper.
    settings.API_THROTTLE_ANONYMOUS = ""
    settings.API_THROTTLE_CALLER = ""


@pytest.fixture
def world(published, other_department, other_community, kiosk, kiosk_key, petition, open_slots, unthrottled):
    """Records to aim at, and each role's credentials."""
    appointment = appointment_book(
        actor=kiosk, petition_reference=petition.reference, slot_id=open_slots[0].pk
    ).appointment
    f.rule(other_department, weekday=1)
    f.publish_next_weeks(other_department)
    members = {
        Role.DEPARTMENT_STAFF: f.staff("f_staff", Role.DEPARTMENT_STAFF, department=published),
        Role.DEPARTMENT_ADMIN: f.staff("f_admin", Role.DEPARTMENT_ADMIN, department=published),
        Role.PETITION_OFFICER: f.staff("f_officer", Role.PETITION_OFFICER),
        Role.COMMUNITY_WORKER: f.staff("f_worker", Role.COMMUNITY_WORKER, community=other_community),
    }
    headers = {"anonymous": {}, "kiosk": {"X-Kiosk-Key": kiosk_key}}
    headers.update({role: {"Authorization": f"Bearer {f.token_for(member)}"} for role, member in members.items()})
    return {
        "department": published,
        "other_department": other_department,
        "appointment": appointment,
        "slot": appointment.slot,
        "other_slot": Slot.objects.filter(department=other_department).first(),
        "headers": headers,
    }


def steer(case, world) -> None:
    """Point half of the generated path parameters at records that exist, chosen by the generated value itself."""
    targets = {
        "code": [world["department"].code, world["other_department"].code],
        "appointment_id": [world["appointment"].pk],
        "slot_id": [world["slot"].pk, world["other_slot"].pk],
    }
    for name, choices in targets.items():
        value = (case.path_parameters or {}).get(name)
        if value is None:
            continue
        pick = zlib.crc32(str(value).encode("utf-8", "surrogatepass"))
        if pick % 2:
            case.path_parameters[name] = choices[pick // 2 % len(choices)]


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@pytest.mark.django_db
def test_no_generated_request_from_any_role_gets_a_server_error_or_an_answer_outside_the_schema(case, world, role):
    steer(case, world)

    response = case.call(headers=world["headers"][role])

    assert response.status_code < 500, (role, case.method, case.path, case.path_parameters, case.body, response.text)
    case.validate_response(response, checks=CONFORMANCE)
    if response.status_code >= 400:
        assert response.json()["detail"]


# Hostile values, aimed -------------------------------------------------------------------------------------------

HOSTILE_TEXT = [
    "",
    " ",
    "x" * 10_000,
    "\x00",
    "原因\x00",
    "原因\x07",
    "\u202e因原",
    "原因\u2066",
    "\u200f原因",
    "\u200b",
    "\u200b\u200d\ufeff\u2060",
    "第一行\n第二行",
    "\ud800",
]
HOSTILE_IDS = [0, -1, 2**31, 2**63, 2**70, "abc", "３", "", None, 1.5, True, [], {}, "1 OR 1=1"]
HOSTILE_WEEKS = [
    "9999-W52",
    "２026-W51",
    "2026-W５1",
    "2020-W53",
    "0001-W01",
    "2026-W54",
    "2026-W00",
    "abc",
    "x" * 10_000,
    "2026-W51\u202e",
    "2026-W51%00",
    "%00",
]


def snapshot() -> dict:
    return {
        "rules": sorted(ConsultationRule.objects.values_list()),
        "closures": sorted(Closure.objects.values_list()),
        "weeks": sorted(ScheduleWeek.objects.values_list("pk", "status", "published_at")),
        "slots": sorted(Slot.objects.values_list()),
        "seats": Seat.objects.count(),
        "appointments": sorted(Appointment.objects.values_list("pk", "status", "cancel_reason", "slot_id")),
        "petitions": Petition.objects.count(),
        "residents": sorted(Resident.objects.values_list("pk", "name")),
        "audit": AuditEvent.objects.exclude(action__endswith="_refused").count(),
    }


def call(client: Client, method: str, path: str, headers: dict, body=None):
    if body is None:
        return getattr(client, method)(path, headers=headers)
    # Serialised by hand: the test client's encoder would refuse a lone surrogate before sending it.
    raw = json.dumps(body, ensure_ascii=True)
    return getattr(client, method)(path, raw, content_type="application/json", headers=headers)


def refused(response, what) -> None:
    assert 400 <= response.status_code < 500, (what, response.status_code, response.content[:300])
    assert response.json()["detail"], what


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_hostile_values_in_every_operation_are_refused_and_change_nothing(client, world, role):
    headers = world["headers"][role]
    code, other = world["department"].code, world["other_department"].code
    appointment, slot = world["appointment"], world["slot"]
    before = snapshot()

    requests = []
    for text in HOSTILE_TEXT:
        requests += [
            ("post", f"/api/v1/slots/{slot.pk}/withdraw", {"reason": text}),
            ("post", f"/api/v1/slots/{world['other_slot'].pk}/withdraw", {"reason": text}),
            ("post", "/api/v1/appointments", {"petition": text, "slot": slot.pk}),
        ]
    for value in HOSTILE_IDS:
        requests += [
            ("post", "/api/v1/appointments", {"petition": appointment.petition.reference, "slot": value}),
            ("post", f"/api/v1/appointments/{appointment.pk}/reschedule", {"slot": value}),
        ]
        if not isinstance(value, str):
            requests += [
                ("post", f"/api/v1/slots/{slot.pk}/withdraw", {"reason": value}),
                ("post", f"/api/v1/appointments/{appointment.pk}/cancel", {"reason": value}),
            ]
    for value in ["0", "-1", str(2**63), str(2**70), "abc", "３", "%00", "1%20OR%201=1"]:
        requests += [
            ("get", f"/api/v1/appointments/{value}", None),
            ("post", f"/api/v1/appointments/{value}/cancel", {}),
            ("post", f"/api/v1/appointments/{value}/reschedule", {"slot": slot.pk}),
            ("post", f"/api/v1/slots/{value}/withdraw", {"reason": "科室培训"}),
        ]
    for week in HOSTILE_WEEKS:
        for department in (code, other, "nosuch", "%00"):
            requests.append(("post", f"/api/v1/departments/{department}/weeks/{week}/publish", None))
    for query in ["from=9999-12-31", "from=0001-01-01&to=9999-12-31", "to=２０２６-01-01", "from=%00", "from=abc"]:
        requests.append(("get", f"/api/v1/departments/{code}/slots?{query}", None))
    for body in ["{", "[]", "null", '"x"', "{}", "\x00", '{"slot": 1, "petition": "\\ud800"}']:
        requests.append(("post_raw", "/api/v1/appointments", body))

    for method, path, body in requests:
        if method == "post_raw":
            response = client.post(path, body, content_type="application/json", headers=headers)
        else:
            response = call(client, method, path, headers, body)
        if response.status_code == 200 and method == "get":
            continue  # a read (e.g. slots from a far date) may simply answer with nothing
        refused(response, (role, method, path[:80], str(body)[:60]))
        assert snapshot() == before, (role, method, path[:80], str(body)[:60])


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_only_a_keeper_of_the_hours_may_publish_and_only_a_coming_week(client, world, role):
    headers = world["headers"][role]
    monday = timezone.localdate()
    this_week = f"{monday.isocalendar().year}-W{monday.isocalendar().week:02d}"

    response = client.post(
        f"/api/v1/departments/{world['department'].code}/weeks/{this_week}/publish?confirm_provisional_holidays=true",
        headers=headers,
    )

    if role in (Role.DEPARTMENT_ADMIN, Role.PETITION_OFFICER):
        assert response.status_code == 200, response.content
    else:
        refused(response, role)
        assert response.status_code in (401, 403)


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["科室集中培训", "O'Brien & <b>子</b>", "'; DROP TABLE scheduler_slot; --"])
def test_a_withdrawal_reason_that_is_only_odd_is_kept_as_written(client, world, reason):
    response = call(
        client,
        "post",
        f"/api/v1/slots/{world['slot'].pk}/withdraw",
        world["headers"][Role.DEPARTMENT_ADMIN],
        {"reason": f"  {reason} "},
    )

    assert response.status_code == 200, response.content
    world["slot"].refresh_from_db()
    assert world["slot"].withdrawn_reason == reason
