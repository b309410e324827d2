"""Staff pages for SMS: the local outbox, and the messages that failed for a community worker to follow up by phone."""

from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from scheduler.errors import Conflict

from .. import policy
from ..identity import phone_mask
from ..models import Notification, OutboxMessage
from ..staff.views import StaffRequest, staff_page
from . import sms_selectors
from .delivery import notification_mark_handled, notification_problem_text

PAGE_SIZE = 50
# Enough for a working day; the heading counts them all and says when there are more.
OPEN_SHOWN = 200
HANDLED_SHOWN = 30


@dataclass(frozen=True)
class OutboxRow:
    message: OutboxMessage
    to_masked: str
    reference: str
    state: str
    kind: str


@dataclass(frozen=True)
class ProblemRow:
    notification: Notification
    problem: str


def _page_number(value: str | None) -> int:
    return int(value) if value and value.isascii() and value.isdigit() and len(value) <= 6 else 1


def _label(choices, value: str | None) -> str:
    return str(dict(choices).get(value, "")) if value else ""


@never_cache
@staff_page()
@require_GET
def outbox(request: StaffRequest) -> HttpResponse:
    page = Paginator(sms_selectors.outbox_list(actor=request.actor), PAGE_SIZE).get_page(
        _page_number(request.GET.get("page"))
    )
    rows = [
        OutboxRow(
            message=message,
            to_masked=phone_mask(message.to),
            reference=getattr(message, "petition_reference", None) or "",
            state=_label(Notification.State.choices, getattr(message, "notification_state", None)),
            kind=_label(Notification.Kind.choices, getattr(message, "notification_kind", None)),
        )
        for message in page.object_list
    ]
    context = {
        "page": page,
        "rows": rows,
        "backend": sms_selectors.sms_backend_name(),
        "is_officer": request.actor.is_petition_officer,
    }
    return render(request, "staff/sms_outbox.html", context)


@never_cache
@staff_page(policy.may_follow_up_in_communities)
@require_GET
def problems(request: StaffRequest) -> HttpResponse:
    actor = request.actor
    open_problems = sms_selectors.problem_list_open(actor=actor)
    context = {
        "open_count": open_problems.count(),
        "open_rows": [ProblemRow(n, str(notification_problem_text(n))) for n in open_problems[:OPEN_SHOWN]],
        "open_shown": OPEN_SHOWN,
        "handled_rows": [
            ProblemRow(n, str(notification_problem_text(n)))
            for n in sms_selectors.problem_list_handled(actor=actor)[:HANDLED_SHOWN]
        ],
        "handled_shown": HANDLED_SHOWN,
        "is_officer": actor.is_petition_officer,
        "community": actor.staff.community if actor.staff else None,
    }
    return render(request, "staff/sms_problems.html", context)


@staff_page(policy.may_follow_up_in_communities)
@require_POST
def problem_handled(request: StaffRequest, notification_id: int) -> HttpResponse:
    """Mark a failed message as followed up; another community's message is not found (404)."""
    try:
        notification = notification_mark_handled(actor=request.actor, notification_id=notification_id)
    except Conflict as error:
        messages.warning(request, str(error.message))
    else:
        messages.success(
            request,
            _("Noted: the resident of %(reference)s was contacted about this message.")
            % {"reference": notification.petition.reference},
        )
    return redirect("sms:problems")
