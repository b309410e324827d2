"""Template filters that keep residents' ID numbers and mobiles out of pages that echo what was typed."""

from django import template

from scheduler.log_filters import redact

register = template.Library()


@register.filter
def without_personal_data(value: str) -> str:
    """Mask ID numbers and mobiles, e.g. in an address echoed back as a form's `next` (a 404 for /x/<ID number>/)."""
    return redact(str(value))
