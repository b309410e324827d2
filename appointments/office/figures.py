"""The petition office's figures (dashboard, weekly report, API): each one a condition on petitions, counted in the
database in a fixed number of queries, and the same condition lists the petitions behind it."""

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import (
    CharField,
    Count,
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
from django.utils import timezone
from django.utils.translation import gettext as _

from departments.audit import AuditEvent
from departments.models import Community, Department, Street
from departments.services import Actor
from scheduler.errors import Forbidden

from ..models import (
    Appointment,
    FollowUpSlip,
    Outcome,
    OutcomeItem,
    Petition,
    PetitionCategory,
    Rating,
    ReviewRequest,
    ReviewStage,
    TurnAway,
    VideoSession,
)
from ..notify.waitlist import waitlist_counts_by_department
from ..outcomes.lifecycle import ACCEPTANCE_DAYS, ANSWER_DAYS

S = Petition.Status
# Open petitions: everything but the two ends of the road.
OPEN_STATUSES = [s for s in S.values if s not in (S.CLOSED, S.NOT_ACCEPTED)]
DUE_SOON_DAYS = 3
SATISFIED_LEVELS = [Rating.Level.SATISFIED, Rating.Level.BASICALLY_SATISFIED]
# The figures counted over petitions, in the order the dashboard shows them; each is a drill-down name.
PETITION_FIGURES = [
    "filed",
    "handled",
    "resolved",
    "answered",
    "answered_on_time",
    "rated",
    "satisfied",
    "overdue",
    "due_within_3_days",
    "sessions_held",
    "no_shows",
    "failed_connections",
    "open_slips",
    "open",
    *[f"open_{status}" for status in OPEN_STATUSES],
]


def _zone() -> dt.tzinfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


@dataclass(frozen=True)
class Period:
    """One ISO week in local days; `cutoff` is its end, or now for the week under way, and `as_of` the day whose
    state (open petitions, deadlines) the figures describe."""

    iso_year: int
    iso_week: int
    first_day: dt.date
    last_day: dt.date
    start: dt.datetime
    end: dt.datetime
    cutoff: dt.datetime
    as_of: dt.date
    current: bool

    @property
    def label(self) -> str:
        return f"{self.iso_year}-W{self.iso_week:02d}"

    def previous(self, *, today: dt.date | None = None) -> "Period":
        before = self.first_day - dt.timedelta(days=7)
        year, week, _day = before.isocalendar()
        return week_period(iso_year=year, iso_week=week, today=today)


def week_period(*, iso_year: int, iso_week: int, today: dt.date | None = None) -> Period:
    """The ISO week as a period of Asia/Shanghai local days, Monday to Sunday."""
    zone = _zone()
    now = timezone.now()
    today = today or timezone.localtime(now, zone).date()
    first = dt.date.fromisocalendar(iso_year, iso_week, 1)
    last = first + dt.timedelta(days=6)
    start = dt.datetime.combine(first, dt.time.min, tzinfo=zone)
    end = start + dt.timedelta(days=7)
    current = first <= today <= last
    if today > last:
        cutoff = end
    elif today < first:
        cutoff = start
    else:
        # The week under way is counted up to now; a past week up to its end, so that it reads the same every run.
        end_of_today = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        cutoff = now if start <= now < end_of_today else end_of_today
    return Period(
        iso_year=iso_year,
        iso_week=iso_week,
        first_day=first,
        last_day=last,
        start=start,
        end=end,
        cutoff=cutoff,
        as_of=today if current else last,
        current=current,
    )


def week_period_parse(value: str, *, today: dt.date | None = None) -> Period:
    """The period of a week written YYYY-Www; the current week for anything else."""
    today = today or timezone.localdate()
    try:
        year, week = value.split("-W")
        return week_period(iso_year=int(year), iso_week=int(week), today=today)
    except (ValueError, TypeError, AttributeError):
        year_now, week_now, _day = today.isocalendar()
        return week_period(iso_year=year_now, iso_week=week_now, today=today)


def current_period(today: dt.date | None = None) -> Period:
    today = today or timezone.localdate()
    year, week, _day = today.isocalendar()
    return week_period(iso_year=year, iso_week=week, today=today)


# The conditions -------------------------------------------------------------------------------------------------


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


def figure_petitions(*, name: str, period: Period, petitions: QuerySet[Petition]) -> QuerySet[Petition]:
    """The petitions behind a figure, among those given (the caller's list)."""
    return petitions.filter(figure_q(name, period))


# The figures ----------------------------------------------------------------------------------------------------


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Figures:
    """One row: the whole district, one department, one street, one community or one category."""

    handled: int
    resolved: int
    resolution_rate: float | None
    answered: int
    answered_on_time: int
    on_time_rate: float | None
    rated: int
    satisfied: int
    satisfaction_rate: float | None
    open_by_status: dict[str, int]
    overdue: int
    due_within_3_days: int
    sessions_held: int
    no_shows: int
    failed_connections: int
    open_slips: int
    turned_away: int
    filed: int
    # Residents on the waiting list now (the dashboard's; a week's report leaves it at 0).
    waitlisted: int = 0

    @property
    def open_total(self) -> int:
        return sum(self.open_by_status.values())

    @classmethod
    def from_counts(
        cls, counts: dict[str, Any], *, prefix: str = "", turned_away: int = 0, waitlisted: int = 0
    ) -> "Figures":
        def get(name: str) -> int:
            return int(counts.get(prefix + name) or 0)

        handled, resolved = get("handled"), get("resolved")
        answered, on_time = get("answered"), get("answered_on_time")
        rated, satisfied = get("rated"), get("satisfied")
        return cls(
            handled=handled,
            resolved=resolved,
            resolution_rate=_rate(resolved, handled),
            answered=answered,
            answered_on_time=on_time,
            on_time_rate=_rate(on_time, answered),
            rated=rated,
            satisfied=satisfied,
            satisfaction_rate=_rate(satisfied, rated),
            open_by_status={status: get(f"open_{status}") for status in OPEN_STATUSES},
            overdue=get("overdue"),
            due_within_3_days=get("due_within_3_days"),
            sessions_held=get("sessions_held"),
            no_shows=get("no_shows"),
            failed_connections=get("failed_connections"),
            open_slips=get("open_slips"),
            turned_away=turned_away,
            filed=get("filed"),
            waitlisted=waitlisted,
        )


def _counts(period: Period, prefix: str = "") -> dict[str, Count]:
    names = [name for name in PETITION_FIGURES if name != "open"]
    return {prefix + name: Count("pk", filter=figure_q(name, period)) for name in names}


def _grouped(petitions: QuerySet[Petition], key: str, periods: list[Period]) -> dict[Any, list[dict[str, Any]]]:
    """Counts of every figure for each value of `key` (one query), one dict per period."""
    annotations: dict[str, Count] = {}
    for n, period in enumerate(periods):
        annotations.update(_counts(period, prefix=f"p{n}_"))
    rows = petitions.values(key).annotate(**annotations).order_by()
    result: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        result[row[key]] = [
            {k[len(f"p{n}_") :]: v for k, v in row.items() if k.startswith(f"p{n}_")} for n in range(len(periods))
        ]
    return result


def _total(petitions: QuerySet[Petition], periods: list[Period]) -> list[dict[str, Any]]:
    annotations: dict[str, Count] = {}
    for n, period in enumerate(periods):
        annotations.update(_counts(period, prefix=f"p{n}_"))
    row = petitions.aggregate(**annotations)
    return [{k[len(f"p{n}_") :]: v for k, v in row.items() if k.startswith(f"p{n}_")} for n in range(len(periods))]


def _turn_aways(periods: list[Period], department_ids: Iterable[int] | None) -> list[dict[str, Any]]:
    """Turn-aways per department and community in each period (one query; rows are bounded by places, not data)."""
    rows = TurnAway.objects.filter(at__gte=min(p.start for p in periods), at__lt=max(p.cutoff for p in periods))
    if department_ids is not None:
        rows = rows.filter(department_id__in=list(department_ids))
    annotations = {
        f"p{n}": Count("pk", filter=Q(at__gte=period.start, at__lt=period.cutoff)) for n, period in enumerate(periods)
    }
    grouped = rows.values("department_id", "community_id", "community__street_id").annotate(**annotations).order_by()
    return [dict(row) for row in grouped]


def _turned_away_sum(rows: list[dict[str, Any]], n: int, **match: Any) -> int:
    return sum(row[f"p{n}"] for row in rows if all(row[k] == v for k, v in match.items()))


def _scope(actor: Actor) -> list[int] | None:
    """The departments whose figures the caller may see: None for the whole district."""
    if actor.is_petition_officer:
        return None
    staff = actor.staff
    if staff is not None and staff.department_id is not None and actor.is_department_member(staff.department_id):
        return [staff.department_id]
    raise Forbidden(_("Your role cannot see these figures."))


def _petitions(department_ids: list[int] | None) -> QuerySet[Petition]:
    petitions = Petition.objects.all()
    return petitions if department_ids is None else petitions.filter(department_id__in=department_ids)


def dashboard_figures(*, actor: Actor, today: dt.date | None = None, department_id: int | None = None) -> Figures:
    """This week so far, scoped to the caller (a petition officer may narrow it to one department)."""
    department_ids = _scope(actor)
    if department_id is not None and (department_ids is None or department_id in department_ids):
        department_ids = [department_id]
    period = current_period(today)
    counts = _total(_petitions(department_ids), [period])[0]
    turned = _turned_away_sum(_turn_aways([period], department_ids), 0)
    waiting = sum(row["waiting"] for row in waitlist_counts_by_department(department_ids=department_ids).values())
    return Figures.from_counts(counts, turned_away=turned, waitlisted=waiting)


def dashboard_by_department(*, actor: Actor, today: dt.date | None = None) -> list[tuple[Department, Figures]]:
    """This week so far for each department the caller may see, in two queries and the departments' read."""
    department_ids = _scope(actor)
    period = current_period(today)
    grouped = _grouped(_petitions(department_ids), "department_id", [period])
    turned = _turn_aways([period], department_ids)
    waitlist = waitlist_counts_by_department(department_ids=department_ids)
    departments = Department.objects.filter(kind=Department.Kind.FUNCTIONAL).order_by("name")
    if department_ids is not None:
        departments = Department.objects.filter(pk__in=department_ids)
    return [
        (
            department,
            Figures.from_counts(
                grouped.get(department.pk, [{}])[0],
                turned_away=_turned_away_sum(turned, 0, department_id=department.pk),
                waitlisted=waitlist.get(department.pk, {}).get("waiting", 0),
            ),
        )
        for department in departments
        if department.is_active or department.pk in grouped
    ]


@dataclass(frozen=True)
class WeekReport:
    iso_year: int
    iso_week: int
    first_day: dt.date
    last_day: dt.date
    total: Figures
    previous_total: Figures
    by_department: list[tuple[Department, Figures, Figures]]
    by_street: list[tuple[Street, Figures, Figures]]
    by_community: list[tuple[Community, Figures, Figures]]
    by_category: list[tuple[PetitionCategory, Figures, Figures]]


def week_report(
    *, iso_year: int, iso_week: int, department_ids: list[int] | None = None, today: dt.date | None = None
) -> WeekReport:
    """The figures of one ISO week and the week before, for the district and by department, street, community
    and category, in a fixed number of queries; a past week reads the same every run."""
    period = week_period(iso_year=iso_year, iso_week=iso_week, today=today)
    periods = [period, period.previous(today=today)]
    petitions = _petitions(department_ids)
    totals = _total(petitions, periods)
    turned = _turn_aways(periods, department_ids)
    empty: list[dict[str, Any]] = [{}, {}]

    def pair(counts: list[dict[str, Any]], **match: Any) -> tuple[Figures, Figures]:
        return (
            Figures.from_counts(counts[0], turned_away=_turned_away_sum(turned, 0, **match)),
            Figures.from_counts(counts[1], turned_away=_turned_away_sum(turned, 1, **match)),
        )

    by_department = _grouped(petitions, "department_id", periods)
    by_street = _grouped(petitions, "community__street_id", periods)
    by_community = _grouped(petitions, "community_id", periods)
    by_category = _grouped(petitions, "category_id", periods)
    departments = Department.objects.filter(kind=Department.Kind.FUNCTIONAL)
    if department_ids is not None:
        departments = Department.objects.filter(pk__in=department_ids)
    streets = Street.objects.order_by("code")
    communities = Community.objects.select_related("street").order_by("street__code", "code")
    categories = PetitionCategory.objects.all()
    # Turn-aways have no category: matching department None (never stored) gives 0 for the category rows.
    total, previous_total = pair(totals)
    return WeekReport(
        iso_year=iso_year,
        iso_week=iso_week,
        first_day=period.first_day,
        last_day=period.last_day,
        total=total,
        previous_total=previous_total,
        by_department=[
            (d, *pair(by_department.get(d.pk, empty), department_id=d.pk))
            for d in departments.order_by("name")
            if d.is_active or d.pk in by_department
        ],
        by_street=[(s, *pair(by_street.get(s.pk, empty), community__street_id=s.pk)) for s in streets],
        by_community=[(c, *pair(by_community.get(c.pk, empty), community_id=c.pk)) for c in communities],
        by_category=[(c, *pair(by_category.get(c.pk, empty), department_id=None)) for c in categories],
    )
