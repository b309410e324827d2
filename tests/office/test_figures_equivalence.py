"""The fast figures count what the plain definition counts, on petitions with histories as varied as a district's.

tests/office/reference_figures.py keeps the figures as first written (a correlated subquery per petition and per
condition); appointments/office/figures.py gets the same numbers with set lookups, a derived table of facts and
one pass per report. Both are run here over the same data for past weeks and the week under way, petition by
petition and count by count, on SQLite and PostgreSQL.
"""

import datetime as dt
import random
import zoneinfo

import pytest
from django.db.models import Count

from appointments.models import (
    Appointment,
    FollowUpSlip,
    Outcome,
    OutcomeItem,
    Petition,
    Rating,
    ReviewRequest,
    ReviewStage,
    VideoSession,
)
from appointments.office import figures
from departments.audit import AuditEvent
from departments.models import StaffMember
from tests import factories as f

from . import reference_figures as reference

SH = zoneinfo.ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 11, 30)
NOW = dt.datetime(2026, 11, 30, 15, 0, tzinfo=SH)
S = Petition.Status
# Roads a petition takes (each a chain of statuses from "received"), as the lifecycle allows them.
ROADS = [
    [],
    ["accepted"],
    ["not_accepted"],
    ["not_accepted", "closed"],
    ["scheduled"],
    ["scheduled", "received"],
    ["scheduled", "in_consultation"],
    ["scheduled", "in_consultation", "answered"],
    ["scheduled", "in_consultation", "answered", "closed"],
    ["accepted", "answered"],
    ["accepted", "answered", "reopened", "accepted"],
    ["accepted", "answered", "follow_up"],
    ["accepted", "answered", "follow_up", "closed"],
    ["referred", "accepted", "answered"],
    ["accepted", "scheduled", "in_consultation", "follow_up", "answered"],
]
NAMES = ["王秀兰", "李建国", "张伟", "刘芳", "陈静", "杨洋", "赵敏", "黄磊", "周杰", "吴霞"]


@pytest.fixture(autouse=True)
def no_jit_compiling(db):
    """The plain definitions are big one-off plans; PostgreSQL's JIT would spend longer compiling than running them
    (the fast figures turn it off themselves). SET LOCAL ends with the test's transaction."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


@pytest.fixture
def district(kiosk, department, other_department, published, open_slots):
    """About 140 petitions with random but consistent histories over the ten weeks before TODAY."""
    rng = random.Random(20261130)
    recorder = f.staff("recorder", StaffMember.Role.DEPARTMENT_STAFF, department=department)
    slots = list(open_slots)
    for n in range(140):
        dept = department if n % 3 else other_department
        petition = f.petition(kiosk, dept, name=NAMES[n % len(NAMES)])
        received = NOW - dt.timedelta(days=rng.uniform(0, 70))
        road = rng.choice(ROADS)
        moments = sorted(received + dt.timedelta(days=rng.uniform(0.1, 40)) for _ in road)
        moments = [min(m, NOW - dt.timedelta(minutes=5 * (len(road) - i))) for i, m in enumerate(moments)]
        chain = ["received", *road]
        _moves(petition, chain, moments)
        accepted = next((m for s, m in zip(road, moments, strict=False) if s == "accepted"), None)
        if accepted is None and "answered" in road and rng.random() < 0.7:
            accepted = received + dt.timedelta(days=rng.uniform(0, 3))
        refused = next((m for s, m in zip(road, moments, strict=False) if s == "not_accepted"), None)
        Petition.objects.filter(pk=petition.pk).update(
            received_at=received,
            status=chain[-1],
            updated_at=(moments[-1] if moments else received) + dt.timedelta(seconds=rng.choice([0, 1, 30])),
            accepted_at=accepted,
            acceptance_decided_at=accepted or refused,
            not_accepted_reason="不属于本部门职责" if refused else "",
            **_extension(rng.choice([0, 0, 0, 15, 30]), recorder),
            **_deadline(TODAY + dt.timedelta(days=rng.randint(-20, 20)) if rng.random() < 0.6 else None),
        )
        for status, at in zip(road, moments, strict=False):
            if status == "answered":
                _answer(rng, petition, dept, recorder, at, other_department if dept == department else department)
        if dept == department and rng.random() < 0.35 and slots:
            _session(rng, kiosk, petition, slots.pop(rng.randrange(len(slots))))


def _deadline(day):
    return {"due_on": day, "due_kind": "answer" if day else ""}


def _extension(days, approver):
    return {
        "extension_days": days,
        "extension_reason": "情况复杂" if days else "",
        "extension_approved_by": approver if days else None,
    }


def _moves(petition, chain, moments):
    """The status moves on record. Audit events are append-only: written with their moment in the past, not moved."""
    stamp = AuditEvent._meta.get_field("at")
    stamp.auto_now_add = False
    try:
        for was, to, at in zip(chain, chain[1:], moments, strict=False):
            AuditEvent.objects.create(
                at=at,
                actor="test",
                action="petition.status",
                target_type="appointments.petition",
                target_id=str(petition.pk),
                detail={"from": was, "to": to},
            )
    finally:
        stamp.auto_now_add = True


def _answer(rng, petition, dept, recorder, told_at, other):
    outcome = Outcome.objects.create(
        petition=petition, department=dept, answer="已办理。", recorded_by=recorder, told_at=told_at
    )
    roll = rng.random()
    if roll < 0.15:
        OutcomeItem.objects.create(
            outcome=outcome,
            request="转办",
            decision=OutcomeItem.Decision.REFERRED,
            referred_to=other,
            referral_reason="属于其他部门职责",
        )
    elif roll < 0.3:
        Outcome.objects.create(
            petition=petition,
            department=dept,
            answer="更正后的答复。",
            recorded_by=recorder,
            told_at=told_at + dt.timedelta(days=2),
            corrects=outcome,
            correction_reason="笔误",
        )
    elif roll < 0.4:
        Outcome.objects.create(
            petition=petition, department=dept, answer="再次答复。", recorded_by=recorder, told_at=None
        )
    if rng.random() < 0.5:
        rating = Rating.objects.create(outcome=outcome, level=rng.choice(Rating.Level.values))
        Rating.objects.filter(pk=rating.pk).update(rated_at=told_at + dt.timedelta(days=rng.uniform(0, 14)))
    if rng.random() < 0.25:
        review = ReviewRequest.objects.create(
            petition=petition,
            of_outcome=outcome,
            stage=ReviewStage.REVIEW,
            answer_due_on=TODAY + dt.timedelta(days=rng.randint(-25, 25)),
        )
        answered = told_at + dt.timedelta(days=rng.uniform(5, 30)) if rng.random() < 0.5 else None
        ReviewRequest.objects.filter(pk=review.pk).update(
            requested_at=told_at + dt.timedelta(days=rng.uniform(0, 5)), answered_at=answered
        )
    if rng.random() < 0.25:
        slip = FollowUpSlip.objects.create(
            petition=petition,
            outcome=outcome,
            community=petition.community,
            decided="修路",
            to_check="是否修好",
            due_on=TODAY,
        )
        closed = told_at + dt.timedelta(days=rng.uniform(1, 20)) if rng.random() < 0.5 else None
        FollowUpSlip.objects.filter(pk=slip.pk).update(
            created_at=told_at, closed_at=closed, findings="已修好" if closed else ""
        )


def _session(rng, kiosk, petition, slot):
    """A consultation in one of the published times, moved into one of the weeks reported on."""
    appointment = Appointment.objects.create(
        petition=petition, seat=slot.seats.first(), slot=slot, community=petition.community, kiosk=kiosk.kiosk
    )
    status = rng.choice([Appointment.Status.COMPLETED, Appointment.Status.NO_SHOW, Appointment.Status.CANCELLED])
    cancelled = (
        {"cancelled_at": NOW, "cancel_reason": "有事", "cancel_reason_code": "cancelled_by_resident"}
        if status == Appointment.Status.CANCELLED
        else {}
    )
    Appointment.objects.filter(pk=appointment.pk).update(status=status, **cancelled)
    starts = NOW - dt.timedelta(days=rng.choice([0.2, 3, 9, 16, 23]), minutes=slot.pk)  # one time per slot
    type(slot).objects.filter(pk=slot.pk).update(starts_at=starts, ends_at=starts + dt.timedelta(minutes=30))
    if rng.random() < 0.4:
        VideoSession.objects.create(
            appointment=appointment, provider="local", room_name=f"room-{appointment.pk}", status="failed"
        )


def _periods() -> list[figures.Period]:
    past = [(2026, week) for week in (44, 46, 47, 48)]
    return [figures.week_period(iso_year=y, iso_week=w, today=TODAY) for y, w in past] + [figures.current_period(TODAY)]


def test_every_figure_lists_the_same_petitions_as_its_definition(district):
    seen: dict[str, int] = {}
    for period in _periods():
        for name in figures.PETITION_FIGURES:
            fast = set(Petition.objects.filter(figures.figure_q(name, period)).values_list("pk", flat=True))
            plain = set(Petition.objects.filter(reference.figure_q(name, period)).values_list("pk", flat=True))
            assert fast == plain, (name, period.label, sorted(fast ^ plain))
            seen[name] = seen.get(name, 0) + len(plain)
    # Data that leaves a figure empty in every week would prove nothing about it.
    assert all(seen[name] for name in figures.PETITION_FIGURES if name not in ("open_received",)), seen


def test_the_counts_are_the_definitions_counts(district):
    for key in [None, "department_id", "community_id", "category_id"]:
        _same_counts(key)


def _same_counts(key):
    periods = _periods()
    names = [name for name in figures.PETITION_FIGURES if name != "open"]
    annotations = {
        f"p{n}_{name}": Count("pk", filter=reference.figure_q(name, period))
        for n, period in enumerate(periods)
        for name in names
    }
    if key is None:
        rows = [{key: None, **Petition.objects.aggregate(**annotations)}]
        fast = {None: figures._total(Petition.objects.all(), periods)}
    else:
        rows = list(Petition.objects.values(key).annotate(**annotations).order_by())
        fast = figures._grouped(Petition.objects.all(), key, periods)
    for row in rows:
        for n, period in enumerate(periods):
            counted = fast.get(row[key], [{}] * len(periods))[n]
            for name in names:
                assert counted.get(name, 0) == row[f"p{n}_{name}"], (key, row[key], period.label, name)


def test_the_weekly_report_rows_add_up_as_the_definition_counts(district):
    report = figures.week_report(iso_year=2026, iso_week=48, today=TODAY)
    period = figures.week_period(iso_year=2026, iso_week=48, today=TODAY)
    expected = Petition.objects.aggregate(
        handled=Count("pk", filter=reference.figure_q("handled", period)),
        overdue=Count("pk", filter=reference.figure_q("overdue", period)),
        open_answered=Count("pk", filter=reference.figure_q("open_answered", period)),
    )
    assert (report.total.handled, report.total.overdue, report.total.open_by_status["answered"]) == (
        expected["handled"],
        expected["overdue"],
        expected["open_answered"],
    )
    assert report.total.handled == sum(this.handled for _d, this, _last in report.by_department)
    assert report.total.filed == sum(this.filed for _c, this, _last in report.by_category)
