"""Reads for the resident-facing kiosk: the categories and departments to choose from, a petition's progress, and
what was decided on it."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from departments.models import Department

from ..booking import appointment_queryset
from ..models import (
    Appointment,
    Commitment,
    FollowUpSlip,
    Outcome,
    OutcomeItem,
    Petition,
    PetitionCategory,
    Rating,
    Referral,
    ReviewRequest,
)
from ..outcomes.lifecycle import days_left
from ..outcomes.services import review_next_stage, review_window_ends


def category_list_active() -> list[PetitionCategory]:
    """List the categories a resident can choose, in their display order."""
    return list(PetitionCategory.objects.filter(is_active=True).select_related("suggested_department"))


def department_list_bookable(*, suggested: str | None = None) -> list[Department]:
    """List the departments a resident may book: the one suggested for their matter first, then functional ones."""
    departments = list(Department.objects.filter(is_active=True).order_by("kind", "name"))
    # A stable sort: everything but the suggestion keeps its order.
    return sorted(departments, key=lambda department: department.code != suggested)


@dataclass(frozen=True)
class PetitionProgress:
    petition: Petition
    # The active appointment if there is one, else the most recent one, else None.
    appointment: Appointment | None

    def can_change_at(self, community_id: int, *, now: dt.datetime | None = None) -> bool:
        """Tell whether the kiosk of this community may offer cancel and reschedule."""
        now = now or timezone.now()
        appointment = self.appointment
        return (
            appointment is not None
            and appointment.status == Appointment.Status.BOOKED
            and appointment.community_id == community_id
            and appointment.slot.starts_at > now
        )


def petition_progress_get(*, petition_id: int) -> PetitionProgress | None:
    """Load a petition with the appointment a resident cares about, in a fixed number of queries."""
    petition = (
        Petition.objects.select_related("resident", "department", "category", "community")
        .filter(pk=petition_id)
        .first()
    )
    if petition is None:
        return None
    appointment = (
        appointment_queryset()
        .filter(petition=petition)
        # A seat held by a waiting-list offer, or one given back unanswered, was never the resident's booking.
        .exclude(status=Appointment.Status.OFFERED)
        .exclude(cancel_reason_code=Appointment.CancelReason.OFFER_LAPSED)
        .annotate(
            active_first=Case(
                When(status__in=Appointment.ACTIVE_STATUSES, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("active_first", "-created_at", "-pk")
        .first()
    )
    return PetitionProgress(petition=petition, appointment=appointment)


# What a resident is told about the decision on their matter ---------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """The statutory deadline now running, as the kiosk says it: which one, the day, and how far it is."""

    kind: str
    due_on: dt.date
    left: int

    @property
    def late(self) -> int:
        return -self.left


@dataclass(frozen=True)
class AnswerProgress:
    """The answer a resident was last told, what follows from it, and what they may still do about it."""

    outcome: Outcome
    items: list[OutcomeItem]
    commitments: list[Commitment]
    slip_due_on: dt.date | None
    rating: Rating | None
    # The review (复查) or re-examination (复核) asked of this answer, if any.
    review: ReviewRequest | None
    # What a resident dissatisfied with this answer may ask for next (None once re-examined: that is final).
    next_stage: str | None
    review_window_ends: dt.date
    # The answer stands (answered, followed up or closed): it can be rated, and a review of it asked.
    stands: bool

    @property
    def can_rate(self) -> bool:
        return self.stands and self.rating is None

    @property
    def review_window_open(self) -> bool:
        return timezone.localdate() <= self.review_window_ends

    @property
    def can_ask_review(self) -> bool:
        """Offer a review: the answer stands, none was asked yet, one is still possible, and it is in time."""
        return self.stands and self.review is None and self.next_stage is not None and self.review_window_open


@dataclass(frozen=True)
class OutcomeProgress:
    """Everything the progress page says about decisions: deadline, extension, referral and the current answer."""

    deadline: Deadline | None
    referral: Referral | None
    answer: AnswerProgress | None


# The statuses in which the resident's answer stands and may be rated (rating_give decides; this only shows).
ANSWER_STANDS = (Petition.Status.ANSWERED, Petition.Status.FOLLOW_UP, Petition.Status.CLOSED)


def _versions(outcome: Outcome) -> list[int]:
    """The ids of an answer's versions, this one first and the first one told last (a correction is the same
    answer: its rating, commitments and slips stay with the first version)."""
    ids = [outcome.pk]
    corrects_id = outcome.corrects_id
    while corrects_id is not None:
        ids.append(corrects_id)
        corrects_id = Outcome.objects.filter(pk=corrects_id).values_list("corrects_id", flat=True).first()
    return ids


def _answer_progress(petition: Petition) -> AnswerProgress | None:
    outcome = (
        Outcome.objects.select_related("department", "review_request")
        .filter(petition=petition, corrected_by__isnull=True)
        .order_by("-recorded_at", "-pk")
        .first()
    )
    if outcome is None:
        return None
    items = list(OutcomeItem.objects.filter(outcome=outcome).select_related("referred_to").order_by("position"))
    versions = _versions(outcome)
    # This answer's commitments, and any an earlier answer left open (they are still being followed up).
    commitments = list(
        Commitment.objects.filter(outcome__petition=petition)
        .filter(Q(outcome_id=versions[-1]) | Q(done_at__isnull=True))
        .order_by("due_on", "pk")
    )
    slip_due_on = None
    if petition.status == Petition.Status.FOLLOW_UP:
        slip_due_on = (
            FollowUpSlip.objects.filter(petition=petition, closed_at__isnull=True)
            .order_by("due_on")
            .values_list("due_on", flat=True)
            .first()
        )
    return AnswerProgress(
        outcome=outcome,
        items=items,
        commitments=commitments,
        slip_due_on=slip_due_on,
        rating=Rating.objects.filter(outcome_id__in=versions).first(),
        # Loaded with the outcome; a missing one reads as None.
        review=getattr(outcome, "review_request", None),
        next_stage=review_next_stage(outcome),
        review_window_ends=review_window_ends(outcome),
        stands=petition.status in ANSWER_STANDS,
    )


def petition_outcome_progress(petition: Petition, *, today: dt.date | None = None) -> OutcomeProgress:
    """What the kiosk tells a resident about the decisions on their matter, in a fixed number of queries."""
    left = days_left(petition, today=today)
    deadline = None
    if petition.due_on is not None and left is not None:
        deadline = Deadline(kind=petition.due_kind, due_on=petition.due_on, left=left)
    referral = (
        Referral.objects.select_related("from_department", "to_department")
        .filter(petition=petition)
        .order_by("-at", "-pk")
        .first()
    )
    return OutcomeProgress(deadline=deadline, referral=referral, answer=_answer_progress(petition))
