"""Unit pages: list, detail, create, edit — scope, kinds and the audit log."""

import pytest
from django.urls import reverse

from audit.models import Event
from orgs.models import Unit
from orgs.tests.factories import UnitFactory


def names(response):
    return [u.name for u, _ in response.context["rows"]]


def test_county_admin_sees_his_subtree_only(client, tree):
    client.force_login(tree.county_admin)
    response = client.get(reverse("orgs:units"))
    assert response.status_code == 200
    assert names(response) == ["赤坎区", "湛江市第二十一小学"]


def test_school_admin_sees_only_his_school(client, tree):
    client.force_login(tree.school_admin)
    assert names(client.get(reverse("orgs:units"))) == ["湛江市第二十一小学"]


def test_city_admin_tree_order_and_owner_label(client, tree):
    client.force_login(tree.city_admin)
    response = client.get(reverse("orgs:units"))
    assert names(response) == ["湛江市", "赤坎区", "湛江市第二十一小学", "霞山区", "霞山区第一小学", "湛江市第一中学"]
    assert "市直属学校" in response.content.decode()


def test_sysadmin_sees_all(client, tree):
    client.force_login(tree.sysadmin)
    assert len(names(client.get(reverse("orgs:units")))) == Unit.objects.count() == 9


def test_filter_by_kind_and_search(client, tree):
    client.force_login(tree.city_admin)
    assert names(client.get(reverse("orgs:units"), {"kind": "school"})) == [
        "湛江市第二十一小学", "霞山区第一小学", "湛江市第一中学"]
    assert names(client.get(reverse("orgs:units"), {"q": "440803"})) == ["霞山区", "霞山区第一小学"]
    assert names(client.get(reverse("orgs:units"), {"q": "第一中"})) == ["湛江市第一中学"]


def test_unit_list_is_paginated_without_n_plus_one(client, tree, django_assert_max_num_queries):
    for i in range(40):
        UnitFactory(name=f"学校{i:02d}", code=f"S{i:03d}", parent=tree.county)
    client.force_login(tree.county_admin)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("orgs:units"))
    assert len(response.context["rows"]) == 30
    assert response.context["page_obj"].paginator.count == 42
    assert "第 1 / 2 页，共 42 条" in response.content.decode()
    assert len(client.get(reverse("orgs:units"), {"page": 2}).context["rows"]) == 12


def test_teacher_gets_403_on_admin_pages(client, tree):
    client.force_login(tree.teacher)
    for url in [reverse("orgs:units"), reverse("orgs:unit_detail", args=[tree.school.pk]),
                reverse("orgs:unit_import"), reverse("orgs:users")]:
        assert client.get(url).status_code == 403, url


def test_anonymous_is_sent_to_login(client, tree):
    response = client.get(reverse("orgs:units"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_detail_shows_path_owner_children_members(client, tree):
    client.force_login(tree.city_admin)
    response = client.get(reverse("orgs:unit_detail", args=[tree.city_school.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    city_url = reverse("orgs:unit_detail", args=[tree.city.pk])
    # the breadcrumb links the units the admin may open, not those above his scope
    assert f'广东省 / <a href="{city_url}">湛江市</a> / 湛江市第一中学</nav>' in body
    assert "学校（市直属学校）" in body
    response = client.get(reverse("orgs:unit_detail", args=[tree.county.pk]))
    assert [c.name for c in response.context["children"]] == ["湛江市第二十一小学"]
    assert [m.user.username for m in response.context["memberships"]] == ["ck_admin"]


def test_detail_outside_scope_is_404(client, tree):
    client.force_login(tree.county_admin)
    for unit in (tree.other_county, tree.other_school, tree.city, tree.city_school):
        assert client.get(reverse("orgs:unit_detail", args=[unit.pk])).status_code == 404


def test_school_admin_cannot_see_county(client, tree):
    client.force_login(tree.school_admin)
    assert client.get(reverse("orgs:unit_detail", args=[tree.county.pk])).status_code == 404
    assert client.get(reverse("orgs:unit_detail", args=[tree.school.pk])).status_code == 200


def test_create_school_under_county(client, tree):
    client.force_login(tree.county_admin)
    url = reverse("orgs:unit_create", args=[tree.county.pk])
    assert [k for k, _ in client.get(url).context["form"].fields["kind"].choices] == ["school"]
    response = client.post(url, {"name": "赤坎区实验小学", "code": "440802009", "kind": "school", "sort_order": "5"})
    unit = Unit.objects.get(code="440802009")
    assert response.status_code == 302
    assert response["Location"] == reverse("orgs:unit_detail", args=[unit.pk])
    assert (unit.parent, unit.kind, unit.sort_order) == (tree.county, "school", 5)
    event = Event.objects.get(action="orgs.unit.create")
    assert event.actor == tree.county_admin
    assert event.after == {"name": "赤坎区实验小学", "code": "440802009", "kind": "school", "parent": "440802",
                           "sort_order": 5, "is_active": True}
    assert event.unit_path == unit.path


def test_create_city_owned_and_province_owned_schools(client, tree):
    client.force_login(tree.province_admin)
    client.post(reverse("orgs:unit_create", args=[tree.province.pk]), {"name": "华南师大附中", "code": "P2", "kind": "school"})
    client.post(reverse("orgs:unit_create", args=[tree.city.pk]), {"name": "湛江市第二中学", "code": "C2", "kind": "school"})
    assert Unit.objects.get(code="P2").owner_label == "省属学校"
    assert Unit.objects.get(code="C2").owner_label == "市直属学校"


def test_create_refuses_wrong_kind_and_duplicate_code(client, tree):
    client.force_login(tree.county_admin)
    url = reverse("orgs:unit_create", args=[tree.county.pk])
    response = client.post(url, {"name": "新区", "code": "X", "kind": "county"})
    assert response.status_code == 200
    assert Unit.objects.filter(code="X").exists() is False
    response = client.post(url, {"name": "新学校", "code": "440803001", "kind": "school"})
    assert response.context["form"].non_field_errors() == ["单位代码 440803001 已被“霞山区第一小学”使用，请换一个代码。"]
    response = client.post(url, {"name": "湛江市第二十一小学", "code": "N1", "kind": "school"})
    assert response.context["form"].non_field_errors() == ["同一上级单位下已有名为“湛江市第二十一小学”的单位，请换一个名称。"]


def test_cannot_create_under_school(client, tree):
    from jingpinke.errors import ServiceError
    from orgs import services

    with pytest.raises(ServiceError) as exc:
        services.create_unit(tree.county_admin, parent=tree.school, name="分校", code="Z", kind="school")
    assert exc.value.message == "学校下面不能再建下级单位。"


def test_cannot_create_under_other_county(client, tree):
    client.force_login(tree.county_admin)
    response = client.post(reverse("orgs:unit_create", args=[tree.other_county.pk]),
                           {"name": "越界学校", "code": "Y", "kind": "school"})
    assert response.status_code == 404
    assert not Unit.objects.filter(code="Y").exists()


def test_only_sysadmin_creates_province(client, tree):
    client.force_login(tree.province_admin)
    assert client.get(reverse("orgs:unit_create_root")).status_code == 403
    client.force_login(tree.sysadmin)
    client.post(reverse("orgs:unit_create_root"), {"name": "广西壮族自治区", "code": "450000", "kind": "province"})
    assert Unit.objects.get(code="450000").parent is None


def test_edit_name_code_order(client, tree):
    client.force_login(tree.county_admin)
    response = client.post(reverse("orgs:unit_edit", args=[tree.school.pk]), {
        "name": "湛江市第二十一小学（新）", "code": "440802001A", "sort_order": "2", "address": "赤坎区某路",
        "parent": tree.county.pk, "is_active": "on"})
    assert response.status_code == 302
    tree.school.refresh_from_db()
    assert (tree.school.name, tree.school.code, tree.school.sort_order, tree.school.address) == (
        "湛江市第二十一小学（新）", "440802001A", 2, "赤坎区某路")
    event = Event.objects.get(action="orgs.unit.update")
    assert event.before["name"] == "湛江市第二十一小学"
    assert event.after["name"] == "湛江市第二十一小学（新）"
    assert event.after["code"] == "440802001A"


def test_admin_may_rename_his_top_unit_but_not_move_or_deactivate_it(client, tree):
    client.force_login(tree.county_admin)
    url = reverse("orgs:unit_edit", args=[tree.county.pk])
    form = client.get(url).context["form"]
    assert "parent" not in form.fields and "is_active" not in form.fields
    client.post(url, {"name": "赤坎区教育局", "code": "440802", "sort_order": "0",
                      "parent": tree.other_city.pk, "is_active": ""})
    tree.county.refresh_from_db()
    assert (tree.county.name, tree.county.parent, tree.county.is_active) == ("赤坎区教育局", tree.city, True)


def test_service_refuses_moving_own_top_unit(tree):
    from django.core.exceptions import PermissionDenied

    from orgs import services

    with pytest.raises(PermissionDenied) as exc:
        services.update_unit(tree.county_admin, tree.county, parent=tree.other_city)
    assert str(exc.value) == "您不能修改自己所在最上级单位的上级单位或启用状态，请联系上级单位的管理员。"
    with pytest.raises(PermissionDenied):
        services.update_unit(tree.county_admin, tree.county, is_active=False)


def test_city_admin_moves_school_between_his_counties(client, tree):
    client.force_login(tree.city_admin)
    form = client.get(reverse("orgs:unit_edit", args=[tree.school.pk])).context["form"]
    assert [u.name for u in form.fields["parent"].queryset] == ["湛江市", "赤坎区", "霞山区"]
    client.post(reverse("orgs:unit_edit", args=[tree.school.pk]), {
        "name": tree.school.name, "code": tree.school.code, "sort_order": "0", "parent": tree.other_county.pk,
        "is_active": "on"})
    tree.school.refresh_from_db()
    assert tree.school.parent == tree.other_county
    assert tree.school.path.startswith(tree.other_county.path)
    assert Event.objects.get(action="orgs.unit.update").after["parent"] == "440803"


def test_county_admin_cannot_move_school_outside_his_subtree(client, tree):
    client.force_login(tree.county_admin)
    form = client.get(reverse("orgs:unit_edit", args=[tree.school.pk])).context["form"]
    assert [u.name for u in form.fields["parent"].queryset] == ["赤坎区"]
    response = client.post(reverse("orgs:unit_edit", args=[tree.school.pk]), {
        "name": tree.school.name, "code": tree.school.code, "sort_order": "0", "parent": tree.other_county.pk,
        "is_active": "on"})
    assert response.status_code == 200
    tree.school.refresh_from_db()
    assert tree.school.parent == tree.county


def test_deactivate_school(client, tree):
    client.force_login(tree.county_admin)
    client.post(reverse("orgs:unit_edit", args=[tree.school.pk]), {
        "name": tree.school.name, "code": tree.school.code, "sort_order": "0", "parent": tree.county.pk})
    tree.school.refresh_from_db()
    assert tree.school.is_active is False
    assert Event.objects.get(action="orgs.unit.update").after["is_active"] is False


def test_edit_outside_scope_is_404(client, tree):
    client.force_login(tree.county_admin)
    response = client.post(reverse("orgs:unit_edit", args=[tree.other_school.pk]), {"name": "x", "code": "x"})
    assert response.status_code == 404
    tree.other_school.refresh_from_db()
    assert tree.other_school.name == "霞山区第一小学"
