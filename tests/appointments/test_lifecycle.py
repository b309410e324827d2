"""The petition lifecycle: every legal move succeeds and is audited, every other one is refused and changes nothing,
and the database itself refuses states and records that the services would never write."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation

from appointments.models import (
    Commitment,
    FollowUpSlip,
    Outcome,
    OutcomeItem,
    Petition,
    Rating,
    ReviewRequest,
)
from appointments.outcomes.lifecycle import TRANSITIONS, petition_transition
from departments.audit import AuditEvent
from departments.models import StaffMember
from departments.services import Actor
from scheduler.errors import Conflict
from tests import factories as f

pytestmark = pytest.mark.django_db

S = Petition.Status
ALL = list(S.values)
LEGAL = sorted((source, target) for source, targets in TRANSITIONS.items() for target in targets)
ILLEGAL = sorted((source, target) for source in ALL for target in ALL if target not in TRANSITIONS[source])


def at_status(petition: Petition, status: str) -> Petition:
    """Put a petition into a status for the test (the services would need a whole history to get there).

    It carries a refusal's reason, so that the database takes "not accepted" as a status or a target."""
    Petition.objects.filter(pk=petition.pk).update(status=status, not_accepted_reason="不属于本部门职责")
    petition.refresh_from_db()
    return petition


def status_events(petition: Petition):
    return AuditEvent.objects.filter(
        action="petition.status", target_type="appointments.petition", target_id=str(petition.pk)
    ).order_by("pk")


def test_the_map_names_every_status_and_only_statuses():
    assert set(TRANSITIONS) == set(ALL)
    for targets in TRANSITIONS.values():
        assert targets <= set(ALL)
    assert ILLEGAL, "some moves must be illegal"


def test_a_closed_petition_can_only_be_reopened_and_a_refusal_only_closed_or_reopened():
    assert TRANSITIONS[S.CLOSED] == {S.REOPENED}
    assert TRANSITIONS[S.NOT_ACCEPTED] == {S.REOPENED, S.CLOSED}
    # Nothing jumps back to "received" except a cancelled booking restoring where it was.
    assert [source for source, targets in TRANSITIONS.items() if S.RECEIVED in targets] == [S.SCHEDULED]


@pytest.mark.parametrize(("source", "target"), LEGAL)
def test_every_legal_move_succeeds_and_records_who_from_to_and_why(kiosk, department, source, target):
    petition = at_status(f.petition(kiosk, department), source)
    officer = Actor(staff=f.staff("officer_zhao", StaffMember.Role.PETITION_OFFICER))
    before = status_events(petition).count()

    petition_transition(petition=petition, to=target, actor=officer, reason="resident_asked")

    petition.refresh_from_db()
    assert petition.status == target
    events = status_events(petition)
    assert events.count() == before + 1
    event = events.last()
    assert event.actor == officer.principal and event.user_id == officer.staff.user_id
    assert event.detail == {"from": source, "to": target, "reason": "resident_asked"}


def test_a_move_without_a_reason_records_none(kiosk, department):
    petition = f.petition(kiosk, department)

    petition_transition(petition=petition, to=S.ACCEPTED, actor=kiosk)

    event = status_events(petition).last()
    assert event.detail == {"from": "received", "to": "accepted"}
    assert event.actor == kiosk.principal and event.user_id is None


def test_a_move_by_the_system_is_recorded_as_the_system(kiosk, department):
    petition = at_status(f.petition(kiosk, department), S.SCHEDULED)

    petition_transition(petition=petition, to=S.IN_CONSULTATION, reason="session_held")

    assert status_events(petition).last().actor == "system"


@pytest.mark.parametrize(("source", "target"), ILLEGAL)
def test_every_illegal_move_is_refused_and_changes_nothing(kiosk, department, source, target):
    petition = at_status(f.petition(kiosk, department), source)
    updated_at = petition.updated_at
    before = AuditEvent.objects.count()

    with pytest.raises(Conflict) as refused:
        petition_transition(petition=petition, to=target, actor=kiosk, reason="try")

    assert refused.value.code == "illegal_transition" and refused.value.field == "status"
    message = str(refused.value.message)
    assert str(S(source).label) in message and str(S(target).label) in message
    stored = Petition.objects.get(pk=petition.pk)
    assert stored.status == source and stored.updated_at == updated_at
    assert AuditEvent.objects.count() == before


def test_the_refusal_reads_in_chinese_by_default_and_in_english_on_request(kiosk, department):
    petition = at_status(f.petition(kiosk, department), S.CLOSED)

    with translation.override("zh-hans"), pytest.raises(Conflict) as chinese:
        petition_transition(petition=petition, to=S.ANSWERED)
    with translation.override("en"), pytest.raises(Conflict) as english:
        petition_transition(petition=petition, to=S.ANSWERED)

    with translation.override("zh-hans"):
        assert str(chinese.value.message) == "处于“已办结”状态的信访事项不能变为“已答复”。"
    with translation.override("en"):
        assert str(english.value.message) == "A petition that is 'Closed' cannot become 'Answered'."


@pytest.mark.parametrize("target", ["archived", "", "RECEIVED", None, "closed "])
def test_a_move_to_a_status_that_does_not_exist_is_refused_plainly(kiosk, department, target):
    petition = f.petition(kiosk, department)

    with pytest.raises(Conflict) as refused:
        petition_transition(petition=petition, to=target, actor=kiosk)

    assert refused.value.field == "status"
    assert Petition.objects.get(pk=petition.pk).status == S.RECEIVED
    assert not status_events(petition).exists()


# What the database itself refuses ------------------------------------------------------------------------------


def refused_by_database(model, row_id: int | None = None, **values) -> bool:
    """Write values into a table with raw SQL, past the ORM, in a savepoint; tell whether the database refused."""
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(column)} = %s" for column in values)
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments}"  # noqa: S608 - names from the models only
    params = list(values.values())
    if row_id is not None:
        sql += " WHERE id = %s"
        params.append(row_id)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except IntegrityError:
        return True
    return False


@pytest.mark.parametrize("status", ["archived", "", "Closed", "pending"])
def test_the_database_refuses_an_unknown_status_from_a_raw_update(kiosk, department, status):
    petition = f.petition(kiosk, department)

    assert refused_by_database(Petition, petition.pk, status=status)

    assert Petition.objects.get(pk=petition.pk).status == S.RECEIVED


def test_the_database_takes_every_known_status_from_a_raw_update(kiosk, department):
    petition = f.petition(kiosk, department)
    Petition.objects.filter(pk=petition.pk).update(not_accepted_reason="不属于本部门职责")

    for status in ALL:
        assert not refused_by_database(Petition, petition.pk, status=status), status


def test_the_database_refuses_an_unknown_status_through_the_orm_too(kiosk, department):
    petition = f.petition(kiosk, department)

    with pytest.raises(IntegrityError), transaction.atomic():
        Petition.objects.filter(pk=petition.pk).update(status="deleted")


@pytest.fixture
def petition_row(kiosk, department):
    return f.petition(kiosk, department)


@pytest.fixture
def officer_staff(department):
    return f.staff("officer_qian", StaffMember.Role.PETITION_OFFICER)


def test_the_database_refuses_an_extension_of_more_than_30_days(petition_row, officer_staff):
    reason, approver = "需要现场勘验", officer_staff.pk

    assert refused_by_database(
        Petition, petition_row.pk, extension_days=31, extension_reason=reason, extension_approved_by_id=approver
    )
    assert not refused_by_database(
        Petition, petition_row.pk, extension_days=30, extension_reason=reason, extension_approved_by_id=approver
    )


def test_the_database_refuses_an_extension_without_a_reason_or_an_approver(petition_row, officer_staff):
    assert refused_by_database(
        Petition, petition_row.pk, extension_days=10, extension_reason="", extension_approved_by_id=officer_staff.pk
    )
    assert refused_by_database(
        Petition, petition_row.pk, extension_days=10, extension_reason="需要现场勘验", extension_approved_by_id=None
    )
    assert Petition.objects.get(pk=petition_row.pk).extension_days == 0


def test_the_database_refuses_a_refusal_without_a_reason(petition_row):
    assert refused_by_database(Petition, petition_row.pk, status="not_accepted", not_accepted_reason="")
    assert not refused_by_database(
        Petition, petition_row.pk, status="not_accepted", not_accepted_reason="属于诉讼程序，请向区法院起诉"
    )


def test_the_database_refuses_a_deadline_kind_it_does_not_know_or_without_a_date(petition_row):
    assert refused_by_database(Petition, petition_row.pk, due_kind="someday", due_on=dt.date(2026, 12, 1))
    assert refused_by_database(Petition, petition_row.pk, due_kind="answer", due_on=None)
    assert not refused_by_database(Petition, petition_row.pk, due_kind="", due_on=None)


@pytest.fixture
def outcome_row(petition_row, department):
    clerk = f.staff("clerk_sun", StaffMember.Role.DEPARTMENT_STAFF, department=department)
    return Outcome.objects.create(
        petition=petition_row, department=department, answer="经核实，房产证将于下月办理。", recorded_by=clerk
    )


def test_the_database_refuses_a_referral_item_without_a_department(outcome_row, other_department):
    with pytest.raises(IntegrityError), transaction.atomic():
        OutcomeItem.objects.create(
            outcome=outcome_row, request="请协调拖欠工资", decision="referred", referral_reason="属人社局职责"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        OutcomeItem.objects.create(
            outcome=outcome_row, request="请协调拖欠工资", decision="referred", referred_to=other_department
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        OutcomeItem.objects.create(
            outcome=outcome_row, request="请办理房产证", decision="supported", referred_to=other_department
        )
    OutcomeItem.objects.create(
        outcome=outcome_row,
        request="请协调拖欠工资",
        decision="referred",
        referred_to=other_department,
        referral_reason="属人社局职责",
    )


def test_the_database_refuses_a_decision_outside_the_choices(outcome_row):
    with pytest.raises(IntegrityError), transaction.atomic():
        OutcomeItem.objects.create(outcome=outcome_row, request="请办理房产证", decision="maybe")


def test_the_database_refuses_a_closed_slip_without_findings(outcome_row, petition_row, community):
    slip = FollowUpSlip.objects.create(
        petition=petition_row,
        outcome=outcome_row,
        community=community,
        decided="房产局承诺下月办证",
        to_check="回访居民是否拿到房产证",
        due_on=dt.date(2026, 12, 31),
    )
    assert refused_by_database(FollowUpSlip, slip.pk, closed_at=timezone.now(), findings="")
    assert not refused_by_database(FollowUpSlip, slip.pk, closed_at=timezone.now(), findings="居民已拿到房产证")


def test_the_database_refuses_a_done_commitment_without_a_note(outcome_row):
    commitment = Commitment.objects.create(
        outcome=outcome_row, responsible="区房产局产权科", action="办理房产证", due_on=dt.date(2026, 12, 31)
    )
    assert refused_by_database(Commitment, commitment.pk, done_at=timezone.now(), done_note="")


def test_the_database_refuses_a_rating_level_outside_the_choices(outcome_row):
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(outcome=outcome_row, level="very_happy")
    Rating.objects.create(outcome=outcome_row, level="basically_satisfied")
    assert refused_by_database(Rating, level="angry")


def test_the_database_refuses_a_second_rating_of_one_answer(outcome_row):
    Rating.objects.create(outcome=outcome_row, level="satisfied")

    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(outcome=outcome_row, level="dissatisfied")


def test_the_database_refuses_an_outcome_correction_without_a_reason(outcome_row):
    common = {
        "petition": outcome_row.petition,
        "department": outcome_row.department,
        "answer": "更正：房产证将于本月办理。",
        "recorded_by": outcome_row.recorded_by,
        "corrects": outcome_row,
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        Outcome.objects.create(**common)
    Outcome.objects.create(**common, correction_reason="办理时间写错")


def test_the_database_refuses_an_unknown_stage(outcome_row):
    assert refused_by_database(Outcome, outcome_row.pk, stage="appeal")
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewRequest.objects.create(
            petition=outcome_row.petition, of_outcome=outcome_row, stage="first", answer_due_on=dt.date(2026, 12, 31)
        )
