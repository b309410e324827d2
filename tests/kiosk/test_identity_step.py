"""The kiosk's first question refuses a name that differs from the one held for the ID number, and says why."""

import pytest

from appointments.models import Petition, Resident
from tests import factories as f

from .conftest import walk_to_confirm

pytestmark = pytest.mark.django_db

ID = f.id_number_for("210105", "19410822", 3)  # an elderly resident of 皇姑区


def test_a_different_name_for_a_registered_id_number_is_refused_at_the_first_step(kiosk_client, kiosk, published):
    f.petition(kiosk, published, name="王秀兰", id_number=ID, phone="13840012345")

    response = kiosk_client.post("/kiosk/book/", {"name": "赵大强", "phone": "13999990000", "id_number": ID})

    assert response.status_code == 200
    page = response.content.decode()
    assert "社区工作人员" in page
    assert "王秀兰" not in page  # the registered name is never shown to whoever typed the number
    assert ID not in page and "13999990000" not in page
    assert Resident.objects.get().phone == "+8613840012345"


def test_the_registered_resident_files_again_with_a_new_mobile(kiosk_client, kiosk, published, open_slots):
    first = f.petition(kiosk, published, name="王秀兰", id_number=ID, phone="13840012345")

    walk_to_confirm(
        kiosk_client, {"name": "王 秀兰", "phone": "13999990000", "id_number": ID}, published, open_slots[0]
    )

    assert Petition.objects.count() == 1
    first.refresh_from_db()
    assert first.contact_phone == "+8613840012345"


@pytest.mark.parametrize("name", ["\u202e兰秀王", "\u200b\u200d", "王秀\x00兰"])
def test_a_name_with_invisible_or_direction_changing_characters_is_refused(kiosk_client, name):
    response = kiosk_client.post("/kiosk/book/", {"name": name, "phone": "13840012345", "id_number": ID})
    assert response.status_code == 200
    assert 'class="error' in response.content.decode() or 'role="alert"' in response.content.decode()
    assert not Resident.objects.exists()
