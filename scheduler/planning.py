"""Next week's consultation sessions for one department, from its demand given as plain numbers."""

import math
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# Booked seats of the busier recent week, plus this share, is the room kept for the usual flow of new bookings.
HEADROOM = 0.2
# A department that has rules keeps at least this many sessions a week, however quiet it was.
FLOOR = 1


@dataclass(frozen=True)
class Demand:
    """What one department faces, as numbers (gathered elsewhere: the scheduler never reads petitions)."""

    # Sessions (bookable times) the department's rules give on each day of next week, by weekday 0 = Monday;
    # closures and holidays already taken out. Their sum is the most the rules can hold.
    rule_sessions: dict[int, int]
    seats_per_session: int = 1
    sessions_this_week: int = 0  # sessions published this week: what the department offers now
    waiting: int = 0  # petitions waiting for the department with no booking
    turned_away: int = 0  # residents who found no free time, this and last week
    seats_this_week: int = 0
    used_this_week: int = 0  # seats booked, checked in or completed
    seats_last_week: int = 0
    used_last_week: int = 0
    attended_4_weeks: int = 0  # appointments held in the last four weeks
    no_shows_4_weeks: int = 0
    due_next_week: int = 0  # open petitions whose statutory deadline falls next week
    waitlisted: int = 0  # residents on the waiting list now (their petitions are among `waiting`)
    waitlist_joined: int = 0  # of those turned away, residents who joined the waiting list (so also `waiting`)


@dataclass(frozen=True)
class Proposal:
    current: int  # what the department offers now: this week's published sessions, or what its rules give
    proposed: int
    by_day: dict[int, int]  # weekday → sessions, only days the rules give
    lines: list[str] = field(default_factory=list)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


def _percent(value: float) -> str:
    return f"{round(value * 100)} %"


def allocate(total: int, capacity_by_day: dict[int, int]) -> dict[int, int]:
    """Share `total` sessions over the days in proportion to what each day holds, never more than it holds."""
    days = {day: n for day, n in sorted(capacity_by_day.items()) if n > 0}
    held = sum(days.values())
    total = max(0, min(total, held))
    if held == 0:
        return {}
    exact = {day: total * n / held for day, n in days.items()}
    shares = {day: math.floor(value) for day, value in exact.items()}
    # Largest remainder first; on a tie the earlier day, so residents get the nearer time.
    order = sorted(days, key=lambda day: (-(exact[day] - shares[day]), day))
    for day in order[: total - sum(shares.values())]:
        shares[day] += 1
    return shares


def propose(demand: Demand) -> Proposal:
    """Propose next week's number of sessions and their days, each step explained in a sentence."""
    ceiling = sum(max(0, n) for n in demand.rule_sessions.values())
    # The rules are the most a department can hold; what it offers now is what was published this week.
    current = min(demand.sessions_this_week, ceiling) if demand.sessions_this_week > 0 else ceiling
    floor = min(FLOOR, ceiling)
    seats_per_session = max(1, demand.seats_per_session)
    lines: list[str] = []
    if ceiling == 0:
        lines.append(_("Its rules give no consultation times next week, so there is nothing to publish."))
        return Proposal(current=0, proposed=0, by_day={}, lines=lines)

    use_this = _rate(demand.used_this_week, demand.seats_this_week)
    use_last = _rate(demand.used_last_week, demand.seats_last_week)
    no_show = _rate(demand.no_shows_4_weeks, demand.attended_4_weeks + demand.no_shows_4_weeks) or 0.0
    # A resident who joined the waiting list was turned away and now waits: counted once.
    unmet = max(0, demand.waiting) + max(0, demand.turned_away - max(0, demand.waitlist_joined))

    facts = [
        ngettext("%(n)d petition waiting", "%(n)d petitions waiting", demand.waiting) % {"n": demand.waiting},
        ngettext("%(n)d resident turned away", "%(n)d residents turned away", demand.turned_away)
        % {"n": demand.turned_away},
    ]
    if demand.waitlisted:
        facts.append(
            ngettext("%(n)d resident on the waiting list", "%(n)d residents on the waiting list", demand.waitlisted)
            % {"n": demand.waitlisted}
        )
    if use_this is not None:
        facts.append(_("this week %(percent)s full") % {"percent": _percent(use_this)})
    if use_last is not None:
        facts.append(_("last week %(percent)s full") % {"percent": _percent(use_last)})
    if demand.attended_4_weeks + demand.no_shows_4_weeks:
        facts.append(_("%(percent)s no-shows over four weeks") % {"percent": _percent(no_show)})
    if demand.due_next_week:
        facts.append(
            ngettext("%(n)d deadline due next week", "%(n)d deadlines due next week", demand.due_next_week)
            % {"n": demand.due_next_week}
        )
    lines.append(_("%(facts)s.") % {"facts": _(", ").join(facts)})

    if use_this is None and use_last is None:
        target = current
        lines.append(_("No published slots in the last two weeks: it keeps what its rules give."))
    else:
        served = max(demand.used_this_week, demand.used_last_week)
        seats = math.ceil((served * (1 + HEADROOM) + unmet) * (1 + no_show))
        seats = max(seats, demand.due_next_week)
        target = math.ceil(seats / seats_per_session)
        lines.append(
            ngettext(
                "Demand calls for %(seats)d seat, %(sessions)d session of %(per)d.",
                "Demand calls for %(seats)d seats, %(sessions)d sessions of %(per)d.",
                seats,
            )
            % {"seats": seats, "sessions": target, "per": seats_per_session}
        )

    proposed = max(floor, min(target, ceiling))
    if target > ceiling:
        lines.append(
            _("Its rules hold at most %(max)d sessions; the department could add hours for the rest.")
            % {"max": ceiling}
        )
    elif target < floor:
        lines.append(_("It keeps at least %(floor)d session a week.") % {"floor": floor})
    lines.append(_("→ from %(current)d to %(proposed)d sessions.") % {"current": current, "proposed": proposed})
    return Proposal(current=current, proposed=proposed, by_day=allocate(proposed, demand.rule_sessions), lines=lines)
