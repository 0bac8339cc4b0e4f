"""Changing one's own password over the API: the same rules as the page, reachable before the forced change."""

import pytest

from api.models import ApiToken
from audit.models import Event

PASSWORD = "Secret-pass-2024"  # the factories' password
URL = "/api/v1/auth/password"


def post(client, data, **extra):
    return client.post(URL, data, content_type="application/json", **extra)


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_same_password_is_refused(client, tree):
    _, raw = ApiToken.issue(tree.teacher, "t")
    response = post(client, {"old_password": PASSWORD, "new_password": PASSWORD}, **bearer(raw))
    assert response.status_code == 400
    assert response.json() == {"detail": "新密码不符合要求：新密码不能与当前密码相同，请换一个新密码。",
                               "errors": ["新密码不能与当前密码相同，请换一个新密码。"]}
    assert Event.objects.filter(action="orgs.user.password_change").count() == 0


def test_wrong_old_password_is_refused(client, tree):
    _, raw = ApiToken.issue(tree.teacher, "t")
    response = post(client, {"old_password": "nope", "new_password": "Brand-new-77"}, **bearer(raw))
    assert (response.status_code, response.json()["detail"]) == (400, "当前密码不正确，请重新输入。")
    tree.teacher.refresh_from_db()
    assert tree.teacher.check_password(PASSWORD)


def test_validators_apply(client, tree):
    _, raw = ApiToken.issue(tree.teacher, "t")
    response = post(client, {"old_password": PASSWORD, "new_password": "12345678"}, **bearer(raw))
    assert response.status_code == 400
    assert response.json()["errors"] == ["这个密码太常见了。", "密码只包含数字。"]


def test_forced_change_over_the_api_unblocks_the_token(client, tree):
    tree.teacher.must_change_password = True
    tree.teacher.save()
    _, raw = ApiToken.issue(tree.teacher, "t")
    assert client.get("/api/v1/auth/me", **bearer(raw)).status_code == 403
    response = post(client, {"old_password": PASSWORD, "new_password": "Brand-new-77"}, **bearer(raw))
    assert response.status_code == 204
    tree.teacher.refresh_from_db()
    assert (tree.teacher.must_change_password, tree.teacher.check_password("Brand-new-77")) == (False, True)
    assert client.get("/api/v1/auth/me", **bearer(raw)).status_code == 200
    assert Event.objects.get(action="orgs.user.password_change").after == {"forced": True}


def test_session_stays_logged_in_after_the_change(tree):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(tree.teacher)
    client.get("/accounts/password/")
    csrf = client.cookies["csrftoken"].value
    response = post(client, {"old_password": PASSWORD, "new_password": "Brand-new-77"}, HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 200


@pytest.mark.parametrize("auth", ["none", "garbage"])
def test_needs_authentication(client, tree, auth):
    extra = bearer("jpk_garbage") if auth == "garbage" else {}
    response = post(client, {"old_password": PASSWORD, "new_password": "Brand-new-77"}, **extra)
    assert response.status_code == 401
