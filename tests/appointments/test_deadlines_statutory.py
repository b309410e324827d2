"""Each petition's statutory clock (信访工作条例 2022): acceptance within 15 days of receipt, the answer within 60 days
of acceptance plus one extension, review and re-examination within 30 days each, in calendar or working days."""

import datetime as dt

import pytest

from appointments.models import DueKind, Petition, ReviewRequest
from appointments.outcomes.lifecycle import (
    days_left,
    petition_accept,
    petition_close,
    petition_deadline_refresh,
    petition_extend,
    petition_not_accept,
    petition_refer,
)
from appointments.outcomes.services import (
    ItemIn,
    OutcomeIn,
    outcome_record,
    review_request,
    review_window_ends,
)
from departments.audit import AuditEvent
from departments.models import StaffMember
from departments.services import Actor
from scheduler.errors import Conflict, Forbidden, InvalidInput
from tests import factories as f

pytestmark = pytest.mark.django_db

D = dt.date
S = Petition.Status
# Dates below follow the State Council's 2026 schedule: Spring Festival 02-15 … 02-23 off with 02-14 and 02-28
# worked; National Day 10-01 … 10-07 off with 09-20 and 10-10 worked. 2024 had 02-10 … 02-17 off.


def at(value: str) -> dt.datetime:
    return f.local(value)


def filed(kiosk: Actor, department, received: str) -> Petition:
    """A petition received at a local time in the past (the clock is refreshed as a sweep would)."""
    petition = f.petition(kiosk, department)
    Petition.objects.filter(pk=petition.pk).update(received_at=at(received))
    petition.refresh_from_db()
    return petition_deadline_refresh(petition=petition)


def stored(petition: Petition) -> tuple[dt.date | None, str]:
    petition = Petition.objects.get(pk=petition.pk)
    return petition.due_on, petition.due_kind


def answer(**kwargs) -> OutcomeIn:
    values = {
        "answer": "经核实，开发商已补齐材料，房产证将于一个月内办理完毕。",
        "items": [ItemIn(request="办理回迁房房产证", decision="supported")],
    }
    values.update(kwargs)
    return OutcomeIn(**values)


@pytest.fixture
def dept_officer(department):
    return Actor(staff=f.staff("officer_li", StaffMember.Role.PETITION_OFFICER))


# Acceptance: 15 days from receipt ------------------------------------------------------------------------------

ACCEPTANCE_CALENDAR = [
    ("2026-03-02 09:10", D(2026, 3, 17)),
    ("2026-01-20 16:00", D(2026, 2, 4)),  # across a month end
    ("2024-02-14 10:00", D(2024, 2, 29)),  # a leap year's 29 February
    ("2023-02-14 10:00", D(2023, 3, 1)),  # and a common year's 1 March
    ("2026-03-06 11:00", D(2026, 3, 23)),  # Saturday 03-21 → Monday
    ("2026-02-01 08:30", D(2026, 2, 24)),  # 02-16 in the Spring Festival → first working day after it
    ("2026-01-30 14:00", D(2026, 2, 14)),  # a make-up working Saturday is a working day
    ("2026-09-16 15:45", D(2026, 10, 8)),  # 10-01 in the National Day holiday → 10-08
    ("2026-03-01 23:30", D(2026, 3, 16)),  # received late at night: the day counts in Beijing time
    ("2026-03-02 00:30", D(2026, 3, 17)),  # half an hour after midnight is the next day (16:30 UTC before)
]


@pytest.mark.parametrize(("received", "due"), ACCEPTANCE_CALENDAR)
def test_acceptance_is_due_15_calendar_days_after_receipt(kiosk, department, received, due):
    petition = filed(kiosk, department, received)

    assert stored(petition) == (due, DueKind.ACCEPTANCE)


ACCEPTANCE_WORKING = [
    ("2026-03-02 09:10", D(2026, 3, 23)),
    ("2026-01-30 14:00", D(2026, 2, 27)),  # 02-14 counts, 02-15 … 02-23 do not
    ("2026-02-10 10:00", D(2026, 3, 9)),  # both make-up Saturdays count
    ("2026-09-28 10:00", D(2026, 10, 23)),  # National Day and its make-up Saturday 10-10
    ("2024-02-20 10:00", D(2024, 3, 12)),  # through a leap year's 29 February
]


@pytest.mark.parametrize(("received", "due"), ACCEPTANCE_WORKING)
def test_acceptance_is_due_15_working_days_after_receipt_when_set_so(kiosk, department, settings, received, due):
    settings.PETITION_DEADLINES_IN_WORKING_DAYS = True

    petition = filed(kiosk, department, received)

    assert stored(petition) == (due, DueKind.ACCEPTANCE)


def test_a_new_petition_starts_its_acceptance_clock_at_once(kiosk, department):
    petition = f.petition(kiosk, department)

    due_on, kind = stored(petition)
    assert kind == DueKind.ACCEPTANCE
    assert 15 <= (due_on - petition.received_at.date()).days <= 15 + 9  # a long holiday may push it on


def test_days_left_counts_down_and_goes_negative_when_overdue(kiosk, department):
    petition = filed(kiosk, department, "2026-03-02 09:10")

    assert days_left(petition, today=D(2026, 3, 2)) == 15
    assert days_left(petition, today=D(2026, 3, 17)) == 0
    assert days_left(petition, today=D(2026, 3, 20)) == -3


# The answer: 60 days from acceptance, one extension -----------------------------------------------------------

ANSWER_CALENDAR = [
    ("2026-05-15 10:00", D(2026, 7, 14)),
    ("2026-01-31 10:00", D(2026, 4, 1)),  # February has 28 days
    ("2024-01-30 10:00", D(2024, 4, 1)),  # a leap year: 03-30 is a Saturday → Monday 04-01
    ("2025-12-20 10:00", D(2026, 2, 24)),  # 02-18 in the Spring Festival
    ("2026-08-02 10:00", D(2026, 10, 8)),  # 10-01 in the National Day holiday
]


@pytest.mark.parametrize(("accepted", "due"), ANSWER_CALENDAR)
def test_the_answer_is_due_60_days_after_acceptance(kiosk, department, dept_staff, accepted, due):
    petition = filed(kiosk, department, accepted)

    petition_accept(actor=dept_staff, petition=petition, now=at(accepted))

    assert stored(petition) == (due, DueKind.ANSWER)
    assert Petition.objects.get(pk=petition.pk).status == S.ACCEPTED


def test_the_answer_is_due_60_working_days_after_acceptance_when_set_so(kiosk, department, dept_staff, settings):
    settings.PETITION_DEADLINES_IN_WORKING_DAYS = True
    petition = filed(kiosk, department, "2026-08-14 10:00")

    petition_accept(actor=dept_staff, petition=petition, now=at("2026-08-14 10:00"))

    # 60 working days skip Mid-Autumn (09-25) and National Day, and count 09-20 and 10-10.
    assert stored(petition) == (D(2026, 11, 12), DueKind.ANSWER)


def test_a_petition_officer_extends_the_answer_period_once_with_a_reason(kiosk, department, dept_staff, dept_officer):
    petition = filed(kiosk, department, "2026-05-15 10:00")
    petition_accept(actor=dept_staff, petition=petition, now=at("2026-05-15 10:00"))

    petition_extend(actor=dept_officer, petition=petition, days=12, reason="需要住建局出具房屋安全鉴定意见")

    # 72 days end on Sunday 07-26, so on Monday.
    assert stored(petition) == (D(2026, 7, 27), DueKind.ANSWER)
    petition = Petition.objects.get(pk=petition.pk)
    assert petition.extension_days == 12 and petition.extension_reason == "需要住建局出具房屋安全鉴定意见"
    assert petition.extension_approved_by_id == dept_officer.staff.pk
    event = AuditEvent.objects.get(action="petition.extend", target_id=str(petition.pk))
    assert event.detail == {"days": 12} and event.actor == dept_officer.principal


def test_the_full_extension_of_30_days_gives_90(kiosk, department, dept_staff, dept_officer):
    petition = filed(kiosk, department, "2026-05-15 10:00")
    petition_accept(actor=dept_staff, petition=petition, now=at("2026-05-15 10:00"))

    petition_extend(actor=dept_officer, petition=petition, days=30, reason="涉及多个部门，需要联合调查")

    assert stored(petition) == (D(2026, 8, 13), DueKind.ANSWER)


def test_an_extension_in_working_days_adds_working_days(kiosk, department, dept_staff, dept_officer, settings):
    settings.PETITION_DEADLINES_IN_WORKING_DAYS = True
    petition = filed(kiosk, department, "2026-08-14 10:00")
    petition_accept(actor=dept_staff, petition=petition, now=at("2026-08-14 10:00"))

    petition_extend(actor=dept_officer, petition=petition, days=30, reason="涉及多个部门，需要联合调查")

    assert stored(petition) == (D(2026, 12, 24), DueKind.ANSWER)


def test_a_second_extension_is_refused(kiosk, department, dept_staff, dept_officer):
    petition = filed(kiosk, department, "2026-05-15 10:00")
    petition_accept(actor=dept_staff, petition=petition, now=at("2026-05-15 10:00"))
    petition_extend(actor=dept_officer, petition=petition, days=10, reason="等待鉴定结论")

    with pytest.raises(Conflict) as refused:
        petition_extend(actor=dept_officer, petition=petition, days=10, reason="鉴定还没做完")

    assert refused.value.field == "days"
    petition = Petition.objects.get(pk=petition.pk)
    assert petition.extension_days == 10 and petition.extension_reason == "等待鉴定结论"
    assert stored(petition) == (D(2026, 7, 24), DueKind.ANSWER)


@pytest.mark.parametrize("who", ["dept_staff", "dept_admin", "worker", "kiosk"])
def test_only_a_petition_officer_may_extend(kiosk, department, dept_staff, dept_admin, community, who):
    petition = filed(kiosk, department, "2026-05-15 10:00")
    petition_accept(actor=dept_staff, petition=petition, now=at("2026-05-15 10:00"))
    worker = Actor(staff=f.staff("worker_feng", StaffMember.Role.COMMUNITY_WORKER, community=community))
    actor = {"dept_staff": dept_staff, "dept_admin": dept_admin, "worker": worker, "kiosk": kiosk}[who]

    with pytest.raises(Forbidden):
        petition_extend(actor=actor, petition=petition, days=10, reason="等待鉴定结论")

    assert Petition.objects.get(pk=petition.pk).extension_days == 0
    assert stored(petition) == (D(2026, 7, 14), DueKind.ANSWER)


@pytest.mark.parametrize("days", [0, 31, -5, 365, True, "10", 10.5, None])
def test_an_extension_is_1_to_30_whole_days(kiosk, department, dept_staff, dept_officer, days):
    petition = filed(kiosk, department, "2026-05-15 10:00")
    petition_accept(actor=dept_staff, petition=petition, now=at("2026-05-15 10:00"))

    with pytest.raises(InvalidInput) as refused:
        petition_extend(actor=dept_officer, petition=petition, days=days, reason="等待鉴定结论")

    assert refused.value.field == "days"
    assert Petition.objects.get(pk=petition.pk).extension_days == 0


@pytest.mark.parametrize("reason", ["", "   ", "\u200b", "等待\u202e鉴定", "等待\x00鉴定", "长" * 501, None])
def test_an_extension_needs_a_clean_reason(kiosk, department, dept_staff, dept_officer, reason):
    petition = filed(kiosk, department, "2026-05-15 10:00")
    petition_accept(actor=dept_staff, petition=petition, now=at("2026-05-15 10:00"))

    with pytest.raises(InvalidInput) as refused:
        petition_extend(actor=dept_officer, petition=petition, days=10, reason=reason)

    assert refused.value.field == "reason"
    assert Petition.objects.get(pk=petition.pk).extension_days == 0


def test_no_extension_before_acceptance_or_after_the_answer(kiosk, department, dept_staff, dept_officer):
    petition = filed(kiosk, department, "2026-05-15 10:00")
    with pytest.raises(Conflict):
        petition_extend(actor=dept_officer, petition=petition, days=10, reason="等待鉴定结论")

    outcome_record(actor=dept_staff, petition=petition, data=answer(), now=at("2026-05-20 10:00"))
    with pytest.raises(Conflict):
        petition_extend(actor=dept_officer, petition=petition, days=10, reason="等待鉴定结论")

    assert Petition.objects.get(pk=petition.pk).extension_days == 0


# Review (复查) and re-examination (复核) -------------------------------------------------------------------------


@pytest.fixture
def answered(kiosk, department, dept_staff):
    """A petition received 2026-02-25 and answered on Monday 2026-03-02 at 10:00."""
    petition = filed(kiosk, department, "2026-02-25 09:00")
    outcome = outcome_record(actor=dept_staff, petition=petition, data=answer(), now=at("2026-03-02 10:00"))
    return Petition.objects.get(pk=petition.pk), outcome


def test_an_answer_stops_the_clock(answered):
    petition, _outcome = answered

    assert stored(petition) == (None, "")
    assert petition.status == S.ANSWERED


def test_a_review_may_be_asked_for_within_30_days_of_the_answer(answered, kiosk):
    petition, outcome = answered
    assert review_window_ends(outcome) == D(2026, 4, 1)

    request = review_request(actor=kiosk, petition=petition, reason="房产证还是没有办下来", now=at("2026-04-01 16:00"))

    assert request.stage == "review"
    assert Petition.objects.get(pk=petition.pk).status == S.REOPENED
    # 30 days from 04-01 end on Friday 05-01, in the Labour Day holiday (05-01 … 05-05) → Wednesday 05-06.
    assert stored(petition) == (D(2026, 5, 6), DueKind.REVIEW_ANSWER)
    assert request.answer_due_on == D(2026, 5, 6)


def test_a_review_asked_for_on_the_31st_day_is_refused(answered, kiosk):
    petition, _outcome = answered

    with pytest.raises(Conflict) as refused:
        review_request(actor=kiosk, petition=petition, now=at("2026-04-02 09:00"))

    assert "30" in str(refused.value.message)
    assert Petition.objects.get(pk=petition.pk).status == S.ANSWERED
    assert not ReviewRequest.objects.exists()
    assert stored(petition) == (None, "")


def test_a_review_is_answered_within_30_days_and_a_weekend_end_moves_on(answered, kiosk):
    petition, _outcome = answered

    review_request(actor=kiosk, petition=petition, now=at("2026-03-20 10:00"))

    # 04-19 is a Sunday.
    assert stored(petition) == (D(2026, 4, 20), DueKind.REVIEW_ANSWER)


def test_the_review_window_and_its_answer_count_working_days_when_set_so(kiosk, department, dept_staff, settings):
    settings.PETITION_DEADLINES_IN_WORKING_DAYS = True
    petition = filed(kiosk, department, "2026-09-10 09:00")
    outcome = outcome_record(actor=dept_staff, petition=petition, data=answer(), now=at("2026-09-25 10:00"))

    # From Friday 09-25 (Mid-Autumn): 30 working days past National Day and 10-10 end on 11-12.
    assert review_window_ends(outcome) == D(2026, 11, 12)
    review_request(actor=kiosk, petition=petition, now=at("2026-11-12 17:00"))
    assert stored(petition)[1] == DueKind.REVIEW_ANSWER


def test_review_then_re_examination_then_nothing_more(answered, kiosk, dept_staff):
    petition, first = answered

    review_request(actor=kiosk, petition=petition, reason="不满意", now=at("2026-03-10 10:00"))
    review = outcome_record(
        actor=dept_staff, petition=petition, data=answer(answer="复查意见：维持原答复。"), now=at("2026-04-01 10:00")
    )
    assert review.stage == "review"
    assert stored(petition) == (None, "")
    assert ReviewRequest.objects.get(of_outcome=first).answered_at == at("2026-04-01 10:00")

    petition.refresh_from_db()
    reexamination = review_request(actor=kiosk, petition=petition, now=at("2026-04-20 10:00"))
    assert reexamination.stage == "reexamination" and reexamination.of_outcome == review
    # 30 days from 04-20 → Wednesday 05-20.
    assert stored(petition) == (D(2026, 5, 20), DueKind.REEXAMINATION_ANSWER)

    final = outcome_record(
        actor=dept_staff, petition=petition, data=answer(answer="复核意见：维持复查意见。"), now=at("2026-05-10 10:00")
    )
    assert final.stage == "reexamination"
    assert stored(petition) == (None, "")

    petition.refresh_from_db()
    with pytest.raises(Conflict) as refused:
        review_request(actor=kiosk, petition=petition, now=at("2026-05-11 10:00"))
    assert refused.value.field == "petition"
    assert ReviewRequest.objects.filter(petition=petition).count() == 2


def test_a_re_examination_must_also_be_asked_for_within_30_days(answered, kiosk, dept_staff):
    petition, _first = answered
    review_request(actor=kiosk, petition=petition, now=at("2026-03-10 10:00"))
    review = outcome_record(
        actor=dept_staff, petition=petition, data=answer(answer="复查意见：维持原答复。"), now=at("2026-03-16 10:00")
    )
    assert review_window_ends(review) == D(2026, 4, 15)
    petition.refresh_from_db()

    with pytest.raises(Conflict):
        review_request(actor=kiosk, petition=petition, now=at("2026-04-16 10:00"))

    assert Petition.objects.get(pk=petition.pk).status == S.ANSWERED


def test_one_review_per_answer(answered, kiosk, dept_staff):
    petition, _first = answered
    review_request(actor=kiosk, petition=petition, now=at("2026-03-10 10:00"))

    with pytest.raises(Conflict):
        review_request(actor=kiosk, petition=Petition.objects.get(pk=petition.pk), now=at("2026-03-11 10:00"))

    assert ReviewRequest.objects.count() == 1


# Every service keeps due_on and due_kind ------------------------------------------------------------------------


def test_every_service_keeps_the_running_deadline_on_the_petition(kiosk, department, other_department, dept_officer):
    renshe_staff = Actor(staff=f.staff("renshe_wu", StaffMember.Role.DEPARTMENT_STAFF, department=other_department))
    petition = filed(kiosk, department, "2026-05-15 10:00")
    assert stored(petition) == (D(2026, 6, 1), DueKind.ACCEPTANCE)  # 05-30 is a Saturday

    petition_refer(actor=dept_officer, petition=petition, to_department="renshe", reason="属于劳动关系争议")
    assert stored(petition) == (D(2026, 6, 1), DueKind.ACCEPTANCE)

    petition_accept(actor=renshe_staff, petition=petition, now=at("2026-05-20 10:00"))
    assert stored(petition) == (D(2026, 7, 20), DueKind.ANSWER)  # 07-19 is a Sunday

    petition_extend(actor=dept_officer, petition=petition, days=20, reason="需要调取用工记录")
    assert stored(petition) == (D(2026, 8, 10), DueKind.ANSWER)  # 08-08 Saturday → Monday

    outcome_record(actor=renshe_staff, petition=petition, data=answer(), now=at("2026-06-01 10:00"))
    assert stored(petition) == (None, "")

    review_request(actor=kiosk, petition=Petition.objects.get(pk=petition.pk), now=at("2026-06-10 10:00"))
    assert stored(petition) == (D(2026, 7, 10), DueKind.REVIEW_ANSWER)

    outcome_record(actor=renshe_staff, petition=petition, data=answer(), now=at("2026-06-20 10:00"))
    assert stored(petition) == (None, "")

    petition_close(actor=dept_officer, petition=petition)
    assert stored(petition) == (None, "")
    assert Petition.objects.get(pk=petition.pk).status == S.CLOSED


def test_a_refusal_stops_the_clock(kiosk, department, dept_staff):
    petition = filed(kiosk, department, "2026-05-15 10:00")

    petition_not_accept(actor=dept_staff, petition=petition, reason="已进入诉讼程序", redirect_to="区法院")

    assert stored(petition) == (None, "")


def test_the_refresh_writes_only_when_the_deadline_changes(kiosk, department, django_assert_num_queries):
    petition = filed(kiosk, department, "2026-05-15 10:00")  # due 05-30, a Saturday, moved to Monday 06-01

    # Whether a review is open, and the calendar's overrides read once (not once per day looked at); no write.
    with django_assert_num_queries(2):
        petition_deadline_refresh(petition=petition)


def test_a_long_period_in_working_days_reads_the_calendar_once(
    kiosk, department, dept_staff, dept_officer, settings, django_assert_num_queries
):
    settings.PETITION_DEADLINES_IN_WORKING_DAYS = True
    petition = filed(kiosk, department, "2026-08-14 10:00")
    petition_accept(actor=dept_staff, petition=petition, now=at("2026-08-14 10:00"))
    petition_extend(actor=dept_officer, petition=petition, days=30, reason="涉及多个部门，需要联合调查")
    petition = Petition.objects.get(pk=petition.pk)

    with django_assert_num_queries(2):  # an open review, then the calendar, as for a 15-day period
        petition_deadline_refresh(petition=petition)
    assert petition.due_on == D(2026, 12, 24)


def test_a_holiday_set_by_staff_moves_the_deadline(kiosk, department):
    from scheduler.models import HolidayOverride

    HolidayOverride.objects.create(date=D(2026, 3, 17), kind=HolidayOverride.Kind.HOLIDAY, name="区内停电停工")

    petition = filed(kiosk, department, "2026-03-02 09:10")

    assert stored(petition) == (D(2026, 3, 18), DueKind.ACCEPTANCE)


def test_no_extension_while_a_review_is_open(answered, kiosk, dept_officer):
    petition, _outcome = answered
    review_request(actor=kiosk, petition=petition, now=at("2026-03-10 10:00"))

    with pytest.raises(Conflict):
        petition_extend(actor=dept_officer, petition=petition, days=10, reason="等待鉴定结论")

    assert stored(petition) == (D(2026, 4, 9), DueKind.REVIEW_ANSWER)
