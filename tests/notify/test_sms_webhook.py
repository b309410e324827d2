"""Twilio's SMS status callbacks: signed ones stored once, in order whatever order they come in; a message that
failed for good is shown to the community worker and never sent again; forged or junk callbacks change nothing."""

import datetime as dt
import itertools
import threading
from collections import Counter
from urllib.parse import urlencode, urlsplit

import pytest
from django.db import connection, connections
from django.utils import timezone
from twilio.request_validator import RequestValidator

from appointments.models import Notification, NotificationStatus, OutboxMessage
from appointments.notify.delivery import sms_local_status_record, sms_status_callback_url, sms_status_record
from appointments.notify.services import notification_create
from appointments.notify.sms.base import phone_e164, sms_provider
from departments.audit import AuditEvent
from tests import factories as f
from tests.video.support import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN

pytestmark = pytest.mark.django_db

PUBLIC = "https://petition.example.gov.cn"
URL = "/webhooks/twilio/sms"
_sids = itertools.count(0xA11CE)


def new_sid() -> str:
    return f"SM{next(_sids):032x}"


@pytest.fixture(autouse=True)
def signing(settings):
    settings.TWILIO_ACCOUNT_SID = TEST_ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = TEST_AUTH_TOKEN
    settings.PUBLIC_BASE_URL = PUBLIC
    settings.SMS_BACKEND = "appointments.notify.sms.local.LocalSmsBackend"
    return settings


def sign(params: dict[str, str], *, url: str = PUBLIC + URL) -> str:
    return RequestValidator(TEST_AUTH_TOKEN).compute_signature(url, params)


def callback(client, params: dict[str, str], *, signature: str | None = None, path: str = URL):
    """POST a status callback as Twilio does: a form, signed with the auth token over the public address."""
    headers = {} if signature == "" else {"HTTP_X_TWILIO_SIGNATURE": signature or sign(params, url=PUBLIC + path)}
    return client.post(path, urlencode(params), content_type="application/x-www-form-urlencoded", **headers)


def status(sid: str, value: str, **extra: str) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": TEST_ACCOUNT_SID,
        "MessageStatus": value,
        "SmsStatus": value,
        "To": "+8613812345678",
        "From": "+15005550006",
        "ApiVersion": "2010-04-01",
        **extra,
    }


@pytest.fixture
def sent(kiosk, published):
    """A booking confirmation Twilio took (state sent, status queued), for a petition filed at 蓝山社区."""
    petition = f.petition(kiosk, published, name="刘桂芝")
    return sent_by_twilio(petition, kind="booked")


def sent_by_twilio(petition, *, kind: str, state: str = "sent") -> Notification:
    now = timezone.now()
    notification = notification_create(key=f"test:{new_sid()}", kind=kind, petition=petition, due_at=now)
    Notification.objects.filter(pk=notification.pk).update(
        state=state,
        provider="twilio",
        provider_sid=new_sid(),
        provider_status="queued",
        claimed_at=now - dt.timedelta(seconds=5),
        sent_at=now if state == "sent" else None,
        body="【区信访局】您的视频问诊已预约。",
    )
    notification.refresh_from_db()
    return notification


def statuses(notification: Notification) -> list[str]:
    return list(notification.statuses.order_by("pk").values_list("status", flat=True))


# Stored once, never backwards ----------------------------------------------------------------------------------


def test_a_signed_delivery_report_is_stored_and_the_message_counts_as_delivered(client, sent):
    response = callback(client, status(sent.provider_sid, "delivered"))

    assert response.status_code == 200 and response.content == b"recorded"
    sent.refresh_from_db()
    assert (sent.state, sent.provider_status) == ("delivered", "delivered")
    assert statuses(sent) == ["delivered"]


def test_the_same_status_sent_again_is_stored_once(client, sent):
    answers = [callback(client, status(sent.provider_sid, "sent")).content for _ in range(3)]

    assert answers == [b"recorded", b"repeated", b"repeated"]
    assert NotificationStatus.objects.filter(notification=sent).count() == 1


def test_statuses_arriving_out_of_order_never_move_a_message_back(client, sent):
    for value in ("delivered", "sent", "sending", "queued"):
        assert callback(client, status(sent.provider_sid, value)).status_code == 200

    sent.refresh_from_db()
    assert (sent.state, sent.provider_status) == ("delivered", "delivered")
    assert statuses(sent) == ["delivered", "sent", "sending", "queued"]


def test_each_step_twilio_reports_moves_the_message_on_in_order(client, sent):
    seen = []
    for value in ("queued", "sending", "sent", "delivered", "read"):
        callback(client, status(sent.provider_sid, value))
        sent.refresh_from_db()
        seen.append((sent.state, sent.provider_status))

    assert seen == [
        ("sent", "queued"),
        ("sent", "sending"),
        ("sent", "sent"),
        ("delivered", "delivered"),
        ("delivered", "read"),
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="many connections at once: PostgreSQL only")
def test_callbacks_arriving_together_store_each_status_once_and_end_at_the_furthest(kiosk, published):
    notification = sent_by_twilio(f.petition(kiosk, published), kind="booked")
    values = ["sent", "delivered", "read", "sending"] * 4
    barrier = threading.Barrier(len(values))
    answers: list[str] = []

    def report(value: str) -> None:
        try:
            barrier.wait()
            answers.append(sms_status_record(params=status(notification.provider_sid, value)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=report, args=(value,)) for value in values]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert Counter(answers) == {"recorded": 4, "repeated": 12}
    assert sorted(statuses(notification)) == ["delivered", "read", "sending", "sent"]
    notification.refresh_from_db()
    assert (notification.state, notification.provider_status) == ("delivered", "read")


def test_a_message_of_unknown_fate_is_settled_by_twilios_report(client, kiosk, published):
    unknown = sent_by_twilio(f.petition(kiosk, published), kind="reminder_24h", state="unknown")

    callback(client, status(unknown.provider_sid, "delivered"))

    unknown.refresh_from_db()
    assert unknown.state == "delivered"


def test_a_report_for_a_message_we_did_not_send_is_ignored_harmlessly(client, sent):
    response = callback(client, status(new_sid(), "delivered"))

    assert response.status_code == 200 and response.content == b"ignored"
    assert not NotificationStatus.objects.exists()


# Permanent failures -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "code"), [("undelivered", "30005"), ("failed", "21610"), ("failed", "30003")])
def test_a_message_that_failed_is_marked_failed_with_twilios_code(client, sent, value, code):
    callback(client, status(sent.provider_sid, "sent"))
    callback(client, status(sent.provider_sid, value, ErrorCode=code))

    sent.refresh_from_db()
    assert (sent.state, sent.provider_status, sent.error_code) == ("failed", value, code)
    assert sent.error_message and "13812345678" not in sent.error_message
    assert list(sent.statuses.values_list("status", "error_code")) == [("sent", ""), (value, code)]


def test_a_failure_is_final_even_when_an_earlier_status_arrives_after_it(client, sent):
    callback(client, status(sent.provider_sid, "undelivered", ErrorCode="30005"))
    callback(client, status(sent.provider_sid, "sent"))
    callback(client, status(sent.provider_sid, "queued"))

    sent.refresh_from_db()
    assert (sent.state, sent.provider_status, sent.error_code) == ("failed", "undelivered", "30005")


def test_a_failure_is_recorded_in_the_audit_trail_without_personal_data(client, sent):
    callback(client, status(sent.provider_sid, "failed", ErrorCode="21211"))

    event = AuditEvent.objects.get(action="sms.failed")
    assert (event.target_type, event.target_id, event.actor) == ("appointments.notification", str(sent.pk), "system")
    assert event.detail == {"kind": "booked", "status": "failed", "error_code": "21211"}
    assert "138" not in str(event.detail) and "刘桂芝" not in str(event.detail)


def test_a_failed_message_is_shown_to_the_community_worker_and_never_sent_again(client, sent, worker):
    from appointments.notify.sending import notification_send, notifications_send_due

    callback(client, status(sent.provider_sid, "undelivered", ErrorCode="30005"))

    client.force_login(worker.staff.user)
    page = client.get("/staff/sms/problems/").content.decode()
    assert sent.petition.reference in page
    assert "该号码不存在或已停用" in page
    # Neither the task for this message nor the sweep sends it again.
    before = OutboxMessage.objects.count()
    assert notification_send(sent.pk) == "failed"
    notifications_send_due(now=timezone.now() + dt.timedelta(days=3))
    assert OutboxMessage.objects.count() == before
    sent.refresh_from_db()
    assert sent.state == "failed" and sent.provider_sid.startswith("SM") and not sent.provider_sid.startswith("SMlocal")


# Sending and callbacks agree on the address -------------------------------------------------------------------


def test_the_address_sent_with_each_message_is_the_one_whose_signature_is_checked(client, kiosk, published):
    petition = f.petition(kiosk, published)
    notification = sent_by_twilio(petition, kind="answered")
    # What the sender hands the provider, kept by the local outbox exactly as Twilio would keep it.
    kept = sms_provider().send(
        to=phone_e164(petition.contact_phone), body="测试", status_callback=sms_status_callback_url()
    )
    address = OutboxMessage.objects.get(sid=kept.sid).status_callback
    assert address == PUBLIC + URL
    params = status(notification.provider_sid, "delivered")

    response = callback(client, params, signature=sign(params, url=address), path=urlsplit(address).path)

    assert response.status_code == 200 and response.content == b"recorded"


def test_a_callback_address_with_a_query_is_checked_with_its_query(client, sent):
    params = status(sent.provider_sid, "delivered")

    assert callback(client, params, path=URL + "?attempt=2").status_code == 200
    wrong = sign(params, url=PUBLIC + URL)
    assert callback(client, params, signature=wrong, path=URL + "?attempt=2").status_code == 403


# Forged, missing and junk -------------------------------------------------------------------------------------


def test_a_forged_signature_is_refused_and_changes_nothing(client, sent):
    params = status(sent.provider_sid, "delivered")

    response = callback(client, params, signature=sign({**params, "MessageStatus": "sent"}))

    assert response.status_code == 403
    sent.refresh_from_db()
    assert sent.state == "sent" and not sent.statuses.exists()


def test_a_callback_without_a_signature_is_refused(client, sent):
    assert callback(client, status(sent.provider_sid, "delivered"), signature="").status_code == 403
    assert not NotificationStatus.objects.exists()


def test_a_signature_over_another_address_is_refused(client, sent):
    params = status(sent.provider_sid, "delivered")

    for address in (
        "http://testserver" + URL,
        PUBLIC + "/webhooks/twilio/video",
        "http://petition.example.gov.cn" + URL,
    ):
        assert callback(client, params, signature=sign(params, url=address)).status_code == 403


def test_a_signature_with_another_auth_token_is_refused(client, sent):
    params = status(sent.provider_sid, "failed", ErrorCode="21610")
    forged = RequestValidator("another-auth-token-0123456789abcdef0123").compute_signature(PUBLIC + URL, params)

    assert callback(client, params, signature=forged).status_code == 403


def test_without_an_auth_token_every_callback_is_refused(client, sent, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    params = status(sent.provider_sid, "delivered")

    assert (
        callback(client, params, signature=RequestValidator("").compute_signature(PUBLIC + URL, params)).status_code
        == 403
    )


def test_a_get_is_not_allowed(client):
    assert client.get(URL).status_code == 405


@pytest.mark.parametrize(
    "junk",
    [
        {},
        {"MessageSid": "", "MessageStatus": "delivered"},
        {"MessageSid": "SM\x00" + "0" * 31, "MessageStatus": "delivered"},
        {"MessageSid": "x" * 5000, "MessageStatus": "delivered"},
        {"MessageSid": "'; DROP TABLE appointments_notification; --", "MessageStatus": "failed"},
        {"MessageSid": "SM" + "0" * 32, "MessageStatus": "délivré\u202e"},
        {"MessageSid": "SM" + "0" * 32, "MessageStatus": "x" * 300, "ErrorCode": "\x00" * 50},
        {"SmsSid": "SMlocal" + "0" * 26, "SmsStatus": "delivered"},
    ],
)
def test_signed_junk_is_answered_without_an_error(client, sent, junk):
    response = callback(client, junk)

    assert response.status_code == 200 and response.content == b"ignored"
    sent.refresh_from_db()
    assert sent.state == "sent" and not sent.statuses.exists()


def test_junk_error_codes_and_odd_extras_of_a_real_message_are_left_out(client, sent):
    params = status(
        sent.provider_sid, "failed", ErrorCode="21211\x00; rm -rf", RawDlrDoneDate="2612031010", Extra="\ufffd"
    )

    assert callback(client, params).status_code == 200
    sent.refresh_from_db()
    assert (sent.state, sent.error_code) == ("failed", "")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"MessageSid": "SM00", "MessageStatus": "delivered"}', "application/json"),
        (b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb', "multipart/form-data; boundary=x"),
        (b"\xff\xfe\x00MessageSid=%ff%fe", "application/x-www-form-urlencoded"),
        (b"MessageSid=" + b"A" * 20000, "application/x-www-form-urlencoded"),
    ],
)
def test_unsigned_junk_is_refused_without_an_error(client, body, content_type):
    response = client.post(URL, body, content_type=content_type, HTTP_X_TWILIO_SIGNATURE="bm90LWEtc2lnbmF0dXJl")

    assert response.status_code in (400, 403)


def test_a_callback_between_services_records_statuses_by_the_same_rules(sent):
    params = status(sent.provider_sid, "delivered")

    assert [sms_status_record(params=params), sms_status_record(params=params)] == ["recorded", "repeated"]


def test_values_that_are_not_text_are_ignored(sent):
    assert sms_status_record(params={"MessageSid": sent.provider_sid, "MessageStatus": ["delivered"]}) == "ignored"
    assert sms_status_record(params={"MessageSid": [sent.provider_sid], "MessageStatus": "delivered"}) == "ignored"
    assert not sent.statuses.exists()


def test_the_local_outbox_can_report_delivery_like_twilio(kiosk, published):
    petition = f.petition(kiosk, published)
    notification = notification_create(key="test:local", kind="booked", petition=petition)
    kept = sms_provider().send(to=phone_e164(petition.contact_phone), body="测试", status_callback=None)
    Notification.objects.filter(pk=notification.pk).update(
        state="sent", provider="local", provider_sid=kept.sid, claimed_at=timezone.now()
    )

    assert sms_local_status_record(sid=kept.sid, status="delivered") == "recorded"
    assert sms_local_status_record(sid=kept.sid, status="delivered") == "repeated"
    assert sms_local_status_record(sid="SMlocal" + "f" * 26, status="delivered") == "ignored"
    notification.refresh_from_db()
    assert notification.state == "delivered"
