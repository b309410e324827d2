"""A department's weekly hours as staff keep them: rules, closures, a preview of coming weeks, publishing."""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from departments.audit import audit_record
from departments.models import Department
from departments.services import Actor
from scheduler.errors import Forbidden
from scheduler.models import Closure, ConsultationRule, ScheduleWeek
from scheduler.publishing import (
    DayPlan,
    PublishResult,
    week_check_publishable,
    week_plan,
    week_provisional_years,
    week_publish,
)
from scheduler.selectors import department_get

PREVIEW_WEEKS = 4


def department_for_hours(*, actor: Actor, code: str) -> Department:
    """Load a department whose hours this caller may keep: their own as admin, any as petition officer."""
    department = department_get(code)
    if not actor.can_manage_department(department.pk):
        raise Forbidden(_("Only the department's admin or a petition officer may change its hours."))
    return department


def departments_for_hours(*, actor: Actor) -> list[Department]:
    if actor.is_petition_officer:
        return list(Department.objects.filter(is_active=True).order_by("kind", "code"))
    staff = actor.staff
    if staff is not None and staff.department_id is not None and actor.can_manage_department(staff.department_id):
        if staff.department is None:
            raise RuntimeError("A staff member with a department_id must have a department.")
        return [staff.department]
    return []


def _check(actor: Actor, department_id: int) -> None:
    if not actor.can_manage_department(department_id):
        raise Forbidden(_("Only the department's admin or a petition officer may change its hours."))


@transaction.atomic
def rule_save(*, actor: Actor, rule: ConsultationRule) -> ConsultationRule:
    """Save a validated consultation rule; published weeks change only when republished."""
    _check(actor, rule.department_id)
    created = rule.pk is None
    rule.save()
    audit_record(actor=actor, action="rule.create" if created else "rule.update", target=rule)
    return rule


@transaction.atomic
def rule_delete(*, actor: Actor, rule: ConsultationRule) -> None:
    _check(actor, rule.department_id)
    audit_record(actor=actor, action="rule.delete", target=rule, detail={"rule": str(rule)})
    rule.delete()


def _check_closure(actor: Actor, closure: Closure, everyone_message: str) -> None:
    """A department's closure is its admin's; a closure of every department is the petition office's."""
    if closure.department_id is None:
        if not actor.is_petition_officer:
            raise Forbidden(everyone_message)
    else:
        _check(actor, closure.department_id)


@transaction.atomic
def closure_save(*, actor: Actor, closure: Closure) -> Closure:
    """Save a department's closure (closures for every department stay with the petition office)."""
    _check_closure(actor, closure, _("Only a petition officer may close every department."))
    closure.save()
    audit_record(actor=actor, action="closure.save", target=closure)
    return closure


@transaction.atomic
def closure_delete(*, actor: Actor, closure: Closure) -> None:
    _check_closure(actor, closure, _("Only a petition officer may change a closure of every department."))
    audit_record(actor=actor, action="closure.delete", target=closure, detail={"reason": closure.reason})
    closure.delete()


def week_publish_by_staff(
    *, actor: Actor, department: Department, iso_year: int, iso_week: int, confirm_provisional_holidays: bool
) -> PublishResult:
    """Publish one week of a department's hours on behalf of a staff member (never a week that has ended)."""
    _check(actor, department.pk)
    week_check_publishable(iso_year=iso_year, iso_week=iso_week)
    with transaction.atomic():
        result = week_publish(
            department=department,
            iso_year=iso_year,
            iso_week=iso_week,
            published_by=actor.staff.user if actor.staff else None,
            confirm_provisional_holidays=confirm_provisional_holidays,
        )
        audit_record(
            actor=actor,
            action="week.publish",
            target=result.week,
            detail={"created": result.created, "updated": result.updated, "removed": result.removed},
        )
    return result


@dataclass
class WeekPreview:
    iso_year: int
    iso_week: int
    days: list[DayPlan]
    week: ScheduleWeek | None
    provisional_years: list[int]

    @property
    def label(self) -> str:
        return f"{self.iso_year}-W{self.iso_week:02d}"

    @property
    def slot_count(self) -> int:
        return sum(len(d.slots) for d in self.days)

    @property
    def seat_count(self) -> int:
        return sum(s.capacity for d in self.days for s in d.slots)


def hours_preview(
    *, department: Department, weeks: int = PREVIEW_WEEKS, today: dt.date | None = None
) -> list[WeekPreview]:
    """What the rules give for this week and the next few, with holidays, make-up days and closures."""
    today = today or timezone.localdate()
    published = {(w.iso_year, w.iso_week): w for w in ScheduleWeek.objects.filter(department=department)}
    previews = []
    for offset in range(weeks):
        year, week, _weekday = (today + dt.timedelta(weeks=offset)).isocalendar()
        previews.append(
            WeekPreview(
                iso_year=year,
                iso_week=week,
                days=week_plan(department=department, iso_year=year, iso_week=week),
                week=published.get((year, week)),
                provisional_years=week_provisional_years(year, week),
            )
        )
    return previews
