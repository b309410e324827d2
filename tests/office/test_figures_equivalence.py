"""The fast figures count what the plain definition counts, on petitions with histories as varied as a district's.

tests/office/reference_figures.py keeps the figures as first written (a correlated subquery per petition and per
condition); appointments/office/figures.py gets the same numbers with uncorrelated set lookups, the status at a
past week's end read from the audit trail only for petitions that moved since, and a derived table of facts. Both
are run here over the same data, for past weeks and the week under way, petition by petition and count by count,
on SQLite and PostgreSQL.
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
    PetitionCategory,
    Rating,
    ReviewRequest,
    ReviewStage,
    VideoSession,
)
from appointments.office import figures
from appointments.outcomes.lifecycle import TRANSITIONS
from departments.audit import AuditEvent
from departments.models import Community, StaffMember, Street
from scheduler.models import Slot
from tests import factories as f

from . import reference_figures as reference

SH = zoneinfo.ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 11, 30)
NOW = dt.datetime(2026, 11, 30, 15, 0, tzinfo=SH)
S = Petition.Status
PETITIONS = 160
NAMES = ["王秀兰", "李建国", "张伟", "刘芳", "陈静", "杨洋", "赵敏", "黄磊", "周杰", "吴霞"]
# Past weeks spread over the ten weeks of data, and the week under way.
PAST_WEEKS = [(2026, 41), (2026, 44), (2026, 46), (2026, 48)]


def _periods() -> list[figures.Period]:
    past = [figures.week_period(iso_year=y, iso_week=w, today=TODAY) for y, w in PAST_WEEKS]
    return [*past, figures.current_period(TODAY)]


@pytest.fixture(autouse=True)
def no_jit_compiling(db):
    """The plain definitions are big one-off plans; PostgreSQL's JIT would spend longer compiling than running them
    (the fast figures turn it off themselves). SET LOCAL ends with the test's transaction."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


@pytest.fixture
def district(db):
    """Petitions with random but consistent histories over the ten weeks before TODAY: three departments, two
    streets with four communities, every category."""
    rng = random.Random(20261130)
    f.categories()
    place, _street, lanshan, fuan = f.district()
    other_street = Street.objects.create(district=place, code="xiaodongjie", name="小东街道")
    communities = [
        lanshan,
        fuan,
        Community.objects.create(street=other_street, code="jinxiu", name="锦绣社区"),
        Community.objects.create(street=other_street, code="xinhua", name="新华社区"),
    ]
    kiosks = [f.kiosk_actor(c)[0] for c in communities]
    departments = [f.department(), f.department("renshe", "区人社局"), f.department("zhujian", "区住建局")]
    slots = {}
    for dept in departments:
        f.weekday_rules(dept)
        f.publish_next_weeks(dept, weeks=3)
        # Every published time, moved later into the weeks reported on (past ones included).
        slots[dept.pk] = list(Slot.objects.filter(department=dept).order_by("starts_at"))
    categories = list(PetitionCategory.objects.filter(is_active=True).values_list("code", flat=True))
    recorder = f.staff("recorder", StaffMember.Role.PETITION_OFFICER)
    for n in range(PETITIONS):
        dept = departments[n % 3]
        kiosk = kiosks[rng.randrange(len(kiosks))]
        petition = f.petition(kiosk, dept, name=NAMES[n % len(NAMES)], category=categories[n % len(categories)])
        _history(rng, petition, dept, [d for d in departments if d != dept], recorder)
        if rng.random() < 0.45:
            sessions = rng.choice([1, 1, 2])
            for n_session in range(sessions):
                slot = slots[dept.pk].pop(rng.randrange(len(slots[dept.pk])))
                # At most one booking stands at a time: the earlier ones were held, missed or cancelled.
                _session(rng, kiosk, petition, slot, may_book=n_session == sessions - 1)


def _snapped(rng: random.Random, moment: dt.datetime) -> dt.datetime:
    """Now and then a moment on a local midnight, or just before one: the edges of days and weeks."""
    roll = rng.random()
    midnight = dt.datetime.combine(moment.astimezone(SH).date(), dt.time.min, tzinfo=SH)
    if roll < 0.08:
        return midnight
    if roll < 0.12:
        return midnight - dt.timedelta(microseconds=1)
    return moment


def _road(rng: random.Random) -> list[str]:
    """A walk through the lifecycle's moves from "received" (the statuses after it)."""
    road: list[str] = []
    status = S.RECEIVED
    for _step in range(rng.choice([0, 1, 1, 2, 2, 3, 3, 4, 5, 6])):
        status = rng.choice(sorted(TRANSITIONS[status]))
        road.append(status)
    return road


def _history(rng, petition, dept, others, recorder):
    # Some filed today, in the week under way (NOW is its first day, 15:00).
    days_ago = rng.uniform(0, 0.6) if rng.random() < 0.08 else rng.uniform(0, 70)
    received = _snapped(rng, NOW - dt.timedelta(days=days_ago))
    road = _road(rng)
    gaps = sorted(rng.uniform(0.01, 40) for _ in road)
    moments = []
    for gap in gaps:
        moment = _snapped(rng, received + dt.timedelta(days=gap))
        earliest = moments[-1] if moments else received
        moments.append(min(max(moment, earliest + dt.timedelta(seconds=1)), NOW))
    # A move is never later than now, and each is later than the one before (no ties in the trail).
    for i in range(len(moments) - 1, -1, -1):
        latest = NOW - dt.timedelta(minutes=len(moments) - i) if i == len(moments) - 1 else moments[i + 1]
        moments[i] = min(moments[i], latest - dt.timedelta(seconds=1))
    chain = [S.RECEIVED, *road]
    _moves(petition, chain, moments)
    moved = dict(zip(road, moments, strict=True))  # the last time of each status
    first_moved = dict(reversed(list(zip(road, moments, strict=True))))
    accepted = first_moved.get(S.ACCEPTED)
    if accepted is None and (S.ANSWERED in road or rng.random() < 0.2):
        accepted = received + dt.timedelta(days=rng.uniform(0, 3)) if rng.random() < 0.7 else None
    refused = moved.get(S.NOT_ACCEPTED)
    if refused is not None and accepted is not None and accepted < refused:
        accepted = None
    if refused is None and accepted is None and rng.random() < 0.1:
        # Decided, but the decision was not a refusal on record (no reason): not handled as "not accepted".
        decided = received + dt.timedelta(days=rng.uniform(0, 10))
    else:
        decided = refused or accepted
    last_saved = max([received, *moments])
    extension = rng.choice([0, 0, 0, 15, 30])
    due_on = TODAY + dt.timedelta(days=rng.randint(-20, 20)) if rng.random() < 0.7 else None
    Petition.objects.filter(pk=petition.pk).update(
        received_at=received,
        status=chain[-1],
        # The last save is the last move, or later (other edits); never before the move, as in the app.
        updated_at=last_saved + dt.timedelta(seconds=rng.choice([0, 0, 1, 30, 3600 * 30])),
        accepted_at=accepted,
        acceptance_decided_at=decided,
        not_accepted_reason="不属于本部门职责" if refused or (decided and rng.random() < 0.1) else "",
        extension_days=extension,
        extension_reason="情况复杂" if extension else "",
        extension_approved_by=recorder if extension else None,
        due_on=due_on,
        due_kind="answer" if due_on else "",
    )
    told = [at for status, at in zip(road, moments, strict=True) if status == S.ANSWERED]
    if not told and rng.random() < 0.15:
        # An answer told without the status moving to "answered" (given at a consultation, say).
        told = [received + dt.timedelta(days=rng.uniform(1, 50))]
    for at in told:
        _answer(rng, petition, dept, recorder, min(at, NOW), rng.choice(others))


def _moves(petition, chain, moments):
    """The status moves on record. Audit events are append-only: written with their moment in the past, not moved."""
    stamp = AuditEvent._meta.get_field("at")
    stamp.auto_now_add = False
    try:
        AuditEvent.objects.bulk_create(
            AuditEvent(
                at=at,
                actor="test",
                action="petition.status",
                target_type="appointments.petition",
                target_id=str(petition.pk),
                detail={"from": was, "to": to},
            )
            for was, to, at in zip(chain[:-1], chain[1:], moments, strict=True)
        )
    finally:
        stamp.auto_now_add = True


def _past(moment: dt.datetime) -> dt.datetime | None:
    """The moment, if it has come by NOW (nothing is recorded ahead of time)."""
    return moment if moment < NOW else None


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
            told_at=_past(told_at + dt.timedelta(days=2)),
            corrects=outcome,
            correction_reason="笔误",
        )
    elif roll < 0.4:
        Outcome.objects.create(
            petition=petition, department=dept, answer="尚未告知的答复。", recorded_by=recorder, told_at=None
        )
    elif roll < 0.45:
        Outcome.objects.create(
            petition=petition,
            department=dept,
            answer="复查意见。",
            recorded_by=recorder,
            told_at=_past(told_at + dt.timedelta(days=rng.uniform(1, 20))),
            stage=ReviewStage.REVIEW,
        )
    if rng.random() < 0.55:
        rating = Rating.objects.create(outcome=outcome, level=rng.choice(Rating.Level.values))
        rated = min(_snapped(rng, told_at + dt.timedelta(days=rng.uniform(0, 14))), NOW - dt.timedelta(minutes=1))
        Rating.objects.filter(pk=rating.pk).update(rated_at=rated)
    if rng.random() < 0.3:
        review = ReviewRequest.objects.create(
            petition=petition,
            of_outcome=outcome,
            stage=ReviewStage.REVIEW,
            answer_due_on=TODAY + dt.timedelta(days=rng.randint(-25, 25)),
        )
        requested = min(told_at + dt.timedelta(days=rng.uniform(0, 5)), NOW)
        answered = _past(requested + dt.timedelta(days=rng.uniform(1, 30))) if rng.random() < 0.5 else None
        ReviewRequest.objects.filter(pk=review.pk).update(requested_at=requested, answered_at=answered)
    if rng.random() < 0.3:
        slip = FollowUpSlip.objects.create(
            petition=petition,
            outcome=outcome,
            community=petition.community,
            decided="修路",
            to_check="是否修好",
            due_on=TODAY,
        )
        closed = _past(told_at + dt.timedelta(days=rng.uniform(1, 20))) if rng.random() < 0.5 else None
        FollowUpSlip.objects.filter(pk=slip.pk).update(
            created_at=told_at, closed_at=closed, findings="已修好" if closed else ""
        )


def _session(rng, kiosk, petition, slot, *, may_book):
    """A consultation in one of the published times, moved into one of the weeks reported on."""
    statuses = [Appointment.Status.COMPLETED, Appointment.Status.NO_SHOW, Appointment.Status.CANCELLED]
    status = rng.choice([*statuses, Appointment.Status.BOOKED] if may_book else statuses)
    cancelled = (
        {"cancelled_at": NOW, "cancel_reason": "有事", "cancel_reason_code": "cancelled_by_resident"}
        if status == Appointment.Status.CANCELLED
        else {}
    )
    appointment = Appointment.objects.create(
        petition=petition,
        seat=slot.seats.first(),
        slot=slot,
        community=petition.community,
        kiosk=kiosk.kiosk,
        status=status,
        **cancelled,
    )
    days_ago = rng.choice([-2, -0.2, 3, 9, 16, 23, 30, 44, 51, 60])
    starts = NOW - dt.timedelta(days=days_ago, minutes=slot.pk)  # one time per slot
    type(slot).objects.filter(pk=slot.pk).update(starts_at=starts, ends_at=starts + dt.timedelta(minutes=30))
    if rng.random() < 0.5:
        VideoSession.objects.create(
            appointment=appointment,
            provider="local",
            room_name=f"room-{appointment.pk}",
            status=rng.choice([VideoSession.Status.FAILED, VideoSession.Status.FAILED, VideoSession.Status.COMPLETED]),
        )


def _describe(pk: int) -> str:
    """Everything the figures read about one petition, for a failure message."""
    p = Petition.objects.get(pk=pk)
    lines = [
        f"petition {pk}: status={p.status} received={p.received_at} updated={p.updated_at} accepted={p.accepted_at}"
        f" decided={p.acceptance_decided_at} reason={p.not_accepted_reason!r} extension={p.extension_days}"
        f" due_on={p.due_on}",
        *(
            f"  move {e.at}: {e.detail}"
            for e in AuditEvent.objects.filter(target_id=str(pk), action="petition.status").order_by("at", "pk")
        ),
        *(
            f"  outcome {o.pk} stage={o.stage} told={o.told_at} corrects={o.corrects_id}"
            f" referred={o.items.filter(decision=OutcomeItem.Decision.REFERRED).exists()}"
            for o in Outcome.objects.filter(petition=p).order_by("pk")
        ),
        *(f"  rating {r.level} at {r.rated_at}" for r in Rating.objects.filter(outcome__petition=p)),
        *(
            f"  review requested={r.requested_at} answered={r.answered_at} due={r.answer_due_on}"
            for r in ReviewRequest.objects.filter(petition=p)
        ),
        *(f"  slip created={s.created_at} closed={s.closed_at}" for s in FollowUpSlip.objects.filter(petition=p)),
        *(
            f"  appointment {a.status} at {a.slot.starts_at}"
            f" video={getattr(getattr(a, 'video_session', None), 'status', None)}"
            for a in Appointment.objects.filter(petition=p).select_related("slot")
        ),
    ]
    return "\n".join(lines)


def test_every_figure_lists_the_same_petitions_as_its_definition(district):
    seen = dict.fromkeys(figures.PETITION_FIGURES, 0)
    differences = []
    for period in _periods():
        for name in figures.PETITION_FIGURES:
            fast = set(Petition.objects.filter(figures.figure_q(name, period)).values_list("pk", flat=True))
            plain = set(Petition.objects.filter(reference.figure_q(name, period)).values_list("pk", flat=True))
            for pk in sorted(fast ^ plain):
                side = "only the fast figures" if pk in fast else "only the definition"
                differences.append(f"{name} in {period.label} (cutoff {period.cutoff}), {side}:\n{_describe(pk)}")
            seen[name] += len(plain)
    assert not differences, "\n\n".join(differences)
    # Data that leaves a figure empty in every week would prove nothing about it.
    assert all(seen.values()), seen


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
    assert set(fast) <= {row[key] for row in rows}
    expected = {(row[key], n, name): row[f"p{n}_{name}"] for row in rows for n in range(len(periods)) for name in names}
    counted = {
        (value, n, name): (fast.get(value) or [{}] * len(periods))[n].get(name) or 0 for value, n, name in expected
    }
    labels = [p.label for p in periods]
    assert counted == expected, [
        (value, labels[n], name, counted[value, n, name], number)
        for (value, n, name), number in expected.items()
        if counted[value, n, name] != number
    ]
    assert sum(expected.values()), "no figure counted anything"


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
