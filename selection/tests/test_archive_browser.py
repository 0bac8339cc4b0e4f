"""A county admin on a phone (375 px, Chromium) downloads the resource package from the desk and
from the summary page: Chromium names it from the RFC 5987 header and the ZIP opens."""

import zipfile

import pytest

from selection import services
from selection.tests.helpers import entry_at, up_to_county
from selection.tests.test_archive import attach
from selection.tests.test_browser import fits, login

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_county_admin_downloads_the_package_on_a_phone(transactional_db, tree, campaign, make_course, nodes,
                                                       browser_page, screenshot_dir, tmp_path):
    course = make_course(node=nodes[3], title="认识图形")
    attach(course, 1, "video", b"\x00\x00\x00\x18ftypmp42" + bytes(2_000_000), "mp4")
    attach(course, 1, "lesson_plan", b"%PDF-1.7\n", "pdf")
    up_to_county(course, tree)
    services.decide(tree.county_admin, entry_at(course, "county").pk, "recommend")
    page = browser_page
    login(page, tree.county_admin.username)
    page.goto(f"/selection/?campaign={campaign.pk}&held_by={tree.county.pk}")
    assert page.locator("#standing a", has_text="下载资源包（ZIP）").is_visible()
    assert fits(page)
    page.locator("#standing").screenshot(path=str(screenshot_dir / "selection-package-desk.png"))

    page.goto(f"/selection/campaigns/{campaign.pk}/units/{tree.county.pk}/summary/")
    assert "资源包：推荐汇总表、资源清单和 2 个资源文件" in page.locator(".summary-sheet").inner_text()
    assert fits(page)
    page.screenshot(path=str(screenshot_dir / "selection-package-summary.png"), full_page=True)
    with page.expect_download() as info:
        page.click("#package-zip")
    download = info.value
    assert download.failure() is None
    assert download.suggested_filename == "赤坎区-县级初选-推荐资源包.zip"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    with zipfile.ZipFile(target) as package:
        assert package.namelist() == ["赤坎区-县级初选-推荐汇总表.xlsx", "资源清单.csv",
                                      "01_赤坎区_小学数学_认识图形/第1课时_微课视频.mp4",
                                      "01_赤坎区_小学数学_认识图形/第1课时_教学设计.pdf"]
        assert package.testzip() is None
