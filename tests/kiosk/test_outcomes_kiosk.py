"""What a resident reads at the kiosk about their matter in every state, and rating the answer and asking for a
review (复查) or re-examination (复核) there."""

import datetime as dt
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.booking import appointment_book
from appointments.kiosk.format import kiosk_day
from appointments.models import DueKind, Petition, Rating, ReviewRequest
from appointments.outcomes.lifecycle import (
    period_end,
    petition_accept,
    petition_close,
    petition_deadline_refresh,
    petition_extend,
    petition_not_accept,
    petition_refer,
)
from appointments.outcomes.services import (
    CommitmentIn,
    ItemIn,
    OutcomeIn,
    SlipIn,
    commitment_complete,
    outcome_correct,
    outcome_record,
    review_request,
    review_window_ends,
)
from departments.audit import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db

PHONE = "13840012345"
ANSWER = "经核查，您所在的回迁楼已完成竣工验收，房产证将统一办理。区房产局已督促开发商补交材料。"


def html(response) -> str:
    return response.content.decode()


def text(response) -> str:
    """The page as a person reads it: tags removed, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html(response)))


def look_up(kiosk_client, petition: Petition) -> None:
    response = kiosk_client.post("/kiosk/progress/", {"query_code": petition.query_code, "phone_last4": PHONE[-4:]})
    assert response.status_code == 302 and response["Location"] == "/kiosk/progress/status/"


def status_page(kiosk_client, petition: Petition):
    look_up(kiosk_client, petition)
    response = kiosk_client.get("/kiosk/progress/status/")
    assert response.status_code == 200
    return response


def left(petition: Petition) -> int:
    """Days until the petition's deadline, counted as a person would from today (≥ the statutory count: a period
    ending on a rest day runs to the next working day)."""
    petition.refresh_from_db()
    return (petition.due_on - timezone.localdate()).days


def later(days: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


def answer(actor, petition, *, commitments=(), slip=None, items=None, now=None):
    items = items or [
        ItemIn(request="尽快办理回迁房房产证", decision="supported"),
        ItemIn(request="赔偿这几年的租房损失", decision="not_supported"),
    ]
    data = OutcomeIn(
        answer=ANSWER,
        items=list(items),
        legal_basis="《国有土地上房屋征收与补偿条例》第二十五条",
        commitments=list(commitments),
        slip=slip,
    )
    return outcome_record(actor=actor, petition=petition, data=data, now=now)


@pytest.fixture
def filed(kiosk, published):
    """A matter filed at 蓝山社区's kiosk with 区房产局 today."""
    return f.petition(kiosk, published, phone=PHONE, name="赵桂芝")


@pytest.fixture
def answered(filed, dept_staff):
    answer(dept_staff, filed)
    filed.refresh_from_db()
    return filed


# The progress page in every state ------------------------------------------------------------------------------


def test_a_received_matter_says_by_when_acceptance_is_decided(kiosk_client, filed):
    page = status_page(kiosk_client, filed)

    assert "已登记" in html(page)
    assert "您的事项已经登记。部门会决定是否受理。" in html(page)
    due = filed.due_on
    assert due == period_end(timezone.localdate(), 15)
    assert f"部门应在{kiosk_day(due)}前决定是否受理您的事项，还有 {left(filed)} 天。" in text(page)
    assert "还没有答复" not in html(page) and "尚未作出" not in html(page)
    assert "您对这个答复满意吗" not in html(page)


def test_an_accepted_matter_says_by_when_the_department_must_answer(kiosk_client, filed, dept_staff):
    petition_accept(actor=dept_staff, petition=filed)
    filed.refresh_from_db()

    page = status_page(kiosk_client, filed)

    assert "已受理" in html(page) and "部门正在办理" in html(page)
    assert filed.due_on == period_end(timezone.localdate(), 60)
    assert f"部门应在{kiosk_day(filed.due_on)}前答复您，还有 {left(filed)} 天。" in text(page)


def test_a_matter_not_accepted_says_why_and_where_to_go_instead_with_no_deadline(kiosk_client, filed, dept_staff):
    petition_not_accept(
        actor=dept_staff,
        petition=filed,
        reason="该事项已进入民事诉讼程序，应依法通过诉讼解决。",
        redirect_to="区法院立案庭（东塔街12号）",
    )

    page = status_page(kiosk_client, filed)

    assert "您的事项不予受理。" in html(page)
    assert "原因：该事项已进入民事诉讼程序，应依法通过诉讼解决。" in text(page)
    assert "您可以到这里反映：区法院立案庭（东塔街12号）" in text(page)
    assert "部门应在" not in html(page) and "还有" not in text(page)


def test_a_scheduled_matter_shows_its_appointment_and_the_deadline(kiosk_client, kiosk, published, open_slots):
    petition = f.petition(kiosk, published, phone=PHONE)
    appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=open_slots[-1].pk)
    petition.refresh_from_db()

    page = status_page(kiosk_client, petition)

    assert petition.status == "scheduled"
    assert "已预约接访" in html(page) and "您的视频接访已经预约好了。" in html(page)
    assert f"{timezone.localtime(open_slots[-1].starts_at):%-H:%M}" in html(page)
    assert f"前决定是否受理您的事项，还有 {left(petition)} 天。" in text(page)


def test_a_matter_in_consultation_says_the_answer_is_coming(kiosk_client, filed):
    Petition.objects.filter(pk=filed.pk).update(status="in_consultation")

    content = text(status_page(kiosk_client, filed))

    assert "接访中" in content and "部门会把答复意见写下来告诉您。" in content


def test_the_rating_and_review_screens_answer_other_methods_without_an_error(kiosk_client, answered):
    look_up(kiosk_client, answered)

    assert kiosk_client.get("/kiosk/progress/rate/").status_code == 405
    assert kiosk_client.put("/kiosk/progress/review/").status_code == 405
    assert kiosk_client.get("/kiosk/progress/rated/")["Location"] == "/kiosk/progress/status/"
    assert kiosk_client.get("/kiosk/progress/review/done/")["Location"] == "/kiosk/progress/status/"


def test_an_answer_shows_each_decision_the_text_and_the_legal_basis(kiosk_client, answered):
    page = status_page(kiosk_client, answered)
    content = text(page)

    assert answered.status == "answered"
    assert "部门已经答复您。" in content
    assert "答复意见" in content and f"区房产局，{kiosk_day(timezone.localdate())}答复" in content
    assert re.search(r"尽快办理回迁房房产证\s*支持", content)
    assert re.search(r"赔偿这几年的租房损失\s*不予支持", content)
    assert ANSWER in content
    assert "依据：《国有土地上房屋征收与补偿条例》第二十五条" in content
    # An answered matter has no deadline running, and offers the rating.
    assert "部门应在" not in content
    assert "您对这个答复满意吗？" in content
    for level in ("satisfied", "basically_satisfied", "dissatisfied"):
        assert f'name="level" value="{level}"' in html(page)


def test_commitments_and_the_communitys_follow_up_show_who_does_what_by_when(kiosk_client, filed, dept_staff):
    answer(
        dept_staff,
        filed,
        commitments=[
            CommitmentIn(responsible="区房产局产权科", action="为您所在楼栋集中办理房产证", due_on=later(20)),
            CommitmentIn(responsible="开发商项目部", action="补交竣工验收备案材料", due_on=later(5)),
        ],
        slip=SlipIn(to_check="了解房产证是否已发到赵桂芝手中", due_on=later(25)),
    )

    content = text(status_page(kiosk_client, filed))

    assert "已答复，正在跟进落实" in content and "答应办的事情正在跟进落实" in content
    assert "接下来怎么办" in content
    assert f"开发商项目部：补交竣工验收备案材料 {kiosk_day(later(5))}前办好" in content
    assert f"区房产局产权科：为您所在楼栋集中办理房产证 {kiosk_day(later(20))}前办好" in content
    assert content.index("开发商项目部") < content.index("区房产局产权科")  # the earliest due first
    assert f"蓝山社区会在{kiosk_day(later(25))}前向您了解落实情况。" in content
    # What the community is asked to check is for the community, not for the screen.
    assert "了解房产证是否已发到赵桂芝手中" not in content


def test_a_kept_commitment_says_what_was_done(kiosk_client, filed, dept_staff):
    outcome = answer(
        dept_staff,
        filed,
        commitments=[
            CommitmentIn(responsible="区房产局产权科", action="集中办理房产证", due_on=later(20)),
            CommitmentIn(responsible="物业公司", action="修好单元门禁", due_on=later(2)),
        ],
    )
    commitment_complete(
        actor=dept_staff, commitment_id=outcome.commitments.get(responsible="物业公司").pk, note="门禁已更换"
    )

    content = text(status_page(kiosk_client, filed))

    assert f"物业公司：修好单元门禁 已在{kiosk_day(timezone.localdate())}办好：门禁已更换" in content
    assert f"区房产局产权科：集中办理房产证 {kiosk_day(later(20))}前办好" in content


def test_a_corrected_answer_shows_the_new_text_why_and_keeps_its_commitments_and_rating(
    kiosk_client, filed, dept_staff
):
    first = answer(
        dept_staff,
        filed,
        commitments=[CommitmentIn(responsible="区房产局产权科", action="集中办理房产证", due_on=later(20))],
    )
    look_up(kiosk_client, filed)
    kiosk_client.post("/kiosk/progress/rate/", {"level": "basically_satisfied"})
    outcome_correct(
        actor=dept_staff,
        outcome_id=first.pk,
        answer="更正：房产证由区不动产登记中心统一办理。",
        legal_basis="",
        reason="答复中的办理机关写错了",
    )

    content = text(kiosk_client.get("/kiosk/progress/status/"))

    assert "更正：房产证由区不动产登记中心统一办理。" in content and ANSWER not in content
    assert "这个答复更正过。更正原因：答复中的办理机关写错了" in content
    assert "区房产局产权科：集中办理房产证" in content
    assert "您对这个答复的评价是：基本满意。" in content and "您对这个答复满意吗" not in content
    assert kiosk_client.post("/kiosk/progress/rate/", {"level": "satisfied"}).status_code == 409


def test_a_referred_matter_says_where_it_went_and_why(kiosk_client, filed, dept_staff, other_department):
    petition_refer(
        actor=dept_staff, petition=filed, to_department=other_department.code, reason="拖欠工资属于劳动保障监察范围"
    )

    content = text(status_page(kiosk_client, filed))

    assert "已转送其他部门" in content
    assert "您的事项已经转送到负责办理的部门。" in content
    assert f"{kiosk_day(timezone.localdate())}，您的事项从区房产局转送到区人社局。" in content
    assert "原因：拖欠工资属于劳动保障监察范围" in content
    assert "接下来由区人社局办理。" in content


def test_a_referral_inside_an_answer_names_the_department_and_why(kiosk_client, filed, dept_staff, other_department):
    items = [
        ItemIn(request="房产证办理", decision="explained"),
        ItemIn(
            request="物业公司拖欠保洁工资",
            decision="referred",
            referred_to=other_department.code,
            referral_reason="属于劳动保障监察范围",
        ),
    ]
    answer(dept_staff, filed, items=items)

    content = text(status_page(kiosk_client, filed))

    assert re.search(r"房产证办理\s*解释说明", content)
    assert re.search(r"物业公司拖欠保洁工资\s*转送其他部门办理：转送区人社局\s*原因：属于劳动保障监察范围", content)
    assert "接下来由区人社局办理。" in content
    assert "您对这个答复满意吗" not in content  # a referral is not the answer to rate


def test_an_extension_is_told_with_its_reason_and_the_later_deadline(kiosk_client, filed, dept_staff, officer):
    petition_accept(actor=dept_staff, petition=filed)
    petition_extend(actor=officer, petition=filed, days=20, reason="需要向市不动产登记中心调取历史档案")
    filed.refresh_from_db()

    content = text(status_page(kiosk_client, filed))

    assert filed.due_on == period_end(timezone.localdate(), 80)
    assert "答复期限延长了 20 天。原因：需要向市不动产登记中心调取历史档案" in content
    assert f"部门应在{kiosk_day(filed.due_on)}前答复您，还有 {left(filed)} 天。" in content


def test_an_overdue_deadline_is_said_plainly(kiosk_client, filed):
    # Filed 40 days ago: whatever rest days end the 15, the decision on acceptance is overdue.
    Petition.objects.filter(pk=filed.pk).update(received_at=timezone.now() - dt.timedelta(days=40))
    filed.refresh_from_db()
    petition_deadline_refresh(petition=filed)
    late = (timezone.localdate() - filed.due_on).days
    assert late >= 20

    page = status_page(kiosk_client, filed)

    said = f"部门应在{kiosk_day(filed.due_on)}前决定是否受理您的事项，现在已经超期 {late} 天。信访局正在督办。"
    assert said in text(page)
    assert 'class="deadline overdue"' in html(page)


def due(petition: Petition, day: dt.date, kind: str) -> None:
    Petition.objects.filter(pk=petition.pk).update(due_on=day, due_kind=kind)


def test_the_last_day_one_day_left_and_one_day_late_are_said_as_such(kiosk_client, filed):
    today = timezone.localdate()
    due(filed, today, DueKind.ANSWER)
    assert f"部门应在今天（{kiosk_day(today)}）答复您。" in text(status_page(kiosk_client, filed))

    kiosk_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    due(filed, today + dt.timedelta(days=1), DueKind.ACCEPTANCE)
    assert "whether to accept your matter: 1 day left." in text(kiosk_client.get("/kiosk/progress/status/"))
    due(filed, today - dt.timedelta(days=1), DueKind.REVIEW_ANSWER)
    content = text(kiosk_client.get("/kiosk/progress/status/"))
    assert "The result of the review was due by" in content and "it is 1 day late." in content
    due(filed, today + dt.timedelta(days=2), DueKind.REEXAMINATION_ANSWER)
    assert "The result of the re-examination is due by" in text(kiosk_client.get("/kiosk/progress/status/"))


def test_a_matter_reopened_for_review_shows_the_review_deadline_and_the_answer_under_review(
    kiosk_client, answered, kiosk
):
    review_request(actor=kiosk, petition=answered, reason="房产证到现在还没有拿到")
    answered.refresh_from_db()

    content = text(status_page(kiosk_client, answered))

    assert "正在复查（复核）" in content and "您申请了复查，您的事项正在重新审查。" in content
    assert answered.due_on == period_end(timezone.localdate(), 30)
    assert f"复查意见应在{kiosk_day(answered.due_on)}前答复您，还有 {left(answered)} 天。" in content
    assert f"您在{kiosk_day(timezone.localdate())}申请了复查，下面的答复正在重新审查。" in content
    assert ANSWER in content
    assert "您对这个答复满意吗" not in content and "申请复查" not in content.replace("您申请了复查", "")


def test_a_closed_matter_says_so_and_keeps_the_answer(kiosk_client, answered, dept_staff):
    petition_close(actor=dept_staff, petition=answered)

    content = text(status_page(kiosk_client, answered))

    assert "已办结" in content and "您的事项已经办结。" in content
    assert "停止接访" not in content  # "Closed" means something else on a day of consultations
    assert ANSWER in content
    assert "部门应在" not in content


def test_the_progress_page_shows_no_full_mobile_or_id_number(kiosk_client, kiosk, published, dept_staff):
    id_number = f.valid_id_number()
    petition = f.petition(kiosk, published, phone=PHONE, id_number=id_number)
    answer(dept_staff, petition, slip=SlipIn(to_check="回访", due_on=later(3)))

    page = html(status_page(kiosk_client, petition))

    assert PHONE not in page and id_number not in page and id_number[-4:] + "<" not in page


# Rating ---------------------------------------------------------------------------------------------------------


def test_a_resident_rates_the_answer_once_with_a_remark(kiosk_client, answered):
    look_up(kiosk_client, answered)

    response = kiosk_client.post("/kiosk/progress/rate/", {"level": "satisfied", "remark": "  工作人员很耐心  "})

    assert response.status_code == 302 and response["Location"] == "/kiosk/progress/rated/"
    rating = Rating.objects.get()
    assert (rating.level, rating.remark, rating.outcome.petition_id) == ("satisfied", "工作人员很耐心", answered.pk)
    assert "您对这个答复的评价是：满意。谢谢您！" in text(kiosk_client.get("/kiosk/progress/rated/"))
    content = text(kiosk_client.get("/kiosk/progress/status/"))
    assert "您对这个答复的评价是：满意。" in content
    assert "您对这个答复满意吗" not in content


def test_a_second_rating_is_told_kindly_it_was_already_given_and_changes_nothing(kiosk_client, answered):
    look_up(kiosk_client, answered)
    kiosk_client.post("/kiosk/progress/rate/", {"level": "basically_satisfied"})

    response = kiosk_client.post("/kiosk/progress/rate/", {"level": "dissatisfied", "remark": "再评一次"})

    assert response.status_code == 409
    assert "您已经评价过这个答复了，谢谢您！" in text(response)
    assert "您对这个答复的评价是：基本满意。" in text(response)
    rating = Rating.objects.get()
    assert (rating.level, rating.remark) == ("basically_satisfied", "")
    assert not ReviewRequest.objects.exists()


def test_a_rating_is_refused_in_english_when_the_kiosk_is_switched(kiosk_client, answered):
    look_up(kiosk_client, answered)
    kiosk_client.post("/kiosk/progress/rate/", {"level": "satisfied"})
    kiosk_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = kiosk_client.post("/kiosk/progress/rate/", {"level": "satisfied"})

    assert response.status_code == 409
    assert "You have already rated this answer. Thank you." in text(response)


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({}, "请选择您是否满意。"),
        ({"level": "very_satisfied"}, "请选择您是否满意。"),
        ({"level": "satisfied", "remark": "好" * 501}, "请不要超过 500 个字。"),
        ({"level": "satisfied", "remark": "很好\u202e"}, "改变书写方向"),
    ],
)
def test_a_wrong_rating_is_explained_and_nothing_is_stored(kiosk_client, answered, posted, message):
    look_up(kiosk_client, answered)

    response = kiosk_client.post("/kiosk/progress/rate/", posted)

    assert response.status_code in (400, 422)
    assert message in text(response)
    assert not Rating.objects.exists()


def test_nothing_can_be_rated_before_there_is_an_answer(kiosk_client, filed):
    look_up(kiosk_client, filed)

    response = kiosk_client.post("/kiosk/progress/rate/", {"level": "satisfied"})

    assert response.status_code == 409 and "现在还没有可以评价的答复。" in text(response)
    assert not Rating.objects.exists()


def test_rating_and_review_need_a_matter_looked_up_with_its_query_code(kiosk_client, answered):
    assert kiosk_client.post("/kiosk/progress/rate/", {"level": "satisfied"})["Location"] == "/kiosk/progress/"
    assert kiosk_client.post("/kiosk/progress/review/", {"reason": "不满意"})["Location"] == "/kiosk/progress/"
    assert kiosk_client.get("/kiosk/progress/review/done/")["Location"] == "/kiosk/progress/"
    assert not Rating.objects.exists() and not ReviewRequest.objects.exists()


def test_after_too_many_wrong_codes_the_kiosk_cannot_reach_the_rating(settings, kiosk_client, answered):
    settings.LOOKUP_MISSES_LIMIT = 2
    for guess in ("00000001", "00000002"):
        kiosk_client.post("/kiosk/progress/", {"query_code": guess, "phone_last4": "2345"})

    response = kiosk_client.post("/kiosk/progress/", {"query_code": answered.query_code, "phone_last4": "2345"})

    assert response.status_code == 400 and "请稍等几分钟" in html(response)
    assert kiosk_client.post("/kiosk/progress/rate/", {"level": "satisfied"})["Location"] == "/kiosk/progress/"
    assert not Rating.objects.exists()


# Not satisfied → a review on the spot ----------------------------------------------------------------------------


def test_not_satisfied_offers_a_review_that_reopens_the_matter_with_its_deadline(kiosk_client, answered):
    look_up(kiosk_client, answered)

    response = kiosk_client.post("/kiosk/progress/rate/", {"level": "dissatisfied", "remark": "证还是没拿到"})
    assert response["Location"] == "/kiosk/progress/review/"
    offer = text(kiosk_client.get("/kiosk/progress/review/"))
    window_ends = period_end(timezone.localdate(), 30)
    assert "申请复查" in offer and "您对答复不满意，可以在这里马上申请重新审查。" in offer
    assert f"复查要在收到书面答复之日起 30 天内申请，也就是{kiosk_day(window_ends)}之前（含当天）。" in offer
    assert "复核意见是最终意见。" in offer

    done = kiosk_client.post("/kiosk/progress/review/", {"reason": "开发商说材料早就交了，两边说法不一样"})

    assert done.status_code == 302 and done["Location"] == "/kiosk/progress/review/done/"
    answered.refresh_from_db()
    review = ReviewRequest.objects.get()
    assert (answered.status, answered.due_kind) == ("reopened", DueKind.REVIEW_ANSWER)
    assert (review.stage, review.reason) == ("review", "开发商说材料早就交了，两边说法不一样")
    assert answered.due_on == review.answer_due_on == period_end(timezone.localdate(), 30)
    confirmation = text(kiosk_client.get("/kiosk/progress/review/done/"))
    assert "复查申请已经收到" in confirmation
    assert f"复查意见应在{kiosk_day(answered.due_on)}前答复您，还有 {left(answered)} 天。" in confirmation
    assert Rating.objects.get().level == "dissatisfied"
    assert AuditEvent.objects.filter(action="review.request").count() == 1


def test_a_review_can_be_asked_without_a_reason(kiosk_client, answered):
    look_up(kiosk_client, answered)
    kiosk_client.post("/kiosk/progress/rate/", {"level": "dissatisfied"})

    assert kiosk_client.post("/kiosk/progress/review/", {"reason": ""}).status_code == 302
    assert ReviewRequest.objects.get().reason == ""


def test_a_resident_who_said_not_now_can_come_back_for_the_review(kiosk_client, answered):
    look_up(kiosk_client, answered)
    kiosk_client.post("/kiosk/progress/rate/", {"level": "dissatisfied"})

    content = text(kiosk_client.get("/kiosk/progress/status/"))

    assert "您对这个答复的评价是：不满意。" in content
    assert 'href="/kiosk/progress/review/"' in html(kiosk_client.get("/kiosk/progress/status/"))


def test_a_second_review_of_the_same_answer_is_refused_and_changes_nothing(kiosk_client, answered):
    look_up(kiosk_client, answered)
    kiosk_client.post("/kiosk/progress/review/", {"reason": "第一次"})

    response = kiosk_client.post("/kiosk/progress/review/", {"reason": "第二次"})

    assert response.status_code == 409
    assert "什么都没有改动。" in text(response)
    assert ReviewRequest.objects.count() == 1


def test_a_review_answer_can_be_re_examined_once_and_that_is_final(kiosk_client, answered, kiosk, dept_staff):
    review_request(actor=kiosk, petition=answered, reason="不服")
    answer(dept_staff, answered, items=[ItemIn(request="尽快办理回迁房房产证", decision="supported")])
    answered.refresh_from_db()
    look_up(kiosk_client, answered)
    status = text(kiosk_client.get("/kiosk/progress/status/"))
    assert "复查意见" in status and answered.status == "answered"

    kiosk_client.post("/kiosk/progress/rate/", {"level": "dissatisfied"})
    offer = text(kiosk_client.get("/kiosk/progress/review/"))
    assert "申请复核" in offer and "复核意见是最终意见：以后以同样的事实和理由再反映，不再受理。" in offer
    assert kiosk_client.post("/kiosk/progress/review/", {"reason": "复查没有查清事实"}).status_code == 302

    answered.refresh_from_db()
    assert ReviewRequest.objects.filter(stage="reexamination").count() == 1
    assert answered.due_kind == DueKind.REEXAMINATION_ANSWER
    done = text(kiosk_client.get("/kiosk/progress/review/done/"))
    assert "复核申请已经收到" in done
    assert f"复核意见应在{kiosk_day(answered.due_on)}前答复您，还有 {left(answered)} 天。" in done

    # The re-examination is answered: it is final, and the kiosk says so instead of offering another review.
    answer(dept_staff, answered, items=[ItemIn(request="尽快办理回迁房房产证", decision="supported")])
    status = text(kiosk_client.get("/kiosk/progress/status/"))
    assert "复核意见（最终意见）" in status
    kiosk_client.post("/kiosk/progress/rate/", {"level": "dissatisfied"})
    offer = text(kiosk_client.get("/kiosk/progress/review/"))
    assert "这是复核意见，是最终意见，不能再申请复查或复核。" in offer and "提交" not in offer

    refused = kiosk_client.post("/kiosk/progress/review/", {"reason": "还是不服"})

    assert refused.status_code == 409
    assert "复核意见是最终意见，不能再申请复查或复核。" in text(refused) and "什么都没有改动。" in text(refused)
    answered.refresh_from_db()
    assert answered.status == "answered" and ReviewRequest.objects.count() == 2


def test_a_review_is_refused_after_thirty_days_and_nothing_changes(kiosk_client, filed, dept_staff):
    # Long enough ago that no holiday at the end of the 30 days can stretch the window to today.
    outcome = answer(dept_staff, filed, now=timezone.now() - dt.timedelta(days=40))
    filed.refresh_from_db()
    look_up(kiosk_client, filed)
    assert review_window_ends(outcome) < timezone.localdate()

    offer = text(kiosk_client.get("/kiosk/progress/review/"))
    assert f"也就是{kiosk_day(review_window_ends(outcome))}之前。这个期限已经过了。" in offer
    assert "提交复查申请" not in offer

    refused = kiosk_client.post("/kiosk/progress/review/", {"reason": "晚了也想申请"})

    assert refused.status_code == 409
    assert "复查（复核）要在收到答复之日起 30 天内申请，现在已经超过期限。" in text(refused)
    filed.refresh_from_db()
    assert filed.status == "answered" and filed.answered_at is not None
    assert not ReviewRequest.objects.exists()


def test_a_review_on_the_last_day_of_the_window_is_accepted(kiosk_client, filed, dept_staff):
    outcome = answer(dept_staff, filed, now=timezone.now() - dt.timedelta(days=30))
    look_up(kiosk_client, filed)
    assert review_window_ends(outcome) >= timezone.localdate()

    assert kiosk_client.post("/kiosk/progress/review/", {}).status_code == 302
    assert ReviewRequest.objects.count() == 1


def test_a_review_reason_that_is_too_long_is_explained_and_nothing_changes(kiosk_client, answered):
    look_up(kiosk_client, answered)

    response = kiosk_client.post("/kiosk/progress/review/", {"reason": "不" * 1001})

    assert response.status_code == 400 and "请不要超过 1000 个字。" in text(response)
    answered.refresh_from_db()
    assert answered.status == "answered" and not ReviewRequest.objects.exists()


# Cost ------------------------------------------------------------------------------------------------------------


def test_the_progress_page_with_an_answer_runs_a_constant_number_of_queries(
    kiosk_client, kiosk, published, dept_staff, filed
):
    answer(
        dept_staff,
        filed,
        commitments=[CommitmentIn(responsible="区房产局产权科", action="集中办理房产证", due_on=later(10))],
        slip=SlipIn(to_check="回访", due_on=later(12)),
    )
    look_up(kiosk_client, filed)
    kiosk_client.get("/kiosk/progress/status/")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert kiosk_client.get("/kiosk/progress/status/").status_code == 200
        return len(queries)

    small = count()
    for n in range(8):
        other = f.petition(kiosk, published, name="李建国")
        answer(
            dept_staff,
            other,
            commitments=[CommitmentIn(responsible=f"第{n}科", action="办理", due_on=later(n + 1))],
            slip=SlipIn(to_check="回访", due_on=later(n + 2)),
        )
    assert count() == small
    assert small <= 12, small
