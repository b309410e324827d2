"""A petition's lifecycle and outcomes through the REST API: reading a petition with its whole history, recording
and correcting answers, acceptance, referral, extension, closing, commitments and follow-up slips — for each kind
of caller, with every refusal in the caller's language, and never a full ID or mobile number in an answer."""

import datetime as dt
import json
import re
import zlib

import pytest
import schemathesis
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import checks

from appointments import schemas
from appointments.api import petition_out, petition_with_history
from appointments.booking import appointment_book, appointment_cancel
from appointments.models import (
    Appointment,
    Commitment,
    DueKind,
    FollowUpSlip,
    Outcome,
    OutcomeItem,
    Petition,
    Rating,
    ReviewStage,
)
from appointments.outcomes import lifecycle
from appointments.outcomes import services as outcomes
from appointments.petitions import petition_for_actor
from departments.audit import AuditEvent
from departments.models import StaffMember
from departments.services import Actor
from scheduler.models import Slot
from scheduler.wsgi import application
from tests import factories as f

pytestmark = pytest.mark.django_db

Role = StaffMember.Role
CJK = re.compile(r"[\u4e00-\u9fff]")
PHONE = "13912345678"
CSRF_SECRET = "q9W8e7R6t5Y4u3I2o1P0a9S8d7F6g5H4"


# Callers --------------------------------------------------------------------------------------------------------


class Caller:
    """Django's test client (middleware, CSRF and language included) with one caller's credentials."""

    def __init__(self, client: Client, actor: Actor | None = None, **headers: str):
        self.client, self.actor, self.headers = client, actor, headers

    def get(self, url: str, **headers: str):
        return self.client.get(url, headers={**self.headers, **headers})

    def post(self, url: str, data=None, **headers: str):
        body = data if isinstance(data, str) else json.dumps(data if data is not None else {}, ensure_ascii=True)
        return self.client.post(url, body, content_type="application/json", headers={**self.headers, **headers})


def bearer(client: Client, member: StaffMember) -> Caller:
    return Caller(client, Actor(staff=member), Authorization=f"Bearer {f.token_for(member)}")


@pytest.fixture
def staff(client, published):
    """A department staff member of the petition's department (区房产局)."""
    return bearer(client, f.staff("li_dept", Role.DEPARTMENT_STAFF, department=published))


@pytest.fixture
def admin(client, published):
    return bearer(client, f.staff("zhao_admin", Role.DEPARTMENT_ADMIN, department=published))


@pytest.fixture
def officer(client, published):
    return bearer(client, f.staff("chen_officer", Role.PETITION_OFFICER))


@pytest.fixture
def outsider(client, other_department):
    """Staff of another department (区人社局), which the petition is not for."""
    return bearer(client, f.staff("sun_renshe", Role.DEPARTMENT_STAFF, department=other_department))


@pytest.fixture
def worker(client, community):
    """The community worker of 蓝山社区, where the petition was filed."""
    return bearer(client, f.staff("zhou_lanshan", Role.COMMUNITY_WORKER, community=community))


@pytest.fixture
def other_worker(client, other_community):
    return bearer(client, f.staff("wu_fuan", Role.COMMUNITY_WORKER, community=other_community))


@pytest.fixture
def kiosk_caller(client, kiosk, kiosk_key):
    return Caller(client, kiosk, **{"X-Kiosk-Key": kiosk_key})


@pytest.fixture
def other_kiosk(client, other_kiosk_and_key):
    return Caller(client, other_kiosk_and_key[0], **{"X-Kiosk-Key": other_kiosk_and_key[1]})


@pytest.fixture
def anonymous(client):
    return Caller(client)


@pytest.fixture
def filed(kiosk, published):
    """A petition filed at the 蓝山社区 kiosk for 区房产局, with a mobile and an ID number to look out for."""
    id_number = f.valid_id_number(birth="19520614", area="210104")
    petition = f.petition(
        kiosk,
        published,
        name="刘桂芝",
        phone=PHONE,
        id_number=id_number,
        summary="回迁安置房至今未办理房产证，另请求补发拆迁补偿款差额。",
    )
    petition.id_number = id_number
    return petition


def url(petition: Petition, action: str = "") -> str:
    return f"/api/v1/petitions/{petition.reference}" + (f"/{action}" if action else "")


def in_days(days: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


def statutory(days: int, kind: str) -> dict:
    """The deadline a period of `days` days from today runs to, as the lifecycle counts it (a period ending on a
    holiday runs on to the next working day), and how far off that is."""
    today = timezone.localdate()
    due_on = lifecycle.period_end(today, days)
    assert days <= (due_on - today).days <= days + 10
    return {"due_on": due_on.isoformat(), "kind": kind, "days_left": (due_on - today).days}


def outcome_body(**changes) -> dict:
    body = {
        "answer": "经核实，您的回迁房产证材料已齐全，将于下月15日前办结；补偿款差额不予支持，理由见法律依据。",
        "legal_basis": "《国有土地上房屋征收与补偿条例》第二十五条",
        "items": [
            {"request": "办理回迁安置房房产证", "decision": "supported"},
            {"request": "补发拆迁补偿款差额", "decision": "not_supported"},
        ],
    }
    body.update(changes)
    return body


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.content.decode()
    return response.json()


def refused(response, status: int, field: str | None = None, code: str | None = None) -> dict:
    """An error in the one error body, in Chinese by default, naming the field at fault."""
    assert response.status_code == status, response.content.decode()
    body = response.json()
    assert set(body) == {"detail", "code", "field", "errors"}, body
    assert CJK.search(body["detail"]), body["detail"]  # translated, not left in English
    if field is not None:
        assert body["field"] == field, body
    if code is not None:
        assert body["code"] == code, body
    return body


def not_found_as_if_missing(response, missing) -> None:
    """The same 404 as for something that does not exist: nothing tells the caller that it does."""
    hidden, absent = refused(response, 404), refused(missing, 404)
    assert (hidden["code"], hidden["field"]) == (absent["code"], absent["field"]) == ("not_found", hidden["field"])


def state(petition: Petition) -> tuple:
    """Everything a refused request must leave as it was."""
    p = Petition.objects.get(pk=petition.pk)
    return (
        p.status,
        p.department_id,
        p.accepted_at,
        p.acceptance_decided_at,
        p.extension_days,
        p.answered_at,
        Outcome.objects.filter(petition=petition).count(),
        Commitment.objects.filter(outcome__petition=petition, done_at__isnull=True).count(),
        FollowUpSlip.objects.filter(petition=petition, closed_at__isnull=True).count(),
        AuditEvent.objects.exclude(action__endswith="_refused").count(),
    )


def record(actor: Actor, petition: Petition, *, items=None, commitments=(), slip=None) -> Outcome:
    """An answer straight through the service, for tests about what follows it."""
    data = outcomes.OutcomeIn(
        answer="经研究，您反映的问题属实，已责成街道限期整改。",
        items=items or [outcomes.ItemIn(request="整改楼道漏水", decision="supported")],
        commitments=list(commitments),
        slip=slip,
    )
    return outcomes.outcome_record(actor=actor, petition=petition, data=data)


def commitment(who: str = "大东街道城建科", days: int = 10) -> outcomes.CommitmentIn:
    return outcomes.CommitmentIn(
        responsible=who, action="维修楼道防水层", due_on=timezone.localdate() + dt.timedelta(days=days)
    )


def slip(days: int = 14) -> outcomes.SlipIn:
    return outcomes.SlipIn(to_check="回访群众，确认漏水已修好", due_on=timezone.localdate() + dt.timedelta(days=days))


# Reading a petition -----------------------------------------------------------------------------------------------


def test_a_kiosk_of_its_community_reads_the_petition_with_the_resident_numbers_masked(kiosk_caller, filed):
    body = ok(kiosk_caller.get(url(filed)))

    assert body["reference"] == filed.reference and body["status"] == "received"
    assert (body["category"], body["department"], body["community"]) == (
        "housing",
        {"code": "fangchan", "name": "区房产局"},
        {"code": "lanshan", "name": "蓝山社区"},
    )
    assert body["resident"] == {
        "name": "刘桂芝",
        "phone": "139****5678",
        "id_number": filed.id_number[:3] + "*" * 11 + filed.id_number[-4:],
    }
    assert body["acceptance"] == {"decided_at": None, "accepted_at": None, "not_accepted_reason": "", "redirect_to": ""}
    assert body["deadline"] == statutory(15, "acceptance")
    assert body["extension"] is None
    assert [body[k] for k in ("appointments", "outcomes", "slips", "ratings", "review_requests", "referrals")] == [
        [],
        [],
        [],
        [],
        [],
        [],
    ]
    raw = kiosk_caller.get(url(filed)).content.decode()
    assert PHONE not in raw and filed.id_number not in raw and filed.id_number[6:14] not in raw


def test_the_schema_itself_carries_only_masked_numbers_whatever_it_is_handed(filed, kiosk):
    answer = petition_out(petition_with_history(petition_for_actor(actor=kiosk, reference=filed.reference)))
    leaked = {**answer, "resident": {"name": "刘桂芝", "phone": PHONE, "id_number": filed.id_number}}

    for data in (answer, leaked):
        dumped = json.dumps(schemas.PetitionOut.model_validate(data).model_dump(mode="json"), ensure_ascii=False)
        assert PHONE not in dumped and filed.id_number not in dumped, dumped
    resident = schemas.PetitionOut.model_validate(leaked).resident
    assert (resident.phone, resident.id_number[-4:]) == ("139****5678", filed.id_number[-4:])


@pytest.mark.parametrize("who", ["staff", "admin", "officer", "worker"])
def test_its_department_its_community_worker_and_petition_officers_read_it(request, who, filed):
    caller = request.getfixturevalue(who)

    assert ok(caller.get(url(filed)))["reference"] == filed.reference


@pytest.mark.parametrize("who", ["outsider", "other_worker", "other_kiosk"])
def test_anyone_else_is_told_it_does_not_exist(request, who, filed):
    caller = request.getfixturevalue(who)

    not_found_as_if_missing(caller.get(url(filed)), caller.get("/api/v1/petitions/XF20260101000000"))


def test_a_caller_without_credentials_must_sign_in(anonymous, filed):
    refused(anonymous.get(url(filed)), 401, code="not_authenticated")


def test_an_odd_reference_is_simply_not_found(officer):
    for reference in ["%00", "XF" + "9" * 40, "１２３", "x%20OR%201=1", "%E2%80%AE"]:
        refused(officer.get(f"/api/v1/petitions/{reference}"), 404, "petition", "not_found")


def a_history(*, kiosk: Actor, department, other_department, officer: Actor, slots, size: int) -> Petition:
    """A petition with `size` of everything: bookings, requests, commitments, corrections; then a rating, a
    review request, an answer on review that refers it on, and an extension."""
    petition = f.petition(kiosk, department, summary=f"物业不作为，楼道漏水，已反映{size}次。")
    for slot in slots[:size]:
        booked = appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=slot.pk).appointment
        appointment_cancel(actor=kiosk, appointment_id=booked.pk, reason="临时有事")
    lifecycle.petition_accept(actor=officer, petition=petition)
    lifecycle.petition_extend(actor=officer, petition=petition, days=10, reason="需要现场勘查")
    first = record(
        officer,
        petition,
        items=[outcomes.ItemIn(request=f"第{n}项诉求", decision="explained") for n in range(size)],
        commitments=[commitment(f"责任人{n}", days=5 + n) for n in range(size)],
        slip=slip(),
    )
    latest = first
    for n in range(size):
        latest = outcomes.outcome_correct(
            actor=officer, outcome_id=latest.pk, answer=f"更正后的答复{n}", legal_basis="", reason="笔误"
        )
    for done in Commitment.objects.filter(outcome=first):
        outcomes.commitment_complete(actor=officer, commitment_id=done.pk, note="已维修完毕")
    outcomes.rating_give(actor=kiosk, petition=petition, level="dissatisfied", remark="维修质量差")
    outcomes.review_request(actor=kiosk, petition=petition, reason="要求复查")
    record(
        officer,
        Petition.objects.get(pk=petition.pk),
        items=[
            outcomes.ItemIn(request="复查维修质量", decision="explained"),
            outcomes.ItemIn(
                request="赔偿损失",
                decision="referred",
                referred_to=other_department.code,
                referral_reason="属人社局职责",
            ),
        ],
    )
    return petition


def test_a_petition_and_its_whole_history_load_in_the_same_few_queries_however_long_it_is(
    officer, kiosk, published, other_department, open_slots
):
    sizes = {}
    for size in (1, 4):
        petition = a_history(
            kiosk=kiosk,
            department=published,
            other_department=other_department,
            officer=officer.actor,
            slots=open_slots,
            size=size,
        )
        with CaptureQueriesContext(connection) as queries:
            body = ok(officer.get(url(petition)))
        sizes[size] = (len(queries), body)

    (small, small_body), (large, large_body) = sizes[1], sizes[4]
    assert small == large <= 11, (small, large)
    # The larger history really is larger: the count did not stay flat because something was left out.
    assert (len(small_body["appointments"]), len(large_body["appointments"])) == (1, 4)
    assert (len(small_body["outcomes"]), len(large_body["outcomes"])) == (3, 6)
    first = large_body["outcomes"][0]
    assert len(first["items"]) == len(first["commitments"]) == 4
    assert all(c["done_note"] == "已维修完毕" and c["done_at"] for c in first["commitments"])
    assert [o["corrects"] for o in large_body["outcomes"][1:5]] == [o["id"] for o in large_body["outcomes"][:4]]
    assert [o["corrected_by"] for o in large_body["outcomes"][:4]] == [o["id"] for o in large_body["outcomes"][1:5]]
    assert large_body["outcomes"][-1]["stage"] == "review"
    assert large_body["outcomes"][-1]["items"][1]["referred_to"] == {"code": "renshe", "name": "区人社局"}
    assert [r["level"] for r in large_body["ratings"]] == ["dissatisfied"]
    assert large_body["ratings"][0]["outcome"] == large_body["outcomes"][4]["id"]
    assert [(r["stage"], r["answered_at"] is not None) for r in large_body["review_requests"]] == [("review", True)]
    assert [(r["from_department"]["code"], r["to_department"]["code"]) for r in large_body["referrals"]] == [
        ("fangchan", "renshe")
    ]
    assert large_body["extension"] == {"days": 10, "reason": "需要现场勘查"}
    assert large_body["slips"][0]["community"]["code"] == "lanshan"
    assert (large_body["status"], large_body["department"]["code"]) == ("referred", "renshe")


# Recording an answer --------------------------------------------------------------------------------------------


def test_department_staff_record_an_answer_with_commitments_and_a_slip(staff, filed):
    body = ok(
        staff.post(
            url(filed, "outcomes"),
            outcome_body(
                commitments=[
                    {"responsible": "区房产局产权科", "action": "办结房产证并通知群众领取", "due_on": in_days(30)}
                ],
                slip={"to_check": "回访刘桂芝，确认已领到房产证", "due_on": in_days(40)},
            ),
        ),
        201,
    )

    assert body["status"] == "follow_up"
    [outcome] = body["outcomes"]
    assert outcome["stage"] == "first" and outcome["department"]["code"] == "fangchan"
    assert outcome["legal_basis"] == "《国有土地上房屋征收与补偿条例》第二十五条"
    assert [(i["request"], i["decision"], i["referred_to"]) for i in outcome["items"]] == [
        ("办理回迁安置房房产证", "supported", None),
        ("补发拆迁补偿款差额", "not_supported", None),
    ]
    assert outcome["told_at"] and outcome["corrects"] is None and outcome["corrected_by"] is None
    assert [(c["responsible"], c["due_on"], c["done_at"]) for c in outcome["commitments"]] == [
        ("区房产局产权科", in_days(30), None)
    ]
    [sent] = body["slips"]
    assert (sent["outcome"], sent["community"]["name"], sent["due_on"], sent["closed_at"]) == (
        outcome["id"],
        "蓝山社区",
        in_days(40),
        None,
    )
    # Answering accepts a petition nobody had formally accepted; no deadline runs once it is answered.
    assert body["acceptance"]["accepted_at"] and body["deadline"] is None


def test_an_answer_given_during_the_session_completes_its_appointment(staff, kiosk, filed, open_slots):
    booked = appointment_book(actor=kiosk, petition_reference=filed.reference, slot_id=open_slots[0].pk).appointment
    started = timezone.now() - dt.timedelta(minutes=10)
    Slot.objects.filter(pk=booked.slot_id).update(starts_at=started, ends_at=started + dt.timedelta(minutes=30))

    body = ok(staff.post(url(filed, "outcomes"), outcome_body()), 201)

    assert [(a["id"], a["status"]) for a in body["appointments"]] == [(booked.pk, "completed")]
    assert body["status"] == "answered"


def test_a_plain_answer_leaves_the_petition_answered(officer, filed):
    body = ok(officer.post(url(filed, "outcomes"), outcome_body(legal_basis="")), 201)

    assert body["status"] == "answered" and body["outcomes"][0]["legal_basis"] == ""


def test_an_item_referred_elsewhere_moves_the_petition_with_its_history(staff, outsider, filed):
    items = [
        {"request": "办理回迁安置房房产证", "decision": "explained"},
        {"request": "社保补缴", "decision": "referred", "referred_to": "renshe", "referral_reason": "属人社局职责"},
    ]

    body = ok(staff.post(url(filed, "outcomes"), outcome_body(items=items)), 201)

    assert (body["status"], body["department"]["code"]) == ("referred", "renshe")
    assert body["outcomes"][0]["items"][1]["referred_to"] == {"code": "renshe", "name": "区人社局"}
    assert [(r["from_department"]["code"], r["to_department"]["code"], r["reason"]) for r in body["referrals"]] == [
        ("fangchan", "renshe", "属人社局职责")
    ]
    assert ok(outsider.get(url(filed)))["outcomes"] == body["outcomes"]
    refused(staff.get(url(filed)), 404, "petition")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"answer": ""}, "answer"),
        ({"answer": "   "}, "answer"),
        ({"answer": "答复\x00"}, "answer"),
        ({"answer": "答\u202e复"}, "answer"),
        ({"answer": "长" * 4001}, "answer"),
        ({"answer": 42}, "answer"),
        ({"legal_basis": "依据\x07"}, "legal_basis"),
        ({"items": []}, "items"),
        ({"items": [{"request": "办证", "decision": "maybe"}]}, "items.0.decision"),
        ({"items": [{"request": "", "decision": "supported"}]}, "items.0.request"),
        ({"items": [{"request": "办证", "decision": "supported"}] * 21}, "items"),
        (
            {"items": [{"request": "办证", "decision": "referred", "referral_reason": "不归我局"}]},
            "items.0.referred_to",
        ),
        (
            {"items": [{"request": "办证", "decision": "referred", "referred_to": "nosuch", "referral_reason": "x"}]},
            "items.0.referred_to",
        ),
        ({"items": [{"request": "办证", "decision": "referred", "referred_to": "renshe"}]}, "items.0.referral_reason"),
        (
            {
                "items": [
                    {"request": "房产证", "decision": "supported"},
                    {"request": "办证", "decision": "referred", "referred_to": "fangchan", "referral_reason": "本局"},
                ]
            },
            "items.1.referred_to",
        ),
        ({"commitments": [{"responsible": "产权科", "action": "办证", "due_on": in_days(-1)}]}, "commitments.0.due_on"),
        (
            {"commitments": [{"responsible": "产权科", "action": "办证", "due_on": in_days(400)}]},
            "commitments.0.due_on",
        ),
        ({"commitments": [{"responsible": "产权科", "action": "办证", "due_on": "下个月"}]}, "commitments.0.due_on"),
        ({"commitments": [{"responsible": "", "action": "办证", "due_on": in_days(3)}]}, "commitments.0.responsible"),
        (
            {"commitments": [{"responsible": "产权\n科", "action": "办证", "due_on": in_days(3)}]},
            "commitments.0.responsible",
        ),
        ({"slip": {"to_check": "回访", "due_on": "2026-02-30"}}, "slip.due_on"),
        ({"slip": {"to_check": "", "due_on": in_days(3)}}, "slip.to_check"),
        ({"slip": {"due_on": in_days(3)}}, "slip.to_check"),
    ],
)
def test_a_bad_answer_is_refused_naming_the_field_and_changes_nothing(staff, other_department, filed, changes, field):
    before = state(filed)

    refused(staff.post(url(filed, "outcomes"), outcome_body(**changes)), 422, field, "invalid")

    assert state(filed) == before


def test_an_unknown_decision_is_explained_as_a_choice_in_the_callers_language(staff, filed):
    body = outcome_body(items=[{"request": "办证", "decision": "maybe"}])

    chinese = refused(staff.post(url(filed, "outcomes"), body), 422, "items.0.decision")
    english = staff.post(url(filed, "outcomes"), body, **{"Accept-Language": "en"}).json()

    assert "请从列出的选项中选择" in chinese["detail"]
    assert "Please choose one of the listed values." in english["detail"]


def test_only_its_department_or_an_officer_records_an_answer(worker, outsider, kiosk_caller, staff, filed):
    before = state(filed)

    refused(worker.post(url(filed, "outcomes"), outcome_body()), 403, code="forbidden")
    not_found_as_if_missing(
        outsider.post(url(filed, "outcomes"), outcome_body()),
        outsider.post("/api/v1/petitions/XF20260101000001/outcomes", outcome_body()),
    )
    refused(kiosk_caller.post(url(filed, "outcomes"), outcome_body()), 401, code="not_authenticated")

    assert state(filed) == before


def test_a_closed_petition_cannot_be_answered(staff, filed):
    ok(staff.post(url(filed, "outcomes"), outcome_body()), 201)
    ok(staff.post(url(filed, "close")))

    refused(staff.post(url(filed, "outcomes"), outcome_body()), 409, "status", "conflict")

    assert Outcome.objects.filter(petition=filed).count() == 1


def test_refusals_speak_the_callers_language(staff, filed):
    ok(staff.post(url(filed, "accept")))

    chinese = refused(staff.post(url(filed, "accept")), 409)
    english = staff.post(url(filed, "accept"), **{"Accept-Language": "en"}).json()

    assert english["detail"] == "This petition has already been accepted."
    assert chinese["detail"] == "该信访事项已经受理。"


# Correcting an answer -------------------------------------------------------------------------------------------


def test_a_correction_is_a_new_version_that_keeps_the_first_and_says_why(staff, filed):
    first = ok(staff.post(url(filed, "outcomes"), outcome_body()), 201)["outcomes"][0]

    body = ok(
        staff.post(
            f"/api/v1/outcomes/{first['id']}/correct",
            {"answer": "更正：房产证将于下月20日前办结。", "reason": "办结日期写错"},
        ),
        201,
    )

    old, new = body["outcomes"]
    assert (old["answer"], old["corrected_by"]) == (first["answer"], new["id"])
    assert (new["corrects"], new["correction_reason"], new["answer"]) == (
        first["id"],
        "办结日期写错",
        "更正：房产证将于下月20日前办结。",
    )
    assert new["items"] == old["items"] and new["legal_basis"] == ""
    refused(
        staff.post(f"/api/v1/outcomes/{first['id']}/correct", {"answer": "再改一次", "reason": "又错了"}),
        409,
        "outcome",
        "conflict",
    )


def test_a_correction_needs_a_reason_and_its_department(staff, worker, outsider, kiosk_caller, filed):
    outcome = record(staff.actor, filed)
    path = f"/api/v1/outcomes/{outcome.pk}/correct"
    body = {"answer": "更正后的答复", "reason": "笔误"}
    before = state(filed)

    refused(staff.post(path, {"answer": "更正后的答复"}), 422, "reason")
    refused(staff.post(path, {"answer": "更正后的答复", "reason": " "}), 422, "reason")
    refused(staff.post(path, {"answer": "", "reason": "笔误"}), 422, "answer")
    refused(worker.post(path, body), 403, code="forbidden")
    not_found_as_if_missing(outsider.post(path, body), outsider.post("/api/v1/outcomes/987654321/correct", body))
    refused(kiosk_caller.post(path, body), 401)

    assert state(filed) == before


# Accepting, not accepting, referring, extending, closing ----------------------------------------------------------


def test_accepting_starts_the_sixty_day_answer_period_once(staff, filed):
    body = ok(staff.post(url(filed, "accept")))

    assert body["status"] == "accepted" and body["acceptance"]["accepted_at"]
    assert body["deadline"] == statutory(60, "answer")
    refused(staff.post(url(filed, "accept")), 409, "status", "conflict")


@pytest.mark.parametrize("action", ["accept", "close"])
def test_lifecycle_moves_are_refused_to_the_wrong_callers(
    action, filed, worker, outsider, kiosk_caller, anonymous, other_worker
):
    before = state(filed)

    refused(worker.post(url(filed, action)), 403, code="forbidden")
    for caller in (outsider, other_worker):
        not_found_as_if_missing(caller.post(url(filed, action)), caller.post(f"/api/v1/petitions/XF1/{action}"))
    refused(kiosk_caller.post(url(filed, action)), 401)
    refused(anonymous.post(url(filed, action)), 401)

    assert state(filed) == before


def test_not_accepting_says_why_and_where_to_go(admin, filed):
    body = ok(
        admin.post(
            url(filed, "not-accept"), {"reason": "已进入诉讼程序，依法不予受理", "redirect_to": "大东区人民法院"}
        )
    )

    assert body["status"] == "not_accepted" and body["deadline"] is None
    assert body["acceptance"]["not_accepted_reason"] == "已进入诉讼程序，依法不予受理"
    assert body["acceptance"]["redirect_to"] == "大东区人民法院" and body["acceptance"]["decided_at"]
    assert body["acceptance"]["accepted_at"] is None


def test_not_accepting_needs_a_reason_and_an_undecided_petition(admin, worker, filed):
    refused(admin.post(url(filed, "not-accept"), {"reason": ""}), 422, "reason")
    refused(admin.post(url(filed, "not-accept"), {}), 422, "reason")
    refused(admin.post(url(filed, "not-accept"), {"reason": "诉讼中", "redirect_to": "法院\n民庭"}), 422, "redirect_to")
    refused(worker.post(url(filed, "not-accept"), {"reason": "诉讼中"}), 403)
    ok(admin.post(url(filed, "accept")))

    refused(admin.post(url(filed, "not-accept"), {"reason": "诉讼中"}), 409, "status")

    assert Petition.objects.get(pk=filed.pk).status == "accepted"


def test_referring_moves_the_petition_and_cancels_its_booking(staff, outsider, kiosk, filed, open_slots):
    booked = appointment_book(actor=kiosk, petition_reference=filed.reference, slot_id=open_slots[0].pk).appointment

    body = ok(staff.post(url(filed, "refer"), {"department": "renshe", "reason": "涉及社保补缴，属人社局职责"}))

    assert (body["status"], body["department"]) == ("referred", {"code": "renshe", "name": "区人社局"})
    assert [(a["id"], a["status"]) for a in body["appointments"]] == [(booked.pk, "cancelled")]
    assert Appointment.objects.get(pk=booked.pk).cancel_reason_code == "referred"
    assert ok(outsider.get(url(filed)))["referrals"][0]["reason"] == "涉及社保补缴，属人社局职责"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"department": "nosuch", "reason": "职责不符"}, "department"),
        ({"department": "fangchan", "reason": "职责不符"}, "department"),
        ({"department": "%00", "reason": "职责不符"}, "department"),
        ({"department": "renshe", "reason": ""}, "reason"),
        ({"department": "renshe"}, "reason"),
        ({"reason": "职责不符"}, "department"),
    ],
)
def test_a_bad_referral_is_refused_naming_the_field(staff, other_department, filed, body, field):
    before = state(filed)

    refused(staff.post(url(filed, "refer"), body), 422, field)

    assert state(filed) == before


def test_an_officer_extends_the_answer_period_once(officer, staff, filed):
    ok(staff.post(url(filed, "accept")))

    body = ok(officer.post(url(filed, "extend"), {"days": 30, "reason": "需调取历史档案"}))

    assert body["extension"] == {"days": 30, "reason": "需调取历史档案"}
    assert body["deadline"] == statutory(90, "answer")
    refused(officer.post(url(filed, "extend"), {"days": 5, "reason": "还要再查"}), 409, "days")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"days": 0, "reason": "需调取档案"}, "days"),
        ({"days": 31, "reason": "需调取档案"}, "days"),
        ({"days": -3, "reason": "需调取档案"}, "days"),
        ({"days": 2**70, "reason": "需调取档案"}, "days"),
        ({"days": True, "reason": "需调取档案"}, "days"),
        ({"days": "10", "reason": "需调取档案"}, "days"),
        ({"days": 7.5, "reason": "需调取档案"}, "days"),
        ({"reason": "需调取档案"}, "days"),
        ({"days": 10, "reason": ""}, "reason"),
        ({"days": 10, "reason": "档\x00案"}, "reason"),
    ],
)
def test_a_bad_extension_is_refused_naming_the_field(officer, staff, filed, body, field):
    ok(staff.post(url(filed, "accept")))
    before = state(filed)

    refused(officer.post(url(filed, "extend"), body), 422, field)

    assert state(filed) == before


def test_only_a_petition_officer_extends_and_only_an_accepted_petition(officer, staff, admin, filed):
    body = {"days": 10, "reason": "需调取档案"}
    refused(officer.post(url(filed, "extend"), body), 409, "days")  # not accepted yet
    ok(staff.post(url(filed, "accept")))

    refused(staff.post(url(filed, "extend"), body), 403, code="forbidden")
    refused(admin.post(url(filed, "extend"), body), 403, code="forbidden")

    assert Petition.objects.get(pk=filed.pk).extension_days == 0


def test_closing_an_answered_petition_is_done_once(staff, filed):
    ok(staff.post(url(filed, "outcomes"), outcome_body()), 201)

    assert ok(staff.post(url(filed, "close")))["status"] == "closed"
    refused(staff.post(url(filed, "close")), 409, "status", "conflict")


def test_a_petition_is_not_closed_before_it_is_answered_or_while_follow_up_is_open(staff, filed):
    refused(staff.post(url(filed, "close")), 409, "status")  # received: an illegal move
    record(staff.actor, filed, commitments=[commitment()])

    refused(staff.post(url(filed, "close")), 409, "status")

    assert Petition.objects.get(pk=filed.pk).status == "follow_up"


def test_a_petition_not_accepted_can_be_closed(officer, filed):
    ok(officer.post(url(filed, "not-accept"), {"reason": "不属于信访事项受理范围"}))

    assert ok(officer.post(url(filed, "close")))["status"] == "closed"


# Commitments and follow-up slips ----------------------------------------------------------------------------------


def test_keeping_the_last_commitment_ends_the_follow_up(staff, filed):
    outcome = record(staff.actor, filed, commitments=[commitment("产权科", 5), commitment("物业公司", 9)])
    first, second = Commitment.objects.filter(outcome=outcome).order_by("due_on")

    body = ok(staff.post(f"/api/v1/commitments/{first.pk}/complete", {"note": "房产证已办结"}))
    assert body["status"] == "follow_up"
    body = ok(staff.post(f"/api/v1/commitments/{second.pk}/complete", {"note": "已更换楼道水管"}))

    assert body["status"] == "answered"
    assert [(c["done_note"], bool(c["done_at"])) for c in body["outcomes"][0]["commitments"]] == [
        ("房产证已办结", True),
        ("已更换楼道水管", True),
    ]
    refused(staff.post(f"/api/v1/commitments/{second.pk}/complete", {"note": "再记一次"}), 409, "commitment")


def test_a_commitment_is_completed_only_by_its_department_with_a_note(staff, worker, outsider, kiosk_caller, filed):
    outcome = record(staff.actor, filed, commitments=[commitment()])
    path = f"/api/v1/commitments/{Commitment.objects.get(outcome=outcome).pk}/complete"
    before = state(filed)

    refused(staff.post(path, {"note": ""}), 422, "note")
    refused(staff.post(path, {"note": None}), 422, "note")
    for caller in (worker, outsider):
        not_found_as_if_missing(
            caller.post(path, {"note": "已办"}), caller.post("/api/v1/commitments/987654321/complete", {"note": "已办"})
        )
    refused(kiosk_caller.post(path, {"note": "已办"}), 401)

    assert state(filed) == before


def test_the_community_worker_closes_the_slip_with_what_they_found(worker, staff, filed):
    record(staff.actor, filed, slip=slip())
    sent = FollowUpSlip.objects.get(petition=filed)

    body = ok(worker.post(f"/api/v1/slips/{sent.pk}/close", {"findings": "已上门回访，群众表示问题已解决"}))

    assert body["status"] == "answered"
    assert [(s["findings"], bool(s["closed_at"])) for s in body["slips"]] == [("已上门回访，群众表示问题已解决", True)]
    refused(worker.post(f"/api/v1/slips/{sent.pk}/close", {"findings": "再次回访"}), 409, "slip", "conflict")


def test_a_slip_is_closed_only_by_its_community_or_an_officer(
    worker, other_worker, staff, officer, kiosk_caller, filed
):
    record(staff.actor, filed, slip=slip())
    path = f"/api/v1/slips/{FollowUpSlip.objects.get(petition=filed).pk}/close"
    before = state(filed)

    refused(worker.post(path, {"findings": " \u200b "}), 422, "findings")
    refused(worker.post(path, {}), 422, "findings")
    for caller in (staff, other_worker):
        not_found_as_if_missing(
            caller.post(path, {"findings": "已回访"}),
            caller.post("/api/v1/slips/987654321/close", {"findings": "已回访"}),
        )
    refused(kiosk_caller.post(path, {"findings": "已回访"}), 401)
    assert state(filed) == before

    assert ok(officer.post(path, {"findings": "电话回访，问题已解决"}))["slips"][0]["closed_at"]


# Hostile values ---------------------------------------------------------------------------------------------------

HOSTILE = [
    "",
    " ",
    "x" * 10_000,
    "\x00",
    "原因\x00",
    "\u202e因原",
    "\u200b\u200d\ufeff\u2060",
    "\ud800",
    None,
    12,
    [],
    {},
]
HOSTILE_IDS = ["0", "-1", str(2**63), str(2**70), "abc", "３", "%00", "1%20OR%201=1"]


def optional(make):
    make.optional = True
    return make


def test_hostile_values_in_every_field_are_refused_and_change_nothing(officer, filed, kiosk, published, settings):
    settings.API_THROTTLE_CALLER = ""  # hundreds of requests from one caller
    accepted = f.petition(kiosk, published)
    lifecycle.petition_accept(actor=officer.actor, petition=accepted)
    following = f.petition(kiosk, published)
    answer = record(officer.actor, following, commitments=[commitment()], slip=slip())
    kept, sent = Commitment.objects.get(outcome=answer), FollowUpSlip.objects.get(outcome=answer)
    due = in_days(9)
    bodies = {
        url(filed, "outcomes"): [
            lambda v: outcome_body(answer=v),
            optional(lambda v: outcome_body(legal_basis=v)),
            lambda v: outcome_body(items=[{"request": v, "decision": "supported"}]),
            lambda v: outcome_body(items=[{"request": "办证", "decision": v}]),
            lambda v: outcome_body(
                items=[{"request": "办证", "decision": "referred", "referred_to": v, "referral_reason": "职责"}]
            ),
            lambda v: outcome_body(
                items=[{"request": "办证", "decision": "referred", "referred_to": "renshe", "referral_reason": v}]
            ),
            lambda v: outcome_body(commitments=[{"responsible": v, "action": "办证", "due_on": due}]),
            lambda v: outcome_body(commitments=[{"responsible": "产权科", "action": v, "due_on": due}]),
            lambda v: outcome_body(commitments=[{"responsible": "产权科", "action": "办证", "due_on": v}]),
            lambda v: outcome_body(slip={"to_check": v, "due_on": due}),
            lambda v: outcome_body(slip={"to_check": "回访", "due_on": v}),
            lambda v: outcome_body(items=v),
        ],
        f"/api/v1/outcomes/{answer.pk}/correct": [
            lambda v: {"answer": v, "reason": "笔误"},
            optional(lambda v: {"answer": "更正", "legal_basis": v, "reason": "笔误"}),
            lambda v: {"answer": "更正", "reason": v},
        ],
        url(filed, "not-accept"): [lambda v: {"reason": v}, optional(lambda v: {"reason": "诉讼中", "redirect_to": v})],
        url(filed, "refer"): [
            lambda v: {"department": v, "reason": "职责"},
            lambda v: {"department": "renshe", "reason": v},
        ],
        url(accepted, "extend"): [lambda v: {"days": 10, "reason": v}],
        f"/api/v1/commitments/{kept.pk}/complete": [lambda v: {"note": v}],
        f"/api/v1/slips/{sent.pk}/close": [lambda v: {"findings": v}],
    }
    before = [state(p) for p in (filed, accepted, following)]

    for path, makers in bodies.items():
        for make in makers:
            for value in HOSTILE:
                if getattr(make, "optional", False) and value in ("", " "):
                    continue  # an optional text may be left empty
                response = officer.post(path, make(value))
                assert 400 <= response.status_code < 500, (path, repr(value)[:40], response.content[:200])
                assert response.json()["detail"], (path, repr(value)[:40])
    for days in [0, -1, 31, 2**63, 2**70, "10", "３", "", None, 1.5, True, [], {}]:
        refused(officer.post(url(accepted, "extend"), {"days": days, "reason": "调档"}), 422, "days")
    for value in HOSTILE_IDS:
        for path in (
            f"/api/v1/outcomes/{value}/correct",
            f"/api/v1/commitments/{value}/complete",
            f"/api/v1/slips/{value}/close",
            f"/api/v1/petitions/{value}/close",
        ):
            response = officer.post(path, {"answer": "更正", "reason": "笔误", "note": "已办", "findings": "已回访"})
            assert response.status_code in (404, 422), (path, response.content[:200])
        assert officer.get(f"/api/v1/petitions/{value}").status_code == 404

    assert [state(p) for p in (filed, accepted, following)] == before


# A staff member's signed-in session -------------------------------------------------------------------------------


def test_a_signed_in_session_works_with_its_csrf_token_and_is_refused_without(published, filed):
    member = f.staff("ma_session", Role.DEPARTMENT_STAFF, department=published)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(member.user)
    assert ok(browser.get(url(filed)))["reference"] == filed.reference

    refused(browser.post(url(filed, "accept")), 403, code="csrf_failed")
    assert Petition.objects.get(pk=filed.pk).status == "received"

    browser.cookies["csrftoken"] = CSRF_SECRET
    assert ok(browser.post(url(filed, "accept"), headers={"X-CSRFToken": CSRF_SECRET}))["status"] == "accepted"


# The contract -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def document():
    return Client().get("/api/openapi.json").json()


@pytest.mark.parametrize(
    ("schema", "choices"),
    [
        ("DueKind", DueKind.values),
        ("AnswerStage", ReviewStage.values),
        ("ReviewStage", set(ReviewStage.values) - {"first"}),
        ("Decision", OutcomeItem.Decision.values),
        ("SatisfactionLevel", Rating.Level.values),
    ],
)
def test_the_lifecycle_enums_have_exactly_the_models_values(document, schema, choices):
    assert set(document["components"]["schemas"][schema]["enum"]) == set(choices)


def test_the_petition_operations_declare_their_limits(document):
    paths = document["paths"]
    extend = paths["/api/v1/petitions/{reference}/extend"]["post"]
    ref = extend["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    days = document["components"]["schemas"][ref]["properties"]["days"]
    outcome = document["components"]["schemas"]["OutcomeIn"]["properties"]

    assert (days["minimum"], days["maximum"]) == (1, 30)
    assert (outcome["items"]["minItems"], outcome["items"]["maxItems"]) == (1, 20)
    assert outcome["answer"]["maxLength"] == 4000
    reference = next(p for p in paths["/api/v1/petitions/{reference}"]["get"]["parameters"])
    assert re.fullmatch(reference["schema"]["pattern"], "XF20261130004711")
    assert set(paths["/api/v1/petitions/{reference}/outcomes"]["post"]["responses"]) >= {
        "201",
        "400",
        "401",
        "403",
        "404",
        "409",
        "413",
        "422",
    }


# Fuzzing the lifecycle operations, steered at records that exist ---------------------------------------------------

schema = (
    schemathesis.openapi.from_wsgi("/api/openapi.json", application)
    .include(tag="petitions")
    .exclude(operation_id="petition_create")
)
CONFORMANCE = [
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
FUZZ_ROLES = ["kiosk", Role.DEPARTMENT_STAFF, Role.PETITION_OFFICER, Role.COMMUNITY_WORKER]


@pytest.fixture
def keep_connection_open():
    """Calling the WSGI app directly would close the test's connection after each request; keep it open."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(keep_connection_open, settings, published, other_department, community, kiosk, kiosk_key):
    """A petition in each state worth aiming at, with answers, commitments and a slip; each role's credentials."""
    settings.API_THROTTLE_ANONYMOUS = ""
    settings.API_THROTTLE_CALLER = ""
    members = {
        Role.DEPARTMENT_STAFF: f.staff("fz_staff", Role.DEPARTMENT_STAFF, department=published),
        Role.PETITION_OFFICER: f.staff("fz_officer", Role.PETITION_OFFICER),
        Role.COMMUNITY_WORKER: f.staff("fz_worker", Role.COMMUNITY_WORKER, community=community),
    }
    officer_actor = Actor(staff=members[Role.PETITION_OFFICER])
    received = f.petition(kiosk, published)
    accepted = f.petition(kiosk, published)
    lifecycle.petition_accept(actor=officer_actor, petition=accepted)
    following = f.petition(kiosk, published)
    answer = record(officer_actor, following, commitments=[commitment()], slip=slip())
    headers = {"kiosk": {"X-Kiosk-Key": kiosk_key}}
    headers.update({role: {"Authorization": f"Bearer {f.token_for(m)}"} for role, m in members.items()})
    return {
        "reference": [received.reference, accepted.reference, following.reference],
        "outcome_id": [answer.pk],
        "commitment_id": list(Commitment.objects.filter(outcome=answer).values_list("pk", flat=True)),
        "slip_id": list(FollowUpSlip.objects.filter(outcome=answer).values_list("pk", flat=True)),
        "headers": headers,
    }


@pytest.mark.parametrize("role", FUZZ_ROLES)
@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_generated_lifecycle_request_gets_a_server_error_or_an_undeclared_answer(case, world, role):
    for name, value in list((case.path_parameters or {}).items()):
        pick = zlib.crc32(str(value).encode("utf-8", "surrogatepass"))
        if name in world and pick % 4:  # three times in four, at a record that exists
            case.path_parameters[name] = world[name][pick // 4 % len(world[name])]

    response = case.call(headers=world["headers"][role])

    assert response.status_code < 500, (role, case.method, case.path, case.path_parameters, case.body, response.text)
    # The answer, error or not, is one the document declares: its status, media type, body and headers.
    case.validate_response(response, checks=CONFORMANCE)
