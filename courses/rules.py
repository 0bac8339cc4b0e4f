"""Pure decisions about a declared course: plain data in, decisions out. No ORM, no I/O.

- states: draft → submitted; submitted → withdrawn while the school has not acted; returned (by
  the school, issue 4) → submitted; a course is editable in draft, withdrawn and returned;
- the deadline: the school level's effective deadline for the course's school, compared at the
  second in Asia/Shanghai (``now`` is passed in); no deadline set means open;
- submission: campaign open, editable state, before the deadline, every required slot of every
  课时 filled, no check failed, no check still running;
- bounds: 1 ≤ 课时 ≤ the category's maximum; team members ≤ the category's maximum (the lead
  teacher not counted), nobody twice, the lead teacher not as a member; 课时 titles;
- changing the catalog node or the category (``may_relocate``), and which filled slots a new
  category empties (``emptied_by_category``, ``category_fits``);
- deleting a draft (``may_delete``);
- a course whose checks passed and now fail after its requirements changed (``turned_failing``);
- the same-node warning text.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
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
MAX_PERIOD_TITLE = 200


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


def _clean(value) -> str:
    """One line of text: whitespace runs become one space, control characters (NUL, which
    PostgreSQL refuses, included) are dropped."""
    text = "".join(ch for ch in str(value or "") if ch.isprintable() or ch.isspace())
    return " ".join(text.split())


def check_title(title) -> str:
    text = _clean(title)
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


def check_period_title(title) -> str:
    """A 课时's own title (optional, e.g. “识字”): one line, at most MAX_PERIOD_TITLE characters."""
    text = _clean(title)
    if len(text) > MAX_PERIOD_TITLE:
        raise RuleError(_("课时标题最多 %(n)d 个字。") % {"n": MAX_PERIOD_TITLE})
    return text


def check_period_titles(titles: dict, periods: int) -> dict[int, str]:
    """{课时 number: title} for 课时 1..periods; RuleError names a number the course does not have."""
    out: dict[int, str] = {}
    for key, value in titles.items():
        try:
            number = int(key)
        except (TypeError, ValueError):
            raise RuleError(_("课时编号应为 1 到 %(m)d 之间的整数。") % {"m": periods}) from None
        if not 1 <= number <= periods:
            raise RuleError(_("这门课程没有第%(n)d课时（共 %(m)d 个课时）。") % {"n": number, "m": periods})
        out[number] = check_period_title(value)
    return out


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


def stage_slots(slots: Sequence[SlotFacts], asked: Collection[str] | None) -> list[SlotFacts]:
    """The slots a submission must fill at this stage of the campaign. ``asked``: the items the
    level the course goes to asks for before it recommends (campaign data: a school that sends the
    教学设计 up for the county's 初选, the video following when the county asks for it), or None for
    the whole package. An item the package leaves optional stays optional."""
    if asked is None:
        return list(slots)
    return [SlotFacts(s.kind, s.label, s.required and s.kind in asked) for s in slots]


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


def turned_failing(before: Iterable[str], after: Iterable[str]) -> bool:
    """The check statuses of a course's resources before and after a re-evaluation: did the course
    go from passing (every check passed or only warned) to failing? A course still being checked
    (pending) was not passing yet."""
    before, after = list(before), list(after)
    return bool(before) and all(s in (PASS, WARN) for s in before) and FAIL in after


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


# --- changing the node or the category ---------------------------------------------------------------
def may_relocate(*, status: str, campaign_open: bool, recommended_by_school: bool) -> Decision:
    """May the lead teacher change the course's catalog node (目录节点) or category (类别)?

    While the course is editable (draft, withdrawn, or returned by its school) and the campaign
    open: yes. Once the school has recommended the course upward: no, not even when a unit above
    (county, city, …) returns it for fixes. ``recommended_by_school`` is true as soon as the
    course has an entry at a level above the school.

    Why it is fixed from then on:
    - every entry of the chain carries the node (``selection.Entry.node`` is copied from the
      course so that "one course per catalog node per unit and level" is a database constraint);
      the school's recommendation was a decision about *this* lesson in *this* category: it used
      one of the school's places for that category (and subject, taken from the node's textbook)
      and it was checked against the node rule. Changing the node or category under a
      recommendation would make it say something the school never decided, and could put two
      courses on one node at the county without anyone choosing it;
    - a return from above asks for the course to be fixed (退回修改: files, title, team), not for
      another lesson to be declared; another lesson is a new declaration that starts at the school.
    When the school itself returned the course, its entry is back with the teacher (the school
    recommended nothing), so node and category may change and the entry follows the new node.
    """
    if recommended_by_school:
        return Decision(False, [_("学校已把这门课程推荐到上级，目录节点和类别不能再更改；退回修改只能修改课程名称、团队和资源文件。"
                                  "如确需换一节课，请联系学校管理员。")])
    return may_edit(status=status, campaign_open=campaign_open)


def emptied_by_category(filled: Iterable[tuple[int, str]], new_kinds: Iterable[str]) -> list[tuple[int, str]]:
    """The filled (课时, slot kind) pairs whose slot the new category does not have, in order:
    their files leave the course (they stay in the teacher's files); the other files stay in
    their slots and are checked again against the new category's requirements."""
    kinds = set(new_kinds)
    return sorted({(n, kind) for n, kind in filled if kind not in kinds})


def category_fits(*, label: str, periods: int, max_periods: int, members: int, max_members: int) -> Decision:
    """Does the course fit the new category's bounds (课时 and team size)? What to reduce first."""
    reasons = []
    if periods > max_periods:
        reasons.append(_("“%(c)s”最多 %(m)d 个课时，这门课程现在有 %(n)d 个。请先把课时数减到 %(m)d。") % {
            "c": label, "m": max_periods, "n": periods})
    if members > max_members:
        reasons.append(_("“%(c)s”的团队最多 %(m)d 人（不含主讲教师），现在是 %(n)d 人。请先移除多出的成员。") % {
            "c": label, "m": max_members, "n": members})
    return Decision(not reasons, reasons)


# --- deleting a draft --------------------------------------------------------------------------------
def may_delete(*, status: str, ever_submitted: bool) -> Decision:
    """Only a draft that never went to the school may be deleted (by its lead teacher, see
    permissions). A course the school has seen stays, so that the school's records and the
    audit trail keep pointing at something: submitted or returned courses are in a unit's
    screening, and a withdrawn one was in it. The campaign need not be open: removing a draft
    that never entered the selection harms nobody."""
    if status == SUBMITTED:
        return Decision(False, [_("课程已提交学校，不能删除。学校处理前可以先撤回；不再申报的话，撤回后保留即可，它不会进入遴选。")])
    if status == RETURNED:
        return Decision(False, [_("课程已被退回修改，仍在遴选记录中，不能删除。请修改后重新提交；不再申报的话，请联系退回的单位。")])
    if status != DRAFT or ever_submitted:
        return Decision(False, [_("这门课程曾提交到学校，学校留有记录，不能删除。它已撤回，不会进入遴选。")])
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


def node_count_hint(*, in_group: int, in_school: int, group_name: str, group_kind: str, node_rule: str) -> str:
    """What the node picker tells a teacher about a lesson: how many courses of his recommending
    unit (his county; for a 市直属/省属 school, the schools directly under the city/province)
    already chose it, his own school's among them. Counts only, never a name or a school."""
    if in_group <= 0:
        return ""
    where = group_name if group_kind == "county" else _("%(unit)s直属学校中") % {"unit": group_name}
    text = _("%(where)s已有 %(n)d 门课程选择了这个节点") % {"where": where, "n": in_group}
    if in_school:
        text += _("（其中本校 %(k)d 门）") % {"k": in_school}
    if node_rule == "block":
        text += _("。按本次活动规则，%(unit)s原则上只推荐其中 1 节，可考虑换一节课。") % {"unit": group_name}
    else:
        text += _("。%(unit)s推荐同一节点的多门课程时须说明理由。") % {"unit": group_name}
    return text
