"""Rubrics, expert pools, rounds, panels, manual assignment and the expert's task list."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from audit.models import Event
from courses.models import CourseMember
from jingpinke.errors import ServiceError
from orgs.models import Membership, Role
from review import services
from review.models import Assignment, Conflict, ExpertProfile, ReviewRound, RoundStatus, Rubric, ScoreSheet


# --- rubrics ---------------------------------------------------------------------------------------
def test_a_campaign_from_a_template_gets_the_2024_rubrics(campaign):
    rubrics = {r.category: r for r in Rubric.objects.filter(campaign=campaign)}
    assert sorted(rubrics) == ["experiment", "special", "subject"]
    subject = rubrics["subject"]
    assert subject.title == "2024 年学科课程评价指标"
    assert [d.name for d in subject.dimensions.all()] == ["目标与内容", "教学过程与方法", "教学资源", "技术规范"]
    assert [sum(i.max_points for i in d.items.all()) for d in subject.dimensions.all()] == [25, 35, 20, 20]
    assert [v.name for v in subject.vetoes.all()] == [
        "政治方向或价值导向错误（意识形态、民族宗教、国家版图等）", "存在科学性错误", "非原创（抄袭、剽窃他人成果）"]
    experiment = rubrics["experiment"]
    assert [sum(i.max_points for i in d.items.all()) for d in experiment.dimensions.all()] == [25, 40, 15, 20]


def test_the_owner_edits_the_rubric_and_it_is_audited(campaign, tree):
    rubric = services.get_rubric(tree.city_admin, campaign, "subject")
    doc = services.rubric_doc(rubric)
    doc["dimensions"][0]["items"][0]["max_points"] = "5"
    doc["dimensions"][0]["items"][1]["max_points"] = "15"
    services.set_rubric(tree.city_admin, rubric, doc)
    rubric.refresh_from_db()
    assert [str(i.max_points) for i in rubric.dimensions.first().items.all()] == ["5.0", "15.0", "5.0"]
    event = Event.objects.get(action="review.rubric.update")
    assert event.before["dimensions"][0]["items"][0]["max_points"] == "10.0"
    assert event.after["dimensions"][0]["items"][0]["max_points"] == "5.0"


def test_a_rubric_that_does_not_total_is_refused(campaign, tree):
    rubric = services.get_rubric(tree.city_admin, campaign, "subject")
    doc = services.rubric_doc(rubric)
    doc["dimensions"][0]["items"][0]["max_points"] = "20"
    with pytest.raises(ServiceError) as exc:
        services.set_rubric(tree.city_admin, rubric, doc)
    assert exc.value.message == ("评价指标有 1 处问题，未保存：各评价要点的分值（乘以权重）合计 110 分，与满分 100 分不一致："
                                 "请调整分值，使合计等于满分。")


def test_only_the_owner_edits_the_rubric(campaign, tree):
    rubric = services.get_rubric(tree.county_admin, campaign, "subject")  # he may read it
    with pytest.raises(PermissionDenied):
        services.set_rubric(tree.county_admin, rubric, services.rubric_doc(rubric))
    with pytest.raises(PermissionDenied):
        services.rubrics_for(tree.teacher, campaign)


def test_a_rubric_with_scores_is_frozen(campaign, tree, county_round, pool):
    services.add_panel_member(tree.county_admin, county_round, pool[0].pk)
    entry = county_round.round_entries.first()
    a = services.assign(tree.county_admin, county_round, entry.pk, pool[0].pk)
    sheet = ScoreSheet.objects.create(assignment=a)
    item = county_round.rubric.dimensions.first().items.first()
    sheet.scores.create(item=item, points=Decimal("8"))
    with pytest.raises(ServiceError) as exc:
        services.set_rubric(tree.city_admin, county_round.rubric, services.rubric_doc(county_round.rubric))
    assert exc.value.message.startswith("已有专家按这套评价指标评分，不能再修改")


def test_a_veto_without_reason_is_refused_by_the_database(county_round, tree, pool):
    from django.db import IntegrityError, transaction

    services.add_panel_member(tree.county_admin, county_round, pool[0].pk)
    a = services.assign(tree.county_admin, county_round, county_round.round_entries.first().pk, pool[0].pk)
    veto = county_round.rubric.vetoes.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        ScoreSheet.objects.create(assignment=a, veto=veto, veto_reason="")
    sheet = ScoreSheet.objects.create(assignment=a, veto=veto, veto_reason="第 3 分钟把光合作用的产物讲错了")
    assert sheet.veto_id == veto.pk


# --- experts ---------------------------------------------------------------------------------------
def test_add_a_new_expert_by_hand(tree):
    user, password = services.add_expert(tree.county_admin, tree.county, real_name="李明", mobile="13911112222",
                                         work_unit="440802001", subjects="语文、数学", stages="小学, 初中",
                                         max_load="12")
    assert len(password) >= 8
    assert user.must_change_password is True
    assert Membership.objects.filter(user=user, unit=tree.county, role=Role.EXPERT).count() == 1
    profile = user.expert_profile
    assert (profile.work_unit, profile.subjects, profile.stages, profile.max_load) == (
        tree.school, ["语文", "数学"], ["primary", "junior"], 12)
    assert list(Event.objects.filter(action__in=["orgs.user.create", "orgs.membership.add", "review.expert.save"])
                .order_by("id").values_list("action", flat=True)) == [
        "orgs.user.create", "orgs.membership.add", "review.expert.save"]


def test_an_existing_mobile_with_another_name_is_refused(tree):
    with pytest.raises(ServiceError) as exc:
        services.add_expert(tree.county_admin, tree.county, real_name="别人", mobile="13800000001", subjects="语文",
                            stages="小学")
    assert exc.value.message == "手机号 13800000001 已属于系统中的另一位用户，姓名与您填写的不一致：请核对姓名或手机号。"


def test_a_teacher_of_another_unit_joins_the_pool_as_expert(tree):
    user, password = services.add_expert(tree.county_admin, tree.county, real_name=tree.teacher.real_name,
                                         mobile="13800000001", subjects="语文", stages="小学", work_unit="湛江市第二十一小学")
    assert (user, password) == (tree.teacher, "")
    assert user.expert_profile.work_unit == tree.school


def test_expert_profile_problems(tree):
    with pytest.raises(ServiceError) as exc:
        services.add_expert(tree.county_admin, tree.county, real_name="李明", mobile="13911112222", subjects="",
                            stages="大学", max_load="0")
    assert [e["column"] for e in exc.value.errors] == ["学科", "学段", "最大评审量"]
    assert exc.value.errors[1]["message"] == "学段“大学”无法识别，请填写：小学、初中、高中或特殊教育。"


def test_a_county_admin_keeps_only_his_pool(tree, pool):
    assert list(services.experts_of(tree.county_admin, tree.county)) == pool
    with pytest.raises(PermissionDenied):
        services.experts_of(tree.other_county_admin, tree.county)
    assert list(services.experts_of(tree.city_admin, tree.county)) == pool  # from above


# --- rounds ----------------------------------------------------------------------------------------
def test_a_county_admin_creates_a_round_over_the_entries_his_county_holds(county_round, tree, campaign):
    assert county_round.level.kind == "county"
    assert county_round.unit == tree.county
    assert county_round.rubric == Rubric.objects.get(campaign=campaign, category="subject")
    assert county_round.status == RoundStatus.DRAFT
    codes = sorted(county_round.round_entries.values_list("code", flat=True))
    assert codes == [f"R{county_round.pk}-001", f"R{county_round.pk}-002"]
    assert sorted(county_round.round_entries.values_list("entry__course__title", flat=True)) == ["小小的船", "认识天地"]
    event = Event.objects.get(action="review.round.create")
    assert (event.after["entries"], event.unit_path) == (2, tree.county.path)


def test_the_round_filters_by_subject(campaign, tree, nodes, county_entry, window):
    county_entry(node=nodes[0], title="语文课")
    county_entry(node=nodes[3], title="数学课")
    r = services.create_round(tree.county_admin, campaign, tree.county, title="数学组", category="subject",
                              subject="数学", **window)
    assert list(r.round_entries.values_list("entry__course__title", flat=True)) == ["数学课"]


def test_a_round_without_entries_is_refused(campaign, tree, window):
    with pytest.raises(ServiceError) as exc:
        services.create_round(tree.county_admin, campaign, tree.county, title="空", category="subject", **window)
    assert exc.value.message == "本单位在本级没有符合条件的作品（待处理或已推荐）：请调整类别、学段或学科后再创建。"


def test_only_the_units_admin_creates_its_round(campaign, tree, county_entry, window):
    county_entry()
    for actor in (tree.other_county_admin, tree.school_admin, tree.teacher):
        with pytest.raises(PermissionDenied):
            services.create_round(actor, campaign, tree.county, title="x", category="subject", **window)


def test_a_lecture_round_needs_date_and_place(campaign, tree, county_entry, window):
    county_entry()
    with pytest.raises(ServiceError) as exc:
        services.create_round(tree.county_admin, campaign, tree.county, title="试讲", category="subject",
                              phase="lecture", **window)
    assert [e["column"] for e in exc.value.errors] == ["试讲日期", "试讲地点"]


def test_rounds_are_scoped(county_round, tree):
    assert list(services.rounds_for(tree.county_admin)) == [county_round]
    assert list(services.rounds_for(tree.city_admin)) == [county_round]
    assert list(services.rounds_for(tree.other_county_admin)) == []
    assert list(services.rounds_for(tree.expert)) == []
    with pytest.raises(Http404):
        services.get_round(tree.other_county_admin, county_round.pk)


# --- panel and manual assignment -------------------------------------------------------------------
def test_panel_with_one_chair(county_round, tree, pool):
    services.add_panel_member(tree.county_admin, county_round, pool[0].pk, is_chair=True)
    services.add_panel_member(tree.county_admin, county_round, pool[1].pk)
    services.set_chair(tree.county_admin, county_round, pool[1].pk)
    assert [(m.expert, m.is_chair) for m in services.panel(county_round)] == [(pool[1], True), (pool[0], False)]


def test_only_pool_experts_join_the_panel(county_round, tree):
    with pytest.raises(ServiceError):
        services.add_panel_member(tree.county_admin, county_round, tree.expert.pk)  # the city's expert


def test_manual_assignment_up_to_n(county_round, tree, pool):
    for e in pool:
        services.add_panel_member(tree.county_admin, county_round, e.pk)
    entry = county_round.round_entries.order_by("code").first()
    services.assign(tree.county_admin, county_round, entry.pk, pool[0].pk)
    services.assign(tree.county_admin, county_round, entry.pk, pool[1].pk)
    with pytest.raises(ServiceError) as exc:
        services.assign(tree.county_admin, county_round, entry.pk, pool[2].pk)
    assert exc.value.message == f"《{entry.code} {entry.entry.course.title}》已有 2 位评审专家（每件作品 2 位）；请先移除一位，或改用调整。"
    with pytest.raises(ServiceError) as exc:
        services.assign(tree.county_admin, county_round, entry.pk, pool[0].pk)
    assert exc.value.message == f"专家0 已在评审《{entry.code} {entry.entry.course.title}》。"
    assert Event.objects.filter(action="review.assignment.create").count() == 2


def test_manual_assignment_respects_load_school_and_team(county_round, tree, pool):
    for e in pool:
        services.add_panel_member(tree.county_admin, county_round, e.pk)
    first, second = county_round.round_entries.order_by("code")
    ExpertProfile.objects.filter(user=pool[0]).update(max_load=1)
    services.assign(tree.county_admin, county_round, first.pk, pool[0].pk)
    with pytest.raises(ServiceError) as exc:
        services.assign(tree.county_admin, county_round, second.pk, pool[0].pk)
    assert exc.value.message == "专家0 已分配 1 件作品，达到评审上限 1 件；请选择其他专家或提高其上限。"
    ExpertProfile.objects.filter(user=pool[1]).update(work_unit=tree.school)
    with pytest.raises(ServiceError) as exc:
        services.assign(tree.county_admin, county_round, first.pk, pool[1].pk)
    assert exc.value.message == f"专家1 与《{first.code} {first.entry.course.title}》同校，须回避；请选择其他学校的专家。"
    CourseMember.objects.create(course=second.entry.course, user=pool[2])
    with pytest.raises(ServiceError) as exc:
        services.assign(tree.county_admin, county_round, second.pk, pool[2].pk)
    assert exc.value.message == \
        f"专家2 是《{second.code} {second.entry.course.title}》的主讲教师或团队成员，须回避；请选择其他专家。"


def test_a_declared_conflict_removes_and_blocks_the_assignment(county_round, tree, pool):
    services.add_panel_member(tree.county_admin, county_round, pool[0].pk)
    entry = county_round.round_entries.order_by("code").first()
    services.assign(tree.county_admin, county_round, entry.pk, pool[0].pk)
    services.declare_conflict(tree.county_admin, county_round, entry.pk, pool[0].pk, "亲属关系")
    assert Assignment.objects.count() == 0
    assert Conflict.objects.get().reason == "亲属关系"
    with pytest.raises(ServiceError) as exc:
        services.assign(tree.county_admin, county_round, entry.pk, pool[0].pk)
    assert exc.value.message == f"专家0 已声明与《{entry.code} {entry.entry.course.title}》有利益关系，须回避；请选择其他专家。"


def test_another_county_cannot_assign(county_round, tree, pool):
    with pytest.raises(PermissionDenied):
        services.assign(tree.other_county_admin, county_round, county_round.round_entries.first().pk, pool[0].pk)


def test_unassign_and_publish(county_round, tree, pool):
    services.add_panel_member(tree.county_admin, county_round, pool[0].pk)
    with pytest.raises(ServiceError) as exc:
        services.publish_round(tree.county_admin, county_round)
    assert exc.value.message == "本轮还没有分配任何评审任务：请先为作品分配专家，再发布。"
    a = services.assign(tree.county_admin, county_round, county_round.round_entries.first().pk, pool[0].pk)
    services.unassign(tree.county_admin, county_round, a.pk)
    assert Assignment.objects.count() == 0
    services.assign(tree.county_admin, county_round, county_round.round_entries.first().pk, pool[0].pk)
    services.publish_round(tree.county_admin, county_round)
    assert ReviewRound.objects.get().status == RoundStatus.PUBLISHED


# --- the expert's tasks ----------------------------------------------------------------------------
def test_my_tasks_are_blind_and_show_the_countdown(county_round, tree, pool):
    services.add_panel_member(tree.county_admin, county_round, pool[0].pk, is_chair=True)
    entry = county_round.round_entries.get(entry__course__title="认识天地")
    services.assign(tree.county_admin, county_round, entry.pk, pool[0].pk)
    assert services.my_tasks(pool[0]) == []  # a draft round shows nothing yet
    services.publish_round(tree.county_admin, county_round)
    now = county_round.closes_at - timedelta(days=3, hours=5)
    [task] = services.my_tasks(pool[0], now=now)
    assert (task.code, task.title, task.node, task.category_label, task.stage_label, task.subject) == (
        entry.code, "认识天地", "小学 一年级 语文 统编版 上册 › 第一单元 › 第1课", "学科课程", "小学", "语文")
    assert (task.window, task.time_left, task.is_chair, task.state_label) == ("open", "剩 3 天 5 小时", True, "待评审")
    assert task.round_title == "县级初选 · 学科课程 · 视频评审"  # never the admin's title, which names the county
    values = " ".join(str(v) for v in vars(task).values())
    for secret in (tree.teacher.real_name, tree.school.name, tree.county.name):
        assert secret not in values
    assert services.my_tasks(pool[1]) == []


def test_an_expert_declares_a_conflict_with_his_own_task(county_round, tree, pool):
    services.add_panel_member(tree.county_admin, county_round, pool[0].pk)
    entry = county_round.round_entries.order_by("code").first()
    a = services.assign(tree.county_admin, county_round, entry.pk, pool[0].pk)
    with pytest.raises(Http404):  # not visible before publishing
        services.declare_own_conflict(pool[0], a.pk, "亲属关系")
    services.publish_round(tree.county_admin, county_round)
    with pytest.raises(Http404):  # someone else's task
        services.declare_own_conflict(pool[1], a.pk, "亲属关系")
    with pytest.raises(ServiceError) as exc:
        services.declare_own_conflict(pool[0], a.pk, " ")
    assert exc.value.message == "请写明回避理由，例如“亲属关系”或“曾指导过这节课”。"
    services.declare_own_conflict(pool[0], a.pk, "曾指导过这节课")
    assert Assignment.objects.count() == 0
    assert list(Conflict.objects.values_list("expert", "course", "reason")) == [
        (pool[0].pk, entry.entry.course_id, "曾指导过这节课")]
    event = Event.objects.get(action="review.conflict.declare")
    assert (event.actor, event.reason, event.after["by_expert"], event.unit_path) == (
        pool[0], "曾指导过这节课", True, tree.county.path)


def test_the_demo_round_gives_the_city_expert_work(campaign, tree, nodes, county_entry):
    from review import demo
    from selection import services as selection_services
    from selection.models import Entry

    entry = county_entry(node=nodes[0], title="认识天地")
    selection_services.decide(tree.county_admin, entry.pk, "recommend")
    assert Entry.objects.filter(level__kind="city", unit=tree.city).count() == 1
    r = demo.load(campaign, admin_username="zj_admin", expert_username="expert")
    assert (r.unit, r.status, r.round_entries.count()) == (tree.city, "published", 1)
    [task] = services.my_tasks(tree.expert)
    assert (task.title, task.is_chair, task.window) == ("认识天地", True, "open")


def test_adding_a_pool_member_again_updates_his_profile(tree):
    user, _ = services.add_expert(tree.county_admin, tree.county, real_name="李明", mobile="13911112222",
                                  subjects="语文", stages="小学", max_load="12")
    again, password = services.add_expert(tree.county_admin, tree.county, real_name="李明", mobile="13911112222",
                                          subjects="数学", stages="初中", max_load="4")
    assert (again, password) == (user, "")
    profile = ExpertProfile.objects.get(user=user)
    assert (profile.subjects, profile.stages, profile.max_load) == (["数学"], ["junior"], 4)
    assert Membership.objects.filter(user=user, role=Role.EXPERT).count() == 1
    event = Event.objects.filter(action="review.expert.save").latest("id")
    assert (event.before["max_load"], event.after["max_load"]) == (12, 4)


def test_a_campaign_from_before_review_gets_its_rubrics_when_first_read(campaign, tree):
    Rubric.objects.filter(campaign=campaign).delete()
    assert [r.category for r in services.rubrics_for(tree.county_admin, campaign)] == ["subject", "special", "experiment"]
    assert Rubric.objects.filter(campaign=campaign).count() == 3
    assert services.install_default_rubric(campaign, "subject") == Rubric.objects.get(campaign=campaign, category="subject")
