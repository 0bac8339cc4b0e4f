"""The awards mode of the proposal: from a round's ranking, the entries to receive the level's award
(本级荣誉, ``Level.award_name``, e.g. 市级精品课), and applying it. Use cases (transactional,
permission-checked), as ``review.services`` build_proposal / apply_proposal for recommendations.

How many awards: the round's admin says it when asking for the proposal (per category, or per
category × subject as a sub-limit inside the category's number; ``review.proposal.AwardCount``).
The campaign holds no award numbers (the notices fix recommendation quotas, not how many courses a
level names 精品课: the level decides that after its review), so the numbers are inputs of the
proposal like the forced entries, and the applied set records them in the audit log.

The set is exact, by the same solver as recommendations (``review.proposal.propose`` with the award
numbers as quota rows): one course per catalog node when the campaign's node rule blocks (under
warn, awards are not limited per node), the campaign's share caps that apply to "awards" (e.g.
特殊教育: 语文+数学+生活适应 ≤ 80 %), maximal total score, a Chinese explanation for every entry left
out. Candidates: the round's scored entries that are not returned for fixes (an entry may be
awarded whether or not it is recommended). The unit's awarded entries at this level outside the
round, and the round's awarded entries without a submitted sheet, keep their award and count.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import record
from campaigns.enums import NodeRule
from jingpinke.errors import ServiceError
from review import proposal as prop
from review.models import ReviewRound
from review.services import ProposalRow, ProposalView, RoundResults, _clean_forced, require, round_results
from selection import services as selection_services
from selection.models import Entry, EntryState


def _categories(review_round: ReviewRound) -> list[str]:
    return list(review_round.campaign.categories.values_list("category", flat=True))


def build_award_proposal(actor, review_round: ReviewRound, *, counts, force_in: dict | None = None,
                         force_out: dict | None = None, results: RoundResults | None = None) -> ProposalView:
    """The set to name this level's award from the round's ranking. ``counts``: the admin's award
    numbers (``{"category", "subject", "limit"}`` rows); ``force_in`` / ``force_out``: {entry id:
    reason}."""
    require(actor, "review.change_results", review_round, _("只有本轮评审所属单位的管理员可以生成本级荣誉方案。"))
    r, campaign = review_round, review_round.campaign
    award_name = r.level.award_name
    if not award_name:
        raise ServiceError(_("%(level)s没有设置本级荣誉称号，无法评定。请联系主办单位在活动设置中填写。") % {
            "level": r.level.name})
    award_counts = prop.clean_award_counts(counts or [], _categories(r))
    results = results or round_results(actor, review_round)
    force_in = _clean_forced(results, force_in, _("强制评为本级荣誉"))
    force_out = _clean_forced(results, force_out, _("强制不评本级荣誉"))
    rows = results.rows
    blocks = campaign.node_rule == NodeRule.BLOCK
    candidates_ = [c if blocks else replace(c, node_id=None) for c in prop.candidates_from_ranking(
        results.groups, nodes={i: re.entry.node_id for i, re in rows.items()},
        units={i: re.entry.course.school.name for i, re in rows.items()})
        if rows[c.entry_id].entry.state != EntryState.RETURNED]
    considered = {c.entry_id for c in candidates_}
    # The unit's awards at this level outside the round (and the round's unscored awarded entries) keep
    # their award and hold places.
    outside = [selection_services._pick(e) for e in
               Entry.objects.filter(level=r.level, unit=r.unit, awarded=True)
               .exclude(pk__in=considered).select_related("course", "node__textbook").order_by("pk")]
    fixed = [prop.Candidate(p.entry_id, p.title, "0", p.category, p.subject, p.node_id if blocks else None)
             for p in outside]
    unknown = (set(force_in) | set(force_out)) - considered
    if unknown:
        title = rows[min(unknown)].entry.course.title
        raise ServiceError(_("作品《%(t)s》尚未评分或已退回修改，不能强制调整。") % {"t": title})
    caps = selection_services._caps(campaign, r.level.kind, "awards")
    proposal = prop.propose(candidates_ + fixed, prop.award_limit_for(award_counts), campaign.node_rule, caps=caps,
                            force_in=set(force_in) | {c.entry_id for c in fixed}, force_out=set(force_out),
                            award=True)
    state_labels = dict(EntryState.choices)
    awarded_text = _("已评%(a)s") % {"a": award_name}
    chosen = [c for c in proposal.chosen if c.entry_id in considered]
    out_rows = []

    def row(entry_id, chosen_, message="", rule="", score=""):
        entry = rows[entry_id].entry
        state = str(state_labels.get(entry.state, ""))
        if entry.awarded:
            state = f"{state}，{awarded_text}"
        forced = "in" if entry_id in force_in else "out" if entry_id in force_out else ""
        out_rows.append(ProposalRow(entry_id, rows[entry_id].code, entry.course.title, entry.course.school.name,
                                    entry.node.textbook.subject, score, state, chosen_, forced,
                                    force_in.get(entry_id) or force_out.get(entry_id, ""), message, rule))

    for c in chosen:
        row(c.entry_id, True, score=str(c.score))
    for lo in proposal.left_out:
        if lo.candidate.entry_id in rows:
            row(lo.candidate.entry_id, False, lo.message, lo.rule, str(lo.candidate.score))
    for entry_id in sorted(set(rows) - considered, key=lambda i: rows[i].code):
        entry = rows[entry_id].entry
        if entry.awarded:
            row(entry_id, False, _("尚未评分或已退回；已评本级荣誉，保留并占用名额"), "kept")
        elif entry_id in results.aggregate.entries:
            row(entry_id, False, _("已退回修改，不能评定荣誉"), "state")
        else:
            row(entry_id, False, _("尚未评分（没有已提交的评分表）"), "unscored")
    total = sum((Decimal(prop.scaled(c.score)) for c in chosen), Decimal(0)) / prop.SCALE
    solver = _("求解状态 OPTIMAL：已证明为最优解") if proposal.optimal else \
        _("求解状态 %(s)s：在时限内找到可行方案，但未证明最优") % {"s": proposal.status}
    status = _("本轮评为%(a)s %(n)d 门，总分 %(score)s（%(solver)s）。") % {
        "a": award_name, "n": len(chosen), "score": total, "solver": solver}
    return ProposalView(proposal, out_rows, [p.title for p in outside if p.entry_id not in rows], status)


@dataclass(frozen=True)
class AwardsApplied:
    awarded: list[int]
    unawarded: list[int]


@transaction.atomic
def apply_award_proposal(actor, review_round: ReviewRound, *, counts, force_in: dict | None = None,
                         force_out: dict | None = None, expected: list[int] | None = None,
                         now: datetime | None = None) -> AwardsApplied:
    """Make the level's award flags among the round's entries exactly the proposed set, in one
    transaction, each through ``selection.services.set_award`` (its rules, locks, audit and signals):
    awarded entries left out lose the award, chosen ones get it. If any is refused, nothing is applied
    and every refusal is listed. ``expected``: the set the admin saw; if the proposal has changed
    since (new sheets), refuse."""
    view = build_award_proposal(actor, review_round, counts=counts, force_in=force_in, force_out=force_out)
    chosen = view.chosen_ids
    if expected is not None and sorted(i for i in expected if isinstance(i, int)) != sorted(chosen):
        raise ServiceError(_("评分或作品状态已变化，本级荣誉方案与您看到的不同：请重新查看方案后再应用。"))
    by_id = {row.entry_id: row for row in view.rows}
    awarded_now = set(Entry.objects.filter(pk__in=list(by_id), awarded=True).values_list("pk", flat=True))
    unaward = [row.entry_id for row in view.rows if not row.chosen and row.rule != "kept"
               and row.entry_id in awarded_now]
    award = [i for i in chosen if i not in awarded_now]
    errors = []
    for flag, ids in ((False, unaward), (True, award)):
        for entry_id in ids:
            row = by_id[entry_id]
            try:
                selection_services.set_award(actor, entry_id, flag, now=now)
            except ServiceError as exc:
                errors.append({"entry_id": entry_id, "code": row.code, "title": row.title,
                               "action": "award" if flag else "unaward", "detail": exc.message})
    if errors:  # raising inside the transaction undoes every flag set above
        first = errors[0]
        raise ServiceError(_("有 %(n)d 项荣誉评定被拒绝，本级荣誉方案未应用（全部撤回）。第一项：《%(t)s》：%(d)s") % {
            "n": len(errors), "t": first["title"], "d": first["detail"]}, errors=errors)
    clean = prop.clean_award_counts(counts or [], _categories(review_round))
    record(actor, "review.award_proposal.apply", review_round, after={
        "awarded": award, "unawarded": unaward, "set": chosen,
        "counts": [{"category": c.category, "subject": c.subject, "limit": c.limit} for c in clean],
        "force_in": {str(k): v for k, v in (force_in or {}).items()},
        "force_out": {str(k): v for k, v in (force_out or {}).items()}}, unit=review_round.unit)
    return AwardsApplied(award, unaward)
