"""A teacher on a phone (375 px) declares a course in Chromium: picks the node, uploads small
generated files through the real tus endpoint with the real widget, reads the check report,
replaces the failing video and submits."""

from __future__ import annotations

import pytest

from campaigns.models import ProductionSpec
from courses.models import Course, Resource
from media import testing
from media.models import StoredFile

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def login(page, username):
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "Secret-pass-2024")
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def fits(page):
    return page.evaluate("document.documentElement.scrollWidth") <= 375


def status_of(page, slot):
    return page.get_attribute(f"#{slot} h3 [data-status]", "data-status")


def upload(page, slot, path, expect):
    """Choose a file in a slot's widget; wait until the card came back with its verdict."""
    page.set_input_files(f"#{slot} [data-upload] input[type=file]", str(path))
    page.wait_for_function(
        "([id, want]) => { const b = document.querySelector('#' + id + ' h3 [data-status]');"
        " return b && want.includes(b.getAttribute('data-status')); }", arg=[slot, expect], timeout=30000)


@pytest.fixture
def small_spec(campaign):
    """The primary-school video spec scaled down to a one-second 320×180 clip (the rules are the same)."""
    ProductionSpec.objects.filter(campaign_category__campaign=campaign, campaign_category__category="subject").update(
        width=320, height=180, min_duration_s=0, max_duration_s=10, video_bitrate_kbps=300, audio_bitrate_kbps=128)
    return campaign


def test_teacher_declares_fixes_a_failing_video_and_submits(transactional_db, tree, small_spec, browser_page, tmp_path,
                                                            screenshot_dir):
    page = browser_page
    page.on("dialog", lambda dialog: dialog.accept())
    bad_video = testing.make_video(tmp_path / "第一课时 微课.mp4", width=640, height=360, seconds=1)
    good_video = testing.make_video(tmp_path / "第一课时 微课（重新导出）.mp4", width=320, height=180, seconds=1)
    docs = {"lesson_plan": testing.make_docx(tmp_path / "教学设计.docx"),
            "task_sheet": testing.make_pdf(tmp_path / "学习任务单.pdf", pages=2),
            "slides": testing.make_pptx(tmp_path / "课件.pptx"),
            "exercises": testing.make_pdf(tmp_path / "作业练习.pdf")}

    login(page, tree.teacher.username)
    page.goto("/courses/")
    page.click("text=新建申报")
    page.check("input[name=category][value=subject]")
    # stage → subject → grade (one open textbook: chosen by itself) → lesson
    # each choice reloads the picker: wait until htmx has settled before the next one, or a late
    # answer to the previous choice replaces it (seen on a loaded machine)
    settled = "!document.querySelector('.htmx-request')"
    page.select_option("#pk-stage", "primary")
    page.wait_for_selector("#pk-subject option[value=语文]", state="attached")
    page.wait_for_function(settled)
    page.select_option("#pk-subject", "语文")
    page.wait_for_selector("#pk-grade option[value=一年级]", state="attached")
    page.wait_for_function(settled)
    page.select_option("#pk-grade", "一年级")
    page.wait_for_function(settled)
    page.wait_for_selector("label.lesson:has-text('天地人')")
    assert fits(page)
    page.check("label.lesson:has-text('天地人') input")
    page.fill("#id_title", "天地人")
    page.click("text=创建申报草稿")
    page.wait_for_selector("#slot-1-video")
    course = Course.objects.get()
    assert (course.title, course.node.title, course.status) == ("天地人", "1 天地人", "draft")
    assert page.is_disabled("#submit-course")

    upload(page, "slot-1-video", bad_video, ["fail"])
    report = page.inner_text("#slot-1-video .report")
    assert "分辨率：640×360，要求 320×180" in report and "请按 320×180 录制或导出，不要拉伸画面。" in report
    for kind, path in docs.items():
        upload(page, f"slot-1-{kind}", path, ["pass", "warn"])
    page.wait_for_function("document.querySelector('#submit-box').innerText.includes('未通过检测')")
    assert "第1课时的“微课视频”未通过检测" in page.inner_text("#submit-box")
    assert page.is_disabled("#submit-course")
    assert fits(page)
    page.screenshot(path=str(screenshot_dir / "course-failing-video.png"), full_page=True)

    upload(page, "slot-1-video", good_video, ["pass", "warn"])
    assert page.is_visible("#slot-1-video video.player")
    assert page.is_visible("#slot-1-video >> text=恢复上一个文件")
    page.wait_for_function("!document.querySelector('#submit-course').disabled")
    page.click("#submit-course")
    page.wait_for_selector("text=已提交到学校。学校处理前，您可以撤回修改。")
    course.refresh_from_db()
    assert course.status == "submitted"
    assert Resource.objects.get(slot_kind="video").file.original_name == "第一课时 微课（重新导出）.mp4"
    assert Resource.objects.count() == 5 and not Resource.objects.filter(status="fail").exists()
    assert page.locator("[data-upload]").count() == 0  # read only now
    assert fits(page)
    # The video plays from a permission-checked URL that answers range requests (seeking).
    status, length = page.evaluate("""async () => {
        const src = document.querySelector('video.player').getAttribute('src');
        const r = await fetch(src, {headers: {Range: 'bytes=0-99'}});
        return [r.status, (await r.arrayBuffer()).byteLength]; }""")
    assert (status, length) == (206, 100)
    page.screenshot(path=str(screenshot_dir / "course-submitted.png"), full_page=True)


def test_course_pages_fit_a_phone(transactional_db, tree, course, browser_page):
    page = browser_page
    login(page, tree.teacher.username)
    for path in ["/courses/", "/courses/new/", f"/courses/{course.pk}/", f"/courses/{course.pk}/relocate/"]:
        page.goto(path)
        assert fits(page), path
    page.context.clear_cookies()
    login(page, tree.county_admin.username)
    page.goto(f"/courses/{course.pk}/")
    assert fits(page)


def test_teacher_changes_the_lesson_of_a_draft_and_names_its_period(transactional_db, tree, campaign, course,
                                                                     browser_page, screenshot_dir):
    """The draft was started on the wrong lesson (我是中国人 instead of 天地人) with a file already
    in 课件: the teacher opens 更换目录节点 / 类别, sees what 实验教学 would take out, picks the
    unit and the lesson in the picker (a colleague already declared it: the picker says so),
    saves, and names 课时 1 inline."""
    from courses import services
    from courses.tests.conftest import make_file
    from orgs.models import Role
    from orgs.tests.factories import member

    page = browser_page
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    services.attach_file(tree.teacher, course, 1, "video", make_file(tree.teacher, "mp4", name="第一课时.mp4").pk)
    target = leaf_titled(campaign, "1 天地人")
    colleague = member(tree.school, Role.TEACHER, real_name="王老师")
    services.start_course(colleague, campaign, category="subject", node_id=target.pk, title="天地人（王老师）")

    login(page, tree.teacher.username)
    page.goto(f"/courses/{course.pk}/")
    page.click("#relocate-link a")
    page.wait_for_selector("#relocate-form")
    assert page.is_checked(f"input[name=node][value='{course.node_id}']")  # opened at the current lesson
    assert "第1课时“微课视频”（第一课时.mp4）" in page.inner_text("li[data-category=experiment]")
    assert fits(page)
    page.screenshot(path=str(screenshot_dir / "course-relocate.png"), full_page=True)

    every = page.locator("label.lesson").count()
    with page.expect_response(lambda r: "/courses/new/nodes/" in r.url):
        page.select_option("#pk-unit", label="第一单元（识字）")
    # The picker swaps itself in: a lesson checked in the old list would be lost.
    page.wait_for_function("n => document.querySelectorAll('label.lesson').length < n", arg=every)
    assert "赤坎区已有 1 门课程选择了这个节点（其中本校 1 门）" in page.inner_text("label.lesson:has-text('1 天地人')")
    page.check("label.lesson:has-text('1 天地人') input")
    assert fits(page)
    page.screenshot(path=str(screenshot_dir / "course-relocate-picked.png"), full_page=True)
    page.click("#relocate-save")
    page.wait_for_selector("text=已更换为“学科课程”")
    assert dialogs and "新类别没有的资源项中的文件会移出课程" in dialogs[0]
    assert "本校已有 1 门课程选择了同一目录节点：“天地人（王老师）”（王老师）" in page.inner_text("#same-node")
    course.refresh_from_db()
    assert (course.node_id, course.category) == (target.pk, "subject")
    assert Resource.objects.get(period__course=course).file.original_name == "第一课时.mp4"  # same category: kept

    page.fill("#period-title-1", "识字：天地人")
    page.wait_for_function("document.querySelector('#period-title-status-1').innerText.includes('已自动保存')")
    assert course.periods.get(number=1).title == "识字：天地人"
    assert fits(page)
    page.screenshot(path=str(screenshot_dir / "course-period-title.png"), full_page=True)
    page.reload()
    assert page.input_value("#period-title-1") == "识字：天地人"

    # 实验教学 has no 微课视频: the page says which slot was emptied; the file stays the teacher's.
    page.click("#relocate-link a")
    page.check("input[name=category][value=experiment]")
    page.click("#relocate-save")
    page.wait_for_selector("text=新类别没有以下资源项")
    assert "第1课时“微课视频”（第一课时.mp4）" in page.inner_text(".messages")
    assert page.is_visible("#slot-1-experiment_video") and page.locator("#slot-1-video").count() == 0
    assert not Resource.objects.filter(period__course=course).exists()
    assert StoredFile.objects.filter(owner=tree.teacher, original_name="第一课时.mp4").exists()
    assert fits(page)
    page.screenshot(path=str(screenshot_dir / "course-category-emptied.png"))


def leaf_titled(campaign, title):
    from catalog.models import CatalogNode

    return CatalogNode.objects.get(openings__campaign=campaign, is_leaf=True, title=title,
                                   textbook__subject="语文", textbook__grade="一年级")
