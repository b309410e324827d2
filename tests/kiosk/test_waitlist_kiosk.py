"""The waiting list at the kiosk: offered instead of a dead end, a place in line, an offer taken or given back."""

import datetime as dt
import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation

from appointments.booking import appointment_cancel
from appointments.models import Appointment, Notification, Petition, TurnAway
from appointments.notify.models import WaitlistEntry
from appointments.notify.waitlist import waitlist_offer_next
from tests import factories as f
from tests.notify.waitlist_support import book, fresh, in_days, slot_at, wait

from .conftest import SUMMARY, confirm_token, walk_to_confirm

pytestmark = pytest.mark.django_db

State = WaitlistEntry.State
JOIN_BUTTON = "排队等候</button>"


def text(response) -> str:
    return response.content.decode()


def walk_to_days(client, resident: dict, department):
    client.post("/kiosk/book/", resident)
    client.post("/kiosk/book/category/", {"category": "housing"})
    client.post("/kiosk/book/summary/", {"summary": SUMMARY})
    client.post("/kiosk/book/department/", {"department": department.code})
    response = client.get("/kiosk/book/day/")
    assert response.status_code == 200
    return response


def look_up(client, petition: Petition, phone: str):
    response = client.post("/kiosk/progress/", {"query_code": petition.query_code, "phone_last4": phone[-4:]})
    assert response.status_code == 302 and response["Location"] == "/kiosk/progress/status/"
    return client.get("/kiosk/progress/status/")


@pytest.fixture
def full(kiosk, department):
    """区房产局's only time in the booking window, taken."""
    slot = slot_at(department, in_days(2))
    return slot, book(kiosk, department, slot, name="张伟")


# Joining -------------------------------------------------------------------------------------------------------


def test_a_department_with_no_free_time_offers_the_waiting_list_instead_of_a_dead_end(
    kiosk_client, resident, department, full
):
    days = walk_to_days(kiosk_client, resident, department)
    assert JOIN_BUTTON in text(days) and "近期没有空闲时间" in text(days)

    joined = kiosk_client.post("/kiosk/book/waitlist/")
    assert joined.status_code == 302 and joined["Location"] == "/kiosk/waitlist/joined/"
    page = kiosk_client.get("/kiosk/waitlist/joined/")

    entry = WaitlistEntry.objects.select_related("petition").get()
    petition = entry.petition
    assert entry.state == State.WAITING and petition.department == department
    assert (petition.contact_name, petition.summary, petition.status) == (resident["name"], SUMMARY, "received")
    body = text(page)
    assert "您已排队等候" in body and "您排在第 1 位" in body
    assert petition.query_code in body and petition.reference in body
    assert "2 小时" in body and "凭查询码" in body
    assert resident["phone"] not in body and resident["id_number"] not in body
    assert petition.contact_phone_masked in body
    # The resident was counted turned away once (by the days page), not again for joining.
    assert list(TurnAway.objects.values_list("department", "reason")) == [(department.pk, "no_free_time")]


def test_a_second_tap_on_join_gives_the_same_place_and_files_nothing_more(kiosk_client, resident, department, full):
    walk_to_days(kiosk_client, resident, department)

    first = kiosk_client.post("/kiosk/book/waitlist/")
    second = kiosk_client.post("/kiosk/book/waitlist/")

    assert first["Location"] == second["Location"] == "/kiosk/waitlist/joined/"
    assert WaitlistEntry.objects.count() == 1
    # The booking answers are gone; a new visit's matter for the same department is its own.
    assert Petition.objects.filter(department=department).count() == 2  # 张伟's booking and this one


def test_the_second_resident_in_line_is_told_number_two(kiosk_client, resident, department, full, kiosk):
    wait(kiosk, department, name="李建国", now=timezone.now() - dt.timedelta(hours=1))
    walk_to_days(kiosk_client, resident, department)

    kiosk_client.post("/kiosk/book/waitlist/")

    assert "您排在第 2 位" in text(kiosk_client.get("/kiosk/waitlist/joined/"))


def test_the_taken_screen_offers_the_waiting_list_when_nothing_is_left(kiosk_client, resident, department, kiosk):
    only = slot_at(department, in_days(2))
    token = confirm_token(walk_to_confirm(kiosk_client, resident, department, only))
    book(kiosk, department, only, name="刘芳")

    taken = kiosk_client.post("/kiosk/book/confirm/", {"token": token})

    assert taken.status_code == 409 and JOIN_BUTTON in text(taken)
    assert kiosk_client.post("/kiosk/book/waitlist/")["Location"] == "/kiosk/waitlist/joined/"
    assert WaitlistEntry.objects.get().state == State.WAITING
    assert list(TurnAway.objects.values_list("reason", flat=True)) == ["just_taken"]


def test_a_department_with_free_times_shows_no_waiting_list_and_refuses_a_forced_join(
    kiosk_client, resident, published, open_slots
):
    days = walk_to_days(kiosk_client, resident, published)
    assert JOIN_BUTTON not in text(days)

    forced = kiosk_client.post("/kiosk/book/waitlist/")

    assert forced.status_code == 409 and "还有空闲时间" in text(forced)
    assert not WaitlistEntry.objects.exists() and not Petition.objects.exists()


def test_moving_an_appointment_never_offers_the_waiting_list(kiosk_client, kiosk, department):
    slot = slot_at(department, in_days(2))
    mine = book(kiosk, department, slot, name="王秀兰")
    petition = mine.petition
    look_up(kiosk_client, petition, petition.contact_phone)

    days = kiosk_client.get("/kiosk/progress/reschedule/")

    assert JOIN_BUTTON not in text(days)


def test_joining_needs_a_kiosk_and_a_post(kiosk_client):
    assert Client().post("/kiosk/book/waitlist/")["Location"] == "/kiosk/setup/"
    assert kiosk_client.get("/kiosk/book/waitlist/").status_code == 405
    assert kiosk_client.post("/kiosk/book/waitlist/")["Location"] == "/kiosk/book/"
    assert kiosk_client.get("/kiosk/waitlist/joined/")["Location"] == "/kiosk/"


# The progress page ---------------------------------------------------------------------------------------------


@pytest.fixture
def waiting(kiosk, department, full):
    """王秀兰 waits for 区房产局 (her matter filed with her mobile), behind nobody."""
    petition = f.petition(kiosk, department, name="王秀兰", phone="13904051234")
    from appointments.notify.waitlist import waitlist_join

    return waitlist_join(actor=kiosk, petition=petition)


def test_the_progress_page_shows_the_place_in_line(kiosk_client, waiting):
    page = look_up(kiosk_client, waiting.petition, "13904051234")

    assert page.status_code == 200
    assert "您正在等候区房产局的时间：排在第 1 位" in text(page)
    assert "不再排队" in text(page) and "确认这个时间" not in text(page)


def test_an_offer_is_shown_prominently_and_taking_it_prints_the_receipt_and_queues_the_sms(
    kiosk_client, kiosk, department, full, waiting
):
    slot, taken = full
    appointment_cancel(actor=kiosk, appointment_id=taken.pk)
    waitlist_offer_next(department_id=department.pk)
    entry = fresh(waiting)

    page = text(look_up(kiosk_client, waiting.petition, "13904051234"))
    assert "为您空出了一个时间" in page and "确认这个时间" in page and "不要了" in page
    assert re.search(_held_until(entry.offer_expires_at), page), page
    assert "区房产局" in page and "蓝山社区" in page

    confirmed = kiosk_client.post("/kiosk/progress/offer/confirm/")
    assert confirmed.status_code == 302 and confirmed["Location"] == "/kiosk/progress/receipt/"
    receipt = kiosk_client.get("/kiosk/progress/receipt/")

    appointment = Appointment.objects.get(pk=entry.offer_id)
    assert appointment.status == "booked" and appointment.slot_id == slot.pk
    assert Petition.objects.get(pk=waiting.petition_id).status == "scheduled"
    assert "<h1>预约成功</h1>" in text(receipt) and waiting.petition.query_code in text(receipt)
    assert Notification.objects.filter(appointment=appointment, kind="booked").exists()
    assert fresh(waiting).state == State.BOOKED
    # Afterwards the progress page shows the booking, and no offer.
    after = text(kiosk_client.get("/kiosk/progress/status/"))
    assert "确认这个时间" not in after and "您的视频接访已经预约好了" in after


def _held_until(expires: dt.datetime) -> str:
    """The pattern of "held until": the clock alone today, with the day in front on another day."""
    until = timezone.localtime(expires)
    clock = f"{until.hour % 12 or 12}:{until.minute:02d}"
    if until.date() == timezone.localdate():
        return rf"为您保留到 \S*{clock}。"
    return rf"为您保留到 {until.month}月{until.day}日 星期\S \S*{clock}。"


@pytest.mark.parametrize("days", [0, 1, 6])
def test_an_offer_held_past_midnight_names_the_day_it_ends(kiosk_client, kiosk, department, full, waiting, days):
    _slot, taken = full
    appointment_cancel(actor=kiosk, appointment_id=taken.pk)
    waitlist_offer_next(department_id=department.pk)
    today = timezone.localdate()
    expires = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=days), dt.time(23, 50)))
    WaitlistEntry.objects.filter(pk=waiting.pk).update(
        offer_expires_at=max(expires, timezone.now() + dt.timedelta(minutes=5))
    )
    expires = fresh(waiting).offer_expires_at

    page = text(look_up(kiosk_client, waiting.petition, "13904051234"))

    assert re.search(_held_until(expires), page), page
    shows_day = (
        f"{timezone.localtime(expires).month}月{timezone.localtime(expires).day}日" in page.split("为您保留到")[1][:40]
    )
    assert shows_day == (timezone.localtime(expires).date() != today)


def test_giving_an_offer_back_releases_the_seat_for_the_next_resident(kiosk_client, kiosk, department, full, waiting):
    _slot, taken = full
    second = wait(kiosk, department, name="李建国")
    appointment_cancel(actor=kiosk, appointment_id=taken.pk)
    waitlist_offer_next(department_id=department.pk)
    offer = fresh(waiting).offer
    look_up(kiosk_client, waiting.petition, "13904051234")

    response = kiosk_client.post("/kiosk/progress/offer/decline/")

    assert response.status_code == 200 and "您已放弃这个时间" in text(response)
    assert Appointment.objects.get(pk=offer.pk).cancel_reason_code == "offer_lapsed"
    assert fresh(waiting).state == State.EXPIRED
    waitlist_offer_next(department_id=department.pk)
    assert fresh(second).offer.seat_id == offer.seat_id


def test_an_expired_offer_is_shown_as_passed_on_and_cannot_be_taken(kiosk_client, kiosk, department, full, waiting):
    _slot, taken = full
    appointment_cancel(actor=kiosk, appointment_id=taken.pk)
    waitlist_offer_next(department_id=department.pk)
    WaitlistEntry.objects.filter(pk=waiting.pk).update(offer_expires_at=timezone.now() - dt.timedelta(minutes=1))

    page = text(look_up(kiosk_client, waiting.petition, "13904051234"))
    refused = kiosk_client.post("/kiosk/progress/offer/confirm/")

    assert "已经顺延给下一位等候的群众" in page and "确认这个时间" not in page
    assert refused.status_code == 409 and "已经顺延给下一位等候的群众" in text(refused)
    assert Appointment.objects.get(pk=fresh(waiting).offer_id).status == "offered"


def test_leaving_the_waiting_list_at_the_kiosk(kiosk_client, waiting):
    look_up(kiosk_client, waiting.petition, "13904051234")

    response = kiosk_client.post("/kiosk/progress/waitlist/leave/")
    again = kiosk_client.post("/kiosk/progress/waitlist/leave/")

    assert response.status_code == 200 and "您已不再排队" in text(response)
    assert again.status_code == 409 and "不在等候名单上" in text(again)
    assert fresh(waiting).state == State.LEFT


def test_a_resident_whose_time_was_withdrawn_can_join_from_the_progress_page(
    kiosk_client, kiosk, department, dept_admin
):
    from appointments.booking import slot_withdraw

    slot = slot_at(department, in_days(2))
    mine = book(kiosk, department, slot, name="王秀兰")
    slot_withdraw(actor=dept_admin, slot_id=slot.pk, reason="部门临时有会")

    page = text(look_up(kiosk_client, mine.petition, mine.petition.contact_phone))
    assert JOIN_BUTTON in page
    joined = kiosk_client.post("/kiosk/progress/waitlist/join/")

    assert joined["Location"] == "/kiosk/waitlist/joined/"
    assert WaitlistEntry.objects.get(petition=mine.petition).state == State.WAITING
    assert list(TurnAway.objects.values_list("reason", flat=True)) == ["no_free_time"]
    assert JOIN_BUTTON not in text(kiosk_client.get("/kiosk/progress/status/"))


def test_the_offer_screen_reads_in_english_too(kiosk_client, kiosk, department, full, waiting):
    _slot, taken = full
    appointment_cancel(actor=kiosk, appointment_id=taken.pk)
    waitlist_offer_next(department_id=department.pk)
    kiosk_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    # The request switches this thread to English; leave it as it was for the tests that follow.
    with translation.override(translation.get_language()):
        page = text(look_up(kiosk_client, waiting.petition, "13904051234"))

    assert "A time has come free for you" in page and "Take this time" in page and "I do not want it" in page


# In the browser ------------------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_waiting_list_screens_in_chromium_pass_axe(page, live_server, kiosk_key, kiosk, department):
    import importlib

    from django.apps import apps
    from playwright.sync_api import expect

    from .test_browser import heading, screen

    importlib.import_module("appointments.migrations.0002_seed_categories").seed(apps, None)
    slot = slot_at(department, in_days(2))
    taken = book(kiosk, department, slot, name="张伟")
    page.context.add_cookies(
        [{"name": settings.KIOSK_KEY_COOKIE, "value": kiosk_key, "url": live_server.url, "httpOnly": True}]
    )
    page.goto(f"{live_server.url}/kiosk/")
    page.get_by_role("link", name="预约视频接访").click()
    page.get_by_label("您的姓名").fill("王秀兰")
    page.get_by_label("手机号码").fill("13904051234")
    page.get_by_label("身份证号码").fill(f.valid_id_number())
    page.get_by_role("button", name="下一步").click()
    page.get_by_role("button", name="住房保障").click()
    page.get_by_label("请简单说说您的事情").fill(SUMMARY)
    page.get_by_role("button", name="下一步").click()
    page.get_by_role("button", name="区房产局").click()
    heading(page, "您哪天方便？")
    screen(page, "w1-no-free-time-join")

    page.get_by_role("button", name="排队等候").click()
    heading(page, "您已排队等候")
    expect(page.get_by_text("您排在第 1 位。")).to_be_visible()
    screen(page, "w2-joined")
    entry = WaitlistEntry.objects.select_related("petition").get()

    appointment_cancel(actor=kiosk, appointment_id=taken.pk)
    waitlist_offer_next(department_id=department.pk)
    page.get_by_role("button", name="完成").click()
    page.get_by_role("link", name="查询进度").click()
    page.get_by_label("查询码（8 位数字，在回执上）").fill(entry.petition.query_code)
    page.get_by_label("手机号码后 4 位").fill("1234")
    page.get_by_role("button", name="查询").click()
    heading(page, "您的事项")
    expect(page.get_by_role("heading", name="为您空出了一个时间")).to_be_visible()
    screen(page, "w3-offer")

    page.get_by_role("button", name="确认这个时间").click()
    heading(page, "预约成功")
    screen(page, "w4-offer-booked")
    assert Appointment.objects.get(pk=fresh(entry).offer_id).status == "booked"
