"""The planner and the dashboard see how many residents wait for each department, each counted once."""

import datetime as dt

import pytest
from django.utils import timezone

from appointments.models import TurnAway
from appointments.office.demand import demand_by_department
from departments.models import StaffMember
from scheduler.planning import Demand, propose
from tests import factories as f
from tests.notify.waitlist_support import full_fixture, in_chinese_fixture, wait  # noqa: F401 - fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_chinese")]


def test_a_resident_who_joined_the_waiting_list_is_not_counted_twice_as_unmet_demand():
    base = {"rule_sessions": {0: 5}, "seats_per_session": 1, "seats_this_week": 5, "used_this_week": 0}

    # Two petitions wait, two residents were turned away, and one of them is among the waiting petitions.
    once = propose(Demand(**base, waiting=2, turned_away=2, waitlisted=1, waitlist_joined=1))
    twice = propose(Demand(**base, waiting=2, turned_away=2))

    assert "按需求需 3 个席位" in " ".join(once.lines) and "1 位群众在排队等候" in once.lines[0]
    assert once.proposed == 3 and twice.proposed == 4


def test_the_planner_is_given_the_number_waiting_and_those_who_joined_after_being_turned_away(
    kiosk, department, other_department, full
):
    TurnAway.objects.create(department=department, at=timezone.now() - dt.timedelta(minutes=5))
    wait(kiosk, department, name="李建国")
    wait(kiosk, department, name="欧阳娜娜", now=timezone.now() - dt.timedelta(days=30))  # joined long ago

    rows = {row.department.code: row.demand for row in demand_by_department()}

    assert (rows[department.code].waitlisted, rows[department.code].waitlist_joined) == (2, 1)
    assert rows[department.code].turned_away == 1
    assert (rows[other_department.code].waitlisted, rows[other_department.code].waitlist_joined) == (0, 0)


def test_the_planning_page_and_the_dashboard_show_the_waiting_count_without_names(client, kiosk, department, full):
    f.rule(department, weekday=0)
    for name in ("李建国", "欧阳娜娜", "孙小红"):
        wait(kiosk, department, name=name)
    officer = f.staff("officer", StaffMember.Role.PETITION_OFFICER)
    client.force_login(officer.user)

    planning = client.get("/staff/planning/").content.decode()
    dashboard = client.get("/staff/dashboard/").content.decode()

    assert "3 位群众在排队等候" in planning
    assert "<strong>3</strong> 位群众正在排队等候" in dashboard
    assert "<td>3</td>" in dashboard.split("dashboard-departments")[1]
    for name in ("李建国", "欧阳娜娜", "孙小红"):
        assert name not in planning and name not in dashboard


def test_department_staff_see_their_own_departments_waiting_count(client, kiosk, department, other_department, full):
    wait(kiosk, department, name="李建国")
    wait(kiosk, other_department, name="孙小红")
    clerk = f.staff("clerk", StaffMember.Role.DEPARTMENT_STAFF, department=department)
    client.force_login(clerk.user)

    dashboard = client.get("/staff/dashboard/").content.decode()

    assert "<strong>1</strong> 位群众正在排队等候" in dashboard
