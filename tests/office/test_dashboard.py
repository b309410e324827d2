"""The dashboard page: who may open it, what each role sees, and its queries as data grows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.office import figures
from departments.models import StaffMember
from tests import factories as f


def _client(client, member):
    client.force_login(member.user)
    return client


def test_a_petition_officer_sees_the_whole_district_and_can_filter_by_department(
    client, kiosk, department, other_department
):
    f.petition(kiosk, department)
    f.petition(kiosk, other_department, name="李建国")
    officer = f.staff("officer", StaffMember.Role.PETITION_OFFICER)

    page = _client(client, officer).get("/staff/dashboard/")
    filtered = client.get(f"/staff/dashboard/?department={other_department.code}")

    assert page.status_code == 200 and "2" in page.content.decode()
    assert "区人社局" in page.content.decode()
    assert f"department={other_department.code}" in filtered.content.decode()


def test_department_staff_see_only_their_own_department(client, kiosk, department, other_department):
    f.petition(kiosk, department)
    f.petition(kiosk, other_department, name="李建国")
    member = f.staff("clerk", StaffMember.Role.DEPARTMENT_STAFF, department=department)

    page = _client(client, member).get(f"/staff/dashboard/?department={other_department.code}")

    text = page.content.decode()
    assert page.status_code == 200 and str(department) in text
    assert "By department" not in text and "按部门" not in text


def test_a_community_worker_is_refused(client, community):
    worker = f.staff("worker", StaffMember.Role.COMMUNITY_WORKER, community=community)

    assert _client(client, worker).get("/staff/dashboard/").status_code == 403


def test_the_rate_shows_a_dash_when_nothing_was_handled(client, department):
    officer = f.staff("officer", StaffMember.Role.PETITION_OFFICER)

    text = _client(client, officer).get("/staff/dashboard/").content.decode()

    assert "—" in text


@pytest.mark.parametrize("first,then", [(2, 10)])
def test_the_dashboard_runs_in_the_same_number_of_queries_as_data_grows(client, kiosk, department, first, then):
    officer = f.staff("officer", StaffMember.Role.PETITION_OFFICER)
    _client(client, officer)
    for n in range(first):
        f.petition(kiosk, department, name=f"王{n}")
    with CaptureQueriesContext(connection) as small:
        client.get("/staff/dashboard/")
    for n in range(then):
        f.petition(kiosk, department, name=f"李{n}")
    with CaptureQueriesContext(connection) as large:
        client.get("/staff/dashboard/")

    assert len(small) == len(large)


def test_a_drill_down_says_which_figure_and_week_it_lists_and_a_search_within_it_keeps_them(
    client, kiosk, department, other_department
):
    f.petition(kiosk, department, summary="小区电梯停运三个月，物业一直不修。")
    f.petition(kiosk, department, name="李建国", summary="回迁房的房产证一直办不下来。")
    f.petition(kiosk, other_department, name="张伟", summary="单位拖欠两个月工资。")
    officer = f.staff("officer", StaffMember.Role.PETITION_OFFICER)
    _client(client, officer)
    week = figures.current_period().label

    page = client.get(f"/staff/petitions/?figure=filed&week={week}&department={department.code}")
    searched = client.post(
        "/staff/petitions/", {"q": "电梯", "figure": "filed", "week": week, "department": department.code}
    )
    plain = client.get("/staff/petitions/").content.decode()

    text = page.content.decode()
    assert f"数据周通报 {week} · 新收" in text
    assert '<input type="hidden" name="figure" value="filed">' in text
    assert f'<input type="hidden" name="week" value="{week}">' in text
    assert f'href="/staff/petitions/?department={department.code}"' in text  # clears only the figure
    assert "共 2 件" in text
    assert "figure=filed" in searched["Location"] and f"week={week}" in searched["Location"]
    assert "数据周通报 20" not in plain and 'name="figure"' not in plain


def test_an_unknown_figure_in_the_address_is_ignored_without_an_error(client, kiosk, department):
    f.petition(kiosk, department)
    _client(client, f.staff("officer", StaffMember.Role.PETITION_OFFICER))

    page = client.get("/staff/petitions/?figure=nonsense&week=2026-W99")

    text = page.content.decode()
    assert page.status_code == 200 and "数据周通报 2026" not in text and 'name="figure"' not in text
