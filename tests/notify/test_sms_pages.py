"""The staff SMS pages: each person reads the outbox of their own petitions, a community worker follows up the
messages that failed in their community, and no page shows a full mobile number or an ID number."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from appointments.identity import phone_mask
from appointments.models import Notification, OutboxMessage
from appointments.notify.delivery import notification_mark_handled
from appointments.notify.services import notification_create
from appointments.notify.sms.base import phone_e164
from appointments.notify.sms.local import LocalSmsBackend
from departments.audit import AuditEvent
from scheduler.errors import Conflict, NotFound
from tests import factories as f

pytestmark = pytest.mark.django_db

OUTBOX = "/staff/sms/outbox/"
PROBLEMS = "/staff/sms/problems/"


def signed_in(client, actor):
    client.force_login(actor.staff.user)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def sent_locally(
    petition, *, kind: str = "booked", body: str = "", state: str = "sent", code: str = ""
) -> Notification:
    """A message of a petition as the sender leaves it: in the local outbox, its sid on the notification."""
    notification = notification_create(
        key=f"test:{petition.reference}:{kind}:{Notification.objects.count()}", kind=kind, petition=petition
    )
    body = body or f"【区信访局】{petition.reference} 的{kind}短信。"
    kept = LocalSmsBackend().send(to=phone_e164(petition.contact_phone), body=body, status_callback=None)
    now = timezone.now()
    Notification.objects.filter(pk=notification.pk).update(
        state=state,
        provider="local",
        provider_sid=kept.sid,
        provider_status="sent",
        claimed_at=now,
        sent_at=now if state in ("sent", "delivered") else None,
        body=body,
        error_code=code,
    )
    notification.refresh_from_db()
    return notification


@pytest.fixture
def lanshan(kiosk, published):
    """A petition filed at 蓝山社区 for 区房产局, with its booking confirmation in the outbox."""
    petition = f.petition(kiosk, published, name="赵桂英", phone=f.valid_phone())
    sent_locally(petition, body="【区信访局】蓝山的确认短信")
    return petition


@pytest.fixture
def fuan(other_kiosk, other_department):
    """A petition filed at 福安社区 for 区人社局, with its booking confirmation in the outbox."""
    petition = f.petition(
        other_kiosk, other_department, name="钱德明", phone="159" + "04011234", category="labour-social-security"
    )
    sent_locally(petition, body="【区信访局】福安的确认短信")
    return petition


def full_mobile_absent(html: str, petition) -> bool:
    national = petition.contact_phone.removeprefix("+86")
    return national not in html and petition.contact_phone not in html


# The outbox -----------------------------------------------------------------------------------------------------


def test_the_sms_pages_ask_for_a_sign_in(client):
    for url in (OUTBOX, PROBLEMS):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(f"/accounts/login/?next={url}")


@pytest.mark.parametrize(
    ("who", "sees", "not_sees"),
    [
        ("worker", "蓝山的确认短信", "福安的确认短信"),
        ("other_worker", "福安的确认短信", "蓝山的确认短信"),
        ("dept_staff", "蓝山的确认短信", "福安的确认短信"),
        ("outsider", "福安的确认短信", "蓝山的确认短信"),
    ],
)
def test_each_person_reads_the_messages_of_their_own_petitions_only(
    client, request, lanshan, fuan, who, sees, not_sees
):
    page = text(signed_in(client, request.getfixturevalue(who)).get(OUTBOX))

    assert sees in page and not_sees not in page
    assert "共 1 条短信" in page


def test_the_petition_office_reads_every_message_even_one_of_no_petition(client, officer, lanshan, fuan):
    LocalSmsBackend().send(to="+8613700001111", body="【区信访局】系统测试短信", status_callback=None)

    page = text(signed_in(client, officer).get(OUTBOX))

    assert "蓝山的确认短信" in page and "福安的确认短信" in page and "系统测试短信" in page
    assert "共 3 条短信" in page


def test_an_outbox_row_shows_time_masked_mobile_petition_and_state_but_no_full_number_or_id(client, worker, lanshan):
    response = signed_in(client, worker).get(OUTBOX)
    html = response.content.decode()

    assert response.status_code == 200
    assert phone_mask(lanshan.contact_phone) in html
    assert f'href="/staff/petitions/{lanshan.reference}/"' in html
    assert "预约确认" in html and "已发送" in html
    assert timezone.localtime(OutboxMessage.objects.get().created_at).strftime("%Y-%m-%d %H:%M") in html
    assert full_mobile_absent(html, lanshan)
    assert lanshan.resident.id_number_masked not in html


def test_the_outbox_shows_the_newest_first_a_page_at_a_time(client, worker, kiosk, published):
    petition = f.petition(kiosk, published)
    for n in range(55):
        sent_locally(petition, kind="reminder_24h", body=f"第{n:02d}条")
    OutboxMessage.objects.update(created_at=timezone.now() - dt.timedelta(hours=1))
    OutboxMessage.objects.filter(body="第54条").update(created_at=timezone.now())
    client = signed_in(client, worker)

    first, second = text(client.get(OUTBOX)), text(client.get(OUTBOX + "?page=2"))

    assert first.index("第54条") < first.index("第53条")
    assert sum(f"第{n:02d}条" in first for n in range(55)) == 50
    assert sum(f"第{n:02d}条" in second for n in range(55)) == 5
    assert "第 2 页，共 2 页" in second
    for junk in ("?page=abc", "?page=-1", "?page=99999999999", "?page=%00"):
        assert client.get(OUTBOX + junk).status_code == 200


def test_the_outbox_says_so_when_the_site_sends_through_twilio(client, officer, settings):
    settings.SMS_BACKEND = "appointments.notify.sms.twilio.TwilioSmsBackend"

    page = text(signed_in(client, officer).get(OUTBOX))

    assert "本系统通过 Twilio 向居民手机发送短信，因此发件箱为空" in page


def test_the_outbox_says_the_local_site_keeps_messages_here(client, officer):
    assert "本系统不向手机发送短信" in text(signed_in(client, officer).get(OUTBOX))


# Messages to follow up ------------------------------------------------------------------------------------------


@pytest.fixture
def problems(lanshan, fuan):
    """Lanshan: one message refused as a landline, one of unknown fate, one delivered; Fuan: one blocked."""
    return {
        "invalid": sent_locally(lanshan, kind="reminder_24h", state="failed", code="21614"),
        "unknown": sent_locally(lanshan, kind="reminder_1h", state="unknown", code="worker_lost"),
        "fine": sent_locally(lanshan, kind="rescheduled", state="delivered"),
        "blocked": sent_locally(fuan, kind="answered", state="failed", code="21610"),
    }


def test_a_community_worker_sees_what_failed_in_their_community_in_plain_chinese(client, worker, problems, lanshan):
    response = signed_in(client, worker).get(PROBLEMS)
    html, page = response.content.decode(), text(response)

    assert response.status_code == 200
    assert "待跟进：2 条短信" in page
    assert "提前一天提醒" in page and "该号码无法接收短信：不是有效的手机号码。" in page
    assert "提前一小时提醒" in page and "系统在发送途中中断：短信可能已送达居民，也可能没有。" in page
    assert "已改约" not in page
    assert "答复已记录" not in page and "居民的手机或运营商拦截了短信" not in page
    assert phone_mask(lanshan.contact_phone) in html
    assert full_mobile_absent(html, lanshan)
    assert lanshan.resident.id_number_masked not in html


def test_the_petition_office_sees_every_communitys_problems(client, officer, problems):
    page = text(signed_in(client, officer).get(PROBLEMS))

    assert "待跟进：3 条短信" in page
    assert "蓝山社区" in page and "福安社区" in page
    assert "居民的手机或运营商拦截了短信（居民可能已退订）。" in page


@pytest.mark.parametrize("who", ["dept_staff", "outsider", "dept_admin"])
def test_department_staff_cannot_open_the_follow_up_page(client, request, problems, who):
    assert signed_in(client, request.getfixturevalue(who)).get(PROBLEMS).status_code == 403


def test_marking_a_message_handled_records_who_and_when_and_moves_it_out_of_the_list(client, worker, problems):
    failed = problems["invalid"]

    response = signed_in(client, worker).post(f"/staff/sms/problems/{failed.pk}/handled", follow=True)

    failed.refresh_from_db()
    assert failed.handled_by == worker.staff and failed.handled_at is not None
    assert failed.state == "failed"
    page = text(response)
    assert "已记录：已就这条短信联系" in page
    assert "待跟进：1 条短信" in page
    followed_up = response.content.decode().split('id="handled-heading"', 1)[1]
    assert failed.petition.reference in followed_up and ">worker<" in followed_up
    event = AuditEvent.objects.get(action="sms.handled")
    assert (event.actor, event.target_id) == (f"staff:{worker.staff.pk}", str(failed.pk))
    assert event.detail == {"kind": "reminder_24h", "state": "failed", "error_code": "21614"}


def test_a_worker_of_another_community_cannot_mark_it_handled(client, other_worker, problems):
    failed = problems["invalid"]

    response = signed_in(client, other_worker).post(f"/staff/sms/problems/{failed.pk}/handled")

    assert response.status_code == 404
    failed.refresh_from_db()
    assert failed.handled_at is None
    assert not AuditEvent.objects.filter(action="sms.handled").exists()


def test_marking_twice_keeps_the_first_and_records_it_once(worker, problems):
    first = notification_mark_handled(actor=worker, notification_id=problems["unknown"].pk)
    again = notification_mark_handled(actor=worker, notification_id=problems["unknown"].pk)

    assert again.handled_at == first.handled_at
    assert AuditEvent.objects.filter(action="sms.handled").count() == 1


def test_a_message_that_did_not_fail_cannot_be_marked_handled(client, worker, problems):
    with pytest.raises(Conflict):
        notification_mark_handled(actor=worker, notification_id=problems["fine"].pk)

    response = signed_in(client, worker).post(f"/staff/sms/problems/{problems['fine'].pk}/handled", follow=True)
    assert "这条短信没有发送失败，无需跟进。" in text(response)


@pytest.mark.parametrize("who", ["dept_staff", "outsider"])
def test_department_staff_cannot_mark_handled_even_for_their_own_petitions(request, problems, who):
    with pytest.raises(NotFound):
        notification_mark_handled(actor=request.getfixturevalue(who), notification_id=problems["invalid"].pk)


def test_the_petition_office_can_mark_any_communitys_message_handled(officer, problems):
    handled = notification_mark_handled(actor=officer, notification_id=problems["blocked"].pk)

    assert handled.handled_by == officer.staff


def test_handled_is_a_post_only(client, worker, problems):
    assert signed_in(client, worker).get(f"/staff/sms/problems/{problems['invalid'].pk}/handled").status_code == 405


def test_a_missing_message_reads_as_not_found(client, worker):
    assert signed_in(client, worker).post("/staff/sms/problems/987654/handled").status_code == 404


# On other staff pages ---------------------------------------------------------------------------------------------


def test_the_community_page_counts_the_messages_to_follow_up(client, worker, other_worker, problems):
    page = text(signed_in(client, worker).get("/staff/community/"))
    assert "2 条短信未能送达居民，请电话联系" in page

    notification_mark_handled(actor=worker, notification_id=problems["invalid"].pk)
    notification_mark_handled(actor=worker, notification_id=problems["unknown"].pk)
    assert "未能送达居民" not in text(client.get("/staff/community/"))
    assert "1 条短信未能送达居民，请电话联系" in text(signed_in(client, other_worker).get("/staff/community/"))


def test_the_menu_leads_each_role_to_its_sms_page(client, worker, dept_staff):
    assert 'href="/staff/sms/problems/"' in signed_in(client, worker).get("/staff/community/").content.decode()
    assert 'href="/staff/sms/outbox/"' in signed_in(client, dept_staff).get("/staff/sessions/").content.decode()


def test_a_petitions_page_lists_its_messages_with_their_state(client, dept_staff, problems, lanshan):
    response = signed_in(client, dept_staff).get(f"/staff/petitions/{lanshan.reference}/")
    html, page = response.content.decode(), text(response)

    assert response.status_code == 200
    assert "发给居民的短信" in page
    for kind, state in (("预约确认", "已发送"), ("提前一天提醒", "无法送达"), ("提前一小时提醒", "无法确定是否已发出")):
        assert kind in page and state in page
    assert full_mobile_absent(html, lanshan)


def test_a_petition_without_messages_says_so(client, officer, kiosk, published):
    petition = f.petition(kiosk, published)

    assert "本信访事项尚未发送短信。" in text(signed_in(client, officer).get(f"/staff/petitions/{petition.reference}/"))
