import datetime as dt

from django.utils.translation import gettext as _
from ninja import Query, Router

from .errors import InvalidInput
from .schemas import SlotOut
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
