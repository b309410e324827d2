"""An integrator's view: a client generated from /api/openapi.json by openapi-python-client drives a whole flow.

The client is generated afresh in each run from the document the server serves, and talks to the real WSGI
application (CSRF and all middleware included) through httpx, so the schema cannot drift from the server.
Every answer, errors included, must parse into the declared models; an undeclared status raises.
"""

import datetime as dt
import importlib
import json
import subprocess
import sys

import httpx
import pytest
from django.core.cache import cache
from django.test import Client as DjangoClient
from django.utils import timezone

from appointments.models import PetitionCategory
from departments.models import StaffMember
from scheduler.wsgi import application
from tests import factories as f

pytestmark = pytest.mark.django_db

PACKAGE = "petition_api_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The client package, generated from the served OpenAPI document and imported."""
    document = DjangoClient().get("/api/openapi.json")
    assert document.status_code == 200
    root = tmp_path_factory.mktemp("generated")
    (root / "openapi.json").write_bytes(document.content)
    # No post-hooks: formatting the generated code is not what is tested, and needs no tool on PATH.
    (root / "config.yaml").write_text(f"post_hooks: []\npackage_name_override: {PACKAGE}\n")
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(root / "openapi.json")]
        + ["--output-path", str(root / PACKAGE), "--meta", "none", "--config", str(root / "config.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


@pytest.fixture(autouse=True)
def keep_connection_open():
    """Calling the WSGI app directly would close the test's database connection after each request."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


class Api:
    """The generated modules, imported by name, and clients for each kind of caller."""

    def __init__(self, package):
        self.package = package
        self.m = importlib.import_module(f"{PACKAGE}.models")
        self.errors = importlib.import_module(f"{PACKAGE}.errors")

    def op(self, tag: str, operation_id: str):
        return importlib.import_module(f"{PACKAGE}.api.{tag}.{operation_id}")

    def _options(self, language: str | None) -> dict:
        headers = {"Accept-Language": language} if language else {}
        return {
            "base_url": "http://testserver",
            "raise_on_unexpected_status": True,
            "headers": headers,
            "httpx_args": {"transport": httpx.WSGITransport(app=application)},
        }

    def public(self, language: str | None = None):
        return self.package.Client(**self._options(language))

    def kiosk(self, key: str, language: str | None = None):
        return self.package.AuthenticatedClient(
            token=key, prefix="", auth_header_name="X-Kiosk-Key", **self._options(language)
        )

    def staff(self, token: str, language: str | None = None):
        return self.package.AuthenticatedClient(token=token, **self._options(language))


@pytest.fixture
def api(generated):
    return Api(generated)


@pytest.fixture
def admin_token(dept_admin):
    return f.token_for(dept_admin.staff)


def petition_in(api, department: str, **resident):
    m = api.m
    values = {"name": "王秀兰", "phone": "13840012345", "id_number": f.valid_id_number()} | resident
    return m.PetitionIn(
        resident=m.ResidentIn(**values),
        category="housing",
        summary="回迁房的房产证一直办不下来。",
        department=department,
    )


def test_a_kiosk_and_a_department_admin_go_through_the_whole_flow(api, kiosk_key, published, admin_token, settings):
    m = api.m
    public, kiosk, admin = api.public(), api.kiosk(kiosk_key), api.staff(admin_token)
    PetitionCategory.objects.filter(code="housing").update(suggested_department=published)

    categories = api.op("categories", "category_list").sync(client=public)
    housing = next(c for c in categories if c.code == "housing")
    assert isinstance(housing, m.CategoryOut) and housing.name == "住房保障" and housing.description
    assert housing.suggested_department.code == published.code
    departments = api.op("departments", "department_list").sync(client=public)
    assert [(d.code, d.kind) for d in departments] == [(published.code, m.DepartmentKind.FUNCTIONAL)]
    slots = api.op("slots", "slot_list").sync(published.code, client=public)
    assert all(isinstance(s, m.SlotOut) for s in slots) and slots[0].starts_at.tzinfo is not None
    day = timezone.localtime(slots[-1].starts_at).date()
    assert {s.id for s in api.op("slots", "slot_list").sync(published.code, client=public, from_=day, to=day)} <= {
        s.id for s in slots
    }

    petition = api.op("petitions", "petition_create").sync(client=kiosk, body=petition_in(api, published.code))
    assert isinstance(petition, m.PetitionCreatedOut), petition
    assert petition.status == m.PetitionStatus.RECEIVED and petition.resident.phone == "138****2345"

    book = api.op("appointments", "appointment_book")
    first = book.sync_detailed(
        client=kiosk, body=m.AppointmentIn(petition=petition.reference, slot=slots[0].id), idempotency_key="tap-1"
    )
    again = book.sync_detailed(
        client=kiosk, body=m.AppointmentIn(petition=petition.reference, slot=slots[0].id), idempotency_key="tap-1"
    )
    assert (first.status_code, again.status_code) == (201, 201)
    booked = first.parsed
    assert booked.status == m.AppointmentStatus.BOOKED and again.parsed.id == booked.id
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert booked.cancel_reason_code is None and booked.rescheduled_to is None

    get = api.op("appointments", "appointment_get")
    assert get.sync(booked.id, client=kiosk) == booked

    moved = api.op("appointments", "appointment_reschedule").sync(
        booked.id, client=kiosk, body=m.RescheduleIn(slot=slots[2].id)
    )
    assert moved.slot.id == slots[2].id and moved.rescheduled_from == booked.id
    old = get.sync(booked.id, client=kiosk)
    assert old.status == m.AppointmentStatus.CANCELLED
    assert (old.cancel_reason_code, old.rescheduled_to) == (m.CancelReasonCode.RESCHEDULED, moved.id)
    assert old.cancel_reason == "已改约到其他时间。"
    assert get.sync(booked.id, client=api.kiosk(kiosk_key, "en")).cancel_reason == "Moved to another time."

    # Cancelling with no body at all: the generated function must not need one.
    cancelled = api.op("appointments", "appointment_cancel").sync(moved.id, client=kiosk)
    assert cancelled.status == m.AppointmentStatus.CANCELLED
    assert cancelled.cancel_reason_code == m.CancelReasonCode.CANCELLED_BY_RESIDENT
    assert cancelled.cancel_reason == "应群众要求取消。"

    rebooked = book.sync(client=kiosk, body=m.AppointmentIn(petition=petition.reference, slot=slots[3].id))
    withdrawn = api.op("slots", "slot_withdraw").sync(
        slots[3].id, client=admin, body=m.WithdrawIn(reason="科室集中培训")
    )
    assert withdrawn.cancelled_appointments == [rebooked.id]
    told = get.sync(rebooked.id, client=kiosk)
    assert (told.cancel_reason_code, told.cancel_reason) == (m.CancelReasonCode.SLOT_WITHDRAWN, "科室集中培训")

    year = timezone.localdate().year + 1
    settings.HOLIDAY_CONFIRMED_YEARS = [year]
    week = api.op("weeks", "week_publish").sync(published.code, f"{year}-W10", client=admin)
    assert isinstance(week, m.PublishOut) and week.status == m.WeekStatus.PUBLISHED and week.created == 20


def error_of(api, response, status: int, code: str, field: str | None = None):
    assert response.status_code == status, response.content
    error = response.parsed
    assert isinstance(error, api.m.ErrorOut), error
    assert error.code == api.m.ErrorCode(code) and error.detail
    if field is not None:
        assert error.field == field
    return error


def test_every_error_parses_into_the_one_error_model(
    api, kiosk, kiosk_key, other_kiosk_and_key, published, open_slots, dept_staff, admin_token, settings
):
    m = api.m
    kiosk_client, admin = api.kiosk(kiosk_key), api.staff(admin_token)
    create = api.op("petitions", "petition_create")
    book = api.op("appointments", "appointment_book")
    get = api.op("appointments", "appointment_get")
    cancel = api.op("appointments", "appointment_cancel")
    publish = api.op("weeks", "week_publish")

    error_of(
        api,
        create.sync_detailed(client=api.kiosk("kiosk_forged"), body=petition_in(api, "fangchan")),
        401,
        "not_authenticated",
    )
    invalid = error_of(
        api,
        create.sync_detailed(client=kiosk_client, body=petition_in(api, "fangchan", phone="024-8888-8888")),
        422,
        "invalid",
        "resident.phone",
    )
    assert [(e.field, e.message) for e in invalid.errors] == [("resident.phone", invalid.detail)]
    unknown_category = petition_in(api, "fangchan")
    unknown_category.category = "astrology"
    error_of(api, create.sync_detailed(client=kiosk_client, body=unknown_category), 422, "invalid", "category")
    too_long = petition_in(api, "fangchan")
    too_long.summary = "长" * 1_000_000
    error_of(api, create.sync_detailed(client=kiosk_client, body=too_long), 413, "too_large")

    full = open_slots[1]
    for _ in range(full.capacity):
        assert book.sync(
            client=kiosk_client, body=m.AppointmentIn(petition=f.petition(kiosk, published).reference, slot=full.pk)
        )
    late = f.petition(kiosk, published)
    error_of(
        api,
        book.sync_detailed(client=kiosk_client, body=m.AppointmentIn(petition=late.reference, slot=full.pk)),
        409,
        "slot_full",
        "slot",
    )
    error_of(
        api,
        book.sync_detailed(client=kiosk_client, body=m.AppointmentIn(petition=late.reference, slot=99999)),
        404,
        "not_found",
        "slot",
    )
    error_of(
        api,
        book.sync_detailed(
            client=kiosk_client,
            body=m.AppointmentIn(petition=late.reference, slot=open_slots[0].pk),
            idempotency_key="x" * 101,
        ),
        422,
        "invalid",
        "Idempotency-Key",
    )

    mine = book.sync(client=kiosk_client, body=m.AppointmentIn(petition=late.reference, slot=open_slots[0].pk))
    error_of(api, get.sync_detailed(mine.id, client=api.kiosk(other_kiosk_and_key[1])), 404, "not_found", "appointment")
    assert cancel.sync(mine.id, client=kiosk_client, body=m.CancelIn(reason="身体不适")).cancel_reason == "身体不适"
    error_of(api, cancel.sync_detailed(mine.id, client=kiosk_client), 409, "conflict", "appointment")
    english = error_of(api, cancel.sync_detailed(mine.id, client=api.kiosk(kiosk_key, "en")), 409, "conflict")
    assert english.detail == "An appointment that is 'Cancelled' cannot be cancelled."

    withdrawn = open_slots[2]
    api.op("slots", "slot_withdraw").sync(withdrawn.pk, client=admin, body=m.WithdrawIn(reason="停电"))
    again = f.petition(kiosk, published)
    error_of(
        api,
        book.sync_detailed(client=kiosk_client, body=m.AppointmentIn(petition=again.reference, slot=withdrawn.pk)),
        409,
        "slot_unavailable",
        "slot",
    )

    year = timezone.localdate().year + 1
    settings.HOLIDAY_CONFIRMED_YEARS = [year]
    error_of(
        api,
        publish.sync_detailed(published.code, f"{year}-W10", client=api.staff(f.token_for(dept_staff.staff))),
        403,
        "forbidden",
    )
    error_of(api, publish.sync_detailed(published.code, f"{year}-W10", client=kiosk_client), 401, "not_authenticated")
    error_of(api, publish.sync_detailed(published.code, "2026-W54", client=admin), 422, "invalid", "week")
    error_of(
        api, publish.sync_detailed(published.code, f"{year + 1}-W10", client=admin), 409, "provisional_holiday_year"
    )
    error_of(api, publish.sync_detailed("nosuch", f"{year}-W10", client=admin), 404, "not_found")
    error_of(
        api, api.op("slots", "slot_list").sync_detailed("nosuch", client=api.public()), 404, "not_found", "department"
    )
    error_of(
        api,
        api.op("slots", "slot_list").sync_detailed(
            published.code, client=api.public(), from_=dt.date(2026, 3, 10), to=dt.date(2026, 3, 9)
        ),
        422,
        "invalid",
        "to",
    )

    cache.clear()  # forget the public reads above
    settings.API_THROTTLE_ANONYMOUS = "1/m"
    listing = api.op("departments", "department_list")
    assert listing.sync_detailed(client=api.public()).status_code == 200
    throttled = error_of(api, listing.sync_detailed(client=api.public()), 429, "throttled")
    assert throttled.detail == "操作太频繁了，请稍等片刻再试。"
    assert int(listing.sync_detailed(client=api.public()).headers["Retry-After"]) > 0


def test_a_department_and_the_petition_office_follow_a_petition_to_its_close(
    api, kiosk_key, other_kiosk_and_key, published, other_department, community, dept_staff
):
    m = api.m
    kiosk = api.kiosk(kiosk_key)
    staff = api.staff(f.token_for(dept_staff.staff))
    officer = api.staff(f.token_for(f.staff("gc_officer", StaffMember.Role.PETITION_OFFICER)))
    worker = api.staff(f.token_for(f.staff("gc_worker", StaffMember.Role.COMMUNITY_WORKER, community=community)))
    op = lambda operation_id: api.op("petitions", operation_id)  # noqa: E731 - a short name for a long path
    soon = timezone.localdate() + dt.timedelta(days=20)
    filed = op("petition_create").sync(client=kiosk, body=petition_in(api, published.code, phone="13700001111"))

    seen = op("petition_get").sync(filed.reference, client=kiosk)
    assert isinstance(seen, m.PetitionOut) and seen.status == m.PetitionStatus.RECEIVED
    assert seen.resident.phone == "137****1111" and seen.deadline.kind == m.DueKind.ACCEPTANCE
    error_of(
        api,
        op("petition_get").sync_detailed(filed.reference, client=api.kiosk(other_kiosk_and_key[1])),
        404,
        "not_found",
    )
    error_of(api, op("petition_accept").sync_detailed(filed.reference, client=worker), 403, "forbidden")

    accepted = op("petition_accept").sync(filed.reference, client=staff)
    assert accepted.status == m.PetitionStatus.ACCEPTED and accepted.deadline.kind == m.DueKind.ANSWER
    extend = op("petition_extend")
    error_of(
        api,
        extend.sync_detailed(filed.reference, client=officer, body=m.ExtendIn(days=31, reason="需调取档案")),
        422,
        "invalid",
        "days",
    )
    assert (
        extend.sync(filed.reference, client=officer, body=m.ExtendIn(days=10, reason="需调取档案")).extension.days == 10
    )

    answered = op("outcome_record").sync(
        filed.reference,
        client=staff,
        body=m.OutcomeIn(
            answer="房产证将于下月办结。",
            items=[
                m.OutcomeItemIn(request="办理房产证", decision=m.Decision.SUPPORTED),
                m.OutcomeItemIn(request="补偿款差额", decision=m.Decision.NOT_SUPPORTED),
            ],
            commitments=[m.CommitmentIn(responsible="区房产局产权科", action="办结房产证", due_on=soon)],
            slip=m.SlipIn(to_check="回访群众是否领到房产证", due_on=soon),
        ),
    )
    assert answered.status == m.PetitionStatus.FOLLOW_UP
    [outcome] = answered.outcomes
    assert [i.decision for i in outcome.items] == [m.Decision.SUPPORTED, m.Decision.NOT_SUPPORTED]
    corrected = op("outcome_correct").sync(
        outcome.id, client=staff, body=m.OutcomeCorrectIn(answer="房产证将于下月20日前办结。", reason="日期写错")
    )
    assert (corrected.outcomes[1].corrects, corrected.outcomes[0].corrected_by) == (
        outcome.id,
        corrected.outcomes[1].id,
    )
    assert corrected.outcomes[0].stage == m.AnswerStage.FIRST

    op("commitment_complete").sync(
        outcome.commitments[0].id, client=staff, body=m.CommitmentCompleteIn(note="房产证已办结")
    )
    done = op("slip_close").sync(answered.slips[0].id, client=worker, body=m.SlipCloseIn(findings="群众已领到房产证"))
    assert done.status == m.PetitionStatus.ANSWERED and done.slips[0].findings == "群众已领到房产证"
    assert op("petition_close").sync(filed.reference, client=staff).status == m.PetitionStatus.CLOSED
    error_of(api, op("petition_close").sync_detailed(filed.reference, client=staff), 409, "conflict", "status")

    refused = op("petition_create").sync(client=kiosk, body=petition_in(api, published.code))
    not_accepted = op("petition_not_accept").sync(
        refused.reference, client=staff, body=m.NotAcceptIn(reason="已进入诉讼程序", redirect_to="大东区人民法院")
    )
    assert not_accepted.status == m.PetitionStatus.NOT_ACCEPTED
    assert not_accepted.acceptance.redirect_to == "大东区人民法院" and not_accepted.deadline is None
    moved = op("petition_create").sync(client=kiosk, body=petition_in(api, published.code))
    referred = op("petition_refer").sync(
        moved.reference, client=staff, body=m.ReferIn(department=other_department.code, reason="属人社局职责")
    )
    assert referred.status == m.PetitionStatus.REFERRED and referred.referrals[0].to_department.code == "renshe"
    error_of(api, op("petition_get").sync_detailed(moved.reference, client=staff), 404, "not_found", "petition")


def test_an_undeclared_answer_would_not_go_unnoticed(api, published):
    """The guard the other tests rely on: a status the document does not declare raises in the client."""
    listing = api.op("departments", "department_list")
    with pytest.raises(api.errors.UnexpectedStatus):
        listing._parse_response(client=api.public(), response=httpx.Response(404, json={"detail": "x"}))


def test_the_generated_models_carry_the_declared_enums(api):
    m = api.m
    assert {c.value for c in m.ErrorCode} >= {"not_authenticated", "csrf_failed", "slot_full", "throttled"}
    assert {c.value for c in m.CancelReasonCode} == {
        "cancelled_by_resident",
        "rescheduled",
        "slot_withdrawn",
        "referred",
        "offer_lapsed",
    }
    assert json.loads(json.dumps(m.AppointmentStatus.NO_SHOW.value)) == "no_show"
