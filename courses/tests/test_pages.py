"""The course pages: list, start (with the node picker), the course page, its htmx parts, files."""

from __future__ import annotations

from django.urls import reverse

from catalog.models import CatalogNode
from courses import services
from courses.models import Course, Resource
from courses.tests.conftest import GOOD_VIDEO, fill, make_file
from jingpinke.s3server import body_of, served


def test_start_page_lists_open_nodes_and_creates_a_draft(client, tree, campaign, node):
    client.force_login(tree.teacher)
    response = client.get(reverse("courses:create"), {"campaign": campaign.pk, "stage": "primary", "subject": "语文",
                                                      "grade": "一年级"})
    assert response.status_code == 200
    html = response.content.decode()
    assert node.title in html
    response = client.post(reverse("courses:create"), {"campaign": campaign.pk, "category": "subject",
                                                       "node": node.pk, "title": "天地人", "periods": 2,
                                                       "school": tree.school.pk})
    course = Course.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("courses:detail", args=[course.pk])
    assert (course.title, course.periods_count, course.lead_teacher, course.school) == ("天地人", 2, tree.teacher, tree.school)


def test_course_page_renders_cards_and_report(client, tree, course):
    fill(course, tree.teacher, overrides={(1, "video"): make_file(tree.teacher, "mp4", probe={**GOOD_VIDEO, "fps": 30.0})})
    client.force_login(tree.teacher)
    response = client.get(reverse("courses:detail", args=[course.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "帧率" in html and "30 fps" in html and "请在导出时把帧率设为 25 fps。" in html
    assert 'data-upload' in html


def test_pages_render(client, tree, course):
    client.force_login(tree.teacher)
    for url in [reverse("courses:list"), reverse("courses:create"),
                reverse("courses:node_picker") + f"?campaign={course.campaign_id}&q=天地",
                reverse("courses:submit_box", args=[course.pk]),
                reverse("courses:slot", args=[course.pk, 1, "video"]),
                reverse("courses:members", args=[course.pk]) + "?member_q=用户"]:
        assert client.get(url).status_code == 200, url


def test_course_page_queries_do_not_grow_with_files(client, tree, course, django_assert_max_num_queries):
    services.update_course(tree.teacher, course, periods=3)
    fill(course, tree.teacher)
    client.force_login(tree.teacher)
    client.get(reverse("courses:detail", args=[course.pk]))  # warm the session
    with django_assert_max_num_queries(20):  # 17 today (the notification bell included), with 1 or 15 files
        assert client.get(reverse("courses:detail", args=[course.pk])).status_code == 200


def test_list_queries_are_constant(client, tree, campaign, node, django_assert_max_num_queries):
    for i in range(12):
        services.start_course(tree.teacher, campaign, category="subject", node_id=node.pk, title=f"课{i}")
    client.force_login(tree.county_admin)
    with django_assert_max_num_queries(12):
        html = client.get(reverse("courses:list")).content.decode()
    assert html.count('data-course="') == 12


def test_autosave_over_htmx(client, tree, course):
    client.force_login(tree.teacher)
    url = reverse("courses:autosave", args=[course.pk])
    r = client.post(url, {"title": "天地人（识字）", "periods": 1}, HTTP_HX_REQUEST="true")
    assert "已自动保存" in r.content.decode() and r["HX-Trigger"] == "jpk-course-changed"
    r = client.post(url, {"title": "天地人（识字）", "periods": 2}, HTTP_HX_REQUEST="true")
    assert r["HX-Refresh"] == "true"
    r = client.post(url, {"title": "", "periods": 2}, HTTP_HX_REQUEST="true")
    assert "bad" in r.content.decode()
    course.refresh_from_db()
    assert (course.title, course.periods_count) == ("天地人（识字）", 2)


def test_attach_over_htmx_returns_the_card_with_the_report_or_the_refusal(client, tree, course):
    client.force_login(tree.teacher)
    url = reverse("courses:attach", args=[course.pk, 1, "lesson_plan"])
    good = make_file(tree.teacher, "docx", name="教学设计.docx")
    r = client.post(url, {"file_id": str(good.pk)}, HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert r.status_code == 200 and 'id="slot-1-lesson_plan"' in html and 'data-status="pass"' in html
    assert r["HX-Trigger"] == "jpk-course-changed"
    empty = make_file(tree.teacher, "empty", size=0, name="空.docx", probe={})
    html = client.post(url, {"file_id": str(empty.pk)}, HTTP_HX_REQUEST="true").content.decode()
    assert "空文件（0 字节）" in html and "原来的文件仍然保留。" in html and "教学设计.docx" in html
    assert Resource.objects.get().file == good


def test_member_search_and_add_without_javascript(client, tree, course):
    client.force_login(tree.teacher)
    detail = reverse("courses:detail", args=[course.pk])
    html = client.get(detail, {"member_q": tree.other_teacher.real_name}).content.decode()
    assert "霞山区第一小学" in html
    r = client.post(reverse("courses:members", args=[course.pk]), {"action": "add", "user": tree.other_teacher.pk})
    assert r.status_code == 302
    assert list(course.members.values_list("user", flat=True)) == [tree.other_teacher.pk]
    r = client.post(reverse("courses:members", args=[course.pk]), {"action": "remove", "user": tree.other_teacher.pk},
                    HTTP_HX_REQUEST="true")
    assert "暂无团队成员。" in r.content.decode()


def test_submit_and_withdraw_buttons(client, tree, course):
    fill(course, tree.teacher)
    client.force_login(tree.teacher)
    r = client.post(reverse("courses:submit", args=[course.pk]), follow=True)
    assert "已提交到学校。学校处理前，您可以撤回修改。" in r.content.decode()
    assert "撤回修改" in r.content.decode() and "data-upload" not in r.content.decode()
    r = client.post(reverse("courses:withdraw", args=[course.pk]), follow=True)
    assert "已撤回。修改后请重新提交。" in r.content.decode()
    assert Course.objects.get().status == "withdrawn"


def test_video_is_served_with_ranges_and_frames_only_when_present(client, tree, course):
    f = make_file(tree.teacher, "mp4", content=bytes(range(256)) * 4)
    services.attach_file(tree.teacher, course, 1, "video", f.pk)
    client.force_login(tree.county_admin)
    r = served(client.get(reverse("courses:file", args=[course.pk, 1, "video"]), HTTP_RANGE="bytes=10-19"))
    assert (r.status_code, r["Content-Range"], body_of(r)) == (206, "bytes 10-19/1024", bytes(range(10, 20)))
    assert client.get(reverse("courses:poster", args=[course.pk, 1, "video"])).status_code == 404
    assert client.get(reverse("courses:file", args=[course.pk, 1, "slides"])).status_code == 404


def test_picker_drops_choices_no_longer_offered(client, tree, campaign):
    client.force_login(tree.teacher)
    r = client.get(reverse("courses:node_picker"), {"campaign": campaign.pk, "stage": "junior", "subject": "语文"})
    html = r.content.decode()
    assert 'value="数学"' in html and 'value="语文" selected' not in html


# --- 更换目录节点 / 类别 --------------------------------------------------------------------------------
def test_relocate_page_opens_at_the_courses_lesson_and_previews_what_each_category_does(
        client, tree, course, node, django_assert_max_num_queries):
    services.update_course(tree.teacher, course, periods=3)
    fill(course, tree.teacher, periods=3)
    client.force_login(tree.teacher)
    url = reverse("courses:relocate", args=[course.pk])
    client.get(url)  # warm the session
    with django_assert_max_num_queries(22):  # 20 today, with 1 or 15 files and 49 lessons
        r = client.get(url)
    html = r.content.decode()
    assert r.status_code == 200
    assert f'name="node" value="{node.pk}" checked' in html  # the current lesson, among its neighbours
    assert html.count("data-current>现在的课</span>") == 1
    lessons = CatalogNode.objects.filter(openings__campaign=course.campaign, textbook=node.textbook, is_leaf=True)
    assert html.count('<label class="lesson">') == lessons.count() == 49  # every open lesson of 统编版语文一年级上册
    assert 'name="category" value="subject" checked' in html
    experiment = html[html.index('data-category="experiment"'):]
    assert "改为“实验教学”后，下列资源项在新类别中没有，其中的文件将移出课程（文件不会删除，仍保存在您的文件中）：" in experiment
    assert "第1课时“微课视频”（文件.mp4）" in experiment and "第3课时“作业练习”（文件.pdf）" in experiment
    assert "“课件”（" not in experiment  # a slot of both categories keeps its file
    special = html[html.index('data-category="special"'):html.index('data-category="experiment"')]
    assert "改为“特殊教育”，已上传的文件都保留，并按新类别的要求重新检测。" in special
    assert "data-confirm=" in html[html.index('id="relocate-form"') - 200:html.index('id="relocate-form"') + 400]
    assert "本校已有" not in html  # the course does not count itself


def test_relocate_posts_the_new_lesson_and_warns_about_the_same_node(client, tree, campaign, course):
    from courses.tests.conftest import leaf
    from orgs.models import Role
    from orgs.tests.factories import member

    other = leaf(campaign, index=5)
    colleague = member(tree.school, Role.TEACHER, real_name="王老师")
    services.start_course(colleague, campaign, category="subject", node_id=other.pk, title="天地人（王）")
    client.force_login(tree.teacher)
    url = reverse("courses:relocate", args=[course.pk])
    html = client.get(url).content.decode()
    # The picker counts the county's courses on the lesson, his school's among them (test_node_hint.py).
    assert html.count("赤坎区已有 1 门课程选择了这个节点（其中本校 1 门）") == 1
    r = client.post(url, {"category": "subject", "node": other.pk}, follow=True)
    html = r.content.decode()
    assert r.redirect_chain == [(reverse("courses:detail", args=[course.pk]), 302)]
    assert f"已更换为“学科课程” · {other.label_path}。已上传的文件按新的要求重新检测。" in html
    same = html[html.index('id="same-node"'):]
    assert same.startswith('id="same-node">本校已有 1 门课程选择了同一目录节点：“天地人（王）”（王老师）。')
    assert html.count("本校已有 1 门课程选择了同一目录节点") == 1
    assert Course.objects.get(pk=course.pk).node == other


def test_relocate_to_another_category_says_which_slots_were_emptied(client, tree, course):
    fill(course, tree.teacher)
    client.force_login(tree.teacher)
    r = client.post(reverse("courses:relocate", args=[course.pk]), {"category": "experiment", "node": course.node_id},
                    follow=True)
    html = r.content.decode()
    assert "新类别没有以下资源项，其中的文件已移出课程：第1课时“微课视频”（文件.mp4）、第1课时“教学设计”（文件.docx）、" in html
    assert "这些文件没有删除，仍保存在您的文件中" in html
    assert 'id="slot-1-experiment_video"' in html and 'id="slot-1-video"' not in html
    assert list(Resource.objects.values_list("slot_kind", flat=True)) == ["slides"]


def test_relocate_refusals_are_shown_and_change_nothing(client, tree, campaign, course):
    from courses.tests.conftest import leaf
    from selection import services as selection
    from selection.models import Entry

    client.force_login(tree.teacher)
    url = reverse("courses:relocate", args=[course.pk])
    html = client.post(url, {"category": "subject", "node": 999999}).content.decode()
    assert "这个目录节点没有在本次活动中开放，请从开放的节点中选择。" in html
    fill(course, tree.teacher)
    services.submit(tree.teacher, course)
    selection.decide(tree.school_admin, Entry.objects.get(course=course).pk, "recommend")
    selection.decide(tree.county_admin, Entry.objects.get(course=course, level__kind="county").pk, "return",
                     reason="视频声音太小")
    html = client.get(url).content.decode()
    assert "学校已把这门课程推荐到上级，目录节点和类别不能再更改" in html and 'id="relocate-form"' not in html
    client.post(url, {"category": "subject", "node": leaf(campaign, index=5).pk})
    assert Course.objects.get(pk=course.pk).node_id == course.node_id
    detail = client.get(reverse("courses:detail", args=[course.pk])).content.decode()
    assert 'id="relocate-refused"' in detail and 'id="relocate-link"' not in detail


def test_the_picker_fragment_serves_the_relocate_page(client, tree, course, node):
    client.force_login(tree.teacher)
    r = client.get(reverse("courses:node_picker"), {**services.picker_params(course), "course": course.pk, "q": "天地"})
    html = r.content.decode()
    assert r.status_code == 200 and "1 天地人" in html
    assert f'formaction="{reverse("courses:relocate", args=[course.pk])}"' in html
    services.set_members(tree.teacher, course, [tree.other_teacher.pk])
    client.force_login(tree.other_teacher)
    assert client.get(reverse("courses:node_picker"), {"course": course.pk}).status_code == 403


# --- 课时 titles -----------------------------------------------------------------------------------------
def test_period_title_autosaves_over_htmx_and_without_javascript(client, tree, course):
    client.force_login(tree.teacher)
    html = client.get(reverse("courses:detail", args=[course.pk])).content.decode()
    assert 'id="period-title-1"' in html and 'id="period-title-status-1"' in html
    url = reverse("courses:period_title", args=[course.pk, 1])
    r = client.post(url, {"title": "识字：天地人"}, HTTP_HX_REQUEST="true")
    assert 'id="period-title-status-1"' in r.content.decode() and "已自动保存" in r.content.decode()
    assert course.periods.get().title == "识字：天地人"
    r = client.post(url, {"title": "长" * 201}, HTTP_HX_REQUEST="true")
    assert "课时标题最多 200 个字。" in r.content.decode()
    r = client.post(reverse("courses:period_title", args=[course.pk, 2]), {"title": "x"}, follow=True)
    assert "这门课程没有第2课时（共 1 个课时）。" in r.content.decode()
    r = client.post(url, {"title": ""}, follow=True)
    assert "第1课时的标题已保存。" in r.content.decode() and course.periods.get().title == ""


def test_read_only_course_shows_period_titles_as_text(client, tree, course):
    services.update_course(tree.teacher, course, period_titles={1: "识字"})
    client.force_login(tree.county_admin)
    html = client.get(reverse("courses:detail", args=[course.pk])).content.decode()
    assert "第 1 课时 · 识字" in html and 'id="period-title-1"' not in html


# --- 删除草稿 ---------------------------------------------------------------------------------------------
def test_delete_draft_button_asks_and_deletes(client, tree, course):
    f = make_file(tree.teacher, "pdf")
    services.attach_file(tree.teacher, course, 1, "task_sheet", f.pk)
    client.force_login(tree.teacher)
    html = client.get(reverse("courses:detail", args=[course.pk])).content.decode()
    assert 'id="delete-course"' in html and "确定删除草稿“天地人”吗？删除后不能恢复（已上传的文件仍保存在您的文件中）。" in html
    r = client.post(reverse("courses:delete", args=[course.pk]), follow=True)
    assert r.redirect_chain == [(reverse("courses:list"), 302)]
    assert "已删除草稿“天地人”。已上传的文件没有删除，仍保存在您的文件中。" in r.content.decode()
    assert not Course.objects.exists() and f.__class__.objects.filter(pk=f.pk).exists()


def test_no_delete_button_once_submitted_and_a_post_is_refused(client, tree, course):
    fill(course, tree.teacher)
    services.submit(tree.teacher, course)
    client.force_login(tree.teacher)
    assert 'id="delete-course"' not in client.get(reverse("courses:detail", args=[course.pk])).content.decode()
    r = client.post(reverse("courses:delete", args=[course.pk]), follow=True)
    assert "课程已提交学校，不能删除。" in r.content.decode()
    assert Course.objects.filter(pk=course.pk).exists()


def test_relocate_picker_works_without_javascript(client, tree, course):
    """The picker's own button submits the form as a GET to the same page: the choices are kept."""
    client.force_login(tree.teacher)
    r = client.get(reverse("courses:relocate", args=[course.pk]),
                   {**services.picker_params(course), "node": "", "q": "金木水火土", "category": "special"})
    html = r.content.decode()
    assert html.count('<label class="lesson">') == 1 and "2 金木水火土" in html
    assert 'name="category" value="special" checked' in html
