import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def kiosk_client(client, kiosk_key):
    client.cookies[settings.KIOSK_KEY_COOKIE] = kiosk_key
    return client


def test_a_kiosk_speaks_chinese_even_when_its_browser_asks_for_english(kiosk_client):
    response = kiosk_client.get(reverse("kiosk:start"), headers={"Accept-Language": "en-US,en;q=0.9"})
    assert response.status_code == 200
    assert "预约视频接访" in response.content.decode()


def test_the_english_switch_still_changes_the_language(kiosk_client):
    kiosk_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = kiosk_client.get(reverse("kiosk:start"), headers={"Accept-Language": "zh-CN"})
    assert "预约视频接访" not in response.content.decode()
    assert 'lang="en"' in response.content.decode()


def test_the_api_still_follows_accept_language(client):
    response = client.get("/api/v1/departments/nosuch/slots", headers={"Accept-Language": "en"})
    assert response.json()["detail"].startswith("There is no department")
