"""Template filters of the kiosk: days and times in the one format every kiosk screen uses, and a resident's words
for the states of a matter, the decisions on it and the ratings."""

from django import template
from django.utils.translation import pgettext_lazy

from ..kiosk.format import kiosk_day, kiosk_time, kiosk_when

register = template.Library()


@register.filter
def day(value):
    """{{ date|day }} → "12月3日 星期四"."""
    return kiosk_day(value) if value else ""


@register.filter
def clock(value, end=None):
    """{{ slot.starts_at|clock:slot.ends_at }} → "上午9:30–10:00"."""
    return kiosk_time(value, end) if value else ""


@register.filter
def when(slot):
    """{{ slot|when }} → "12月3日 星期四 上午9:30–10:00"."""
    return kiosk_when(slot.starts_at, slot.ends_at) if slot else ""


# A resident's words for the states and decisions of their matter. The models' labels are written for staff (and
# "Closed" means something else on a day), so the kiosk keeps its own, each with its context.
STATUS_WORDS = {
    "received": pgettext_lazy("kiosk petition status", "Received"),
    "accepted": pgettext_lazy("kiosk petition status", "Accepted"),
    "not_accepted": pgettext_lazy("kiosk petition status", "Not accepted"),
    "scheduled": pgettext_lazy("kiosk petition status", "Consultation booked"),
    "in_consultation": pgettext_lazy("kiosk petition status", "In consultation"),
    "answered": pgettext_lazy("kiosk petition status", "Answered"),
    "referred": pgettext_lazy("kiosk petition status", "Passed to another department"),
    "follow_up": pgettext_lazy("kiosk petition status", "Answered, being followed up"),
    "reopened": pgettext_lazy("kiosk petition status", "Being reviewed"),
    "closed": pgettext_lazy("kiosk petition status", "Closed"),
}
DECISION_WORDS = {
    "supported": pgettext_lazy("kiosk decision", "Supported"),
    "partly_supported": pgettext_lazy("kiosk decision", "Partly supported"),
    "explained": pgettext_lazy("kiosk decision", "Explained to you"),
    "not_supported": pgettext_lazy("kiosk decision", "Not supported"),
    "referred": pgettext_lazy("kiosk decision", "Passed to another department"),
}
RATING_WORDS = {
    "satisfied": pgettext_lazy("kiosk rating", "Satisfied"),
    "basically_satisfied": pgettext_lazy("kiosk rating", "Basically satisfied"),
    "dissatisfied": pgettext_lazy("kiosk rating", "Not satisfied"),
}


@register.filter
def status_words(status: str) -> str:
    """{{ petition.status|status_words }} → "已答复"."""
    return str(STATUS_WORDS.get(status, status))


@register.filter
def decision_words(decision: str) -> str:
    """{{ item.decision|decision_words }} → "部分支持"."""
    return str(DECISION_WORDS.get(decision, decision))


@register.filter
def rating_words(level: str) -> str:
    """{{ rating.level|rating_words }} → "基本满意"."""
    return str(RATING_WORDS.get(level, level))
