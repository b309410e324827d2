"""Every kiosk screen, at every step of a visit, refuses hostile input with a message: never a 500."""

import pytest

from tests import factories as f

from .conftest import SUMMARY

pytestmark = pytest.mark.django_db

HOSTILE = [
    "",
    " ",
    "0",
    "-1",
    "99999999999999999999",
    "1e309",
    "abc",
    "２０２６",
    "\x00",
    "\x07bell",
    "\u202e反转",
    "\u200b\u200d",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "{{ settings.SECRET_KEY }}",
    "长" * 5000,
]
FIELDS = [
    "name",
    "phone",
    "id_number",
    "category",
    "summary",
    "department",
    "day",
    "slot",
    "token",
    "query_code",
    "phone_last4",
    "level",
    "remark",
    "reason",
    "action",
    "key",
]
SCREENS = [
    "/kiosk/",
    "/kiosk/book/",
    "/kiosk/book/category/",
    "/kiosk/book/summary/",
    "/kiosk/book/department/",
    "/kiosk/book/day/",
    "/kiosk/book/time/",
    "/kiosk/book/confirm/",
    "/kiosk/book/receipt/",
    "/kiosk/progress/",
    "/kiosk/progress/status/",
    "/kiosk/progress/cancel/",
    "/kiosk/progress/receipt/",
    "/kiosk/progress/rate/",
    "/kiosk/progress/rated/",
    "/kiosk/progress/review/",
    "/kiosk/progress/review/done/",
    "/kiosk/progress/reschedule/",
    "/kiosk/progress/reschedule/time/",
    "/kiosk/progress/reschedule/confirm/",
    "/kiosk/check-in/",
    "/kiosk/check-in/done/",
    "/kiosk/reset/",
]


def _walk_booking(client, published, open_slots):
    resident = {"name": "王秀兰", "phone": f.valid_phone(), "id_number": f.valid_id_number()}
    client.post("/kiosk/book/", resident)
    client.post("/kiosk/book/category/", {"category": "housing"})
    client.post("/kiosk/book/summary/", {"summary": SUMMARY})
    client.post("/kiosk/book/department/", {"department": published.code})
    client.post("/kiosk/book/time/", {"slot": open_slots[0].pk})


def _walk_progress(client, petition):
    client.post("/kiosk/progress/", {"query_code": petition.query_code, "phone_last4": "2345"})


@pytest.mark.parametrize("screen", SCREENS)
def test_no_hostile_value_on_any_screen_causes_a_server_error(kiosk_client, kiosk, published, open_slots, screen):
    petition = f.petition(kiosk, published, phone="13840012345")
    for n, value in enumerate(HOSTILE):
        # Half the posts come mid-booking, half after a progress lookup, so every screen's real branch is reached.
        if n % 2:
            _walk_booking(kiosk_client, published, open_slots)
        else:
            _walk_progress(kiosk_client, petition)
        data = dict.fromkeys(FIELDS, value)
        response = kiosk_client.post(screen, data)
        assert response.status_code < 500, (screen, repr(value)[:40], response.status_code)
        response = kiosk_client.get(screen, dict.fromkeys(("day", "slot", "page"), value))
        assert response.status_code < 500, (screen, repr(value)[:40], response.status_code)
