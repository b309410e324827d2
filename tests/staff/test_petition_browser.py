"""The petition list and a petition's page in Debian's Chromium: an outcome recorded through the form, screenshots,
and axe on both pages."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from appointments.booking import appointment_book
from appointments.models import FollowUpSlip, Outcome, Petition
from appointments.outcomes.lifecycle import petition_accept, petition_extend
from appointments.outcomes.services import ItemIn, OutcomeIn, outcome_record
from departments.models import StaffMember
from departments.services import Actor
from tests import factories as f
from tests.staff.test_browser import serious_violations, shoot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(department, community):
    return {
        "staff": Actor(staff=f.staff("dept_staff", StaffMember.Role.DEPARTMENT_STAFF, department=department)),
        "officer": Actor(staff=f.staff("officer", StaffMember.Role.PETITION_OFFICER)),
    }


@pytest.fixture
def petitions(kiosk, other_kiosk, published, other_department, open_slots, people):
    """A list with petitions in several states, two of them past their deadline and one due soon."""
    staff, officer = people["staff"], people["officer"]
    today = timezone.localdate()
    booked = f.petition(kiosk, published, name="王秀兰", summary="回迁房的房产证一直办不下来，开发商说材料不全。")
    appointment_book(actor=kiosk, petition_reference=booked.reference, slot_id=open_slots[0].pk)
    accepted = petition_accept(
        actor=staff,
        petition=f.petition(other_kiosk, published, name="赵德胜", summary="楼上漏水三个月，物业一直不修。"),
    )
    petition_extend(actor=officer, petition=accepted, days=15, reason="需要会同物业现场勘查")
    answered = f.petition(kiosk, published, name="陈玉梅", summary="小区停车位被长期占用，多次反映无果。")
    outcome_record(
        actor=staff,
        petition=answered,
        data=OutcomeIn(
            answer="已责成物业清理占用车位，并设立巡查。", items=[ItemIn(request="清理占用车位", decision="supported")]
        ),
    )
    late = f.petition(kiosk, published, name="吴国庆", summary="单位宿舍产权不清，房产证办不了。")
    later = f.petition(other_kiosk, published, name="郑淑华", summary="回迁补偿款至今未到位。")
    soon = f.petition(
        kiosk, other_department, name="杨志强", category="labour-social-security", summary="公司拖欠工资两个月。"
    )
    Petition.objects.filter(pk=late.pk).update(due_on=today - dt.timedelta(days=6))
    Petition.objects.filter(pk=later.pk).update(due_on=today - dt.timedelta(days=1))
    Petition.objects.filter(pk=soon.pk).update(due_on=today + dt.timedelta(days=2))
    return {"booked": Petition.objects.get(pk=booked.pk), "late": late}


def test_department_staff_record_an_outcome_on_the_petition_page(live_server, page, people, petitions):
    petition = petitions["booked"]
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, live_server, "dept_staff")
    page.goto(f"{live_server.url}/staff/petitions/{petition.reference}/#record-outcome")

    in_a_month = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    page.fill("#outcome-answer", "经核实，开发商已补齐材料，房产证将在30日内办结，办好后电话通知您领取。")
    page.fill("#outcome-basis", "《不动产登记暂行条例》第二十条")
    page.fill("#item-0-request", "办理回迁房房产证")
    page.select_option("#item-0-decision", "supported")
    page.fill("#item-1-request", "赔偿延误造成的损失")
    page.select_option("#item-1-decision", "explained")
    page.fill("#commitment-0-responsible", "区房产局产权科")
    page.fill("#commitment-0-action", "督促开发商提交材料并办结房产证")
    page.fill("#commitment-0-due_on", in_a_month)
    page.fill("#slip-to-check", "回访确认群众是否已领到房产证")
    page.fill("#slip-due-on", in_a_month)
    shoot(page, "petition-outcome-form")
    page.get_by_role("button", name="录入并告知群众").click()

    expect(page.locator(".messages .success")).to_contain_text("答复已录入并告知群众")
    expect(page.locator(".timeline .event-outcome")).to_contain_text("办理回迁房房产证")
    expect(page.locator(".timeline .event-outcome")).to_contain_text("解释说明")
    expect(page.locator(".commitments")).to_contain_text("区房产局产权科")
    outcome = Outcome.objects.get(petition=petition)
    assert [i.decision for i in outcome.items.all()] == ["supported", "explained"]
    assert FollowUpSlip.objects.get(petition=petition).to_check == "回访确认群众是否已领到房产证"
    assert Petition.objects.get(pk=petition.pk).status == "follow_up"

    shoot(page, "petition-page")
    assert serious_violations(page) == []


def test_a_refused_outcome_shows_why_beside_the_field_in_the_browser(live_server, page, people, petitions):
    petition = petitions["booked"]
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, live_server, "dept_staff")
    page.goto(f"{live_server.url}/staff/petitions/{petition.reference}/")

    page.fill("#outcome-answer", "已答复。")
    page.fill("#item-0-request", "办理房产证")
    page.get_by_role("button", name="录入并告知群众").click()

    expect(page.locator("[role=alert]")).to_be_visible()
    expect(page.locator("#item-0-request")).to_have_value("办理房产证")
    expect(page.locator(".item-row.has-error")).to_have_count(1)
    assert not Outcome.objects.filter(petition=petition).exists()
    shoot(page, "petition-outcome-refused")
    assert serious_violations(page) == []


def test_the_petition_list_for_the_petition_office(live_server, page, people, petitions):
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, live_server, "officer")
    page.goto(f"{live_server.url}/staff/petitions/")

    expect(page.locator(".deadline-counts")).to_contain_text("2")
    expect(page.locator("table.petitions tbody tr")).to_have_count(6)
    shoot(page, "petition-list")
    assert serious_violations(page) == []

    page.locator(".deadline-counts a").first.click()
    expect(page.locator("table.petitions tbody tr")).to_have_count(2)
    expect(page.locator("table.petitions")).to_contain_text(petitions["late"].reference)
    expect(page.locator("table.petitions")).to_contain_text("已超期 6 天")
    shoot(page, "petition-list-overdue")

    page.fill("#q", petitions["booked"].resident.id_number)
    page.get_by_role("button", name="查找").click()
    expect(page.locator("table.petitions tbody tr")).to_have_count(1)
    assert petitions["booked"].resident.id_number not in page.url
    assert petitions["booked"].resident.id_number not in page.content()


def test_the_petition_page_for_the_petition_office_reveals_the_id_number_once(live_server, page, people, petitions):
    petition = petitions["booked"]
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, live_server, "officer")
    page.goto(f"{live_server.url}/staff/petitions/{petition.reference}/")
    shoot(page, "petition-page-officer")
    assert serious_violations(page) == []

    page.get_by_role("button", name="查看完整号码（将记录在案）").click()

    expect(page.locator("#revealed-id")).to_have_text(petition.resident.id_number)
    assert petition.resident.id_number not in page.url
