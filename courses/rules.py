"""Pure decisions about a declared course: plain data in, decisions out. No ORM, no I/O.

- states: draft → submitted; submitted → withdrawn while the school has not acted; returned (by
  the school, issue 4) → submitted; a course is editable in draft, withdrawn and returned;
- the deadline: the school level's effective deadline for the course's school, compared at the
  second in Asia/Shanghai (``now`` is passed in); no deadline set means open;
- submission: campaign open, editable state, before the deadline, every required slot of every
  课时 filled, no check failed, no check still running;
- bounds: 1 ≤ 课时 ≤ the category's maximum; team members ≤ the category's maximum (the lead
  teacher not counted), nobody twice, the lead teacher not as a member;
- the same-node warning text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

TZ = ZoneInfo("Asia/Shanghai")

DRAFT, SUBMITTED, RETURNED, WITHDRAWN = "draft", "submitted", "returned", "withdrawn"
EDITABLE = frozenset({DRAFT, RETURNED, WITHDRAWN})
PASS, WARN, FAIL, PENDING = "pass", "warn", "fail", "pending"

# action → {from state: to state}
TRANSITIONS = {
    "submit": {DRAFT: SUBMITTED, WITHDRAWN: SUBMITTED, RETURNED: SUBMITTED},
    "withdraw": {SUBMITTED: WITHDRAWN},
    "return": {SUBMITTED: RETURNED},
}

MAX_TITLE = 200


class RuleError(ValueError):
    """A refused decision; ``str(exc)`` is the Chinese message."""


def is_editable(status: str) -> bool:
    return status in EDITABLE


def transition(status: str, action: str) -> str:
    """The state after ``action``, or RuleError saying why not."""
    target = TRANSITIONS.get(action, {}).get(status)
    if target is None:
        raise RuleError(_("当前状态下不能执行此操作。"))
    return target


def local(moment: datetime) -> datetime:
    return moment.astimezone(TZ)


def deadline_text(deadline: datetime) -> str:
    return local(deadline).strftime("%Y-%m-%d %H:%M:%S")


def deadline_passed(deadline: datetime | None, now: datetime) -> bool:
    """True once ``now`` is after the deadline (the deadline's own second still counts)."""
    if deadline is None:
        return False
    return now.replace(microsecond=0) > deadline


# --- bounds ----------------------------------------------------------------------------------------
def check_periods(n, max_periods: int) -> int:
    try:
        value = int(n)
    except (TypeError, ValueError):
        raise RuleError(_("课时数应为 1 到 %(m)d 之间的整数。") % {"m": max_periods}) from None
    if not 1 <= value <= max_periods:
        raise RuleError(_("课时数应为 1 到 %(m)d 之间的整数（本类别最多 %(m)d 个课时）。") % {"m": max_periods})
    return value


def check_title(title) -> str:
    text = " ".join(str(title or "").split())
    if not text:
        raise RuleError(_("请填写课程名称，例如“秋天（第一课时）”。"))
    if len(text) > MAX_TITLE:
        raise RuleError(_("课程名称最多 %(n)d 个字。") % {"n": MAX_TITLE})
    return text


def check_team(lead_id: int, member_ids: Sequence[int], max_members: int) -> list[int]:
    """The member ids in order, without duplicates; RuleError if the lead is listed or the team is too big."""
    seen: list[int] = []
    for pk in member_ids:
        if pk == lead_id:
            raise RuleError(_("主讲教师不必再添加为团队成员。"))
        if pk not in seen:
            seen.append(pk)
    if len(seen) > max_members:
        raise RuleError(_("团队成员最多 %(m)d 人（不含主讲教师），现在是 %(n)d 人。") % {"m": max_members, "n": len(seen)})
    return seen


def removed_periods_in_use(current: int, wanted: int, used_numbers: Iterable[int]) -> list[int]:
    """课时 numbers that would disappear while they still hold files."""
    return sorted({n for n in used_numbers if n > wanted and n <= current})


# --- submission -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SlotFacts:
    kind: str
    label: str
    required: bool


@dataclass(frozen=True)
class ResourceFacts:
    period: int
    kind: str
    status: str  # pass / warn / fail / pending


@dataclass
class Decision:
    ok: bool
    reasons: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.ok


def missing_slots(periods: int, slots: Sequence[SlotFacts], resources: Iterable[ResourceFacts]) -> list[tuple[int, str]]:
    have = {(r.period, r.kind) for r in resources}
    return [(n, s.label) for n in range(1, periods + 1) for s in slots if s.required and (n, s.kind) not in have]


def can_submit(*, status: str, campaign_open: bool, periods: int, slots: Sequence[SlotFacts],
               resources: Sequence[ResourceFacts], deadline: datetime | None, now: datetime) -> Decision:
    """May the course go to the school now? Every reason it may not, in the order to fix them."""
    reasons: list[str] = []
    if status == SUBMITTED:
        return Decision(False, [_("课程已提交学校，等待学校审核。")])
    if status not in TRANSITIONS["submit"]:
        return Decision(False, [_("当前状态下不能提交。")])
    if not campaign_open:
        reasons.append(_("遴选活动不在进行中，不能提交。"))
    if deadline_passed(deadline, now):
        reasons.append(_("学校申报已于 %(d)s 截止，不能再提交。") % {"d": deadline_text(deadline)})
    labels = {s.kind: s.label for s in slots}
    for n, label in missing_slots(periods, slots, resources):
        reasons.append(_("第%(n)d课时缺少“%(label)s”。") % {"n": n, "label": label})
    for r in sorted(resources, key=lambda r: (r.period, r.kind)):
        if r.period > periods or r.kind not in labels:
            continue
        if r.status == FAIL:
            reasons.append(_("第%(n)d课时的“%(label)s”未通过检测，请按检测报告修改后重新上传。") % {
                "n": r.period, "label": labels[r.kind]})
        elif r.status == PENDING:
            reasons.append(_("第%(n)d课时的“%(label)s”还在检测中，请稍候。") % {"n": r.period, "label": labels[r.kind]})
    return Decision(not reasons, reasons)


def can_withdraw(*, status: str, school_acted: bool) -> Decision:
    if status != SUBMITTED:
        return Decision(False, [_("只有已提交学校的课程可以撤回。")])
    if school_acted:
        return Decision(False, [_("学校已处理这门课程，不能再撤回。如需修改，请联系学校管理员退回。")])
    return Decision(True)


def may_edit(*, status: str, campaign_open: bool) -> Decision:
    if status == SUBMITTED:
        return Decision(False, [_("课程已提交学校，不能修改。如需修改，请先撤回（学校尚未处理时可以撤回）。")])
    if not is_editable(status):
        return Decision(False, [_("当前状态下不能修改。")])
    if not campaign_open:
        return Decision(False, [_("遴选活动不在进行中，不能修改。")])
    return Decision(True)


def may_start(*, campaign_open: bool, deadline: datetime | None, now: datetime) -> Decision:
    if not campaign_open:
        return Decision(False, [_("遴选活动不在进行中，不能申报。")])
    if deadline_passed(deadline, now):
        return Decision(False, [_("学校申报已于 %(d)s 截止，不能再新建申报。") % {"d": deadline_text(deadline)}])
    return Decision(True)


def same_node_warning(others: Sequence[tuple[str, str]], node_rule: str) -> str:
    """``others``: (title, lead teacher name) of other courses of the school on the same node."""
    if not others:
        return ""
    names = "；".join(_("“%(t)s”（%(who)s）") % {"t": t, "who": who} for t, who in others)
    text = _("本校已有 %(n)d 门课程选择了同一目录节点：%(names)s。") % {"n": len(others), "names": names}
    if node_rule == "block":
        return text + _("按本次活动规则，同一目录节点原则上只推荐 1 节，请与学校或同事协调。")
    return text + _("学校推荐时需说明理由。")
