"""Organisation scope: outside it → 404 on every page and endpoint; inside it but not the lead → read only."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from courses import services
from courses.models import Course
from courses.tests.conftest import fill, make_file
from jingpinke.s3server import served
from orgs.models import Role
from orgs.tests.factories import member

BASE = "/api/v1/courses"
PAGE_GETS = [("detail", []), ("submit_box", []), ("slot", [1, "video"]), ("file", [1, "video"]),
             ("poster", [1, "video"]), ("title_frame", [1, "video"]), ("members", []), ("relocate", [])]
PAGE_POSTS = [("autosave", []), ("members", []), ("submit", []), ("withdraw", []), ("attach", [1, "video"]),
              ("remove", [1, "video"]), ("restore", [1, "video"]), ("relocate", []), ("period_title", [1]),
              ("delete", [])]
API_GETS = ["", "/members", "/teachers?q=用户", "/report", "/periods/1/slots/video/file"]


@pytest.fixture
def filled(tree, course):
    fill(course, tree.teacher)
    return course


@pytest.fixture
def outsiders(tree):
    """A teacher of another school, the admins of the neighbouring county, and a teacher of this
    very school who is not on the team."""
    return [tree.other_teacher, tree.other_county_admin, member(tree.school, Role.TEACHER, username="colleague"),
            tree.expert]


def test_outsiders_get_404_on_every_page(client, filled, outsiders):
    for user in outsiders:
        client.force_login(user)
        for name, args in PAGE_GETS:
            assert client.get(reverse(f"courses:{name}", args=[filled.pk, *args])).status_code == 404, (user, name)
        for name, args in PAGE_POSTS:
            assert client.post(reverse(f"courses:{name}", args=[filled.pk, *args])).status_code == 404, (user, name)
        assert filled.title not in client.get(reverse("courses:list")).content.decode()
        assert client.get(reverse("courses:node_picker"), {"course": filled.pk}).status_code == 404


def test_outsiders_get_404_on_every_endpoint(client, filled, outsiders, bearer):
    for user in outsiders:
        auth = bearer(user)
        for path in API_GETS:
            r = client.get(f"{BASE}/{filled.pk}{path}", **auth)
            assert (r.status_code, r.json()["detail"]) == (404, "未找到该对象，或您无权查看。"), (user, path)
        for method, path, body in [("patch", "", {"title": "x"}), ("put", "/members", {"user_ids": []}),
                                   ("put", "/periods/1/slots/video", {"file_id": "x"}),
                                   ("delete", "/periods/1/slots/video", None), ("post", "/submit", None),
                                   ("post", "/withdraw", None), ("post", "/periods/1/slots/video/restore", None),
                                   ("delete", "", None)]:
            r = getattr(client, method)(f"{BASE}/{filled.pk}{path}", json.dumps(body) if body else None,
                                        content_type="application/json", **auth)
            assert r.status_code == 404, (user, method, path)
        assert client.get(BASE, **auth).json()["count"] == 0


def test_anonymous_is_sent_to_login(client, filled):
    for name, args in PAGE_GETS:
        r = client.get(reverse(f"courses:{name}", args=[filled.pk, *args]))
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("who", ["school_admin", "county_admin", "city_admin", "province_admin", "sysadmin"])
def test_admins_above_see_the_course_and_report_read_only(client, tree, filled, who):
    user = getattr(tree, who)
    client.force_login(user)
    html = client.get(reverse("courses:detail", args=[filled.pk])).content.decode()
    assert filled.title in html and "检测报告" in html
    assert "data-upload" not in html and "data-attach-url" not in html and 'id="submit-course"' not in html
    assert served(client.get(reverse("courses:file", args=[filled.pk, 1, "task_sheet"]))).status_code == 200
    assert filled.title in client.get(reverse("courses:list")).content.decode()
    r = client.post(reverse("courses:attach", args=[filled.pk, 1, "video"]), {"file_id": "x"})
    assert r.status_code == 403
    assert client.post(f"{BASE}/{filled.pk}/submit").status_code == 403
    assert client.patch(f"{BASE}/{filled.pk}", json.dumps({"title": "x"}), content_type="application/json").status_code == 403
    assert Course.objects.get().title == filled.title


def test_team_member_in_another_school_sees_it_read_only(client, tree, filled):
    services.set_members(tree.teacher, filled, [tree.other_teacher.pk])
    client.force_login(tree.other_teacher)
    html = client.get(reverse("courses:detail", args=[filled.pk])).content.decode()
    assert filled.title in html and "data-upload" not in html
    assert served(client.get(reverse("courses:file", args=[filled.pk, 1, "lesson_plan"]))).status_code == 200
    r = client.put(f"{BASE}/{filled.pk}/periods/1/slots/video",
                   json.dumps({"file_id": str(make_file(tree.other_teacher, "mp4").pk)}), content_type="application/json")
    assert r.status_code == 403


def test_files_are_not_under_public_urls(client, tree, filled):
    stored = filled.periods.get().resources.first().file
    assert client.get("/media/" + stored.storage_key).status_code == 404
    client.force_login(tree.other_teacher)
    assert client.get(reverse("media:file", args=[stored.pk])).status_code == 404


def test_list_scope_of_a_county_admin(client, tree, campaign, node, filled):
    elsewhere = services.start_course(tree.other_teacher, campaign, category="subject", node_id=node.pk, title="霞山的课")
    client.force_login(tree.county_admin)
    html = client.get(reverse("courses:list")).content.decode()
    assert filled.title in html and elsewhere.title not in html
    client.force_login(tree.other_county_admin)
    html = client.get(reverse("courses:list")).content.decode()
    assert filled.title not in html and elsewhere.title in html


def _draft_state(course):
    course = Course.objects.get(pk=course.pk)
    return (course.title, course.node_id, course.category, list(course.periods.values_list("title", flat=True)))


def test_a_team_member_who_is_not_the_lead_cannot_relocate_rename_or_delete(client, tree, filled, bearer):
    services.set_members(tree.teacher, filled, [tree.other_teacher.pk])
    before = _draft_state(filled)
    client.force_login(tree.other_teacher)
    assert 'id="delete-course"' not in client.get(reverse("courses:detail", args=[filled.pk])).content.decode()
    assert client.get(reverse("courses:relocate", args=[filled.pk])).status_code == 403
    assert client.post(reverse("courses:relocate", args=[filled.pk]), {"category": "experiment",
                                                                      "node": filled.node_id}).status_code == 403
    assert client.post(reverse("courses:period_title", args=[filled.pk, 1]), {"title": "x"}).status_code == 403
    assert client.post(reverse("courses:delete", args=[filled.pk])).status_code == 403
    auth = bearer(tree.other_teacher)
    r = client.delete(f"{BASE}/{filled.pk}", **auth)
    assert (r.status_code, r.json()["detail"]) == (403, "只有主讲教师可以删除这门课程。")
    r = client.patch(f"{BASE}/{filled.pk}", json.dumps({"category": "experiment"}), content_type="application/json",
                     **auth)
    assert r.status_code == 403
    assert _draft_state(filled) == before


@pytest.mark.parametrize("who", ["school_admin", "county_admin", "sysadmin"])
def test_admins_above_cannot_delete_or_relocate(client, tree, filled, who, bearer):
    client.force_login(getattr(tree, who))
    assert 'id="delete-course"' not in client.get(reverse("courses:detail", args=[filled.pk])).content.decode()
    assert client.post(reverse("courses:delete", args=[filled.pk])).status_code == 403
    assert client.get(reverse("courses:relocate", args=[filled.pk])).status_code == 403
    assert client.delete(f"{BASE}/{filled.pk}", **bearer(getattr(tree, who))).status_code == 403
    assert Course.objects.filter(pk=filled.pk).exists()
