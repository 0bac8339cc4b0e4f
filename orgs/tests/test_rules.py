"""The pure import and tree rules, tested on plain data."""

import pytest

from orgs import rules
from orgs.rules import KnownUnit


class R:
    def __init__(self, number, **values):
        self.number = number
        self.values = values

    def get(self, column):
        return self.values.get(column, "")


def unit_row(number, name, code, kind, parent="", order=""):
    return R(number, **{"单位名称": name, "单位代码": code, "类型": kind, "上级单位代码": parent, "排序": order})


KNOWN = {
    "440800": KnownUnit("440800", "city", True),
    "440802": KnownUnit("440802", "county", True),
    "440803": KnownUnit("440803", "county", False),
    "440802001": KnownUnit("440802001", "school", True),
    "440804": KnownUnit("440804", "county", True, active=False),
}


def test_child_kinds_and_fit():
    assert rules.child_kinds(None) == ["province"]
    assert rules.child_kinds("province") == ["city", "school"]
    assert rules.child_kinds("city") == ["county", "school"]
    assert rules.child_kinds("county") == ["school"]
    assert rules.child_kinds("school") == []
    assert rules.kind_fits("school", "city") is True
    assert rules.kind_fits("county", "province") is False
    assert rules.kind_fits("city", None) is False


def test_kind_mismatch_message():
    assert rules.kind_mismatch_message("county", "province") == "类型不匹配：省下面只能建市、学校，不能建县（市、区）。"
    assert rules.kind_mismatch_message("school", "school") == "学校下面不能再建下级单位。"


def test_generated_password_has_letters_and_digits():
    for _ in range(50):
        p = rules.generate_password()
        assert len(p) == 10
        assert any(c.isdigit() for c in p) and any(c.isalpha() for c in p)


def test_mobile_and_order():
    assert rules.is_valid_mobile("13800138000") is True
    assert rules.is_valid_mobile("1380013800") is False
    assert rules.is_valid_mobile("23800138000") is False
    assert rules.parse_order("") == 0
    assert rules.parse_order("12") == 12
    assert rules.parse_order("-1") is None
    assert rules.parse_order("abc") is None


def test_valid_unit_rows_parent_later_in_sheet_and_order():
    rows = [
        unit_row(2, "新学校", "440899001", "学校", "440899", "3"),
        unit_row(3, "新区", "440899", "县（市、区）", "440800"),
    ]
    parsed, errors = rules.validate_unit_rows(rows, KNOWN, set(), False)
    assert errors == []
    assert [(r.code, r.kind, r.parent_code, r.sort_order) for r in parsed] == [
        ("440899", "county", "440800", 0), ("440899001", "school", "440899", 3)]


def test_every_unit_row_error():
    rows = [
        unit_row(2, "", "", ""),
        unit_row(3, "甲校", "440802", "学校", "440802"),
        unit_row(4, "乙校", "X1", "大学", "440802"),
        unit_row(5, "丙校", "X2", "学校", "440803"),
        unit_row(6, "丁校", "X3", "学校", "999999"),
        unit_row(7, "戊区", "X4", "县（市、区）", "440802"),
        unit_row(8, "己校", "X5", "学校", ""),
        unit_row(9, "庚校", "X5", "学校", "440802"),
        unit_row(10, "湛江市第二十一小学", "X6", "学校", "440802"),
        unit_row(11, "辛校", "X7", "学校", "440802", "第一"),
        unit_row(12, "辛校", "X8", "学校", "440802"),
        unit_row(13, "广东省", "X9", "省", ""),
        unit_row(14, "壬校", "X10", "学校", "X10"),
        unit_row(15, "癸校", "X11", "学校", "440804"),
    ]
    parsed, errors = rules.validate_unit_rows(rows, KNOWN, {("440802", "湛江市第二十一小学")}, False)
    assert parsed == []
    assert errors == [
        {"row": 2, "column": "单位名称", "message": "请填写单位名称。"},
        {"row": 2, "column": "单位代码", "message": "请填写单位代码（全局唯一，例如 440802001）。"},
        {"row": 2, "column": "类型", "message": "请填写类型：省、市、县（市、区）或学校。"},
        {"row": 3, "column": "单位代码", "message": "单位代码 440802 已存在，不能重复创建；如需修改请在单位页面编辑。"},
        {"row": 3, "column": "上级单位代码", "message": "上级单位代码不能是本单位自己的代码。"},
        {"row": 4, "column": "类型", "message": "类型“大学”无法识别，请填写：省、市、县（市、区）或学校。"},
        {"row": 5, "column": "上级单位代码", "message": "上级单位 440803 不在您管理的范围内，只能在您管理的单位下面导入。"},
        {"row": 6, "column": "上级单位代码", "message": "找不到上级单位代码 999999：系统和本表中都没有这个单位。"},
        {"row": 7, "column": "类型", "message": "类型不匹配：县（市、区）下面只能建学校，不能建县（市、区）。"},
        {"row": 8, "column": "上级单位代码", "message": "请填写上级单位代码（只有“省”可以不填）。"},
        {"row": 9, "column": "单位代码", "message": "单位代码 X5 与第 8 行重复，每个单位代码只能出现一次。"},
        {"row": 10, "column": "单位名称", "message": "上级单位下已有名为“湛江市第二十一小学”的单位，同一上级下的单位名称不能重复。"},
        {"row": 11, "column": "排序", "message": "排序请填写 0 或正整数，例如 10。"},
        {"row": 12, "column": "单位名称", "message": "与第 11 行同名且上级单位相同，同一上级下的单位名称不能重复。"},
        {"row": 13, "column": "类型", "message": "只有系统管理员可以创建省级单位。"},
        {"row": 14, "column": "上级单位代码", "message": "上级单位代码不能是本单位自己的代码。"},
        {"row": 15, "column": "上级单位代码", "message": "上级单位 440804 已停用，不能在它下面导入单位。"},
    ]


def test_child_of_a_bad_row_points_at_that_row():
    rows = [unit_row(2, "新区", "440899", "区县", "440800"), unit_row(3, "新学校", "440899001", "学校", "440899")]
    _, errors = rules.validate_unit_rows(rows, KNOWN, set(), False)
    assert errors[1] == {"row": 3, "column": "上级单位代码", "message": "上级单位 440899 所在的行有错误，请先改正那一行。"}


def user_row(number, name="张三", username="", mobile="13900000001", unit="440802001", role="教师", password="",
             title="", subject=""):
    return R(number, **{"姓名": name, "用户名": username, "手机号": mobile, "单位代码": unit, "角色": role,
                        "职务": title, "任教学科": subject, "初始密码": password})


def no_password_problems(password, attrs):
    return ["密码太短。"] if len(password) < 8 else []


def test_valid_user_rows_default_username_to_mobile():
    parsed, errors = rules.validate_user_rows(
        [user_row(2, subject="语文"), user_row(3, name="李四", username="lisi", mobile="13900000002", role="管理员",
                                              password="Good-pass-1")],
        {"440802001": True}, set(), no_password_problems)
    assert errors == []
    assert [(u.username, u.mobile, u.role, u.subject, u.password) for u in parsed] == [
        ("13900000001", "13900000001", "teacher", "语文", ""), ("lisi", "13900000002", "admin", "", "Good-pass-1")]


def test_every_user_row_error():
    rows = [
        user_row(2, name="", mobile="", unit="", role=""),
        user_row(3, mobile="1390000000"),
        user_row(4, mobile="13800000001"),
        user_row(5, username="teacher", mobile="13900000005"),
        user_row(6, mobile="13900000006"),
        user_row(7, mobile="13900000006"),
        user_row(8, username="zhang san", mobile="13900000008"),
        user_row(9, mobile="13900000009", unit="999"),
        user_row(10, mobile="13900000010", unit="440803001"),
        user_row(11, mobile="13900000011", role="校长"),
        user_row(12, mobile="13900000012", password="123"),
        user_row(13, username="13900000006", mobile="13900000013"),
        user_row(14, mobile="13900000014", unit="440802009"),
    ]
    parsed, errors = rules.validate_user_rows(rows, {"440802001": True, "440803001": False, "440802009": "inactive"},
                                              {"13800000001", "teacher"}, no_password_problems)
    assert [p.number for p in parsed] == [6]
    assert errors == [
        {"row": 2, "column": "姓名", "message": "请填写姓名。"},
        {"row": 2, "column": "手机号", "message": "请填写手机号。"},
        {"row": 2, "column": "单位代码", "message": "请填写单位代码。"},
        {"row": 2, "column": "角色", "message": "请填写角色：教师、评审专家、学校管理员、区县管理员、市级管理员、省级管理员。"},
        {"row": 3, "column": "手机号", "message": "手机号“1390000000”格式不对，请填写 11 位手机号码，例如 13800138000。"},
        {"row": 4, "column": "手机号", "message": "手机号 13800000001 已被系统中的其他账户使用。"},
        {"row": 5, "column": "用户名", "message": "用户名 teacher 已被系统中的其他账户使用，请换一个用户名。"},
        {"row": 7, "column": "手机号", "message": "手机号 13900000006 与第 6 行重复。"},
        {"row": 8, "column": "用户名", "message": "用户名只能包含字母、数字和 @ . + - _，最多 150 个字符。"},
        {"row": 9, "column": "单位代码", "message": "找不到单位代码 999，请先在“单位”中创建或导入该单位。"},
        {"row": 10, "column": "单位代码", "message": "单位 440803001 不在您管理的范围内。"},
        {"row": 11, "column": "角色", "message": "角色“校长”无法识别，请填写：教师、评审专家、学校管理员、区县管理员、市级管理员、省级管理员。"},
        {"row": 12, "column": "初始密码", "message": "初始密码不符合要求：密码太短。 也可以留空，由系统生成。"},
        {"row": 13, "column": "用户名", "message": "用户名 13900000006 与第 6 行重复。"},
        {"row": 14, "column": "单位代码", "message": "单位 440802009 已停用，不能向其中导入人员。"},
    ]


@pytest.mark.parametrize("key,kind,expected", [
    ("teacher", "school", ("teacher", None)),
    ("expert", "city", ("expert", None)),
    ("admin", "county", ("admin", None)),
    ("school_admin", "school", ("admin", None)),
    ("county_admin", "county", ("admin", None)),
    ("city_admin", "city", ("admin", None)),
    ("province_admin", "province", ("admin", None)),
    ("county_admin", "school", (None, "角色 county_admin 只能授予县（市、区）的人员，所选单位是学校，请填写 school_admin。")),
    ("principal", "school", (None, "角色“principal”无法识别，请填写：teacher、expert、school_admin、county_admin、"
                                   "city_admin、province_admin。")),
])
def test_resolve_role(key, kind, expected):
    assert rules.resolve_role(key, kind) == expected


@pytest.mark.parametrize("role,kind", [("teacher", "school"), ("expert", "city"), ("admin", "school"),
                                       ("admin", "county"), ("admin", "city"), ("admin", "province")])
def test_role_key_round_trips_through_resolve_role(role, kind):
    key = rules.role_key(role, kind)
    assert key in rules.MEMBERSHIP_ROLE_KEYS
    assert rules.resolve_role(key, kind) == (role, None)


def test_user_rows_take_the_specific_admin_labels_and_keys_matching_the_unit():
    rows = [user_row(2, role="学校管理员"), user_row(3, mobile="13900000003", role="county_admin", unit="440802"),
            user_row(4, mobile="13900000004", role="区县管理员"), user_row(5, mobile="13900000005", role="管理员")]
    parsed, errors = rules.validate_user_rows(rows, {"440802001": True, "440802": True}, set(), no_password_problems,
                                              unit_kinds={"440802001": "school", "440802": "county"})
    assert [(p.number, p.role) for p in parsed] == [(2, "admin"), (3, "admin"), (5, "admin")]
    assert errors == [{"row": 4, "column": "角色",
                       "message": "角色“区县管理员”与单位 440802001 的类型（学校）不符，请填写学校管理员。"}]
