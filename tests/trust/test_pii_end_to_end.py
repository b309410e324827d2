"""Personal data end to end: book, notify, export, report and fail on purpose, then search everything produced.

Four residents with real-shaped ID numbers (issued in 沈阳, 乌鲁木齐, 广州 and a Hong Kong residence permit; born
1947 to 2001) book at a kiosk and through the API. Their SMS are sent by the local backend, their calendar files
fetched, the weekly report exported as CSV and PDF, the staff and office pages visited, and requests fail on purpose
with the numbers in the address and the form. Every response, log line (at DEBUG), error mail, SMS, calendar file,
CSV and PDF text is then searched: no ID number and no full mobile anywhere, and no name in SMS, calendars or logs.
"""

import json
import logging
import re
import subprocess
import unicodedata
from urllib.parse import unquote

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client
from django.urls import include, path
from django.utils import timezone

from appointments.models import Appointment, Notification, OutboxMessage, PetitionCategory
from appointments.notify.calendars import appointment_calendar_token, calendar_feed_issue
from appointments.notify.sending import notifications_sweep
from appointments.office.report import week_label
from departments.models import StaffMember
from tests import factories as f
from tests.kiosk.conftest import confirm_token, day_of

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def _explode(request, value: str):
    """A view that fails with the resident's details in its address and its form, the numbers in its message."""
    typed = request.POST.get("id_number", "")
    raise RuntimeError(f"could not file {typed} ({value}, {request.POST.get('phone', '')})")


urlpatterns = [path("pii-test/explode/<str:value>/", _explode), path("", include(django_settings.ROOT_URLCONF))]

PEOPLE = [
    # (name, mobile, ID number, how they book)
    ("王秀兰", "13904051234", f.id_number_for("210104", "19470315", 202), "kiosk"),
    ("阿依古丽·买买提", "15909912345", f.id_number_for("650102", "19881105", 64), "kiosk"),
    ("陈志强", "18620001234", f.id_number_for("440106", "20011230", 7), "api"),
    ("李娜", "17725556789", f.id_number_for("810000", "19650701", 402), "api"),
]


class Everything:
    """Every text the system produced during the test, with where it came from."""

    def __init__(self):
        self.texts: list[tuple[str, str]] = []

    def add(self, where: str, text: str) -> None:
        self.texts.append((where, text))

    def response(self, where: str, response) -> None:
        body = response.content.decode(errors="replace") if not getattr(response, "streaming", False) else ""
        headers = " ".join(f"{k}: {v}" for k, v in response.headers.items())
        self.add(f"{where} → {response.status_code}", f"{headers}\n{body}")


def _joined(text: str) -> str:
    """Digits as a reader sees them: '139 0405 1234', '139-0405-1234' and '１３９…' are the same number."""
    text = unicodedata.normalize("NFKC", unquote(text))
    return re.sub(r"(?<=[0-9])[\s\-–.]+(?=[0-9Xx])", "", text)


def _numbers_found(text: str) -> list[str]:
    joined = _joined(text)
    found = []
    for name, mobile, number, _how in PEOPLE:
        # The first 17 characters are the whole identity: the 18th is computed from them.
        if number[:17] in joined:
            found.append(f"ID number of {name}")
        if mobile in joined:
            found.append(f"mobile of {name}")
    return found


def _around(text: str, what: str) -> str:
    """The text around a find, to say where it leaked."""
    joined = _joined(text)
    for name, mobile, number, _how in PEOPLE:
        for secret in (number[:17], mobile, name):
            if secret in what or what == name:
                at = joined.find(secret)
                if at >= 0:
                    return joined[max(0, at - 200) : at + 40]
    return ""


def _names_found(text: str) -> list[str]:
    return [name for name, *_ in PEOPLE if name in text or name.replace("·", "") in text]


class LogCollector(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logs(caplog):
    """All log output at DEBUG: pytest's capture and a plain handler on the root logger, as a server would have."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")
    collector = LogCollector()
    logging.getLogger().addHandler(collector)
    yield collector, caplog
    logging.getLogger().removeHandler(collector)


def _pdf_text(pdf: bytes, tmp_path) -> str:
    target = tmp_path / "report.pdf"
    target.write_bytes(pdf)
    return subprocess.run(  # noqa: S603 - a fixed program from poppler-utils
        ["/usr/bin/pdftotext", "-layout", str(target), "-"], capture_output=True, text=True, check=True
    ).stdout


def _book_at_kiosk(kiosk_key: str, department, slot, person, out: Everything) -> None:
    name, mobile, number, _how = person
    client = Client()
    client.cookies[django_settings.KIOSK_KEY_COOKIE] = kiosk_key

    def step(method: str, url: str, data=None):
        response = getattr(client, method)(url, data or {})
        out.response(f"kiosk {method.upper()} {url}", response)
        return response

    step("get", "/kiosk/")
    step("get", "/kiosk/book/")
    # A mistyped check character first, then the right details.
    step("post", "/kiosk/book/", {"name": name, "phone": mobile, "id_number": number[:17] + "0"})
    assert step("post", "/kiosk/book/", {"name": name, "phone": mobile, "id_number": number}).status_code == 302
    step("post", "/kiosk/book/category/", {"category": "housing"})
    step("post", "/kiosk/book/summary/", {"summary": "回迁房的房产证一直办不下来，请帮忙协调。"})
    step("get", "/kiosk/book/department/")
    step("post", "/kiosk/book/department/", {"department": department.code})
    step("get", "/kiosk/book/day/")
    step("get", f"/kiosk/book/time/?day={day_of(slot)}")
    step("post", "/kiosk/book/time/", {"slot": slot.pk})
    confirm = client.get("/kiosk/book/confirm/")
    # The one screen that shows the mobile just typed, in full, so the resident can check it (tests/kiosk).
    out.add("kiosk GET /kiosk/book/confirm/", re.sub(r'<span class="phone">[^<]*</span>', "", confirm.content.decode()))
    assert step("post", "/kiosk/book/confirm/", {"token": confirm_token(confirm)}).status_code == 302
    step("get", "/kiosk/book/receipt/")
    appointment = Appointment.objects.filter(petition__resident__id_number_hash__isnull=False).latest("pk")
    code = appointment.petition.query_code
    step("post", "/kiosk/progress/", {"query_code": code, "phone_last4": "0000"})
    step("post", "/kiosk/progress/", {"query_code": code, "phone_last4": mobile[-4:]})
    step("get", "/kiosk/progress/status/")
    step("get", "/kiosk/progress/receipt/")


def _book_by_api(kiosk_key: str, department, slot, person, out: Everything) -> None:
    name, mobile, number, _how = person
    client = Client()
    headers = {"X-Kiosk-Key": kiosk_key}

    def call(method: str, url: str, data=None, **extra):
        if method == "get":
            response = client.get(url, headers={**headers, **extra})
        else:
            response = client.post(
                url, json.dumps(data, ensure_ascii=False), content_type="application/json", headers={**headers, **extra}
            )
        out.response(f"api {method.upper()} {url}", response)
        return response

    body = {
        "resident": {"name": name, "phone": mobile, "id_number": number},
        "category": "housing",
        "summary": "单位拖欠工资三个月，请帮忙协调。",
        "department": department.code,
    }
    call("post", "/api/v1/petitions", {**body, "resident": {**body["resident"], "id_number": number[:17] + "0"}})
    created = call("post", "/api/v1/petitions", body)
    assert created.status_code == 201, created.content
    reference = created.json()["reference"]
    booked = call(
        "post", "/api/v1/appointments", {"petition": reference, "slot": slot.pk}, **{"Idempotency-Key": number}
    )
    assert booked.status_code == 201, booked.content
    call("post", "/api/v1/appointments", {"petition": reference, "slot": slot.pk}, **{"Idempotency-Key": number})
    call("get", f"/api/v1/appointments/{booked.json()['id']}")
    call("get", f"/api/v1/appointments/{number}")
    call("get", f"/api/v1/departments/{mobile}/slots")


@pytest.fixture
def booked(kiosk_key, published, open_slots):
    PetitionCategory.objects.update(suggested_department=published)
    out = Everything()
    for person, slot in zip(PEOPLE, open_slots, strict=False):
        if person[3] == "kiosk":
            _book_at_kiosk(kiosk_key, published, slot, person, out)
        else:
            _book_by_api(kiosk_key, published, slot, person, out)
    assert Appointment.objects.filter(status="booked").count() == len(PEOPLE)
    return out


def test_no_output_anywhere_carries_an_id_number_or_a_full_mobile(
    logs, booked, published, officer, dept_admin, community, settings, tmp_path
):
    collector, caplog = logs
    out = booked
    settings.SMS_BACKEND = "appointments.notify.sms.local.LocalSmsBackend"
    settings.ADMINS = ["ops@example.org"]

    # SMS: the sending service delivers the confirmations through the local backend's outbox.
    report = notifications_sweep()
    assert report.sent >= len(PEOPLE)
    sms = [(message.to, message.body) for message in OutboxMessage.objects.all()]
    assert {to for to, _ in sms} == {"+86" + mobile for _, mobile, *_ in PEOPLE}  # they did go to the residents
    for _to, body in sms:
        out.add("SMS body", body)
    for notification in Notification.objects.all():
        out.add("SMS as kept", f"{notification.body} {notification.detail} {notification.error_message}")

    # Calendar files: each appointment's .ics and the department's feed.
    for appointment in Appointment.objects.all():
        out.response("ics", Client().get(f"/calendar/appointments/{appointment_calendar_token(appointment.pk)}.ics"))
    _feed, token = calendar_feed_issue(actor=dept_admin, department=published)
    out.response("feed", Client().get(f"/calendar/feeds/{token}.ics"))

    # Staff and office pages, the weekly report as page, CSV and PDF, and the admin.
    staff = Client()
    staff.force_login(officer.staff.user)
    week = week_label(*timezone.localdate().isocalendar()[:2])
    pages = ["/staff/office/", "/staff/dashboard/", "/staff/petitions/", "/staff/sms/outbox/"]
    pages += ["/staff/sms/problems/", "/staff/calendar/", "/staff/planning/", f"/staff/reports/weekly/?week={week}"]
    pages += [f"/staff/reports/weekly/?week={week}&format=csv"]
    pages += [f"/staff/petitions/{a.petition.reference}/" for a in Appointment.objects.select_related("petition")]
    for page in pages:
        response = staff.get(page)
        assert response.status_code == 200, page
        out.response(f"officer {page}", response)
    pdf = staff.get(f"/staff/reports/weekly/?week={week}&format=pdf")
    assert pdf["Content-Type"] == "application/pdf"
    out.add("weekly report PDF", _pdf_text(pdf.content, tmp_path))
    worker = Client()
    worker.force_login(f.staff("worker", StaffMember.Role.COMMUNITY_WORKER, community=community).user)
    for page in ["/staff/community/", "/staff/community/slips/"]:
        out.response(f"worker {page}", worker.get(page))
    admin = Client()
    admin.force_login(
        type(officer.staff.user).objects.create_superuser(username="root", password="pw-for-tests-123456")
    )
    for page in [
        "/admin/appointments/resident/",
        "/admin/appointments/petition/",
        "/admin/appointments/resident/?q=秀兰",
    ]:
        out.response(f"admin {page}", admin.get(page))
    for appointment in Appointment.objects.select_related("petition"):
        out.response("admin petition", admin.get(f"/admin/appointments/petition/{appointment.petition_id}/change/"))
        out.response(
            "admin resident", admin.get(f"/admin/appointments/resident/{appointment.petition.resident_id}/change/")
        )

    # Failures on purpose: an exception with the numbers in the address and the form, and 404s with them.
    failing = Client(raise_request_exception=False)
    failing.force_login(officer.staff.user)
    for name, mobile, number, _how in PEOPLE:
        crashed = failing.post(f"/pii-test/explode/{number}/", {"id_number": number, "phone": mobile, "name": name})
        assert crashed.status_code == 500
        out.response("500", crashed)
        out.response("404", failing.get(f"/staff/petitions/{number}/?phone={mobile}"))
        out.response("404", failing.get(f"/kiosk/{number}/{mobile}/"))
        anonymous = Client()
        out.response("anonymous", anonymous.get(f"/staff/petitions/{number}/?phone={mobile}", follow=True))
        out.response("anonymous", anonymous.get(f"/api/v1/appointments/{number}"))
        out.response("anonymous", anonymous.get(f"/calendar/appointments/{number}.ics"))
    settings.DEBUG = True
    out.response("500 with DEBUG", failing.post(f"/pii-test/explode/{PEOPLE[0][2]}/", {"id_number": PEOPLE[0][2]}))
    settings.DEBUG = False
    assert mail.outbox, "the 500s were reported to the admins"
    for message in mail.outbox:
        out.add("error mail", f"{message.subject}\n{message.body}\n{message.alternatives}")

    log_lines = collector.lines + [caplog.text]
    assert any("Internal Server Error" in line for line in collector.lines)
    assert any("Not Found" in line for line in collector.lines)
    for line in log_lines:
        out.add("log", line)

    leaks = [(where, what, _around(text, what)) for where, text in out.texts for what in _numbers_found(text)]
    assert leaks == []
    named = [
        (where, who, _around(text, who))
        for where, text in out.texts
        if where.startswith(("SMS", "ics", "feed", "log"))
        for who in _names_found(text)
    ]
    assert named == []
    # The search itself can fail: the details were really typed, booked and sent.
    assert len(out.texts) > 100 and len(sms) >= len(PEOPLE)
