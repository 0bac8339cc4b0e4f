"""The review API: rubrics, expert pools, rounds, manual assignment and the expert's blind tasks."""

import json

from review.models import Assignment, ReviewRound


def api(client, method, url, headers, body=None):
    kwargs = {"content_type": "application/json", **headers}
    if body is not None:
        kwargs["data"] = json.dumps(body)
    return getattr(client, method)(f"/api/v1/review{url}", **kwargs)


def test_rubrics_read_and_write(client, tree, campaign, bearer):
    owner = bearer(tree.city_admin)
    rubrics = api(client, "get", f"/campaigns/{campaign.pk}/rubrics", owner).json()
    assert [r["category"] for r in rubrics] == ["subject", "special", "experiment"]
    subject = rubrics[0]
    assert [d["name"] for d in subject["dimensions"]] == ["目标与内容", "教学过程与方法", "教学资源", "技术规范"]
    body = {k: subject[k] for k in ("title", "total_points", "dimensions", "vetoes")}
    body["total_points"] = "90"
    response = api(client, "put", f"/campaigns/{campaign.pk}/rubrics/subject", owner, body)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"row": "评价指标", "column": "满分",
                                          "message": "各评价要点的分值（乘以权重）合计 100 分，与满分 90 分不一致：请调整分值，使合计等于满分。"}]
    body["total_points"], body["vetoes"] = "100", ["非原创"]
    response = api(client, "put", f"/campaigns/{campaign.pk}/rubrics/subject", owner, body)
    assert response.status_code == 200
    assert response.json()["vetoes"] == ["非原创"]
    county = bearer(tree.county_admin)
    assert api(client, "put", f"/campaigns/{campaign.pk}/rubrics/subject", county, body).status_code == 403


def test_rounds_assignments_and_blind_tasks(client, tree, campaign, nodes, county_entry, pool, bearer):
    county_entry(node=nodes[0], title="认识天地")
    admin = bearer(tree.county_admin)
    response = api(client, "post", f"/campaigns/{campaign.pk}/rounds", admin, {
        "unit_id": tree.county.pk, "title": "赤坎区初选", "category": "subject", "reviewers_per_entry": 1,
        "opens_at": "2020-09-01T08:00:00", "closes_at": "2099-09-05T18:00:00"})
    assert response.status_code == 201, response.json()
    detail = response.json()
    assert (detail["level"], detail["entries"], detail["status"]) == ("county", 1, "draft")
    assert detail["closes_at"] == "2099-09-05T10:00:00Z"  # a time without zone is Beijing time
    round_id, item = detail["id"], detail["items"][0]
    assert item["title"] == "认识天地" and item["missing"] == 1
    panel = api(client, "post", f"/rounds/{round_id}/panel", admin, {"expert_id": pool[0].pk, "is_chair": True}).json()
    assert panel["panel"] == [{"expert_id": pool[0].pk, "name": "专家0", "is_chair": True}]
    response = api(client, "post", f"/rounds/{round_id}/assignments", admin,
                   {"entry_id": item["id"], "expert_id": pool[1].pk})
    assert response.status_code == 400
    assert response.json()["detail"] == "这位专家不在本轮评审组中：请先把他加入评审组。"
    response = api(client, "post", f"/rounds/{round_id}/assignments", admin,
                   {"entry_id": item["id"], "expert_id": pool[0].pk})
    assert response.status_code == 201
    assert api(client, "post", f"/rounds/{round_id}/publish", admin).json()["status"] == "published"

    tasks = api(client, "get", "/my/tasks", bearer(pool[0])).json()
    assert [(t["code"], t["title"], t["round_title"], t["is_chair"], t["window"]) for t in tasks] == [
        (item["code"], "认识天地", "县级初选 · 学科课程 · 视频评审", True, "open")]
    text = json.dumps(tasks, ensure_ascii=False)
    for secret in (tree.teacher.real_name, tree.school.name, tree.county.name, "赤坎区初选"):
        assert secret not in text
    assert api(client, "get", "/my/tasks", bearer(pool[1])).json() == []


def test_round_scope_in_the_api(client, tree, county_round, bearer):
    other = bearer(tree.other_county_admin)
    assert api(client, "get", "/rounds", other).json() == []
    assert api(client, "get", f"/rounds/{county_round.pk}", other).status_code == 404
    assert [r["id"] for r in api(client, "get", "/rounds", bearer(tree.city_admin)).json()] == [county_round.pk]
    response = api(client, "post", f"/campaigns/{county_round.campaign_id}/rounds", other, {
        "unit_id": tree.county.pk, "title": "x", "category": "subject",
        "opens_at": "2020-09-01T08:00:00", "closes_at": "2099-09-05T18:00:00"})
    assert response.status_code == 403
    assert response.json()["detail"] == "只有持有这些作品的单位（本级）的管理员可以为本单位创建评审轮次。"
    assert api(client, "get", "/my/tasks", bearer(tree.teacher)).status_code == 404


def test_unassign_in_the_api(client, tree, county_round, pool, bearer):
    from review import services

    services.add_panel_member(tree.county_admin, county_round, pool[0].pk)
    a = services.assign(tree.county_admin, county_round, county_round.round_entries.first().pk, pool[0].pk)
    assert api(client, "delete", f"/rounds/{county_round.pk}/assignments/{a.pk}", bearer(tree.other_county_admin)
               ).status_code == 404
    assert api(client, "delete", f"/rounds/{county_round.pk}/assignments/{a.pk}", bearer(tree.county_admin)
               ).status_code == 204
    assert Assignment.objects.count() == 0
    assert ReviewRound.objects.count() == 1


def test_expert_pool_in_the_api(client, tree, bearer):
    admin = bearer(tree.county_admin)
    response = api(client, "post", "/experts", admin, {
        "unit_id": tree.county.pk, "real_name": "李明", "mobile": "13911112222", "work_unit": "440802001",
        "subjects": ["语文"], "stages": ["小学"], "max_load": 12})
    assert response.status_code == 201
    created = response.json()
    assert (created["work_unit"], created["stages"], created["max_load"]) == ("湛江市第二十一小学", ["primary"], 12)
    assert len(created["initial_password"]) >= 8
    listed = api(client, "get", f"/experts?unit_id={tree.county.pk}", admin).json()
    assert [e["real_name"] for e in listed] == ["李明"]
    assert api(client, "get", f"/experts?unit_id={tree.county.pk}", bearer(tree.other_county_admin)).status_code == 404


def test_the_expert_declares_a_conflict_in_the_api(client, tree, county_round, pool, bearer):
    from review import services

    services.add_panel_member(tree.county_admin, county_round, pool[0].pk)
    a = services.assign(tree.county_admin, county_round, county_round.round_entries.first().pk, pool[0].pk)
    services.publish_round(tree.county_admin, county_round)
    url = f"/my/tasks/{a.pk}/conflict"
    assert api(client, "post", url, bearer(pool[1]), {"reason": "亲属"}).status_code == 404
    response = api(client, "post", url, bearer(pool[0]), {"reason": ""})
    assert response.status_code == 400
    assert response.json()["detail"] == "请写明回避理由，例如“亲属关系”或“曾指导过这节课”。"
    assert api(client, "post", url, bearer(pool[0]), {"reason": "亲属"}).status_code == 204
    assert Assignment.objects.count() == 0
