"""The words of each SMS: one plain-text template per kind and language, filled from the rows it is about.

A message names the petition by its reference and query code, the time and the place; never the resident's name,
ID number or mobile number. The rating link carries a signed outcome id, nothing else.
"""

import datetime as dt
from typing import Any

from django.conf import settings
from django.core import signing
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from ..models import Appointment, Notification, Outcome, OutcomeItem, Referral

LANGUAGES = ("zh-hans", "en")
# The length of one Chinese SMS segment (UCS-2); longer messages are sent in parts and cost more.
SEGMENT_CHARS = 70
ZH_WEEKDAYS = "一二三四五六日"
RATING_SALT = "appointments.notify.rate"
# 22 base64 characters of the HMAC (132 bits): short enough for an SMS, far beyond guessing.
RATING_SIGNATURE_CHARS = 22
# Dots, not colons: phones recognise a link more reliably without a colon in the path.
RATING_SEPARATOR = "."


class _RatingSigner(signing.Signer):
    """Django's salted HMAC signer with a shorter signature, so that the link fits better in an SMS."""

    def signature(self, value, key=None):
        return super().signature(value, key)[:RATING_SIGNATURE_CHARS]


def _rating_signer() -> _RatingSigner:
    return _RatingSigner(salt=RATING_SALT, sep=RATING_SEPARATOR)


def rating_token_make(outcome_id: int) -> str:
    """The token of the page where the resident rates one answer: the outcome id, signed."""
    return _rating_signer().sign(str(outcome_id))


def rating_token_read(token: str) -> int | None:
    """The outcome id a rating token names, or None for a token that was altered or made up."""
    try:
        value = _rating_signer().unsign(token)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    return int(value) if value.isdigit() and len(value) <= 18 else None


def rating_url(outcome_id: int) -> str:
    return settings.PUBLIC_BASE_URL + reverse("notify_public:rate", args=[rating_token_make(outcome_id)])


def sms_language(language: str) -> str:
    return language if language in LANGUAGES else "zh-hans"


def sms_when(moment: dt.datetime, language: str, *, weekday: bool = True) -> str:
    """A time as people read it in a message: "12月3日(周四)09:30" / "Thu 3 Dec 09:30"."""
    local = timezone.localtime(moment)
    if language == "zh-hans":
        day = f"{local.month}月{local.day}日" + (f"(周{ZH_WEEKDAYS[local.weekday()]})" if weekday else "")
        return f"{day}{local:%H:%M}"
    return (f"{local:%a} " if weekday else "") + f"{local.day} {local:%b %H:%M}"


def sms_clock(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%H:%M}"


def _moment(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _context(notification: Notification, *, now: dt.datetime) -> dict[str, Any]:
    petition = notification.petition
    language = sms_language(notification.language)
    detail = notification.detail or {}
    appointment: Appointment | None = notification.appointment
    department = petition.department
    community = petition.community
    context: dict[str, Any] = {
        "sign": settings.SMS_SIGNATURE,
        "reference": petition.reference,
        "query_code": petition.query_code,
        "when": "",
    }
    if appointment is not None:
        slot = appointment.slot
        department = slot.department
        community = appointment.community or community
        context["when"] = sms_when(slot.starts_at, language)
        context["clock"] = sms_clock(slot.starts_at)
        context["is_today"] = timezone.localdate(slot.starts_at) == timezone.localdate(now)
    kind = notification.kind
    if kind == Notification.Kind.RESCHEDULED:
        previous = _moment(detail.get("previous_starts_at"))
        # Without the weekday: the new time has it, and the old one only tells which booking moved.
        context["previous_when"] = sms_when(previous, language, weekday=False) if previous else ""
    elif kind == Notification.Kind.WITHDRAWN:
        context["reason"] = str(detail.get("reason") or "")
    elif kind == Notification.Kind.CANCELLED:
        context["referred"] = detail.get("reason") == "referred"
        context["to_department"] = str(detail.get("to_department") or "")
    elif kind == Notification.Kind.ANSWERED:
        outcome_id = detail.get("outcome_id")
        outcome = (
            Outcome.objects.select_related("department").filter(pk=outcome_id).first()
            if isinstance(outcome_id, int)
            else None
        )
        if outcome is not None:
            department = outcome.department
            context["rating_url"] = rating_url(outcome.pk)
        context["referred_to"] = str(detail.get("referred_to") or "")
    elif kind == Notification.Kind.WAITLIST_OFFER:
        expires = _moment(detail.get("expires_at"))
        entry = getattr(appointment, "waitlist_entry", None) if appointment is not None else None
        if expires is None and entry is not None:
            expires = entry.offer_expires_at
        if expires is not None:
            same_day = timezone.localdate(expires) == timezone.localdate(now)
            context["expires"] = sms_clock(expires) if same_day else sms_when(expires, language)
    context["department"] = department.name
    context["community"] = community.name if community is not None else ""
    return context


def _squeeze(text: str, language: str) -> str:
    """Join the template's lines: none in Chinese (no spaces between words), one space in English."""
    glue = "" if language == "zh-hans" else " "
    return glue.join(part.strip() for part in text.splitlines() if part.strip())


def message_render(notification: Notification, *, now: dt.datetime | None = None) -> str:
    """The text of one notification, in the language the resident used when filing."""
    now = now or timezone.now()
    language = sms_language(notification.language)
    with translation.override(language):
        text = render_to_string(f"sms/{language}/{notification.kind}.txt", _context(notification, now=now))
    return _squeeze(text, language)


def cancel_detail(appointment: Appointment) -> dict[str, Any]:
    """What a cancellation notice needs beyond the appointment: why, and where a referred petition went."""
    code = appointment.cancel_reason_code
    if code == Appointment.CancelReason.REFERRED:
        referral = Referral.objects.filter(petition_id=appointment.petition_id).select_related("to_department")
        latest = referral.order_by("-at", "-pk").first()
        return {"reason": "referred", "to_department": latest.to_department.name if latest else ""}
    return {"reason": "resident"}


def answer_detail(outcome: Outcome) -> dict[str, Any]:
    """What the answer message needs: the outcome, and the department a referred petition went to."""
    referral = (
        OutcomeItem.objects.filter(outcome=outcome, decision=OutcomeItem.Decision.REFERRED)
        .select_related("referred_to")
        .order_by("position")
        .first()
    )
    detail: dict[str, Any] = {"outcome_id": outcome.pk}
    if referral is not None and referral.referred_to is not None:
        detail["referred_to"] = referral.referred_to.name
    return detail
