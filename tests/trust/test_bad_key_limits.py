"""Wrong kiosk keys and bearer tokens are limited per client address like everything else: after the limit, 429
with Retry-After and a message in the caller's language, and no key is even looked up until the window ends."""

import time

import pytest
from django.test import Client

from tests import factories as f

pytestmark = pytest.mark.django_db

PROTECTED = "/api/v1/appointments/424242"  # any operation that needs a caller; this one answers 404 to a good one


def from_address(address: str, language: str = "zh-hans") -> Client:
    return Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE=language)


def wrong_kiosk_key(n: int) -> str:
    return f"kiosk_{n:04d}notarealkeyatall-{n * 7919 % 10007:05d}"


def test_320_wrong_kiosk_keys_from_one_address_get_20_refusals_then_429s():
    client = from_address("203.0.113.40")

    statuses = [client.get(PROTECTED, HTTP_X_KIOSK_KEY=wrong_kiosk_key(n)).status_code for n in range(320)]

    assert statuses[:20] == [401] * 20
    assert statuses[20:] == [429] * 300


def test_the_429_says_how_long_to_wait_in_chinese_and_in_english(settings):
    settings.BAD_CREDENTIALS_LIMIT = 3
    chinese, english = from_address("203.0.113.41"), from_address("203.0.113.41", "en")
    for n in range(3):
        chinese.get(PROTECTED, HTTP_X_KIOSK_KEY=wrong_kiosk_key(n))

    zh = chinese.get(PROTECTED, HTTP_X_KIOSK_KEY=wrong_kiosk_key(99))
    en = english.get(PROTECTED, HTTP_X_KIOSK_KEY=wrong_kiosk_key(98))

    assert (zh.status_code, zh.json()["code"], zh["Retry-After"]) == (429, "throttled", "900")
    assert "15 分钟" in zh.json()["detail"]
    assert "wait 15 minutes" in en.json()["detail"]


def test_wrong_bearer_tokens_count_the_same_way(settings):
    settings.BAD_CREDENTIALS_LIMIT = 5
    client = from_address("198.51.100.7")

    statuses = [
        client.get(PROTECTED, HTTP_AUTHORIZATION=f"Bearer staff_{n:03d}-not-issued").status_code for n in range(8)
    ]

    assert statuses == [401] * 5 + [429] * 3


def test_a_blocked_address_is_refused_even_with_a_good_key_and_other_addresses_are_not(settings, community):
    settings.BAD_CREDENTIALS_LIMIT = 4
    _actor, good_key = f.kiosk_actor(community)
    shared_office = from_address("192.0.2.10")
    for n in range(4):
        shared_office.get(PROTECTED, HTTP_X_KIOSK_KEY=wrong_kiosk_key(n))

    same_address = shared_office.get(PROTECTED, HTTP_X_KIOSK_KEY=good_key)
    elsewhere = from_address("192.0.2.11").get(PROTECTED, HTTP_X_KIOSK_KEY=good_key)

    assert same_address.status_code == 429
    assert elsewhere.status_code == 404  # authenticated; the appointment just does not exist


def test_good_keys_and_tokens_are_never_counted(settings, community, department):
    settings.BAD_CREDENTIALS_LIMIT = 2
    _actor, good_key = f.kiosk_actor(community)
    token = f.token_for(f.staff("fangchan_ma", "department_staff", department=department))
    client = from_address("192.0.2.20")

    statuses = [client.get(PROTECTED, HTTP_X_KIOSK_KEY=good_key).status_code for _ in range(5)]
    statuses += [client.get(PROTECTED, HTTP_AUTHORIZATION=f"Bearer {token}").status_code for _ in range(5)]

    assert statuses == [404] * 10


def test_the_address_may_try_again_when_the_window_has_passed(settings, community):
    settings.BAD_CREDENTIALS_LIMIT = 2
    settings.BAD_CREDENTIALS_WINDOW_SECONDS = 1
    _actor, good_key = f.kiosk_actor(community)
    client = from_address("192.0.2.30")
    for n in range(2):
        client.get(PROTECTED, HTTP_X_KIOSK_KEY=wrong_kiosk_key(n))
    assert client.get(PROTECTED, HTTP_X_KIOSK_KEY=good_key).status_code == 429

    time.sleep(1.2)

    assert client.get(PROTECTED, HTTP_X_KIOSK_KEY=good_key).status_code == 404


def test_keys_guessed_on_the_kiosk_setup_page_count_too_and_a_good_key_then_waits(settings, community):
    settings.BAD_CREDENTIALS_LIMIT = 3
    _actor, good_key = f.kiosk_actor(community)
    client = from_address("192.0.2.77")

    wrong = [client.post("/kiosk/setup/", {"key": wrong_kiosk_key(n)}).status_code for n in range(3)]
    refused = client.post("/kiosk/setup/", {"key": good_key})

    assert wrong == [400, 400, 400]
    assert refused.status_code == 429 and "15 分钟" in refused.content.decode()
    assert settings.KIOSK_KEY_COOKIE not in refused.cookies
    assert from_address("192.0.2.78").post("/kiosk/setup/", {"key": good_key}).status_code == 302
