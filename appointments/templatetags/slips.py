"""Template tags of the follow-up slips: the count of a community's open slips, shown on its day page."""

from django import template

from ..staff.slips import slip_count_open

register = template.Library()


@register.simple_tag
def open_slip_count(community) -> int:
    """{% open_slip_count community as count %} → how many of the community's follow-up slips are open."""
    return slip_count_open(community=community) if community else 0
