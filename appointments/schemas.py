"""The API's shapes for categories, petitions and appointments."""

import datetime as dt
import unicodedata
from enum import StrEnum
from typing import Annotated

from ninja import Field, Schema
from pydantic import AfterValidator

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


class CancelReasonCode(StrEnum):
    """Why an appointment was cancelled, for a program."""

    CANCELLED_BY_RESIDENT = "cancelled_by_resident"
    RESCHEDULED = "rescheduled"
    SLOT_WITHDRAWN = "slot_withdrawn"
    REFERRED = "referred"


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


class ResidentOut(Schema):
    name: str
    phone: str = Field(..., description="Masked: 138****2345")
    id_number: str = Field(..., description="Masked: 210***********123X")


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


class WithdrawIn(Schema):
    reason: Paragraphs = Field(..., max_length=200, description="Told to every resident whose booking is cancelled")


class WithdrawOut(Schema):
    slot: int
    cancelled_appointments: list[int] = Field(
        ..., description="Now cancelled, with `cancel_reason_code` slot_withdrawn"
    )
