"""No ID number or mobile from a URL, a query string or a form reaches the logs, the error mails or the DEBUG page,
through the logging configuration the server really runs with."""

import io
import logging
import sys
from urllib.parse import quote

import pytest
from django.core import mail
from django.core.servers.basehttp import WSGIRequestHandler
from django.test import Client, RequestFactory
from django.urls import include, path
from django.views.debug import get_exception_reporter_class

from scheduler.log_filters import RedactPersonalData, redact
from tests import factories as f

ID_NUMBER = f.id_number_for("210104", "19470315", 2)
ID_NUMBER_X = "11010519491231002X"
MOBILE = "13912345678"
NAME = "王秀兰"
NAME_IN_URL = quote(NAME)
PERSONAL = (ID_NUMBER, ID_NUMBER_X, MOBILE, ID_NUMBER.lower(), "139-1234-5678")


def boom(request, ref):
    """A view that fails with the resident's numbers in its message and its local variables."""
    id_number = request.POST.get("id_number", "")
    resident = {"name": request.POST.get("name"), "phone": request.POST.get("phone")}
    raise RuntimeError(f"could not file a petition for {id_number} (mobile {resident['phone']}, ref {ref})")


urlpatterns = [path("boom/<str:ref>/", boom), path("", include("scheduler.urls"))]


def _configured_handlers() -> list[logging.Handler]:
    loggers = [logging.getLogger()] + [
        logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    return [
        handler
        for logger in loggers
        for handler in logger.handlers
        # pytest's own capture, and libraries' NullHandlers that write nothing anywhere
        if not type(handler).__module__.startswith("_pytest") and not isinstance(handler, logging.NullHandler)
    ]


@pytest.fixture
def log_output():
    """Everything the configured stream handlers write (their filters and formatters included), as one text."""
    buffer = io.StringIO()
    swapped = [
        (handler, handler.setStream(buffer))
        for handler in _configured_handlers()
        if isinstance(handler, logging.StreamHandler)
    ]
    yield buffer
    for handler, stream in swapped:
        handler.setStream(stream)


def assert_clean(text: str) -> None:
    for value in PERSONAL:
        assert value not in text
    assert "1391234" not in text  # not even most of the mobile


def test_every_handler_of_every_logger_masks_personal_data():
    handlers = _configured_handlers()
    names = {handler.name for handler in handlers}

    assert {"console", "django.server", "mail_admins"} <= names
    assert [h.name for h in handlers if not any(isinstance(x, RedactPersonalData) for x in h.filters)] == []


def _runserver_line(request_line: str, status: int = 200, size: int = 5120) -> None:
    """Log a request the way `manage.py runserver` does."""
    handler = WSGIRequestHandler.__new__(WSGIRequestHandler)
    handler.request = None
    handler.client_address = ("127.0.0.1", 50000)
    handler.requestline = request_line
    handler.log_request(status, size)


def test_runserver_request_lines_keep_no_id_number_or_mobile_in_path_query_or_percent_encoding(log_output):
    _runserver_line(f"GET /kiosk/lookup/{ID_NUMBER}/?phone={MOBILE}&id={ID_NUMBER_X} HTTP/1.1")
    _runserver_line(f"GET /kiosk/find/?phone=%2B86{MOBILE}&q=139+1234+5678 HTTP/1.1", 404, 179)
    encoded = "".join(f"%{ord(c):X}" for c in ID_NUMBER)
    _runserver_line(f"GET /staff/residents/?id_number={encoded}&n={ID_NUMBER.lower()} HTTP/1.1", 302, 0)

    text = log_output.getvalue()
    assert_clean(text)
    assert encoded not in text
    assert text.count("[id-number]") == 4
    assert '/?phone=[phone]&id=[id-number] HTTP/1.1" 200 5120' in text
    assert '" 404 179' in text


def test_a_harmless_request_line_is_written_unchanged(log_output):
    line = "GET /api/slots/?after=1764480000123&since=1764480000&ref=202611300001&t=0.13912345678 HTTP/1.1"

    _runserver_line(line, 200, 13912)

    assert f'"{line}" 200 13912' in log_output.getvalue()


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_404_with_an_id_number_in_the_path_and_a_mobile_in_the_query_is_logged_masked(log_output):
    response = Client().get(f"/no-such-page/{ID_NUMBER}/", {"phone": MOBILE})

    assert response.status_code == 404
    text = log_output.getvalue()
    assert "Not Found: /no-such-page/[id-number]/" in text
    assert_clean(text)


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_an_exception_is_logged_and_mailed_to_admins_without_id_numbers_mobiles_or_names(log_output, settings):
    settings.ADMINS = ["ops@example.org"]
    client = Client(raise_request_exception=False)

    response = client.post(
        f"/boom/{ID_NUMBER_X}/?phone={MOBILE}&page=2",
        {"name": NAME, "phone": MOBILE, "id_number": ID_NUMBER, "summary": "回迁房"},
    )

    assert response.status_code == 500
    text = log_output.getvalue()
    assert "Internal Server Error: /boom/[id-number]/" in text
    assert "Traceback" in text and "RuntimeError: could not file a petition for [id-number]" in text
    assert_clean(text)
    [report] = mail.outbox
    assert "RuntimeError" in report.body and "********************" in report.body
    for part in (report.subject, report.body):
        assert_clean(part)
        assert NAME not in part
    assert "回迁房" in report.body  # an ordinary field is still there to debug with


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_the_debug_500_page_shows_no_id_number_mobile_or_name(settings):
    settings.DEBUG = True
    client = Client(raise_request_exception=False)

    response = client.post(
        f"/boom/{ID_NUMBER}/?mobile={MOBILE}",
        {"name": NAME, "phone": "139 1234 5678", "id_number": ID_NUMBER_X},
        HTTP_ACCEPT="text/html",
    )

    assert response.status_code == 500
    page = response.content.decode()
    assert "RuntimeError" in page and "[id-number]" in page
    assert_clean(page)
    assert NAME not in page


def test_the_exception_reporter_masks_path_query_form_and_local_variables(settings):
    settings.DEBUG = True
    request = RequestFactory().post(
        f"/kiosk/petitions/{ID_NUMBER}/?phone={MOBILE}&resident_name={NAME_IN_URL}",
        {"name": NAME, "contact_phone": "+86 139 1234 5678", "id_number": ID_NUMBER_X, "category": "housing"},
        HTTP_REFERER=f"https://petition.example.gov.cn/kiosk/?id={ID_NUMBER}",
    )
    try:
        petitioner = {"name": NAME, "id_number": ID_NUMBER, "note": f"call {MOBILE}"}  # noqa: F841 - in the report
        raise ValueError(f"no resident {ID_NUMBER}")
    except ValueError:
        reporter = get_exception_reporter_class(request)(request, *sys.exc_info())
        html, text = reporter.get_traceback_html(), reporter.get_traceback_text()

    for report in (html, text):
        assert "ValueError" in report and "housing" in report
        assert_clean(report)
        assert NAME not in report
        assert NAME_IN_URL not in report  # the name in the query string
    assert "petitioner" in html and "'note': 'call [phone]'" in html.replace("&#x27;", "'")


@pytest.mark.parametrize(
    "text",
    [
        ID_NUMBER,
        ID_NUMBER_X,
        "11010519491231002x",
        "110105 19491231 002X",
        "%31%31%30%31%30%35%31%39%34%39%31%32%33%31%30%30%32%58",
        MOBILE,
        "+8613912345678",
        "008613912345678",
        "%2B8613912345678",
        "139-1234-5678",
        "139 1234 5678",
        "139+1234+5678",
        "139%201234%205678",
        "１３９１２３４５６７８",
        "%31%33%39%31%32%33%34%35%36%37%38",
    ],
)
def test_id_numbers_and_mobiles_are_masked_however_they_are_written(text):
    masked = redact(f"before {text} after")

    assert masked in ("before [id-number] after", "before [phone] after")


@pytest.mark.parametrize(
    "text",
    [
        "unix time 1764480000",
        "milliseconds 1764480000123",
        "nanoseconds 1764480000123456789",
        "listening on 127.0.0.1:8000 and [::1]:13900",
        "reference 202611300001",
        "twelve digits 139123456789",
        "ten digits 1391234567",
        "duration 0.13912345678s",
        "slot 13 seat 912345678",
        "uuid 550e8400-e29b-41d4-a716-139123456789",
        "17 digits 11010519491231002",
        "price 1,391,234,567.80",
        "2026-11-30 13:45:12,139 INFO",
    ],
)
def test_ordinary_numbers_are_left_alone(text):
    assert redact(text) == text
