"""Under /api/, every error answers in the API's JSON error body, even those raised outside the API's handlers."""

import json

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from .schemas import error_code_for

_MESSAGES = {
    404: lambda: _("Not found."),
    405: lambda: _("This method is not allowed here."),
    413: lambda: _("The request is too large."),
    500: lambda: _("Something went wrong on our side; please try again."),
}


class ApiJsonErrors:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            message = _MESSAGES.get(response.status_code, lambda: _("This request could not be handled."))()
            # The same body as the API's own errors (scheduler.schemas.ErrorOut).
            code = error_code_for(response.status_code).value
            body = {"detail": str(message), "code": code, "field": None, "errors": []}
            response.content = json.dumps(body, ensure_ascii=False).encode()
            response["Content-Type"] = "application/json; charset=utf-8"
        return response


class KioskDefaultLanguage:
    """A kiosk speaks Simplified Chinese until the resident presses English, whatever its browser is set to.

    LocaleMiddleware would follow the kiosk browser's Accept-Language; on a kiosk only the language
    switch (the language cookie) should change the language.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/kiosk/") and not request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
