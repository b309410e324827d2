"""Residents turned away at the kiosk: counted when a department has no free time, once a visit, never identified."""

import datetime as dt

import pytest
from django.utils import timezone

from appointments.booking import appointment_book
from appointments.models import TurnAway
from tests import factories as f

from .conftest import SUMMARY, confirm_token, slot_at, walk_to_confirm

pytestmark = pytest.mark.django_db


def _walk_to_days(client, resident: dict, department):
    client.post("/kiosk/book/", resident)
    client.post("/kiosk/book/category/", {"category": "housing"})
    client.post("/kiosk/book/summary/", {"summary": SUMMARY})
    assert client.post("/kiosk/book/department/", {"department": department.code})["Location"] == "/kiosk/book/day/"
    response = client.get("/kiosk/book/day/")
    assert response.status_code == 200
    return response


def _fill(slot, kiosk, department) -> None:
    """Another kiosk books every seat of the slot."""
    for n in range(slot.capacity):
        other = f.petition(kiosk, department, name=["李建国", "张伟", "刘芳"][n % 3])
        appointment_book(actor=kiosk, petition_reference=other.reference, slot_id=slot.pk)


def test_a_department_with_nothing_published_counts_one_resident_turned_away(
    kiosk_client, resident, department, kiosk, community
):
    before = timezone.now()
    _walk_to_days(kiosk_client, resident, department)

    away = TurnAway.objects.get()
    assert away.department == department and away.reason == TurnAway.Reason.NO_FREE_TIME
    assert away.kiosk_id == kiosk.kiosk.pk and away.community_id == community.pk
    assert before <= away.at <= timezone.now()


def test_a_department_whose_published_times_are_all_full_counts_as_no_free_time(
    kiosk_client, resident, department, kiosk
):
    only = slot_at(department, timezone.now() + dt.timedelta(days=2), capacity=2)
    _fill(only, kiosk, department)

    _walk_to_days(kiosk_client, resident, department)

    assert list(TurnAway.objects.values_list("department", "reason")) == [(department.pk, "no_free_time")]


def test_looking_again_in_the_same_visit_counts_once_and_another_department_counts_on_its_own(
    kiosk_client, resident, department, other_department
):
    _walk_to_days(kiosk_client, resident, department)
    kiosk_client.get("/kiosk/book/day/")
    kiosk_client.post("/kiosk/book/department/", {"department": department.code})
    kiosk_client.get("/kiosk/book/day/")
    kiosk_client.post("/kiosk/book/department/", {"department": other_department.code})
    kiosk_client.get("/kiosk/book/day/")
    kiosk_client.get("/kiosk/book/day/")

    counted = sorted(TurnAway.objects.values_list("department__code", flat=True))
    assert counted == sorted([department.code, other_department.code])


def test_the_next_resident_after_start_over_is_counted_again(kiosk_client, resident, department):
    _walk_to_days(kiosk_client, resident, department)
    kiosk_client.post("/kiosk/reset/")
    _walk_to_days(kiosk_client, {**resident, "name": "李建国", "phone": f.valid_phone(7)}, department)

    assert TurnAway.objects.filter(department=department).count() == 2


def test_nothing_is_counted_when_the_department_has_free_times(kiosk_client, resident, published, open_slots):
    page = _walk_to_days(kiosk_client, resident, published).content.decode()

    assert open_slots and "?day=" in page
    assert not TurnAway.objects.exists()


def test_a_time_taken_meanwhile_with_nothing_left_counts_once_as_just_taken(kiosk_client, resident, department, kiosk):
    only = slot_at(department, timezone.now() + dt.timedelta(days=2))
    token = confirm_token(walk_to_confirm(kiosk_client, resident, department, only))
    assert not TurnAway.objects.exists()  # there was a free time when the resident chose it
    _fill(only, kiosk, department)

    response = kiosk_client.post("/kiosk/book/confirm/", {"token": token})
    kiosk_client.post("/kiosk/book/confirm/", {"token": token})
    kiosk_client.get("/kiosk/book/day/")  # now empty, but this visit already counted the department

    assert response.status_code == 409 and "这个时间刚刚被别人约走了" in response.content.decode()
    assert list(TurnAway.objects.values_list("department", "reason")) == [(department.pk, "just_taken")]


def test_a_time_taken_meanwhile_is_not_counted_when_other_times_are_free(
    kiosk_client, resident, published, open_slots, kiosk
):
    chosen = open_slots[1]
    token = confirm_token(walk_to_confirm(kiosk_client, resident, published, chosen))
    _fill(chosen, kiosk, published)

    assert kiosk_client.post("/kiosk/book/confirm/", {"token": token}).status_code == 409
    assert not TurnAway.objects.exists()


def test_a_turn_away_keeps_no_personal_data(kiosk_client, resident, department):
    _walk_to_days(kiosk_client, resident, department)

    away = TurnAway.objects.get()
    kept = " ".join(str(getattr(away, field.attname)) for field in TurnAway._meta.concrete_fields)
    assert {field.name for field in TurnAway._meta.concrete_fields} == {
        "id",
        "department",
        "community",
        "kiosk",
        "at",
        "reason",
    }
    for personal in (resident["name"], resident["phone"], resident["id_number"]):
        assert personal not in kept
    assert "kiosk_turned_away" in kiosk_client.session
    assert kiosk_client.session["kiosk_turned_away"] == [department.pk]
