"""The API's shapes for consultation times and weeks, and the one error body every operation answers with."""

import datetime as dt
from enum import StrEnum

from ninja import Field, Schema

WEEK_PATTERN = r"^[0-9]{4}-W[0-9]{2}$"


class ErrorCode(StrEnum):
    """What went wrong, for a program: stable values an integrator may branch on."""

    MALFORMED_REQUEST = "malformed_request"
    NOT_AUTHENTICATED = "not_authenticated"
    CSRF_FAILED = "csrf_failed"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    SLOT_FULL = "slot_full"
    SLOT_UNAVAILABLE = "slot_unavailable"
    RESIDENT_NAME_MISMATCH = "resident_name_mismatch"
    PROVISIONAL_HOLIDAY_YEAR = "provisional_holiday_year"
    TOO_LARGE = "too_large"
    INVALID = "invalid"
    OUTSIDE_BOOKING_WINDOW = "outside_booking_window"
    THROTTLED = "throttled"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    SERVER_ERROR = "server_error"
    SERVICE_UNAVAILABLE = "service_unavailable"


E = ErrorCode
# Which codes each status can carry; the first is the one used when nothing more precise is known.
ERROR_CODES_BY_STATUS: dict[int, tuple[ErrorCode, ...]] = {
    400: (E.MALFORMED_REQUEST,),
    401: (E.NOT_AUTHENTICATED,),
    403: (E.FORBIDDEN, E.CSRF_FAILED),
    404: (E.NOT_FOUND,),
    405: (E.METHOD_NOT_ALLOWED,),
    409: (E.CONFLICT, E.SLOT_FULL, E.SLOT_UNAVAILABLE, E.RESIDENT_NAME_MISMATCH, E.PROVISIONAL_HOLIDAY_YEAR),
    413: (E.TOO_LARGE,),
    422: (E.INVALID, E.OUTSIDE_BOOKING_WINDOW),
    429: (E.THROTTLED, E.TOO_MANY_ATTEMPTS),
    500: (E.SERVER_ERROR,),
    503: (E.SERVICE_UNAVAILABLE,),
}

ERROR_DESCRIPTIONS = {
    400: "The body is not JSON",
    401: "No valid kiosk key, staff token or signed-in session",
    403: "The caller may not do this (or a session caller sent no CSRF token)",
    404: "Not found, or not visible to this caller",
    409: "The request conflicts with the current state",
    413: "The body is too large",
    422: "A value is not valid; `field` names it",
    429: "Too many requests; wait `Retry-After` seconds",
    503: "A service this operation needs (the video provider) cannot be reached; try again in a minute",
}


def error_code_for(status: int, code: str | None = None) -> ErrorCode:
    """The code to send: the given one if this status may carry it, else the status's general one."""
    allowed = ERROR_CODES_BY_STATUS.get(status, (E.INVALID,))
    return next((c for c in allowed if c.value == code), allowed[0])


class FieldError(Schema):
    field: str = Field(..., description="The input the message is about, e.g. `resident.id_number`")
    message: str = Field(..., description="What is wrong with it, for a person, in the caller's language")


class ErrorOut(Schema):
    """Every error the API answers, whatever its status."""

    detail: str = Field(..., description="What went wrong, for a person, in the caller's language")
    code: ErrorCode = Field(..., description="What went wrong, for a program")
    field: str | None = Field(..., description="The input that caused it (`resident.phone`, `Idempotency-Key`), if any")
    errors: list[FieldError] = Field(..., description="Every invalid input of a 422, first one first; else empty")


def errors(*statuses: int) -> dict[int, type[ErrorOut]]:
    """Declare the error statuses an operation can answer, all with the one error body."""
    return dict.fromkeys(statuses, ErrorOut)


class WeekStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"


class SlotOut(Schema):
    id: int
    starts_at: dt.datetime = Field(..., description="Start, with its offset (the service runs in Asia/Shanghai)")
    ends_at: dt.datetime
    capacity: int = Field(..., description="Sessions that can run at this time at once")
    remaining: int = Field(..., description="Seats still free")


class PublishOut(Schema):
    department: str
    week: str = Field(..., description="The ISO week, `YYYY-Www`", json_schema_extra={"pattern": WEEK_PATTERN})
    status: WeekStatus
    created: int = Field(..., description="Consultation times added")
    updated: int = Field(..., description="Consultation times changed")
    removed: int = Field(..., description="Consultation times taken away (none of them booked)")
    kept_booked: list[int] = Field(..., description="Booked times that no longer fit the rules but were kept")
    provisional_years: list[int] = Field(
        ..., description="Years whose holiday schedule is not yet announced, published on confirmation"
    )
