"""The pages where a petition is followed and decided: the petition list with its search and deadline counts, and
one petition's page with its whole history and a small form for each decision."""

import datetime as dt
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import cast
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from departments.models import Department
from scheduler.errors import DomainError, Forbidden, InvalidInput
from scheduler.selectors import slot_list_open

from .. import policy
from ..booking import appointment_book
from ..models import Commitment, Outcome, OutcomeItem, Petition
from ..notify.sms_selectors import petition_notifications
from ..office import figures
from ..outcomes import selectors
from ..outcomes.lifecycle import can_decide, petition_accept, petition_close, petition_extend, petition_not_accept
from ..outcomes.lifecycle import petition_refer as petition_refer_service
from ..outcomes.selectors import DeadlineFilter, PetitionSearch
from ..outcomes.services import (
    COMMITMENTS_MAX,
    ITEMS_MAX,
    CommitmentIn,
    ItemIn,
    OutcomeIn,
    SlipIn,
    commitment_complete,
    outcome_correct,
    outcome_record,
)
from ..petitions import petition_for_actor, resident_id_number_view
from .views import Role, StaffRequest, staff_page

PAGE_SIZE = 25
FILTERS = ("status", "department", "community", "category", "deadline", "figure", "week")
# Blank rows the outcome form offers for request items and for commitments.
ITEM_ROWS = 3
COMMITMENT_ROWS = 2
# How many open times the follow-up booking offers.
SLOT_CHOICES_MAX = 60


def _param(params: QueryDict, key: str, *, max_length: int = 100) -> str:
    value = params.get(key, "")
    return value if isinstance(value, str) and len(value) <= max_length and value.isprintable() else ""


def _posted_int(value: str | None, *, digits: int = 18) -> int | None:
    """A whole number as a form or address sends it: ASCII digits of a size the database can hold, else None."""
    if value is None or not value.isascii() or not value.isdigit() or len(value) > digits:
        return None
    return int(value)


# The list ------------------------------------------------------------------------------------------------------

# What the list says it shows when opened from a dashboard figure (open_<status> reads the status's own name).
FIGURE_LABELS = {
    "filed": pgettext_lazy("dashboard figure", "Filed"),
    "handled": pgettext_lazy("dashboard figure", "Handled"),
    "resolved": pgettext_lazy("dashboard figure", "Resolved"),
    "answered": pgettext_lazy("dashboard figure", "Answered"),
    "answered_on_time": pgettext_lazy("dashboard figure", "Answered on time"),
    "rated": pgettext_lazy("dashboard figure", "Rated"),
    "satisfied": pgettext_lazy("dashboard figure", "Satisfied or basically satisfied"),
    "overdue": pgettext_lazy("dashboard figure", "Past their deadline"),
    "due_within_3_days": pgettext_lazy("dashboard figure", "Due within 3 days"),
    "sessions_held": pgettext_lazy("dashboard figure", "Sessions held"),
    "no_shows": pgettext_lazy("dashboard figure", "Residents who did not attend"),
    "failed_connections": pgettext_lazy("dashboard figure", "Failed connections"),
    "open_slips": pgettext_lazy("dashboard figure", "Open follow-up slips"),
    "open": pgettext_lazy("dashboard figure", "Open"),
}


def _figure_label(name: str) -> str:
    if name.startswith("open_"):
        return str(dict(Petition.Status.choices).get(name[5:], name))
    return str(FIGURE_LABELS.get(name, name))


def _search_text(params: QueryDict) -> str:
    # Read as typed: the search says what is wrong with text it cannot take (too long, control characters).
    return params.get("q", "")[:1000]


def _search_from(params: QueryDict) -> PetitionSearch:
    return PetitionSearch(
        text=_search_text(params),
        resident_id=_posted_int(params.get("resident")),
        **{key: _param(params, key, max_length=40) for key in FILTERS},
    )


def _query(params: dict[str, str | int | None]) -> str:
    kept = {key: value for key, value in params.items() if value not in ("", None)}
    return urlencode(kept)


def _list_url(params: dict[str, str | int | None]) -> str:
    query = _query(params)
    return reverse("staff:petitions") + (f"?{query}" if query else "")


def _search_redirect(request: StaffRequest, params: QueryDict) -> HttpResponse:
    """Turn what was typed into the address of the list; an ID number is looked up and never put there."""
    text = _search_text(params)
    found: dict[str, str | int | None] = {"q": text, "resident": _posted_int(params.get("resident"))}
    if selectors.looks_like_id_number(text):
        found["q"] = ""
        try:
            resident = selectors.resident_for_search(actor=request.actor, id_number=text)
        except InvalidInput as error:
            messages.error(request, str(error.message))
            found["resident"] = None
        else:
            if resident is None:
                messages.info(request, _("No petition on your list was filed with this ID number."))
            found["resident"] = resident or 0
    else:
        found["q"], stripped = selectors.id_number_strip(text)
        if stripped:
            messages.info(request, _("An ID number is searched on its own, so it was left out of this search."))
    return redirect(_list_url({**found, **{key: _param(params, key, max_length=40) for key in FILTERS}}))


@dataclass(frozen=True)
class ListRow:
    petition: Petition
    deadline: selectors.DeadlineView


@sensitive_post_parameters("q")
@never_cache
@staff_page(policy.may_see_figures)
@require_http_methods(["GET", "POST"])
def petition_list(request: StaffRequest) -> HttpResponse:
    """Every petition on the caller's list, searched and filtered; the search form posts, so nothing typed into it
    reaches an address unless it is safe to."""
    if request.method == "POST":
        return _search_redirect(request, request.POST)
    text = _search_text(request.GET)
    if selectors.looks_like_id_number(text) or selectors.id_number_strip(text)[1]:
        # Typed straight into the address: look it up and take it out of the address at once.
        return _search_redirect(request, request.GET)
    actor = request.actor
    today = timezone.localdate()
    search = _search_from(request.GET)
    search_error = None
    try:
        petitions = selectors.petition_search(actor=actor, search=search, today=today)
    except InvalidInput as error:
        search_error = str(error.message)
        search = replace(search, text="")
        petitions = selectors.petition_search(actor=actor, search=search, today=today)
    page = Paginator(petitions, PAGE_SIZE).get_page(_posted_int(request.GET.get("page"), digits=6))
    rows = [ListRow(petition=p, deadline=selectors.deadline_view(p, today=today)) for p in page.object_list]
    kept: dict[str, str | int | None] = {
        "q": search.text,
        "resident": search.resident_id,
        **{key: getattr(search, key) for key in FILTERS},
    }
    drill_down = None
    if search.figure in figures.PETITION_FIGURES:
        drill_down = {
            "figure": _figure_label(search.figure),
            "week": figures.week_period_parse(search.week, today=today).label,
            "clear_url": _list_url({**kept, "figure": None, "week": None}),
        }
    context = {
        "search": search,
        "search_error": search_error,
        "drill_down": drill_down,
        "page": page,
        "rows": rows,
        "counts": selectors.deadline_counts(actor=actor, today=today),
        "choices": selectors.petition_filter_choices(actor=actor),
        "statuses": Petition.Status.choices,
        "deadlines": [
            (DeadlineFilter.OVERDUE, pgettext("petition page", "Overdue")),
            (DeadlineFilter.SOON, _("Due within 3 days")),
        ],
        "page_query": _query(kept),
        "without_resident_url": _list_url({**kept, "resident": None}),
        "overdue_url": _list_url({"deadline": DeadlineFilter.OVERDUE}),
        "soon_url": _list_url({"deadline": DeadlineFilter.SOON}),
        "is_officer": actor.is_petition_officer,
        "department": actor.staff.department if actor.staff else None,
        "filtered": any(kept.values()),
    }
    return render(request, "staff/petition_list.html", context)


# One petition --------------------------------------------------------------------------------------------------


@dataclass
class ItemRow:
    index: int
    request: str = ""
    decision: str = ""
    referred_to: str = ""
    referral_reason: str = ""
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class CommitmentRow:
    index: int
    responsible: str = ""
    action: str = ""
    due_on: str = ""
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class OutcomeFormState:
    """The record-an-outcome form as posted (or blank), with each error beside the field it is about."""

    answer: str = ""
    legal_basis: str = ""
    items: list[ItemRow] = field(default_factory=list)
    commitments: list[CommitmentRow] = field(default_factory=list)
    slip_to_check: str = ""
    slip_due_on: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    # Which posted row each item or commitment sent to the service came from (blank rows are left out).
    item_rows: list[int] = field(default_factory=list)
    commitment_rows: list[int] = field(default_factory=list)

    @classmethod
    def blank(cls) -> "OutcomeFormState":
        return cls(
            items=[ItemRow(index=n) for n in range(ITEM_ROWS)],
            commitments=[CommitmentRow(index=n) for n in range(COMMITMENT_ROWS)],
        )

    @classmethod
    def posted(cls, post: QueryDict) -> "OutcomeFormState":
        def rows(prefix: str, limit: int) -> int:
            count = 0
            while count < limit + 1 and any(key.startswith(f"{prefix}-{count}-") for key in post):
                count += 1
            return count

        items = [
            ItemRow(
                index=n,
                request=post.get(f"item-{n}-request", ""),
                decision=post.get(f"item-{n}-decision", ""),
                referred_to=post.get(f"item-{n}-referred_to", ""),
                referral_reason=post.get(f"item-{n}-referral_reason", ""),
            )
            for n in range(rows("item", ITEMS_MAX))
        ]
        commitments = [
            CommitmentRow(
                index=n,
                responsible=post.get(f"commitment-{n}-responsible", ""),
                action=post.get(f"commitment-{n}-action", ""),
                due_on=post.get(f"commitment-{n}-due_on", ""),
            )
            for n in range(rows("commitment", COMMITMENTS_MAX))
        ]
        state = cls(
            answer=post.get("answer", ""),
            legal_basis=post.get("legal_basis", ""),
            items=items,
            commitments=commitments,
            slip_to_check=post.get("slip_to_check", ""),
            slip_due_on=post.get("slip_due_on", ""),
        )
        # Keep at least the blank rows a fresh form has, so a refused form looks like the one that was filled.
        state.items += [ItemRow(index=n) for n in range(len(items), ITEM_ROWS)]
        state.commitments += [CommitmentRow(index=n) for n in range(len(commitments), COMMITMENT_ROWS)]
        return state

    @property
    def can_add_item(self) -> bool:
        return len(self.items) < ITEMS_MAX

    @property
    def can_add_commitment(self) -> bool:
        return len(self.commitments) < COMMITMENTS_MAX

    def add_row(self, kind: str) -> None:
        """One more blank row of request items or of commitments, up to what the service takes."""
        if kind == "item" and self.can_add_item:
            self.items.append(ItemRow(index=len(self.items)))
        elif kind == "commitment" and self.can_add_commitment:
            self.commitments.append(CommitmentRow(index=len(self.commitments)))

    def to_outcome(self) -> OutcomeIn:
        """What the service is asked to record; rows left blank are not sent, anything else is, as typed."""
        items = []
        for row in self.items:
            if any(v.strip() for v in (row.request, row.decision, row.referred_to, row.referral_reason)):
                self.item_rows.append(row.index)
                items.append(
                    ItemIn(
                        request=row.request,
                        decision=row.decision,
                        referred_to=row.referred_to if row.decision == OutcomeItem.Decision.REFERRED else "",
                        referral_reason=row.referral_reason,
                    )
                )
        commitments = []
        for c in self.commitments:
            if any(v.strip() for v in (c.responsible, c.action, c.due_on)):
                self.commitment_rows.append(c.index)
                commitments.append(CommitmentIn(responsible=c.responsible, action=c.action, due_on=_date(c.due_on)))
        slip = None
        if self.slip_to_check.strip() or self.slip_due_on.strip():
            slip = SlipIn(to_check=self.slip_to_check, due_on=_date(self.slip_due_on))
        return OutcomeIn(
            answer=self.answer, items=items, legal_basis=self.legal_basis, commitments=commitments, slip=slip
        )

    def error_at(self, where: str | None, message: str) -> None:
        """Put a service's message beside the field it names ('items.1.decision', 'slip.due_on', 'answer')."""
        parts = (where or "").split(".")
        if len(parts) == 3 and parts[1].isdigit():
            kind, n, name = parts[0], int(parts[1]), parts[2]
            sent = self.item_rows if kind == "items" else self.commitment_rows
            rows: list[ItemRow] | list[CommitmentRow] = self.items if kind == "items" else self.commitments
            if n < len(sent) and sent[n] < len(rows):
                rows[sent[n]].errors[name] = message
                self.errors["rows"] = _("Please check the rows marked below.")
                return
        if parts[0] == "slip" and len(parts) == 2:
            self.errors[f"slip_{parts[1]}"] = message
        elif parts[0] in ("answer", "legal_basis"):
            self.errors[parts[0]] = message


def _date(value: str) -> dt.date:
    """A date as a date field sends it; anything else goes to the service as it is, and it says what is wrong."""
    text = value.strip()
    if text.isascii():
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    return cast(dt.date, text)


@dataclass
class Failure:
    """An action the service refused: which one, why, and what was posted, to show the form again as it was."""

    action: str
    message: str
    field: str | None
    data: QueryDict


Handler = Callable[[StaffRequest, Petition, OutcomeFormState], str]


def _accept(request: StaffRequest, petition: Petition, _form: OutcomeFormState) -> str:
    petition = petition_accept(actor=request.actor, petition=petition)
    return _("The petition is accepted. The answer is due by %(date)s.") % {"date": petition.due_on}


def _not_accept(request: StaffRequest, petition: Petition, _form: OutcomeFormState) -> str:
    post = request.POST
    petition_not_accept(
        actor=request.actor,
        petition=petition,
        reason=post.get("reason", ""),
        redirect_to=post.get("redirect_to", ""),
    )
    return _("The petition is not accepted. The resident is told why and where to go instead.")


def _refer(request: StaffRequest, petition: Petition, _form: OutcomeFormState) -> str:
    petition = petition_refer_service(
        actor=request.actor,
        petition=petition,
        to_department=request.POST.get("department", ""),
        reason=request.POST.get("reason", ""),
    )
    return _("The petition is referred to %(department)s, with its history.") % {"department": petition.department}


def _extend(request: StaffRequest, petition: Petition, _form: OutcomeFormState) -> str:
    # Full-width digits from a Chinese input method are the same digits; anything but a whole number goes to the
    # service as 0 days, which it refuses with the allowed range.
    days = _posted_int(unicodedata.normalize("NFKC", request.POST.get("days", "")).strip(), digits=3) or 0
    petition = petition_extend(actor=request.actor, petition=petition, days=days, reason=request.POST.get("reason", ""))
    return _("The answer period is extended by %(days)d days, to %(date)s.") % {"days": days, "date": petition.due_on}


def _record(request: StaffRequest, petition: Petition, form: OutcomeFormState) -> str:
    outcome = outcome_record(actor=request.actor, petition=petition, data=form.to_outcome())
    petition.refresh_from_db(fields=["department", "status"])
    if petition.status == Petition.Status.REFERRED and outcome.department_id != petition.department_id:
        return _("The answer is recorded and the resident is told. The petition is referred to %(department)s.") % {
            "department": Department.objects.get(pk=petition.department_id)
        }
    return _("The answer is recorded and the resident is told.")


def _of_petition(petition: Petition, model: type[Outcome] | type[Commitment], value: str | None) -> int:
    """The posted id if it names a record of this petition; else 0, which the service answers as not found."""
    record_id = _posted_int(value)
    if record_id is None:
        return 0
    lookup = {"petition": petition} if model is Outcome else {"outcome__petition": petition}
    return record_id if model.objects.filter(pk=record_id, **lookup).exists() else 0


def _correct(request: StaffRequest, petition: Petition, _form: OutcomeFormState) -> str:
    post = request.POST
    outcome_correct(
        actor=request.actor,
        outcome_id=_of_petition(petition, Outcome, post.get("outcome")),
        answer=post.get("answer", ""),
        legal_basis=post.get("legal_basis", ""),
        reason=post.get("reason", ""),
    )
    return _("The answer is corrected and the resident is told. The first version is kept.")


def _commitment_done(request: StaffRequest, petition: Petition, _form: OutcomeFormState) -> str:
    post = request.POST
    commitment_complete(
        actor=request.actor,
        commitment_id=_of_petition(petition, Commitment, post.get("commitment")),
        note=post.get("note", ""),
    )
    return _("The commitment is marked as done.")


def _close(request: StaffRequest, petition: Petition, _form: OutcomeFormState) -> str:
    petition_close(actor=request.actor, petition=petition)
    return _("The petition is closed.")


def _book(request: StaffRequest, petition: Petition, _form: OutcomeFormState) -> str:
    booked = appointment_book(
        actor=request.actor, petition_reference=petition.reference, slot_id=_posted_int(request.POST.get("slot")) or 0
    ).appointment
    when = timezone.localtime(booked.slot.starts_at)
    return _("A follow-up consultation is booked for %(when)s.") % {"when": f"{when:%Y-%m-%d %H:%M}"}


ACTIONS: dict[str, Handler] = {
    "accept": _accept,
    "not_accept": _not_accept,
    "refer": _refer,
    "extend": _extend,
    "outcome": _record,
    "correct": _correct,
    "commitment_done": _commitment_done,
    "close": _close,
    "book": _book,
}


@never_cache
@staff_page()
@require_http_methods(["GET", "POST"])
def petition_detail(request: StaffRequest, reference: str) -> HttpResponse:
    """One petition: its history in time order, its deadline, and the decisions that can be made on it now."""
    actor = request.actor
    petition = petition_for_actor(actor=actor, reference=reference)
    if request.method != "POST":
        return _detail(request, petition)
    action = request.POST.get("action", "")
    if action == "reveal_id":
        # Shown once, on this answer only: never put in an address, a message or a log.
        id_number = resident_id_number_view(actor=actor, petition=petition)
        return _detail(request, petition, revealed_id_number=id_number)
    handler = ACTIONS.get(action)
    if handler is None:
        raise InvalidInput(_("This form asked for something the page does not do; reload it and try again."))
    if not can_decide(actor, petition):
        raise Forbidden(_("You can read this petition but not decide on it."))
    form = OutcomeFormState.posted(request.POST) if action == "outcome" else OutcomeFormState.blank()
    if action == "outcome" and request.POST.get("more") in ("item", "commitment"):
        # Another row asked for: the form comes back as it was filled in, one row longer; nothing is recorded yet.
        form.add_row(request.POST["more"])
        return _detail(request, petition, outcome_form=form)
    try:
        message = handler(request, petition, form)
    except Forbidden:
        raise
    except DomainError as error:
        failure = Failure(action=action, message=str(error.message), field=error.field, data=request.POST)
        if action == "outcome":
            form.error_at(error.field, failure.message)
        petition.refresh_from_db()
        return _detail(request, petition, failure=failure, outcome_form=form, status=error.status_code)
    messages.success(request, message)
    return redirect("staff:petition", reference=petition.reference)


def _detail(
    request: StaffRequest,
    petition: Petition,
    *,
    failure: Failure | None = None,
    outcome_form: OutcomeFormState | None = None,
    revealed_id_number: str = "",
    status: int = 200,
) -> HttpResponse:
    actor = request.actor
    today = timezone.localdate()
    history = selectors.petition_history(petition=petition)
    actions = selectors.petition_actions(actor=actor, petition=petition, current=history.current)
    departments = (
        list(Department.objects.filter(is_active=True).exclude(pk=petition.department_id).order_by("kind", "name"))
        if actions & {"refer", "outcome"}
        else []
    )
    slots = (
        slot_list_open(department=petition.department, include_full=False)[:SLOT_CHOICES_MAX]
        if "book" in actions and history.active_appointment is None
        else []
    )
    context = {
        "petition": petition,
        "history": history,
        "deadline": selectors.deadline_view(petition, today=today),
        "actions": actions,
        "can_decide": actor.staff is not None and can_decide(actor, petition),
        "is_officer": actor.is_petition_officer,
        "departments": departments,
        "decisions": OutcomeItem.Decision.choices,
        "slots": slots,
        "failure": failure,
        "posted": failure.data if failure else QueryDict(),
        "outcome_form": outcome_form or OutcomeFormState.blank(),
        "revealed_id_number": revealed_id_number,
        "notifications": petition_notifications(petition=petition),
        "today": today,
        "back_url": reverse("staff:petitions")
        if actor.staff is not None and actor.staff.role != Role.COMMUNITY_WORKER
        else reverse("staff:home"),
    }
    return render(request, "staff/petition_detail.html", context, status=status)
