from django.http import HttpResponse
from ninja import Header, Router, Status

from departments.auth import any_caller, staff_only
from scheduler.publishing import iso_week_parse
from scheduler.schemas import PublishOut

from . import hours
from .booking import (
    appointment_book,
    appointment_cancel,
    appointment_for_actor,
    appointment_reschedule,
    slot_withdraw,
)
from .models import Appointment
from .petitions import petition_create
from .schemas import (
    AppointmentIn,
    AppointmentOut,
    CancelIn,
    PetitionCreatedOut,
    PetitionIn,
    RescheduleIn,
    WithdrawIn,
    WithdrawOut,
)

router = Router(tags=["petitions and appointments"], auth=any_caller())


def appointment_out(appointment: Appointment) -> dict:
    slot = appointment.slot
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
        "cancel_reason": appointment.cancel_reason,
        "checked_in_at": appointment.checked_in_at,
        "rescheduled_from": appointment.rescheduled_from_id,
    }


@router.post("/petitions", response={201: PetitionCreatedOut}, summary="File a resident's matter")
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
            "received_at": petition.received_at,
        },
    )


@router.post(
    "/appointments",
    response={201: AppointmentOut},
    summary="Book a petition into a consultation time (send an Idempotency-Key to retry safely)",
)
def appointment_book_endpoint(
    request,
    response: HttpResponse,
    payload: AppointmentIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
):
    result = appointment_book(
        actor=request.auth, petition_reference=payload.petition, slot_id=payload.slot, idempotency_key=idempotency_key
    )
    if result.replayed:
        response["Idempotent-Replayed"] = "true"
    return Status(201, appointment_out(result.appointment))


@router.get("/appointments/{appointment_id}", response=AppointmentOut, summary="One appointment")
def appointment_detail(request, appointment_id: int):
    return appointment_out(appointment_for_actor(actor=request.auth, appointment_id=appointment_id))


@router.post("/appointments/{appointment_id}/cancel", response=AppointmentOut, summary="Cancel an appointment")
def appointment_cancel_endpoint(request, appointment_id: int, payload: CancelIn | None = None):
    appointment = appointment_cancel(
        actor=request.auth, appointment_id=appointment_id, reason=payload.reason if payload else ""
    )
    return appointment_out(appointment)


@router.post(
    "/appointments/{appointment_id}/reschedule", response=AppointmentOut, summary="Move an appointment to another time"
)
def appointment_reschedule_endpoint(request, appointment_id: int, payload: RescheduleIn):
    appointment = appointment_reschedule(actor=request.auth, appointment_id=appointment_id, slot_id=payload.slot)
    return appointment_out(appointment)


@router.post(
    "/slots/{slot_id}/withdraw",
    response=WithdrawOut,
    auth=staff_only(),
    summary="Withdraw a published time, cancelling its appointments with a reason (department admin or officer)",
)
def slot_withdraw_endpoint(request, slot_id: int, payload: WithdrawIn):
    cancelled = slot_withdraw(actor=request.auth, slot_id=slot_id, reason=payload.reason)
    return {"slot": slot_id, "cancelled_appointments": [a.pk for a in cancelled]}


@router.post(
    "/departments/{code}/weeks/{week}/publish",
    response=PublishOut,
    auth=staff_only(),
    tags=["schedule"],
    summary="Publish a week of consultation times (department admin or petition officer)",
)
def week_publish_endpoint(request, code: str, week: str, confirm_provisional_holidays: bool = False):
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
