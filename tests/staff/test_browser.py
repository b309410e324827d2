"""The staff pages in Debian's Chromium: the join page's controls with Twilio stubbed, and accessibility."""

import datetime as dt
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from appointments.booking import appointment_book
from tests import factories as f
from tests.video.support import REPO, slot_move

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = REPO / "test-artifacts" / "staff"
PASSWORD = "pw-for-tests-123"

# Stands in for twilio-video.js: the vendored library keeps a Twilio.Video that is already there.
TWILIO_STUB = """
(() => {
  class Emitter {
    constructor() { this.handlers = {}; }
    on(name, fn) { (this.handlers[name] = this.handlers[name] || []).push(fn); return this; }
    emit(name, ...args) { (this.handlers[name] || []).forEach((fn) => fn(...args)); }
  }
  const track = (kind) => ({
    kind, sid: "MT" + kind, isEnabled: true, stopped: false,
    enable() { this.isEnabled = true; }, disable() { this.isEnabled = false; }, stop() { this.stopped = true; },
    attach() { const el = document.createElement(kind); el.className = "fake-" + kind; return el; },
    detach() { return Array.from(document.querySelectorAll(".fake-" + kind)); },
  });
  const publications = (t) => new Map([[t.sid, { track: t }]]);
  window.__calls = [];
  window.Twilio = { Video: {
    connect(token, options) {
      window.__calls.push({ token, options });
      const audio = track("audio"), video = track("video");
      const room = new Emitter();
      room.name = options.name;
      room.localParticipant = {
        identity: "me", tracks: new Map([...publications(audio), ...publications(video)]),
        audioTracks: publications(audio), videoTracks: publications(video),
      };
      room.participants = new Map();
      room.disconnect = () => room.emit("disconnected", room);
      Object.assign(window, { __room: room, __audio: audio, __video: video });
      return Promise.resolve(room);
    },
  } };
  window.__remoteJoins = (identity) => {
    const p = new Emitter();
    Object.assign(p, { sid: "PA" + identity.length, identity, tracks: new Map() });
    window.__room.participants.set(p.sid, p);
    window.__room.emit("participantConnected", p);
  };
})();
"""


@pytest.fixture
def people(department, community):
    from departments.models import StaffMember

    return {
        "staff": f.staff("dept_staff", StaffMember.Role.DEPARTMENT_STAFF, department=department),
        "admin": f.staff("dept_admin", StaffMember.Role.DEPARTMENT_ADMIN, department=department),
        "officer": f.staff("officer", StaffMember.Role.PETITION_OFFICER),
        "worker": f.staff("worker", StaffMember.Role.COMMUNITY_WORKER, community=community),
    }


@pytest.fixture
def sessions(kiosk, published, open_slots):
    """One session that started five minutes ago and one later on."""
    first = f.petition(kiosk, published)
    live = appointment_book(actor=kiosk, petition_reference=first.reference, slot_id=open_slots[0].pk).appointment
    slot_move(live.slot, starts_at=timezone.now() - dt.timedelta(minutes=5))
    second = f.petition(kiosk, published, name="李建国", summary="小区保洁公司拖欠我两个月工资，多次找公司没有结果。")
    later = appointment_book(actor=kiosk, petition_reference=second.reference, slot_id=open_slots[-1].pk).appointment
    live.refresh_from_db()
    return live, later


def sign_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next=/staff/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/\w+/"))


def serious_violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_join_page_connects_and_its_controls_work(live_server, page, twilio_video, people, sessions):
    live, _later = sessions
    page.add_init_script(TWILIO_STUB)
    sign_in(page, live_server, "dept_staff")
    page.goto(f"{live_server.url}/staff/sessions/{live.pk}/join/")

    expect(page.locator("#join")).to_be_enabled()
    for control in ("#mute", "#camera", "#leave"):
        expect(page.locator(control)).to_be_disabled()
    expect(page.locator("#reconnecting")).to_be_hidden()

    page.click("#join")
    expect(page.locator("#leave")).to_be_enabled()
    call = page.evaluate("window.__calls[0]")
    assert call["options"]["name"] == f"petition-appointment-{live.pk}"
    assert call["token"].count(".") == 2  # a JWT minted by the server
    expect(page.locator("#local-media video.fake-video")).to_have_count(1)

    page.evaluate(f"window.__remoteJoins('community:staff:{people['worker'].pk}')")
    expect(page.locator("#participants")).to_contain_text("worker · 蓝山社区")
    expect(page.locator("#nobody")).to_be_hidden()

    page.click("#mute")
    expect(page.locator("#mute")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("window.__audio.isEnabled") is False
    page.click("#mute")
    assert page.evaluate("window.__audio.isEnabled") is True

    page.click("#camera")
    expect(page.locator("#camera")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("window.__video.isEnabled") is False

    page.evaluate("window.__room.emit('reconnecting')")
    expect(page.locator("#reconnecting")).to_be_visible()
    page.set_viewport_size({"width": 1366, "height": 900})
    shoot(page, "join-reconnecting")
    page.evaluate("window.__room.emit('reconnected')")
    expect(page.locator("#reconnecting")).to_be_hidden()

    expect(page.locator("#elapsed")).not_to_have_text("00:00", timeout=3000)
    expect(page.locator("#remaining")).to_have_text(re.compile(r"^\d{2}:\d{2}$"))

    page.click("#leave")
    expect(page.locator("#join")).to_be_enabled()
    expect(page.locator("#leave")).to_be_disabled()
    assert page.evaluate("window.__video.stopped") is True


def test_the_join_page_without_a_provider_shows_the_camera_preview(live_server, page, local_video, people, sessions):
    live, _later = sessions
    sign_in(page, live_server, "worker")
    page.goto(f"{live_server.url}/staff/sessions/{live.pk}/join/")

    expect(page.locator("#local-notice")).to_be_visible()
    expect(page.locator("#expected")).to_contain_text("dept_staff · 区房产局")
    page.click("#join")
    expect(page.locator("#local-media video")).to_have_count(1)
    expect(page.locator("#leave")).to_be_enabled()


def test_a_join_of_another_departments_session_is_told_it_does_not_exist(
    live_server, page, local_video, people, sessions, other_department
):
    from departments.models import StaffMember

    _live, later = sessions
    f.staff("outsider", StaffMember.Role.DEPARTMENT_STAFF, department=other_department)
    sign_in(page, live_server, "outsider")

    response = page.goto(f"{live_server.url}/staff/sessions/{later.pk}/join/")

    assert response.status == 404
    expect(page.locator("[role=alert]")).to_be_visible()


@pytest.mark.parametrize(
    ("username", "path", "shot"),
    [
        ("dept_staff", "/staff/sessions/", "sessions"),
        ("worker", "/staff/community/", "community"),
        ("officer", "/staff/office/", "office"),
        ("dept_admin", "/staff/hours/fangchan/", "hours"),
        ("dept_staff", "/staff/sessions/{live}/join/", "join"),
    ],
)
def test_staff_pages_have_no_serious_accessibility_problems(
    live_server, page, local_video, people, sessions, username, path, shot
):
    from scheduler.models import HolidayOverride

    live, _later = sessions
    # A holiday and a make-up working day in the coming weeks, so that the hours page marks both.
    monday = timezone.localdate() + dt.timedelta(days=7 - timezone.localdate().weekday())
    HolidayOverride.objects.create(date=monday + dt.timedelta(days=2), kind="holiday", name="示例假日")
    HolidayOverride.objects.create(date=monday + dt.timedelta(days=5), kind="working_day", name="调休上班")
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, live_server, username)
    page.goto(live_server.url + path.format(live=live.pk))

    shoot(page, shot)
    assert serious_violations(page) == []


def test_the_sign_in_page_has_no_serious_accessibility_problems(live_server, page):
    page.goto(f"{live_server.url}/accounts/login/")

    assert serious_violations(page) == []
    shoot(page, "login")


def test_no_page_asks_for_anything_off_this_machine(live_server, page, local_video, people, sessions):
    live, _later = sessions
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    sign_in(page, live_server, "dept_staff")
    page.goto(f"{live_server.url}/staff/sessions/{live.pk}/join/")
    page.wait_for_load_state("networkidle")

    assert requested and all(url.startswith(live_server.url) for url in requested)
    assert any(url.endswith("/static/vendor/twilio-video.min.js") for url in requested)
