"""Pure decisions about units and people: no ORM, no I/O.

The import validators take the sheet rows plus plain facts about the database
(which codes exist, which lie in the importer's scope, which usernames and mobiles
are taken) and return a list of row errors; the services gather the facts and write.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

PROVINCE, CITY, COUNTY, SCHOOL = "province", "city", "county", "school"

# Which kinds may sit directly under which (mirrors models.ALLOWED_PARENT_KINDS).
PARENT_KINDS: dict[str, tuple[str, ...]] = {
    PROVINCE: (),
    CITY: (PROVINCE,),
    COUNTY: (CITY,),
    SCHOOL: (COUNTY, CITY, PROVINCE),
}
KIND_RANK = {PROVINCE: 0, CITY: 1, COUNTY: 2, SCHOOL: 3}

# What an admin types in the 类型 column of the unit sheet.
KIND_FROM_LABEL = {
    "省": PROVINCE,
    "市": CITY,
    "县（市、区）": COUNTY,
    "县(市、区)": COUNTY,
    "县": COUNTY,
    "区": COUNTY,
    "县级": COUNTY,
    "学校": SCHOOL,
}
KIND_TEMPLATE_CHOICES = ["省", "市", "县（市、区）", "学校"]

# --- roles ------------------------------------------------------------------------------
# One vocabulary in both directions: what creating a person takes (API, sheet) is what
# /auth/me and every membership in the API return. A membership stores teacher/expert/admin;
# an admin's key names his unit's kind, so the specific key must match the unit.
TEACHER, EXPERT, ADMIN = "teacher", "expert", "admin"
ADMIN_ROLE_BY_KIND = {SCHOOL: "school_admin", COUNTY: "county_admin", CITY: "city_admin", PROVINCE: "province_admin"}
KIND_OF_ADMIN_ROLE = {key: kind for kind, key in ADMIN_ROLE_BY_KIND.items()}
MEMBERSHIP_ROLE_KEYS = (TEACHER, EXPERT, *ADMIN_ROLE_BY_KIND.values())
ROLE_ALIASES = {ADMIN: ADMIN}  # "admin" = the admin of the given unit, whatever its kind

# What an admin types in the 角色 column of the user sheet (the labels shown everywhere, or the keys).
ROLE_FROM_LABEL = {
    "教师": TEACHER,
    "评审专家": EXPERT,
    "专家": EXPERT,
    "学校管理员": "school_admin",
    "区县管理员": "county_admin",
    "市级管理员": "city_admin",
    "省级管理员": "province_admin",
    "管理员": ADMIN,
}
ROLE_TEMPLATE_CHOICES = ["教师", "评审专家", "学校管理员", "区县管理员", "市级管理员", "省级管理员"]


def role_key(stored_role: str, unit_kind: str) -> str:
    """The vocabulary key of a membership: teacher, expert, or <kind>_admin."""
    return ADMIN_ROLE_BY_KIND.get(unit_kind, ADMIN) if stored_role == ADMIN else stored_role


def admin_role_label(key: str) -> str:
    return {"school_admin": _("学校管理员"), "county_admin": _("区县管理员"), "city_admin": _("市级管理员"),
            "province_admin": _("省级管理员")}[key]


def role_choices_text() -> str:
    return "、".join(MEMBERSHIP_ROLE_KEYS)


def resolve_role(key: str, unit_kind: str | None) -> tuple[str | None, str | None]:
    """The stored role for a vocabulary key given for a unit of ``unit_kind``: (role, None),
    or (None, the reason it is refused). ``unit_kind`` None skips the kind check."""
    key = (key or "").strip()
    if key in (TEACHER, EXPERT) or key in ROLE_ALIASES:
        return (ROLE_ALIASES.get(key, key), None)
    if key in KIND_OF_ADMIN_ROLE:
        wanted = KIND_OF_ADMIN_ROLE[key]
        if unit_kind is not None and unit_kind != wanted:
            return (None, _("角色 %(key)s 只能授予%(wanted)s的人员，所选单位是%(kind)s，请填写 %(fit)s。") % {
                "key": key, "wanted": kind_label(wanted), "kind": kind_label(unit_kind),
                "fit": ADMIN_ROLE_BY_KIND[unit_kind]})
        return (ADMIN, None)
    return (None, _("角色“%(key)s”无法识别，请填写：%(keys)s。") % {"key": key, "keys": role_choices_text()})


def role_filter(key: str) -> tuple[str, str | None] | None:
    """A role key as a list filter: (stored role, unit kind or None); None when unknown."""
    key = (key or "").strip()
    if key in (TEACHER, EXPERT, ADMIN):
        return (key, None)
    if key in KIND_OF_ADMIN_ROLE:
        return (ADMIN, KIND_OF_ADMIN_ROLE[key])
    return None

MOBILE_RE = re.compile(r"^1\d{10}$")
USERNAME_RE = re.compile(r"^[\w.@+-]+$")


def kind_label(kind: str) -> str:
    return {PROVINCE: _("省"), CITY: _("市"), COUNTY: _("县（市、区）"), SCHOOL: _("学校")}.get(kind, kind)


def child_kinds(parent_kind: str | None) -> list[str]:
    """The kinds a new unit under ``parent_kind`` may have (None = top level)."""
    if parent_kind is None:
        return [PROVINCE]
    return [k for k, parents in PARENT_KINDS.items() if parent_kind in parents]


def kind_fits(kind: str, parent_kind: str | None) -> bool:
    if parent_kind is None:
        return kind == PROVINCE
    return parent_kind in PARENT_KINDS.get(kind, ())


def kind_mismatch_message(kind: str, parent_kind: str | None) -> str:
    if parent_kind is None:
        return _("只有“省”可以没有上级单位，%(kind)s必须填写上级单位。") % {"kind": kind_label(kind)}
    allowed = "、".join(kind_label(k) for k in child_kinds(parent_kind))
    if not allowed:
        return _("%(parent)s下面不能再建下级单位。") % {"parent": kind_label(parent_kind)}
    return _("类型不匹配：%(parent)s下面只能建%(allowed)s，不能建%(kind)s。") % {
        "parent": kind_label(parent_kind), "allowed": allowed, "kind": kind_label(kind)}


def is_valid_mobile(mobile: str) -> bool:
    return bool(MOBILE_RE.match(mobile or ""))


def generate_password(length: int = 10) -> str:
    """A temporary password that passes the validators: letters and digits, no look-alikes."""
    letters = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
    digits = "23456789"
    while True:
        chars = [secrets.choice(letters + digits) for _ in range(length)]
        if any(c in digits for c in chars) and any(c in letters for c in chars):
            return "".join(chars)


def parse_order(text: str) -> int | None:
    """排序: blank = 0; a non-negative whole number; None when invalid."""
    text = (text or "").strip()
    if not text:
        return 0
    if not text.isdigit():
        return None
    return int(text)


# --- unit import ------------------------------------------------------------------------
UNIT_COLUMNS = ["单位名称", "单位代码", "类型", "上级单位代码", "排序"]
UNIT_REQUIRED = ["单位名称", "单位代码", "类型"]


@dataclass(frozen=True)
class KnownUnit:
    """A unit already in the database, as the unit import needs to know it."""

    code: str
    kind: str
    in_scope: bool  # the importer administers it (may add children under it)
    active: bool = True


@dataclass
class UnitRow:
    number: int
    name: str
    code: str
    kind: str
    parent_code: str
    sort_order: int


UNIT_EXAMPLE = ["湛江市第二十一小学", "440802001", "学校", "440802", "1"]
USER_EXAMPLE = ["李晓梅", "", "13800138000", "440802001", "教师", "语文教研组长", "语文", ""]


def _split_example_rows(rows: list, columns: list[str], example: list[str], err) -> list:
    """The template's example row left in the sheet is reported, never imported."""
    wanted = dict(zip(columns, example, strict=False))
    out = []
    for row in rows:
        if all(row.get(c).strip() == v for c, v in wanted.items()):
            err(row, columns[0], _("这是模板中的示例行，请删除后再上传。"))
        else:
            out.append(row)
    return out


def validate_unit_rows(
    rows: Iterable, known: dict[str, KnownUnit], taken_names: set[tuple[str, str]], is_system_admin: bool
) -> tuple[list[UnitRow], list[dict]]:
    """Check every row of a unit sheet. ``rows`` have ``.number`` and ``.get(column)``.

    ``known`` maps codes that exist in the database (lookup is exact) to what we know of them;
    ``taken_names`` holds (parent code, name) pairs already used in the database.
    Returns the parsed rows in creation order (parents first) and the errors."""
    rows = list(rows)
    errors: list[dict] = []

    def err(row, column, message):
        errors.append({"row": row.number, "column": column, "message": str(message)})

    rows = _split_example_rows(rows, UNIT_COLUMNS, UNIT_EXAMPLE, err)
    parsed: list[UnitRow] = []
    first_row_of_code: dict[str, int] = {}
    for row in rows:
        code = row.get("单位代码").strip()
        if code:
            first_row_of_code.setdefault(code, row.number)
    sheet_kind: dict[str, str] = {}
    for row in rows:
        kind = KIND_FROM_LABEL.get(row.get("类型").strip())
        if kind and row.get("单位代码").strip() and first_row_of_code[row.get("单位代码").strip()] == row.number:
            sheet_kind[row.get("单位代码").strip()] = kind

    seen_names: dict[tuple[str, str], int] = {}
    for row in rows:
        ok = True
        name = row.get("单位名称").strip()
        code = row.get("单位代码").strip()
        kind_text = row.get("类型").strip()
        parent_code = row.get("上级单位代码").strip()
        if not name:
            err(row, "单位名称", _("请填写单位名称。"))
            ok = False
        elif len(name) > 100:
            err(row, "单位名称", _("单位名称最多 100 个字。"))
            ok = False
        if not code:
            err(row, "单位代码", _("请填写单位代码（全局唯一，例如 440802001）。"))
            ok = False
        elif len(code) > 40:
            err(row, "单位代码", _("单位代码最多 40 个字符。"))
            ok = False
        elif first_row_of_code[code] != row.number:
            err(row, "单位代码", _("单位代码 %(code)s 与第 %(first)d 行重复，每个单位代码只能出现一次。")
                % {"code": code, "first": first_row_of_code[code]})
            ok = False
        elif code in known:
            err(row, "单位代码", _("单位代码 %(code)s 已存在，不能重复创建；如需修改请在单位页面编辑。") % {"code": code})
            ok = False
        kind = KIND_FROM_LABEL.get(kind_text)
        if not kind_text:
            err(row, "类型", _("请填写类型：省、市、县（市、区）或学校。"))
            ok = False
        elif kind is None:
            err(row, "类型", _("类型“%(text)s”无法识别，请填写：省、市、县（市、区）或学校。") % {"text": kind_text})
            ok = False
        order = parse_order(row.get("排序"))
        if order is None:
            err(row, "排序", _("排序请填写 0 或正整数，例如 10。"))
            ok = False
        parent_kind = None
        if parent_code:
            if parent_code == code:
                err(row, "上级单位代码", _("上级单位代码不能是本单位自己的代码。"))
                ok = False
            elif parent_code in known:
                parent = known[parent_code]
                if not parent.in_scope:
                    err(row, "上级单位代码", _("上级单位 %(code)s 不在您管理的范围内，只能在您管理的单位下面导入。")
                        % {"code": parent_code})
                    ok = False
                elif not parent.active:
                    err(row, "上级单位代码", _("上级单位 %(code)s 已停用，不能在它下面导入单位。") % {"code": parent_code})
                    ok = False
                else:
                    parent_kind = parent.kind
            elif parent_code in sheet_kind:
                parent_kind = sheet_kind[parent_code]
            elif parent_code in first_row_of_code:
                ok = False  # the parent row itself is bad; its own error explains it
                err(row, "上级单位代码", _("上级单位 %(code)s 所在的行有错误，请先改正那一行。") % {"code": parent_code})
            else:
                err(row, "上级单位代码", _("找不到上级单位代码 %(code)s：系统和本表中都没有这个单位。") % {"code": parent_code})
                ok = False
        elif kind is not None and kind != PROVINCE:
            err(row, "上级单位代码", _("请填写上级单位代码（只有“省”可以不填）。"))
            ok = False
        elif kind == PROVINCE and not is_system_admin:
            err(row, "类型", _("只有系统管理员可以创建省级单位。"))
            ok = False
        if kind is not None and (parent_kind is not None or (not parent_code and kind == PROVINCE)):
            if not kind_fits(kind, parent_kind):
                err(row, "类型", kind_mismatch_message(kind, parent_kind))
                ok = False
        if name and code:
            key = (parent_code, name)
            if key in taken_names:
                err(row, "单位名称", _("上级单位下已有名为“%(name)s”的单位，同一上级下的单位名称不能重复。") % {"name": name})
                ok = False
            elif key in seen_names:
                err(row, "单位名称", _("与第 %(first)d 行同名且上级单位相同，同一上级下的单位名称不能重复。")
                    % {"first": seen_names[key]})
                ok = False
            else:
                seen_names[key] = row.number
        if ok:
            parsed.append(UnitRow(row.number, name, code, kind, parent_code, order))
    parsed.sort(key=lambda r: (KIND_RANK[r.kind], r.number))
    return parsed, errors


# --- user import ------------------------------------------------------------------------
USER_COLUMNS = ["姓名", "用户名", "手机号", "单位代码", "角色", "职务", "任教学科", "初始密码"]
USER_REQUIRED = ["姓名", "手机号", "单位代码", "角色"]


@dataclass
class UserRow:
    number: int
    real_name: str
    username: str
    mobile: str
    unit_code: str
    role: str
    title: str
    subject: str
    password: str  # "" = generate one


def validate_user_rows(
    rows: Iterable,
    units: dict[str, bool | str],
    taken_logins: set[str],
    password_errors: Callable[[str, dict], list[str]],
    unit_kinds: dict[str, str] | None = None,
) -> tuple[list[UserRow], list[dict]]:
    """Check every row of a user sheet.

    ``units`` maps existing unit codes to True (the importer administers it), False (outside his
    scope) or "inactive" (a deactivated unit in his scope);
    ``taken_logins`` holds every username (lower-cased) and mobile already in the database
    (a login name must not match another person's username or mobile);
    ``password_errors(password, attrs)`` runs the password validators;
    ``unit_kinds`` maps existing unit codes to their kind (a specific admin role must match it)."""
    rows = list(rows)
    errors: list[dict] = []
    parsed: list[UserRow] = []
    seen: dict[str, int] = {}  # login name (lower) -> first row

    def err(row, column, message):
        errors.append({"row": row.number, "column": column, "message": str(message)})

    rows = _split_example_rows(rows, USER_COLUMNS, USER_EXAMPLE, err)
    for row in rows:
        ok = True
        real_name = row.get("姓名").strip()
        mobile = row.get("手机号").strip().replace(" ", "").replace("-", "")
        username = row.get("用户名").strip() or mobile
        unit_code = row.get("单位代码").strip()
        role_text = row.get("角色").strip()
        password = row.get("初始密码")
        if not real_name:
            err(row, "姓名", _("请填写姓名。"))
            ok = False
        elif len(real_name) > 50:
            err(row, "姓名", _("姓名最多 50 个字。"))
            ok = False
        if not mobile:
            err(row, "手机号", _("请填写手机号。"))
            ok = False
        elif not is_valid_mobile(mobile):
            err(row, "手机号", _("手机号“%(m)s”格式不对，请填写 11 位手机号码，例如 13800138000。") % {"m": mobile})
            ok = False
        if username and not (USERNAME_RE.match(username) and len(username) <= 150):
            err(row, "用户名", _("用户名只能包含字母、数字和 @ . + - _，最多 150 个字符。"))
            ok = False
        # Uniqueness across usernames and mobiles: either can be typed at the login page.
        logins = set()
        if username and username != mobile:
            logins.add(("用户名", username))
        if mobile and is_valid_mobile(mobile):
            logins.add(("手机号", mobile))
        for column, value in sorted(logins):
            key = value.lower()
            if key in taken_logins:
                if column == "手机号":
                    err(row, column, _("手机号 %(v)s 已被系统中的其他账户使用。") % {"v": value})
                else:
                    err(row, column, _("用户名 %(v)s 已被系统中的其他账户使用，请换一个用户名。") % {"v": value})
                ok = False
            elif key in seen and seen[key] != row.number:
                if column == "手机号":
                    err(row, column, _("手机号 %(v)s 与第 %(first)d 行重复。") % {"v": value, "first": seen[key]})
                else:
                    err(row, column, _("用户名 %(v)s 与第 %(first)d 行重复。") % {"v": value, "first": seen[key]})
                ok = False
        for _column, value in logins:
            seen.setdefault(value.lower(), row.number)
        if not unit_code:
            err(row, "单位代码", _("请填写单位代码。"))
            ok = False
        elif unit_code not in units:
            err(row, "单位代码", _("找不到单位代码 %(code)s，请先在“单位”中创建或导入该单位。") % {"code": unit_code})
            ok = False
        elif units[unit_code] == "inactive":
            err(row, "单位代码", _("单位 %(code)s 已停用，不能向其中导入人员。") % {"code": unit_code})
            ok = False
        elif units[unit_code] is not True:
            err(row, "单位代码", _("单位 %(code)s 不在您管理的范围内。") % {"code": unit_code})
            ok = False
        key = ROLE_FROM_LABEL.get(role_text) or (role_text if role_text in MEMBERSHIP_ROLE_KEYS else None)
        role = None
        if not role_text:
            err(row, "角色", _("请填写角色：%(labels)s。") % {"labels": "、".join(ROLE_TEMPLATE_CHOICES)})
            ok = False
        elif key is None:
            err(row, "角色", _("角色“%(text)s”无法识别，请填写：%(labels)s。")
                % {"text": role_text, "labels": "、".join(ROLE_TEMPLATE_CHOICES)})
            ok = False
        else:
            role, problem = resolve_role(key, (unit_kinds or {}).get(unit_code))
            if problem:
                kind = (unit_kinds or {}).get(unit_code)
                err(row, "角色", _("角色“%(text)s”与单位 %(code)s 的类型（%(kind)s）不符，请填写%(fit)s。") % {
                    "text": role_text, "code": unit_code, "kind": kind_label(kind),
                    "fit": admin_role_label(ADMIN_ROLE_BY_KIND[kind])})
                ok = False
        if len(row.get("职务")) > 50:
            err(row, "职务", _("职务最多 50 个字。"))
            ok = False
        if len(row.get("任教学科")) > 30:
            err(row, "任教学科", _("任教学科最多 30 个字。"))
            ok = False
        if password:
            problems = password_errors(password, {"username": username, "real_name": real_name, "mobile": mobile})
            if problems:
                err(row, "初始密码", _("初始密码不符合要求：%(p)s 也可以留空，由系统生成。") % {"p": "".join(problems)})
                ok = False
        if ok:
            parsed.append(UserRow(row.number, real_name, username, mobile, unit_code, role,
                                  row.get("职务").strip(), row.get("任教学科").strip(), password))
    return parsed, errors
