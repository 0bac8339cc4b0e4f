"""The input rules every request passes: ids within range, no NUL (jingpinke.inputs, .middleware)."""

import pytest
from django.http import Http404
from django.test import RequestFactory

from jingpinke.inputs import ID_MAX, Problem, field_label, json_problems, nul_problems, parse_id
from jingpinke.middleware import InputGuardMiddleware


@pytest.mark.parametrize("raw, expected", [
    ("42", 42), (" 7 ", 7), (7, 7), ("0", 0), (str(ID_MAX), ID_MAX), (str(ID_MAX + 1), None),
    ("99999999999999999999", None), ("-1", None), ("+1", None), ("1.0", None), ("²", None), ("١٢", None),
    ("", None), (None, None), ("abc", None),
])
def test_parse_id(raw, expected):
    assert parse_id(raw) == expected


def test_json_problems_name_every_bad_value():
    data = {"name": "a\x00b", "user_ids": [-1, 2**70], "ok": [True, 1.5e300, -(2**63)], "n\x00": 1,
            "nested": {"items": [{"title": "x\x00"}]}}
    problems = json_problems(data)
    assert [p.loc for p in problems] == [
        ("body", "n\x00"), ("body", "name"), ("body", "nested", "items", 0, "title"), ("body", "user_ids", 1),
    ]
    assert problems[1].msg == "字段“name”含有空字符（\\u0000），无法保存：请删除其中的不可见字符后重试。"
    assert problems[3].msg == (
        "字段“user_ids[1]”的数字超出允许范围（-9223372036854775808 至 9223372036854775807）：编号和数量不会这么大，请检查后重试。")
    assert json_problems({"user_ids": [-1, 2**63 - 1], "name": "正常"}) == []


def test_field_label():
    assert field_label(("body", "members", 0, "name")) == "members[0].name"
    assert field_label(("query", "q")) == "q"
    assert field_label(("body",)) == "body"


def test_nul_problems():
    assert nul_problems("query", [("q", "a\x00"), ("page", "1"), ("x\x00", "")]) == [
        Problem(("query", "q"), "字段“q”含有空字符（\\u0000），无法保存：请删除其中的不可见字符后重试。"),
        Problem(("query", "x\\u0000"), "字段“x\\u0000”含有空字符（\\u0000），无法保存：请删除其中的不可见字符后重试。"),
    ]


def test_an_integer_overflow_in_a_page_query_is_not_found():
    """The backstop behind parse_id: SQLite's OverflowError on a hand-typed id becomes a 404, not a 500."""
    guard = InputGuardMiddleware(lambda request: None)
    request = RequestFactory().get("/selection/?held_by=99999999999999999999")
    with pytest.raises(Http404):
        guard.process_exception(request, OverflowError("Python int too large to convert to SQLite INTEGER"))
    assert guard.process_exception(request, ValueError("other")) is None
