"""The kiosk speaks, in Debian's Chromium with autoplay allowed as on the kiosks: the button plays a screen to its
end, voice stays on for the next screens, starting over turns it off, and no audio loads before it is asked for."""

import importlib
import json
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from playwright.sync_api import expect

from appointments.kiosk.voice import PAUSE, voice_build
from tests import factories as f
from tests.conftest import CHROMIUM_ARGS

from .conftest import SUMMARY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Records every clip the page plays and plays to its end ('ended'), before any script of the page runs.
LISTEN = """
window.__voice = {played: [], ended: []};
document.addEventListener("play", (e) => window.__voice.played.push(e.target.currentSrc), true);
document.addEventListener("ended", (e) => window.__voice.ended.push(
  {src: e.target.currentSrc, at: e.target.currentTime, duration: e.target.duration}), true);
"""
FIRST_LOAD_BUDGET = 150 * 1024


@pytest.fixture(autouse=True)
def categories(db):
    importlib.import_module("appointments.migrations.0002_seed_categories").seed(apps, None)


@pytest.fixture(scope="module", autouse=True)
def rendered():
    voice_build()


@pytest.fixture(scope="module")
def speaking_browser(browser):
    """Chromium as a kiosk runs it: audio may play without a touch (--autoplay-policy=no-user-gesture-required)."""
    chromium = browser.browser_type.launch(
        executable_path="/usr/bin/chromium", args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"]
    )
    yield chromium
    chromium.close()


@pytest.fixture
def voice_page(speaking_browser, live_server, kiosk_key, suggesting):
    context = speaking_browser.new_context(viewport={"width": 1080, "height": 1920}, locale="zh-CN")
    context.route(
        "**/*",
        lambda route: (
            route.continue_() if urlsplit(route.request.url).hostname in {"localhost", "127.0.0.1"} else route.abort()
        ),
    )
    context.add_init_script(LISTEN)
    context.add_cookies(
        [{"name": settings.KIOSK_KEY_COOKIE, "value": kiosk_key, "url": live_server.url, "httpOnly": True}]
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/kiosk/")
    expect(page.get_by_role("heading", level=1)).to_have_text("您要办理什么？")
    yield page
    context.close()


def playlist(page) -> list[str]:
    """The clips this screen reads, without the pauses, as paths."""
    urls = json.loads(page.get_by_role("button", name="读给我听").get_attribute("data-playlist"))
    return [urlsplit(url).path for url in urls if url != PAUSE]


def played_to_the_end(page, clips: list[str]) -> None:
    page.wait_for_function("n => window.__voice.ended.length >= n", arg=len(clips), timeout=90_000)
    ended = page.evaluate("window.__voice.ended")
    assert [urlsplit(e["src"]).path for e in ended] == clips
    for clip in ended:
        assert clip["duration"] > 0.3 and abs(clip["at"] - clip["duration"]) < 0.05, clip


def test_pressing_read_it_to_me_plays_the_screen_to_its_end(voice_page, live_server):
    page = voice_page
    page.get_by_role("link", name="签到").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("签到")
    page.wait_for_load_state("load")
    loaded = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    assert not [u for u in loaded if u.endswith(".ogg") or "/voice/say/" in u]  # no audio before it is asked for
    sizes = page.evaluate(
        "[...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]"
        ".map(e => e.decodedBodySize)"
    )
    assert sum(sizes) < FIRST_LOAD_BUDGET, sizes
    clips = playlist(page)
    assert len(clips) == 1  # the check-in screen's prompt
    button = page.get_by_role("button", name="读给我听")
    with page.expect_response(lambda r: r.url.endswith("/kiosk/voice/") and r.status == 204):
        button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_text("正在为您朗读，再点一下就停止。")).to_be_visible()
    played_to_the_end(page, clips)
    page.wait_for_function("document.body.dataset.speaking === undefined")


def test_once_voice_is_on_each_next_screen_is_read_until_it_is_turned_off(voice_page, live_server):
    page = voice_page
    with page.expect_response(lambda r: r.url.endswith("/kiosk/voice/")):
        page.get_by_role("button", name="读给我听").click()
    page.wait_for_function("window.__voice.played.length >= 1")  # the start screen begins at once
    page.get_by_role("link", name="查询进度").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("查询进度")
    expect(page.get_by_role("button", name="读给我听")).to_have_attribute("aria-pressed", "true")
    played_to_the_end(page, playlist(page))  # read as it opened, without a touch

    with page.expect_response(lambda r: r.url.endswith("/kiosk/voice/")):
        page.get_by_role("button", name="读给我听").click()
    expect(page.get_by_role("button", name="读给我听")).to_have_attribute("aria-pressed", "false")
    page.get_by_role("link", name="返回").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("您要办理什么？")
    page.wait_for_timeout(1500)
    assert page.evaluate("window.__voice.played") == []


def test_the_idle_reset_reads_its_warning_then_turns_voice_and_large_text_off(voice_page, live_server, settings):
    settings.KIOSK_IDLE_SECONDS = 2
    settings.KIOSK_IDLE_WARNING_SECONDS = 3
    page = voice_page
    page.get_by_role("link", name="签到").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("签到")
    with page.expect_response(lambda r: r.url.endswith("/kiosk/elder/")):
        page.get_by_role("button", name="大字").click()
    with page.expect_response(lambda r: r.url.endswith("/kiosk/voice/")):
        page.get_by_role("button", name="读给我听").click()
    idle = json.loads(page.get_by_role("button", name="读给我听").get_attribute("data-idle-playlist"))
    expect(page.get_by_role("alertdialog")).to_be_visible(timeout=8000)
    page.wait_for_function("src => window.__voice.played.some(p => p.endsWith(src))", arg=idle[0], timeout=5000)
    expect(page.get_by_role("heading", level=1)).to_have_text("您要办理什么？", timeout=10_000)
    assert page.locator("body").get_attribute("data-voice") == "off"
    assert "elder" not in (page.locator("html").get_attribute("class") or "")
    expect(page.get_by_role("button", name="读给我听")).to_have_attribute("aria-pressed", "false")
    expect(page.get_by_role("button", name="大字")).to_have_attribute("aria-pressed", "false")


def test_a_switch_turned_on_at_a_fresh_start_screen_is_still_forgotten_when_nobody_comes_back(
    voice_page, live_server, settings
):
    settings.KIOSK_IDLE_SECONDS = 2
    settings.KIOSK_IDLE_WARNING_SECONDS = 2
    page = voice_page
    page.reload()  # a fresh Start has nothing to forget, so no idle reset runs on it yet
    assert page.locator("body").get_attribute("data-idle-seconds") == "0"
    with page.expect_response(lambda r: r.url.endswith("/kiosk/elder/")):
        page.get_by_role("button", name="大字").click()
    expect(page.get_by_role("alertdialog")).to_be_visible(timeout=8000)
    page.wait_for_url(f"{live_server.url}/kiosk/", wait_until="load")
    expect(page.get_by_role("button", name="大字")).to_have_attribute("aria-pressed", "false", timeout=10_000)
    assert "elder" not in (page.locator("html").get_attribute("class") or "")


def test_a_department_name_is_rendered_on_demand_and_played_in_its_turn(voice_page, live_server, tmp_path, settings):
    settings.KIOSK_VOICE_CACHE = tmp_path  # nothing cached yet: the name is rendered when it is first played
    page = voice_page
    page.get_by_role("link", name="预约视频接访").click()
    page.get_by_label("您的姓名").fill("李淑珍")
    page.get_by_label("手机号码").fill(f.valid_phone())
    page.get_by_label("身份证号码").fill(f.valid_id_number())
    page.get_by_role("button", name="下一步").click()
    page.get_by_role("button", name="住房保障").click()
    page.get_by_label("请简单说说您的事情").fill(SUMMARY)
    page.get_by_role("button", name="下一步").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("请哪个部门来接访？")
    clips = playlist(page)
    assert [c for c in clips if "/voice/say/" in c]  # the department's name
    with page.expect_response(lambda r: r.url.endswith("/kiosk/voice/")):
        page.get_by_role("button", name="读给我听").click()
    played_to_the_end(page, clips)
    assert len(list(tmp_path.glob("zh-hans/*.ogg"))) == len([c for c in clips if "/voice/say/" in c])
