"""The petition lifecycle in one place: its states and moves, acceptance, statutory deadlines, extension,
referral and closing. petition_transition is the only writer of a petition's status."""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from departments.audit import audit_record
from departments.models import Department, StaffMember
from departments.services import Actor
from scheduler.deadlines import china_working_days, deadline_after
from scheduler.errors import Conflict, Forbidden, InvalidInput, NotFound
from scheduler.selectors import department_get
from scheduler.text import text_clean

from .. import policy
from ..models import DueKind, Petition, ReviewRequest

S = Petition.Status
# Every legal move of a petition. Booking, consultations, decisions, reviews and closing all go through here.
TRANSITIONS: dict[str, set[str]] = {
    S.RECEIVED: {S.ACCEPTED, S.NOT_ACCEPTED, S.SCHEDULED, S.REFERRED, S.ANSWERED, S.FOLLOW_UP},
    S.ACCEPTED: {S.SCHEDULED, S.REFERRED, S.ANSWERED, S.FOLLOW_UP, S.NOT_ACCEPTED},
    S.NOT_ACCEPTED: {S.REOPENED, S.CLOSED},
    # Cancelling an appointment returns the petition to the status it was booked from.
    S.SCHEDULED: {
        S.IN_CONSULTATION,
        S.RECEIVED,
        S.ACCEPTED,
        S.REFERRED,
        S.FOLLOW_UP,
        S.REOPENED,
        S.SCHEDULED,
        S.ANSWERED,
        S.NOT_ACCEPTED,
    },
    S.IN_CONSULTATION: {S.ANSWERED, S.REFERRED, S.FOLLOW_UP, S.SCHEDULED, S.NOT_ACCEPTED},
    S.ANSWERED: {S.CLOSED, S.REOPENED, S.FOLLOW_UP},
    S.REFERRED: {S.ACCEPTED, S.NOT_ACCEPTED, S.SCHEDULED, S.ANSWERED, S.FOLLOW_UP, S.REFERRED},
    S.FOLLOW_UP: {S.SCHEDULED, S.ANSWERED, S.CLOSED, S.FOLLOW_UP, S.REOPENED},
    S.REOPENED: {S.ACCEPTED, S.SCHEDULED, S.ANSWERED, S.FOLLOW_UP, S.CLOSED, S.REFERRED},
    S.CLOSED: {S.REOPENED},
}
BOOKABLE_STATUSES = {S.RECEIVED, S.ACCEPTED, S.SCHEDULED, S.REFERRED, S.FOLLOW_UP, S.REOPENED}
# Where a decision on acceptance can still be made.
UNDECIDED_STATUSES = {S.RECEIVED, S.SCHEDULED, S.IN_CONSULTATION, S.REFERRED}

ACCEPTANCE_DAYS = 15
ANSWER_DAYS = 60
EXTENSION_MAX_DAYS = 30
REVIEW_REQUEST_DAYS = 30
REVIEW_ANSWER_DAYS = 30
REASON_MAX = 500


def status_label(value: object) -> str:
    """The status's name for a person; an unknown value is shown as given (it is refused, never stored)."""
    return str(S(value).label) if value in S.values else str(value)


def petition_transition(
    *, petition: Petition, to: str, actor: Actor | None = None, reason: str = "", audit: bool = True
) -> Petition:
    """Move a petition to a new status if the lifecycle allows it, and record who, when and why.

    With audit=False the caller records the `petition.status` event itself (booking writes its events in one INSERT).
    """
    if to not in TRANSITIONS.get(petition.status, set()):
        raise Conflict(
            _("A petition that is '%(from)s' cannot become '%(to)s'.")
            % {"from": status_label(petition.status), "to": status_label(to)},
            field="status",
            code="illegal_transition",
        )
    previous = petition.status
    petition.status = to
    petition.save(update_fields=["status", "updated_at"])
    if audit:
        audit_record(
            actor=actor,
            action="petition.status",
            target=petition,
            detail=petition_transition_detail(previous=previous, to=to, reason=reason),
        )
    return petition


def petition_transition_detail(*, previous: str, to: str, reason: str = "") -> dict:
    """What a `petition.status` audit event holds about the move."""
    detail = {"from": previous, "to": to}
    if reason:
        detail["reason"] = reason
    return detail


# Deadlines -----------------------------------------------------------------------------------------------------


def period_end(start: dt.date, days: int) -> dt.date:
    """The last day of a statutory period of `days` days beginning after `start`, counted as settings say."""
    working_days = settings.PETITION_DEADLINES_IN_WORKING_DAYS
    # Classify the days the count can reach with one read of the calendar's overrides, not one per day.
    # Working days: weekends and the longest holidays stay well within twice the period plus a month.
    first = start if working_days else start + dt.timedelta(days=days)
    last = start + dt.timedelta(days=days * 2 + 30) if working_days else first + dt.timedelta(days=20)
    return deadline_after(start, days, working_days=working_days, is_working_day=china_working_days(first, last))


def _local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def petition_deadline(petition: Petition) -> tuple[dt.date | None, str]:
    """The statutory deadline now running for a petition, and what it is for; (None, "") when none runs."""
    if petition.status in (S.CLOSED, S.NOT_ACCEPTED):
        return None, ""
    open_review = (
        ReviewRequest.objects.filter(petition=petition, answered_at__isnull=True).order_by("-requested_at").first()
        if petition.status == S.REOPENED or petition.answered_at is None
        else None
    )
    if open_review is not None:
        kind = DueKind.REVIEW_ANSWER if open_review.stage == "review" else DueKind.REEXAMINATION_ANSWER
        return open_review.answer_due_on, kind
    if petition.answered_at is not None:
        return None, ""
    if petition.accepted_at is None:
        return period_end(_local_date(petition.received_at), ACCEPTANCE_DAYS), DueKind.ACCEPTANCE
    return period_end(_local_date(petition.accepted_at), ANSWER_DAYS + petition.extension_days), DueKind.ANSWER


def petition_deadline_refresh(*, petition: Petition) -> Petition:
    """Store the deadline now running, so that lists can find what is overdue or due soon."""
    due_on, kind = petition_deadline(petition)
    if (petition.due_on, petition.due_kind) != (due_on, kind):
        petition.due_on, petition.due_kind = due_on, kind
        petition.save(update_fields=["due_on", "due_kind", "updated_at"])
    return petition


def days_left(petition: Petition, *, today: dt.date | None = None) -> int | None:
    """Days until the running deadline (negative when overdue); None when no deadline runs."""
    if petition.due_on is None:
        return None
    return (petition.due_on - (today or timezone.localdate())).days


# Who decides ---------------------------------------------------------------------------------------------------


def can_decide(actor: Actor, petition: Petition) -> bool:
    """The responsible department's staff, or the petition office, decide on a petition."""
    return policy.can_decide_petition(actor, petition)


def _require_decider(actor: Actor, petition: Petition) -> StaffMember:
    if actor.staff is None or not can_decide(actor, petition):
        raise Forbidden(_("Only the responsible department or the petition office can decide on this petition."))
    return actor.staff


def _reason_clean(value: object, *, field: str = "reason", required: bool = True, max_length: int = REASON_MAX) -> str:
    text = text_clean(value if value is not None else "", field=field, max_length=max_length, multiline=True)
    if required and not text:
        raise InvalidInput(_("Please give a reason; the resident will be told it."), field=field)
    return text


def _locked(petition: Petition) -> Petition:
    # Decisions are checked against the petition as it is now (a referral may have moved it since it was loaded).
    return Petition.objects.select_for_update().get(pk=petition.pk)


# Acceptance ----------------------------------------------------------------------------------------------------


@transaction.atomic
def petition_accept(*, actor: Actor, petition: Petition, now: dt.datetime | None = None) -> Petition:
    """Accept a petition (受理): the 60-day answer period starts."""
    petition = _locked(petition)
    _require_decider(actor, petition)
    if petition.accepted_at is not None and petition.status != S.REFERRED:
        raise Conflict(_("This petition has already been accepted."), field="status")
    if petition.status not in UNDECIDED_STATUSES | {S.REOPENED}:
        raise Conflict(
            _("A petition that is '%(status)s' cannot be accepted.") % {"status": S(petition.status).label},
            field="status",
        )
    now = now or timezone.now()
    petition.accepted_at = petition.accepted_at if petition.status == S.REFERRED and petition.accepted_at else now
    petition.acceptance_decided_at = now
    petition.save(update_fields=["accepted_at", "acceptance_decided_at", "updated_at"])
    if petition.status in (S.RECEIVED, S.REFERRED, S.REOPENED):
        petition_transition(petition=petition, to=S.ACCEPTED, actor=actor)
    audit_record(actor=actor, action="petition.accept", target=petition)
    return petition_deadline_refresh(petition=petition)


@transaction.atomic
def petition_not_accept(
    *, actor: Actor, petition: Petition, reason: str, redirect_to: str = "", now: dt.datetime | None = None
) -> Petition:
    """Decide not to accept a petition (不予受理), saying why and, where it applies, where the resident should go."""
    petition = _locked(petition)
    _require_decider(actor, petition)
    reason = _reason_clean(reason, max_length=1000)
    redirect_to = text_clean(redirect_to if redirect_to is not None else "", field="redirect_to", max_length=200)
    if petition.accepted_at is not None or petition.status not in UNDECIDED_STATUSES:
        raise Conflict(
            _("A petition that is '%(status)s' cannot be refused any more.") % {"status": S(petition.status).label},
            field="status",
        )
    petition.acceptance_decided_at = now or timezone.now()
    petition.not_accepted_reason = reason
    petition.redirect_to = redirect_to
    petition.save(update_fields=["acceptance_decided_at", "not_accepted_reason", "redirect_to", "updated_at"])
    petition_transition(petition=petition, to=S.NOT_ACCEPTED, actor=actor, reason="not_accepted")
    return petition_deadline_refresh(petition=petition)


def petition_accept_implicitly(*, actor: Actor, petition: Petition, now: dt.datetime) -> None:
    """Answering a petition that nobody had formally accepted accepts it at that moment."""
    if petition.accepted_at is None:
        petition.accepted_at = now
        petition.acceptance_decided_at = petition.acceptance_decided_at or now
        petition.save(update_fields=["accepted_at", "acceptance_decided_at", "updated_at"])
        audit_record(actor=actor, action="petition.accept", target=petition, detail={"implicit": True})


# Extension -----------------------------------------------------------------------------------------------------


@transaction.atomic
def petition_extend(*, actor: Actor, petition: Petition, days: int, reason: str) -> Petition:
    """Extend the answer period once, by at most 30 days, with a reason the resident is told (petition officers)."""
    if not policy.can_extend_petition(actor, petition) or actor.staff is None:
        raise Forbidden(_("Only a petition officer can approve an extension."))
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= EXTENSION_MAX_DAYS:
        raise InvalidInput(_("An extension is 1 to 30 days."), field="days")
    reason = _reason_clean(reason)
    petition = _locked(petition)
    if petition.extension_days:
        raise Conflict(_("The answer period has already been extended once."), field="days")
    # The first answer's period only: a review or re-examination has its own 30 days and no extension.
    if petition_deadline(petition)[1] != DueKind.ANSWER:
        raise Conflict(_("Only an accepted petition awaiting its answer can be extended."), field="days")
    petition.extension_days = days
    petition.extension_reason = reason
    petition.extension_approved_by = actor.staff
    petition.save(update_fields=["extension_days", "extension_reason", "extension_approved_by", "updated_at"])
    audit_record(actor=actor, action="petition.extend", target=petition, detail={"days": days})
    return petition_deadline_refresh(petition=petition)


# Referral ------------------------------------------------------------------------------------------------------


def petition_refer_locked(*, actor: Actor, petition: Petition, to_department: Department, reason: str) -> Petition:
    """Move a (locked) petition to another department with its history; its open appointment is cancelled."""
    from ..booking import appointment_cancel_for_referral
    from ..models import Referral
    from ..notify.waitlist import waitlist_close_for_referral

    staff = _require_decider(actor, petition)
    if to_department.pk == petition.department_id:
        raise InvalidInput(_("Please choose another department."), field="referred_to")
    if not to_department.is_active:
        raise InvalidInput(_("This department does not take petitions now."), field="referred_to")
    Referral.objects.create(
        petition=petition,
        from_department_id=petition.department_id,
        to_department=to_department,
        reason=reason,
        by=staff,
    )
    appointment_cancel_for_referral(actor=actor, petition=petition)
    waitlist_close_for_referral(petition=petition)
    petition.department = to_department
    petition.save(update_fields=["department", "updated_at"])
    petition_transition(petition=petition, to=S.REFERRED, actor=actor, reason="referred")
    return petition_deadline_refresh(petition=petition)


@transaction.atomic
def petition_refer(*, actor: Actor, petition: Petition, to_department: str, reason: str) -> Petition:
    """Refer a petition to the department that should handle it (转送)."""
    petition = _locked(petition)
    _require_decider(actor, petition)
    try:
        department = department_get(to_department, field="referred_to")
    except NotFound as exc:  # in a request body an unknown code is bad input, not a missing resource
        raise InvalidInput(exc.message, field="referred_to") from None
    reason = _reason_clean(reason)
    return petition_refer_locked(actor=actor, petition=petition, to_department=department, reason=reason)


# Closing -------------------------------------------------------------------------------------------------------


@transaction.atomic
def petition_close(*, actor: Actor, petition: Petition) -> Petition:
    """Close a petition whose answer stands and whose follow-up is done."""
    petition = _locked(petition)
    _require_decider(actor, petition)
    if petition_has_open_follow_up(petition):
        raise Conflict(_("Commitments or follow-up slips are still open."), field="status")
    petition_transition(petition=petition, to=S.CLOSED, actor=actor)
    return petition_deadline_refresh(petition=petition)


def petition_has_open_follow_up(petition: Petition) -> bool:
    from ..models import Commitment, FollowUpSlip

    return (
        Commitment.objects.filter(outcome__petition=petition, done_at__isnull=True).exists()
        or FollowUpSlip.objects.filter(petition=petition, closed_at__isnull=True).exists()
    )
