"""The API's shapes for categories, petitions, appointments, and a petition's lifecycle and outcomes."""

import datetime as dt
import unicodedata
from enum import StrEnum
from typing import Annotated

from ninja import Field, Schema
from pydantic import AfterValidator, StrictInt

from .notify.calendars import appointment_calendar_url_for
from .outcomes.lifecycle import EXTENSION_MAX_DAYS, REASON_MAX
from .outcomes.services import ANSWER_MAX, COMMITMENTS_MAX, ITEMS_MAX, LEGAL_BASIS_MAX

# The canonical forms, declared for clients; the server also accepts full-width digits and spaces (a
# Chinese input method produces them) and answers a 422 naming the field, with a precise reason, otherwise.
MOBILE_PATTERN = r"^(1[3-9][0-9]{9}|\+[1-9][0-9]{6,14})$"
ID_NUMBER_PATTERN = r"^[0-9]{17}[0-9Xx]$"
REFERENCE_PATTERN = r"^XF[0-9]{14}$"
QUERY_CODE_PATTERN = r"^[0-9]{8}$"
SUMMARY_MIN = 5


def _without_control_characters(value: str, allowed: str = "") -> str:
    # Control characters are never meant; PostgreSQL even refuses NUL in text.
    if any(unicodedata.category(c) == "Cc" and c not in allowed for c in value):
        raise ValueError("control characters")
    return value


# One line of text, and text that may run over several lines.
Line = Annotated[str, AfterValidator(_without_control_characters)]
Paragraphs = Annotated[str, AfterValidator(lambda value: _without_control_characters(value, "\t\n\r"))]


class PetitionStatus(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    NOT_ACCEPTED = "not_accepted"
    SCHEDULED = "scheduled"
    IN_CONSULTATION = "in_consultation"
    ANSWERED = "answered"
    REFERRED = "referred"
    FOLLOW_UP = "follow_up"
    REOPENED = "reopened"
    CLOSED = "closed"


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    OFFERED = "offered"  # a seat held for a resident on the waiting list until they confirm


class CancelReasonCode(StrEnum):
    """Why an appointment was cancelled, for a program."""

    CANCELLED_BY_RESIDENT = "cancelled_by_resident"
    RESCHEDULED = "rescheduled"
    SLOT_WITHDRAWN = "slot_withdrawn"
    REFERRED = "referred"
    OFFER_LAPSED = "offer_lapsed"  # a waiting-list offer not taken up in time


class DepartmentRef(Schema):
    code: str
    name: str


class CategoryOut(Schema):
    code: str = Field(..., description="What `category` of `petition_create` takes")
    name: str = Field(..., description="In the caller's language")
    description: str = Field(..., description="What it covers, in plain words, in the caller's language")
    suggested_department: DepartmentRef | None = Field(
        ..., description="Where a petition of this category goes when it names no department"
    )


class ResidentIn(Schema):
    name: Line = Field(..., max_length=50, description="As on the ID card", json_schema_extra={"minLength": 1})
    phone: Line = Field(
        ...,
        max_length=30,
        description="A mainland mobile number (11 digits, e.g. 13840012345) or an international one in E.164 (+…)",
        json_schema_extra={"pattern": MOBILE_PATTERN},
    )
    id_number: Line = Field(
        ...,
        max_length=30,
        description=(
            "Resident ID number (GB 11643): 17 digits and a check character (digit or X), a real birth date and "
            "a province code. Stored encrypted; answers only ever show it masked"
        ),
        json_schema_extra={"pattern": ID_NUMBER_PATTERN},
    )


MASKED_VISIBLE_DIGITS = 7


def _masked_only(value: str) -> str:
    # Whatever it is handed, this schema never carries a full number: at most 3 leading and 4 trailing
    # characters stay visible (as identity.phone_mask and identity.id_number_mask show them).
    if sum(c.isdigit() for c in value) <= MASKED_VISIBLE_DIGITS:
        return value
    return value[:3] + "*" * max(len(value) - 7, 4) + value[-4:]


Masked = Annotated[str, AfterValidator(_masked_only)]


class ResidentOut(Schema):
    name: str
    phone: Masked = Field(..., description="Masked: 138****2345")
    id_number: Masked = Field(..., description="Masked: 210***********123X")


class PetitionIn(Schema):
    resident: ResidentIn
    category: Line = Field(
        ..., max_length=40, description="One of the codes listed by `category_list` (GET /api/v1/categories)"
    )
    summary: Paragraphs = Field(
        ...,
        max_length=2000,
        description=f"The matter in the resident's words, {SUMMARY_MIN} to 2000 characters (spaces around not counted)",
        json_schema_extra={"minLength": SUMMARY_MIN},
    )
    department: Line | None = Field(
        None, max_length=40, description="A department code; by default the category's suggested department"
    )


class PetitionCreatedOut(Schema):
    reference: str = Field(..., description="Quote it to book", json_schema_extra={"pattern": REFERENCE_PATTERN})
    query_code: str = Field(
        ..., description="For the resident, to follow the petition", json_schema_extra={"pattern": QUERY_CODE_PATTERN}
    )
    status: PetitionStatus
    category: str
    department: str
    resident: ResidentOut
    received_at: dt.datetime


class AppointmentIn(Schema):
    petition: Line = Field(..., max_length=32, description="The petition's reference")
    slot: int = Field(..., description="A consultation time's id, from `slot_list`")


class RescheduleIn(Schema):
    slot: int = Field(..., description="The new consultation time's id, of the same department")


class CancelIn(Schema):
    reason: Paragraphs = Field("", max_length=200, description="Why, in the resident's words (optional)")


class SlotRef(Schema):
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime


class AppointmentOut(Schema):
    id: int
    status: AppointmentStatus
    petition: str = Field(..., description="The petition's reference")
    department: DepartmentRef
    slot: SlotRef
    seat: int
    community: str | None = Field(..., description="The community office the resident comes to")
    created_at: dt.datetime
    cancelled_at: dt.datetime | None
    cancel_reason_code: CancelReasonCode | None = Field(..., description="Why it was cancelled; null unless cancelled")
    cancel_reason: str = Field(
        ...,
        description=(
            "Why it was cancelled, for a person: the reason given when it was cancelled, else a description of "
            "`cancel_reason_code` in the caller's language; empty unless cancelled"
        ),
    )
    checked_in_at: dt.datetime | None
    rescheduled_from: int | None = Field(..., description="The appointment this one replaced, if it was rescheduled")
    rescheduled_to: int | None = Field(
        ..., description="The appointment that replaced this one (then `cancel_reason_code` is `rescheduled`)"
    )
    calendar_url: str = Field(
        ...,
        description=(
            "The appointment as a calendar file (.ics, text/calendar), no key needed: METHOD:REQUEST while it "
            "stands, METHOD:CANCEL once cancelled, one UID across reschedules with a growing SEQUENCE. The address "
            "of a rescheduled appointment answers with the time it moved to"
        ),
        json_schema_extra={"format": "uri"},
    )

    @staticmethod
    def resolve_calendar_url(obj) -> str:
        appointment_id = obj["id"] if isinstance(obj, dict) else obj.pk
        return appointment_calendar_url_for(appointment_id)


class WithdrawIn(Schema):
    reason: Paragraphs = Field(..., max_length=200, description="Told to every resident whose booking is cancelled")


class WithdrawOut(Schema):
    slot: int
    cancelled_appointments: list[int] = Field(
        ..., description="Now cancelled, with `cancel_reason_code` slot_withdrawn"
    )


# A petition's lifecycle and outcomes -----------------------------------------------------------------------------


class DueKind(StrEnum):
    """Which statutory deadline is running (信访工作条例, 2022)."""

    ACCEPTANCE = "acceptance"
    ANSWER = "answer"
    REVIEW_ANSWER = "review_answer"
    REEXAMINATION_ANSWER = "reexamination_answer"


class AnswerStage(StrEnum):
    """Which answer an outcome is: the first, a review's (复查) or a re-examination's (复核, final)."""

    FIRST = "first"
    REVIEW = "review"
    REEXAMINATION = "reexamination"


class ReviewStage(StrEnum):
    """What the resident asked for: a review (复查) of the first answer, or a re-examination (复核) of a review."""

    REVIEW = "review"
    REEXAMINATION = "reexamination"


class Decision(StrEnum):
    """The decision on one request: 支持, 部分支持, 解释说明, 不予支持, 转送."""

    SUPPORTED = "supported"
    PARTLY_SUPPORTED = "partly_supported"
    EXPLAINED = "explained"
    NOT_SUPPORTED = "not_supported"
    REFERRED = "referred"


class SatisfactionLevel(StrEnum):
    """满意, 基本满意, 不满意."""

    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    DISSATISFIED = "dissatisfied"


def _text_limits(max_length: int, *, required: bool = True) -> dict:
    # Declared for clients only: the services check the text and say precisely what is wrong with it.
    return {"maxLength": max_length, **({"minLength": 1} if required else {})}


def _items_limits(max_items: int, min_items: int = 0) -> dict:
    return {"maxItems": max_items, **({"minItems": min_items} if min_items else {})}


DUE_ON = "A date (YYYY-MM-DD) from today to a year ahead"


class OutcomeItemIn(Schema):
    request: str = Field(
        ..., description="What the resident asked for, on one line", json_schema_extra=_text_limits(500)
    )
    decision: Decision
    referred_to: str | None = Field(
        None,
        description="With `referred`: the code of the department it goes to (the petition moves there)",
        json_schema_extra={"maxLength": 40},
    )
    referral_reason: str | None = Field(
        None, description="With `referred`: why that department", json_schema_extra={"maxLength": 500}
    )


class CommitmentIn(Schema):
    responsible: str = Field(
        ..., description="Who does it (a person or an office)", json_schema_extra=_text_limits(100)
    )
    action: str = Field(..., description="What they do", json_schema_extra=_text_limits(500))
    due_on: dt.date = Field(..., description=f"By when. {DUE_ON}")


class SlipIn(Schema):
    to_check: str = Field(
        ..., description="What the resident's community should check", json_schema_extra=_text_limits(1000)
    )
    due_on: dt.date = Field(..., description=f"By when. {DUE_ON}")


class OutcomeIn(Schema):
    answer: str = Field(
        ...,
        description="For the resident, in plain words: what was decided, why, and what happens next",
        json_schema_extra=_text_limits(ANSWER_MAX),
    )
    legal_basis: str = Field(
        "",
        description="The rules the decision rests on, where given",
        json_schema_extra=_text_limits(LEGAL_BASIS_MAX, required=False),
    )
    items: list[OutcomeItemIn] = Field(
        ...,
        description="One decision per request the petition raised; at most one department to refer to",
        json_schema_extra=_items_limits(ITEMS_MAX, 1),
    )
    commitments: list[CommitmentIn] = Field(
        [],
        description="Who does what by when; each is tracked until done",
        json_schema_extra=_items_limits(COMMITMENTS_MAX),
    )
    slip: SlipIn | None = Field(None, description="A follow-up slip (矛盾化解提示单) for the resident's community")


class OutcomeCorrectIn(Schema):
    answer: str = Field(
        ..., description="The corrected answer for the resident", json_schema_extra=_text_limits(ANSWER_MAX)
    )
    legal_basis: str = Field("", json_schema_extra=_text_limits(LEGAL_BASIS_MAX, required=False))
    reason: str = Field(..., description="Why the answer is corrected", json_schema_extra=_text_limits(1000))


class NotAcceptIn(Schema):
    reason: str = Field(
        ..., description="Why it is not accepted; the resident is told", json_schema_extra=_text_limits(1000)
    )
    redirect_to: str = Field(
        "",
        description="Where the resident should take the matter instead (a court, another body), where it applies",
        json_schema_extra=_text_limits(200, required=False),
    )


class ReferIn(Schema):
    department: str = Field(
        ..., description="The code of the department that should handle it", json_schema_extra={"maxLength": 40}
    )
    reason: str = Field(..., description="Why that department", json_schema_extra=_text_limits(REASON_MAX))


class ExtendIn(Schema):
    days: StrictInt = Field(
        ...,
        description="Added to the 60-day answer period",
        json_schema_extra={"minimum": 1, "maximum": EXTENSION_MAX_DAYS},
    )
    reason: str = Field(..., description="Why; the resident is told", json_schema_extra=_text_limits(REASON_MAX))


class CommitmentCompleteIn(Schema):
    note: str = Field(..., description="What was done", json_schema_extra=_text_limits(500))


class SlipCloseIn(Schema):
    findings: str = Field(..., description="What the community found", json_schema_extra=_text_limits(2000))


class CommunityRef(Schema):
    code: str
    name: str


class AcceptanceOut(Schema):
    decided_at: dt.datetime | None = Field(..., description="When acceptance was decided (受理 or 不予受理)")
    accepted_at: dt.datetime | None = Field(
        ..., description="When it was accepted; the 60-day answer period runs from here"
    )
    not_accepted_reason: str = Field(..., description="Why it was not accepted; empty otherwise")
    redirect_to: str = Field(..., description="Where the resident was told to go instead, if anywhere")


class DeadlineOut(Schema):
    due_on: dt.date = Field(..., description="The last day of the statutory period now running")
    kind: DueKind
    days_left: int = Field(..., description="Days from today; negative when overdue")


class ExtensionOut(Schema):
    days: int
    reason: str


class AppointmentBrief(Schema):
    id: int = Field(..., description="Read it in full with `appointment_get`")
    status: AppointmentStatus
    starts_at: dt.datetime


class OutcomeItemOut(Schema):
    request: str
    decision: Decision
    referred_to: DepartmentRef | None
    referral_reason: str


class CommitmentOut(Schema):
    id: int = Field(..., description="Mark it done with `commitment_complete`")
    responsible: str
    action: str
    due_on: dt.date
    done_at: dt.datetime | None
    done_note: str


class OutcomeOut(Schema):
    id: int = Field(..., description="Correct it with `outcome_correct`")
    stage: AnswerStage
    department: DepartmentRef = Field(..., description="The department that answered")
    answer: str
    legal_basis: str
    recorded_at: dt.datetime
    told_at: dt.datetime | None = Field(..., description="When the resident was told it")
    corrects: int | None = Field(..., description="The earlier version this one corrects")
    correction_reason: str
    corrected_by: int | None = Field(..., description="The later version that corrects this one; null if it stands")
    items: list[OutcomeItemOut]
    commitments: list[CommitmentOut]


class SlipOut(Schema):
    id: int = Field(..., description="Close it with `slip_close`")
    outcome: int
    community: CommunityRef
    to_check: str
    due_on: dt.date
    closed_at: dt.datetime | None
    findings: str = Field(..., description="What the community found; empty while open")


class RatingOut(Schema):
    outcome: int = Field(..., description="The answer rated")
    level: SatisfactionLevel
    remark: str
    rated_at: dt.datetime


class ReviewRequestOut(Schema):
    outcome: int = Field(..., description="The answer to be reviewed")
    stage: ReviewStage
    requested_at: dt.datetime
    answer_due_on: dt.date
    answered_at: dt.datetime | None


class ReferralOut(Schema):
    from_department: DepartmentRef
    to_department: DepartmentRef
    reason: str
    at: dt.datetime


class PetitionOut(Schema):
    """A petition with its whole history: acceptance, deadline, bookings, answers and what followed."""

    reference: str = Field(..., json_schema_extra={"pattern": REFERENCE_PATTERN})
    status: PetitionStatus
    category: str = Field(..., description="A code of `category_list`")
    summary: str
    department: DepartmentRef = Field(..., description="The department responsible now")
    community: CommunityRef | None = Field(..., description="Where the resident filed it")
    received_at: dt.datetime
    resident: ResidentOut = Field(..., description="The contact given with this petition; numbers only masked")
    acceptance: AcceptanceOut
    deadline: DeadlineOut | None = Field(..., description="The statutory deadline now running; null when none runs")
    extension: ExtensionOut | None = Field(..., description="The one extension of the answer period, if granted")
    appointments: list[AppointmentBrief] = Field(..., description="Every booking, earliest time first")
    outcomes: list[OutcomeOut] = Field(..., description="Every answer and correction, oldest first")
    slips: list[SlipOut] = Field(..., description="Follow-up slips sent to the community")
    ratings: list[RatingOut]
    review_requests: list[ReviewRequestOut]
    referrals: list[ReferralOut] = Field(..., description="Every move from one department to another, oldest first")
