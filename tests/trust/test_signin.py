"""Signing in: wrong passwords pause sign-in per account and per address (django-axes), and petition officers,
department admins and admin-site users give a TOTP code after the password (django-otp), with recovery codes."""

import datetime as dt
from urllib.parse import urlencode

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from departments.models import StaffMember
from tests import factories as f

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-123"
LOGIN = "/accounts/login/"
VERIFY = "/accounts/second-factor/"
ENROL = "/accounts/second-factor/enrol/"
RECOVERY = "/accounts/second-factor/recovery/"


def browser(address="10.20.0.7", language="zh-hans") -> Client:
    return Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE=language)


def sign_in(client: Client, username: str, password: str = PASSWORD, url: str = LOGIN):
    return client.post(url, {"username": username, "password": password, "next": "/staff/"})


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code the person's app shows now (or a later step, still inside django-otp's tolerance)."""
    return f"{totp(device.bin_key, t0=-30 * steps_ahead):06d}"


def enrol(client: Client) -> list[str]:
    client.get(ENROL)
    device = TOTPDevice.objects.get(user__username=client.session_user, confirmed=False)
    page = client.post(ENROL, {"code": code_for(device), "next": "/staff/"})
    assert page.status_code == 200
    return list(StaticToken.objects.filter(device__user=device.user).values_list("token", flat=True))


# django-axes: wrong passwords


def test_five_wrong_passwords_pause_the_account_and_then_even_the_right_one_is_refused(department):
    f.staff("fangchan_liu", StaffMember.Role.DEPARTMENT_STAFF, department=department)
    client = browser()

    wrong = [sign_in(client, "fangchan_liu", f"guess-{n}").status_code for n in range(5)]
    right = sign_in(client, "fangchan_liu")

    assert wrong[:4] == [200] * 4  # the form again, with its error
    assert right.status_code == 429
    page = right.content.decode()
    assert "登录已暂停" in page and "15" in page
    assert "_auth_user_id" not in client.session


def test_the_pause_page_speaks_english_to_an_english_browser(department):
    f.staff("fangchan_zhou", StaffMember.Role.DEPARTMENT_STAFF, department=department)
    client = browser(language="en")
    for n in range(5):
        sign_in(client, "fangchan_zhou", f"guess-{n}")

    page = sign_in(client, "fangchan_zhou").content.decode()

    assert "Sign-in paused" in page
    assert "even the right password is refused" in page


def test_the_account_is_paused_from_every_address(department):
    f.staff("fangchan_sun", StaffMember.Role.DEPARTMENT_STAFF, department=department)
    for n in range(5):
        sign_in(browser("10.20.0.7"), "fangchan_sun", f"guess-{n}")

    assert sign_in(browser("172.16.4.9"), "fangchan_sun").status_code == 429


def test_an_address_trying_many_accounts_is_paused_for_every_account(department):
    for name in ("a_wu", "b_zheng", "c_feng", "d_chen", "e_chu"):
        sign_in(browser("10.20.0.8"), name, "wrong-password")
    f.staff("fangchan_wei", StaffMember.Role.DEPARTMENT_STAFF, department=department)

    assert sign_in(browser("10.20.0.8"), "fangchan_wei").status_code == 429
    assert sign_in(browser("10.20.0.9"), "fangchan_wei").status_code == 302


def test_after_the_cool_off_the_right_password_works_again(department):
    f.staff("fangchan_jiang", StaffMember.Role.DEPARTMENT_STAFF, department=department)
    client = browser()
    for n in range(5):
        sign_in(client, "fangchan_jiang", f"guess-{n}")
    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16))

    response = sign_in(client, "fangchan_jiang")

    assert response.status_code == 302


def test_four_wrong_passwords_then_the_right_one_signs_in(department):
    f.staff("fangchan_shen", StaffMember.Role.DEPARTMENT_STAFF, department=department)
    client = browser()
    for n in range(4):
        sign_in(client, "fangchan_shen", f"guess-{n}")

    assert sign_in(client, "fangchan_shen").status_code == 302


def test_the_admin_login_is_paused_too():
    get_user_model().objects.create_superuser("root", "root@example.invalid", PASSWORD)
    client = browser()
    for n in range(5):
        sign_in(client, "root", f"guess-{n}", url="/admin/login/")

    assert sign_in(client, "root", url="/admin/login/").status_code == 429


# django-otp: the second factor


@pytest.fixture
def officer_user(department):
    return f.staff("officer_han", StaffMember.Role.PETITION_OFFICER).user


def signed_in_with_password(user) -> Client:
    client = browser()
    assert sign_in(client, user.username).status_code == 302
    client.session_user = user.username
    return client


@pytest.mark.otp_enforced
def test_an_officer_enrols_on_first_sign_in_and_gets_recovery_codes_once(officer_user):
    client = signed_in_with_password(officer_user)

    staff_page = client.get("/staff/")
    assert staff_page.status_code == 302
    assert staff_page["Location"] == f"{VERIFY}?{urlencode({'next': '/staff/'})}"
    to_enrol = client.get(staff_page["Location"])
    assert to_enrol["Location"].startswith(ENROL)
    page = client.get(to_enrol["Location"]).content.decode()
    assert "<svg" in page
    device = TOTPDevice.objects.get(user=officer_user, confirmed=False)

    wrong = client.post(ENROL, {"code": "000000" if code_for(device) != "000000" else "111111", "next": "/staff/"})
    assert wrong.status_code == 400
    assert client.get("/staff/").status_code == 302

    device.throttle_reset()
    codes_page = client.post(ENROL, {"code": code_for(device), "next": "/staff/"})

    assert codes_page.status_code == 200
    codes = list(StaticToken.objects.filter(device__user=officer_user).values_list("token", flat=True))
    assert len(codes) == 10
    assert all(code in codes_page.content.decode() for code in codes)
    assert client.get("/staff/office/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    # Shown once: the enrolment page now sends an enrolled person to the code page, never the codes again.
    again = client.get(ENROL)
    assert again.status_code == 302
    assert codes[0] not in client.get(VERIFY, follow=True).content.decode()


@pytest.mark.otp_enforced
def test_an_enrolled_officer_must_give_a_right_code_in_each_new_session(officer_user, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # no waiting between the tries of this test
    first = signed_in_with_password(officer_user)
    enrol(first)
    device = TOTPDevice.objects.get(user=officer_user, confirmed=True)

    client = signed_in_with_password(officer_user)
    assert client.get("/staff/").status_code == 302
    wrong = client.post(VERIFY, {"code": "123456" if code_for(device, 1) != "123456" else "654321", "next": "/staff/"})
    assert wrong.status_code == 400
    assert "不正确" in wrong.content.decode() or "不对" in wrong.content.decode()
    assert client.get("/staff/").status_code == 302

    right = client.post(VERIFY, {"code": code_for(device, 1), "next": "/staff/"})

    assert right.status_code == 302
    assert right["Location"] == "/staff/"
    assert client.get("/staff/office/").status_code == 200


@pytest.mark.otp_enforced
def test_right_after_a_wrong_code_even_the_right_one_must_wait(officer_user):
    enrol(signed_in_with_password(officer_user))
    device = TOTPDevice.objects.get(user=officer_user, confirmed=True)
    client = browser(language="en")
    sign_in(client, officer_user.username)
    client.post(VERIFY, {"code": "12345x", "next": "/staff/"})

    response = client.post(VERIFY, {"code": code_for(device, 1), "next": "/staff/"})

    assert response.status_code == 429
    assert "Too many wrong codes" in response.content.decode()
    assert client.get("/staff/").status_code == 302


@pytest.mark.otp_enforced
def test_a_recovery_code_signs_in_once_only(officer_user):
    codes = enrol(signed_in_with_password(officer_user))

    client = signed_in_with_password(officer_user)
    used = client.post(RECOVERY, {"code": codes[3].upper(), "next": "/staff/"})
    assert used.status_code == 302
    assert client.get("/staff/office/").status_code == 200

    later = signed_in_with_password(officer_user)
    again = later.post(RECOVERY, {"code": codes[3], "next": "/staff/"})
    assert again.status_code == 400
    assert later.get("/staff/office/").status_code == 302
    assert StaticToken.objects.filter(device__user=officer_user).count() == 9


@pytest.mark.otp_enforced
def test_a_department_admin_is_asked_for_a_code(department):
    admin = f.staff("fangchan_boss", StaffMember.Role.DEPARTMENT_ADMIN, department=department).user

    client = signed_in_with_password(admin)

    assert client.get("/staff/hours/").status_code == 302


@pytest.mark.otp_enforced
@pytest.mark.parametrize("role", [StaffMember.Role.DEPARTMENT_STAFF, StaffMember.Role.COMMUNITY_WORKER])
def test_department_staff_and_community_workers_are_not_asked_for_a_code(role, department, community):
    where = {"community": community} if role == StaffMember.Role.COMMUNITY_WORKER else {"department": department}
    user = f.staff(f"plain_{role}", role, **where).user

    client = signed_in_with_password(user)

    response = client.get("/staff/", follow=True)

    assert response.status_code == 200
    assert all(not url.startswith(VERIFY) for url, _status in response.redirect_chain)


@pytest.mark.otp_enforced
def test_the_api_refuses_an_officers_session_until_the_code_but_not_the_officers_token(officer_user):
    client = signed_in_with_password(officer_user)
    token = f.token_for(officer_user.staff)

    before = client.get("/api/v1/appointments/987654", HTTP_ACCEPT_LANGUAGE="en")
    by_token = Client().get("/api/v1/appointments/987654", HTTP_AUTHORIZATION=f"Bearer {token}")
    enrol(client)
    after = client.get("/api/v1/appointments/987654")

    assert before.status_code == 401
    assert "authenticator" in before.json()["detail"]
    assert by_token.status_code == 404
    assert after.status_code == 404


@pytest.mark.otp_enforced
def test_the_admin_site_asks_a_superuser_for_a_code_after_the_password():
    root = get_user_model().objects.create_superuser("root", "root@example.invalid", PASSWORD)
    client = browser()

    signed = client.post("/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD, "next": "/admin/"})
    index = client.get("/admin/")
    page = client.get("/admin/appointments/appointment/")
    login_again = client.get("/admin/login/?next=/admin/")

    assert signed.status_code == 302
    assert index.status_code == 302 and index["Location"].startswith(VERIFY)
    assert page.status_code == 302 and "appointment" not in page.content.decode()
    assert login_again["Location"].startswith(VERIFY)
    client.session_user = root.username
    enrol(client)
    assert client.get("/admin/").status_code == 200


@pytest.mark.otp_enforced
def test_the_code_page_never_sends_anyone_off_the_site(officer_user, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    enrol(signed_in_with_password(officer_user))
    device = TOTPDevice.objects.get(user=officer_user, confirmed=True)
    client = signed_in_with_password(officer_user)

    response = client.post(VERIFY, {"code": code_for(device, 1), "next": "https://evil.example/"})

    assert response["Location"] == "/staff/"


def test_without_the_marker_force_login_stands_for_a_whole_sign_in(officer_user):
    client = Client()
    client.force_login(officer_user)

    assert client.get("/staff/office/").status_code == 200


def test_an_over_long_username_is_refused_and_counted_without_a_server_error(client):
    name = "x" * 10_000
    statuses = [client.post("/accounts/login/", {"username": name, "password": "wrong"}).status_code for _ in range(6)]

    # The fifth failure reaches the limit and is answered with the pause itself, as for any username.
    assert statuses == [200] * 4 + [429] * 2
