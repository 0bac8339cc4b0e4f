"""The catalog pages in Chromium at phone width (375 px)."""

import pytest

from catalog import demo
from catalog.models import OpenNode, Textbook

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def login(page, username):
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "Secret-pass-2024")
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def test_city_admin_opens_first_grade_chinese_on_a_phone(transactional_db, tree, campaign, browser_page,
                                                         screenshot_dir):
    demo.load()
    page = browser_page
    login(page, "zj_admin")
    page.goto(f"/catalog/?campaign={campaign.pk}&subject=语文&grade=一年级")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.click("text=按当前筛选开放全部 102 个节点")
    page.wait_for_load_state()
    text = page.locator(".messages").inner_text()
    assert "已开放 49 个目录节点。" in text
    assert "一年级须使用新教材：统编版语文一年级上册（旧教材）未开放" in text
    assert OpenNode.objects.filter(campaign=campaign).count() == 49
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(screenshot_dir / "catalog-nodes.png"))
    book = Textbook.objects.get(subject="物理")
    page.goto(f"/catalog/textbooks/{book.pk}/?campaign={campaign.pk}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(screenshot_dir / "catalog-textbook.png"))
    for url in ("/catalog/textbooks/", "/catalog/import/json/", "/catalog/import/excel/"):
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, url
