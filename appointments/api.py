"""The API for categories, petitions, appointments and the staff's schedule changes: thin calls into the services."""

from typing import Annotated

from django.http import HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Body, Header, Path, Query, Router, Status
from pydantic import WithJsonSchema

from departments.auth import any_caller, staff_only
from scheduler import hours
from scheduler.publishing import iso_week_parse
from scheduler.schemas import WEEK_PATTERN, PublishOut, errors

from .booking import (
    IDEMPOTENCY_KEY_MAX,
    appointment_book,
    appointment_cancel,
    appointment_for_actor,
    appointment_reschedule,
    slot_withdraw,
)
from .kiosk.selectors import category_list_active
from .models import Appointment, PetitionCategory
from .petitions import petition_create
from .schemas import (
    AppointmentIn,
    AppointmentOut,
    CancelIn,
    CancelReasonCode,
    CategoryOut,
    PetitionCreatedOut,
    PetitionIn,
    RescheduleIn,
    WithdrawIn,
    WithdrawOut,
)

router = Router(auth=any_caller())

# Formats declared for clients; the services check them and say precisely what is wrong.
IdempotencyKey = Annotated[
    str | None,
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX, "pattern": r"^[\x20-\x7e]+$"}),
]
Week = Annotated[str, WithJsonSchema({"type": "string", "pattern": WEEK_PATTERN})]
APPOINTMENT_ID = Path(..., description="The appointment's id")
WRITE_ERRORS = errors(400, 401, 403, 404, 409, 413, 422)


def _in_english() -> bool:
    return (translation.get_language() or "").startswith("en")


def category_out(category: PetitionCategory) -> dict:
    english = _in_english()
    suggested = category.suggested_department
    return {
        "code": category.code,
        "name": (category.name_en if english else "") or category.name,
        "description": (category.description_en if english else "") or category.description,
        "suggested_department": (
            {"code": suggested.code, "name": suggested.name} if suggested is not None and suggested.is_active else None
        ),
    }


def cancellation(appointment: Appointment) -> tuple[CancelReasonCode | None, str, int | None]:
    """Why an appointment was cancelled (a code and a sentence) and the appointment that replaced it, if any."""
    if appointment.status != Appointment.Status.CANCELLED or not appointment.cancel_reason_code:
        return None, "", None
    code = CancelReasonCode(appointment.cancel_reason_code)
    replaced_by = None
    if code == CancelReasonCode.RESCHEDULED:
        replaced_by = (
            Appointment.objects.filter(rescheduled_from_id=appointment.pk).values_list("pk", flat=True).first()
        )
    sentences = {
        CancelReasonCode.CANCELLED_BY_RESIDENT: _("Cancelled at the resident's request."),
        CancelReasonCode.RESCHEDULED: _("Moved to another time."),
        CancelReasonCode.SLOT_WITHDRAWN: _("The department withdrew this consultation time."),
        CancelReasonCode.REFERRED: _("The petition was referred to another department."),
    }
    return code, appointment.cancel_reason or sentences[code], replaced_by


def appointment_out(appointment: Appointment) -> dict:
    slot = appointment.slot
    reason_code, reason, replaced_by = cancellation(appointment)
    return {
        "id": appointment.pk,
        "status": appointment.status,
        "petition": appointment.petition.reference,
        "department": {"code": slot.department.code, "name": slot.department.name},
        "slot": {"id": slot.pk, "starts_at": slot.starts_at, "ends_at": slot.ends_at},
        "seat": appointment.seat.number,
        "community": appointment.community.name if appointment.community is not None else None,
        "created_at": appointment.created_at,
        "cancelled_at": appointment.cancelled_at,
        "cancel_reason_code": reason_code,
        "cancel_reason": reason,
        "checked_in_at": appointment.checked_in_at,
        "rescheduled_from": appointment.rescheduled_from_id,
        "rescheduled_to": replaced_by,
    }


@router.get(
    "/categories",
    auth=None,
    response=list[CategoryOut],
    operation_id="category_list",
    tags=["categories"],
    summary="List the petition categories",
    description=(
        "The categories a petition may be filed under, in display order: `code` is what `petition_create` takes; "
        "`name` and `description` are in the caller's language (Accept-Language). Public: no key or token needed."
    ),
)
def category_list(request):
    return [category_out(c) for c in category_list_active()]


@router.post(
    "/petitions",
    response={201: PetitionCreatedOut, **errors(400, 401, 403, 409, 413, 422)},
    operation_id="petition_create",
    tags=["petitions"],
    summary="File a resident's matter",
    description=(
        "Records the resident (found again by ID number) and their matter. `category` is a code from "
        "`category_list`; without `department`, the category's suggested department takes it. The answer holds "
        "the reference to book with and the query code for the resident; the ID and mobile numbers only ever "
        "come back masked. A 409 `resident_name_mismatch` means the ID number is registered under another name. "
        "Kiosk key or staff."
    ),
)
def petition_create_endpoint(request, payload: PetitionIn):
    petition = petition_create(
        actor=request.auth,
        name=payload.resident.name,
        phone=payload.resident.phone,
        id_number=payload.resident.id_number,
        category=payload.category,
        summary=payload.summary,
        department=payload.department,
    )
    return Status(
        201,
        {
            "reference": petition.reference,
            "query_code": petition.query_code,
            "status": petition.status,
            "category": petition.category.code,
            "department": petition.department.code,
            "resident": {
                "name": petition.contact_name,
                "phone": petition.contact_phone_masked,
                "id_number": petition.resident.id_number_masked,
            },
            "received_at": petition.received_at,
        },
    )


IDEMPOTENT_REPLAYED = {
    "description": "`true` when this answer repeats the first booking made with the same Idempotency-Key",
    "schema": {"type": "string", "enum": ["true"]},
}


@router.post(
    "/appointments",
    response={201: AppointmentOut, **WRITE_ERRORS},
    operation_id="appointment_book",
    tags=["appointments"],
    summary="Book a petition into a consultation time",
    description=(
        "Takes a free seat of the time for the petition. Send an Idempotency-Key to retry safely: a repeat with "
        "the same key and body answers the first booking again (with `Idempotent-Replayed: true`); the same key "
        "with another body is a 422. 409 `slot_full` when the last seat was just taken, `slot_unavailable` when "
        "the time is not open; 422 `outside_booking_window` when it is past or too far ahead. Kiosk key or staff."
    ),
    openapi_extra={"responses": {201: {"headers": {"Idempotent-Replayed": IDEMPOTENT_REPLAYED}}}},
)
def appointment_book_endpoint(
    request,
    response: HttpResponse,
    payload: AppointmentIn,
    idempotency_key: IdempotencyKey = Header(
        None,
        alias="Idempotency-Key",
        description=f"1 to {IDEMPOTENCY_KEY_MAX} printable characters, unique per booking attempt of this caller",
    ),
):
    result = appointment_book(
        actor=request.auth, petition_reference=payload.petition, slot_id=payload.slot, idempotency_key=idempotency_key
    )
    if result.replayed:
        response["Idempotent-Replayed"] = "true"
    return Status(201, appointment_out(result.appointment))


@router.get(
    "/appointments/{appointment_id}",
    response={200: AppointmentOut, **errors(401, 404, 422)},
    operation_id="appointment_get",
    tags=["appointments"],
    summary="Read an appointment",
    description=(
        "Visible to the kiosks of its community, its department's staff and petition officers; to anyone else it "
        "is a 404, as if it did not exist. A cancelled one says why (`cancel_reason_code`) and, if it was "
        "rescheduled, which appointment replaced it (`rescheduled_to`)."
    ),
)
def appointment_get(request, appointment_id: int = APPOINTMENT_ID):
    return appointment_out(appointment_for_actor(actor=request.auth, appointment_id=appointment_id))


@router.post(
    "/appointments/{appointment_id}/cancel",
    response={200: AppointmentOut, **WRITE_ERRORS},
    operation_id="appointment_cancel",
    tags=["appointments"],
    summary="Cancel an appointment",
    description=(
        "Frees the seat; the petition goes back to where it was before it was booked. The body is optional. "
        "Only a booked appointment that has not started can be cancelled (409 otherwise). The answer has "
        "`cancel_reason_code` `cancelled_by_resident`."
    ),
)
def appointment_cancel_endpoint(request, appointment_id: int = APPOINTMENT_ID, payload: CancelIn = Body(None)):
    # Typed as CancelIn, not CancelIn | None: the body may be left out, but null is not a body to send.
    appointment = appointment_cancel(
        actor=request.auth, appointment_id=appointment_id, reason=payload.reason if payload is not None else ""
    )
    return appointment_out(appointment)


@router.post(
    "/appointments/{appointment_id}/reschedule",
    response={200: AppointmentOut, **WRITE_ERRORS},
    operation_id="appointment_reschedule",
    tags=["appointments"],
    summary="Move an appointment to another time",
    description=(
        "Books a new appointment at the other time (of the same department) and cancels this one, both or "
        "neither. The answer is the new appointment, whose `rescheduled_from` is this one's id; this one becomes "
        "`cancelled` with `cancel_reason_code` `rescheduled` and `rescheduled_to` the new id."
    ),
)
def appointment_reschedule_endpoint(request, payload: RescheduleIn, appointment_id: int = APPOINTMENT_ID):
    appointment = appointment_reschedule(actor=request.auth, appointment_id=appointment_id, slot_id=payload.slot)
    return appointment_out(appointment)


@router.post(
    "/slots/{slot_id}/withdraw",
    response={200: WithdrawOut, **errors(400, 401, 403, 404, 413, 422)},
    auth=staff_only(),
    operation_id="slot_withdraw",
    tags=["slots"],
    summary="Withdraw a published consultation time",
    description=(
        "Takes the time out of the schedule and cancels its bookings; each resident is told the reason given, "
        "which their appointment shows as `cancel_reason` with `cancel_reason_code` `slot_withdrawn`. "
        "The department's admin or a petition officer (staff token or session)."
    ),
)
def slot_withdraw_endpoint(
    request, payload: WithdrawIn, slot_id: int = Path(..., description="The consultation time's id")
):
    cancelled = slot_withdraw(actor=request.auth, slot_id=slot_id, reason=payload.reason)
    return {"slot": slot_id, "cancelled_appointments": [a.pk for a in cancelled]}


@router.post(
    "/departments/{code}/weeks/{week}/publish",
    response={200: PublishOut, **errors(401, 403, 404, 409, 413, 422)},
    auth=staff_only(),
    operation_id="week_publish",
    tags=["weeks"],
    summary="Publish a week of consultation times",
    description=(
        "Turns the department's weekly rules into bookable times for one ISO week, minus holidays and closures; "
        "publishing again applies changed rules and keeps booked times. 409 `provisional_holiday_year` when the "
        "State Council has not yet announced that year's holidays: repeat with `confirm_provisional_holidays=true`. "
        "The department's admin or a petition officer (staff token or session)."
    ),
)
def week_publish_endpoint(
    request,
    code: str = Path(..., description="The department's code"),
    week: Week = Path(..., description="The ISO week, YYYY-Www (e.g. 2026-W10)"),
    confirm_provisional_holidays: bool = Query(
        False, description="Publish even if the year's holidays are provisional"
    ),
):
    # The same service as the weekly-hours page: permission, publishing and the audit record in one place.
    department = hours.department_for_hours(actor=request.auth, code=code)
    iso_year, iso_week = iso_week_parse(week)
    result = hours.week_publish_by_staff(
        actor=request.auth,
        department=department,
        iso_year=iso_year,
        iso_week=iso_week,
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
