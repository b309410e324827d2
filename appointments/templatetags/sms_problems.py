"""Template tags of the SMS pages: the count of a community's messages to follow up, shown on its day page."""

from django import template

from ..notify.sms_selectors import problem_count_open

register = template.Library()


@register.simple_tag
def open_sms_problem_count(community) -> int:
    """{% open_sms_problem_count community as count %} → how many of the community's SMS failed and wait for a call."""
    return problem_count_open(community=community) if community else 0
