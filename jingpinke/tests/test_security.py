"""HTTPS settings and the Content-Security-Policy.

The deploy checks run in a subprocess with README's production environment, because settings are
read once, from the environment, when Django starts.
"""

import os
import re
import subprocess
import sys

import pytest

from jingpinke import config

README_PRODUCTION = {
    "JPK_DATABASE_URL": "",  # the checks need no database; README's PostgreSQL URL needs a server
    "JPK_SECRET_KEY": "x" * 20 + "-production-secret-key-for-the-deploy-check-0123456789",
    "JPK_ALLOWED_HOSTS": "jpk.example.cn",
    "JPK_CSRF_TRUSTED_ORIGINS": "https://jpk.example.cn",
    "JPK_SECURE_COOKIES": "1",
    "JPK_SSL_REDIRECT": "1",
    "JPK_PROXY_SSL_HEADER": "1",
    "JPK_HSTS_SECONDS": "31536000",
    "JPK_HSTS_INCLUDE_SUBDOMAINS": "1",
    "JPK_HSTS_PRELOAD": "1",
}


def readme_production_exports() -> dict:
    """The `export JPK_…=value` lines of README's production section (values without quotes/$())."""
    text = (config.BASE_DIR / "README.md").read_text()
    section = text.split("### Production (scaled mode)", 1)[1].split("\n## ", 1)[0]
    found = {}
    for line in section.splitlines():
        if line.startswith("export "):
            for name, value in re.findall(r"(JPK_[A-Z_]+)=(\S+)", line):
                found[name] = value
    return found


def deploy_check(tmp_path, env_overrides: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JPK_")}
    env.update({"DJANGO_SETTINGS_MODULE": "jingpinke.settings", "JPK_DATA_DIR": str(tmp_path)}, **env_overrides)
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=config.BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=120)


def test_readme_production_settings_are_the_ones_checked():
    exports = readme_production_exports()
    # Everything this test sets (bar the secret and database, which README generates/points away)
    # is what README tells production to export.
    for name in ("JPK_SECURE_COOKIES", "JPK_SSL_REDIRECT", "JPK_PROXY_SSL_HEADER", "JPK_HSTS_SECONDS",
                 "JPK_HSTS_INCLUDE_SUBDOMAINS", "JPK_HSTS_PRELOAD"):
        assert exports[name] == README_PRODUCTION[name], name


@pytest.mark.slow
def test_deploy_check_is_clean_with_readme_production_settings(tmp_path):
    # README's exports as written (the checks do not connect to its database), with a real secret
    # in place of the command that generates one.
    env = {**readme_production_exports(), "JPK_SECRET_KEY": README_PRODUCTION["JPK_SECRET_KEY"]}
    assert env["JPK_DATABASE_URL"].startswith("postgres://")
    result = deploy_check(tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout, result.stdout + result.stderr


@pytest.mark.slow
def test_deploy_check_warns_about_hsts_and_ssl_redirect_by_default(tmp_path):
    # `make run` defaults: plain HTTP on 127.0.0.1, so no redirect and no HSTS (W004, W008 expected).
    result = deploy_check(tmp_path, {"JPK_SECRET_KEY": README_PRODUCTION["JPK_SECRET_KEY"]})
    output = result.stdout + result.stderr
    assert "security.W004" in output
    assert "security.W008" in output


def test_https_settings_are_off_by_default(settings):
    assert (settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS,
            settings.SECURE_HSTS_PRELOAD) == (False, 0, False, False)


def test_every_page_carries_the_content_security_policy(client, tree):
    from jingpinke.storage import store_origin

    store = f" {store_origin()}" if store_origin() else ""  # object storage: its origin, for those three only
    pages = [("/accounts/login/", None), ("/", tree.teacher), ("/help/", tree.teacher), ("/courses/", tree.teacher)]
    for url, user in pages:
        if user is not None:
            client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, url
        policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
        assert policy == {
            "default-src": "'self'", "script-src": "'self'", "style-src": "'self'", "img-src": "'self' data:" + store,
            "media-src": "'self'" + store, "font-src": "'self'", "connect-src": "'self'" + store, "object-src": "'none'",
            "base-uri": "'self'", "form-action": "'self'", "frame-ancestors": "'none'"}, url


def test_the_policy_built_once_is_the_librarys(rf, settings):
    """``jingpinke.middleware.CSPMiddleware`` builds the headers once (until the settings change);
    they are django-csp's own for every kind of response: plain, a view's own policy, a nonce,
    exempt, an excluded prefix, report-only, changed settings, a 404 under DEBUG."""
    from csp.middleware import CSPMiddleware as Library
    from django.http import HttpResponse

    from jingpinke.middleware import CSPMiddleware

    ours, library = CSPMiddleware(lambda r: HttpResponse()), Library(lambda r: HttpResponse())

    def headers(middleware, path="/api/v1/courses", status=200, nonce=False, **attrs):
        request = rf.get(path)
        middleware.process_request(request)
        if nonce:
            str(request.csp_nonce)
        response = HttpResponse(status=status)
        for name, value in attrs.items():
            setattr(response, name, value)
        response = middleware.process_response(request, response)
        return {h: response.get(h) for h in ("Content-Security-Policy", "Content-Security-Policy-Report-Only")}

    def same(**kwargs):
        found = headers(ours, **kwargs)
        assert found == headers(library, **kwargs), kwargs
        return found

    plain = same()
    assert "frame-ancestors 'none'" in plain["Content-Security-Policy"]
    assert same(path="/courses/") == plain and ours._built is not None
    assert same(_csp_update={"img-src": ["https://x.example"]}) != plain
    same(_csp_replace={"script-src": None})
    same(nonce=True)
    assert same(_csp_exempt=True)["Content-Security-Policy"] is None
    settings.CONTENT_SECURITY_POLICY = {**settings.CONTENT_SECURITY_POLICY,
                                        "EXCLUDE_URL_PREFIXES": ["/api/v1/files"]}
    assert same(path="/api/v1/files/1")["Content-Security-Policy"] is None
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    assert same()["Content-Security-Policy-Report-Only"] == "default-src 'none'"
    same(_csp_exempt_ro=True)
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'self'", "https://cdn.example"]}}
    assert "https://cdn.example" in same()["Content-Security-Policy"]
    settings.DEBUG = True
    same(status=404)
    same(status=500)
    # the nonce may not be used once the header is written
    request = rf.get("/")
    ours.process_request(request)
    ours.process_response(request, HttpResponse())
    with pytest.raises(Exception, match="not available after"):
        str(request.csp_nonce)


INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|\son[a-z]+=|<style\b|javascript:|hx-on|hx-trigger=\"[^\"]*\[",
                    re.I)


def test_no_template_has_inline_script_style_or_eval():
    """What the policy would block: inline <script>, on…= handlers, style attributes and <style>,
    javascript: links, and htmx's eval'd hx-on and trigger filters."""
    offenders = []
    for path in sorted(config.BASE_DIR.glob("**/templates/**/*.html")):
        if ".venv" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if INLINE.search(line):
                offenders.append(f"{path.relative_to(config.BASE_DIR)}:{number}")
    assert offenders == []


def test_every_page_names_its_icon_from_our_origin(client, db):
    """Without a <link rel=icon> every first visit asks /favicon.ico and logs a 404."""
    html = client.get("/accounts/login/").content.decode()
    assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in html
    from django.contrib.staticfiles import finders

    with open(finders.find("img/favicon.svg"), "rb") as icon:
        assert icon.read(4) == b"<svg"
