"""The campaign pages in Chromium at phone width (375 px)."""

import pytest

from campaigns.models import DeadlineOverride

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def login(page, username):
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "Secret-pass-2024")
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def fits(page):
    return page.evaluate("document.documentElement.scrollWidth") <= 375


def test_every_campaign_page_fits_a_phone(transactional_db, tree, zhanjiang, browser_page, screenshot_dir):
    page = browser_page
    login(page, tree.city_admin.username)
    pk = zhanjiang.pk
    for path in ["", f"{pk}/", f"{pk}/edit/", f"{pk}/categories/", f"{pk}/categories/subject/slots/",
                 f"{pk}/categories/subject/specs/", f"{pk}/levels/", f"{pk}/overrides/?unit={tree.school.pk}",
                 f"{pk}/quotas/?unit={tree.county.pk}", f"{pk}/quotas/defaults/", f"{pk}/rules/", f"{pk}/contacts/",
                 f"{pk}/notices/", "import/", "from-template/", "new/"]:
        page.goto(f"/campaigns/{path}")
        assert fits(page), path
    page.goto(f"/campaigns/{pk}/")
    page.screenshot(path=str(screenshot_dir / "campaign-detail.png"), full_page=True)


def test_county_admin_sets_a_school_deadline_on_a_phone(transactional_db, tree, zhanjiang, browser_page):
    page = browser_page
    login(page, tree.county_admin.username)
    page.goto(f"/campaigns/{zhanjiang.pk}/overrides/")
    page.select_option("#id_level", "school")
    page.select_option("#id_unit", str(tree.county.pk))
    page.fill("#id_deadline_date", "2024-09-10")
    page.fill("#id_reason", "区县初选")
    page.click("text=保存")
    page.wait_for_load_state()
    assert "单位截止时间已保存。" in page.locator(".messages").inner_text()
    assert DeadlineOverride.objects.get().deadline.isoformat() == "2024-09-10T15:59:59+00:00"
    page.goto(f"/campaigns/{zhanjiang.pk}/overrides/?unit={tree.school.pk}")
    assert "继承自赤坎区" in page.content()
    assert fits(page)
