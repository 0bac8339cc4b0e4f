"""Log in for a token, who am I, my password and my API tokens."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import SESSION_KEY, update_session_auth_hash
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Schema

from api import services
from api.auth import JpkSessionAuth, TokenAuth
from api.models import ApiToken
from audit.services import record
from orgs import services as org_services

router = Router(tags=["账户"])


class ErrorOut(Schema):
    detail: str
    errors: list = []


class LoginIn(Schema):
    username: str  # the username (any letter case) or the 11-digit mobile number
    password: str
    name: str = ""
    days: int | None = None


class LoginOut(Schema):
    token: str
    token_type: str
    id: int
    name: str
    prefix: str
    expires_at: datetime
    user_id: int
    username: str
    primary_role: str


@router.post(
    "/login", auth=None,
    response={201: LoginOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="脚本登录：用户名或手机号 + 密码 → 个人 API 令牌（无需 CSRF；与网页登录共用失败锁定）",
    description="令牌默认 1 天有效，可用 days 指定 1 至 JPK_API_TOKEN_DAYS 天；name 是令牌用途（默认“API 登录”）。"
                "之后每个请求带请求头 Authorization: Bearer <token>。密码连续输错会锁定（429），"
                "尚未修改初始密码的账户返回 403。",
)
def login(request, payload: LoginIn):
    token, raw = services.login_for_token(request, login=payload.username, password=payload.password,
                                          name=payload.name, days=payload.days)
    return 201, {"token": raw, "token_type": "Bearer", "id": token.pk, "name": token.name, "prefix": token.prefix,
                 "expires_at": token.expires_at, "user_id": token.user_id, "username": token.user.username,
                 "primary_role": token.user.primary_role()[0]}


class PasswordIn(Schema):
    old_password: str
    new_password: str


# Reachable before the initial password is changed: it is how the change is made.
PASSWORD_AUTH = [TokenAuth(allow_must_change_password=True), JpkSessionAuth(allow_must_change_password=True)]


@router.post("/password", auth=PASSWORD_AUTH, response={204: None, 400: ErrorOut, 401: ErrorOut, 422: ErrorOut},
             summary="修改本人密码（也用于首次登录须修改的初始密码）；新密码不能与当前密码相同")
def change_password(request, payload: PasswordIn):
    user = request.auth
    org_services.change_password(user, old_password=payload.old_password, new_password=payload.new_password)
    if request.session.get(SESSION_KEY) == str(user.pk):
        update_session_auth_hash(request, user)  # the browser session stays logged in
    return 204, None


class MembershipOut(Schema):
    unit_id: int
    unit_name: str
    unit_kind: str
    role: str
    role_label: str


class MeOut(Schema):
    id: int
    username: str
    real_name: str
    mobile: str | None
    primary_role: str
    must_change_password: bool
    memberships: list[MembershipOut]


@router.get("/me", response=MeOut, summary="当前用户与其角色")
def me(request):
    user = request.user
    return {
        "id": user.pk,
        "username": user.username,
        "real_name": user.real_name,
        "mobile": user.mobile,
        "primary_role": user.primary_role()[0],
        "must_change_password": user.must_change_password,
        "memberships": [
            {
                "unit_id": m.unit_id,
                "unit_name": m.unit.name,
                "unit_kind": m.unit.kind,
                "role": m.role_key,
                "role_label": m.role_label,
            }
            for m in user.memberships_cached()
        ],
    }


class TokenIn(Schema):
    name: str


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str


@router.get("/tokens", response=list[TokenOut], summary="我的 API 令牌")
def list_tokens(request):
    return list(ApiToken.objects.filter(user=request.user))


@router.post("/tokens", response={201: TokenCreated}, summary="创建 API 令牌（令牌只显示这一次）")
def create_token(request, payload: TokenIn):
    token, raw = ApiToken.issue(request.user, payload.name.strip() or "API")
    record(request.user, "api.token.create", token, after={"name": token.name, "prefix": token.prefix})
    out = TokenOut.from_orm(token).dict()
    out["token"] = raw
    return 201, out


@router.delete("/tokens/{token_id}", response={204: None}, summary="吊销 API 令牌")
def revoke_token(request, token_id: int):
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(request.user, "api.token.revoke", token)
    return 204, None
