"""Reads behind the petition office's pages: the petition list and its search, the deadline lists, and one
petition's whole history in time order."""

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from departments.audit import AuditEvent
from departments.models import Community, Department, StaffMember
from departments.services import Actor
from scheduler.text import text_clean

from .. import identity
from ..models import (
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
    ReviewRequest,
    VideoSession,
)
from ..office import figures
from .lifecycle import BOOKABLE_STATUSES, UNDECIDED_STATUSES, S, can_decide, days_left
from .services import ANSWERABLE_STATUSES

# "Due soon" on the lists: the deadline falls today or within this many days.
DUE_SOON_DAYS = 3
SEARCH_TEXT_MAX = 100
# Seventeen digits and a digit or X: what a resident ID number looks like once spaces and width are folded.
_ID_NUMBER_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
# A run of digits as long as an ID number (18, or the old 15) inside other text; references and codes are shorter.
_ID_NUMBER_INSIDE = re.compile(r"(?<![0-9])[0-9]{15,17}[0-9Xx]?(?![0-9])")


class DeadlineFilter:
    OVERDUE = "overdue"
    SOON = "soon"
    values = (OVERDUE, SOON)


@dataclass(frozen=True)
class PetitionSearch:
    """What a staff member asked the petition list for; every part optional."""

    text: str = ""
    resident_id: int | None = None
    status: str = ""
    department: str = ""
    community: str = ""
    category: str = ""
    deadline: str = ""
    # A dashboard figure to drill down to (appointments.office.figures) and its week, YYYY-Www (this week if blank).
    figure: str = ""
    week: str = ""


def petition_scope(actor: Actor) -> QuerySet[Petition]:
    """The petitions a staff member's list holds: every one for the petition office, else their department's."""
    if actor.is_petition_officer:
        return Petition.objects.all()
    staff = actor.staff
    if staff is not None and staff.department_id is not None and actor.is_department_member(staff.department_id):
        return Petition.objects.filter(department_id=staff.department_id)
    return Petition.objects.none()


def looks_like_id_number(text: str) -> bool:
    """Tell whether typed text is shaped like a resident ID number (it must then never reach a URL or a page)."""
    if not isinstance(text, str) or len(text) > 60:
        return False
    folded = "".join(unicodedata.normalize("NFKC", text).split()).upper()
    return _ID_NUMBER_SHAPE.fullmatch(folded) is not None


def id_number_strip(text: str) -> tuple[str, bool]:
    """Take anything shaped like an ID number out of search text; say whether something was taken out."""
    folded = unicodedata.normalize("NFKC", text)
    stripped = _ID_NUMBER_INSIDE.sub(" ", folded)
    if stripped == folded:
        return text, False
    return " ".join(stripped.split()), True


def resident_for_search(*, actor: Actor, id_number: str) -> int | None:
    """The resident with this ID number if any petition on this caller's list was filed with it, else None.

    Found by the keyed hash; a resident known elsewhere but not on the caller's list is not told apart from nobody.
    """
    number = identity.id_number_clean(id_number, field="q")
    found = (
        petition_scope(actor)
        .filter(resident__id_number_hash__in=identity.lookup_hashes(number))
        .values_list("resident_id", flat=True)
        .first()
    )
    return found


def _name_tagged(text: str) -> Q:
    """Petitions filed with, or by a resident registered under, a name containing this text (2+ characters)."""
    found = Q(pk__in=[])
    for tag in identity.name_search_tags(text):
        found |= Q(contact_name_tags__contains=tag) | Q(resident__name_tags__contains=tag)
    return found


def petition_search(*, actor: Actor, search: PetitionSearch, today: dt.date | None = None) -> QuerySet[Petition]:
    """The petitions on this caller's list that match the search, ready to show a page of them."""
    today = today or timezone.localdate()
    petitions = petition_scope(actor).select_related("resident", "department", "community", "category")
    text = text_clean(search.text, field="q", max_length=SEARCH_TEXT_MAX)
    if text:
        petitions = petitions.filter(
            Q(reference__iexact=text)
            | Q(reference__icontains=text)
            | Q(query_code=text)
            # Names are encrypted: found by their keyed tags, a whole name or a part of two or more characters.
            | _name_tagged(text)
            | Q(summary__icontains=text)
        )
    if search.resident_id is not None:
        petitions = petitions.filter(resident_id=search.resident_id)
    if search.status in S.values:
        petitions = petitions.filter(status=search.status)
    if search.department and actor.is_petition_officer:
        petitions = petitions.filter(department__code=search.department)
    if search.community:
        petitions = petitions.filter(community__code=search.community)
    if search.category:
        petitions = petitions.filter(category__code=search.category)
    if search.figure in figures.PETITION_FIGURES:
        period = figures.week_period_parse(search.week, today=today)
        petitions = figures.figure_petitions(name=search.figure, period=period, petitions=petitions)
    if search.deadline == DeadlineFilter.OVERDUE:
        return petitions.filter(due_on__lt=today).order_by("due_on", "pk")
    if search.deadline == DeadlineFilter.SOON:
        return petitions.filter(due_on__gte=today, due_on__lte=today + dt.timedelta(days=DUE_SOON_DAYS)).order_by(
            "due_on", "pk"
        )
    return petitions.order_by("-received_at", "-pk")


@dataclass(frozen=True)
class DeadlineCounts:
    overdue: int
    due_soon: int


def deadline_counts(*, actor: Actor, today: dt.date | None = None) -> DeadlineCounts:
    """How many petitions on this caller's list are past their statutory deadline, and how many fall due soon."""
    today = today or timezone.localdate()
    counts = petition_scope(actor).aggregate(
        overdue=Count("pk", filter=Q(due_on__lt=today)),
        due_soon=Count("pk", filter=Q(due_on__gte=today, due_on__lte=today + dt.timedelta(days=DUE_SOON_DAYS))),
    )
    return DeadlineCounts(overdue=counts["overdue"], due_soon=counts["due_soon"])


def petition_list_overdue(*, actor: Actor, today: dt.date | None = None) -> QuerySet[Petition]:
    """The petitions on this caller's list whose statutory deadline has passed, the longest overdue first."""
    return petition_search(actor=actor, search=PetitionSearch(deadline=DeadlineFilter.OVERDUE), today=today)


def petition_list_due_soon(*, actor: Actor, today: dt.date | None = None) -> QuerySet[Petition]:
    """The petitions on this caller's list due today or within the next 3 days, the soonest first."""
    return petition_search(actor=actor, search=PetitionSearch(deadline=DeadlineFilter.SOON), today=today)


@dataclass(frozen=True)
class FilterChoices:
    departments: list[Department]
    communities: list[Community]
    categories: list[PetitionCategory]


def petition_filter_choices(*, actor: Actor) -> FilterChoices:
    """What the list's filters offer: departments (petition office only), the communities petitions came from,
    and the categories."""
    departments = list(Department.objects.order_by("kind", "name")) if actor.is_petition_officer else []
    scope = petition_scope(actor)
    communities = list(
        Community.objects.filter(Exists(scope.filter(community=OuterRef("pk"))))
        .select_related("street")
        .order_by("street__name", "name")
    )
    return FilterChoices(
        departments=departments, communities=communities, categories=list(PetitionCategory.objects.all())
    )


# Deadlines in plain words --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadlineView:
    """A petition's running deadline as a person reads it: what is due by when, and how far it is."""

    due_on: dt.date | None
    what: str
    how_far: str
    state: str  # "overdue", "soon", "ok" or "none"


def deadline_view(petition: Petition, *, today: dt.date | None = None) -> DeadlineView:
    """Say in plain words which statutory deadline runs for a petition and how many days are left or over."""
    left = days_left(petition, today=today)
    if left is None or petition.due_on is None:
        return DeadlineView(due_on=None, what=_("No statutory deadline is running."), how_far="", state="none")
    date = petition.due_on.isoformat()
    sentences: dict[str, str] = {
        DueKind.ACCEPTANCE: _("Decide on acceptance and tell the resident by %(date)s"),
        DueKind.ANSWER: _("Answer the resident by %(date)s"),
        DueKind.REVIEW_ANSWER: _("Answer the review (复查) by %(date)s"),
        DueKind.REEXAMINATION_ANSWER: _("Answer the re-examination (复核) by %(date)s"),
    }
    what = sentences.get(petition.due_kind, _("Due by %(date)s")) % {"date": date}
    if left < 0:
        how_far = ngettext("overdue by %(days)d day", "overdue by %(days)d days", -left) % {"days": -left}
        state = "overdue"
    elif left == 0:
        how_far, state = _("due today"), "soon"
    else:
        how_far = ngettext("%(days)d day left", "%(days)d days left", left) % {"days": left}
        state = "soon" if left <= DUE_SOON_DAYS else "ok"
    return DeadlineView(due_on=petition.due_on, what=what, how_far=how_far, state=state)


# One petition's history ---------------------------------------------------------------------------------------


def staff_name(member: StaffMember | None) -> str:
    """A staff member as the history names them: their name (or user name) and where they work."""
    if member is None:
        return ""
    person = member.user.get_full_name() or member.user.get_username()
    place = member.department or member.community
    return f"{person} · {place}" if place else person


@dataclass
class HistoryEntry:
    """One thing that happened to a petition; `kind` says which, `item` is the record it is about."""

    at: dt.datetime
    kind: str
    item: Any
    note: dict[str, Any] = field(default_factory=dict)


@dataclass
class PetitionHistory:
    petition: Petition
    entries: list[HistoryEntry]
    outcomes: list[Outcome]
    current: Outcome | None
    open_commitments: list[Commitment]
    slips: list[FollowUpSlip]
    active_appointment: Appointment | None


def _names_by_principal(events: list[AuditEvent]) -> dict[str, str]:
    ids = {int(e.actor.split(":", 1)[1]) for e in events if e.actor.startswith("staff:")}
    members = StaffMember.objects.select_related("user", "department", "community").filter(pk__in=ids)
    return {f"staff:{m.pk}": staff_name(m) for m in members}


def petition_history(*, petition: Petition) -> PetitionHistory:
    """Everything that happened to a petition, oldest first, read in a fixed number of queries."""
    appointments = list(
        Appointment.objects.filter(petition=petition)
        .select_related("slot__department", "community", "kiosk", "booked_by__user", "video_session")
        .prefetch_related("video_session__participants")
        .order_by("created_at", "pk")
    )
    referrals = list(
        Referral.objects.filter(petition=petition).select_related("from_department", "to_department", "by__user")
    )
    slips = list(
        FollowUpSlip.objects.filter(petition=petition).select_related("community", "closed_by__user").order_by("pk")
    )
    outcomes = list(
        Outcome.objects.filter(petition=petition)
        .select_related("department", "recorded_by__user", "recorded_by__department", "rating")
        .prefetch_related(
            Prefetch("items", queryset=OutcomeItem.objects.select_related("referred_to")),
            Prefetch("commitments", queryset=Commitment.objects.select_related("done_by__user")),
        )
        .order_by("recorded_at", "pk")
    )
    reviews = list(ReviewRequest.objects.filter(petition=petition).order_by("requested_at", "pk"))
    events = list(
        AuditEvent.objects.filter(
            target_type=Petition._meta.label_lower,
            target_id=str(petition.pk),
            action__in=["petition.extend", "petition.status", "petition.accept"],
        ).order_by("at", "pk")
    )
    names = _names_by_principal(events)

    entries = [HistoryEntry(at=petition.received_at, kind="filed", item=petition)]
    for appointment in appointments:
        entries.append(HistoryEntry(at=appointment.created_at, kind="booked", item=appointment))
        if appointment.checked_in_at:
            entries.append(HistoryEntry(at=appointment.checked_in_at, kind="checked_in", item=appointment))
        session: VideoSession | None = getattr(appointment, "video_session", None)
        if session is not None and session.started_at:
            entries.append(HistoryEntry(at=session.started_at, kind="session", item=session))
        if appointment.cancelled_at:
            entries.append(HistoryEntry(at=appointment.cancelled_at, kind="cancelled", item=appointment))
    for event in events:
        who = names.get(event.actor, "")
        if event.action == "petition.accept":
            # Accepting by answering happens as the answer is recorded: show it at that moment, before the answer.
            at = petition.accepted_at if event.detail.get("implicit") and petition.accepted_at else event.at
            entries.append(HistoryEntry(at=at, kind="accepted", item=petition, note={"by": who, **event.detail}))
        elif event.action == "petition.extend":
            entries.append(HistoryEntry(at=event.at, kind="extended", item=petition, note={"by": who, **event.detail}))
        elif event.detail.get("to") in (S.CLOSED, S.NOT_ACCEPTED):
            kind = "closed" if event.detail["to"] == S.CLOSED else "not_accepted"
            entries.append(HistoryEntry(at=event.at, kind=kind, item=petition, note={"by": who}))
    for referral in referrals:
        entries.append(HistoryEntry(at=referral.at, kind="referred", item=referral))
    slips_by_outcome: dict[int, list[FollowUpSlip]] = {}
    for slip in slips:
        slips_by_outcome.setdefault(slip.outcome_id, []).append(slip)
        if slip.closed_at:
            entries.append(HistoryEntry(at=slip.closed_at, kind="slip_closed", item=slip))
    corrected_by = {o.corrects_id: o for o in outcomes if o.corrects_id}
    by_pk = {o.pk: o for o in outcomes}
    for outcome in outcomes:
        entries.append(
            HistoryEntry(
                at=outcome.recorded_at,
                kind="outcome",
                item=outcome,
                note={
                    "slips": slips_by_outcome.get(outcome.pk, []),
                    "corrected_by": corrected_by.get(outcome.pk),
                    "corrects": by_pk.get(outcome.corrects_id) if outcome.corrects_id else None,
                    "recorded_by": staff_name(outcome.recorded_by),
                },
            )
        )
        for commitment in outcome.commitments.all():
            if commitment.done_at:
                entries.append(HistoryEntry(at=commitment.done_at, kind="commitment_done", item=commitment))
        rating = getattr(outcome, "rating", None)
        if rating is not None:
            entries.append(HistoryEntry(at=rating.rated_at, kind="rating", item=rating))
    for review in reviews:
        entries.append(HistoryEntry(at=review.requested_at, kind="review", item=review))
    # Python's sort is stable: things recorded at the same moment keep the order they were read in.
    entries.sort(key=lambda entry: entry.at)

    current = next((o for o in reversed(outcomes) if o.pk not in corrected_by), None)
    open_commitments = [
        c for o in outcomes if o.pk not in corrected_by for c in o.commitments.all() if c.done_at is None
    ]
    active = next((a for a in appointments if a.status in Appointment.ACTIVE_STATUSES), None)
    return PetitionHistory(
        petition=petition,
        entries=entries,
        outcomes=outcomes,
        current=current,
        open_commitments=open_commitments,
        slips=slips,
        active_appointment=active,
    )


# What can be done on a petition's page -------------------------------------------------------------------------


def petition_actions(*, actor: Actor, petition: Petition, current: Outcome | None = None) -> set[str]:
    """The actions a staff member is offered on a petition's page now; the services still decide each one."""
    if actor.staff is None or not can_decide(actor, petition):
        return set()
    status = petition.status
    actions: set[str] = set()
    if status in UNDECIDED_STATUSES | {S.REOPENED} and (petition.accepted_at is None or status == S.REFERRED):
        actions.add("accept")
    if status in UNDECIDED_STATUSES and petition.accepted_at is None:
        actions.add("not_accept")
    if status in ANSWERABLE_STATUSES:
        actions.update({"refer", "outcome"})
    if (
        actor.is_petition_officer
        and not petition.extension_days
        and petition.accepted_at is not None
        and petition.answered_at is None
        and status != S.CLOSED
    ):
        actions.add("extend")
    if current is not None:
        actions.add("correct")
    if status in (S.ANSWERED, S.FOLLOW_UP, S.NOT_ACCEPTED):
        actions.add("close")
    if status in BOOKABLE_STATUSES:
        actions.add("book")
    return actions


def petition_with_history(petition: Petition) -> Petition:
    """Load a petition's whole history in a fixed number of queries, however long it is."""
    prefetch_related_objects(
        [petition],
        Prefetch("appointments", queryset=Appointment.objects.select_related("slot").order_by("slot__starts_at", "pk")),
        Prefetch("outcomes", queryset=Outcome.objects.select_related("department").order_by("recorded_at", "pk")),
        Prefetch("outcomes__items", queryset=OutcomeItem.objects.select_related("referred_to").order_by("position")),
        Prefetch("outcomes__commitments", queryset=Commitment.objects.order_by("due_on", "pk")),
        Prefetch("outcomes__rating", queryset=Rating.objects.all()),
        Prefetch("slips", queryset=FollowUpSlip.objects.select_related("community").order_by("due_on", "pk")),
        Prefetch("review_requests", queryset=ReviewRequest.objects.order_by("requested_at", "pk")),
        Prefetch(
            "referrals",
            queryset=Referral.objects.select_related("from_department", "to_department").order_by("at", "pk"),
        ),
    )
    return petition
