"""The kiosk's screens through Django's test client: flow, bad input, privacy, and what the services decide."""

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone, translation
from stdnum.cn import ric

from appointments import identity
from appointments.booking import appointment_book
from appointments.kiosk.format import kiosk_when
from appointments.models import Appointment, Petition
from departments.services import kiosk_revoke
from scheduler.models import Closure
from tests import factories as f

from .conftest import SUMMARY, confirm_token, day_of, walk_to_confirm

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


def zh(message: str) -> str:
    """A service message as a Chinese-speaking resident reads it (whichever catalogue translates it)."""
    with translation.override("zh-hans"):
        return translation.gettext(message)


BAD_DATE_ID = "21010019501301002" + ric.calc_check_digit("21010019501301002" + "0")


# Kiosk mode.


def test_without_a_key_every_screen_sends_to_setup(client):
    for url in ["/kiosk/", "/kiosk/book/", "/kiosk/progress/", "/kiosk/check-in/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == "/kiosk/setup/"


def test_setup_keeps_the_key_in_a_long_lived_httponly_cookie(client, kiosk_key):
    response = client.post("/kiosk/setup/", {"key": kiosk_key})
    assert response.status_code == 302 and response["Location"] == "/kiosk/"
    cookie = response.cookies[settings.KIOSK_KEY_COOKIE]
    assert cookie.value == kiosk_key and cookie["httponly"] and cookie["max-age"] >= 365 * 24 * 3600
    page = client.get("/kiosk/")
    assert page.status_code == 200 and "蓝山社区" in html(page)


def test_setup_rejects_a_wrong_key_and_keeps_what_was_typed(client, kiosk_key):
    response = client.post("/kiosk/setup/", {"key": "kiosk_not-a-real-key"})
    assert response.status_code == 400
    assert "这个密钥无效" in html(response) and 'value="kiosk_not-a-real-key"' in html(response)
    assert settings.KIOSK_KEY_COOKIE not in response.cookies


def test_a_revoked_kiosk_goes_back_to_setup(kiosk_client, kiosk):
    kiosk_revoke(kiosk=kiosk.kiosk)
    response = kiosk_client.get("/kiosk/")
    assert response.status_code == 302 and response["Location"] == "/kiosk/setup/"


def test_start_offers_the_three_choices_in_chinese_by_default(kiosk_client):
    page = html(kiosk_client.get("/kiosk/"))
    for label in ["预约视频接访", "查询进度", "签到", "中文", "English"]:
        assert label in page
    assert '<html lang="zh-Hans">' in page


def test_english_is_one_tap_away(kiosk_client):
    response = kiosk_client.post("/i18n/setlang/", {"language": "en", "next": "/kiosk/"})
    assert response.status_code == 302
    page = html(kiosk_client.get("/kiosk/"))
    assert "Book a video consultation" in page and '<html lang="en">' in page


def test_start_over_forgets_answers_and_language(kiosk_client, resident):
    kiosk_client.post("/i18n/setlang/", {"language": "en", "next": "/kiosk/"})
    kiosk_client.post("/kiosk/book/", resident)
    response = kiosk_client.post("/kiosk/reset/")
    assert response.status_code == 302 and response["Location"] == "/kiosk/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == ""
    assert 'value="王秀兰"' not in html(kiosk_client.get("/kiosk/book/"))
    assert "预约视频接访" in html(kiosk_client.get("/kiosk/"))


def test_the_kiosk_starts_over_after_90_quiet_seconds_by_default(kiosk_client):
    page = html(kiosk_client.get("/kiosk/book/"))
    assert 'data-idle-seconds="90"' in page and 'id="idle-reset" action="/kiosk/reset/" method="post"' in page
    # An untouched Start screen has nothing to forget and does not keep resetting itself.
    kiosk_client.post("/kiosk/reset/")
    assert 'data-idle-seconds="0"' in html(kiosk_client.get("/kiosk/"))


def test_the_idle_time_is_a_setting(kiosk_client, settings):
    settings.KIOSK_IDLE_SECONDS = 45
    assert 'data-idle-seconds="45"' in html(kiosk_client.get("/kiosk/book/"))


@pytest.mark.parametrize("url", ["/kiosk/book/", "/kiosk/progress/", "/kiosk/check-in/"])
def test_personal_data_is_only_ever_posted(kiosk_client, url):
    page = html(kiosk_client.get(url))
    forms = page.count("<form")
    assert forms == page.count('method="post"') and 'method="get"' not in page


def test_pages_are_never_cached(kiosk_client):
    assert "no-store" in kiosk_client.get("/kiosk/book/")["Cache-Control"]


# Booking: one question per screen, bad input explained with what was typed kept.


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("name", "", "Please enter your name."),
        ("phone", "1234", "Please enter an 11-digit mobile number."),
        ("phone", "", "Please enter an 11-digit mobile number."),
        ("id_number", "210100195001010023", "last character does not match"),
        ("id_number", BAD_DATE_ID, "not a real date"),
        ("id_number", "2101001950", "An ID number has 18 characters"),
        ("id_number", "", "Please enter your 18-character ID number."),
    ],
)
def test_identity_explains_bad_input_and_shows_what_passed_only_masked(kiosk_client, resident, field, typed, message):
    kiosk_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    answers = {**resident, field: typed}
    response = kiosk_client.post("/kiosk/book/", answers)
    assert response.status_code == 200
    page = html(response)
    assert message in page and 'aria-invalid="true"' in page
    if field != "name":
        assert 'value="王秀兰"' in page  # the name stays as typed
    # The mobile and ID number are never written back, right or wrong; what passed is kept and shown masked.
    assert resident["phone"] not in page and resident["id_number"][:17] not in page
    if typed and field != "name":
        assert f'value="{typed}"' not in page
    masks = {
        "phone": identity.phone_mask(resident["phone"]),
        "id_number": identity.id_number_mask(resident["id_number"]),
    }
    for key, masked in masks.items():
        assert (masked in page) == (key != field), key
    # Only the wrong answer is typed again; the kept ones may be left empty.
    again = {"name": resident["name"], "phone": "", "id_number": "", field: resident[field]}
    assert kiosk_client.post("/kiosk/book/", again)["Location"] == "/kiosk/book/category/"
    back = html(kiosk_client.get("/kiosk/book/"))
    assert masks["phone"] in back and masks["id_number"] in back and resident["phone"] not in back


def test_back_to_identity_shows_the_mobile_and_id_number_only_as_masked_hints(kiosk_client, resident):
    kiosk_client.post("/kiosk/book/", resident)
    page = html(kiosk_client.get("/kiosk/book/"))
    assert 'value="王秀兰"' in page
    assert resident["phone"] not in page and resident["id_number"] not in page
    assert identity.id_number_mask(resident["id_number"]) in page and identity.phone_mask(resident["phone"]) in page
    assert 'name="phone" inputmode="numeric" autocomplete="off"' in page  # no value= at all
    # Typing a new mobile replaces the kept one; the kept ID number stays.
    new_phone = f.valid_phone()
    kiosk_client.post("/kiosk/book/", {"name": "王秀兰", "phone": new_phone, "id_number": ""})
    page = html(kiosk_client.get("/kiosk/book/"))
    assert identity.phone_mask(new_phone) in page and identity.id_number_mask(resident["id_number"]) in page


def test_identity_errors_are_in_chinese_by_default(kiosk_client, resident):
    page = html(kiosk_client.post("/kiosk/book/", {**resident, "id_number": "210100195001010023"}))
    assert zh("The ID number's last character does not match; please check it.") in page


def test_the_steps_cannot_be_skipped(kiosk_client, resident, suggesting):
    assert kiosk_client.get("/kiosk/book/confirm/")["Location"] == "/kiosk/book/"
    kiosk_client.post("/kiosk/book/", resident)
    assert kiosk_client.get("/kiosk/book/day/")["Location"] == "/kiosk/book/category/"


def test_category_suggests_a_department_that_can_be_changed(kiosk_client, resident, suggesting, other_department):
    kiosk_client.post("/kiosk/book/", resident)
    page = html(kiosk_client.get("/kiosk/book/category/"))
    assert "住房保障" in page and "公租房、廉租房、房屋产权和办证" in page
    kiosk_client.post("/kiosk/book/category/", {"category": "housing"})
    kiosk_client.post("/kiosk/book/summary/", {"summary": SUMMARY})
    page = html(kiosk_client.get("/kiosk/book/department/"))
    assert page.count('aria-current="true"') == 1
    assert f'value="{suggesting.code}" class="card chosen suggested" aria-current="true"' in page
    assert "区人社局" in page
    response = kiosk_client.post("/kiosk/book/department/", {"department": other_department.code})
    assert response["Location"] == "/kiosk/book/day/"
    assert "区人社局" in html(kiosk_client.get("/kiosk/book/day/"))
    # Back on the list: the resident's own choice is marked, and the suggestion keeps its tag and first place.
    page = html(kiosk_client.get("/kiosk/book/department/"))
    assert f'value="{other_department.code}" class="card chosen" aria-current="true"' in page
    assert f'value="{suggesting.code}" class="card suggested"' in page


def test_the_suggested_department_comes_first(kiosk_client, resident, published, other_department):
    """However the departments sort by name, the one suggested for the matter is the first card."""
    from appointments.models import PetitionCategory

    PetitionCategory.objects.filter(code="housing").update(suggested_department=other_department)
    PetitionCategory.objects.filter(code="labour-social-security").update(suggested_department=published)
    kiosk_client.post("/kiosk/book/", resident)
    for category, suggested in [("housing", other_department), ("labour-social-security", published)]:
        kiosk_client.post("/kiosk/book/category/", {"category": category})
        kiosk_client.post("/kiosk/book/summary/", {"summary": SUMMARY})
        page = html(kiosk_client.get("/kiosk/book/department/"))
        first = page.index('name="department"')
        assert page.index(f'value="{suggested.code}"', first) - first < 40, category
        assert page.count('name="department"') == 2


def test_a_made_up_category_or_department_is_refused(kiosk_client, resident, suggesting):
    kiosk_client.post("/kiosk/book/", resident)
    kiosk_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the resident pressed English
    assert "Please choose one of the listed categories." in html(
        kiosk_client.post("/kiosk/book/category/", {"category": "nonsense"})
    )
    del kiosk_client.cookies[settings.LANGUAGE_COOKIE_NAME]
    kiosk_client.post("/kiosk/book/category/", {"category": "housing"})
    kiosk_client.post("/kiosk/book/summary/", {"summary": SUMMARY})
    assert "请从列出的部门中选择一个" in html(kiosk_client.post("/kiosk/book/department/", {"department": "nope"}))


def test_a_too_short_summary_is_explained_and_kept(kiosk_client, resident, suggesting):
    kiosk_client.post("/kiosk/book/", resident)
    kiosk_client.post("/kiosk/book/category/", {"category": "housing"})
    response = kiosk_client.post("/kiosk/book/summary/", {"summary": "房子"})
    assert response.status_code == 200
    assert zh("Please describe your matter in a few words (at least 5 characters).") in html(
        response
    ) and "房子</textarea>" in html(response)


def test_days_show_closures_and_holidays_as_closed_not_hidden(kiosk_client, resident, suggesting, open_slots):
    closed_day = timezone.localtime(open_slots[0].starts_at).date()
    Closure.objects.create(department=suggesting, start_date=closed_day, end_date=closed_day, reason="全员培训")
    walk_day = html(_walk_to_days(kiosk_client, resident, suggesting))
    assert walk_day.count('class="day ') == 14
    assert "全员培训" in walk_day and f"?day={closed_day.isoformat()}" not in walk_day
    assert "休息：周末" in walk_day  # weekends are listed too, marked closed


def test_times_list_only_that_days_open_times_earliest_first(kiosk_client, resident, suggesting, open_slots):
    _walk_to_days(kiosk_client, resident, suggesting)
    day = day_of(open_slots[0])
    page = html(kiosk_client.get(f"/kiosk/book/time/?day={day}"))
    same_day = [s for s in open_slots if day_of(s) == day]
    positions = [page.index(f'value="{s.pk}"') for s in same_day]
    assert positions == sorted(positions) and len(positions) == page.count('name="slot"')


def test_a_bad_day_goes_back_to_the_day_list(kiosk_client, resident, suggesting):
    _walk_to_days(kiosk_client, resident, suggesting)
    assert kiosk_client.get("/kiosk/book/time/?day=nonsense")["Location"] == "/kiosk/book/day/"
    assert kiosk_client.get("/kiosk/book/time/?day=1999-01-01")["Location"] == "/kiosk/book/day/"


def _walk_to_days(client, resident, department):
    client.post("/kiosk/book/", resident)
    client.post("/kiosk/book/category/", {"category": "housing"})
    client.post("/kiosk/book/summary/", {"summary": SUMMARY})
    client.post("/kiosk/book/department/", {"department": department.code})
    return client.get("/kiosk/book/day/")


def test_a_full_booking_ends_with_a_receipt_and_shows_the_id_only_masked(
    kiosk_client, resident, suggesting, open_slots, kiosk
):
    confirm_page = walk_to_confirm(kiosk_client, resident, suggesting, open_slots[0])
    confirm = html(confirm_page)
    masked = resident["id_number"][:3] + "*" * 11 + resident["id_number"][-4:]
    assert masked in confirm and resident["id_number"] not in confirm
    # The mobile the resident has just typed is shown in full here, and only here, so they can check it.
    phone = resident["phone"]
    assert f'<span class="phone">{phone[:3]} {phone[3:7]} {phone[7:]}</span>' in confirm
    response = kiosk_client.post("/kiosk/book/confirm/", {"token": confirm_token(confirm_page)})
    assert response.status_code == 302 and response["Location"] == "/kiosk/book/receipt/"
    receipt = html(kiosk_client.get("/kiosk/book/receipt/"))
    appointment = Appointment.objects.get()
    petition = appointment.petition
    assert (
        appointment.slot == open_slots[0] and appointment.kiosk == kiosk.kiosk and petition.community.name == "蓝山社区"
    )
    for text in [petition.reference, petition.query_code, suggesting.name, "蓝山社区", "<svg", "打印回执"]:
        assert text in receipt
    assert resident["id_number"] not in receipt and resident["phone"] not in receipt
    # Finishing forgets the resident.
    kiosk_client.post("/kiosk/reset/")
    assert kiosk_client.get("/kiosk/book/receipt/")["Location"] == "/kiosk/"


def test_a_double_tap_on_confirm_books_once(kiosk_client, resident, suggesting, open_slots):
    token = confirm_token(walk_to_confirm(kiosk_client, resident, suggesting, open_slots[0]))
    first = kiosk_client.post("/kiosk/book/confirm/", {"token": token})
    second = kiosk_client.post("/kiosk/book/confirm/", {"token": token})
    assert first["Location"] == second["Location"] == "/kiosk/book/receipt/"
    assert Appointment.objects.count() == 1 and Petition.objects.count() == 1


def test_a_retry_with_a_lost_session_replays_the_same_booking(kiosk_client, resident, suggesting, open_slots):
    """The service keeps the confirm-form's key: the same answers and key give the same appointment."""
    token = confirm_token(walk_to_confirm(kiosk_client, resident, suggesting, open_slots[0]))
    kiosk_client.post("/kiosk/book/confirm/", {"token": token})
    session = kiosk_client.session
    session.pop("kiosk_receipt")
    session.save()
    walk_to_confirm(kiosk_client, resident, suggesting, open_slots[0])
    response = kiosk_client.post("/kiosk/book/confirm/", {"token": token})
    assert response["Location"] == "/kiosk/book/receipt/"
    assert Appointment.objects.count() == 1 and Petition.objects.count() == 1


def test_a_seat_taken_between_choosing_and_confirming_offers_the_nearest_free_times(
    kiosk_client, resident, suggesting, open_slots, kiosk
):
    chosen = open_slots[1]
    token = confirm_token(walk_to_confirm(kiosk_client, resident, suggesting, chosen))
    for _seat in range(chosen.capacity):  # another kiosk books every seat meanwhile
        other = f.petition(kiosk, suggesting)
        appointment_book(actor=kiosk, petition_reference=other.reference, slot_id=chosen.pk)
    response = kiosk_client.post("/kiosk/book/confirm/", {"token": token})
    assert response.status_code == 409
    page = html(response)
    assert "这个时间刚刚被别人约走了" in page
    offered = [s for s in open_slots if f'value="{s.pk}"' in page]
    assert chosen not in offered and open_slots[0] in offered and open_slots[2] in offered and len(offered) == 4
    # Nothing half-done: no petition was filed for this resident, and the answers are still there.
    mobile_hash = identity.phone_hash(identity.phone_clean(resident["phone"]))
    assert not Petition.objects.filter(summary=SUMMARY, resident__phone_hash=mobile_hash).exists()
    kiosk_client.post("/kiosk/book/time/", {"slot": open_slots[2].pk})
    token = confirm_token(kiosk_client.get("/kiosk/book/confirm/"))
    assert kiosk_client.post("/kiosk/book/confirm/", {"token": token})["Location"] == "/kiosk/book/receipt/"
    assert Appointment.objects.filter(slot=open_slots[2], petition__summary=SUMMARY).exists()


def test_a_conflict_from_the_service_is_explained_on_the_confirm_page(
    kiosk_client, resident, suggesting, open_slots, kiosk
):
    # The resident already holds another appointment at the same time.
    earlier = f.petition(kiosk, suggesting, **resident)
    appointment_book(actor=kiosk, petition_reference=earlier.reference, slot_id=open_slots[0].pk)
    token = confirm_token(walk_to_confirm(kiosk_client, resident, suggesting, open_slots[0]))
    response = kiosk_client.post("/kiosk/book/confirm/", {"token": token})
    assert response.status_code == 409 and zh("You already have another appointment at this time.") in html(response)
    assert "Traceback" not in html(response) and resident["id_number"] not in html(response)


# Progress, cancel, reschedule.


def test_progress_needs_the_query_code_and_the_last_four_digits(kiosk_client, booked_later):
    petition = booked_later.petition
    response = kiosk_client.post("/kiosk/progress/", {"query_code": petition.query_code, "phone_last4": "0000"})
    assert response.status_code == 400
    page = html(response)
    assert "没有找到与这个查询码和手机号码相符的事项" in page
    assert f'value="{petition.query_code}"' in page and 'value="0000"' in page
    response = kiosk_client.post("/kiosk/progress/", {"query_code": "12ab", "phone_last4": "12345"})
    assert "查询码是 8 位数字" in html(response) and "请输入 4 位数字" in html(response)
    assert 'value="12ab"' in html(response) and 'value="12345"' in html(response)


def test_progress_shows_status_and_appointment_time(kiosk_client, booked_later):
    petition = booked_later.petition
    response = kiosk_client.post("/kiosk/progress/", {"query_code": petition.query_code, "phone_last4": "2345"})
    assert response["Location"] == "/kiosk/progress/status/"
    page = html(kiosk_client.get("/kiosk/progress/status/"))
    starts = timezone.localtime(booked_later.slot.starts_at)
    assert "已预约接访" in page and petition.reference in page and f"{starts:%H:%M}" in page
    assert "改约其他时间" in page and "取消预约" in page


def test_cancel_from_progress(kiosk_client, booked_later):
    kiosk_client.post("/kiosk/progress/", {"query_code": booked_later.petition.query_code, "phone_last4": "2345"})
    assert "要取消这个预约吗" in html(kiosk_client.get("/kiosk/progress/cancel/"))
    response = kiosk_client.post("/kiosk/progress/cancel/")
    assert response.status_code == 200 and "预约已取消" in html(response)
    booked_later.refresh_from_db()
    assert booked_later.status == Appointment.Status.CANCELLED
    assert "取消预约" not in html(kiosk_client.get("/kiosk/progress/status/"))


def test_reschedule_from_progress(kiosk_client, booked_later, open_slots):
    kiosk_client.post("/kiosk/progress/", {"query_code": booked_later.petition.query_code, "phone_last4": "2345"})
    target = open_slots[0]
    assert f"?day={day_of(target)}" in html(kiosk_client.get("/kiosk/progress/reschedule/"))
    assert f'value="{target.pk}"' in html(kiosk_client.get(f"/kiosk/progress/reschedule/time/?day={day_of(target)}"))
    assert kiosk_client.post("/kiosk/progress/reschedule/time/", {"slot": target.pk}).status_code == 302
    assert "要改到这个时间吗" in html(kiosk_client.get("/kiosk/progress/reschedule/confirm/"))
    response = kiosk_client.post("/kiosk/progress/reschedule/confirm/")
    assert response.status_code == 302 and response["Location"] == "/kiosk/progress/receipt/"
    moved = Appointment.objects.get(status=Appointment.Status.BOOKED)
    assert moved.slot == target and moved.rescheduled_from == booked_later
    # The new receipt, ready to print: the new time, the same query code.
    receipt = html(kiosk_client.get("/kiosk/progress/receipt/"))
    assert "改约成功" in receipt and "打印新回执" in receipt and "<svg" in receipt
    assert booked_later.petition.query_code in receipt and kiosk_when(target.starts_at, target.ends_at) in receipt
    assert kiosk_when(booked_later.slot.starts_at, booked_later.slot.ends_at) not in receipt


def test_reschedule_screens_have_their_own_steps_and_show_the_booking_being_changed(
    kiosk_client, booked_later, open_slots
):
    kiosk_client.post("/kiosk/progress/", {"query_code": booked_later.petition.query_code, "phone_last4": "2345"})
    current = kiosk_when(booked_later.slot.starts_at, booked_later.slot.ends_at)
    target = open_slots[0]
    days = html(kiosk_client.get("/kiosk/progress/reschedule/"))
    times = html(kiosk_client.get(f"/kiosk/progress/reschedule/time/?day={day_of(target)}"))
    kiosk_client.post("/kiosk/progress/reschedule/time/", {"slot": target.pk})
    confirm = html(kiosk_client.get("/kiosk/progress/reschedule/confirm/"))
    for number, page in enumerate([days, times, confirm], start=1):
        assert f"改约：第 {number} 步，共 3 步" in page and "共 6 步" not in page
        assert current in page


def test_a_receipt_can_be_printed_again_from_progress(kiosk_client, booked_later):
    kiosk_client.post("/kiosk/progress/", {"query_code": booked_later.petition.query_code, "phone_last4": "2345"})
    assert "/kiosk/progress/receipt/" in html(kiosk_client.get("/kiosk/progress/status/"))
    receipt = html(kiosk_client.get("/kiosk/progress/receipt/"))
    assert "您的回执" in receipt and booked_later.petition.query_code in receipt and "打印回执" in receipt
    kiosk_client.post("/kiosk/progress/cancel/")
    assert "/kiosk/progress/receipt/" not in html(kiosk_client.get("/kiosk/progress/status/"))
    assert kiosk_client.get("/kiosk/progress/receipt/")["Location"] == "/kiosk/progress/status/"


def test_reschedule_to_a_time_taken_meanwhile_offers_the_nearest_free_times(
    kiosk_client, booked_later, open_slots, kiosk, published
):
    kiosk_client.post("/kiosk/progress/", {"query_code": booked_later.petition.query_code, "phone_last4": "2345"})
    target = open_slots[0]
    kiosk_client.post("/kiosk/progress/reschedule/time/", {"slot": target.pk})
    for _seat in range(target.capacity):
        other = f.petition(kiosk, published)
        appointment_book(actor=kiosk, petition_reference=other.reference, slot_id=target.pk)
    response = kiosk_client.post("/kiosk/progress/reschedule/confirm/")
    assert response.status_code == 409 and "这个时间刚刚被别人约走了" in html(response)
    assert 'action="/kiosk/progress/reschedule/time/"' in html(response)
    booked_later.refresh_from_db()
    assert booked_later.status == Appointment.Status.BOOKED  # nothing changed


def test_another_communitys_kiosk_shows_progress_but_sends_changes_home(client, other_kiosk_and_key, booked_later):
    client.cookies[settings.KIOSK_KEY_COOKIE] = other_kiosk_and_key[1]
    client.post("/kiosk/progress/", {"query_code": booked_later.petition.query_code, "phone_last4": "2345"})
    page = html(client.get("/kiosk/progress/status/"))
    assert "已预约接访" in page and "取消预约" not in page and "蓝山社区自助终端" in page
    response = client.post("/kiosk/progress/cancel/")
    assert response.status_code == 409 and zh("No appointment %(id)s was found.") % {"id": booked_later.pk} in html(
        response
    )
    booked_later.refresh_from_db()
    assert booked_later.status == Appointment.Status.BOOKED


# Check-in.


def test_check_in_with_the_query_code(kiosk_client, booked_soon):
    response = kiosk_client.post("/kiosk/check-in/", {"query_code": booked_soon.petition.query_code})
    assert response["Location"] == "/kiosk/check-in/done/"
    assert "签到成功" in html(kiosk_client.get("/kiosk/check-in/done/"))
    booked_soon.refresh_from_db()
    assert booked_soon.status == Appointment.Status.CHECKED_IN and booked_soon.checked_in_at is not None


def test_check_in_explains_a_wrong_code_and_keeps_it(kiosk_client, booked_soon):
    response = kiosk_client.post("/kiosk/check-in/", {"query_code": "00000000"})
    assert response.status_code == 400
    assert "在本社区没有找到这个查询码的预约" in html(response) and 'value="00000000"' in html(response)
    response = kiosk_client.post("/kiosk/check-in/", {"query_code": "123"})
    assert "查询码是 8 位数字" in html(response) and 'value="123"' in html(response)


def test_check_in_too_early_says_when_it_opens(kiosk_client, booked_later):
    # Two published weeks always leave a last open time days away, outside the check-in window.
    assert booked_later.slot.starts_at - timezone.now() > dt.timedelta(hours=2)
    response = kiosk_client.post("/kiosk/check-in/", {"query_code": booked_later.petition.query_code})
    assert response.status_code == 400 and zh("Check-in opens two hours before your appointment.") in html(response)
    booked_later.refresh_from_db()
    assert booked_later.status == Appointment.Status.BOOKED


def test_check_in_only_at_the_community_of_the_booking(client, other_kiosk_and_key, booked_soon):
    client.cookies[settings.KIOSK_KEY_COOKIE] = other_kiosk_and_key[1]
    response = client.post("/kiosk/check-in/", {"query_code": booked_soon.petition.query_code})
    assert response.status_code == 400 and "在本社区没有找到" in html(response)


# Privacy.


def test_personal_data_never_reaches_the_log(kiosk_client, resident, suggesting, open_slots, caplog):
    caplog.set_level("DEBUG")
    kiosk_client.post("/kiosk/book/", {**resident, "id_number": resident["id_number"][:-1] + "0"})
    token = confirm_token(walk_to_confirm(kiosk_client, resident, suggesting, open_slots[0]))
    kiosk_client.post("/kiosk/book/confirm/", {"token": token})
    for secret in (resident["id_number"], resident["id_number"][:-1] + "0", resident["phone"]):
        assert secret not in caplog.text


def test_identity_is_kept_encrypted_in_the_session(kiosk_client, resident):
    kiosk_client.post("/kiosk/book/", resident)
    stored = str(kiosk_client.session.load())
    assert resident["id_number"] not in stored and resident["phone"] not in stored and "王秀兰" not in stored
