"""The dashboard in Debian's Chromium: it reads well, has no serious accessibility problems, and a figure opens a list
of exactly as many petitions as it says."""

import base64
import datetime as dt
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from appointments.models import Petition
from appointments.office.turnaways import turn_away_record
from appointments.outcomes.lifecycle import petition_accept, petition_not_accept
from appointments.outcomes.services import ItemIn, OutcomeIn, outcome_record, rating_give
from departments.models import StaffMember
from departments.services import Actor
from tests import factories as f
from tests.video.support import REPO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = REPO / "test-artifacts" / "office"
DOCS = REPO / "docs" / "screenshots"
PASSWORD = "pw-for-tests-123"


def _answer(actor: Actor, petition: Petition, answer: str, decision: str = "supported") -> None:
    outcome_record(
        actor=actor,
        petition=petition,
        data=OutcomeIn(answer=answer, items=[ItemIn(request=petition.summary[:40], decision=decision)]),
    )


@pytest.fixture
def district_week(kiosk, other_kiosk_and_key):
    """Two departments' petitions in several states: answered (one rated dissatisfied, one satisfied), refused,
    accepted and waiting, overdue, due soon and just received; and two residents who found no free time."""
    housing, labour = f.department(), f.department("renshe", "区人社局")
    other_kiosk = other_kiosk_and_key[0]
    housing_staff = Actor(staff=f.staff("fc_clerk", StaffMember.Role.DEPARTMENT_STAFF, department=housing))
    labour_staff = Actor(staff=f.staff("rs_clerk", StaffMember.Role.DEPARTMENT_STAFF, department=labour))
    f.staff("officer", StaffMember.Role.PETITION_OFFICER)

    lift = f.petition(kiosk, housing, name="王秀兰", summary="小区电梯停运三个月，物业一直不修，老人上下楼很困难。")
    _answer(housing_staff, lift, "已责成物业公司在十日内完成维修，街道跟踪落实。")
    rating_give(actor=kiosk, petition=lift, level="satisfied", remark="处理及时")
    deed = f.petition(kiosk, housing, name="李建国", summary="回迁房的房产证一直办不下来，开发商说在等审批。")
    _answer(housing_staff, deed, "经核查，该项目尚未完成竣工验收备案，暂不具备办证条件。", decision="explained")
    rating_give(actor=kiosk, petition=deed, level="dissatisfied", remark="还是没有给出办证时间")
    wages = f.petition(other_kiosk, labour, name="张伟", summary="小区保洁公司拖欠我两个月工资，多次找公司没有结果。")
    _answer(labour_staff, wages, "已约谈保洁公司负责人，拖欠工资将于本月底前结清。")
    court = f.petition(other_kiosk, labour, name="刘芳", summary="劳动仲裁已经裁决，对方不执行，想问怎么办。")
    petition_not_accept(
        actor=labour_staff, petition=court, reason="已经仲裁裁决，属于法院强制执行范围。", redirect_to="区人民法院"
    )
    waiting = f.petition(kiosk, housing, name="陈静", summary="楼上住户违规改建阳台，存在安全隐患。")
    petition_accept(actor=housing_staff, petition=waiting)
    today = timezone.localdate()
    for department, name, summary, due in [
        (housing, "赵磊", "物业费上涨没有经过业主大会，要求说明依据。", today - dt.timedelta(days=4)),
        (labour, "孙丽", "单位未给缴纳社会保险，已经离职半年。", today - dt.timedelta(days=1)),
        (housing, "周强", "车库漏水多次报修无人处理。", today + dt.timedelta(days=2)),
    ]:
        late = f.petition(kiosk, department, name=name, summary=summary)
        Petition.objects.filter(pk=late.pk).update(due_on=due)
    f.petition(other_kiosk, labour, name="吴娜", summary="工伤认定申请提交两个月没有回复。")
    for department in (housing, labour):
        turn_away_record(department=department, kiosk=kiosk.kiosk)
    return housing, labour


def _sign_in(page, live_server, next_url: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.fill("#id_username", "officer")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name=re.compile("登录|Sign in|Log in")).click()
    page.wait_for_url(re.compile(re.escape(next_url)))


def test_the_dashboard_reads_well_is_accessible_and_a_figure_opens_as_many_petitions_as_it_says(
    live_server, page, district_week
):
    _sign_in(page, live_server, "/staff/dashboard/")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)
    violations = [
        (v["id"], [n["target"] for n in v["nodes"]])
        for v in Axe().run(page).response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert violations == []

    body = page.inner_text("main")
    assert "全区" in body and "区人社局" in body and "区房产局" in body
    assert "Dashboard" not in body and "open petition" not in body  # every label is in Chinese

    overdue = page.locator("a[href*='figure=overdue']").first
    shown = int(overdue.locator("strong").inner_text())
    assert shown == 2
    overdue.click()
    page.wait_for_url(re.compile(r"/staff/petitions/\?.*figure=overdue"))
    page.screenshot(path=str(SHOTS / "dashboard-drill-down.png"), full_page=True)
    assert page.locator("table.petitions tbody tr:not(:has(td.empty))").count() == shown
    assert f"共 {shown} 件" in page.get_by_role("status").inner_text()
    assert "数据周通报" in page.locator("p.filter-note").inner_text()

    # The README's copy at half size, scaled by Chromium itself (no image tools needed).
    DOCS.mkdir(parents=True, exist_ok=True)
    full = base64.b64encode((SHOTS / "dashboard.png").read_bytes()).decode()
    page.set_content(f'<body style="margin:0"><img id="shot" src="data:image/png;base64,{full}"></body>')
    width = page.eval_on_selector("#shot", "img => { img.width = img.naturalWidth / 2; return img.width; }")
    page.locator("#shot").screenshot(path=str(DOCS / "staff-dashboard.png"))
    assert width > 300 and (DOCS / "staff-dashboard.png").stat().st_size > 0
