"""Calendar feeds: secret addresses showing a department's hours exactly as publishing gives them, and sessions."""

import datetime as dt
from collections import defaultdict
from itertools import pairwise
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.booking import appointment_book, appointment_cancel, appointment_reschedule
from appointments.models import Appointment
from appointments.notify.calendars import (
    calendar_domain,
    calendar_feed_for_token,
    calendar_feed_ics,
    calendar_feed_issue,
    calendar_feed_live,
    calendar_feed_revoke,
    calendar_feed_url,
)
from departments.models import StaffMember
from departments.services import Actor
from scheduler.errors import Forbidden, InvalidInput
from scheduler.models import Closure, Slot
from scheduler.publishing import service_zone
from tests import factories as f

from .calendar_support import RESIDENTS, occurrences, parsed, personal_data_in, unfolded

pytestmark = pytest.mark.django_db

# Eight ISO weeks, 2026-W38 (09-14) to W45 (11-08): two make-up working days (Sunday 09-20 and Saturday 10-10, on
# which Monday's hours run), the Mid-Autumn Festival (Friday 09-25) and the National Day week (10-01 to 10-07).
WEEKS = [f"2026-W{n}" for n in range(38, 46)]
FIRST, LAST = dt.date(2026, 9, 14), dt.date(2026, 11, 8)
TODAY = dt.date(2026, 10, 12)  # the feed's window then runs from 09-14 to 2027-01-10
BOOKED_AT = f.local("2026-09-10 08:00")


def path_of(url: str) -> str:
    return urlsplit(url).path


@pytest.fixture
def autumn(department, other_department):
    """区房产局 with varied weekly hours, a closure of its own and one for everyone, published for eight weeks."""
    window = {"window": 90, "effective_from": dt.date(2026, 1, 1)}
    f.weekday_rules(department, start="09:00", end="11:00", **window)
    f.rule(department, weekday=1, start="14:00", end="16:30", minutes=30, buffer=10, capacity=1, **window)
    f.rule(department, weekday=5, start="09:00", end="10:00", **window)  # Saturdays; a make-up Saturday runs Monday's
    f.rule(department, weekday=3, start="15:00", end="16:00", effective_until=dt.date(2026, 10, 22), window=90)
    f.rule(
        department, weekday=2, start="15:00", end="17:00", minutes=60, effective_from=dt.date(2026, 10, 26), window=90
    )
    Closure.objects.create(
        department=department, start_date=dt.date(2026, 10, 21), end_date=dt.date(2026, 10, 22), reason="集中业务培训"
    )
    Closure.objects.create(
        department=None, start_date=dt.date(2026, 11, 4), end_date=dt.date(2026, 11, 4), reason="全区系统停机维护"
    )
    Closure.objects.create(
        department=other_department,
        start_date=dt.date(2026, 10, 27),
        end_date=dt.date(2026, 10, 27),
        reason="不影响区房产局",
    )
    for week in WEEKS:
        f.publish(department, week)
    return department


def published_blocks(department) -> list[tuple[int, dt.datetime, dt.datetime]]:
    """The consultation hours publishing materialised: per rule and day, from its first slot to the rule's end."""
    slots = Slot.objects.filter(
        department=department, status=Slot.Status.OPEN, week__iso_year=2026, week__iso_week__in=range(38, 46)
    ).select_related("rule")
    by_rule_day = defaultdict(list)
    for slot in slots:
        by_rule_day[(slot.rule, timezone.localtime(slot.starts_at, service_zone()).date())].append(slot)
    blocks = []
    for (rule, day), day_slots in by_rule_day.items():
        start = dt.datetime.combine(day, rule.start_time, tzinfo=service_zone())
        end = dt.datetime.combine(day, rule.end_time, tzinfo=service_zone())
        assert min(s.starts_at for s in day_slots) == start
        assert all(start <= s.starts_at and s.ends_at <= end for s in day_slots)
        blocks.append((rule.pk, start, end))
    return sorted(blocks)


def feed_blocks(body: bytes) -> list[tuple[int, dt.datetime, dt.datetime]]:
    found = []
    for event in occurrences(body, FIRST, LAST):
        uid = str(event["UID"])
        if uid.startswith("hours-"):
            found.append((int(uid.removeprefix("hours-").split("@")[0]), event.start, event.end))
    return sorted(found)


def sessions_in(body: bytes, first=FIRST, last=LAST) -> dict[str, object]:
    return {str(e["UID"]): e for e in occurrences(body, first, last) if not str(e["UID"]).startswith("hours-")}


def book(kiosk, department, slot, person, category="housing", now=BOOKED_AT) -> Appointment:
    petition = f.petition(kiosk, department, category=category, **person)
    appointment_book(actor=kiosk, petition_reference=petition.reference, slot_id=slot.pk, now=now)
    return petition.appointments.get()


def slot_at(department, when: str) -> Slot:
    return Slot.objects.get(department=department, starts_at=f.local(when))


def test_the_hours_in_a_feed_are_occurrence_by_occurrence_what_publishing_gave_over_eight_weeks(autumn, dept_admin):
    _feed, token = calendar_feed_issue(actor=dept_admin, department=autumn)
    body = calendar_feed_ics(feed=calendar_feed_for_token(token), today=TODAY)

    expected = published_blocks(autumn)
    assert feed_blocks(body) == expected

    # Not a vacuous comparison: the eight weeks hold what makes a calendar hard.
    days = {start.date() for _rule, start, _end in expected}
    assert dt.date(2026, 9, 20) in days and dt.date(2026, 10, 10) in days  # make-up working days
    for holiday in [dt.date(2026, 9, 25), *(dt.date(2026, 10, d) for d in range(1, 8))]:
        assert holiday not in days
    assert not days & {dt.date(2026, 10, 21), dt.date(2026, 10, 22), dt.date(2026, 11, 4)}  # closures
    assert dt.date(2026, 10, 27) in days  # another department's closure changes nothing here
    saturday_rule = autumn.rules.get(weekday=5).pk
    assert (saturday_rule, f.local("2026-10-10 09:00"), f.local("2026-10-10 10:00")) not in expected
    assert (saturday_rule, f.local("2026-10-17 09:00"), f.local("2026-10-17 10:00")) in expected
    monday_rule = autumn.rules.get(weekday=0).pk
    assert (monday_rule, f.local("2026-10-10 09:00"), f.local("2026-10-10 11:00")) in expected
    assert (monday_rule, f.local("2026-09-20 09:00"), f.local("2026-09-20 11:00")) in expected
    # Weekday mornings 40 - 6 holidays - 3 closed days + 2 make-up days; Tuesday afternoons 8 - 1; Saturdays 8 - 1
    # holiday - 1 make-up Saturday; Thursdays until 10-22: 6 - 1 - 1; Wednesdays from 10-26: 2 - 1 closed.
    assert len(expected) == 33 + 7 + 6 + 4 + 1


def test_the_hours_are_weekly_rules_with_exceptions_not_a_list_of_days(autumn, dept_admin):
    _feed, token = calendar_feed_issue(actor=dept_admin, department=autumn)
    body = calendar_feed_ics(feed=calendar_feed_for_token(token), today=TODAY)
    hours = [e for e in parsed(body).walk("VEVENT") if str(e["UID"]).startswith("hours-")]

    assert len(hours) == autumn.rules.count()
    assert all(e["RRULE"]["FREQ"] == ["WEEKLY"] for e in hours)
    monday = next(e for e in hours if e["RRULE"]["BYDAY"] == ["MO"])
    rdates = monday["RDATE"] if isinstance(monday["RDATE"], list) else [monday["RDATE"]]
    assert {value.dt for rdate in rdates for value in rdate.dts} == {
        f.local("2026-09-20 09:00"),
        f.local("2026-10-10 09:00"),
    }
    text = unfolded(body)
    assert "EXDATE;TZID=Asia/Shanghai:" in text and "RDATE;TZID=Asia/Shanghai:" in text
    assert "BEGIN:VTIMEZONE" in text and "TZID:Asia/Shanghai" in text
    assert "METHOD:PUBLISH" in text and "REFRESH-INTERVAL" in text


def test_a_feed_shows_each_booked_session_with_the_surname_and_category_only(autumn, dept_admin, kiosk):
    people = RESIDENTS
    slots = [
        slot_at(autumn, when)
        for when in [
            "2026-09-15 09:00",
            "2026-09-20 09:30",  # the make-up Sunday
            "2026-09-29 14:40",
            "2026-10-10 10:00",  # the make-up Saturday
            "2026-10-15 15:00",
            "2026-10-28 16:00",
        ]
    ]
    categories = ["housing", "urban-rural-construction", "labour-social-security", "civil-affairs", "other", "health"]
    booked = [book(kiosk, autumn, slot, p, c) for slot, p, c in zip(slots, people, categories, strict=True)]
    appointment_cancel(actor=kiosk, appointment_id=booked[4].pk, now=BOOKED_AT)
    moved = appointment_reschedule(
        actor=kiosk, appointment_id=booked[5].pk, slot_id=slot_at(autumn, "2026-11-02 10:30").pk, now=BOOKED_AT
    )
    Appointment.objects.filter(pk=booked[0].pk).update(status=Appointment.Status.COMPLETED)
    standing = [*booked[:4], moved]

    _feed, token = calendar_feed_issue(actor=dept_admin, department=autumn)
    body = calendar_feed_ics(feed=calendar_feed_for_token(token), today=TODAY)
    sessions = sessions_in(body)

    assert set(sessions) == {f"{a.calendar_uid}@{calendar_domain()}" for a in standing}
    for appointment in standing:
        appointment.refresh_from_db()
        event = sessions[f"{appointment.calendar_uid}@{calendar_domain()}"]
        petition = appointment.petition
        assert (event.start, event.end) == (appointment.slot.starts_at, appointment.slot.ends_at)
        assert str(event["SUMMARY"]) == f"{petition.contact_name[0]} · {petition.category.name}"
        assert event["SEQUENCE"] == appointment.calendar_sequence
    assert str(sessions[f"{moved.calendar_uid}@{calendar_domain()}"]["SUMMARY"]) == "赵 · 卫生健康"
    assert personal_data_in(body, people) == []
    references = [a.petition.reference for a in booked]
    assert not any(reference in unfolded(body) for reference in references)


def test_no_feed_of_any_owner_holds_an_id_number_a_mobile_or_a_full_name(
    autumn, dept_admin, dept_staff, officer, kiosk, community
):
    for person, when in zip(
        RESIDENTS,
        [
            "2026-10-13 09:00",
            "2026-10-13 14:00",
            "2026-10-14 09:30",
            "2026-10-16 10:00",
            "2026-10-19 09:00",
            "2026-10-20 14:40",
        ],
        strict=True,
    ):
        book(kiosk, autumn, slot_at(autumn, when), person)
    worker = f.staff("worker", StaffMember.Role.COMMUNITY_WORKER, community=community)
    feeds = [
        calendar_feed_issue(actor=dept_admin, department=autumn),
        calendar_feed_issue(actor=dept_staff, staff=dept_staff.staff),
        calendar_feed_issue(actor=officer, staff=officer.staff),
        calendar_feed_issue(actor=Actor(staff=worker), staff=worker),
    ]
    for feed, _token in feeds:
        body = calendar_feed_ics(feed=feed, today=TODAY)
        assert len(sessions_in(body, TODAY, TODAY + dt.timedelta(days=9))) == 6, feed
        assert personal_data_in(body, RESIDENTS) == [], feed


def test_each_staff_member_sees_in_their_own_feed_what_their_role_covers(
    autumn, other_department, dept_staff, officer, kiosk, other_kiosk_and_key, community, other_community
):
    f.weekday_rules(other_department, window=90, effective_from=dt.date(2026, 1, 1))
    f.publish(other_department, "2026-W42")
    here = book(kiosk, autumn, slot_at(autumn, "2026-10-13 09:00"), RESIDENTS[0])
    elsewhere_kiosk = other_kiosk_and_key[0]
    there = book(elsewhere_kiosk, autumn, slot_at(autumn, "2026-10-14 09:00"), RESIDENTS[1])
    other_dept = book(kiosk, other_department, slot_at(other_department, "2026-10-15 09:00"), RESIDENTS[2])
    early = book(kiosk, autumn, slot_at(autumn, "2026-09-28 09:00"), RESIDENTS[3])  # before the officer's window
    worker = f.staff("worker", StaffMember.Role.COMMUNITY_WORKER, community=community)

    def uids(actor, staff) -> set[str]:
        feed, _token = calendar_feed_issue(actor=actor, staff=staff)
        return {uid.split("@")[0] for uid in sessions_in(calendar_feed_ics(feed=feed, today=TODAY))}

    def hours_in(actor, staff) -> bool:
        feed = calendar_feed_live(staff=staff)
        return any(
            str(e["UID"]).startswith("hours-") for e in parsed(calendar_feed_ics(feed=feed, today=TODAY)).walk("VEVENT")
        )

    def ids(*appointments) -> set[str]:
        return {str(a.calendar_uid) for a in appointments}

    assert uids(dept_staff, dept_staff.staff) == ids(here, there, early)
    assert hours_in(dept_staff, dept_staff.staff)
    assert uids(Actor(staff=worker), worker) == ids(here, other_dept, early)
    assert not hours_in(Actor(staff=worker), worker)
    assert uids(officer, officer.staff) == ids(here, there, other_dept)
    assert not hours_in(officer, officer.staff)


def test_the_number_of_queries_does_not_grow_with_the_number_of_sessions(autumn, dept_admin, kiosk):
    feed, _token = calendar_feed_issue(actor=dept_admin, department=autumn)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            calendar_feed_ics(feed=feed, today=TODAY)
        return len(captured)

    book(kiosk, autumn, slot_at(autumn, "2026-10-13 09:00"), RESIDENTS[0])
    few = queries()
    for person, when in zip(
        RESIDENTS[1:],
        ["2026-10-13 14:00", "2026-10-14 09:30", "2026-10-16 10:00", "2026-10-19 09:00", "2026-10-20 14:40"],
        strict=True,
    ):
        book(kiosk, autumn, slot_at(autumn, when), person)
    assert queries() == few
    assert few <= 60  # one for the sessions, three per week of the window for the hours (17 weeks)


def test_the_feed_window_is_bounded_around_today(autumn, dept_admin):
    feed, _token = calendar_feed_issue(actor=dept_admin, department=autumn)
    body = calendar_feed_ics(feed=feed, today=TODAY)
    starts = [e.start for e in occurrences(body, dt.date(2020, 1, 1), dt.date(2030, 1, 1))]

    assert min(starts).date() >= dt.date(2026, 9, 14)
    assert max(starts).date() <= dt.date(2027, 1, 10)
    assert all(b >= a for a, b in pairwise(sorted(starts)))


# Addresses: issued once, regenerated, revoked ---------------------------------------------------------------------


def test_regenerating_a_feed_makes_the_old_address_answer_404(client, autumn, dept_admin):
    _feed, first = calendar_feed_issue(actor=dept_admin, department=autumn)
    assert client.get(path_of(calendar_feed_url(first))).status_code == 200

    _feed, second = calendar_feed_issue(actor=dept_admin, department=autumn)

    old = client.get(path_of(calendar_feed_url(first)))
    assert old.status_code == 404 and "日历地址" in old.content.decode()
    new = client.get(path_of(calendar_feed_url(second)))
    assert new.status_code == 200
    assert new["Content-Type"] == "text/calendar; charset=utf-8"
    assert new["Content-Disposition"].startswith("attachment; filename=")
    assert "BEGIN:VCALENDAR" in new.content.decode()
    assert calendar_feed_live(department=autumn).token_hint == second[-4:]


def test_a_revoked_feed_answers_404_and_revoking_twice_is_harmless(client, autumn, dept_admin):
    _feed, token = calendar_feed_issue(actor=dept_admin, department=autumn)

    assert calendar_feed_revoke(actor=dept_admin, department=autumn) is True
    assert calendar_feed_revoke(actor=dept_admin, department=autumn) is False
    assert client.get(path_of(calendar_feed_url(token))).status_code == 404
    assert calendar_feed_live(department=autumn) is None


def test_a_feed_stops_when_its_staff_member_can_no_longer_sign_in(client, dept_staff):
    _feed, token = calendar_feed_issue(actor=dept_staff, staff=dept_staff.staff)
    assert client.get(path_of(calendar_feed_url(token))).status_code == 200

    dept_staff.staff.user.is_active = False
    dept_staff.staff.user.save()

    assert client.get(path_of(calendar_feed_url(token))).status_code == 404


@pytest.mark.parametrize(
    "token",
    [
        "x",
        "cal_",
        "cal_" + "A" * 43,
        "cal_../../etc/passwd",
        "cal_" + "é" * 50,
        "cal_" + "a" * 500,
        "%00",
        "cal_\u200b",
    ],
)
def test_an_unknown_feed_address_is_a_404_never_a_500(client, dept_staff, token):
    calendar_feed_issue(actor=dept_staff, staff=dept_staff.staff)
    response = client.get(f"/calendar/feeds/{token}.ics")
    assert response.status_code == 404


def test_only_the_token_hash_and_a_hint_are_kept(autumn, dept_admin):
    feed, token = calendar_feed_issue(actor=dept_admin, department=autumn)
    feed.refresh_from_db()
    assert token not in (feed.token_hash, feed.token_hint) and len(token) > 40
    assert feed.token_hint == token[-4:]


# Who may manage which feed ---------------------------------------------------------------------------------------


def test_a_department_admin_and_a_petition_officer_manage_the_department_feed(autumn, dept_admin, officer):
    calendar_feed_issue(actor=dept_admin, department=autumn)
    calendar_feed_issue(actor=officer, department=autumn)
    assert calendar_feed_revoke(actor=dept_admin, department=autumn) is True


def test_department_staff_and_another_departments_admin_cannot_touch_the_department_feed(
    autumn, dept_admin, dept_staff, outsider
):
    _feed, token = calendar_feed_issue(actor=dept_admin, department=autumn)
    for actor in (dept_staff, outsider):
        with pytest.raises(Forbidden):
            calendar_feed_issue(actor=actor, department=autumn)
        with pytest.raises(Forbidden):
            calendar_feed_revoke(actor=actor, department=autumn)
    assert calendar_feed_for_token(token) is not None


def test_each_staff_member_manages_only_their_own_feed(dept_admin, dept_staff, officer):
    calendar_feed_issue(actor=dept_staff, staff=dept_staff.staff)
    for actor in (dept_admin, officer):
        with pytest.raises(Forbidden):
            calendar_feed_issue(actor=actor, staff=dept_staff.staff)
        with pytest.raises(Forbidden):
            calendar_feed_revoke(actor=actor, staff=dept_staff.staff)
    assert calendar_feed_live(staff=dept_staff.staff) is not None


def test_a_feed_belongs_to_exactly_one_owner(autumn, dept_admin):
    with pytest.raises(InvalidInput):
        calendar_feed_issue(actor=dept_admin)
    with pytest.raises(InvalidInput):
        calendar_feed_issue(actor=dept_admin, department=autumn, staff=dept_admin.staff)


# The staff page ---------------------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, dept_admin):
    client.force_login(dept_admin.staff.user)
    return client


def test_the_staff_page_shows_a_new_address_once_and_afterwards_only_its_hint(admin_client, autumn, dept_admin):
    page = admin_client.get("/staff/calendar/").content.decode()
    assert "/staff/calendar/" in page and "日历" in page
    assert 'aria-current="page"' in page

    issued = admin_client.post("/staff/calendar/", {"action": "issue", "scope": "department", "department": "fangchan"})
    assert issued.status_code == 200 and "no-store" in issued["Cache-Control"]
    feed = calendar_feed_live(department=autumn)
    html = issued.content.decode()
    url = next(part.split('"')[0] for part in html.split('value="')[1:] if "/calendar/feeds/cal_" in part)
    assert url.endswith(f"{feed.token_hint}.ics")
    assert "旧地址" in html or "停止" in html
    assert admin_client.get(path_of(url)).status_code == 200

    later = admin_client.get("/staff/calendar/").content.decode()
    assert url not in later and f"…{feed.token_hint}" in later

    admin_client.post("/staff/calendar/", {"action": "issue", "scope": "department", "department": "fangchan"})
    assert admin_client.get(path_of(url)).status_code == 404

    mine = admin_client.post("/staff/calendar/", {"action": "issue", "scope": "mine"})
    assert mine.status_code == 200 and calendar_feed_live(staff=dept_admin.staff) is not None
    revoked = admin_client.post("/staff/calendar/", {"action": "revoke", "scope": "mine"})
    assert revoked.status_code == 302 and calendar_feed_live(staff=dept_admin.staff) is None


def test_department_staff_cannot_make_the_department_address_from_the_page(client, autumn, dept_staff, outsider):
    client.force_login(dept_staff.staff.user)
    page = client.get("/staff/calendar/").content.decode()
    assert 'name="scope" value="department"' not in page
    refused = client.post("/staff/calendar/", {"action": "issue", "scope": "department", "department": "fangchan"})
    assert refused.status_code == 403 and calendar_feed_live(department=autumn) is None

    client.force_login(outsider.staff.user)
    refused = client.post("/staff/calendar/", {"action": "issue", "scope": "department", "department": "fangchan"})
    assert refused.status_code == 403 and calendar_feed_live(department=autumn) is None


def test_a_petition_officer_picks_a_department_on_the_page(client, autumn, officer):
    client.force_login(officer.staff.user)
    page = client.get("/staff/calendar/?department=fangchan").content.decode()
    assert 'name="scope" value="department"' in page
    assert (
        client.post(
            "/staff/calendar/", {"action": "issue", "scope": "department", "department": "fangchan"}
        ).status_code
        == 200
    )
    assert calendar_feed_live(department=autumn) is not None
    assert client.get("/staff/calendar/?department=nonexistent").status_code == 404


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"action": "issue"},
        {"action": "delete", "scope": "mine"},
        {"action": "issue", "scope": "everyone"},
        {"action": "issue", "scope": "department", "department": "x" * 500},
    ],
)
def test_the_page_answers_bad_posts_with_a_message_not_a_500(admin_client, autumn, data):
    response = admin_client.post("/staff/calendar/", data)
    assert 400 <= response.status_code < 500


def test_the_staff_page_is_for_signed_in_staff_only(client, autumn):
    assert client.get("/staff/calendar/").status_code == 302
