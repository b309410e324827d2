"""The weekly report's page in Debian's Chromium: what a petition officer sees, and accessibility."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.office.test_report import TODAY, week_data  # noqa: F401 (a fixture)
from tests.video.support import REPO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = REPO / "test-artifacts" / "office"
PASSWORD = "pw-for-tests-123"


def test_an_officer_reads_the_week_with_charts_and_tables_and_no_serious_accessibility_issue(
    week_data,  # noqa: F811
    officer,
    department,
    live_server,
    page,
    monkeypatch,
):
    monkeypatch.setattr("appointments.office.report.service_today", lambda: TODAY)
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{live_server.url}/accounts/login/?next=/staff/reports/weekly/?week=2026-W48")
    page.fill("#id_username", officer.staff.user.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/reports/weekly/"))

    assert page.locator("h1").inner_text().startswith("数据周通报")
    assert page.locator(".report-charts img").count() == 4
    assert page.get_by_role("link", name=department.name).count() >= 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "weekly-report.png"), full_page=True)
    violations = [
        f"{v['id']} ({v['impact']})"
        for v in Axe().run(page).response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert violations == []

    # The field's pattern stops a typo in the browser; an address typed by hand reaches the server's check.
    page.goto(f"{live_server.url}/staff/reports/weekly/?week=2027-W10")
    assert "2027-W10" in page.get_by_role("alert").inner_text()
    page.screenshot(path=str(SHOTS / "weekly-report-bad-week.png"), full_page=True)
