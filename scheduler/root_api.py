"""The REST API under /api/: mounts each app's router and turns every failure into one error body (ErrorOut)."""

import logging
import re
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer

from appointments.api import router as appointments_router
from appointments.office.api import router as office_router
from appointments.video.api import router as video_router
from departments.api import router as departments_router
from departments.auth import CsrfRefused, SignInRefused

from .api import router as scheduler_router
from .errors import DomainError
from .schemas import ERROR_CODES_BY_STATUS, ERROR_DESCRIPTIONS, ErrorCode, error_code_for
from .throttling import AnonymousThrottle, CallerThrottle

logger = logging.getLogger(__name__)

DESCRIPTION = """Consultation times, petitions and appointments of the district petition office.

**Callers.** A kiosk sends its key in `X-Kiosk-Key`; staff send a personal token as `Authorization: Bearer …`,
or use their signed-in session (then every POST needs the CSRF token in `X-CSRFToken`). Listing departments,
categories and open times needs neither.

**Errors.** Every error, whatever its status, is one JSON body (`ErrorOut`): `detail` for a person in the
caller's language (Chinese by default, English with `Accept-Language: en`), `code` for a program, `field` naming
the input at fault, and for a 422 every invalid input in `errors`. No answer ever carries a full ID or mobile
number: only masked forms.

**Limits.** Too many requests get a 429 with `Retry-After` (seconds).
"""

TAGS = [
    {"name": "departments", "description": "The functional departments and the petition office"},
    {"name": "categories", "description": "What a petition can be about"},
    {"name": "slots", "description": "Bookable consultation times"},
    {"name": "weeks", "description": "Publishing a department's week of consultation times"},
    {"name": "petitions", "description": "A resident's matter"},
    {"name": "appointments", "description": "A petition booked into a consultation time"},
    {"name": "reports", "description": "The petition office's figures: the weekly data report"},
]

ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
RETRY_AFTER = {
    "description": "Seconds to wait before trying again",
    "schema": {"type": "integer", "minimum": 0},
}


# \d is any decimal digit, full-width ones included. An ID number first: a mobile number hides inside one.
_ID_NUMBER = re.compile(r"(?<!\d)(\d{3})\d{3} ?\d{8} ?(\d{3}[\dXxＸｘ])(?!\d)")
_MOBILE = re.compile(r"(?<![\d+＋])((?:[+＋](?:86|８６)[ -]?)?[1１]\d{2})[ -]?\d{4}[ -]?(\d{4})(?!\d)")


def personal_numbers_mask(text: str) -> str:
    """Mask anything shaped like a resident ID number or a mobile number, as the rest of the service shows them."""
    text = _ID_NUMBER.sub(lambda m: m[1] + "*" * 11 + m[2], text)
    return _MOBILE.sub(lambda m: m[1] + "****" + m[2], text)


def _masked(data: Any) -> Any:
    if isinstance(data, str):
        return personal_numbers_mask(data)
    if isinstance(data, dict):
        return {key: _masked(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_masked(value) for value in data]
    return data


class MaskingJSONRenderer(JSONRenderer):
    """The last line of defence: no answer carries a full ID or mobile number, not even one that a caller sent
    in the wrong field and a message quotes back, or one a resident wrote into a cancellation reason."""

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> Any:
        return super().render(request, _masked(data), response_status=response_status)


class PetitionOfficeAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict | None = None) -> Any:
        """The generated document, with each error status saying which codes it carries."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for operations in schema["paths"].values():
            for operation in operations.values():
                # The throttle is the whole API's, so every operation can answer its 429.
                operation["responses"].setdefault(429, {"description": "", "content": ERROR_CONTENT})
                for status, response in operation["responses"].items():
                    status = int(status)
                    if status < 400:
                        continue
                    codes = ", ".join(f"`{c.value}`" for c in ERROR_CODES_BY_STATUS.get(status, ()))
                    response["description"] = f"{ERROR_DESCRIPTIONS.get(status, response['description'])}: {codes}"
                    if status == 429:
                        response["headers"] = {"Retry-After": RETRY_AFTER}
        schema["tags"] = TAGS
        return schema


api = PetitionOfficeAPI(
    title="Video-petition scheduling API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    renderer=MaskingJSONRenderer(),
    throttle=[AnonymousThrottle(), CallerThrottle()],
)
api.add_router("/v1/", departments_router)
api.add_router("/v1/", scheduler_router)
api.add_router("/v1/", appointments_router)
api.add_router("/v1/", office_router)
api.add_router("/v1/", video_router)


def error_response(
    request: HttpRequest,
    status: int,
    detail: Any,
    *,
    code: str | None = None,
    field: str | None = None,
    errors: list[dict] | None = None,
) -> HttpResponse:
    """The one error body: a message for a person, a code for a program, and the input at fault."""
    body = {"detail": str(detail), "code": error_code_for(status, code).value, "field": field, "errors": errors or []}
    return api.create_response(request, body, status=status)


_PYDANTIC_MESSAGES = {
    "missing": lambda: _("This field is required."),
    "json_invalid": lambda: _("The request body is not valid JSON."),
    "string_too_long": lambda: _("This value is too long."),
    "string_too_short": lambda: _("This value is too short."),
    "string_pattern_mismatch": lambda: _("This value is not in the expected format."),
    "int_parsing": lambda: _("Please give a whole number."),
    "int_type": lambda: _("Please give a whole number."),
    "string_type": lambda: _("Please give text."),
    "date_from_datetime_parsing": lambda: _("Please give a date as YYYY-MM-DD."),
    "date_parsing": lambda: _("Please give a date as YYYY-MM-DD."),
    "date_type": lambda: _("Please give a date as YYYY-MM-DD."),
    "bool_parsing": lambda: _("Please give true or false."),
    "enum": lambda: _("Please choose one of the listed values."),
    "literal_error": lambda: _("Please choose one of the listed values."),
    "model_attributes_type": lambda: _("Please send a JSON object."),
    "model_type": lambda: _("Please send a JSON object."),
    "dict_type": lambda: _("Please send a JSON object."),
}
_SOURCES = {"body", "query", "path", "header", "form", "cookie", "file"}


def _field_name(loc) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    if parts and parts[0] in {"payload", "body"}:
        parts = parts[1:]
    aliases = {"date_from": "from", "date_to": "to", "idempotency_key": "Idempotency-Key"}
    return ".".join(aliases.get(p, p) for p in parts) or "body"


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    # Each message is ours, never pydantic's: pydantic's are English and may quote the input (an ID number).
    errors = []
    for error in exc.errors:
        message = _PYDANTIC_MESSAGES.get(error.get("type", ""), lambda: _("This value is not valid."))()
        errors.append({"field": _field_name(error.get("loc", ())), "message": str(message)})
    first = errors[0] if errors else {"field": "body", "message": str(_("This value is not valid."))}
    return error_response(
        request,
        422,
        f"{first['field']}: {first['message']}",
        code=ErrorCode.INVALID,
        field=first["field"],
        errors=errors or [first],
    )


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    errors = [{"field": exc.field, "message": str(exc.message)}] if exc.field and exc.status_code == 422 else []
    return error_response(request, exc.status_code, exc.message, code=exc.code, field=exc.field, errors=errors)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(
        request, 401, _("Please sign in, or send a valid kiosk key or staff token."), code=ErrorCode.NOT_AUTHENTICATED
    )


@api.exception_handler(CsrfRefused)
def on_csrf_refused(request: HttpRequest, exc: CsrfRefused) -> HttpResponse:
    return error_response(
        request,
        403,
        _("A signed-in session must send the CSRF token (X-CSRFToken) with every change; programs use a token."),
        code=ErrorCode.CSRF_FAILED,
    )


@api.exception_handler(SignInRefused)
def on_sign_in_refused(request: HttpRequest, exc: SignInRefused) -> HttpResponse:
    response = error_response(request, exc.status_code, exc.message)
    if exc.retry_after:
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, _("Not found."), code=ErrorCode.NOT_FOUND)


_HTTP_MESSAGES = {
    # django-ninja raises 400 for a body it cannot parse; its text is English and technical.
    400: lambda: _("The request body is not valid JSON."),
    403: lambda: _("You are not allowed to do this."),
    404: lambda: _("Not found."),
    405: lambda: _("This method is not allowed here."),
    413: lambda: _("The request is too large."),
    429: lambda: _("Too many requests; please wait a moment and try again."),
}


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    message = _HTTP_MESSAGES.get(exc.status_code, lambda: _("This request could not be handled."))
    return error_response(request, exc.status_code, message())


@api.exception_handler(RequestDataTooBig)
def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error_response(request, 413, _("The request is too large."), code=ErrorCode.TOO_LARGE)


@api.exception_handler(OperationalError)
def on_database_unavailable(request: HttpRequest, exc: OperationalError) -> HttpResponse:
    # A lost connection (failover, restart) or a transient refusal: this request's transaction did not commit,
    # so a retry is safe; a booking retried with the same Idempotency-Key never books twice.
    logger.warning("Database unavailable (%s) in %s %s", type(exc).__name__, request.method, request.path)
    message = pgettext("database lost", "The service is briefly unavailable. Please try again in a moment.")
    response = error_response(request, 503, message, code=ErrorCode.SERVICE_UNAVAILABLE)
    response["Retry-After"] = "1"
    return response


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Log the type and place only: exception text may quote personal data from the request.
    logger.error("Unhandled %s in %s %s", type(exc).__name__, request.method, request.path, exc_info=False)
    return error_response(
        request, 500, _("Something went wrong on our side; please try again."), code=ErrorCode.SERVER_ERROR
    )
