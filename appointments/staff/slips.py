"""Follow-up slips (矛盾化解提示单) for the community: the open ones to check and close, and those closed.

A community worker sees their own community's slips; a petition officer sees every community's, overdue first.
"""

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from departments.models import Community, StaffMember
from departments.services import Actor
from scheduler.errors import Conflict, InvalidInput, NotFound

from .. import policy
from ..models import FollowUpSlip
from ..outcomes.services import slip_close
from .views import StaffRequest, staff_page

Role = StaffMember.Role
# Enough for a working day's list; the count above the list says when there are more.
OPEN_SHOWN = 200
CLOSED_SHOWN = 50
FINDINGS_MAX = 2000


# Reads --------------------------------------------------------------------------------------------------------


def _slips_for(actor: Actor, community: Community | None) -> QuerySet[FollowUpSlip]:
    """The slips this caller may see: a community worker their community's, a petition officer any (filtered)."""
    slips = FollowUpSlip.objects.all()
    if not actor.is_petition_officer:
        if actor.staff is None or actor.community_id is None:
            return slips.none()
        slips = slips.filter(community_id=actor.community_id)
    if community is not None:
        slips = slips.filter(community=community)
    return slips.select_related("petition", "community", "outcome__department", "closed_by__user")


def slip_list_open(*, actor: Actor, community: Community | None = None) -> QuerySet[FollowUpSlip]:
    """Open slips, the earliest due first, so that the overdue ones lead."""
    return _slips_for(actor, community).filter(closed_at__isnull=True).order_by("due_on", "pk")


def slip_list_closed(*, actor: Actor, community: Community | None = None) -> QuerySet[FollowUpSlip]:
    """Closed slips, the most recently closed first."""
    return _slips_for(actor, community).filter(closed_at__isnull=False).order_by("-closed_at", "-pk")


def slip_count_open(*, community: Community) -> int:
    """How many follow-up slips of a community are still open."""
    return FollowUpSlip.objects.filter(community=community, closed_at__isnull=True).count()


@dataclass(frozen=True)
class SlipRow:
    slip: FollowUpSlip
    days_late: int

    @property
    def is_overdue(self) -> bool:
        return self.days_late > 0


def _rows(slips, today: dt.date) -> list[SlipRow]:
    return [SlipRow(slip=slip, days_late=max((today - slip.due_on).days, 0)) for slip in slips]


# Pages --------------------------------------------------------------------------------------------------------


def _community_filter(request: StaffRequest) -> Community | None:
    """The community a petition officer chose to look at; community workers always see their own."""
    code = request.GET.get("community") or request.POST.get("community") or ""
    if not code or not request.actor.is_petition_officer:
        return None
    community = Community.objects.filter(code=code[:50]).first()
    if community is None:
        raise NotFound(_("There is no such community."), field="community")
    return community


def _list_url(community: Community | None) -> str:
    url = reverse("staff:slips")
    return f"{url}?{urlencode({'community': community.code})}" if community else url


def _page(
    request: StaffRequest,
    *,
    community: Community | None,
    failed: dict | None = None,
    status: int = 200,
) -> HttpResponse:
    actor = request.actor
    today = timezone.localdate()
    open_slips = slip_list_open(actor=actor, community=community)
    open_count = open_slips.count()
    open_rows = _rows(open_slips[:OPEN_SHOWN], today)
    context = {
        "community": community,
        "own_community": request.actor.staff.community if request.actor.staff else None,
        "is_officer": actor.is_petition_officer,
        "communities": (
            Community.objects.filter(slips__isnull=False).distinct().order_by("name")
            if actor.is_petition_officer
            else []
        ),
        "open_rows": open_rows,
        "open_count": open_count,
        "overdue_count": open_slips.filter(due_on__lt=today).count(),
        "closed_rows": _rows(slip_list_closed(actor=actor, community=community)[:CLOSED_SHOWN], today),
        "open_shown": OPEN_SHOWN,
        "closed_shown": CLOSED_SHOWN,
        "findings_max": FINDINGS_MAX,
        "failed": failed,
        "today": today,
    }
    return render(request, "staff/slips.html", context, status=status)


@staff_page(policy.may_follow_up_in_communities)
@require_GET
def slip_list(request: StaffRequest) -> HttpResponse:
    return _page(request, community=_community_filter(request))


@staff_page(policy.may_follow_up_in_communities)
@require_POST
def slip_close_page(request: StaffRequest, slip_id: int) -> HttpResponse:
    """Close a slip with what the community found; a slip of another community is not found (404)."""
    community = _community_filter(request)
    findings = request.POST.get("findings", "")
    try:
        slip_close(actor=request.actor, slip_id=slip_id, findings=findings)
    except InvalidInput as error:
        failed = {"slip": slip_id, "message": str(error.message), "findings": findings[:FINDINGS_MAX]}
        return _page(request, community=community, failed=failed, status=422)
    except Conflict as error:
        messages.warning(request, str(error.message))
    else:
        messages.success(request, _("The follow-up slip is closed. Thank you."))
    return redirect(_list_url(community))
