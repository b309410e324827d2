"""The real worker: `manage.py worker` stops cleanly on SIGTERM, and 3 of them, one killed with SIGKILL in the middle
and restarted, send 500 messages through the real twilio client to Prism (Twilio's own API spec) exactly once."""

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from django.db import connection
from django.utils import timezone

from appointments.booking import appointment_book
from appointments.models import Notification, OutboxMessage
from appointments.notify.sms.base import phone_e164
from appointments.notify.tasks import notification_send_task
from tests import factories as f

REPO = Path(__file__).resolve().parents[2]
TWILIO_API_SPEC = REPO / "tests" / "twilio-oai" / "twilio_api_v2010.yaml"
PRISM = REPO / "node_modules" / ".bin" / "prism"
ACCOUNT_SID = "AC" + "1" * 32
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
# Prism writes one line like this for every request it receives.
PRISM_MESSAGE_LINE = re.compile(r"\[HTTP SERVER\] post " + re.escape(MESSAGES_PATH) + r" .*Request received")
State = Notification.State
Kind = Notification.Kind

MESSAGES = 500
WORKERS = 3
KILL_AFTER = 150
STALE_SECONDS = 4


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait(condition, *, timeout: float, what: str, every: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def database_url() -> str:
    """The test database as the worker subprocesses must reach it (committed data: transactional tests only)."""
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        user, host, port = settings["USER"] or "postgres", settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432
        password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
        return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"
    return f"sqlite:///{settings['NAME']}"


def worker_start(log: Path, **env) -> subprocess.Popen:
    """A real `manage.py worker` (db_worker plus the SMS sweep) on the test database."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "scheduler.test_settings",
        "DATABASE_URL": database_url(),
        "SMS_SWEEP_SECONDS": "1",
        "SMS_SENDING_STALE_SECONDS": str(STALE_SECONDS),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", "worker", "--no-startup-delay", "--interval", "0.05", "-v", "0"],
            cwd=REPO,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20) -> int | None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return None
    return process.returncode


class CountingProxy:
    """A tiny HTTP proxy in front of Prism: keeps every request it passes on, and can hold them at a gate."""

    def __init__(self, upstream_port: int):
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.gate = threading.Event()
        self.gate.set()
        self.waiting = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with proxy.lock:
                    proxy.requests.append(
                        {"path": self.path, "form": {k: v[0] for k, v in parse_qs(body.decode()).items()}}
                    )
                    proxy.waiting += 1
                proxy.gate.wait(timeout=30)
                with proxy.lock:
                    proxy.waiting -= 1
                upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                upstream.request("POST", self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                content = answer.read()
                upstream.close()
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", answer.getheader("Content-Type") or "application/json")
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    self.wfile.write(content)
                except OSError:
                    pass  # the worker that asked was killed meanwhile

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def count(self) -> int:
        with self.lock:
            return len(self.requests)

    def close(self) -> None:
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def prism_messages(tmp_path):
    """Prism serving Twilio's 2010 API (Messages) with generated answers (-d: each message gets its own sid)."""
    if not PRISM.exists() or shutil.which("node") is None:
        pytest.fail(f"Prism is not installed at {PRISM}: run `make install-test` (npm ci installs prism-cli).")
    port = _free_port()
    log = tmp_path / "prism.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - fixed arguments, our own node_modules
            [str(PRISM), "mock", "-d", "-h", "127.0.0.1", "-p", str(port), str(TWILIO_API_SPEC)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            env={**os.environ, "NO_COLOR": "1"},
        )
    try:
        yield port, log, process
    finally:
        stop(process, timeout=10)


def prism_message_requests(log: Path) -> int:
    return sum(1 for line in log.read_text(errors="replace").splitlines() if PRISM_MESSAGE_LINE.search(line))


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_what_is_due_and_stops_cleanly_on_sigterm(kiosk, petition, open_slots, tmp_path):
    appointment = appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=open_slots[0].pk)
    log = tmp_path / "worker.log"

    worker = worker_start(log, SMS_BACKEND="appointments.notify.sms.local.LocalSmsBackend")
    try:
        _wait(lambda: OutboxMessage.objects.exists(), timeout=30, what="the confirmation in the outbox")
        time.sleep(0.5)
    finally:
        started = time.monotonic()
        code = stop(worker)
        took = time.monotonic() - started

    assert code == 0, log.read_text(errors="replace")[-3000:]
    assert took < 5
    booked = Notification.objects.get(appointment=appointment.appointment, kind=Kind.BOOKED)
    assert booked.state == State.SENT
    assert OutboxMessage.objects.count() == 1


@pytest.mark.race
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="Several worker processes claiming at once is a PostgreSQL test."
)
@pytest.mark.django_db(transaction=True)
def test_three_workers_one_killed_midway_send_500_messages_each_exactly_once(
    prism_messages, kiosk, published, open_slots, tmp_path
):
    started = time.monotonic()
    prism_port, prism_log, prism = prism_messages
    # The data, while Prism starts: 500 messages due now, each with its own words, to three residents' mobiles.
    petitions = [f.petition(kiosk, published) for _ in range(3)]
    appointment = appointment_book(
        actor=kiosk, petition_reference=petitions[0].reference, slot_id=open_slots[0].pk
    ).appointment
    Notification.objects.all().delete()
    notices = Notification.objects.bulk_create(
        Notification(
            key=f"killtest:{n}",
            kind=Kind.WITHDRAWN,
            petition=petitions[n % 3],
            appointment=appointment,
            detail={"reason": f"第{n}号检修"},
            due_at=timezone.now(),
        )
        for n in range(MESSAGES)
    )
    # Each queued on the task worker, as notification_create does once committed; the sweep races the tasks.
    for notification in notices:
        notification_send_task.enqueue(notification.pk)
    _wait(lambda: _port_open(prism_port) or prism.poll() is not None, timeout=60, what="Prism")
    assert prism.poll() is None, prism_log.read_text(errors="replace")[-3000:]
    proxy = CountingProxy(prism_port)
    logs = [tmp_path / f"worker-{n}.log" for n in range(WORKERS)]
    twilio = {
        "SMS_BACKEND": "appointments.notify.sms.twilio.TwilioSmsBackend",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": "test-auth-token-0123456789abcdef0123456789abcd",
        "TWILIO_SMS_FROM": "+15005550006",
        "TWILIO_MESSAGING_SERVICE_SID": "",
        "TWILIO_API_KEY_SID": "",
        "TWILIO_API_KEY_SECRET": "",
        "TWILIO_API_BASE_URL": proxy.url,
        "PUBLIC_BASE_URL": "https://petition.example.gov.cn",
    }
    workers = [worker_start(logs[n], **twilio) for n in range(WORKERS)]
    killed_while_holding = 0
    try:
        _wait(lambda: proxy.count() >= KILL_AFTER, timeout=60, what=f"{KILL_AFTER} messages at Prism")
        # Hold the requests in flight, so that the worker killed certainly dies inside a call to Twilio.
        proxy.gate.clear()
        # Each worker sends from two threads (its task loop and its sweep): wait until most are inside a call.
        deadline = time.monotonic() + 3
        while proxy.waiting < 2 * WORKERS and time.monotonic() < deadline:
            time.sleep(0.01)
        killed_while_holding = proxy.waiting
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(timeout=10)
        proxy.gate.set()
        workers[0] = worker_start(logs[0], **twilio)

        def settled() -> bool:
            return not Notification.objects.filter(state__in=(State.PENDING, State.SENDING)).exists()

        _wait(settled, timeout=90, what="no message pending or sending", every=0.25)
        codes = [stop(worker) for worker in workers]
    finally:
        for worker in workers:
            stop(worker, signal.SIGKILL, timeout=5)
        proxy.close()
    took = time.monotonic() - started

    rows = {n.pk: n for n in Notification.objects.filter(pk__in=[n.pk for n in notices])}
    states = Counter(n.state for n in rows.values())
    requests = [r for r in proxy.requests if r["path"] == MESSAGES_PATH]
    bodies = Counter(r["form"]["Body"] for r in requests)
    sent = [n for n in rows.values() if n.state == State.SENT]
    unknown = [n for n in rows.values() if n.state == State.UNKNOWN]
    report = (
        f"{MESSAGES} messages, {WORKERS} workers: {dict(states)}; requests at the proxy {len(requests)}, "
        f"in Prism's log {prism_message_requests(prism_log)}; in flight when killed {killed_while_holding}; "
        f"{took:.1f} s"
    )
    print(report)

    assert set(states) <= {State.SENT, State.UNKNOWN}, report
    assert codes == [0] * WORKERS, report  # the survivors and the restarted worker stop cleanly on SIGTERM
    # No message twice, and no request that is not one of the messages.
    assert max(bodies.values()) == 1, report
    assert set(bodies) <= {n.body for n in rows.values()}, report
    # Every SENT row reached Twilio exactly once, from our number to the right mobile; an UNKNOWN one at most once.
    by_body = {r["form"]["Body"]: r["form"] for r in requests}
    for notification in sent:
        form = by_body[notification.body]
        assert form["To"] == phone_e164(notification.petition.contact_phone)
        assert form["From"] == "+15005550006"
        assert form["StatusCallback"] == "https://petition.example.gov.cn/webhooks/twilio/sms"
        assert notification.provider == "twilio" and notification.provider_sid
    assert len({n.provider_sid for n in sent}) == len(sent)
    assert len(requests) == len(sent) + sum(1 for n in unknown if n.body in bodies), report
    # Prism agrees with the proxy: it received exactly these requests.
    assert prism_message_requests(prism_log) == len(requests), report
    # The worker killed inside a call left its row unknown (it reached Prism, so it may have been sent).
    assert unknown and all(n.error_code == "worker_lost" for n in unknown), report
    assert took < 90, report
