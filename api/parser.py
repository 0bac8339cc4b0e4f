"""The API's JSON parser: refuses what no endpoint can store before any schema sees it."""

from __future__ import annotations

from django.utils.translation import gettext as _
from ninja.parser import Parser

from jingpinke.errors import ServiceError
from jingpinke.inputs import json_problems


class GuardedParser(Parser):
    """``json.loads`` plus one check over the whole document: no NUL in any string or key, no
    integer beyond the database's 64-bit range (an id list such as ``user_ids`` included).
    Query strings and form fields are checked by ``jingpinke.middleware.InputGuardMiddleware``."""

    def parse_body(self, request):
        data = super().parse_body(request)
        if problems := json_problems(data):
            raise ServiceError(
                problems[0].msg if len(problems) == 1 else _("请求数据中有 %(n)d 处无法接受的值：%(first)s")
                % {"n": len(problems), "first": problems[0].msg},
                errors=[p.as_error() for p in problems],
                status=422,
            )
        return data
