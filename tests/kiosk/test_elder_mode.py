"""大字 (elder mode) in Debian's Chromium: every text at least 1.5× larger, nothing cut off or pushed off the screen
at 1080×1920 or in landscape, axe clean, remembered from screen to screen and forgotten by starting over."""

import importlib
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from playwright.sync_api import expect

from tests import factories as f

from .conftest import SUMMARY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "kiosk"

# The font size of every visible element that holds text of its own, in document order.
TEXT_SIZES = """() => [...document.querySelectorAll("body *")]
  .filter((el) => el.getClientRects().length && !el.closest("[hidden]")
    && [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()))
  .map((el) => [el.tagName + "." + el.className, parseFloat(getComputedStyle(el).fontSize)])"""
# Anything wider than the screen, or a control whose text does not fit inside it.
CUT_OFF = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  if (document.documentElement.scrollWidth > width) out.push("page scrolls sideways");
  for (const el of document.querySelectorAll("main *, header *, footer *, .assist *")) {
    if (!el.getClientRects().length || el.closest(".visually-hidden")) continue;
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 || box.left < -1) out.push(el.tagName + "." + el.className + " off screen");
    if (el.matches("button, a.btn, a.choice, a.day, .card") && el.scrollWidth > el.clientWidth + 1)
      out.push(el.tagName + "." + el.className + " text cut off");
  }
  return out;
}"""


@pytest.fixture(autouse=True)
def categories(db):
    importlib.import_module("appointments.migrations.0002_seed_categories").seed(apps, None)


@pytest.fixture
def kiosk_page(page, live_server, kiosk_key, suggesting):
    page.context.add_cookies(
        [{"name": settings.KIOSK_KEY_COOKIE, "value": kiosk_key, "url": live_server.url, "httpOnly": True}]
    )
    page.goto(f"{live_server.url}/kiosk/")
    expect(page.get_by_role("heading", level=1)).to_have_text("您要办理什么？")
    return page


def heading(page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)
    page.wait_for_load_state("load")


def large_and_whole(page, name: str) -> None:
    """The screen arrived in elder mode; every text is ≥1.5× its normal size, nothing is cut off, axe is clean."""
    from axe_playwright_python.sync_playwright import Axe

    assert "elder" in page.locator("html").get_attribute("class").split()  # remembered from the screen before
    # On a busy machine the stylesheet can arrive after "load" of a POST's answer; measure the styled page only.
    page.wait_for_function("parseFloat(getComputedStyle(document.documentElement).fontSize) > 16")
    page.evaluate("document.documentElement.classList.remove('elder')")
    normal = page.evaluate(TEXT_SIZES)
    page.evaluate("document.documentElement.classList.add('elder')")
    large = page.evaluate(TEXT_SIZES)
    assert len(normal) == len(large) and len(large) > 5
    small = [(el, a, b) for (el, a), (_, b) in zip(normal, large, strict=True) if b < 1.5 * a - 0.01]
    assert not small, (name, small)
    assert page.evaluate(CUT_OFF) == [], name
    violations = [v for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    assert not violations, [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"elder-{name.replace(' ', '-').replace(',', '')}.png"), full_page=True)


def test_large_text_on_every_booking_screen_in_portrait(kiosk_page, open_slots):
    page = kiosk_page
    button = page.get_by_role("button", name="大字")
    with page.expect_response(lambda r: r.url.endswith("/kiosk/elder/") and r.status == 204):
        button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    page.reload()  # the server remembers it for this visit
    large_and_whole(page, "start")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "elder-mode-portrait.png"))

    page.get_by_role("link", name="预约视频接访").click()
    heading(page, "请填写您的身份信息")
    page.get_by_label("您的姓名").fill("王秀兰")
    page.get_by_label("手机号码").fill("1384001")
    page.get_by_role("button", name="下一步").click()
    expect(page.get_by_role("alert")).to_be_visible()
    large_and_whole(page, "identity with errors")
    page.get_by_label("手机号码").fill(f.valid_phone())
    page.get_by_label("身份证号码").fill(f.valid_id_number())
    page.get_by_role("button", name="下一步").click()
    heading(page, "您要反映哪方面的事情？")
    large_and_whole(page, "category")
    page.get_by_role("button", name="住房保障").click()
    heading(page, "请简单说说您的事情")
    page.get_by_label("请简单说说您的事情").fill(SUMMARY)
    page.get_by_role("button", name="下一步").click()
    heading(page, "请哪个部门来接访？")
    large_and_whole(page, "department")
    page.get_by_role("button", name="区房产局").click()
    heading(page, "您哪天方便？")
    large_and_whole(page, "days")
    page.locator("a.day.open").first.click()
    heading(page, "您几点方便？")
    large_and_whole(page, "times")
    page.locator("button.time").first.click()
    heading(page, "请核对以下信息")
    large_and_whole(page, "confirm")
    page.screenshot(path=str(SCREENSHOTS / "elder-mode-confirm-portrait.png"), full_page=True)

    page.get_by_role("button", name="从头开始").click()
    heading(page, "您要办理什么？")
    assert "elder" not in (page.locator("html").get_attribute("class") or "")
    expect(page.get_by_role("button", name="大字")).to_have_attribute("aria-pressed", "false")


def test_large_text_in_landscape(kiosk_page, open_slots):
    page = kiosk_page
    page.set_viewport_size({"width": 1920, "height": 1080})
    with page.expect_response(lambda r: r.url.endswith("/kiosk/elder/")):
        page.get_by_role("button", name="大字").click()
    page.reload()
    large_and_whole(page, "start, landscape")
    for choice in ["预约视频接访", "查询进度", "签到"]:
        expect(page.get_by_role("link", name=choice)).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "elder-mode-landscape.png"))
    page.get_by_role("link", name="查询进度").click()
    heading(page, "查询进度")
    large_and_whole(page, "progress lookup, landscape")


def test_large_text_in_english(kiosk_page):
    page = kiosk_page
    with page.expect_response(lambda r: r.url.endswith("/kiosk/elder/")):
        page.get_by_role("button", name="大字").click()
    page.get_by_role("button", name="English").click()
    heading(page, "What would you like to do?")
    large_and_whole(page, "start, English")
    page.get_by_role("link", name="Check in").click()
    heading(page, "Check in")
    large_and_whole(page, "check in, English")
