import datetime as dt

from ninja import Field, Schema


class ResidentIn(Schema):
    name: str = Field(..., max_length=50)
    phone: str = Field(..., max_length=30)
    id_number: str = Field(..., max_length=30)


class PetitionIn(Schema):
    resident: ResidentIn
    category: str = Field(..., max_length=40)
    summary: str = Field(..., max_length=2000)
    department: str | None = Field(None, max_length=40)


class PetitionCreatedOut(Schema):
    reference: str
    query_code: str
    status: str
    category: str
    department: str
    received_at: dt.datetime


class AppointmentIn(Schema):
    petition: str = Field(..., max_length=32, description="The petition's reference")
    slot: int


class RescheduleIn(Schema):
    slot: int


class CancelIn(Schema):
    reason: str = Field("", max_length=200)


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
