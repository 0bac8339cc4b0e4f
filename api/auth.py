"""Authentication for the REST API (and later the tus endpoint).

Two ways in: ``Authorization: Bearer jpk_…`` with a personal token, or the
browser session (with its CSRF token on unsafe methods).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.security import HttpBearer, SessionAuth

from api.models import ApiToken, hash_token
from jingpinke.errors import ServiceError


def must_change_password_error() -> ServiceError:
    """403, not 401: the person is known, he must first set his own password."""
    return ServiceError(
        _("请先修改初始密码：在网站的“修改密码”页面（/accounts/password/）设置自己的密码，"
          "或调用 POST /api/v1/auth/password，然后再使用 API。"),
        status=403,
    )


def user_for_token(raw: str):
    """The active user a raw token belongs to, or None."""
    if not raw:
        return None
    now = timezone.now()
    # key_hash is unique: no ordering (``first`` sorted by the creation time); of the token, only what
    # is written back. Checked on every request against the table: revocation and expiry are immediate.
    token = next(iter(
        ApiToken.objects.select_related("user").only("last_used_at", "user")
        .filter(key_hash=hash_token(raw.strip()), revoked_at__isnull=True, expires_at__gt=now)
        .order_by()[:1]
    ), None)
    if token is None or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def user_from_request(request):
    """Token from the Authorization header, else the session user, else None."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return user_for_token(header[7:])
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    return None


class TokenAuth(HttpBearer):
    openapi_description = (
        "个人 API 令牌：请求头 Authorization: Bearer jpk_…（用 POST /api/v1/auth/login 获取，"
        "或在“我的账户 › API 令牌”中创建）"
    )

    def __init__(self, allow_must_change_password: bool = False):
        super().__init__()
        self.allow_must_change_password = allow_must_change_password

    def authenticate(self, request, token):
        user = user_for_token(token)
        if user is None:
            return None
        request.user = user
        # A password change forced at first login applies to the API as well.
        if user.must_change_password and not self.allow_must_change_password:
            raise must_change_password_error()
        return user


class JpkSessionAuth(SessionAuth):
    def __init__(self, allow_must_change_password: bool = False, csrf: bool = True):
        super().__init__(csrf=csrf)
        self.allow_must_change_password = allow_must_change_password

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is not None and user.must_change_password and not self.allow_must_change_password:
            raise must_change_password_error()
        return user
