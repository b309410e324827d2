"""The kiosk in Debian's Chromium at 1080×1920: every flow a resident goes through, axe on every screen."""

import importlib
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from appointments.identity import phone_hash
from appointments.kiosk.format import kiosk_when
from appointments.models import Appointment, Petition
from scheduler.models import Closure
from tests import factories as f

from .conftest import SUMMARY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "kiosk"
# The kiosk's one way of writing a session's day and time, e.g. "12月3日 星期四 上午9:30–10:00".
KIOSK_WHEN = re.compile(r"\d{1,2}月\d{1,2}日 星期. (上午|中午|下午)\d{1,2}:\d{2}–(中午|下午)?\d{1,2}:\d{2}")


@pytest.fixture(autouse=True)
def categories(db):
    """The categories a migration seeds (a transactional test's flush removes them)."""
    importlib.import_module("appointments.migrations.0002_seed_categories").seed(apps, None)


@pytest.fixture
def kiosk_page(page, live_server, kiosk_key, suggesting):
    """The browser page of a kiosk already registered to 蓝山社区."""
    page.context.add_cookies(
        [{"name": settings.KIOSK_KEY_COOKIE, "value": kiosk_key, "url": live_server.url, "httpOnly": True}]
    )
    page.goto(f"{live_server.url}/kiosk/")
    expect(page.get_by_role("heading", level=1)).to_have_text("您要办理什么？")
    return page


def screen(page, name: str) -> None:
    """Check the screen with axe-core (no serious or critical violations) and keep a screenshot of it."""
    from axe_playwright_python.sync_playwright import Axe

    page.wait_for_load_state("load")
    origin = "/".join(page.url.split("/")[:3])
    loaded = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    assert all(url.startswith((origin, "data:")) for url in loaded), loaded  # nothing from outside
    violations = [v for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    assert not violations, [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in violations]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def heading(page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)
    # Sizes and positions are measured after this: wait until the page (and its stylesheet) has loaded.
    page.wait_for_load_state("load")


def answer_up_to_confirm(page, *, id_number: str, phone: str) -> None:
    page.get_by_role("link", name="预约视频接访").click()
    heading(page, "请填写您的身份信息")
    page.get_by_label("您的姓名").fill("王秀兰")
    page.get_by_label("手机号码").fill(phone)
    page.get_by_label("身份证号码").fill(id_number)
    page.get_by_role("button", name="下一步").click()
    heading(page, "您要反映哪方面的事情？")
    page.get_by_role("button", name="住房保障").click()
    heading(page, "请简单说说您的事情")
    page.get_by_label("请简单说说您的事情").fill(SUMMARY)
    page.get_by_role("button", name="下一步").click()
    heading(page, "请哪个部门来接访？")
    page.get_by_role("button", name="区房产局").click()
    heading(page, "您哪天方便？")
    page.locator("a.day.open").first.click()
    heading(page, "您几点方便？")
    page.locator("button.time").first.click()
    heading(page, "请核对以下信息")


def test_setup_then_a_full_booking_from_start_to_receipt(page, live_server, kiosk_key, suggesting, open_slots):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server.url}/kiosk/")
    heading(page, "设置自助终端")
    screen(page, "01-setup")
    page.get_by_label("终端密钥").fill(kiosk_key)
    page.get_by_role("button", name="登记终端").click()
    heading(page, "您要办理什么？")
    cookie = next(c for c in page.context.cookies() if c["name"] == settings.KIOSK_KEY_COOKIE)
    assert cookie["httpOnly"]
    screen(page, "02-start")

    page.get_by_role("link", name="预约视频接访").click()
    heading(page, "请填写您的身份信息")
    screen(page, "03-identity")
    id_number = f.valid_id_number()
    page.get_by_label("您的姓名").fill("王秀兰")
    page.get_by_label("手机号码").fill("1384001")
    page.get_by_label("身份证号码").fill(id_number[:-1] + ("0" if id_number[-1] != "0" else "1"))
    page.get_by_role("button", name="下一步").click()
    expect(page.get_by_role("alert")).to_contain_text("请检查您填写的内容")
    expect(page.get_by_label("您的姓名")).to_have_value("王秀兰")  # the name stays as typed
    # The mobile and ID number are never written back into the page: wrong ones are typed again.
    expect(page.get_by_label("手机号码")).to_have_value("")
    expect(page.get_by_label("身份证号码")).to_have_value("")
    screen(page, "04-identity-error")
    page.get_by_label("手机号码").fill("13840012345")
    page.get_by_label("身份证号码").fill(id_number)
    page.get_by_role("button", name="下一步").click()

    heading(page, "您要反映哪方面的事情？")
    screen(page, "05-category")
    page.get_by_role("button", name="住房保障").click()
    heading(page, "请简单说说您的事情")
    screen(page, "06-summary")
    page.get_by_label("请简单说说您的事情").fill(SUMMARY)
    page.get_by_role("button", name="下一步").click()
    heading(page, "请哪个部门来接访？")
    expect(page.locator("button.card.chosen")).to_contain_text("区房产局")
    # Staff closed one day after the resident started: it stays in the list, marked closed.
    last_open = timezone.localtime(open_slots[-1].starts_at).date()
    Closure.objects.create(department=None, start_date=last_open, end_date=last_open, reason="区里统一培训")
    screen(page, "07-department")
    page.get_by_role("button", name="区房产局").click()
    heading(page, "您哪天方便？")
    expect(page.locator(".day.closed").filter(has_text="区里统一培训")).to_have_count(1)
    screen(page, "08-days")
    page.locator("a.day.open").first.click()
    heading(page, "您几点方便？")
    screen(page, "09-times")
    page.locator("button.time").first.click()
    heading(page, "请核对以下信息")
    expect(page.locator("main")).to_contain_text(id_number[:3] + "*" * 11 + id_number[-4:])
    expect(page.locator("main")).not_to_contain_text(id_number)
    expect(page.locator(".summary .phone")).to_have_text("138 4001 2345")  # in full, to check it
    # One date format on every screen: "12月3日 星期四 上午9:30–10:00".
    expect(page.locator(".summary")).to_contain_text(KIOSK_WHEN)
    screen(page, "10-confirm")
    page.get_by_role("button", name="确认预约").click()

    heading(page, "预约成功")
    appointment = Appointment.objects.select_related("petition").get()
    expect(page.locator(".receipt")).to_contain_text(appointment.petition.query_code)
    expect(page.locator(".receipt")).to_contain_text(appointment.petition.reference)
    expect(page.locator(".qr svg")).to_be_visible()
    screen(page, "11-receipt")
    page.emulate_media(media="print")
    expect(page.locator(".bar")).to_be_hidden()
    expect(page.get_by_role("button", name="打印回执")).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "11-receipt-print.png"))
    page.emulate_media(media="screen")
    page.get_by_role("button", name="完成").click()
    heading(page, "您要办理什么？")
    # Personal data travelled only in POST bodies, never in an address.
    for secret in (id_number, "13840012345", "1384001", appointment.petition.query_code, kiosk_key):
        assert not [url for url in requested if secret in url]


def test_a_seat_taken_by_another_kiosk_offers_the_nearest_free_times(
    kiosk_page, kiosk, kiosk_key, published, open_slots
):
    page = kiosk_page
    answer_up_to_confirm(page, id_number=f.valid_id_number(), phone="13840012345")
    chosen = open_slots[0]  # the first time of the first open day
    # Another kiosk takes every seat of the chosen time through the API, between choosing and confirming.
    api = Client()
    for _seat in range(chosen.capacity):
        other = f.petition(kiosk, published)
        response = api.post(
            "/api/v1/appointments",
            {"petition": other.reference, "slot": chosen.pk},
            content_type="application/json",
            headers={"X-Kiosk-Key": kiosk_key},
        )
        assert response.status_code == 201, response.content
    page.get_by_role("button", name="确认预约").click()
    heading(page, "抱歉，这个时间刚刚被别人约走了")
    screen(page, "12-seat-taken")
    mine = Petition.objects.filter(resident__phone_hash=phone_hash("+8613840012345"))
    assert not mine.exists()  # nothing half-done
    offered = page.locator("button.time")
    expect(offered).to_have_count(4)
    offered.first.click()
    heading(page, "请核对以下信息")
    page.get_by_role("button", name="确认预约").click()
    heading(page, "预约成功")
    appointment = Appointment.objects.get(petition__in=mine)
    assert appointment.slot_id != chosen.pk and appointment.status == Appointment.Status.BOOKED


def find_progress(page, appointment) -> None:
    page.get_by_role("link", name="查询进度").click()
    heading(page, "查询进度")
    page.get_by_label("查询码（8 位数字，在回执上）").fill(appointment.petition.query_code)
    page.get_by_label("手机号码后 4 位").fill("2345")
    page.get_by_role("button", name="查询").click()
    heading(page, "您的事项")


def test_progress_lookup_then_cancel(kiosk_page, booked_later):
    page = kiosk_page
    page.get_by_role("link", name="查询进度").click()
    heading(page, "查询进度")
    screen(page, "13-progress-lookup")
    page.get_by_label("查询码（8 位数字，在回执上）").fill(booked_later.petition.query_code)
    page.get_by_label("手机号码后 4 位").fill("9999")
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_role("alert")).to_contain_text("没有找到")
    expect(page.get_by_label("手机号码后 4 位")).to_have_value("9999")
    screen(page, "13-progress-lookup-error")
    page.get_by_label("手机号码后 4 位").fill("2345")
    page.get_by_role("button", name="查询").click()
    heading(page, "您的事项")
    expect(page.locator("main")).to_contain_text(booked_later.petition.reference)
    screen(page, "14-progress-status")
    page.get_by_role("link", name="取消预约").click()
    heading(page, "要取消这个预约吗？")
    screen(page, "15-cancel")
    page.get_by_role("button", name="是的，取消预约").click()
    heading(page, "预约已取消")
    screen(page, "16-cancelled")
    booked_later.refresh_from_db()
    assert booked_later.status == Appointment.Status.CANCELLED


def test_progress_then_reschedule_shows_the_booking_being_changed_and_prints_a_new_receipt(
    kiosk_page, booked_later, open_slots
):
    page = kiosk_page
    old_time = kiosk_when(booked_later.slot.starts_at, booked_later.slot.ends_at)
    new_time = kiosk_when(open_slots[0].starts_at, open_slots[0].ends_at)
    find_progress(page, booked_later)
    page.get_by_role("link", name="改约其他时间").click()
    heading(page, "您哪天方便？")
    expect(page.locator(".step")).to_have_text("改约：第 1 步，共 3 步")
    expect(page.locator(".current")).to_contain_text("您要改的预约")
    expect(page.locator(".current")).to_contain_text(f"区房产局 · {old_time}")
    screen(page, "17-reschedule-days")
    page.locator("a.day.open").first.click()
    heading(page, "您几点方便？")
    expect(page.locator(".step")).to_have_text("改约：第 2 步，共 3 步")
    expect(page.locator(".current")).to_contain_text(old_time)
    screen(page, "17-reschedule-times")
    page.locator("button.time").first.click()
    heading(page, "要改到这个时间吗？")
    expect(page.locator(".step")).to_have_text("改约：第 3 步，共 3 步")
    expect(page.locator("main s")).to_have_text(old_time)
    screen(page, "18-reschedule-confirm")
    page.get_by_role("button", name="确认改约").click()
    heading(page, "改约成功")
    expect(page.locator(".receipt")).to_contain_text(new_time)
    expect(page.locator(".receipt")).not_to_contain_text(old_time)
    expect(page.locator(".receipt")).to_contain_text(booked_later.petition.query_code)
    expect(page.locator(".qr svg")).to_be_visible()
    expect(page.get_by_role("button", name="打印新回执")).to_be_visible()
    screen(page, "19-rescheduled-receipt")
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="打印新回执")).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "19-rescheduled-receipt-print.png"))
    page.emulate_media(media="screen")
    moved = Appointment.objects.get(status=Appointment.Status.BOOKED)
    assert moved.rescheduled_from_id == booked_later.pk and moved.slot_id == open_slots[0].pk
    # Back to the matter: the receipt can be printed again at any time, with the time as it now stands.
    page.get_by_role("link", name="返回").click()
    heading(page, "您的事项")
    page.get_by_role("link", name="重新打印回执").click()
    expect(page.locator(".receipt")).to_contain_text(new_time)


def test_change_buttons_are_big_enough_to_hit(kiosk_page, open_slots):
    page = kiosk_page
    answer_up_to_confirm(page, id_number=f.valid_id_number(), phone="13840012345")
    buttons = page.get_by_role("link", name=re.compile("^修改"))
    expect(buttons).to_have_count(6)
    for index in range(6):
        box = buttons.nth(index).bounding_box()
        assert box is not None and box["height"] >= 48 and box["width"] >= 48, (index, box)
    # What a finger lands on goes where it says.
    buttons.filter(has_text="手机").click()
    heading(page, "请填写您的身份信息")


def test_the_suggested_department_comes_first(kiosk_page, other_department, open_slots):
    page = kiosk_page
    f.department("anjian", "区安监局")  # sorts before 区房产局 by name, as 区人社局 does
    page.get_by_role("link", name="预约视频接访").click()
    page.get_by_label("您的姓名").fill("王秀兰")
    page.get_by_label("手机号码").fill("13840012345")
    page.get_by_label("身份证号码").fill(f.valid_id_number())
    page.get_by_role("button", name="下一步").click()
    page.get_by_role("button", name="住房保障").click()
    page.get_by_label("请简单说说您的事情").fill(SUMMARY)
    page.get_by_role("button", name="下一步").click()
    heading(page, "请哪个部门来接访？")
    cards = page.locator("form.grid button.card")
    expect(cards).to_have_count(3)
    expect(cards.first).to_contain_text("区房产局")
    expect(cards.first).to_contain_text("推荐")
    # Measure only once the stylesheet applies: before it, the buttons sit side by side on one line.
    page.wait_for_load_state("load")
    expect(cards.first).to_have_css("grid-column-start", "1")
    first, second = cards.nth(0).bounding_box(), cards.nth(1).bounding_box()
    assert first is not None and second is not None and first["y"] < second["y"]  # on a row of its own, on top
    screen(page, "07-department-suggested-first")


def test_back_never_puts_the_mobile_or_id_number_back_into_the_form(kiosk_page, open_slots):
    page = kiosk_page
    id_number = f.valid_id_number()
    page.get_by_role("link", name="预约视频接访").click()
    page.get_by_label("您的姓名").fill("王秀兰")
    page.get_by_label("手机号码").fill("13840012345")
    page.get_by_label("身份证号码").fill(id_number)
    page.get_by_role("button", name="下一步").click()
    heading(page, "您要反映哪方面的事情？")

    page.go_back()  # the browser's own Back
    heading(page, "请填写您的身份信息")
    for back in ("browser", "page"):
        expect(page.get_by_label("您的姓名")).to_have_value("王秀兰")
        expect(page.get_by_label("手机号码")).to_have_value("")
        expect(page.get_by_label("身份证号码")).to_have_value("")
        expect(page.locator("main")).to_contain_text("138****2345")
        expect(page.locator("main")).to_contain_text(id_number[:3] + "*" * 11 + id_number[-4:])
        assert "13840012345" not in page.content() and id_number not in page.content()
        if back == "browser":
            screen(page, "03-identity-after-back")
            page.get_by_role("button", name="下一步").click()  # nothing retyped: the kept answers go on
            heading(page, "您要反映哪方面的事情？")
            page.get_by_role("link", name="返回").click()  # the page's own Back
            heading(page, "请填写您的身份信息")


def test_every_page_has_an_icon_and_nothing_is_missing(kiosk_page, live_server, booked_later):
    page = kiosk_page
    missing: list[str] = []
    page.on("response", lambda response: missing.append(response.url) if response.status >= 400 else None)
    response = page.request.get(f"{live_server.url}/favicon.ico")
    assert response.status == 200 and response.headers["content-type"] == "image/x-icon"
    assert response.body()[:4] == b"\x00\x00\x01\x00"  # an ICO file
    icon = page.locator("link[rel=icon][type='image/svg+xml']").get_attribute("href")
    svg = page.request.get(f"{live_server.url}{icon}")
    assert svg.status == 200 and b"<svg" in svg.body()
    find_progress(page, booked_later)
    page.get_by_role("link", name="重新打印回执").click()
    page.goto(f"{live_server.url}/")
    page.goto(f"{live_server.url}/accounts/login/")
    assert not missing, missing


def test_check_in_on_arrival(kiosk_page, booked_soon):
    page = kiosk_page
    page.get_by_role("link", name="签到").click()
    heading(page, "签到")
    screen(page, "20-check-in")
    page.get_by_label("查询码（8 位数字，在回执上）").fill(booked_soon.petition.query_code)
    page.get_by_role("button", name="签到").click()
    heading(page, "签到成功")
    screen(page, "21-checked-in")
    booked_soon.refresh_from_db()
    assert booked_soon.status == Appointment.Status.CHECKED_IN


def test_idle_kiosk_warns_then_starts_over_and_forgets(kiosk_page, settings):
    settings.KIOSK_IDLE_SECONDS = 2
    settings.KIOSK_IDLE_WARNING_SECONDS = 3
    page = kiosk_page
    page.get_by_role("button", name="English").click()
    heading(page, "What would you like to do?")
    page.get_by_role("link", name="Book a video consultation").click()
    heading(page, "Who are you?")
    page.get_by_label("Your name").fill("王秀兰")
    page.get_by_label("Mobile number").fill("13840012345")
    warning = page.get_by_role("alertdialog")
    expect(warning).to_be_visible(timeout=5000)
    expect(warning).to_contain_text("Are you still there?")
    screen(page, "22-idle-warning")
    warning.get_by_role("button", name="I am still here").click()
    expect(warning).to_be_hidden()
    expect(page.get_by_label("Your name")).to_have_value("王秀兰")  # a touch keeps everything
    expect(warning).to_be_visible(timeout=5000)
    heading_start = page.get_by_role("heading", level=1)
    expect(heading_start).to_have_text("您要办理什么？", timeout=8000)  # back to Start, in Chinese
    page.get_by_role("link", name="预约视频接访").click()
    heading(page, "请填写您的身份信息")
    expect(page.get_by_label("您的姓名")).to_have_value("")


def test_english_throughout(kiosk_page, booked_later):
    page = kiosk_page
    page.get_by_role("button", name="English").click()
    heading(page, "What would you like to do?")
    assert page.locator("html").get_attribute("lang") == "en"
    screen(page, "23-start-english")
    page.get_by_role("link", name="Book a video consultation").click()
    heading(page, "Who are you?")
    page.get_by_label("Your name").fill("Wang Xiulan")
    page.get_by_label("Mobile number").fill("13840012345")
    page.get_by_label("Resident ID number").fill("12345")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("alert")).to_contain_text("Please check what you entered")
    screen(page, "24-identity-english-error")
    page.get_by_label("Resident ID number").fill(f.valid_id_number())
    page.get_by_role("button", name="Next").click()
    heading(page, "What is your matter about?")
    expect(page.get_by_role("button", name="Housing")).to_be_visible()
    screen(page, "25-category-english")
    page.get_by_role("link", name="Back").click()
    heading(page, "Who are you?")
    page.get_by_role("button", name="中文").click()
    heading(page, "请填写您的身份信息")


def test_landscape_is_usable_too(kiosk_page):
    page = kiosk_page
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.reload()
    for choice in ["预约视频接访", "查询进度", "签到"]:
        expect(page.get_by_role("link", name=choice)).to_be_in_viewport()
    screen(page, "26-start-landscape")
