"""Domain errors: each carries a message for a person, the field it is about, and an HTTP status."""

from django.utils.functional import Promise


class DomainError(Exception):
    status_code = 422
    code = "invalid"

    def __init__(self, message: str | Promise, *, field: str | None = None, code: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
        if code:
            self.code = code


class InvalidInput(DomainError):
    status_code = 422
    code = "invalid"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class ResidentNameMismatch(Conflict):
    code = "resident_name_mismatch"


class SlotFull(Conflict):
    code = "slot_full"


class SlotUnavailable(Conflict):
    code = "slot_unavailable"


class OutsideBookingWindow(InvalidInput):
    code = "outside_booking_window"


class ProvisionalHolidayYear(Conflict):
    code = "provisional_holiday_year"


class TooManyAttempts(DomainError):
    status_code = 429
    code = "too_many_attempts"
