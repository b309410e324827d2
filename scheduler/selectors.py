"""Reads of the schedule: which slots a resident may book now, and how many seats are left."""

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict, cast

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from departments.models import Department

from .calendar import days_info
from .errors import DomainError, NotFound, OutsideBookingWindow, SlotUnavailable
from .models import BOOKING_WINDOW_DAYS, MIN_NOTICE_MINUTES, SEAT_HOLDING_STATUSES, Closure, ScheduleWeek, Slot
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
    day = timezone.localtime(slot.starts_at, service_zone()).date()
    if closed is None:
        closed = closed_dates(department_id=slot.department_id, first=day, last=day)
    if day in closed:
        # A closure added after the week was published: the slot stays until republished, but not bookable.
        return SlotUnavailable(_("The department is closed on this day."), field="slot")
    if slot.starts_at < now:
        return OutsideBookingWindow(_("This time has already passed."), field="slot")
    # The database bounds both numbers; clamping again means no stored value can overflow the date arithmetic.
    notice = min(max(slot.min_notice_minutes, MIN_NOTICE_MINUTES.low), MIN_NOTICE_MINUTES.high)
    window = min(max(slot.booking_window_days, BOOKING_WINDOW_DAYS.low), BOOKING_WINDOW_DAYS.high)
    if slot.starts_at < now + dt.timedelta(minutes=notice):
        return OutsideBookingWindow(_("This time starts too soon to book; please choose a later time."), field="slot")
    if slot.starts_at > now + dt.timedelta(days=window):
        return OutsideBookingWindow(
            _("This time is too far ahead; bookings open %(days)s days in advance.") % {"days": window},
            field="slot",
        )
    return None


def slot_list_open(
    *,
    department: Department,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    now: dt.datetime | None = None,
    include_full: bool = True,
    closed: set[dt.date] | None = None,
) -> "list[OpenSlot]":
    """List the slots a resident may book now, earliest first, each with `taken` and `remaining`.

    `closed` is the set of closed dates over the range when the caller has already read the closures.
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
    slots = (
        slot_queryset_with_remaining()
        .select_related("week")
        .filter(
            department=department,
            status=Slot.Status.OPEN,
            week__status=ScheduleWeek.Status.PUBLISHED,
            starts_at__gte=lower,
            starts_at__lt=upper,
        )
        .order_by("starts_at")
    )
    if closed is None:
        closed = closed_dates(
            department_id=department.pk, first=lower.astimezone(zone).date(), last=upper.astimezone(zone).date()
        )
    result: list[OpenSlot] = []
    for slot in slots:
        if slot_booking_error(slot, now=now, closed=closed) is not None:
            continue
        open_slot = cast("OpenSlot", slot)  # the same object, once `remaining` is set on it
        open_slot.remaining = max(slot.capacity - slot.taken, 0)
        if include_full or open_slot.remaining:
            result.append(open_slot)
    return result


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


def day_list_availability(
    *, department: Department, days: int = 14, now: dt.datetime | None = None
) -> list[DayAvailability]:
    """List the coming days with their open times; holidays and closures stay in the list, marked closed."""
    now = now or timezone.now()
    first = timezone.localdate(now, timezone=service_zone())
    dates = [first + dt.timedelta(days=offset) for offset in range(days)]
    infos = days_info(dates)
    closures = list(
        Closure.objects.filter(Q(department=department) | Q(department__isnull=True))
        .filter(start_date__lte=dates[-1], end_date__gte=dates[0])
        .order_by("start_date")
    )
    published = set(
        ScheduleWeek.objects.filter(
            department=department,
            status=ScheduleWeek.Status.PUBLISHED,
            iso_year__in={d.isocalendar().year for d in dates},
            iso_week__in={d.isocalendar().week for d in dates},
        ).values_list("iso_year", "iso_week")
    )
    slots_by_day: dict[dt.date, list[OpenSlot]] = {}
    closed = {day for day in dates if any(c.start_date <= day <= c.end_date for c in closures)}
    for slot in slot_list_open(department=department, date_from=dates[0], date_to=dates[-1], now=now, closed=closed):
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
