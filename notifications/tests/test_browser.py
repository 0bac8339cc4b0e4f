"""On a phone (375 px, Chromium): a county admin returns an entry; the teacher logs in, sees the
badge on the bell and the notification with the reason, and follows it to his course."""

import pytest
from django.core import mail

from notifications.models import Kind, Notification
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


def test_a_returned_entry_reaches_the_teacher_on_his_phone(transactional_db, people, campaign, make_course, nodes,
                                                           browser_page, screenshot_dir):
    entry = up_to_county(make_course(node=nodes[0], title="秋天"), people)
    course = entry.course
    page = browser_page

    login(page, people.county_admin.username)
    assert page.locator("#bell .bell-count").inner_text() == "1"  # 新的推荐待处理
    page.goto("/selection/")
    card = page.locator(f"#entry-{entry.pk}")
    card.locator("summary", has_text="退回").click()
    card.locator(f"#return-{entry.pk}").fill("视频片头缺少课程名称，请补上后重新提交")
    card.locator("button", has_text="确定退回").click()
    page.wait_for_selector(".messages")
    assert page.locator(".messages").inner_text() == "《秋天》已退回，教师会看到退回理由。"
    page.context.clear_cookies()

    login(page, people.teacher.username)
    bell = page.locator("#bell")
    assert bell.is_visible()  # outside the folded menu: seen on a phone without opening it
    assert bell.locator(".bell-count").inner_text() == "2"  # recommended by the school, then returned
    assert bell.get_attribute("aria-label") == "通知（2 条未读）"
    assert fits(page)
    page.screenshot(path=str(screenshot_dir / "notifications-badge.png"))

    bell.click()
    page.wait_for_url("**/notifications/")
    returned = Notification.objects.get(recipient=people.teacher, kind=Kind.RETURNED)
    item = page.locator(f"#notification-{returned.pk}")
    assert item.locator("h2").inner_text() == "《秋天》被赤坎区退回修改"
    assert "退回理由：视频片头缺少课程名称，请补上后重新提交" in item.inner_text()
    assert "课程已恢复为可编辑状态。" in item.inner_text()
    assert page.locator(".notice-list li.unread").count() == 2
    assert fits(page)
    page.screenshot(path=str(screenshot_dir / "notifications-list.png"), full_page=True)

    item.locator("a.button", has_text="去修改课程").click()
    page.wait_for_url(f"**/courses/{course.pk}/")
    assert page.locator("h1").inner_text().startswith("秋天")
    assert page.locator("#course-status").inner_text() == "已退回修改"
    assert page.locator("#bell .bell-count").inner_text() == "1"  # the one followed is read
    assert fits(page)
    page.screenshot(path=str(screenshot_dir / "notifications-course.png"))
    assert Notification.objects.get(pk=returned.pk).read_at is not None
    # and by e-mail (the teacher has an address), sent by the task after the decision committed
    assert "[精品课遴选] 《秋天》被赤坎区退回修改" in [m.subject for m in mail.outbox]


def test_a_county_admin_reminds_his_schools_from_the_progress_board(transactional_db, people, campaign, make_course,
                                                                    nodes, browser_page, screenshot_dir):
    make_course(node=nodes[0], title="秋天")  # waiting at the school
    page = browser_page
    login(page, people.county_admin.username)
    page.goto(f"/selection/campaigns/{campaign.pk}/progress/")
    button = page.locator("#remind-behind button")
    assert button.inner_text() == "一键提醒未完成单位"
    assert fits(page)
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    button.click()
    page.wait_for_selector(".messages")
    assert questions == ["向 1 个未完成的单位的管理员发送提醒吗？每个单位 1 小时内只提醒一次。"]
    assert page.locator(".messages").inner_text() == "已提醒 1 个单位。"
    assert fits(page)
    page.screenshot(path=str(screenshot_dir / "notifications-remind.png"), full_page=True)
    assert Notification.objects.filter(kind=Kind.REMIND, recipient=people.school_admin).count() == 1
