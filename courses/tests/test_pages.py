"""The course pages: list, start (with the node picker), the course page, its htmx parts, files."""

from __future__ import annotations

import pytest
from django.urls import reverse

from courses import services
from courses.models import Course, Resource
from courses.tests.conftest import GOOD_VIDEO, fill, make_file


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
    with django_assert_max_num_queries(20):  # 18 today, with 1 or 15 files
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
    r = client.get(reverse("courses:file", args=[course.pk, 1, "video"]), HTTP_RANGE="bytes=10-19")
    assert (r.status_code, r["Content-Range"], b"".join(r.streaming_content)) == (206, "bytes 10-19/1024", bytes(range(10, 20)))
    assert client.get(reverse("courses:poster", args=[course.pk, 1, "video"])).status_code == 404
    assert client.get(reverse("courses:file", args=[course.pk, 1, "slides"])).status_code == 404


def test_picker_drops_choices_no_longer_offered(client, tree, campaign):
    client.force_login(tree.teacher)
    r = client.get(reverse("courses:node_picker"), {"campaign": campaign.pk, "stage": "junior", "subject": "语文"})
    html = r.content.decode()
    assert 'value="数学"' in html and 'value="语文" selected' not in html
