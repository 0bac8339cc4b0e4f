"""On a tablet (768 px, Chromium, the site's CSP enforced): an expert opens his task from the list,
scores every item, the page saves by itself, he submits."""

import pytest

from review.models import Assignment, ScoreSheet
from review.tests.test_scoring import MAXES, SECRETS, files, scoring, teacher  # noqa: F401  (the round and its files)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def login(page, username):
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "Secret-pass-2024")
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def test_an_expert_scores_an_entry_on_a_tablet(transactional_db, scoring, csp_browser_page,  # noqa: F811
                                               screenshot_dir):
    page = csp_browser_page
    page.set_viewport_size({"width": 768, "height": 1024})
    login(page, scoring.expert.username)
    page.goto("/review/my/")
    page.click(f"#task-{scoring.a.pk} h3 a")
    page.wait_for_selector("#score-form")
    assert page.locator("#entry-code").inner_text() == scoring.a.entry.code
    assert page.locator("video").count() == 1
    page.wait_for_function("() => document.querySelector('video').readyState >= 1")  # the blind copy plays
    for item, value in zip(scoring.items, MAXES, strict=True):
        page.fill(f"#points-{item.pk}", str(value - 1))
    page.fill("#comment", "目标明确，过程完整。")
    page.wait_for_function("() => document.getElementById('save-status').textContent.startsWith('已自动保存')")
    assert page.locator("#sheet-total").inner_text() == "88"
    sheet = ScoreSheet.objects.get(assignment=scoring.a)
    assert (sheet.total, sheet.comment, sheet.submitted_at) == (88, "目标明确，过程完整。", None)
    assert Assignment.objects.get(pk=scoring.a.pk).state == "started"
    # An out-of-range point is shown and not saved.
    page.fill(f"#points-{scoring.items[2].pk}", "6")
    page.wait_for_function("() => document.getElementById('save-status').textContent.startsWith('未保存')")
    assert page.locator(f"#points-{scoring.items[2].pk}").get_attribute("aria-invalid") == "true"
    page.fill(f"#points-{scoring.items[2].pk}", "4")
    page.wait_for_function("() => document.getElementById('save-status').textContent.startsWith('已自动保存')")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 768
    body = page.content()
    for secret in SECRETS:
        assert secret not in body
    page.evaluate("() => window.scrollTo(0, 0)")  # the files column is sticky beside the rubric
    page.screenshot(path=str(screenshot_dir / "review-scoring-tablet.png"), full_page=True)
    page.click("#submit")
    page.wait_for_selector(".messages")
    assert page.locator(".messages li").all_inner_texts() == ["评分已提交。"]
    assert page.locator("#task-state").inner_text() == "已提交"
    assert page.locator("#submit").count() == 0
    page.screenshot(path=str(screenshot_dir / "review-scoring-submitted.png"), full_page=True)
    assert Assignment.objects.get(pk=scoring.a.pk).state == "submitted"
