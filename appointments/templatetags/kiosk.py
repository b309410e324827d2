"""Template filters of the kiosk: days and times in the one format every kiosk screen uses."""

from django import template

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
