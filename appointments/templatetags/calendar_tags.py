"""Template tags for calendar files: an appointment's .ics link, with a QR code a resident scans with their phone."""

import segno
from django import template
from django.utils.safestring import mark_safe

from ..notify.calendars import appointment_calendar_url

register = template.Library()


@register.inclusion_tag("notify/_calendar_link.html")
def appointment_calendar_link(appointment, qr: bool = True) -> dict:
    """{% appointment_calendar_link appointment %} → a link to the .ics file and a QR code of its address."""
    url = appointment_calendar_url(appointment)
    svg = ""
    if qr:
        # segno writes the whole SVG itself; the address is only encoded as modules, never inserted as markup.
        # A quiet zone of 4 modules, as the QR standard asks, so that a phone camera finds it at once; its size is
        # fixed in the SVG (6 px a module, about 5 cm on paper), whatever the page's styles.
        svg = segno.make(url, error="m").svg_inline(
            scale=6, border=4, dark="#000", light="#fff", svgclass="segno calendar-qr-code"
        )
    return {"url": url, "qr_svg": mark_safe(svg)}  # noqa: S308


@register.simple_tag
def appointment_calendar_url_of(appointment) -> str:
    """{% appointment_calendar_url_of appointment %} → the absolute address of the appointment's .ics file."""
    return appointment_calendar_url(appointment)
