"""Property-based requests generated from our own OpenAPI document: no input may cause a 500 or an answer the
document does not declare."""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import checks

from scheduler.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
# A fixed seed (derandomize) and a bounded sample in CI; FUZZ_EXAMPLES runs the longer search of docs/fuzzing.md.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
CONFORMANCE = [
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


@pytest.fixture(autouse=True)
def keep_connection_open():
    """Calling the WSGI app directly would close the test's connection after each request, as the
    test client prevents; do the same here."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def kiosk_headers(published, kiosk_key):
    return {"X-Kiosk-Key": kiosk_key}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@pytest.mark.django_db
def test_no_generated_request_gets_a_server_error_or_an_undeclared_answer(case, kiosk_headers):
    response = case.call(headers=kiosk_headers)
    assert response.status_code < 500, (case.method, case.path, case.body, response.text[:300])
    # The answer, error or not, is one the document declares: its status, media type, body and headers.
    case.validate_response(response, checks=CONFORMANCE)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "method, path, body",
    [
        ("get", "/api/v1/appointments/99999999999999999999999", None),
        ("get", "/api/v1/appointments/-1", None),
        ("post", "/api/v1/appointments", {"petition": "XF1", "slot": 2**70}),
        ("post", "/api/v1/appointments", {"petition": "\x00", "slot": -1}),
        ("post", "/api/v1/appointments/9223372036854775808/reschedule", {"slot": 2**63}),
        ("get", "/api/v1/departments/%00/slots", None),
        ("get", "/api/v1/departments/fangchan/slots?from=9999-12-31&to=9999-12-31", None),
        ("get", "/api/v1/departments/fangchan/slots?from=0001-01-01", None),
        ("post", "/api/v1/departments/fangchan/weeks/9999-W52/publish", None),
        ("get", "/api/v1/no-such-thing", None),
    ],
)
def test_out_of_range_values_get_an_answer_not_a_server_error(client, kiosk_headers, method, path, body):
    response = getattr(client, method)(path, body, content_type="application/json", headers=kiosk_headers)
    assert response.status_code < 500, response.content
    payload = response.json()
    if response.status_code >= 400:
        assert payload["detail"]
