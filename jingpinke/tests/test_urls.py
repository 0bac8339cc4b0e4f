"""Walk every URL of the project: nothing but the public pages answers an anonymous visitor."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# Pages anyone may open (the login page, the guides, health and the API's own description).
PUBLIC = {
    "login", "portal:help", "portal:help_role", "portal:healthz",
    "api:openapi-json", "api:openapi-view", "api:help_list", "api:help_role",
    "review_public:list",  # 公示: the public list of publicities (their pages need an unguessable slug)
    "showcase:gallery", "api:showcase_courses",  # 精品课展示: the public gallery (its course pages: 404 unless published)
}


def walk(patterns, prefix="", namespace=None):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace or namespace
            if p.app_name == "admin":
                continue  # Django's admin has its own login
            yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}" if namespace and p.name else p.name
            yield name, prefix + str(p.pattern)


def concrete(route: str) -> str:
    """Fill path converters with a value (1 for ids, "x" for slugs/strings)."""
    route = re.sub(r"<int:[^>]+>", "1", route)
    route = re.sub(r"<(?:(?:slug|str|path|uuid):)?[^>]+>", "teacher", route)
    route = re.sub(r"\(\?P<[^>]+>[^)]*\)", "1", route)  # regex routes (ninja)
    return "/" + route.lstrip("^").rstrip("$").replace("\\", "")


ALL = sorted({(name or "", concrete(route)) for name, route in walk(get_resolver().url_patterns)})
# Public by design, for anonymous scripts: they exchange a password for a token (POST only).
CREDENTIALS = {"api:login"}
ROUTES = [(n, u) for n, u in ALL if n not in PUBLIC | CREDENTIALS and not u.startswith(("/static/", "/media/"))]
PUBLIC_ROUTES = [(n, u) for n, u in ALL if n in PUBLIC]


def test_every_public_name_exists():
    assert {n for n, _ in PUBLIC_ROUTES} == PUBLIC


@pytest.mark.parametrize("name,url", PUBLIC_ROUTES, ids=[f"{n} {u}" for n, u in PUBLIC_ROUTES])
def test_public_pages_answer_anonymous_visitors(client, db, name, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)


def test_the_credential_endpoints_give_nothing_without_credentials(client, db):
    urls = [u for n, u in ALL if n in CREDENTIALS]
    assert len(urls) == len(CREDENTIALS)
    for url in urls:
        assert client.get(url).status_code == 405
        response = client.post(url, {}, content_type="application/json")
        assert response.status_code in (400, 401, 422), (url, response.status_code)
        assert "token" not in response.json()


@pytest.mark.parametrize("name,url", ROUTES, ids=[f"{n or '-'} {u}" for n, u in ROUTES])
def test_anonymous_visitors_are_kept_out(client, db, name, url):
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        if response.status_code == 302:
            assert response.url.startswith("/accounts/login/"), (method, url, response.url)
        else:
            assert response.status_code in (401, 403, 404, 405), (method, url, response.status_code)
