"""The petition office plans next week's consultation sessions of every department and publishes them at once."""

from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from scheduler.errors import InvalidInput
from scheduler.planning import allocate
from scheduler.publishing import PlannedPublishing, weeks_publish_planned

from .. import policy
from ..office.demand import PlanRow, demand_by_department, next_week
from .views import StaffRequest, staff_page

WEEKDAYS = range(7)
MAX_DIGITS = 4


def _number(value: str | None, label: str) -> int | None:
    """A posted count in ASCII digits, None when left empty; anything else is refused with its label."""
    value = (value or "").strip()
    if value == "":
        return None
    if not value.isascii() or not value.isdigit() or len(value) > MAX_DIGITS:
        raise InvalidInput(_("%(what)s: write a whole number of sessions, 0 or more.") % {"what": label})
    return int(value)


def plan_from_post(row: PlanRow, data: QueryDict) -> dict[int, int]:
    """Read one department's adjusted plan: the days as posted, or the total shared over the days if it changed."""
    name = str(row.department)
    rule_days = row.demand.rule_sessions
    total = _number(data.get(f"total-{row.department.pk}"), name)
    days = {}
    for day in WEEKDAYS:
        value = _number(data.get(f"day-{row.department.pk}-{day}"), name)
        if value is None:
            continue
        if value > rule_days.get(day, 0):
            raise InvalidInput(
                _("%(what)s: its rules give at most %(max)d sessions on that day.")
                % {"what": name, "max": rule_days.get(day, 0)}
            )
        days[day] = value
    if total is not None and total != sum(days.values()):
        if total > sum(rule_days.values()):
            raise InvalidInput(
                _("%(what)s: its rules hold at most %(max)d sessions next week.")
                % {"what": name, "max": sum(rule_days.values())}
            )
        return allocate(total, rule_days)
    return days


@staff_page(policy.may_plan_every_department)
@require_http_methods(["GET", "POST"])
def planning(request: StaffRequest) -> HttpResponse:
    iso_year, iso_week = next_week()
    rows = demand_by_department()
    outcomes: list[PlannedPublishing] = []
    error = ""
    posted: QueryDict | None = None
    status = 200
    if request.method == "POST":
        posted = request.POST
        try:
            plans = {row.department: plan_from_post(row, posted) for row in rows if row.proposal.current > 0}
        except InvalidInput as refused:
            error, status = str(refused.message), 422
        else:
            outcomes = weeks_publish_planned(
                actor=request.actor,
                plans=plans,
                iso_year=iso_year,
                iso_week=iso_week,
                confirm_provisional_holidays=posted.get("confirm_provisional_holidays") == "on",
            )
    weekday_names = [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]
    table = [
        {
            "row": row,
            "total": posted.get(f"total-{row.department.pk}", "") if posted else row.proposal.proposed,
            "days": [
                {
                    "day": day,
                    "name": weekday_names[day],
                    "held": row.demand.rule_sessions.get(day, 0),
                    "value": posted.get(f"day-{row.department.pk}-{day}", "")
                    if posted
                    else row.proposal.by_day.get(day, 0),
                }
                for day in WEEKDAYS
            ],
        }
        for row in rows
    ]
    context = {
        "week_label": f"{iso_year}-W{iso_week:02d}",
        "table": table,
        "weekday_names": weekday_names,
        "outcomes": outcomes,
        "error": error,
    }
    return render(request, "staff/planning.html", context, status=status)
