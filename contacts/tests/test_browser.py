"""On a phone (375 px, Chromium): a county admin fills the contact form, adds a second person,
uploads a generated PDF scan and files it; the city admin sees it filed and downloads the
workbook of all forms."""

import pytest
from openpyxl import load_workbook

from contacts.models import ContactForm

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def login(page, username):
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "Secret-pass-2024")
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def logout(page):
    page.context.clear_cookies()


def fits(page):
    return page.evaluate("document.documentElement.scrollWidth") <= 375


def open_menu_item(page, text):
    page.click(".nav-toggle")
    page.click(f"#mainnav >> text={text}")


def test_county_files_the_contact_form_and_the_city_downloads_it(transactional_db, tree, campaign, browser_page,
                                                                 screenshot_dir, tmp_path):
    from media.testing import make_pdf

    scan = make_pdf(tmp_path / "赤坎区工作联系表（盖章）.pdf", pages=1, text="Chikan contact form, stamped")
    page = browser_page
    login(page, tree.county_admin.username)
    open_menu_item(page, "工作联系表")
    page.wait_for_selector("#contact-form")
    assert page.locator("h1").inner_text() == "赤坎区 · 工作联系表"
    assert page.locator("#status-badge").inner_text() == "未填写"

    page.fill("#p-0-name", "黄志明")
    page.fill("#p-0-position", "电教站站长")
    page.fill("#p-0-mobile", "138 0013 8021")
    page.check("input[name=p-0-categories][value=subject]")
    page.check("input[name=p-0-categories][value=special]")
    page.fill("#p-0-remark", "学科课程、特殊教育")
    page.click("#add-person")
    page.fill("#p-1-name", "陈丽娟")
    page.fill("#p-1-position", "教研员")
    page.fill("#p-1-mobile", "13800138022")
    page.check("input[name=p-1-categories][value=experiment]")
    page.set_input_files("#id_scan", str(scan))
    assert fits(page)
    page.screenshot(path=str(screenshot_dir / "contacts-form.png"), full_page=True)
    page.click("#file")
    page.wait_for_selector(".messages")
    assert page.locator(".messages li").all_inner_texts() == [
        "已上传扫描件“赤坎区工作联系表（盖章）.pdf”。", "工作联系表已提交，湛江市可以看到。截止前仍可修改。"]
    assert page.locator("#status-badge").inner_text() == "已提交"
    assert page.locator("#file").count() == 0
    assert fits(page)
    page.screenshot(path=str(screenshot_dir / "contacts-filed.png"), full_page=True)
    form = ContactForm.objects.get(unit=tree.county)
    assert ([p.mobile for p in form.people.all()], form.scan.kind, form.filed) == (
        ["13800138021", "13800138022"], "pdf", True)

    logout(page)
    login(page, tree.city_admin.username)
    open_menu_item(page, "工作联系表")
    page.wait_for_selector("#board-summary")
    assert page.locator("#board-summary").inner_text() == "已提交 1 / 3 个单位。"
    card = page.locator(f"#unit-{tree.county.pk}")
    assert card.locator(".badge").inner_text() == "已提交"
    assert "黄志明、陈丽娟" in card.inner_text()
    assert page.locator(f"#unit-{tree.other_county.pk} .badge").inner_text() == "未填写"
    assert fits(page)
    page.screenshot(path=str(screenshot_dir / "contacts-board.png"), full_page=True)
    with page.expect_download() as info:
        page.click("#export")
    path = tmp_path / "all.xlsx"
    info.value.save_as(path)
    assert info.value.suggested_filename == "2024年湛江市基础教育精品课遴选-工作联系表.xlsx"
    book = load_workbook(path, read_only=True)
    people = [row[:5] for row in book["工作联系表"].iter_rows(min_row=2, values_only=True)]
    assert people == [("赤坎区", "黄志明", "电教站站长", "13800138021", "学科课程、特殊教育"),
                      ("赤坎区", "陈丽娟", "教研员", "13800138022", "实验教学")]
    assert [r[0] for r in book["未提交单位"].iter_rows(min_row=2, values_only=True)] == ["霞山区", "湛江市第一中学"]
    # The scan opens from the board for the city.
    response = page.request.get(card.locator("a", has_text="查看").get_attribute("href"))
    assert (response.status, response.headers["content-type"]) == (200, "application/pdf")
    # The progress board shows who has filed.
    page.goto(f"/selection/campaigns/{campaign.pk}/progress/")
    assert page.locator(f"#unit-{tree.county.pk} .contact-filed").inner_text().startswith("已提交")
    assert page.locator(f"#unit-{tree.other_county.pk} .contact-filed").inner_text() == "未提交"
    assert fits(page)
    page.screenshot(path=str(screenshot_dir / "contacts-progress.png"), full_page=True)
