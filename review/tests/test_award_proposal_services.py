"""The awards mode of the proposal on a scored round: the set and its explanations, award numbers,
node rule and share caps of the campaign, applying through set_award (all or nothing, audited, the
expected-set guard), permissions and scope, the page and the API."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from audit.models import Event
from campaigns.enums import NodeRule
from jingpinke.errors import ServiceError
from review import award_proposal as awards
from review import services
from review.models import ScoreSheet
from review.tests.test_results import scored  # noqa: F401  (fixture)
from selection import services as selection_services
from selection.models import Entry, UnitLevel

pytestmark = pytest.mark.django_db
TWO = [{"category": "subject", "limit": 2}]
BASE = "/api/v1/review/rounds"


def _rows(view):
    return [(r.title, r.chosen, r.message) for r in view.rows]


def _awarded(scored):  # noqa: F811
    return set(Entry.objects.filter(pk__in=scored.entries.values(), awarded=True).values_list("pk", flat=True))


def test_award_proposal_with_explanations(tree, scored, django_assert_max_num_queries):  # noqa: F811
    with django_assert_max_num_queries(8):  # 4 entries, 12 sheets: no query per entry or sheet
        view = awards.build_award_proposal(tree.county_admin, scored, counts=TWO)
    assert _rows(view) == [("小小的船", True, ""), ("认识天地", True, ""),
                           ("看图说话", False, "同一目录节点已有更高分作品《认识天地》"),
                           ("数一数", False, "评审一票否决，不评本级荣誉")]
    assert view.status_text == "本轮评为县级精品课 2 门，总分 160（求解状态 OPTIMAL：已证明为最优解）。"
    view = awards.build_award_proposal(tree.county_admin, scored, counts=[{"category": "subject", "limit": 1}])
    assert _rows(view)[:2] == [("小小的船", True, ""), ("认识天地", False, "超出学科课程荣誉名额 1/1")]
    view = awards.build_award_proposal(tree.county_admin, scored, counts=[
        {"category": "subject", "limit": 3}, {"category": "subject", "subject": "语文", "limit": 1}])
    assert _rows(view)[:2] == [("小小的船", True, ""), ("认识天地", False, "超出学科课程（语文）荣誉名额 1/1")]


def test_numbers_are_required_and_checked(tree, scored):  # noqa: F811
    with pytest.raises(ServiceError) as exc:
        awards.build_award_proposal(tree.county_admin, scored, counts=[{"category": "subject", "limit": ""}])
    assert exc.value.message == "请先填写本级荣誉的数量：每个类别（或类别下的学科）评几门。"
    with pytest.raises(ServiceError) as exc:
        awards.build_award_proposal(tree.county_admin, scored, counts=TWO, force_in={scored.entries["D"]: ""})
    assert exc.value.message == "请为强制评为本级荣誉的作品《看图说话》填写理由。"


def test_level_without_an_award_name(tree, scored):  # noqa: F811
    scored.level.award_name = ""
    scored.level.save(update_fields=["award_name"])
    with pytest.raises(ServiceError) as exc:
        awards.build_award_proposal(tree.county_admin, scored, counts=TWO)
    assert exc.value.message == f"{scored.level.name}没有设置本级荣誉称号，无法评定。请联系主办单位在活动设置中填写。"


def test_node_rule_warn_does_not_limit_awards_per_node(tree, campaign, scored):  # noqa: F811
    campaign.node_rule = NodeRule.WARN
    campaign.save(update_fields=["node_rule"])
    view = awards.build_award_proposal(tree.county_admin, scored, counts=[{"category": "subject", "limit": 3}])
    assert [r.title for r in view.rows if r.chosen] == ["小小的船", "认识天地", "看图说话"]


def test_share_caps_for_awards_only(tree, campaign, scored):  # noqa: F811
    ScoreSheet.objects.filter(assignment__entry__entry_id=scored.entries["C"], veto__isnull=False).delete()  # C: 65
    three = [{"category": "subject", "limit": 3}]
    campaign.share_caps = [{"level": "county", "category": "subject", "subjects": ["语文"], "max_percent": 50,
                            "applies_to": "recommendations"}]
    campaign.save(update_fields=["share_caps"])
    assert [r.title for r in awards.build_award_proposal(tree.county_admin, scored, counts=three).rows
            if r.chosen] == ["小小的船", "认识天地", "数一数"]  # a cap on recommendations does not bind awards
    campaign.share_caps[0]["applies_to"] = "awards"
    campaign.save(update_fields=["share_caps"])
    view = awards.build_award_proposal(tree.county_admin, scored, counts=three)
    assert _rows(view) == [("小小的船", True, ""), ("数一数", True, ""), ("认识天地", False, "语文等学科占比将超过 50 %"),
                           ("看图说话", False, "语文等学科占比将超过 50 %")]


def test_awards_outside_the_round_hold_places(tree, campaign, nodes, county_entry, scored):  # noqa: F811
    outside = county_entry(node=nodes[2], title="江南")
    selection_services.set_award(tree.county_admin, outside.pk, True)
    view = awards.build_award_proposal(tree.county_admin, scored, counts=TWO)
    assert view.outside == ["江南"]
    assert _rows(view)[:2] == [("小小的船", True, ""), ("认识天地", False, "超出学科课程荣誉名额 2/2")]
    applied = awards.apply_award_proposal(tree.county_admin, scored, counts=TWO)
    assert (applied.awarded, applied.unawarded) == ([scored.entries["B"]], [])
    assert Entry.objects.get(pk=outside.pk).awarded


def test_apply_sets_the_flags_exactly(tree, scored):  # noqa: F811
    ids = scored.entries
    applied = awards.apply_award_proposal(tree.county_admin, scored, counts=TWO, expected=[ids["A"], ids["B"]])
    assert (applied.awarded, applied.unawarded) == ([ids["B"], ids["A"]], [])
    assert _awarded(scored) == {ids["A"], ids["B"]}
    assert Entry.objects.get(pk=ids["A"]).state == "pending"  # awarding does not recommend
    event = Event.objects.get(action="review.award_proposal.apply")
    assert event.after["counts"] == [{"category": "subject", "subject": "", "limit": 2}]
    assert Event.objects.filter(action="selection.award").count() == 2
    assert selection_services.action_label("review.award_proposal.apply") == "应用本级荣誉方案"
    applied = awards.apply_award_proposal(tree.county_admin, scored, counts=TWO, force_out={ids["A"]: "与市级课例重复"},
                                          force_in={ids["D"]: "试讲表现突出"})
    assert (applied.awarded, applied.unawarded) == ([ids["D"]], [ids["A"]])
    assert _awarded(scored) == {ids["B"], ids["D"]}
    assert Event.objects.filter(action="selection.unaward").count() == 1


def test_apply_rolls_back_on_a_refusal_and_lists_it(tree, scored, monkeypatch):  # noqa: F811
    ids = scored.entries
    real = selection_services.set_award

    def set_award(actor, entry_id, awarded, **kw):
        if entry_id == ids["A"]:
            raise ServiceError("已超过本级截止时间")
        return real(actor, entry_id, awarded, **kw)

    monkeypatch.setattr(selection_services, "set_award", set_award)
    with pytest.raises(ServiceError) as exc:
        awards.apply_award_proposal(tree.county_admin, scored, counts=TWO)
    assert exc.value.message == "有 1 项荣誉评定被拒绝，本级荣誉方案未应用（全部撤回）。第一项：《认识天地》：已超过本级截止时间"
    assert [(e["entry_id"], e["action"]) for e in exc.value.errors] == [(ids["A"], "award")]
    assert _awarded(scored) == set()  # B's award, set before A's refusal, is undone too
    assert not Event.objects.filter(action__in=["selection.award", "review.award_proposal.apply"]).exists()


def test_apply_shows_the_workflow_refusals(tree, campaign, scored):  # noqa: F811
    UnitLevel.objects.update_or_create(campaign=campaign, level=scored.level, unit=tree.county,
                                       defaults={"confirmed_at": timezone.now()})
    with pytest.raises(ServiceError) as exc:
        awards.apply_award_proposal(tree.county_admin, scored, counts=TWO)
    assert len(exc.value.errors) == 2
    assert exc.value.errors[0]["detail"].startswith("本单位本级的推荐汇总表已确认")
    assert _awarded(scored) == set()


def test_apply_refuses_a_changed_set(tree, scored):  # noqa: F811
    with pytest.raises(ServiceError) as exc:
        awards.apply_award_proposal(tree.county_admin, scored, counts=TWO, expected=[scored.entries["D"]])
    assert exc.value.message == "评分或作品状态已变化，本级荣誉方案与您看到的不同：请重新查看方案后再应用。"
    assert _awarded(scored) == set()


def test_permissions_and_scope(tree, scored, pool):  # noqa: F811
    chair = pool[0]
    with pytest.raises(PermissionDenied):
        awards.build_award_proposal(chair, scored, counts=TWO)
    with pytest.raises(PermissionDenied):
        awards.apply_award_proposal(chair, scored, counts=TWO)
    with pytest.raises(Http404):
        services.results_round(tree.other_county_admin, scored.pk)
    assert _awarded(scored) == set()


# --- the page ----------------------------------------------------------------------------------------------
def _url(scored):  # noqa: F811
    return f"/review/rounds/{scored.pk}/proposal/awards/"


def test_page_asks_for_numbers_then_shows_the_set(client, tree, scored, django_assert_max_num_queries):  # noqa: F811
    client.force_login(tree.county_admin)
    response = client.get(_url(scored))
    assert response.status_code == 200
    assert "请先填写荣誉数量" in response.text and 'name="count_subject"' in response.text
    assert 'name="count_subject__语文"' in response.text
    with django_assert_max_num_queries(11):  # 4 entries, 12 sheets: no query per entry or sheet
        response = client.get(_url(scored), {"count_subject": "2"})
    assert response.status_code == 200
    assert "本轮评为县级精品课 2 门，总分 160" in response.text
    assert "评审一票否决，不评本级荣誉" in response.text
    assert f'href="{_url(scored)}"' in client.get(f"/review/rounds/{scored.pk}/proposal/").text  # the mode switch


def test_page_apply_and_refusal(client, tree, scored, monkeypatch):  # noqa: F811
    ids = scored.entries
    client.force_login(tree.county_admin)
    data = {"count_subject": "2", "action": "apply", "expected": [ids["B"], ids["A"]]}
    response = client.post(_url(scored), data)
    assert response.status_code == 302 and response.url.endswith("?count_subject=2")
    assert _awarded(scored) == {ids["A"], ids["B"]}
    data = {"count_subject": "1", "action": "apply", "expected": [ids["B"]]}
    real = selection_services.set_award

    def set_award(actor, entry_id, awarded, **kw):
        if entry_id == ids["A"]:
            raise ServiceError("已超过本级截止时间")
        return real(actor, entry_id, awarded, **kw)

    monkeypatch.setattr(selection_services, "set_award", set_award)
    response = client.post(_url(scored), data)
    assert response.status_code == 400
    assert "有 1 项荣誉评定被拒绝" in response.text and "《认识天地》：已超过本级截止时间" in response.text
    assert _awarded(scored) == {ids["A"], ids["B"]}


def test_page_permissions(client, tree, scored, pool):  # noqa: F811
    client.force_login(pool[0])  # the chair: the recommend proposal is not his either
    assert client.get(_url(scored), {"count_subject": "2"}).status_code == 403
    assert client.get(f"/review/rounds/{scored.pk}/proposal/").status_code == 403
    client.force_login(tree.other_county_admin)
    assert client.get(_url(scored)).status_code == 404
    assert client.post(_url(scored), {"count_subject": "2", "action": "apply"}).status_code == 404
    assert _awarded(scored) == set()


# --- the API -----------------------------------------------------------------------------------------------
def test_api_proposal_and_apply(client, tree, scored, bearer):  # noqa: F811
    ids, auth = scored.entries, bearer(tree.county_admin)
    response = client.post(f"{BASE}/{scored.pk}/proposal/awards", {"counts": TWO}, content_type="application/json",
                           **auth)
    data = response.json()
    assert (data["chosen"], data["optimal"]) == ([ids["B"], ids["A"]], True)
    assert [(r["title"], r["explanation"]) for r in data["rows"] if not r["chosen"]] == [
        ("看图说话", "同一目录节点已有更高分作品《认识天地》"), ("数一数", "评审一票否决，不评本级荣誉")]
    response = client.post(f"{BASE}/{scored.pk}/proposal/awards/apply", {"counts": TWO, "expected": [ids["D"]]},
                           content_type="application/json", **auth)
    assert response.status_code == 400
    assert response.json()["detail"] == "评分或作品状态已变化，本级荣誉方案与您看到的不同：请重新查看方案后再应用。"
    response = client.post(f"{BASE}/{scored.pk}/proposal/awards/apply", {"counts": TWO, "expected": data["chosen"]},
                           content_type="application/json", **auth)
    assert response.json() == {"awarded": [ids["B"], ids["A"]], "unawarded": []}
    response = client.post(f"{BASE}/{scored.pk}/proposal/awards", {"counts": [{"category": "subject", "limit": -1}]},
                           content_type="application/json", **auth)
    assert response.status_code == 400
    assert response.json()["detail"] == "学科课程的荣誉数量“-1”无效：请填写 0 到 10000 之间的整数。"


def test_api_permissions(client, tree, scored, pool, bearer):  # noqa: F811
    url = f"{BASE}/{scored.pk}/proposal/awards"
    assert client.post(url, {"counts": TWO}, content_type="application/json", **bearer(pool[0])).status_code == 403
    assert client.post(url + "/apply", {"counts": TWO}, content_type="application/json",
                       **bearer(tree.other_county_admin)).status_code == 404
    assert _awarded(scored) == set()

