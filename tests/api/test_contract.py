"""The OpenAPI document as a contract: names, tags, errors, enums and formats an integrator can build on."""

import json
import re
from pathlib import Path

import pytest
from django.test import Client

from appointments.models import Appointment, Petition, PetitionCategory
from departments.models import Department
from scheduler import errors as domain_errors
from scheduler.models import ScheduleWeek
from scheduler.schemas import ERROR_CODES_BY_STATUS, ErrorCode, ErrorOut
from tests import factories as f

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"

OPERATIONS = {
    ("get", "/api/v1/departments"): ("department_list", "departments"),
    ("get", "/api/v1/categories"): ("category_list", "categories"),
    ("get", "/api/v1/departments/{code}/slots"): ("slot_list", "slots"),
    ("post", "/api/v1/slots/{slot_id}/withdraw"): ("slot_withdraw", "slots"),
    ("post", "/api/v1/departments/{code}/weeks/{week}/publish"): ("week_publish", "weeks"),
    ("post", "/api/v1/petitions"): ("petition_create", "petitions"),
    ("post", "/api/v1/appointments"): ("appointment_book", "appointments"),
    ("get", "/api/v1/appointments/{appointment_id}"): ("appointment_get", "appointments"),
    ("post", "/api/v1/appointments/{appointment_id}/cancel"): ("appointment_cancel", "appointments"),
    ("post", "/api/v1/appointments/{appointment_id}/video-token"): ("video_token_issue", "appointments"),
    ("post", "/api/v1/appointments/{appointment_id}/reschedule"): ("appointment_reschedule", "appointments"),
    ("get", "/api/v1/petitions/{reference}"): ("petition_get", "petitions"),
    ("post", "/api/v1/petitions/{reference}/outcomes"): ("outcome_record", "petitions"),
    ("post", "/api/v1/outcomes/{outcome_id}/correct"): ("outcome_correct", "petitions"),
    ("post", "/api/v1/petitions/{reference}/accept"): ("petition_accept", "petitions"),
    ("post", "/api/v1/petitions/{reference}/not-accept"): ("petition_not_accept", "petitions"),
    ("post", "/api/v1/petitions/{reference}/refer"): ("petition_refer", "petitions"),
    ("post", "/api/v1/petitions/{reference}/extend"): ("petition_extend", "petitions"),
    ("post", "/api/v1/petitions/{reference}/close"): ("petition_close", "petitions"),
    ("post", "/api/v1/commitments/{commitment_id}/complete"): ("commitment_complete", "petitions"),
    ("post", "/api/v1/slips/{slip_id}/close"): ("slip_close", "petitions"),
    ("get", "/api/v1/reports/weekly"): ("report_weekly", "reports"),
}
ERROR_REF = "#/components/schemas/ErrorOut"


@pytest.fixture(scope="module")
def document():
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(document):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def component(document, name: str) -> dict:
    return document["components"]["schemas"][name]


def test_every_operation_is_named_and_tagged_as_an_integrator_reads_it(document):
    found = {(method, path): (op["operationId"], op["tags"]) for method, path, op in operations(document)}

    assert found == {key: (op_id, [tag]) for key, (op_id, tag) in OPERATIONS.items()}
    assert {t["name"] for t in document["tags"]} == {tag for _, tag in OPERATIONS.values()}


def test_every_operation_has_a_summary_and_a_description(document):
    for method, path, operation in operations(document):
        assert operation.get("summary"), (method, path)
        assert len(operation.get("description", "")) > 40, (method, path)


def test_every_operation_declares_its_errors_with_the_one_error_body(document):
    for method, path, operation in operations(document):
        responses = {int(status): body for status, body in operation["responses"].items()}
        errors = {status: body for status, body in responses.items() if status >= 400}
        assert 429 in errors, (method, path)
        if operation.get("security"):
            assert 401 in errors, (method, path)
        if operation.get("parameters") or operation.get("requestBody"):
            assert 422 in errors, (method, path)
        if operation.get("requestBody"):
            assert {400, 413} <= set(errors), (method, path)
        if method == "post" and any("StaffSession" in s for s in operation.get("security", [])):
            assert 403 in errors, (method, path)  # a session without its CSRF token
        for status, body in errors.items():
            assert body["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}, (method, path, status)
            for code in ERROR_CODES_BY_STATUS[status]:
                assert f"`{code.value}`" in body["description"], (method, path, status)


def test_the_error_body_declares_its_codes(document):
    error = component(document, "ErrorOut")

    assert set(error["required"]) == {"detail", "code", "field", "errors"}
    assert component(document, "ErrorCode")["enum"] == [c.value for c in ErrorCode]
    declared = {code for codes in ERROR_CODES_BY_STATUS.values() for code in codes}
    assert declared == set(ErrorCode)


def test_every_domain_error_has_a_declared_code_for_its_status():
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    for cls in [domain_errors.DomainError, *subclasses(domain_errors.DomainError)]:
        assert cls.code in {c.value for c in ERROR_CODES_BY_STATUS[cls.status_code]}, cls


@pytest.mark.parametrize(
    ("schema", "choices"),
    [
        ("AppointmentStatus", Appointment.Status),
        ("PetitionStatus", Petition.Status),
        ("WeekStatus", ScheduleWeek.Status),
        ("DepartmentKind", Department.Kind),
    ],
)
def test_statuses_are_enums_with_exactly_the_models_values(document, schema, choices):
    assert set(component(document, schema)["enum"]) == set(choices.values)


def test_the_statuses_are_typed_by_their_enums(document):
    def ref(schema, name):
        return component(document, schema)["properties"][name]["$ref"].rsplit("/", 1)[-1]

    assert ref("AppointmentOut", "status") == "AppointmentStatus"
    assert ref("PetitionCreatedOut", "status") == "PetitionStatus"
    assert ref("PublishOut", "status") == "WeekStatus"
    assert ref("DepartmentOut", "kind") == "DepartmentKind"
    reason = component(document, "AppointmentOut")["properties"]["cancel_reason_code"]
    assert {"$ref": "#/components/schemas/CancelReasonCode"} in reason["anyOf"]


def test_the_input_formats_are_declared(document):
    resident = component(document, "ResidentIn")["properties"]
    petition = component(document, "PetitionIn")["properties"]
    book = document["paths"]["/api/v1/appointments"]["post"]
    publish = document["paths"]["/api/v1/departments/{code}/weeks/{week}/publish"]["post"]
    key = next(p for p in book["parameters"] if p["name"] == "Idempotency-Key")
    week = next(p for p in publish["parameters"] if p["name"] == "week")

    assert re.fullmatch(resident["phone"]["pattern"], "13840012345")
    assert not re.fullmatch(resident["phone"]["pattern"], "1384001234")
    assert re.fullmatch(resident["id_number"]["pattern"], "21010419470315002X")
    assert not re.fullmatch(resident["id_number"]["pattern"], "2101041947031500")
    assert (petition["summary"]["minLength"], petition["summary"]["maxLength"]) == (5, 2000)
    assert "category_list" in petition["category"]["description"]
    assert (key["schema"]["minLength"], key["schema"]["maxLength"]) == (1, 100)
    assert re.fullmatch(week["schema"]["pattern"], "2026-W49") and not re.fullmatch(
        week["schema"]["pattern"], "2026-49"
    )


def test_the_response_headers_are_declared(document):
    book = document["paths"]["/api/v1/appointments"]["post"]["responses"]

    assert book["201"]["headers"]["Idempotent-Replayed"]["schema"]["enum"] == ["true"]
    for method, path, operation in operations(document):
        assert "Retry-After" in operation["responses"]["429"]["headers"], (method, path)


def test_the_optional_cancel_body_is_not_nullable(document):
    body = document["paths"]["/api/v1/appointments/{appointment_id}/cancel"]["post"]["requestBody"]

    assert body["required"] is False
    assert "null" not in json.dumps(body["content"]["application/json"]["schema"])


def test_the_readme_lists_every_operation(document):
    section = README.read_text().split("## API in brief", 1)[1].split("\n## ", 1)[0]

    for method, path, operation in operations(document):
        assert f"`{method.upper()} {path}`" in section, (method, path)
        assert f"`{operation['operationId']}`" in section, operation["operationId"]


# The answers themselves: every error, from any source, has exactly the declared shape.


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "code", "field", "errors"}, body
    ErrorOut.model_validate(body)
    assert body["code"] == code and body["code"] in {c.value for c in ERROR_CODES_BY_STATUS[status]}
    if field is not None:
        assert body["field"] == field
    return body


def test_errors_from_outside_the_api_handlers_have_the_same_shape(client, db):
    assert_error(client.get("/api/v1/no-such-thing"), 404, "not_found")
    assert_error(client.delete("/api/v1/departments"), 405, "method_not_allowed")


def test_a_validation_error_lists_every_invalid_input(client, kiosk_key, department):
    body = {"resident": {"name": "王秀兰"}, "category": "housing", "summary": 12}

    error = assert_error(
        client.post("/api/v1/petitions", body, content_type="application/json", headers={"X-Kiosk-Key": kiosk_key}),
        422,
        "invalid",
    )

    assert {e["field"] for e in error["errors"]} == {"resident.phone", "resident.id_number", "summary"}
    assert error["field"] == error["errors"][0]["field"]


def test_a_body_that_is_not_json_is_a_malformed_request(client, kiosk_key, db):
    response = client.post(
        "/api/v1/petitions", "{", content_type="application/json", headers={"X-Kiosk-Key": kiosk_key}
    )

    assert_error(response, 400, "malformed_request")


def test_a_throttled_caller_is_told_when_to_come_back(client, settings, db):
    settings.API_THROTTLE_ANONYMOUS = "1/m"
    client.get("/api/v1/categories")

    response = client.get("/api/v1/categories")

    assert_error(response, 429, "throttled")
    assert 0 < int(response["Retry-After"]) <= 60


# Categories


def test_it_lists_the_categories_with_their_suggested_department(client, department):
    f.categories()
    PetitionCategory.objects.filter(code="housing").update(suggested_department=department)
    PetitionCategory.objects.filter(code="education").update(is_active=False)

    categories = client.get("/api/v1/categories").json()

    codes = [c["code"] for c in categories]
    assert "housing" in codes and "education" not in codes
    housing = next(c for c in categories if c["code"] == "housing")
    assert housing == {
        "code": "housing",
        "name": "住房保障",
        "description": "公租房、廉租房、房屋产权和办证",
        "suggested_department": {"code": "fangchan", "name": "区房产局"},
    }


def test_categories_speak_the_callers_language(client, db):
    f.categories()

    categories = client.get("/api/v1/categories", headers={"Accept-Language": "en"}).json()

    housing = next(c for c in categories if c["code"] == "housing")
    assert (housing["name"], housing["description"]) == (
        "Housing",
        "Public rental housing, ownership and property certificates",
    )


def test_a_suggested_department_that_closed_is_not_offered(client, department):
    f.categories()
    PetitionCategory.objects.filter(code="housing").update(suggested_department=department)
    Department.objects.filter(pk=department.pk).update(is_active=False)

    housing = next(c for c in client.get("/api/v1/categories").json() if c["code"] == "housing")

    assert housing["suggested_department"] is None


def test_every_listed_category_can_be_filed(client, kiosk_key, department):
    f.categories()
    headers = {"X-Kiosk-Key": kiosk_key}

    for category in client.get("/api/v1/categories").json():
        body = {
            "resident": {"name": "王秀兰", "phone": "13840012345", "id_number": f.valid_id_number()},
            "category": category["code"],
            "summary": "回迁房的房产证一直办不下来。",
            "department": department.code,
        }
        response = client.post("/api/v1/petitions", body, content_type="application/json", headers=headers)
        assert response.status_code == 201, (category["code"], response.content)


# Rescheduling and cancelling, linked both ways and explained


@pytest.fixture
def kiosk_headers(kiosk_key):
    return {"X-Kiosk-Key": kiosk_key}


def post(client, url, data, **headers):
    return client.post(url, json.dumps(data), content_type="application/json", headers=headers)


@pytest.fixture
def booked(client, kiosk_headers, petition, open_slots):
    response = post(
        client, "/api/v1/appointments", {"petition": petition.reference, "slot": open_slots[0].pk}, **kiosk_headers
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_a_booked_appointment_has_no_cancellation_and_no_links(booked):
    assert (booked["cancel_reason_code"], booked["cancel_reason"]) == (None, "")
    assert (booked["rescheduled_from"], booked["rescheduled_to"]) == (None, None)


def test_a_reschedule_links_the_old_and_the_new_appointment_both_ways(client, kiosk_headers, booked, open_slots):
    moved = post(
        client, f"/api/v1/appointments/{booked['id']}/reschedule", {"slot": open_slots[2].pk}, **kiosk_headers
    ).json()

    old = client.get(f"/api/v1/appointments/{booked['id']}", headers=kiosk_headers).json()
    assert (moved["rescheduled_from"], moved["rescheduled_to"]) == (booked["id"], None)
    assert (old["status"], old["rescheduled_to"], old["cancel_reason_code"]) == (
        "cancelled",
        moved["id"],
        "rescheduled",
    )
    assert old["cancel_reason"] == "已改约到其他时间。"
    english = client.get(f"/api/v1/appointments/{booked['id']}", headers={**kiosk_headers, "Accept-Language": "en"})
    assert english.json()["cancel_reason"] == "Moved to another time."


def test_a_resident_cancellation_says_so_in_the_callers_language(client, kiosk_headers, booked):
    url = f"/api/v1/appointments/{booked['id']}/cancel"

    response = post(client, url, {}, **kiosk_headers, **{"Accept-Language": "en"})

    body = response.json()
    assert (body["cancel_reason_code"], body["cancel_reason"]) == (
        "cancelled_by_resident",
        "Cancelled at the resident's request.",
    )
    chinese = client.get(f"/api/v1/appointments/{booked['id']}", headers=kiosk_headers).json()
    assert chinese["cancel_reason"] == "应群众要求取消。"


def test_a_reason_given_by_the_resident_is_shown_as_given(client, kiosk_headers, booked):
    body = post(client, f"/api/v1/appointments/{booked['id']}/cancel", {"reason": "身体不适"}, **kiosk_headers).json()

    assert (body["cancel_reason_code"], body["cancel_reason"]) == ("cancelled_by_resident", "身体不适")


def test_a_withdrawn_time_gives_its_reason_and_code(client, kiosk_headers, booked, dept_admin):
    token = f.token_for(dept_admin.staff)
    post(
        client,
        f"/api/v1/slots/{booked['slot']['id']}/withdraw",
        {"reason": "科室集中培训"},
        Authorization=f"Bearer {token}",
    )

    body = client.get(f"/api/v1/appointments/{booked['id']}", headers=kiosk_headers).json()

    assert (body["cancel_reason_code"], body["cancel_reason"]) == ("slot_withdrawn", "科室集中培训")


def test_a_resident_cancellation_before_a_withdrawal_stays_the_residents(client, kiosk_headers, booked, dept_admin):
    post(client, f"/api/v1/appointments/{booked['id']}/cancel", {}, **kiosk_headers)
    token = f.token_for(dept_admin.staff)
    post(client, f"/api/v1/slots/{booked['slot']['id']}/withdraw", {"reason": "停电"}, Authorization=f"Bearer {token}")

    body = client.get(f"/api/v1/appointments/{booked['id']}", headers=kiosk_headers).json()

    assert body["cancel_reason_code"] == "cancelled_by_resident"
