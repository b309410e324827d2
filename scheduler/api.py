import datetime as dt

from django.utils.translation import gettext as _
from ninja import Query, Router

from departments.auth import staff_only

from .errors import Forbidden, InvalidInput
from .publishing import iso_week_parse, week_publish
from .schemas import PublishOut, SlotOut
from .selectors import department_get, slot_list_open

router = Router(tags=["schedule"])
MAX_RANGE_DAYS = 62


@router.get("/departments/{code}/slots", response=list[SlotOut], summary="Open consultation times of a department")
def slot_list(
    request,
    code: str,
    date_from: dt.date | None = Query(None, alias="from"),
    date_to: dt.date | None = Query(None, alias="to"),
):
    department = department_get(code)
    if date_from and date_to and date_to < date_from:
        raise InvalidInput(_("'to' must not be before 'from'."), field="to")
    if date_from and date_to and (date_to - date_from).days > MAX_RANGE_DAYS:
        raise InvalidInput(_("Ask for at most %(days)s days at a time.") % {"days": MAX_RANGE_DAYS}, field="to")
    return slot_list_open(department=department, date_from=date_from, date_to=date_to)


@router.post(
    "/departments/{code}/weeks/{week}/publish",
    response=PublishOut,
    auth=staff_only(),
    summary="Publish a week of consultation times (department admin or petition officer)",
)
def week_publish_endpoint(request, code: str, week: str, confirm_provisional_holidays: bool = False):
    department = department_get(code)
    if not request.auth.can_manage_department(department.pk):
        raise Forbidden(_("Only this department's admin or a petition officer may publish its weeks."))
    iso_year, iso_week = iso_week_parse(week)
    result = week_publish(
        department=department,
        iso_year=iso_year,
        iso_week=iso_week,
        published_by=request.auth.staff.user,
        confirm_provisional_holidays=confirm_provisional_holidays,
    )
    return {
        "department": department.code,
        "week": result.week.label,
        "status": result.week.status,
        "created": result.created,
        "updated": result.updated,
        "removed": result.removed,
        "kept_booked": [s.pk for s in result.kept_booked],
        "provisional_years": result.provisional_years,
    }
