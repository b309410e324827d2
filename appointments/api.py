"""The API for categories, petitions, appointments and the staff's schedule changes, and for a petition's
lifecycle and outcomes: thin calls into the services."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from django.http import HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Body, Header, Path, Query, Router, Status
from pydantic import WithJsonSchema

from departments.auth import any_caller, staff_only
from scheduler import hours
from scheduler.errors import DomainError, NotFound
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
from .models import (
    Appointment,
    Outcome,
    Petition,
    PetitionCategory,
)
from .outcomes import lifecycle
from .outcomes import services as outcomes
from .outcomes.selectors import petition_with_history
from .petitions import petition_create, petition_for_actor, petition_visible_to
from .schemas import (
    REFERENCE_PATTERN,
    AppointmentIn,
    AppointmentOut,
    CancelIn,
    CancelReasonCode,
    CategoryOut,
    CommitmentCompleteIn,
    Decision,
    ExtendIn,
    NotAcceptIn,
    OutcomeCorrectIn,
    OutcomeIn,
    PetitionCreatedOut,
    PetitionIn,
    PetitionOut,
    ReferIn,
    RescheduleIn,
    SlipCloseIn,
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


# A petition's lifecycle and outcomes -----------------------------------------------------------------------------

Reference = Annotated[str, WithJsonSchema({"type": "string", "pattern": REFERENCE_PATTERN})]
REFERENCE = Path(..., description="The petition's reference (XF followed by 14 digits)")
PETITION_WRITE_ERRORS = errors(400, 401, 403, 404, 409, 413, 422)
PETITION_VISIBILITY = "A petition that the caller may not see answers 404, exactly as one that does not exist."


def _department_ref(department) -> dict:
    return {"code": department.code, "name": department.name}


def _community_ref(community) -> dict | None:
    return {"code": community.code, "name": community.name} if community is not None else None


def _outcome_out(outcome: Outcome, corrected_by: dict[int, int]) -> dict:
    return {
        "id": outcome.pk,
        "stage": outcome.stage,
        "department": _department_ref(outcome.department),
        "answer": outcome.answer,
        "legal_basis": outcome.legal_basis,
        "recorded_at": outcome.recorded_at,
        "told_at": outcome.told_at,
        "corrects": outcome.corrects_id,
        "correction_reason": outcome.correction_reason,
        "corrected_by": corrected_by.get(outcome.pk),
        "items": [
            {
                "request": item.request,
                "decision": item.decision,
                "referred_to": _department_ref(item.referred_to) if item.referred_to is not None else None,
                "referral_reason": item.referral_reason,
            }
            for item in outcome.items.all()
        ],
        "commitments": [
            {
                "id": c.pk,
                "responsible": c.responsible,
                "action": c.action,
                "due_on": c.due_on,
                "done_at": c.done_at,
                "done_note": c.done_note,
            }
            for c in outcome.commitments.all()
        ],
    }


def petition_out(petition: Petition) -> dict:
    """A petition and its history (loaded by petition_with_history), the resident's numbers masked."""
    answers = list(petition.outcomes.all())
    corrected_by = {o.corrects_id: o.pk for o in answers if o.corrects_id is not None}
    ratings = [rating for o in answers if (rating := getattr(o, "rating", None)) is not None]
    return {
        "reference": petition.reference,
        "status": petition.status,
        "category": petition.category.code,
        "summary": petition.summary,
        "department": _department_ref(petition.department),
        "community": _community_ref(petition.community),
        "received_at": petition.received_at,
        "resident": {
            "name": petition.contact_name,
            "phone": petition.contact_phone_masked,
            "id_number": petition.resident.id_number_masked,
        },
        "acceptance": {
            "decided_at": petition.acceptance_decided_at,
            "accepted_at": petition.accepted_at,
            "not_accepted_reason": petition.not_accepted_reason,
            "redirect_to": petition.redirect_to,
        },
        "deadline": (
            {"due_on": petition.due_on, "kind": petition.due_kind, "days_left": lifecycle.days_left(petition)}
            if petition.due_on is not None and petition.due_kind
            else None
        ),
        "extension": (
            {"days": petition.extension_days, "reason": petition.extension_reason} if petition.extension_days else None
        ),
        "appointments": [
            {"id": a.pk, "status": a.status, "starts_at": a.slot.starts_at} for a in petition.appointments.all()
        ],
        "outcomes": [_outcome_out(o, corrected_by) for o in answers],
        "slips": [
            {
                "id": s.pk,
                "outcome": s.outcome_id,
                "community": _community_ref(s.community),
                "to_check": s.to_check,
                "due_on": s.due_on,
                "closed_at": s.closed_at,
                "findings": s.findings,
            }
            for s in petition.slips.all()
        ],
        "ratings": [
            {"outcome": r.outcome_id, "level": r.level, "remark": r.remark, "rated_at": r.rated_at} for r in ratings
        ],
        "review_requests": [
            {
                "outcome": r.of_outcome_id,
                "stage": r.stage,
                "requested_at": r.requested_at,
                "answer_due_on": r.answer_due_on,
                "answered_at": r.answered_at,
            }
            for r in petition.review_requests.all()
        ],
        "referrals": [
            {
                "from_department": _department_ref(r.from_department),
                "to_department": _department_ref(r.to_department),
                "reason": r.reason,
                "at": r.at,
            }
            for r in petition.referrals.all()
        ],
    }


def petition_answer(petition_id: int) -> dict:
    """The petition as it stands after a change the service allowed (after a referral the caller may no longer
    see it; the answer still shows where it went)."""
    petition = Petition.objects.select_related("resident", "department", "community", "category").get(pk=petition_id)
    return petition_out(petition_with_history(petition))


@contextmanager
def fields_named(**names: str) -> Iterator[None]:
    """Name the input at fault as this operation's body names it, where a service calls it otherwise."""
    try:
        yield
    except DomainError as exc:
        if exc.field in names:
            exc.field = names[exc.field]
        raise


def outcome_for_actor(*, actor, outcome_id: int) -> Outcome:
    """Load an answer only if the caller may see its petition (others get the same 404 as a missing one)."""
    outcome = Outcome.objects.select_related("petition").filter(pk=outcome_id).first()
    if outcome is None or not petition_visible_to(outcome.petition, actor):
        raise NotFound(_("No such answer."), field="outcome")
    return outcome


@router.get(
    "/petitions/{reference}",
    response={200: PetitionOut, **errors(401, 404, 422)},
    operation_id="petition_get",
    tags=["petitions"],
    summary="Read a petition and its whole history",
    description=(
        "Status, acceptance, the statutory deadline now running (`deadline.kind`, `days_left`, negative when "
        "overdue), the extension, every booking, answer (with its decisions per request, commitments and "
        "corrections), follow-up slip, rating, review request and referral. The resident's mobile and ID numbers "
        "only ever masked. The kiosks and community workers of the petition's community, the responsible "
        f"department's staff and petition officers. {PETITION_VISIBILITY}"
    ),
)
def petition_get(request, reference: Reference = REFERENCE):
    return petition_out(petition_with_history(petition_for_actor(actor=request.auth, reference=reference)))


@router.post(
    "/petitions/{reference}/outcomes",
    response={201: PetitionOut, **PETITION_WRITE_ERRORS},
    auth=staff_only(),
    operation_id="outcome_record",
    tags=["petitions"],
    summary="Record the department's answer",
    description=(
        "Records the answer the resident is told, one decision per request (`items`), the legal basis, "
        "commitments and optionally a follow-up slip for the resident's community; the consultation under way "
        "becomes `completed`. With commitments or a slip the petition goes to `follow_up`, else `answered`; an "
        "item `referred` moves the petition to `referred_to` with its history. The answer is the petition as it "
        "now stands. 409 when the petition cannot be answered in its status; 422 names the input at fault "
        f"(`items.0.referred_to`). The responsible department's staff or a petition officer. {PETITION_VISIBILITY}"
    ),
)
def outcome_record_endpoint(request, payload: OutcomeIn, reference: Reference = REFERENCE):
    petition = petition_for_actor(actor=request.auth, reference=reference)
    data = outcomes.OutcomeIn(
        answer=payload.answer,
        legal_basis=payload.legal_basis,
        items=[
            outcomes.ItemIn(
                request=item.request,
                decision=item.decision.value,
                referred_to=item.referred_to or "",
                referral_reason=item.referral_reason or "",
            )
            for item in payload.items
        ],
        commitments=[
            outcomes.CommitmentIn(responsible=c.responsible, action=c.action, due_on=c.due_on)
            for c in payload.commitments
        ],
        slip=outcomes.SlipIn(to_check=payload.slip.to_check, due_on=payload.slip.due_on) if payload.slip else None,
    )
    # The service names a refusal of the referral itself (the same department, say) `referred_to`.
    referred = next((n for n, item in enumerate(payload.items) if item.decision == Decision.REFERRED), 0)
    with fields_named(referred_to=f"items.{referred}.referred_to"):
        outcome = outcomes.outcome_record(actor=request.auth, petition=petition, data=data)
    return Status(201, petition_answer(outcome.petition_id))


@router.post(
    "/outcomes/{outcome_id}/correct",
    response={201: PetitionOut, **PETITION_WRITE_ERRORS},
    auth=staff_only(),
    operation_id="outcome_correct",
    tags=["petitions"],
    summary="Correct an answer already given",
    description=(
        "An answer the resident has been told never changes: the correction is a new version (`corrects` points "
        "to this one, which gets `corrected_by`) that keeps the decisions and says why. Only the latest version "
        "can be corrected (409 otherwise). The answer is the petition. The responsible department's staff or a "
        "petition officer. An answer on a petition the caller may not see is a 404."
    ),
)
def outcome_correct_endpoint(
    request, payload: OutcomeCorrectIn, outcome_id: int = Path(..., description="The answer's id (`outcomes[].id`)")
):
    outcome = outcome_for_actor(actor=request.auth, outcome_id=outcome_id)
    corrected = outcomes.outcome_correct(
        actor=request.auth,
        outcome_id=outcome.pk,
        answer=payload.answer,
        legal_basis=payload.legal_basis,
        reason=payload.reason,
    )
    return Status(201, petition_answer(corrected.petition_id))


@router.post(
    "/petitions/{reference}/accept",
    response={200: PetitionOut, **errors(401, 403, 404, 409, 413, 422)},
    auth=staff_only(),
    operation_id="petition_accept",
    tags=["petitions"],
    summary="Accept a petition (受理)",
    description=(
        "The 60-day answer period starts; `deadline.kind` becomes `answer`. A petition already accepted, or "
        "decided otherwise, is a 409. The responsible department's staff or a petition officer. "
        f"{PETITION_VISIBILITY}"
    ),
)
def petition_accept_endpoint(request, reference: Reference = REFERENCE):
    petition = petition_for_actor(actor=request.auth, reference=reference)
    lifecycle.petition_accept(actor=request.auth, petition=petition)
    return petition_answer(petition.pk)


@router.post(
    "/petitions/{reference}/not-accept",
    response={200: PetitionOut, **PETITION_WRITE_ERRORS},
    auth=staff_only(),
    operation_id="petition_not_accept",
    tags=["petitions"],
    summary="Decide not to accept a petition (不予受理)",
    description=(
        "Says why, and where it applies, where the resident should go instead (`redirect_to`); the resident is "
        "told both. Only a petition whose acceptance is undecided (409 otherwise). The responsible department's "
        f"staff or a petition officer. {PETITION_VISIBILITY}"
    ),
)
def petition_not_accept_endpoint(request, payload: NotAcceptIn, reference: Reference = REFERENCE):
    petition = petition_for_actor(actor=request.auth, reference=reference)
    lifecycle.petition_not_accept(
        actor=request.auth, petition=petition, reason=payload.reason, redirect_to=payload.redirect_to
    )
    return petition_answer(petition.pk)


@router.post(
    "/petitions/{reference}/refer",
    response={200: PetitionOut, **PETITION_WRITE_ERRORS},
    auth=staff_only(),
    operation_id="petition_refer",
    tags=["petitions"],
    summary="Refer a petition to another department (转送)",
    description=(
        "The petition moves to `department` with its whole history and becomes `referred`; a booked consultation "
        "is cancelled with `cancel_reason_code` `referred`. 422 `field` `department` for an unknown, closed or "
        "the same department. The answer is the petition as it now stands (afterwards only the new department "
        f"sees it). The responsible department's staff or a petition officer. {PETITION_VISIBILITY}"
    ),
)
def petition_refer_endpoint(request, payload: ReferIn, reference: Reference = REFERENCE):
    petition = petition_for_actor(actor=request.auth, reference=reference)
    with fields_named(referred_to="department"):
        lifecycle.petition_refer(
            actor=request.auth, petition=petition, to_department=payload.department, reason=payload.reason
        )
    return petition_answer(petition.pk)


@router.post(
    "/petitions/{reference}/extend",
    response={200: PetitionOut, **PETITION_WRITE_ERRORS},
    auth=staff_only(),
    operation_id="petition_extend",
    tags=["petitions"],
    summary="Extend the answer period once",
    description=(
        "Adds 1 to 30 days to the 60-day answer period of an accepted petition awaiting its answer, with a reason "
        "the resident is told; only once (409 for a second time). Petition officers only (403 for others). "
        f"{PETITION_VISIBILITY}"
    ),
)
def petition_extend_endpoint(request, payload: ExtendIn, reference: Reference = REFERENCE):
    petition = petition_for_actor(actor=request.auth, reference=reference)
    lifecycle.petition_extend(actor=request.auth, petition=petition, days=payload.days, reason=payload.reason)
    return petition_answer(petition.pk)


@router.post(
    "/petitions/{reference}/close",
    response={200: PetitionOut, **errors(401, 403, 404, 409, 413, 422)},
    auth=staff_only(),
    operation_id="petition_close",
    tags=["petitions"],
    summary="Close a petition",
    description=(
        "For a petition whose answer stands (or that was not accepted) and whose commitments and follow-up slips "
        "are done; a petition already closed, or with follow-up still open, is a 409. The responsible "
        f"department's staff or a petition officer. {PETITION_VISIBILITY}"
    ),
)
def petition_close_endpoint(request, reference: Reference = REFERENCE):
    petition = petition_for_actor(actor=request.auth, reference=reference)
    lifecycle.petition_close(actor=request.auth, petition=petition)
    return petition_answer(petition.pk)


@router.post(
    "/commitments/{commitment_id}/complete",
    response={200: PetitionOut, **PETITION_WRITE_ERRORS},
    auth=staff_only(),
    operation_id="commitment_complete",
    tags=["petitions"],
    summary="Record that a commitment was kept",
    description=(
        "Records what was done and when; once the last commitment and slip are done the petition goes from "
        "`follow_up` to `answered`. A commitment already done is a 409. The answer is the petition. The "
        "responsible department's staff or a petition officer; to anyone else the commitment is a 404."
    ),
)
def commitment_complete_endpoint(
    request,
    payload: CommitmentCompleteIn,
    commitment_id: int = Path(..., description="The commitment's id (`outcomes[].commitments[].id`)"),
):
    commitment = outcomes.commitment_complete(actor=request.auth, commitment_id=commitment_id, note=payload.note)
    return petition_answer(commitment.outcome.petition_id)


@router.post(
    "/slips/{slip_id}/close",
    response={200: PetitionOut, **PETITION_WRITE_ERRORS},
    auth=staff_only(),
    operation_id="slip_close",
    tags=["petitions"],
    summary="Close a follow-up slip with what the community found",
    description=(
        "Records the community's findings and when; once the last commitment and slip are done the petition goes "
        "from `follow_up` to `answered`. A slip already closed is a 409. The answer is the petition. The slip's "
        "community worker or a petition officer; to anyone else the slip is a 404."
    ),
)
def slip_close_endpoint(
    request, payload: SlipCloseIn, slip_id: int = Path(..., description="The slip's id (`slips[].id`)")
):
    slip = outcomes.slip_close(actor=request.auth, slip_id=slip_id, findings=payload.findings)
    return petition_answer(slip.petition_id)
