"""The link in the answer SMS: a page on the resident's own phone to rate the answer once, and 404 for any bad link."""

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from appointments.models import Rating
from appointments.notify.messages import RATING_SALT, rating_token_make, rating_token_read, rating_url
from appointments.outcomes.services import ItemIn, OutcomeIn, outcome_correct, outcome_record, review_request
from tests import factories as f

ANSWER = "经核实，开发商已补齐材料，房产证将于一个月内办理完毕。"


def record(petition, actor, *, answer: str = ANSWER, items=None):
    items = items or [ItemIn(request="办理回迁房房产证", decision="supported")]
    return outcome_record(actor=actor, petition=petition, data=OutcomeIn(answer=answer, items=items))


def link(outcome) -> str:
    return reverse("notify_public:rate", args=[rating_token_make(outcome.pk)])


@pytest.fixture
def outcome(petition, dept_staff):
    return record(petition, dept_staff)


def test_a_token_names_its_outcome_and_nothing_else_reads_as_one():
    token = rating_token_make(42)

    assert rating_token_read(token) == 42
    assert len(token) <= 30
    assert rating_token_read(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert rating_token_read("43" + token[2:]) is None
    assert rating_token_read(signing.Signer(salt="another.salt", sep=".").sign("42")) is None
    assert rating_token_read(signing.Signer(salt=RATING_SALT).sign("42")) is None


def test_the_link_in_the_message_is_the_public_address(outcome, settings):
    settings.PUBLIC_BASE_URL = "https://petition.example.gov.cn"

    assert rating_url(outcome.pk) == "https://petition.example.gov.cn" + link(outcome)


@pytest.mark.parametrize(
    "token",
    [
        "abc",
        "1.AAAAAAAAAAAAAAAAAAAAAA",
        "99999999." + "x" * 22,
        "x" * 5000,
        "中文.中文",
        "%00",
        "1.%00",
        "..",
        "1e5.abc",
    ],
)
def test_a_bad_or_forged_link_answers_a_404_page_in_chinese(client, db, token):
    response = client.get(f"/r/{token}/")

    assert response.status_code == 404
    assert "链接无效" in response.content.decode() or "找不到" in response.content.decode()


def test_a_validly_signed_link_to_an_answer_that_does_not_exist_is_a_404(client, db):
    response = client.get(reverse("notify_public:rate", args=[rating_token_make(987654)]))

    assert response.status_code == 404


def test_the_page_shows_the_departments_answer_without_personal_data(petition, dept_staff, client):
    resident = petition.resident
    mobile = petition.contact_phone[-11:]
    answer = f"{petition.contact_name}同志（身份证{resident.id_number}，电话{mobile}）：{ANSWER}"
    outcome = record(petition, dept_staff, answer=answer)

    page = client.get(link(outcome)).content.decode()

    assert ANSWER in page and "区房产局" in page and petition.reference in page
    assert "支持" in page  # the decision, in the resident's words
    for secret in (petition.contact_name, resident.id_number, mobile, petition.query_code):
        assert secret not in page
    assert petition.contact_name[0] + "**同志" in page
    assert mobile[:3] + "****" + mobile[-4:] in page


def test_a_resident_rates_the_answer_once_from_their_phone(outcome, petition):
    phone = Client(enforce_csrf_checks=True)
    page = phone.get(link(outcome))
    assert page.status_code == 200
    assert "您对这个答复满意吗" in page.content.decode()

    rated = phone.post(
        link(outcome), {"level": "basically_satisfied", "csrfmiddlewaretoken": page.cookies["csrftoken"].value}
    )

    assert rated.status_code == 302
    thanks = phone.get(rated["Location"]).content.decode()
    assert "已记录" in thanks and "基本满意" in thanks
    rating = Rating.objects.get(outcome=outcome)
    assert (rating.level, rating.kiosk) == ("basically_satisfied", None)

    again = phone.post(link(outcome), {"level": "dissatisfied", "csrfmiddlewaretoken": page.cookies["csrftoken"].value})

    assert again.status_code == 409
    assert "已经评价" in again.content.decode()
    assert Rating.objects.get(outcome=outcome).level == "basically_satisfied"


def test_a_rating_without_a_level_is_refused_with_a_message(outcome, client):
    response = client.post(link(outcome), {"level": "excellent"})

    assert response.status_code == 422
    assert "请选择" in response.content.decode()
    assert not Rating.objects.exists()


def test_a_referred_matter_has_nothing_to_rate_yet(petition, dept_staff, other_department, client):
    outcome = record(
        petition,
        dept_staff,
        items=[
            ItemIn(request="办证", decision="referred", referred_to=other_department.code, referral_reason="人社局管")
        ],
    )

    page = client.get(link(outcome))
    refused = client.post(link(outcome), {"level": "satisfied"})

    assert page.status_code == 200 and "暂时不能评价" in page.content.decode()
    assert refused.status_code == 409
    assert not Rating.objects.exists()


def test_a_corrected_answer_is_rated_through_the_first_link(outcome, dept_staff, client):
    corrected = outcome_correct(
        actor=dept_staff, outcome_id=outcome.pk, answer="更正：两周内办好。", legal_basis="", reason="时间有误"
    )

    page = client.get(link(outcome)).content.decode()
    client.post(link(outcome), {"level": "satisfied"})

    assert "更正：两周内办好。" in page
    assert Rating.objects.get().outcome == corrected


def test_the_link_to_an_answer_replaced_by_a_review_no_longer_rates(outcome, petition, kiosk, dept_staff, client):
    review_request(actor=kiosk, petition=petition, reason="不满意")
    record(petition, dept_staff, answer="复查后维持原答复。")

    page = client.get(link(outcome))
    refused = client.post(link(outcome), {"level": "dissatisfied"})

    assert "较新的答复" in page.content.decode()
    assert refused.status_code == 409
    assert not Rating.objects.exists()


def test_a_resident_who_filed_in_english_reads_the_page_in_english(kiosk, published, dept_staff, client):
    from django.utils import translation

    with translation.override("en"):
        petition = f.petition(kiosk, published)
    outcome = record(petition, dept_staff)

    page = client.get(link(outcome)).content.decode()

    assert "Are you satisfied with this answer?" in page
    assert 'lang="en"' in page


def test_the_page_answers_only_get_and_post(outcome, client):
    assert client.put(link(outcome)).status_code == 405
