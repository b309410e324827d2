import datetime as dt
import unicodedata
from typing import Annotated

from ninja import Field, Schema
from pydantic import AfterValidator


def _without_control_characters(value: str, allowed: str = "") -> str:
    # Control characters are never meant; PostgreSQL even refuses NUL in text.
    if any(unicodedata.category(c) == "Cc" and c not in allowed for c in value):
        raise ValueError("control characters")
    return value


# One line of text, and text that may run over several lines.
Line = Annotated[str, AfterValidator(_without_control_characters)]
Paragraphs = Annotated[str, AfterValidator(lambda value: _without_control_characters(value, "\t\n\r"))]


class ResidentIn(Schema):
    name: Line = Field(..., max_length=50)
    phone: Line = Field(..., max_length=30)
    id_number: Line = Field(..., max_length=30)


class PetitionIn(Schema):
    resident: ResidentIn
    category: Line = Field(..., max_length=40)
    summary: Paragraphs = Field(..., max_length=2000)
    department: Line | None = Field(None, max_length=40)


class PetitionCreatedOut(Schema):
    reference: str
    query_code: str
    status: str
    category: str
    department: str
    received_at: dt.datetime


class AppointmentIn(Schema):
    petition: Line = Field(..., max_length=32, description="The petition's reference")
    slot: int


class RescheduleIn(Schema):
    slot: int


class CancelIn(Schema):
    reason: Paragraphs = Field("", max_length=200)


class SlotRef(Schema):
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime


class DepartmentRef(Schema):
    code: str
    name: str


class AppointmentOut(Schema):
    id: int
    status: str
    petition: str
    department: DepartmentRef
    slot: SlotRef
    seat: int
    community: str | None
    created_at: dt.datetime
    cancelled_at: dt.datetime | None
    cancel_reason: str
    checked_in_at: dt.datetime | None
    rescheduled_from: int | None


class WithdrawIn(Schema):
    reason: Paragraphs = Field(..., max_length=200, description="Told to every resident whose booking is cancelled")


class WithdrawOut(Schema):
    slot: int
    cancelled_appointments: list[int]
