"""In a browser (Chromium, the site's CSP enforced): the round's admin opens the awards mode from the
recommend proposal, gives the number of awards, reads the set and applies it."""

import pytest

from review.tests.test_results import scored  # noqa: F401  (fixture)
from review.tests.test_scoring_browser import login
from selection.models import Entry

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_admin_proposes_and_applies_the_level_s_awards(transactional_db, tree, scored, csp_browser_page,  # noqa: F811
                                                       screenshot_dir):
    page = csp_browser_page
    page.set_viewport_size({"width": 1024, "height": 900})
    login(page, tree.county_admin.username)
    page.goto(f"/review/rounds/{scored.pk}/proposal/")
    page.click("#award-mode")
    page.wait_for_selector("#award-counts")
    assert page.locator("#award-hint").count() == 1
    page.fill("#id_count_subject", "2")
    page.click("button[value=preview]")
    page.wait_for_selector("#proposal-status")
    assert page.locator("#proposal-status").inner_text().startswith("本轮评为县级精品课 2 门，总分 160")
    assert "评审一票否决，不评本级荣誉" in page.locator(f"#proposal-{scored.entries['C']}").inner_text()
    page.screenshot(path=str(screenshot_dir / "review-award-proposal.png"), full_page=True)
    page.click("#apply")
    page.wait_for_selector(".messages")
    assert page.locator(".messages li").all_inner_texts() == ["本级荣誉方案已应用：新评 2 门，取消 0 门。"]
    assert page.locator("#id_count_subject").input_value() == "2"  # the numbers stay for the next look
    assert set(Entry.objects.filter(awarded=True).values_list("pk", flat=True)) == {scored.entries["A"],
                                                                                 scored.entries["B"]}
