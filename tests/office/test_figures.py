"""The office's figures on data with known answers: rates as the district states them, empty weeks, drill-downs."""

import datetime as dt
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.models import Outcome, Petition, Rating, ReviewRequest, TurnAway
from appointments.office import figures
from appointments.outcomes.selectors import PetitionSearch, petition_search
from departments.models import StaffMember
from departments.services import Actor
from tests import factories as f

SH = zoneinfo.ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 11, 30)
# ISO week 2026-W46 runs Monday 9 to Sunday 15 November 2026.
IN_WEEK = dt.datetime(2026, 11, 11, 10, 30, tzinfo=SH)


def _answer(petition: Petition, recorder: StaffMember, *, told_at: dt.datetime, accepted_days_before: int = 10):
    Petition.objects.filter(pk=petition.pk).update(
        received_at=told_at - dt.timedelta(days=accepted_days_before + 2),
        accepted_at=told_at - dt.timedelta(days=accepted_days_before),
        answered_at=told_at,
        status="answered",
    )
    return Outcome.objects.create(
        petition=petition,
        department_id=petition.department_id,
        answer="经核查，已为您办理。",
        recorded_by=recorder,
        told_at=told_at,
    )


@pytest.fixture
def recorder(department):
    return f.staff("recorder", StaffMember.Role.DEPARTMENT_STAFF, department=department)


def _handled_week(kiosk, department, recorder, *, handled: int, unresolved_by_review: int, unresolved_by_rating: int):
    outcomes = []
    for n in range(handled):
        petition = f.petition(kiosk, department, name=["王秀兰", "李建国", "张伟", "刘芳"][n % 4])
        outcomes.append(_answer(petition, recorder, told_at=IN_WEEK + dt.timedelta(hours=n % 50)))
    for outcome in outcomes[:unresolved_by_review]:
        review = ReviewRequest.objects.create(
            petition=outcome.petition, of_outcome=outcome, stage="review", answer_due_on=dt.date(2026, 12, 20)
        )
        ReviewRequest.objects.filter(pk=review.pk).update(requested_at=IN_WEEK + dt.timedelta(days=1))
    for outcome in outcomes[unresolved_by_review : unresolved_by_review + unresolved_by_rating]:
        rating = Rating.objects.create(outcome=outcome, level=Rating.Level.DISSATISFIED)
        Rating.objects.filter(pk=rating.pk).update(rated_at=IN_WEEK + dt.timedelta(days=1))
    return outcomes


def test_forty_six_resolved_of_forty_eight_handled_is_95_8_percent(kiosk, department, recorder):
    _handled_week(kiosk, department, recorder, handled=48, unresolved_by_review=1, unresolved_by_rating=1)

    report = figures.week_report(iso_year=2026, iso_week=46, today=TODAY)

    assert (report.total.handled, report.total.resolved) == (48, 46)
    assert round(report.total.resolution_rate * 100, 1) == 95.8
    assert report.total.rated == 1 and report.total.satisfied == 0 and report.total.satisfaction_rate == 0.0
    assert report.total.answered == 48 and report.total.on_time_rate == 1.0


def test_a_week_with_no_data_has_no_rates_and_zero_counts(kiosk, department, recorder):
    _handled_week(kiosk, department, recorder, handled=3, unresolved_by_review=0, unresolved_by_rating=0)

    report = figures.week_report(iso_year=2026, iso_week=40, today=TODAY)

    total = report.total
    assert (total.handled, total.resolved, total.answered, total.rated, total.turned_away) == (0, 0, 0, 0, 0)
    assert total.resolution_rate is None and total.on_time_rate is None and total.satisfaction_rate is None


def test_an_answer_after_sixty_days_from_acceptance_is_late(kiosk, department, recorder):
    on_time = f.petition(kiosk, department)
    late = f.petition(kiosk, department, name="赵敏")
    _answer(on_time, recorder, told_at=IN_WEEK, accepted_days_before=60)
    _answer(late, recorder, told_at=IN_WEEK, accepted_days_before=61)

    total = figures.week_report(iso_year=2026, iso_week=46, today=TODAY).total

    assert (total.answered, total.answered_on_time, total.on_time_rate) == (2, 1, 0.5)


def test_a_past_week_reads_the_same_after_later_events(kiosk, department, recorder):
    outcomes = _handled_week(kiosk, department, recorder, handled=4, unresolved_by_review=0, unresolved_by_rating=0)
    before = figures.week_report(iso_year=2026, iso_week=46, today=TODAY).total
    Rating.objects.create(outcome=outcomes[0], level=Rating.Level.DISSATISFIED)  # rated now, weeks later

    after = figures.week_report(iso_year=2026, iso_week=46, today=TODAY).total

    assert before == after and after.resolved == 4


def test_a_past_weeks_overdue_and_due_soon_stay_the_same_after_a_later_decision(kiosk, department, officer):
    from appointments.outcomes.lifecycle import petition_accept

    # Received on 23 October: its 15 days to decide on acceptance ended on 7 November, before week 46 ended.
    overdue = f.petition(kiosk, department)
    Petition.objects.filter(pk=overdue.pk).update(received_at=dt.datetime(2026, 10, 23, 9, tzinfo=SH))
    # Received on 1 November: due on 16 November, within three days of the week's last day (15 November).
    soon = f.petition(kiosk, department, name="赵敏")
    Petition.objects.filter(pk=soon.pk).update(received_at=dt.datetime(2026, 11, 1, 9, tzinfo=SH))
    before = figures.week_report(iso_year=2026, iso_week=46, today=TODAY).total

    petition_accept(actor=officer, petition=Petition.objects.get(pk=overdue.pk))  # decided weeks later
    petition_accept(actor=officer, petition=Petition.objects.get(pk=soon.pk))
    after = figures.week_report(iso_year=2026, iso_week=46, today=TODAY).total

    assert (before.overdue, before.due_within_3_days) == (1, 1)
    assert before == after


def test_turn_aways_are_counted_in_their_week_and_department(kiosk, department, other_department):
    TurnAway.objects.create(department=department, kiosk=kiosk.kiosk, community=kiosk.kiosk.community, at=IN_WEEK)
    TurnAway.objects.create(department=other_department, at=IN_WEEK)
    TurnAway.objects.create(department=department, at=IN_WEEK - dt.timedelta(days=7))

    report = figures.week_report(iso_year=2026, iso_week=46, today=TODAY)

    assert report.total.turned_away == 2 and report.previous_total.turned_away == 1
    by_department = {d.code: (this.turned_away, last.turned_away) for d, this, last in report.by_department}
    assert by_department[department.code] == (1, 1) and by_department[other_department.code] == (1, 0)


@pytest.mark.parametrize("name", ["handled", "resolved", "answered", "rated", "overdue", "open", "open_received"])
def test_the_drill_down_lists_exactly_the_petitions_counted(kiosk, department, recorder, officer, name):
    _handled_week(kiosk, department, recorder, handled=5, unresolved_by_review=1, unresolved_by_rating=1)
    waiting = f.petition(kiosk, department, name="孙丽")  # open, not handled
    Petition.objects.filter(pk=waiting.pk).update(received_at=IN_WEEK - dt.timedelta(days=30))
    Petition.objects.filter(pk__in=Petition.objects.values("pk")[:2]).update(due_on=dt.date(2026, 11, 1))
    counts = figures.Figures.from_counts(
        figures._total(Petition.objects.all(), [figures.week_period(iso_year=2026, iso_week=46, today=TODAY)])[0]
    )
    expected = (
        counts.open_total
        if name == "open"
        else (counts.open_by_status["received"] if name == "open_received" else getattr(counts, name))
    )

    listed = petition_search(actor=officer, search=PetitionSearch(figure=name, week="2026-W46"), today=TODAY)

    assert listed.count() == expected and expected > 0


def _grow(kiosk, department, recorder, n: int) -> None:
    _handled_week(kiosk, department, recorder, handled=n, unresolved_by_review=1, unresolved_by_rating=1)


def test_the_week_report_runs_in_the_same_number_of_queries_as_data_grows(kiosk, department, recorder):
    _grow(kiosk, department, recorder, 3)
    with CaptureQueriesContext(connection) as small:
        figures.week_report(iso_year=2026, iso_week=46, today=TODAY)
    _grow(kiosk, department, recorder, 12)
    with CaptureQueriesContext(connection) as large:
        figures.week_report(iso_year=2026, iso_week=46, today=TODAY)

    assert len(small) == len(large) <= 12


def test_a_community_worker_sees_no_figures(community, department):
    from scheduler.errors import Forbidden

    worker = Actor(staff=f.staff("worker", StaffMember.Role.COMMUNITY_WORKER, community=community))
    with pytest.raises(Forbidden):
        figures.dashboard_figures(actor=worker, today=TODAY)
