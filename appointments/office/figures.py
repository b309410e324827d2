"""The petition office's figures (dashboard, weekly report, API): each one a condition on petitions, counted in the
database in a fixed number of queries, and the same condition lists the petitions behind it."""

import contextlib
import datetime as dt
import functools
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.db.models.lookups import Exact, GreaterThanOrEqual, In, LessThan
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
# A move's audit event is written moments after the petition is saved, in the same transaction: a petition whose
# last save is older than the period's end by more than this did not move since.
MOVE_SAVED_WITHIN = dt.timedelta(hours=1)
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


def _among(rows: QuerySet[Any], column: str = "petition_id") -> Q:
    """The petition is one of a few that `rows` name: an uncorrelated IN, which the database works out once per
    query and then looks up per petition, instead of a subquery run for every petition in the district.

    Each figure begins with such a test on the period's own activity (answers told, ratings given, sessions held);
    the conditions that need a petition's own history follow it, so that they are only evaluated for those few
    (both databases stop at the first false term of an AND)."""
    return Q(pk__in=rows.order_by().values(column))


def _first_answers_told(start: dt.datetime | None, end: dt.datetime) -> QuerySet[Outcome]:
    answers = Outcome.objects.filter(
        stage=ReviewStage.FIRST, corrects__isnull=True, told_at__isnull=False, told_at__lt=end
    ).exclude(items__decision=OutcomeItem.Decision.REFERRED)
    return answers.filter(told_at__gte=start) if start is not None else answers


def _answered_in(period: Period) -> Q:
    told_before = _first_answers().filter(told_at__lt=period.start)
    return _among(_first_answers_told(period.start, period.cutoff)) & ~Q(Exists(told_before))


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
    moves = AuditEvent.objects.filter(target_type=Petition._meta.label_lower, action="petition.status")
    last_before = (
        moves.filter(target_id=Cast(OuterRef("pk"), CharField()), at__lt=period.cutoff)
        .order_by("-at", "-pk")
        .annotate(to=KeyTextTransform("to", "detail"))
        .values("to")[:1]
    )
    # Every move of a petition's status is recorded as it is made, and saves the petition (`petition_transition`,
    # booking), so a petition that has not moved since the period ended still has the status it had then, and one
    # that has was saved since: only those few are looked up among the moves, and only the ones that moved have
    # their history read.
    moved_since = moves.filter(at__gte=period.cutoff).order_by().values(moved=Cast("target_id", IntegerField()))
    saved_since = Q(updated_at__gte=period.cutoff - MOVE_SAVED_WITHIN)
    return Case(
        When(saved_since & Q(pk__in=moved_since), then=Coalesce(Subquery(last_before), Value(S.RECEIVED))),
        default=F("status"),
        output_field=CharField(),
    )


def _open_at_end(period: Period) -> Q:
    status = _status_at_end(period)
    # One test of the status (its history read once), not one per status left out.
    return Q(received_at__lt=period.cutoff) & ~Q(In(status, [S.CLOSED, S.NOT_ACCEPTED]))


def _session(period: Period, **conditions: Any) -> Q:
    appointments = Appointment.objects.filter(
        slot__starts_at__gte=period.start, slot__starts_at__lt=period.end, **conditions
    )
    return _among(appointments)


def _midnight(day: dt.date) -> dt.datetime:
    """The moment a local day begins."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=_zone())


def _due_between(period: Period, first: dt.date | None, last: dt.date) -> Q:
    """Petitions whose statutory deadline in force at the period's end falls from `first` to `last`.

    For the week under way that is the deadline kept on the petition. For a past week it is worked out from stored
    moments only — receipt, acceptance, first answer, review requests — so that a later decision does not change
    the report (calendar days; a deadline falling on a rest day is not moved to the next working day here).
    """
    if period.current:
        return Q(due_on__lte=last) & (Q(due_on__gte=first) if first else Q(due_on__isnull=False))

    # "The local day N days after a moment falls from `first` to `last`" is "the moment plus N days lies from the
    # start of `first` to before the start of the day after `last`": the same test, without working out a local
    # day for every petition in the district (and, for a fixed N, a plain comparison of the stored moment).
    from_moment = _midnight(first) if first else None
    until_moment = _midnight(last + dt.timedelta(days=1))

    def between(moment: Any, lower: dt.datetime | None, upper: dt.datetime) -> Q:
        return Q(LessThan(moment, upper)) & (Q(GreaterThanOrEqual(moment, lower)) if lower else Q())

    def received_within(days: int) -> Q:
        shift = dt.timedelta(days=days)
        return between(F("received_at"), from_moment and from_moment - shift, until_moment - shift)

    def accepted_within(days: Any) -> Q:
        span = ExpressionWrapper(days * Value(dt.timedelta(days=1)), output_field=DurationField())
        moment = ExpressionWrapper(F("accepted_at") + span, output_field=DateTimeField())
        return between(moment, from_moment, until_moment)

    decided = Q(acceptance_decided_at__lt=period.cutoff)
    # Answered by the period's end: many petitions (hashed once per query; the counting transaction gives the
    # database the memory for it).
    answered = _among(_first_answers_told(None, period.cutoff))
    open_reviews = ReviewRequest.objects.filter(requested_at__lt=period.cutoff).filter(
        Q(answered_at__isnull=True) | Q(answered_at__gte=period.cutoff)
    )
    review = _among(open_reviews)
    review_due = open_reviews.filter(answer_due_on__lte=last)
    if first:
        review_due = review_due.filter(answer_due_on__gte=first)
    # The deadline is worked out from the petition's own columns first; its history is read only for the few
    # petitions whose deadline falls in the days asked for.
    acceptance = received_within(ACCEPTANCE_DAYS) & ~decided
    answer = Q(accepted_at__lt=period.cutoff) & accepted_within(F("extension_days") + ANSWER_DAYS) & ~answered & ~review
    return acceptance | answer | _among(review_due)


def figure_q(name: str, period: Period) -> Q:
    """The condition a petition meets to be counted in a figure; the drill-down lists exactly these petitions."""
    rated = Rating.objects.filter(rated_at__gte=period.start, rated_at__lt=period.cutoff)
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
        # _answered_in comes first: the history is read only for the petitions answered in the period.
        return _answered_in(period) & ~Q(Exists(open_review)) & ~Q(Exists(dissatisfied))
    if name == "answered":
        return _answered_in(period)
    if name == "answered_on_time":
        return _answered_on_time_in(period)
    if name == "rated":
        return _among(rated, "outcome__petition_id")
    if name == "satisfied":
        return _among(rated.filter(level__in=SATISFIED_LEVELS), "outcome__petition_id")
    # The deadline first (the petition's own columns and a few history reads), then the status at the end.
    if name == "overdue":
        return _due_between(period, None, period.as_of - dt.timedelta(days=1)) & _open_at_end(period)
    if name == "due_within_3_days":
        return _due_between(period, period.as_of, period.as_of + dt.timedelta(days=DUE_SOON_DAYS)) & _open_at_end(
            period
        )
    if name == "sessions_held":
        return _session(period, status=Appointment.Status.COMPLETED)
    if name == "no_shows":
        return _session(period, status=Appointment.Status.NO_SHOW)
    if name == "failed_connections":
        failed = VideoSession.objects.filter(
            appointment__slot__starts_at__gte=period.start,
            appointment__slot__starts_at__lt=period.end,
            status=VideoSession.Status.FAILED,
        )
        return _among(failed, "appointment__petition_id")
    if name == "open_slips":
        slips = FollowUpSlip.objects.filter(created_at__lt=period.cutoff).filter(
            Q(closed_at__isnull=True) | Q(closed_at__gte=period.cutoff)
        )
        return _among(slips)
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


# The open petitions by status are not counted with a filter each: the petitions are grouped by their status at the
# end of each period, which is worked out once per petition, not once for each status.
_STATUS_FIGURES = {f"open_{status}" for status in OPEN_STATUSES}


def _counted_figures() -> list[str]:
    return [name for name in PETITION_FIGURES if name != "open" and name not in _STATUS_FIGURES]


def _status_at_end_or_none(period: Period) -> Case:
    return Case(When(received_at__lt=period.cutoff, then=_status_at_end(period)), default=None)


def _figure_rows(
    petitions: QuerySet[Petition], keys: list[str], periods: list[Period]
) -> dict[str | None, dict[Any, list[dict[str, int]]]]:
    """Counts of every figure for each value of each key, one dict per period: {key: {value: [counts, ...]}};
    with no key, {None: {None: [counts, ...]}} over all the petitions given.

    Each petition's facts are worked out once, in a derived table: whether it counts in each figure, and its status
    at the end of each period (once, not once per status). The counts are then taken over those facts, grouped by
    each key and the statuses; on PostgreSQL one GROUPING SETS query serves every key, a single pass over the
    petitions. The `open_<status>` counts are the sizes of the status groups.
    """
    flags = {
        f"p{n}_{name}": ExpressionWrapper(figure_q(name, period), output_field=BooleanField())
        for n, period in enumerate(periods)
        for name in _counted_figures()
    }
    ends = {f"end{n}": _status_at_end_or_none(period) for n, period in enumerate(periods)}
    facts = petitions.annotate(**ends, **flags).values(*keys, *ends, *flags).order_by()
    inner, params = facts.query.sql_with_params()
    connection = connections[facts.db]
    qn = connection.ops.quote_name
    shared = [qn(end) for end in ends]
    counts = ", ".join(["COUNT(*)", *(f"COUNT(*) FILTER (WHERE {qn(flag)})" for flag in flags)])
    queries: list[tuple[list[str | None], str]] = []
    each: list[str | None] = list(keys) or [None]
    if len(keys) > 1 and connection.vendor == "postgresql":
        columns = [qn(key) for key in keys]
        sets = ", ".join("(" + ", ".join([column, *shared]) + ")" for column in columns)
        select = ", ".join([f"GROUPING({', '.join(columns)})", *columns, *shared, counts])
        # Identifiers only (quoted by the backend); every value stays a parameter of the ORM's own inner query.
        grouped = f"SELECT {select} FROM ({inner}) facts GROUP BY GROUPING SETS ({sets})"  # noqa: S608
        queries.append((list(keys), grouped))
    else:
        for key in each:
            grouping = [qn(key)] if key else []
            select = ", ".join(["0", *grouping, *shared, counts])
            group_by = ", ".join([*grouping, *shared])
            queries.append(([key], f"SELECT {select} FROM ({inner}) facts GROUP BY {group_by}"))  # noqa: S608
    result: dict[str | None, dict[Any, list[dict[str, int]]]] = {key: {} for key in each}
    for query_keys, sql in queries:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchall()
        real_keys = [key for key in query_keys if key]
        # GROUPING() sets a bit for each key column left out of the row's set: the one bit clear names the key.
        everything = (1 << len(real_keys)) - 1
        which = {everything ^ (1 << (len(real_keys) - 1 - n)): key for n, key in enumerate(real_keys)}
        # Where each count lands: (position in the row, period, figure).
        offset = 1 + len(real_keys) + len(ends)
        landing = [(offset + 1 + i, int(name[1 : name.index("_")]), name[name.index("_") + 1 :]) for i, name in
                   enumerate(flags)]  # fmt: skip
        for row in found:
            row_key = which[row[0]] if len(real_keys) > 1 else query_keys[0]
            value = row[1 + real_keys.index(row_key)] if row_key else None
            by_period = result[row_key].setdefault(value, [{} for _ in periods])
            for position, n, figure in landing:
                number = row[position]
                if number:
                    by_period[n][figure] = by_period[n].get(figure, 0) + number
            size = row[offset]
            for n, status in enumerate(row[1 + len(real_keys) : offset]):
                if status in OPEN_STATUSES:
                    figure = f"open_{status}"
                    by_period[n][figure] = by_period[n].get(figure, 0) + size
    return result


def _grouped(petitions: QuerySet[Petition], key: str, periods: list[Period]) -> dict[Any, list[dict[str, Any]]]:
    """Counts of every figure for each value of `key` (one query), one dict per period."""
    return _figure_rows(petitions, [key], periods)[key]


def _total(petitions: QuerySet[Petition], periods: list[Period]) -> list[dict[str, Any]]:
    """Counts of every figure over all the petitions given (one query), one dict per period."""
    return _figure_rows(petitions, [], periods)[None].get(None) or [
        dict.fromkeys(_counted_figures(), 0) for _ in periods
    ]


def _summed(rows: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Counts added up, period by period (rows of several groups make the row of the group holding them)."""
    return [
        {name: sum(int(row[n].get(name) or 0) for row in rows) for name in {k for row in rows for k in row[n]}}
        for n in range(len(rows[0]))
    ]


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


@contextlib.contextmanager
def _counting() -> Iterator[None]:
    """A transaction in which PostgreSQL does not JIT-compile and may hash larger sets: these are one-off aggregate
    plans over the whole district; at city scale compiling them took longer than running them (277 of 346 ms for
    one figure), and "answered by the period's end" is a set of every answered petition, which must be hashed once,
    not scanned for each petition. SET LOCAL ends with the transaction, so a pooled connection (PgBouncer) is left
    as it was found."""
    alias = router.db_for_read(Petition)
    with transaction.atomic(using=alias, savepoint=False):
        if connections[alias].vendor == "postgresql":
            with connections[alias].cursor() as cursor:
                cursor.execute("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'")
        yield


def _counted[**P, R](function: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with _counting():
            return function(*args, **kwargs)

    return wrapper


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


@_counted
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


@_counted
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


@_counted
def week_report(
    *, iso_year: int, iso_week: int, department_ids: list[int] | None = None, today: dt.date | None = None
) -> WeekReport:
    """The figures of one ISO week and the week before, for the district and by department, street, community
    and category, in a fixed number of queries; a past week reads the same every run."""
    period = week_period(iso_year=iso_year, iso_week=iso_week, today=today)
    periods = [period, period.previous(today=today)]
    petitions = _petitions(department_ids)
    turned = _turn_aways(periods, department_ids)
    empty: list[dict[str, Any]] = [{}, {}]

    def pair(counts: list[dict[str, Any]], **match: Any) -> tuple[Figures, Figures]:
        return (
            Figures.from_counts(counts[0], turned_away=_turned_away_sum(turned, 0, **match)),
            Figures.from_counts(counts[1], turned_away=_turned_away_sum(turned, 1, **match)),
        )

    # Three passes over the petitions. Every count is a number of petitions and every petition has one department
    # and at most one community: the district's row is the sum of the departments', a street's the sum of its
    # communities'.
    rows = _figure_rows(petitions, ["department_id", "community_id", "category_id"], periods)
    by_department, by_community, by_category = rows["department_id"], rows["community_id"], rows["category_id"]
    communities = list(Community.objects.select_related("street").order_by("street__code", "code"))
    street_of = {c.pk: c.street_id for c in communities}
    by_street: dict[Any, list[dict[str, Any]]] = {}
    for community_id, counts in by_community.items():
        street = by_street.setdefault(street_of.get(community_id), [{} for _ in periods])
        for into, adding in zip(street, counts, strict=True):
            for name, number in adding.items():
                into[name] = into.get(name, 0) + number
    totals = _summed(list(by_department.values())) if by_department else empty
    departments = Department.objects.filter(kind=Department.Kind.FUNCTIONAL)
    if department_ids is not None:
        departments = Department.objects.filter(pk__in=department_ids)
    streets = Street.objects.order_by("code")
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
