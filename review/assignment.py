"""Reviewer assignment: pure decisions on plain data (no ORM, no I/O).

A review round hands over its entries, its expert pool, the declared personal conflicts, the number
of reviewers per entry (N) and whether it is held above county level; ``solve`` proposes who reviews
what, ``check_move`` judges one manual change of that proposal. Both apply the same hard rules
(``exclusion``):

- the expert's subjects and stages must include the entry's subject and stage;
- never an entry where the expert is the lead teacher or a team member;
- never an entry from the expert's own school;
- never an entry from the expert's own county (区/县) when the round is above county level
  (a county's own preliminary round necessarily uses its own teachers);
- never a declared personal conflict (expert, entry);
- every entry exactly N experts, every expert at most ``max_load`` entries.

``solve`` is a min-cost max-flow (OR-Tools ``SimpleMinCostFlow``): source → entry (capacity: N
minus the pairs already fixed on it) → expert (one arc per allowed pair, capacity 1) → sink through
one unit arc per further entry the expert can take, the k-th costing k. The flow is first maximal
(as many pairs as the rules allow) and then of least cost; with increasing marginal costs that is
the flow with the least sum of squared loads, so loads even out (max − min ≤ 1 wherever the rules
leave the choice). Pairs that are locked or already published are passed as ``fixed``: they stay as
they are and count towards N and towards the expert's load.

When the rules cannot be met the result still holds the best partial assignment (the most pairs),
and one ``Shortage`` per short entry saying, from the data, why: how many experts match its subject
and stage, how many of those must stand aside and for which reason (each counted once, under the
first reason in the order 团队成员, 同校, 同县, 声明回避), and whether the remaining eligible experts
are all assigned already or all at their limit. In a maximum flow every eligible expert not on a
short entry is at his limit (else the flow could grow), so the message is exact, not a guess.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from django.utils.translation import gettext as _

from campaigns.enums import Stage
from selection.rules import ALLOW, Decision, refuse

Pair = tuple[int, int]  # (expert_id, entry_id)

# Reasons an expert may not review an entry, in the order shortages count them.
SUBJECT, STAGE, TEAM, SCHOOL, COUNTY, DECLARED = "subject", "stage", "team", "school", "county", "declared"
CONFLICTS = (TEAM, SCHOOL, COUNTY, DECLARED)


@dataclass(frozen=True)
class Entry:
    """An entry to review. ``member_user_ids``: the lead teacher's and the team's user ids."""

    id: int
    subject: str
    stage: str
    school_id: int | None
    county_id: int | None
    member_user_ids: frozenset[int] = frozenset()
    title: str = ""

    @property
    def label(self) -> str:
        return self.title or _("作品 %(id)s") % {"id": self.id}


@dataclass(frozen=True)
class Expert:
    id: int
    user_id: int | None
    subjects: frozenset[str]
    stages: frozenset[str]
    max_load: int
    school_id: int | None = None
    county_id: int | None = None
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or _("专家 %(id)s") % {"id": self.id}


@dataclass(frozen=True)
class Problem:
    """One round's assignment problem. ``conflicts``: declared (expert_id, entry_id) pairs."""

    entries: tuple[Entry, ...]
    experts: tuple[Expert, ...]
    reviewers_per_entry: int
    above_county: bool
    conflicts: frozenset[Pair] = frozenset()

    def __post_init__(self):
        object.__setattr__(self, "entries", tuple(self.entries))
        object.__setattr__(self, "experts", tuple(self.experts))
        object.__setattr__(self, "conflicts", frozenset(self.conflicts))
        if self.reviewers_per_entry < 1:
            raise ValueError("reviewers_per_entry must be at least 1")
        if len(self.entry_by_id) != len(self.entries) or len(self.expert_by_id) != len(self.experts):
            raise ValueError("duplicate entry or expert ids")

    @cached_property
    def entry_by_id(self) -> dict[int, Entry]:
        return {e.id: e for e in self.entries}

    @cached_property
    def entry_index(self) -> dict[int, int]:
        return {e.id: i for i, e in enumerate(self.entries)}

    @cached_property
    def expert_by_id(self) -> dict[int, Expert]:
        return {x.id: x for x in self.experts}

    @cached_property
    def experts_by_field(self) -> dict[tuple[str, str], list[Expert]]:
        """Experts per (subject, stage) they may review, in input order."""
        index: dict[tuple[str, str], list[Expert]] = defaultdict(list)
        for x in self.experts:
            for subject in sorted(x.subjects):
                for stage in sorted(x.stages):
                    index[(subject, stage)].append(x)
        return index

    def exclusion(self, expert: Expert, entry: Entry) -> str | None:
        """The first hard rule that keeps ``expert`` from reviewing ``entry``, or None."""
        if entry.subject not in expert.subjects:
            return SUBJECT
        if entry.stage not in expert.stages:
            return STAGE
        return self.conflict(expert, entry)

    def conflict(self, expert: Expert, entry: Entry) -> str | None:
        """The first conflict of interest between a matching expert and an entry, or None."""
        if expert.user_id is not None and expert.user_id in entry.member_user_ids:
            return TEAM
        if expert.school_id is not None and expert.school_id == entry.school_id:
            return SCHOOL
        if self.above_county and expert.county_id is not None and expert.county_id == entry.county_id:
            return COUNTY
        if (expert.id, entry.id) in self.conflicts:
            return DECLARED
        return None


@dataclass(frozen=True)
class Shortage:
    """Why an entry has fewer than N experts. ``excluded``: (reason, count) for the matching
    experts that must stand aside; ``eligible``: matching experts left; ``assigned``: of those, how
    many review the entry; ``at_limit``: the other eligible ones, all at their maximum load."""

    entry_id: int
    missing: int
    matching: int
    excluded: tuple[tuple[str, int], ...]
    eligible: int
    assigned: int
    at_limit: int
    message: str


@dataclass(frozen=True)
class Assignment:
    """``pairs``: every (expert_id, entry_id), the fixed ones included, sorted; ``new_pairs``: those
    the solver added; ``loads``: entries per expert (every expert, 0 included); ``shortages``: the
    entries still short of N, with reasons; ``warnings``: fixed pairs that break a rule now."""

    pairs: tuple[Pair, ...]
    new_pairs: tuple[Pair, ...]
    loads: Mapping[int, int]
    shortages: tuple[Shortage, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.shortages


# --- messages -----------------------------------------------------------------------------------
def stage_label(stage: str) -> str:
    try:
        return str(Stage(stage).label)
    except ValueError:
        return stage


def _field(entry: Entry) -> str:
    return _("学科 %(subject)s、学段 %(stage)s") % {"subject": entry.subject, "stage": stage_label(entry.stage)}


def _excluded_phrase(reason: str, count: int) -> str:
    return {
        TEAM: _("%(n)d 位是作品的主讲教师或团队成员"),
        SCHOOL: _("%(n)d 位与作品同校"),
        COUNTY: _("%(n)d 位与作品同县（区）（县级以上评审须回避）"),
        DECLARED: _("%(n)d 位已声明回避"),
    }[reason] % {"n": count}


def refusal_message(reason: str, expert: Expert, entry: Entry) -> str:
    """Why ``expert`` may not review ``entry``, for the admin moving pairs by hand."""
    values = {"expert": expert.label, "title": entry.label, "subject": entry.subject,
              "stage": stage_label(entry.stage)}
    if reason == SUBJECT:
        values["subjects"] = "、".join(sorted(expert.subjects)) or _("（未设置）")
        return _("%(expert)s 的评审学科为 %(subjects)s，不能评审学科 %(subject)s 的《%(title)s》；"
                 "请选择该学科的专家。") % values
    if reason == STAGE:
        values["stages"] = "、".join(stage_label(s) for s in sorted(expert.stages)) or _("（未设置）")
        return _("%(expert)s 的评审学段为 %(stages)s，不能评审学段 %(stage)s 的《%(title)s》；"
                 "请选择该学段的专家。") % values
    return {
        TEAM: _("%(expert)s 是《%(title)s》的主讲教师或团队成员，须回避；请选择其他专家。"),
        SCHOOL: _("%(expert)s 与《%(title)s》同校，须回避；请选择其他学校的专家。"),
        COUNTY: _("%(expert)s 与《%(title)s》同属一个县（区），县级以上评审须回避；请选择其他县（区）的专家。"),
        DECLARED: _("%(expert)s 已声明与《%(title)s》有利益关系，须回避；请选择其他专家。"),
    }[reason] % values


def _shortage(problem: Problem, entry: Entry, assigned_ids: set[int], missing: int) -> Shortage:
    matching = problem.experts_by_field.get((entry.subject, entry.stage), [])
    counts = dict.fromkeys(CONFLICTS, 0)
    eligible = []
    for x in matching:
        reason = problem.conflict(x, entry)
        if reason is None:
            eligible.append(x)
        else:
            counts[reason] += 1
    excluded = tuple((r, counts[r]) for r in CONFLICTS if counts[r])
    assigned = sum(1 for x in eligible if x.id in assigned_ids)
    at_limit = len(eligible) - assigned
    values = {"title": entry.label, "missing": missing, "field": _field(entry), "matching": len(matching),
              "eligible": len(eligible), "assigned": assigned, "at_limit": at_limit}
    text = _("《%(title)s》缺少 %(missing)d 位评审专家：") % values
    if not matching:
        text += _("没有%(field)s 的专家；请添加%(field)s 的专家。") % values
    else:
        text += _("%(field)s 的专家共 %(matching)d 位") % values
        if excluded:
            text += _("，其中 ") + "、".join(_excluded_phrase(r, n) for r, n in excluded)
        if not eligible:
            text += _("，没有可评审的专家；请添加%(field)s 的专家。") % values
        elif not at_limit:
            text += _("，符合条件的 %(eligible)d 位都已分配；请添加%(field)s 的专家。") % values
        elif not assigned:
            text += _("，符合条件的 %(at_limit)d 位专家均已达到评审上限；请提高他们的评审上限或添加%(field)s 的专家。") % values
        else:
            text += _("，符合条件的 %(eligible)d 位专家中 %(assigned)d 位已分配，其余 %(at_limit)d 位均已达到评审上限；"
                      "请提高他们的评审上限或添加%(field)s 的专家。") % values
    return Shortage(entry.id, missing, len(matching), excluded, len(eligible), assigned, at_limit, text)


# --- the solver -----------------------------------------------------------------------------------
def solve(problem: Problem, fixed: Iterable[Pair] = ()) -> Assignment:
    """The balanced assignment with the most pairs that keeps every hard rule and every fixed pair."""
    n = problem.reviewers_per_entry
    fixed = sorted(set(fixed))
    fixed_on: dict[int, set[int]] = defaultdict(set)  # entry id -> expert ids
    load: dict[int, int] = dict.fromkeys(problem.expert_by_id, 0)
    warnings = []
    for expert_id, entry_id in fixed:
        expert, entry = problem.expert_by_id.get(expert_id), problem.entry_by_id.get(entry_id)
        if expert is None or entry is None:
            raise ValueError(f"fixed pair {(expert_id, entry_id)} names an unknown expert or entry")
        fixed_on[entry_id].add(expert_id)
        load[expert_id] += 1
        reason = problem.exclusion(expert, entry)
        if reason is not None:
            warnings.append(_("已锁定的分配不符合规则：") + refusal_message(reason, expert, entry))
    for expert in problem.experts:
        if load[expert.id] > expert.max_load:
            warnings.append(_("%(expert)s 已锁定的评审作品有 %(load)d 件，超过其评审上限 %(max)d 件。") % {
                "expert": expert.label, "load": load[expert.id], "max": expert.max_load})
    for entry in problem.entries:
        if len(fixed_on[entry.id]) > n:
            warnings.append(_("《%(title)s》已锁定的评审专家有 %(count)d 位，多于每件作品 %(n)d 位。") % {
                "title": entry.label, "count": len(fixed_on[entry.id]), "n": n})

    # Nodes: 0 source, 1..E entries, E+1..E+X experts, E+X+1 sink.
    entries, experts = problem.entries, problem.experts
    expert_node = {x.id: len(entries) + 1 + i for i, x in enumerate(experts)}
    sink = len(entries) + len(experts) + 1
    tails, heads, caps, costs = [], [], [], []

    def arc(tail: int, head: int, capacity: int, cost: int) -> None:
        tails.append(tail)
        heads.append(head)
        caps.append(capacity)
        costs.append(cost)

    pair_arcs: list[Pair] = []  # the (expert_id, entry_id) of each entry→expert arc, in arc order
    supply = 0
    for i, entry in enumerate(entries, start=1):
        need = n - len(fixed_on[entry.id])
        if need <= 0:
            continue
        arc(0, i, need, 0)
        supply += need
        taken = fixed_on[entry.id]
        for x in problem.experts_by_field.get((entry.subject, entry.stage), ()):
            if x.id not in taken and x.max_load > load[x.id] and problem.conflict(x, entry) is None:
                pair_arcs.append((x.id, entry.id))
    first_pair_arc = len(tails)
    candidates: dict[int, int] = defaultdict(int)
    for expert_id, entry_id in pair_arcs:
        arc(1 + problem.entry_index[entry_id], expert_node[expert_id], 1, 0)
        candidates[expert_id] += 1
    for x in experts:
        # One arc per further entry: the k-th entry on an expert costs k (convex: loads even out).
        # No more arcs than entries he may take, however high his limit.
        for k in range(load[x.id] + 1, min(x.max_load, load[x.id] + candidates[x.id]) + 1):
            arc(expert_node[x.id], sink, 1, k)

    new_pairs: list[Pair] = []
    if pair_arcs:
        # Imported here, not at the top: numpy and OR-Tools cost every web worker ~35 MB of memory.
        import numpy as np
        from ortools.graph.python import min_cost_flow

        flow = min_cost_flow.SimpleMinCostFlow()
        flow.add_arcs_with_capacity_and_unit_cost(
            np.asarray(tails, dtype=np.int32), np.asarray(heads, dtype=np.int32),
            np.asarray(caps, dtype=np.int64), np.asarray(costs, dtype=np.int64))
        flow.set_node_supply(0, supply)
        flow.set_node_supply(sink, -supply)
        status = flow.solve_max_flow_with_min_cost()
        if status != flow.OPTIMAL:
            raise RuntimeError(f"min-cost flow failed: {status}")
        arcs = np.arange(first_pair_arc, first_pair_arc + len(pair_arcs), dtype=np.int32)
        used = np.flatnonzero(flow.flows(arcs))
        new_pairs = [pair_arcs[i] for i in used]

    on_entry: dict[int, set[int]] = defaultdict(set)
    for expert_id, entry_id in fixed:
        on_entry[entry_id].add(expert_id)
    for expert_id, entry_id in new_pairs:
        on_entry[entry_id].add(expert_id)
        load[expert_id] += 1
    shortages = tuple(
        _shortage(problem, entry, on_entry[entry.id], n - len(on_entry[entry.id]))
        for entry in entries if len(on_entry[entry.id]) < n)
    pairs = tuple(sorted((*fixed, *new_pairs)))
    return Assignment(pairs, tuple(sorted(new_pairs)), load, shortages, tuple(warnings))


# --- manual changes -------------------------------------------------------------------------------
ADD, REMOVE, MOVE = "add", "remove", "move"


@dataclass(frozen=True)
class Move:
    """One manual change: ``add`` expert to entry, ``remove`` him from it, or ``move`` the entry
    from ``expert_id`` to ``to_expert_id``."""

    action: str
    entry_id: int
    expert_id: int
    to_expert_id: int | None = None


def check_move(problem: Problem, pairs: Iterable[Pair], move: Move, locked: Iterable[Pair] = ()) -> Decision:
    """May ``move`` be applied to the current ``pairs``? Same hard rules as ``solve``; a removal that
    leaves the entry short is allowed with a warning (the round cannot be published so)."""
    pairs = set(pairs)
    locked = set(locked)
    entry = problem.entry_by_id.get(move.entry_id)
    if entry is None:
        return refuse("unknown", _("该作品不在本轮评审中。"))
    expert = problem.expert_by_id.get(move.expert_id)
    if expert is None:
        return refuse("unknown", _("该专家不在本轮评审的专家库中。"))
    n = problem.reviewers_per_entry
    on_entry = sum(1 for _x, e in pairs if e == entry.id)
    values = {"expert": expert.label, "title": entry.label, "n": n, "count": on_entry}

    if move.action in (REMOVE, MOVE):
        if (expert.id, entry.id) not in pairs:
            return refuse("missing", _("%(expert)s 没有被分配评审《%(title)s》。") % values)
        if (expert.id, entry.id) in locked:
            return refuse("locked", _("%(expert)s 评审《%(title)s》的分配已锁定（已发布或已开始评分），不能移除或调整。") % values)
    if move.action == REMOVE:
        if on_entry - 1 < n:
            return Decision(True, warnings=(_("移除后《%(title)s》只有 %(left)d 位评审专家，发布前须补足 %(n)d 位。") % {
                **values, "left": on_entry - 1},))
        return ALLOW
    if move.action == ADD:
        target = expert
        if (target.id, entry.id) in pairs:
            return refuse("duplicate", _("%(expert)s 已在评审《%(title)s》。") % values)
        if on_entry >= n:
            return refuse("full", _("《%(title)s》已有 %(count)d 位评审专家（每件作品 %(n)d 位）；请先移除一位，或改用调整。") % values)
    elif move.action == MOVE:
        target = problem.expert_by_id.get(move.to_expert_id)
        if target is None:
            return refuse("unknown", _("该专家不在本轮评审的专家库中。"))
        if (target.id, entry.id) in pairs:
            return refuse("duplicate", _("%(expert)s 已在评审《%(title)s》。") % {**values, "expert": target.label})
    else:
        raise ValueError(f"unknown action {move.action!r}")

    reason = problem.exclusion(target, entry)
    if reason is not None:
        return refuse(reason, refusal_message(reason, target, entry))
    target_load = sum(1 for x, _e in pairs if x == target.id)
    if target_load >= target.max_load:
        return refuse("load", _("%(expert)s 已分配 %(load)d 件作品，达到评审上限 %(max)d 件；请选择其他专家或提高其上限。") % {
            "expert": target.label, "load": target_load, "max": target.max_load})
    return ALLOW


def violations(problem: Problem, pairs: Iterable[Pair]) -> list[str]:
    """Every hard rule a set of pairs breaks (for publishing, and for the tests): unknown ids,
    exclusions, entries without exactly N experts, experts over their load."""
    pairs = sorted(set(pairs))
    found = []
    per_entry: dict[int, int] = defaultdict(int)
    per_expert: dict[int, int] = defaultdict(int)
    for expert_id, entry_id in pairs:
        expert, entry = problem.expert_by_id.get(expert_id), problem.entry_by_id.get(entry_id)
        if expert is None or entry is None:
            found.append(_("分配 %(pair)s 指向不在本轮的专家或作品。") % {"pair": (expert_id, entry_id)})
            continue
        per_entry[entry_id] += 1
        per_expert[expert_id] += 1
        reason = problem.exclusion(expert, entry)
        if reason is not None:
            found.append(refusal_message(reason, expert, entry))
    n = problem.reviewers_per_entry
    for entry in problem.entries:
        if per_entry[entry.id] != n:
            found.append(_("《%(title)s》有 %(count)d 位评审专家，应为 %(n)d 位。") % {
                "title": entry.label, "count": per_entry[entry.id], "n": n})
    for expert in problem.experts:
        if per_expert[expert.id] > expert.max_load:
            found.append(_("%(expert)s 分配了 %(load)d 件作品，超过评审上限 %(max)d 件。") % {
                "expert": expert.label, "load": per_expert[expert.id], "max": expert.max_load})
    return found
