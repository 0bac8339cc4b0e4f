from urllib.parse import urlencode

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


@register.filter
def url_or_empty(name):
    """reverse(name), or "" when no page has that name (yet)."""
    if not name:
        return ""
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


@register.filter
def step_url(step):
    """The link of a home-page step (portal.rules.Step): its page with its arguments and query,
    or "" when it has none."""
    if not step.url_name:
        return ""
    try:
        url = reverse(step.url_name, args=step.url_args)
    except NoReverseMatch:
        return ""
    return f"{url}?{urlencode(step.query)}" if step.query else url
