"""The demo district: loads once, loads again without doubling anything, and holds every kind of record,
petitions in every state of their lifecycle among them."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from appointments.management.commands.seed_demo import JOIN_NOW_MATTER, STORIES
from appointments.models import (
    Appointment,
    Commitment,
    DueKind,
    FollowUpSlip,
    Outcome,
    OutcomeItem,
    Petition,
    PetitionCategory,
    Rating,
    Referral,
    Resident,
    ReviewRequest,
    VideoSession,
)
from appointments.outcomes.lifecycle import petition_deadline
from appointments.video.services import join_refusal
from departments.audit import AuditEvent
from departments.models import Community, Department, Kiosk, StaffMember, Street
from departments.services import Actor, kiosk_authenticate
from scheduler.models import ConsultationRule, ScheduleWeek, Seat, Slot
from scheduler.publishing import week_plan

pytestmark = pytest.mark.django_db

MODELS = [
    Department,
    Street,
    Community,
    Kiosk,
    StaffMember,
    ConsultationRule,
    ScheduleWeek,
    Slot,
    Seat,
    Resident,
    Petition,
    Appointment,
    Outcome,
    OutcomeItem,
    Commitment,
    FollowUpSlip,
    Rating,
    ReviewRequest,
    Referral,
    VideoSession,
    AuditEvent,
]


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded():
    return seed()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def joinable_now() -> Appointment:
    """The demo's session that can be joined right away (there is exactly one)."""
    return Appointment.objects.select_related("slot__department", "community").get(
        petition__summary=JOIN_NOW_MATTER[1], status=Appointment.Status.BOOKED
    )


def staff(username: str) -> Actor:
    return Actor(staff=StaffMember.objects.select_related("user").get(user__username=username))


def test_it_loads_the_petition_bureau_and_the_eight_departments(seeded):
    names = set(Department.objects.values_list("name", flat=True))
    for short in ["房产局", "人社局", "司法局", "城管局", "住建局", "市场监管局", "民政局", "教育局"]:
        assert any(name.endswith(short) for name in names), short
    bureau = Department.objects.get(kind=Department.Kind.PETITION_OFFICE)
    assert bureau.name.endswith("信访局")
    assert Department.objects.filter(kind=Department.Kind.FUNCTIONAL).count() >= 8


def test_it_loads_three_streets_of_ten_communities_each_with_a_kiosk(seeded):
    streets = Street.objects.all()
    assert streets.count() >= 3
    for street in streets:
        assert street.communities.count() >= 10, street
    for community in Community.objects.all():
        assert community.kiosks.filter(revoked_at__isnull=True).count() == 1, community
    assert {"蓝山社区", "福安社区", "魁星社区", "辛家村"} <= set(Community.objects.values_list("name", flat=True))


def test_it_loads_staff_of_every_role_who_can_sign_in(seeded):
    roles = set(StaffMember.objects.values_list("role", flat=True))
    assert roles == set(StaffMember.Role.values)
    for member in StaffMember.objects.select_related("user"):
        assert member.user.has_usable_password()


def test_every_category_suggests_an_active_department(seeded):
    assert PetitionCategory.objects.filter(suggested_department__isnull=True).count() == 0


def test_it_publishes_this_week_and_next_for_every_department(seeded):
    today = timezone.localdate()
    for offset in (0, 7):
        year, week, _ = (today + dt.timedelta(days=offset)).isocalendar()
        for department in Department.objects.all():
            published = ScheduleWeek.objects.get(department=department, iso_year=year, iso_week=week)
            assert published.status == ScheduleWeek.Status.PUBLISHED
            planned = [
                s.starts_at for day in week_plan(department=department, iso_year=year, iso_week=week) for s in day.slots
            ]
            # Every slot comes from the rules, but the one the joinable-now session has to itself.
            from_rules = published.slots.exclude(pk=joinable_now().slot_id)
            assert sorted(from_rules.values_list("starts_at", flat=True)) == sorted(planned)
    assert Slot.objects.exists()
    for slot in Slot.objects.all()[:50]:
        assert slot.seats.count() == slot.capacity


def test_it_files_some_petitions_and_books_some_of_them(seeded):
    assert Petition.objects.count() >= 4
    assert Appointment.objects.filter(status=Appointment.Status.BOOKED).exists()
    for appointment in Appointment.objects.select_related("petition", "slot"):
        if appointment.cancel_reason_code == Appointment.CancelReason.REFERRED:
            # Booked with the department the petition has since been referred away from.
            referral = Referral.objects.get(petition=appointment.petition)
            assert appointment.slot.department_id == referral.from_department_id
        else:
            assert appointment.slot.department_id == appointment.petition.department_id


def test_it_prints_a_kiosk_key_that_works(seeded):
    key = next(word for word in seeded.split() if word.startswith("kiosk_"))

    kiosk = kiosk_authenticate(key)

    assert kiosk is not None and kiosk.community.name == "蓝山社区"


def test_running_it_twice_adds_nothing(seeded):
    before = counts()
    slot_ids = set(Slot.objects.values_list("pk", flat=True))
    first_key = next(word for word in seeded.split() if word.startswith("kiosk_"))

    second = seed()

    assert counts() == before
    assert set(Slot.objects.values_list("pk", flat=True)) == slot_ids
    second_key = next(word for word in second.split() if word.startswith("kiosk_"))
    assert kiosk_authenticate(second_key) is not None
    assert kiosk_authenticate(first_key) is None  # the key is rotated on each run and shown once


# A newcomer who runs the demo at any hour finds a session whose join page opens.
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@pytest.mark.parametrize(
    "at",
    [
        dt.datetime(2026, 11, 30, 3, 0, tzinfo=SHANGHAI),  # a Monday, at night: no consultation hours
        dt.datetime(2026, 11, 30, 9, 25, tzinfo=SHANGHAI),  # five minutes before 区房产局's own 09:30 slot
        dt.datetime(2026, 12, 6, 23, 57, tzinfo=SHANGHAI),  # Sunday night: the session falls in next week
        dt.datetime(2026, 10, 1, 15, 0, tzinfo=SHANGHAI),  # National Day, a public holiday
    ],
)
def test_it_leaves_one_session_that_can_be_joined_now_whatever_the_hour(monkeypatch, at):
    monkeypatch.setattr(timezone, "now", lambda: at)

    output = seed()

    appointment = joinable_now()
    assert appointment.slot.department.code == "fangchan" and appointment.community.name == "蓝山社区"
    assert dt.timedelta(0) < appointment.slot.starts_at - at <= dt.timedelta(minutes=10)
    for username in ("fangchan_staff", "lanshan_worker", "officer"):
        assert join_refusal(actor=staff(username), appointment=appointment, now=at) is None, username
    assert f"/staff/sessions/{appointment.pk}/join/" in output


def test_running_it_again_later_moves_the_joinable_session_instead_of_adding_one(monkeypatch):
    first = dt.datetime(2026, 11, 30, 3, 0, tzinfo=SHANGHAI)
    monkeypatch.setattr(timezone, "now", lambda: first)
    seed()
    before, appointment = counts(), joinable_now()
    assert join_refusal(actor=staff("lanshan_worker"), appointment=appointment, now=first + dt.timedelta(hours=5))

    later = first + dt.timedelta(hours=5)
    monkeypatch.setattr(timezone, "now", lambda: later)
    seed()

    assert counts() == before
    moved = joinable_now()
    assert moved.pk == appointment.pk and moved.slot_id == appointment.slot_id
    assert join_refusal(actor=staff("lanshan_worker"), appointment=moved, now=later) is None


# Petitions in every state ---------------------------------------------------------------------------------------

S = Petition.Status


def story(plot: str) -> Petition:
    summary = next(s.summary for s in STORIES if s.plot == plot)
    return Petition.objects.select_related("department", "community").get(summary=summary)


def test_it_has_petitions_in_every_state(seeded):
    present = set(Petition.objects.values_list("status", flat=True))

    assert present == set(S.values)


def test_every_status_was_reached_through_the_lifecycle_service(seeded):
    for petition in Petition.objects.exclude(status=S.RECEIVED):
        last = (
            AuditEvent.objects.filter(action="petition.status", target_id=str(petition.pk))
            .order_by("pk")
            .values_list("detail", flat=True)
            .last()
        )
        assert last is not None and last["to"] == petition.status, petition.summary


def test_every_petition_keeps_the_deadline_now_running(seeded):
    for petition in Petition.objects.all():
        assert (petition.due_on, petition.due_kind or "") == petition_deadline(petition), petition.summary


def test_some_acceptances_and_answers_are_overdue(seeded):
    today = timezone.localdate()
    overdue = Petition.objects.filter(due_on__lt=today)

    assert overdue.filter(due_kind=DueKind.ACCEPTANCE, accepted_at__isnull=True).exists()
    assert overdue.filter(due_kind=DueKind.ANSWER, accepted_at__isnull=False).exists()
    assert Petition.objects.filter(due_on__gte=today).exists()  # and most are not


def test_one_answer_period_is_extended_by_a_petition_officer_with_a_reason(seeded):
    extended = story("extended")

    assert 1 <= extended.extension_days <= 30 and extended.extension_reason
    assert extended.extension_approved_by.role == StaffMember.Role.PETITION_OFFICER
    assert extended.due_kind == DueKind.ANSWER and extended.due_on >= timezone.localdate()


def test_one_petition_is_referred_with_its_history_and_its_session_cancelled(seeded):
    referred = story("referred")

    assert referred.status == S.REFERRED and referred.department.code == "renshe"
    referral = Referral.objects.get(petition=referred)
    assert referral.from_department.code == "fangchan" and referral.reason
    assert referred.outcomes.filter(items__decision="referred").exists()
    assert referred.appointments.get().cancel_reason_code == Appointment.CancelReason.REFERRED


def test_one_petition_was_refused_with_a_reason_and_where_to_go(seeded):
    refused = story("not_accepted")

    assert refused.status == S.NOT_ACCEPTED and refused.not_accepted_reason and refused.redirect_to
    assert refused.due_on is None


def test_a_held_session_waits_for_its_answer(seeded):
    waiting = story("in_consultation")

    assert waiting.status == S.IN_CONSULTATION and not waiting.outcomes.exists()
    appointment = waiting.appointments.get()
    assert appointment.status == Appointment.Status.COMPLETED
    session = VideoSession.objects.get(appointment=appointment)
    assert session.resident_side_attended and session.department_attended


def test_answers_carry_commitments_some_kept_some_open(seeded):
    commitments = Commitment.objects.filter(outcome__petition=story("commitments"))

    assert commitments.filter(done_at__isnull=False).exclude(done_note="").exists()
    assert commitments.filter(done_at__isnull=True).exists()
    assert Commitment.objects.filter(done_at__isnull=True, due_on__lt=timezone.localdate()).exists()  # overdue


def test_slips_are_open_and_closed_at_lanshan_and_another_community(seeded):
    lanshan = Community.objects.get(name="蓝山社区")
    slips = FollowUpSlip.objects.all()

    assert slips.filter(community=lanshan, closed_at__isnull=True).exists()
    assert slips.filter(community=lanshan, closed_at__isnull=False).exclude(findings="").exists()
    others = slips.exclude(community=lanshan)
    assert others.filter(closed_at__isnull=True).exists() and others.filter(closed_at__isnull=False).exists()
    assert slips.filter(closed_at__isnull=True, due_on__lt=timezone.localdate()).exists()  # one overdue
    for slip in slips.select_related("petition"):
        assert slip.community_id == slip.petition.community_id


def test_ratings_include_a_dissatisfied_one_with_a_review_under_way(seeded):
    assert set(Rating.objects.values_list("level", flat=True)) == set(Rating.Level.values)
    dissatisfied = Rating.objects.select_related("outcome__petition").get(level=Rating.Level.DISSATISFIED)
    petition = dissatisfied.outcome.petition
    assert petition.status == S.REOPENED and petition.due_kind == DueKind.REVIEW_ANSWER
    review = ReviewRequest.objects.get(petition=petition)
    assert review.of_outcome == dissatisfied.outcome and review.answered_at is None


def test_each_story_is_told_once_however_often_it_runs(seeded):
    for item in STORIES:
        assert Petition.objects.filter(summary=item.summary).count() == 1, item.plot
    assert "Demo petitions filed" in seeded

    again = seed()

    assert "Demo petitions filed" not in again


@pytest.mark.parametrize(
    "at",
    [
        dt.datetime(2026, 2, 24, 10, 0, tzinfo=SHANGHAI),  # the first working day after the Spring Festival
        dt.datetime(2026, 10, 1, 15, 0, tzinfo=SHANGHAI),  # National Day
        dt.datetime(2027, 1, 4, 9, 0, tzinfo=SHANGHAI),  # early January: last year's hours are the past weeks
    ],
)
def test_every_state_is_there_whenever_it_is_first_run(monkeypatch, settings, at):
    settings.HOLIDAY_CONFIRMED_YEARS = [2026, 2027]
    monkeypatch.setattr(timezone, "now", lambda: at)

    seed()

    assert set(Petition.objects.values_list("status", flat=True)) == set(S.values)
    today = at.date()
    assert Petition.objects.filter(due_kind=DueKind.ACCEPTANCE, due_on__lt=today).exists()
    assert Petition.objects.filter(due_kind=DueKind.ANSWER, due_on__lt=today).exists()
