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
