"""Round results: aggregation with the round's method, ranking, export rows, the proposal with its
explanations, applying it through the selection workflow (all or nothing), permissions and scope."""

import io
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from audit.models import Event
from campaigns.models import Quota
from courses.models import Course
from jingpinke.errors import ServiceError
from orgs.models import Role, Unit, UnitKind
from orgs.tests.factories import member
from review import services
from review.models import Assignment, PanelMember, RoundEntry, ScoreSheet
from selection import services as selection_services
from selection.models import Entry, EntryState, UnitLevel

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(campaign, tree, nodes, county_entry, pool, window):
    """Four entries scored by the three pool experts (hand-computable):
    A 认识天地 (语文, node 0): 80, 90, 70 → mean 80, median 80, SD √(200/3) = 8.16;
    B 小小的船 (语文, node 1): 60, 95, 85 → mean 80, median 85, spread 35 > 20 (flagged);
    C 数一数 (数学, node 3): 70, 60, and a veto (total 0) with its reason → 0, flagged twice;
    D 看图说话 (语文, node 0, like A): 70, 70, 70 → 70.
    """
    titles = {"A": ("认识天地", 0), "B": ("小小的船", 1), "C": ("数一数", 3)}
    entries = {k: county_entry(node=nodes[n], title=t) for k, (t, n) in titles.items()}
    entries["D"] = _second_school_entry(campaign, tree, nodes[0], "看图说话")  # a school sends one per node
    r = services.create_round(tree.county_admin, campaign, tree.county, title="赤坎区初选", category="subject",
                              reviewers_per_entry=3, **window)
    for i, expert in enumerate(pool):
        PanelMember.objects.create(round=r, expert=expert, is_chair=i == 0)
    points = {"A": [80, 90, 70], "B": [60, 95, 85], "C": [70, 60, None], "D": [70, 70, 70]}
    veto = r.rubric.vetoes.first()
    submitted = timezone.now() - timedelta(hours=1)
    for key, values in points.items():
        re = r.round_entries.get(entry=entries[key])
        for expert, value in zip(pool, values, strict=True):
            a = Assignment.objects.create(round=r, entry=re, expert=expert, state="submitted")
            if value is None:
                ScoreSheet.objects.create(assignment=a, total=Decimal(0), veto=veto, veto_reason="把数数的顺序讲错了",
                                          submitted_at=submitted)
            else:
                ScoreSheet.objects.create(assignment=a, total=Decimal(value), submitted_at=submitted)
    r.entries = {k: e.pk for k, e in entries.items()}
    return r


def _second_school_entry(campaign, tree, node, title):
    school = Unit.objects.create(name="赤坎区第二小学", code="440802002", kind=UnitKind.SCHOOL, parent=tree.county)
    teacher, admin = member(school, Role.TEACHER, username="t2"), member(school, Role.ADMIN, username="a2")
    course = Course.objects.create(campaign=campaign, category="subject", node=node, title=title, lead_teacher=teacher,
                                   school=school, periods_count=1, status="submitted")
    selection_services.enter(teacher, course)
    selection_services.decide(admin, Entry.objects.get(course=course, level__kind="school").pk, "recommend")
    return Entry.objects.get(course=course, level__kind="county")


def test_results_hand_computed(tree, scored, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        res = services.round_results(tree.county_admin, scored)
    ids = scored.entries
    a, b, c, d = (res.aggregate.entries[ids[k]] for k in "ABCD")
    assert (a.count, a.mean, a.median, a.trimmed_mean, round(a.sd, 2), a.spread, a.score) == (3, 80, 80, 80, 8.16, 20, 80)
    assert (b.mean, b.median, round(b.sd, 2), b.spread, b.disagreement, b.score) == (80, 85, 14.72, 35, True, 80)
    assert b.flags == ("评分分歧：最高分与最低分相差 35 分，超过 20 分，请组长裁定或增加评审专家",)
    assert (c.vetoes, c.score, c.flags) == (1, 0.0, ("评分分歧：最高分与最低分相差 70 分，超过 20 分，请组长裁定或增加评审专家",
                                                     "1/3 位专家一票否决，请组长核实"))
    assert d.score == 70
    groups = [(g.subject, [(row.rank, row.entry.title, row.decided_by) for row in g.rows]) for g in res.groups]
    assert groups == [("数学", [(1, "数一数", "")]),
                      ("语文", [(1, "小小的船", ""), (2, "认识天地", "中位数更高"), (3, "看图说话", "得分更高")])]


def test_round_method_changes_the_score(tree, scored):
    services.set_result_settings(tree.county_admin, scored, method="median", min_scored=5, disagreement_threshold="40")
    res = services.round_results(tree.county_admin, scored)
    b = res.aggregate.entries[scored.entries["B"]]
    assert (b.score, b.disagreement, b.flags) == (85, False, ())
    assert Event.objects.filter(action="review.round.result_settings").count() == 1
    with pytest.raises(ServiceError) as exc:
        services.set_result_settings(tree.county_admin, scored, method="best", min_scored=1, disagreement_threshold="5")
    assert exc.value.errors == ["未知的汇总方法“best”：请选择平均分、中位数、截尾均值或标准分。",
                                "标准分换算所需的最少评分数 k 为 1：须至少为 2。"]
    with pytest.raises(ServiceError) as exc:
        services.set_result_settings(tree.county_admin, scored, method="mean", min_scored=40000,
                                     disagreement_threshold="20")
    assert exc.value.errors == ["标准分换算所需的最少评分数 k 为 40000：不能超过 1000。"]
    with pytest.raises(ServiceError) as exc:
        services.set_result_settings(tree.county_admin, scored, method="mean", min_scored=5,
                                     disagreement_threshold="1e30")
    assert exc.value.message == "最少评分数 k 须为整数，分歧阈值须为数字（最多一位小数）。"


def test_export_rows(tree, scored, pool):
    res = services.round_results(tree.county_admin, scored)
    book = openpyxl.load_workbook(io.BytesIO(services.results_workbook(res).read()))
    assert book.sheetnames == ["专家评分", "作品汇总", "排名"]
    ranking = [[c.value for c in row] for row in book["排名"].iter_rows(min_row=2)]
    code = {k: res.code(v) for k, v in scored.entries.items()}
    assert [row[:6] + row[9:10] for row in ranking] == [
        ["学科课程", "数学", 1, scored.entries["C"], f"{code['C']} 数一数", 0, None],
        ["学科课程", "语文", 1, scored.entries["B"], f"{code['B']} 小小的船", 80, None],
        ["学科课程", "语文", 2, scored.entries["A"], f"{code['A']} 认识天地", 80, "中位数更高"],
        ["学科课程", "语文", 3, scored.entries["D"], f"{code['D']} 看图说话", 70, "得分更高"],
    ]
    experts = [[c.value for c in row] for row in book["专家评分"].iter_rows(min_row=2)]
    assert len(experts) == 12
    assert experts[0][:2] == [pool[0].pk, "专家0"]
    summary = {row[0].value: [c.value for c in row] for row in book["作品汇总"].iter_rows(min_row=2)}
    assert summary[scored.entries["A"]][4:12] == [3, 80, 80, 80, 8.16, 90, 70, 20]


def test_proposal_with_explanations(tree, scored, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):  # 4 entries, 12 sheets: no query per entry or sheet
        view = services.build_proposal(tree.county_admin, scored)
    rows = [(r.title, r.chosen, r.message) for r in view.rows]
    assert rows == [("小小的船", True, ""), ("认识天地", True, ""),
                    ("看图说话", False, "同一目录节点已有更高分作品《认识天地》"),
                    ("数一数", False, "评审一票否决，不予推荐")]
    assert view.status_text == "本轮推荐 2 门，总分 160，目标占比加分 0（求解状态 OPTIMAL：已证明为最优解）。"


def test_proposal_quota_and_forced(tree, campaign, scored):
    Quota.objects.filter(campaign=campaign, level__kind="county", category="subject").update(limit=1)
    view = services.build_proposal(tree.county_admin, scored)
    assert [(r.title, r.chosen, r.message) for r in view.rows][:3] == [
        ("小小的船", True, ""), ("认识天地", False, "超出学科课程名额 1/1"), ("看图说话", False, "超出学科课程名额 1/1")]
    view = services.build_proposal(tree.county_admin, scored, force_in={scored.entries["D"]: "试讲表现突出"},
                                   force_out={scored.entries["B"]: "内容与去年重复"})
    assert [(r.title, r.chosen, r.forced, r.message) for r in view.rows] == [
        ("看图说话", True, "in", ""), ("小小的船", False, "out", "管理员已调整为不推荐"),
        ("认识天地", False, "", "同一目录节点已推荐《看图说话》"), ("数一数", False, "", "评审一票否决，不予推荐")]
    with pytest.raises(ServiceError) as exc:
        services.build_proposal(tree.county_admin, scored, force_in={scored.entries["D"]: " "})
    assert exc.value.message == "请为强制推荐的作品《看图说话》填写理由。"


def test_apply_recommends_exactly_the_set(tree, scored):
    ids = scored.entries
    applied = services.apply_proposal(tree.county_admin, scored, expected=[ids["B"], ids["A"]])
    assert (applied.recommended, applied.undone) == ([ids["B"], ids["A"]], [])
    states = dict(Entry.objects.filter(pk__in=ids.values()).values_list("pk", "state"))
    assert states == {ids["A"]: "recommended", ids["B"]: "recommended", ids["C"]: "pending", ids["D"]: "pending"}
    assert list(Entry.objects.filter(pk__in=[ids["B"], ids["A"]]).order_by("rank").values_list("pk", flat=True)) == \
        [ids["B"], ids["A"]]
    assert Event.objects.filter(action="review.proposal.apply").count() == 1
    # Forcing B out and D in: B is undone, D recommended, A stays; again exactly the set.
    applied = services.apply_proposal(tree.county_admin, scored, force_out={ids["A"]: "与市级课例重复"},
                                      force_in={ids["D"]: "试讲表现突出"})
    assert (applied.recommended, applied.undone) == ([ids["D"]], [ids["A"]])
    states = dict(Entry.objects.filter(pk__in=ids.values()).values_list("pk", "state"))
    assert states == {ids["A"]: "pending", ids["B"]: "recommended", ids["C"]: "pending", ids["D"]: "recommended"}


def test_apply_rolls_back_on_a_refusal(tree, scored, monkeypatch):
    ids = scored.entries
    real = selection_services.decide

    def decide(actor, entry_id, action, **kw):
        if entry_id == ids["A"]:
            raise ServiceError("已超过本级截止时间")
        return real(actor, entry_id, action, **kw)

    monkeypatch.setattr(selection_services, "decide", decide)
    with pytest.raises(ServiceError) as exc:
        services.apply_proposal(tree.county_admin, scored)
    assert exc.value.message == "有 1 项决定被拒绝，推荐方案未应用（全部撤回）。第一项：《认识天地》：已超过本级截止时间"
    assert [e["entry_id"] for e in exc.value.errors] == [ids["A"]]
    assert Entry.objects.filter(pk__in=ids.values(), state=EntryState.RECOMMENDED).count() == 0
    assert Entry.objects.filter(course__entries__pk=ids["B"], level__kind="city").count() == 0


def test_apply_shows_the_workflow_refusal(tree, campaign, scored):
    UnitLevel.objects.update_or_create(campaign=campaign, level=scored.level, unit=tree.county,
                                       defaults={"confirmed_at": timezone.now()})
    with pytest.raises(ServiceError) as exc:
        services.apply_proposal(tree.county_admin, scored)
    assert len(exc.value.errors) == 2
    assert Entry.objects.filter(pk__in=scored.entries.values(), state=EntryState.RECOMMENDED).count() == 0


def test_apply_refuses_a_changed_set(tree, scored):
    with pytest.raises(ServiceError) as exc:
        services.apply_proposal(tree.county_admin, scored, expected=[scored.entries["D"]])
    assert exc.value.message == "评分或作品状态已变化，推荐方案与您看到的不同：请重新查看推荐方案后再应用。"


def test_permissions_and_scope(tree, scored, pool):
    chair, other = pool[0], pool[1]
    assert services.results_round(chair, scored.pk) == scored  # the chair reads the results
    services.round_results(chair, scored)
    with pytest.raises(PermissionDenied):
        services.build_proposal(chair, scored)
    with pytest.raises(Http404):
        services.results_round(other, scored.pk)
    with pytest.raises(Http404):
        services.results_round(tree.school_admin, scored.pk)
    with pytest.raises(Http404):
        services.results_round(tree.other_county_admin, scored.pk)
    assert services.results_round(tree.city_admin, scored.pk) == scored  # above: his subtree


def test_unscored_recommended_entry_keeps_its_place(tree, campaign, nodes, county_entry, scored):
    """An entry of the round already recommended but without a submitted sheet is kept and counts."""
    kept = county_entry(node=nodes[2], title="江南")
    RoundEntry.objects.create(round=scored, entry=kept, code="R-KEEP")
    selection_services.decide(tree.county_admin, kept.pk, "recommend")
    Quota.objects.filter(campaign=campaign, level__kind="county", category="subject").update(limit=2)
    view = services.build_proposal(tree.county_admin, scored)
    assert [(r.title, r.chosen, r.message) for r in view.rows] == [
        ("小小的船", True, ""), ("认识天地", False, "超出学科课程名额 2/2"), ("看图说话", False, "超出学科课程名额 2/2"),
        ("数一数", False, "评审一票否决，不予推荐"), ("江南", False, "尚未评分；已推荐，保留并占用名额")]
    applied = services.apply_proposal(tree.county_admin, scored)
    assert (applied.recommended, applied.undone) == ([scored.entries["B"]], [])
    assert set(Entry.objects.filter(level=scored.level, unit=tree.county, state="recommended")
               .values_list("pk", flat=True)) == {kept.pk, scored.entries["B"]}


def test_share_caps_and_science_bonus_from_the_campaign(tree, campaign, scored):
    ids = scored.entries
    ScoreSheet.objects.filter(assignment__entry__entry_id=ids["C"], veto__isnull=False).delete()  # C: 70, 60 → 65
    Quota.objects.filter(campaign=campaign, level__kind="county", category="subject").update(limit=1)
    campaign.target_shares = [{"level": "county", "category": "subject", "subjects": ["数学"], "min_percent": None}]
    campaign.save(update_fields=["target_shares"])
    assert [r.title for r in services.build_proposal(tree.county_admin, scored).rows if r.chosen] == ["小小的船"]
    view = services.build_proposal(tree.county_admin, scored, bonus="20")  # 65 + 20 > 80
    assert [(r.title, r.chosen, r.message) for r in view.rows][:2] == [
        ("数一数", True, ""), ("小小的船", False, "超出学科课程名额 1/1：目标学科（数学）的作品有加分，总分更高")]
    campaign.share_caps = [{"level": "county", "category": "subject", "subjects": ["语文"], "max_percent": 50}]
    campaign.target_shares = []
    campaign.save(update_fields=["share_caps", "target_shares"])
    Quota.objects.filter(campaign=campaign, level__kind="county", category="subject").update(limit=25)
    view = services.build_proposal(tree.county_admin, scored)
    assert [(r.title, r.chosen, r.message) for r in view.rows] == [
        ("小小的船", True, ""), ("数一数", True, ""), ("认识天地", False, "语文等学科占比将超过 50 %"),
        ("看图说话", False, "语文等学科占比将超过 50 %")]
