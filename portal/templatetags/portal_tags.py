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
