"""An appointment as a calendar file: one event across reschedules, ended by METHOD:CANCEL, read back independently."""

import ast
import datetime as dt
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import segno
from django.conf import settings
from django.core import signing
from django.utils import timezone, translation

from appointments.booking import appointment_book, appointment_cancel, appointment_reschedule
from appointments.models import Appointment, Petition
from appointments.notify.calendars import (
    appointment_calendar_token,
    appointment_calendar_url,
    appointment_ics,
    calendar_domain,
)
from scheduler.publishing import service_zone
from tests import factories as f
from tests.kiosk.conftest import confirm_token, slot_at, walk_to_confirm

from .calendar_support import RESIDENTS, occurrences, parsed, personal_data_in, unfolded

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def public_address(settings):
    settings.PUBLIC_BASE_URL = "https://xinfang.dadong.example.gov.cn"


def booked(kiosk, department, slot, person=None, **kwargs) -> Appointment:
    petition = f.petition(kiosk, department, **(person or RESIDENTS[0]), **kwargs)
    appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=slot.pk)
    return petition.appointments.get()


def the_event(body: bytes):
    events = list(parsed(body).walk("VEVENT"))
    assert len(events) == 1
    return events[0]


def test_a_booking_is_a_request_with_a_stable_uid_in_shanghai_time(kiosk, published, open_slots):
    appointment = booked(kiosk, published, open_slots[0])
    body = appointment_ics(appointment)
    calendar = parsed(body)
    event = the_event(body)

    assert calendar["METHOD"] == "REQUEST" and calendar["VERSION"] == "2.0" and calendar["PRODID"]
    assert str(event["UID"]) == f"{appointment.calendar_uid}@xinfang.dadong.example.gov.cn"
    assert calendar_domain() == "xinfang.dadong.example.gov.cn"
    assert event["SEQUENCE"] == 0 and event["STATUS"] == "CONFIRMED" and "DTSTAMP" in event
    assert event.start == open_slots[0].starts_at and event.end == open_slots[0].ends_at
    assert str(event.start.tzinfo) == "Asia/Shanghai"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    assert "DTSTART;TZID=Asia/Shanghai:" in unfolded(body)
    assert str(event["SUMMARY"]) == "视频信访问诊 · 区房产局"
    assert str(event["ORGANIZER"]) == "mailto:noreply@petition.invalid"
    assert event["ORGANIZER"].params["CN"] == "区房产局"
    assert event["ATTENDEE"]
    assert str(event["LOCATION"]).startswith("蓝山社区")
    description = str(event["DESCRIPTION"])
    assert appointment.petition.reference in description and "身份证" in description
    assert appointment.petition.query_code not in unfolded(body)

    # An independent parser sees the one occurrence, at the booked time.
    day = timezone.localtime(open_slots[0].starts_at, service_zone()).date()
    [occurrence] = occurrences(body, day, day)
    assert (occurrence.start, occurrence.end) == (open_slots[0].starts_at, open_slots[0].ends_at)


def test_a_resident_who_filed_in_english_gets_an_english_calendar_file(kiosk, published, open_slots):
    appointment = booked(kiosk, published, open_slots[0])
    Petition.objects.filter(pk=appointment.petition_id).update(language="en")
    appointment.refresh_from_db()

    event = the_event(appointment_ics(appointment))

    assert str(event["SUMMARY"]) == "Video petition consultation · 区房产局"
    assert "Reference" in str(event["DESCRIPTION"]) and "Housing" in str(event["DESCRIPTION"])


def test_a_rescheduled_booking_keeps_its_uid_with_a_higher_sequence_and_the_old_link_shows_the_new_time(
    client, kiosk, published, open_slots
):
    first = booked(kiosk, published, open_slots[0])
    first_event = the_event(appointment_ics(first))
    old_url = appointment_calendar_url(first)

    moved = appointment_reschedule(actor=kiosk, appointment_id=first.pk, slot_id=open_slots[3].pk)
    moved_again = appointment_reschedule(actor=kiosk, appointment_id=moved.pk, slot_id=open_slots[5].pk)
    event = the_event(appointment_ics(moved_again))

    assert event["UID"] == first_event["UID"]
    assert event["SEQUENCE"] > the_event(appointment_ics(moved))["SEQUENCE"] > first_event["SEQUENCE"]
    assert event.start == open_slots[5].starts_at

    # The link printed on the first receipt follows the booking to where it is now.
    response = client.get(urlsplit(old_url).path)
    assert response.status_code == 200
    old_link_event = the_event(response.content)
    assert old_link_event.start == open_slots[5].starts_at
    assert parsed(response.content)["METHOD"] == "REQUEST"
    assert old_link_event["SEQUENCE"] == event["SEQUENCE"]


def test_a_cancelled_booking_is_a_cancel_with_a_higher_sequence(client, kiosk, published, open_slots):
    appointment = booked(kiosk, published, open_slots[1])
    before = the_event(appointment_ics(appointment))

    appointment_cancel(actor=kiosk, appointment_id=appointment.pk, reason="我的电话13904051234，临时有事")
    appointment.refresh_from_db()
    body = client.get(urlsplit(appointment_calendar_url(appointment)).path).content
    event = the_event(body)

    assert parsed(body)["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert event["UID"] == before["UID"] and event["SEQUENCE"] > before["SEQUENCE"]
    assert "ORGANIZER" in event and "BEGIN:VTIMEZONE" in body.decode()
    assert "13904051234" not in unfolded(body)  # the free-text reason is never copied into the file


def test_the_calendar_file_downloads_as_text_calendar_without_signing_in(client, kiosk, published, open_slots):
    appointment = booked(kiosk, published, open_slots[0])

    response = client.get(urlsplit(appointment_calendar_url(appointment)).path)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert (
        response["Content-Disposition"] == f'attachment; filename="consultation-{appointment.petition.reference}.ics"'
    )
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"BEGIN:VCALENDAR")


def test_a_forged_or_damaged_calendar_address_is_a_404_in_chinese_never_a_500(client, kiosk, published, open_slots):
    appointment = booked(kiosk, published, open_slots[0])
    token = appointment_calendar_token(appointment.pk)
    other_salt = signing.Signer(sep=".").sign(str(appointment.pk))
    forged = [
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        f"{appointment.pk + 1}.{token.split('.', 1)[1]}",
        other_salt,
        "1",
        "abc.def",
        "x" * 1000,
        "١٢.abc",
        "%E2%80%8B",
        signing.Signer(salt="appointments.notify.calendars.appointment", sep=".").sign("one"),
    ]
    for value in forged:
        response = client.get(f"/calendar/appointments/{value}.ics")
        assert response.status_code == 404, value
        assert "日历地址" in response.content.decode()
    assert client.get(f"/calendar/appointments/{token}.ics").status_code == 200
    assert client.post(f"/calendar/appointments/{token}.ics").status_code == 405


def test_no_calendar_file_holds_an_id_number_a_mobile_or_a_full_name(kiosk, published, open_slots):
    bodies = []
    for person, slot in zip(RESIDENTS, open_slots, strict=False):
        appointment = booked(kiosk, published, slot, person)
        bodies.append(appointment_ics(appointment))
        Petition.objects.filter(pk=appointment.petition_id).update(language="en")
        appointment.refresh_from_db()
        bodies.append(appointment_ics(appointment))
        appointment_cancel(actor=kiosk, appointment_id=appointment.pk)
        appointment.refresh_from_db()
        bodies.append(appointment_ics(appointment))
    assert len(bodies) == 3 * len(RESIDENTS)
    for body in bodies:
        assert personal_data_in(body, RESIDENTS) == []


# Where the link is shown ------------------------------------------------------------------------------------------


def test_the_api_gives_each_appointment_its_calendar_address_which_downloads(client, kiosk_key, published, open_slots):
    petition = client.post(
        "/api/v1/petitions",
        {
            "resident": {"name": "王秀兰", "phone": "13904051234", "id_number": RESIDENTS[0]["id_number"]},
            "category": "housing",
            "summary": "回迁房的房产证一直办不下来。",
            "department": published.code,
        },
        content_type="application/json",
        headers={"X-Kiosk-Key": kiosk_key},
    )
    assert petition.status_code == 201, petition.content
    reference = petition.json()["reference"]
    made = client.post(
        "/api/v1/appointments",
        {"petition": reference, "slot": open_slots[0].pk},
        content_type="application/json",
        headers={"X-Kiosk-Key": kiosk_key},
    )
    assert made.status_code == 201, made.content
    url = made.json()["calendar_url"]
    read = client.get(f"/api/v1/appointments/{made.json()['id']}", headers={"X-Kiosk-Key": kiosk_key}).json()

    assert read["calendar_url"] == url
    assert url.startswith("https://xinfang.dadong.example.gov.cn/calendar/appointments/") and url.endswith(".ics")
    event = the_event(client.get(urlsplit(url).path).content)
    assert event.start == open_slots[0].starts_at
    schema = client.get("/api/openapi.json").json()["components"]["schemas"]["AppointmentOut"]
    assert schema["properties"]["calendar_url"]["format"] == "uri" and "calendar_url" in schema["required"]


def test_the_kiosk_receipt_shows_the_calendar_link_and_a_qr_code_of_it(client, kiosk_key, kiosk, published, open_slots):
    client.cookies[settings.KIOSK_KEY_COOKIE] = kiosk_key
    response = walk_to_confirm(client, RESIDENTS[1], published, open_slots[0])
    assert client.post("/kiosk/book/confirm/", {"token": confirm_token(response)}).status_code == 302

    receipt = client.get("/kiosk/book/receipt/").content.decode()
    appointment = Appointment.objects.get(slot=open_slots[0])
    url = appointment_calendar_url(appointment)

    block = receipt[receipt.index('class="calendar-link"') :]
    assert f'href="{url}"' in block
    assert "扫码把预约加入手机日历" in block
    assert "<svg" in block
    # The QR code is the calendar address, as segno encodes it.
    expected = segno.make(url, error="m").svg_inline(
        scale=6, border=4, dark="#000", light="#fff", svgclass="segno calendar-qr-code"
    )
    assert expected in block
    assert personal_data_in(receipt.encode()[receipt.index('class="calendar-link"') :], [RESIDENTS[1]]) == []


def test_the_staff_session_table_links_each_session_to_its_calendar_file(client, officer, kiosk, published):
    # Off the published grid (whose times start on the minute), so the two never share a start, whatever the hour.
    soon = slot_at(published, timezone.now().replace(second=17, microsecond=0) + dt.timedelta(hours=3))
    appointment = booked(kiosk, published, soon)
    client.force_login(officer.staff.user)

    page = client.get("/staff/office/").content.decode()

    assert f'href="{appointment_calendar_url(appointment)}"' in page


# Every message reads in Chinese -----------------------------------------------------------------------------------


def _messages(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "_"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ]


def _template_messages(path: Path) -> list[str]:
    text = path.read_text()
    plain = re.findall(r'{% translate "([^"]+)" %}', text) + re.findall(r"{% translate '([^']+)' %}", text)
    blocks = re.findall(r"{% blocktranslate[^%]*%}(.*?){% endblocktranslate %}", text, flags=re.S)
    return plain + [re.sub(r"{{ (\w+) }}", r"%(\1)s", b) for b in blocks]


@pytest.mark.parametrize(
    "path",
    [
        "appointments/notify/calendars.py",
        "appointments/notify/calendar_views.py",
        "templates/staff/calendar.html",
        "templates/staff/_calendar_feed.html",
        "templates/notify/_calendar_link.html",
    ],
)
def test_every_calendar_message_reads_in_chinese(path):
    file = Path(settings.BASE_DIR) / path
    messages = _messages(file) if path.endswith(".py") else _template_messages(file)
    assert messages

    with translation.override("zh-hans"):
        untranslated = [m for m in messages if translation.gettext(m) == m]

    assert untranslated == []
