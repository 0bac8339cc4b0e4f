"""Pure decisions of certificates: who gets one, the serial number, the text of the body, the
masked name on the public verification page. Plain data in, plain data out; no ORM, no I/O."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from django.utils.translation import gettext as _

# The placeholders a template's body may use, each with what it is replaced by.
PLACEHOLDERS = {
    "姓名": "holder_name",
    "学校": "school_name",
    "课程": "course_title",
    "目录节点": "node_label",
    "类别": "category_label",
    "荣誉": "award_name",
    "年度": "year",
    "颁发单位": "issuer_name",
    "角色": "role_label",
}
DEFAULT_TITLE = "荣誉证书"
DEFAULT_BODY = ("{姓名} 老师（{学校}）：\n"
                "您{角色}的《{课程}》（{目录节点}，{类别}）在{年度}年基础教育精品课遴选活动中被评为“{荣誉}”。\n"
                "特发此证，以资鼓励。")
_FIELD = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class Holder:
    user_id: int
    name: str
    school: str
    role: str  # "lead" or "member"


@dataclass(frozen=True)
class CertificateText:
    """What a certificate says (a snapshot taken when it is issued)."""

    holder_name: str
    school_name: str
    course_title: str
    node_label: str
    category_label: str
    award_name: str
    year: int
    issuer_name: str
    role: str

    @property
    def role_label(self) -> str:
        return _("主讲") if self.role == "lead" else _("参与制作")


def holders(lead: Holder, members: list[Holder]) -> list[Holder]:
    """One certificate per person: the lead teacher first, then each team member once, in order."""
    out, seen = [lead], {lead.user_id}
    for m in members:
        if m.user_id not in seen:
            seen.add(m.user_id)
            out.append(m)
    return out


def body_problems(body: str) -> list[str]:
    """What is wrong with a template body: unknown or unbalanced placeholders (Chinese messages)."""
    problems = []
    if not body.strip():
        problems.append(_("正文不能为空。"))
    names = _FIELD.findall(body)
    unknown = sorted({n for n in names if n not in PLACEHOLDERS})
    if unknown:
        problems.append(_("正文中有无法识别的占位符：%(names)s。可用的占位符：%(known)s。") % {
            "names": "、".join("{%s}" % n for n in unknown), "known": "、".join("{%s}" % n for n in PLACEHOLDERS)})
    stripped = _FIELD.sub("", body)
    if "{" in stripped or "}" in stripped:
        problems.append(_("正文中的花括号不成对：占位符请写成 {姓名} 的形式。"))
    return problems


def render_body(body: str, text: CertificateText) -> str:
    """The body with its placeholders filled in (assumes ``body_problems`` found nothing)."""
    def value(match: re.Match) -> str:
        attr = PLACEHOLDERS.get(match.group(1))
        return str(getattr(text, attr)) if attr else match.group(0)

    return _FIELD.sub(value, body)


def serial(year: int, level_kind: str, unit_id: int, number: int) -> str:
    """e.g. 2024-CITY-0012-00031: year, level, issuing unit, running number within the unit and level."""
    return f"{year}-{level_kind.upper()}-{unit_id:04d}-{number:05d}"


def mask_name(name: str) -> str:
    """The holder's name as the public page shows it: the first character and, for names of three
    or more characters, the last, the rest starred (张*、李*明、欧**明). Latin names keep their initial."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name or "*"
    if all(ch in string.ascii_letters + " .-'" for ch in name):
        return name[0] + "*" * (len(name) - 1)
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
