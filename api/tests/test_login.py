"""Scripts log in with username or mobile + password for a token: no CSRF, the same lockout as the page."""

from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from api.models import ApiToken, hash_token
from audit.models import Event

PASSWORD = "Secret-pass-2024"  # the factories' password
LOGIN = "/api/v1/auth/login"
WRONG = "用户名/手机号或密码不正确。连续多次输入错误，账户会被暂时锁定。"
LOCKED = "密码连续输错次数过多，账户已暂时锁定。请 30 分钟后再试，或联系所在单位管理员解锁。"
MUST_CHANGE = ("请先修改初始密码：在网站的“修改密码”页面（/accounts/password/）设置自己的密码，"
               "或调用 POST /api/v1/auth/password，然后再使用 API。")


def post(client, url, data, **extra):
    return client.post(url, data, content_type="application/json", **extra)


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.mark.parametrize("login", ["teacher", "TEACHER", "13800000001"])
def test_login_for_a_token_without_csrf(tree, login):
    client = Client(enforce_csrf_checks=True)
    response = post(client, LOGIN, {"username": login, "password": PASSWORD, "name": "上传脚本"})
    assert response.status_code == 201
    body = response.json()
    token = ApiToken.objects.get(user=tree.teacher)
    assert token.key_hash == hash_token(body["token"])
    assert (body["token_type"], body["id"], body["name"], body["prefix"], body["user_id"], body["username"],
            body["primary_role"]) == ("Bearer", token.pk, "上传脚本", token.prefix, tree.teacher.pk, "teacher", "teacher")
    me = client.get("/api/v1/auth/me", **bearer(body["token"]))
    assert (me.status_code, me.json()["username"]) == (200, "teacher")
    assert "sessionid" not in response.cookies
    event = Event.objects.get(action="api.token.login")
    assert (event.actor, event.after["name"], event.after["prefix"]) == (tree.teacher, "上传脚本", token.prefix)
    tree.teacher.refresh_from_db()
    assert tree.teacher.last_login is not None


def test_token_expiry_defaults_to_one_day_and_takes_days(client, tree):
    now = datetime(2024, 9, 1, 8, 0, tzinfo=tree.teacher.date_joined.tzinfo)
    with mock.patch("api.models.timezone.now", return_value=now):
        default = post(client, LOGIN, {"username": "teacher", "password": PASSWORD}).json()
        month = post(client, LOGIN, {"username": "teacher", "password": PASSWORD, "days": 30}).json()
    assert ApiToken.objects.get(pk=default["id"]).expires_at == now + timedelta(days=1)
    assert ApiToken.objects.get(pk=default["id"]).name == "API 登录"
    assert ApiToken.objects.get(pk=month["id"]).expires_at == now + timedelta(days=30)


@pytest.mark.parametrize("days", [0, -1, 366])
def test_token_days_out_of_range_is_refused(client, tree, days):
    response = post(client, LOGIN, {"username": "teacher", "password": PASSWORD, "days": days})
    assert response.status_code == 400
    assert response.json() == {"detail": "有效期 days 请填写 1 到 365 之间的天数。", "errors": []}
    assert ApiToken.objects.count() == 0


@pytest.mark.parametrize("login,password", [("teacher", "wrong-password"), ("nobody", PASSWORD)])
def test_wrong_credentials(client, tree, login, password):
    response = post(client, LOGIN, {"username": login, "password": password})
    assert response.status_code == 401
    assert response.json() == {"detail": WRONG, "errors": []}
    assert ApiToken.objects.count() == 0


def test_inactive_user_gets_no_token(client, tree):
    tree.teacher.is_active = False
    tree.teacher.save()
    response = post(client, LOGIN, {"username": "teacher", "password": PASSWORD})
    assert (response.status_code, response.json()["detail"]) == (401, WRONG)


@pytest.mark.parametrize("login", ["WC_ADMIN", "13800000077"])
def test_api_login_is_locked_per_person(client, tree, login):
    from orgs.models import Role
    from orgs.tests.factories import member

    member(tree.county, Role.ADMIN, username="wc_admin", mobile="13800000077")
    for _ in range(4):
        assert post(client, LOGIN, {"username": "wc_admin", "password": "wrong-password"}).status_code == 401
    assert post(client, LOGIN, {"username": "wc_admin", "password": "wrong-password"}).status_code == 429  # the 5th
    response = post(client, LOGIN, {"username": login, "password": PASSWORD})
    assert response.status_code == 429
    assert response.json() == {"detail": LOCKED, "errors": []}
    assert ApiToken.objects.count() == 0
    # the same counter as the login page
    page = client.post(reverse("login"), {"username": "wc_admin", "password": PASSWORD})
    assert page.status_code == 429
    assert "_auth_user_id" not in client.session


def test_page_failures_lock_the_api_login(client, tree):
    for login in ["teacher", "TEACHER", "13800000001", "Teacher", "teacher"]:
        client.post(reverse("login"), {"username": login, "password": "wrong-password"})
    response = post(client, LOGIN, {"username": "TeAcHeR", "password": PASSWORD})
    assert (response.status_code, response.json()["detail"]) == (429, LOCKED)


def test_success_resets_the_counter(client, tree):
    from axes.models import AccessAttempt

    for _ in range(4):
        post(client, LOGIN, {"username": "TEACHER", "password": "wrong-password"})
    assert list(AccessAttempt.objects.values_list("username", "failures_since_start")) == [("teacher", 4)]
    assert post(client, LOGIN, {"username": "13800000001", "password": PASSWORD}).status_code == 201
    assert AccessAttempt.objects.count() == 0


def test_must_change_password_gets_403_not_a_token(client, tree):
    tree.teacher.must_change_password = True
    tree.teacher.save()
    response = post(client, LOGIN, {"username": "teacher", "password": PASSWORD})
    assert response.status_code == 403
    assert response.json() == {"detail": MUST_CHANGE, "errors": []}
    assert ApiToken.objects.count() == 0


def test_openapi_documents_the_login_without_security(client, db):
    spec = client.get("/api/v1/openapi.json").json()
    operation = spec["paths"][LOGIN]["post"]
    assert "security" not in operation
    assert sorted(operation["responses"]) == ["201", "400", "401", "403", "422", "429"]
