"""The REST API under /api/: mounts each app's router and turns every failure into {"detail": ...}."""

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from appointments.api import router as appointments_router
from departments.api import router as departments_router

from .api import router as scheduler_router
from .errors import DomainError
from .throttling import AnonymousThrottle, CallerThrottle

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Video-petition scheduling API",
    version="1",
    description="Consultation times, petitions and appointments. Kiosks send X-Kiosk-Key; staff a bearer token.",
    urls_namespace="api",
    throttle=[AnonymousThrottle(), CallerThrottle()],
)
api.add_router("/v1/", departments_router)
api.add_router("/v1/", scheduler_router)
api.add_router("/v1/", appointments_router)

_PYDANTIC_MESSAGES = {
    "missing": lambda: _("This field is required."),
    "json_invalid": lambda: _("The request body is not valid JSON."),
    "string_too_long": lambda: _("This value is too long."),
    "int_parsing": lambda: _("Please give a whole number."),
    "int_type": lambda: _("Please give a whole number."),
    "string_type": lambda: _("Please give text."),
    "date_from_datetime_parsing": lambda: _("Please give a date as YYYY-MM-DD."),
    "date_parsing": lambda: _("Please give a date as YYYY-MM-DD."),
    "date_type": lambda: _("Please give a date as YYYY-MM-DD."),
    "bool_parsing": lambda: _("Please give true or false."),
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
    errors = []
    for error in exc.errors:
        message = _PYDANTIC_MESSAGES.get(error.get("type", ""), lambda: _("This value is not valid."))()
        errors.append({"field": _field_name(error.get("loc", ())), "message": str(message)})
    first = errors[0] if errors else {"field": "body", "message": str(_("This value is not valid."))}
    return api.create_response(
        request,
        {"detail": f"{first['field']}: {first['message']}", "field": first["field"], "errors": errors},
        status=422,
    )


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    body = {"detail": str(exc.message), "code": exc.code}
    if exc.field:
        body["field"] = exc.field
    return api.create_response(request, body, status=exc.status_code)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request, {"detail": _("Please sign in, or send a valid kiosk key or staff token.")}, status=401
    )


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": _("Not found.")}, status=404)


_HTTP_MESSAGES = {
    # django-ninja raises 400 for a body it cannot parse; its text is English and technical.
    400: lambda: _("The request body is not valid JSON."),
    403: lambda: _("You are not allowed to do this."),
    429: lambda: _("Too many requests; please wait a moment and try again."),
}


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    message = _HTTP_MESSAGES.get(exc.status_code)
    return api.create_response(request, {"detail": str(message()) if message else str(exc)}, status=exc.status_code)


@api.exception_handler(RequestDataTooBig)
def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return api.create_response(request, {"detail": _("The request is too large.")}, status=413)


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Log the type and place only: exception text may quote personal data from the request.
    logger.error("Unhandled %s in %s %s", type(exc).__name__, request.method, request.path, exc_info=False)
    return api.create_response(
        request, {"detail": _("Something went wrong on our side; please try again.")}, status=500
    )
