"""User pages: list, detail, create, edit, memberships, reset password, unlock."""

import pytest
from django.urls import reverse

from audit.models import Event
from orgs.models import Membership, Role, User
from orgs.tests.factories import member


def usernames(response):
    return [u.username for u in response.context["page_obj"]]


def test_county_admin_lists_people_of_his_subtree(client, tree):
    client.force_login(tree.county_admin)
    response = client.get(reverse("orgs:users"))
    assert response.status_code == 200
    assert sorted(usernames(response)) == ["ck_admin", "school_admin", "teacher"]


def test_school_admin_lists_his_school(client, tree):
    client.force_login(tree.school_admin)
    assert sorted(usernames(client.get(reverse("orgs:users")))) == ["school_admin", "teacher"]


def test_search_and_filters(client, tree):
    tree.teacher.real_name = "李晓梅"
    tree.teacher.save()
    client.force_login(tree.city_admin)
    url = reverse("orgs:users")
    assert usernames(client.get(url, {"q": "晓梅"})) == ["teacher"]
    assert usernames(client.get(url, {"q": "13800000001"})) == ["teacher"]
    assert usernames(client.get(url, {"q": "other_t"})) == ["other_teacher"]
    assert sorted(usernames(client.get(url, {"role": "teacher"}))) == ["other_teacher", "teacher"]
    assert sorted(usernames(client.get(url, {"unit": tree.other_county.pk}))) == ["other_teacher", "xs_admin"]
    assert usernames(client.get(url, {"unit": tree.county.pk, "role": "teacher"})) == ["teacher"]
    assert usernames(client.get(url, {"role": "expert"})) == ["expert"]


def test_filter_by_unit_outside_scope_is_404(client, tree):
    client.force_login(tree.county_admin)
    assert client.get(reverse("orgs:users"), {"unit": tree.other_county.pk}).status_code == 404


def test_user_list_paginated_without_n_plus_one(client, tree, django_assert_max_num_queries):
    for i in range(35):
        member(tree.school, Role.TEACHER, username=f"t{i:02d}")
    client.force_login(tree.county_admin)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("orgs:users"))
    assert len(usernames(response)) == 30
    assert response.context["page_obj"].paginator.count == 38


def test_detail_outside_scope_is_404(client, tree):
    client.force_login(tree.county_admin)
    for person in (tree.other_teacher, tree.other_county_admin, tree.city_admin, tree.expert, tree.sysadmin):
        assert client.get(reverse("orgs:user_detail", args=[person.pk])).status_code == 404


def test_detail_shows_memberships(client, tree):
    client.force_login(tree.county_admin)
    response = client.get(reverse("orgs:user_detail", args=[tree.teacher.pk]))
    assert response.status_code == 200
    assert [(m.unit.name, m.role) for m in response.context["memberships"]] == [("湛江市第二十一小学", "teacher")]
    assert response.context["can_change"] is True


def test_user_with_unit_outside_scope_is_visible_but_not_changeable(client, tree):
    Membership.objects.create(user=tree.teacher, unit=tree.other_school, role=Role.TEACHER)
    client.force_login(tree.county_admin)
    response = client.get(reverse("orgs:user_detail", args=[tree.teacher.pk]))
    assert response.status_code == 200
    assert response.context["can_change"] is False
    assert "只能由更上级的管理员修改" in response.content.decode()
    assert client.get(reverse("orgs:user_edit", args=[tree.teacher.pk])).status_code == 403
    assert client.post(reverse("orgs:user_reset_password", args=[tree.teacher.pk])).status_code == 403
    assert client.post(reverse("orgs:user_unlock", args=[tree.teacher.pk])).status_code == 403
    m = tree.teacher.memberships.get(unit=tree.school)
    assert client.post(reverse("orgs:membership_remove", args=[tree.teacher.pk, m.pk])).status_code == 403
    assert client.post(reverse("orgs:membership_add", args=[tree.teacher.pk]),
                       {"unit": tree.school.pk, "role": "expert"}).status_code == 403
    assert tree.teacher.memberships.count() == 2


def test_create_user_with_generated_password(client, tree):
    client.force_login(tree.county_admin)
    response = client.post(reverse("orgs:user_create"), {
        "real_name": "周建华", "mobile": "13800000003", "unit": tree.school.pk, "role": "teacher",
        "title": "教师", "subject": "数学"})
    assert response.status_code == 200
    user = User.objects.get(mobile="13800000003")
    password = response.context["password"]
    assert password in response.content.decode()
    assert (user.username, user.real_name, user.must_change_password) == ("13800000003", "周建华", True)
    assert user.check_password(password)
    m = user.memberships.get()
    assert (m.unit, m.role, m.title, m.subject) == (tree.school, "teacher", "教师", "数学")
    created = Event.objects.get(action="orgs.user.create")
    assert created.after == {"username": "13800000003", "real_name": "周建华", "mobile": "13800000003",
                             "is_active": True, "must_change_password": True}
    assert password not in str(list(Event.objects.values()))
    assert Event.objects.get(action="orgs.membership.add").after == {
        "user": "13800000003", "unit": "440802001", "role": "teacher", "title": "教师", "subject": "数学"}


def test_create_user_with_given_password_checks_validators(client, tree):
    client.force_login(tree.county_admin)
    data = {"real_name": "王五", "mobile": "13800000004", "username": "wangwu", "unit": tree.school.pk,
            "role": "admin", "password": "12345678"}
    response = client.post(reverse("orgs:user_create"), data)
    assert response.context["form"].non_field_errors() == [
        "初始密码不符合要求：这个密码太常见了。密码只包含数字。"]
    assert not User.objects.filter(username="wangwu").exists()
    data["password"] = "Wang-wu-2024"
    response = client.post(reverse("orgs:user_create"), data)
    user = User.objects.get(username="wangwu")
    assert user.check_password("Wang-wu-2024")
    assert response.context["password"] == ""


@pytest.mark.parametrize("mobile,username,message", [
    ("1380000000", "", "请填写 11 位手机号码，例如 13800138000。"),
    ("13800000001", "", "手机号 13800000001 已被系统中的其他账户使用。"),
    ("13800000009", "TEACHER", "用户名 TEACHER 已被系统中的其他账户使用，请换一个用户名。"),
    ("13800000009", "13800000001", "用户名 13800000001 已被系统中的其他账户使用，请换一个用户名。"),
])
def test_create_user_refusals(client, tree, mobile, username, message):
    client.force_login(tree.county_admin)
    before = User.objects.count()
    response = client.post(reverse("orgs:user_create"), {
        "real_name": "某人", "mobile": mobile, "username": username, "unit": tree.school.pk, "role": "teacher"})
    assert response.context["form"].non_field_errors() == [message]
    assert User.objects.count() == before


def test_create_user_in_other_county_refused(client, tree):
    client.force_login(tree.county_admin)
    response = client.post(reverse("orgs:user_create"), {
        "real_name": "越界", "mobile": "13800000010", "unit": tree.other_school.pk, "role": "teacher"})
    assert response.status_code == 200
    assert "unit" in response.context["form"].errors
    assert not User.objects.filter(mobile="13800000010").exists()


def test_edit_user(client, tree):
    client.force_login(tree.county_admin)
    response = client.post(reverse("orgs:user_edit", args=[tree.teacher.pk]),
                           {"real_name": "李老师", "mobile": "13900000009"})
    assert response.status_code == 302
    tree.teacher.refresh_from_db()
    assert (tree.teacher.real_name, tree.teacher.mobile, tree.teacher.is_active) == ("李老师", "13900000009", False)
    event = Event.objects.get(action="orgs.user.update")
    assert event.before["mobile"] == "13800000001"
    assert event.after == {"username": "teacher", "real_name": "李老师", "mobile": "13900000009", "is_active": False}
    assert event.unit_path == tree.school.path


def test_cannot_deactivate_self(client, tree):
    client.force_login(tree.county_admin)
    response = client.post(reverse("orgs:user_edit", args=[tree.county_admin.pk]), {"real_name": "我"})
    assert response.context["form"].non_field_errors() == ["不能停用自己的账户。"]
    tree.county_admin.refresh_from_db()
    assert tree.county_admin.is_active is True


def test_edit_user_outside_scope_is_404(client, tree):
    client.force_login(tree.county_admin)
    response = client.post(reverse("orgs:user_edit", args=[tree.other_teacher.pk]), {"real_name": "x", "is_active": "on"})
    assert response.status_code == 404
    tree.other_teacher.refresh_from_db()
    assert tree.other_teacher.real_name != "x"


def test_add_and_remove_membership(client, tree):
    client.force_login(tree.county_admin)
    client.post(reverse("orgs:membership_add", args=[tree.teacher.pk]),
                {"unit": tree.county.pk, "role": "expert", "subject": "小学语文"})
    m = tree.teacher.memberships.get(role="expert")
    assert (m.unit, m.subject) == (tree.county, "小学语文")
    assert Event.objects.get(action="orgs.membership.add").after["role"] == "expert"
    response = client.post(reverse("orgs:membership_add", args=[tree.teacher.pk]),
                           {"unit": tree.county.pk, "role": "expert"}, follow=True)
    assert f"{tree.teacher.display_name} 在“赤坎区”已经是评审专家。" in response.content.decode()
    assert tree.teacher.memberships.count() == 2
    client.post(reverse("orgs:membership_remove", args=[tree.teacher.pk, m.pk]))
    assert not tree.teacher.memberships.filter(role="expert").exists()
    assert Event.objects.get(action="orgs.membership.remove").before["unit"] == "440802"


def test_add_membership_outside_scope_refused(client, tree):
    client.force_login(tree.county_admin)
    response = client.post(reverse("orgs:membership_add", args=[tree.teacher.pk]),
                           {"unit": tree.other_school.pk, "role": "teacher"})
    assert response.status_code == 302
    assert tree.teacher.memberships.count() == 1
    assert client.post(reverse("orgs:membership_add", args=[tree.other_teacher.pk]),
                       {"unit": tree.school.pk, "role": "teacher"}).status_code == 404


def test_cannot_remove_last_or_own_admin_membership(client, tree):
    client.force_login(tree.county_admin)
    m = tree.teacher.memberships.get()
    response = client.post(reverse("orgs:membership_remove", args=[tree.teacher.pk, m.pk]), follow=True)
    assert "这是该用户唯一的身份，不能删除。如果此人已离开，请把账户设为“停用”。" in response.content.decode()
    assert tree.teacher.memberships.count() == 1
    Membership.objects.create(user=tree.county_admin, unit=tree.school, role=Role.TEACHER)
    own = tree.county_admin.memberships.get(role="admin")
    response = client.post(reverse("orgs:membership_remove", args=[tree.county_admin.pk, own.pk]), follow=True)
    assert "不能删除您自己的管理员身份，请联系上级单位的管理员。" in response.content.decode()
    assert tree.county_admin.memberships.count() == 2


def test_reset_password_shows_it_once_and_forces_change(client, tree):
    client.force_login(tree.county_admin)
    response = client.post(reverse("orgs:user_reset_password", args=[tree.teacher.pk]))
    password = response.context["password"]
    assert password in response.content.decode()
    tree.teacher.refresh_from_db()
    assert tree.teacher.check_password(password)
    assert tree.teacher.must_change_password is True
    event = Event.objects.get(action="orgs.user.reset_password")
    assert event.after == {"must_change_password": True}
    assert password not in str(list(Event.objects.values()))
    assert password not in client.get(reverse("orgs:user_detail", args=[tree.teacher.pk])).content.decode()


def test_reset_password_get_not_allowed_and_outside_scope_404(client, tree):
    client.force_login(tree.county_admin)
    assert client.get(reverse("orgs:user_reset_password", args=[tree.teacher.pk])).status_code == 405
    assert client.post(reverse("orgs:user_reset_password", args=[tree.other_teacher.pk])).status_code == 404


def test_school_admin_cannot_manage_county_admin(client, tree):
    client.force_login(tree.school_admin)
    assert client.get(reverse("orgs:user_detail", args=[tree.county_admin.pk])).status_code == 404
    assert client.post(reverse("orgs:user_reset_password", args=[tree.county_admin.pk])).status_code == 404


def test_admin_cannot_manage_a_system_admin_member(client, tree):
    Membership.objects.create(user=tree.sysadmin, unit=tree.school, role=Role.TEACHER)
    client.force_login(tree.county_admin)
    assert client.post(reverse("orgs:user_reset_password", args=[tree.sysadmin.pk])).status_code == 403
