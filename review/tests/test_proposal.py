"""The recommendation proposal: each hard rule, each explanation, the bonus, forced entries, ties,
and a property test against brute force (the workflow's own rule functions judge every set)."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from campaigns.enums import NodeRule
from jingpinke.errors import ServiceError
from review import aggregation as agg
from review.proposal import SCALE, Candidate, Proposal, TargetBonus, candidates_from_ranking, propose, scaled
from selection import rules
from selection.rules import QuotaLimit, ShareCap, TargetShare

SPECIAL_CAP = ShareCap("special", ("语文", "数学", "生活适应"), 80)
SCIENCE = ("物理", "化学", "生物", "科学")


def cand(i, score, category="subject", subject="语文", node=None, **kw):
    return Candidate(i, f"课{i}", score, category, subject, node, **kw)


def limits(**by_category):
    return lambda category, subject: by_category.get(category)


def ids(items):
    return [c.entry_id for c in items]


def why(proposal):
    return {o.candidate.entry_id: (o.rule, o.message) for o in proposal.left_out}


def assert_valid(proposal, limit_for, caps=(), node_rule=NodeRule.BLOCK):
    """The chosen set passes the selection workflow's own rules, pick by pick."""
    picks = proposal.picks()
    for p in picks:
        others = [o for o in picks if o.entry_id != p.entry_id]
        assert rules.quota_decision(others, p, limit_for(p.category, p.subject)).ok
        assert rules.node_decision(others, p, node_rule, reason="强制推荐").ok
    assert rules.share_decision(picks, caps).ok


# --- quotas -------------------------------------------------------------------------------------------
def test_category_quota_keeps_the_best_and_says_the_quota_is_full():
    cands = [cand(i, 100 - i, node=i) for i in range(1, 27)]
    lf = limits(subject=QuotaLimit(25))
    p = propose(cands, lf)
    assert ids(p.chosen) == list(range(1, 26))
    assert why(p) == {26: ("quota", "超出学科课程名额 25/25")}
    assert p.status == "OPTIMAL" and p.optimal
    assert p.total_score == Decimal(sum(100 - i for i in range(1, 26)))
    assert_valid(p, lf)


def test_per_subject_quota_of_a_city_owned_school():
    cands = [cand(1, 95, subject="语文"), cand(2, 94, subject="语文"), cand(3, 80, subject="数学"),
             cand(4, 70, category="experiment", subject="物理")]
    lf = limits(subject=QuotaLimit(1, per_subject=True), experiment=QuotaLimit(1, per_subject=True))
    p = propose(cands, lf)
    assert ids(p.chosen) == [1, 3, 4]
    assert why(p) == {2: ("quota", "超出学科课程（语文）名额 1/1")}
    assert_valid(p, lf)


def test_a_category_wide_quota_counts_picks_with_a_subject_row_too():
    # As selection.rules.quota_used counts: the 学科课程 row (1) counts the 语文 pick as well,
    # whichever of the two would be recommended first.
    def lf(category, subject):
        return QuotaLimit(1, "语文") if subject == "语文" else QuotaLimit(1)

    p = propose([cand(1, 95, subject="语文"), cand(2, 90, subject="数学")], lf)
    assert ids(p.chosen) == [1]
    assert why(p) == {2: ("quota", "超出学科课程名额 1/1")}
    # The 语文 entry's own row has room, but the 数学 pick's category-wide row is full.
    p = propose([cand(1, 90, subject="语文"), cand(2, 95, subject="数学")], lf)
    assert ids(p.chosen) == [2]
    assert why(p) == {1: ("quota", "超出学科课程名额 1/1")}


def test_no_quota_means_no_limit():
    p = propose([cand(i, 90, node=i) for i in range(1, 6)], limits())
    assert ids(p.chosen) == [1, 2, 3, 4, 5]
    assert p.left_out == ()


# --- one course per node -------------------------------------------------------------------------------
def test_one_course_per_node_names_the_better_entry():
    cands = [cand(1, 92, node=7), cand(2, 95, node=7), cand(3, 60, node=8)]
    p = propose(cands, limits(subject=QuotaLimit(5)))
    assert ids(p.chosen) == [2, 3]
    assert why(p) == {1: ("node", "同一目录节点已有更高分作品《课2》")}


def test_a_forced_lower_entry_holds_the_node():
    p = propose([cand(1, 95, node=7), cand(2, 80, node=7)], limits(), force_in={2})
    assert ids(p.chosen) == [2]
    assert why(p) == {1: ("node", "同一目录节点已推荐《课2》")}


def test_the_binding_constraint_explains_when_a_lower_entry_holds_the_node():
    # Node 7 holds the better 学科课程 entry 1 and the 实验教学 entry 2. The single 学科课程 place
    # goes to entry 3, so entry 2 takes the node: entry 1 is out because the quota is full of
    # better picks, not because of the (lower) entry at its node.
    cands = [cand(3, 99, node=9), cand(1, 95, node=7), cand(2, 90, category="experiment", subject="物理", node=7)]
    lf = limits(subject=QuotaLimit(1), experiment=QuotaLimit(1))
    p = propose(cands, lf)
    assert ids(p.chosen) == [3, 2]
    assert why(p) == {1: ("quota", "超出学科课程名额 1/1")}
    assert_valid(p, lf)


def test_warn_mode_lets_forced_entries_share_a_node_but_proposes_one_per_node():
    cands = [cand(1, 95, node=7), cand(2, 94, node=7), cand(3, 93, node=8), cand(4, 92, node=8)]
    p = propose(cands, limits(), NodeRule.WARN, force_in={1, 2})
    assert ids(p.chosen) == [1, 2, 3]
    assert why(p) == {4: ("node", "同一目录节点已有更高分作品《课3》")}
    with pytest.raises(ServiceError) as err:
        propose(cands, limits(), NodeRule.BLOCK, force_in={1, 2})
    assert err.value.message == "强制推荐的 《课1》、《课2》 是同一目录节点，本活动同一节点只推荐 1 节课。请只保留一门。"


# --- share caps --------------------------------------------------------------------------------------------
def test_share_cap_leaves_out_the_fifth_capped_subject():
    special = [cand(1, 95, "special", "语文"), cand(2, 94, "special", "数学"), cand(3, 93, "special", "生活适应"),
               cand(4, 92, "special", "语文"), cand(5, 91, "special", "生活适应"), cand(6, 60, "special", "美术")]
    lf = limits(special=QuotaLimit(5))
    p = propose(special, lf, caps=[SPECIAL_CAP])
    assert ids(p.chosen) == [1, 2, 3, 4, 6]
    # Entry 5 would also overrun the quota (5/5) — but the place it would need is held by the
    # lower 美术 entry, which only the cap keeps: the cap binds.
    assert why(p) == {5: ("share", "生活适应等学科占比将超过 80 %")}
    assert_valid(p, lf, [SPECIAL_CAP])
    assert rules.share_status(p.picks(), SPECIAL_CAP).text() == "特殊教育中 语文+数学+生活适应 合计 4/5，当前 80 %，上限 80 %"


def test_share_cap_without_other_subjects_keeps_the_set_small():
    p = propose([cand(1, 95, "special", "语文"), cand(2, 90, "special", "美术"), cand(3, 85, "special", "数学")],
                limits(), caps=[SPECIAL_CAP])
    # 2 of 3 would be 67 % ≤ 80 %, all three 2/3 as well; a fourth 语文 is not there: all in.
    assert ids(p.chosen) == [1, 2, 3]
    p = propose([cand(1, 95, "special", "语文"), cand(2, 90, "special", "数学")], limits(), caps=[SPECIAL_CAP])
    assert ids(p.chosen) == []
    assert why(p) == {1: ("share", "语文等学科占比将超过 80 %"), 2: ("share", "数学等学科占比将超过 80 %")}


# --- target shares as a bonus --------------------------------------------------------------------------------
def test_science_bonus_tips_a_close_call():
    cands = [cand(1, 90, subject="语文"), cand(2, 89, subject="物理")]
    lf = limits(subject=QuotaLimit(1))
    assert ids(propose(cands, lf).chosen) == [1]
    p = propose(cands, lf, bonuses=[TargetBonus(TargetShare("subject", SCIENCE), 2)])
    assert ids(p.chosen) == [2]
    assert (p.total_score, p.bonus, p.objective) == (Decimal(89), Decimal(2), Decimal(91))
    assert why(p) == {1: ("quota", "超出学科课程名额 1/1：目标学科（物理、化学、生物、科学）的作品有加分，总分更高")}


def test_bonus_counts_only_up_to_the_target_share():
    cands = [cand(1, 85, subject="语文"), cand(2, 84, subject="数学"), cand(3, 80, subject="物理"),
             cand(4, 79, subject="化学")]
    p = propose(cands, limits(subject=QuotaLimit(2)), bonuses=[TargetBonus(TargetShare("subject", SCIENCE, 50), 10)])
    # 物理+化学 earns the bonus once (50 % of 2 is 1 pick): 159 + 10 < 语文+物理 165 + 10.
    assert ids(p.chosen) == [1, 3]
    assert (p.total_score, p.bonus) == (Decimal(165), Decimal(10))


# --- the admin's adjustments, vetoes ------------------------------------------------------------------------
def test_forced_in_and_out_and_vetoed():
    cands = [cand(1, 99, node=1), cand(2, 98, node=2, vetoed=True), cand(3, 97, node=3), cand(4, 50, node=4),
             cand(5, 40, node=5)]
    p = propose(cands, limits(subject=QuotaLimit(2)), force_in={5}, force_out={1})
    assert ids(p.chosen) == [3, 5]
    assert why(p) == {1: ("forced", "管理员已调整为不推荐"), 2: ("veto", "评审一票否决，不予推荐"),
                      4: ("quota", "超出学科课程名额 2/2")}


@pytest.mark.parametrize("force_in, force_out, message", [
    ({1, 2, 3}, (), "强制推荐的作品超出名额：学科课程 已推荐 3/2。请减少强制推荐的作品。"),
    ({1}, {1}, "同一作品不能既强制推荐又强制排除：《课1》。"),
    ({99}, (), "强制调整的作品不在候选名单中（编号 99）。"),
    ({4}, (), "作品《课4》在评审中被一票否决，不能强制推荐。"),
])
def test_impossible_adjustments_are_refused(force_in, force_out, message):
    cands = [cand(1, 90, node=1), cand(2, 80, node=2), cand(3, 70, node=3), cand(4, 60, node=4, vetoed=True)]
    with pytest.raises(ServiceError) as err:
        propose(cands, limits(subject=QuotaLimit(2)), force_in=force_in, force_out=force_out)
    assert err.value.message == message


def test_forced_entries_that_break_a_share_cap_are_refused():
    cands = [cand(1, 90, "special", "生活适应"), cand(2, 80, "special", "美术")]
    with pytest.raises(ServiceError) as err:
        propose(cands, limits(special=QuotaLimit(1)), caps=[SPECIAL_CAP], force_in={1})
    assert err.value.message == ("强制推荐的作品使学科占比上限无法满足：特殊教育中 语文+数学+生活适应 合计 1/1，当前 100 %，"
                                 "上限 80 %。请减少强制推荐的作品。")


# --- ties, status -----------------------------------------------------------------------------------------
def test_ties_go_to_the_better_ranked_entry_in_the_given_order():
    a, b = cand(1, 90, node=1), cand(2, "90.00", node=2)
    lf = limits(subject=QuotaLimit(1))
    assert ids(propose([a, b], lf).chosen) == [1]
    assert ids(propose([b, a], lf).chosen) == [2]
    # Candidates come sorted by score, equal scores keep the given order.
    assert ids(propose([cand(3, 70), b, a], limits()).chosen) == [2, 1, 3]


def test_ties_prefer_the_better_ranked_set_of_equal_total():
    # {1, 4} and {2, 3} both total 180; 1 and 2 share a node, 3 and 4 share another.
    cands = [cand(1, 90, node=1), cand(2, 90, node=1), cand(3, 90, node=2), cand(4, 90, node=2)]
    p = propose(cands, limits())
    assert ids(p.chosen) == [1, 3]
    assert why(p) == {2: ("node", "同一目录节点已有更高分作品《课1》"), 4: ("node", "同一目录节点已有更高分作品《课3》")}


def test_scores_are_scaled_to_hundredths_and_the_status_is_stated():
    p = propose([cand(1, "88.125", node=1), cand(2, 71.3, node=2)], limits())
    assert p.total_score == Decimal("159.43")
    assert p.status_text() == "求解状态：OPTIMAL（已证明为最优解）。推荐 2 门，总分 159.43，目标占比加分 0。"


def test_a_proposal_not_proved_optimal_says_so():
    p = Proposal((), (), "FEASIBLE", Decimal("90.5"), Decimal(0), 30.0)
    assert not p.optimal
    assert p.status_text() == "求解状态：FEASIBLE（在时限内找到可行方案，但未证明最优）。推荐 0 门，总分 90.5。"


def test_the_same_input_gives_the_same_proposal():
    cands = [cand(i, 80 + i % 3, subject=("语文", "物理")[i % 2], node=i % 7) for i in range(40)]
    runs = [propose(cands, limits(subject=QuotaLimit(6)), bonuses=[TargetBonus(TargetShare("subject", SCIENCE), 1)])
            for _ in range(3)]
    assert len({(r.chosen, r.left_out, r.status) for r in runs}) == 1


def test_empty():
    p = propose([], limits())
    assert (p.chosen, p.left_out, p.status) == ((), (), "OPTIMAL")


def test_exact_reductions_keep_the_optimum_of_a_large_unit():
    # 300 entries over 40 nodes, quotas far below: the reduced model must still find the best.
    cands = [cand(i, 60 + (i * 37) % 41, subject=("语文", "物理")[i % 2], node=i % 40) for i in range(300)]
    lf = limits(subject=QuotaLimit(12))
    p = propose(cands, lf, bonuses=[TargetBonus(TargetShare("subject", SCIENCE, 50), 3)])
    best_per_node: dict = {}
    for c in sorted(cands, key=lambda c: -scaled(c.score)):
        best_per_node.setdefault((c.node_id, c.subject), c)
    assert len(p.chosen) == 12
    assert_valid(p, lf)
    # At best 12 node-best entries; the bonus makes at least 6 of them 物理 (50 %).
    phys = sorted((scaled(c.score) for k, c in best_per_node.items() if k[1] == "物理"), reverse=True)
    chin = sorted((scaled(c.score) for k, c in best_per_node.items() if k[1] == "语文"), reverse=True)
    best = max(sum(phys[:k]) + sum(chin[:12 - k]) + 300 * min(k, 6) for k in range(13))
    assert scaled(p.objective) == best


# --- from the review's ranking ---------------------------------------------------------------------------
def test_candidates_come_from_the_ranking_in_its_order_with_its_tie_breaks():
    entries = [agg.Entry(1, "subject", "语文", "课1"), agg.Entry(2, "subject", "物理", "课2"),
               agg.Entry(3, "subject", "语文", "课3"), agg.Entry(4, "special", "生活适应", "课4"),
               agg.Entry(5, "subject", "数学", "课5")]
    scores = [agg.Score(1, 1, 80), agg.Score(2, 1, 90),  # mean 85, median 85, SD 5
              agg.Score(1, 2, 85), agg.Score(2, 2, 85),  # mean 85, SD 0: ranks above entry 1
              agg.Score(1, 3, 70), agg.Score(2, 3, 71),
              agg.Score(1, 4, 95), agg.Score(2, 4, 90, vetoed=True, veto_reason="科学性错误")]
    groups = agg.rank(entries, agg.aggregate(scores))
    cands = candidates_from_ranking(groups, nodes={1: 10, 3: 10}, units={1: "一中"})
    assert [(c.entry_id, c.score, c.node_id, c.unit, c.vetoed) for c in cands] == [
        (2, "85.00", None, "", False), (1, "85.00", 10, "一中", False), (3, "70.50", 10, "", False),
        (4, "0.00", None, "", True)]  # entry 5 has no score: not a candidate
    p = propose(cands, limits(subject=QuotaLimit(1)))
    assert ids(p.chosen) == [2]
    assert why(p) == {1: ("quota", "超出学科课程名额 1/1"), 3: ("quota", "超出学科课程名额 1/1"),
                      4: ("veto", "评审一票否决，不予推荐")}


# --- against brute force ---------------------------------------------------------------------------------
SUBJECTS = ("语文", "数学", "生活适应", "美术", "物理")


@st.composite
def instances(draw):
    n = draw(st.integers(0, 12))
    cands = [Candidate(i, f"课{i}", draw(st.sampled_from([60, 75, "75.5", 80, 90, 100])),
                       draw(st.sampled_from(["subject", "special"])), draw(st.sampled_from(SUBJECTS)),
                       draw(st.one_of(st.none(), st.integers(1, 5))), vetoed=draw(st.booleans()) and draw(st.booleans()))
             for i in range(1, n + 1)]
    quota = {cat: draw(st.one_of(st.none(), st.builds(QuotaLimit, st.integers(0, 5), st.just(""), st.booleans())))
             for cat in ("subject", "special")}
    subject_rows = {("subject", s): QuotaLimit(draw(st.integers(0, 3)), s)
                    for s in draw(st.sets(st.sampled_from(SUBJECTS), max_size=2))}

    def limit_for(category, subject):  # every applicable row: the subject row inside the category row
        return [q for q in (subject_rows.get((category, subject)), quota[category]) if q is not None]

    caps = [ShareCap("special", ("语文", "数学", "生活适应"), draw(st.sampled_from([50, 80])))] if draw(st.booleans()) else []
    bonuses = [TargetBonus(TargetShare("subject", ("物理", "美术"), draw(st.sampled_from([None, 30, 50]))),
                           draw(st.sampled_from([1, "2.5", 20])))] if draw(st.booleans()) else []
    eligible = [c.entry_id for c in cands]
    force_in = draw(st.sets(st.sampled_from(eligible), max_size=2)) if eligible else set()
    force_out = draw(st.sets(st.sampled_from(eligible), max_size=2)) - force_in if eligible else set()
    return cands, limit_for, caps, bonuses, force_in, force_out


def brute_force(cands, limit_for, caps, bonuses, force_in, force_out):
    """The best (score + bonus, rank weight) over every set the workflow's rules accept, or None."""
    order = sorted(cands, key=lambda c: -scaled(c.score))
    n = len(order)
    best = None

    def value(chosen):
        picks = [c.pick() for c in chosen]
        primary = sum(scaled(c.score) for c in chosen)
        for b in bonuses:
            in_cat = [p for p in picks if p.category == b.target.category]
            inside = sum(1 for p in in_cat if p.subject in b.target.subjects)
            if b.target.min_percent is not None:
                inside = min(inside, -(-b.target.min_percent * len(in_cat) // 100))
            primary += scaled(b.points) * inside
        return primary, sum(n - i for i, c in enumerate(order) if c in chosen)

    def walk(i, chosen):
        nonlocal best
        if i == n:
            if rules.share_decision([c.pick() for c in chosen], caps).ok:
                v = value(chosen)
                best = v if best is None or v > best else best
            return
        c = order[i]
        if c.entry_id not in force_in:
            walk(i + 1, chosen)
        if c.entry_id in force_out or c.vetoed:
            return
        picks = [p.pick() for p in chosen + [c]]
        # Quota and node rules are hereditary (a subset of a valid set is valid): checking each
        # grown set visits every valid set. Quotas: the workflow's definition of a valid set (every
        # row that applies to every pick: a subject row and the category-wide row it sits inside).
        if not rules.quota_violations(picks, limit_for) \
                and all(rules.node_decision(picks, p, NodeRule.BLOCK).ok for p in picks):
            walk(i + 1, chosen + [c])

    walk(0, [])
    return best


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_proposal_matches_brute_force(instance):
    cands, limit_for, caps, bonuses, force_in, force_out = instance
    note(f"{cands=}\nquotas={[(c, s, limit_for(c, s)) for c in ('subject', 'special') for s in SUBJECTS]}\n"
         f"{caps=}\n{bonuses=}\n{force_in=} {force_out=}")
    best = brute_force(*instance)
    if best is None or any(c.vetoed for c in cands if c.entry_id in force_in):
        with pytest.raises(ServiceError):
            propose(cands, limit_for, caps=caps, bonuses=bonuses, force_in=force_in, force_out=force_out)
        return
    p = propose(cands, limit_for, caps=caps, bonuses=bonuses, force_in=force_in, force_out=force_out)
    assert p.optimal
    assert_valid(p, limit_for, caps)
    assert set(force_in) <= set(ids(p.chosen)) and not set(force_out) & set(ids(p.chosen))
    order = sorted(cands, key=lambda c: -scaled(c.score))
    rank_weight = sum(len(order) - i for i, c in enumerate(order) if c in p.chosen)
    assert (scaled(p.objective), rank_weight) == best
    assert p.objective * SCALE == scaled(p.total_score) + scaled(p.bonus)
    # Every candidate is either chosen or explained, once.
    assert sorted(ids(p.chosen) + [o.candidate.entry_id for o in p.left_out]) == sorted(ids(cands))
    # Each explanation names a rule the workflow itself would break by adding the entry.
    picks = p.picks()
    for o in p.left_out:
        new = o.candidate.pick()
        if o.rule == "node":
            assert not rules.node_decision(picks, new, NodeRule.BLOCK).ok
        elif o.rule == "quota":
            assert rules.quota_violations(picks + [new], limit_for) != []
        elif o.rule == "share":
            assert not rules.share_decision(picks + [new], caps).ok
        else:
            assert (o.rule, o.candidate.entry_id in force_out, o.candidate.vetoed) in (
                ("forced", True, o.candidate.vetoed), ("veto", False, True))


def test_a_subject_row_is_a_sub_limit_inside_the_category_quota():
    """学科课程 5, of which 数学 at most 3: each left-out entry names the row that binds it."""
    cands = [cand(i, 100 - i, subject="数学", node=i) for i in range(1, 5)] + \
        [cand(i, 100 - i, subject="语文", node=i) for i in range(5, 8)]
    lf = lambda category, subject: [QuotaLimit(3, "数学")] * (subject == "数学") + [QuotaLimit(5)]  # noqa: E731
    p = propose(cands, lf)
    assert ids(p.chosen) == [1, 2, 3, 5, 6]
    assert why(p) == {4: ("quota", "超出学科课程（数学）名额 3/3"), 7: ("quota", "超出学科课程名额 5/5")}
    assert_valid(p, lf)


def test_the_category_quota_binds_picks_that_have_a_subject_row_of_their_own():
    """学科课程 2, 数学 3: three 数学 entries alone still fill the category at 2."""
    cands = [cand(i, 100 - i, subject="数学", node=i) for i in range(1, 4)]
    lf = lambda category, subject: [QuotaLimit(3, "数学")] * (subject == "数学") + [QuotaLimit(2)]  # noqa: E731
    p = propose(cands, lf)
    assert ids(p.chosen) == [1, 2]
    assert why(p) == {3: ("quota", "超出学科课程名额 2/2")}
    assert_valid(p, lf)
