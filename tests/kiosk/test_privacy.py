"""Nobody at the kiosk after a resident can read that resident's ID number or mobile off a screen.

The walk below goes through every screen a resident can reach — errors, refusals and the Back button included —
with real-shaped answers, and reads every response. One exception, and only one: the confirm screen shows the
mobile the resident has just typed, in full, once, so that they can check it.
"""

import re

import pytest
from django.urls import resolve

from appointments.booking import appointment_book, appointment_cancel
from appointments.kiosk import urls as kiosk_urls
from appointments.models import Appointment
from appointments.notify.waitlist import waitlist_offer_next
from appointments.outcomes.services import ItemIn, OutcomeIn, outcome_record
from tests import factories as f

from .conftest import SUMMARY, confirm_token, day_of, slot_at

pytestmark = pytest.mark.django_db

# A woman born in 1947 whose number was issued in 大东区, and whose check character is an X.
ID_NUMBER = next(
    number for serial in range(200, 400) if (number := f.id_number_for("210104", "19470315", serial)).endswith("X")
)
PHONE = "13904051234"
PHONE_ON_CONFIRM = '<span class="phone">139 0405 1234</span>'
PERSON = {"name": "王秀兰", "phone": PHONE, "id_number": ID_NUMBER}


def leaks(text: str) -> list[str]:
    """Name what of the resident's ID number or mobile can be read in this text, however it is grouped."""
    # "139 0405 1234", "139-0405-1234" and "210104 19470315 2..." are the same numbers to a reader.
    joined = re.sub(r"(?<=[0-9])[\s\-–.]+(?=[0-9Xx])", "", text)
    found = []
    # The first 17 characters are the whole identity: the 18th is computed from them.
    if ID_NUMBER[:17] in joined:
        found.append("ID number")
    if PHONE in joined:
        found.append("mobile")
    return found


class Walk:
    """A kiosk client that keeps every response it gets, to be read afterwards."""

    def __init__(self, client):
        self.client = client
        self.seen: list[tuple[str, object]] = []

    def get(self, url: str):
        response = self.client.get(url)
        self.seen.append((f"GET {url}", response))
        return response

    def post(self, url: str, data: dict | None = None):
        response = self.client.post(url, data or {})
        self.seen.append((f"POST {url}", response))
        return response


def test_no_kiosk_page_shows_a_full_id_number_or_mobile_after_back_a_refusal_or_an_error(
    kiosk_client, kiosk, suggesting, open_slots, dept_staff, other_department
):
    walk = Walk(kiosk_client)
    wrong_check = "0" if ID_NUMBER[-1] != "0" else "1"

    walk.get("/kiosk/")
    # Who are you: each answer wrong in turn while the others are right, then Back to the screen.
    walk.get("/kiosk/book/")
    assert walk.post("/kiosk/book/", {**PERSON, "id_number": ID_NUMBER[:-1] + wrong_check}).status_code == 200
    assert walk.post("/kiosk/book/", {**PERSON, "phone": PHONE[:-1]}).status_code == 200
    assert walk.post("/kiosk/book/", {**PERSON, "name": ""}).status_code == 200
    assert walk.post("/kiosk/book/", {**PERSON, "id_number": "2101041947"}).status_code == 200
    walk.get("/kiosk/book/")
    assert walk.post("/kiosk/book/", {"name": "王秀兰", "phone": "", "id_number": ""}).status_code == 302

    # The matter, with a wrong answer on the way, up to the confirm screen.
    walk.get("/kiosk/book/category/")
    walk.post("/kiosk/book/category/", {"category": "nonsense"})
    walk.post("/kiosk/book/category/", {"category": "housing"})
    walk.post("/kiosk/book/summary/", {"summary": "房子"})
    walk.post("/kiosk/book/summary/", {"summary": SUMMARY})
    walk.get("/kiosk/book/department/")
    walk.post("/kiosk/book/department/", {"department": suggesting.code})
    walk.get("/kiosk/book/day/")
    walk.get(f"/kiosk/book/time/?day={day_of(open_slots[0])}")
    walk.post("/kiosk/book/time/", {"slot": open_slots[0].pk})
    token = confirm_token(walk.get("/kiosk/book/confirm/"))

    # Back through every step, then forward again after retyping nothing.
    for url in ["/kiosk/book/day/", "/kiosk/book/department/", "/kiosk/book/summary/", "/kiosk/book/category/"]:
        walk.get(url)
    walk.get("/kiosk/book/")
    walk.post("/kiosk/book/", {"name": "王秀兰", "phone": "", "id_number": ""})

    # A refusal: the same resident already holds another appointment at that time.
    earlier = f.petition(kiosk, suggesting, **PERSON)
    appointment_book(actor=kiosk, petition_reference=earlier.reference, slot_id=open_slots[0].pk)
    assert walk.post("/kiosk/book/confirm/", {"token": token}).status_code == 409
    walk.post("/kiosk/book/time/", {"slot": open_slots[1].pk})
    token = confirm_token(walk.get("/kiosk/book/confirm/"))
    assert walk.post("/kiosk/book/confirm/", {"token": token}).status_code == 302
    walk.get("/kiosk/book/receipt/")
    booked = Appointment.objects.get(slot=open_slots[1])

    # Back after the booking: every step of the finished booking.
    for url in ["/kiosk/book/confirm/", "/kiosk/book/day/", "/kiosk/book/department/", "/kiosk/book/"]:
        walk.get(url)

    # Progress: refused with the wrong digits, then found; a reprint, a move, and the new receipt.
    code = booked.petition.query_code
    assert walk.post("/kiosk/progress/", {"query_code": code, "phone_last4": "0000"}).status_code == 400
    walk.post("/kiosk/progress/", {"query_code": code, "phone_last4": PHONE[-4:]})
    walk.get("/kiosk/progress/status/")
    walk.get("/kiosk/progress/receipt/")
    walk.get("/kiosk/progress/reschedule/")
    walk.get(f"/kiosk/progress/reschedule/time/?day={day_of(open_slots[2])}")
    walk.post("/kiosk/progress/reschedule/time/", {"slot": open_slots[2].pk})
    walk.get("/kiosk/progress/reschedule/confirm/")
    walk.post("/kiosk/progress/reschedule/confirm/")
    walk.get("/kiosk/progress/receipt/")
    walk.get("/kiosk/progress/status/")
    walk.get("/kiosk/progress/cancel/")

    # Another matter of hers, answered: rated, rated again (refused), then a review asked and confirmed.
    answered = f.petition(kiosk, suggesting, **PERSON)
    outcome_record(
        actor=dept_staff,
        petition=answered,
        data=OutcomeIn(answer="已督促开发商补交材料。", items=[ItemIn(request="办理房产证", decision="supported")]),
    )
    walk.post("/kiosk/progress/", {"query_code": answered.query_code, "phone_last4": PHONE[-4:]})
    walk.get("/kiosk/progress/status/")
    walk.post("/kiosk/progress/rate/", {"level": "satisfied", "remark": f"我的电话{PHONE}"})
    walk.get("/kiosk/progress/rated/")
    assert walk.post("/kiosk/progress/rate/", {"level": "dissatisfied"}).status_code == 409
    walk.get("/kiosk/progress/review/")
    walk.post("/kiosk/progress/review/", {"reason": "不满意"})
    walk.get("/kiosk/progress/review/done/")
    walk.get("/kiosk/progress/status/")

    # A department with no free time: she waits, leaves, waits again, gives back one offer and takes the next.
    walk.post("/kiosk/book/", PERSON)
    walk.post("/kiosk/book/category/", {"category": "housing"})
    walk.post("/kiosk/book/summary/", {"summary": SUMMARY})
    walk.post("/kiosk/book/department/", {"department": other_department.code})
    walk.get("/kiosk/book/day/")
    assert walk.post("/kiosk/book/waitlist/").status_code == 302
    walk.post("/kiosk/book/waitlist/")
    walk.get("/kiosk/waitlist/joined/")
    waiting_code = kiosk_client.get("/kiosk/waitlist/joined/").context["petition"].query_code
    walk.post("/kiosk/progress/", {"query_code": waiting_code, "phone_last4": PHONE[-4:]})
    walk.get("/kiosk/progress/status/")
    walk.post("/kiosk/progress/waitlist/leave/")
    assert walk.post("/kiosk/progress/waitlist/join/").status_code == 302
    freed = slot_at(other_department, open_slots[3].starts_at)
    waitlist_offer_next(department_id=other_department.pk)
    walk.get("/kiosk/progress/status/")
    walk.post("/kiosk/progress/offer/decline/")
    other = f.petition(kiosk, other_department)
    taken = appointment_book(actor=kiosk, petition_reference=other.reference, slot_id=freed.pk).appointment
    assert walk.post("/kiosk/progress/waitlist/join/").status_code == 302
    appointment_cancel(actor=kiosk, appointment_id=taken.pk)
    waitlist_offer_next(department_id=other_department.pk)
    assert walk.post("/kiosk/progress/offer/confirm/").status_code == 302
    walk.get("/kiosk/progress/receipt/")
    assert Appointment.objects.get(slot=freed, status="booked")

    # Check-in refused (far too early), then the next person: start over, and press Back.
    assert walk.post("/kiosk/check-in/", {"query_code": code}).status_code == 400
    walk.post("/kiosk/reset/")
    for url in ["/kiosk/book/", "/kiosk/book/confirm/", "/kiosk/book/receipt/", "/kiosk/progress/status/"]:
        walk.get(url)

    confirm_screens = 0
    for label, response in walk.seen:
        body = response.content.decode()
        if label == "GET /kiosk/book/confirm/" and response.status_code == 200:
            # The exception: shown once, whole, to the person who has just typed it.
            assert body.count(PHONE_ON_CONFIRM) == 1, label
            body = body.replace(PHONE_ON_CONFIRM, "")
            confirm_screens += 1
        assert not leaks(body), (label, response.status_code, leaks(body))
        assert not leaks(response.get("Location", "")), label
        assert "no-store" in response["Cache-Control"], label
    assert confirm_screens == 2  # the exception was really met, twice, and nowhere else
    # Every kiosk screen was read, but the setup screen (no resident yet) and "checked in" (no data of theirs).
    visited = {resolve(label.split(" ", 1)[1].split("?")[0]).url_name for label, _response in walk.seen}
    assert visited == {p.name for p in kiosk_urls.urlpatterns} - {"setup", "check_in_done"}


def test_the_leak_check_finds_a_number_however_it_is_written():
    """The check above would fail if a screen showed either number, grouped or not."""
    assert leaks(f'<input value="{ID_NUMBER}">') == ["ID number"]
    assert leaks(f"{ID_NUMBER[:6]} {ID_NUMBER[6:14]} {ID_NUMBER[14:-1]}0") == ["ID number"]  # wrong check character
    assert leaks("手机：139-0405-1234") == ["mobile"]
    assert leaks(PHONE_ON_CONFIRM) == ["mobile"]
    assert leaks("210***********" + ID_NUMBER[-4:] + " 139****1234") == []
