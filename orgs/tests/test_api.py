"""The REST API for units, people and imports: same services, same scope as the pages."""

import io

import pytest
from openpyxl import load_workbook

from audit.models import Event
from orgs.models import Membership, Unit, User

API = "/api/v1/orgs"


def test_units_list_with_bearer_token(client, tree, bearer):
    response = client.get(f"{API}/units", **bearer(tree.county_admin))
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["page"], body["num_pages"]) == (2, 1, 1)
    assert [u["code"] for u in body["items"]] == ["440802", "440802001"]
    assert body["items"][1] == {
        "id": tree.school.pk, "name": "湛江市第二十一小学", "code": "440802001", "kind": "school", "kind_label": "学校",
        "parent_id": tree.county.pk, "parent_code": "440802", "owner_label": "县属学校", "depth": 3,
        "sort_order": 0, "address": "", "is_active": True}


def test_units_list_filters_and_queries(client, tree, django_assert_max_num_queries):
    client.force_login(tree.city_admin)
    with django_assert_max_num_queries(10):
        body = client.get(f"{API}/units", {"kind": "school", "q": "湛江"}).json()
    assert [u["name"] for u in body["items"]] == ["湛江市第二十一小学", "湛江市第一中学"]
    assert body["items"][1]["owner_label"] == "市直属学校"
    body = client.get(f"{API}/units", {"parent_id": tree.city.pk}).json()
    assert [u["code"] for u in body["items"]] == ["440802", "440803", "440800001"]


def test_unit_detail_and_scope(client, tree):
    client.force_login(tree.county_admin)
    body = client.get(f"{API}/units/{tree.county.pk}").json()
    assert body["path_names"] == ["广东省", "湛江市", "赤坎区"]
    assert [c["code"] for c in body["children"]] == ["440802001"]
    assert [(m["username"], m["role"]) for m in body["members"]] == [("ck_admin", "county_admin")]
    for unit in (tree.other_county, tree.other_school, tree.city):
        response = client.get(f"{API}/units/{unit.pk}")
        assert response.status_code == 404
        assert response.json()["detail"] == "未找到该对象，或您无权查看。"
    assert client.get(f"{API}/units", {"parent_id": tree.other_county.pk}).status_code == 404


def test_teacher_gets_403_everywhere(client, tree, bearer):
    headers = bearer(tree.teacher)
    for method, url in [("get", "/units"), ("get", f"/units/{tree.school.pk}"), ("get", "/users"),
                        ("get", f"/users/{tree.teacher.pk}"), ("get", "/units/import/template"),
                        ("get", "/users/import/template")]:
        response = getattr(client, method)(API + url, **headers)
        assert response.status_code == 403, url
        assert response.json()["detail"] == "只有学校、教育局或系统管理员可以管理单位和用户。"
    response = client.post(f"{API}/units", {"parent_id": tree.school.pk, "name": "x", "code": "x", "kind": "school"},
                           content_type="application/json", **headers)
    assert response.status_code == 403


def test_anonymous_gets_401(client, tree):
    assert client.get(f"{API}/units").status_code == 401


def test_create_unit(client, tree, bearer):
    response = client.post(f"{API}/units", {"parent_id": tree.county.pk, "name": "赤坎区实验小学", "code": "440802009",
                                            "kind": "school", "sort_order": 3},
                           content_type="application/json", **bearer(tree.county_admin))
    assert response.status_code == 201
    assert response.json()["parent_code"] == "440802"
    assert Unit.objects.get(code="440802009").sort_order == 3
    assert Event.objects.get(action="orgs.unit.create").actor == tree.county_admin


def test_create_unit_errors(client, tree):
    client.force_login(tree.county_admin)
    response = client.post(f"{API}/units", {"parent_id": tree.county.pk, "name": "新区", "code": "N", "kind": "county"},
                           content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"] == "类型不匹配：县（市、区）下面只能建学校，不能建县（市、区）。"
    response = client.post(f"{API}/units", {"parent_id": tree.other_county.pk, "name": "越界", "code": "O",
                                            "kind": "school"}, content_type="application/json")
    assert response.status_code == 404
    response = client.post(f"{API}/units", {"name": "省", "code": "P", "kind": "province"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["detail"] == "只有系统管理员可以创建省级单位。"
    assert not Unit.objects.filter(code__in=["N", "O", "P"]).exists()


def test_update_unit(client, tree):
    client.force_login(tree.city_admin)
    response = client.patch(f"{API}/units/{tree.school.pk}", {"name": "新名字", "parent_id": tree.other_county.pk},
                            content_type="application/json")
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["parent_code"]) == ("新名字", "440803")
    event = Event.objects.get(action="orgs.unit.update")
    assert (event.before["parent"], event.after["parent"]) == ("440802", "440803")


def test_update_unit_scope(client, tree):
    client.force_login(tree.county_admin)
    response = client.patch(f"{API}/units/{tree.other_school.pk}", {"name": "x"}, content_type="application/json")
    assert response.status_code == 404
    response = client.patch(f"{API}/units/{tree.school.pk}", {"parent_id": tree.other_county.pk},
                            content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"] == "上级单位不存在，或不在您管理的范围内。"
    response = client.patch(f"{API}/units/{tree.county.pk}", {"is_active": False}, content_type="application/json")
    assert response.status_code == 403
    tree.county.refresh_from_db()
    assert tree.county.is_active is True
    response = client.patch(f"{API}/units/{tree.county.pk}", {"sort_order": 7}, content_type="application/json")
    assert response.json()["sort_order"] == 7


def test_users_list_and_detail(client, tree, bearer, django_assert_max_num_queries):
    headers = bearer(tree.county_admin)
    with django_assert_max_num_queries(10):
        body = client.get(f"{API}/users", **headers).json()
    assert sorted(u["username"] for u in body["items"]) == ["ck_admin", "school_admin", "teacher"]
    body = client.get(f"{API}/users", {"role": "teacher", "q": "1380000"}, **headers).json()
    assert [u["username"] for u in body["items"]] == ["teacher"]
    assert body["items"][0]["memberships"][0]["unit_code"] == "440802001"
    detail = client.get(f"{API}/users/{tree.teacher.pk}", **headers).json()
    assert (detail["can_change"], detail["locked"], detail["mobile"]) == (True, False, "13800000001")
    assert client.get(f"{API}/users/{tree.other_teacher.pk}", **headers).status_code == 404
    assert client.get(f"{API}/users", {"unit_id": tree.other_county.pk}, **headers).status_code == 404


def test_create_user_returns_password_once(client, tree, bearer):
    response = client.post(f"{API}/users", {"unit_id": tree.school.pk, "role": "teacher", "real_name": "周建华",
                                            "mobile": "13800000003"},
                           content_type="application/json", **bearer(tree.school_admin))
    assert response.status_code == 201
    body = response.json()
    user = User.objects.get(username="13800000003")
    assert user.check_password(body["password"])
    assert body["must_change_password"] is True
    assert "password" not in client.get(f"{API}/users/{user.pk}", **bearer(tree.school_admin)).json()


def test_create_user_errors_and_scope(client, tree):
    client.force_login(tree.county_admin)
    response = client.post(f"{API}/users", {"unit_id": tree.school.pk, "role": "teacher", "real_name": "x",
                                            "mobile": "13800000001"}, content_type="application/json")
    assert (response.status_code, response.json()["detail"]) == (400, "手机号 13800000001 已被系统中的其他账户使用。")
    response = client.post(f"{API}/users", {"unit_id": tree.other_school.pk, "role": "teacher", "real_name": "x",
                                            "mobile": "13800000009"}, content_type="application/json")
    assert response.status_code == 404
    assert not User.objects.filter(mobile="13800000009").exists()


def test_update_user(client, tree):
    client.force_login(tree.county_admin)
    response = client.patch(f"{API}/users/{tree.teacher.pk}", {"real_name": "李老师", "is_active": False},
                            content_type="application/json")
    assert response.status_code == 200
    assert (response.json()["real_name"], response.json()["is_active"]) == ("李老师", False)
    assert client.patch(f"{API}/users/{tree.other_teacher.pk}", {"real_name": "x"},
                        content_type="application/json").status_code == 404
    response = client.patch(f"{API}/users/{tree.teacher.pk}", {"mobile": "123"}, content_type="application/json")
    assert (response.status_code, response.json()["detail"]) == (400, "请填写 11 位手机号码，例如 13800138000。")


def test_reset_password_and_unlock(client, tree, bearer):
    headers = bearer(tree.county_admin)
    response = client.post(f"{API}/users/{tree.teacher.pk}/reset-password", **headers)
    assert response.status_code == 200
    tree.teacher.refresh_from_db()
    assert tree.teacher.check_password(response.json()["password"])
    assert tree.teacher.must_change_password is True
    assert client.post(f"{API}/users/{tree.teacher.pk}/unlock", **headers).json() == {"attempts_cleared": 0}
    assert client.post(f"{API}/users/{tree.other_teacher.pk}/reset-password", **headers).status_code == 404
    assert client.post(f"{API}/users/{tree.other_teacher.pk}/unlock", **headers).status_code == 404


def test_memberships_add_and_remove(client, tree, bearer):
    headers = bearer(tree.county_admin)
    response = client.post(f"{API}/users/{tree.teacher.pk}/memberships", {"unit_id": tree.county.pk, "role": "expert"},
                           content_type="application/json", **headers)
    assert response.status_code == 201
    mid = response.json()["id"]
    assert response.json()["role_label"] == "评审专家"
    response = client.post(f"{API}/users/{tree.teacher.pk}/memberships",
                           {"unit_id": tree.other_school.pk, "role": "teacher"}, content_type="application/json",
                           **headers)
    assert response.status_code == 404
    assert client.delete(f"{API}/users/{tree.teacher.pk}/memberships/{mid}", **headers).status_code == 204
    last = tree.teacher.memberships.get().pk
    response = client.delete(f"{API}/users/{tree.teacher.pk}/memberships/{last}", **headers)
    assert response.status_code == 400
    other = tree.other_teacher.memberships.get().pk
    assert client.delete(f"{API}/users/{tree.other_teacher.pk}/memberships/{other}", **headers).status_code == 404
    assert client.delete(f"{API}/users/{tree.teacher.pk}/memberships/{other}", **headers).status_code == 404
    assert Membership.objects.filter(pk=other).exists()


def test_templates(client, tree, bearer):
    response = client.get(f"{API}/units/import/template", **bearer(tree.county_admin))
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert ws["A1"].value == "单位名称*"
    ws = load_workbook(io.BytesIO(client.get(f"{API}/users/import/template", **bearer(tree.county_admin)).content)).worksheets[0]
    assert ws["A1"].value == "姓名*"


def test_unit_import(client, tree, unit_sheet, bearer):
    response = client.post(f"{API}/units/import", {"file": unit_sheet(["新学校", "440802050", "学校", "440802", None])},
                           **bearer(tree.county_admin))
    assert response.status_code == 201
    assert [u["code"] for u in response.json()["units"]] == ["440802050"]


def test_bad_unit_import_is_400_with_rows(client, tree, unit_sheet):
    client.force_login(tree.county_admin)
    count = Unit.objects.count()
    response = client.post(f"{API}/units/import", {"file": unit_sheet(
        ["好", "G1", "学校", "440802", None], ["越界", "G2", "学校", "440803", None])})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "单位未导入：共有 1 行有问题，请按下面的说明修改后重新上传整张表。已有的数据没有任何改动。",
        "errors": [{"row": 3, "column": "上级单位代码",
                    "message": "上级单位 440803 不在您管理的范围内，只能在您管理的单位下面导入。"}]}
    assert Unit.objects.count() == count


def test_user_import_json_and_xlsx(client, tree, user_sheet, bearer):
    headers = bearer(tree.county_admin)
    response = client.post(f"{API}/users/import", {"file": user_sheet(
        ["周建华", None, "13800000003", "440802001", "教师", None, None, None])}, **headers)
    assert response.status_code == 201
    item = response.json()["users"][0]
    assert (item["username"], item["unit_code"], item["role"]) == ("13800000003", "440802001", "teacher")
    assert User.objects.get(username="13800000003").check_password(item["initial_password"])
    response = client.post(f"{API}/users/import?format=xlsx", {"file": user_sheet(
        ["赵敏", None, "13800000004", "440802001", "教师", None, None, None])}, **headers)
    assert response.status_code == 201
    ws = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [c.value for c in ws[2]][:2] == ["赵敏", "13800000004"]
    assert User.objects.get(username="13800000004").check_password(ws["F2"].value)


def test_bad_user_import_is_400(client, tree, user_sheet):
    client.force_login(tree.county_admin)
    response = client.post(f"{API}/users/import", {"file": user_sheet(
        ["越界", None, "13900000002", "440803001", "教师", None, None, None])})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"row": 2, "column": "单位代码", "message": "单位 440803001 不在您管理的范围内。"}]
    assert not User.objects.filter(mobile="13900000002").exists()


def test_teacher_cannot_import_via_api(client, tree, unit_sheet, bearer):
    response = client.post(f"{API}/units/import", {"file": unit_sheet(["x", "X", "学校", "440802001", None])},
                           **bearer(tree.teacher))
    assert response.status_code == 403


@pytest.mark.parametrize("path", ["/units", "/users", "/units/import", "/users/import"])
def test_openapi_documents_endpoints(client, tree, path):
    schema = client.get("/api/v1/openapi.json").json()
    ops = schema["paths"][f"/api/v1/orgs{path}"]
    for op in ops.values():
        assert op["summary"]
        assert "200" in op["responses"] or "201" in op["responses"]


ROLES = "teacher、expert、school_admin、county_admin、city_admin、province_admin"


@pytest.mark.parametrize("unit,role,key", [
    ("county", "county_admin", "county_admin"),
    ("school", "school_admin", "school_admin"),
    ("school", "admin", "school_admin"),  # the documented alias: the admin of that unit
    ("school", "teacher", "teacher"),
    ("county", "expert", "expert"),
])
def test_created_role_is_the_role_me_returns(client, tree, bearer, unit, role, key):
    response = client.post(f"{API}/users", {"unit_id": getattr(tree, unit).pk, "role": role, "real_name": "周建华",
                                            "mobile": "13800000003", "password": "Brand-new-77"},
                           content_type="application/json", **bearer(tree.county_admin))
    assert response.status_code == 201
    assert [m["role"] for m in response.json()["memberships"]] == [key]
    user = User.objects.get(username="13800000003")
    user.must_change_password = False
    user.save()
    me = client.get("/api/v1/auth/me", **bearer(user)).json()
    assert (me["primary_role"], [m["role"] for m in me["memberships"]]) == (key, [key])


@pytest.mark.parametrize("unit,role,detail", [
    ("school", "county_admin", "角色 county_admin 只能授予县（市、区）的人员，所选单位是学校，请填写 school_admin。"),
    ("county", "city_admin", "角色 city_admin 只能授予市的人员，所选单位是县（市、区），请填写 county_admin。"),
    ("school", "principal", f"角色“principal”无法识别，请填写：{ROLES}。"),
])
def test_create_user_refuses_a_role_that_does_not_fit(client, tree, bearer, unit, role, detail):
    response = client.post(f"{API}/users", {"unit_id": getattr(tree, unit).pk, "role": role, "real_name": "周建华",
                                            "mobile": "13800000003"},
                           content_type="application/json", **bearer(tree.county_admin))
    assert response.status_code == 400
    assert response.json() == {"detail": detail, "errors": []}
    assert not User.objects.filter(mobile="13800000003").exists()


def test_membership_and_lists_speak_the_same_vocabulary(client, tree, bearer):
    headers = bearer(tree.city_admin)
    response = client.post(f"{API}/users/{tree.teacher.pk}/memberships", {"unit_id": tree.city.pk, "role": "city_admin"},
                           content_type="application/json", **headers)
    assert response.status_code == 201
    assert (response.json()["role"], response.json()["role_label"]) == ("city_admin", "市级管理员")
    response = client.post(f"{API}/users/{tree.teacher.pk}/memberships", {"unit_id": tree.county.pk, "role": "city_admin"},
                           content_type="application/json", **headers)
    assert response.status_code == 400
    body = client.get(f"{API}/users", {"role": "county_admin"}, **headers).json()
    assert [u["username"] for u in body["items"]] == ["ck_admin", "xs_admin"]
    assert [m["role"] for m in body["items"][0]["memberships"]] == ["county_admin"]
    body = client.get(f"{API}/users", {"role": "city_admin"}, **headers).json()
    assert sorted(u["username"] for u in body["items"]) == ["teacher", "zj_admin"]
    response = client.get(f"{API}/users", {"role": "principal"}, **headers)
    assert (response.status_code, response.json()["detail"]) == (400, f"角色“principal”无法识别，请填写：{ROLES}。")
    detail = client.get(f"{API}/units/{tree.school.pk}", **headers).json()
    assert sorted((m["username"], m["role"]) for m in detail["members"]) == [
        ("school_admin", "school_admin"), ("teacher", "teacher")]


def test_user_import_takes_the_specific_admin_role(client, tree, user_sheet, bearer):
    headers = bearer(tree.county_admin)
    response = client.post(f"{API}/users/import", {"file": user_sheet(
        ["周建华", None, "13800000003", "440802001", "学校管理员", None, None, None],
        ["赵敏", None, "13800000004", "440802", "区县管理员", None, None, None])}, **headers)
    assert response.status_code == 201
    assert [(u["username"], u["role"]) for u in response.json()["users"]] == [
        ("13800000003", "school_admin"), ("13800000004", "county_admin")]
    response = client.post(f"{API}/users/import", {"file": user_sheet(
        ["钱进", None, "13800000005", "440802001", "区县管理员", None, None, None])}, **headers)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"row": 2, "column": "角色",
                                          "message": "角色“区县管理员”与单位 440802001 的类型（学校）不符，请填写学校管理员。"}]
