"""Shared by the video and staff tests: Prism mocking Twilio's API, Twilio settings, appointments at set times."""

import datetime as dt
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.utils import timezone
from twilio.http.http_client import TwilioHttpClient

from appointments.booking import appointment_book
from appointments.video.twilio import TwilioVideoBackend
from departments.models import StaffMember
from departments.services import Actor
from scheduler.models import Slot
from tests import factories as f

REPO = Path(__file__).resolve().parents[2]
# Twilio's own OpenAPI files, kept in the repository (tests/twilio-oai/README.md says where they come from).
TWILIO_OAI = REPO / "tests" / "twilio-oai"
TWILIO_VIDEO_SPEC = TWILIO_OAI / "twilio_video_v1.yaml"
TWILIO_API_SPEC = TWILIO_OAI / "twilio_api_v2010.yaml"
PRISM = REPO / "node_modules" / ".bin" / "prism"

TEST_ACCOUNT_SID = "AC" + "1" * 32
TEST_API_KEY_SID = "SK" + "2" * 32
TEST_API_KEY_SECRET = "test-api-key-secret-0123456789abcdef0123456789"
TEST_AUTH_TOKEN = "test-auth-token-0123456789abcdef0123456789abcd"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


_prism: dict = {}


def _prism_start() -> str:
    if not TWILIO_VIDEO_SPEC.is_file():
        pytest.fail(f"Twilio's OpenAPI file is missing: expected {TWILIO_VIDEO_SPEC} (see tests/twilio-oai/README.md).")
    if not PRISM.exists():
        pytest.fail(f"Prism is not installed at {PRISM}: run `make install-test` (npm ci installs prism-cli).")
    if shutil.which("node") is None:
        pytest.fail("Prism needs Node.js, and `node` is not on PATH.")
    port = _free_port()
    log = tempfile.NamedTemporaryFile(prefix="prism-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603 - fixed arguments, our own node_modules
        [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), str(TWILIO_VIDEO_SPEC)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO,
        env={**os.environ, "NO_COLOR": "1"},
    )
    _prism.update(process=process, log=log)
    deadline = time.monotonic() + 90
    while not _port_open(port):
        if process.poll() is not None or time.monotonic() > deadline:
            output = Path(log.name).read_text(errors="replace")[-3000:]
            _prism_stop()
            pytest.fail(f"Prism did not start (exit {process.poll()}):\n{output}")
        time.sleep(0.2)
    _prism["url"] = f"http://127.0.0.1:{port}"
    return _prism["url"]


def _prism_stop() -> None:
    process, log = _prism.pop("process", None), _prism.pop("log", None)
    _prism.pop("url", None)
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    if log is not None:
        log.close()
        os.unlink(log.name)


@pytest.fixture(scope="session")
def prism_url():
    """Prism serving Twilio's own Video OpenAPI file on loopback; every request is validated against it.

    One process for the whole run, even though both tests/video and tests/staff use this fixture.
    """
    yield _prism.get("url") or _prism_start()
    _prism_stop()


class PrismHttpClient(TwilioHttpClient):
    """The real Twilio HTTP client, sending what it would send to video.twilio.com to the mock instead."""

    base_url = ""
    sent: list[tuple[str, str, dict]] = []

    def request(self, method, url, *args, **kwargs):
        url = url.replace("https://video.twilio.com", self.base_url)
        PrismHttpClient.sent.append((method, url, dict(kwargs.get("data") or {})))
        return super().request(method, url, *args, **kwargs)


class PrismTwilioBackend(TwilioVideoBackend):
    def http_client_default(self) -> TwilioHttpClient:
        return PrismHttpClient(timeout=10)


@pytest.fixture
def twilio_credentials(settings):
    settings.TWILIO_ACCOUNT_SID = TEST_ACCOUNT_SID
    settings.TWILIO_API_KEY_SID = TEST_API_KEY_SID
    settings.TWILIO_API_KEY_SECRET = TEST_API_KEY_SECRET
    settings.TWILIO_AUTH_TOKEN = TEST_AUTH_TOKEN
    return settings


@pytest.fixture
def twilio_video(twilio_credentials, prism_url):
    """Video through the Twilio backend, talking to Prism."""
    twilio_credentials.VIDEO_BACKEND = "tests.video.support.PrismTwilioBackend"
    PrismHttpClient.base_url = prism_url
    PrismHttpClient.sent = []
    return PrismHttpClient


@pytest.fixture
def local_video(settings):
    from appointments.video import local

    settings.VIDEO_BACKEND = "appointments.video.local.LocalVideoBackend"
    local.outbox.clear()
    return local.outbox


@pytest.fixture
def worker(community):
    return Actor(staff=f.staff("worker", StaffMember.Role.COMMUNITY_WORKER, community=community))


@pytest.fixture
def other_worker(other_community):
    return Actor(staff=f.staff("other_worker", StaffMember.Role.COMMUNITY_WORKER, community=other_community))


@pytest.fixture
def other_kiosk(other_kiosk_and_key):
    return other_kiosk_and_key[0]


@pytest.fixture
def appointment(kiosk, petition, open_slots):
    """An appointment booked at 蓝山社区's kiosk into the first open time of 区房产局."""
    return appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=open_slots[0].pk).appointment


def slot_move(slot: Slot, *, starts_at: dt.datetime, minutes: int = 30) -> Slot:
    """Put a booked slot at another time (test set-up only: real slots come from published rules)."""
    starts_at = starts_at.replace(microsecond=0)
    Slot.objects.filter(pk=slot.pk).update(starts_at=starts_at, ends_at=starts_at + dt.timedelta(minutes=minutes))
    slot.refresh_from_db()
    return slot


@pytest.fixture
def live_appointment(appointment):
    """The appointment, with its slot moved so that it started five minutes ago."""
    slot_move(appointment.slot, starts_at=timezone.now() - dt.timedelta(minutes=5))
    appointment.refresh_from_db()
    return appointment
