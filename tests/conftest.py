import datetime as dt

import pytest
from django.utils import timezone

from departments.models import StaffMember
from departments.services import Actor
from scheduler.selectors import slot_list_open

from . import factories as f


@pytest.fixture(autouse=True)
def fresh_cache():
    """Counters kept in the cache (lookup misses, throttles) must not leak from one test to the next."""
    from django.core.cache import cache

    from appointments.video.tasks import attendance_sweeps_forget

    cache.clear()
    attendance_sweeps_forget()  # the queued sweeps were rolled back with the last test's data
    yield
    cache.clear()


# This kind of machine runs PostgreSQL with autovacuum off. Every test rolled back leaves its rows behind as dead
# tuples, so without a vacuum the tables grow through the run and every query scans more of them: the office's
# figures took seconds each by mid-suite. A plain VACUUM now and then keeps the run as fast at the end as at the start.
VACUUM_EVERY_TESTS = 30
_tests_since_vacuum = 0


def pytest_runtest_logfinish(nodeid, location):
    global _tests_since_vacuum
    _tests_since_vacuum += 1
    if _tests_since_vacuum < VACUUM_EVERY_TESTS:
        return
    _tests_since_vacuum = 0
    from django.db import connection

    if connection.vendor != "postgresql" or not connection.settings_dict["NAME"].startswith("test_"):
        return
    raw = connection.get_new_connection(connection.get_connection_params())
    try:
        raw.autocommit = True
        raw.execute("VACUUM")
    finally:
        raw.close()


@pytest.fixture(autouse=True)
def second_factor_only_where_marked(request, settings):
    """Sign-in's TOTP second factor is off unless a test is marked otp_enforced.

    Most tests sign officers and admins in with client.force_login, which stands for a whole sign-in; the
    second factor's own tests (tests/trust/test_signin.py) carry the marker and walk the real flow.
    """
    if request.node.get_closest_marker("otp_enforced") is None:
        settings.SIGNIN_OTP_REQUIRED = False


@pytest.fixture(autouse=True)
def password_login_with_a_request(monkeypatch):
    """client.login() passes a request, as every real sign-in does: django-axes counts failures per address."""
    from django.test import Client, RequestFactory

    login = Client.login

    def login_with_request(self, **credentials):
        credentials.setdefault("request", RequestFactory().post("/accounts/login/"))
        return login(self, **credentials)

    monkeypatch.setattr(Client, "login", login_with_request)


@pytest.fixture
def places(db):
    return f.district()


@pytest.fixture
def community(places):
    return places[2]


@pytest.fixture
def other_community(places):
    return places[3]


@pytest.fixture
def department(db):
    return f.department()


@pytest.fixture
def other_department(db):
    return f.department("renshe", "区人社局")


@pytest.fixture
def published(department):
    """The department with consultation hours every weekday, published for this week and next."""
    f.weekday_rules(department)
    f.publish_next_weeks(department)
    return department


@pytest.fixture
def kiosk_and_key(community):
    return f.kiosk_actor(community)


@pytest.fixture
def kiosk(kiosk_and_key):
    """The Actor of a kiosk registered to 蓝山社区."""
    return kiosk_and_key[0]


@pytest.fixture
def kiosk_key(kiosk_and_key):
    return kiosk_and_key[1]


@pytest.fixture
def other_kiosk_and_key(other_community):
    return f.kiosk_actor(other_community)


@pytest.fixture
def officer(department):
    return Actor(staff=f.staff("officer", StaffMember.Role.PETITION_OFFICER))


@pytest.fixture
def dept_admin(department):
    return Actor(staff=f.staff("dept_admin", StaffMember.Role.DEPARTMENT_ADMIN, department=department))


@pytest.fixture
def dept_staff(department):
    return Actor(staff=f.staff("dept_staff", StaffMember.Role.DEPARTMENT_STAFF, department=department))


@pytest.fixture
def outsider(other_department):
    return Actor(staff=f.staff("outsider", StaffMember.Role.DEPARTMENT_ADMIN, department=other_department))


@pytest.fixture
def open_slots(published):
    """Bookable slots of the published department, earliest first."""
    return [s for s in slot_list_open(department=published) if s.remaining]


@pytest.fixture
def petition(kiosk, published):
    return f.petition(kiosk, published)


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def tomorrow():
    return timezone.localdate() + dt.timedelta(days=1)


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh portrait kiosk-sized page (1080×1920) that refuses any request off this machine."""
    context = browser.new_context(viewport={"width": 1080, "height": 1920}, locale="zh-CN")

    def only_local(route):
        host = route.request.url.split("/")[2].split(":")[0]
        if host in {"127.0.0.1", "localhost"} or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_local)
    pg = context.new_page()
    yield pg
    context.close()
