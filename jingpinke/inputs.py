"""What any request may carry: ids within the database's integer range and text without NUL.

Pure functions on plain data, used where input is parsed: the API's JSON parser
(``api.parser``), the middleware that guards query strings and forms for pages and API alike
(``jingpinke.middleware``), and the page views' query-string parsing (``parse_id``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

# The largest integer SQLite and PostgreSQL (bigint) store; every id column is a BigAutoField.
ID_MAX = 2**63 - 1
ID_MIN = -(2**63)
NUL = "\x00"


def parse_id(value) -> int | None:
    """An id typed in a query string or form: ASCII digits up to ``ID_MAX``; anything else
    (blank, signs, Unicode digits such as "²" or "١", a number beyond the range) is None,
    which callers treat as "no such object"."""
    text = "" if value is None else str(value).strip()
    if not text or len(text) > 19 or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number <= ID_MAX else None


@dataclass(frozen=True)
class Problem:
    """One refused value: where it is (``loc``, as in the API's 422 errors) and why."""

    loc: tuple
    msg: str

    def as_error(self) -> dict:
        return {"loc": list(self.loc), "msg": self.msg}


def field_label(loc: tuple) -> str:
    """``("body", "members", 0, "name")`` → ``members[0].name``; the source (body/query/form) is left out."""
    label = ""
    for part in loc[1:] if len(loc) > 1 else loc:
        label += f"[{part}]" if isinstance(part, int) else (f".{part}" if label else str(part))
    return label or str(loc[0] if loc else "")


def nul_message(loc: tuple) -> str:
    return _("字段“%(field)s”含有空字符（\\u0000），无法保存：请删除其中的不可见字符后重试。") % {
        "field": field_label(loc)[:100]
    }


def range_message(loc: tuple) -> str:
    return _("字段“%(field)s”的数字超出允许范围（%(min)d 至 %(max)d）：编号和数量不会这么大，请检查后重试。") % {
        "field": field_label(loc)[:100], "min": ID_MIN, "max": ID_MAX,
    }


def json_problems(data, loc: tuple = ("body",)) -> list[Problem]:
    """Every string (keys too) with NUL and every integer beyond the 64-bit range in a parsed
    JSON document. Nothing in our data is a number that large, and PostgreSQL cannot store NUL."""
    problems: list[Problem] = []
    stack = [(loc, data)]
    while stack and len(problems) < 20:
        where, value = stack.pop()
        if isinstance(value, str):
            if NUL in value:
                problems.append(Problem(where, nul_message(where)))
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int):
            if not ID_MIN <= value <= ID_MAX:
                problems.append(Problem(where, range_message(where)))
        elif isinstance(value, dict):
            for key, item in value.items():
                if NUL in str(key):
                    problems.append(Problem((*where, str(key)), nul_message((*where, str(key)))))
                stack.append(((*where, key), item))
        elif isinstance(value, list):
            stack.extend(((*where, i), item) for i, item in enumerate(value))
    return sorted(problems, key=lambda p: [str(x) for x in p.loc])


def nul_problems(source: str, pairs: Iterable[tuple[str, str]]) -> list[Problem]:
    """Fields (query parameters, form fields, upload file names) whose name or value contains NUL."""
    problems = []
    for key, value in pairs:
        if NUL in str(key) or NUL in str(value):
            where = (source, str(key).replace(NUL, "\\u0000"))
            problems.append(Problem(where, nul_message(where)))
    return problems
