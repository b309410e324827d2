import datetime as dt

from django.utils.translation import gettext as _
from ninja import Path, Query, Router

from .errors import InvalidInput
from .schemas import SlotOut, errors
from .selectors import department_get, slot_list_open

router = Router(tags=["slots"])
MAX_RANGE_DAYS = 62


@router.get(
    "/departments/{code}/slots",
    response={200: list[SlotOut], **errors(404, 422)},
    operation_id="slot_list",
    summary="List a department's open consultation times",
    description=(
        "Published times that can still be booked, earliest first, with the seats left. Without `from` and `to`, "
        f"every bookable time; with them, at most {MAX_RANGE_DAYS} days (dates in Asia/Shanghai, both included). "
        "Public: no key or token needed."
    ),
)
def slot_list(
    request,
    code: str = Path(..., description="The department's code, from `department_list`"),
    date_from: dt.date | None = Query(None, alias="from", description="First day, YYYY-MM-DD"),
    date_to: dt.date | None = Query(None, alias="to", description="Last day, YYYY-MM-DD (not before `from`)"),
):
    department = department_get(code)
    if date_from and date_to and date_to < date_from:
        raise InvalidInput(_("'to' must not be before 'from'."), field="to")
    if date_from and date_to and (date_to - date_from).days > MAX_RANGE_DAYS:
        raise InvalidInput(_("Ask for at most %(days)s days at a time.") % {"days": MAX_RANGE_DAYS}, field="to")
    return slot_list_open(department=department, date_from=date_from, date_to=date_to, cached=True)
