"""The petition office's planning page: proposals from demand, adjusted, and every department published at once."""

import pytest
from django.test import override_settings

from appointments.models import TurnAway
from appointments.office.demand import next_week
from departments.audit import AuditEvent
from scheduler.models import ScheduleWeek, Slot
from scheduler.publishing import service_today
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_departments(department, other_department):
    f.rule(department, weekday=0, start="09:00", end="11:00", minutes=30)  # 4 a Monday
    f.rule(department, weekday=2, start="14:00", end="15:00", minutes=30)  # 2 a Wednesday
    f.rule(other_department, weekday=3, start="09:00", end="10:30", minutes=30)  # 3 a Thursday
    return department, other_department


def signed_in(client, actor):
    client.force_login(actor.staff.user)
    return client


def next_week_slots(department):
    year, week = next_week()
    return Slot.objects.filter(department=department, week__iso_year=year, week__iso_week=week)


def test_the_page_shows_each_departments_proposal_and_its_reasons(client, officer, two_departments, kiosk):
    department, _other = two_departments
    for _n in range(2):
        f.petition(kiosk, department)
    TurnAway.objects.create(department=department, at=f.local(f"{service_today()} 09:00"))

    response = signed_in(client, officer).get("/staff/planning/")

    content = response.content.decode()
    assert response.status_code == 200
    assert "区房产局" in content and "区人社局" in content
    assert "2 件信访事项等待预约" in content and "1 位群众未约到时间" in content
    assert f'name="total-{department.pk}"' in content


def test_other_roles_cannot_open_it(client, dept_admin, two_departments):
    assert signed_in(client, dept_admin).get("/staff/planning/").status_code == 403


def test_publishing_all_applies_each_adjusted_plan_in_one_step(client, officer, two_departments):
    department, other = two_departments
    form = {
        f"total-{department.pk}": "3",
        f"day-{department.pk}-0": "2",
        f"day-{department.pk}-2": "1",
        f"total-{other.pk}": "1",  # only the total changed: shared over the days the rules give
        f"day-{other.pk}-3": "3",
    }

    response = signed_in(client, officer).post("/staff/planning/", form)

    assert response.status_code == 200
    assert next_week_slots(department).count() == 3
    assert next_week_slots(other).count() == 1
    assert ScheduleWeek.objects.filter(status=ScheduleWeek.Status.PUBLISHED).count() == 2
    assert AuditEvent.objects.filter(action="week.publish_planned").count() == 2
    assert "已发布 3 场" in response.content.decode()


@pytest.mark.parametrize("value", ["-1", "abc", "３", "99999", "1.5"])
def test_bad_numbers_get_a_message_and_publish_nothing(client, officer, two_departments, value):
    department, _other = two_departments

    response = signed_in(client, officer).post("/staff/planning/", {f"day-{department.pk}-0": value})

    assert response.status_code == 422
    assert "区房产局" in response.content.decode()
    assert not Slot.objects.exists()


def test_more_than_a_day_holds_is_refused(client, officer, two_departments):
    department, _other = two_departments

    response = signed_in(client, officer).post(
        "/staff/planning/", {f"total-{department.pk}": "5", f"day-{department.pk}-0": "5"}
    )

    assert response.status_code == 422
    assert "最多 4 场" in response.content.decode()
    assert not Slot.objects.exists()


@override_settings(HOLIDAY_CONFIRMED_YEARS=[])
def test_an_unannounced_holiday_year_is_reported_per_department_until_confirmed(client, officer, two_departments):
    department, _other = two_departments
    client = signed_in(client, officer)

    refused = client.post("/staff/planning/", {f"day-{department.pk}-0": "1"})

    assert "未发布" in refused.content.decode()
    assert not Slot.objects.exists()

    client.post("/staff/planning/", {f"day-{department.pk}-0": "1", "confirm_provisional_holidays": "on"})
    assert next_week_slots(department).count() == 1


def test_the_demand_is_gathered_in_a_constant_number_of_queries(django_assert_max_num_queries, two_departments):
    from appointments.office.demand import demand_by_department

    for n in range(5):
        f.department(f"dept{n}", f"部门{n}")
    with django_assert_max_num_queries(10):
        rows = demand_by_department()
    assert len(rows) == 7
