"""A kiosk cannot be used to guess query codes: repeated misses are refused for a while."""

import pytest
from django.conf import settings as django_settings

from appointments.booking import appointment_find_for_check_in
from appointments.petitions import petition_find_by_query_code
from scheduler.errors import TooManyAttempts
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_a_kiosk_is_refused_after_too_many_wrong_codes_even_for_a_right_one(settings, kiosk, published):
    settings.LOOKUP_MISSES_LIMIT = 3
    petition = f.petition(kiosk, published, phone="13840012345")
    for guess in ("00000001", "00000002", "00000003"):
        assert petition_find_by_query_code(query_code=guess, phone_last4="2345", principal=kiosk.principal) is None
    with pytest.raises(TooManyAttempts):
        petition_find_by_query_code(query_code=petition.query_code, phone_last4="2345", principal=kiosk.principal)
    with pytest.raises(TooManyAttempts):
        appointment_find_for_check_in(
            community_id=kiosk.community_id, query_code=petition.query_code, principal=kiosk.principal
        )


def test_another_kiosk_and_right_answers_are_not_counted(settings, kiosk, other_kiosk_and_key, published):
    settings.LOOKUP_MISSES_LIMIT = 2
    petition = f.petition(kiosk, published, phone="13840012345")
    other = other_kiosk_and_key[0]
    for _ in range(5):
        found = petition_find_by_query_code(
            query_code=petition.query_code, phone_last4="2345", principal=kiosk.principal
        )
        assert found == petition
    for guess in ("11111111", "22222222"):
        petition_find_by_query_code(query_code=guess, phone_last4="2345", principal=other.principal)
    assert petition_find_by_query_code(query_code=petition.query_code, phone_last4="2345", principal=kiosk.principal)


def test_the_kiosk_screen_explains_the_refusal_in_plain_words(settings, client, kiosk_key, published):
    settings.LOOKUP_MISSES_LIMIT = 1
    client.cookies[django_settings.KIOSK_KEY_COOKIE] = kiosk_key
    from django.urls import reverse

    url = reverse("kiosk:progress_lookup")
    client.post(url, {"query_code": "12345678", "phone_last4": "0000"})
    response = client.post(url, {"query_code": "12345678", "phone_last4": "0000"})
    assert response.status_code == 400
    assert "请稍等几分钟" in response.content.decode()
