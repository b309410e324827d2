"""The admin shows residents masked and finds them by a part of their name, through the keyed tags."""

import pytest
from django.contrib.auth import get_user_model

from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(get_user_model().objects.create_superuser(username="root", password="pw-for-tests-123456"))
    return client


def test_the_resident_list_shows_names_mobiles_and_id_numbers_masked(admin_client, kiosk, published):
    petition = f.petition(
        kiosk, published, name="王秀兰", phone="13904051234", id_number=f.valid_id_number(area="210104")
    )

    page = admin_client.get("/admin/appointments/resident/").content.decode()
    detail = admin_client.get(f"/admin/appointments/resident/{petition.resident_id}/change/").content.decode()
    petition_page = admin_client.get(f"/admin/appointments/petition/{petition.pk}/change/").content.decode()

    for html in (page, detail, petition_page):
        assert "王秀兰" not in html and "13904051234" not in html
        assert petition.resident.id_number not in html
    assert "王**" in page and "139****1234" in page and petition.resident.id_number_masked in page


def test_the_admin_search_finds_a_resident_by_a_part_of_the_name_and_not_others(admin_client, kiosk, published):
    wang = f.petition(kiosk, published, name="王秀兰")
    f.petition(kiosk, published, name="阿依古丽·买买提")

    found = admin_client.get("/admin/appointments/resident/", {"q": "秀兰"}).content.decode()
    by_one_character = admin_client.get("/admin/appointments/resident/", {"q": "王"})

    assert f"/admin/appointments/resident/{wang.resident_id}/change/" in found
    assert "阿**" not in found
    assert by_one_character.status_code == 200 and "阿**" not in by_one_character.content.decode()
