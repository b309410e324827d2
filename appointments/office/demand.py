"""Each department's demand as numbers for the planner, gathered in a constant number of queries."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q

from departments.models import Department
from scheduler.models import Seat, Slot
from scheduler.planning import Demand, Proposal, propose
from scheduler.publishing import service_today, service_zone, weeks_rule_sessions

from ..models import Appointment, Petition, TurnAway
from ..notify.waitlist import waitlist_counts_by_department
from ..outcomes.lifecycle import BOOKABLE_STATUSES

USED_STATUSES = ("booked", "checked_in", "completed")
OPEN_EXCLUDED = ("closed", "not_accepted")
NO_SHOW_WEEKS = 4


@dataclass(frozen=True)
class PlanRow:
    department: Department
    demand: Demand
    proposal: Proposal


def _local_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=service_zone())


def next_week(today: dt.date | None = None) -> tuple[int, int]:
    """The ISO (year, week) after the one containing today (Asia/Shanghai)."""
    year, week, _day = ((today or service_today()) + dt.timedelta(weeks=1)).isocalendar()
    return year, week


def _by_department(rows, key: str = "department") -> dict[int, dict]:
    return {row[key]: row for row in rows}


def demand_by_department(*, today: dt.date | None = None) -> list[PlanRow]:
    """Gather next week's demand of every active department and the planner's proposal for it."""
    today = today or service_today()
    this_monday = today - dt.timedelta(days=today.weekday())
    last_monday, next_monday = this_monday - dt.timedelta(weeks=1), this_monday + dt.timedelta(weeks=1)
    next_sunday = next_monday + dt.timedelta(days=6)
    departments = list(Department.objects.filter(is_active=True).order_by("kind", "code"))
    ids = [d.pk for d in departments]

    active_booking = Appointment.objects.filter(petition=OuterRef("pk"), status__in=Appointment.ACTIVE_STATUSES)
    petitions = _by_department(
        Petition.objects.filter(department_id__in=ids)
        .exclude(status__in=OPEN_EXCLUDED)
        .annotate(booked=Exists(active_booking))
        .values("department")
        .annotate(
            waiting=Count("pk", filter=Q(status__in=BOOKABLE_STATUSES, booked=False)),
            due=Count("pk", filter=Q(due_on__gte=next_monday, due_on__lte=next_sunday)),
        )
    )
    turned_away = _by_department(
        TurnAway.objects.filter(
            department_id__in=ids, at__gte=_local_start(last_monday), at__lt=_local_start(next_monday)
        )
        .values("department")
        .annotate(n=Count("pk"))
    )
    waitlist = waitlist_counts_by_department(
        department_ids=ids, joined_from=_local_start(last_monday), joined_before=_local_start(next_monday)
    )
    use: dict[tuple[int, bool], Any] = {
        (row["slot__department"], row["this_week"]): row
        for row in Seat.objects.filter(
            slot__department_id__in=ids,
            slot__status=Slot.Status.OPEN,
            slot__starts_at__gte=_local_start(last_monday),
            slot__starts_at__lt=_local_start(next_monday),
        )
        .annotate(
            this_week=ExpressionWrapper(Q(slot__starts_at__gte=_local_start(this_monday)), output_field=BooleanField())
        )
        .values("slot__department", "this_week")
        .annotate(
            seats=Count("pk", distinct=True),
            sessions=Count("slot", distinct=True),
            used=Count("pk", filter=Q(appointments__status__in=USED_STATUSES), distinct=True),
        )
    }
    attendance = _by_department(
        Appointment.objects.filter(
            slot__department_id__in=ids,
            slot__starts_at__gte=_local_start(today - dt.timedelta(weeks=NO_SHOW_WEEKS)),
            slot__starts_at__lt=_local_start(today),
        )
        .values("slot__department")
        .annotate(
            attended=Count("pk", filter=Q(status=Appointment.Status.COMPLETED)),
            no_shows=Count("pk", filter=Q(status=Appointment.Status.NO_SHOW)),
        ),
        key="slot__department",
    )
    year, week, _day = next_monday.isocalendar()
    rule_weeks = weeks_rule_sessions(department_ids=ids, iso_year=year, iso_week=week)

    rows = []
    for department in departments:
        p = petitions.get(department.pk, {})
        this_week = use.get((department.pk, True), {})
        last_week = use.get((department.pk, False), {})
        held = attendance.get(department.pk, {})
        rule_week = rule_weeks[department.pk]
        demand = Demand(
            rule_sessions=rule_week.sessions_by_day,
            seats_per_session=rule_week.seats_per_session,
            waiting=p.get("waiting", 0),
            turned_away=turned_away.get(department.pk, {}).get("n", 0),
            sessions_this_week=this_week.get("sessions", 0),
            seats_this_week=this_week.get("seats", 0),
            used_this_week=this_week.get("used", 0),
            seats_last_week=last_week.get("seats", 0),
            used_last_week=last_week.get("used", 0),
            attended_4_weeks=held.get("attended", 0),
            no_shows_4_weeks=held.get("no_shows", 0),
            due_next_week=p.get("due", 0),
            waitlisted=waitlist.get(department.pk, {}).get("waiting", 0),
            waitlist_joined=waitlist.get(department.pk, {}).get("joined", 0),
        )
        rows.append(PlanRow(department=department, demand=demand, proposal=propose(demand)))
    return rows
