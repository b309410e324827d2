"""The admin shows residents and petitions without their full numbers, and cannot change a resident."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from appointments.models import Resident
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.invalid", "pw-for-tests-123"))
    return client


def test_resident_and_petition_pages_show_only_masked_numbers(admin_client, kiosk, department):
    id_number = f.valid_id_number()
    petition = f.petition(kiosk, department, id_number=id_number, phone="13840012345")
    resident = petition.resident

    pages = [
        admin_client.get("/admin/appointments/resident/"),
        admin_client.get(f"/admin/appointments/resident/{resident.pk}/change/"),
        admin_client.get("/admin/appointments/petition/"),
        admin_client.get(f"/admin/appointments/petition/{petition.pk}/change/"),
    ]

    for page in pages:
        assert page.status_code == 200
        body = page.content.decode()
        assert id_number not in body
        assert "13840012345" not in body
    assert "138****2345" in pages[1].content.decode()


def test_the_admin_cannot_change_or_delete_a_resident(admin_client, kiosk, department):
    resident = f.petition(kiosk, department, name="王秀兰").resident

    admin_client.post(f"/admin/appointments/resident/{resident.pk}/change/", {"name": "赵大强", "phone": "13999990000"})
    admin_client.post(f"/admin/appointments/resident/{resident.pk}/delete/", {"post": "yes"})

    resident.refresh_from_db()
    assert resident.name == "王秀兰"
    assert Resident.objects.filter(pk=resident.pk).exists()


def test_the_admin_offers_no_way_around_the_lifecycle(admin_client, kiosk, department, other_department):
    petition = f.petition(kiosk, department)

    page = admin_client.get(f"/admin/appointments/petition/{petition.pk}/change/")
    admin_client.post(
        f"/admin/appointments/petition/{petition.pk}/change/",
        {"status": "closed", "department": other_department.pk, "summary": "changed"},
    )
    admin_client.post(f"/admin/appointments/petition/{petition.pk}/delete/", {"post": "yes"})

    assert page.status_code == 200
    assert 'name="status"' not in page.content.decode()
    petition.refresh_from_db()
    assert (petition.status, petition.department, petition.summary) == (
        "received",
        department,
        "回迁房的房产证一直办不下来。",
    )


@pytest.mark.parametrize("model", ["outcome", "followupslip", "rating", "reviewrequest", "referral"])
def test_outcome_records_are_listed_read_only(admin_client, model):
    assert admin_client.get(f"/admin/appointments/{model}/").status_code == 200
    assert admin_client.get(f"/admin/appointments/{model}/add/").status_code == 403
