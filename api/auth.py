"""Authentication for the REST API (and later the tus endpoint).

Two ways in: ``Authorization: Bearer jpk_…`` with a personal token, or the
browser session (with its CSRF token on unsafe methods).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.security import HttpBearer, SessionAuth

from api.models import ApiToken, hash_token
from jingpinke.errors import ServiceError
from jingpinke.prepared import prepared
from jingpinke.rows import ModelColumns
from orgs.models import User


def must_change_password_error() -> ServiceError:
    """403, not 401: the person is known, he must first set his own password."""
    return ServiceError(
        _("请先修改初始密码：在网站的“修改密码”页面（/accounts/password/）设置自己的密码，"
          "或调用 POST /api/v1/auth/password，然后再使用 API。"),
        status=403,
    )


# The user of a live token, and whether its last use is older than LAST_USED_STEP, in one statement
# written out: every API request runs it, and the ORM's compilation of the same join (token and
# user, ~40 columns) cost about 1 ms of CPU per request, three times the statement itself. The
# user is built from the row as the ORM builds it (``jingpinke.rows``: the same column converters,
# ``User.from_db``), without ``User.objects.raw``'s per-query mapping of columns to fields.
LAST_USED_STEP = timedelta(minutes=5)
_USER_COLUMNS = ModelColumns(User, "u")
_token_user_sql: dict[str, str] = {}


def _token_user_statement() -> str:
    sql = _token_user_sql.get(connection.vendor)
    if sql is None:
        sql = _token_user_sql[connection.vendor] = (
            f"SELECT {_USER_COLUMNS.select(connection)}, t.id, "
            "CASE WHEN t.last_used_at IS NULL OR t.last_used_at < %s THEN 1 ELSE 0 END "
            f"FROM {ApiToken._meta.db_table} t JOIN {User._meta.db_table} u ON u.id = t.user_id "
            "WHERE t.key_hash = %s AND t.revoked_at IS NULL AND t.expires_at > %s AND u.is_active"
        )
    return sql


def user_for_token(raw: str):
    """The active user a raw token belongs to (not revoked, not expired), or None. Records the
    token's use, at most once per LAST_USED_STEP."""
    if not raw or not raw.strip():
        return None
    now = timezone.now()
    at = connection.ops.adapt_datetimefield_value
    with prepared(), connection.cursor() as cursor:  # keyed: the token's hash (jingpinke/prepared.py)
        cursor.execute(_token_user_statement(), [at(now - LAST_USED_STEP), hash_token(raw.strip()), at(now)])
        row = cursor.fetchone()
    if row is None:
        return None
    user = _USER_COLUMNS.instance(row, 0, connection)
    token_id, stale = row[_USER_COLUMNS.width:]
    if stale:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    return user


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
