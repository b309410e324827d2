"""The planning page in Debian's Chromium: it reads well, has no serious accessibility problems, and publishes."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from departments.models import StaffMember
from scheduler.models import Slot
from tests import factories as f
from tests.video.support import REPO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = REPO / "test-artifacts" / "office"


def test_the_planning_page_publishes_every_department_and_has_no_serious_accessibility_problems(live_server, page):
    housing, justice = f.department(), f.department("sifa", "区司法局")
    f.weekday_rules(housing, start="09:00", end="11:00")
    f.rule(justice, weekday=1, start="14:00", end="16:00")
    f.staff("officer", StaffMember.Role.PETITION_OFFICER)
    kiosk, _key = f.kiosk_actor(f.district()[2])
    for _n in range(3):
        f.petition(kiosk, housing)

    page.goto(f"{live_server.url}/accounts/login/?next=/staff/planning/")
    page.fill("#id_username", "officer")
    page.fill("#id_password", "pw-for-tests-123")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/planning/"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "planning.png"), full_page=True)
    violations = [v["id"] for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    assert violations == []

    page.get_by_role("button", name="发布所有部门的下周问诊").click()
    page.wait_for_load_state("load")
    page.screenshot(path=str(SHOTS / "planning-after.png"), full_page=True)
    page.wait_for_selector("#published-heading")
    page.screenshot(path=str(SHOTS / "planning-published.png"), full_page=True)
    assert Slot.objects.filter(department=justice).exists()
