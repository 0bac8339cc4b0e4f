"""The REST API: what the teacher's pages do, with the session and with a Bearer token."""

from __future__ import annotations

import json

import pytest

from courses.models import Course, Resource
from courses.tests.conftest import GOOD_VIDEO, SLOT_FILE, SUBJECT_SLOTS, make_file
from jingpinke.s3server import body_of, served

BASE = "/api/v1/courses"


def send(client, method, path, data=None, **extra):
    return getattr(client, method)(path, json.dumps(data) if data is not None else None,
                                   content_type="application/json", **extra)


@pytest.fixture(params=["session", "bearer"])
def auth(request, client, tree, bearer):
    """Headers for the teacher: logged in, or with an API token."""
    if request.param == "session":
        client.force_login(tree.teacher)
        return {}
    return bearer(tree.teacher)


def test_a_script_declares_uploads_fixes_and_submits(client, tree, campaign, node, auth):
    r = send(client, "post", BASE, {"campaign_id": campaign.pk, "category": "subject", "node_id": node.pk,
                                    "title": "天地人", "periods": 1}, **auth)
    assert r.status_code == 201, r.content
    course = r.json()
    assert (course["title"], course["periods"], course["status"], course["lead_teacher"]["id"], course["editable"]) == (
        "天地人", 1, "draft", tree.teacher.pk, True)
    cid = course["id"]
    bad = make_file(tree.teacher, "mp4", probe={**GOOD_VIDEO, "width": 1280, "height": 720})
    r = send(client, "put", f"{BASE}/{cid}/periods/1/slots/video", {"file_id": str(bad.pk)}, **auth)
    assert r.status_code == 200, r.content
    slot = r.json()
    assert slot["status"] == "fail"
    resolution = next(f for f in slot["findings"] if f["rule"] == "resolution")
    assert (resolution["measured"], resolution["required"], resolution["level"]) == ("1280×720", "1920×1080", "fail")
    for kind in SUBJECT_SLOTS[1:]:
        f = make_file(tree.teacher, SLOT_FILE[kind])
        assert send(client, "put", f"{BASE}/{cid}/periods/1/slots/{kind}", {"file_id": str(f.pk)}, **auth).status_code == 200
    r = client.post(f"{BASE}/{cid}/submit", **auth)
    assert r.status_code == 400
    assert r.json()["detail"] == "第1课时的“微课视频”未通过检测，请按检测报告修改后重新上传。"
    good = make_file(tree.teacher, "mp4")
    send(client, "put", f"{BASE}/{cid}/periods/1/slots/video", {"file_id": str(good.pk)}, **auth)
    report = client.get(f"{BASE}/{cid}/report", **auth).json()
    assert (report["can_submit"], report["blockers"]) == (True, [])
    assert [s["status"] for s in report["periods"][0]["slots"]] == ["pass"] * 5
    assert report["periods"][0]["slots"][0]["has_previous_file"] is True
    r = client.post(f"{BASE}/{cid}/submit", **auth)
    assert (r.status_code, r.json()["status"], r.json()["editable"]) == (200, "submitted", False)
    r = send(client, "patch", f"{BASE}/{cid}", {"title": "改名"}, **auth)
    assert (r.status_code, r.json()["detail"]) == (400, "课程已提交学校，不能修改。如需修改，请先撤回（学校尚未处理时可以撤回）。")
    r = client.post(f"{BASE}/{cid}/withdraw", **auth)
    assert (r.status_code, r.json()["status"]) == (200, "withdrawn")


def test_update_members_and_teacher_search(client, tree, course, auth):
    r = client.get(f"{BASE}/{course.pk}/teachers", {"q": tree.other_teacher.real_name}, **auth)
    assert r.json() == [{"id": tree.other_teacher.pk, "name": tree.other_teacher.real_name, "school": "霞山区第一小学",
                         "mobile": ""}]
    r = send(client, "put", f"{BASE}/{course.pk}/members", {"user_ids": [tree.other_teacher.pk]}, **auth)
    assert r.status_code == 200 and [m["id"] for m in r.json()] == [tree.other_teacher.pk]
    r = send(client, "put", f"{BASE}/{course.pk}/members", {"user_ids": [tree.school_admin.pk]}, **auth)
    assert r.status_code == 400
    r = send(client, "patch", f"{BASE}/{course.pk}", {"title": "天地人（第一课时）", "periods": 2,
                                                     "period_titles": {"1": "识字", "2": "写字"}}, **auth)
    assert (r.status_code, r.json()["title"], r.json()["periods"]) == (200, "天地人（第一课时）", 2)
    assert list(course.periods.values_list("number", "title")) == [(1, "识字"), (2, "写字")]


def test_refused_file_keeps_what_the_slot_had(client, tree, course, auth):
    good = make_file(tree.teacher, "docx")
    send(client, "put", f"{BASE}/{course.pk}/periods/1/slots/lesson_plan", {"file_id": str(good.pk)}, **auth)
    video = make_file(tree.teacher, "mp4", name="教学设计.docx")  # a video behind a document's name
    r = send(client, "put", f"{BASE}/{course.pk}/periods/1/slots/lesson_plan", {"file_id": str(video.pk)}, **auth)
    assert r.status_code == 400
    assert r.json()["detail"].startswith("“教学设计.docx”不能作为“教学设计”：文件类型 MP4，要求 PDF、Word (docx)。")
    assert r.json()["detail"].endswith("原来的文件仍然保留。")
    assert Resource.objects.get().file == good


def test_file_download_with_range(client, tree, course, auth):
    f = make_file(tree.teacher, "pdf", content=b"%PDF-1.4 " + bytes(range(200)))
    send(client, "put", f"{BASE}/{course.pk}/periods/1/slots/task_sheet", {"file_id": str(f.pk)}, **auth)
    r = served(client.get(f"{BASE}/{course.pk}/periods/1/slots/task_sheet/file", HTTP_RANGE="bytes=0-8", **auth))
    assert (r.status_code, body_of(r)) == (206, b"%PDF-1.4 ")


def test_anonymous_is_401(client, course):
    assert client.get(f"{BASE}/{course.pk}").status_code == 401
    assert client.get(BASE).status_code == 401


def test_another_users_file_cannot_be_attached(client, tree, course, auth):
    theirs = make_file(tree.other_teacher, "pdf")
    r = send(client, "put", f"{BASE}/{course.pk}/periods/1/slots/task_sheet", {"file_id": str(theirs.pk)}, **auth)
    assert (r.status_code, r.json()["detail"]) == (404, "找不到这个文件，或它不是您上传的。请重新上传。")


def test_delete_a_draft(client, tree, course, auth):
    f = make_file(tree.teacher, "pdf")
    send(client, "put", f"{BASE}/{course.pk}/periods/1/slots/task_sheet", {"file_id": str(f.pk)}, **auth)
    r = client.delete(f"{BASE}/{course.pk}", **auth)
    assert (r.status_code, r.content) == (204, b"")
    assert not Course.objects.exists() and f.__class__.objects.filter(pk=f.pk).exists()
    assert client.delete(f"{BASE}/{course.pk}", **auth).status_code == 404


def test_a_submitted_course_is_not_deleted(client, tree, course, auth):
    from courses import services
    from courses.tests.conftest import fill

    fill(course, tree.teacher)
    services.submit(tree.teacher, course)
    r = client.delete(f"{BASE}/{course.pk}", **auth)
    assert (r.status_code, r.json()["detail"]) == (
        400, "课程已提交学校，不能删除。学校处理前可以先撤回；不再申报的话，撤回后保留即可，它不会进入遴选。")
    assert Course.objects.filter(pk=course.pk).exists()


def test_patch_the_category_lists_the_emptied_slots(client, tree, course, auth):
    video = make_file(tree.teacher, "mp4", name="微课.mp4")
    send(client, "put", f"{BASE}/{course.pk}/periods/1/slots/video", {"file_id": str(video.pk)}, **auth)
    r = send(client, "patch", f"{BASE}/{course.pk}", {"category": "experiment"}, **auth)
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["category"], body["category_label"]) == ("experiment", "实验教学")
    assert [(e["period"], e["slot"], e["label"], e["file"]["id"], e["file"]["name"]) for e in body["emptied_slots"]] == [
        (1, "video", "微课视频", str(video.pk), "微课.mp4")]
    # The file is still the teacher's: it can go into a slot again.
    r = send(client, "put", f"{BASE}/{course.pk}/periods/1/slots/experiment_video", {"file_id": str(video.pk)}, **auth)
    assert r.status_code == 200
    r = send(client, "patch", f"{BASE}/{course.pk}", {"title": "天地人"}, **auth)
    assert r.json()["emptied_slots"] == []


def test_patch_the_node_is_refused_once_the_school_recommended(client, tree, campaign, course, auth):
    from courses import services
    from courses.tests.conftest import fill, leaf
    from selection import services as selection
    from selection.models import Entry

    other = leaf(campaign, index=5)
    r = send(client, "patch", f"{BASE}/{course.pk}", {"node_id": other.pk}, **auth)
    assert (r.status_code, r.json()["node"]["id"]) == (200, other.pk)
    fill(course, tree.teacher)
    services.submit(tree.teacher, Course.objects.get(pk=course.pk))
    selection.decide(tree.school_admin, Entry.objects.get(course=course).pk, "recommend")
    selection.decide(tree.county_admin, Entry.objects.get(course=course, level__kind="county").pk, "return",
                     reason="请重录")
    r = send(client, "patch", f"{BASE}/{course.pk}", {"node_id": course.node_id}, **auth)
    assert r.status_code == 400 and r.json()["detail"].startswith("学校已把这门课程推荐到上级，目录节点和类别不能再更改")
    assert Course.objects.get(pk=course.pk).node == other


def test_delete_is_in_the_openapi_document(client, tree):
    client.force_login(tree.teacher)
    doc = client.get("/api/v1/openapi.json").json()
    op = doc["paths"]["/api/v1/courses/{course_id}"]["delete"]
    assert op["summary"] == "删除从未提交过的草稿（仅主讲教师）；已上传的文件不删除，仍在您的文件中"
    assert "204" in op["responses"] and "403" in op["responses"]
