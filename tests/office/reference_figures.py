"""The office's figures in their first, correlated form, kept as the specification the fast ones are checked against.

Every condition is a subquery evaluated for each petition: slow at city scale, but plainly the definition.
appointments/office/figures.py computes the same counts another way; tests/office/test_figures_equivalence.py checks
that they agree on varied data.
"""

import datetime as dt
from typing import Any

from django.db.models import (
    CharField,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.db.models.lookups import Exact, GreaterThanOrEqual, LessThanOrEqual

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
from appointments.office.figures import DUE_SOON_DAYS, OPEN_STATUSES, SATISFIED_LEVELS, Period, _zone
from appointments.outcomes.lifecycle import ACCEPTANCE_DAYS, ANSWER_DAYS
from departments.audit import AuditEvent

S = Petition.Status


def _first_answers() -> QuerySet[Outcome]:
    # A first-stage answer of the petition, as told; a correction is not a second answer, a referral hands it on.
    referred = OutcomeItem.objects.filter(outcome=OuterRef("pk"), decision=OutcomeItem.Decision.REFERRED)
    return Outcome.objects.filter(
        petition=OuterRef("pk"), stage=ReviewStage.FIRST, corrects__isnull=True, told_at__isnull=False
    ).filter(~Exists(referred))


def _answered_in(period: Period) -> Q:
    told_in = _first_answers().filter(told_at__gte=period.start, told_at__lt=period.cutoff)
    told_before = _first_answers().filter(told_at__lt=period.start)
    return Q(Exists(told_in)) & ~Q(Exists(told_before))


def _answered_on_time_in(period: Period) -> Q:
    # The answer period runs from acceptance: 60 days plus any extension, in calendar days (the district's default).
    # The deadline's day is the local day of acceptance plus the period (whole days keep the local time of day,
    # and Asia/Shanghai has no daylight saving). Datetime-plus-duration works the same on PostgreSQL and SQLite,
    # where date-plus-integer does not.
    answer_days = ExpressionWrapper(
        (F("petition__extension_days") + ANSWER_DAYS) * Value(dt.timedelta(days=1)), output_field=DurationField()
    )
    deadline = TruncDate(
        ExpressionWrapper(F("petition__accepted_at") + answer_days, output_field=DateTimeField()), tzinfo=_zone()
    )
    on_time = (
        _first_answers()
        .filter(told_at__gte=period.start, told_at__lt=period.cutoff)
        .annotate(told_day=TruncDate("told_at", tzinfo=_zone()), deadline=deadline)
        .filter(told_day__lte=F("deadline"))
    )
    return _answered_in(period) & Q(Exists(on_time))


def _not_accepted_in(period: Period) -> Q:
    return Q(
        accepted_at__isnull=True, acceptance_decided_at__gte=period.start, acceptance_decided_at__lt=period.cutoff
    ) & ~Q(not_accepted_reason="")


def _status_at_end(period: Period) -> Any:
    """The petition's status at the period's end: the column for the week under way, else the audit trail's."""
    if period.current:
        return F("status")
    moves = (
        AuditEvent.objects.filter(
            target_type=Petition._meta.label_lower,
            target_id=Cast(OuterRef("pk"), CharField()),
            action="petition.status",
            at__lt=period.cutoff,
        )
        .order_by("-at", "-pk")
        .annotate(to=KeyTextTransform("to", "detail"))
        .values("to")[:1]
    )
    return Coalesce(Subquery(moves, output_field=CharField()), Value(S.RECEIVED))


def _open_at_end(period: Period) -> Q:
    status = _status_at_end(period)
    return Q(received_at__lt=period.cutoff) & ~Q(Exact(status, S.CLOSED)) & ~Q(Exact(status, S.NOT_ACCEPTED))


def _session(period: Period, **conditions: Any) -> Q:
    appointments = Appointment.objects.filter(
        petition=OuterRef("pk"), slot__starts_at__gte=period.start, slot__starts_at__lt=period.end, **conditions
    )
    return Q(Exists(appointments))


def _days_after(field: str, days: Any) -> TruncDate:
    """The local day `days` days after a stored moment (datetime plus duration: the same on PostgreSQL and SQLite)."""
    span = ExpressionWrapper(days * Value(dt.timedelta(days=1)), output_field=DurationField())
    return TruncDate(ExpressionWrapper(F(field) + span, output_field=DateTimeField()), tzinfo=_zone())


def _due_between(period: Period, first: dt.date | None, last: dt.date) -> Q:
    """Petitions whose statutory deadline in force at the period's end falls from `first` to `last`.

    For the week under way that is the deadline kept on the petition. For a past week it is worked out from stored
    moments only — receipt, acceptance, first answer, review requests — so that a later decision does not change
    the report (calendar days; a deadline falling on a rest day is not moved to the next working day here).
    """
    if period.current:
        return Q(due_on__lte=last) & (Q(due_on__gte=first) if first else Q(due_on__isnull=False))

    def within(day: Any) -> Q:
        return (
            Q(GreaterThanOrEqual(day, first)) & Q(LessThanOrEqual(day, last))
            if first
            else Q(LessThanOrEqual(day, last))
        )

    decided = Q(acceptance_decided_at__lt=period.cutoff)
    answered = Exists(_first_answers().filter(told_at__lt=period.cutoff))
    review = ReviewRequest.objects.filter(petition=OuterRef("pk"), requested_at__lt=period.cutoff).filter(
        Q(answered_at__isnull=True) | Q(answered_at__gte=period.cutoff)
    )
    review_due = review.filter(answer_due_on__lte=last)
    if first:
        review_due = review_due.filter(answer_due_on__gte=first)
    acceptance = ~decided & within(_days_after("received_at", Value(ACCEPTANCE_DAYS)))
    answer = (
        Q(accepted_at__lt=period.cutoff)
        & ~Q(answered)
        & ~Q(Exists(review))
        & within(_days_after("accepted_at", F("extension_days") + ANSWER_DAYS))
    )
    return acceptance | answer | Q(Exists(review_due))


def figure_q(name: str, period: Period) -> Q:
    """The condition a petition meets to be counted in a figure; the drill-down lists exactly these petitions."""
    rated = Rating.objects.filter(outcome__petition=OuterRef("pk"), rated_at__gte=period.start)
    rated = rated.filter(rated_at__lt=period.cutoff)
    if name == "filed":
        return Q(received_at__gte=period.start, received_at__lt=period.cutoff)
    if name == "handled":
        return _answered_in(period) | _not_accepted_in(period)
    if name == "resolved":
        open_review = ReviewRequest.objects.filter(petition=OuterRef("pk"), requested_at__lt=period.cutoff).filter(
            Q(answered_at__isnull=True) | Q(answered_at__gte=period.cutoff)
        )
        dissatisfied = Rating.objects.filter(
            outcome__petition=OuterRef("pk"), level=Rating.Level.DISSATISFIED, rated_at__lt=period.cutoff
        )
        return _answered_in(period) & ~Q(Exists(open_review)) & ~Q(Exists(dissatisfied))
    if name == "answered":
        return _answered_in(period)
    if name == "answered_on_time":
        return _answered_on_time_in(period)
    if name == "rated":
        return Q(Exists(rated))
    if name == "satisfied":
        return Q(Exists(rated.filter(level__in=SATISFIED_LEVELS)))
    if name == "overdue":
        return _open_at_end(period) & _due_between(period, None, period.as_of - dt.timedelta(days=1))
    if name == "due_within_3_days":
        return _open_at_end(period) & _due_between(
            period, period.as_of, period.as_of + dt.timedelta(days=DUE_SOON_DAYS)
        )
    if name == "sessions_held":
        return _session(period, status=Appointment.Status.COMPLETED)
    if name == "no_shows":
        return _session(period, status=Appointment.Status.NO_SHOW)
    if name == "failed_connections":
        failed = VideoSession.objects.filter(
            appointment__petition=OuterRef("pk"),
            appointment__slot__starts_at__gte=period.start,
            appointment__slot__starts_at__lt=period.end,
            status=VideoSession.Status.FAILED,
        )
        return Q(Exists(failed))
    if name == "open_slips":
        slips = FollowUpSlip.objects.filter(petition=OuterRef("pk"), created_at__lt=period.cutoff).filter(
            Q(closed_at__isnull=True) | Q(closed_at__gte=period.cutoff)
        )
        return Q(Exists(slips))
    if name == "open":
        return _open_at_end(period)
    if name.startswith("open_") and name[5:] in OPEN_STATUSES:
        return Q(received_at__lt=period.cutoff) & Q(Exact(_status_at_end(period), name[5:]))
    raise ValueError(f"Unknown figure: {name}")
