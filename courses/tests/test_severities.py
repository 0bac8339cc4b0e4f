"""Check severities are campaign data: real generated videos judged at the campaign's
severities, a severity change re-judging the stored reports without probing again, the teachers
told when their course turns from passing to failing, and a file whose extension disagrees with
its content."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse

from campaigns import services as campaign_services
from campaigns.models import ProductionSpec
from courses import services
from courses.models import Resource
from courses.tests.conftest import GOOD_VIDEO, fill, make_file
from jingpinke.errors import ServiceError
from media import testing
from media.models import StoredFile
from media.services import run_probe
from notifications.models import Notification
from orgs.models import Role
from orgs.tests.factories import member

NO_AUDIO = {k: v for k, v in GOOD_VIDEO.items() if k not in ("audio_codec", "audio_bitrate_kbps")}


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    """Two 10-minute 1080p lesson videos made with PyAV: one without any audio track, one at 30 fps."""
    folder = tmp_path_factory.mktemp("videos")
    return {"silent": testing.make_long_video(folder / "无声.mp4", seconds=600, audio=False).read_bytes(),
            "30fps": testing.make_long_video(folder / "三十帧.mp4", seconds=600, fps=30).read_bytes()}


def uploaded(owner, name, data, kind="mp4"):
    key = default_storage.save(f"test/{hashlib.sha1(data).hexdigest()}.bin", ContentFile(data))
    return StoredFile.objects.create(owner=owner, storage_key=key, original_name=name, size=len(data),
                                     sha256=hashlib.sha256(data).hexdigest(), kind=kind)


def attach_and_probe(teacher, course, name, data):
    f = uploaded(teacher, name, data)
    services.attach_file(teacher, course, 1, "video", f.pk)
    run_probe(f.pk)  # sends file_probed: the resource is judged again
    return Resource.objects.get(period__course=course, slot_kind="video")


def levels(resource):
    return {f["rule"]: f["level"] for f in resource.findings}


def set_severities(actor, campaign, capture, **severities):
    """Change the severities of every spec of 学科课程 through the service (as the page and the API do)."""
    rows = [campaign_services.spec_row(s) for s in ProductionSpec.objects.filter(
        campaign_category__campaign=campaign, campaign_category__category="subject")]
    for row in rows:
        row["severities"] = {**row["severities"], **severities}
    waiting = transaction.get_connection().run_on_commit
    start = len(waiting)
    with capture(execute=True):
        campaign_services.set_specs(actor, campaign, "subject", rows)
    del waiting[start:]  # as a commit does: the next change in this test enqueues its own task


# --- real videos at the shipped severities ---------------------------------------------------------
def test_a_lesson_video_without_sound_fails_by_default(tree, course, videos):
    r = attach_and_probe(tree.teacher, course, "秋天.mp4", videos["silent"])
    assert r.status == "fail"
    assert {k: v for k, v in levels(r).items() if v != "pass"} == {"video_bitrate": "warn", "audio": "fail"}
    audio = next(f for f in r.findings if f["rule"] == "audio")
    assert (audio["measured"], audio["required"]) == ("没有声音", "AAC")
    fill(course, tree.teacher, overrides={(1, "video"): r.file})
    with pytest.raises(ServiceError) as exc:
        services.submit(tree.teacher, course)
    assert exc.value.message == "第1课时的“微课视频”未通过检测，请按检测报告修改后重新上传。"


def test_a_30_fps_video_is_judged_as_the_campaign_template_says(tree, course, videos,
                                                                django_capture_on_commit_callbacks):
    r = attach_and_probe(tree.teacher, course, "三十帧.mp4", videos["30fps"])
    fps = next(f for f in r.findings if f["rule"] == "fps")
    # The Zhanjiang template: 25 fps is a requirement of the notice, so 30 fps fails.
    assert (r.status, fps["level"], fps["measured"], fps["required"]) == ("fail", "fail", "30 fps", "25 fps")
    set_severities(tree.city_admin, course.campaign, django_capture_on_commit_callbacks, fps="warn")
    r.refresh_from_db()
    assert (r.status, levels(r)["fps"]) == ("warn", "warn")


# --- a severity change re-judges the stored reports, without probing again --------------------------
def test_turning_a_rule_off_and_on_rejudges_without_probing(tree, course, monkeypatch,
                                                            django_capture_on_commit_callbacks):
    services.attach_file(tree.teacher, course, 1, "video", make_file(tree.teacher, "mp4", probe=NO_AUDIO).pk)
    r = Resource.objects.get()
    assert (r.status, levels(r)["audio"]) == ("fail", "fail")

    def no_probe(*args, **kwargs):
        raise AssertionError("a severity change must not probe the file again")

    monkeypatch.setattr("media.probe.probe", no_probe)
    monkeypatch.setattr("media.services.run_probe", no_probe)
    set_severities(tree.city_admin, course.campaign, django_capture_on_commit_callbacks, audio="off")
    r.refresh_from_db()
    assert (r.status, "audio" in levels(r)) == ("pass", False)
    set_severities(tree.city_admin, course.campaign, django_capture_on_commit_callbacks, audio="warn")
    r.refresh_from_db()
    assert (r.status, levels(r)["audio"]) == ("warn", "warn")
    set_severities(tree.city_admin, course.campaign, django_capture_on_commit_callbacks, audio="fail")
    r.refresh_from_db()
    assert (r.status, levels(r)["audio"]) == ("fail", "fail")


# --- the teachers are told when their course turns from passing to failing -------------------------
TOLD_TITLE = "《天地人》的资源检测变为未通过"
TOLD_SUBMITTED = ("遴选活动调整了检测要求，系统按新要求重新检测了已上传的文件，以下资源现在未通过：\n"
                  "第1课时“微课视频”：音频 没有声音，要求 AAC\n"
                  "课程已提交。如需更换文件，请联系学校管理员退回后修改。")


def told(user):
    return list(Notification.objects.filter(recipient=user, kind="checks").values_list("title", "body", "link"))


def test_the_team_is_told_when_the_course_turns_from_passing_to_failing(tree, course,
                                                                       django_capture_on_commit_callbacks):
    colleague = member(tree.school, Role.TEACHER)
    services.set_members(tree.teacher, course, [colleague.pk])
    set_severities(tree.city_admin, course.campaign, django_capture_on_commit_callbacks, audio="warn")
    fill(course, tree.teacher, overrides={(1, "video"): make_file(tree.teacher, "mp4", probe=NO_AUDIO)})
    services.submit(tree.teacher, course)  # warnings do not block
    link = reverse("courses:detail", args=[course.pk])
    assert told(tree.teacher) == []

    set_severities(tree.city_admin, course.campaign, django_capture_on_commit_callbacks, audio="fail")
    assert told(tree.teacher) == [(TOLD_TITLE, TOLD_SUBMITTED, link)]
    assert told(colleague) == [(TOLD_TITLE, TOLD_SUBMITTED, link)]
    assert told(tree.school_admin) == []
    # Failing → failing (another rule changes) and failing → passing tell nobody.
    set_severities(tree.city_admin, course.campaign, django_capture_on_commit_callbacks, fps="off")
    set_severities(tree.city_admin, course.campaign, django_capture_on_commit_callbacks, audio="warn")
    assert len(told(tree.teacher)) == 1
    # Passing → failing again: told again.
    set_severities(tree.city_admin, course.campaign, django_capture_on_commit_callbacks, audio="fail")
    assert len(told(tree.teacher)) == 2


def test_a_draft_is_told_what_to_do(tree, course, django_capture_on_commit_callbacks):
    set_severities(tree.city_admin, course.campaign, django_capture_on_commit_callbacks, audio="warn")
    services.attach_file(tree.teacher, course, 1, "video", make_file(tree.teacher, "mp4", probe=NO_AUDIO).pk)
    set_severities(tree.city_admin, course.campaign, django_capture_on_commit_callbacks, audio="fail")
    assert [body.splitlines()[-1] for _t, body, _l in told(tree.teacher)] == [
        "请按检测报告修改后重新上传；有未通过检测的资源时课程不能提交。"]


def test_a_course_still_being_checked_was_not_passing(tree, course, django_capture_on_commit_callbacks):
    services.attach_file(tree.teacher, course, 1, "task_sheet", make_file(tree.teacher, "pdf").pk)
    services.attach_file(tree.teacher, course, 1, "video",
                         make_file(tree.teacher, "mp4", probe_status="pending", probe={}).pk)
    services.attach_file(tree.teacher, course, 1, "lesson_plan", make_file(tree.teacher, "pdf", probe={
        "encrypted": False, "pages": 2, "chars": 0}).pk)  # a scan: warns
    set_severities(tree.city_admin, course.campaign, django_capture_on_commit_callbacks, text="fail")
    assert Resource.objects.get(slot_kind="lesson_plan").status == "fail"
    assert told(tree.teacher) == []


def test_a_change_read_before_its_task_ran_is_announced_once(tree, course):
    services.attach_file(tree.teacher, course, 1, "video", make_file(tree.teacher, "mp4", probe={**GOOD_VIDEO, "fps": 30.0}).pk)
    assert Resource.objects.get().status == "fail"
    # Changed without signals (the task did not run yet): the course page re-judges the stale report.
    specs = ProductionSpec.objects.filter(campaign_category__campaign=course.campaign)
    for spec in specs:
        spec.severities = {**spec.severities, "fps": "warn"}
    ProductionSpec.objects.bulk_update(specs, ["severities"])
    services.package(course)
    assert (Resource.objects.get().status, told(tree.teacher)) == ("warn", [])
    for spec in specs:
        spec.severities = {**spec.severities, "fps": "fail"}
    ProductionSpec.objects.bulk_update(specs, ["severities"])
    services.package(course)
    services.package(course)
    assert [title for title, _b, _l in told(tree.teacher)] == [TOLD_TITLE]


def test_a_page_and_the_task_rejudging_at_once_tell_the_team_once(tree, course, django_capture_on_commit_callbacks):
    set_severities(tree.city_admin, course.campaign, django_capture_on_commit_callbacks, audio="warn")
    fill(course, tree.teacher, overrides={(1, "video"): make_file(tree.teacher, "mp4", probe=NO_AUDIO)})
    specs = ProductionSpec.objects.filter(campaign_category__campaign=course.campaign)
    for spec in specs:
        spec.severities = {**spec.severities, "audio": "fail"}
    ProductionSpec.objects.bulk_update(specs, ["severities"])
    # Two readers (the campaign's task and a course page) both read the passing report, then both
    # re-judge it: the second write finds the row already changed and announces nothing.
    stale = list(Resource.objects.filter(period__course=course).select_related(
        "file", "period__course__node__textbook").order_by("pk"))
    services.package(course)
    assert services._reevaluate(stale, services._books(), announce=True) == len(stale)
    assert Resource.objects.get(slot_kind="video").status == "fail"
    assert [title for title, _b, _l in told(tree.teacher)] == [TOLD_TITLE]


def test_rejudging_a_campaign_reads_a_bounded_number_of_queries(tree, campaign, node,
                                                               django_assert_max_num_queries):
    for i in range(4):
        c = services.start_course(tree.teacher, campaign, category="subject", node_id=node.pk, title=f"课{i}")
        services.attach_file(tree.teacher, c, 1, "video", make_file(tree.teacher, "mp4", probe=NO_AUDIO).pk)
    specs = ProductionSpec.objects.filter(campaign_category__campaign=campaign)
    for spec in specs:
        spec.severities = {**spec.severities, "audio": "warn"}
    ProductionSpec.objects.bulk_update(specs, ["severities"])
    # the book (categories, slots, specs: 3) + the resources (1) + one update per changed resource (4)
    # + one UPDATE of Course.compliance for all their courses (1);
    # no query per course when no course turns from passing to failing
    with django_assert_max_num_queries(9):
        assert services.reevaluate_campaign(campaign.pk) == 4


# --- a file whose extension disagrees with its content ----------------------------------------------
def test_a_pdf_named_docx_is_accepted_and_the_report_says_so(client, tree, course):
    pdf = make_file(tree.teacher, "pdf", name="教学设计.docx")
    r = services.attach_file(tree.teacher, course, 1, "lesson_plan", pdf.pk)
    ext = next(f for f in r.findings if f["rule"] == "extension")
    assert (r.file, r.status, ext["level"], ext["measured"]) == (pdf, "warn", "warn", "扩展名为 .docx，实际内容为 PDF")
    client.force_login(tree.teacher)
    html = client.get(reverse("courses:detail", args=[course.pk])).content.decode()
    assert "<strong>文件名</strong>：扩展名为 .docx，实际内容为 PDF" in html
