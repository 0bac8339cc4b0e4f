"""The awards mode of the proposal, pure: award numbers as quota rows (category, and subject
sub-limits), the wording of the explanations, input checks, and a property test against brute force
(the workflow's own rule functions judge every set)."""

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from jingpinke.errors import ServiceError
from review.proposal import AwardCount, Candidate, award_limit_for, clean_award_counts, propose, scaled
from review.tests.test_proposal import SPECIAL_CAP, SUBJECTS, assert_valid, brute_force, cand, ids, why
from selection import rules
from selection.rules import ShareCap

CATEGORIES = ("subject", "special", "experiment")


def test_category_number_with_a_subject_sub_limit_and_award_wording():
    cands = [cand(1, 95, subject="数学", node=1), cand(2, 94, subject="数学", node=2), cand(3, 90, node=3),
             cand(4, 89, node=3), cand(5, 80, node=5, vetoed=True), cand(6, 70, node=6)]
    lf = award_limit_for([AwardCount("subject", "", 3), AwardCount("subject", "数学", 1)])
    p = propose(cands, lf, award=True, force_out={6: "与去年重复"})
    assert ids(p.chosen) == [1, 3]
    assert why(p) == {2: ("quota", "超出学科课程（数学）荣誉名额 1/1"), 4: ("node", "同一目录节点已有更高分作品《课3》"),
                      5: ("veto", "评审一票否决，不评本级荣誉"), 6: ("forced", "管理员已调整为不评本级荣誉")}
    assert_valid(p, lf)


def test_a_subject_without_any_number_gets_no_award():
    lf = award_limit_for([AwardCount("subject", "数学", 2)])
    p = propose([cand(1, 90, subject="语文"), cand(2, 80, subject="数学")], lf, award=True)
    assert ids(p.chosen) == [2]
    assert why(p) == {1: ("quota", "超出学科课程（语文）荣誉名额 0/0")}


def test_forced_awards_over_the_number_are_refused_in_award_words():
    lf = award_limit_for([AwardCount("subject", "", 1)])
    with pytest.raises(ServiceError) as exc:
        propose([cand(1, 90), cand(2, 80)], lf, award=True, force_in={1, 2})
    assert exc.value.message == "强制评为本级荣誉的作品超出名额：学科课程 已评 2/1。请减少强制评为本级荣誉的作品。"


def test_clean_award_counts_says_what_to_fix():
    assert clean_award_counts([{"category": "subject", "limit": "3"}, {"category": "subject", "subject": "数学",
                                                                       "limit": 1},
                               {"category": "special", "limit": ""}], CATEGORIES) == [
        AwardCount("subject", "", 3), AwardCount("subject", "数学", 1)]
    cases = [([], "请先填写本级荣誉的数量：每个类别（或类别下的学科）评几门。"),
             ([{"category": "subject", "limit": "-1"}], "学科课程的荣誉数量“-1”无效：请填写 0 到 10000 之间的整数。"),
             ([{"category": "special", "subject": "语文", "limit": "x"}],
              "特殊教育（语文）的荣誉数量“x”无效：请填写 0 到 10000 之间的整数。"),
             ([{"category": "art", "limit": 1}], "本活动没有类别“art”，请检查荣誉数量。"),
             ([{"category": "subject", "limit": 1}, {"category": "subject", "limit": 2}],
              "学科课程的荣誉数量填写了两次，请只保留一个。")]
    for rows, message in cases:
        with pytest.raises(ServiceError) as exc:
            clean_award_counts(rows, CATEGORIES)
        assert exc.value.message == message


# --- against brute force ---------------------------------------------------------------------------------
@st.composite
def award_instances(draw):
    n = draw(st.integers(0, 11))
    blocks = draw(st.booleans())  # the campaign's node rule: block (one per node) or warn (no node limit)
    cands = [Candidate(i, f"课{i}", draw(st.sampled_from([60, 75, "75.5", 80, 90, 100])),
                       draw(st.sampled_from(["subject", "special"])), draw(st.sampled_from(SUBJECTS)),
                       draw(st.one_of(st.none(), st.integers(1, 4))) if blocks else None,
                       vetoed=draw(st.booleans()) and draw(st.booleans()))
             for i in range(1, n + 1)]
    counts = [AwardCount(cat, "", draw(st.integers(0, 5))) for cat in ("subject", "special") if draw(st.booleans())]
    counts += [AwardCount(draw(st.sampled_from(["subject", "special"])), s, draw(st.integers(0, 3)))
               for s in draw(st.sets(st.sampled_from(SUBJECTS), max_size=3))]
    counts = list({(c.category, c.subject): c for c in counts}.values())
    caps = [ShareCap("special", SPECIAL_CAP.subjects, draw(st.sampled_from([50, 80])))] if draw(st.booleans()) else []
    eligible = [c.entry_id for c in cands]
    force_in = draw(st.sets(st.sampled_from(eligible), max_size=2)) if eligible else set()
    force_out = draw(st.sets(st.sampled_from(eligible), max_size=2)) - force_in if eligible else set()
    return cands, counts, caps, force_in, force_out


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(award_instances())
def test_award_proposal_matches_brute_force(instance):
    cands, counts, caps, force_in, force_out = instance
    note(f"{cands=}\n{counts=}\n{caps=}\n{force_in=} {force_out=}")
    lf = award_limit_for(counts)
    best = brute_force(cands, lf, caps, [], force_in, force_out)
    if best is None or any(c.vetoed for c in cands if c.entry_id in force_in):
        with pytest.raises(ServiceError):
            propose(cands, lf, caps=caps, force_in=force_in, force_out=force_out, award=True)
        return
    p = propose(cands, lf, caps=caps, force_in=force_in, force_out=force_out, award=True)
    assert p.optimal
    assert_valid(p, lf, caps)
    assert rules.quota_violations(p.picks(), lf) == []
    assert set(force_in) <= set(ids(p.chosen)) and not set(force_out) & set(ids(p.chosen))
    order = sorted(cands, key=lambda c: -scaled(c.score))
    rank_weight = sum(len(order) - i for i, c in enumerate(order) if c in p.chosen)
    assert (scaled(p.total_score), rank_weight) == best
    assert sorted(ids(p.chosen) + [o.candidate.entry_id for o in p.left_out]) == sorted(ids(cands))
    picks = p.picks()
    for o in p.left_out:
        new = o.candidate.pick()
        if o.rule == "quota":
            assert rules.quota_violations(picks + [new], lf) != []
        elif o.rule == "node":
            assert not rules.node_decision(picks, new, "block").ok
        elif o.rule == "share":
            assert not rules.share_decision(picks + [new], caps).ok
        else:
            assert o.rule in ("forced", "veto")
