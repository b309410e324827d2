"""The page a resident opens from the answer SMS on their own phone, with no login, to rate the answer once."""

import re
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from departments.services import Actor
from scheduler.errors import DomainError

from ..identity import phone_mask
from ..models import Outcome, OutcomeItem, Petition, Rating
from ..outcomes.services import outcome_current, rating_give
from .messages import rating_token_read, sms_language

# An ID number or a mainland mobile number written into an answer: shown masked on a page anyone with the link sees.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d{9}(?!\d)")
# The statuses in which an answer stands and may be rated (rating_give decides; this only shows the buttons).
_ANSWER_STANDS = (Petition.Status.ANSWERED, Petition.Status.FOLLOW_UP, Petition.Status.CLOSED)


@dataclass(frozen=True)
class RatingPage:
    outcome: Outcome
    answer: str
    items: list[OutcomeItem]
    rating: Rating | None
    # The answer the link names is the one the resident was last told (or an earlier version of it).
    current: bool
    stands: bool

    @property
    def can_rate(self) -> bool:
        return self.current and self.stands and self.rating is None


def _name_masked(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1)


def text_without_personal_data(text: str, *, petition: Petition) -> str:
    """An answer with the resident's name, ID number and mobile masked, as it may be read off a forwarded link."""
    names = {petition.contact_name.strip(), petition.resident.name.strip()}
    for name in sorted((n for n in names if len(n) >= 2), key=len, reverse=True):
        text = text.replace(name, _name_masked(name))
    text = _ID_NUMBER.sub(lambda m: m.group(1) + "*" * 8 + m.group(2)[:-1] + "*", text)
    return _MOBILE.sub(lambda m: phone_mask(re.sub(r"\D", "", m.group(0))[-11:]), text)


def _versions(outcome: Outcome) -> list[int]:
    ids = [outcome.pk]
    corrects_id = outcome.corrects_id
    while corrects_id is not None and corrects_id not in ids:
        ids.append(corrects_id)
        corrects_id = Outcome.objects.filter(pk=corrects_id).values_list("corrects_id", flat=True).first()
    return ids


def rating_page_for(outcome: Outcome) -> RatingPage:
    """What the rating page shows for the answer a link names: its latest version, and whether it may be rated."""
    petition = outcome.petition
    latest = outcome_current(petition) or outcome
    versions = _versions(latest)
    current = outcome.pk in versions
    shown = latest if current else outcome
    items = list(OutcomeItem.objects.filter(outcome=shown).select_related("referred_to").order_by("position"))
    return RatingPage(
        outcome=shown,
        answer=text_without_personal_data(shown.answer, petition=petition),
        items=items,
        rating=Rating.objects.filter(outcome_id__in=versions).first() if current else None,
        current=current,
        stands=petition.status in _ANSWER_STANDS,
    )


def _outcome_for_token(token: str) -> Outcome | None:
    outcome_id = rating_token_read(token)
    if outcome_id is None:
        return None
    return (
        Outcome.objects.select_related("petition__resident", "petition__community", "department")
        .filter(pk=outcome_id)
        .first()
    )


@never_cache
@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, token: str) -> HttpResponse:
    outcome = _outcome_for_token(token)
    if outcome is None:
        return render(request, "public/rate_missing.html", status=404)
    petition = outcome.petition
    # The page speaks the language the resident used at the kiosk, as their SMS did.
    with translation.override(sms_language(petition.language)):
        page = rating_page_for(outcome)
        error, status = None, 200
        if request.method == "POST":
            if not page.current:
                # rating_give rates the latest answer; an old link must not rate a newer answer unseen.
                error, status = _("This link is for an earlier answer; it can no longer be rated here."), 409
            else:
                try:
                    rating_give(actor=Actor(), petition=petition, level=request.POST.get("level", ""))
                except DomainError as refused:
                    error, status = str(refused.message), refused.status_code
                else:
                    return redirect(request.path + "?rated=1")
                page = rating_page_for(outcome)
        context = {
            "page": page,
            "petition": petition,
            "error": error,
            "just_rated": request.GET.get("rated") == "1" and page.rating is not None,
        }
        return render(request, "public/rate.html", context, status=status)
