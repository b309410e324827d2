"""What a department decided, and what follows: outcomes and their corrections, commitments, follow-up slips to
the community, the resident's rating, and requests for review (复查) and re-examination (复核)."""

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from departments.audit import audit_record
from departments.models import Department, StaffMember
from departments.services import Actor
from scheduler.errors import Conflict, Forbidden, InvalidInput, NotFound
from scheduler.text import text_clean

from .. import policy
from ..models import (
    Appointment,
    Commitment,
    FollowUpSlip,
    Outcome,
    OutcomeItem,
    Petition,
    Rating,
    ReviewRequest,
    ReviewStage,
)
from ..notify import hooks as notify_hooks
from .lifecycle import (
    REVIEW_ANSWER_DAYS,
    REVIEW_REQUEST_DAYS,
    S,
    can_decide,
    period_end,
    petition_accept_implicitly,
    petition_deadline_refresh,
    petition_has_open_follow_up,
    petition_refer_locked,
    petition_transition,
)

ANSWER_MAX = 4000
LEGAL_BASIS_MAX = 2000
ITEMS_MAX = 20
COMMITMENTS_MAX = 20
Decision = OutcomeItem.Decision
# Where an answer can be recorded: before, during or after the consultation, or on review.
ANSWERABLE_STATUSES = {S.RECEIVED, S.ACCEPTED, S.SCHEDULED, S.IN_CONSULTATION, S.REFERRED, S.REOPENED, S.FOLLOW_UP}


@dataclass(frozen=True)
class ItemIn:
    request: str
    decision: str
    referred_to: str = ""
    referral_reason: str = ""


@dataclass(frozen=True)
class CommitmentIn:
    responsible: str
    action: str
    due_on: dt.date


@dataclass(frozen=True)
class SlipIn:
    to_check: str
    due_on: dt.date


@dataclass(frozen=True)
class OutcomeIn:
    answer: str
    items: list[ItemIn]
    legal_basis: str = ""
    commitments: list[CommitmentIn] = field(default_factory=list)
    slip: SlipIn | None = None


def _text(value: object, *, field: str, max_length: int, required: bool = False, multiline: bool = True) -> str:
    text = text_clean(value if value is not None else "", field=field, max_length=max_length, multiline=multiline)
    if required and not text:
        raise InvalidInput(_("This field is required."), field=field)
    return text


def _date(value: object, *, field: str, today: dt.date) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise InvalidInput(_("Please give a date as YYYY-MM-DD."), field=field)
    if value < today:
        raise InvalidInput(_("The date must not be in the past."), field=field)
    if value > today + dt.timedelta(days=366):
        raise InvalidInput(_("The date must be within a year."), field=field)
    return value


def _require_department_staff(actor: Actor, petition: Petition) -> StaffMember:
    if actor.staff is None or not can_decide(actor, petition):
        raise Forbidden(_("Only the responsible department or the petition office can record an answer."))
    return actor.staff


def outcome_clean(data: OutcomeIn, *, today: dt.date) -> tuple[OutcomeIn, dict[int, Department]]:
    """Check an outcome as a person would fill it in; return it normalised, with the departments referred to."""
    from scheduler.selectors import department_get

    answer = _text(data.answer, field="answer", max_length=ANSWER_MAX, required=True)
    legal_basis = _text(data.legal_basis, field="legal_basis", max_length=LEGAL_BASIS_MAX)
    if not isinstance(data.items, list | tuple) or not all(isinstance(item, ItemIn) for item in data.items):
        raise InvalidInput(_("Please record a decision on at least one request."), field="items")
    if not data.items:
        raise InvalidInput(_("Please record a decision on at least one request."), field="items")
    if len(data.items) > ITEMS_MAX:
        raise InvalidInput(_("At most 20 requests can be decided at once."), field="items")
    items, referred = [], {}
    for n, item in enumerate(data.items):
        where = f"items.{n}"
        if item.decision not in Decision.values:
            raise InvalidInput(_("Please choose one of the listed decisions."), field=f"{where}.decision")
        request = _text(item.request, field=f"{where}.request", max_length=500, required=True, multiline=False)
        referred_to, reason = "", ""
        if item.decision == Decision.REFERRED:
            if not item.referred_to:
                raise InvalidInput(_("Please choose the department it is referred to."), field=f"{where}.referred_to")
            try:
                referred[n] = department_get(item.referred_to, field=f"{where}.referred_to")
            except NotFound as exc:
                raise InvalidInput(exc.message, field=f"{where}.referred_to") from None
            referred_to = item.referred_to
            reason = _text(item.referral_reason, field=f"{where}.referral_reason", max_length=500, required=True)
        items.append(ItemIn(request=request, decision=item.decision, referred_to=referred_to, referral_reason=reason))
    if len({d.pk for d in referred.values()}) > 1:
        raise InvalidInput(_("A petition can be referred to one department at a time."), field="items")
    if not isinstance(data.commitments, list | tuple) or not all(isinstance(c, CommitmentIn) for c in data.commitments):
        raise InvalidInput(_("Please give each commitment as who, what and by when."), field="commitments")
    if data.slip is not None and not isinstance(data.slip, SlipIn):
        raise InvalidInput(_("Please say what the community should check and by when."), field="slip")
    if len(data.commitments) > COMMITMENTS_MAX:
        raise InvalidInput(_("At most 20 commitments can be recorded at once."), field="commitments")
    commitments = [
        CommitmentIn(
            responsible=_text(
                c.responsible, field=f"commitments.{n}.responsible", max_length=100, required=True, multiline=False
            ),
            action=_text(c.action, field=f"commitments.{n}.action", max_length=500, required=True),
            due_on=_date(c.due_on, field=f"commitments.{n}.due_on", today=today),
        )
        for n, c in enumerate(data.commitments)
    ]
    slip = None
    if data.slip is not None:
        slip = SlipIn(
            to_check=_text(data.slip.to_check, field="slip.to_check", max_length=1000, required=True),
            due_on=_date(data.slip.due_on, field="slip.due_on", today=today),
        )
    cleaned = OutcomeIn(answer=answer, items=items, legal_basis=legal_basis, commitments=commitments, slip=slip)
    return cleaned, referred


@transaction.atomic
def outcome_record(*, actor: Actor, petition: Petition, data: OutcomeIn, now: dt.datetime | None = None) -> Outcome:
    """Record what the department decided and tell the resident; a referral moves the petition on.

    A session under way or held is completed and linked to the answer; one still to come stays booked. Commitments
    or a slip (this answer's or an earlier one's still open) put the petition in follow-up, else it is answered.
    A referral leaves acceptance to the department it goes to; any other answer accepts the petition implicitly.
    """
    now = now or timezone.now()
    petition = Petition.objects.select_for_update().get(pk=petition.pk)
    staff = _require_department_staff(actor, petition)
    data, referred = outcome_clean(data, today=timezone.localdate(now))
    for n, department in referred.items():
        if department.pk == petition.department_id:
            raise InvalidInput(_("Please choose another department."), field=f"items.{n}.referred_to")
    if petition.status not in ANSWERABLE_STATUSES:
        raise Conflict(
            _("A petition that is '%(status)s' cannot be answered now.") % {"status": S(petition.status).label},
            field="status",
        )
    community_id = petition.community_id
    if data.slip is not None and community_id is None:
        raise InvalidInput(_("This petition has no community to send a follow-up slip to."), field="slip")
    review = ReviewRequest.objects.filter(petition=petition, answered_at__isnull=True).order_by("-pk").first()
    appointment = (
        Appointment.objects.select_for_update()
        .filter(petition=petition, status__in=Appointment.ACTIVE_STATUSES, slot__starts_at__lte=now)
        .first()
    )
    outcome = Outcome.objects.create(
        petition=petition,
        appointment=appointment,
        department_id=petition.department_id,
        stage=review.stage if review else ReviewStage.FIRST,
        answer=data.answer,
        legal_basis=data.legal_basis,
        recorded_by=staff,
        told_at=now,
    )
    OutcomeItem.objects.bulk_create(
        OutcomeItem(
            outcome=outcome,
            position=n + 1,
            request=item.request,
            decision=item.decision,
            referred_to=referred.get(n),
            referral_reason=item.referral_reason,
        )
        for n, item in enumerate(data.items)
    )
    Commitment.objects.bulk_create(
        Commitment(outcome=outcome, responsible=c.responsible, action=c.action, due_on=c.due_on)
        for c in data.commitments
    )
    if data.slip is not None and community_id is not None:
        FollowUpSlip.objects.create(
            petition=petition,
            outcome=outcome,
            community_id=community_id,
            decided=data.answer[:1000],
            to_check=data.slip.to_check,
            due_on=data.slip.due_on,
        )
    if appointment is not None:
        appointment.status = Appointment.Status.COMPLETED
        appointment.save(update_fields=["status", "updated_at"])
        audit_record(actor=actor, action="appointment.complete", target=appointment)
    if review is not None:
        review.answered_at = now
        review.save(update_fields=["answered_at"])
    audit_record(
        actor=actor,
        action="outcome.record",
        target=outcome,
        detail={"petition": petition.reference, "decisions": [i.decision for i in data.items]},
    )
    notify_hooks.on_outcome_recorded(outcome=outcome)
    if referred:
        n, department = next(iter(referred.items()))
        petition_refer_locked(
            actor=actor, petition=petition, to_department=department, reason=data.items[n].referral_reason
        )
        return outcome
    petition_accept_implicitly(actor=actor, petition=petition, now=now)
    petition.answered_at = now
    petition.save(update_fields=["answered_at", "updated_at"])
    follow_up = petition_has_open_follow_up(petition)
    petition_transition(petition=petition, to=S.FOLLOW_UP if follow_up else S.ANSWERED, actor=actor)
    petition_deadline_refresh(petition=petition)
    return outcome


@transaction.atomic
def outcome_correct(
    *, actor: Actor, outcome_id: int, answer: str, legal_basis: str, reason: str, now: dt.datetime | None = None
) -> Outcome:
    """Correct an answer already given: a new version that keeps the first and says why."""
    previous = Outcome.objects.select_for_update().select_related("petition").filter(pk=outcome_id).first()
    if previous is None:
        raise NotFound(_("No such answer."), field="outcome")
    staff = _require_department_staff(actor, previous.petition)
    if Outcome.objects.filter(corrects=previous).exists():
        raise Conflict(_("This answer has already been corrected; correct the latest version."), field="outcome")
    reason = _text(reason, field="reason", max_length=1000, required=True)
    corrected = Outcome.objects.create(
        petition=previous.petition,
        appointment=previous.appointment,
        department=previous.department,
        stage=previous.stage,
        answer=_text(answer, field="answer", max_length=ANSWER_MAX, required=True),
        legal_basis=_text(legal_basis, field="legal_basis", max_length=LEGAL_BASIS_MAX),
        recorded_by=staff,
        told_at=now or timezone.now(),
        corrects=previous,
        correction_reason=reason,
    )
    OutcomeItem.objects.bulk_create(
        OutcomeItem(
            outcome=corrected,
            position=item.position,
            request=item.request,
            decision=item.decision,
            referred_to_id=item.referred_to_id,
            referral_reason=item.referral_reason,
        )
        for item in previous.items.all()
    )
    audit_record(actor=actor, action="outcome.correct", target=corrected, detail={"corrects": previous.pk})
    return corrected


def outcome_current(petition: Petition) -> Outcome | None:
    """The answer the resident was last told (a corrected answer's latest version)."""
    return Outcome.objects.filter(petition=petition, corrected_by__isnull=True).order_by("-recorded_at", "-pk").first()


# Commitments and slips -----------------------------------------------------------------------------------------


def _follow_up_maybe_done(*, actor: Actor, petition_id: int) -> None:
    petition = Petition.objects.select_for_update().get(pk=petition_id)
    if petition.status == S.FOLLOW_UP and not petition_has_open_follow_up(petition):
        petition_transition(petition=petition, to=S.ANSWERED, actor=actor, reason="follow_up_done")


@transaction.atomic
def commitment_complete(*, actor: Actor, commitment_id: int, note: str, now: dt.datetime | None = None) -> Commitment:
    """Record that a commitment was kept, and what was done."""
    commitment = Commitment.objects.select_for_update().select_related("outcome__petition").filter(pk=commitment_id)
    found = commitment.first()
    if found is None or actor.staff is None or not can_decide(actor, found.outcome.petition):
        raise NotFound(_("No such commitment."), field="commitment")
    if found.done_at is not None:
        raise Conflict(_("This commitment is already done."), field="commitment")
    found.done_note = _text(note, field="note", max_length=500, required=True)
    found.done_at = now or timezone.now()
    found.done_by = actor.staff
    found.save(update_fields=["done_note", "done_at", "done_by"])
    audit_record(actor=actor, action="commitment.complete", target=found)
    _follow_up_maybe_done(actor=actor, petition_id=found.outcome.petition_id)
    return found


def slip_visible_to(slip: FollowUpSlip, actor: Actor) -> bool:
    return policy.can_view_slip(actor, slip)


@transaction.atomic
def slip_close(*, actor: Actor, slip_id: int, findings: str, now: dt.datetime | None = None) -> FollowUpSlip:
    """Close a follow-up slip with what the community found (its community worker, or a petition officer)."""
    slip = FollowUpSlip.objects.select_for_update().filter(pk=slip_id).first()
    if slip is None or actor.staff is None or not slip_visible_to(slip, actor):
        raise NotFound(_("No such follow-up slip."), field="slip")
    if slip.closed_at is not None:
        raise Conflict(_("This follow-up slip is already closed."), field="slip")
    slip.findings = _text(findings, field="findings", max_length=2000, required=True)
    slip.closed_at = now or timezone.now()
    slip.closed_by = actor.staff
    slip.save(update_fields=["findings", "closed_at", "closed_by"])
    audit_record(actor=actor, action="slip.close", target=slip)
    _follow_up_maybe_done(actor=actor, petition_id=slip.petition_id)
    return slip


# The resident's rating and review ------------------------------------------------------------------------------


def review_window_ends(outcome: Outcome) -> dt.date:
    """The last day on which a review (or re-examination) of this answer may be requested."""
    told = outcome.told_at or outcome.recorded_at
    return period_end(timezone.localtime(told).date(), REVIEW_REQUEST_DAYS)


def review_next_stage(outcome: Outcome) -> str | None:
    """What a resident dissatisfied with this answer may ask for next; None once re-examined (final)."""
    return {ReviewStage.FIRST: ReviewStage.REVIEW, ReviewStage.REVIEW: ReviewStage.REEXAMINATION}.get(
        ReviewStage(outcome.stage)
    )


@transaction.atomic
def rating_give(
    *, actor: Actor, petition: Petition, level: str, remark: str = "", now: dt.datetime | None = None
) -> Rating:
    """The resident rates the answer they were last told, once (a correction of a rated answer is not rated again)."""
    if level not in Rating.Level.values:
        raise InvalidInput(_("Please choose how satisfied you are."), field="level")
    remark = _text(remark, field="remark", max_length=500)
    # Locked, so that a double tap at the kiosk meets "already rated" rather than the database's refusal.
    petition = Petition.objects.select_for_update().get(pk=petition.pk)
    outcome = outcome_current(petition)
    if outcome is None or petition.status not in (S.ANSWERED, S.FOLLOW_UP, S.CLOSED):
        raise Conflict(_("There is no answer to rate yet."), field="level")
    versions = [outcome.pk]
    previous_id = outcome.corrects_id
    while previous_id is not None:
        versions.append(previous_id)
        previous_id = Outcome.objects.filter(pk=previous_id).values_list("corrects_id", flat=True).first()
    if Rating.objects.filter(outcome__in=versions).exists():
        raise Conflict(_("You have already rated this answer. Thank you."), field="level")
    rating = Rating.objects.create(outcome=outcome, level=level, remark=remark, kiosk=actor.kiosk)
    audit_record(actor=actor, action="rating.give", target=rating, detail={"level": level})
    return rating


@transaction.atomic
def review_request(
    *, actor: Actor, petition: Petition, reason: str = "", now: dt.datetime | None = None
) -> ReviewRequest:
    """Ask for a review of the answer (or a re-examination of a review): the petition reopens, its clock starts."""
    now = now or timezone.now()
    reason = _text(reason, field="reason", max_length=1000)
    petition = Petition.objects.select_for_update().get(pk=petition.pk)
    outcome = outcome_current(petition)
    if outcome is None or petition.status not in (S.ANSWERED, S.FOLLOW_UP, S.CLOSED):
        raise Conflict(_("There is no answer to review yet."), field="petition")
    stage = review_next_stage(outcome)
    if stage is None:
        raise Conflict(_("The re-examination is final; no further review can be requested."), field="petition")
    if ReviewRequest.objects.filter(of_outcome=outcome).exists():
        raise Conflict(_("A review of this answer has already been requested."), field="petition")
    if timezone.localtime(now).date() > review_window_ends(outcome):
        raise Conflict(_("A review must be requested within 30 days of the answer."), field="petition")
    request = ReviewRequest.objects.create(
        petition=petition,
        of_outcome=outcome,
        stage=stage,
        reason=reason,
        answer_due_on=period_end(timezone.localtime(now).date(), REVIEW_ANSWER_DAYS),
        kiosk=actor.kiosk,
    )
    petition.answered_at = None
    petition.save(update_fields=["answered_at", "updated_at"])
    petition_transition(petition=petition, to=S.REOPENED, actor=actor, reason=f"{stage}_requested")
    petition_deadline_refresh(petition=petition)
    audit_record(actor=actor, action="review.request", target=request, detail={"stage": stage})
    return request
