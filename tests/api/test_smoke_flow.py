import pytest

from tests import factories as f

pytestmark = pytest.mark.django_db


def test_a_kiosk_files_a_petition_and_books_the_first_open_time(client, kiosk_key, published, open_slots):
    headers = {"X-Kiosk-Key": kiosk_key}
    response = client.post(
        "/api/v1/petitions",
        {
            "resident": {"name": "王秀兰", "phone": "13840012345", "id_number": f.valid_id_number()},
            "category": "housing",
            "summary": "回迁房的房产证一直办不下来。",
            "department": published.code,
        },
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 201, response.content
    reference = response.json()["reference"]
    response = client.post(
        "/api/v1/appointments",
        {"petition": reference, "slot": open_slots[0].pk},
        content_type="application/json",
        headers={**headers, "Idempotency-Key": "k1"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "booked" and body["seat"] == 1 and body["petition"] == reference
