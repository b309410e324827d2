"""The outcome screens of the kiosk in Debian's Chromium at 1080×1920: the answer, the deadline, the rating buttons,
and a review asked on the spot; axe on every new screen and a screenshot of each."""

import datetime as dt
import importlib
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from appointments.kiosk.format import kiosk_day
from appointments.models import Petition, Rating, ReviewRequest
from appointments.outcomes.lifecycle import petition_accept, petition_deadline_refresh, petition_extend
from appointments.outcomes.services import CommitmentIn, ItemIn, OutcomeIn, SlipIn, outcome_record
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "kiosk"
PHONE = "13840012345"
ANSWER = (
    "经核查，您所在的回迁楼已于今年9月通过竣工验收，房产证可以办理。\n"
    "开发商尚未补交测绘报告，区房产局已责令其在两周内补交；房产证将为全楼统一办理。\n"
    "租房损失的赔偿不属于本局职责，已向您解释了通过协商或诉讼解决的途径。"
)


@pytest.fixture(autouse=True)
def categories(db):
    """The categories a migration seeds (a transactional test's flush removes them)."""
    importlib.import_module("appointments.migrations.0002_seed_categories").seed(apps, None)


def screen(page, name: str) -> None:
    """Check the screen with axe-core (no serious or critical violations) and keep a screenshot of all of it."""
    from axe_playwright_python.sync_playwright import Axe

    page.wait_for_load_state("load")
    origin = "/".join(page.url.split("/")[:3])
    loaded = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    assert all(url.startswith((origin, "data:")) for url in loaded), loaded  # nothing from outside
    violations = [v for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    assert not violations, [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in violations]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def heading(page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)
    page.wait_for_load_state("load")


def later(days: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


@pytest.fixture
def kiosk_page(page, live_server, kiosk_key):
    page.context.add_cookies(
        [{"name": settings.KIOSK_KEY_COOKIE, "value": kiosk_key, "url": live_server.url, "httpOnly": True}]
    )
    page.goto(f"{live_server.url}/kiosk/")
    heading(page, "您要办理什么？")
    return page


@pytest.fixture
def answered(kiosk, published, dept_staff):
    """赵桂芝's matter, answered by 区房产局 with three decisions, two commitments and a slip to 蓝山社区."""
    petition = f.petition(kiosk, published, phone=PHONE, name="赵桂芝")
    outcome_record(
        actor=dept_staff,
        petition=petition,
        data=OutcomeIn(
            answer=ANSWER,
            items=[
                ItemIn(request="尽快办理回迁房房产证", decision="supported"),
                ItemIn(request="开发商公开测绘报告", decision="partly_supported"),
                ItemIn(request="赔偿这几年的租房损失", decision="not_supported"),
            ],
            legal_basis="《不动产登记暂行条例》第十四条",
            commitments=[
                CommitmentIn(responsible="开发商项目部", action="补交测绘报告", due_on=later(14)),
                CommitmentIn(responsible="区房产局产权科", action="为全楼统一办理房产证", due_on=later(45)),
            ],
            slip=SlipIn(to_check="了解房产证是否已发到赵桂芝手中", due_on=later(50)),
        ),
    )
    petition.refresh_from_db()
    return petition


def find_progress(page, petition: Petition) -> None:
    page.get_by_role("link", name="查询进度").click()
    heading(page, "查询进度")
    page.get_by_label("查询码（8 位数字，在回执上）").fill(petition.query_code)
    page.get_by_label("手机号码后 4 位").fill(PHONE[-4:])
    page.get_by_role("button", name="查询").click()
    heading(page, "您的事项")


def test_an_answer_then_not_satisfied_then_a_review_asked_on_the_spot(kiosk_page, answered):
    page = kiosk_page
    find_progress(page, answered)
    main = page.locator("main")
    expect(main).to_contain_text("部门已经答复您，答应办的事情正在跟进落实。")
    items = page.locator(".items li")
    expect(items).to_have_count(3)
    expect(items.nth(1)).to_contain_text("开发商公开测绘报告")
    expect(items.nth(1)).to_contain_text("部分支持")
    expect(main).to_contain_text("租房损失的赔偿不属于本局职责")
    expect(main).to_contain_text(f"开发商项目部：补交测绘报告 {kiosk_day(later(14))}前办好")
    expect(main).to_contain_text(f"蓝山社区会在{kiosk_day(later(50))}前向您了解落实情况。")
    expect(main).not_to_contain_text(PHONE)

    # Three big, separate buttons for an unsteady finger, side by side.
    buttons = page.locator(".rating button")
    expect(buttons).to_have_text(["满意", "基本满意", "不满意"])
    boxes = [buttons.nth(n).bounding_box() for n in range(3)]
    for box in boxes:
        assert box is not None and box["width"] >= 48 and box["height"] >= 48, box
        assert box["height"] >= 96 and box["width"] >= 200, box  # far beyond the minimum on this screen
    assert boxes[0]["x"] + boxes[0]["width"] < boxes[1]["x"] and boxes[1]["x"] + boxes[1]["width"] < boxes[2]["x"]
    screen(page, "outcomes-01-answer")

    page.get_by_label("您还想说点什么吗？（可以不填）").fill("房产证到现在还没拿到")
    page.get_by_role("button", name="不满意").click()

    heading(page, "申请复查")
    expect(main).to_contain_text("您对答复不满意，可以在这里马上申请重新审查。")
    expect(main).to_contain_text("复核意见是最终意见。")
    screen(page, "outcomes-02-review-offer")
    page.get_by_label("您为什么不满意？（可以不填）").fill("开发商说材料早就交了，两边说法不一样")
    page.get_by_role("button", name="提交复查申请").click()

    heading(page, "复查申请已经收到")
    answered.refresh_from_db()
    left = (answered.due_on - timezone.localdate()).days
    said = f"复查意见应在{kiosk_day(answered.due_on)}前答复您，还有 {left} 天。"
    expect(page.locator(".deadline")).to_have_text(said)
    screen(page, "outcomes-03-review-received")
    assert Rating.objects.get().remark == "房产证到现在还没拿到"
    assert ReviewRequest.objects.get().stage == "review" and answered.status == "reopened"

    page.get_by_role("link", name="回到我的事项").click()
    heading(page, "您的事项")
    expect(main).to_contain_text("您申请了复查，您的事项正在重新审查。")
    expect(page.locator(".rating")).to_have_count(0)
    screen(page, "outcomes-04-reopened")


def test_satisfied_says_thank_you_and_a_second_tap_elsewhere_is_told_kindly(kiosk_page, answered):
    page = kiosk_page
    find_progress(page, answered)
    # The same matter left open on a second screen of this kiosk (as after Back), then rated on the first.
    second = page.context.new_page()
    second.goto(page.url)
    heading(second, "您的事项")

    page.get_by_role("button", name="满意", exact=True).click()
    heading(page, "谢谢您的评价")
    expect(page.locator("main")).to_contain_text("您对这个答复的评价是：满意。谢谢您！")
    screen(page, "outcomes-05-rated")

    second.get_by_role("button", name="基本满意").click()
    heading(second, "您的事项")
    expect(second.get_by_role("alert")).to_have_text("您已经评价过这个答复了，谢谢您！")
    expect(second.locator(".rated")).to_contain_text("满意")
    screen(second, "outcomes-06-already-rated")
    assert Rating.objects.get().level == "satisfied"
    second.close()


def test_the_answer_in_english(kiosk_page, answered):
    page = kiosk_page
    find_progress(page, answered)
    page.get_by_role("button", name="English").click()
    heading(page, "Your matter")
    expect(page.locator(".rating button")).to_have_text(["Satisfied", "Basically satisfied", "Not satisfied"])
    expect(page.locator(".items li").nth(2)).to_contain_text("Not supported")
    screen(page, "outcomes-07-answer-english")


def test_an_extended_and_an_overdue_deadline(kiosk_page, kiosk, published, dept_staff, officer):
    page = kiosk_page
    extended = f.petition(kiosk, published, phone=PHONE)
    petition_accept(actor=dept_staff, petition=extended)
    reason = "需要向市不动产登记中心调取1998年的历史档案"
    petition_extend(actor=officer, petition=extended, days=30, reason=reason)
    find_progress(page, extended)
    expect(page.locator("main")).to_contain_text(f"答复期限延长了 30 天。原因：{reason}")
    screen(page, "outcomes-08-extended")

    late = f.petition(kiosk, published, phone=PHONE)
    Petition.objects.filter(pk=late.pk).update(received_at=timezone.now() - dt.timedelta(days=40))
    late.refresh_from_db()
    petition_deadline_refresh(petition=late)
    page.get_by_role("link", name="返回").click()
    heading(page, "查询进度")
    page.get_by_label("查询码（8 位数字，在回执上）").fill(late.query_code)
    page.get_by_label("手机号码后 4 位").fill(PHONE[-4:])
    page.get_by_role("button", name="查询").click()
    heading(page, "您的事项")
    expect(page.locator(".deadline.overdue")).to_contain_text("信访局正在督办")
    screen(page, "outcomes-09-overdue")
