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
            "names": "、".join(f"{{{n}}}" for n in unknown), "known": "、".join(f"{{{n}}}" for n in PLACEHOLDERS)})
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


# --- commendations (通报表扬) -------------------------------------------------------------------------
# A unit is proposed for commendation when the facts show outstanding work: it recommended at least
# FILL_MIN of its quota, every recommended package is complete (all automatic checks passed), it
# confirmed its summary table and filed its contact form (where it files one) on time, and at least
# one of its courses won the award of the level above. Candidates are ordered by awards won, then by
# award rate (awards / recommended), then by quota fill; the admin decides, with a reason for each.
FILL_MIN = 0.8


@dataclass(frozen=True)
class UnitFacts:
    unit_id: int
    name: str
    recommended: int
    quota: int | None  # the sum of its category quotas; None: no quota set
    awarded_above: int  # its courses awarded at the level above (e.g. 市级精品课 for a county)
    complete: int  # recommended entries whose automatic checks all passed
    confirmed_on_time: bool | None  # None: not confirmed yet
    contact_on_time: bool | None  # None: files no contact form


@dataclass(frozen=True)
class CommendationCandidate:
    facts: UnitFacts
    proposed: bool
    reason: str  # the facts in one sentence, to prefill the admin's reason
    shortfalls: tuple[str, ...]  # why it is not proposed

    @property
    def award_rate(self) -> float:
        return self.facts.awarded_above / self.facts.recommended if self.facts.recommended else 0.0

    @property
    def fill(self) -> float | None:
        f = self.facts
        return f.recommended / f.quota if f.quota else None


def _percent(x: float) -> str:
    return f"{round(100 * x)}%"


def commendation_candidates(facts: list[UnitFacts], award_name: str) -> list[CommendationCandidate]:
    out = []
    for f in facts:
        shortfalls = []
        fill = f.recommended / f.quota if f.quota else None
        if f.recommended == 0:
            shortfalls.append(_("没有推荐课程"))
        elif fill is not None and fill < FILL_MIN:
            shortfalls.append(_("名额使用不足 %(p)s（%(n)d/%(q)d）") % {"p": _percent(FILL_MIN), "n": f.recommended, "q": f.quota})
        if f.complete < f.recommended:
            shortfalls.append(_("%(n)d 门课程的资源包未全部通过检测") % {"n": f.recommended - f.complete})
        if f.confirmed_on_time is None:
            shortfalls.append(_("未确认推荐汇总表"))
        elif not f.confirmed_on_time:
            shortfalls.append(_("推荐汇总表逾期确认"))
        if f.contact_on_time is False:
            shortfalls.append(_("工作联系表未按时提交"))
        if f.awarded_above == 0:
            shortfalls.append(_("没有课程获评“%(a)s”") % {"a": award_name})
        parts = [_("推荐 %(n)d 门") % {"n": f.recommended} + (f"（{_('名额')} {f.recommended}/{f.quota}）" if f.quota else ""),
                 _("获评“%(a)s” %(m)d 门") % {"a": award_name, "m": f.awarded_above}]
        if f.recommended and f.complete == f.recommended:
            parts.append(_("资源包全部通过检测"))
        if f.confirmed_on_time:
            parts.append(_("按时确认推荐汇总表"))
        if f.contact_on_time:
            parts.append(_("按时提交工作联系表"))
        out.append(CommendationCandidate(f, not shortfalls, "，".join(parts) + "。", tuple(shortfalls)))
    out.sort(key=lambda c: (not c.proposed, -c.facts.awarded_above, -c.award_rate, -(c.fill or 0), c.facts.name,
                            c.facts.unit_id))
    return out
