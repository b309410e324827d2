"""A staff address visited before signing in comes back after sign-in without its ID number or mobile."""

from urllib.parse import unquote

import pytest

from tests import factories as f


@pytest.mark.parametrize("path", ["/staff/petitions/?q={id}", "/staff/petitions/?q={phone}", "/staff/{id}/"])
def test_the_way_back_to_a_staff_page_never_carries_an_id_number_or_mobile(client, db, path):
    id_number, phone = f.valid_id_number(), f.valid_phone()

    response = client.get(path.format(id=id_number, phone=phone))

    location = unquote(response.headers.get("Location", ""))
    if path.startswith("/staff/petitions/"):
        assert response.status_code == 302 and location.startswith("/accounts/login/?next=/staff/petitions/")
    assert id_number not in location and id_number[:-1] not in location and phone not in location
