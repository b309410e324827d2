"""Every API operation and staff page runs the same number of SQL queries however much the district holds.

(The kiosk's pages have their own such test, tests/kiosk/test_queries.py.)
"""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from appointments.booking import appointment_book
from departments.models import StaffMember
from scheduler.selectors import slot_list_open
from tests import factories as f

pytestmark = pytest.mark.django_db

PETITION = {
    "resident": {"name": "赵丽华", "phone": "13912345678", "id_number": ""},
    "category": "housing",
    "summary": "小区电梯三个月没修好。",
    "department": "fangchan",
}


def grow(kiosk, *, departments: int, bookings: int, tag: str) -> None:
    """More departments with published weeks, and more petitions booked into the watched department."""
    for n in range(departments):
        other = f.department(f"{tag}{n}", f"区第{tag}{n}局")
        f.weekday_rules(other, capacity=2)
        f.publish_next_weeks(other)
    watched = f.department()
    free = [s for s in slot_list_open(department=watched) if s.remaining][10:]
    for n in range(bookings):
        petition = f.petition(kiosk, watched, name=["王秀兰", "李建国", "欧阳娜娜"][n % 3])
        appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=free[n].pk)


def operations(kiosk, key, round_: int) -> dict[str, tuple]:
    """Each operation as (method, url, body, who): fresh objects for the ones that change something."""
    department = f.department()
    slots = [s for s in slot_list_open(department=department) if s.remaining == s.capacity]
    petition = f.petition(kiosk, department, name="孙志强")
    booked = f.petition(kiosk, department, name="周芳")
    appointment = appointment_book(actor=kiosk, petition_reference=booked.reference, slot_id=slots[0].pk).appointment
    moving = f.petition(kiosk, department, name="吴敏")
    to_move = appointment_book(actor=kiosk, petition_reference=moving.reference, slot_id=slots[1].pk).appointment
    body = {**PETITION, "resident": {**PETITION["resident"], "id_number": f.valid_id_number()}}
    return {
        "api category_list": ("get", "/api/v1/categories", None, "kiosk"),
        "api department_list": ("get", "/api/v1/departments", None, "kiosk"),
        "api slot_list": ("get", f"/api/v1/departments/{department.code}/slots", None, "kiosk"),
        "api petition_get": ("get", f"/api/v1/petitions/{booked.reference}", None, "kiosk"),
        "api appointment_get": ("get", f"/api/v1/appointments/{appointment.pk}", None, "kiosk"),
        "api petition_create": ("post", "/api/v1/petitions", body, "kiosk"),
        "api appointment_book": (
            "post",
            "/api/v1/appointments",
            {"petition": petition.reference, "slot": slots[2].pk},
            "kiosk",
        ),
        "api appointment_reschedule": (
            "post",
            f"/api/v1/appointments/{to_move.pk}/reschedule",
            {"slot": slots[3].pk},
            "kiosk",
        ),
        "api appointment_cancel": ("post", f"/api/v1/appointments/{appointment.pk}/cancel", {}, "kiosk"),
        "staff dashboard": ("get", "/staff/dashboard/", None, "officer"),
        "staff petition list": ("get", "/staff/petitions/", None, "officer"),
        "staff petition detail": ("get", f"/staff/petitions/{booked.reference}/", None, "officer"),
        "staff office": ("get", "/staff/office/", None, "officer"),
        "staff hours": ("get", "/staff/hours/", None, "officer"),
        "staff hours of a department": ("get", f"/staff/hours/{department.code}/", None, "officer"),
        "staff planning": ("get", "/staff/planning/", None, "officer"),
    }


def counts(kiosk, key, officer, round_: int) -> dict[str, int]:
    clients = {"kiosk": Client(headers={"X-Kiosk-Key": key}), "officer": Client()}
    clients["officer"].force_login(officer.user)
    result = {}
    for name, (method, url, body, who) in operations(kiosk, key, round_).items():
        client = clients[who]
        with CaptureQueriesContext(connection) as queries:
            if method == "get":
                response = client.get(url)
            else:
                response = client.post(url, json.dumps(body), content_type="application/json")
        assert response.status_code in (200, 201), (name, response.status_code, response.content[:300])
        result[name] = len(queries)
    return result


def test_every_api_operation_and_staff_page_runs_a_constant_number_of_queries_as_data_grows():
    _, _, community, _ = f.district()
    kiosk, key = f.kiosk_actor(community)
    department = f.department()
    f.weekday_rules(department, capacity=3, start="08:00", end="17:00", minutes=20)
    f.publish_next_weeks(department)
    officer = f.staff("officer", StaffMember.Role.PETITION_OFFICER)
    grow(kiosk, departments=1, bookings=2, tag="a")
    # Warm the per-process caches (holiday calendar, categories) so that both rounds start alike.
    counts(kiosk, key, officer, 0)
    small = counts(kiosk, key, officer, 1)

    grow(kiosk, departments=4, bookings=25, tag="b")
    large = counts(kiosk, key, officer, 2)

    grew = {name: (small[name], large[name]) for name in small if small[name] != large[name]}
    assert not grew, f"queries grew with the data (small, larger): {grew}"
