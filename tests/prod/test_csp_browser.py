"""Pages work under the production Content-Security-Policy (no inline script) in Debian's Chromium."""

import re

import pytest
from django.conf import settings as django_settings

from departments.models import StaffMember
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-123"
WATCH = (
    "window.__csp = []; document.addEventListener('securitypolicyviolation',"
    " (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
)


@pytest.fixture
def enforced_csp(settings):
    """The policy production enforces (tests otherwise send it report-only)."""
    settings.SECURE_CSP = django_settings.SECURE_CSP or django_settings.SECURE_CSP_REPORT_ONLY
    settings.SECURE_CSP_REPORT_ONLY = {}
    assert settings.SECURE_CSP["script-src"] == ["'self'"]


@pytest.fixture
def watched(page):
    page.add_init_script(WATCH)
    complaints: list[str] = []
    page.on(
        "console",
        lambda message: complaints.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return page, complaints


def sign_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next=/staff/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/\w+/"))


def violations(page) -> list[str]:
    return page.evaluate("window.__csp")


def test_the_detector_sees_an_inline_script_refused(live_server, enforced_csp, watched):
    page, complaints = watched
    response = page.goto(f"{live_server.url}/accounts/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.evaluate(
        "document.body.appendChild(Object.assign(document.createElement('script'), {text: 'window.ran = 1'}))"
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.ran === undefined")
    assert violations(page) or complaints


def test_weekly_hours_switch_department_with_the_script_moved_out_of_the_page(
    live_server, enforced_csp, watched, published, other_department
):
    page, complaints = watched
    f.staff("officer_wang", StaffMember.Role.PETITION_OFFICER)
    sign_in(page, live_server, "officer_wang")
    page.goto(f"{live_server.url}/staff/hours/{published.code}/")
    page.select_option("#dept-select", label=str(other_department))
    page.wait_for_url(re.compile(rf"/staff/hours/{other_department.code}/"))
    assert violations(page) == [] and complaints == []


def test_the_calendar_feeds_page_and_the_kiosk_start_page_load_without_violations(
    live_server, enforced_csp, watched, published, kiosk_key
):
    page, complaints = watched
    f.staff("li_fangchan", StaffMember.Role.DEPARTMENT_STAFF, department=published)
    sign_in(page, live_server, "li_fangchan")
    page.goto(f"{live_server.url}/staff/calendar/")
    page.wait_for_load_state("networkidle")
    assert violations(page) == [] and complaints == []
    page.context.add_cookies([{"name": django_settings.KIOSK_KEY_COOKIE, "value": kiosk_key, "url": live_server.url}])
    page.goto(f"{live_server.url}/kiosk/")
    page.wait_for_load_state("networkidle")
    assert page.locator("main").count() >= 1
    assert violations(page) == [] and complaints == []
