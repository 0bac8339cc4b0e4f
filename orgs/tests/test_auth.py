"""Login by username or mobile, lockout and unlock, logout, password change, forced change."""

import pytest
from django.urls import reverse

from audit.models import Event
from orgs.tests.factories import UserFactory

PASSWORD = "Secret-pass-2024"  # the factories' password


@pytest.mark.parametrize("login", ["teacher", "TEACHER", "13800000001"])
def test_login_by_username_or_mobile(client, tree, login):
    response = client.post(reverse("login"), {"username": login, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")
    assert int(client.session["_auth_user_id"]) == tree.teacher.pk


def test_wrong_password_message(client, tree):
    response = client.post(reverse("login"), {"username": "13800000001", "password": "wrong"})
    assert response.status_code == 200
    assert "用户名/手机号或密码不正确。连续多次输入错误，账户会被暂时锁定。" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_inactive_user_cannot_log_in(client, tree):
    tree.teacher.is_active = False
    tree.teacher.save()
    response = client.post(reverse("login"), {"username": "teacher", "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200


def lock(client, username="teacher"):
    for _ in range(5):
        client.post(reverse("login"), {"username": username, "password": "wrong-password"})


def test_lockout_after_five_failures_even_with_right_password(client, tree):
    lock(client)
    response = client.post(reverse("login"), {"username": "teacher", "password": PASSWORD})
    assert "账户已暂时锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_four_failures_do_not_lock(client, tree):
    for _ in range(4):
        client.post(reverse("login"), {"username": "teacher", "password": "wrong-password"})
    client.post(reverse("login"), {"username": "teacher", "password": PASSWORD})
    assert int(client.session["_auth_user_id"]) == tree.teacher.pk


def test_admin_sees_lock_and_unlocks(client, tree):
    from django.test import Client

    lock(client)
    admin = Client()
    admin.force_login(tree.school_admin)
    detail = admin.get(reverse("orgs:user_detail", args=[tree.teacher.pk]))
    assert detail.context["locked"] is True
    assert "账户已暂时锁定" in detail.content.decode()
    response = admin.post(reverse("orgs:user_unlock", args=[tree.teacher.pk]), follow=True)
    assert f"已解除登录锁定，{tree.teacher.display_name} 现在可以重新登录。" in response.content.decode()
    assert response.context["locked"] is False
    assert Event.objects.get(action="orgs.user.unlock").after == {"attempts_cleared": 1}
    client.post(reverse("login"), {"username": "teacher", "password": PASSWORD})
    assert int(client.session["_auth_user_id"]) == tree.teacher.pk


def test_lock_by_mobile_is_also_cleared(client, tree):
    from orgs import services

    lock(client, "13800000001")
    assert services.is_locked(tree.teacher) is True
    assert services.unlock_user(tree.county_admin, tree.teacher) == 1
    assert services.is_locked(tree.teacher) is False


def test_other_county_admin_cannot_unlock(client, tree):
    client.force_login(tree.other_county_admin)
    assert client.post(reverse("orgs:user_unlock", args=[tree.teacher.pk])).status_code == 404


def test_logout_is_post_only(client, tree):
    client.force_login(tree.teacher)
    assert client.get(reverse("logout")).status_code == 405
    assert "_auth_user_id" in client.session
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


def test_password_change_runs_validators(client, tree):
    client.force_login(tree.teacher)
    response = client.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"})
    assert response.status_code == 200
    assert response.context["form"].errors["new_password1"] == ["这个密码太常见了。", "密码只包含数字。"]
    tree.teacher.refresh_from_db()
    assert tree.teacher.check_password(PASSWORD)


def test_password_change_wrong_old_password(client, tree):
    client.force_login(tree.teacher)
    response = client.post(reverse("password_change"), {
        "old_password": "nope", "new_password1": "Brand-new-77", "new_password2": "Brand-new-77"})
    assert "old_password" in response.context["form"].errors


def test_forced_password_change_redirects_every_page_until_done(client, tree):
    user = UserFactory(username="newbie", must_change_password=True)
    client.force_login(user)
    for url in [reverse("portal:home"), reverse("orgs:units"), reverse("portal:help"), "/campaigns/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == reverse("password_change")
    page = client.get(reverse("password_change"))
    assert page.status_code == 200
    assert "这是您第一次登录，请先设置自己的密码。" in page.content.decode()
    response = client.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": "Brand-new-77", "new_password2": "Brand-new-77"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.must_change_password is False
    assert user.check_password("Brand-new-77")
    assert client.get(reverse("portal:help")).status_code == 200  # still logged in, no more redirect
    assert int(client.session["_auth_user_id"]) == user.pk
    assert Event.objects.get(action="orgs.user.password_change").after == {"forced": True}


def test_forced_change_still_allows_logout(client, tree):
    user = UserFactory(username="newbie", must_change_password=True)
    client.force_login(user)
    client.post(reverse("logout"))
    assert "_auth_user_id" not in client.session


def test_reset_password_then_login_and_forced_change(client, tree):
    from django.test import Client

    from orgs import services

    password = services.reset_password(tree.county_admin, tree.teacher)
    c = Client()
    response = c.post(reverse("login"), {"username": "13800000001", "password": password}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("password_change")


@pytest.mark.parametrize("login", ["WC_ADMIN", "Wc_Admin", "13800000077"])
def test_failures_count_per_person_whatever_the_spelling(client, tree, login):
    from orgs.models import Role
    from orgs.tests.factories import member

    member(tree.county, Role.ADMIN, username="wc_admin", mobile="13800000077")
    lock(client, "wc_admin")
    response = client.post(reverse("login"), {"username": login, "password": PASSWORD})
    assert response.status_code == 429
    assert "账户已暂时锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_failures_with_mixed_spellings_add_up(client, tree):
    from axes.models import AccessAttempt

    for login in ["teacher", "TEACHER", "Teacher", "13800000001", "tEACHER"]:
        client.post(reverse("login"), {"username": login, "password": "wrong-password"})
    assert list(AccessAttempt.objects.values_list("username", "failures_since_start")) == [("teacher", 5)]
    response = client.post(reverse("login"), {"username": "teacher", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_unknown_login_case_variants_share_a_counter(client, tree):
    from axes.models import AccessAttempt

    for login in ["Nobody", "NOBODY", "nobody"]:
        client.post(reverse("login"), {"username": login, "password": "wrong-password"})
    assert list(AccessAttempt.objects.values_list("username", "failures_since_start")) == [("nobody", 3)]


def test_success_by_mobile_resets_the_persons_counter(client, tree):
    from axes.models import AccessAttempt

    for _ in range(4):
        client.post(reverse("login"), {"username": "TEACHER", "password": "wrong-password"})
    client.post(reverse("login"), {"username": "13800000001", "password": PASSWORD})
    assert int(client.session["_auth_user_id"]) == tree.teacher.pk
    assert AccessAttempt.objects.count() == 0


def test_password_change_to_the_same_password_is_refused(client, tree):
    client.force_login(tree.teacher)
    response = client.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.status_code == 200
    assert response.context["form"].errors["new_password1"] == ["新密码不能与当前密码相同，请换一个新密码。"]
    assert Event.objects.filter(action="orgs.user.password_change").count() == 0


def test_forced_password_change_to_the_initial_password_is_refused(client, tree):
    user = UserFactory(username="newbie", must_change_password=True)
    client.force_login(user)
    response = client.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.context["form"].errors["new_password1"] == ["新密码不能与当前密码相同，请换一个新密码。"]
    user.refresh_from_db()
    assert user.must_change_password is True
