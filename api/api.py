"""Who am I, and my API tokens."""

from __future__ import annotations

from datetime import datetime

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Schema

from api.models import ApiToken
from audit.services import record

router = Router(tags=["账户"])


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
