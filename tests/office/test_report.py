"""The weekly data report (数据周通报): the PDF's Chinese text and fonts, the CSV and the API agree, run after run."""

import csv
import datetime as dt
import io
import subprocess

import pytest
from django.test import Client
from django.utils import translation

from appointments.models import Outcome, Petition, Rating
from appointments.office.figures import week_report
from appointments.office.report import (
    all_metric_keys,
    csv_value,
    report_charts,
    report_csv,
    report_for_actor,
    report_pdf,
    report_rows,
    report_week_parse,
)
from departments.models import StaffMember
from scheduler.errors import Forbidden, InvalidInput
from tests import factories as f

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 2)  # a Wednesday of 2026-W49; the report is about 2026-W48 (23–29 November)
PASSWORD = "pw-for-tests-123"


def _answer(petition: Petition, officer: StaffMember, told: str, *, rating: str | None = None) -> None:
    outcome = Outcome.objects.create(
        petition=petition,
        department=petition.department,
        answer="经核查，已为您办理房产证，请携带身份证到区政务服务中心领取。",
        recorded_by=officer,
        told_at=f.local(told),
    )
    if rating:
        rated = Rating.objects.create(outcome=outcome, level=rating)
        Rating.objects.filter(pk=rated.pk).update(rated_at=f.local(told) + dt.timedelta(hours=2))


@pytest.fixture
def week_data(kiosk, department, other_department, officer):
    """Two departments' petitions filed and answered in 2026-W48 and the week before, with ratings."""
    officer_staff = officer.staff
    filed = [
        (department, "2026-11-23 09:10", "housing"),
        (department, "2026-11-24 15:40", "housing"),
        (department, "2026-11-27 10:05", "housing"),
        (other_department, "2026-11-25 11:30", "labour"),
        (other_department, "2026-11-17 08:50", "labour"),
        (department, "2026-11-18 14:20", "housing"),
    ]
    petitions = []
    for index, (dept, received, category) in enumerate(filed):
        petition = f.petition(
            kiosk,
            dept,
            name=["张伟", "李娜", "王芳", "刘洋", "陈静", "杨磊"][index],
            id_number=f.valid_id_number(),
            category=category if category in {"housing"} else "housing",
        )
        Petition.objects.filter(pk=petition.pk).update(received_at=f.local(received))
        petitions.append(Petition.objects.get(pk=petition.pk))
    _answer(petitions[0], officer_staff, "2026-11-26 10:00", rating=Rating.Level.SATISFIED)
    _answer(petitions[1], officer_staff, "2026-11-28 16:00", rating=Rating.Level.DISSATISFIED)
    _answer(petitions[3], officer_staff, "2026-11-29 09:00", rating=Rating.Level.BASICALLY_SATISFIED)
    _answer(petitions[4], officer_staff, "2026-11-20 11:00")
    return petitions


def _tool(*args: str) -> str:
    """Run one of poppler-utils' programs (a fixed name from the Makefile's Debian packages) and return its output."""
    return subprocess.run(["/usr/bin/" + args[0], *args[1:]], capture_output=True, text=True, check=True).stdout  # noqa: S603


def _pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return _tool("pdftotext", "-layout", str(path), "-")


def test_the_pdf_reads_in_chinese_with_its_fonts_embedded(week_data, officer, department, tmp_path):
    with translation.override("zh-hans"):
        report = report_for_actor(actor=officer, iso_year=2026, iso_week=48, today=TODAY)
        pdf = report_pdf(report)

    text = _pdf_text(pdf, tmp_path)
    assert "数据周通报" in text
    assert department.name in text
    assert "2026-11-23" in text and "2026-11-29" in text
    (tmp_path / "report.pdf").write_bytes(pdf)
    fonts = _tool("pdffonts", str(tmp_path / "report.pdf"))
    lines = fonts.splitlines()[2:]
    assert lines and any("CJK" in line for line in lines)
    assert all(line.split()[-5] == "yes" for line in lines), fonts  # the "emb" column


def test_the_pdf_states_the_district_s_handled_resolved_and_rate(week_data, officer, tmp_path):
    with translation.override("zh-hans"):
        report = report_for_actor(actor=officer, iso_year=2026, iso_week=48, today=TODAY)
        text = _pdf_text(report_pdf(report), tmp_path)

    total = report.total
    assert (total.handled, total.filed) == (3, 4)
    assert total.resolved == 2  # the dissatisfied one is not resolved
    assert f"{total.handled}" in text and "66.7%" in text


def test_the_csv_reads_back_as_the_figures(week_data, officer):
    report = report_for_actor(actor=officer, iso_year=2026, iso_week=48, today=TODAY)

    lines = list(csv.DictReader(io.StringIO(report_csv(report))))
    rows = report_rows(report)

    assert [(line["scope"], line["code"]) for line in lines] == [(row.scope, row.code) for row in rows]
    for line, row in zip(lines, rows, strict=True):
        for key in all_metric_keys():
            assert line[key] == csv_value(row.value(key)), (row.name, key)
            assert line[f"{key}_previous"] == csv_value(row.previous(key)), (row.name, key)
            assert line[f"{key}_change"] == csv_value(row.change(key)), (row.name, key)
    district = lines[0]
    assert (district["handled"], district["handled_previous"], district["handled_change"]) == ("3", "1", "2")
    assert district["resolution_rate"] == "0.6667"


def test_a_past_week_reads_the_same_on_a_second_run(week_data, officer):
    actor = officer
    first = report_csv(report_for_actor(actor=actor, iso_year=2026, iso_week=48, today=TODAY))
    second = report_csv(report_for_actor(actor=actor, iso_year=2026, iso_week=48, today=TODAY + dt.timedelta(days=9)))

    assert first == second


def test_the_api_answers_the_numbers_of_the_csv(week_data, officer, client, monkeypatch):
    monkeypatch.setattr("appointments.office.report.service_today", lambda: TODAY)
    client.login(username=officer.staff.user.username, password=PASSWORD)

    body = client.get("/api/v1/reports/weekly?week=2026-W48").json()
    lines = list(csv.DictReader(io.StringIO(report_csv(week_report(iso_year=2026, iso_week=48)))))

    api_rows = [body["district"], *body["departments"], *body["streets"], *body["communities"], *body["categories"]]
    assert [r["code"] for r in api_rows] == [line["code"] for line in lines]
    for api_row, line in zip(api_rows, lines, strict=True):
        for key in all_metric_keys():
            if key.startswith("open_") and key[5:] in api_row["this_week"]["open_by_status"]:
                this, before = (api_row[w]["open_by_status"][key[5:]] for w in ("this_week", "previous_week"))
            else:
                this, before = api_row["this_week"][key], api_row["previous_week"][key]
            assert csv_value(this) == line[key], (line["name"], key)
            assert csv_value(before) == line[f"{key}_previous"], (line["name"], key)
            assert csv_value(api_row["change"][key]) == line[f"{key}_change"], (line["name"], key)
    assert body["week"] == "2026-W48" and body["first_day"] == "2026-11-23"


def test_a_department_reads_only_its_own_rows(week_data, department, other_department, dept_staff, client):
    report = report_for_actor(actor=dept_staff, iso_year=2026, iso_week=48, today=TODAY)

    assert [d.pk for d, _now, _before in report.by_department] == [department.pk]
    assert report.total.filed == 3  # its own three, not the other department's
    token = f.token_for(dept_staff.staff)
    body = client.get("/api/v1/reports/weekly?week=2026-W48", headers={"Authorization": f"Bearer {token}"}).json()
    assert [row["code"] for row in body["departments"]] == [department.code]
    assert body["district"]["this_week"]["filed"] == 3


def test_kiosks_and_community_workers_are_refused(week_data, kiosk, kiosk_key, community, client):
    with pytest.raises(Forbidden):
        report_for_actor(actor=kiosk, iso_year=2026, iso_week=48, today=TODAY)
    worker = f.staff("worker_sun", StaffMember.Role.COMMUNITY_WORKER, community=community)

    assert client.get("/api/v1/reports/weekly?week=2026-W48", headers={"X-Kiosk-Key": kiosk_key}).status_code == 403
    worker_token = f.token_for(worker)
    answer = client.get("/api/v1/reports/weekly", headers={"Authorization": f"Bearer {worker_token}"})
    assert answer.status_code == 403 and answer.json()["code"] == "forbidden"


@pytest.mark.parametrize(
    "week",
    ["2026-W53", "2026-W00", "２０２６-W48", "2026-w48", "1999-W10", "2026-W50", "2027-W01", "", "2026-W4", "W48-2026"],
)
def test_a_bad_or_future_week_is_refused_with_a_message(week):
    with pytest.raises(InvalidInput) as raised:
        report_week_parse(week, today=TODAY)

    assert raised.value.field == "week" and str(raised.value.message)


def test_the_week_under_way_and_a_week_of_2000_may_be_reported():
    assert report_week_parse("2026-W49", today=TODAY) == (2026, 49)
    assert report_week_parse("2000-W01", today=TODAY) == (2000, 1)
    assert report_week_parse("2020-W53", today=TODAY) == (2020, 53)


def test_the_api_and_the_page_answer_a_bad_week_with_a_clear_message(officer, client):
    client.login(username=officer.staff.user.username, password=PASSWORD)

    api = client.get("/api/v1/reports/weekly?week=２０２６-W48")
    page = client.get("/staff/reports/weekly/?week=2099-W01")

    assert api.status_code == 422 and api.json()["field"] == "week"
    assert page.status_code == 422 and "2099-W01" in page.content.decode()


def test_the_page_shows_charts_and_tables_and_offers_the_pdf_and_csv(week_data, officer, department, monkeypatch):
    monkeypatch.setattr("appointments.office.report.service_today", lambda: TODAY)
    client = Client()
    client.login(username=officer.staff.user.username, password=PASSWORD)

    page = client.get("/staff/reports/weekly/?week=2026-W48")
    pdf = client.get("/staff/reports/weekly/?week=2026-W48&format=pdf")
    sheet = client.get("/staff/reports/weekly/?week=2026-W48&format=csv")

    html = page.content.decode()
    assert page.status_code == 200 and html.count("data:image/png;base64,") == 4
    assert department.name in html and "format=pdf" in html and "format=csv" in html
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert sheet.content.decode("utf-8-sig").splitlines()[1].startswith("district,")


def test_a_department_page_shows_its_own_department_only(week_data, department, other_department, dept_staff):
    client = Client()
    client.login(username=dept_staff.staff.user.username, password=PASSWORD)

    html = client.get("/staff/reports/weekly/?week=2026-W48").content.decode()

    assert department.name in html and other_department.name not in html


def test_the_charts_render_quickly_even_for_an_empty_week(officer):
    report = report_for_actor(actor=officer, iso_year=2020, iso_week=53, today=TODAY)

    charts = report_charts(report)

    assert set(charts) == {"resolution", "sessions", "filed_handled", "satisfaction"}
    assert all(png.startswith(b"\x89PNG") for png in charts.values())
