"""The planner turns a department's demand, given as numbers, into next week's sessions with its reasons."""

import pytest
from django.utils import translation

from scheduler.planning import Demand, allocate, propose
from tests import factories as f

WEEKDAYS_OF_4 = {0: 4, 1: 4, 2: 4, 3: 4, 4: 4}  # 20 sessions from the rules, Monday to Friday


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def test_a_department_with_no_history_keeps_what_its_rules_give():
    proposal = propose(Demand(rule_sessions={1: 6, 3: 4}))

    assert proposal.current == 10 and proposal.proposed == 10
    assert proposal.by_day == {1: 6, 3: 4}
    assert "No published slots in the last two weeks" in proposal.lines[1]
    assert proposal.lines[-1] == "→ from 10 to 10 sessions."


def test_a_busy_department_gets_more_sessions_explained_line_by_line():
    demand = Demand(
        rule_sessions=WEEKDAYS_OF_4,
        waiting=3,
        turned_away=2,
        seats_last_week=10,
        used_last_week=9,
        seats_this_week=10,
        used_this_week=6,
    )

    proposal = propose(demand)

    # 9 served × 1.2 + 5 unmet = 15.8 → 16 seats of one.
    assert proposal.proposed == 16
    assert proposal.lines[0] == (
        "3 petitions waiting, 2 residents turned away, this week 60 % full, last week 90 % full."
    )
    assert proposal.lines[1] == "Demand calls for 16 seats, 16 sessions of 1."
    assert proposal.lines[-1] == "→ from 20 to 16 sessions."
    assert sum(proposal.by_day.values()) == 16 and max(proposal.by_day.values()) <= 4


def test_a_department_offering_fewer_sessions_than_its_rules_hold_is_proposed_more():
    demand = Demand(
        rule_sessions=WEEKDAYS_OF_4,
        sessions_this_week=10,
        waiting=12,
        turned_away=5,
        seats_last_week=10,
        used_last_week=9,
        seats_this_week=10,
        used_this_week=10,
    )

    proposal = propose(demand)

    # 10 served × 1.2 + 17 unmet = 29 seats, held back by the 20 the rules allow.
    assert (proposal.current, proposal.proposed) == (10, 20)
    assert proposal.lines[0].startswith("12 petitions waiting, 5 residents turned away")
    assert proposal.lines[-1] == "→ from 10 to 20 sessions."


def test_no_shows_and_seats_per_session_change_the_count():
    demand = Demand(
        rule_sessions={0: 8, 2: 8},
        seats_per_session=3,
        waiting=10,
        seats_last_week=30,
        used_last_week=10,
        attended_4_weeks=15,
        no_shows_4_weeks=5,
    )

    proposal = propose(demand)

    # (10 × 1.2 + 10) × 1.25 = 27.5 → 28 seats → 10 sessions of 3.
    assert proposal.proposed == 10
    assert "25 % no-shows over four weeks" in proposal.lines[0]
    assert proposal.lines[1] == "Demand calls for 28 seats, 10 sessions of 3."
    assert proposal.by_day == {0: 5, 2: 5}


def test_it_never_goes_above_what_the_rules_hold_and_says_so():
    proposal = propose(
        Demand(rule_sessions={0: 2, 4: 1}, waiting=12, turned_away=5, seats_last_week=3, used_last_week=3)
    )

    assert proposal.proposed == 3
    assert proposal.by_day == {0: 2, 4: 1}
    assert any("at most 3 sessions" in line for line in proposal.lines)


def test_a_quiet_department_with_rules_keeps_one_session():
    proposal = propose(Demand(rule_sessions=WEEKDAYS_OF_4, seats_last_week=20, used_last_week=0))

    assert proposal.proposed == 1
    assert proposal.by_day == {0: 1, 1: 0, 2: 0, 3: 0, 4: 0}
    assert "It keeps at least 1 session a week." in proposal.lines


def test_deadlines_due_next_week_set_a_minimum():
    proposal = propose(Demand(rule_sessions=WEEKDAYS_OF_4, seats_last_week=20, used_last_week=1, due_next_week=7))

    assert proposal.proposed == 7
    assert "7 deadlines due next week" in proposal.lines[0]


def test_a_department_without_rules_has_nothing_to_publish():
    proposal = propose(Demand(rule_sessions={}, waiting=4))

    assert (proposal.current, proposal.proposed, proposal.by_day) == (0, 0, {})
    assert "nothing to publish" in proposal.lines[0]


def test_the_explanation_is_in_chinese_by_default():
    with translation.override("zh-hans"):
        proposal = propose(
            Demand(rule_sessions={0: 4}, waiting=12, turned_away=5, seats_last_week=10, used_last_week=9)
        )

    assert "12 件信访事项等待预约" in proposal.lines[0]
    assert proposal.lines[-1].startswith("→ 由 4 场")


def test_allocation_shares_in_proportion_and_never_exceeds_a_day():
    assert allocate(5, {0: 6, 2: 3, 4: 1}) == {0: 3, 2: 2, 4: 0}
    assert allocate(99, {0: 2, 1: 0}) == {0: 2}
    assert allocate(0, {0: 2}) == {0: 0}


# Publishing a plan ---------------------------------------------------------------------------------------------

WEEK = "2026-W10"  # Monday 2026-03-02: no holidays


@pytest.mark.django_db
def test_a_plan_publishes_only_that_many_of_the_rules_times_spread_over_the_day(department):
    f.rule(department, weekday=0, start="09:00", end="11:00", minutes=30)  # four times
    f.rule(department, weekday=2, start="14:00", end="15:00", minutes=30)  # two times

    result = f.publish(department, WEEK, plan={0: 2, 2: 0})

    times = [
        s.starts_at.astimezone(f.local("2026-03-02 00:00").tzinfo).strftime("%a %H:%M")
        for s in department.slots.order_by("starts_at")
    ]
    assert times == ["Mon 09:00", "Mon 10:00"]
    assert result.created == 2


@pytest.mark.django_db
def test_a_plan_is_idempotent_and_a_larger_plan_adds_the_rest(department):
    f.rule(department, weekday=0, start="09:00", end="11:00", minutes=30)

    f.publish(department, WEEK, plan={0: 2})
    again = f.publish(department, WEEK, plan={0: 2})
    more = f.publish(department, WEEK, plan={0: 9})

    assert (again.created, again.updated, again.removed) == (0, 0, 0)
    assert more.created == 2 and department.slots.count() == 4


@pytest.mark.django_db
def test_a_plan_with_a_negative_number_is_refused(department):
    from scheduler.errors import InvalidInput

    f.rule(department, weekday=0)
    with pytest.raises(InvalidInput):
        f.publish(department, WEEK, plan={0: -1})
    assert department.slots.count() == 0
