"""Who may open which page and call which operation: the whole matrix, generated from the URL conf and the OpenAPI
document, and checked cell by cell (docs/permissions.md says why each cell is what it is).

Every page (each pattern of the URL conf, the admin's included) and every API operation (each path × method of
/api/openapi.json) is requested as each of eight callers, against the records of community A (蓝山社区) and
department X (区房产局): path parameters are filled with their real ids. A page or operation without a row in
PAGES or OPERATIONS fails the build, naming itself.

To add a row: copy a neighbour. The eight numbers are the expected HTTP statuses for, in order,
    anonymous, kiosk of A, kiosk of B, community worker of A, staff of X, staff of Y, admin of X, petition officer.
302 on a staff page is "sign in first", on a kiosk page "register this kiosk first". Each request runs in a
savepoint that is rolled back, so every caller meets the same records.
"""

import contextlib
import copy
import datetime as dt
import json
import os
import re
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from appointments.booking import appointment_book
from appointments.models import Notification, VideoSession
from appointments.notify.calendars import appointment_calendar_token, calendar_feed_issue
from appointments.notify.messages import rating_token_make
from appointments.outcomes import services as outcomes
from departments.models import StaffMember
from departments.services import Actor
from scheduler.root_api import api
from scheduler.selectors import slot_list_open
from tests import factories as f
from tests.video.support import slot_move

ROLES = ("anonymous", "kiosk_a", "kiosk_b", "worker_a", "staff_x", "staff_y", "admin_x", "officer")
Row = tuple[int, int, int, int, int, int, int, int]

# Pages: (method, route as the URL conf writes it) -> expected status per caller.
# fmt: off
PAGES: dict[tuple[str, str], Row] = {
    #                                                          anon kioA kioB wrkA stfX stfY admX offc
    ("GET", ""):                                              (200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "favicon.ico"):                                   (200, 200, 200, 200, 200, 200, 200, 200),
    # Load balancers' health check: the same for everyone; 503 here because no task worker runs in the suite.
    ("GET", "health/"):                                       (503, 503, 503, 503, 503, 503, 503, 503),
    # Signing in (the second factor's pages ask for a password sign-in first).
    ("GET", "accounts/login/"):                               (200, 200, 200, 200, 200, 200, 200, 200),
    ("POST", "accounts/logout/"):                             (200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "admin/login/"):                                  (200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "accounts/second-factor/"):                       (302, 302, 302, 302, 302, 302, 302, 302),
    ("GET", "accounts/second-factor/enrol/"):                 (302, 302, 302, 302, 302, 302, 302, 302),
    ("GET", "accounts/second-factor/recovery/"):              (302, 302, 302, 302, 302, 302, 302, 302),
    ("GET", "accounts/password_change/"):                     (302, 302, 302, 200, 200, 200, 200, 200),
    ("GET", "accounts/password_change/done/"):                (302, 302, 302, 200, 200, 200, 200, 200),
    ("GET", "accounts/password_reset/"):                      (200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "accounts/password_reset/done/"):                 (200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "accounts/reset/<uidb64>/<token>/"):              (200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "accounts/reset/done/"):                          (200, 200, 200, 200, 200, 200, 200, 200),
    ("POST", "i18n/setlang/"):                                (302, 302, 302, 302, 302, 302, 302, 302),
    # The API's document and its page; /api/ itself has nothing.
    ("GET", "api/openapi.json"):                              (200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "api/docs"):                                      (200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "api/"):                                          (404, 404, 404, 404, 404, 404, 404, 404),
    # Staff pages: 302 = sign in first; 403 = this role has no such page; 404 = not this caller's record.
    ("GET", "staff/"):                                        (302, 302, 302, 302, 302, 302, 302, 302),
    ("GET", "staff/sessions/"):                               (302, 302, 302, 403, 200, 200, 200, 403),
    ("GET", "staff/sessions/<int:appointment_id>/join/"):     (302, 302, 302, 200, 200, 404, 200, 200),
    ("POST", "staff/sessions/<int:appointment_id>/end"):      (302, 302, 302, 403, 302, 404, 302, 302),
    ("GET", "staff/community/"):                              (302, 302, 302, 200, 403, 403, 403, 403),
    ("POST", "staff/community/check-in/<int:appointment_id>"):
                                                              (302, 302, 302, 302, 403, 403, 403, 403),
    ("GET", "staff/community/slips/"):                        (302, 302, 302, 200, 403, 403, 403, 200),
    ("POST", "staff/community/slips/<int:slip_id>/close"):    (302, 302, 302, 302, 403, 403, 403, 302),
    ("GET", "staff/office/"):                                 (302, 302, 302, 403, 403, 403, 403, 200),
    ("POST", "staff/office/flags/<int:session_id>/clear"):    (302, 302, 302, 403, 403, 403, 403, 302),
    ("GET", "staff/dashboard/"):                              (302, 302, 302, 403, 200, 200, 200, 200),
    ("GET", "staff/residents/name/"):                         (302, 302, 302, 200, 403, 403, 403, 200),
    ("GET", "staff/petitions/"):                              (302, 302, 302, 403, 200, 200, 200, 200),
    ("GET", "staff/petitions/<str:reference>/"):              (302, 302, 302, 200, 200, 404, 200, 200),
    ("GET", "staff/hours/"):                                  (302, 302, 302, 403, 403, 403, 302, 200),
    ("GET", "staff/hours/<slug:code>/"):                      (302, 302, 302, 403, 403, 403, 200, 200),
    ("GET", "staff/planning/"):                               (302, 302, 302, 403, 403, 403, 403, 200),
    ("GET", "staff/reports/weekly/"):                         (302, 302, 302, 403, 200, 200, 200, 200),
    ("GET", "staff/sms/outbox/"):                             (302, 302, 302, 200, 200, 200, 200, 200),
    ("GET", "staff/sms/problems/"):                           (302, 302, 302, 200, 403, 403, 403, 200),
    ("POST", "staff/sms/problems/<int:notification_id>/handled"):
                                                              (302, 302, 302, 302, 403, 403, 403, 302),
    ("GET", "staff/calendar/"):                               (302, 302, 302, 200, 200, 200, 200, 200),
    # Addresses whose secret token is the credential: the same answer whoever asks.
    ("GET", "calendar/appointments/<str:token>.ics"):         (200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "calendar/feeds/<str:token>.ics"):                (200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "r/<str:token>/"):                                (200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "kiosk/voice/say/<str:token>/"):                  (404, 404, 404, 404, 404, 404, 404, 404),
    # Provider callbacks: signed by the provider, never by a caller of ours (tests/video, tests/notify).
    ("POST", "webhooks/twilio/video"):                        (403, 403, 403, 403, 403, 403, 403, 403),
    ("POST", "webhooks/twilio/sms"):                          (403, 403, 403, 403, 403, 403, 403, 403),
    # Kiosk screens: 302 = not a registered kiosk (to the setup screen), or a step without the steps before it.
    ("GET", "kiosk/"):                                        (302, 200, 200, 302, 302, 302, 302, 302),
    ("GET", "kiosk/setup/"):                                  (200, 200, 200, 200, 200, 200, 200, 200),
    ("POST", "kiosk/reset/"):                                 (302, 302, 302, 302, 302, 302, 302, 302),
    ("POST", "kiosk/voice/"):                                 (302, 302, 302, 302, 302, 302, 302, 302),
    ("POST", "kiosk/elder/"):                                 (302, 302, 302, 302, 302, 302, 302, 302),
    ("GET", "kiosk/book/"):                                   (302, 200, 200, 302, 302, 302, 302, 302),
    ("GET", "kiosk/book/category/"):                          (302, 302, 302, 302, 302, 302, 302, 302),
    ("GET", "kiosk/book/summary/"):                           (302, 302, 302, 302, 302, 302, 302, 302),
    ("GET", "kiosk/book/department/"):                        (302, 302, 302, 302, 302, 302, 302, 302),
    ("GET", "kiosk/book/day/"):                               (302, 302, 302, 302, 302, 302, 302, 302),
    ("GET", "kiosk/book/time/"):                              (302, 302, 302, 302, 302, 302, 302, 302),
    ("GET", "kiosk/book/confirm/"):                           (302, 302, 302, 302, 302, 302, 302, 302),
    ("GET", "kiosk/book/receipt/"):                           (302, 302, 302, 302, 302, 302, 302, 302),
    ("POST", "kiosk/book/waitlist/"):                         (302, 302, 302, 302, 302, 302, 302, 302),
    ("GET", "kiosk/waitlist/joined/"):                        (302, 302, 302, 302, 302, 302, 302, 302),
    ("GET", "kiosk/progress/"):                               (302, 200, 200, 302, 302, 302, 302, 302),
    ("GET", "kiosk/progress/status/"):                        (302, 302, 302, 302, 302, 302, 302, 302),
    ("GET", "kiosk/progress/cancel/"):                        (302, 302, 302, 302, 302, 302, 302, 302),
    ("GET", "kiosk/progress/receipt/"):                       (302, 302, 302, 302, 302, 302, 302, 302),
    ("POST", "kiosk/progress/rate/"):                         (302, 302, 302, 302, 302, 302, 302, 302),
    ("GET", "kiosk/progress/rated/"):                         (302, 302, 302, 302, 302, 302, 302, 302),
    ("GET", "kiosk/progress/review/"):                        (302, 302, 302, 302, 302, 302, 302, 302),
    ("GET", "kiosk/progress/review/done/"):                   (302, 302, 302, 302, 302, 302, 302, 302),
    ("POST", "kiosk/progress/offer/confirm/"):                (302, 302, 302, 302, 302, 302, 302, 302),
    ("POST", "kiosk/progress/offer/decline/"):                (302, 302, 302, 302, 302, 302, 302, 302),
    ("POST", "kiosk/progress/waitlist/join/"):                (302, 302, 302, 302, 302, 302, 302, 302),
    ("POST", "kiosk/progress/waitlist/leave/"):               (302, 302, 302, 302, 302, 302, 302, 302),
    ("GET", "kiosk/progress/reschedule/"):                    (302, 302, 302, 302, 302, 302, 302, 302),
    ("GET", "kiosk/progress/reschedule/time/"):               (302, 302, 302, 302, 302, 302, 302, 302),
    ("GET", "kiosk/progress/reschedule/confirm/"):            (302, 302, 302, 302, 302, 302, 302, 302),
    ("GET", "kiosk/check-in/"):                               (302, 200, 200, 302, 302, 302, 302, 302),
    ("GET", "kiosk/check-in/done/"):                          (302, 302, 302, 302, 302, 302, 302, 302),
}

# API operations: (method, path as the OpenAPI document writes it) -> expected status per caller.
OPERATIONS: dict[tuple[str, str], Row] = {
    #                                                          anon kioA kioB wrkA stfX stfY admX offc
    ("GET", "/api/v1/departments"):                           (200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/departments/{code}/slots"):              (200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/categories"):                            (200, 200, 200, 200, 200, 200, 200, 200),
    # Filing: any community, the petition office; a department's staff for their own department only.
    ("POST", "/api/v1/petitions"):                            (401, 201, 201, 201, 201, 403, 201, 201),
    ("POST", "/api/v1/appointments"):                         (401, 201, 404, 201, 201, 404, 201, 201),
    ("GET", "/api/v1/appointments/{appointment_id}"):         (401, 200, 404, 200, 200, 404, 200, 200),
    # Changing a booking: the resident's community, the department's admin, the office; not the department's staff.
    ("POST", "/api/v1/appointments/{appointment_id}/cancel"): (401, 200, 404, 200, 403, 404, 200, 200),
    ("POST", "/api/v1/appointments/{appointment_id}/reschedule"):
                                                              (401, 200, 404, 200, 403, 404, 200, 200),
    ("POST", "/api/v1/appointments/{appointment_id}/video-token"):
                                                              (401, 200, 404, 200, 200, 404, 200, 200),
    ("POST", "/api/v1/slots/{slot_id}/withdraw"):             (401, 401, 401, 403, 403, 403, 200, 200),
    ("POST", "/api/v1/departments/{code}/weeks/{week}/publish"):
                                                              (401, 401, 401, 403, 403, 403, 200, 200),
    ("GET", "/api/v1/petitions/{reference}"):                 (401, 200, 404, 200, 200, 404, 200, 200),
    # Deciding on a petition: its department (staff and admin) and the petition office.
    ("POST", "/api/v1/petitions/{reference}/outcomes"):       (401, 401, 401, 403, 201, 404, 201, 201),
    ("POST", "/api/v1/outcomes/{outcome_id}/correct"):        (401, 401, 401, 403, 201, 404, 201, 201),
    ("POST", "/api/v1/petitions/{reference}/accept"):         (401, 401, 401, 403, 200, 404, 200, 200),
    ("POST", "/api/v1/petitions/{reference}/not-accept"):     (401, 401, 401, 403, 200, 404, 200, 200),
    ("POST", "/api/v1/petitions/{reference}/refer"):          (401, 401, 401, 403, 200, 404, 200, 200),
    ("POST", "/api/v1/petitions/{reference}/extend"):         (401, 401, 401, 403, 403, 404, 403, 409),
    ("POST", "/api/v1/petitions/{reference}/close"):          (401, 401, 401, 403, 409, 404, 409, 409),
    ("POST", "/api/v1/commitments/{commitment_id}/complete"): (401, 401, 401, 404, 200, 404, 200, 200),
    ("POST", "/api/v1/slips/{slip_id}/close"):                (401, 401, 401, 200, 404, 404, 404, 200),
    ("GET", "/api/v1/reports/weekly"):                        (401, 403, 403, 403, 200, 200, 200, 200),
}
# fmt: on

# Every route under these prefixes shares one gate: the Django admin lets in only users marked is_staff, and none
# of the eight callers is (the admin site's own tests sign a superuser in).
SHARED_GATES: dict[str, Row] = {
    "admin/": (302, 302, 302, 302, 302, 302, 302, 302),
}

# Bodies of the API's writes: valid, so that a caller allowed to act gets past validation to the permission check.
# "{name}" stands for the record's id or reference (see _world).
BODIES: dict[tuple[str, str], dict] = {
    ("POST", "/api/v1/petitions"): {
        "resident": {"name": "赵桂芝", "phone": f.valid_phone(), "id_number": f.valid_id_number()},
        "category": "housing",
        "summary": "楼道里的消防通道被长期占用，物业不管。",
        "department": "{code}",
    },
    ("POST", "/api/v1/appointments"): {"petition": "{unbooked_reference}", "slot": "{slot_id}"},
    ("POST", "/api/v1/appointments/{appointment_id}/reschedule"): {"slot": "{other_slot_id}"},
    ("POST", "/api/v1/slots/{slot_id}/withdraw"): {"reason": "局里临时有会，这个时间取消。"},
    ("POST", "/api/v1/petitions/{reference}/outcomes"): {
        "answer": "经核实，将于两周内答复具体安置方案。",
        "items": [{"request": "解决安置问题", "decision": "supported"}],
    },
    ("POST", "/api/v1/outcomes/{outcome_id}/correct"): {"answer": "更正：本月底前办结。", "reason": "日期写错了"},
    ("POST", "/api/v1/petitions/{reference}/not-accept"): {"reason": "已进入诉讼程序", "redirect_to": "区法院"},
    ("POST", "/api/v1/petitions/{reference}/refer"): {"department": "{other_code}", "reason": "属于人社局职责"},
    ("POST", "/api/v1/petitions/{reference}/extend"): {"days": 10, "reason": "需要现场勘验"},
    ("POST", "/api/v1/commitments/{commitment_id}/complete"): {"note": "房产证已发放。"},
    ("POST", "/api/v1/slips/{slip_id}/close"): {"findings": "居民已领到房产证，表示满意。"},
    ("POST", "staff/community/slips/<int:slip_id>/close"): {"findings": "居民已领到房产证，表示满意。"},
}

# A path parameter taken from another record than the usual one (a session under way, not next week's booking).
PARAMETER_OVERRIDES: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "staff/sessions/<int:appointment_id>/join/"): {"appointment_id": "live_appointment_id"},
    ("POST", "staff/sessions/<int:appointment_id>/end"): {"appointment_id": "live_appointment_id"},
    ("POST", "staff/community/check-in/<int:appointment_id>"): {"appointment_id": "live_appointment_id"},
    ("POST", "/api/v1/appointments/{appointment_id}/video-token"): {"appointment_id": "live_appointment_id"},
    ("GET", "calendar/appointments/<str:token>.ics"): {"token": "appointment_token"},
    ("GET", "calendar/feeds/<str:token>.ics"): {"token": "feed_token"},
    ("GET", "r/<str:token>/"): {"token": "rating_token"},
}

# A query string for a page whose answer is the same without it, only slower to make (the report draws charts).
QUERIES: dict[tuple[str, str], str] = {
    ("GET", "staff/reports/weekly/"): "format=csv",
}


# Building the world once ----------------------------------------------------------------------------------------


@dataclass
class World:
    clients: dict[str, Client]
    params: dict[str, str]


def _world() -> World:
    _district, _street, community_a, community_b = f.district()
    dept_x = f.department("fangchan", "区房产局")
    dept_y = f.department("renshe", "区人社局")
    f.categories()
    for dept in (dept_x, dept_y):
        f.weekday_rules(dept)
        f.publish_next_weeks(dept)
    kiosk_a, key_a = f.kiosk_actor(community_a)
    _kiosk_b, key_b = f.kiosk_actor(community_b)
    Role = StaffMember.Role
    people = {
        "worker_a": f.staff("matrix_worker_a", Role.COMMUNITY_WORKER, community=community_a),
        "staff_x": f.staff("matrix_staff_x", Role.DEPARTMENT_STAFF, department=dept_x),
        "staff_y": f.staff("matrix_staff_y", Role.DEPARTMENT_STAFF, department=dept_y),
        "admin_x": f.staff("matrix_admin_x", Role.DEPARTMENT_ADMIN, department=dept_x),
        "officer": f.staff("matrix_officer", Role.PETITION_OFFICER),
    }
    staff_x, admin_x = Actor(staff=people["staff_x"]), Actor(staff=people["admin_x"])

    slots = [s for s in slot_list_open(department=dept_x) if s.remaining]
    booked = f.petition(kiosk_a, dept_x)
    appointment = appointment_book(actor=kiosk_a, petition_reference=booked.reference, slot_id=slots[0].pk).appointment
    live_petition = f.petition(kiosk_a, dept_x)
    live = appointment_book(actor=kiosk_a, petition_reference=live_petition.reference, slot_id=slots[1].pk).appointment
    slot_move(live.slot, starts_at=timezone.now() - dt.timedelta(minutes=5))
    session = VideoSession.objects.create(
        appointment=live, provider="local", room_name=f"matrix-{live.pk}", flagged_at=timezone.now(), flag_reason="x"
    )
    unbooked = f.petition(kiosk_a, dept_x)
    answered = f.petition(kiosk_a, dept_x)
    outcome = outcomes.outcome_record(
        actor=staff_x,
        petition=answered,
        data=outcomes.OutcomeIn(
            answer="经核实，回迁房房产证将于本月内办理完毕。",
            legal_basis="《国有土地上房屋征收与补偿条例》",
            items=[outcomes.ItemIn(request="办理房产证", decision="supported")],
            commitments=[
                outcomes.CommitmentIn(
                    responsible="区房产局产权科", action="办理房产证", due_on=timezone.localdate() + dt.timedelta(20)
                )
            ],
            slip=outcomes.SlipIn(to_check="回访居民是否已领到房产证", due_on=timezone.localdate() + dt.timedelta(14)),
        ),
    )
    _feed, feed_token = calendar_feed_issue(actor=admin_x, department=dept_x)
    # The booking's confirmation SMS: the record the problems page's "handled" acts on.
    notification = Notification.objects.filter(petition=booked).first()
    if notification is None:
        raise RuntimeError("A booking records its confirmation SMS; the matrix needs one to act on.")
    year, week, _ = (timezone.localdate() + dt.timedelta(days=7)).isocalendar()

    clients: dict[str, Client] = {"anonymous": Client()}
    for role, key in (("kiosk_a", key_a), ("kiosk_b", key_b)):
        client = Client(headers={"X-Kiosk-Key": key})
        client.cookies[settings.KIOSK_KEY_COOKIE] = key
        clients[role] = client
    for role, member in people.items():
        client = Client()
        client.force_login(member.user)
        clients[role] = client

    params = {
        "appointment_id": str(appointment.pk),
        "live_appointment_id": str(live.pk),
        "reference": booked.reference,
        "unbooked_reference": unbooked.reference,
        "code": dept_x.code,
        "other_code": dept_y.code,
        "week": f"{year}-W{week:02d}",
        "slot_id": str(slots[2].pk),
        "other_slot_id": str(slots[3].pk),
        "session_id": str(session.pk),
        "outcome_id": str(outcome.pk),
        "commitment_id": str(outcome.commitments.get().pk),
        "slip_id": str(outcome.slips.get().pk),
        "notification_id": str(notification.pk),
        "appointment_token": appointment_calendar_token(appointment.pk),
        "feed_token": feed_token,
        "rating_token": rating_token_make(outcome.pk),
        "app_label": "appointments",
        "url": "appointments/appointment/",
        "uidb64": "MQ",
        "token": "set-password",
    }
    return World(clients=clients, params=params)


# Walking the URL conf and the OpenAPI document -------------------------------------------------------------------

_PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>|\(\?P<(?P<group>\w+)>[^)]*\)")


def url_patterns(resolver: URLResolver | None = None, prefix: str = "", namespace: str = ""):
    """Every (route, view name with its namespaces) the URL conf holds."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}:{pattern.namespace}".strip(":") if pattern.namespace else namespace
            yield from url_patterns(pattern, route, inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}".strip(":") if pattern.name else None
            yield route, name


def openapi_operations() -> list[tuple[str, str]]:
    document = api.get_openapi_schema()
    return [(method.upper(), path) for path, methods in document["paths"].items() for method in methods]


def _as_openapi_path(route: str) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def pages() -> list[tuple[str, str | None]]:
    """The URL conf's routes, less the API operations (checked from the OpenAPI document)."""
    operation_paths = {path for _method, path in openapi_operations()}
    return [(route, name) for route, name in url_patterns() if _as_openapi_path(route) not in operation_paths]


def expected_page_row(method: str, route: str) -> Row | None:
    if (method, route) in PAGES:
        return PAGES[method, route]
    return next((row for prefix, row in SHARED_GATES.items() if route.startswith(prefix)), None)


# The matrix ------------------------------------------------------------------------------------------------------


def test_every_page_and_every_operation_has_a_row_in_the_matrix():
    missing = []
    for route, _name in pages():
        methods = [m for (m, r) in PAGES if r == route]
        if not methods and expected_page_row("GET", route) is None:
            missing.append(f"page {route!r}: add PAGES[('GET', {route!r})] (or POST) to {__name__}")
    for method, path in openapi_operations():
        if (method, path) not in OPERATIONS:
            missing.append(f"operation {method} {path}: add OPERATIONS[({method!r}, {path!r})] to {__name__}")
    assert not missing, "Pages and operations without an expected status per caller:\n" + "\n".join(missing)


def test_no_row_names_a_page_or_operation_that_no_longer_exists():
    routes = {route for route, _name in pages()}
    operations = set(openapi_operations())
    stale = [f"PAGES {key}" for key in PAGES if key[1] not in routes]
    stale += [f"OPERATIONS {key}" for key in OPERATIONS if key not in operations]
    assert not stale, "Rows for pages or operations that are gone:\n" + "\n".join(stale)


def _url(route: str, name: str | None, params: dict[str, str], overrides: dict[str, str]) -> str:
    def value(param: str) -> str:
        # The admin's own parameters (object_id, content_type_id, …) lie behind its gate: any id will do.
        return params.get(overrides.get(param, param), "1")

    if name is not None:
        names = [m["name"] or m["group"] for m in _PARAM.finditer(route)]
        # A route reverse() cannot rebuild (the admin's regular expressions) is filled in by hand below.
        with contextlib.suppress(NoReverseMatch):
            return reverse(name, kwargs={n: value(n) for n in names})
    path = _PARAM.sub(lambda m: value(m["name"] or m["group"]), route)
    return "/" + path.lstrip("^").rstrip("$")


def _filled(value, params: dict[str, str]):
    """A body with each "{name}" replaced by the record's id (a number) or reference."""
    if isinstance(value, dict):
        return {key: _filled(item, params) for key, item in value.items()}
    if isinstance(value, list):
        return [_filled(item, params) for item in value]
    if isinstance(value, str) and (match := re.fullmatch(r"\{(\w+)\}", value)):
        found = params[match[1]]
        return int(found) if found.isdigit() else found
    return value


def _status(client: Client, method: str, url: str, body: dict | None) -> int:
    """The status of one request, in a savepoint rolled back afterwards: each caller meets the same records."""
    sid = transaction.savepoint_create()
    cache.clear()
    cookies = copy.deepcopy(client.cookies)  # a sign-out or a kiosk reset must not outlive its request
    try:
        if method == "GET":
            response = client.get(url)
        elif url.startswith("/api/"):
            response = client.generic(method, url, data=json.dumps(body or {}), content_type="application/json")
        else:
            response = client.post(url, data=body or {})
        return response.status_code
    finally:
        transaction.savepoint_rollback(sid)
        client.cookies = cookies


def _cells(params: dict[str, str]) -> list[tuple[str, str, str, Row]]:
    """Every (method, row key, address, expected row) to request, the path parameters filled in."""
    cells = []
    for route, name in pages():
        rows = [(method, row) for (method, page_route), row in PAGES.items() if page_route == route]
        if not rows and (gate := expected_page_row("GET", route)) is not None:
            rows = [("GET", gate)]
        for method, row in rows:
            url = _url(route, name, params, PARAMETER_OVERRIDES.get((method, route), {}))
            query = QUERIES.get((method, route))
            cells.append((method, route, f"{url}?{query}" if query else url, row))
    for method, path in openapi_operations():
        if (row := OPERATIONS.get((method, path))) is not None:
            overrides = PARAMETER_OVERRIDES.get((method, path), {})
            url = re.sub(r"\{(\w+)\}", lambda m, o=overrides: params[o.get(m[1], m[1])], path)
            cells.append((method, path, url, row))
    return cells


def _draft_missing_rows() -> None:
    """With MATRIX_DRAFT=1, request pages and operations that have no row yet (expecting 0), so that the failure
    prints what each caller gets today: a draft to check against docs/permissions.md, never to paste unread."""
    for route, _name in pages():
        if not any(r == route for _m, r in PAGES) and expected_page_row("GET", route) is None:
            PAGES["GET", route] = (0,) * len(ROLES)
    for key in openapi_operations():
        OPERATIONS.setdefault(key, (0,) * len(ROLES))


@pytest.mark.django_db
def test_every_caller_gets_the_expected_answer_from_every_page_and_operation(settings):
    settings.API_THROTTLE_CALLER = ""  # eight callers × every operation is not an attack
    settings.API_THROTTLE_ANONYMOUS = ""
    settings.VIDEO_BACKEND = "appointments.video.local.LocalVideoBackend"
    if os.environ.get("MATRIX_DRAFT"):
        _draft_missing_rows()
    world = _world()

    wrong, observed = [], {}
    for method, label, url, row in _cells(world.params):
        body = _filled(BODIES.get((method, label)), world.params)
        got = tuple(_status(world.clients[role], method, url, body) for role in ROLES)
        observed[method, label] = got
        wrong += [
            f"{method} {label} as {role}: expected {want}, got {status} ({url})"
            for role, want, status in zip(ROLES, row, got, strict=True)
            if want != status
        ]
    if wrong:
        print("What each caller got:\n" + "\n".join(f"    {key!r}: {value!r}," for key, value in observed.items()))  # noqa: T201
    assert not wrong, f"{len(wrong)} cells differ from the matrix:\n" + "\n".join(wrong)
