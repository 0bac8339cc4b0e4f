"""Smoke check in Chromium that the Content-Security-Policy (script-src/style-src 'self', no eval)
blocks nothing the pages need: the login, home and help pages, the htmx node picker, and the
course page's upload widget (tus-js-client, htmx swaps of the slot card), with no CSP violation
in the console."""

from __future__ import annotations

import pytest

from courses.tests.test_browser import login, status_of, upload
from media import testing

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_key_pages_work_under_the_content_security_policy(transactional_db, tree, course, csp_browser_page, tmp_path):
    page = csp_browser_page
    problems: list[str] = []

    def console(msg):
        # The browser asks for /favicon.ico on its own; the site has none (a 404, not a policy matter).
        if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico"):
            problems.append(msg.text)

    page.on("console", console)
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    page.goto("/accounts/login/")
    assert page.evaluate("getComputedStyle(document.querySelector('main .card')).maxWidth") == "420px"
    login(page, tree.teacher.username)
    for path in ("/", "/help/", "/courses/"):
        page.goto(path)
    # The htmx node picker: each choice reloads the fragment.
    page.goto("/courses/new/")
    settled = "() => !document.querySelector('.htmx-request')"  # a function: a string would be eval'd
    page.select_option("#pk-stage", "primary")
    page.wait_for_selector("#pk-subject option[value=语文]", state="attached")
    page.wait_for_function(settled)
    page.select_option("#pk-subject", "语文")
    page.wait_for_function(settled)
    # htmx's indicator style comes from app.css, not from a <style> it injects.
    assert page.evaluate("document.querySelectorAll('style').length") == 0
    # The upload widget: tus-js-client sends the file, htmx swaps the card with its report.
    page.goto(f"/courses/{course.pk}/")
    upload(page, "slot-1-task_sheet", testing.make_pdf(tmp_path / "学习任务单.pdf", pages=2), ["pass", "warn"])
    assert status_of(page, "slot-1-task_sheet") in ("pass", "warn")
    page.context.clear_cookies()
    login(page, tree.county_admin.username)
    page.goto("/")
    page.goto(f"/courses/{course.pk}/")
    assert problems == []
