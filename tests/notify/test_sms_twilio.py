"""The SMS backends: the real twilio client against Prism serving Twilio's own Messaging API, and the local outbox.

Prism checks every request against Twilio's schema and logs what it received; the errors Prism cannot produce
(Twilio's own refusals, a connection dropped mid-answer) come from a small HTTP server on loopback, so the real
client still parses real responses.
"""

import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from appointments.models import OutboxMessage
from appointments.notify.delivery import sms_status_callback_url
from appointments.notify.sms.base import SmsProviderError, phone_e164, sms_provider
from appointments.notify.sms.local import LocalSmsBackend
from appointments.notify.sms.twilio import TwilioApiHttpClient, TwilioSmsBackend
from tests.video.support import TEST_ACCOUNT_SID, TEST_API_KEY_SECRET, TEST_API_KEY_SID, TEST_AUTH_TOKEN

SENDER = "+15005550006"
SERVICE = "MG" + "3c" * 16
BODY = "【区信访局】您的视频问诊已预约：12月3日 上午9:30，区房产局，蓝山社区。查询码 K7M2Q9。"
MESSAGES_PATH = f"/2010-04-01/Accounts/{TEST_ACCOUNT_SID}/Messages.json"


@pytest.fixture
def twilio_sms(settings, prism_api):
    """SMS through the Twilio backend, its REST calls sent to Prism by TWILIO_API_BASE_URL (as in production)."""
    settings.SMS_BACKEND = "appointments.notify.sms.twilio.TwilioSmsBackend"
    settings.TWILIO_ACCOUNT_SID = TEST_ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = TEST_AUTH_TOKEN
    settings.TWILIO_API_KEY_SID = TEST_API_KEY_SID
    settings.TWILIO_API_KEY_SECRET = TEST_API_KEY_SECRET
    settings.TWILIO_SMS_FROM = SENDER
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_API_BASE_URL = prism_api.url
    settings.PUBLIC_BASE_URL = "https://petition.example.gov.cn"
    return settings


def send_and_receive(prism_api, **kwargs):
    """Send one SMS with the configured backend; return its result and the request Prism logged for it."""
    before = len(prism_api.received())
    sent = sms_provider().send(**{"to": "+8613812345678", "body": BODY, "status_callback": None, **kwargs})
    received = prism_api.received_after(before)
    assert len(received) == 1
    return sent, received[0]


# Through Prism --------------------------------------------------------------------------------------------------


def test_the_setting_chooses_the_twilio_backend(twilio_sms):
    provider = sms_provider()

    assert isinstance(provider, TwilioSmsBackend)
    assert provider.name == "twilio"


def test_it_sends_from_the_number_with_the_status_callback_and_twilio_accepts_the_request(twilio_sms, prism_api):
    sent, received = send_and_receive(prism_api, status_callback=sms_status_callback_url())

    assert re.fullmatch(r"SM[0-9a-f]{32}", sent.sid) and sent.status == "queued"
    assert (received.method, received.path) == ("POST", MESSAGES_PATH)
    assert received.valid is True
    assert received.form == {
        "To": "+8613812345678",
        "From": SENDER,
        "Body": BODY,
        "StatusCallback": "https://petition.example.gov.cn/webhooks/twilio/sms",
    }


def test_a_messaging_service_sends_instead_of_one_number_when_configured(twilio_sms, prism_api):
    twilio_sms.TWILIO_MESSAGING_SERVICE_SID = SERVICE

    _sent, received = send_and_receive(prism_api, to="+8613998765432", status_callback=sms_status_callback_url())

    assert received.valid is True
    assert received.form is not None
    assert received.form["MessagingServiceSid"] == SERVICE
    assert "From" not in received.form
    assert received.form["To"] == "+8613998765432"
    assert received.form["StatusCallback"] == sms_status_callback_url()


def test_a_message_without_a_callback_sends_none(twilio_sms, prism_api):
    _sent, received = send_and_receive(prism_api, status_callback=None)

    assert received.form is not None and "StatusCallback" not in received.form


def test_it_signs_in_with_the_api_key_when_there_is_one(twilio_sms, prism_api):
    _sent, received = send_and_receive(prism_api)

    assert received.basic_user == TEST_API_KEY_SID


def test_without_an_api_key_it_signs_in_with_the_account_and_its_auth_token(twilio_sms, prism_api):
    twilio_sms.TWILIO_API_KEY_SID = ""
    twilio_sms.TWILIO_API_KEY_SECRET = ""

    _sent, received = send_and_receive(prism_api)

    assert received.basic_user == TEST_ACCOUNT_SID
    assert received.valid is True


def test_a_request_twilios_schema_refuses_is_a_permanent_failure(twilio_sms, prism_api):
    twilio_sms.TWILIO_MESSAGING_SERVICE_SID = "MG-not-a-service"

    before = len(prism_api.received())
    with pytest.raises(SmsProviderError) as caught:
        sms_provider().send(to="+8613812345678", body=BODY, status_callback=None)

    assert caught.value.permanent and not caught.value.maybe_sent
    assert caught.value.code == "422"
    assert [r.valid for r in prism_api.received_after(before)] == [False]


def test_a_site_without_a_sender_cannot_use_twilio(twilio_sms):
    twilio_sms.TWILIO_SMS_FROM = ""

    with pytest.raises(SmsProviderError) as caught:
        sms_provider()
    assert caught.value.permanent and caught.value.code == "not_configured"


# Twilio's refusals and a network that fails ----------------------------------------------------------------------


class TwilioLike(BaseHTTPRequestHandler):
    """Answers what the test asks for: a Twilio error, silence, or a connection closed before any answer."""

    behaviour: dict = {}
    requests: list[dict[str, str]] = []

    def do_POST(self):  # noqa: N802 - the name http.server calls
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        TwilioLike.requests.append({"path": self.path})
        what = TwilioLike.behaviour
        if what.get("hang"):
            what["release"].wait(10)
            return
        if what.get("drop"):
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        body = what["body"].encode() if isinstance(what["body"], str) else json.dumps(what["body"]).encode()
        self.send_response(what["status"])
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 - the signature http.server calls
        pass


@pytest.fixture
def twilio_like(twilio_sms):
    """A loopback server in place of api.twilio.com; returns a function that sets its next answer."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), TwilioLike)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    TwilioLike.requests = []
    release = threading.Event()
    twilio_sms.TWILIO_API_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}"

    def answer(**behaviour):
        TwilioLike.behaviour = {"release": release, **behaviour}

    yield answer
    release.set()
    server.shutdown()
    server.server_close()


def twilio_error(code: int, status: int, message: str) -> dict:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (400, 21211, "The 'To' number +8613812345678 is not a valid phone number."),
        (400, 21610, "Attempt to send to unsubscribed recipient"),
        (400, 21614, "'To' number +86 138 1234 5678 is not a valid mobile number"),
    ],
)
def test_twilios_refusal_of_a_number_is_permanent_and_keeps_its_code_but_not_the_number(
    twilio_like, status, code, message
):
    twilio_like(status=status, body=twilio_error(code, status, message))

    with pytest.raises(SmsProviderError) as caught:
        sms_provider().send(to="+8613812345678", body=BODY, status_callback=None)

    assert caught.value.permanent and not caught.value.maybe_sent
    assert caught.value.code == str(code)
    assert "13812345678" not in str(caught.value) and "1234 5678" not in str(caught.value)
    assert TwilioLike.requests == [{"path": MESSAGES_PATH}]


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (500, 20500), (503, 20503)])
def test_too_many_requests_or_twilios_own_trouble_may_be_tried_again(twilio_like, status, code):
    twilio_like(status=status, body=twilio_error(code, status, "Service unavailable"))

    with pytest.raises(SmsProviderError) as caught:
        sms_provider().send(to="+8613812345678", body=BODY, status_callback=None)

    assert not caught.value.permanent and not caught.value.maybe_sent
    assert caught.value.code == str(code)


def test_when_nothing_answers_the_message_never_left_and_may_be_sent_again(twilio_sms):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    twilio_sms.TWILIO_API_BASE_URL = f"http://127.0.0.1:{closed_port}"

    with pytest.raises(SmsProviderError) as caught:
        sms_provider().send(to="+8613812345678", body=BODY, status_callback=None)

    assert not caught.value.permanent and not caught.value.maybe_sent


def test_a_timeout_after_the_request_went_out_may_have_sent_it(twilio_like, settings):
    twilio_like(hang=True)
    backend = TwilioSmsBackend(http_client=TwilioApiHttpClient(base_url=settings.TWILIO_API_BASE_URL, timeout=0.5))

    with pytest.raises(SmsProviderError) as caught:
        backend.send(to="+8613812345678", body=BODY, status_callback=None)

    assert caught.value.maybe_sent and not caught.value.permanent
    assert TwilioLike.requests == [{"path": MESSAGES_PATH}]


def test_a_connection_dropped_before_the_answer_may_have_sent_it(twilio_like):
    twilio_like(drop=True)

    with pytest.raises(SmsProviderError) as caught:
        sms_provider().send(to="+8613812345678", body=BODY, status_callback=None)

    assert caught.value.maybe_sent and not caught.value.permanent


@pytest.mark.parametrize("answer", ["<html>gateway</html>", {"unexpected": True}, ["not", "a", "message"]])
def test_an_answer_that_is_not_twilios_may_have_sent_it(twilio_like, answer):
    twilio_like(status=201, body=answer)

    with pytest.raises(SmsProviderError) as caught:
        sms_provider().send(to="+8613812345678", body=BODY, status_callback=None)

    assert caught.value.maybe_sent


# Numbers and the local outbox -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "e164"),
    [
        ("13812345678", "+8613812345678"),
        ("+8615904011234", "+8615904011234"),
        ("199 2400 5678", "+8619924005678"),
        ("+86 177-0000-1234", "+8617700001234"),
    ],
)
def test_a_mainland_mobile_is_written_as_e164(given, e164):
    assert phone_e164(given) == e164


@pytest.mark.parametrize("given", ["", "12345", "not a number", "1381234567"])
def test_what_is_not_a_mobile_number_is_refused_for_good(given):
    with pytest.raises(SmsProviderError) as caught:
        phone_e164(given)
    assert caught.value.permanent and caught.value.code == "invalid_number"


@pytest.mark.django_db
def test_the_local_backend_keeps_each_message_in_the_outbox_under_its_own_sid(settings):
    settings.SMS_BACKEND = "appointments.notify.sms.local.LocalSmsBackend"
    provider = sms_provider()

    first = provider.send(to="+8613812345678", body=BODY, status_callback=sms_status_callback_url())
    second = provider.send(to="+8613998765432", body="第二条", status_callback=None)

    assert isinstance(provider, LocalSmsBackend) and provider.name == "local"
    assert re.fullmatch(r"SMlocal[0-9a-f]{26}", first.sid) and first.status == "sent"
    assert first.sid != second.sid
    kept = OutboxMessage.objects.get(sid=first.sid)
    assert (kept.to, kept.body, kept.status_callback) == ("+8613812345678", BODY, sms_status_callback_url())
    assert OutboxMessage.objects.get(sid=second.sid).status_callback == ""
