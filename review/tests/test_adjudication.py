"""Disagreement: the chair's stored adjudication (only a flagged entry without a veto, 0..total, a
reason; audited; one per entry; withdrawn with a reason until the proposal is applied) changes the
ranking, the results page, the Excel export and the report; adding a reviewer among the experts the
assignment rules allow (conflicts refused with their reason), published at once, recorded and
notified; the chair's page; permissions and scope."""

import io
import json
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from audit.models import Event
from audit.services import record
from jingpinke.errors import ServiceError
from notifications.models import Notification
from orgs.models import Role
from orgs.tests.factories import member
from review import lecture, services
from review.models import Adjudication, Assignment, AssignmentChange, Conflict, ExpertProfile, PanelMember, ScoreSheet

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(campaign, tree, nodes, county_entry, pool, window):
    """A published round of three 语文/数学 entries scored by the three pool experts (chair pool[0]):
    A 认识天地 (语文): 80, 90, 70 → mean 80, median 80;
    B 小小的船 (语文): 60, 95, 85 → mean 80, median 85, spread 35 > 20: flagged;
    C 数一数 (数学): 70, 60 and a veto → 0, flagged (spread and a split veto).
    Ranking of 语文: B (80, median 85) before A (80, median 80)."""
    titles = {"A": ("认识天地", 0), "B": ("小小的船", 1), "C": ("数一数", 3)}
    entries = {k: county_entry(node=nodes[n], title=t) for k, (t, n) in titles.items()}
    r = services.create_round(tree.county_admin, campaign, tree.county, title="赤坎区初选", category="subject",
                              reviewers_per_entry=3, **window)
    for i, expert in enumerate(pool):
        PanelMember.objects.create(round=r, expert=expert, is_chair=i == 0)
    points = {"A": [80, 90, 70], "B": [60, 95, 85], "C": [70, 60, None]}
    veto = r.rubric.vetoes.first()
    submitted = timezone.now() - timedelta(hours=1)
    for key, values in points.items():
        re = r.round_entries.get(entry=entries[key])
        for expert, value in zip(pool, values, strict=True):
            a = Assignment.objects.create(round=r, entry=re, expert=expert, state="submitted")
            ScoreSheet.objects.create(assignment=a, total=Decimal(value or 0), submitted_at=submitted,
                                      veto=veto if value is None else None,
                                      veto_reason="讲错了" if value is None else "")
    r.status = "published"
    r.save(update_fields=["status"])
    r.entries = {k: e.pk for k, e in entries.items()}
    r.codes = {k: r.round_entries.get(entry=e).pk for k, e in entries.items()}
    r.chair = pool[0]
    return r


def ranking(res, subject="语文"):
    group = next(g for g in res.groups if g.subject == subject)
    return [(row.rank, row.entry.title, row.result.score) for row in group.rows]


# --- adjudication -------------------------------------------------------------------------------
def test_an_adjudication_changes_the_ranking(scored, tree):
    before = services.round_results(tree.county_admin, scored)
    assert ranking(before) == [(1, "小小的船", 80.0), (2, "认识天地", 80.0)]
    adj = lecture.adjudicate(scored.chair, scored, scored.codes["B"], "75.5", " 60 分专家误读细则 ")
    assert (adj.points, adj.reason, adj.by) == (Decimal("75.5"), "60 分专家误读细则", scored.chair)
    after = services.round_results(tree.county_admin, scored)
    # Hand-computed: B's statistic 80 is replaced by 75.5, so A (80) now ranks first.
    assert ranking(after) == [(1, "认识天地", 80.0), (2, "小小的船", 75.5)]
    b = after.aggregate.entries[scored.entries["B"]]
    assert (b.adjudicated, b.adjudication_reason, b.mean) == (75.5, "60 分专家误读细则", 80.0)
    assert b.flags[-1] == "组长裁定 75.5 分（60 分专家误读细则）"
    ev = Event.objects.get(action="review.adjudication.set")
    assert (ev.actor_id, ev.before, ev.after) == (scored.chair.pk, None, {
        "code": adj.round_entry.code, "points": "75.5", "reason": "60 分专家误读细则"})
    # One per entry: a second adjudication replaces the first (audited with what it replaced).
    lecture.adjudicate(scored.chair, scored, scored.codes["B"], "82", "复核后改判")
    assert Adjudication.objects.get().points == Decimal(82)
    assert ranking(services.round_results(tree.county_admin, scored))[0] == (1, "小小的船", 82.0)
    assert Event.objects.filter(action="review.adjudication.set").latest("pk").before["points"] == "75.5"


def test_only_a_flagged_entry_without_a_veto_with_points_in_range_and_a_reason(scored):
    cases = [
        ("A", "85", "理由", "这件作品的评分分歧未超过本轮阈值，无需裁定。"),
        ("C", "50", "理由", "这件作品有专家一票否决：请先重新开放否决专家的评分表核实，不能以裁定分代替。"),
        ("B", "100.5", "理由", "裁定分应为 0 到 100 之间的数（最多一位小数）。"),
        ("B", "-1", "理由", "裁定分应为 0 到 100 之间的数（最多一位小数）。"),
        ("B", "八十", "理由", "裁定分应为 0 到 100 之间的数（最多一位小数）。"),
        ("B", "80", "  ", "请写明裁定理由，例如“两位专家对评分细则理解不一，组长复核后裁定”。"),
    ]
    for key, points, reason, message in cases:
        with pytest.raises(ServiceError) as exc:
            lecture.adjudicate(scored.chair, scored, scored.codes[key], points, reason)
        assert exc.value.message == message
    assert not Adjudication.objects.exists()


def test_only_the_chair_adjudicates(scored, tree, pool):
    for user in (pool[1], tree.county_admin, tree.other_county_admin):
        with pytest.raises(PermissionDenied):
            lecture.adjudicate(user, scored, scored.codes["B"], "80", "理由")
    assert not Adjudication.objects.exists()


def test_a_stored_adjudication_that_no_longer_applies_is_ignored(scored, tree):
    lecture.adjudicate(scored.chair, scored, scored.codes["B"], "60", "理由")
    services.set_result_settings(tree.county_admin, scored, method="mean", min_scored=5, disagreement_threshold=40)
    res = services.round_results(tree.county_admin, scored)
    assert res.aggregate.entries[scored.entries["B"]].score == 80.0  # spread 35 no longer above 40


def test_results_page_export_and_report_show_the_adjudication(client, scored, tree):
    lecture.adjudicate(scored.chair, scored, scored.codes["B"], "75.5", "60 分专家误读细则")
    text = "组长裁定 75.5 分（60 分专家误读细则）"
    client.force_login(tree.county_admin)
    assert text in client.get(reverse("review:results", args=[scored.pk])).content.decode()
    assert text in client.get(reverse("review:report", args=[scored.pk])).content.decode()
    response = client.get(reverse("review:results_export", args=[scored.pk]))
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)
                                            if response.streaming else response.content))
    sheet = book["作品汇总"]
    headers = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == scored.entries["B"])
    assert (row[headers.index("组长裁定分")], row[headers.index("裁定理由")]) == (75.5, "60 分专家误读细则")
    assert text in row[headers.index("提示")]


def test_withdrawing_needs_a_reason_and_ends_when_the_proposal_is_applied(scored, tree):
    lecture.adjudicate(scored.chair, scored, scored.codes["B"], "75.5", "理由")
    with pytest.raises(ServiceError) as exc:
        lecture.withdraw_adjudication(scored.chair, scored, scored.codes["B"], " ")
    assert exc.value.message == "请写明撤回裁定的理由。"
    with pytest.raises(PermissionDenied):
        lecture.withdraw_adjudication(tree.county_admin, scored, scored.codes["B"], "理由")
    lecture.withdraw_adjudication(scored.chair, scored, scored.codes["B"], "误判")
    assert not Adjudication.objects.exists()
    ev = Event.objects.get(action="review.adjudication.withdraw")
    assert (ev.reason, ev.before["points"]) == ("误判", "75.5")
    with pytest.raises(ServiceError) as exc:
        lecture.withdraw_adjudication(scored.chair, scored, scored.codes["B"], "误判")
    assert exc.value.message == "这件作品没有组长裁定。"
    lecture.adjudicate(scored.chair, scored, scored.codes["B"], "70", "理由")
    record(tree.county_admin, "review.proposal.apply", scored, after={}, unit=scored.unit)
    with pytest.raises(ServiceError) as exc:
        lecture.withdraw_adjudication(scored.chair, scored, scored.codes["B"], "误判")
    assert exc.value.message.startswith("本轮推荐方案已在裁定之后应用，裁定不能再撤回")
    assert Adjudication.objects.count() == 1


# --- adding a reviewer ----------------------------------------------------------------------------
@pytest.fixture
def more_experts(scored, tree):
    """A fourth panel expert who may review, one from the entries' school (a conflict) and one who
    declared a conflict with B."""
    def expert(name, username, mobile, work_unit):
        user = member(tree.county, Role.EXPERT, username=username, real_name=name, mobile=mobile)
        ExpertProfile.objects.create(user=user, work_unit=work_unit, subjects=["语文", "数学"], stages=["primary"],
                                     max_load=5)
        PanelMember.objects.create(round=scored, expert=user)
        return user

    ok = expert("专家甲", "free", "13900000011", tree.city)
    same_school = expert("专家乙", "same", "13900000012", tree.school)
    declared = expert("专家丙", "declared", "13900000013", tree.city)
    course = Assignment.objects.filter(entry_id=scored.codes["B"]).first().entry.entry.course
    Conflict.objects.create(expert=declared, course=course, reason="亲属")
    return ok, same_school, declared


def test_the_chair_adds_an_allowed_reviewer_published_recorded_and_notified(scored, more_experts):
    ok, same_school, declared = more_experts
    rp = services.round_problem(scored)
    options = {o.expert_id: o for o in lecture.reviewer_options(rp, scored.codes["B"])}
    assert options[ok.pk].ok is True
    assert (options[same_school.pk].ok, options[declared.pk].ok) == (False, False)
    assert "同校，须回避" in options[same_school.pk].message
    assert "已声明与" in options[declared.pk].message
    a = lecture.add_reviewer(scored.chair, scored, scored.codes["B"], ok.pk)
    assert (a.state, a.expert_id, Assignment.objects.filter(entry_id=scored.codes["B"]).count()) == ("assigned", ok.pk, 4)
    change = AssignmentChange.objects.get()
    assert (change.kind, change.added, change.actor) == ("add", [[ok.pk, scored.codes["B"], "assigned"]], scored.chair)
    assert Event.objects.get(action="review.assignment.add_reviewer").after["expert"] == ok.pk
    n = Notification.objects.get(recipient=ok)
    assert (n.kind, n.title, n.entry_id, n.link) == ("review_added", f"增加评审任务：{a.entry.code}", None, "/review/my/")
    assert [t.code for t in services.my_tasks(ok)] == [a.entry.code]


def test_a_conflicted_reviewer_is_refused_with_the_reason(scored, more_experts, tree):
    _ok, same_school, declared = more_experts
    with pytest.raises(ServiceError) as exc:
        lecture.add_reviewer(scored.chair, scored, scored.codes["B"], same_school.pk)
    assert "同校，须回避；请选择其他学校的专家。" in exc.value.message
    with pytest.raises(ServiceError) as exc:
        lecture.add_reviewer(tree.county_admin, scored, scored.codes["B"], declared.pk)
    assert "已声明与" in exc.value.message and "有利益关系，须回避" in exc.value.message
    assert Assignment.objects.filter(entry_id=scored.codes["B"]).count() == 3
    assert not Notification.objects.filter(kind="review_added").exists()


def test_adding_a_reviewer_needs_a_flag_and_the_right_person(scored, more_experts, tree, pool):
    ok = more_experts[0]
    with pytest.raises(ServiceError) as exc:
        lecture.add_reviewer(scored.chair, scored, scored.codes["A"], ok.pk)
    assert exc.value.message == "只有被标记为评分分歧（或部分专家一票否决）的作品可以增加评审专家。"
    for user in (pool[1], tree.other_county_admin):
        with pytest.raises(PermissionDenied):
            lecture.add_reviewer(user, scored, scored.codes["B"], ok.pk)
    outsider = member(tree.county, Role.EXPERT, username="outsider")
    with pytest.raises(ServiceError) as exc:
        lecture.add_reviewer(tree.county_admin, scored, scored.codes["B"], outsider.pk)
    assert exc.value.message.startswith("这位专家不在本轮评审组中")
    # The admin may add one (the chair too, tested above).
    assert lecture.add_reviewer(tree.county_admin, scored, scored.codes["B"], ok.pk).state == "assigned"


def test_a_reviewer_added_after_the_window_may_still_score(scored, more_experts):
    ok = more_experts[0]
    later = scored.closes_at + timedelta(hours=1)
    a = lecture.add_reviewer(scored.chair, scored, scored.codes["B"], ok.pk, now=later)
    items = {str(i.pk): str(i.max_points) for i in services.RubricItem.objects.filter(dimension__rubric=scored.rubric)}
    sheet = services.submit_sheet(ok, a.pk, points=items, now=later)
    assert sheet.submitted_at == later


# --- the chair's page and the API -------------------------------------------------------------------
def test_the_chair_page_shows_flagged_entries_with_both_actions(client, scored, more_experts, pool,
                                                                django_assert_max_num_queries):
    ok, same_school, _declared = more_experts
    client.force_login(scored.chair)
    url = reverse("review:chair_panel", args=[scored.pk])
    with django_assert_max_num_queries(16):
        html = client.get(url).content.decode()
    b, c = (f'id="flag-{scored.codes[k]}"' for k in "BC")
    assert b in html and c in html and f'id="flag-{scored.codes["A"]}"' not in html
    assert "认识天地" not in html and "小小的船" not in html  # codes only
    assert "专家0：60；专家1：95；专家2：85" in html
    assert f'<option value="{ok.pk}">专家甲</option>' in html and f'<option value="{same_school.pk}">' not in html
    assert "专家乙 与《" in html and "同校，须回避" in html
    assert html.count('value="adjudicate"') == 1  # C has a veto: no adjudication
    response = client.post(url, {"action": "adjudicate", "entry": scored.codes["B"], "points": "77", "reason": "复核"})
    assert response.status_code == 302 and Adjudication.objects.get().points == Decimal(77)
    client.post(url, {"action": "add_reviewer", "entry": scored.codes["B"], "expert": ok.pk})
    assert Assignment.objects.filter(entry_id=scored.codes["B"], expert=ok).exists()
    client.force_login(pool[1])
    assert client.get(url).status_code == 404


def test_the_admin_page_adds_a_reviewer_but_does_not_adjudicate(client, scored, more_experts, tree):
    ok = more_experts[0]
    client.force_login(tree.county_admin)
    url = reverse("review:disagreements", args=[scored.pk])
    html = client.get(url).content.decode()
    assert 'value="add_reviewer"' in html and 'value="adjudicate"' not in html
    assert client.post(url, {"action": "adjudicate", "entry": scored.codes["B"], "points": "1", "reason": "x"}
                       ).status_code == 404
    client.post(url, {"action": "add_reviewer", "entry": scored.codes["B"], "expert": ok.pk})
    assert Assignment.objects.filter(entry_id=scored.codes["B"], expert=ok, state="assigned").exists()


def test_the_api_adjudicates_and_adds_a_reviewer(client, scored, more_experts, bearer, tree, pool):
    ok, same_school, _declared = more_experts
    base = f"/api/v1/review/rounds/{scored.pk}/entries/{scored.codes['B']}"
    chair = bearer(scored.chair)
    response = client.put(f"{base}/adjudication", json.dumps({"points": "101", "reason": "x"}),
                          content_type="application/json", **chair)
    assert response.status_code == 400 and response.json()["detail"].startswith("裁定分应为 0 到 100")
    response = client.put(f"{base}/adjudication", json.dumps({"points": "75.5", "reason": "复核"}),
                          content_type="application/json", **chair)
    assert response.status_code == 200 and response.json()["points"] == "75.5"
    body = client.get(f"/api/v1/review/my/chair/rounds/{scored.pk}", **chair).json()
    flagged = {f["code"]: f for f in body["flagged"]}
    assert sorted(flagged) == sorted(services.RoundEntry.objects.filter(pk__in=[scored.codes["B"], scored.codes["C"]])
                                     .values_list("code", flat=True))
    options = client.get(f"{base}/reviewer-options", **chair).json()
    assert {o["expert_id"]: o["ok"] for o in options}[same_school.pk] is False
    response = client.post(f"{base}/reviewers", json.dumps({"expert_id": same_school.pk}),
                           content_type="application/json", **chair)
    assert response.status_code == 400 and "同校" in response.json()["detail"]
    response = client.post(f"{base}/reviewers", json.dumps({"expert_id": ok.pk}), content_type="application/json",
                           **bearer(tree.county_admin))
    assert response.status_code == 201 and response.json()["state"] == "assigned"
    response = client.post(f"{base}/adjudication/withdraw", json.dumps({"reason": "撤回"}),
                           content_type="application/json", **chair)
    assert response.status_code == 204 and not Adjudication.objects.exists()
    # Another unit's admin and a panel expert who is not the chair: 404.
    for user in (tree.other_county_admin, pool[1]):
        auth = bearer(user)
        assert client.put(f"{base}/adjudication", json.dumps({"points": "70", "reason": "x"}),
                          content_type="application/json", **auth).status_code == 404
        assert client.get(f"{base}/reviewer-options", **auth).status_code == 404


def test_the_assignment_page_still_works_with_an_added_reviewer(client, scored, more_experts, tree):
    """An entry with N + 1 reviewers is no error for the assignment plan (the solver warns only)."""
    lecture.add_reviewer(scored.chair, scored, scored.codes["B"], more_experts[0].pk)
    client.force_login(tree.county_admin)
    response = client.get(reverse("review:round_assignment", args=[scored.pk]))
    assert response.status_code == 200
    plan = services.assignment_plan(tree.county_admin, scored)
    row = next(e for e in plan.entries if e.round_entry.pk == scored.codes["B"])
    assert (len(row.assignments), row.missing) == (4, 0)


def test_the_chair_page_withdraws_and_refuses_with_a_message(client, scored):
    lecture.adjudicate(scored.chair, scored, scored.codes["B"], "75.5", "复核")
    client.force_login(scored.chair)
    url = reverse("review:chair_panel", args=[scored.pk])
    html = client.get(url).content.decode()
    assert "组长裁定 75.5 分（复核）" in html and 'value="withdraw"' in html
    response = client.post(url, {"action": "withdraw", "entry": scored.codes["B"], "reason": ""}, follow=True)
    assert "请写明撤回裁定的理由。" in response.content.decode() and Adjudication.objects.exists()
    client.post(url, {"action": "withdraw", "entry": scored.codes["B"], "reason": "误判"})
    assert not Adjudication.objects.exists()
    response = client.post(url, {"action": "adjudicate", "entry": scored.codes["A"], "points": "80", "reason": "x"},
                           follow=True)
    assert "这件作品的评分分歧未超过本轮阈值，无需裁定。" in response.content.decode()
