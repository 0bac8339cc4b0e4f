"""Pure decisions of the selection workflow: plain data in, decisions out. No ORM, no I/O.

The services load a unit's current set at a level (its recommendations, or its awards), the quota
row that applies, the campaign's rule settings and the effective deadline, lock the rows, ask
here, and act. Every refusal names its rule and says why, in Chinese.

- ``transition``: what an action does to an entry's state at one level (退回, 未推荐, 推荐, 撤销,
  重新提交);
- ``quota_decision``: 名额 per recommending unit × category (× subject);
- ``node_decision``: one course per catalog node per unit and level (block, or warn and require a
  written reason);
- ``share_status`` / ``share_decision``: subject-share caps (e.g. 语文+数学+生活适应 ≤ 80 % of a
  city's 特殊教育 市级精品课), shown live and enforced when the set is confirmed;
- ``target_guidance``: target shares (more science), shown as guidance, never blocking;
- ``deadline_decision`` / ``lock_decision``: a unit acts only before its effective deadline and while
  its level is not confirmed;
- ``destination_decision``: a recommendation (or a resubmitted course) is received only by a unit
  that can still decide it (not confirmed, deadline not passed).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.enums import Category, NodeRule

TZ = ZoneInfo("Asia/Shanghai")


# --- decisions -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Decision:
    """``ok``: may go ahead. ``rule``: which rule spoke. ``message``: why, for the user.
    ``needs_reason``: allowed only with a written reason (node rule in warn mode).
    ``warnings``: shown but not blocking."""

    ok: bool
    rule: str = ""
    message: str = ""
    needs_reason: bool = False
    warnings: tuple[str, ...] = ()


ALLOW = Decision(True)


def refuse(rule: str, message: str) -> Decision:
    return Decision(False, rule, message)


def combine(*decisions: Decision) -> Decision:
    """The first refusal, else an allowance carrying every warning."""
    for d in decisions:
        if not d.ok:
            return d
    warnings = tuple(w for d in decisions for w in d.warnings)
    return Decision(True, warnings=warnings)


def category_label(category: str) -> str:
    try:
        return str(Category(category).label)
    except ValueError:
        return category


# --- states ----------------------------------------------------------------------------------------
class State:
    PENDING = "pending"  # reached this level, waiting for the unit's decision
    RETURNED = "returned"  # sent back for fixes; comes back to the same unit
    RECOMMENDED = "recommended"  # sent up to the next level
    DECLINED = "declined"  # 未推荐: final at this level


class Action:
    RETURN = "return"
    DECLINE = "decline"
    RECOMMEND = "recommend"
    UNDO = "undo"
    RESUBMIT = "resubmit"


STATE_LABELS = {
    State.PENDING: _("待处理"), State.RETURNED: _("已退回"),
    State.RECOMMENDED: _("已推荐"), State.DECLINED: _("未推荐"),
}

_TRANSITIONS = {
    (State.PENDING, Action.RETURN): State.RETURNED,
    (State.PENDING, Action.DECLINE): State.DECLINED,
    (State.PENDING, Action.RECOMMEND): State.RECOMMENDED,
    (State.RECOMMENDED, Action.UNDO): State.PENDING,
    (State.DECLINED, Action.UNDO): State.PENDING,
    (State.RETURNED, Action.RESUBMIT): State.PENDING,
}


def transition(state: str, action: str, *, reason: str = "", next_level_acted: bool = False) -> tuple[str | None, Decision]:
    """The state an action leads to, or None with the refusal.

    A return needs a written reason (the teacher must know what to fix). An undo is refused once
    the level above has acted on the recommendation (it is no longer this unit's to take back)."""
    target = _TRANSITIONS.get((state, action))
    if target is None:
        return None, refuse("state", _("该课程当前状态为“%(state)s”，不能执行此操作。") % {
            "state": STATE_LABELS.get(state, state)})
    if action == Action.RETURN and not reason.strip():
        return None, refuse("reason", _("退回时请写明理由，告诉教师需要修改什么。"))
    if action == Action.UNDO and state == State.RECOMMENDED and next_level_acted:
        return None, refuse("state", _("上级已经处理了这条推荐，不能再撤销。"))
    return target, ALLOW


# --- deadlines and locks ----------------------------------------------------------------------------
def local_text(moment: datetime) -> str:
    return moment.astimezone(TZ).strftime("%Y-%m-%d %H:%M")


def deadline_decision(now: datetime, deadline: datetime | None, what: str) -> Decision:
    """Allowed until the deadline itself (inclusive, to the second); no deadline: always.
    ``what`` names the step, e.g. “县级初选推荐”."""
    if deadline is None or now <= deadline:
        return ALLOW
    return refuse("deadline", _("%(what)s已于 %(when)s 截止。如确需延期，请联系上级单位为本单位重新开放并设定新的截止时间。") % {
        "what": what, "when": local_text(deadline)})


def lock_decision(confirmed: bool) -> Decision:
    if not confirmed:
        return ALLOW
    return refuse("locked", _("本单位本级的推荐汇总表已确认，推荐结果已锁定。如需修改，请联系上级单位解锁。"))


def destination_decision(unit_name: str, level_name: str, confirmed: bool, now: datetime,
                         deadline: datetime | None) -> Decision:
    """A recommendation goes only where it can still be decided: the receiving unit (``unit_name``
    at ``level_name``) has not confirmed its summary table and its deadline has not passed.
    Otherwise the course would wait there until the level above unlocks or reopens it."""
    if confirmed:
        return refuse("destination", _("%(unit)s 已确认推荐汇总表，无法再接收推荐；请联系该单位。") % {"unit": unit_name})
    if deadline is not None and now > deadline:
        return refuse("destination", _("%(unit)s 的%(what)s已于 %(when)s 截止，无法再接收推荐；请联系该单位。") % {
            "unit": unit_name, "what": level_name, "when": local_text(deadline)})
    return ALLOW


def reopen_decision(now: datetime, new_deadline: datetime | None, reason: str) -> Decision:
    """The level above reopens a unit: with a reason and a new deadline in the future."""
    if not reason.strip():
        return refuse("reason", _("重新开放时请写明理由。"))
    if new_deadline is None or new_deadline <= now:
        return refuse("deadline", _("新的截止时间必须晚于现在。"))
    return ALLOW


# --- the history of a unit and of an entry -----------------------------------------------------------
# Unit-level events are recorded on the campaign, scoped to the unit (audit ``unit_path``). These
# bear on the entries the unit holds at its level and join each entry's timeline.
ENTRY_UNIT_ACTIONS = ("selection.confirm", "selection.unlock", "selection.reopen",
                      "campaigns.deadline_override.set", "campaigns.deadline_override.delete",
                      "review.publicity.open", "review.publicity.close", "review.publicity.finalize")
# Events that carry the level they concern (a deadline override may be set on a county for the
# school level, to apply to its schools).
_LEVELLED = {"selection.reopen", "campaigns.deadline_override.set", "campaigns.deadline_override.delete",
             "review.publicity.open", "review.publicity.close", "review.publicity.finalize"}
# Those that bear on every entry the unit holds, whatever their level (its one level in the campaign).
ANY_LEVEL_UNIT_ACTIONS = tuple(a for a in ENTRY_UNIT_ACTIONS if a not in _LEVELLED)


def bears_on_entry(action: str, before: dict | None, after: dict | None, entry_level: str) -> bool:
    """Whether a unit-level event of the unit holding an entry concerns the entry's level. An entry's
    timeline asks the same in SQL (``services._bears_on_level``): change both together."""
    if action not in ENTRY_UNIT_ACTIONS:
        return False
    if action not in _LEVELLED:
        return True  # confirm / unlock: of the unit's one level in the campaign
    level = (after or {}).get("level") or (before or {}).get("level") or ""
    return level in ("", entry_level)


def _moment(value) -> str:
    """An ISO 8601 time of an audit snapshot as local text; anything else as it is."""
    if not value:
        return ""
    try:
        return local_text(datetime.fromisoformat(str(value)))
    except ValueError:
        return str(value)


DEADLINE_LABELS = (("deadline", gettext_lazy("推荐截止")), ("confirm_deadline", gettext_lazy("汇总表确认截止")),
                   ("contact_form_deadline", gettext_lazy("工作联系表截止")))


def event_details(action: str, before: dict | None, after: dict | None) -> str:
    """One line saying what a unit-level event changed, for the history page, the entry's
    timeline and the Excel export; "" when the action label says it all."""
    before, after = before or {}, after or {}
    if action == "selection.reopen":
        return _("新的截止时间：%(when)s") % {"when": _moment(after.get("deadline"))}
    if action == "contacts.reopen":
        return _("工作联系表新的截止时间：%(when)s") % {"when": _moment(after.get("contact_form_deadline"))}
    if action == "selection.confirm":
        return _("%(level)s：推荐 %(n)s 门，本级荣誉 %(m)s 门") % {
            "level": after.get("level", ""), "n": after.get("recommended", 0), "m": after.get("awarded", 0)}
    if action == "campaigns.deadline_override.set":
        parts = [f"{label}：{_moment(after.get(name)) or _('继承上级')}" for name, label in DEADLINE_LABELS]
        return "；".join(parts)
    if action == "campaigns.deadline_override.delete":
        return _("恢复继承上级的截止时间")
    if action == "review.publicity.open":
        return _("%(title)s：公示 %(n)s 门，%(start)s 至 %(end)s") % {
            "title": after.get("title", ""), "n": after.get("items", 0), "start": _moment(after.get("starts_at")),
            "end": _moment(after.get("ends_at"))}
    if action == "review.publicity.close":
        return _("%(title)s：公示期结束，异议 %(n)s 条") % {"title": after.get("title", ""), "n": after.get("objections", 0)}
    if action == "review.publicity.finalize":
        return _("%(title)s：公示结果确定，撤销 %(w)s 门") % {"title": after.get("title", ""), "w": after.get("withdrawn", 0)}
    if action in ("campaigns.quota_override.set", "campaigns.quota_override.delete"):
        row = after or before
        what = category_label(row.get("category", ""))
        if row.get("subject"):
            what += f"（{row['subject']}）"
        if action.endswith(".delete"):
            return _("%(what)s：恢复默认名额（原为 %(old)s）") % {"what": what, "old": before.get("limit", "")}
        if before:
            return _("%(what)s：名额 %(old)s → %(new)s") % {"what": what, "old": before.get("limit", ""),
                                                          "new": after.get("limit", "")}
        return _("%(what)s：名额 %(new)s") % {"what": what, "new": after.get("limit", "")}
    return ""


# --- quotas -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pick:
    """One course in a unit's set at a level (a recommendation, or an award)."""

    entry_id: int
    category: str
    subject: str
    node_id: int | None = None
    title: str = ""


@dataclass(frozen=True)
class QuotaLimit:
    """The applicable quota row, reduced to what counting needs. ``subject``: the row is for one
    subject; ``per_subject``: a category-wide row counted for each subject separately."""

    limit: int
    subject: str = ""
    per_subject: bool = False


def as_limits(quotas) -> tuple[QuotaLimit, ...]:
    """The rows that apply to a pick, as a tuple: None (no limit), one row, or several rows (a
    subject row and the category-wide row it sits inside: a pick must satisfy every one)."""
    if quotas is None:
        return ()
    if isinstance(quotas, QuotaLimit):
        return (quotas,)
    return tuple(quotas)


def quota_scope(category: str, subject: str, quota: QuotaLimit) -> tuple[str, str]:
    """The picks a row counts: the category, or the category × subject for a subject row or a
    ``per_subject`` row."""
    return (category, subject) if (quota.subject or quota.per_subject) else (category, "")


def in_scope(pick: Pick, scope: tuple[str, str]) -> bool:
    return pick.category == scope[0] and (not scope[1] or pick.subject == scope[1])


def quota_used(current: Iterable[Pick], category: str, subject: str, quota: QuotaLimit) -> int:
    scope = quota_scope(category, subject, quota)
    return sum(1 for p in current if in_scope(p, scope))


def quota_text(category: str, subject: str, quota: QuotaLimit, used: int, verb: str = "") -> str:
    by_subject = bool(quota.subject) or quota.per_subject
    what = f"{category_label(category)}（{subject}）" if by_subject and subject else category_label(category)
    return _("%(what)s 已%(verb)s %(used)d/%(limit)d") % {"what": what, "verb": verb or _("推荐"), "used": used,
                                                        "limit": quota.limit}


def quota_decision(current: Sequence[Pick], new: Pick, quotas) -> Decision:
    """Refused when the set already holds ``limit`` picks of the scope of any row that applies to
    the new pick (``quotas``: one row, the list of rows, or None for no limit). Every applicable
    row is checked, so the accepted set never depends on the order of the picks."""
    others = [p for p in current if p.entry_id != new.entry_id]
    for quota in as_limits(quotas):
        used = quota_used(others, new.category, new.subject, quota)
        if used >= quota.limit:
            return refuse("quota", _("名额已满：%(text)s。请先撤销其他推荐，或联系上级调整名额。") % {
                "text": quota_text(new.category, new.subject, quota, used)})
    return ALLOW


def quota_violations(picks: Sequence[Pick], limits_for) -> list[tuple[Pick, QuotaLimit, int]]:
    """The (pick, row, count) of every row a set breaks: a set is valid when, for each pick and
    each row that applies to it (``limits_for(category, subject)``), the picks in the row's scope
    are at most its limit. A subset of a valid set is valid, so recommending the picks of a valid
    set one by one is accepted in any order."""
    out = []
    for p in picks:
        for quota in as_limits(limits_for(p.category, p.subject)):
            used = quota_used(picks, p.category, p.subject, quota)
            if used > quota.limit:
                out.append((p, quota, used))
    return out


# --- one course per catalog node ---------------------------------------------------------------------
def node_conflicts(current: Iterable[Pick], new: Pick) -> list[Pick]:
    if new.node_id is None:
        return []
    return [p for p in current if p.node_id == new.node_id and p.entry_id != new.entry_id]


def node_decision(current: Sequence[Pick], new: Pick, node_rule: str, reason: str = "") -> Decision:
    conflicts = node_conflicts(current, new)
    if not conflicts:
        return ALLOW
    names = "、".join(f"《{p.title}》" if p.title else f"#{p.entry_id}" for p in conflicts)
    if node_rule == NodeRule.BLOCK:
        return refuse("node", _("同一目录节点原则上只推荐 1 节课：本单位已推荐 %(names)s，与本课是同一节课。") % {"names": names})
    if not reason.strip():
        return Decision(False, "node", _("本单位已推荐 %(names)s，与本课是同一目录节点。如确需同时推荐，请填写理由。") % {
            "names": names}, needs_reason=True)
    return Decision(True, warnings=(_("与 %(names)s 同一目录节点（已填写理由）") % {"names": names},))


# --- subject shares ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ShareCap:
    category: str
    subjects: tuple[str, ...]
    max_percent: int


@dataclass(frozen=True)
class ShareStatus:
    cap: ShareCap
    inside: int  # picks of the cap's subjects
    total: int  # picks of the cap's category
    distinct_subjects: int

    @property
    def percent(self) -> float:
        return 100.0 * self.inside / self.total if self.total else 0.0

    @property
    def ok(self) -> bool:
        # Compare in integers: inside/total ≤ max/100.
        return self.inside * 100 <= self.cap.max_percent * self.total

    def text(self) -> str:
        return _("%(category)s中 %(subjects)s 合计 %(inside)d/%(total)d，当前 %(percent).0f %%，上限 %(max)d %%") % {
            "category": category_label(self.cap.category), "subjects": "+".join(self.cap.subjects),
            "inside": self.inside, "total": self.total, "percent": self.percent, "max": self.cap.max_percent}


def share_status(picks: Iterable[Pick], cap: ShareCap) -> ShareStatus:
    in_category = [p for p in picks if p.category == cap.category]
    inside = sum(1 for p in in_category if p.subject in cap.subjects)
    return ShareStatus(cap, inside, len(in_category), len({p.subject for p in in_category}))


def share_decision(picks: Sequence[Pick], caps: Iterable[ShareCap]) -> Decision:
    """Enforced when a unit confirms its set: every cap must hold. The set should also be spread
    over subjects; a set of several picks in one subject only gets a warning."""
    warnings = []
    for cap in caps:
        status = share_status(picks, cap)
        if not status.ok:
            return refuse("share", _("学科占比超过上限：%(text)s。请调整推荐，使其他学科的课程占比提高。") % {
                "text": status.text()})
        if status.total >= 3 and status.distinct_subjects == 1:
            warnings.append(_("%(category)s的课程全部来自同一学科，通知要求兼顾各学科。") % {
                "category": category_label(cap.category)})
    return Decision(True, warnings=tuple(warnings))


@dataclass(frozen=True)
class TargetShare:
    category: str
    subjects: tuple[str, ...]
    min_percent: int | None = None
    note: str = ""


@dataclass(frozen=True)
class Guidance:
    target: TargetShare
    inside: int
    total: int
    met: bool | None  # None: the target has no number, only a note

    def text(self) -> str:
        percent = 100.0 * self.inside / self.total if self.total else 0.0
        head = _("%(category)s中 %(subjects)s 合计 %(inside)d/%(total)d（%(percent).0f %%）") % {
            "category": category_label(self.target.category), "subjects": "、".join(self.target.subjects),
            "inside": self.inside, "total": self.total, "percent": percent}
        if self.target.min_percent is not None:
            head += _("，目标不低于 %(min)d %%") % {"min": self.target.min_percent}
        return head + (f"。{self.target.note}" if self.target.note else "")


def target_guidance(picks: Iterable[Pick], target: TargetShare) -> Guidance:
    """Never blocks: says where the set stands against a target share."""
    in_category = [p for p in picks if p.category == target.category]
    inside = sum(1 for p in in_category if p.subject in target.subjects)
    met = None
    if target.min_percent is not None:
        met = inside * 100 >= target.min_percent * len(in_category)
    return Guidance(target, inside, len(in_category), met)


# --- recommending, all together -----------------------------------------------------------------------
@dataclass(frozen=True)
class Situation:
    """What the service loaded for one unit at one level, in plain data."""

    now: datetime
    deadline: datetime | None
    level_name: str
    confirmed: bool
    current: tuple[Pick, ...]
    quota: object  # the applicable rows: a QuotaLimit, a sequence of them, or None (see as_limits)
    node_rule: str
    missing_resources: tuple[str, ...] = field(default=())


def missing_resources(level_kinds: Sequence[str], package_required: Collection[str],
                      periods: Sequence[Collection[str]]) -> list[str]:
    """The items a level asks for before it sends an entry up (``level_kinds``, campaign data: a
    county may pre-select on the 教学设计 alone and ask for the video before recommending to the
    city) that a course lacks in any of its 课时. One list serves every category: an item applies to
    a course only when its category's package requires it (实验教学 has no 微课视频; 特殊教育 may
    leave out 作业练习). A course without 课时 lacks every item that applies."""
    wanted = [k for k in dict.fromkeys(level_kinds) if k in package_required]
    return [k for k in wanted if not periods or any(k not in have for have in periods)]


def recommend_decision(situation: Situation, new: Pick, reason: str = "") -> Decision:
    """Everything a recommendation must pass, in the order a user would fix it."""
    s = situation
    missing = Decision(True)
    if s.missing_resources:
        missing = refuse("resources", _("推荐到上一级前须具备：%(items)s。请让教师补交后再推荐。") % {
            "items": "、".join(s.missing_resources)})
    return combine(
        lock_decision(s.confirmed),
        deadline_decision(s.now, s.deadline, s.level_name),
        missing,
        quota_decision(s.current, new, s.quota),
        node_decision(s.current, new, s.node_rule, reason),
    )


# --- boards: quota use, node conflicts, compliance, time left (pages and API) ------------------------
@dataclass(frozen=True)
class QuotaUse:
    """One line of a unit's quota board: how many of a category (× subject) it has recommended
    against its limit (None: no limit set)."""

    category: str
    subject: str
    used: int
    limit: int | None

    @property
    def full(self) -> bool:
        return self.limit is not None and self.used >= self.limit

    @property
    def over(self) -> bool:
        return self.limit is not None and self.used > self.limit

    def text(self) -> str:
        if self.limit is None:
            what = f"{category_label(self.category)}（{self.subject}）" if self.subject else category_label(self.category)
            return _("%(what)s 已推荐 %(used)d（不限名额）") % {"what": what, "used": self.used}
        quota = QuotaLimit(self.limit, self.subject)
        return quota_text(self.category, self.subject, quota, self.used)


def quota_uses(categories: Sequence[str], limit_for, recommended: Sequence[Pick],
               subjects_seen: Iterable[tuple[str, str]] = ()) -> list[QuotaUse]:
    """The quota board of a unit. ``limit_for(category, subject)`` answers the applicable rows
    (one ``QuotaLimit``, a list of them, or None; see ``as_limits``); ``subject=""`` asks for the
    category-wide limit. A category gets its category-wide line when it has a category-wide limit,
    then one line per subject with a limit of its own (a subject row inside the category quota, or
    a category counted per subject) for each subject the unit holds entries of (``subjects_seen``:
    (category, subject) pairs) or has recommended; a category without any limit gets one line."""
    subjects: dict[str, set[str]] = {}  # category -> the subjects seen in it (each pair once)
    for c, s in subjects_seen:
        if s:
            subjects.setdefault(c, set()).add(s)
    for p in recommended:
        if p.subject:
            subjects.setdefault(p.category, set()).add(p.subject)
    lines = []
    for category in categories:
        in_category = [p for p in recommended if p.category == category]
        wide = [q for q in as_limits(limit_for(category, "")) if not q.subject and not q.per_subject]
        if wide:
            lines.append(QuotaUse(category, "", len(in_category), min(q.limit for q in wide)))
        for subject in sorted(subjects.get(category, ())):
            own = [q for q in as_limits(limit_for(category, subject)) if q.subject or q.per_subject]
            if own:
                used = sum(1 for p in in_category if p.subject == subject)
                lines.append(QuotaUse(category, subject, used, min(q.limit for q in own)))
        if not any(line.category == category for line in lines):
            lines.append(QuotaUse(category, "", len(in_category), None))
    return lines


def node_conflict_count(live: Iterable[Pick]) -> int:
    """Catalog nodes on which a unit holds more than one live entry (pending or recommended):
    each needs a decision (one course per node, or a written reason)."""
    counts: dict[int, int] = {}
    for p in live:
        if p.node_id is not None:
            counts[p.node_id] = counts.get(p.node_id, 0) + 1
    return sum(1 for n in counts.values() if n > 1)


class Compliance:
    """The automatic check result of a course's files, worst first."""

    FAIL = "fail"
    PENDING = "pending"
    WARN = "warn"
    PASS = "pass"
    NONE = "none"


COMPLIANCE_ORDER = (Compliance.FAIL, Compliance.PENDING, Compliance.WARN, Compliance.PASS)
COMPLIANCE_LABELS = {
    Compliance.FAIL: gettext_lazy("有不合格文件"), Compliance.PENDING: gettext_lazy("检测中"),
    Compliance.WARN: gettext_lazy("有提醒"), Compliance.PASS: gettext_lazy("全部通过"),
    Compliance.NONE: gettext_lazy("未上传文件"),
}


def compliance_of(statuses: Iterable[str]) -> str:
    """The worst check status among a course's files (“none” without files)."""
    present = set(statuses)
    for status in COMPLIANCE_ORDER:
        if status in present:
            return status
    return Compliance.NONE


def time_left(now: datetime, deadline: datetime | None) -> int | None:
    """Seconds until the deadline (negative once passed); None without a deadline."""
    if deadline is None:
        return None
    return int((deadline - now).total_seconds())


def time_left_text(seconds: int | None) -> str:
    if seconds is None:
        return _("未设截止时间")
    if seconds < 0:
        return _("已截止")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return _("剩 %(d)d 天 %(h)d 小时") % {"d": days, "h": hours}
    if hours:
        return _("剩 %(h)d 小时 %(m)d 分") % {"h": hours, "m": rest // 60}
    return _("剩 %(m)d 分钟") % {"m": max(1, rest // 60)}
