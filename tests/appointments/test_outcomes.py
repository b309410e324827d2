"""Recording what a department decided: items, commitments, slips to the community, referral, corrections,
the resident's rating and the review it may open; who may decide; and bad input refused with the field named."""

import ast
import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone, translation

from appointments.booking import appointment_book
from appointments.models import (
    Appointment,
    Commitment,
    FollowUpSlip,
    Outcome,
    OutcomeItem,
    Petition,
    Rating,
    Referral,
    ReviewRequest,
)
from appointments.outcomes.lifecycle import petition_accept, petition_close, petition_not_accept, petition_transition
from appointments.outcomes.services import (
    CommitmentIn,
    ItemIn,
    OutcomeIn,
    SlipIn,
    commitment_complete,
    outcome_correct,
    outcome_current,
    outcome_record,
    rating_give,
    review_request,
    slip_close,
)
from appointments.petitions import petition_for_actor
from departments.audit import AuditEvent
from departments.models import Department, StaffMember
from departments.services import Actor
from scheduler.errors import Conflict, Forbidden, InvalidInput, NotFound
from scheduler.selectors import slot_list_open
from tests import factories as f

pytestmark = pytest.mark.django_db

S = Petition.Status
TODAY = timezone.localdate


def answer(**kwargs) -> OutcomeIn:
    values = {
        "answer": "经核实，开发商已补齐材料，房产证将于一个月内办理完毕。",
        "items": [ItemIn(request="办理回迁房房产证", decision="supported")],
        "legal_basis": "《不动产登记暂行条例》第十四条",
    }
    values.update(kwargs)
    return OutcomeIn(**values)


def commitment(days: int = 20, **kwargs) -> CommitmentIn:
    values = {
        "responsible": "区房产局产权科",
        "action": "为王秀兰办理回迁房房产证",
        "due_on": TODAY() + dt.timedelta(days),
    }
    values.update(kwargs)
    return CommitmentIn(**values)


def slip(days: int = 14, **kwargs) -> SlipIn:
    values = {
        "to_check": "回访居民是否已领到房产证，楼内其他回迁户是否同样情况",
        "due_on": TODAY() + dt.timedelta(days),
    }
    values.update(kwargs)
    return SlipIn(**values)


def fresh(petition: Petition) -> Petition:
    return Petition.objects.get(pk=petition.pk)


@pytest.fixture
def worker(community):
    return Actor(staff=f.staff("lanshan_feng", StaffMember.Role.COMMUNITY_WORKER, community=community))


@pytest.fixture
def other_worker(other_community):
    return Actor(staff=f.staff("fuan_chen", StaffMember.Role.COMMUNITY_WORKER, community=other_community))


@pytest.fixture
def renshe(other_department):
    """The other department with consultation hours of its own."""
    f.weekday_rules(other_department)
    f.publish_next_weeks(other_department)
    return other_department


@pytest.fixture
def renshe_staff(other_department):
    return Actor(staff=f.staff("renshe_wu", StaffMember.Role.DEPARTMENT_STAFF, department=other_department))


@pytest.fixture
def booked(kiosk, petition, open_slots):
    """The petition booked into the department's first open slot."""
    return appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=open_slots[0].pk).appointment


def during(appointment: Appointment) -> dt.datetime:
    return appointment.slot.starts_at + dt.timedelta(minutes=10)


# Recording an answer -------------------------------------------------------------------------------------------


def test_an_answer_during_the_session_completes_it_and_answers_the_petition(booked, dept_staff):
    petition = booked.petition
    assert fresh(petition).status == S.SCHEDULED

    outcome = outcome_record(actor=dept_staff, petition=petition, data=answer(), now=during(booked))

    petition = fresh(petition)
    assert petition.status == S.ANSWERED
    assert petition.answered_at == during(booked) and petition.accepted_at == during(booked)
    assert (petition.due_on, petition.due_kind) == (None, "")
    assert Appointment.objects.get(pk=booked.pk).status == Appointment.Status.COMPLETED
    assert outcome.appointment_id == booked.pk and outcome.stage == "first"
    assert outcome.recorded_by == dept_staff.staff and outcome.told_at == during(booked)
    assert outcome.department_id == petition.department_id
    actions = list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))
    assert actions[-4:] == ["appointment.complete", "outcome.record", "petition.accept", "petition.status"]
    assert AuditEvent.objects.get(action="petition.accept").detail == {"implicit": True}


def test_an_answer_after_the_session_answers_a_petition_in_consultation(booked, dept_staff):
    petition = petition_transition(petition=booked.petition, to=S.IN_CONSULTATION, reason="session_held")

    outcome_record(actor=dept_staff, petition=petition, data=answer(), now=during(booked) + dt.timedelta(hours=2))

    assert fresh(petition).status == S.ANSWERED
    assert Appointment.objects.get(pk=booked.pk).status == Appointment.Status.COMPLETED


def test_an_answer_before_the_session_leaves_the_booking_for_the_resident(booked, dept_staff):
    outcome = outcome_record(actor=dept_staff, petition=booked.petition, data=answer())

    assert fresh(booked.petition).status == S.ANSWERED
    assert Appointment.objects.get(pk=booked.pk).status == Appointment.Status.BOOKED
    assert outcome.appointment is None


def test_an_answer_keeps_an_earlier_acceptance(petition, dept_staff):
    accepted = timezone.now() - dt.timedelta(days=3)
    petition_accept(actor=dept_staff, petition=petition, now=accepted)

    outcome_record(actor=dept_staff, petition=petition, data=answer())

    assert fresh(petition).accepted_at == accepted
    assert AuditEvent.objects.filter(action="petition.accept").count() == 1


def test_several_requests_get_a_decision_each_in_order(petition, dept_staff):
    items = [
        ItemIn(request="办理回迁房房产证", decision="supported"),
        ItemIn(request="赔偿三年的租房损失", decision="not_supported"),
        ItemIn(request="说明延误原因", decision="explained"),
        ItemIn(request="减免物业费", decision="partly_supported"),
    ]

    outcome = outcome_record(actor=dept_staff, petition=petition, data=answer(items=items))

    stored = list(outcome.items.values_list("position", "request", "decision"))
    assert stored == [
        (1, "办理回迁房房产证", "supported"),
        (2, "赔偿三年的租房损失", "not_supported"),
        (3, "说明延误原因", "explained"),
        (4, "减免物业费", "partly_supported"),
    ]
    assert AuditEvent.objects.get(action="outcome.record").detail == {
        "petition": petition.reference,
        "decisions": ["supported", "not_supported", "explained", "partly_supported"],
    }


def test_text_is_stored_trimmed_and_normalised(petition, dept_staff):
    data = answer(answer="  经核实，房产证将于下月办理。\r\n请留意短信通知。  ", legal_basis="  ")

    outcome = outcome_record(actor=dept_staff, petition=petition, data=data)

    assert outcome.answer == "经核实，房产证将于下月办理。\n请留意短信通知。"
    assert outcome.legal_basis == ""


def test_a_petition_officer_may_record_an_answer(petition, officer):
    outcome = outcome_record(actor=officer, petition=petition, data=answer())

    assert outcome.recorded_by == officer.staff


@pytest.mark.parametrize("who", ["outsider", "worker", "kiosk", "anonymous"])
def test_nobody_else_may_record_an_answer(petition, outsider, worker, kiosk, who):
    actor = {"outsider": outsider, "worker": worker, "kiosk": kiosk, "anonymous": Actor()}[who]
    events = AuditEvent.objects.count()

    with pytest.raises(Forbidden):
        outcome_record(actor=actor, petition=petition, data=answer())

    assert not Outcome.objects.exists() and fresh(petition).status == S.RECEIVED
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("status", [S.ANSWERED, S.CLOSED, S.NOT_ACCEPTED])
def test_an_answered_closed_or_refused_petition_takes_no_new_answer(petition, dept_staff, status):
    Petition.objects.filter(pk=petition.pk).update(status=status, not_accepted_reason="已进入诉讼程序")

    with pytest.raises(Conflict) as refused:
        outcome_record(actor=dept_staff, petition=petition, data=answer())

    assert refused.value.field == "status"
    assert not Outcome.objects.exists()


# Commitments and follow-up slips -------------------------------------------------------------------------------


def test_commitments_keep_the_petition_in_follow_up_until_the_last_is_kept(petition, dept_staff):
    data = answer(
        commitments=[commitment(10), commitment(30, responsible="大东街道办事处", action="协调开发商补交材料")]
    )
    outcome = outcome_record(actor=dept_staff, petition=petition, data=data)
    assert fresh(petition).status == S.FOLLOW_UP
    first, second = outcome.commitments.order_by("due_on")
    assert (first.responsible, first.due_on) == ("区房产局产权科", TODAY() + dt.timedelta(10))

    commitment_complete(actor=dept_staff, commitment_id=first.pk, note="房产证已制证，通知居民领取")
    assert fresh(petition).status == S.FOLLOW_UP

    done = commitment_complete(actor=dept_staff, commitment_id=second.pk, note="开发商已补交竣工验收材料")

    assert fresh(petition).status == S.ANSWERED
    assert done.done_by == dept_staff.staff and done.done_at is not None
    assert AuditEvent.objects.filter(action="commitment.complete").count() == 2
    assert AuditEvent.objects.filter(action="petition.status", detail__reason="follow_up_done").count() == 1


def test_a_commitment_is_kept_once_and_only_with_a_note(petition, dept_staff):
    outcome = outcome_record(actor=dept_staff, petition=petition, data=answer(commitments=[commitment()]))
    kept = outcome.commitments.get()

    for bad in ["", "   ", "\u200b", "已\u202e办", "长" * 501]:
        with pytest.raises(InvalidInput) as refused:
            commitment_complete(actor=dept_staff, commitment_id=kept.pk, note=bad)
        assert refused.value.field == "note"
    assert Commitment.objects.get(pk=kept.pk).done_at is None

    commitment_complete(actor=dept_staff, commitment_id=kept.pk, note="已办结")
    with pytest.raises(Conflict):
        commitment_complete(actor=dept_staff, commitment_id=kept.pk, note="又办了一次")
    assert Commitment.objects.get(pk=kept.pk).done_note == "已办结"


@pytest.mark.parametrize("who", ["outsider", "worker", "kiosk"])
def test_only_the_department_or_the_office_marks_a_commitment_kept(petition, dept_staff, outsider, worker, kiosk, who):
    outcome = outcome_record(actor=dept_staff, petition=petition, data=answer(commitments=[commitment()]))
    actor = {"outsider": outsider, "worker": worker, "kiosk": kiosk}[who]

    with pytest.raises(NotFound):
        commitment_complete(actor=actor, commitment_id=outcome.commitments.get().pk, note="已办结")

    assert fresh(petition).status == S.FOLLOW_UP


def test_a_slip_goes_to_the_residents_community_and_closing_it_answers_the_petition(petition, dept_staff, worker):
    outcome = outcome_record(actor=dept_staff, petition=petition, data=answer(slip=slip()))
    assert fresh(petition).status == S.FOLLOW_UP
    sent = FollowUpSlip.objects.get()
    assert sent.community_id == petition.community_id and sent.outcome == outcome
    assert sent.decided == outcome.answer and sent.due_on == TODAY() + dt.timedelta(14)

    closed = slip_close(actor=worker, slip_id=sent.pk, findings="居民已领到房产证，表示满意")

    assert closed.closed_by == worker.staff and closed.findings == "居民已领到房产证，表示满意"
    assert fresh(petition).status == S.ANSWERED
    with pytest.raises(Conflict):
        slip_close(actor=worker, slip_id=sent.pk, findings="再关一次")


def test_a_slip_and_a_commitment_both_have_to_be_done(petition, dept_staff, worker):
    outcome = outcome_record(actor=dept_staff, petition=petition, data=answer(commitments=[commitment()], slip=slip()))

    slip_close(actor=worker, slip_id=FollowUpSlip.objects.get().pk, findings="已入户回访")
    assert fresh(petition).status == S.FOLLOW_UP
    with pytest.raises(Conflict):
        petition_close(actor=dept_staff, petition=petition)

    commitment_complete(actor=dept_staff, commitment_id=outcome.commitments.get().pk, note="已办结")
    assert fresh(petition).status == S.ANSWERED
    petition_close(actor=dept_staff, petition=petition)
    assert fresh(petition).status == S.CLOSED


@pytest.mark.parametrize("who", ["other_worker", "dept_staff", "kiosk"])
def test_a_slip_is_closed_only_by_its_community_or_the_office(petition, dept_staff, other_worker, kiosk, who):
    outcome_record(actor=dept_staff, petition=petition, data=answer(slip=slip()))
    actor = {"other_worker": other_worker, "dept_staff": dept_staff, "kiosk": kiosk}[who]

    with pytest.raises(NotFound):
        slip_close(actor=actor, slip_id=FollowUpSlip.objects.get().pk, findings="已回访")

    assert FollowUpSlip.objects.get().closed_at is None


def test_a_petition_officer_may_close_a_slip(petition, dept_staff, officer):
    outcome_record(actor=dept_staff, petition=petition, data=answer(slip=slip()))

    slip_close(actor=officer, slip_id=FollowUpSlip.objects.get().pk, findings="电话回访，居民已领证")

    assert fresh(petition).status == S.ANSWERED


@pytest.mark.parametrize("findings", ["", "  ", "\u200d", "已\u2067回访", "已\x1b回访", "长" * 2001, None])
def test_a_slip_closes_only_with_clean_findings(petition, dept_staff, worker, findings):
    outcome_record(actor=dept_staff, petition=petition, data=answer(slip=slip()))

    with pytest.raises(InvalidInput) as refused:
        slip_close(actor=worker, slip_id=FollowUpSlip.objects.get().pk, findings=findings)

    assert refused.value.field == "findings"
    assert FollowUpSlip.objects.get().closed_at is None


def test_a_slip_needs_a_community_to_go_to(officer, department, dept_staff):
    petition = f.petition(officer, department)  # filed at the petition office, no community
    assert petition.community_id is None

    with pytest.raises(InvalidInput) as refused:
        outcome_record(actor=dept_staff, petition=petition, data=answer(slip=slip()))

    assert refused.value.field == "slip"
    assert not Outcome.objects.exists()


# Referral ------------------------------------------------------------------------------------------------------


def test_a_referral_moves_the_petition_with_its_history_and_cancels_its_coming_session(
    booked, dept_staff, renshe, renshe_staff, kiosk
):
    petition = booked.petition
    items = [
        ItemIn(request="办理回迁房房产证", decision="explained"),
        ItemIn(
            request="物业公司拖欠保洁工资",
            decision="referred",
            referred_to="renshe",
            referral_reason="工资拖欠属人社局劳动监察职责",
        ),
    ]

    outcome = outcome_record(actor=dept_staff, petition=petition, data=answer(items=items))

    petition = fresh(petition)
    assert petition.status == S.REFERRED and petition.department == renshe
    assert petition.answered_at is None and petition.accepted_at is None  # the new department decides
    referral = Referral.objects.get()
    assert (referral.from_department_id, referral.to_department, referral.by) == (
        booked.slot.department_id,
        renshe,
        dept_staff.staff,
    )
    assert referral.reason == "工资拖欠属人社局劳动监察职责"
    assert OutcomeItem.objects.get(outcome=outcome, decision="referred").referred_to == renshe
    cancelled = Appointment.objects.get(pk=booked.pk)
    assert cancelled.status == Appointment.Status.CANCELLED and cancelled.cancel_reason_code == "referred"
    assert list(petition.outcomes.all()) == [outcome]  # the first department's answer stays on the record

    # The other department now sees it, books it and decides; the first one no longer sees it.
    assert petition_for_actor(actor=renshe_staff, reference=petition.reference) == petition
    with pytest.raises(NotFound):
        petition_for_actor(actor=dept_staff, reference=petition.reference)
    slot = next(s for s in slot_list_open(department=renshe) if s.remaining)
    rebooked = appointment_book(actor=renshe_staff, petition_reference=petition.reference, slot_id=slot.pk)
    assert rebooked.appointment.slot.department == renshe and fresh(petition).status == S.SCHEDULED
    petition_accept(actor=renshe_staff, petition=petition)
    assert fresh(petition).accepted_at is not None


def test_the_receiving_department_may_refuse_a_referred_petition(petition, dept_staff, renshe_staff):
    items = [ItemIn(request="工资拖欠", decision="referred", referred_to="renshe", referral_reason="属人社局职责")]
    outcome_record(actor=dept_staff, petition=petition, data=answer(items=items))

    petition_not_accept(
        actor=renshe_staff, petition=petition, reason="已申请劳动仲裁", redirect_to="区劳动人事争议仲裁院"
    )

    petition = fresh(petition)
    assert petition.status == S.NOT_ACCEPTED and petition.redirect_to == "区劳动人事争议仲裁院"


def test_a_session_under_way_is_completed_not_cancelled_by_a_referral(booked, dept_staff, renshe):
    items = [ItemIn(request="工资拖欠", decision="referred", referred_to="renshe", referral_reason="属人社局职责")]

    outcome = outcome_record(actor=dept_staff, petition=booked.petition, data=answer(items=items), now=during(booked))

    assert Appointment.objects.get(pk=booked.pk).status == Appointment.Status.COMPLETED
    assert outcome.appointment_id == booked.pk
    assert fresh(booked.petition).status == S.REFERRED


# Correction ----------------------------------------------------------------------------------------------------


def test_a_correction_keeps_the_first_version_and_says_why(petition, dept_staff):
    first = outcome_record(
        actor=dept_staff,
        petition=petition,
        data=answer(items=[ItemIn(request="办理房产证", decision="supported"), ItemIn("说明原因", "explained")]),
    )

    corrected = outcome_correct(
        actor=dept_staff,
        outcome_id=first.pk,
        answer="更正：房产证将于两个月内办理完毕。",
        legal_basis="",
        reason="办理期限写错",
    )

    kept = Outcome.objects.get(pk=first.pk)
    assert kept.answer == first.answer and kept.legal_basis == first.legal_basis
    assert corrected.corrects == kept and corrected.correction_reason == "办理期限写错"
    assert list(corrected.items.values_list("request", "decision")) == [
        ("办理房产证", "supported"),
        ("说明原因", "explained"),
    ]
    assert outcome_current(petition) == corrected
    event = AuditEvent.objects.get(action="outcome.correct")
    assert event.detail == {"corrects": first.pk} and event.target_id == str(corrected.pk)


@pytest.mark.parametrize("reason", ["", "  ", "\u200b\u200b", "写\u202e错", "写\x07错", "长" * 1001, None])
def test_a_correction_needs_a_clean_reason(petition, dept_staff, reason):
    first = outcome_record(actor=dept_staff, petition=petition, data=answer())

    with pytest.raises(InvalidInput) as refused:
        outcome_correct(actor=dept_staff, outcome_id=first.pk, answer="更正后的答复", legal_basis="", reason=reason)

    assert refused.value.field == "reason"
    assert Outcome.objects.count() == 1


@pytest.mark.parametrize(
    ("answer_text", "legal_basis", "field"),
    [
        ("", "", "answer"),
        ("长" * 4001, "", "answer"),
        ("更\u2066正", "", "answer"),
        ("更正", "依\x00据", "legal_basis"),
    ],
)
def test_a_correction_needs_a_clean_answer(petition, dept_staff, answer_text, legal_basis, field):
    first = outcome_record(actor=dept_staff, petition=petition, data=answer())

    with pytest.raises(InvalidInput) as refused:
        outcome_correct(
            actor=dept_staff, outcome_id=first.pk, answer=answer_text, legal_basis=legal_basis, reason="写错了"
        )

    assert refused.value.field == field
    assert Outcome.objects.count() == 1


def test_only_the_latest_version_can_be_corrected(petition, dept_staff):
    first = outcome_record(actor=dept_staff, petition=petition, data=answer())
    second = outcome_correct(actor=dept_staff, outcome_id=first.pk, answer="第二版", legal_basis="", reason="期限写错")

    with pytest.raises(Conflict):
        outcome_correct(actor=dept_staff, outcome_id=first.pk, answer="另一版", legal_basis="", reason="再改")

    third = outcome_correct(actor=dept_staff, outcome_id=second.pk, answer="第三版", legal_basis="", reason="又错了")
    assert outcome_current(petition) == third
    assert Outcome.objects.count() == 3


@pytest.mark.parametrize("who", ["outsider", "worker", "kiosk"])
def test_only_the_department_or_the_office_corrects(petition, dept_staff, outsider, worker, kiosk, who):
    first = outcome_record(actor=dept_staff, petition=petition, data=answer())
    actor = {"outsider": outsider, "worker": worker, "kiosk": kiosk}[who]

    with pytest.raises(Forbidden):
        outcome_correct(actor=actor, outcome_id=first.pk, answer="改掉", legal_basis="", reason="想改")

    assert Outcome.objects.count() == 1


def test_correcting_an_answer_that_does_not_exist_says_so(dept_staff, department):
    with pytest.raises(NotFound):
        outcome_correct(actor=dept_staff, outcome_id=987654, answer="改掉", legal_basis="", reason="想改")


# Rating and review ---------------------------------------------------------------------------------------------


def test_a_resident_rates_an_answer_once(petition, dept_staff, kiosk):
    outcome = outcome_record(actor=dept_staff, petition=petition, data=answer())

    rating = rating_give(actor=kiosk, petition=petition, level="basically_satisfied", remark="办得还算及时")

    assert (rating.outcome, rating.level, rating.remark, rating.kiosk) == (
        outcome,
        "basically_satisfied",
        "办得还算及时",
        kiosk.kiosk,
    )
    with pytest.raises(Conflict):
        rating_give(actor=kiosk, petition=petition, level="satisfied")
    assert Rating.objects.count() == 1
    assert AuditEvent.objects.get(action="rating.give").detail == {"level": "basically_satisfied"}


def test_a_corrected_answer_is_not_rated_again_however_often_corrected(petition, dept_staff, kiosk):
    first = outcome_record(actor=dept_staff, petition=petition, data=answer())
    second = outcome_correct(actor=dept_staff, outcome_id=first.pk, answer="第二版", legal_basis="", reason="期限写错")
    rating_give(actor=kiosk, petition=petition, level="satisfied")
    outcome_correct(actor=dept_staff, outcome_id=second.pk, answer="第三版", legal_basis="", reason="又错了")

    with pytest.raises(Conflict):
        rating_give(actor=kiosk, petition=petition, level="dissatisfied")

    assert Rating.objects.count() == 1


def test_nothing_to_rate_before_an_answer(petition, kiosk):
    with pytest.raises(Conflict):
        rating_give(actor=kiosk, petition=petition, level="satisfied")


@pytest.mark.parametrize(
    ("level", "remark", "field"),
    [
        ("happy", "", "level"),
        ("", "", "level"),
        (None, "", "level"),
        ("SATISFIED", "", "level"),
        ("satisfied", "长" * 501, "remark"),
        ("satisfied", "很\u202e好", "remark"),
        ("satisfied", "很\x00好", "remark"),
        ("satisfied", "\u200b", "remark"),
        ("satisfied", 5, "remark"),
    ],
)
def test_a_rating_with_bad_input_is_refused(petition, dept_staff, kiosk, level, remark, field):
    outcome_record(actor=dept_staff, petition=petition, data=answer())

    with pytest.raises(InvalidInput) as refused:
        rating_give(actor=kiosk, petition=petition, level=level, remark=remark)

    assert refused.value.field == field
    assert not Rating.objects.exists()


def test_not_satisfied_then_a_review_reopens_the_petition(petition, dept_staff, kiosk):
    outcome = outcome_record(actor=dept_staff, petition=petition, data=answer())
    rating_give(actor=kiosk, petition=petition, level="dissatisfied", remark="一个月太久了")

    request = review_request(actor=kiosk, petition=petition, reason="希望两周内办完")

    petition = fresh(petition)
    assert petition.status == S.REOPENED and petition.answered_at is None
    assert (request.of_outcome, request.stage, request.reason, request.kiosk) == (
        outcome,
        "review",
        "希望两周内办完",
        kiosk.kiosk,
    )
    assert petition.due_kind == "review_answer" and petition.due_on == request.answer_due_on
    event = AuditEvent.objects.filter(action="petition.status").order_by("pk").last()
    assert event.detail == {"from": "answered", "to": "reopened", "reason": "review_requested"}


@pytest.mark.parametrize("reason", ["长" * 1001, "希\u202e望", "希\x1f望", 42])
def test_a_review_request_with_a_bad_reason_is_refused(petition, dept_staff, kiosk, reason):
    outcome_record(actor=dept_staff, petition=petition, data=answer())

    with pytest.raises(InvalidInput) as refused:
        review_request(actor=kiosk, petition=petition, reason=reason)

    assert refused.value.field == "reason"
    assert fresh(petition).status == S.ANSWERED and not ReviewRequest.objects.exists()


def test_a_review_of_a_follow_up_keeps_its_commitments_open(petition, dept_staff, kiosk):
    outcome = outcome_record(actor=dept_staff, petition=petition, data=answer(commitments=[commitment()]))
    review_request(actor=kiosk, petition=petition)

    review_answer = outcome_record(actor=dept_staff, petition=petition, data=answer(answer="复查意见：维持原答复。"))

    assert review_answer.stage == "review"
    assert fresh(petition).status == S.FOLLOW_UP  # the first answer's commitment is still open
    commitment_complete(actor=dept_staff, commitment_id=outcome.commitments.get().pk, note="已办结")
    assert fresh(petition).status == S.ANSWERED


# Acceptance decisions ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["dept_staff", "dept_admin", "officer"])
def test_the_department_or_the_office_accepts(petition, dept_staff, dept_admin, officer, who):
    actor = {"dept_staff": dept_staff, "dept_admin": dept_admin, "officer": officer}[who]

    petition_accept(actor=actor, petition=petition)

    petition = fresh(petition)
    assert petition.status == S.ACCEPTED and petition.accepted_at is not None
    assert petition.due_kind == "answer"
    assert AuditEvent.objects.get(action="petition.accept").actor == actor.principal


@pytest.mark.parametrize("who", ["outsider", "renshe_staff", "worker", "kiosk", "anonymous"])
def test_nobody_else_accepts_or_refuses(petition, outsider, renshe_staff, worker, kiosk, who):
    actor = {
        "outsider": outsider,
        "renshe_staff": renshe_staff,
        "worker": worker,
        "kiosk": kiosk,
        "anonymous": Actor(),
    }[who]
    events = AuditEvent.objects.count()

    with pytest.raises(Forbidden):
        petition_accept(actor=actor, petition=petition)
    with pytest.raises(Forbidden):
        petition_not_accept(actor=actor, petition=petition, reason="不属于本部门职责")

    petition = fresh(petition)
    assert petition.status == S.RECEIVED and petition.accepted_at is None and petition.acceptance_decided_at is None
    assert AuditEvent.objects.count() == events


def test_a_refusal_says_why_and_where_to_go(petition, dept_staff):
    petition_not_accept(
        actor=dept_staff, petition=petition, reason="该事项已进入诉讼程序。", redirect_to="区人民法院立案庭"
    )

    petition = fresh(petition)
    assert petition.status == S.NOT_ACCEPTED
    assert (petition.not_accepted_reason, petition.redirect_to) == ("该事项已进入诉讼程序。", "区人民法院立案庭")
    assert petition.acceptance_decided_at is not None and petition.accepted_at is None
    event = AuditEvent.objects.filter(action="petition.status").order_by("pk").last()
    assert event.detail == {"from": "received", "to": "not_accepted", "reason": "not_accepted"}


@pytest.mark.parametrize(
    ("reason", "redirect_to", "field"),
    [
        ("", "", "reason"),
        ("   ", "", "reason"),
        ("\u2060", "", "reason"),
        ("长" * 1001, "", "reason"),
        ("已\u202e诉讼", "", "reason"),
        (None, "", "reason"),
        ("已进入诉讼程序", "长" * 201, "redirect_to"),
        ("已进入诉讼程序", "区法院\n立案庭", "redirect_to"),
        ("已进入诉讼程序", "区\u200f法院", "redirect_to"),
        ("已进入诉讼程序", ["区法院"], "redirect_to"),
    ],
)
def test_a_refusal_with_bad_input_is_refused(petition, dept_staff, reason, redirect_to, field):
    with pytest.raises(InvalidInput) as refused:
        petition_not_accept(actor=dept_staff, petition=petition, reason=reason, redirect_to=redirect_to)

    assert refused.value.field == field
    petition = fresh(petition)
    assert petition.status == S.RECEIVED and petition.acceptance_decided_at is None


def test_an_accepted_petition_is_not_accepted_again_nor_refused(petition, dept_staff):
    petition_accept(actor=dept_staff, petition=petition)

    with pytest.raises(Conflict):
        petition_accept(actor=dept_staff, petition=petition)
    with pytest.raises(Conflict):
        petition_not_accept(actor=dept_staff, petition=petition, reason="不属于本部门职责")

    assert fresh(petition).status == S.ACCEPTED


def test_a_booked_petition_is_accepted_without_losing_its_booking(booked, dept_staff):
    petition_accept(actor=dept_staff, petition=booked.petition)

    petition = fresh(booked.petition)
    assert petition.status == S.SCHEDULED and petition.accepted_at is not None
    assert Appointment.objects.get(pk=booked.pk).status == Appointment.Status.BOOKED


# Bad input for every field of an answer ------------------------------------------------------------------------


def _items(*items: ItemIn) -> dict:
    return {"items": list(items)}


def _referral(**kwargs) -> ItemIn:
    values = {"request": "工资拖欠", "decision": "referred", "referred_to": "renshe", "referral_reason": "属人社局职责"}
    values.update(kwargs)
    return ItemIn(**values)


BAD_ANSWERS = [
    ({"answer": ""}, "answer"),
    ({"answer": "   \n "}, "answer"),
    ({"answer": None}, "answer"),
    ({"answer": 12345}, "answer"),
    ({"answer": "长" * 4001}, "answer"),
    ({"answer": "房产证\u202e将办理"}, "answer"),
    ({"answer": "\u200b\u200c\ufeff"}, "answer"),
    ({"answer": "房产证\x07将办理"}, "answer"),
    ({"legal_basis": "依" * 2001}, "legal_basis"),
    ({"legal_basis": "《条例》\u2066第十四条"}, "legal_basis"),
    ({"legal_basis": "《条例》\x00第十四条"}, "legal_basis"),
    (_items(), "items"),
    (_items(*[ItemIn(request=f"诉求{n}", decision="supported") for n in range(21)]), "items"),
    ({"items": "办理房产证"}, "items"),
    ({"items": [("办理房产证", "supported")]}, "items"),
    (_items(ItemIn(request="", decision="supported")), "items.0.request"),
    (_items(ItemIn(request="办" * 501, decision="supported")), "items.0.request"),
    (_items(ItemIn(request="办理\n房产证", decision="supported")), "items.0.request"),
    (_items(ItemIn(request="办理\u202d房产证", decision="supported")), "items.0.request"),
    (
        _items(ItemIn(request="办理房产证", decision="supported"), ItemIn(request="赔偿", decision="approve")),
        "items.1.decision",
    ),
    (_items(ItemIn(request="办理房产证", decision="")), "items.0.decision"),
    (_items(ItemIn(request="办理房产证", decision="SUPPORTED")), "items.0.decision"),
    (_items(ItemIn(request="办理房产证", decision=None)), "items.0.decision"),  # type: ignore[arg-type]
    (_items(_referral(referred_to="")), "items.0.referred_to"),
    (_items(_referral(referred_to="nosuch")), "items.0.referred_to"),
    (_items(_referral(referred_to="fangchan")), "items.0.referred_to"),  # its own department
    (_items(_referral(referred_to="closed_dept")), "items.0.referred_to"),
    (_items(_referral(referred_to="ren\u202eshe")), "items.0.referred_to"),
    (_items(_referral(referral_reason="")), "items.0.referral_reason"),
    (_items(_referral(referral_reason="因" * 501)), "items.0.referral_reason"),
    (_items(_referral(), _referral(referred_to="sifa")), "items"),
    ({"commitments": [commitment(responsible="")]}, "commitments.0.responsible"),
    ({"commitments": [commitment(responsible="科" * 101)]}, "commitments.0.responsible"),
    ({"commitments": [commitment(responsible="产权科\n张科长")]}, "commitments.0.responsible"),
    ({"commitments": [commitment(), commitment(action="")]}, "commitments.1.action"),
    ({"commitments": [commitment(action="办" * 501)]}, "commitments.0.action"),
    ({"commitments": [commitment(action="办\u2068证")]}, "commitments.0.action"),
    ({"commitments": [commitment(-1)]}, "commitments.0.due_on"),
    ({"commitments": [commitment(400)]}, "commitments.0.due_on"),
    ({"commitments": [commitment(due_on="2026-12-31")]}, "commitments.0.due_on"),
    ({"commitments": [commitment(due_on=timezone.now())]}, "commitments.0.due_on"),
    ({"commitments": [commitment(due_on=None)]}, "commitments.0.due_on"),
    ({"commitments": [commitment() for _ in range(21)]}, "commitments"),
    ({"commitments": "办理房产证"}, "commitments"),
    ({"slip": slip(to_check="")}, "slip.to_check"),
    ({"slip": slip(to_check="查" * 1001)}, "slip.to_check"),
    ({"slip": slip(to_check="回访\u200f居民")}, "slip.to_check"),
    ({"slip": slip(-3)}, "slip.due_on"),
    ({"slip": slip(400)}, "slip.due_on"),
    ({"slip": "回访居民"}, "slip"),
]


@pytest.mark.parametrize(
    ("change", "field"), BAD_ANSWERS, ids=[f"{field}-{n}" for n, (_c, field) in enumerate(BAD_ANSWERS)]
)
def test_an_answer_with_bad_input_is_refused_with_the_field_named_and_nothing_changes(
    booked, dept_staff, renshe, change, field
):
    Department.objects.create(code="closed_dept", name="区已撤销局", is_active=False)
    f.department("sifa", "区司法局")
    petition = booked.petition
    events = AuditEvent.objects.count()
    data = dataclasses.replace(answer(), **change)

    with pytest.raises(InvalidInput) as refused:
        outcome_record(actor=dept_staff, petition=petition, data=data, now=during(booked))

    assert refused.value.field == field
    assert str(refused.value.message)
    assert not Outcome.objects.exists() and not Commitment.objects.exists() and not FollowUpSlip.objects.exists()
    assert not Referral.objects.exists()
    stored = fresh(petition)
    assert (stored.status, stored.department_id, stored.accepted_at) == (S.SCHEDULED, petition.department_id, None)
    assert Appointment.objects.get(pk=booked.pk).status == Appointment.Status.BOOKED
    assert AuditEvent.objects.count() == events


def test_dates_at_the_edges_of_the_allowed_range_are_taken(petition, dept_staff):
    data = answer(commitments=[commitment(0), commitment(366)], slip=slip(366))

    outcome = outcome_record(actor=dept_staff, petition=petition, data=data)

    assert sorted(outcome.commitments.values_list("due_on", flat=True)) == [
        TODAY(),
        TODAY() + dt.timedelta(366),
    ]


# Every message reads in Chinese --------------------------------------------------------------------------------


def _messages(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "_"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ]


@pytest.mark.parametrize(
    "module", ["appointments/outcomes/lifecycle.py", "appointments/outcomes/services.py", "appointments/models.py"]
)
def test_every_message_and_label_reads_in_chinese(module):
    messages = _messages(Path(django_settings.BASE_DIR) / module)
    assert messages

    with translation.override("zh-hans"):
        untranslated = [m for m in messages if translation.gettext(m) == m]

    assert untranslated == []
