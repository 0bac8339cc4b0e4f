"""Log in as every demo role in Chromium at phone width and check the home page."""

import pytest
from django.core.management import call_command

from orgs.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EXPECTED = {
    "admin": ("系统管理员", "维护单位与用户"),
    "gd_admin": ("省级管理员 · 广东省", "还没有遴选活动：在“从内置模板创建活动”中选择“2024年广东省基础教育精品课遴选”"),
    "zj_admin": ("市级管理员 · 湛江市", "开放本次活动可申报的教材目录节点"),
    "ck_admin": ("区县管理员 · 赤坎区", "填写工作联系表并上传盖章扫描件"),
    "ck21x_admin": ("学校管理员 · 湛江市第二十一小学", "择优向区县推荐"),
    "zj1z_admin": ("学校管理员 · 湛江市第一中学", "择优向市推荐"),
    "teacher_li": ("教师 · 湛江市第二十一小学", "向学校提交申报"),
    "teacher_chen": ("教师 · 湛江市第十二中学", "向学校提交申报"),
    "expert_wang": ("评审专家 · 湛江市", "等待评审任务分配"),
}


@pytest.fixture
def demo(transactional_db):
    call_command("load_demo")


def test_every_demo_role_lands_on_its_home_page(demo, browser_page, screenshot_dir):
    page = browser_page
    assert {u for u, _ in DEMO_ACCOUNTS} == set(EXPECTED)
    for username, _label in DEMO_ACCOUNTS:
        heading, step = EXPECTED[username]
        page.goto("/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/")
        assert page.locator("h1").first.inner_text() == heading
        assert step in page.locator("main").inner_text()
        # 375 px: nothing wider than the screen
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.screenshot(path=str(screenshot_dir / f"home-{username}.png"), full_page=True)
        page.click("[data-toggle=mainnav]")
        page.click("text=退出")
        page.wait_for_url("**/accounts/login/**")


def test_teacher_logs_in_with_mobile_number(demo, browser_page):
    page = browser_page
    page.goto("/")
    page.fill("#id_username", "13800000001")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    assert page.locator("h1").first.inner_text() == "教师 · 湛江市第二十一小学"
