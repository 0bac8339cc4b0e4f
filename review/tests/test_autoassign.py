"""Automatic assignment wired into rounds: the solver's proposal stored as PROPOSED, shown before
publishing, manual moves checked by review.assignment.check_move, undo, scope."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from audit.models import Event
from courses.models import CourseMember
from orgs.models import Role
from orgs.tests.factories import member
from review import services
from review.models import Assignment, AssignmentChange, AssignmentState, ExpertProfile, ReviewRound, RoundStatus
from selection import services as selection_services
from selection.models import Entry

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


def pairs(review_round) -> list[tuple[str, str, str]]:
    return sorted(Assignment.objects.filter(round=review_round)
                  .values_list("entry__code", "expert__real_name", "state"))


@pytest.fixture
def panel(tree, county_round, pool):
    for i, e in enumerate(pool):
        services.add_panel_member(tree.county_admin, county_round, e.pk, is_chair=i == 0)
    return pool


@pytest.fixture
def codes(county_round):
    """Entry code by course title."""
    return {re.entry.course.title: re.code for re in county_round.round_entries.select_related("entry__course")}


def label(county_round, title) -> str:
    re = county_round.round_entries.get(entry__course__title=title)
    return f"{re.code} {title}"


def entry_of(review_round, title):
    return review_round.round_entries.get(entry__course__title=title)


def by_title(review_round) -> list[tuple[str, str, str]]:
    return sorted(Assignment.objects.filter(round=review_round)
                  .values_list("entry__entry__course__title", "expert__real_name", "state"))


# --- automatic assignment ------------------------------------------------------------------------
def test_auto_assign_proposes_pairs_hidden_until_published(tree, county_round, panel):
    """专家0 may take both entries, 专家1 and 专家2 one each; 专家1 declared a conflict with 小小的船:
    the only complete assignment."""
    ExpertProfile.objects.filter(user=panel[1]).update(max_load=1)
    ExpertProfile.objects.filter(user=panel[2]).update(max_load=1)
    services.declare_conflict(tree.county_admin, county_round, entry_of(county_round, "小小的船").pk, panel[1].pk, "亲属")
    result = services.auto_assign(tree.county_admin, county_round)
    assert (len(result.new_pairs), result.shortages) == (4, ())
    assert by_title(county_round) == [
        ("小小的船", "专家0", "proposed"), ("小小的船", "专家2", "proposed"),
        ("认识天地", "专家0", "proposed"), ("认识天地", "专家1", "proposed")]
    assert services.my_tasks(panel[0]) == []  # proposed: not visible
    event = Event.objects.get(action="review.assignment.auto")
    assert (event.actor, event.after["shortages"], len(event.after["added"])) == (tree.county_admin, [], 4)

    assert services.publish_assignments(tree.county_admin, county_round) == 4
    assert ReviewRound.objects.get().status == RoundStatus.PUBLISHED
    assert set(Assignment.objects.values_list("state", flat=True)) == {AssignmentState.ASSIGNED}
    assert sorted(t.title for t in services.my_tasks(panel[0])) == ["小小的船", "认识天地"]


def test_auto_assign_keeps_existing_pairs_and_fills_only_what_is_missing(tree, county_round, panel):
    ExpertProfile.objects.filter(user=panel[0]).update(max_load=1)
    ship = entry_of(county_round, "小小的船")
    services.assign(tree.county_admin, county_round, ship.pk, panel[0].pk)
    services.declare_conflict(tree.county_admin, county_round, ship.pk, panel[2].pk, "亲属")
    services.publish_round(tree.county_admin, county_round)
    result = services.auto_assign(tree.county_admin, county_round)
    assert len(result.new_pairs) == 3
    assert by_title(county_round) == [
        ("小小的船", "专家0", "assigned"), ("小小的船", "专家1", "proposed"),
        ("认识天地", "专家1", "proposed"), ("认识天地", "专家2", "proposed")]
    assert [t.title for t in services.my_tasks(panel[0])] == ["小小的船"]  # only the published one
    assert services.publish_assignments(tree.county_admin, county_round) == 3
    assert Event.objects.get(action="review.assignment.publish").after == {"published": 3}
    with pytest.raises(services.ServiceError) as exc:
        services.publish_assignments(tree.county_admin, county_round)
    assert exc.value.message == "没有待发布的分配。"


def test_short_entries_say_why(tree, county_round, panel):
    ExpertProfile.objects.filter(user=panel[1]).update(work_unit=tree.school)  # same school as every entry
    services.declare_conflict(tree.county_admin, county_round, entry_of(county_round, "认识天地").pk, panel[2].pk, "亲属")
    result = services.auto_assign(tree.county_admin, county_round)
    a = label(county_round, "认识天地")
    why = (f"《{a}》缺少 1 位评审专家：学科 语文、学段 小学 的专家共 3 位，其中 1 位与作品同校、1 位已声明回避，"
           "符合条件的 1 位都已分配；请添加学科 语文、学段 小学 的专家。")
    assert [s.message for s in result.shortages] == [why]
    assert by_title(county_round) == [("小小的船", "专家0", "proposed"), ("小小的船", "专家2", "proposed"),
                                      ("认识天地", "专家0", "proposed")]
    plan = services.assignment_plan(tree.county_admin, county_round)
    assert plan.shortages == [why]
    assert [(row.round_entry.entry.course.title, row.missing, row.shortage) for row in plan.entries if row.missing] \
        == [("认识天地", 1, why)]


def test_no_expert_of_the_subject_and_stage(tree, campaign, nodes, county_entry, pool, window):
    county_entry(node=nodes[6], title="浮力")  # 物理 · 初中
    r = services.create_round(tree.county_admin, campaign, tree.county, title="物理", category="subject",
                              stage="junior", reviewers_per_entry=2, **window)
    with pytest.raises(services.ServiceError) as exc:
        services.auto_assign(tree.county_admin, r)
    assert exc.value.message == "评审组还没有专家：请先把本单位专家库中的专家加入评审组，再自动分配。"
    services.add_panel_member(tree.county_admin, r, pool[0].pk)
    result = services.auto_assign(tree.county_admin, r)
    assert [s.message for s in result.shortages] == [
        f"《{r.round_entries.get().code} 浮力》缺少 2 位评审专家：没有学科 物理、学段 初中 的专家；请添加学科 物理、学段 初中 的专家。"]
    assert Assignment.objects.count() == 0
    assert AssignmentChange.objects.count() == 0  # nothing changed: nothing to undo


# --- manual moves: one rule set (review.assignment.check_move) ---------------------------------------
def add(tree, r, title, expert):
    return services.move_assignment(tree.county_admin, r, "add", entry_of(r, title).pk, expert.pk)


def refused(call) -> str:
    with pytest.raises(services.ServiceError) as exc:
        call()
    return exc.value.message


def test_a_manual_move_is_refused_by_each_rule(tree, county_round, panel):
    t = label(county_round, "认识天地")
    ExpertProfile.objects.filter(user=panel[2]).update(subjects=["英语"])
    assert refused(lambda: add(tree, county_round, "认识天地", panel[2])) == \
        f"专家2 的评审学科为 英语，不能评审学科 语文 的《{t}》；请选择该学科的专家。"
    ExpertProfile.objects.filter(user=panel[1]).update(stages=["junior"])
    assert refused(lambda: add(tree, county_round, "认识天地", panel[1])) == \
        f"专家1 的评审学段为 初中，不能评审学段 小学 的《{t}》；请选择该学段的专家。"
    CourseMember.objects.create(course=entry_of(county_round, "认识天地").entry.course, user=panel[0])
    assert refused(lambda: add(tree, county_round, "认识天地", panel[0])) == \
        f"专家0 是《{t}》的主讲教师或团队成员，须回避；请选择其他专家。"
    CourseMember.objects.all().delete()
    ExpertProfile.objects.filter(user=panel[0]).update(work_unit=tree.school)
    assert refused(lambda: add(tree, county_round, "认识天地", panel[0])) == \
        f"专家0 与《{t}》同校，须回避；请选择其他学校的专家。"
    ExpertProfile.objects.filter(user=panel[0]).update(work_unit=tree.county)
    add(tree, county_round, "认识天地", panel[0])  # a county's own round may use its own county's experts
    ExpertProfile.objects.filter(user=panel[0]).update(max_load=1)
    assert refused(lambda: add(tree, county_round, "小小的船", panel[0])) == \
        "专家0 已分配 1 件作品，达到评审上限 1 件；请选择其他专家或提高其上限。"
    services.declare_conflict(tree.county_admin, county_round, entry_of(county_round, "小小的船").pk, panel[1].pk, "亲属")
    ExpertProfile.objects.filter(user=panel[1]).update(stages=["primary"])
    assert refused(lambda: add(tree, county_round, "小小的船", panel[1])) == \
        f"专家1 已声明与《{label(county_round, '小小的船')}》有利益关系，须回避；请选择其他专家。"
    outsider = member(tree.county, Role.EXPERT, username="outsider", real_name="外人")
    assert refused(lambda: add(tree, county_round, "小小的船", outsider)) == "这位专家不在本轮评审组中：请先把他加入评审组。"
    Assignment.objects.filter(expert=panel[0]).update(state=AssignmentState.STARTED)
    assert refused(lambda: services.move_assignment(tree.county_admin, county_round, "remove",
                                                    entry_of(county_round, "认识天地").pk, panel[0].pk)) == \
        f"专家0 评审《{t}》的分配已锁定（已发布或已开始评分），不能移除或调整。"
    assert refused(lambda: services.move_assignment(tree.county_admin, county_round, "swap",
                                                    entry_of(county_round, "认识天地").pk, panel[0].pk)) == \
        "分配操作只能是添加（add）、移除（remove）或调整（move）。"
    ReviewRound.objects.update(opens_at=timezone.now() - timedelta(days=3), closes_at=timezone.now() - timedelta(days=1))
    assert refused(lambda: add(tree, county_round, "小小的船", panel[2])) == "本轮评审已截止，不能再调整分配。"
    assert refused(lambda: services.auto_assign(tree.county_admin, county_round)) == "本轮评审已截止，不能再调整分配。"


def test_above_county_level_an_expert_stands_aside_from_his_own_county(tree, campaign, county_entry, window):
    entry = county_entry(title="认识天地")
    selection_services.decide(tree.county_admin, entry.pk, "recommend")
    assert Entry.objects.filter(course=entry.course, level__kind="city").exists()
    r = services.create_round(tree.city_admin, campaign, tree.city, title="市级遴选", category="subject",
                              reviewers_per_entry=1, **window)
    local = member(tree.city, Role.EXPERT, username="local", real_name="本县专家")
    ExpertProfile.objects.create(user=local, work_unit=tree.county, subjects=["语文"], stages=["primary"])
    services.add_panel_member(tree.city_admin, r, local.pk)
    with pytest.raises(services.ServiceError) as exc:
        services.move_assignment(tree.city_admin, r, "add", r.round_entries.get().pk, local.pk)
    assert exc.value.message == f"本县专家 与《{r.round_entries.get().code} 认识天地》同属一个县（区），县级以上评审须回避；请选择其他县（区）的专家。"
    result = services.auto_assign(tree.city_admin, r)
    assert [s.message for s in result.shortages] == [
        f"《{r.round_entries.get().code} 认识天地》缺少 1 位评审专家：学科 语文、学段 小学 的专家共 1 位，"
        "其中 1 位与作品同县（区）（县级以上评审须回避），没有可评审的专家；请添加学科 语文、学段 小学 的专家。"]


def test_move_one_pair_and_undo_it(tree, county_round, panel):
    add(tree, county_round, "认识天地", panel[0])
    services.publish_round(tree.county_admin, county_round)
    change = services.move_assignment(tree.county_admin, county_round, "move", entry_of(county_round, "认识天地").pk,
                                      panel[0].pk, panel[1].pk)
    assert (change.kind, change.added, change.removed) == (
        "move", [[panel[1].pk, entry_of(county_round, "认识天地").pk, "proposed"]],
        [[panel[0].pk, entry_of(county_round, "认识天地").pk, "assigned"]])
    assert by_title(county_round) == [("认识天地", "专家1", "proposed")]
    event = Event.objects.get(action="review.assignment.move")
    assert (event.before["expert"], event.after["expert"]) == (panel[0].pk, panel[1].pk)

    services.undo_last_change(tree.county_admin, county_round)
    assert by_title(county_round) == [("认识天地", "专家0", "assigned")]  # back, with its published state
    undo = Event.objects.get(action="review.assignment.undo")
    assert (undo.actor, undo.before["kind"], undo.after) == (tree.county_admin, "move", {"change": change.pk})
    # The add before it is next in line; then nothing is left to undo.
    services.undo_last_change(tree.county_admin, county_round)
    assert by_title(county_round) == []
    assert refused(lambda: services.undo_last_change(tree.county_admin, county_round)) == "本轮没有可以撤销的分配操作。"


def test_undo_the_automatic_assignment(tree, county_round, panel):
    add(tree, county_round, "认识天地", panel[2])
    services.auto_assign(tree.county_admin, county_round)
    assert Assignment.objects.count() == 4
    change = services.undo_last_change(tree.county_admin, county_round)
    assert (change.kind, change.undone_by) == ("auto", tree.county_admin)
    assert by_title(county_round) == [("认识天地", "专家2", "proposed")]  # the manual pair before it stays


def test_undo_refuses_what_would_break_a_rule_now(tree, county_round, panel):
    add(tree, county_round, "认识天地", panel[0])
    a = Assignment.objects.get()
    services.unassign(tree.county_admin, county_round, a.pk)  # a manual removal is a change too
    services.declare_conflict(tree.county_admin, county_round, entry_of(county_round, "认识天地").pk, panel[0].pk,
                              "亲属")
    assert refused(lambda: services.undo_last_change(tree.county_admin, county_round)) == \
        f"不能撤销：专家0 已声明与《{label(county_round, '认识天地')}》有利益关系，须回避；请选择其他专家。"
    services.auto_assign(tree.county_admin, county_round)
    Assignment.objects.filter(expert=panel[1]).update(state=AssignmentState.STARTED)
    assert refused(lambda: services.undo_last_change(tree.county_admin, county_round)) == \
        "这次操作分配的专家已开始评分，不能撤销；如需调整，请逐项调整分配。"


# --- scope and permissions ---------------------------------------------------------------------------
def test_only_the_rounds_admins_assign(client, tree, county_round, panel, bearer):
    for call in (lambda u: services.auto_assign(u, county_round), lambda u: services.undo_last_change(u, county_round),
                 lambda u: services.move_assignment(u, county_round, "add", entry_of(county_round, "认识天地").pk,
                                                    panel[0].pk),
                 lambda u: services.assignment_plan(u, county_round)):
        for outsider in (tree.other_county_admin, panel[0], tree.school_admin):
            with pytest.raises(PermissionDenied):
                call(outsider)
    url = reverse("review:round_assignment", args=[county_round.pk])
    for outsider in (tree.other_county_admin, panel[0]):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
        assert client.post(url, {"action": "auto"}).status_code == 404
        assert client.post(f"/api/v1/review/rounds/{county_round.pk}/auto-assign", content_type="application/json",
                           **bearer(outsider)).status_code == 404
    with pytest.raises(Http404):
        services.get_round(tree.other_county_admin, county_round.pk)
    assert Assignment.objects.count() == 0
    client.force_login(tree.city_admin)  # the unit above may
    assert client.post(url, {"action": "auto"}).status_code == 302
    assert Assignment.objects.count() == 4


# --- the page and the API ------------------------------------------------------------------------------
def test_the_assignment_page(client, tree, county_round, panel, county_entry, nodes, window,
                             django_assert_max_num_queries):
    ExpertProfile.objects.filter(user=panel[1]).update(work_unit=tree.school)
    services.declare_conflict(tree.county_admin, county_round, entry_of(county_round, "认识天地").pk, panel[2].pk, "亲属")
    client.force_login(tree.county_admin)
    url = reverse("review:round_assignment", args=[county_round.pk])
    assert reverse("review:round_assignment", args=[county_round.pk]) in html(client.get(
        reverse("review:round", args=[county_round.pk])))
    page = html(client.post(url, {"action": "auto"}, follow=True))
    assert "已自动分配 3 项，待发布：请核对后发布。" in page
    assert (f"《{label(county_round, '认识天地')}》缺少 1 位评审专家：学科 语文、学段 小学 的专家共 3 位，"
            "其中 1 位与作品同校、1 位已声明回避，符合条件的 1 位都已分配；请添加学科 语文、学段 小学 的专家。") in page
    expert_rows = page.split('id="plan-experts"')[1]
    assert f'id="plan-expert-{panel[0].pk}"><td>专家0 <span class="badge">组长</span></td>' in expert_rows
    assert "<td>2 / 5</td><td>2</td>" in expert_rows and "<td>0 / 5</td><td>0</td>" in expert_rows
    assert "撤销上一步（自动分配）" in page and "发布 3 项待发布的分配" in page
    page = html(client.post(url, {"action": "add", "entry": entry_of(county_round, "认识天地").pk,
                                  "expert": panel[1].pk}, follow=True))
    assert f"专家1 与《{label(county_round, '认识天地')}》同校，须回避；请选择其他学校的专家。" in page
    assert "已撤销上一步分配操作。" in html(client.post(url, {"action": "undo"}, follow=True))
    assert Assignment.objects.count() == 0
    with django_assert_max_num_queries(14):
        assert client.get(url).status_code == 200
    # More entries and pairs: the same number of queries.
    for node in nodes[2:5]:
        county_entry(node=node)
    big = services.create_round(tree.county_admin, county_round.campaign, tree.county, title="大轮",
                                category="subject", reviewers_per_entry=2, **window)
    for e in panel:
        services.add_panel_member(tree.county_admin, big, e.pk)
    services.auto_assign(tree.county_admin, big)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("review:round_assignment", args=[big.pk])).status_code == 200
    page = html(client.post(reverse("review:round_assignment", args=[big.pk]), {"action": "publish"}, follow=True))
    assert "评审组专家登录后可以看到自己的评审任务。" in page


def test_the_assignment_api(client, tree, county_round, panel, bearer):
    admin = bearer(tree.county_admin)
    base = f"/api/v1/review/rounds/{county_round.pk}"

    def post(path, body=None):
        return client.post(base + path, data=json.dumps(body or {}), content_type="application/json", **admin)

    ExpertProfile.objects.filter(user=panel[1]).update(max_load=1)
    ExpertProfile.objects.filter(user=panel[2]).update(max_load=1)
    services.declare_conflict(tree.county_admin, county_round, entry_of(county_round, "小小的船").pk, panel[1].pk, "亲属")
    response = post("/auto-assign")
    assert response.status_code == 200
    body = response.json()
    assert (body["added"], body["proposed"], body["shortages"], body["undo"]) == (4, 4, [], "auto")
    assert sorted((x["name"], x["load"], x["proposed"], x["capacity"]) for x in body["experts"]) == [
        ("专家0", 2, 2, 5), ("专家1", 1, 1, 1), ("专家2", 1, 1, 1)]
    ship = entry_of(county_round, "小小的船")
    response = post("/moves", {"action": "move", "entry_id": ship.pk, "expert_id": panel[2].pk,
                               "to_expert_id": panel[1].pk})
    assert response.status_code == 400
    assert response.json()["detail"] == f"专家1 已声明与《{ship.code} 小小的船》有利益关系，须回避；请选择其他专家。"
    response = post("/moves", {"action": "remove", "entry_id": ship.pk, "expert_id": panel[2].pk})
    assert response.status_code == 200
    [row] = [e for e in response.json()["entries"] if e["id"] == ship.pk]
    assert (row["missing"], row["shortage"]) == (1, f"《{ship.code} 小小的船》还差 1 位评审专家：点击“自动分配”即可补足。")
    assert post("/undo").json()["undo"] == "auto"
    response = post("/publish-assignments")
    assert response.status_code == 200 and response.json()["proposed"] == 0
    assert ReviewRound.objects.get().status == RoundStatus.PUBLISHED
    plan = client.get(base + "/assignment-plan", **admin).json()
    assert sorted((e["title"], sorted(a["expert_name"] for a in e["assignments"])) for e in plan["entries"]) == [
        ("小小的船", ["专家0", "专家2"]), ("认识天地", ["专家0", "专家1"])]
    assert {a["state"] for e in plan["entries"] for a in e["assignments"]} == {"assigned"}


def test_the_load_counts_the_experts_other_open_rounds(tree, campaign, county_round, panel, county_entry, nodes,
                                                       window):
    county_entry(node=nodes[3], title="数一数")
    other = services.create_round(tree.county_admin, campaign, tree.county, title="数学", category="subject",
                                  subject="数学", reviewers_per_entry=1, **window)
    services.add_panel_member(tree.county_admin, other, panel[0].pk)
    services.move_assignment(tree.county_admin, other, "add", other.round_entries.get().pk, panel[0].pk)
    ExpertProfile.objects.filter(user=panel[0]).update(max_load=2)
    add(tree, county_round, "认识天地", panel[0])
    assert refused(lambda: add(tree, county_round, "小小的船", panel[0])) == \
        "专家0 在其他未结束的评审轮次已有 1 件、本轮 1 件，达到评审上限 2 件；请选择其他专家或提高其上限。"
    plan = services.assignment_plan(tree.county_admin, county_round)
    assert [(x.member.expert.real_name, x.load, x.capacity) for x in plan.experts] == [
        ("专家0", 1, 1), ("专家1", 0, 5), ("专家2", 0, 5)]
    ReviewRound.objects.filter(pk=other.pk).update(status=RoundStatus.CLOSED)  # a closed round no longer counts
    add(tree, county_round, "小小的船", panel[0])
