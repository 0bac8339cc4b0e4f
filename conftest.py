"""Fixtures shared by every app's tests.

``tree`` builds a small Guangdong › Zhanjiang tree with an admin at every level,
two counties (so scope tests have a neighbour to be kept out of), county schools,
a city-owned and a province-owned school, and a teacher and an expert.
Log in with ``client.force_login(user)``: django-axes needs a request object that
``client.login`` does not pass.
"""

from types import SimpleNamespace

import pytest
from hypothesis import settings as hypothesis_settings

from jingpinke.s3server import s3_test_run
from orgs.models import Role, Unit, UnitKind
from orgs.tests.factories import member

# Tests pin behaviour, never time (README): no per-example deadline, which fails property tests
# at random on a loaded machine (2 cores shared with the browser tests).
hypothesis_settings.register_profile("jpk", deadline=None)
hypothesis_settings.load_profile("jpk")


# --- object storage -----------------------------------------------------------------
# JPK_TEST_STORAGE=s3 (``make test-s3``) runs the whole suite against a loopback S3 server (moto in
# server mode, its own process on 127.0.0.1 at a free port) instead of the local media folder.
S3_MODE = s3_test_run()


@pytest.fixture(scope="session", autouse=True)
def object_store():
    """The loopback S3 server of the run (None with local storage); settings point at it."""
    if not S3_MODE:
        yield None
        return
    from django.conf import settings
    from django.test.utils import override_settings

    from jingpinke import storage
    from jingpinke.s3server import LoopbackS3

    server = LoopbackS3.start()
    options = server.options()
    override = override_settings(
        STORAGES={**settings.STORAGES, "default": {"BACKEND": storage.S3_BACKEND, "OPTIONS": options}},
        STORAGE_PUBLIC_URL="",
        CONTENT_SECURITY_POLICY=storage.csp_with_store(settings.CONTENT_SECURITY_POLICY, storage.store_origin(options)),
    )
    override.enable()
    storage.reset_clients()
    try:
        yield server
    finally:
        override.disable()
        storage.reset_clients()
        server.stop()


@pytest.fixture
def tree(db):
    province = Unit.objects.create(name="广东省", code="440000", kind=UnitKind.PROVINCE)
    city = Unit.objects.create(name="湛江市", code="440800", kind=UnitKind.CITY, parent=province)
    other_city = Unit.objects.create(name="茂名市", code="440900", kind=UnitKind.CITY, parent=province)
    county = Unit.objects.create(name="赤坎区", code="440802", kind=UnitKind.COUNTY, parent=city)
    other_county = Unit.objects.create(name="霞山区", code="440803", kind=UnitKind.COUNTY, parent=city)
    school = Unit.objects.create(name="湛江市第二十一小学", code="440802001", kind=UnitKind.SCHOOL, parent=county)
    other_school = Unit.objects.create(name="霞山区第一小学", code="440803001", kind=UnitKind.SCHOOL, parent=other_county)
    city_school = Unit.objects.create(name="湛江市第一中学", code="440800001", kind=UnitKind.SCHOOL, parent=city)
    province_school = Unit.objects.create(
        name="广东实验中学", code="440000001", kind=UnitKind.SCHOOL, parent=province
    )
    ns = SimpleNamespace(
        province=province,
        city=city,
        other_city=other_city,
        county=county,
        other_county=other_county,
        school=school,
        other_school=other_school,
        city_school=city_school,
        province_school=province_school,
    )
    ns.province_admin = member(province, Role.ADMIN, username="gd_admin")
    ns.city_admin = member(city, Role.ADMIN, username="zj_admin")
    ns.county_admin = member(county, Role.ADMIN, username="ck_admin")
    ns.other_county_admin = member(other_county, Role.ADMIN, username="xs_admin")
    ns.school_admin = member(school, Role.ADMIN, username="school_admin")
    ns.teacher = member(school, Role.TEACHER, username="teacher", mobile="13800000001")
    ns.other_teacher = member(other_school, Role.TEACHER, username="other_teacher")
    ns.expert = member(city, Role.EXPERT, username="expert")
    from orgs.tests.factories import UserFactory

    ns.sysadmin = UserFactory(username="sysadmin", is_superuser=True, is_staff=True)
    return ns


# --- browser tests ----------------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def browser_page(live_server, settings):
    """A Playwright page in Debian's Chromium, 375 px wide (a phone), against the live server.

    Skips, saying why, when Chromium or Playwright is missing (``make test`` installs Chromium as root).
    It bypasses the site's Content-Security-Policy: Playwright evaluates a string predicate
    (``wait_for_function("a && b")``) with eval in the page, which the policy forbids.
    ``csp_browser_page`` enforces the policy (use function predicates, ``"() => …"``, there).
    """
    yield from _chromium_page(live_server, bypass_csp=True)


@pytest.fixture
def csp_browser_page(live_server, settings):
    """``browser_page`` with the site's Content-Security-Policy enforced, as a real browser does."""
    yield from _chromium_page(live_server, bypass_csp=False)


def _chromium_page(live_server, *, bypass_csp: bool):
    import os
    import shutil

    if S3_MODE:  # the pages upload straight to the bucket: it lets this origin in, as in production
        from media import multipart

        multipart.set_bucket_cors([live_server.url])

    if not os.path.exists(CHROMIUM) and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (make system-deps installs it as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover
        pytest.skip("playwright is not installed")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test
    # makes around it are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN",
                                      timezone_id="Asia/Shanghai", base_url=live_server.url,
                                      bypass_csp=bypass_csp)
        page = context.new_page()
        page.set_default_timeout(15000)
        try:
            yield page
        finally:
            context.close()
            browser.close()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def screenshot_dir():
    from pathlib import Path

    path = Path(__file__).resolve().parent / "var" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path
