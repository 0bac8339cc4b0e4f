from datetime import timedelta

import pytest
from django.utils import timezone

from api.models import ApiToken, hash_token
from audit.models import Event


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_me_requires_authentication(client, tree):
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json()["detail"].startswith("请先登录")


def test_me_with_token(client, tree):
    _, raw = ApiToken.issue(tree.county_admin, "script")
    response = client.get("/api/v1/auth/me", **bearer(raw))
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "ck_admin"
    assert body["primary_role"] == "county_admin"
    assert body["memberships"] == [
        {"unit_id": tree.county.pk, "unit_name": "赤坎区", "unit_kind": "county", "role": "county_admin",
         "role_label": "区县管理员"}
    ]


def test_token_is_stored_hashed_and_shown_once(client, tree):
    client.force_login(tree.teacher)
    response = client.post("/api/v1/auth/tokens", {"name": "上传脚本"}, content_type="application/json")
    assert response.status_code == 201
    raw = response.json()["token"]
    token = ApiToken.objects.get(user=tree.teacher)
    assert token.key_hash == hash_token(raw)
    assert raw not in str(ApiToken.objects.filter(pk=token.pk).values().first())
    listed = client.get("/api/v1/auth/tokens").json()
    assert [t["name"] for t in listed] == ["上传脚本"]
    assert "token" not in listed[0]
    assert Event.objects.filter(action="api.token.create", actor=tree.teacher).count() == 1


def test_session_post_needs_csrf(tree):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(tree.teacher)
    response = client.post("/api/v1/auth/tokens", {"name": "x"}, content_type="application/json")
    assert response.status_code in (401, 403)
    assert ApiToken.objects.count() == 0


@pytest.mark.parametrize("state", ["revoked", "expired", "inactive", "garbage"])
def test_unusable_tokens_are_refused(client, tree, state):
    token, raw = ApiToken.issue(tree.teacher, "t")
    if state == "revoked":
        token.revoked_at = timezone.now()
        token.save()
    elif state == "expired":
        token.expires_at = timezone.now() - timedelta(seconds=1)
        token.save()
    elif state == "inactive":
        tree.teacher.is_active = False
        tree.teacher.save()
    else:
        raw = raw[:-2] + "xx"
    assert client.get("/api/v1/auth/me", **bearer(raw)).status_code == 401


def test_a_token_returns_its_user_as_the_orm_reads_him(tree):
    """``user_for_token`` reads token and user in one written-out statement: the user it returns
    equals the ORM's (every field, converted: dates, booleans), and nothing else is read."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from api.auth import user_for_token
    from orgs.models import User

    token, raw = ApiToken.issue(tree.teacher, "t")
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    with CaptureQueriesContext(connection) as queries:
        user = user_for_token(f"  {raw} ")
    assert len(queries.captured_queries) == 1
    expected = User.objects.get(pk=tree.teacher.pk)
    for field in User._meta.concrete_fields:
        assert getattr(user, field.attname) == getattr(expected, field.attname), field.name
    assert user_for_token("") is None and user_for_token("   ") is None


def test_a_tokens_use_is_recorded_at_most_every_five_minutes(client, tree):
    from api.auth import LAST_USED_STEP

    token, raw = ApiToken.issue(tree.teacher, "t")
    assert token.last_used_at is None
    assert client.get("/api/v1/auth/me", **bearer(raw)).status_code == 200
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None and timezone.now() - first < timedelta(seconds=30)
    assert client.get("/api/v1/auth/me", **bearer(raw)).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == first  # used again within the step: not written
    old = timezone.now() - LAST_USED_STEP - timedelta(seconds=1)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=old)
    assert client.get("/api/v1/auth/me", **bearer(raw)).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at > old + LAST_USED_STEP


MUST_CHANGE = ("请先修改初始密码：在网站的“修改密码”页面（/accounts/password/）设置自己的密码，"
               "或调用 POST /api/v1/auth/password，然后再使用 API。")


@pytest.mark.parametrize("url", ["/api/v1/auth/me", "/api/v1/auth/tokens", "/api/v1/orgs/units",
                                 "/api/v1/courses", "/api/v1/notifications"])
def test_must_change_password_gets_its_own_403_with_a_token(client, tree, url):
    tree.teacher.must_change_password = True
    tree.teacher.save()
    _, raw = ApiToken.issue(tree.teacher, "t")
    response = client.get(url, **bearer(raw))
    assert response.status_code == 403
    assert response.json() == {"detail": MUST_CHANGE, "errors": []}


def test_must_change_password_gets_its_own_403_in_the_session(client, tree):
    tree.teacher.must_change_password = True
    tree.teacher.save()
    client.force_login(tree.teacher)
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 403
    assert response.json() == {"detail": MUST_CHANGE, "errors": []}


def test_revoke_only_own_tokens(client, tree):
    mine, raw = ApiToken.issue(tree.teacher, "mine")
    theirs, _ = ApiToken.issue(tree.county_admin, "theirs")
    assert client.delete(f"/api/v1/auth/tokens/{theirs.pk}", **bearer(raw)).status_code == 404
    assert client.delete(f"/api/v1/auth/tokens/{mine.pk}", **bearer(raw)).status_code == 204
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert client.get("/api/v1/auth/me", **bearer(raw)).status_code == 401


def test_token_page_creates_and_revokes(client, tree):
    client.force_login(tree.teacher)
    response = client.post("/account/tokens/", {"name": "批量上传"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=tree.teacher)
    raw = response.context["new_token"]
    assert token.key_hash == hash_token(raw)
    assert raw in response.content.decode()
    response = client.post("/account/tokens/", {"revoke": token.pk})
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_token_page_requires_a_name(client, tree):
    client.force_login(tree.teacher)
    response = client.post("/account/tokens/", {"name": "  "}, follow=True)
    assert "请填写令牌用途" in response.content.decode()
    assert ApiToken.objects.count() == 0


def test_openapi_document_lists_every_router(client, db):
    spec = client.get("/api/v1/openapi.json").json()
    tags = {tag for path in spec["paths"].values() for op in path.values() for tag in op.get("tags", [])}
    assert {"账户", "首页与帮助"} <= tags
    assert "/api/v1/auth/me" in spec["paths"]
    schemes = spec["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} >= {"http", "apiKey"}


def test_openapi_document_has_no_duplicate_keys(client, db):
    """Swagger UI (/api/v1/docs) reads the document as YAML, which refuses a key twice: a response
    documented as "200" beside ninja's own 200 broke the whole page."""
    import json

    duplicates = []

    def pairs(items):
        keys = [k for k, _v in items]
        duplicates.extend(k for k in set(keys) if keys.count(k) > 1)
        return dict(items)

    json.loads(client.get("/api/v1/openapi.json").content, object_pairs_hook=pairs)
    assert duplicates == []
    spec = client.get("/api/v1/openapi.json").json()
    summary = spec["paths"]["/api/v1/selection/campaigns/{campaign_id}/units/{unit_id}/summary.xlsx"]["get"]
    assert "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" in summary["responses"]["200"]["content"]
