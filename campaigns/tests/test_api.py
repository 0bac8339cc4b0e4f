"""REST API: every page action, with the session and with a Bearer token."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns import services
from campaigns.models import Campaign, DeadlineOverride, Quota
from jingpinke.s3server import body_of, served

BASE = "/api/v1/campaigns"


def put(client, path, data, **extra):
    return client.put(path, json.dumps(data), content_type="application/json", **extra)


def test_list_with_bearer_token(client, tree, zhanjiang, guangdong, bearer, django_assert_max_num_queries):
    headers = bearer(tree.county_admin)
    with django_assert_max_num_queries(6):
        response = client.get(BASE, **headers)
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], [i["title"] for i in body["items"]]) == (
        2, ["2024年广东省基础教育精品课遴选", "2024年湛江市基础教育精品课遴选"])
    assert [i["can_change"] for i in body["items"]] == [False, False]


def test_unauthenticated_is_401(client, zhanjiang):
    response = client.get(BASE)
    assert response.status_code == 401


def test_detail_has_the_nested_configuration(client, tree, zhanjiang, django_assert_max_num_queries):
    client.force_login(tree.teacher)
    with django_assert_max_num_queries(15):
        body = client.get(f"{BASE}/{zhanjiang.pk}").json()
    assert [lv["kind"] for lv in body["levels"]] == ["school", "county", "city"]
    assert body["levels"][1]["deadline"] == "2024-09-20T23:59:59+08:00"
    assert [c["category"] for c in body["categories"]] == ["subject", "special", "experiment"]
    assert body["categories"][1]["slots"][4] == {"kind": "exercises", "label": "作业练习", "required": False,
                                                 "formats": ["pdf", "docx"], "max_size_mb": 50, "order": 5}
    assert {s["stage"]: s["max_duration_s"] for s in body["categories"][0]["specs"]} == {
        "junior": 1200, "primary": 900, "senior": 1200, "special": 1200}
    assert [(q["level"], q["category"], q["limit"]) for q in body["quotas"]][-1] == ("county", "subject", 25)
    assert [c["name"] for c in body["contacts"]] == ["李仁勃", "包丹", "林力文", "周剑伟"]
    assert body["share_caps"][0]["max_percent"] == 80
    assert body["can_change"] is False


def test_owner_updates_every_part_with_a_token(client, tree, zhanjiang, bearer):
    h = bearer(tree.city_admin)
    pk = zhanjiang.pk
    r = client.patch(f"{BASE}/{pk}", json.dumps({"status": "closed"}), content_type="application/json", **h)
    assert (r.status_code, r.json()["status"]) == (200, "closed")
    r = put(client, f"{BASE}/{pk}/categories", [{"category": "subject", "max_team_members": 5},
                                                {"category": "special"}, {"category": "experiment"}], **h)
    assert [c["max_team_members"] for c in r.json()] == [5, 4, 4]
    r = put(client, f"{BASE}/{pk}/categories/special/slots",
            [{"kind": "video", "formats": ["mp4"], "max_size_mb": 1024}], **h)
    assert r.json() == [{"kind": "video", "label": "", "required": True, "formats": ["mp4"], "max_size_mb": 1024,
                         "order": 1}]
    r = put(client, f"{BASE}/{pk}/categories/experiment/specs", [{"stage": "", "min_duration_s": 2400,
                                                                    "max_duration_s": 2700}], **h)
    assert (r.json()[0]["stage"], r.json()[0]["max_duration_s"]) == ("", 2700)
    r = put(client, f"{BASE}/{pk}/levels", [{"kind": "school", "name": "学校推荐"},
                                            {"kind": "county", "name": "县级初选", "deadline": "2024-09-19"},
                                            {"kind": "city", "name": "市级遴选", "deadline": "2024-09-27T17:00:00+08:00"}],
            **h)
    assert [lv["deadline"] for lv in r.json()] == [None, "2024-09-19T23:59:59+08:00", "2024-09-27T17:00:00+08:00"]
    r = put(client, f"{BASE}/{pk}/quotas/defaults", [{"level": "county", "category": "subject", "limit": 24}], **h)
    assert [(q["level"], q["limit"]) for q in r.json()] == [("county", 24)]
    r = put(client, f"{BASE}/{pk}/rules", {"node_rule": "warn", "new_textbook_grades": ["一年级"]}, **h)
    assert (r.json()["node_rule"], r.json()["share_caps"]) == ("warn", [])
    r = put(client, f"{BASE}/{pk}/contacts", [{"unit_name": "装备中心", "name": "李仁勃", "phone": "3201457"}], **h)
    assert r.json() == [{"category": "", "unit_name": "装备中心", "name": "李仁勃", "phone": "3201457", "email": ""}]


def test_validation_errors_are_chinese_and_nothing_is_lost(client, tree, zhanjiang):
    client.force_login(tree.city_admin)
    r = put(client, f"{BASE}/{zhanjiang.pk}/levels", [{"kind": "county", "name": "县级", "deadline": "明天"}])
    assert r.status_code == 400
    assert r.json()["errors"] == [{"row": "县（市、区）层级", "column": "推荐截止时间",
                                   "message": "“明天”不是有效的日期，请写成 2024-09-20 或 2024-09-20 17:00。"}]
    assert zhanjiang.levels.count() == 3


def test_effective_deadlines_and_overrides(client, tree, zhanjiang, bearer):
    h = bearer(tree.county_admin)
    r = put(client, f"{BASE}/{zhanjiang.pk}/deadline-overrides", {"level": "school", "unit_id": tree.county.pk,
                                                                 "deadline": "2024-09-10", "reason": "初选"}, **h)
    assert r.status_code == 200
    assert r.json()["deadline"] == "2024-09-10T23:59:59+08:00"
    rows = client.get(f"{BASE}/{zhanjiang.pk}/deadlines?unit_id={tree.school.pk}", **h).json()
    assert [(d["level"], d["deadline"], d["deadline_source"]) for d in rows] == [
        ("school", "2024-09-10T23:59:59+08:00", "继承自赤坎区"), ("county", "2024-09-20T23:59:59+08:00", "活动默认"),
        ("city", "2024-09-27T23:59:59+08:00", "活动默认")]
    assert rows[0]["deadline_source_unit_id"] == tree.county.pk
    listed = client.get(f"{BASE}/{zhanjiang.pk}/deadline-overrides", **h).json()
    assert [(o["unit_code"], o["level"], o["reason"]) for o in listed] == [("440802", "school", "初选")]
    r = client.delete(f"{BASE}/{zhanjiang.pk}/deadline-overrides/{listed[0]['id']}", **h)
    assert (r.status_code, DeadlineOverride.objects.count()) == (200, 0)


def test_my_own_deadlines_without_unit_id(client, tree, zhanjiang):
    client.force_login(tree.teacher)
    rows = client.get(f"{BASE}/{zhanjiang.pk}/deadlines").json()
    assert [d["level"] for d in rows] == ["school", "county", "city"]


def test_quota_endpoints(client, tree, zhanjiang, bearer):
    h = bearer(tree.city_admin)
    r = put(client, f"{BASE}/{zhanjiang.pk}/quotas/overrides", {"level": "county", "unit_id": tree.county.pk,
                                                               "category": "subject", "limit": 27}, **h)
    assert (r.status_code, r.json()["unit_code"], r.json()["limit"]) == (200, "440802", 27)
    eff = client.get(f"{BASE}/{zhanjiang.pk}/quota?unit_id={tree.county.pk}&category=subject", **h).json()
    assert (eff["limited"], eff["limit"], eff["source"]) == (True, 27, "unit")
    eff = client.get(f"{BASE}/{zhanjiang.pk}/quota?unit_id={tree.city_school.pk}&category=subject&subject=物理",
                     **h).json()
    assert (eff["limit"], eff["per_subject"], eff["source"]) == (1, True, "default")
    eff = client.get(f"{BASE}/{zhanjiang.pk}/quota?unit_id={tree.school.pk}&category=subject", **h).json()
    assert (eff["limited"], eff["limit"], eff["source"]) == (False, None, "none")
    body = client.get(f"{BASE}/{zhanjiang.pk}/quotas", **h).json()
    assert (len(body["defaults"]), [q["unit_name"] for q in body["overrides"]]) == (6, ["赤坎区"])
    q = Quota.objects.get(unit=tree.county)
    assert client.delete(f"{BASE}/{zhanjiang.pk}/quotas/overrides/{q.pk}", **h).status_code == 200


def test_templates_export_import_and_from_template(client, tree, zhanjiang, bearer):
    h = bearer(tree.city_admin)
    assert [t["key"] for t in client.get(f"{BASE}/templates", **h).json()] == ["guangdong-2024", "zhanjiang-2024"]
    exported = client.get(f"{BASE}/{zhanjiang.pk}/export", **h)
    assert exported.json()["format"] == "jingpinke-campaign-template"
    r = client.post(f"{BASE}/import", {"owner_id": tree.city.pk, "year_offset": 1,
                                       "file": SimpleUploadedFile("t.json", exported.content)}, **h)
    assert (r.status_code, r.json()["year"], r.json()["status"]) == (201, 2025, "draft")
    r = client.post(f"{BASE}/import", {"owner_id": tree.city.pk, "file": SimpleUploadedFile("t.json", b"[]")}, **h)
    assert r.status_code == 400
    assert r.json()["errors"] == [{"row": "文件", "column": "", "message": "不是活动模板：最外层应为一个 JSON 对象。"}]
    r = client.post(f"{BASE}/from-template", json.dumps({"template": "zhanjiang-2024", "owner_id": tree.city.pk,
                                                         "title": "演练"}), content_type="application/json", **h)
    assert (r.status_code, r.json()["title"]) == (201, "演练")
    r = client.post(BASE, json.dumps({"owner_id": tree.city.pk, "year": 2026, "title": "空白"}),
                    content_type="application/json", **h)
    assert (r.status_code, r.json()["levels"]) == (201, [])
    assert Campaign.objects.count() == 4


def test_notices_upload_and_download(client, tree, zhanjiang, bearer):
    h = bearer(tree.city_admin)
    r = client.post(f"{BASE}/{zhanjiang.pk}/notices", {"title": "工作联系表", "issuer": "湛江市教育局",
                                                      "file": SimpleUploadedFile("附件2.docx", b"PK")}, **h)
    assert r.status_code == 201
    notice = r.json()
    assert (notice["file_name"], notice["download_url"]) == (
        "附件2.docx", f"/api/v1/campaigns/{zhanjiang.pk}/notices/{notice['id']}/file")
    download = served(client.get(notice["download_url"], **bearer(tree.teacher)))
    assert (download.status_code, body_of(download)) == (200, b"PK")
    r = client.post(f"{BASE}/{zhanjiang.pk}/notices/{notice['id']}", {"title": "工作联系表（新）", "remove_file": "true"},
                    **h)
    assert (r.json()["title"], r.json()["has_file"]) == ("工作联系表（新）", False)
    titles = [n["title"] for n in client.get(f"{BASE}/{zhanjiang.pk}/notices", **h).json()]
    assert titles[-1] == "工作联系表（新）"
    assert client.delete(f"{BASE}/{zhanjiang.pk}/notices/{notice['id']}", **h).status_code == 200


@pytest.mark.parametrize("method, path, data", [
    ("patch", "", {"status": "closed"}),
    ("put", "/categories", [{"category": "subject"}]),
    ("put", "/categories/subject/slots", [{"kind": "video", "formats": ["mp4"]}]),
    ("put", "/categories/subject/specs", []),
    ("put", "/levels", [{"kind": "county", "name": "县"}]),
    ("put", "/quotas/defaults", []),
    ("put", "/rules", {"node_rule": "warn"}),
    ("put", "/contacts", []),
])
def test_owner_only_parts_are_403_for_a_county_admin(client, tree, zhanjiang, method, path, data):
    client.force_login(tree.county_admin)
    response = getattr(client, method)(f"{BASE}/{zhanjiang.pk}{path}", json.dumps(data),
                                       content_type="application/json")
    assert response.status_code == 403
    assert response.json()["detail"] == "只有主办单位（湛江市）及其上级的管理员可以修改本活动的设置。"
    assert client.get(f"{BASE}/{zhanjiang.pk}/export").status_code == 403
    assert services.get_campaign(tree.city_admin, zhanjiang.pk).status == "open"
