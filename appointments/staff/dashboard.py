"""The petition office's dashboard: this week's figures, each a link to the petitions behind it."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from departments.models import Department

from .. import policy
from ..models import Petition
from ..office import figures
from .views import StaffRequest, staff_page


def rate_text(rate: float | None) -> str:
    """A rate as the district writes it, one decimal (95.8%); a dash when there is nothing to divide."""
    return "—" if rate is None else f"{number_format(rate * 100, 1)}%"


@dataclass(frozen=True)
class Tile:
    label: str
    value: int
    url: str


@never_cache
@staff_page(policy.may_see_figures)
@require_GET
def dashboard(request: StaffRequest) -> HttpResponse:
    """This week so far: the whole district (or one department) for the petition office, else one's department."""
    actor = request.actor
    today = timezone.localdate()
    period = figures.current_period(today)
    department = None
    code = request.GET.get("department", "")
    if actor.is_petition_officer and isinstance(code, str) and 0 < len(code) <= 40:
        department = Department.objects.filter(code=code).first()
    numbers = figures.dashboard_figures(actor=actor, today=today, department_id=department.pk if department else None)

    def drill(figure: str, **extra: str) -> str:
        params = {"figure": figure, "week": period.label, **extra}
        if department is not None:
            params["department"] = department.code
        return reverse("staff:petitions") + "?" + urlencode(params)

    labels = dict(Petition.Status.choices)
    open_tiles = [
        Tile(str(labels[status]), count, drill(f"open_{status}"))
        for status, count in numbers.open_by_status.items()
        if count
    ]
    context = {
        "period": period,
        "numbers": numbers,
        "department": department,
        "departments": list(Department.objects.filter(kind=Department.Kind.FUNCTIONAL).order_by("name"))
        if actor.is_petition_officer
        else [],
        "is_officer": actor.is_petition_officer,
        "own_department": actor.staff.department if actor.staff else None,
        "open_tiles": open_tiles,
        "open_url": drill("open"),
        "deadline_tiles": [
            Tile(_("Past their deadline"), numbers.overdue, drill("overdue")),
            Tile(_("Due within 3 days"), numbers.due_within_3_days, drill("due_within_3_days")),
        ],
        "session_tiles": [
            Tile(_("Sessions held"), numbers.sessions_held, drill("sessions_held")),
            Tile(_("Residents who did not attend"), numbers.no_shows, drill("no_shows")),
            Tile(_("Failed connections"), numbers.failed_connections, drill("failed_connections")),
        ],
        "resolution": _("%(handled)s handled, %(resolved)s resolved, resolution rate %(rate)s")
        % {"handled": numbers.handled, "resolved": numbers.resolved, "rate": rate_text(numbers.resolution_rate)},
        "resolution_rate": rate_text(numbers.resolution_rate),
        "on_time_rate": rate_text(numbers.on_time_rate),
        "satisfaction_rate": rate_text(numbers.satisfaction_rate),
        "urls": {
            name: drill(name)
            for name in ("handled", "resolved", "answered", "answered_on_time", "rated", "satisfied", "open_slips")
        },
        "by_department": figures.dashboard_by_department(actor=actor, today=today)
        if actor.is_petition_officer and department is None
        else [],
    }
    return render(request, "staff/dashboard.html", context)
