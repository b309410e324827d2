"""Seed a fresh production-stack database for tests/prod (run inside `manage.py shell`); prints what tests need."""

import datetime as dt
import json

from django.utils import timezone

from departments.models import StaffMember
from scheduler.models import ScheduleWeek, Seat, Slot
from tests import factories as f


def slot_in(department, minutes: int, *, capacity: int) -> Slot:
    """A published time starting `minutes` from now (rules leave the next hours unbookable: notice)."""
    starts_at = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(minutes=minutes)
    year, week, _ = timezone.localtime(starts_at).isocalendar()
    schedule, _ = ScheduleWeek.objects.get_or_create(
        department=department, iso_year=year, iso_week=week, defaults={"status": ScheduleWeek.Status.PUBLISHED}
    )
    ScheduleWeek.objects.filter(pk=schedule.pk).update(status=ScheduleWeek.Status.PUBLISHED)
    slot = Slot.objects.create(
        department=department,
        week=schedule,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=30),
        capacity=capacity,
        min_notice_minutes=0,
    )
    Seat.objects.bulk_create(Seat(slot=slot, number=n) for n in range(1, capacity + 1))
    return slot


def main() -> None:
    f.categories()
    _district, _street, lanshan, _fuan = f.district()
    department = f.department()
    _kiosk, kiosk_key = f.kiosk_actor(lanshan)
    officer = f.staff("zhou_fangchan", StaffMember.Role.DEPARTMENT_STAFF, department=department)
    soon = slot_in(department, 75, capacity=20)  # its 1-hour reminder is ahead; the join window (env) is open
    print(
        json.dumps(
            {
                "kiosk_key": kiosk_key,
                "staff_token": f.token_for(officer),
                "department": department.code,
                "soon_slot": soon.pk,
                "more_slots": [slot_in(department, 24 * 60 + 30 * n, capacity=5).pk for n in range(4)],
            }
        )
    )
