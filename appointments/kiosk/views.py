"""The community kiosk: thin views that authenticate the kiosk, load, call one service or selector, and render.

What a resident has entered lives in the session until the booking is done or the kiosk starts over;
the identity part is kept encrypted there, and every personal field travels only in POST bodies.
"""

import datetime as dt
import json
import secrets
from functools import wraps

import phonenumbers
import segno
from django.conf import settings
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import npgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from departments.services import Actor, kiosk_authenticate
from departments.signin import TooManyWrongCredentials, credential_check
from scheduler.errors import DomainError, NotFound, OutsideBookingWindow, SlotFull, SlotUnavailable
from scheduler.faults import retry_once_if_connection_lost
from scheduler.models import Slot
from scheduler.selectors import day_list_availability, department_get, slot_list_nearest_free

from .. import identity
from ..booking import (
    appointment_cancel,
    appointment_check_in,
    appointment_find_for_check_in,
    appointment_for_actor,
    appointment_reschedule,
    petition_file_and_book,
)
from ..models import Appointment, Rating, ReviewRequest, TurnAway
from ..notify.models import WaitlistEntry
from ..notify.waitlist import (
    offer_hold,
    waitlist_department_has_free_time,
    waitlist_file_and_join,
    waitlist_join,
    waitlist_join_refusal,
    waitlist_leave,
    waitlist_offer_confirm,
    waitlist_offer_decline,
    waitlist_position,
    waitlist_status_get,
)
from ..office.turnaways import turn_away_record
from ..outcomes.services import rating_give, review_request
from ..petitions import petition_find_by_query_code
from .format import kiosk_time, kiosk_when
from .forms import (
    CategoryForm,
    CheckInForm,
    DepartmentForm,
    IdentityForm,
    KioskKeyForm,
    ProgressLookupForm,
    RatingForm,
    ReviewForm,
    SlotChoiceForm,
    SummaryForm,
)
from .selectors import (
    PetitionProgress,
    category_list_active,
    department_list_bookable,
    petition_outcome_progress,
    petition_progress_get,
)
from .voice_views import assist_context

BOOKING = "kiosk_booking"
# The departments this visit already counted a resident turned away from (ids only).
TURNED_AWAY = "kiosk_turned_away"
RECEIPT = "kiosk_receipt"
PROGRESS = "kiosk_progress"
RESCHEDULE_SLOT = "kiosk_reschedule_slot"
CHECKED_IN = "kiosk_checked_in"
MOVED = "kiosk_moved"
RATED = "kiosk_rated"
REVIEWED = "kiosk_reviewed"
# The waiting-list place this visit joined, and the appointment booked from a waiting-list offer (ids only).
WAITLIST_JOINED = "kiosk_waitlist_joined"
OFFER_BOOKED = "kiosk_offer_booked"
KEY_COOKIE_MAX_AGE = 400 * 24 * 3600  # the longest lifetime browsers keep a cookie
BOOKING_STEPS = 6
RESCHEDULE_STEPS = 3
# A receipt is printed only for an appointment that still stands.
RECEIPT_STATUSES = (Appointment.Status.BOOKED, Appointment.Status.CHECKED_IN)
TAKEN_ERRORS = (SlotFull, SlotUnavailable, OutsideBookingWindow)


def kiosk_required(view):
    """Let a request through only from a registered kiosk; anything else is sent to the setup screen."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        kiosk = kiosk_authenticate(request.COOKIES.get(settings.KIOSK_KEY_COOKIE))
        if kiosk is None:
            return redirect("kiosk:setup")
        request.kiosk = kiosk
        request.actor = Actor(kiosk=kiosk)
        return view(request, *args, **kwargs)

    return never_cache(wrapper)


def _render(request, template: str, context: dict | None = None, *, status: int = 200, idle: bool = True):
    base = {
        "kiosk": getattr(request, "kiosk", None),
        "idle_seconds": settings.KIOSK_IDLE_SECONDS if idle else 0,
        "warning_seconds": settings.KIOSK_IDLE_WARNING_SECONDS,
    }
    context = {**base, **(context or {})}
    context |= assist_context(request, template, context)
    return render(request, f"kiosk/{template}", context, status=status)


# The booking kept in the session: identity encrypted, everything else plain.


def _booking(request) -> dict:
    return request.session.get(BOOKING) or {}


def _booking_update(request, **values) -> None:
    request.session[BOOKING] = {**_booking(request), **values}


@sensitive_variables("data")
def _decrypted(token: str | None) -> dict | None:
    data = identity.decrypt(token) if token else ""
    return json.loads(data) if data else None


def _identity(request) -> dict | None:
    """The resident's name, mobile and ID number once all three are answered and checked."""
    return _decrypted(_booking(request).get("identity"))


def _identity_kept(request) -> dict:
    """What this visit has already checked of the identity, the newest answers winning; never shown in full."""
    booking = _booking(request)
    return {**(_decrypted(booking.get("identity")) or {}), **(_decrypted(booking.get("identity_draft")) or {})}


def _booking_redirect_if_incomplete(request, *needed: str):
    """Send the resident back to the first step they have not answered yet, or return None."""
    booking = _booking(request)
    steps = [
        ("identity", "kiosk:book_identity"),
        ("category", "kiosk:book_category"),
        ("summary", "kiosk:book_summary"),
        ("department", "kiosk:book_department"),
        ("slot", "kiosk:book_day"),
    ]
    for key, url_name in steps:
        if key in needed and not booking.get(key):
            return redirect(url_name)
    return None


def _qr_svg(text: str) -> str:
    # segno writes the whole SVG itself and the text is only encoded as modules, never inserted as markup.
    svg = segno.make(text, error="m").svg_inline(scale=8, border=2, dark="#000", light="#fff", omitsize=True)
    return mark_safe(svg)  # noqa: S308


# Setup and start.


@never_cache
@sensitive_post_parameters("key")
@require_http_methods(["GET", "POST"])
def setup(request):
    form = KioskKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        key = form.cleaned_data["key"]
        try:
            # Keys are guessed here as well as in the API's header: the same count per address refuses both.
            kiosk = credential_check(request, lambda: kiosk_authenticate(key))
        except TooManyWrongCredentials as refused:
            form.add_error("key", refused.message)
            return _render(request, "setup.html", {"form": form}, status=429, idle=False)
        if kiosk is not None:
            response = redirect("kiosk:start")
            response.set_cookie(
                settings.KIOSK_KEY_COOKIE,
                key,
                max_age=KEY_COOKIE_MAX_AGE,
                httponly=True,
                secure=request.is_secure(),
                samesite="Strict",
            )
            return response
        form.add_error(
            "key", _("This key is not valid or has been withdrawn. Please check it with the petition office.")
        )
    return _render(request, "setup.html", {"form": form}, status=400 if form.errors else 200, idle=False)


@kiosk_required
def start(request):
    # Start needs no reset unless someone has left something behind (answers or another language).
    touched = bool(request.session.keys()) or bool(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
    return _render(request, "start.html", idle=touched)


@never_cache
@require_POST
def reset(request):
    """Forget everything entered on this kiosk and show Start in the default language."""
    request.session.flush()
    response = redirect("kiosk:start")
    response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
    return response


# Booking: identity → category → summary → department → day → time → confirm → receipt.


@kiosk_required
@sensitive_post_parameters("name", "phone", "id_number")
@sensitive_variables("kept", "checked")
def book_identity(request):
    # The mobile and ID number never go back into the page (not after Back, not after an error): what was
    # already checked is kept in the session, encrypted, and shown masked; the resident may leave it as it is.
    kept = _identity_kept(request)
    form = IdentityForm(request.POST or None, initial={"name": kept.get("name", "")}, kept=kept)
    if request.method == "POST":
        if form.is_valid():
            request.session[BOOKING] = {
                key: value for key, value in _booking(request).items() if key != "identity_draft"
            } | {"identity": identity.encrypt(json.dumps(form.cleaned_data))}
            return redirect("kiosk:book_category")
        checked = form.checked_sensitive()
        if checked:
            kept = {**kept, **checked}
            draft = {key: kept[key] for key in IdentityForm.SENSITIVE if key in kept}
            _booking_update(request, identity_draft=identity.encrypt(json.dumps(draft)))
            form = IdentityForm(request.POST, initial={"name": kept.get("name", "")}, kept=kept)
            form.is_valid()  # the same errors, now with the masked hints of what is kept
    return _render(request, "book_identity.html", {"form": form, "step": 1, "steps": BOOKING_STEPS})


@kiosk_required
def book_category(request):
    if redirect_to := _booking_redirect_if_incomplete(request, "identity"):
        return redirect_to
    categories = category_list_active()
    booking = _booking(request)
    form = CategoryForm(request.POST or None, categories=categories, initial={"category": booking.get("category")})
    if request.method == "POST" and form.is_valid():
        chosen = next(c for c in categories if c.code == form.cleaned_data["category"])
        suggested = chosen.suggested_department.code if chosen.suggested_department else ""
        department = booking.get("department") if booking.get("category") == chosen.code else suggested
        _booking_update(request, category=chosen.code, suggested=suggested, department=department or "", slot=None)
        return redirect("kiosk:book_summary")
    return _render(
        request, "book_category.html", {"form": form, "categories": categories, "step": 2, "steps": BOOKING_STEPS}
    )


@kiosk_required
def book_summary(request):
    if redirect_to := _booking_redirect_if_incomplete(request, "identity", "category"):
        return redirect_to
    form = SummaryForm(request.POST or None, initial={"summary": _booking(request).get("summary", "")})
    if request.method == "POST" and form.is_valid():
        _booking_update(request, summary=form.cleaned_data["summary"])
        return redirect("kiosk:book_department")
    return _render(request, "book_summary.html", {"form": form, "step": 3, "steps": BOOKING_STEPS})


@kiosk_required
def book_department(request):
    if redirect_to := _booking_redirect_if_incomplete(request, "identity", "category", "summary"):
        return redirect_to
    booking = _booking(request)
    departments = department_list_bookable(suggested=booking.get("suggested"))
    form = DepartmentForm(
        request.POST or None, departments=departments, initial={"department": booking.get("department")}
    )
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["department"] != booking.get("department"):
            _booking_update(request, slot=None)
        _booking_update(request, department=form.cleaned_data["department"])
        return redirect("kiosk:book_day")
    context = {
        "form": form,
        "departments": departments,
        "suggested": booking.get("suggested"),
        "chosen": booking.get("department"),
        "step": 4,
        "steps": BOOKING_STEPS,
    }
    return _render(request, "book_department.html", context)


def _flow(mode: str, step: int, current: Appointment | None) -> dict:
    """Where the resident is: a booking has six steps; moving an appointment has its own three."""
    if mode == "book":
        return {"mode": mode, "step": step, "steps": BOOKING_STEPS}
    return {"mode": mode, "step": step, "steps": RESCHEDULE_STEPS, "current": current}


def _turned_away(request, department, reason: str) -> None:
    """Count a resident who found no free time with this department, once per kiosk visit and department."""
    noted = request.session.get(TURNED_AWAY, [])
    if department.pk in noted:
        return
    turn_away_record(department=department, kiosk=getattr(request, "kiosk", None), reason=reason)
    request.session[TURNED_AWAY] = [*noted, department.pk]


def _days_page(
    request, *, department, mode: str, current: Appointment | None = None, error: str | None = None, status: int = 200
):
    days = day_list_availability(department=department)
    can_wait = False
    if not any(day.is_bookable and day.free_seats for day in days):
        _turned_away(request, department, TurnAway.Reason.NO_FREE_TIME)
        # A new matter may wait for a time; one already booked keeps its appointment instead.
        can_wait = mode == "book" and not waitlist_department_has_free_time(department=department)
    context = {
        "days": days,
        "department": department,
        "can_wait": can_wait,
        "hold_words": _hold_words() if can_wait else "",
        "error": error,
        **_flow(mode, 5 if mode == "book" else 1, current),
    }
    return _render(request, "days.html", context, status=status)


def _times_page(request, *, department, mode: str, current: Appointment | None = None):
    try:
        chosen = dt.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        return redirect(f"kiosk:{mode}_day")
    day = next((d for d in day_list_availability(department=department) if d.date == chosen), None)
    if day is None:
        return redirect(f"kiosk:{mode}_day")
    context = {"day": day, "department": department, **_flow(mode, 5 if mode == "book" else 2, current)}
    return _render(request, "times.html", context)


def _chosen_department(request):
    try:
        return department_get(_booking(request)["department"])
    except NotFound:  # closed down since the resident chose it
        return None


@kiosk_required
def book_day(request):
    if redirect_to := _booking_redirect_if_incomplete(request, "identity", "category", "summary", "department"):
        return redirect_to
    department = _chosen_department(request)
    if department is None:
        return redirect("kiosk:book_department")
    return _days_page(request, department=department, mode="book")


@kiosk_required
@require_http_methods(["GET", "POST"])
def book_time(request):
    if redirect_to := _booking_redirect_if_incomplete(request, "identity", "category", "summary", "department"):
        return redirect_to
    if request.method == "POST":
        form = SlotChoiceForm(request.POST)
        if form.is_valid():
            _booking_update(request, slot=form.cleaned_data["slot"], confirm_token=secrets.token_urlsafe(16))
            return redirect("kiosk:book_confirm")
        return redirect("kiosk:book_day")
    department = _chosen_department(request)
    if department is None:
        return redirect("kiosk:book_department")
    return _times_page(request, department=department, mode="book")


def _taken_page(request, *, department, around: dt.datetime | None, mode: str, current: Appointment | None = None):
    around = around or timezone.now()
    nearest = slot_list_nearest_free(department=department, around=around)
    if not nearest:
        _turned_away(request, department, TurnAway.Reason.JUST_TAKEN)
    context = {
        "nearest": nearest,
        "department": department,
        "mode": mode,
        "current": current,
        "can_wait": mode == "book" and not nearest,
        "hold_words": _hold_words(),
    }
    return _render(request, "taken.html", context, status=409)


# The waiting list: a resident who finds no free time files their matter and waits for a seat to free.


@kiosk_required
@require_POST
@sensitive_variables("person")
def book_waitlist(request):
    if not _booking(request) and request.session.get(WAITLIST_JOINED):
        return redirect("kiosk:waitlist_joined")  # a second tap after joining
    if redirect_to := _booking_redirect_if_incomplete(request, "identity", "category", "summary", "department"):
        return redirect_to
    booking = _booking(request)
    department = _chosen_department(request)
    if department is None:
        return redirect("kiosk:book_department")
    person = _identity(request)
    try:
        entry = waitlist_file_and_join(
            actor=request.actor,
            name=person["name"],
            phone=person["phone"],
            id_number=person["id_number"],
            category=booking["category"],
            summary=booking["summary"],
            department=department.code,
        )
    except DomainError as refused:
        return _days_page(request, department=department, mode="book", error=refused.message, status=409)
    _turned_away(request, department, TurnAway.Reason.NO_FREE_TIME)  # counted once this visit, as the days page does
    request.session.pop(BOOKING, None)
    request.session[WAITLIST_JOINED] = entry.pk
    return redirect("kiosk:waitlist_joined")


@kiosk_required
def waitlist_joined(request):
    entry = (
        WaitlistEntry.objects.select_related("petition", "department")
        .filter(pk=request.session.get(WAITLIST_JOINED) or 0)
        .first()
    )
    if entry is None:
        return redirect("kiosk:start")
    context = {
        "entry": entry,
        "petition": entry.petition,
        "position": waitlist_position(entry) if entry.state == WaitlistEntry.State.WAITING else None,
        "hold_words": _hold_words(),
    }
    return _render(request, "waitlist_joined.html", context)


def _hold_words() -> str:
    """How long an offered time is held, as the resident reads it: "2 小时" / "2 hours"."""
    minutes = round(offer_hold().total_seconds() / 60)
    if minutes % 60:
        return npgettext("waiting-list hold", "%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    return npgettext("waiting-list hold", "%(n)d hour", "%(n)d hours", minutes // 60) % {"n": minutes // 60}


def _offer_until(waitlist) -> str:
    """Until when an offer holds its time: the clock today, with the day on another day."""
    expires = waitlist.entry.offer_expires_at if waitlist is not None else None
    if expires is None:
        return ""
    if timezone.localtime(expires).date() == timezone.localdate():
        return kiosk_time(expires)
    return kiosk_when(expires)


@kiosk_required
@require_http_methods(["GET", "POST"])
@sensitive_variables("person")
def book_confirm(request):
    receipt = request.session.get(RECEIPT) or {}
    if request.method == "POST" and receipt and request.POST.get("token") == receipt.get("token"):
        return redirect("kiosk:book_receipt")  # a second tap after the booking went through
    if redirect_to := _booking_redirect_if_incomplete(request, "identity", "category", "summary", "department", "slot"):
        return redirect_to
    booking = _booking(request)
    person = _identity(request)
    slot = Slot.objects.select_related("department").filter(pk=booking["slot"]).first()
    if slot is None or slot.department.code != booking["department"]:
        return redirect("kiosk:book_day")
    error = None
    if request.method == "POST":
        try:
            # A connection lost mid-booking (a database failover) is retried once with the same key, so the
            # resident sees one booking whether or not the first attempt had committed.
            result = retry_once_if_connection_lost(
                lambda: petition_file_and_book(
                    actor=request.actor,
                    name=person["name"],
                    phone=person["phone"],
                    id_number=person["id_number"],
                    category=booking["category"],
                    summary=booking["summary"],
                    department=booking["department"],
                    slot_id=slot.pk,
                    idempotency_key=f"kiosk-confirm-{request.POST.get('token') or booking['confirm_token']}",
                )
            )
        except TAKEN_ERRORS:
            return _taken_page(request, department=slot.department, around=slot.starts_at, mode="book")
        except DomainError as failure:
            error = failure.message
        else:
            request.session.pop(BOOKING, None)
            request.session[RECEIPT] = {"appointment": result.appointment.pk, "token": request.POST.get("token")}
            return redirect("kiosk:book_receipt")
    context = {
        "slot": slot,
        "category": next((c for c in category_list_active() if c.code == booking["category"]), None),
        "summary": booking["summary"],
        "name": person["name"],
        # The one screen that shows the mobile in full: the resident has just typed it and must be able to check it.
        # Not after a refusal, which may mean that whoever is typing is not who they say.
        "phone": None if error else _phone_readable(person["phone"]),
        "phone_masked": identity.phone_mask(identity.phone_clean(person["phone"])),
        "id_masked": identity.id_number_mask(person["id_number"]),
        "token": booking["confirm_token"],
        "error": error,
        "step": 6,
        "steps": BOOKING_STEPS,
    }
    return _render(request, "book_confirm.html", context, status=409 if error else 200)


def _phone_readable(phone: str) -> str:
    """Write a mobile in the groups people read it in: 138 4001 2345."""
    number = phonenumbers.parse(identity.phone_clean(phone), "CN")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def _receipt_page(request, appointment: Appointment, *, kind: str):
    """The receipt of a standing appointment: on the screen, printable, with a QR code of what it says."""
    petition = appointment.petition
    qr_text = f"{petition.reference} {_('Query code')} {petition.query_code} {kiosk_when(appointment.slot.starts_at)}"
    context = {"appointment": appointment, "petition": petition, "qr": _qr_svg(qr_text), "kind": kind}
    return _render(request, "receipt.html", context)


@kiosk_required
def book_receipt(request):
    receipt = request.session.get(RECEIPT)
    if not receipt:
        return redirect("kiosk:start")
    appointment = appointment_for_actor(actor=request.actor, appointment_id=receipt["appointment"])
    return _receipt_page(request, appointment, kind="booked")


# Progress: look up with the query code and the mobile's last 4 digits, then cancel or reschedule, or rate the
# answer and ask for a review.


@kiosk_required
@sensitive_post_parameters("query_code", "phone_last4")
def progress_lookup(request):
    form = ProgressLookupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            petition = petition_find_by_query_code(**form.cleaned_data, principal=request.actor.principal)
        except DomainError as refused:
            form.add_error(None, str(refused.message))
        else:
            if petition is not None:
                request.session[PROGRESS] = petition.pk
                request.session.pop(RATED, None)
                request.session.pop(REVIEWED, None)
                return redirect("kiosk:progress_status")
            form.add_error(None, _("We found no matter with this query code and mobile number. Please check both."))
    return _render(request, "progress_lookup.html", {"form": form}, status=400 if form.errors else 200)


def _progress(request):
    petition_id = request.session.get(PROGRESS)
    return petition_progress_get(petition_id=petition_id) if petition_id else None


def _status_page(
    request,
    progress: PetitionProgress,
    *,
    rating_form=None,
    rating_error=None,
    offer_error=None,
    status: int = 200,
):
    appointment = progress.appointment
    waitlist = waitlist_status_get(petition=progress.petition)
    # A matter whose time was cancelled (withdrawn, given up, referred) may wait for another.
    timeless = appointment is not None and appointment.status == Appointment.Status.CANCELLED
    context = {
        "waitlist": waitlist,
        "offer_error": offer_error,
        "hold_words": _hold_words(),
        "offer_until": _offer_until(waitlist),
        # Offered only when the department has no free time for a matter without a booking.
        "can_join_waitlist": waitlist is None
        and timeless
        and waitlist_join_refusal(petition=progress.petition) is None,
        "progress": progress,
        "decisions": petition_outcome_progress(progress.petition),
        "can_change": progress.can_change_at(request.kiosk.community_id),
        "can_print": appointment is not None and appointment.status in RECEIPT_STATUSES,
        "rating_form": rating_form or RatingForm(),
        "rating_error": rating_error,
        "today": timezone.localdate(),
    }
    return _render(request, "progress_status.html", context, status=status)


@kiosk_required
def progress_status(request):
    progress = _progress(request)
    if progress is None:
        return redirect("kiosk:progress_lookup")
    return _status_page(request, progress)


# Rating the answer and asking for a review: only for the petition this visit looked up with its query code
# and mobile digits (so the lookup's limit on wrong guesses covers these too).


@kiosk_required
@require_POST
def progress_rate(request):
    progress = _progress(request)
    if progress is None:
        return redirect("kiosk:progress_lookup")
    form = RatingForm(request.POST)
    if not form.is_valid():
        return _status_page(request, progress, rating_form=form, status=400)
    try:
        rating = rating_give(
            actor=request.actor,
            petition=progress.petition,
            level=form.cleaned_data["level"],
            remark=form.cleaned_data["remark"],
        )
    except DomainError as refused:
        return _status_page(
            request, progress, rating_form=form, rating_error=refused.message, status=refused.status_code
        )
    request.session[RATED] = rating.pk
    if rating.level == Rating.Level.DISSATISFIED:
        return redirect("kiosk:progress_review")
    return redirect("kiosk:progress_rated")


@kiosk_required
def progress_rated(request):
    progress = _progress(request)
    if progress is None:
        return redirect("kiosk:progress_lookup")
    rating = Rating.objects.filter(pk=request.session.get(RATED) or 0, outcome__petition=progress.petition).first()
    if rating is None:
        return redirect("kiosk:progress_status")
    return _render(request, "rated.html", {"rating": rating})


def _review_page(request, progress: PetitionProgress, *, form=None, error=None, status: int = 200):
    decisions = petition_outcome_progress(progress.petition)
    context = {
        "petition": progress.petition,
        "answer": decisions.answer,
        "form": form or ReviewForm(),
        "error": error,
        # Straight after 不满意: say why this screen came up.
        "just_rated": bool(
            decisions.answer
            and decisions.answer.rating
            and decisions.answer.rating.pk == request.session.get(RATED)
            and decisions.answer.rating.level == Rating.Level.DISSATISFIED
        ),
    }
    return _render(request, "review.html", context, status=status)


@kiosk_required
@require_http_methods(["GET", "POST"])
def progress_review(request):
    progress = _progress(request)
    if progress is None:
        return redirect("kiosk:progress_lookup")
    if request.method == "GET":
        return _review_page(request, progress)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _review_page(request, progress, form=form, status=400)
    try:
        review = review_request(actor=request.actor, petition=progress.petition, reason=form.cleaned_data["reason"])
    except DomainError as refused:
        return _review_page(request, progress, form=form, error=refused.message, status=refused.status_code)
    request.session[REVIEWED] = review.pk
    return redirect("kiosk:progress_reviewed")


@kiosk_required
def progress_reviewed(request):
    progress = _progress(request)
    if progress is None:
        return redirect("kiosk:progress_lookup")
    review = ReviewRequest.objects.filter(pk=request.session.get(REVIEWED) or 0, petition=progress.petition).first()
    if review is None:
        return redirect("kiosk:progress_status")
    context = {"review": review, "decisions": petition_outcome_progress(progress.petition)}
    return _render(request, "reviewed.html", context)


@kiosk_required
def progress_receipt(request):
    """Print the receipt again: after a change of time, or because the first one was lost."""
    progress = _progress(request)
    if progress is None or progress.appointment is None:
        return redirect("kiosk:progress_lookup")
    appointment = progress.appointment
    if appointment.status not in RECEIPT_STATUSES:
        return redirect("kiosk:progress_status")
    kind = "moved" if request.session.get(MOVED) == appointment.pk else "copy"
    if request.session.get(OFFER_BOOKED) == appointment.pk:
        kind = "booked"
    return _receipt_page(request, appointment, kind=kind)


# The waiting list from the progress page: an offer confirmed or given up, a place taken or left.


@kiosk_required
@require_POST
def progress_offer_confirm(request):
    progress = _progress(request)
    if progress is None:
        return redirect("kiosk:progress_lookup")
    try:
        appointment = waitlist_offer_confirm(actor=request.actor, petition=progress.petition)
    except DomainError as refused:
        return _status_page(request, progress, offer_error=refused.message, status=refused.status_code)
    request.session[OFFER_BOOKED] = appointment.pk
    return redirect("kiosk:progress_receipt")


@kiosk_required
@require_POST
def progress_offer_decline(request):
    progress = _progress(request)
    if progress is None:
        return redirect("kiosk:progress_lookup")
    try:
        entry = waitlist_offer_decline(actor=request.actor, petition=progress.petition)
    except DomainError as refused:
        return _status_page(request, progress, offer_error=refused.message, status=refused.status_code)
    return _render(request, "waitlist_done.html", {"entry": entry, "kind": "declined"})


@kiosk_required
@require_POST
def progress_waitlist_join(request):
    progress = _progress(request)
    if progress is None:
        return redirect("kiosk:progress_lookup")
    try:
        entry = waitlist_join(actor=request.actor, petition=progress.petition)
    except DomainError as refused:
        return _status_page(request, progress, offer_error=refused.message, status=refused.status_code)
    _turned_away(request, progress.petition.department, TurnAway.Reason.NO_FREE_TIME)
    request.session[WAITLIST_JOINED] = entry.pk
    return redirect("kiosk:waitlist_joined")


@kiosk_required
@require_POST
def progress_waitlist_leave(request):
    progress = _progress(request)
    if progress is None:
        return redirect("kiosk:progress_lookup")
    try:
        entry = waitlist_leave(actor=request.actor, petition=progress.petition)
    except DomainError as refused:
        return _status_page(request, progress, offer_error=refused.message, status=refused.status_code)
    return _render(request, "waitlist_done.html", {"entry": entry, "kind": "left"})


@kiosk_required
@require_http_methods(["GET", "POST"])
def progress_cancel(request):
    progress = _progress(request)
    if progress is None or progress.appointment is None:
        return redirect("kiosk:progress_lookup")
    error = None
    if request.method == "POST":
        try:
            appointment = appointment_cancel(actor=request.actor, appointment_id=progress.appointment.pk)
        except DomainError as failure:
            error = failure.message
        else:
            return _render(request, "cancelled.html", {"appointment": appointment})
    context = {"appointment": progress.appointment, "error": error}
    return _render(request, "progress_cancel.html", context, status=409 if error else 200)


@kiosk_required
def reschedule_day(request):
    progress = _progress(request)
    if progress is None or progress.appointment is None:
        return redirect("kiosk:progress_lookup")
    return _days_page(request, department=progress.petition.department, mode="reschedule", current=progress.appointment)


@kiosk_required
@require_http_methods(["GET", "POST"])
def reschedule_time(request):
    progress = _progress(request)
    if progress is None or progress.appointment is None:
        return redirect("kiosk:progress_lookup")
    if request.method == "POST":
        form = SlotChoiceForm(request.POST)
        if form.is_valid():
            request.session[RESCHEDULE_SLOT] = form.cleaned_data["slot"]
            return redirect("kiosk:reschedule_confirm")
        return redirect("kiosk:reschedule_day")
    return _times_page(
        request, department=progress.petition.department, mode="reschedule", current=progress.appointment
    )


@kiosk_required
@require_http_methods(["GET", "POST"])
def reschedule_confirm(request):
    progress = _progress(request)
    slot_id = request.session.get(RESCHEDULE_SLOT)
    if progress is None or progress.appointment is None or not slot_id:
        return redirect("kiosk:progress_lookup")
    slot = Slot.objects.select_related("department").filter(pk=slot_id).first()
    if slot is None:
        return redirect("kiosk:reschedule_day")
    error = None
    if request.method == "POST":
        try:
            appointment = appointment_reschedule(
                actor=request.actor, appointment_id=progress.appointment.pk, slot_id=slot.pk
            )
        except TAKEN_ERRORS:
            return _taken_page(
                request,
                department=slot.department,
                around=slot.starts_at,
                mode="reschedule",
                current=progress.appointment,
            )
        except DomainError as failure:
            error = failure.message
        else:
            request.session.pop(RESCHEDULE_SLOT, None)
            request.session[MOVED] = appointment.pk
            return redirect("kiosk:progress_receipt")
    context = {"appointment": progress.appointment, "slot": slot, "error": error, **_flow("reschedule", 3, None)}
    return _render(request, "reschedule_confirm.html", context, status=409 if error else 200)


# Check-in on arrival.


@kiosk_required
@sensitive_post_parameters("query_code")
def check_in(request):
    form = CheckInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            appointment = appointment_find_for_check_in(
                community_id=request.kiosk.community_id,
                query_code=form.cleaned_data["query_code"],
                principal=request.actor.principal,
            )
            if appointment is None:
                form.add_error(
                    "query_code",
                    _("We found no booked appointment at this community office with this query code. Please check it."),
                )
            else:
                appointment = appointment_check_in(actor=request.actor, appointment_id=appointment.pk)
                request.session[CHECKED_IN] = appointment.pk
                return redirect("kiosk:check_in_done")
        except DomainError as failure:
            form.add_error("query_code", str(failure.message))
    return _render(request, "check_in.html", {"form": form}, status=400 if form.errors else 200)


@kiosk_required
def check_in_done(request):
    appointment_id = request.session.get(CHECKED_IN)
    if not appointment_id:
        return redirect("kiosk:check_in")
    appointment = appointment_for_actor(actor=request.actor, appointment_id=appointment_id)
    return _render(request, "check_in_done.html", {"appointment": appointment})
