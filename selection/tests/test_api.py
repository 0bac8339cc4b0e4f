"""REST API of the selection workflow, with the session and with a Bearer token: lists with
filters and sorting, an entry with its history, the decisions, the unit's standing (quotas,
shares), confirm / unlock / reopen, and the progress board; scope and refusals."""

import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import services as campaign_services
from courses.models import Period, Resource
from media.models import StoredFile
from orgs.models import Unit
from selection import services
from selection.tests.helpers import entry_at, up_to_county

pytestmark = pytest.mark.django_db
BASE = "/api/v1/selection"


def post(client, path, data=None, **extra):
    return client.post(path, json.dumps(data or {}), content_type="application/json", **extra)


def second_school_course(make_course, tree, node):
    """A course of another school of 赤坎区 on ``node``, recommended by it to the county."""
    school = Unit.objects.get_or_create(name="赤坎区第二小学", code="440802002", kind="school", parent=tree.county)[0]
    course = make_course(node=node, school=school)
    services.decide(tree.county_admin, entry_at(course, "school").pk, "recommend")
    return entry_at(course, "county")


def add_file(course, status, kind="video"):
    period, _ = Period.objects.get_or_create(course=course, number=1)
    stored = StoredFile.objects.create(owner=course.lead_teacher, storage_key=str(uuid.uuid4()), size=1,
                                       sha256="0" * 64)
    Resource.objects.create(period=period, slot_kind=kind, file=stored, status=status)


@pytest.fixture
def county_desk(make_course, tree, nodes):
    """Three courses of 赤坎区's school at the county (语文, 数学, 物理), one still at the school,
    and one of the neighbouring county."""
    chinese = make_course(node=nodes[0], title="秋天")
    maths = make_course(node=nodes[3], title="10以内的加法")
    physics = make_course("experiment", node=nodes[6], title="探究平面镜成像")
    for c in (chinese, maths, physics):
        up_to_county(c, tree)
    at_school = make_course(node=nodes[1], title="小小的船")
    neighbour = make_course(node=nodes[2], school=tree.other_school, teacher=tree.other_teacher, title="江南")
    add_file(chinese, "pass")
    add_file(maths, "pass")
    add_file(maths, "fail", "lesson_plan")
    return {"chinese": chinese, "maths": maths, "physics": physics, "at_school": at_school, "neighbour": neighbour}


def test_unauthenticated_is_401(client, campaign):
    assert client.get(f"{BASE}/entries").status_code == 401


def test_list_with_a_bearer_token_sees_only_the_county(client, tree, campaign, county_desk, bearer,
                                                       django_assert_max_num_queries):
    headers = bearer(tree.county_admin)
    with django_assert_max_num_queries(6):
        body = client.get(f"{BASE}/entries", {"held_by": tree.county.pk, "sort": "title"}, **headers).json()
    assert body["count"] == 3
    assert [i["title"] for i in body["items"]] == sorted(["秋天", "10以内的加法", "探究平面镜成像"])
    item = next(i for i in body["items"] if i["title"] == "秋天")
    assert {k: item[k] for k in ("level", "unit_name", "from_unit_name", "school_name", "county_name", "state_label",
                                 "compliance", "compliance_label", "can_decide", "node_path")} == {
        "level": "county", "unit_name": "赤坎区", "from_unit_name": "湛江市第二十一小学",
        "school_name": "湛江市第二十一小学", "county_name": "赤坎区", "state_label": "待处理", "compliance": "pass",
        "compliance_label": "全部通过", "can_decide": True, "node_path": "第一单元 › 第1课"}
    assert item["textbook"] == {"stage": "primary", "stage_label": "小学", "grade": "一年级", "subject": "语文",
                                "version": "统编版", "volume": "上册", "label": "统编版语文一年级上册"}
    # Without held_by: the school-level entries of his school too (3 recommended by the school + 1 pending).
    everything = client.get(f"{BASE}/entries", **headers).json()
    assert everything["count"] == 7
    assert "江南" not in [i["title"] for i in everything["items"]]


def test_filters(client, tree, campaign, county_desk):
    client.force_login(tree.county_admin)

    def titles(**params):
        body = client.get(f"{BASE}/entries", {"held_by": tree.county.pk, "campaign": campaign.pk, **params}).json()
        return sorted(i["title"] for i in body["items"])

    assert titles(category="experiment") == ["探究平面镜成像"]
    assert titles(subject="数学") == ["10以内的加法"]
    assert titles(grade="八年级") == ["探究平面镜成像"]
    assert titles(stage="primary") == ["10以内的加法", "秋天"]
    assert titles(compliance="fail") == ["10以内的加法"]
    assert titles(compliance="none") == ["探究平面镜成像"]
    assert titles(node=county_desk["chinese"].node_id) == ["秋天"]
    assert titles(unit=tree.school.pk) == ["10以内的加法", "探究平面镜成像", "秋天"]
    assert titles(unit=tree.other_school.pk) == []
    assert titles(q="平面镜") == ["探究平面镜成像"]
    services.decide(tree.county_admin, entry_at(county_desk["maths"], "county").pk, "recommend")
    services.set_award(tree.county_admin, entry_at(county_desk["chinese"], "county").pk, True)
    assert titles(state="recommended") == ["10以内的加法"]
    assert titles(awarded="true") == ["秋天"]
    assert titles(awarded="false") == ["10以内的加法", "探究平面镜成像"]
    body = client.get(f"{BASE}/entries", {"held_by": tree.county.pk, "sort": "-rank"}).json()
    assert [i["rank"] for i in body["items"]] == [1, None, None]
    levels = client.get(f"{BASE}/entries", {"level": "school", "state": "pending"}).json()
    assert [i["title"] for i in levels["items"]] == ["小小的船"]


def test_scope_other_county_gets_404(client, tree, campaign, county_desk, bearer):
    entry = entry_at(county_desk["chinese"], "county")
    headers = bearer(tree.other_county_admin)
    body = client.get(f"{BASE}/entries", **headers).json()
    assert [i["title"] for i in body["items"]] == ["江南"]
    assert client.get(f"{BASE}/entries/{entry.pk}", **headers).status_code == 404
    r = post(client, f"{BASE}/entries/{entry.pk}/recommend", **headers)
    assert (r.status_code, r.json()["detail"]) == (404, "未找到该对象，或您无权查看。")
    assert client.get(f"{BASE}/campaigns/{campaign.pk}/units/{tree.county.pk}", **headers).status_code == 404
    assert client.get(f"{BASE}/campaigns/{campaign.pk}/progress", {"unit": tree.county.pk},
                      **headers).status_code == 404
    # A teacher sees no entries at all, and the school's admin not the county's.
    client.force_login(tree.teacher)
    assert client.get(f"{BASE}/entries").json()["count"] == 0
    client.force_login(tree.school_admin)
    assert client.get(f"{BASE}/entries/{entry.pk}").status_code == 404
    entry.refresh_from_db()
    assert entry.state == "pending"


def test_decisions_with_history(client, tree, campaign, county_desk, django_assert_max_num_queries):
    client.force_login(tree.county_admin)
    chinese = entry_at(county_desk["chinese"], "county")
    r = post(client, f"{BASE}/entries/{chinese.pk}/return", {"reason": "  "})
    assert (r.status_code, r.json()["detail"]) == (400, "退回时请写明理由，告诉教师需要修改什么。")
    assert r.json()["errors"] == [{"rule": "reason", "needs_reason": False}]
    r = post(client, f"{BASE}/entries/{chinese.pk}/return", {"reason": "请补充学习任务单"})
    assert (r.status_code, r.json()["state_label"], r.json()["reason"]) == (200, "已退回", "请补充学习任务单")
    maths = entry_at(county_desk["maths"], "county")
    r = post(client, f"{BASE}/entries/{maths.pk}/recommend", {"rank": 3})
    body = r.json()
    assert (body["state"], body["rank"]) == ("recommended", 3)
    assert [(s["level"], s["unit_name"], s["state"]) for s in body["chain"]] == [
        ("school", "湛江市第二十一小学", "recommended"), ("county", "赤坎区", "recommended"), ("city", "湛江市", "pending")]
    r = post(client, f"{BASE}/entries/{maths.pk}/award")
    assert (r.json()["awarded"], r.json()["award_name"]) == (True, "县级精品课")
    r = post(client, f"{BASE}/entries/{maths.pk}/unaward")
    assert r.json()["awarded"] is False
    r = client.post(f"{BASE}/entries/{maths.pk}/undo")  # no body at all
    assert (r.json()["state"], r.json()["rank"]) == ("pending", None)
    physics = entry_at(county_desk["physics"], "county")
    r = post(client, f"{BASE}/entries/{physics.pk}/decline", {"reason": "与本区其他课程重复"})
    assert r.json()["state_label"] == "未推荐"
    r = post(client, f"{BASE}/entries/{physics.pk}/recommend")
    assert (r.status_code, r.json()["detail"]) == (400, "该课程当前状态为“未推荐”，不能执行此操作。")
    with django_assert_max_num_queries(10):
        body = client.get(f"{BASE}/entries/{maths.pk}").json()
    county, school = tree.county_admin.display_name, tree.school_admin.display_name
    assert [(h["action_label"], h["actor"]) for h in body["history"]] == [
        ("到达学校", tree.teacher.display_name), ("推荐", school), ("推荐", county), ("评为本级荣誉", county),
        ("取消本级荣誉", county), ("撤销决定", county)]
    returned = client.get(f"{BASE}/entries/{chinese.pk}").json()["history"][-1]
    assert (returned["action"], returned["reason"], returned["after"]["state"]) == (
        "selection.return", "请补充学习任务单", "returned")


def test_quota_and_node_refusals_say_why(client, tree, campaign, make_course, nodes):
    campaign_services.set_quota_override(tree.city_admin, campaign, level_kind="county", unit=tree.county,
                                         category="experiment", limit=1)
    first, second = (up_to_county(make_course("experiment", nodes[i]), tree) for i in (6, 7))
    client.force_login(tree.county_admin)
    assert post(client, f"{BASE}/entries/{first.pk}/recommend").status_code == 200
    r = post(client, f"{BASE}/entries/{second.pk}/recommend")
    assert (r.status_code, r.json()["detail"]) == (
        400, "名额已满：实验教学 已推荐 1/1。请先撤销其他推荐，或联系上级调整名额。")
    campaign.node_rule = "warn"
    campaign.save()
    a, b = make_course(node=nodes[1]), make_course(node=nodes[1])
    client.force_login(tree.school_admin)
    post(client, f"{BASE}/entries/{entry_at(a, 'school').pk}/recommend")
    r = post(client, f"{BASE}/entries/{entry_at(b, 'school').pk}/recommend")
    assert r.status_code == 400 and r.json()["errors"] == [{"rule": "node", "needs_reason": True}]
    assert "请填写理由" in r.json()["detail"]
    r = post(client, f"{BASE}/entries/{entry_at(b, 'school').pk}/recommend", {"node_reason": "两个班分别执教"})
    assert (r.status_code, r.json()["node_reason"]) == (200, "两个班分别执教")


def test_standing_and_share_board(client, tree, campaign, make_course, nodes, bearer,
                                  django_assert_max_num_queries):
    campaign.target_shares = [{"level": "county", "category": "subject", "subjects": ["物理"], "min_percent": 30,
                               "note": "适当加大科学类推荐数量"}]
    campaign.share_caps = [{"level": "county", "category": "subject", "subjects": ["语文", "数学"],
                            "max_percent": 75, "applies_to": "recommendations"}]
    campaign.save()
    for node in (nodes[0], nodes[3], nodes[4], nodes[7]):
        services.decide(tree.county_admin, up_to_county(make_course(node=node), tree).pk, "recommend")
    pending = second_school_course(make_course, tree, nodes[0])
    headers = bearer(tree.county_admin)
    # the entries counted in 3 GROUP BY (by state, the recommended by subject, node conflicts)
    with django_assert_max_num_queries(14):
        body = client.get(f"{BASE}/campaigns/{campaign.pk}/units/{tree.county.pk}", **headers).json()
    assert (body["level"], body["level_name"], body["award_name"], body["confirmed"], body["open"]) == (
        "county", "县级初选", "县级精品课", False, True)
    assert body["counts"] == {"pending": 1, "returned": 0, "recommended": 4, "declined": 0, "awarded": 0}
    assert body["node_conflicts"] == 1  # the pending 语文 course is on the node of a recommended one
    assert [q["text"] for q in body["board"]["quotas"]] == [
        "学科课程 已推荐 4/25", "特殊教育 已推荐 0/1", "实验教学 已推荐 0/10"]
    cap = body["board"]["caps"][0]
    assert (cap["percent"], cap["ok"], cap["text"]) == (
        75.0, True, "学科课程中 语文+数学 合计 3/4，当前 75 %，上限 75 %")
    assert body["board"]["targets"][0]["text"] == (
        "学科课程中 物理 合计 1/4（25 %），目标不低于 30 %。适当加大科学类推荐数量")
    assert body["board"]["targets"][0]["met"] is False
    assert body["seconds_left"] > 29 * 86400 and body["time_left_text"].startswith("剩 29 天")
    assert (body["can_confirm"], body["can_unlock"], body["can_reopen"]) == (True, False, False)
    share = client.get(f"{BASE}/campaigns/{campaign.pk}/units/{tree.county.pk}/share-board", **headers).json()
    assert share == body["board"]
    # Confirming with an entry still pending is refused; decline it, then confirm.
    r = post(client, f"{BASE}/campaigns/{campaign.pk}/units/{tree.county.pk}/confirm", **headers)
    assert (r.status_code, r.json()["detail"]) == (400, "还有待处理的课程。请先逐一推荐、未推荐或退回，再确认汇总表。")
    post(client, f"{BASE}/entries/{pending.pk}/decline", **headers)
    r = post(client, f"{BASE}/campaigns/{campaign.pk}/units/{tree.county.pk}/confirm", **headers)
    assert (r.status_code, r.json()["confirmed"], r.json()["confirmed_by"]) == (200, True, tree.county_admin.display_name)
    r = post(client, f"{BASE}/entries/{pending.pk}/undo", **headers)
    assert r.status_code == 400 and "已锁定" in r.json()["detail"]
    # Only the level above unlocks, with a reason.
    r = post(client, f"{BASE}/campaigns/{campaign.pk}/units/{tree.county.pk}/unlock", {"reason": "改一下"}, **headers)
    assert (r.status_code, r.json()["detail"]) == (403, "只有上级单位管理员可以解锁。")
    client.force_login(tree.city_admin)
    r = post(client, f"{BASE}/campaigns/{campaign.pk}/units/{tree.county.pk}/unlock", {"reason": " "})
    assert (r.status_code, r.json()["detail"]) == (400, "解锁时请写明理由。")
    r = post(client, f"{BASE}/campaigns/{campaign.pk}/units/{tree.county.pk}/unlock", {"reason": "区里申请调整"})
    assert (r.json()["confirmed"], r.json()["unlock_reason"]) == (False, "区里申请调整")


def test_share_cap_over_the_limit_blocks_the_confirmation(client, tree, campaign, make_course, nodes):
    campaign.share_caps = [{"level": "county", "category": "subject", "subjects": ["语文"], "max_percent": 50}]
    campaign.save()
    for node in (nodes[0], nodes[1], nodes[3]):
        services.decide(tree.county_admin, up_to_county(make_course(node=node), tree).pk, "recommend")
    client.force_login(tree.county_admin)
    board = client.get(f"{BASE}/campaigns/{campaign.pk}/units/{tree.county.pk}/share-board").json()
    assert (board["caps"][0]["text"], board["caps"][0]["ok"]) == ("学科课程中 语文 合计 2/3，当前 67 %，上限 50 %", False)
    r = post(client, f"{BASE}/campaigns/{campaign.pk}/units/{tree.county.pk}/confirm")
    assert (r.status_code, r.json()["detail"], r.json()["errors"]) == (
        400, "学科占比超过上限：学科课程中 语文 合计 2/3，当前 67 %，上限 50 %。请调整推荐，使其他学科的课程占比提高。",
        [{"rule": "share", "needs_reason": False}])


def test_deadline_passes_and_the_city_reopens(client, tree, campaign, make_course):
    entry = up_to_county(make_course(), tree)
    campaign.levels.filter(kind="county").update(deadline=timezone.now() - timedelta(seconds=1))
    client.force_login(tree.county_admin)
    r = post(client, f"{BASE}/entries/{entry.pk}/recommend")
    assert r.status_code == 400 and r.json()["detail"].startswith("县级初选已于 ")
    assert r.json()["errors"] == [{"rule": "deadline", "needs_reason": False}]
    standing = client.get(f"{BASE}/campaigns/{campaign.pk}/units/{tree.county.pk}").json()
    assert (standing["open"], standing["time_left_text"]) == (False, "已截止")
    r = post(client, f"{BASE}/campaigns/{campaign.pk}/units/{tree.county.pk}/reopen",
             {"deadline": "2099-01-01", "reason": "补报"})
    assert (r.status_code, r.json()["detail"]) == (403, "只有上级单位管理员可以重新开放。")
    client.force_login(tree.city_admin)
    r = post(client, f"{BASE}/campaigns/{campaign.pk}/units/{tree.county.pk}/reopen",
             {"deadline": "明天", "reason": "补报"})
    assert (r.status_code, r.json()["detail"]) == (400, "“明天”不是有效的日期，请写成 2024-09-20 或 2024-09-20 17:00。")
    r = post(client, f"{BASE}/campaigns/{campaign.pk}/units/{tree.county.pk}/reopen",
             {"deadline": "2020-01-01", "reason": "补报"})
    assert (r.status_code, r.json()["detail"]) == (400, "新的截止时间必须晚于现在。")
    r = post(client, f"{BASE}/campaigns/{campaign.pk}/units/{tree.county.pk}/reopen",
             {"deadline": "2099-01-01", "reason": "系统故障补报"})
    assert (r.status_code, r.json()["deadline"]) == (200, "2099-01-01T23:59:59+08:00")
    client.force_login(tree.county_admin)
    assert post(client, f"{BASE}/entries/{entry.pk}/recommend").json()["state"] == "recommended"


def test_progress_board(client, tree, campaign, make_course, nodes, bearer, django_assert_max_num_queries):
    # 赤坎区 recommends two, one still pending; the city-owned school recommended one and confirmed.
    for node in (nodes[0], nodes[3]):
        services.decide(tree.county_admin, up_to_county(make_course(node=node), tree).pk, "recommend")
    second_school_course(make_course, tree, nodes[0])
    city_course = make_course("special", node=nodes[1], school=tree.city_school)
    services.decide(tree.city_admin, entry_at(city_course, "school").pk, "recommend")
    services.confirm(tree.city_admin, campaign, "school", tree.city_school)
    headers = bearer(tree.city_admin)
    # token (2), memberships, campaign, then a fixed 11 for any number of units (counts, the recommended by
    # subject, node conflicts: 3 GROUP BY; the subjects held, as a quota counts per subject)
    with django_assert_max_num_queries(15):
        body = client.get(f"{BASE}/campaigns/{campaign.pk}/progress", **headers).json()
    assert (body["unit_name"], [c["unit_name"] for c in body["children"]]) == (
        "湛江市", ["赤坎区", "霞山区", "湛江市第一中学"])
    county, other, school = body["children"]
    assert [q["text"] for q in county["quotas"]] == ["学科课程 已推荐 2/25", "特殊教育 已推荐 0/1", "实验教学 已推荐 0/10"]
    assert (county["counts"]["pending"], county["node_conflicts"], county["confirmed"], county["behind"]) == (
        1, 1, False, True)
    assert county["seconds_left"] > 29 * 86400
    assert other["counts"] == {"pending": 0, "returned": 0, "recommended": 0, "declined": 0, "awarded": 0}
    assert (school["level"], school["confirmed"], school["behind"]) == ("school", True, False)
    assert [q["text"] for q in school["quotas"]] == [
        "学科课程 已推荐 0（不限名额）", "特殊教育（语文） 已推荐 1/1", "实验教学 已推荐 0（不限名额）"]
    # The county admin's board lists his schools.
    client.force_login(tree.county_admin)
    body = client.get(f"{BASE}/campaigns/{campaign.pk}/progress").json()
    assert [(c["unit_name"], c["counts"]["recommended"]) for c in body["children"]] == [
        ("湛江市第二十一小学", 2), ("赤坎区第二小学", 1)]
    # A school admin has no board.
    client.force_login(tree.school_admin)
    r = client.get(f"{BASE}/campaigns/{campaign.pk}/progress")
    assert (r.status_code, r.json()["detail"]) == (404, "未找到该对象，或您无权查看。")


def test_openapi_documents_the_endpoints(client, tree):
    client.force_login(tree.county_admin)
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in ["/entries", "/entries/{entry_id}", "/entries/{entry_id}/recommend", "/entries/{entry_id}/return",
                 "/entries/{entry_id}/decline", "/entries/{entry_id}/undo", "/entries/{entry_id}/award",
                 "/campaigns/{campaign_id}/units/{unit_id}/confirm", "/campaigns/{campaign_id}/units/{unit_id}/unlock",
                 "/campaigns/{campaign_id}/units/{unit_id}/reopen", "/campaigns/{campaign_id}/progress",
                 "/campaigns/{campaign_id}/units/{unit_id}/summary.xlsx",
                 "/campaigns/{campaign_id}/units/{unit_id}/share-board"]:
        assert f"/api/v1/selection{path}" in paths, path

