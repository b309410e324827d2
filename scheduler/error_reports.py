"""Error reports (the DEBUG 500 page and the mails to ADMINS) without residents' ID numbers, mobiles or names."""

import re
from pprint import pformat
from typing import Any

from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict
from django.utils.safestring import SafeString, mark_safe
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from scheduler.log_filters import redact

# Fields that carry a resident's identity by name, whatever their value looks like (a name has no pattern).
_SENSITIVE_NAME = re.compile(r"phone|mobile|id_?number|id_?card|^(full_|real_|resident_|contact_)?name$", re.I)
# request.META entries that hold a URL or a query string.
_URL_META = {"PATH_INFO", "REQUEST_URI", "RAW_URI", "HTTP_REFERER", "HTTP_ORIGIN", "SCRIPT_URL", "SCRIPT_URI"}


class _Masked:
    """A frame variable shown in the report as its masked repr."""

    def __init__(self, value: Any, text: str | None = None) -> None:
        self.value, self.text = value, text

    def __repr__(self) -> str:
        return redact(self.text if self.text is not None else pformat(self.value))


class PersonalDataReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, always on (DEBUG too), that also masks personal data in POST, GET, META and frame variables."""

    def is_active(self, request) -> bool:
        return True

    def is_sensitive_name(self, name: object) -> bool:
        return isinstance(name, str) and bool(_SENSITIVE_NAME.search(name))

    def cleanse_value(self, name: object, value: Any) -> Any:
        if self.is_sensitive_name(name):
            return self.cleansed_substitute
        return redact(value) if isinstance(value, str) else value

    def cleanse_mapping(self, mapping):
        """Return a copy of a dict or MultiValueDict (POST, GET) with personal values masked."""
        if isinstance(mapping, MultiValueDict):
            cleansed = MultiValueDict()
            for key, values in mapping.lists():
                cleansed.setlist(key, [self.cleanse_value(key, value) for value in values])
            return cleansed
        return {key: self.cleanse_value(key, value) for key, value in mapping.items()}

    def cleanse_query_string(self, query: str) -> str:
        params = QueryDict(query, mutable=True)
        for key, values in list(params.lists()):
            params.setlist(key, [self.cleanse_value(key, value) for value in values])
        return redact(params.urlencode(safe="*[]"))

    def cleanse_url(self, url: str) -> str:
        path, mark, query = url.partition("?")
        return redact(path) + (mark + self.cleanse_query_string(query) if mark else "")

    def get_post_parameters(self, request):
        if request is None:
            return {}
        return self.cleanse_mapping(super().get_post_parameters(request))

    def get_safe_request_meta(self, request):
        meta = super().get_safe_request_meta(request)
        for key, value in meta.items():
            if not isinstance(value, str):
                continue
            if key == "QUERY_STRING":
                meta[key] = self.cleanse_query_string(value)
            elif key in _URL_META:
                meta[key] = self.cleanse_url(value)
            else:
                meta[key] = redact(value)
        return meta

    def cleanse_special_types(self, request, value):
        value = super().cleanse_special_types(request, value)
        if isinstance(value, MultiValueDict | dict):
            try:
                return self.cleanse_mapping(value)
            except Exception:  # a dict with unusual keys or values is masked by its repr below instead
                return value
        return value

    def get_traceback_frame_variables(self, request, tb_frame):
        return [
            (name, self.cleanse_frame_value(name, value))
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]

    def cleanse_frame_value(self, name: str, value: Any) -> Any:
        if self.is_sensitive_name(name):
            return self.cleansed_substitute
        if isinstance(value, str) and value == self.cleansed_substitute:
            return value
        if isinstance(value, HttpRequest):  # its repr shows the whole URL, query string included
            url = self.cleanse_url(value.get_full_path())
            return _Masked(value, f"<{type(value).__name__}: {value.method} {url!r}>")
        return _Masked(value)


class PersonalDataReporter(ExceptionReporter):
    """Django's reporter with the request's URL and GET cleansed, and every rendered report masked once more."""

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        if self.request is not None and isinstance(self.filter, PersonalDataReporterFilter):
            data["request_GET_items"] = list(self.filter.cleanse_mapping(self.request.GET).items())
            data["request_insecure_uri"] = self.filter.cleanse_url(data["request_insecure_uri"])
        return data

    # Masking swaps digits for "[id-number]"/"[phone]" in text Django already escaped: it stays as safe as it was.
    def get_traceback_html(self) -> SafeString:
        return mark_safe(redact(super().get_traceback_html()))  # noqa: S308

    def get_traceback_text(self) -> SafeString:
        return mark_safe(redact(super().get_traceback_text()))  # noqa: S308
