"""Turn a department's weekly rules into published slots, one ISO week at a time."""

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from departments.audit import audit_record
from departments.models import Department
from departments.services import Actor

from .availability_cache import availability_changed
from .calendar import DayInfo, consultation_weekday, days_info, holiday_year_is_confirmed
from .errors import Conflict, DomainError, Forbidden, InvalidInput, ProvisionalHolidayYear
from .models import SEAT_HOLDING_STATUSES, SESSION_MINUTES, Closure, ConsultationRule, ScheduleWeek, Seat, Slot
from .signals import week_published

# ASCII digits only: `\d` would also take full-width "２０２６", which int() reads as 2026.
ISO_WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")
# Weeks may be published from the ISO year before the current one up to two years ahead (and never once ended).
PUBLISH_YEARS_BACK, PUBLISH_YEARS_AHEAD = 1, 2


def service_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def service_today() -> dt.date:
    """Today's date where the service runs (Asia/Shanghai)."""
    return timezone.localdate(timezone=service_zone())


def iso_week_parse(value: str, *, today: dt.date | None = None) -> tuple[int, int]:
    """Parse 'YYYY-Www' into (year, week) of a week that exists and may still be published."""
    match = ISO_WEEK.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise InvalidInput(
            _("Write the week as YYYY-Www with ordinary digits (0–9), for example 2026-W49."), field="week"
        )
    year, week = int(match.group(1)), int(match.group(2))
    week_check_publishable(iso_year=year, iso_week=week, today=today)
    return year, week


def week_check_publishable(*, iso_year: int, iso_week: int, today: dt.date | None = None) -> None:
    """Refuse a week that does not exist, lies outside the years that may be published, or has already ended."""
    today = today or service_today()
    current = today.isocalendar().year
    first, last = current - PUBLISH_YEARS_BACK, current + PUBLISH_YEARS_AHEAD
    if not first <= iso_year <= last:
        raise InvalidInput(
            _("Only weeks of the years %(first)s to %(last)s can be published.") % {"first": first, "last": last},
            field="week",
        )
    label = f"{iso_year:04d}-W{iso_week:02d}"
    try:
        sunday = dt.date.fromisocalendar(iso_year, iso_week, 7)
    except ValueError:
        raise InvalidInput(_("Week %(week)s does not exist.") % {"week": label}, field="week") from None
    if sunday < today:
        raise InvalidInput(
            _("Week %(week)s has already ended and can no longer be published.") % {"week": label}, field="week"
        )


def iso_week_days(iso_year: int, iso_week: int) -> list[dt.date]:
    monday = dt.date.fromisocalendar(iso_year, iso_week, 1)
    return [monday + dt.timedelta(days=i) for i in range(7)]


@dataclass(frozen=True)
class PlannedSlot:
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    rule: ConsultationRule


@dataclass
class DayPlan:
    info: DayInfo
    closure_reason: str = ""
    slots: list[PlannedSlot] = field(default_factory=list)


def _rule_times(rule: ConsultationRule, day: dt.date, zone: ZoneInfo) -> list[tuple[dt.datetime, dt.datetime]]:
    start = dt.datetime.combine(day, rule.start_time, tzinfo=zone)
    close = dt.datetime.combine(day, rule.end_time, tzinfo=zone)
    # Never shorter than the bound: a zero-minute session would never reach the end of the day.
    length = dt.timedelta(minutes=max(rule.session_minutes, SESSION_MINUTES.low))
    step = length + dt.timedelta(minutes=rule.buffer_minutes)
    times = []
    while start + length <= close:
        times.append((start, start + length))
        start += step
    return times


def _rules_and_closures(department_ids: list[int], days: list[dt.date]):
    rules = list(
        ConsultationRule.objects.filter(department_id__in=department_ids, effective_from__lte=days[-1])
        .filter(Q(effective_until__isnull=True) | Q(effective_until__gte=days[0]))
        .order_by("weekday", "start_time", "pk")
    )
    closures = list(
        Closure.objects.filter(Q(department_id__in=department_ids) | Q(department__isnull=True))
        .filter(start_date__lte=days[-1], end_date__gte=days[0])
        .order_by("start_date")
    )
    return rules, closures


def _day_plans(
    department_id: int,
    days: list[dt.date],
    rules: list[ConsultationRule],
    closures: list[Closure],
    infos: dict[dt.date, DayInfo],
) -> list[DayPlan]:
    zone = service_zone()
    rules = [r for r in rules if r.department_id == department_id]
    closures = [c for c in closures if c.department_id in (None, department_id)]
    plan = []
    for day in days:
        day_plan = DayPlan(info=infos[day])
        closure = next((c for c in closures if c.start_date <= day <= c.end_date), None)
        weekday = consultation_weekday(day_plan.info)
        if closure is not None:
            day_plan.closure_reason = closure.reason
        elif weekday is not None:
            seen: set[dt.datetime] = set()
            for rule in rules:
                if rule.weekday != weekday or rule.effective_from > day:
                    continue
                if rule.effective_until is not None and rule.effective_until < day:
                    continue
                for starts_at, ends_at in _rule_times(rule, day, zone):
                    if starts_at not in seen:  # overlapping rules: the first one wins
                        seen.add(starts_at)
                        day_plan.slots.append(PlannedSlot(starts_at, ends_at, rule.capacity, rule))
            day_plan.slots.sort(key=lambda s: s.starts_at)
        plan.append(day_plan)
    return plan


def week_plan(*, department: Department, iso_year: int, iso_week: int) -> list[DayPlan]:
    """Work out each day of a week: its calendar kind, any closure, and the slots the rules give."""
    days = iso_week_days(iso_year, iso_week)
    rules, closures = _rules_and_closures([department.pk], days)
    return _day_plans(department.pk, days, rules, closures, days_info(days))


@dataclass(frozen=True)
class RuleWeek:
    """What a department's rules give in one week: sessions on each weekday (0 = Monday) and seats per session."""

    sessions_by_day: dict[int, int]
    seats_per_session: int


def weeks_rule_sessions(*, department_ids: list[int], iso_year: int, iso_week: int) -> dict[int, RuleWeek]:
    """Count the sessions each department's rules give in a week, in a constant number of queries."""
    days = iso_week_days(iso_year, iso_week)
    rules, closures = _rules_and_closures(department_ids, days)
    infos = days_info(days)
    result = {}
    for department_id in department_ids:
        plans = _day_plans(department_id, days, rules, closures, infos)
        by_day = {p.info.date.weekday(): len(p.slots) for p in plans if p.slots}
        capacities = [s.capacity for p in plans for s in p.slots]
        seats = round(sum(capacities) / len(capacities)) if capacities else 1
        result[department_id] = RuleWeek(sessions_by_day=by_day, seats_per_session=max(1, seats))
    return result


def plan_spread(slots: list[PlannedSlot], sessions: int) -> list[PlannedSlot]:
    """Keep `sessions` of a day's slots, spread evenly over the day (all of them when it asks for as many)."""
    if sessions >= len(slots):
        return list(slots)
    if sessions <= 0:
        return []
    step = len(slots) / sessions
    return [slots[math.floor(i * step)] for i in range(sessions)]


def week_plan_limited(day_plans: list[DayPlan], plan: dict[int, int]) -> list[DayPlan]:
    """Apply a plan {weekday: sessions} to a week's days: never a time the rules do not give."""
    return [
        DayPlan(
            info=day.info,
            closure_reason=day.closure_reason,
            slots=plan_spread(day.slots, plan.get(day.info.date.weekday(), 0)),
        )
        for day in day_plans
    ]


@dataclass
class PublishResult:
    week: ScheduleWeek
    created: int = 0
    updated: int = 0
    removed: int = 0
    kept_booked: list[Slot] = field(default_factory=list)
    provisional_years: list[int] = field(default_factory=list)


def week_provisional_years(iso_year: int, iso_week: int) -> list[int]:
    """Return the years of this week whose holiday schedule is not yet announced."""
    years = sorted({d.year for d in iso_week_days(iso_year, iso_week)})
    return [y for y in years if not holiday_year_is_confirmed(y)]


def _seats_add(slot: Slot, up_to: int) -> None:
    existing = set(slot.seats.values_list("number", flat=True))
    Seat.objects.bulk_create([Seat(slot=slot, number=n) for n in range(1, up_to + 1) if n not in existing])


def _slot_resize(slot: Slot, capacity: int) -> int:
    """Resize a slot's seats to capacity, never removing a taken seat; return the capacity reached."""
    highest_taken = (
        slot.seats.filter(appointments__status__in=SEAT_HOLDING_STATUSES).aggregate(n=Max("number"))["n"] or 0
    )
    capacity = max(capacity, highest_taken)
    if capacity > slot.capacity:
        _seats_add(slot, capacity)
    elif capacity < slot.capacity:
        # A seat with a cancelled booking stays on record; booking only uses seats up to capacity.
        slot.seats.filter(number__gt=capacity, appointments__isnull=True).delete()
    return capacity


@transaction.atomic
def week_publish(
    *,
    department: Department,
    iso_year: int,
    iso_week: int,
    published_by=None,
    confirm_provisional_holidays: bool = False,
    plan: dict[int, int] | None = None,
) -> PublishResult:
    """Materialise a week's slots from the rules minus closures and holidays, idempotently.

    With a plan {weekday: sessions}, only that many of the slots the rules give on each day are published
    (spread over the day); a weekday missing from the plan gets none.
    """
    if plan is not None and any(not isinstance(n, int) or n < 0 for n in plan.values()):
        raise InvalidInput(_("A plan gives each day a whole number of sessions, zero or more."), field="plan")
    provisional = week_provisional_years(iso_year, iso_week)
    if provisional and not confirm_provisional_holidays:
        raise ProvisionalHolidayYear(
            _(
                "The holiday schedule for %(years)s has not been announced yet, so holidays in this week "
                "are a guess. Confirm explicitly to publish anyway."
            )
            % {"years": ", ".join(str(y) for y in provisional)},
            field="confirm_provisional_holidays",
        )
    week, _created = ScheduleWeek.objects.get_or_create(department=department, iso_year=iso_year, iso_week=iso_week)
    week = ScheduleWeek.objects.select_for_update().get(pk=week.pk)
    if week.status == ScheduleWeek.Status.CLOSED:
        raise Conflict(_("Week %(week)s is closed and can no longer be published.") % {"week": week.label})

    result = PublishResult(week=week, provisional_years=provisional)
    existing = {
        slot.starts_at: slot
        for slot in week.slots.annotate(
            taken=Count("seats__appointments", filter=Q(seats__appointments__status__in=SEAT_HOLDING_STATUSES))
        )
    }
    new_slots = []
    day_plans = week_plan(department=department, iso_year=iso_year, iso_week=iso_week)
    if plan is not None:
        day_plans = week_plan_limited(day_plans, plan)
    for day_plan in day_plans:
        for planned in day_plan.slots:
            slot = existing.pop(planned.starts_at, None)
            if slot is None:
                new_slots.append(
                    Slot(
                        department=department,
                        week=week,
                        rule=planned.rule,
                        starts_at=planned.starts_at,
                        ends_at=planned.ends_at,
                        capacity=planned.capacity,
                        min_notice_minutes=planned.rule.min_notice_minutes,
                        booking_window_days=planned.rule.booking_window_days,
                    )
                )
                continue
            changed = (
                slot.ends_at != planned.ends_at
                or slot.capacity != planned.capacity
                or slot.rule_id != planned.rule.pk
                or slot.min_notice_minutes != planned.rule.min_notice_minutes
                or slot.booking_window_days != planned.rule.booking_window_days
            )
            # Taken out by an earlier publishing, not by a person: the rules give it again, so it reopens.
            reopened = slot.status == Slot.Status.WITHDRAWN and slot.withdrawn_by_publishing
            if changed or reopened:
                slot.capacity = _slot_resize(slot, planned.capacity)
                slot.ends_at = planned.ends_at
                slot.rule = planned.rule
                slot.min_notice_minutes = planned.rule.min_notice_minutes
                slot.booking_window_days = planned.rule.booking_window_days
                if reopened:
                    slot.status = Slot.Status.OPEN
                    slot.withdrawn_by_publishing = False
                slot.save(
                    update_fields=[
                        "capacity",
                        "ends_at",
                        "rule",
                        "min_notice_minutes",
                        "booking_window_days",
                        "status",
                        "withdrawn_by_publishing",
                    ]
                )
                result.updated += 1

    if new_slots:
        created = Slot.objects.bulk_create(new_slots)
        Seat.objects.bulk_create([Seat(slot=s, number=n) for s in created for n in range(1, s.capacity + 1)])
        result.created = len(created)

    # Slots the rules no longer give: free ones go, booked ones stay until a person withdraws them.
    # A free slot with cancelled bookings is withdrawn rather than deleted, so their history stays.
    for slot in existing.values():
        if slot.taken:
            result.kept_booked.append(slot)
        elif slot.appointments.exists():
            if slot.status != Slot.Status.WITHDRAWN:
                slot.status = Slot.Status.WITHDRAWN
                slot.withdrawn_by_publishing = True
                slot.save(update_fields=["status", "withdrawn_by_publishing"])
                result.removed += 1
        else:
            slot.delete()
            result.removed += 1

    week.status = ScheduleWeek.Status.PUBLISHED
    week.published_at = timezone.now()
    week.published_by = published_by
    week.provisional_holidays_confirmed = bool(provisional)
    week.save(update_fields=["status", "published_at", "published_by", "provisional_holidays_confirmed"])
    if result.created or result.updated:
        department_id = department.pk
        transaction.on_commit(lambda: week_published.send(sender=ScheduleWeek, department_id=department_id))
    return result


def week_close(*, week: ScheduleWeek) -> None:
    """Close a past week: its slots stay on record but can no longer be booked or republished."""
    ScheduleWeek.objects.filter(pk=week.pk).update(status=ScheduleWeek.Status.CLOSED)
    availability_changed([week.department_id])


@dataclass
class PlannedPublishing:
    """What publishing one department's planned week did, or why it did not."""

    department: Department
    sessions: int
    result: PublishResult | None = None
    refused: str = ""


def weeks_publish_planned(
    *,
    actor: Actor,
    plans: dict[Department, dict[int, int]],
    iso_year: int,
    iso_week: int,
    confirm_provisional_holidays: bool = False,
) -> list[PlannedPublishing]:
    """Publish every planned department's week in one step (petition officers); each department on its own.

    One department refused (a closed week, an unconfirmed holiday year) leaves the others published.
    """
    if not actor.is_petition_officer:
        raise Forbidden(_("Only a petition officer may publish the planned weeks."))
    week_check_publishable(iso_year=iso_year, iso_week=iso_week)
    outcomes = []
    for department, plan in plans.items():
        outcome = PlannedPublishing(department=department, sessions=sum(plan.values()))
        try:
            with transaction.atomic():
                outcome.result = week_publish(
                    department=department,
                    iso_year=iso_year,
                    iso_week=iso_week,
                    published_by=actor.staff.user if actor.staff else None,
                    confirm_provisional_holidays=confirm_provisional_holidays,
                    plan=plan,
                )
                audit_record(
                    actor=actor,
                    action="week.publish_planned",
                    target=outcome.result.week,
                    detail={
                        "plan": {str(day): n for day, n in sorted(plan.items())},
                        "created": outcome.result.created,
                        "updated": outcome.result.updated,
                        "removed": outcome.result.removed,
                    },
                )
        except DomainError as error:
            outcome.refused = str(error.message)
        outcomes.append(outcome)
    return outcomes


@transaction.atomic
def weeks_publish_bulk(
    *,
    departments: list[Department],
    iso_year: int,
    iso_week: int,
    published_by=None,
    confirm_provisional_holidays: bool = False,
) -> dict[int, PublishResult]:
    """Publish one week for many departments at once, giving exactly the slots `week_publish` gives each.

    A department whose week is new is planned from one read of every department's rules and closures and written
    with a handful of INSERTs for all of them; a week already there (a republish) goes through `week_publish`.
    """
    provisional = week_provisional_years(iso_year, iso_week)
    if provisional and not confirm_provisional_holidays:
        raise ProvisionalHolidayYear(
            _(
                "The holiday schedule for %(years)s has not been announced yet, so holidays in this week "
                "are a guess. Confirm explicitly to publish anyway."
            )
            % {"years": ", ".join(str(y) for y in provisional)},
            field="confirm_provisional_holidays",
        )
    present = set(
        ScheduleWeek.objects.filter(department__in=departments, iso_year=iso_year, iso_week=iso_week).values_list(
            "department_id", flat=True
        )
    )
    results: dict[int, PublishResult] = {}
    for department in departments:
        if department.pk in present:
            results[department.pk] = week_publish(
                department=department,
                iso_year=iso_year,
                iso_week=iso_week,
                published_by=published_by,
                confirm_provisional_holidays=confirm_provisional_holidays,
            )
    new = [d for d in departments if d.pk not in present]
    if not new:
        return results
    days = iso_week_days(iso_year, iso_week)
    rules, closures = _rules_and_closures([d.pk for d in new], days)
    infos = days_info(days)
    now = timezone.now()
    weeks = ScheduleWeek.objects.bulk_create(
        ScheduleWeek(
            department=department,
            iso_year=iso_year,
            iso_week=iso_week,
            status=ScheduleWeek.Status.PUBLISHED,
            published_at=now,
            published_by=published_by,
            provisional_holidays_confirmed=bool(provisional),
        )
        for department in new
    )
    rules_of: dict[int, list[ConsultationRule]] = {}
    for rule in rules:
        rules_of.setdefault(rule.department_id, []).append(rule)
    rows = []
    for department, week in zip(new, weeks, strict=True):
        result = results[department.pk] = PublishResult(week=week, provisional_years=provisional)
        closures_here = [c for c in closures if c.department_id in (None, department.pk)]
        for day_plan in _day_plans(department.pk, days, rules_of.get(department.pk, []), closures_here, infos):
            for planned in day_plan.slots:
                rows.append((department.pk, week.pk, planned))
                result.created += 1
    _slots_insert(rows)
    if rows:
        _seats_create_for_weeks(week_ids=[w.pk for w in weeks], most=max(planned.capacity for *_, planned in rows))
    availability_changed([d.pk for d in new])
    for department_id in [pk for pk, result in results.items() if result.created and pk not in present]:
        transaction.on_commit(partial(week_published.send, sender=ScheduleWeek, department_id=department_id))
    return results


# Written as plain rows: at a city's scale, building a model instance per slot costs more than the INSERT.
_SLOT_COLUMNS = (
    "department_id",
    "week_id",
    "rule_id",
    "starts_at",
    "ends_at",
    "capacity",
    "status",
    "min_notice_minutes",
    "booking_window_days",
    "withdrawn_reason",
    "withdrawn_by_publishing",
)


def _slots_insert(rows: list[tuple[int, int, PlannedSlot]]) -> None:
    """Insert planned slots (department id, week id, plan) as new open slots, the way `week_publish` creates them."""
    stored = {f.column for f in Slot._meta.concrete_fields if not f.primary_key}
    assert stored == set(_SLOT_COLUMNS), "Slot gained a column: write it here too"  # noqa: S101
    stamp = connection.ops.adapt_datetimefield_value
    values = [
        (
            department_id,
            week_id,
            planned.rule.pk,
            stamp(planned.starts_at),
            stamp(planned.ends_at),
            planned.capacity,
            Slot.Status.OPEN.value,
            planned.rule.min_notice_minutes,
            planned.rule.booking_window_days,
            "",
            False,
        )
        for department_id, week_id, planned in rows
    ]
    insert = f"INSERT INTO {Slot._meta.db_table} ({', '.join(_SLOT_COLUMNS)}) "  # noqa: S608
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and values:
            # One statement, one parameter per column: PostgreSQL unpacks the arrays into rows.
            types = ("int", "int", "int", "timestamptz", "timestamptz", "int", "text", "int", "int", "text", "bool")
            unnest = ", ".join(f"%s::{t}[]" for t in types)
            columns = [list(column) for column in zip(*values, strict=True)]
            cursor.execute(insert + f"SELECT * FROM unnest({unnest})", columns)  # noqa: S608
        elif values:
            cursor.executemany(insert + f"VALUES ({', '.join(['%s'] * len(_SLOT_COLUMNS))})", values)


def _seats_create_for_weeks(*, week_ids: list[int], most: int) -> None:
    """Give every new slot of these weeks its seats 1..capacity, in one INSERT ... SELECT inside the database."""
    numbers = ", ".join(f"({n})" for n in range(1, most + 1))
    seat, slot = Seat._meta.db_table, Slot._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH numbers (n) AS (VALUES {numbers}) "  # noqa: S608 - table names and integers only
            f"INSERT INTO {seat} (slot_id, number) SELECT s.id, numbers.n FROM {slot} s "
            f"JOIN numbers ON numbers.n <= s.capacity WHERE s.week_id IN ({', '.join(['%s'] * len(week_ids))})",
            week_ids,
        )
