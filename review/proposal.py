"""The recommendation proposal: from a ranking, the set a unit should recommend (or award), exact.

Pure: plain data in, a proposal out; no ORM, no I/O. The workflow's own types and rules
(``selection.rules``: ``Pick``, ``QuotaLimit``, ``ShareCap``, ``TargetShare``, the quota scope of
``quota_used``, the node rule) define what a valid set is; this module only searches for the best one.

The model (OR-Tools CP-SAT, one boolean per candidate):
- hard: every quota row that applies to a chosen pick holds (a pick may fall under several: a
  subject row and the category-wide row it sits inside); a row counts a category, or a category ×
  subject for a subject row or a ``per_subject`` row (``selection.rules.quota_violations``); one course per
  catalog node (``NodeRule.BLOCK``; under ``WARN`` the proposal still takes one per node, but
  entries the admin forces in may share a node); every share cap (inside × 100 ≤ max % × total);
  forced-in entries are in, forced-out and vetoed entries are out;
- objective: maximise the total score plus the target-share bonus. Scores and bonus points are
  scaled to integers in hundredths (``SCALE``). A ``TargetBonus`` gives ``points`` for each pick in
  the target's subjects, up to the number that reaches the target share (all of them when the
  target has no percentage).
- ties: candidates are ranked by score (highest first), equal scores keeping the order they came
  in (the ranking's own tie-break). Among sets of equal score + bonus the proposal takes the one
  whose picks rank best: the objective is ``(score + bonus) × K + Σ (N − position)`` with
  ``K`` larger than any sum of the second term, so the second term only decides ties. Should two
  sets still tie on the sum of positions, the solver runs single-threaded with a fixed seed, so the
  same input always gives the same set.

Exact reductions before solving (each keeps every optimal set). Two candidates of one class (same
category, quota row, share caps and bonuses) are interchangeable, so a lower one is chosen only if
no better one of its class could take its place: at a catalog node only the best free candidate of
each class can be chosen; among the candidates of a class that have a node to themselves, only the
best ``limit`` under a quota of ``limit``; and a candidate with better ones of its class at ``C`` or
more other nodes is never chosen when a valid set holds at most ``C`` picks (each of those must be
chosen or have its node taken, by at most ``C − 1`` other picks). The left-out ones are still explained.

Every candidate left out gets a Chinese explanation computed from the chosen set: the constraint
that blocks adding it, preferring one that is filled by better-ranked picks only (the binding one:
to add the entry, a better pick would have to go).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from campaigns.enums import NodeRule
from jingpinke.errors import ServiceError
from review.aggregation import Group, sort_key
from selection.rules import (
    Pick,
    QuotaLimit,
    ShareCap,
    TargetShare,
    as_limits,
    category_label,
    quota_scope,
    quota_text,
    quota_violations,
    share_status,
)

SCALE = 100  # scores and bonus points in hundredths of a point
TIME_LIMIT_S = 30.0

# ``limit_for(category, subject)``: the rows a pick must satisfy (one QuotaLimit, a list, or None).
LimitFor = Callable[[str, str], object]


@dataclass(frozen=True)
class Candidate:
    """One ranked entry. ``score``: its total (aggregated) score; ``unit``: school or unit, shown
    to the admin only; ``vetoed``: 一票否决 in the review, never proposed."""

    entry_id: int
    title: str
    score: Decimal | int | float | str
    category: str
    subject: str
    node_id: int | None = None
    unit: str = ""
    vetoed: bool = False

    def pick(self) -> Pick:
        return Pick(self.entry_id, self.category, self.subject, self.node_id, self.title)


@dataclass(frozen=True)
class TargetBonus:
    """A soft target share (e.g. more science) with the admin's weight: ``points`` per pick in the
    target's subjects, up to the target share."""

    target: TargetShare
    points: Decimal | int | float | str


@dataclass(frozen=True)
class LeftOut:
    candidate: Candidate
    rule: str  # forced | veto | node | quota | share | score
    message: str


@dataclass(frozen=True)
class Proposal:
    chosen: tuple[Candidate, ...]  # in ranking order
    left_out: tuple[LeftOut, ...]  # in ranking order
    status: str  # the CP-SAT status name: OPTIMAL (proved) or FEASIBLE (time limit reached)
    total_score: Decimal
    bonus: Decimal
    wall_time: float  # the solver's own time, seconds

    @property
    def optimal(self) -> bool:
        return self.status == "OPTIMAL"

    @property
    def objective(self) -> Decimal:
        return self.total_score + self.bonus

    def picks(self) -> list[Pick]:
        return [c.pick() for c in self.chosen]

    def status_text(self) -> str:
        if self.optimal:
            return _("求解状态：OPTIMAL（已证明为最优解）。推荐 %(n)d 门，总分 %(score)s，目标占比加分 %(bonus)s。") % {
                "n": len(self.chosen), "score": self.total_score, "bonus": self.bonus}
        return _("求解状态：%(status)s（在时限内找到可行方案，但未证明最优）。推荐 %(n)d 门，总分 %(score)s。") % {
            "status": self.status, "n": len(self.chosen), "score": self.total_score}


def candidates_from_ranking(groups: Iterable[Group], nodes: Mapping[int, int | None] | None = None,
                            units: Mapping[int, str] | None = None) -> list[Candidate]:
    """The ranked rows of ``review.aggregation.rank`` (every category × subject group) as one list,
    in the ranking's own order across groups (its ``sort_key``: score, vetoes, median, SD,
    submission, entry id), so its tie-breaks carry into the proposal. ``nodes`` / ``units``: each
    entry's catalog node and school, by entry id (the round's entries hold them). An entry with a
    veto is a vetoed candidate; unscored entries are not candidates."""
    nodes, units = nodes or {}, units or {}
    rows = sorted((row for g in groups for row in g.rows), key=lambda row: sort_key(row.entry, row.result))
    return [Candidate(row.entry.entry_id, row.entry.title, f"{row.result.score:.2f}", row.entry.category,
                      row.entry.subject, nodes.get(row.entry.entry_id), units.get(row.entry.entry_id, ""),
                      vetoed=row.result.vetoes > 0)
            for row in rows]


def scaled(value) -> int:
    """A score or bonus in hundredths, rounded half up."""
    return int((Decimal(str(value)) * SCALE).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def ranked(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Highest score first; equal scores keep their given order (the ranking's tie-break)."""
    return sorted(candidates, key=lambda c: -scaled(c.score))


def _memo(fn):
    """``fn(category, subject)`` computed once per pair."""
    cache: dict[tuple[str, str], object] = {}

    def cached(category: str, subject: str):
        key = (category, subject)
        if key not in cache:
            cache[key] = fn(category, subject)
        return cache[key]

    return cached


def bonus_count(picks: Sequence[Pick], target: TargetShare) -> int:
    """Picks earning a target's bonus: those in its subjects, at most enough to reach its share."""
    in_category = [p for p in picks if p.category == target.category]
    inside = sum(1 for p in in_category if p.subject in target.subjects)
    if target.min_percent is None:
        return inside
    needed = -(-target.min_percent * len(in_category) // 100)  # ceil
    return min(inside, needed)


def _quota_what(category: str, subject: str, quota: QuotaLimit) -> str:
    by_subject = bool(quota.subject) or quota.per_subject
    return f"{category_label(category)}（{subject}）" if by_subject and subject else category_label(category)


def propose(candidates: Sequence[Candidate], limit_for: LimitFor, node_rule: str = NodeRule.BLOCK, *,
            caps: Sequence[ShareCap] = (), bonuses: Sequence[TargetBonus] = (),
            force_in: Collection[int] = (), force_out: Collection[int] = (),
            time_limit: float = TIME_LIMIT_S, award: bool = False) -> Proposal:
    """The set to recommend: every hard rule holds, score + bonus is maximal (see the module).

    ``limit_for(category, subject)`` answers the unit's applicable quota rows (as the selection
    services resolve them: a subject row and the category-wide row it sits inside; one row, a list,
    or None for no limit); a set is valid as ``selection.rules.quota_violations`` says. ``award``:
    the set to award at this level (本级荣誉) rather than to recommend; only the wording changes.
    Raises ``ServiceError`` when the forced entries cannot all be kept."""
    order = ranked(candidates)
    n = len(order)
    pos = {c.entry_id: i for i, c in enumerate(order)}
    if len(pos) != n:
        raise ValueError("duplicate entry ids among the candidates")
    force_in, force_out = set(force_in), set(force_out)
    by_id = {c.entry_id: c for c in order}
    limits = _memo(lambda category, subject: as_limits(limit_for(category, subject)))
    _check_forced(order, by_id, limits, node_rule, force_in, force_out, award)

    quotas = {c.entry_id: limits(c.category, c.subject) for c in order}
    forced = [c for c in order if c.entry_id in force_in]
    free = [c for c in order if c.entry_id not in force_in and c.entry_id not in force_out and not c.vetoed]
    forced_nodes = {c.node_id for c in forced if c.node_id is not None}

    # Exact reductions (module docstring). Two candidates of one class are interchangeable for
    # every constraint and for the bonus; the better-ranked one is always the better choice.
    def class_of(category: str, subject: str) -> tuple:
        rows = tuple(sorted((quota_scope(category, subject, q), q.limit) for q in limits(category, subject)))
        return (category, rows,
                tuple(category == cap.category and subject in cap.subjects for cap in caps),
                tuple(category == b.target.category and subject in b.target.subjects for b in bonuses))

    class_of = _memo(class_of)

    def cls(c: Candidate) -> tuple:
        return class_of(c.category, c.subject)

    kept: list[Candidate] = []
    seen_at_node: set[tuple] = set()
    for c in free:
        if c.node_id is not None:
            if c.node_id in forced_nodes:
                continue  # the node is taken by a forced entry
            key = (c.node_id, cls(c))
            if key in seen_at_node:
                continue
            seen_at_node.add(key)
        kept.append(c)
    per_node: dict[int, int] = defaultdict(int)
    for c in kept:
        if c.node_id is not None:
            per_node[c.node_id] += 1
    taken_in_class: dict[tuple, int] = defaultdict(int)
    capacity = _capacity(forced + kept, quotas)
    places_above: dict[tuple, set] = defaultdict(set)  # the nodes of the better candidates of a class
    model_set: list[Candidate] = []
    for c in kept:
        key = cls(c)
        above = places_above[key]
        place = c.node_id if c.node_id is not None else ("alone", c.entry_id)
        # Each better candidate of its class at another node must be chosen or have its node taken
        # by a pick, else it could replace this one: at most ``capacity - 1`` other picks can do so.
        beaten = capacity is not None and len(above) - (place in above) >= capacity
        above.add(place)
        if beaten:
            continue
        rows = quotas[c.entry_id]
        if rows and (c.node_id is None or per_node[c.node_id] == 1):
            if taken_in_class[key] >= min(q.limit for q in rows):
                continue
            taken_in_class[key] += 1
        model_set.append(c)

    in_model = sorted(forced + model_set, key=lambda c: pos[c.entry_id])
    chosen_ids, status, wall = _solve(in_model, pos, n, quotas, caps, bonuses, force_in, time_limit, award)
    chosen = [c for c in order if c.entry_id in chosen_ids]
    picks = [c.pick() for c in chosen]
    total = sum((Decimal(scaled(c.score)) for c in chosen), Decimal(0)) / SCALE
    bonus = sum((Decimal(scaled(b.points)) * bonus_count(picks, b.target) for b in bonuses), Decimal(0)) / SCALE
    left_out = _explain(order, chosen, pos, quotas, caps, bonuses, force_out, award)
    return Proposal(tuple(chosen), tuple(left_out), status, total, bonus, wall)


def _capacity(cands: Sequence[Candidate], quotas) -> int | None:
    """At most how many picks any valid set holds: each candidate is charged to one of its rows (a
    category-wide one when it has one, else its smallest), and the limits of those scopes are summed
    (a scope counted once, with its largest limit); None when a candidate has no quota."""
    largest: dict[tuple[str, str], int] = {}
    for c in cands:
        rows = quotas[c.entry_id]
        if not rows:
            return None
        q = min(rows, key=lambda q: (bool(q.subject or q.per_subject), q.limit))
        scope = quota_scope(c.category, c.subject, q)
        largest[scope] = max(largest.get(scope, 0), q.limit)
    return sum(largest.values())


def _check_forced(order, by_id, limits, node_rule, force_in, force_out, award=False) -> None:
    verb = _("评为本级荣誉") if award else _("推荐")
    both = force_in & force_out
    if both:
        names = "、".join(f"《{by_id[i].title}》" for i in sorted(both) if i in by_id)
        raise ServiceError(_("同一作品不能既强制%(verb)s又强制排除：%(names)s。") % {"verb": verb, "names": names})
    unknown = (force_in | force_out) - set(by_id)
    if unknown:
        raise ServiceError(_("强制调整的作品不在候选名单中（编号 %(ids)s）。") % {
            "ids": "、".join(str(i) for i in sorted(unknown))})
    forced = [c for c in order if c.entry_id in force_in]
    vetoed = [c for c in forced if c.vetoed]
    if vetoed:
        raise ServiceError(_("作品《%(title)s》在评审中被一票否决，不能强制%(verb)s。") % {
            "title": vetoed[0].title, "verb": verb})
    over = quota_violations([c.pick() for c in forced], limits)
    if over:
        p, q, used = over[0]
        raise ServiceError(_("强制%(verb)s的作品超出名额：%(text)s。请减少强制%(verb)s的作品。") % {
            "verb": verb, "text": quota_text(p.category, p.subject, q, used, _("评") if award else "")})
    if node_rule == NodeRule.BLOCK:
        at_node: dict[int, list[Candidate]] = defaultdict(list)
        for c in forced:
            if c.node_id is not None:
                at_node[c.node_id].append(c)
        for same in at_node.values():
            if len(same) > 1:
                raise ServiceError(_("强制%(verb)s的 %(names)s 是同一目录节点，本活动同一节点只%(verb)s 1 节课。请只保留一门。") % {
                    "verb": verb, "names": "、".join(f"《{c.title}》" for c in same)})


def _solve(cands, pos, n, quotas, caps, bonuses, force_in, time_limit, award=False):
    # Imported here, not at the top: CP-SAT brings pandas and numpy (~45 MB in every web worker that
    # never proposes anything; `python -m bench uploads` measures the workers' RSS).
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    x = {c.entry_id: model.new_bool_var(f"x{c.entry_id}") for c in cands}
    for i in force_in:
        model.add(x[i] == 1)

    # One course per node (forced entries may share one only when the rule is WARN; checked before).
    at_node: dict[int, list[Candidate]] = defaultdict(list)
    for c in cands:
        if c.node_id is not None:
            at_node[c.node_id].append(c)
    for same in at_node.values():
        if len(same) > 1 and not any(c.entry_id in force_in for c in same):
            model.add_at_most_one(x[c.entry_id] for c in same)
        # a node with a forced entry holds no free candidate (reduced away)

    # Quotas: a scope's limit holds whenever one of the picks it applies to is in the set.
    members: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
    for c in cands:
        members[(c.category, "")].append(c)
        members[(c.category, c.subject)].append(c)
    rows: dict[tuple[tuple[str, str], int], list[Candidate]] = defaultdict(list)
    for c in cands:
        for q in quotas[c.entry_id]:
            rows[(quota_scope(c.category, c.subject, q), q.limit)].append(c)
    for (scope, limit), applies in rows.items():
        scope_vars = [x[c.entry_id] for c in members[scope]]
        if len(scope_vars) <= limit:
            continue
        if len(applies) == len(members[scope]):
            model.add(sum(scope_vars) <= limit)
        else:
            active = model.new_bool_var("")
            for c in applies:
                model.add_implication(x[c.entry_id], active)
            model.add(sum(scope_vars) <= limit).only_enforce_if(active)

    # Share caps: inside × 100 ≤ max % × total.
    for cap in caps:
        in_cat = [c for c in cands if c.category == cap.category]
        inside = [x[c.entry_id] for c in in_cat if c.subject in cap.subjects]
        if inside:
            model.add(100 * sum(inside) <= cap.max_percent * sum(x[c.entry_id] for c in in_cat))

    # Objective: (score + bonus) × K + Σ (N − position).
    primary = [scaled(c.score) * x[c.entry_id] for c in cands]
    for b in bonuses:
        points = scaled(b.points)
        in_cat = [c for c in cands if c.category == b.target.category]
        inside = [x[c.entry_id] for c in in_cat if c.subject in b.target.subjects]
        if points <= 0 or not inside:
            continue
        earned = model.new_int_var(0, len(inside), "")
        model.add(earned <= sum(inside))
        if b.target.min_percent is not None:
            model.add(100 * earned <= b.target.min_percent * sum(x[c.entry_id] for c in in_cat) + 99)
        primary.append(points * earned)
    rank_weight = {c.entry_id: n - pos[c.entry_id] for c in cands}
    k = sum(rank_weight.values()) + 1  # more than any set's rank weight: it only breaks ties
    model.maximize(k * sum(primary) + sum(w * x[i] for i, w in rank_weight.items()))

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    solver.parameters.max_time_in_seconds = time_limit
    result = solver.solve(model)
    status = solver.status_name(result)
    if result == cp_model.INFEASIBLE:
        forced = [c.pick() for c in cands if c.entry_id in force_in]
        texts = [share_status(forced, cap).text() for cap in caps]
        verb = _("评为本级荣誉") if award else _("推荐")
        raise ServiceError(_("强制%(verb)s的作品使学科占比上限无法满足：%(texts)s。请减少强制%(verb)s的作品。") % {
            "verb": verb, "texts": "；".join(texts)})
    if result not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise ServiceError(_("在 %(s)d 秒内未能算出方案（求解状态 %(status)s），请稍后重试或减少候选作品。") % {
            "s": time_limit, "status": status})
    chosen = {i for i, var in x.items() if solver.boolean_value(var)}
    return chosen, status, solver.wall_time


def _bonus_subjects(c: Candidate, bonuses: Sequence[TargetBonus]) -> tuple[str, ...]:
    """The target subjects of every bonus ``c`` earns (empty: none)."""
    return tuple(s for b in bonuses if c.category == b.target.category and c.subject in b.target.subjects
                 for s in b.target.subjects)


def _explain(order, chosen, pos, quotas, caps, bonuses, force_out, award=False) -> list[LeftOut]:
    chosen_ids = {c.entry_id for c in chosen}
    node_pick: dict[int, Candidate] = {}
    for c in chosen:
        if c.node_id is not None:
            node_pick.setdefault(c.node_id, c)  # the best-ranked pick at the node
    used: dict[tuple[str, str], int] = defaultdict(int)
    worst_in: dict[tuple[str, str], Candidate] = {}  # the lowest-ranked pick of a scope
    tightest: dict[tuple[str, str], QuotaLimit] = {}  # the smallest quota a pick applies to a scope
    for c in chosen:  # in ranking order
        for scope in ((c.category, ""), (c.category, c.subject)):
            used[scope] += 1
            worst_in[scope] = c
        for q in quotas[c.entry_id]:
            scope = quota_scope(c.category, c.subject, q)
            if scope not in tightest or q.limit < tightest[scope].limit:
                tightest[scope] = q
    cap_state = []
    for cap in caps:
        status = share_status([c.pick() for c in chosen], cap)
        worst = max((pos[c.entry_id] for c in chosen if c.category == cap.category and c.subject in cap.subjects),
                    default=-1)
        cap_state.append((cap, status.inside, status.total, worst))
    # Translated once per proposal: thousands of entries may be left out.
    if award:
        forced_text, veto_text = _("管理员已调整为不评本级荣誉"), _("评审一票否决，不评本级荣誉")
        node_other = _("同一目录节点已评《%(title)s》")
    else:
        forced_text, veto_text = _("管理员已调整为不推荐"), _("评审一票否决，不予推荐")
        node_other = _("同一目录节点已推荐《%(title)s》")
    score_text, node_better = _("其他组合总分更高"), _("同一目录节点已有更高分作品《%(title)s》")
    quota_full = _("超出%(what)s荣誉名额 %(used)d/%(limit)d") if award else _("超出%(what)s名额 %(used)d/%(limit)d")
    share_over = _("%(subject)s等学科占比将超过 %(max)d %%")
    quota_bonus = _("超出%(what)s名额 %(used)d/%(limit)d：目标学科（%(subjects)s）的作品有加分，总分更高")
    quota_messages: dict[tuple, str] = {}

    out = []
    for c in order:
        if c.entry_id in chosen_ids:
            continue
        if c.entry_id in force_out:
            out.append(LeftOut(c, "forced", forced_text))
            continue
        if c.vetoed:
            out.append(LeftOut(c, "veto", veto_text))
            continue
        me = pos[c.entry_id]
        found: list[tuple[bool, str, str]] = []  # (filled by better-ranked picks only, rule, message)
        other = node_pick.get(c.node_id) if c.node_id is not None else None
        if other is not None:
            better = pos[other.entry_id] < me
            found.append((better, "node", (node_better if better else node_other) % {"title": other.title}))
        # Every full row, so the binding one (filled by better-ranked picks) can be named: its own rows (a subject row before the category-wide row), then the tightest row a pick in
        # the set applies to a scope it falls in.
        limits = [(quota_scope(c.category, c.subject, q), q) for q in quotas[c.entry_id]]
        limits += [(scope, tightest[scope]) for scope in ((c.category, ""), (c.category, c.subject))
                   if scope in tightest]
        for scope, q in limits:
            if used[scope] < q.limit:
                continue
            worst = worst_in.get(scope)
            better = worst is None or pos[worst.entry_id] < me
            # A lower-ranked pick holds a place: if it earns a bonus this entry does not, say so.
            lifted = () if better else tuple(
                s for s in _bonus_subjects(worst, bonuses) if s not in _bonus_subjects(c, bonuses))
            key = (scope, q.limit, used[scope], lifted)
            if key not in quota_messages:
                params = {"what": _quota_what(scope[0], scope[1], q), "used": used[scope], "limit": q.limit,
                          "subjects": "、".join(dict.fromkeys(lifted))}
                quota_messages[key] = (quota_bonus if lifted else quota_full) % params
            found.append((better or bool(lifted), "quota", quota_messages[key]))
        for cap, inside, total, worst in cap_state:
            if c.category == cap.category and c.subject in cap.subjects \
                    and 100 * (inside + 1) > cap.max_percent * (total + 1):
                found.append((worst < me, "share", share_over % {"subject": c.subject, "max": cap.max_percent}))
        if not found:
            out.append(LeftOut(c, "score", score_text))
            continue
        binding = next((f for f in found if f[0]), found[0])
        out.append(LeftOut(c, binding[1], binding[2]))
    return out


# --- awards: the level's award (本级荣誉) -----------------------------------------------------------
@dataclass(frozen=True)
class AwardCount:
    """How many of the level's awards the admin gives: in a category, or in a category × subject
    (a sub-limit inside the category's number when both are set)."""

    category: str
    subject: str
    limit: int


def clean_award_counts(rows: Iterable[Mapping], categories: Collection[str]) -> list[AwardCount]:
    """The admin's award numbers from a form or the API: ``{"category", "subject" (optional),
    "limit"}`` each; a blank limit is skipped. Raises ``ServiceError`` naming what to fix."""
    out: dict[tuple[str, str], AwardCount] = {}
    for row in rows:
        category = str(row.get("category") or "").strip()
        subject = str(row.get("subject") or "").strip()
        raw = row.get("limit")
        if raw is None or str(raw).strip() == "":
            continue
        what = f"{category_label(category)}（{subject}）" if subject else category_label(category)
        if category not in categories:
            raise ServiceError(_("本活动没有类别“%(c)s”，请检查荣誉数量。") % {"c": category})
        try:
            limit = int(str(raw).strip())
        except ValueError:
            limit = -1
        if not 0 <= limit <= 10000:
            raise ServiceError(_("%(what)s的荣誉数量“%(v)s”无效：请填写 0 到 10000 之间的整数。") % {"what": what, "v": raw})
        if (category, subject) in out:
            raise ServiceError(_("%(what)s的荣誉数量填写了两次，请只保留一个。") % {"what": what})
        out[(category, subject)] = AwardCount(category, subject, limit)
    if not out:
        raise ServiceError(_("请先填写本级荣誉的数量：每个类别（或类别下的学科）评几门。"))
    return list(out.values())


def award_limit_for(counts: Sequence[AwardCount]) -> LimitFor:
    """The rows an award of ``category`` / ``subject`` must satisfy: its subject's number and its
    category's number, as quota rows (the same validity as recommendations). A subject with neither
    gets no award (a subject row of 0), so nothing is awarded that the admin did not count."""
    by_key = {(c.category, c.subject): c.limit for c in counts}

    def limit_for(category: str, subject: str) -> list[QuotaLimit]:
        rows = []
        if subject and (category, subject) in by_key:
            rows.append(QuotaLimit(by_key[(category, subject)], subject))
        if (category, "") in by_key:
            rows.append(QuotaLimit(by_key[(category, "")]))
        return rows or [QuotaLimit(0, subject)]

    return limit_for
