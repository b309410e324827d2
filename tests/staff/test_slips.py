"""The community's follow-up slips (矛盾化解提示单): each community worker sees and closes their own; the petition
office sees every community's, overdue first."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.models import FollowUpSlip, Petition
from appointments.outcomes.services import CommitmentIn, ItemIn, OutcomeIn, SlipIn, outcome_record
from departments.audit import AuditEvent
from departments.models import Community, StaffMember
from departments.services import Actor
from tests import factories as f

pytestmark = pytest.mark.django_db

URL = "/staff/community/slips/"


def signed_in(client, actor):
    client.force_login(actor.staff.user)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", response.content.decode()))


def later(days: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


def slip_for(actor, petition, *, to_check: str, due_in: int = 10, commitments=()) -> FollowUpSlip:
    """Answer a petition with a follow-up slip to its community, as department staff do."""
    outcome = outcome_record(
        actor=actor,
        petition=petition,
        data=OutcomeIn(
            answer="楼道漏水由物业公司在两周内维修，维修费用从专项维修资金列支。",
            items=[ItemIn(request="维修楼道漏水", decision="supported")],
            commitments=list(commitments),
            slip=SlipIn(to_check=to_check, due_on=later(due_in)),
        ),
    )
    return outcome.slips.get()


def overdue(slip: FollowUpSlip, days: int) -> FollowUpSlip:
    FollowUpSlip.objects.filter(pk=slip.pk).update(due_on=timezone.localdate() - dt.timedelta(days=days))
    slip.refresh_from_db()
    return slip


@pytest.fixture
def lanshan_slip(kiosk, published, dept_staff):
    petition = f.petition(kiosk, published, name="孙淑珍")
    return slip_for(dept_staff, petition, to_check="上门查看楼道是否已经修好，孙淑珍是否满意")


@pytest.fixture
def fuan_slip(other_kiosk_and_key, published, dept_staff):
    petition = f.petition(other_kiosk_and_key[0], published, name="钱国强")
    return slip_for(dept_staff, petition, to_check="回访钱国强：物业是否已清理堆放杂物", due_in=3)


def test_a_slip_opened_by_an_outcome_is_on_its_communitys_page_and_not_on_another(
    client, worker, other_worker, lanshan_slip, fuan_slip
):
    own = text(signed_in(client, worker).get(URL))
    assert "上门查看楼道是否已经修好，孙淑珍是否满意" in own
    assert lanshan_slip.petition.reference in own and "孙淑珍" in own
    assert "楼道漏水由物业公司在两周内维修" in own  # what was decided
    assert f"{lanshan_slip.due_on:%Y-%m-%d}前了解落实" in own
    assert "回访钱国强" not in own and fuan_slip.petition.reference not in own

    other = text(signed_in(client, other_worker).get(URL))
    assert "回访钱国强：物业是否已清理堆放杂物" in other
    assert "孙淑珍" not in other


def test_the_page_shows_the_mobile_masked_only(client, worker, lanshan_slip):
    petition = lanshan_slip.petition
    page = signed_in(client, worker).get(URL).content.decode()

    assert petition.contact_phone not in page and petition.resident.id_number not in page
    assert petition.contact_phone_masked in page


def test_a_community_worker_closes_a_slip_with_what_was_found(client, worker, lanshan_slip):
    response = signed_in(client, worker).post(
        f"{URL}{lanshan_slip.pk}/close", {"findings": "  12月2日上门查看，楼道已修好，孙淑珍表示满意。  "}
    )

    assert response.status_code == 302 and response["Location"] == URL
    lanshan_slip.refresh_from_db()
    assert lanshan_slip.closed_at is not None and lanshan_slip.closed_by == worker.staff
    assert lanshan_slip.findings == "12月2日上门查看，楼道已修好，孙淑珍表示满意。"
    assert AuditEvent.objects.filter(action="slip.close").count() == 1
    # With nothing else open, the petition's follow-up is done.
    assert Petition.objects.get(pk=lanshan_slip.petition_id).status == "answered"
    page = text(client.get(URL))
    assert "提示单已办结，谢谢。" in page
    assert "没有待办的提示单。" in page
    closed = page[page.index("已办结的提示单") :]
    assert "12月2日上门查看，楼道已修好，孙淑珍表示满意。" in closed and lanshan_slip.petition.reference in closed


def test_a_slip_closed_while_a_commitment_is_open_keeps_the_petition_followed_up(
    client, worker, kiosk, published, dept_staff
):
    petition = f.petition(kiosk, published)
    slip = slip_for(
        dept_staff,
        petition,
        to_check="回访",
        commitments=[CommitmentIn(responsible="物业公司", action="维修楼道", due_on=later(14))],
    )

    signed_in(client, worker).post(f"{URL}{slip.pk}/close", {"findings": "已回访，正在维修。"})

    assert Petition.objects.get(pk=petition.pk).status == "follow_up"


@pytest.mark.parametrize(
    ("findings", "message"),
    [("", "此项必填。"), ("   \n ", "此项必填。"), ("情况\u0007属实", "不可见的控制字符"), ("查" * 2001, "太长")],
)
def test_closing_without_findings_is_refused_and_the_slip_stays_open(client, worker, lanshan_slip, findings, message):
    response = signed_in(client, worker).post(f"{URL}{lanshan_slip.pk}/close", {"findings": findings})

    assert response.status_code == 422
    body = response.content.decode()
    assert message in body
    assert f'id="findings-{lanshan_slip.pk}" name="findings"' in body and 'aria-invalid="true"' in body
    lanshan_slip.refresh_from_db()
    assert lanshan_slip.closed_at is None and lanshan_slip.findings == ""


def test_another_communitys_slip_is_not_found_and_unchanged(client, worker, fuan_slip):
    response = signed_in(client, worker).post(f"{URL}{fuan_slip.pk}/close", {"findings": "已回访"})

    assert response.status_code == 404
    fuan_slip.refresh_from_db()
    assert fuan_slip.closed_at is None
    assert signed_in(client, worker).post(f"{URL}999999/close", {"findings": "已回访"}).status_code == 404


def test_closing_a_slip_twice_says_so_and_keeps_the_first_findings(client, worker, lanshan_slip):
    signed_in(client, worker).post(f"{URL}{lanshan_slip.pk}/close", {"findings": "第一次回访"})

    response = client.post(f"{URL}{lanshan_slip.pk}/close", {"findings": "第二次"}, follow=True)

    assert response.status_code == 200 and "这张矛盾化解提示单已经办结。" in text(response)
    lanshan_slip.refresh_from_db()
    assert lanshan_slip.findings == "第一次回访"


def test_other_roles_may_not_open_the_slips(client, dept_staff, dept_admin, lanshan_slip):
    for actor in (dept_staff, dept_admin):
        assert signed_in(client, actor).get(URL).status_code == 403
        assert client.post(f"{URL}{lanshan_slip.pk}/close", {"findings": "x"}).status_code == 403
    lanshan_slip.refresh_from_db()
    assert lanshan_slip.closed_at is None


def test_the_slips_ask_for_a_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_petition_office_sees_every_community_overdue_first(
    client, officer, kiosk, published, dept_staff, lanshan_slip, fuan_slip
):
    late = overdue(slip_for(dept_staff, f.petition(kiosk, published, name="周玉兰"), to_check="回访周玉兰"), 6)

    page = text(signed_in(client, officer).get(URL))

    assert "矛盾化解提示单 · 全部社区" in page
    assert "待办：3 张" in page and "1 张已超期" in page
    assert "已超期 6 天" in page
    order = [page.index(s.petition.reference) for s in (late, fuan_slip, lanshan_slip)]
    assert order == sorted(order)  # overdue first, then by the date due
    assert "蓝山社区" in page and "福安社区" in page


def test_the_petition_office_filters_by_community_and_closes_there(
    client, officer, lanshan_slip, fuan_slip, other_community
):
    signed_in(client, officer)

    page = text(client.get(URL, {"community": other_community.code}))
    assert "矛盾化解提示单 · 福安社区" in page
    assert fuan_slip.petition.reference in page and lanshan_slip.petition.reference not in page

    response = client.post(
        f"{URL}{fuan_slip.pk}/close", {"findings": "信访局电话回访，杂物已清理", "community": other_community.code}
    )
    assert response.status_code == 302 and response["Location"] == f"{URL}?community={other_community.code}"
    fuan_slip.refresh_from_db()
    assert fuan_slip.closed_by.role == StaffMember.Role.PETITION_OFFICER

    assert client.get(URL, {"community": "nowhere"}).status_code == 404


def test_an_overdue_slip_is_marked_for_the_community_too(client, worker, lanshan_slip):
    overdue(lanshan_slip, 2)

    response = signed_in(client, worker).get(URL)

    assert "已超期 2 天" in text(response) and "1 张已超期" in text(response)
    assert f'class="card slip attention" id="slip-{lanshan_slip.pk}"' in response.content.decode()


def test_a_community_worker_cannot_look_at_another_community_by_the_filter(
    client, worker, lanshan_slip, fuan_slip, other_community
):
    page = text(signed_in(client, worker).get(URL, {"community": other_community.code}))

    assert lanshan_slip.petition.reference in page and fuan_slip.petition.reference not in page


def test_the_community_page_counts_the_open_slips_and_links_to_them(client, worker, lanshan_slip, fuan_slip):
    page = signed_in(client, worker).get("/staff/community/").content.decode()

    assert "1 张矛盾化解提示单待办" in text_of(page)
    assert f'href="{URL}"' in page  # in the navigation and beside the count


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))


def test_the_slips_page_runs_a_constant_number_of_queries(client, officer, kiosk, published, dept_staff, places):
    signed_in(client, officer)
    slip_for(dept_staff, f.petition(kiosk, published), to_check="回访")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    small = count()
    street = places[1]
    for n in range(6):
        community = Community.objects.create(code=f"c{n}", name=f"第{n}社区", street=street)
        kiosk_n = Actor(kiosk=f.kiosk_actor(community)[0].kiosk)
        slip = slip_for(dept_staff, f.petition(kiosk_n, published), to_check=f"回访{n}")
        if n % 2:
            signed_in(client, officer).post(f"{URL}{slip.pk}/close", {"findings": "已回访"})
    assert count() == small


# In the browser --------------------------------------------------------------------------------------------------


def _sign_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next=/staff/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-for-tests-123")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/\w+/"))


def _screen(page, name: str) -> None:
    """No serious or critical axe violations, and a screenshot of the whole page to look at."""
    from axe_playwright_python.sync_playwright import Axe

    from tests.video.support import REPO

    page.wait_for_load_state("load")
    violations = [v for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    assert not violations, [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in violations]
    shots = REPO / "test-artifacts" / "staff"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_slips_pages_in_the_browser(live_server, page, worker, officer, lanshan_slip, fuan_slip, kiosk, published):
    from playwright.sync_api import expect

    f.categories()
    late = overdue(
        slip_for(
            Actor(staff=f.staff("dept_staff2", StaffMember.Role.DEPARTMENT_STAFF, department=published)),
            f.petition(kiosk, published, name="周玉兰"),
            to_check="回访周玉兰：小区门口路灯是否已修复",
        ),
        4,
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    _sign_in(page, live_server, "worker")
    expect(page.locator("main")).to_contain_text("2 张矛盾化解提示单待办")
    page.get_by_role("navigation").get_by_role("link", name="矛盾化解提示单").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("矛盾化解提示单 · 蓝山社区")
    expect(page.locator(f"#slip-{late.pk}")).to_contain_text("已超期 4 天")
    expect(page.locator("main")).not_to_contain_text("回访钱国强")
    _screen(page, "slips-01-community")

    slip = page.locator(f"#slip-{lanshan_slip.pk}")
    slip.get_by_role("button", name=re.compile("办结提示单")).click()
    expect(page.get_by_role("alert")).to_contain_text("此项必填。")
    _screen(page, "slips-02-findings-missing")
    page.get_by_label("社区了解到的情况").nth(1).fill("12月2日上门查看，楼道已修好，孙淑珍表示满意。")
    page.locator(f"#slip-{lanshan_slip.pk}").get_by_role("button", name=re.compile("办结提示单")).click()
    expect(page.locator(".messages")).to_contain_text("提示单已办结")
    expect(page.locator("table")).to_contain_text("孙淑珍表示满意")
    _screen(page, "slips-03-closed")

    page.context.clear_cookies()
    _sign_in(page, live_server, "officer")
    page.goto(f"{live_server.url}/staff/community/slips/")
    expect(page.get_by_role("heading", level=1)).to_have_text("矛盾化解提示单 · 全部社区")
    cards = page.locator("article.slip")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text("已超期 4 天")
    _screen(page, "slips-04-office")
    page.get_by_label("社区", exact=True).select_option("fuan")
    page.get_by_role("button", name="查看").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("矛盾化解提示单 · 福安社区")
    expect(cards).to_have_count(1)
