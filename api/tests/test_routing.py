"""The API's routes, grouped by their first path segment (``api.urls.by_first_segment``) and tried
before every page's: every path resolves to the same view, with the same arguments, as it did
through ninja's flat list; names reverse as before."""

import re

import pytest
from django.urls import Resolver404, URLResolver, get_resolver, path, resolve, reverse
from django.urls.resolvers import RegexPattern

from api.urls import by_first_segment, flat_routes
from jingpinke.tests.test_urls import walk

FLAT = URLResolver(RegexPattern(r"^/"), [path("api/v1/", (flat_routes, "ninja", "api"))])


def _concrete(route: str, value: str) -> str:
    return re.sub(r"<(?:[a-z_]+:)?[a-z_]+>", value, route)


ROUTES = [str(p.pattern) for p in flat_routes]
PATHS = sorted({"/api/v1/" + _concrete(route, value) for route in ROUTES for value in ("7", "x7", "a-b")}
               | {"/api/v1/" + route.split("/")[0] + suffix for route in ROUTES for suffix in ("", "/", "/zz", "/7/zz/")}
               | {"/api/v1/", "/api/v1", "/api/v1/selection", "/api/v1/selection/", "/api/v1/courses//submit"})


def _flat(url):
    try:
        return FLAT.resolve(url)
    except Resolver404:
        return None


def _grouped(url):
    try:
        return resolve(url)
    except Resolver404:
        return None


@pytest.mark.parametrize("url", PATHS)
def test_every_api_path_resolves_as_through_ninjas_flat_list(url):
    before, after = _flat(url), _grouped(url)
    if before is None:
        assert after is None, (url, after)
        return
    assert after is not None, url
    assert (after.func, after.args, after.kwargs, after.url_name, after.namespace) == (
        before.func, before.args, before.kwargs, before.url_name, before.namespace), url


def test_the_routes_are_grouped_and_names_reverse_as_before():
    grouped = by_first_segment(flat_routes)
    assert len(grouped) < 40 < len(flat_routes)
    assert reverse("api:list_entries") == "/api/v1/selection/entries"
    assert reverse("api:undo_entry", kwargs={"entry_id": 5}) == "/api/v1/selection/entries/5/undo"
    assert reverse("api:list_courses") == "/api/v1/courses"
    assert reverse("api:api-root") == "/api/v1/"


def test_a_first_segment_with_a_parameter_leaves_the_list_flat():
    routes = [path("a/<int:x>", lambda r: None, name="a"), path("<str:y>/b", lambda r: None, name="b")]
    assert by_first_segment(routes) is routes


def test_no_page_begins_with_api():
    """The API's includes come first in ``jingpinke.urls``: no other pattern may begin with api/."""
    api_first = [str(p.pattern) for p in get_resolver().url_patterns[:2]]
    assert api_first == ["api/v1/uploads/", "api/v1/"]
    others = [route for _, route in walk(get_resolver().url_patterns[2:])]
    assert others and not [r for r in others if r.lstrip("^").startswith("api")]
