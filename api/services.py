"""Use cases of the API app: a script logs in for a personal token."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import update_last_login
from django.db import transaction
from django.utils.translation import gettext as _

from api.auth import must_change_password_error
from api.models import ApiToken
from audit.services import record
from jingpinke.errors import ServiceError
from orgs.lockout import locked_message

LOGIN_TOKEN_DEFAULT_DAYS = 1


def login_token_days(days: int | None) -> int:
    """The validity of a token asked for at login: 1 day unless given, at most JPK_API_TOKEN_DAYS."""
    max_days = settings.API_TOKEN_LIFETIME.days
    if days is None:
        return min(LOGIN_TOKEN_DEFAULT_DAYS, max_days)
    if not 1 <= days <= max_days:
        raise ServiceError(_("有效期 days 请填写 1 到 %(max)d 之间的天数。") % {"max": max_days})
    return days


def login_for_token(request, *, login: str, password: str, name: str = "", days: int | None = None):
    """Username (any case) or mobile plus password → a new personal token, under the login lockout.

    Returns (token, raw token). Refuses with 401 (wrong credentials), 429 (locked out) or 403 (the
    initial password must be changed first)."""
    days = login_token_days(days)
    name = (name or "").strip()[:100] or _("API 登录")
    user = authenticate(request, username=(login or "").strip(), password=password or "")
    if user is None:
        if getattr(request, "axes_locked_out", False):
            raise ServiceError(locked_message(), status=settings.AXES_HTTP_RESPONSE_CODE)
        raise ServiceError(_("用户名/手机号或密码不正确。连续多次输入错误，账户会被暂时锁定。"), status=401)
    if user.must_change_password:
        raise must_change_password_error()
    with transaction.atomic():
        token, raw = ApiToken.issue(user, name, lifetime=timedelta(days=days))
        update_last_login(None, user)
        record(user, "api.token.login", token,
               after={"name": token.name, "prefix": token.prefix, "expires_at": token.expires_at})
    if settings.AXES_RESET_ON_SUCCESS:
        # The same reset a page login does (axes' user_logged_in), without creating a session.
        from axes.utils import reset

        reset(ip=getattr(request, "axes_ip_address", None), username=user.get_username())
    return token, raw
