"""Login lockout (django-axes) per person, not per typed string.

Login accepts the username in any letter case and the mobile number, so axes must count the
failures of all those spellings on one counter: ``lockout_key`` resolves what was typed to the
account's stored username (``AXES_USERNAME_CALLABLE``). A name that matches no account is counted
lower-cased, so its case variants share a counter too.
"""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

API_PREFIX = "/api/"


def lockout_key(request, credentials: dict | None = None) -> str | None:
    """The axes counter key for a login attempt: the account's username, else the login lower-cased."""
    if credentials is not None:
        login = credentials.get(settings.AXES_USERNAME_FORM_FIELD)
    else:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        login = data.get(settings.AXES_USERNAME_FORM_FIELD)
    if login is None:
        return None
    login = str(login).strip()
    if not login:
        return login
    cache = getattr(request, "_jpk_lockout_keys", None) if request is not None else None
    if cache is None:
        cache = {}
        if request is not None:
            request._jpk_lockout_keys = cache
    if login not in cache:
        from orgs.models import User

        try:
            cache[login] = User.objects.get_by_login(login).username
        except (User.DoesNotExist, User.MultipleObjectsReturned):
            cache[login] = login.lower()
    return cache[login]


def locked_message() -> str:
    return _("密码连续输错次数过多，账户已暂时锁定。请 %(minutes)d 分钟后再试，或联系所在单位管理员解锁。") % {
        "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)}


def lockout_response(request, original_response=None, credentials=None):
    """``AXES_LOCKOUT_CALLABLE``: the API answers in its JSON error shape, pages show the lockout page."""
    status = settings.AXES_HTTP_RESPONSE_CODE
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": locked_message(), "errors": []}, status=status,
                            json_dumps_params={"ensure_ascii": False})
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, {}, status=status)
