"""Use cases: start, autosave, team, files in slots, re-evaluation, submit and withdraw."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from audit.models import Event
from campaigns import services as campaign_services
from campaigns.models import Campaign, Level, ProductionSpec
from courses import services
from courses.models import Course, Resource
from courses.tests.conftest import GOOD_VIDEO, fill, leaf, make_file
from jingpinke.errors import ServiceError
from media.models import StoredFile
from media.signals import file_probed
from orgs.models import Role
from orgs.tests.factories import member


# --- start -------------------------------------------------------------------------------------------
def test_start_creates_the_draft_with_its_periods(tree, campaign, node):
    course = services.start_course(tree.teacher, campaign, category="subject", node_id=node.pk, title=" 天地人 ")
    assert (course.title, course.status, course.periods_count, course.school) == ("天地人", "draft", 1, tree.school)
    assert list(course.periods.values_list("number", flat=True)) == [1]  # Zhanjiang: 1 课时 by default
    assert Event.objects.filter(action="courses.course.start", target_id=str(course.pk)).exists()


def test_only_open_leaves_of_the_campaign(tree, campaign):
    from catalog.models import CatalogNode, OpenNode

    closed = CatalogNode.objects.filter(is_leaf=True).exclude(openings__campaign=campaign).first()
    unit = CatalogNode.objects.filter(is_leaf=False).first()
    for node in (closed, unit):
        with pytest.raises(ServiceError, match="这个目录节点没有在本次活动中开放"):
            services.start_course(tree.teacher, campaign, category="subject", node_id=node.pk, title="x")
    assert OpenNode.objects.filter(node=closed).count() == 0


def test_periods_bounds_and_category(tree, campaign, node):
    with pytest.raises(ServiceError, match="课时数应为 1 到 3 之间的整数"):
        services.start_course(tree.teacher, campaign, category="subject", node_id=node.pk, title="x", periods=4)
    with pytest.raises(ServiceError, match="本次活动没有“nope”这个类别"):
        services.start_course(tree.teacher, campaign, category="nope", node_id=node.pk, title="x")


def test_no_start_after_the_school_deadline_or_in_a_closed_campaign(tree, campaign, node):
    Level.objects.filter(campaign=campaign, kind="school").update(deadline=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ServiceError, match="学校申报已于 .* 截止，不能再新建申报。"):
        services.start_course(tree.teacher, campaign, category="subject", node_id=node.pk, title="x")
    Campaign.objects.filter(pk=campaign.pk).update(status="closed")
    campaign.refresh_from_db()
    with pytest.raises(ServiceError, match="遴选活动不在进行中"):
        services.start_course(tree.teacher, campaign, category="subject", node_id=node.pk, title="x")


def test_only_teachers_of_the_campaigns_area(tree, campaign, maoming, node):
    with pytest.raises(PermissionDenied):
        services.start_course(tree.school_admin, campaign, category="subject", node_id=node.pk, title="x")
    maoming_teacher = member(tree.other_city, Role.TEACHER)
    with pytest.raises(Http404):
        services.start_course(maoming_teacher, campaign, category="subject", node_id=node.pk, title="x")
    assert services.open_campaigns(tree.teacher) == [campaign]


# --- autosave -------------------------------------------------------------------------------------
def test_autosave_changes_and_audits_only_real_changes(tree, course):
    services.update_course(tree.teacher, course, title="天地人", periods=1)
    assert not Event.objects.filter(action="courses.course.update").exists()
    services.update_course(tree.teacher, course, title="天地人（识字）", periods=3)
    course.refresh_from_db()
    assert (course.title, course.periods_count, course.periods.count()) == ("天地人（识字）", 3, 3)
    assert Event.objects.filter(action="courses.course.update").count() == 1


def test_periods_holding_files_cannot_disappear(tree, course):
    services.update_course(tree.teacher, course, periods=2)
    services.attach_file(tree.teacher, course, 2, "task_sheet", make_file(tree.teacher, "pdf").pk)
    with pytest.raises(ServiceError, match="第2课时已有上传的文件，不能减少课时。"):
        services.update_course(tree.teacher, course, periods=1)
    assert course.periods.count() == 2 and Resource.objects.count() == 1


def test_a_new_category_takes_out_only_the_files_of_slots_it_lacks(tree, course):
    """学科课程 → 实验教学: 课件 is a slot of both and keeps its file (judged again); the other
    files leave the course but stay the teacher's; the page and the audit name them."""
    fill(course, tree.teacher)
    video = Resource.objects.get(slot_kind="video").file
    slides = Resource.objects.get(slot_kind="slides").file
    changed = services.update_course(tree.teacher, course, category="experiment")
    assert changed.category == "experiment"
    assert [(e.period, e.kind, e.label) for e in changed.emptied_slots] == [
        (1, "video", "微课视频"), (1, "lesson_plan", "教学设计"), (1, "task_sheet", "学习任务单"),
        (1, "exercises", "作业练习")]
    assert list(Resource.objects.values_list("slot_kind", "file")) == [("slides", slides.pk)]
    assert StoredFile.objects.filter(owner=tree.teacher).count() == 5  # nothing deleted
    assert services.emptied_text(changed.emptied_slots).startswith(
        "新类别没有以下资源项，其中的文件已移出课程：第1课时“微课视频”（文件.mp4）、第1课时“教学设计”（文件.docx）、")
    event = Event.objects.get(action="courses.course.update")
    assert (event.before["category"], event.after["category"]) == ("subject", "experiment")
    assert [(e["slot"], e["file"]["id"]) for e in event.after["emptied"]][0] == ("video", str(video.pk))
    # The package is the new category's: its slots, and 课件 kept.
    cards = services.package(changed)
    assert [(c.kind, bool(c.resource)) for c in cards[0].slots] == [
        ("experiment_video", False), ("experiment_plan", False), ("study_guide", False), ("slides", True)]
    # Back to 学科课程: 课件 still there; the removed files can be put back from the teacher's files.
    back = services.update_course(tree.teacher, changed, category="subject")
    assert back.emptied_slots == [] and Resource.objects.count() == 1
    services.attach_file(tree.teacher, back, 1, "video", video.pk)
    assert Resource.objects.get(slot_kind="video").status == "pass"


def test_subject_and_special_share_their_slots_so_nothing_leaves(tree, course):
    fill(course, tree.teacher)
    changed = services.update_course(tree.teacher, course, category="special")
    assert changed.emptied_slots == [] and Resource.objects.count() == 5


def test_a_category_change_that_does_not_fit_changes_nothing(tree, course):
    from campaigns.models import CampaignCategory

    services.update_course(tree.teacher, course, periods=2)
    fill(course, tree.teacher, periods=2)
    CampaignCategory.objects.filter(campaign=course.campaign, category="experiment").update(max_periods=1)
    with pytest.raises(ServiceError, match="“实验教学”最多 1 个课时，这门课程现在有 2 个。请先把课时数减到 1。"):
        services.update_course(tree.teacher, course, category="experiment")
    with pytest.raises(ServiceError, match="课时数应为 1 到 1 之间的整数"):
        services.update_course(tree.teacher, course, category="experiment", periods=2)
    course.refresh_from_db()
    assert (course.category, Resource.objects.count()) == ("subject", 10)
    assert not Event.objects.filter(action="courses.course.update", after__has_key="emptied").exists()


def test_period_titles_are_saved_cleaned_and_audited(tree, course):
    services.update_course(tree.teacher, course, periods=2, period_titles={"1": " 识字\x00 ", 2: "写字"})
    assert list(course.periods.values_list("number", "title")) == [(1, "识字"), (2, "写字")]
    event = Event.objects.get(action="courses.course.update")
    assert (event.before["period_titles"], event.after["period_titles"]) == ({"1": ""}, {"1": "识字", "2": "写字"})
    with pytest.raises(ServiceError, match="这门课程没有第3课时（共 2 个课时）。"):
        services.update_course(tree.teacher, course, period_titles={3: "x"})
    with pytest.raises(ServiceError, match="课时标题最多 200 个字。"):
        services.update_course(tree.teacher, course, period_titles={1: "长" * 201})
    services.update_course(tree.teacher, course, period_titles={1: "识字"})  # unchanged: no new event
    assert Event.objects.filter(action="courses.course.update").count() == 1


def test_changing_the_node_to_another_stage_rejudges_the_video(tree, course, junior_node):
    services.attach_file(tree.teacher, course, 1, "video", make_file(tree.teacher, "mp4").pk)  # 12 min: primary ok
    assert Resource.objects.get().status == "pass"
    services.update_course(tree.teacher, course, node_id=junior_node.pk)  # junior: 15–20 min
    r = Resource.objects.get()
    assert r.status == "fail"
    assert next(f for f in r.findings if f["rule"] == "duration")["required"] == "15 分钟–20 分钟"


def test_only_the_lead_edits(tree, course):
    services.set_members(tree.teacher, course, [tree.other_teacher.pk])
    with pytest.raises(PermissionDenied):
        services.update_course(tree.other_teacher, course, title="x")
    with pytest.raises(PermissionDenied):
        services.submit(tree.other_teacher, course)


# --- team -------------------------------------------------------------------------------------------
def test_find_teachers_by_mobile_or_name_in_the_campaigns_area(tree, course, maoming):
    colleague = member(tree.city_school, Role.TEACHER, real_name="李小红", mobile="13900000002")
    member(tree.other_city, Role.TEACHER, real_name="李小红二")  # 茂名: outside the campaign
    assert services.find_teachers(tree.teacher, course, "13900000002") == [
        {"id": colleague.pk, "name": "李小红", "school": "湛江市第一中学", "mobile": "139****0002"}]
    assert [p["id"] for p in services.find_teachers(tree.teacher, course, "李小红")] == [colleague.pk]
    assert services.find_teachers(tree.teacher, course, "李") == []  # one character is not enough
    assert services.find_teachers(tree.teacher, course, tree.teacher.mobile) == []  # the lead himself


def test_team_size_and_membership(tree, course):
    others = [member(tree.school, Role.TEACHER) for _ in range(5)]
    services.set_members(tree.teacher, course, [u.pk for u in others[:4]])
    assert [m["id"] for m in services.members_of(course)] == [u.pk for u in others[:4]]
    with pytest.raises(ServiceError, match="团队成员最多 4 人"):
        services.set_members(tree.teacher, course, [u.pk for u in others])
    with pytest.raises(ServiceError, match="不是本次活动范围内已注册的教师"):
        services.set_members(tree.teacher, course, [tree.county_admin.pk])
    assert course.members.count() == 4


# --- files ------------------------------------------------------------------------------------------
def test_pending_until_the_probe_then_judged(tree, course):
    f = make_file(tree.teacher, "mp4", probe_status="pending", probe={})
    r = services.attach_file(tree.teacher, course, 1, "video", f.pk)
    assert (r.status, [x["rule"] for x in r.findings]) == ("pending", ["type", "size", "probe"])
    f.probe_status, f.probe = "done", {**GOOD_VIDEO, "fps": 30.0}
    f.save()
    file_probed.send(sender=type(f), stored_file=f)
    r.refresh_from_db()
    assert r.status == "fail"  # the Zhanjiang template makes the notice's 25 fps a requirement
    fps = next(x for x in r.findings if x["rule"] == "fps")
    assert (fps["measured"], fps["required"], fps["advice"]) == ("30 fps", "25 fps", "请在导出时把帧率设为 25 fps。")


def test_the_probed_file_is_judged_as_the_probe_hands_it_over(tree, course, django_assert_max_num_queries):
    """``file_probed`` hands over the file just written: its resources are read (with their course),
    the file is not read again; a file nobody uses costs one query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    f = make_file(tree.teacher, "mp4", probe_status="pending", probe={})
    r = services.attach_file(tree.teacher, course, 1, "video", f.pk)
    f.probe_status, f.probe = "done", {**GOOD_VIDEO, "fps": 30.0}
    f.save()
    with CaptureQueriesContext(connection) as queries:
        file_probed.send(sender=type(f), stored_file=f)
    assert not [q["sql"] for q in queries.captured_queries if '"media_storedfile"' in q["sql"]]
    r.refresh_from_db()
    assert r.status == "fail"
    unused = make_file(tree.teacher, "pdf")
    with django_assert_max_num_queries(1):
        assert services.reevaluate_file(unused) == 0


@pytest.mark.parametrize("kind,size,name,message", [
    ("empty", 0, "空.pdf", "文件内容 空文件（0 字节），要求 非空文件。"),
    ("mp4", None, "教学设计.docx", "文件类型 MP4，要求 PDF、Word (docx)。"),
    ("pdf", 51 * 1024 * 1024, "大.pdf", "文件大小 51.0 MB，要求 不超过 50.0 MB。"),
])
def test_refused_at_once_and_the_slot_keeps_its_file(tree, course, kind, size, name, message):
    good = make_file(tree.teacher, "docx")
    services.attach_file(tree.teacher, course, 1, "lesson_plan", good.pk)
    bad = make_file(tree.teacher, kind, size=size, name=name)
    with pytest.raises(ServiceError) as exc:
        services.attach_file(tree.teacher, course, 1, "lesson_plan", bad.pk)
    assert message in exc.value.message and exc.value.message.endswith("原来的文件仍然保留。")
    assert Resource.objects.get().file == good


def test_a_failing_replacement_can_be_undone(tree, course):
    good = make_file(tree.teacher, "pdf")
    services.attach_file(tree.teacher, course, 1, "task_sheet", good.pk)
    encrypted = make_file(tree.teacher, "pdf", probe={"encrypted": True})
    r = services.attach_file(tree.teacher, course, 1, "task_sheet", encrypted.pk)
    assert (r.status, r.previous_file) == ("fail", good)
    r = services.restore_previous(tree.teacher, course, 1, "task_sheet")
    assert (r.file, r.status, r.previous_file) == (good, "pass", encrypted)


def test_remove_keeps_the_stored_file(tree, course):
    f = make_file(tree.teacher, "pdf")
    services.attach_file(tree.teacher, course, 1, "task_sheet", f.pk)
    services.remove_file(tree.teacher, course, 1, "task_sheet")
    assert Resource.objects.count() == 0 and f.__class__.objects.filter(pk=f.pk).exists()
    with pytest.raises(Http404):
        services.attach_file(tree.teacher, course, 2, "task_sheet", f.pk)
    with pytest.raises(Http404):
        services.attach_file(tree.teacher, course, 1, "study_guide", f.pk)  # not a slot of 学科课程


def test_spec_change_rejudges_through_the_task(tree, course, django_capture_on_commit_callbacks):
    services.attach_file(tree.teacher, course, 1, "video", make_file(tree.teacher, "mp4").pk)
    assert Resource.objects.get().status == "pass"
    specs = [campaign_services.spec_row(s) for s in ProductionSpec.objects.filter(
        campaign_category__campaign=course.campaign, campaign_category__category="subject")]
    for row in specs:
        row["fps"] = 30
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        campaign_services.set_specs(tree.sysadmin, course.campaign, "subject", specs)
    assert len([c for c in callbacks if getattr(c, "jpk_campaign_id", None)]) == 1  # one task for many rows
    r = Resource.objects.get()
    assert r.status == "fail"  # the template's severity of the frame rate: fail
    assert next(x for x in r.findings if x["rule"] == "fps")["required"] == "30 fps"


def test_a_missed_signal_is_caught_when_the_course_is_read(tree, course):
    services.attach_file(tree.teacher, course, 1, "lesson_plan", make_file(tree.teacher, "docx").pk)
    from campaigns.models import ResourceSlot

    ResourceSlot.objects.filter(campaign_category__campaign=course.campaign, kind="lesson_plan").update(formats=["pdf"])
    cards = services.package(course)
    assert cards[0].slots[1].status == "fail"
    assert Resource.objects.get().status == "fail"


# --- submit and withdraw ------------------------------------------------------------------------
def test_submit_needs_every_required_slot(tree, course):
    with pytest.raises(ServiceError) as exc:
        services.submit(tree.teacher, course)
    assert exc.value.errors == [f"第1课时缺少“{label}”。" for label in ("微课视频", "教学设计", "学习任务单", "课件", "作业练习")]


def test_submit_at_the_second_of_the_deadline(tree, course):
    fill(course, tree.teacher)
    deadline = services.school_deadline(course.campaign, course.school).deadline
    with pytest.raises(ServiceError, match="学校申报已于 .* 截止"):
        services.submit(tree.teacher, course, now=deadline + timedelta(seconds=1))
    services.submit(tree.teacher, course, now=deadline)
    course.refresh_from_db()
    assert (course.status, course.submitted_at) == ("submitted", deadline)


def test_a_schools_own_deadline_applies(tree, course):
    from campaigns.models import DeadlineOverride

    fill(course, tree.teacher)
    level = Level.objects.get(campaign=course.campaign, kind="school")
    early = timezone.now() - timedelta(hours=1)
    DeadlineOverride.objects.create(level=level, unit=tree.county, deadline=early)
    with pytest.raises(ServiceError, match="学校申报已于"):
        services.submit(tree.teacher, course)


def test_submitted_is_read_only_until_withdrawn(tree, course):
    fill(course, tree.teacher)
    services.submit(tree.teacher, course)
    with pytest.raises(ServiceError, match="课程已提交学校，不能修改"):
        services.attach_file(tree.teacher, course, 1, "task_sheet", make_file(tree.teacher, "pdf").pk)
    services.withdraw(tree.teacher, course)
    course.refresh_from_db()
    assert course.status == "withdrawn"
    services.update_course(tree.teacher, course, title="新名称")
    services.submit(tree.teacher, course)
    assert Course.objects.get().status == "submitted"
    actions = list(Event.objects.filter(target_id=str(course.pk), action__startswith="courses.course.")
                   .order_by("pk").values_list("action", flat=True))
    assert actions == ["courses.course.start", "courses.course.submit", "courses.course.withdraw",
                       "courses.course.update", "courses.course.submit"]


def test_no_withdraw_once_the_school_acted(tree, course):
    fill(course, tree.teacher)
    services.submit(tree.teacher, course)
    Course.objects.filter(pk=course.pk).update(school_acted_at=timezone.now())
    with pytest.raises(ServiceError, match="学校已处理这门课程，不能再撤回"):
        services.withdraw(tree.teacher, course)


def test_same_node_warning(tree, campaign, node, course):
    colleague = member(tree.school, Role.TEACHER, real_name="王老师")
    other = services.start_course(colleague, campaign, category="subject", node_id=node.pk, title="天地人（二）")
    assert services.same_node_warning(other) == (
        f"本校已有 1 门课程选择了同一目录节点：“天地人”（{tree.teacher.display_name}）。按本次活动规则，同一目录节点原则上只推荐 1 节，"
        "请与学校或同事协调。")
    elsewhere = services.start_course(tree.other_teacher, campaign, category="subject", node_id=node.pk, title="天地人")
    assert services.same_node_warning(elsewhere) == ""


# --- changing the node after a return ---------------------------------------------------------------
def _submitted(tree, course):
    fill(course, tree.teacher)
    return services.submit(tree.teacher, course)


def _entry(course, kind):
    from selection.models import Entry

    return Entry.objects.get(course=course, level__kind=kind)


def test_returned_by_the_school_the_node_changes_and_the_school_entry_follows(tree, campaign, course):
    from selection import services as selection

    _submitted(tree, course)
    selection.decide(tree.school_admin, _entry(course, "school").pk, "return", reason="选错了课")
    other = leaf(campaign, index=5)
    course.refresh_from_db()
    services.update_course(tree.teacher, course, node_id=other.pk)
    assert _entry(course, "school").node == other
    services.submit(tree.teacher, Course.objects.get(pk=course.pk))
    entry = _entry(course, "school")
    assert (entry.state, entry.node) == ("pending", other)


def test_after_the_school_recommended_node_and_category_are_fixed(tree, campaign, course):
    from selection import services as selection

    _submitted(tree, course)
    selection.decide(tree.school_admin, _entry(course, "school").pk, "recommend")
    selection.decide(tree.county_admin, _entry(course, "county").pk, "return", reason="视频声音太小")
    course.refresh_from_db()
    assert course.status == "returned"
    assert services.relocate_decision(course).reasons == [
        "学校已把这门课程推荐到上级，目录节点和类别不能再更改；退回修改只能修改课程名称、团队和资源文件。如确需换一节课，请联系学校管理员。"]
    for change in ({"node_id": leaf(campaign, index=5).pk}, {"category": "special"}):
        with pytest.raises(ServiceError, match="学校已把这门课程推荐到上级"):
            services.update_course(tree.teacher, course, **change)
    services.update_course(tree.teacher, course, title="天地人（修改后）", node_id=course.node_id, category="subject")
    course.refresh_from_db()
    assert (course.title, course.category, _entry(course, "school").node_id) == ("天地人（修改后）", "subject", course.node_id)


def test_a_submitted_course_cannot_change_its_node(tree, campaign, course):
    _submitted(tree, course)
    with pytest.raises(ServiceError, match="课程已提交学校，不能修改"):
        services.update_course(tree.teacher, course, node_id=leaf(campaign, index=5).pk)


def test_the_picker_does_not_count_the_course_itself(tree, campaign, node, course):
    params = services.picker_params(course)
    own = next(item for item in services.node_picker(tree.teacher, campaign, params, tree.school)["lessons"]
               if item["id"] == node.pk)
    assert own["same_school"] == 1
    picker = services.node_picker(tree.teacher, campaign, params, tree.school, exclude=course)
    assert picker["selected"]["id"] == node.pk
    assert next(item for item in picker["lessons"] if item["id"] == node.pk)["same_school"] == 0


# --- deleting a draft ------------------------------------------------------------------------------
def test_the_lead_deletes_a_draft_files_stay_his(tree, course):
    from courses.models import CourseMember, Period

    services.update_course(tree.teacher, course, periods=2, period_titles={1: "识字"})
    services.set_members(tree.teacher, course, [tree.other_teacher.pk])
    fill(course, tree.teacher, periods=2)
    files = set(Resource.objects.values_list("file", flat=True))
    services.delete_draft(tree.teacher, course)
    assert not Course.objects.exists() and not Period.objects.exists() and not CourseMember.objects.exists()
    assert not Resource.objects.exists()
    assert set(StoredFile.objects.values_list("pk", flat=True)) == files
    event = Event.objects.get(action="courses.course.delete")
    assert (event.target_id, event.before["title"], event.before["members"], event.before["period_titles"]) == (
        str(course.pk), "天地人", [tree.other_teacher.pk], {"1": "识字", "2": ""})
    assert {f["file"]["id"] for f in event.before["files"]} == {str(pk) for pk in files}
    assert event.unit_path == tree.school.path


def test_only_the_lead_deletes(tree, course):
    services.set_members(tree.teacher, course, [tree.other_teacher.pk])
    for user in (tree.other_teacher, tree.school_admin, tree.sysadmin):
        with pytest.raises(PermissionDenied):
            services.delete_draft(user, course)
    assert Course.objects.filter(pk=course.pk).exists()


def test_a_course_the_school_has_seen_is_not_deleted(tree, course):
    from selection import services as selection

    _submitted(tree, course)
    with pytest.raises(ServiceError, match="课程已提交学校，不能删除。"):
        services.delete_draft(tree.teacher, course)
    services.withdraw(tree.teacher, course)
    with pytest.raises(ServiceError, match="这门课程曾提交到学校，学校留有记录，不能删除。"):
        services.delete_draft(tree.teacher, Course.objects.get(pk=course.pk))
    services.submit(tree.teacher, Course.objects.get(pk=course.pk))
    selection.decide(tree.school_admin, _entry(course, "school").pk, "return", reason="请补充")
    with pytest.raises(ServiceError, match="课程已被退回修改，仍在遴选记录中，不能删除。"):
        services.delete_draft(tree.teacher, Course.objects.get(pk=course.pk))
    assert Course.objects.filter(pk=course.pk).exists()
    assert not Event.objects.filter(action="courses.course.delete").exists()


def test_a_draft_is_deleted_after_the_campaign_closed(tree, course):
    Campaign.objects.filter(pk=course.campaign_id).update(status="closed")
    services.delete_draft(tree.teacher, Course.objects.get(pk=course.pk))
    assert not Course.objects.exists()


def test_a_recommendation_with_nothing_above_fixes_the_node_too(tree, course):
    """Belt and braces: the school's own recommended entry is enough (a chain could end there)."""
    from selection.models import Entry

    _submitted(tree, course)
    Entry.objects.filter(course=course).update(state="recommended")
    course = Course.objects.get(pk=course.pk)
    course.status = "returned"
    assert services.recommended_by_school(course)
    assert not services.relocate_decision(course).ok
