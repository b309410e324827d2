"""Reads for the staff SMS pages: the local outbox, the messages that failed, and a petition's messages."""

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.module_loading import import_string

from departments.models import Community, StaffMember
from departments.services import Actor

from ..models import Notification, OutboxMessage, Petition

State = Notification.State
PROBLEM_STATES = (State.FAILED, State.UNKNOWN)


def sms_backend_name() -> str:
    """The provider this site sends through ("twilio" or "local"), read without connecting to it."""
    try:
        return str(getattr(import_string(settings.SMS_BACKEND), "name", ""))
    except ImportError:
        # A wrong setting is the worker's to report; the outbox page still opens.
        return ""


def _petitions_for(actor: Actor) -> QuerySet[Petition] | None:
    """The petitions whose messages a caller may read; None means every petition (the petition office)."""
    staff = actor.staff
    if actor.is_petition_officer:
        return None
    if staff is None:
        return Petition.objects.none()
    if staff.role == StaffMember.Role.COMMUNITY_WORKER and staff.community_id is not None:
        return Petition.objects.filter(community_id=staff.community_id)
    if staff.department_id is not None and actor.is_department_member(staff.department_id):
        return Petition.objects.filter(department_id=staff.department_id)
    return Petition.objects.none()


def outbox_list(*, actor: Actor) -> QuerySet[OutboxMessage]:
    """Messages of the local outbox this caller may read, newest first, with the petition and state of each."""
    notifications = Notification.objects.filter(provider="local", provider_sid=OuterRef("sid"))
    messages = OutboxMessage.objects.all()
    petitions = _petitions_for(actor)
    if petitions is not None:
        # Only the messages of the caller's petitions; a message no notification claims is the office's alone.
        messages = messages.filter(
            sid__in=Notification.objects.filter(provider="local", petition__in=petitions).values("provider_sid")
        )
    return messages.annotate(
        petition_reference=Subquery(notifications.values("petition__reference")[:1]),
        notification_state=Subquery(notifications.values("state")[:1]),
        notification_kind=Subquery(notifications.values("kind")[:1]),
    ).order_by("-created_at", "-pk")


def problem_list_open(*, actor: Actor, community: Community | None = None) -> QuerySet[Notification]:
    """Messages that failed for good or may not have left, not yet followed up; the longest waiting first."""
    return _problems_for(actor, community).filter(handled_at__isnull=True).order_by("claimed_at", "pk")


def problem_list_handled(*, actor: Actor, community: Community | None = None) -> QuerySet[Notification]:
    """Problems already followed up, the most recent first."""
    return _problems_for(actor, community).filter(handled_at__isnull=False).order_by("-handled_at", "-pk")


def _problems_for(actor: Actor, community: Community | None) -> QuerySet[Notification]:
    problems = Notification.objects.filter(state__in=PROBLEM_STATES)
    if not actor.is_petition_officer:
        if actor.staff is None or actor.staff.role != StaffMember.Role.COMMUNITY_WORKER or actor.community_id is None:
            return problems.none()
        problems = problems.filter(petition__community_id=actor.community_id)
    if community is not None:
        problems = problems.filter(petition__community=community)
    return problems.select_related("petition__community", "handled_by__user")


def problem_count_open(*, community: Community) -> int:
    """How many of a community's messages failed or may not have left and wait to be followed up."""
    return Notification.objects.filter(
        state__in=PROBLEM_STATES, handled_at__isnull=True, petition__community=community
    ).count()


def petition_notifications(*, petition: Petition) -> list[Notification]:
    """Every message of one petition, in the order they were due."""
    return list(petition.notifications.order_by("due_at", "pk"))
