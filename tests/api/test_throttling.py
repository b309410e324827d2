import pytest

pytestmark = pytest.mark.django_db


def test_a_flood_of_public_reads_from_one_address_is_slowed_with_a_plain_429(client, settings, published):
    settings.API_THROTTLE_ANONYMOUS = "3/m"
    codes = [client.get("/api/v1/departments").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = client.get("/api/v1/departments")
    assert response.status_code == 429
    assert response.json()["detail"] == "操作太频繁了，请稍等片刻再试。"


def test_each_kiosk_has_its_own_allowance(client, settings, kiosk_key, other_kiosk_and_key, published):
    settings.API_THROTTLE_CALLER = "2/m"
    other_key = other_kiosk_and_key[1]
    assert [client.get("/api/v1/appointments/1", headers={"X-Kiosk-Key": kiosk_key}).status_code for _ in range(3)] == [
        404,
        404,
        429,
    ]
    assert client.get("/api/v1/appointments/1", headers={"X-Kiosk-Key": other_key}).status_code == 404


def test_a_forged_forwarded_for_header_does_not_buy_a_new_allowance(client, settings, published):
    settings.API_THROTTLE_ANONYMOUS = "2/m"
    codes = [
        client.get("/api/v1/departments", headers={"X-Forwarded-For": f"10.0.0.{n}"}).status_code for n in range(3)
    ]
    assert codes == [200, 200, 429]


def test_no_limit_when_the_setting_is_empty(client, settings, published):
    settings.API_THROTTLE_ANONYMOUS = ""
    assert {client.get("/api/v1/departments").status_code for _ in range(20)} == {200}
