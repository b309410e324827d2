"""Reads of the schedule: which slots a resident may book now, and how many seats are left."""

import datetime as dt
import functools
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict, cast
from zoneinfo import ZoneInfo

from django.db import connections, router
from django.db.models import CharField, Count, DateField, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.base import ModelState
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from departments.models import Department

from .availability_cache import OpenRows, cache_seconds, calendar_cached, open_rows_cached
from .calendar import days_info
from .errors import DomainError, NotFound, OutsideBookingWindow, SlotUnavailable
from .models import (
    BOOKING_WINDOW_DAYS,
    MIN_NOTICE_MINUTES,
    SEAT_HOLDING_STATUSES,
    Closure,
    HolidayOverride,
    ScheduleWeek,
    Slot,
)
from .publishing import service_zone

if TYPE_CHECKING:  # django-stubs-ext is only needed by the type checker, not at run time
    from django_stubs_ext import WithAnnotations

    class _Taken(TypedDict):
        taken: int

    class _TakenAndRemaining(TypedDict):
        taken: int
        remaining: int

    # A Slot read through slot_queryset_with_remaining(), and one listed by slot_list_open().
    SlotWithTaken = WithAnnotations[Slot, _Taken]
    OpenSlot = WithAnnotations[Slot, _TakenAndRemaining]

# The longest booking window a rule may set; bounds the database query before per-slot checks.
MAX_WINDOW_DAYS = BOOKING_WINDOW_DAYS.high


def department_get(code: str, *, field: str = "department") -> Department:
    """Load an active department by its code, or say plainly that there is none."""
    # A code is a slug; anything else (a NUL byte, say) would make PostgreSQL refuse the query.
    is_slug = isinstance(code, str) and code.isprintable() and len(code) <= 40
    department = Department.objects.filter(code=code, is_active=True).first() if is_slug else None
    if department is None:
        raise NotFound(_("There is no department with code '%(code)s'.") % {"code": code}, field=field)
    return department


def slot_queryset_with_remaining() -> "QuerySet[SlotWithTaken]":
    return Slot.objects.select_related("department").annotate(
        taken=Count("seats__appointments", filter=Q(seats__appointments__status__in=SEAT_HOLDING_STATUSES))
    )


def closed_dates(*, department_id: int, first: dt.date, last: dt.date) -> set[dt.date]:
    """The dates between first and last on which a closure (the department's or everyone's) applies."""
    result: set[dt.date] = set()
    closures = Closure.objects.filter(Q(department_id=department_id) | Q(department__isnull=True)).filter(
        start_date__lte=last, end_date__gte=first
    )
    for start, end in closures.values_list("start_date", "end_date"):
        day = max(start, first)
        while day <= min(end, last):
            result.add(day)
            day += dt.timedelta(days=1)
    return result


def slot_booking_error(
    slot: Slot, *, now: dt.datetime | None = None, closed: set[dt.date] | None = None
) -> DomainError | None:
    """Say why this slot cannot be booked now, or return None when it can.

    `closed` is the set of closed dates when the caller has already read it (a listing does, once).
    """
    now = now or timezone.now()
    if slot.status != Slot.Status.OPEN or slot.week.status != ScheduleWeek.Status.PUBLISHED:
        return SlotUnavailable(_("This time is not open for booking."), field="slot")
    return _open_slot_error(slot, now=now, closed=closed)


def _open_slot_error(
    slot: "Slot | OpenSlot", *, now: dt.datetime, closed: AbstractSet[dt.date] | None, zone: ZoneInfo | None = None
) -> DomainError | None:
    """Why an open slot of a published week cannot be booked now (closed day, past, notice, window), or None."""
    day = None
    if closed is None:
        day = timezone.localtime(slot.starts_at, zone or service_zone()).date()
        closed = closed_dates(department_id=slot.department_id, first=day, last=day)
    # Nearly always no closures: a listing then skips the local date of each of its hundreds of times.
    if closed and (day or timezone.localtime(slot.starts_at, zone or service_zone()).date()) in closed:
        # A closure added after the week was published: the slot stays until republished, but not bookable.
        return SlotUnavailable(_("The department is closed on this day."), field="slot")
    if slot.starts_at < now:
        return OutsideBookingWindow(_("This time has already passed."), field="slot")
    earliest, latest, window = _bookable_between(now, slot.min_notice_minutes, slot.booking_window_days)
    if slot.starts_at < earliest:
        return OutsideBookingWindow(_("This time starts too soon to book; please choose a later time."), field="slot")
    if slot.starts_at > latest:
        return OutsideBookingWindow(
            _("This time is too far ahead; bookings open %(days)s days in advance.") % {"days": window},
            field="slot",
        )
    return None


@functools.lru_cache(maxsize=32)
def _bookable_between(now: dt.datetime, notice_minutes: int, window_days: int) -> tuple[dt.datetime, dt.datetime, int]:
    """The earliest and latest start bookable at `now` with this notice and window (a listing asks once per pair)."""
    # The database bounds both numbers; clamping again means no stored value can overflow the date arithmetic.
    notice = min(max(notice_minutes, MIN_NOTICE_MINUTES.low), MIN_NOTICE_MINUTES.high)
    window = min(max(window_days, BOOKING_WINDOW_DAYS.low), BOOKING_WINDOW_DAYS.high)
    return now + dt.timedelta(minutes=notice), now + dt.timedelta(days=window), window


def _open_slot(department: Department, db: str, columns: tuple, values: tuple) -> "OpenSlot":
    """Make a Slot straight from its row, with `taken` and `remaining` set.

    Model.__init__ per row would cost more than the query at a listing's size. A column not read here is loaded on
    first use, as with `.only()`; the department is the one the caller gave (no join, no read).
    """
    slot = cast("OpenSlot", Slot.__new__(Slot))
    state = ModelState()
    state.adding = False
    state.db = db
    state.fields_cache = {"department": department}
    row = dict(zip(columns, values, strict=True))
    row["status"] = _OPEN  # the listing reads open slots only
    row["remaining"] = max(row["capacity"] - row["taken"], 0)
    row["_state"] = state
    slot.__dict__ = row
    return slot


_OPEN = Slot.Status.OPEN.value


_OPEN_SLOT_COLUMNS = (
    "id",
    "department_id",
    "week_id",
    "starts_at",
    "ends_at",
    "capacity",
    "min_notice_minutes",
    "booking_window_days",
)


def _taken_seats() -> Subquery:
    """The seats held in the outer slot, counted from the appointments (each carries its slot)."""
    appointment = Slot._meta.get_field("appointments").related_model  # appointments depends on us, not we on it
    held = (
        appointment._default_manager.filter(slot_id=OuterRef("pk"), status__in=SEAT_HOLDING_STATUSES)
        .order_by()
        .values("slot_id")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Subquery(held, output_field=IntegerField())


# Stand-ins the listing's SQL is compiled with once; each call puts its own values in their places.
_ANY_DEPARTMENT = -7_000_001
_LOWER = dt.datetime(1901, 1, 1, tzinfo=dt.UTC)
_UPPER = dt.datetime(1901, 1, 2, tzinfo=dt.UTC)


@functools.cache
def _open_slots_sql(db: str) -> tuple[str, tuple]:
    """The listing's SQL, compiled by the ORM once per process: its shape never changes, only its values.

    One department's slots by the (department, status, starts_at) index; its published weeks as a small semi-join
    (never a join to every department's weeks); the seats held counted per slot through the appointments' index.
    Compiling it each time cost more than running it.
    """
    query = (
        Slot.objects.using(db)
        .filter(
            department_id=_ANY_DEPARTMENT,
            status=Slot.Status.OPEN,
            starts_at__gte=_LOWER,
            starts_at__lt=_UPPER,
            week_id__in=ScheduleWeek.objects.filter(
                department_id=_ANY_DEPARTMENT, status=ScheduleWeek.Status.PUBLISHED
            ).values("pk"),
        )
        .annotate(held=Coalesce(_taken_seats(), 0))
        .order_by("starts_at")
        .values_list(*_OPEN_SLOT_COLUMNS, "held")
    )
    sql, params = query.query.sql_with_params()
    return sql, tuple(params)


def _prepared(value, prepare):
    return prepare(value) if isinstance(value, dt.datetime) else value


def slot_list_open(
    *,
    department: Department,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    now: dt.datetime | None = None,
    include_full: bool = True,
    closed: set[dt.date] | None = None,
    cached: bool = False,
) -> "list[OpenSlot]":
    """List the slots a resident may book now, earliest first, each with `taken` and `remaining`.

    `closed` is the set of closed dates over the range when the caller has already read the closures.
    `cached`: for showing times (pages, the public listing), not for deciding: the department's rows may come from
    the short-lived shared cache (`availability_cache`), which every change of seats, slots, weeks or closures
    renews; without it, two queries to the database (the slots, then the closures unless given).
    """
    now = now or timezone.now()
    zone = service_zone()
    lower = now
    upper = now + dt.timedelta(days=MAX_WINDOW_DAYS)
    # Bring the dates into the bookable range first: the calendar's extremes cannot take a time zone.
    earliest, latest = now.astimezone(zone).date(), upper.astimezone(zone).date()
    if (date_from is not None and date_from > latest) or (date_to is not None and date_to < earliest):
        return []
    if date_from is not None:
        lower = max(lower, dt.datetime.combine(max(date_from, earliest), dt.time.min, tzinfo=zone))
    if date_to is not None:
        upper = min(upper, dt.datetime.combine(min(date_to, latest) + dt.timedelta(days=1), dt.time.min, tzinfo=zone))
    db = router.db_for_read(Slot)

    def load(start: dt.datetime, end: dt.datetime) -> OpenRows:
        rows = _open_rows(department_id=department.pk, db=db, lower=start, upper=end)
        days = set() if closed is not None else _closed_between(department.pk, start, end, zone)
        return OpenRows(lower=start, upper=end, rows=rows, closed=frozenset(days))

    if cached:
        # Kept a little beyond `upper`, so that readers a few seconds later (whose window has moved on) are covered.
        margin = dt.timedelta(seconds=cache_seconds())
        found = open_rows_cached(
            department_id=department.pk,
            span=(date_from, date_to, closed is not None),
            lower=lower,
            upper=upper,
            load=lambda start: load(start, upper + margin),
        )
        rows = [r for r in found.rows if lower <= r[3] < upper]
    else:
        found = load(lower, upper)
        rows = found.rows
    closed_days = closed if closed is not None else found.closed
    columns = (*_OPEN_SLOT_COLUMNS, "taken")
    result: list[OpenSlot] = []
    for values in rows:
        slot = _open_slot(department, db, columns, values)
        if _open_slot_error(slot, now=now, closed=closed_days, zone=zone) is not None:
            continue
        if include_full or slot.remaining:
            result.append(slot)
    return result


def _open_rows(*, department_id: int, db: str, lower: dt.datetime, upper: dt.datetime) -> list[tuple]:
    """The department's open, published slots starting in [lower, upper), with the seats held, as plain rows."""
    sql, params = _open_slots_sql(db)
    given = {_ANY_DEPARTMENT: department_id, _LOWER: lower, _UPPER: upper}
    prepare = connections[db].ops.adapt_datetimefield_value
    prepared = {prepare(key) if isinstance(key, dt.datetime) else key: value for key, value in given.items()}
    with connections[db].cursor() as cursor:
        cursor.execute(sql, [_prepared(prepared.get(p, p), prepare) for p in params])
        rows = cursor.fetchall()
    if connections[db].vendor != "sqlite":
        return rows
    # SQLite hands back text; its own operations (not the base class's) turn it back into datetimes.
    convert = connections[db].ops.convert_datetimefield_value  # type: ignore[attr-defined]
    return [(*v[:3], *(convert(t, None, connections[db]) for t in v[3:5]), *v[5:]) for v in rows]


def _closed_between(department_id: int, lower: dt.datetime, upper: dt.datetime, zone) -> set[dt.date]:
    return closed_dates(
        department_id=department_id, first=lower.astimezone(zone).date(), last=upper.astimezone(zone).date()
    )


def slot_list_nearest_free(
    *, department: Department, around: dt.datetime, limit: int = 4, now: dt.datetime | None = None
) -> "list[OpenSlot]":
    """List the bookable times with a free seat closest to a given time, earliest first."""
    free = slot_list_open(department=department, now=now, include_full=False)
    nearest = sorted(free, key=lambda slot: (abs(slot.starts_at - around), slot.starts_at))[:limit]
    return sorted(nearest, key=lambda slot: slot.starts_at)


@dataclass
class DayAvailability:
    """One coming day of a department: its bookable times, or why none can be booked."""

    date: dt.date
    state: str  # "open", "full", "holiday", "closed" (a closure), "weekend", "not_published", "no_hours"
    reason: str = ""
    slots: "list[OpenSlot]" = field(default_factory=list)

    @property
    def free_seats(self) -> int:
        return sum(slot.remaining for slot in self.slots)

    @property
    def is_bookable(self) -> bool:
        return self.state == "open"


@dataclass(frozen=True)
class _ClosedSpan:
    start_date: dt.date
    end_date: dt.date
    reason: str


def _day_list_calendar(
    department: Department, dates: list[dt.date]
) -> tuple[list[HolidayOverride], list[_ClosedSpan], set[tuple[int, int]]]:
    """The staff's holiday overrides, the closures and the department's published weeks over `dates`, in one query.

    Three small reads of different tables as one UNION ALL of rows shaped alike (tag, two dates, two numbers, two
    texts): the kiosk's day list is then this and the slots, two round trips whatever the data.
    """
    first, last = dates[0], dates[-1]
    zero, blank = Value(0, output_field=IntegerField()), Value("", output_field=CharField())

    def shaped(rows: QuerySet, tag: str, *columns: F | Value) -> QuerySet:
        names = [f"r{n}" for n in range(len(columns))]
        tagged = rows.order_by().annotate(r_tag=Value(tag, output_field=CharField()))
        return tagged.annotate(**dict(zip(names, columns, strict=True))).values_list("r_tag", *names)

    overrides = shaped(
        HolidayOverride.objects.filter(date__in=dates), "o", F("date"), F("date"), zero, zero, F("kind"), F("name")
    )
    closures = Closure.objects.filter(Q(department=department) | Q(department__isnull=True)).filter(
        start_date__lte=last, end_date__gte=first
    )
    weeks = ScheduleWeek.objects.filter(
        department=department,
        status=ScheduleWeek.Status.PUBLISHED,
        iso_year__in={d.isocalendar().year for d in dates},
        iso_week__in={d.isocalendar().week for d in dates},
    )
    day = Value(first, output_field=DateField())
    rows = overrides.union(
        shaped(closures, "c", F("start_date"), F("end_date"), zero, zero, F("reason"), blank),
        shaped(weeks, "w", day, day, F("iso_year"), F("iso_week"), blank, blank),
        all=True,
    ).order_by()
    found_overrides: list[HolidayOverride] = []
    found_closures: list[_ClosedSpan] = []
    published: set[tuple[int, int]] = set()
    for row_tag, d1, d2, n1, n2, t1, t2 in rows:
        if row_tag == "o":
            found_overrides.append(HolidayOverride(date=d1, kind=t1, name=t2))
        elif row_tag == "c":
            found_closures.append(_ClosedSpan(d1, d2, t1))
        else:
            published.add((n1, n2))
    found_closures.sort(key=lambda c: c.start_date)
    return found_overrides, found_closures, published


def day_list_availability(
    *, department: Department, days: int = 14, now: dt.datetime | None = None
) -> list[DayAvailability]:
    """List the coming days with their open times; holidays and closures stay in the list, marked closed.

    Two queries whatever the data: the calendar's facts over the days (`_day_list_calendar`), then the slots;
    none while both are in the shared cache (`availability_cache`), which every change to either renews.
    """
    now = now or timezone.now()
    first = timezone.localdate(now, timezone=service_zone())
    dates = [first + dt.timedelta(days=offset) for offset in range(days)]
    overrides, closures, published = calendar_cached(
        department_id=department.pk, first=first, days=days, load=lambda: _day_list_calendar(department, dates)
    )
    infos = days_info(dates, overrides=overrides)
    slots_by_day: dict[dt.date, list[OpenSlot]] = {}
    closed = {day for day in dates if any(c.start_date <= day <= c.end_date for c in closures)}
    shown = slot_list_open(
        department=department, date_from=dates[0], date_to=dates[-1], now=now, closed=closed, cached=True
    )
    for slot in shown:
        slots_by_day.setdefault(timezone.localtime(slot.starts_at, service_zone()).date(), []).append(slot)
    result = []
    for day in dates:
        closure = next((c for c in closures if c.start_date <= day <= c.end_date), None)
        slots = slots_by_day.get(day, [])
        if closure is not None:
            result.append(DayAvailability(day, "closed", closure.reason))
        elif infos[day].kind == "holiday":
            result.append(DayAvailability(day, "holiday", infos[day].name))
        elif not slots and infos[day].kind == "weekend":
            result.append(DayAvailability(day, "weekend"))
        elif not slots and tuple(day.isocalendar())[:2] not in published:
            result.append(DayAvailability(day, "not_published"))
        elif not slots:
            result.append(DayAvailability(day, "no_hours"))
        else:
            result.append(DayAvailability(day, "open" if any(s.remaining for s in slots) else "full", slots=slots))
    return result
