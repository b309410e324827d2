"""Reads of the schedule: which slots a resident may book now, and how many seats are left."""

import datetime as dt

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from departments.models import Department

from .errors import DomainError, NotFound, OutsideBookingWindow, SlotUnavailable
from .models import SEAT_HOLDING_STATUSES, ScheduleWeek, Slot
from .publishing import service_zone

# The longest booking window a rule may set; bounds the database query before per-slot checks.
MAX_WINDOW_DAYS = 180


def department_get(code: str, *, field: str = "department") -> Department:
    """Load an active department by its code, or say plainly that there is none."""
    department = Department.objects.filter(code=code, is_active=True).first() if isinstance(code, str) else None
    if department is None:
        raise NotFound(_("There is no department with code '%(code)s'.") % {"code": code}, field=field)
    return department


def slot_queryset_with_remaining() -> QuerySet[Slot]:
    return Slot.objects.select_related("department").annotate(
        taken=Count("seats__appointments", filter=Q(seats__appointments__status__in=SEAT_HOLDING_STATUSES))
    )


def slot_booking_error(slot: Slot, *, now: dt.datetime | None = None) -> DomainError | None:
    """Say why this slot cannot be booked now, or return None when it can."""
    now = now or timezone.now()
    if slot.status != Slot.Status.OPEN or slot.week.status != ScheduleWeek.Status.PUBLISHED:
        return SlotUnavailable(_("This time is not open for booking."), field="slot")
    if slot.starts_at < now:
        return OutsideBookingWindow(_("This time has already passed."), field="slot")
    if slot.starts_at < now + dt.timedelta(minutes=slot.min_notice_minutes):
        return OutsideBookingWindow(_("This time starts too soon to book; please choose a later time."), field="slot")
    if slot.starts_at > now + dt.timedelta(days=slot.booking_window_days):
        return OutsideBookingWindow(
            _("This time is too far ahead; bookings open %(days)s days in advance.")
            % {"days": slot.booking_window_days},
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
) -> list[Slot]:
    """List the slots a resident may book now, earliest first, each with `taken` and `remaining`."""
    now = now or timezone.now()
    zone = service_zone()
    lower = now
    if date_from is not None:
        lower = max(lower, dt.datetime.combine(date_from, dt.time.min, tzinfo=zone))
    upper = now + dt.timedelta(days=MAX_WINDOW_DAYS)
    if date_to is not None:
        upper = min(upper, dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone))
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
    result = []
    for slot in slots:
        if slot_booking_error(slot, now=now) is not None:
            continue
        slot.remaining = max(slot.capacity - slot.taken, 0)
        if include_full or slot.remaining:
            result.append(slot)
    return result
