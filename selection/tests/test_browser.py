"""A county admin on a phone (375 px, Chromium): sees his schools' entries, recommends one,
declines the other and confirms the summary table."""

import pytest

from selection.models import Entry, UnitLevel
from selection.tests.helpers import up_to_county

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def login(page, username):
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "Secret-pass-2024")
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def fits(page):
    return page.evaluate("document.documentElement.scrollWidth") <= 375


def test_county_admin_recommends_and_confirms_on_a_phone(transactional_db, tree, campaign, make_course, nodes,
                                                         browser_page, screenshot_dir):
    autumn = up_to_county(make_course(node=nodes[0], title="秋天"), tree)
    boat = up_to_county(make_course(node=nodes[3], title="小小的船"), tree)
    page = browser_page
    login(page, tree.county_admin.username)
    page.click("#mainnav >> text=推荐遴选") if page.is_visible("#mainnav") else page.goto("/selection/")
    page.wait_for_selector("#standing")
    assert page.locator("h1").inner_text() == "推荐遴选 · 赤坎区"
    assert page.locator(".desk-table .entry strong").all_inner_texts() == ["秋天", "小小的船"]
    # The rows are cards here: no table header, no bulk checkboxes, each card's own actions.
    assert not page.is_visible(".desk-table thead") and not page.is_visible("#bulk-go")
    assert page.evaluate("getComputedStyle(document.querySelector('.desk-table tr.entry')).display") == "block"
    assert "学科课程 已推荐 0/25" in page.locator("#standing").inner_text()
    assert fits(page)
    page.screenshot(path=str(screenshot_dir / "selection-desk.png"), full_page=True)

    card = page.locator(f"#entry-{autumn.pk}")
    card.locator("summary", has_text="推荐").first.click()
    card.locator("input[name=rank]").fill("1")
    assert fits(page)
    card.screenshot(path=str(screenshot_dir / "selection-recommend-form.png"))
    card.locator("button", has_text="确定推荐").click()
    page.wait_for_selector(".messages")
    assert page.locator(".messages").inner_text() == "《秋天》已推荐到上一级。"
    assert "学科课程 已推荐 1/25" in page.locator("#standing").inner_text()
    assert page.locator(f"#entry-{autumn.pk} .badge").first.inner_text() == "已推荐"

    card = page.locator(f"#entry-{boat.pk}")
    card.locator("summary", has_text="未推荐").click()
    card.locator(f"#decline-{boat.pk}").fill("本区同类课程较多")
    card.locator("button", has_text="确定未推荐").click()
    page.wait_for_selector(f"#entry-{boat.pk} .badge.st-declined")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#confirm-table")
    page.wait_for_selector("text=汇总表已确认")
    assert page.locator(".messages").inner_text() == "推荐汇总表已确认，赤坎区县级初选的推荐结果已锁定。"
    assert page.locator("#confirm-table").count() == 0
    assert fits(page)
    page.screenshot(path=str(screenshot_dir / "selection-confirmed.png"), full_page=True)

    page.click("text=推荐汇总表 >> nth=-1")
    page.wait_for_selector(".summary-table")
    assert page.locator(".summary-table tbody tr td:nth-child(9)").all_inner_texts() == ["秋天"]
    assert fits(page)  # the wide table scrolls inside its box
    page.screenshot(path=str(screenshot_dir / "selection-summary.png"), full_page=True)
    page.emulate_media(media="print")
    assert not page.is_visible(".topbar")

    page.emulate_media(media="screen")
    for name, url in [("entry", f"/selection/entries/{autumn.pk}/"),
                      ("progress", f"/selection/campaigns/{campaign.pk}/progress/")]:
        page.goto(url)
        assert fits(page), url
        page.screenshot(path=str(screenshot_dir / f"selection-{name}.png"), full_page=True)
    assert "湛江市第二十一小学" in page.locator(".progress-list").inner_text()
    page.goto(f"/selection/entries/{autumn.pk}/")
    assert page.locator(".entry-actions").count() == 0  # locked: nothing left to do

    assert UnitLevel.objects.get(unit=tree.county).confirmed_at is not None
    assert Entry.objects.get(pk=autumn.pk).state == "recommended"
    assert Entry.objects.get(course=autumn.course, level__kind="city").state == "pending"


def test_county_admin_bulk_recommends_from_the_desk_table_on_a_desktop(transactional_db, tree, campaign, make_course,
                                                                       nodes, browser_page, screenshot_dir):
    """At 1280 px the desk is a table: sort by a column, check all, recommend them at once; each
    entry is still checked on its own (the second special-education course finds the quota full)."""
    courses = [make_course(node=nodes[0], title="秋天"), make_course(node=nodes[3], title="10以内的加法"),
               make_course("special", node=nodes[1], title="认识颜色"),
               make_course("special", node=nodes[4], title="认识数字")]
    for course in courses:
        up_to_county(course, tree)
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, tree.county_admin.username)
    page.goto(f"/selection/?campaign={campaign.pk}&held_by={tree.county.pk}&state=pending")
    assert page.is_visible(".desk-table thead") and page.is_visible("[data-check-all]")  # a table, not cards
    page.click(".desk-table th >> text=课程")
    page.wait_for_url("**sort=title**")
    assert page.locator(".desk-table tbody td:nth-child(2) > a").all_inner_texts() == [
        "10以内的加法", "秋天", "认识数字", "认识颜色"]
    assert page.get_attribute(".desk-table th[aria-sort]", "aria-sort") == "ascending"
    assert page.locator(".desk-table tbody tr:first-child td:nth-child(6)").inner_text() == "赤坎区"
    assert page.get_attribute("#export-xlsx", "href") == (
        f"/selection/entries.xlsx?campaign={campaign.pk}&held_by={tree.county.pk}&state=pending&sort=title")

    page.check("[data-check-all]")
    assert page.locator("[data-selected-count]").inner_text() == "4"
    page.select_option("#bulk-action", "return")
    assert page.evaluate("document.getElementById('bulk-reason').required") is True  # a return needs its reason
    page.select_option("#bulk-action", "recommend")
    assert page.evaluate("document.getElementById('bulk-reason').required") is False
    page.screenshot(path=str(screenshot_dir / "selection-desk-table.png"), full_page=True)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#bulk-go")
    page.wait_for_selector(".messages")
    assert page.locator(".messages li").all_inner_texts() == [
        "已推荐 3 门课程到上一级。",
        "《认识颜色》：名额已满：特殊教育 已推荐 1/1。请先撤销其他推荐，或联系上级调整名额。",
    ]
    assert page.url.endswith(f"/selection/?campaign={campaign.pk}&held_by={tree.county.pk}&state=pending&sort=title")
    assert page.locator(".desk-table tbody td:nth-child(2) > a").all_inner_texts() == ["认识颜色"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.screenshot(path=str(screenshot_dir / "selection-desk-table-done.png"), full_page=True)
    assert sorted(Entry.objects.filter(level__kind="county", state="recommended").values_list("rank", flat=True)) == [
        1, 2, 3]

    page.goto(f"/selection/campaigns/{campaign.pk}/progress/")
    assert page.is_visible(".progress-table") and not page.is_visible(".progress-list")
    page.screenshot(path=str(screenshot_dir / "selection-progress-table.png"), full_page=True)
