"""The REST API through Django's own test client, so that middleware, CSRF and language all apply."""

import datetime as dt
import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from appointments.models import Appointment, Petition
from departments.models import StaffMember
from scheduler.models import ScheduleWeek, Slot
from scheduler.publishing import week_publish
from tests import factories as f

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")


def error(response, status: int, field: str | None = None) -> dict:
    """Assert an error response: the status, a JSON body with a non-empty detail, and the field named."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert isinstance(body.get("detail"), str) and body["detail"].strip(), body
    if field is not None:
        assert body.get("field") == field, body
    return body


def post(client, url, data=None, **headers):
    body = data if isinstance(data, str | bytes) else json.dumps(data if data is not None else {})
    return client.post(url, body, content_type="application/json", headers=headers)


def publish_week_of(department, day: dt.date) -> None:
    year, week, _ = day.isocalendar()
    week_publish(department=department, iso_year=year, iso_week=week, confirm_provisional_holidays=True)


def petition_body(department_code: str = "fangchan", **changes) -> dict:
    body = {
        "resident": {"name": "王秀兰", "phone": "13840012345", "id_number": f.valid_id_number()},
        "category": "housing",
        "summary": "回迁房的房产证一直办不下来。",
        "department": department_code,
    }
    for key, value in changes.items():
        if key.startswith("resident_"):
            body["resident"][key.removeprefix("resident_")] = value
        else:
            body[key] = value
    return body


@pytest.fixture
def kiosk_headers(kiosk_key):
    return {"X-Kiosk-Key": kiosk_key}


@pytest.fixture
def booked(client, kiosk_headers, petition, open_slots):
    response = post(
        client, "/api/v1/appointments", {"petition": petition.reference, "slot": open_slots[0].pk}, **kiosk_headers
    )
    assert response.status_code == 201, response.content
    return response.json()


# Departments and slots


def test_it_lists_the_active_departments(client, department, other_department):
    other_department.is_active = False
    other_department.save()

    response = client.get("/api/v1/departments")

    assert response.status_code == 200
    assert [d["code"] for d in response.json()] == [department.code]
    assert response.json()[0] == {"code": "fangchan", "name": "区房产局", "kind": "functional", "description": ""}


def test_it_lists_open_slots_with_remaining_seats(client, published, open_slots, kiosk, petition):
    from appointments.booking import appointment_book

    appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=open_slots[0].pk)

    response = client.get(f"/api/v1/departments/{published.code}/slots")

    assert response.status_code == 200
    slots = response.json()
    assert slots[0]["id"] == open_slots[0].pk
    assert (slots[0]["capacity"], slots[0]["remaining"]) == (2, 1)
    assert set(slots[0]) == {"id", "starts_at", "ends_at", "capacity", "remaining"}
    starts = dt.datetime.fromisoformat(slots[0]["starts_at"])
    assert starts == open_slots[0].starts_at and starts.tzinfo is not None


def test_it_filters_slots_by_from_and_to(client, published, open_slots):
    day = timezone.localtime(open_slots[-1].starts_at).date()

    response = client.get(f"/api/v1/departments/{published.code}/slots", {"from": day, "to": day})

    assert response.status_code == 200
    days = {timezone.localtime(dt.datetime.fromisoformat(s["starts_at"])).date() for s in response.json()}
    assert days == {day}
    assert len(response.json()) == 4


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"to": "tomorrow"}, "to"),
        ({"from": "2026-03-10", "to": "2026-03-09"}, "to"),
        ({"from": "2026-01-01", "to": "2026-12-31"}, "to"),
    ],
)
def test_it_rejects_bad_slot_dates(client, published, query, field):
    error(client.get(f"/api/v1/departments/{published.code}/slots", query), 422, field)


@pytest.mark.parametrize(
    ("query", "everything"),
    [
        ({"from": "9999-12-31", "to": "9999-12-31"}, False),
        ({"to": "9999-12-31"}, True),
        ({"from": "0001-01-01", "to": "0001-01-02"}, False),
        ({"from": "0001-01-01"}, True),
    ],
)
def test_extreme_slot_dates_never_cause_a_500(client, published, open_slots, query, everything):
    response = client.get(f"/api/v1/departments/{published.code}/slots", query)

    assert response.status_code == 200, response.content
    assert [s["id"] for s in response.json()] == ([s.pk for s in open_slots] if everything else [])


def test_it_says_404_for_slots_of_an_unknown_department(client, db):
    error(client.get("/api/v1/departments/nosuch/slots"), 404, "department")


# Publishing


# A week that has not ended yet, in a year whose holidays the tests treat as announced.
YEAR = timezone.localdate().year + 1
WEEK = f"{YEAR}-W10"
PUBLISH = f"/api/v1/departments/fangchan/weeks/{WEEK}/publish"


@pytest.fixture
def rules(department, settings):
    settings.HOLIDAY_CONFIRMED_YEARS = [YEAR]
    f.weekday_rules(department)
    return department


def signed_in(member: StaffMember) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def test_a_department_admin_publishes_a_week(rules, dept_admin):
    response = signed_in(dept_admin.staff).post(PUBLISH)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {
        "department": "fangchan",
        "week": WEEK,
        "status": "published",
        "created": 20,
        "updated": 0,
        "removed": 0,
        "kept_booked": [],
        "provisional_years": [],
    }
    assert signed_in(dept_admin.staff).post(PUBLISH).json()["created"] == 0


def test_a_petition_officer_publishes_any_departments_week(rules, officer):
    assert signed_in(officer.staff).post(PUBLISH).status_code == 200
    assert ScheduleWeek.objects.get(department=rules).published_by == officer.staff.user


@pytest.mark.parametrize("who", ["outsider", "dept_staff"])
def test_other_staff_may_not_publish(request, rules, who):
    actor = request.getfixturevalue(who)

    error(signed_in(actor.staff).post(PUBLISH), 403)
    assert not ScheduleWeek.objects.exists()


def test_a_community_worker_may_not_publish(rules, community):
    worker = f.staff("worker", StaffMember.Role.COMMUNITY_WORKER, community=community)

    error(signed_in(worker).post(PUBLISH), 403)


def test_a_kiosk_may_not_publish(client, rules, kiosk_key):
    response = client.post(PUBLISH, headers={"X-Kiosk-Key": kiosk_key})

    # A kiosk key is no credential for staff operations: not signed in, as far as they are concerned.
    assert error(response, 401)["code"] == "not_authenticated"
    assert not ScheduleWeek.objects.exists()


def test_publishing_needs_a_signed_in_caller(client, rules):
    error(client.post(PUBLISH), 401)
    assert not ScheduleWeek.objects.exists()


def test_a_session_caller_must_send_the_csrf_token(rules, dept_admin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(dept_admin.staff.user)

    response = client.post(PUBLISH)

    assert error(response, 403)["code"] == "csrf_failed"
    assert not ScheduleWeek.objects.exists()


@pytest.mark.parametrize("week", ["2026-W54", "abc", "2026-W00"])
def test_publishing_rejects_a_week_that_does_not_exist(rules, dept_admin, week):
    response = signed_in(dept_admin.staff).post(f"/api/v1/departments/fangchan/weeks/{week}/publish")

    error(response, 422, "week")


def test_publishing_an_unknown_department_is_404(rules, officer):
    error(signed_in(officer.staff).post(f"/api/v1/departments/nosuch/weeks/{WEEK}/publish"), 404)


def test_publishing_into_an_unannounced_year_needs_confirmation(rules, dept_admin):
    client = signed_in(dept_admin.staff)
    url = f"/api/v1/departments/fangchan/weeks/{YEAR + 1}-W10/publish"

    error(client.post(url), 409, "confirm_provisional_holidays")
    response = client.post(url + "?confirm_provisional_holidays=true")

    assert response.status_code == 200
    assert response.json()["provisional_years"] == [YEAR + 1]


# Petitions


def test_a_kiosk_files_a_petition(client, kiosk_headers, department):
    response = post(client, "/api/v1/petitions", petition_body(), **kiosk_headers)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "received" and body["department"] == "fangchan" and body["category"] == "housing"
    assert re.fullmatch(r"\d{8}", body["query_code"])
    assert Petition.objects.get(reference=body["reference"]).community.code == "lanshan"
    given = petition_body()["resident"]
    assert body["resident"]["name"] == "王秀兰" and body["resident"]["phone"] == "138****2345"
    assert re.fullmatch(r"\d{3}\*{11}[\dX]{4}", body["resident"]["id_number"])
    assert given["phone"] not in json.dumps(body)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"resident_id_number": "210100194703150026"}, "resident.id_number"),
        ({"resident_id_number": "210100195002300011"}, "resident.id_number"),
        ({"resident_id_number": "12345"}, "resident.id_number"),
        ({"resident_id_number": 210100194703150025}, "resident.id_number"),
        ({"resident_phone": "1384001234"}, "resident.phone"),
        ({"resident_phone": "024-8888-8888"}, "resident.phone"),
        ({"resident_name": "   "}, "resident.name"),
        ({"resident_name": "王" * 51}, "resident.name"),
        ({"category": "astrology"}, "category"),
        ({"category": None}, "category"),
        ({"summary": "太短"}, "summary"),
        ({"summary": "长" * 2001}, "summary"),
        ({"summary": ["a list"]}, "summary"),
    ],
)
def test_it_rejects_each_bad_petition_input_naming_the_field(client, kiosk_headers, department, changes, field):
    response = post(client, "/api/v1/petitions", petition_body(**changes), **kiosk_headers)

    error(response, 422, field)
    assert not Petition.objects.exists()


def test_it_names_a_missing_field(client, kiosk_headers, department):
    body = petition_body()
    del body["resident"]["id_number"]

    error(post(client, "/api/v1/petitions", body, **kiosk_headers), 422, "resident.id_number")


def test_a_petition_for_an_unknown_department_names_the_field(client, kiosk_headers, department):
    response = post(client, "/api/v1/petitions", petition_body("nosuch"), **kiosk_headers)

    error(response, 422, "department")
    assert not Petition.objects.exists()


def test_filing_a_petition_needs_a_kiosk_or_staff(client, department):
    error(post(client, "/api/v1/petitions", petition_body()), 401)
    error(post(client, "/api/v1/petitions", petition_body(), **{"X-Kiosk-Key": "kiosk_forged"}), 401)


# Appointments


def test_a_kiosk_books_an_appointment(booked, petition, open_slots):
    assert booked["status"] == "booked"
    assert booked["petition"] == petition.reference
    assert booked["slot"]["id"] == open_slots[0].pk
    assert booked["seat"] == 1
    assert booked["department"] == {"code": "fangchan", "name": "区房产局"}
    assert booked["community"] == "蓝山社区"


def test_booking_a_full_slot_is_409(client, kiosk, kiosk_headers, published, open_slots):
    slot = open_slots[0]
    for _ in range(slot.capacity):
        other = f.petition(kiosk, published)
        taken = post(client, "/api/v1/appointments", {"petition": other.reference, "slot": slot.pk}, **kiosk_headers)
        assert taken.status_code == 201, taken.content
    late = f.petition(kiosk, published)

    response = post(client, "/api/v1/appointments", {"petition": late.reference, "slot": slot.pk}, **kiosk_headers)

    error(response, 409, "slot")
    assert Appointment.objects.filter(slot=slot).count() == slot.capacity


def test_booking_a_slot_in_the_past_is_422(client, kiosk_headers, published, petition):
    for weeks_ago in (1, 2):  # two weeks, in case one was all holidays
        publish_week_of(published, timezone.localdate() - dt.timedelta(days=7 * weeks_ago))
    past = Slot.objects.filter(department=published, starts_at__lt=timezone.now()).first()

    response = post(client, "/api/v1/appointments", {"petition": petition.reference, "slot": past.pk}, **kiosk_headers)

    error(response, 422, "slot")


def test_booking_a_slot_beyond_the_window_is_422(client, kiosk_headers, published, petition):
    for days in (21, 28):  # two weeks, in case one is all holidays
        publish_week_of(published, timezone.localdate() + dt.timedelta(days=days))
    far = Slot.objects.filter(department=published).order_by("-starts_at").first()
    assert far.starts_at > timezone.now() + dt.timedelta(days=14)

    response = post(client, "/api/v1/appointments", {"petition": petition.reference, "slot": far.pk}, **kiosk_headers)

    error(response, 422, "slot")


def test_booking_a_slot_of_an_unpublished_week_is_refused(client, kiosk_headers, petition, open_slots):
    ScheduleWeek.objects.filter(pk=open_slots[0].week_id).update(status=ScheduleWeek.Status.DRAFT)

    response = post(
        client, "/api/v1/appointments", {"petition": petition.reference, "slot": open_slots[0].pk}, **kiosk_headers
    )

    error(response, 409, "slot")
    assert not Appointment.objects.exists()


def test_booking_an_unknown_petition_is_404(client, kiosk_headers, open_slots):
    response = post(
        client, "/api/v1/appointments", {"petition": "XF00000000000000", "slot": open_slots[0].pk}, **kiosk_headers
    )

    error(response, 404, "petition")


def test_booking_an_unknown_slot_is_404(client, kiosk_headers, petition):
    error(
        post(client, "/api/v1/appointments", {"petition": petition.reference, "slot": 99999}, **kiosk_headers),
        404,
        "slot",
    )


@pytest.mark.parametrize("slot", [0, -5, 2**63 - 1, 2**63, 10**23])
def test_booking_or_moving_to_an_out_of_range_slot_is_404(client, kiosk, kiosk_headers, published, booked, slot):
    other = f.petition(kiosk, published)

    book = post(client, "/api/v1/appointments", {"petition": other.reference, "slot": slot}, **kiosk_headers)
    move = post(client, f"/api/v1/appointments/{booked['id']}/reschedule", {"slot": slot}, **kiosk_headers)

    error(book, 404, "slot")
    error(move, 404, "slot")


def test_a_second_active_appointment_for_the_same_petition_is_409(client, kiosk_headers, booked, petition, open_slots):
    response = post(
        client, "/api/v1/appointments", {"petition": petition.reference, "slot": open_slots[1].pk}, **kiosk_headers
    )

    error(response, 409, "petition")
    assert Appointment.objects.filter(petition=petition).count() == 1


def test_another_communitys_kiosk_cannot_book_the_petition(client, other_kiosk_and_key, petition, open_slots):
    response = post(
        client,
        "/api/v1/appointments",
        {"petition": petition.reference, "slot": open_slots[0].pk},
        **{"X-Kiosk-Key": other_kiosk_and_key[1]},
    )

    error(response, 404, "petition")


def test_a_retry_with_the_same_idempotency_key_returns_the_same_appointment(
    client, kiosk_headers, petition, open_slots
):
    body = {"petition": petition.reference, "slot": open_slots[0].pk}

    first = post(client, "/api/v1/appointments", body, **kiosk_headers, **{"Idempotency-Key": "tap-1"})
    retry = post(client, "/api/v1/appointments", body, **kiosk_headers, **{"Idempotency-Key": "tap-1"})

    assert first.status_code == 201 and retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"]
    assert retry["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Appointment.objects.count() == 1


def test_the_same_idempotency_key_with_a_different_body_is_422(client, kiosk_headers, petition, open_slots):
    post(
        client,
        "/api/v1/appointments",
        {"petition": petition.reference, "slot": open_slots[0].pk},
        **kiosk_headers,
        **{"Idempotency-Key": "tap-2"},
    )

    response = post(
        client,
        "/api/v1/appointments",
        {"petition": petition.reference, "slot": open_slots[1].pk},
        **kiosk_headers,
        **{"Idempotency-Key": "tap-2"},
    )

    error(response, 422, "Idempotency-Key")
    assert Appointment.objects.count() == 1


def test_it_shows_an_appointment_to_its_kiosk_and_hides_it_from_another(
    client, kiosk_headers, other_kiosk_and_key, booked
):
    url = f"/api/v1/appointments/{booked['id']}"

    mine = client.get(url, headers=kiosk_headers)
    theirs = client.get(url, headers={"X-Kiosk-Key": other_kiosk_and_key[1]})

    assert mine.status_code == 200 and mine.json() == booked
    error(theirs, 404, "appointment")
    error(client.get(url), 401)


def test_a_kiosk_cancels_an_appointment(client, kiosk_headers, booked, petition):
    response = post(client, f"/api/v1/appointments/{booked['id']}/cancel", {"reason": "身体不适"}, **kiosk_headers)

    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["cancel_reason"]) == ("cancelled", "身体不适")
    petition.refresh_from_db()
    assert petition.status == Petition.Status.RECEIVED
    error(post(client, f"/api/v1/appointments/{booked['id']}/cancel", {}, **kiosk_headers), 409, "appointment")


def test_cancelling_without_a_body_works(client, kiosk_headers, booked):
    response = client.post(
        f"/api/v1/appointments/{booked['id']}/cancel", content_type="application/json", headers=kiosk_headers
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"


def test_a_kiosk_reschedules_an_appointment(client, kiosk_headers, booked, open_slots):
    response = post(
        client, f"/api/v1/appointments/{booked['id']}/reschedule", {"slot": open_slots[2].pk}, **kiosk_headers
    )

    assert response.status_code == 200, response.content
    moved = response.json()
    assert moved["slot"]["id"] == open_slots[2].pk
    assert moved["rescheduled_from"] == booked["id"]
    assert client.get(f"/api/v1/appointments/{booked['id']}", headers=kiosk_headers).json()["status"] == "cancelled"


def test_a_reschedule_into_a_full_slot_is_409_and_keeps_the_booking(
    client, kiosk, kiosk_headers, published, booked, open_slots
):
    full = open_slots[3]
    for _ in range(full.capacity):
        other = f.petition(kiosk, published)
        taken = post(client, "/api/v1/appointments", {"petition": other.reference, "slot": full.pk}, **kiosk_headers)
        assert taken.status_code == 201, taken.content

    response = post(client, f"/api/v1/appointments/{booked['id']}/reschedule", {"slot": full.pk}, **kiosk_headers)

    error(response, 409, "slot")
    assert client.get(f"/api/v1/appointments/{booked['id']}", headers=kiosk_headers).json()["status"] == "booked"


def test_department_staff_see_their_departments_appointments_and_others_do_not(client, booked, dept_staff, outsider):
    url = f"/api/v1/appointments/{booked['id']}"

    assert signed_in(dept_staff.staff).get(url).json()["id"] == booked["id"]
    error(signed_in(outsider.staff).get(url), 404, "appointment")


def test_a_staff_bearer_token_reads_an_appointment(client, booked, officer):
    token = f.token_for(officer.staff)

    response = client.get(f"/api/v1/appointments/{booked['id']}", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200 and response.json()["id"] == booked["id"]


def test_rescheduling_an_unknown_appointment_is_404(client, kiosk_headers, open_slots):
    response = post(client, "/api/v1/appointments/999999/reschedule", {"slot": open_slots[0].pk}, **kiosk_headers)

    error(response, 404, "appointment")


def test_rescheduling_needs_a_slot(client, kiosk_headers, booked):
    error(post(client, f"/api/v1/appointments/{booked['id']}/reschedule", {}, **kiosk_headers), 422, "slot")
    error(
        post(client, f"/api/v1/appointments/{booked['id']}/reschedule", {"slot": "soon"}, **kiosk_headers), 422, "slot"
    )


def test_rescheduling_into_another_departments_time_is_422(client, kiosk_headers, booked, other_department):
    f.weekday_rules(other_department)
    f.publish_next_weeks(other_department)
    theirs = Slot.objects.filter(department=other_department, starts_at__gt=timezone.now() + dt.timedelta(days=1))
    response = post(
        client, f"/api/v1/appointments/{booked['id']}/reschedule", {"slot": theirs.first().pk}, **kiosk_headers
    )

    error(response, 422, "slot")


def test_a_cancel_reason_is_kept_to_200_characters(client, kiosk_headers, booked):
    response = post(client, f"/api/v1/appointments/{booked['id']}/cancel", {"reason": "x" * 201}, **kiosk_headers)

    error(response, 422, "reason")


# Errors: language, shape, and no 500s


@pytest.mark.parametrize("accept", [None, "zh-CN,zh;q=0.9", "zh-Hans", "fr"])
def test_errors_are_in_chinese_by_default(client, db, accept):
    headers = {"Accept-Language": accept} if accept else {}
    response = client.get("/api/v1/departments/nosuch/slots", headers=headers)

    body = error(response, 404)
    assert response["Content-Language"] == "zh-hans"
    assert CJK.search(body["detail"]), body


@pytest.mark.parametrize("accept", ["en", "en-US,en;q=0.9", "en-GB, zh;q=0.1"])
def test_errors_are_in_english_when_asked(client, db, accept):
    chinese = error(client.get("/api/v1/departments/nosuch/slots"), 404)["detail"]

    response = client.get("/api/v1/departments/nosuch/slots", headers={"Accept-Language": accept})

    body = error(response, 404)
    assert response["Content-Language"] == "en"
    assert body["detail"] == "There is no department with code 'nosuch'."
    assert body["detail"] != chinese


def test_validation_errors_follow_the_language_too(client, kiosk_headers, department):
    body = petition_body()
    del body["summary"]

    chinese = error(post(client, "/api/v1/petitions", body, **kiosk_headers), 422, "summary")
    english = error(
        post(client, "/api/v1/petitions", body, **kiosk_headers, **{"Accept-Language": "en"}), 422, "summary"
    )

    assert english["detail"] == "summary: This field is required."
    assert CJK.search(chinese["detail"]), chinese


def test_a_domain_error_in_english_names_the_problem(client, kiosk_headers, department):
    response = post(
        client,
        "/api/v1/petitions",
        petition_body(resident_phone="024-8888-8888"),
        **kiosk_headers,
        **{"Accept-Language": "en"},
    )

    assert error(response, 422, "resident.phone")["detail"] == "Please enter an 11-digit mobile number."


def test_every_kind_of_error_speaks_chinese_by_default(client, kiosk, kiosk_headers, published, petition, open_slots):
    full = open_slots[1]
    for _ in range(full.capacity):
        taken = post(
            client,
            "/api/v1/appointments",
            {"petition": f.petition(kiosk, published).reference, "slot": full.pk},
            **kiosk_headers,
        )
        assert taken.status_code == 201
    for weeks_ago in (1, 2):
        publish_week_of(published, timezone.localdate() - dt.timedelta(days=7 * weeks_ago))
    past = Slot.objects.filter(department=published, starts_at__lt=timezone.now()).first()
    book = "/api/v1/appointments"
    responses = {
        "unknown department": client.get("/api/v1/departments/nosuch/slots"),
        "bad date": client.get(f"/api/v1/departments/{published.code}/slots", {"from": "2026-13-01"}),
        "to before from": client.get(
            f"/api/v1/departments/{published.code}/slots", {"from": "2026-03-10", "to": "2026-03-09"}
        ),
        "not signed in": client.post(PUBLISH),
        "bad week": signed_in(f.staff("o", StaffMember.Role.PETITION_OFFICER)).post(
            f"/api/v1/departments/{published.code}/weeks/2026-W54/publish"
        ),
        "forbidden": signed_in(f.staff("s", StaffMember.Role.DEPARTMENT_STAFF, department=published)).post(
            f"/api/v1/departments/{published.code}/weeks/{WEEK}/publish"
        ),
        "bad id number": post(
            client, "/api/v1/petitions", petition_body(resident_id_number="210100194703150026"), **kiosk_headers
        ),
        "bad phone": post(client, "/api/v1/petitions", petition_body(resident_phone="123"), **kiosk_headers),
        "missing field": post(client, "/api/v1/petitions", {"resident": {}}, **kiosk_headers),
        "not json": client.post(book, "{", content_type="application/json", headers=kiosk_headers),
        "too large": post(client, "/api/v1/petitions", petition_body(summary="长" * 1_000_000), **kiosk_headers),
        "full": post(client, book, {"petition": petition.reference, "slot": full.pk}, **kiosk_headers),
        "past": post(client, book, {"petition": petition.reference, "slot": past.pk}, **kiosk_headers),
        "unknown petition": post(client, book, {"petition": "XF0", "slot": full.pk}, **kiosk_headers),
        "unknown appointment": client.get("/api/v1/appointments/999999", headers=kiosk_headers),
    }
    untranslated = {}
    for name, response in responses.items():
        assert response.status_code >= 400, name
        detail = error(response, response.status_code)["detail"]
        if not CJK.search(detail):
            untranslated[name] = detail
    assert untranslated == {}


NASTY_BODIES = [
    "",
    "{",
    "null",
    "[]",
    '"text"',
    "123",
    '{"petition": null, "slot": null}',
    '{"petition": "XF1", "slot": "abc"}',
    '{"petition": "XF1", "slot": 1.5}',
    '{"petition": "XF1", "slot": true}',
    '{"petition": "XF1", "slot": -1}',
    '{"petition": "XF1", "slot": 0}',
    '{"petition": "XF1", "slot": 99999999999999999999999}',
    '{"petition": "XF1", "slot": 9223372036854775807}',
    '{"petition": "XF1", "slot": 1e400}',
    '{"petition": {"a": 1}, "slot": 1}',
    '{"petition": "XF\\u0000", "slot": 1}',
    '{"petition": "' + "x" * 100_000 + '", "slot": 1}',
    '{"petition": "XF1", "slot": 1, "extra": "' + "y" * 100_000 + '"}',
]


@pytest.mark.parametrize("raw", NASTY_BODIES, ids=range(len(NASTY_BODIES)))
def test_a_malformed_booking_request_never_causes_a_500(client, kiosk_headers, petition, raw):
    response = client.post("/api/v1/appointments", raw, content_type="application/json", headers=kiosk_headers)

    # Unparseable JSON is a 400; everything else is a 404 or a 422 naming the field.
    assert response.status_code in (400, 404, 422), response.content[:300]
    error(response, response.status_code)
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("raw", ["{", '{"resident": ', "\xff\xfe", "{'single': 'quotes'}"])
def test_a_body_that_is_not_json_is_a_400_with_a_json_detail(client, kiosk_headers, db, raw):
    response = client.post("/api/v1/petitions", raw, content_type="application/json", headers=kiosk_headers)

    error(response, 400)


NASTY_PETITION_CHANGES = [
    ({"resident_name": "王\x00秀兰"}, 422, "resident.name"),
    ({"resident_name": "王秀兰\n"}, 422, "resident.name"),
    ({"resident_phone": "\x00"}, 422, "resident.phone"),
    ({"resident_id_number": "\x00" * 18}, 422, "resident.id_number"),
    ({"summary": "回迁房\x00房产证一直办不下来"}, 422, "summary"),
    ({"category": "housing\x00"}, 422, "category"),
    ({"department": "fang\x00chan"}, 422, "department"),
    ({"resident_name": "x" * 100_000}, 422, "resident.name"),
    ({"summary": "长" * 1_000_000}, 413, None),
    ({"resident_phone": "1" * 10_000}, 422, "resident.phone"),
    ({"resident_id_number": "9" * 10_000}, 422, "resident.id_number"),
    ({"resident": None}, 422, None),
    ({"resident": []}, 422, None),
    ({"department": 12}, 422, "department"),
    ({"category": {"code": "housing"}}, 422, "category"),
]


@pytest.mark.parametrize(("changes", "status", "field"), NASTY_PETITION_CHANGES, ids=range(len(NASTY_PETITION_CHANGES)))
def test_a_malformed_petition_never_causes_a_500(client, kiosk_headers, department, changes, status, field):
    response = post(client, "/api/v1/petitions", petition_body(**changes), **kiosk_headers)

    error(response, status, field)
    assert not Petition.objects.exists()


def test_a_summary_may_run_over_several_lines(client, kiosk_headers, department):
    response = post(client, "/api/v1/petitions", petition_body(summary="第一行。\n第二行：\t房产证。"), **kiosk_headers)

    assert response.status_code == 201, response.content
    assert Petition.objects.get().summary == "第一行。\n第二行：\t房产证。"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/appointments/99999999999999999999999",
        "/api/v1/appointments/9223372036854775808",
        "/api/v1/appointments/-1",
        "/api/v1/appointments/abc",
        "/api/v1/departments/%00/slots",
        "/api/v1/departments/" + "x" * 5000 + "/slots",
    ],
)
def test_a_malformed_path_never_causes_a_500(client, kiosk_headers, db, path):
    response = client.get(path, headers=kiosk_headers)

    assert response.status_code in (404, 422), response.content[:300]
    error(response, response.status_code)


@pytest.mark.parametrize("key", ["x" * 101, "a\tb"])
def test_a_malformed_idempotency_key_is_422(client, kiosk_headers, petition, open_slots, key):
    response = post(
        client,
        "/api/v1/appointments",
        {"petition": petition.reference, "slot": open_slots[0].pk},
        **kiosk_headers,
        **{"Idempotency-Key": key},
    )

    error(response, 422, "Idempotency-Key")


# Documentation


def test_the_openapi_document_describes_the_api(client, db):
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    for path in [
        "/api/v1/departments",
        "/api/v1/departments/{code}/slots",
        "/api/v1/departments/{code}/weeks/{week}/publish",
        "/api/v1/petitions",
        "/api/v1/appointments",
        "/api/v1/appointments/{appointment_id}",
        "/api/v1/appointments/{appointment_id}/cancel",
        "/api/v1/appointments/{appointment_id}/reschedule",
    ]:
        assert path in document["paths"], path
    book = document["paths"]["/api/v1/appointments"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in book.get("parameters", [])]


def test_the_docs_page_loads_nothing_from_another_host(client, db):
    response = client.get("/api/docs")

    assert response.status_code == 200
    html = response.content.decode()
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    urls += re.findall(r"""(?:url|import)\(\s*["']?([^"')]+)""", html)
    assert urls, "the docs page should load Swagger UI from somewhere"
    remote = [
        u
        for u in urls
        if re.match(r"^(https?:)?//", u) and not re.match(r"^(https?:)?//(127\.0\.0\.1|localhost|testserver)[:/]", u)
    ]
    assert remote == []
    assets = [u for u in urls if u.endswith((".js", ".css"))]
    assert assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
