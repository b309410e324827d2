"""The petition list and a petition's page: who sees what, the search and its filters, and each decision made on
the page, accepted or refused with a message that changes nothing."""

import datetime as dt
import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext, ngettext

from appointments.booking import appointment_book
from appointments.models import Appointment, Commitment, FollowUpSlip, Outcome, Petition, Referral
from appointments.outcomes.lifecycle import ANSWER_DAYS, period_end, petition_accept
from appointments.outcomes.services import CommitmentIn, ItemIn, OutcomeIn, outcome_record
from departments.audit import AuditEvent
from departments.models import StaffMember
from departments.services import Actor
from tests import factories as f

pytestmark = pytest.mark.django_db

LIST = "/staff/petitions/"


def signed_in(client, actor):
    client.force_login(actor.staff.user)
    return client


def says(response, message: str, **values) -> bool:
    """Whether the page shows this message, in the language it was served in (Chinese by default)."""
    with translation.override("zh-hans"):
        text = gettext(message)
    if values:
        text = text % values
    return escape(text) in response.content.decode()


def says_count(response, singular: str, plural: str, count: int) -> bool:
    """Whether the page shows this counted message ("%(days)d days left"), in the language it was served in."""
    with translation.override("zh-hans"):
        text = ngettext(singular, plural, count) % {"days": count}
    return escape(text) in response.content.decode()


def page_url(petition: Petition) -> str:
    return f"/staff/petitions/{petition.reference}/"


def answered(petition: Petition, actor: Actor, **kwargs) -> Outcome:
    data = OutcomeIn(
        answer="经核实，房产证将于下月办结。", items=[ItemIn(request="办理房产证", decision="supported")], **kwargs
    )
    return outcome_record(actor=actor, petition=petition, data=data)


@pytest.fixture
def other_petition(other_kiosk, other_department):
    """A petition of 区人社局 filed at 福安社区."""
    return f.petition(
        other_kiosk,
        other_department,
        name="李建国",
        category="labour-social-security",
        summary="小区保洁公司拖欠我两个月工资，多次找公司没有结果。",
    )


# Who sees the list ---------------------------------------------------------------------------------------------


def test_a_petition_officer_sees_every_departments_petitions(client, officer, petition, other_petition):
    content = signed_in(client, officer).get(LIST).content.decode()

    assert petition.reference in content and other_petition.reference in content


def test_department_staff_see_only_their_own_departments_petitions(client, dept_staff, petition, other_petition):
    content = signed_in(client, dept_staff).get(LIST).content.decode()

    assert petition.reference in content
    assert other_petition.reference not in content


def test_a_department_admin_sees_their_departments_petitions_too(client, dept_admin, petition, other_petition):
    content = signed_in(client, dept_admin).get(LIST).content.decode()

    assert petition.reference in content and other_petition.reference not in content


def test_a_community_worker_cannot_open_the_list(client, worker, petition):
    response = signed_in(client, worker).get(LIST)

    assert response.status_code == 403
    assert petition.reference not in response.content.decode()


def test_the_list_asks_for_a_sign_in(client):
    response = client.get(LIST)

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_list_shows_the_id_number_and_mobile_masked_only(client, officer, petition):
    content = signed_in(client, officer).get(LIST).content.decode()

    assert petition.resident.id_number_masked in content
    assert petition.resident.id_number not in content
    assert petition.contact_phone[-11:] not in content


def test_the_navigation_offers_the_list_to_officers_and_departments_but_not_to_community_workers(
    client, officer, dept_staff, worker
):
    assert 'href="/staff/petitions/"' in signed_in(client, officer).get("/staff/office/").content.decode()
    assert 'href="/staff/petitions/"' in signed_in(client, dept_staff).get("/staff/sessions/").content.decode()
    assert 'href="/staff/petitions/"' not in signed_in(client, worker).get("/staff/community/").content.decode()


# The search ----------------------------------------------------------------------------------------------------


@pytest.fixture
def two(kiosk, published):
    """Two petitions of 区房产局 from different residents, told apart by every searchable part."""
    first = f.petition(kiosk, published, name="王秀兰", summary="回迁房的房产证一直办不下来。")
    second = f.petition(kiosk, published, name="赵德胜", summary="楼上漏水三个月，物业一直不修。")
    return first, second


@pytest.mark.parametrize(
    "term",
    [
        lambda p: p.reference,
        lambda p: p.reference.lower(),
        lambda p: p.query_code,
        lambda p: p.contact_name,
        lambda p: p.contact_name[1:],
        lambda p: "房产证",
    ],
    ids=["reference", "reference-lowercase", "query-code", "name", "part-of-name", "summary-text"],
)
def test_the_search_finds_a_petition_by_what_staff_know_of_it(client, officer, two, term):
    first, second = two

    response = signed_in(client, officer).post(LIST, {"q": term(first)}, follow=True)

    content = response.content.decode()
    assert first.reference in content
    assert second.reference not in content


def test_the_search_finds_a_petition_by_the_residents_registered_name(client, officer, kiosk, published):
    from appointments.petitions import resident_name_correct

    petition = f.petition(kiosk, published, name="马小红")
    resident_name_correct(actor=officer, resident_id=petition.resident_id, name="马晓红", reason="typing_error")

    content = signed_in(client, officer).get(LIST, {"q": "马晓红"}).content.decode()

    assert petition.reference in content


def test_the_search_keeps_its_text_in_the_address_to_share_and_page(client, officer, two):
    response = signed_in(client, officer).post(LIST, {"q": "漏水", "status": "received"})

    assert response.status_code == 302
    assert "status=received" in response["Location"] and "q=" in response["Location"]


def test_the_search_finds_by_id_number_without_putting_it_in_the_address_or_the_page(client, officer, kiosk, published):
    id_number = f.valid_id_number(area="210104")
    mine = f.petition(kiosk, published, name="孙桂芝", id_number=id_number)
    again = f.petition(kiosk, published, name="孙桂芝", id_number=id_number, summary="第二件事：小区路灯坏了很久。")
    stranger = f.petition(kiosk, published, name="周立新")

    response = signed_in(client, officer).post(LIST, {"q": f" {id_number[:6]} {id_number[6:]} "})

    assert response.status_code == 302
    assert id_number not in response["Location"] and id_number[6:14] not in response["Location"]
    content = client.get(response["Location"]).content.decode()
    assert mine.reference in content and again.reference in content
    assert stranger.reference not in content
    assert id_number not in content
    assert mine.resident.id_number_masked in content


def test_an_id_number_typed_into_the_address_is_taken_out_of_it(client, officer, kiosk, published):
    id_number = f.valid_id_number()
    petition = f.petition(kiosk, published, id_number=id_number)

    response = signed_in(client, officer).get(LIST, {"q": id_number, "status": "received"})

    assert response.status_code == 302
    assert id_number not in response["Location"] and "status=received" in response["Location"]
    assert petition.reference in client.get(response["Location"]).content.decode()


def test_an_id_number_typed_among_other_words_is_left_out_of_the_address(client, officer, petition):
    id_number = petition.resident.id_number

    response = signed_in(client, officer).post(LIST, {"q": f"王秀兰 {id_number}"}, follow=True)

    assert id_number not in response.redirect_chain[-1][0] and id_number not in response.content.decode()
    assert says(response, "An ID number is searched on its own, so it was left out of this search.")
    assert petition.reference in response.content.decode()


def test_a_mistyped_id_number_is_refused_without_being_echoed(client, officer, petition):
    number = petition.resident.id_number
    wrong = number[:17] + ("0" if number[17] != "0" else "1")

    response = signed_in(client, officer).post(LIST, {"q": wrong}, follow=True)

    content = response.content.decode()
    assert says(response, "The ID number's last character does not match; please check it.")
    assert wrong not in content and wrong not in response.redirect_chain[-1][0]


def test_an_id_number_of_a_resident_with_no_petition_on_the_list_finds_nothing(
    client, dept_staff, petition, other_petition
):
    response = signed_in(client, dept_staff).post(LIST, {"q": other_petition.resident.id_number}, follow=True)

    content = response.content.decode()
    assert says(response, "No petition on your list was filed with this ID number.")
    assert petition.reference not in content and other_petition.reference not in content
    assert other_petition.resident.id_number_masked not in content


def test_a_search_with_an_invisible_control_character_is_refused_plainly(client, officer, petition):
    response = signed_in(client, officer).get(LIST, {"q": "王\x00秀兰"})

    assert response.status_code == 200
    assert b'id="q-error"' in response.content
    assert petition.reference in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"page": "abc"},
        {"page": "99999999999999999999"},
        {"page": "-1"},
        {"status": "bogus"},
        {"deadline": "yesterday"},
        {"resident": "x1"},
        {"resident": "99999999999999999999999"},
        {"community": "\x00"},
        {"q": "a" * 500},
    ],
)
def test_odd_addresses_show_the_list_rather_than_fail(client, officer, petition, params):
    assert signed_in(client, officer).get(LIST, params).status_code == 200


# The filters ---------------------------------------------------------------------------------------------------


@pytest.fixture
def spread(kiosk, other_kiosk, published, other_department, dept_staff):
    """Petitions that differ in one thing each: status, department, community, category and deadline."""
    today = timezone.localdate()
    base = f.petition(kiosk, published, name="王秀兰")
    accepted = f.petition(kiosk, published, name="刘海军")
    petition_accept(actor=dept_staff, petition=accepted)
    elsewhere = f.petition(other_kiosk, published, name="陈玉梅")
    other_dept = f.petition(kiosk, other_department, name="杨志强", category="labour-social-security")
    environment = f.petition(kiosk, published, name="黄丽娟", category="environment", summary="夜里工地噪音太大。")
    overdue = f.petition(kiosk, published, name="吴国庆")
    soon = f.petition(kiosk, published, name="郑淑华")
    Petition.objects.filter(pk__in=[base.pk, accepted.pk, elsewhere.pk, other_dept.pk, environment.pk]).update(
        due_on=today + dt.timedelta(days=10)
    )
    Petition.objects.filter(pk=overdue.pk).update(due_on=today - dt.timedelta(days=2))
    Petition.objects.filter(pk=soon.pk).update(due_on=today + dt.timedelta(days=3))
    return {
        "base": base,
        "accepted": accepted,
        "elsewhere": elsewhere,
        "other_dept": other_dept,
        "environment": environment,
        "overdue": overdue,
        "soon": soon,
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "accepted"}, {"accepted"}),
        ({"department": "renshe"}, {"other_dept"}),
        ({"community": "fuan"}, {"elsewhere"}),
        ({"category": "environment"}, {"environment"}),
        ({"category": "labour-social-security"}, {"other_dept"}),
        ({"deadline": "overdue"}, {"overdue"}),
        ({"deadline": "soon"}, {"soon"}),
        ({"deadline": "", "status": "received", "community": "fuan"}, {"elsewhere"}),
        ({}, {"base", "accepted", "elsewhere", "other_dept", "environment", "overdue", "soon"}),
    ],
)
def test_each_filter_narrows_the_list(client, officer, spread, params, expected):
    content = signed_in(client, officer).get(LIST, params).content.decode()

    shown = {name for name, petition in spread.items() if petition.reference in content}
    assert shown == expected


def test_the_filters_go_through_the_search_form_too(client, officer, spread):
    response = signed_in(client, officer).post(LIST, {"q": "", "community": "fuan", "deadline": ""}, follow=True)

    content = response.content.decode()
    assert spread["elsewhere"].reference in content and spread["base"].reference not in content


def test_department_staff_cannot_filter_their_way_to_another_department(client, dept_staff, spread):
    content = signed_in(client, dept_staff).get(LIST, {"department": "renshe"}).content.decode()

    assert spread["other_dept"].reference not in content
    assert spread["base"].reference in content  # the filter is not theirs to use: it is ignored
    assert 'id="f-department"' not in content


def test_the_deadline_counts_sit_at_the_top_and_link_to_their_lists(client, officer, spread):
    response = signed_in(client, officer).get(LIST)

    content = response.content.decode()
    counts = response.context["counts"]
    assert (counts.overdue, counts.due_soon) == (1, 1)
    assert 'href="/staff/petitions/?deadline=overdue"' in content
    assert 'href="/staff/petitions/?deadline=soon"' in content


def test_the_deadline_counts_of_department_staff_are_their_own(client, dept_staff, other_department, spread):
    Petition.objects.filter(pk=spread["other_dept"].pk).update(due_on=timezone.localdate() - dt.timedelta(days=9))

    counts = signed_in(client, dept_staff).get(LIST).context["counts"]

    assert (counts.overdue, counts.due_soon) == (1, 1)


def test_the_overdue_list_shows_how_many_days_over_each_is(client, officer, spread):
    response = signed_in(client, officer).get(LIST, {"deadline": "overdue"})

    assert says_count(response, "overdue by %(days)d day", "overdue by %(days)d days", 2)


def test_the_list_is_paged_and_keeps_its_filters_from_page_to_page(client, officer, kiosk, published):
    filed = [f.petition(kiosk, published, name=f"居民{n:02d}") for n in range(27)]

    first = signed_in(client, officer).get(LIST, {"status": "received"})
    second = client.get(LIST, {"status": "received", "page": "2"})

    on_first = {p.reference for p in filed if p.reference in first.content.decode()}
    on_second = {p.reference for p in filed if p.reference in second.content.decode()}
    assert len(on_first) == 25 and len(on_second) == 2 and not on_first & on_second
    assert "status=received&amp;page=2" in first.content.decode()


def _file_many(kiosks, departments, count: int, start: int) -> None:
    categories = ["housing", "environment", "labour-social-security", "market-regulation"]
    for n in range(start, start + count):
        f.petition(
            kiosks[n % len(kiosks)],
            departments[n % len(departments)],
            name=f"测试居民{n}",
            category=categories[n % len(categories)],
            summary=f"第{n}号事项：小区设施损坏需要维修。",
        )


@pytest.mark.parametrize("who", ["officer", "dept_staff"])
def test_the_list_reads_the_same_number_of_queries_however_many_petitions_there_are(
    client, request, who, kiosk, other_kiosk, published, other_department
):
    actor = request.getfixturevalue(who)
    signed_in(client, actor)
    kiosks, departments = [kiosk, other_kiosk], [published, other_department]

    _file_many(kiosks, departments, 4, 0)
    with CaptureQueriesContext(connection) as small:
        assert client.get(LIST, {"deadline": "soon"}).status_code == 200
        assert client.get(LIST).status_code == 200
    _file_many(kiosks, departments, 56, 4)
    with CaptureQueriesContext(connection) as large:
        assert client.get(LIST, {"deadline": "soon"}).status_code == 200
        response = client.get(LIST)

    assert len(response.context["rows"]) == 25
    assert len(large) == len(small), [q["sql"][:120] for q in large.captured_queries]


# One petition: who sees it ------------------------------------------------------------------------------------


def test_the_petition_page_shows_the_filing_with_the_mobile_and_id_number_masked(client, officer, petition):
    response = signed_in(client, officer).get(page_url(petition))

    content = response.content.decode()
    assert response.status_code == 200
    assert petition.contact_name in content and petition.summary in content
    assert petition.contact_phone_masked in content and petition.resident.id_number_masked in content
    assert petition.resident.id_number not in content
    assert petition.contact_phone[-11:] not in content


@pytest.mark.parametrize("who", ["officer", "dept_staff", "dept_admin", "worker"])
def test_the_petition_page_opens_for_the_office_the_department_and_the_community(client, request, who, petition):
    assert signed_in(client, request.getfixturevalue(who)).get(page_url(petition)).status_code == 200


@pytest.mark.parametrize("who", ["outsider", "other_worker"])
def test_a_petition_someone_may_not_see_answers_as_if_it_did_not_exist(client, request, who, petition):
    signed_in(client, request.getfixturevalue(who))

    hidden = client.get(page_url(petition))
    missing = client.get("/staff/petitions/XF20990101000000/")

    assert hidden.status_code == missing.status_code == 404
    assert petition.contact_name not in hidden.content.decode()


def test_the_community_worker_reads_the_petition_but_is_offered_no_decision(client, worker, petition):
    content = signed_in(client, worker).get(page_url(petition)).content.decode()

    assert 'name="action"' not in content
    assert petition.summary in content


def test_the_community_worker_cannot_decide_by_posting_either(client, worker, petition):
    response = signed_in(client, worker).post(page_url(petition), {"action": "accept"})

    assert response.status_code == 403
    petition.refresh_from_db()
    assert petition.accepted_at is None and petition.status == "received"


def test_the_page_says_the_running_deadline_in_plain_words(client, dept_staff, petition):
    left = (petition.due_on - timezone.localdate()).days

    response = signed_in(client, dept_staff).get(page_url(petition))

    assert says(response, "Decide on acceptance and tell the resident by %(date)s", date=petition.due_on.isoformat())
    assert says_count(response, "%(days)d day left", "%(days)d days left", left)


def test_an_overdue_deadline_says_by_how_many_days(client, dept_staff, petition):
    Petition.objects.filter(pk=petition.pk).update(due_on=timezone.localdate() - dt.timedelta(days=4))

    response = signed_in(client, dept_staff).get(page_url(petition))

    assert says_count(response, "overdue by %(days)d day", "overdue by %(days)d days", 4)
    assert b"deadline-box deadline-overdue" in response.content


# One petition: its history -------------------------------------------------------------------------------------


def test_the_history_tells_everything_in_time_order(
    client, officer, dept_staff, kiosk, petition, open_slots, other_department
):
    appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=open_slots[0].pk)
    petition.refresh_from_db()
    petition_accept(actor=dept_staff, petition=petition)
    first = answered(
        petition,
        dept_staff,
        commitments=[CommitmentIn(responsible="区房产局产权科", action="补发房产证", due_on=timezone.localdate())],
    )
    from appointments.outcomes.services import commitment_complete, outcome_correct

    outcome_correct(
        actor=dept_staff,
        outcome_id=first.pk,
        answer="房产证已补办，请到大厅领取。",
        legal_basis="",
        reason="领取地点写错",
    )
    commitment_complete(actor=dept_staff, commitment_id=Commitment.objects.get().pk, note="已通知本人领取")

    content = signed_in(client, officer).get(page_url(petition)).content.decode()

    kinds = [
        "event-filed",
        "event-booked",
        "event-accepted",
        "event-outcome",
        "event-outcome",
        "event-commitment_done",
    ]
    positions, start = [], 0
    for kind in kinds:
        start = content.index(kind, start) + 1
        positions.append(start)
    assert positions == sorted(positions)
    assert "经核实，房产证将于下月办结。" in content  # the first version is kept
    assert "房产证已补办，请到大厅领取。" in content and "领取地点写错" in content
    assert "已通知本人领取" in content


def test_the_history_shows_the_video_session_and_who_was_in_it(client, officer, live_appointment):
    from appointments.models import VideoParticipant, VideoSession

    started = live_appointment.slot.starts_at + dt.timedelta(minutes=1)
    session = VideoSession.objects.create(
        appointment=live_appointment,
        provider="local",
        room_name=f"petition-appointment-{live_appointment.pk}",
        status=VideoSession.Status.COMPLETED,
        started_at=started,
        ended_at=started + dt.timedelta(minutes=20),
    )
    VideoParticipant.objects.create(
        session=session, participant_sid="PA1", identity="department:staff:1", side="department", joined_at=started
    )

    content = signed_in(client, officer).get(page_url(live_appointment.petition)).content.decode()

    assert "event-session" in content
    assert f"{timezone.localtime(started + dt.timedelta(minutes=20)):%H:%M}" in content


def test_the_history_shows_the_residents_rating_and_the_review_it_asked_for(
    client, officer, dept_staff, kiosk, petition
):
    from appointments.outcomes.services import rating_give, review_request

    answered(petition, dept_staff)
    petition.refresh_from_db()
    rating_give(actor=kiosk, petition=petition, level="dissatisfied", remark="补偿标准没有说明白")
    review = review_request(actor=kiosk, petition=petition, reason="希望复查补偿标准")

    response = signed_in(client, officer).get(page_url(petition))

    content = response.content.decode()
    assert "event-rating" in content and "补偿标准没有说明白" in content
    assert "event-review" in content and "希望复查补偿标准" in content
    assert says(response, "Answer the review (复查) by %(date)s", date=review.answer_due_on.isoformat())


def test_the_history_shows_a_referral_and_the_receiving_department_sees_it(
    client, dept_staff, outsider, petition, other_department
):
    signed_in(client, dept_staff).post(
        page_url(petition), {"action": "refer", "department": "renshe", "reason": "属于劳动保障事项"}
    )

    content = signed_in(client, outsider).get(page_url(petition)).content.decode()

    assert "event-referred" in content and "属于劳动保障事项" in content


def test_the_petition_page_reads_the_same_number_of_queries_as_its_history_grows(
    client, officer, dept_staff, kiosk, published, open_slots
):
    small = f.petition(kiosk, published)
    large = f.petition(kiosk, published)
    appointment_book(actor=kiosk, petition_reference=large.reference, slot_id=open_slots[1].pk)
    large.refresh_from_db()
    petition_accept(actor=dept_staff, petition=large)
    first = answered(
        large,
        dept_staff,
        commitments=[
            CommitmentIn(responsible="产权科", action="补发房产证", due_on=timezone.localdate()),
            CommitmentIn(responsible="物业科", action="约谈物业", due_on=timezone.localdate()),
        ],
    )
    from appointments.outcomes.services import outcome_correct

    outcome_correct(actor=dept_staff, outcome_id=first.pk, answer="更正后的答复", legal_basis="", reason="补充说明")
    signed_in(client, officer)

    with CaptureQueriesContext(connection) as few:
        client.get(page_url(small))
    with CaptureQueriesContext(connection) as many:
        client.get(page_url(large))

    assert len(many) <= len(few) + 2, [q["sql"][:120] for q in many.captured_queries]


# Actions: acceptance -------------------------------------------------------------------------------------------


def test_the_department_accepts_a_petition_on_its_page(client, dept_staff, petition):
    response = signed_in(client, dept_staff).post(page_url(petition), {"action": "accept"}, follow=True)

    petition.refresh_from_db()
    assert petition.status == "accepted" and petition.accepted_at is not None
    assert says(response, "The petition is accepted. The answer is due by %(date)s.", date=petition.due_on)


def test_accepting_twice_is_refused_with_a_reason_and_changes_nothing(client, dept_staff, petition):
    signed_in(client, dept_staff).post(page_url(petition), {"action": "accept"})
    petition.refresh_from_db()
    before = (petition.accepted_at, petition.due_on, AuditEvent.objects.count())

    response = client.post(page_url(petition), {"action": "accept"})

    assert response.status_code == 409
    assert b'role="alert"' in response.content
    petition.refresh_from_db()
    assert (petition.accepted_at, petition.due_on, AuditEvent.objects.count()) == before


def test_not_accepting_records_why_and_where_to_go(client, dept_staff, petition):
    signed_in(client, dept_staff).post(
        page_url(petition),
        {"action": "not_accept", "reason": "属于诉讼程序，应通过法院解决。", "redirect_to": "区法院立案庭"},
    )

    petition.refresh_from_db()
    assert petition.status == "not_accepted"
    assert petition.not_accepted_reason == "属于诉讼程序，应通过法院解决。" and petition.redirect_to == "区法院立案庭"
    content = client.get(page_url(petition)).content.decode()
    assert "区法院立案庭" in content and "event-not_accepted" in content


@pytest.mark.parametrize("reason", ["", "   ", "原因\u202e反转"])
def test_not_accepting_without_a_proper_reason_is_refused_and_keeps_what_was_typed(
    client, dept_staff, petition, reason
):
    response = signed_in(client, dept_staff).post(
        page_url(petition), {"action": "not_accept", "reason": reason, "redirect_to": "区法院立案庭"}
    )

    assert response.status_code == 422
    assert b'role="alert"' in response.content and "区法院立案庭" in response.content.decode()
    petition.refresh_from_db()
    assert petition.status == "received" and petition.not_accepted_reason == ""


# Actions: referral ---------------------------------------------------------------------------------------------


def test_a_referral_moves_the_petition_to_the_other_department(client, dept_staff, petition, other_department):
    response = signed_in(client, dept_staff).post(
        page_url(petition), {"action": "refer", "department": "renshe", "reason": "属于劳动保障事项"}
    )

    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.department == other_department and petition.status == "referred"
    assert Referral.objects.get(petition=petition).reason == "属于劳动保障事项"


@pytest.mark.parametrize(
    ("to", "reason"),
    [("", "属于劳动保障事项"), ("nowhere", "属于劳动保障事项"), ("fangchan", "属于劳动保障事项"), ("renshe", "")],
    ids=["no-department", "unknown-department", "same-department", "no-reason"],
)
def test_a_referral_with_bad_input_is_refused_and_changes_nothing(
    client, dept_staff, petition, other_department, to, reason
):
    response = signed_in(client, dept_staff).post(
        page_url(petition), {"action": "refer", "department": to, "reason": reason}
    )

    assert response.status_code == 422
    assert b'role="alert"' in response.content
    petition.refresh_from_db()
    assert petition.department.code == "fangchan" and not Referral.objects.exists()


# Actions: extension --------------------------------------------------------------------------------------------


@pytest.fixture
def accepted(petition, dept_staff):
    return petition_accept(actor=dept_staff, petition=petition)


def test_a_petition_officer_extends_the_answer_period_once(client, officer, accepted):
    before = accepted.due_on

    signed_in(client, officer).post(page_url(accepted), {"action": "extend", "days": "20", "reason": "需要现场勘查"})

    accepted.refresh_from_db()
    # 60 + 20 days from acceptance; not the first due date + 20, which a holiday may already have pushed back.
    answer_period = period_end(timezone.localtime(accepted.accepted_at).date(), ANSWER_DAYS + 20)
    assert accepted.extension_days == 20 and accepted.due_on == answer_period > before
    assert accepted.extension_approved_by == officer.staff


def test_an_extension_counts_from_acceptance_not_from_a_due_date_a_holiday_pushed_back(client, officer, accepted):
    # Accepted on 2 August 2026: 60 days end on 1 October, National Day, so the answer is due on the first
    # working day after the holiday. 80 days end on an ordinary Wednesday, 21 October: that is the new due date,
    # not the holiday-shifted date plus 20.
    accepted_at = timezone.make_aware(dt.datetime(2026, 8, 2, 10, 0))
    Petition.objects.filter(pk=accepted.pk).update(accepted_at=accepted_at, received_at=accepted_at)
    shifted = period_end(dt.date(2026, 8, 2), ANSWER_DAYS)
    assert shifted > dt.date(2026, 10, 1)

    signed_in(client, officer).post(page_url(accepted), {"action": "extend", "days": "20", "reason": "需要现场勘查"})

    accepted.refresh_from_db()
    assert accepted.extension_days == 20 and accepted.due_on == dt.date(2026, 10, 21)
    assert accepted.due_on != shifted + dt.timedelta(days=20)


@pytest.mark.parametrize(
    ("days", "reason"),
    [
        ("0", "需要现场勘查"),
        ("31", "需要现场勘查"),
        ("abc", "需要现场勘查"),
        ("", "需要现场勘查"),
        ("10", ""),
    ],
)
def test_a_bad_extension_is_refused_and_changes_nothing(client, officer, accepted, days, reason):
    response = signed_in(client, officer).post(page_url(accepted), {"action": "extend", "days": days, "reason": reason})

    assert response.status_code == 422
    assert b'role="alert"' in response.content
    accepted.refresh_from_db()
    assert accepted.extension_days == 0


def test_an_extension_typed_in_full_width_digits_is_understood(client, officer, accepted):
    signed_in(client, officer).post(page_url(accepted), {"action": "extend", "days": "１５", "reason": "需要现场勘查"})

    accepted.refresh_from_db()
    assert accepted.extension_days == 15


def test_a_second_extension_is_refused(client, officer, accepted):
    signed_in(client, officer).post(page_url(accepted), {"action": "extend", "days": "10", "reason": "需要现场勘查"})

    response = client.post(page_url(accepted), {"action": "extend", "days": "5", "reason": "再延一次"})

    assert response.status_code == 409
    assert says(response, "The answer period has already been extended once.")
    accepted.refresh_from_db()
    assert accepted.extension_days == 10


def test_department_staff_cannot_extend(client, dept_staff, accepted):
    content = signed_in(client, dept_staff).get(page_url(accepted)).content.decode()
    assert 'value="extend"' not in content

    response = client.post(page_url(accepted), {"action": "extend", "days": "10", "reason": "需要现场勘查"})

    assert response.status_code == 403
    accepted.refresh_from_db()
    assert accepted.extension_days == 0


# Actions: recording an outcome ---------------------------------------------------------------------------------


def outcome_post(**overrides) -> dict:
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    data = {
        "action": "outcome",
        "answer": "经核实，开发商已补齐材料，房产证将于30日内办结。",
        "legal_basis": "《不动产登记暂行条例》第二十条",
        "item-0-request": "办理回迁房房产证",
        "item-0-decision": "supported",
        "item-1-request": "赔偿延误损失",
        "item-1-decision": "not_supported",
        "item-2-request": "",
        "item-2-decision": "",
        "commitment-0-responsible": "区房产局产权科",
        "commitment-0-action": "督促开发商提交材料并办结房产证",
        "commitment-0-due_on": (tomorrow + dt.timedelta(days=29)).isoformat(),
        "commitment-1-responsible": "",
        "commitment-1-action": "",
        "commitment-1-due_on": "",
        "slip_to_check": "回访确认是否已领到房产证",
        "slip_due_on": (tomorrow + dt.timedelta(days=35)).isoformat(),
    }
    data.update(overrides)
    return data


def test_department_staff_record_an_outcome_with_items_a_commitment_and_a_slip(client, dept_staff, petition, community):
    response = signed_in(client, dept_staff).post(page_url(petition), outcome_post(), follow=True)

    outcome = Outcome.objects.get(petition=petition)
    assert [(i.request, i.decision) for i in outcome.items.all()] == [
        ("办理回迁房房产证", "supported"),
        ("赔偿延误损失", "not_supported"),
    ]
    assert outcome.legal_basis == "《不动产登记暂行条例》第二十条"
    assert outcome.commitments.get().responsible == "区房产局产权科"
    assert FollowUpSlip.objects.get(petition=petition).community == community
    petition.refresh_from_db()
    assert petition.status == "follow_up"
    assert says(response, "The answer is recorded and the resident is told.")
    assert says(response, "Supported") and says(response, "Not supported")


def test_an_outcome_without_commitments_or_slip_answers_the_petition(client, dept_staff, petition):
    post = outcome_post(**{"commitment-0-responsible": "", "commitment-0-action": "", "commitment-0-due_on": ""})
    post.update(slip_to_check="", slip_due_on="")

    signed_in(client, dept_staff).post(page_url(petition), post)

    petition.refresh_from_db()
    assert petition.status == "answered" and petition.answered_at is not None


def test_an_outcome_referring_an_item_moves_the_petition(client, dept_staff, petition, other_department):
    post = outcome_post(
        **{"item-1-decision": "referred", "item-1-referred_to": "renshe", "item-1-referral_reason": "工资问题归人社局"}
    )

    signed_in(client, dept_staff).post(page_url(petition), post)

    petition.refresh_from_db()
    assert petition.department == other_department and petition.status == "referred"


@pytest.mark.parametrize(
    ("overrides", "where"),
    [
        ({"answer": ""}, "outcome-answer-error"),
        ({"item-0-request": "", "item-0-decision": "", "item-1-request": "", "item-1-decision": ""}, None),
        ({"item-1-decision": ""}, "item-1-decision"),
        ({"item-1-decision": "maybe"}, "item-1-decision"),
        ({"item-0-request": ""}, "item-0-request"),
        ({"item-1-decision": "referred", "item-1-referral_reason": "归人社局"}, "item-1-referred_to"),
        ({"item-1-decision": "referred", "item-1-referred_to": "renshe"}, "item-1-referral_reason"),
        ({"commitment-0-due_on": "2020-01-01"}, "commitment-0-due_on"),
        ({"commitment-0-due_on": "下个月"}, "commitment-0-due_on"),
        ({"commitment-0-responsible": ""}, "commitment-0-responsible"),
        ({"slip_due_on": ""}, "slip-due-on"),
        ({"slip_to_check": ""}, "slip-to-check"),
        ({"legal_basis": "依据\u202e条例"}, "outcome-basis-error"),
    ],
)
def test_a_bad_outcome_is_refused_beside_its_field_and_records_nothing(
    client, dept_staff, petition, other_department, overrides, where
):
    post = outcome_post(**overrides)

    response = signed_in(client, dept_staff).post(page_url(petition), post)

    assert response.status_code == 422
    content = response.content.decode()
    assert 'role="alert"' in content
    assert post["answer"] in content or not post["answer"]  # what was typed is shown again
    if where and where.startswith(("item-", "commitment-")):
        row = content.index(f'id="{where}"')
        assert 'class="error"' in content[row : row + 2500]
    elif where:
        assert where in content
    assert not Outcome.objects.exists() and not FollowUpSlip.objects.exists()
    petition.refresh_from_db()
    assert petition.status == "received"


def test_the_outcome_form_grows_a_row_on_request_and_keeps_what_was_typed(client, dept_staff, petition):
    post = outcome_post(more="item")

    response = signed_in(client, dept_staff).post(page_url(petition), post)

    content = response.content.decode()
    assert response.status_code == 200
    assert 'id="item-3-request"' in content and 'id="item-4-request"' not in content
    assert "赔偿延误损失" in content and post["answer"] in content
    assert not Outcome.objects.exists()


def test_an_outcome_with_more_requests_than_the_blank_rows_is_recorded(client, dept_staff, petition):
    extra = {f"item-{n}-request": f"第{n + 1}项诉求" for n in range(3, 6)}
    extra |= {f"item-{n}-decision": "explained" for n in range(3, 6)}

    signed_in(client, dept_staff).post(page_url(petition), outcome_post(**extra))

    assert Outcome.objects.get().items.count() == 5


def test_a_slip_cannot_go_to_a_petition_without_a_community(client, dept_staff, published):
    from appointments.petitions import petition_create

    f.categories()
    petition = petition_create(
        actor=dept_staff,
        name="钱文华",
        phone=f.valid_phone(),
        id_number=f.valid_id_number(),
        category="housing",
        summary="单位宿舍产权不清，无法办理房产证。",
        department="fangchan",
    )

    response = signed_in(client, dept_staff).post(page_url(petition), outcome_post())

    assert response.status_code == 422
    assert not Outcome.objects.exists()


def test_the_join_page_links_department_staff_to_the_outcome_form(client, local_video, live_appointment, dept_staff):
    content = signed_in(client, dept_staff).get(f"/staff/sessions/{live_appointment.pk}/join/").content.decode()

    link = f'href="/staff/petitions/{live_appointment.petition.reference}/#record-outcome"'
    assert link in content
    page = client.get(page_url(live_appointment.petition)).content.decode()
    assert 'id="record-outcome"' in page


def test_the_join_page_offers_no_outcome_link_to_the_community_worker(client, local_video, live_appointment, worker):
    content = signed_in(client, worker).get(f"/staff/sessions/{live_appointment.pk}/join/").content.decode()

    assert "#record-outcome" not in content


def test_recording_the_outcome_after_the_session_completes_the_appointment(
    client, local_video, live_appointment, dept_staff
):
    post = outcome_post(**{"commitment-0-responsible": "", "commitment-0-action": "", "commitment-0-due_on": ""})
    post.update(slip_to_check="", slip_due_on="")

    signed_in(client, dept_staff).post(page_url(live_appointment.petition), post)

    live_appointment.refresh_from_db()
    assert live_appointment.status == Appointment.Status.COMPLETED


# Actions: correcting, commitments, closing ---------------------------------------------------------------------


def test_correcting_the_latest_answer_keeps_the_first_version_and_why(client, dept_staff, petition):
    first = answered(petition, dept_staff)

    signed_in(client, dept_staff).post(
        page_url(petition),
        {
            "action": "correct",
            "outcome": first.pk,
            "answer": "房产证已办好，请到政务大厅二楼领取。",
            "reason": "领取地点有误",
        },
    )

    corrected = Outcome.objects.get(corrects=first)
    assert corrected.correction_reason == "领取地点有误"
    first.refresh_from_db()
    assert first.answer == "经核实，房产证将于下月办结。"
    content = client.get(page_url(petition)).content.decode()
    assert "经核实，房产证将于下月办结。" in content and "房产证已办好，请到政务大厅二楼领取。" in content


@pytest.mark.parametrize(
    "post",
    [
        {"answer": "新的答复", "reason": ""},
        {"answer": "", "reason": "写错了"},
        {"answer": "新的答复", "reason": "写错了", "outcome": "abc"},
    ],
)
def test_a_bad_correction_is_refused_and_changes_nothing(client, dept_staff, petition, post):
    first = answered(petition, dept_staff)

    response = signed_in(client, dept_staff).post(
        page_url(petition), {"action": "correct", "outcome": first.pk, **post}
    )

    assert response.status_code in (404, 422)
    assert b'role="alert"' in response.content
    assert Outcome.objects.count() == 1


def test_correcting_an_answer_already_corrected_is_refused(client, dept_staff, petition):
    first = answered(petition, dept_staff)
    signed_in(client, dept_staff).post(
        page_url(petition), {"action": "correct", "outcome": first.pk, "answer": "第二版", "reason": "补充"}
    )

    response = client.post(
        page_url(petition), {"action": "correct", "outcome": first.pk, "answer": "第三版", "reason": "再改"}
    )

    assert response.status_code == 409
    assert Outcome.objects.count() == 2


def test_an_answer_of_another_petition_cannot_be_corrected_from_this_page(
    client, dept_staff, petition, kiosk, published
):
    elsewhere = answered(f.petition(kiosk, published), dept_staff)
    answered(petition, dept_staff)

    response = signed_in(client, dept_staff).post(
        page_url(petition), {"action": "correct", "outcome": elsewhere.pk, "answer": "改别人的", "reason": "试试"}
    )

    assert response.status_code == 404
    assert not Outcome.objects.filter(corrects=elsewhere).exists()


def test_marking_the_last_commitment_done_answers_the_petition(client, dept_staff, petition):
    answered(
        petition,
        dept_staff,
        commitments=[CommitmentIn(responsible="产权科", action="补发房产证", due_on=timezone.localdate())],
    )
    commitment = Commitment.objects.get()

    signed_in(client, dept_staff).post(
        page_url(petition), {"action": "commitment_done", "commitment": commitment.pk, "note": "已补发并送达"}
    )

    commitment.refresh_from_db()
    petition.refresh_from_db()
    assert commitment.done_note == "已补发并送达" and commitment.done_by == dept_staff.staff
    assert petition.status == "answered"


def test_a_commitment_without_a_note_stays_open(client, dept_staff, petition):
    answered(
        petition,
        dept_staff,
        commitments=[CommitmentIn(responsible="产权科", action="补发房产证", due_on=timezone.localdate())],
    )
    commitment = Commitment.objects.get()

    response = signed_in(client, dept_staff).post(
        page_url(petition), {"action": "commitment_done", "commitment": commitment.pk, "note": " "}
    )

    assert response.status_code == 422
    assert b'role="alert"' in response.content
    commitment.refresh_from_db()
    assert commitment.done_at is None


def test_a_late_commitment_is_marked_late(client, dept_staff, petition):
    answered(
        petition,
        dept_staff,
        commitments=[CommitmentIn(responsible="产权科", action="补发房产证", due_on=timezone.localdate())],
    )
    Commitment.objects.update(due_on=timezone.localdate() - dt.timedelta(days=1))

    response = signed_in(client, dept_staff).get(page_url(petition))

    assert b"badge late" in response.content


def test_closing_an_answered_petition(client, dept_staff, petition):
    answered(petition, dept_staff)

    signed_in(client, dept_staff).post(page_url(petition), {"action": "close"})

    petition.refresh_from_db()
    assert petition.status == "closed"
    assert "event-closed" in client.get(page_url(petition)).content.decode()


def test_closing_with_open_commitments_is_refused(client, dept_staff, petition):
    answered(
        petition,
        dept_staff,
        commitments=[CommitmentIn(responsible="产权科", action="补发房产证", due_on=timezone.localdate())],
    )

    response = signed_in(client, dept_staff).post(page_url(petition), {"action": "close"})

    assert response.status_code == 409
    assert says(response, "Commitments or follow-up slips are still open.")
    petition.refresh_from_db()
    assert petition.status == "follow_up"


def test_an_unknown_action_is_refused(client, dept_staff, petition):
    response = signed_in(client, dept_staff).post(page_url(petition), {"action": "delete"})

    assert response.status_code == 422
    petition.refresh_from_db()
    assert petition.status == "received"


# Actions: a follow-up appointment ------------------------------------------------------------------------------


@pytest.fixture
def following_up(petition, dept_staff):
    answered(
        petition,
        dept_staff,
        commitments=[CommitmentIn(responsible="产权科", action="现场核实", due_on=timezone.localdate())],
    )
    petition.refresh_from_db()
    return petition


def test_a_follow_up_consultation_is_booked_from_the_page(client, dept_staff, following_up, open_slots):
    page = signed_in(client, dept_staff).get(page_url(following_up)).content.decode()
    assert f'<option value="{open_slots[2].pk}"' in page

    response = client.post(page_url(following_up), {"action": "book", "slot": str(open_slots[2].pk)}, follow=True)

    appointment = Appointment.objects.get(petition=following_up, status="booked")
    assert appointment.slot_id == open_slots[2].pk and appointment.booked_by == dept_staff.staff
    when = timezone.localtime(open_slots[2].starts_at)
    assert says(response, "A follow-up consultation is booked for %(when)s.", when=f"{when:%Y-%m-%d %H:%M}")


@pytest.mark.parametrize("slot", ["", "abc", "0", "999999"])
def test_a_follow_up_booking_without_a_real_time_is_refused(client, dept_staff, following_up, open_slots, slot):
    response = signed_in(client, dept_staff).post(page_url(following_up), {"action": "book", "slot": slot})

    assert response.status_code in (404, 422)
    assert b'role="alert"' in response.content
    assert not Appointment.objects.filter(petition=following_up).exists()


def test_a_follow_up_booking_of_another_departments_time_is_refused(client, dept_staff, following_up, other_department):
    from scheduler.selectors import slot_list_open

    f.weekday_rules(other_department)
    f.publish_next_weeks(other_department)
    foreign = next(s for s in slot_list_open(department=other_department) if s.remaining)

    response = signed_in(client, dept_staff).post(page_url(following_up), {"action": "book", "slot": str(foreign.pk)})

    assert response.status_code == 422
    assert not Appointment.objects.filter(petition=following_up).exists()


# The full ID number ---------------------------------------------------------------------------------------------


def test_a_petition_officer_sees_the_full_id_number_once_and_it_is_recorded(client, officer, petition, caplog):
    caplog.set_level(logging.DEBUG)
    id_number = petition.resident.id_number

    response = signed_in(client, officer).post(page_url(petition), {"action": "reveal_id"})

    assert response.status_code == 200
    assert id_number in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(action="resident.id_number_view")
    assert event.actor == officer.principal and event.target_id == str(petition.resident_id)
    assert id_number not in str(event.detail)
    assert all(id_number not in record.getMessage() for record in caplog.records)
    again = client.get(page_url(petition)).content.decode()
    assert id_number not in again


@pytest.mark.parametrize(
    ("who", "status"), [("dept_staff", 403), ("dept_admin", 403), ("worker", 403), ("outsider", 404)]
)
def test_nobody_else_may_see_the_full_id_number(client, request, petition, who, status):
    response = signed_in(client, request.getfixturevalue(who)).post(page_url(petition), {"action": "reveal_id"})

    assert response.status_code == status
    assert petition.resident.id_number not in response.content.decode()
    assert not AuditEvent.objects.filter(action="resident.id_number_view").exists()


def test_only_petition_officers_are_offered_the_full_id_number(client, officer, dept_staff, petition):
    assert 'value="reveal_id"' in signed_in(client, officer).get(page_url(petition)).content.decode()
    assert 'value="reveal_id"' not in signed_in(client, dept_staff).get(page_url(petition)).content.decode()


def test_a_worker_outside_the_petitions_community_and_department_is_a_stranger(
    client, other_department, petition, kiosk
):
    stranger = Actor(staff=f.staff("stranger", StaffMember.Role.DEPARTMENT_STAFF, department=other_department))

    assert signed_in(client, stranger).post(page_url(petition), {"action": "accept"}).status_code == 404
    petition.refresh_from_db()
    assert petition.status == "received"


@pytest.mark.parametrize("reference", ["%00", "XF%E2%80%AE1", "x" * 300, "%F0%9F%98%80", "XF2026'--"])
def test_an_odd_reference_in_the_address_is_simply_not_found(client, officer, petition, reference):
    assert signed_in(client, officer).get(f"/staff/petitions/{reference}/").status_code == 404
