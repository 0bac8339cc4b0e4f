"""Reviewer assignment (pure): hard N, load caps, every conflict kind, matching, balance, fixed pairs,
shortages with their exact reasons, manual moves, and the solver against brute force."""

import itertools
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from review.assignment import (
    ADD,
    MOVE,
    REMOVE,
    Entry,
    Expert,
    Move,
    Problem,
    check_move,
    solve,
    violations,
)


def entry(i, subject="物理", stage="junior", school=100, county=10, members=(), title=None):
    return Entry(i, subject, stage, school, county, frozenset(members), title if title is not None else f"课{i}")


def expert(i, subjects=("物理",), stages=("junior",), load=10, school=None, county=None, user=None, name=None):
    return Expert(i, user if user is not None else 1000 + i, frozenset(subjects), frozenset(stages), load,
                  school, county, name if name is not None else f"专家{i}")


def problem(entries, experts, n=2, above_county=True, conflicts=()):
    return Problem(tuple(entries), tuple(experts), n, above_county, frozenset(conflicts))


def per_entry(pairs):
    return Counter(e for _x, e in pairs)


# --- hard N, loads, balance -------------------------------------------------------------------------
def test_every_entry_gets_exactly_n_and_loads_are_even():
    p = problem([entry(i) for i in range(1, 7)], [expert(i) for i in range(1, 5)], n=2)
    result = solve(p)
    assert result.complete
    assert per_entry(result.pairs) == {i: 2 for i in range(1, 7)}
    assert dict(result.loads) == {1: 3, 2: 3, 3: 3, 4: 3}
    assert violations(p, result.pairs) == []
    assert result.new_pairs == result.pairs


def test_balance_leaves_max_minus_min_at_most_one():
    p = problem([entry(i) for i in range(1, 6)], [expert(i) for i in range(1, 5)], n=2)
    result = solve(p)
    assert sorted(result.loads.values()) == [2, 2, 3, 3]


def test_balance_uses_the_free_expert_of_a_shared_pool():
    # Expert 1 is the only one for 化学; for 物理 the solver should lean on 2 and 3, not on 1.
    entries = [entry(1, "化学"), entry(2, "化学"), entry(3), entry(4)]
    experts = [expert(1, ("物理", "化学")), expert(2), expert(3)]
    result = solve(problem(entries, experts, n=1))
    assert dict(result.loads) == {1: 2, 2: 1, 3: 1}
    assert {(1, 1), (1, 2)} <= set(result.pairs)


def test_load_caps_are_never_exceeded():
    experts = [expert(1, load=1), expert(2, load=5), expert(3, load=5)]
    result = solve(problem([entry(i) for i in range(1, 5)], experts, n=2))
    assert result.complete
    assert dict(result.loads) == {1: 1, 2: 4, 3: 3} or dict(result.loads) == {1: 1, 2: 3, 3: 4}


def test_the_same_input_gives_the_same_assignment_and_a_huge_limit_is_cheap():
    entries = [entry(i, county=i % 3) for i in range(1, 30)]
    experts = [expert(i, county=i % 3, load=10**9) for i in range(1, 8)]
    first, second = solve(problem(entries, experts, n=3)), solve(problem(entries, experts, n=3))
    assert first == second
    assert first.complete and sorted(first.loads.values()) == [12, 12, 12, 12, 13, 13, 13]


def test_subject_and_stage_must_match():
    entries = [entry(1, "物理", "junior"), entry(2, "化学", "junior"), entry(3, "物理", "senior")]
    experts = [expert(1, ("物理",), ("junior",)), expert(2, ("化学",), ("junior", "senior")),
               expert(3, ("物理", "化学"), ("senior",))]
    result = solve(problem(entries, experts, n=1))
    assert result.pairs == ((1, 1), (2, 2), (3, 3))


# --- conflicts --------------------------------------------------------------------------------------
@pytest.mark.parametrize("conflicting, conflicts", [
    (expert(3, school=100), ()),  # same school
    (expert(3, county=10), ()),  # same county, round above county level
    (expert(3, user=501), ()),  # team member
    (expert(3, user=500), ()),  # lead teacher
    (expert(3), {(3, 1)}),  # declared
])
def test_each_conflict_kind_keeps_the_expert_off_the_entry(conflicting, conflicts):
    p = problem([entry(1, members=(500, 501))], [expert(1), expert(2), conflicting], n=2, conflicts=conflicts)
    assert solve(p).pairs == ((1, 1), (2, 1))


def test_same_county_is_allowed_at_county_level():
    p = problem([entry(1)], [expert(1, county=10)], n=1, above_county=False)
    assert solve(p).pairs == ((1, 1),)
    p = problem([entry(1)], [expert(1, county=10)], n=1, above_county=True)
    assert solve(p).pairs == ()


def test_unknown_school_or_county_is_no_conflict():
    p = problem([entry(1, school=None, county=None)], [expert(1), expert(2, school=None, county=None)], n=2)
    assert solve(p).pairs == ((1, 1), (2, 1))


# --- fixed pairs ------------------------------------------------------------------------------------
def test_fixed_pairs_are_kept_and_count_towards_n_and_load():
    # Balance alone would spread the 4 pairs over 4 experts; expert 4 keeps his 2 locked entries.
    p = problem([entry(i) for i in range(1, 5)], [expert(1), expert(2), expert(3), expert(4, load=2)], n=1)
    result = solve(p, fixed=[(4, 1), (4, 2)])
    assert set(result.pairs) - set(result.new_pairs) == {(4, 1), (4, 2)}
    assert sorted(e for _x, e in result.new_pairs) == [3, 4]
    assert sorted(result.loads.values()) == [0, 1, 1, 2] and result.loads[4] == 2


def test_a_fixed_pair_that_breaks_a_rule_stays_and_is_reported():
    p = problem([entry(1)], [expert(1, school=100, name="王专家"), expert(2)], n=2)
    result = solve(p, fixed=[(1, 1)])
    assert result.pairs == ((1, 1), (2, 1))
    assert result.warnings == ("已锁定的分配不符合规则：王专家 与《课1》同校，须回避；请选择其他学校的专家。",)


def test_fixed_pairs_beyond_n_or_load_are_reported():
    p = problem([entry(1)], [expert(1, load=0), expert(2)], n=1)
    result = solve(p, fixed=[(1, 1), (2, 1)])
    assert result.pairs == ((1, 1), (2, 1))
    assert result.warnings == ("专家1 已锁定的评审作品有 1 件，超过其评审上限 0 件。",
                               "《课1》已锁定的评审专家有 2 位，多于每件作品 1 位。")


def test_fixed_pair_with_an_unknown_id_is_a_programming_error():
    with pytest.raises(ValueError):
        solve(problem([entry(1)], [expert(1)], n=1), fixed=[(9, 1)])


# --- shortages --------------------------------------------------------------------------------------
def test_shortage_names_the_school_conflict():
    entries = [entry(1, title="光的折射")]
    experts = [expert(1, school=100), expert(2)]
    result = solve(problem(entries, experts, n=2))
    assert result.pairs == ((2, 1),)
    assert not result.complete
    (s,) = result.shortages
    assert (s.entry_id, s.missing, s.matching, s.excluded, s.eligible, s.assigned, s.at_limit) == (
        1, 1, 2, (("school", 1),), 1, 1, 0)
    assert s.message == ("《光的折射》缺少 1 位评审专家：学科 物理、学段 初中 的专家共 2 位，其中 1 位与作品同校，"
                         "符合条件的 1 位都已分配；请添加学科 物理、学段 初中 的专家。")


def test_shortage_when_no_expert_has_the_subject_and_stage():
    result = solve(problem([entry(1, "生物", "senior", title="细胞")], [expert(1)], n=3))
    assert result.pairs == ()
    assert [s.message for s in result.shortages] == [
        "《细胞》缺少 3 位评审专家：没有学科 生物、学段 高中 的专家；请添加学科 生物、学段 高中 的专家。"]


def test_shortage_counts_every_reason_once():
    entries = [entry(1, members=(1001,), title="浮力")]
    experts = [expert(1, school=100),  # team member and same school: counted as team member
               expert(2, school=100), expert(3, county=10), expert(4), expert(5)]
    result = solve(problem(entries, experts, n=3, conflicts={(4, 1)}))
    assert result.pairs == ((5, 1),)
    assert [s.message for s in result.shortages] == [
        "《浮力》缺少 2 位评审专家：学科 物理、学段 初中 的专家共 5 位，其中 1 位是作品的主讲教师或团队成员、"
        "1 位与作品同校、1 位与作品同县（区）（县级以上评审须回避）、1 位已声明回避，"
        "符合条件的 1 位都已分配；请添加学科 物理、学段 初中 的专家。"]
    assert result.shortages[0].excluded == (("team", 1), ("school", 1), ("county", 1), ("declared", 1))


def test_shortage_when_every_matching_expert_must_stand_aside():
    result = solve(problem([entry(1, title="杠杆")], [expert(1, school=100), expert(2, county=10)], n=1))
    assert [s.message for s in result.shortages] == [
        "《杠杆》缺少 1 位评审专家：学科 物理、学段 初中 的专家共 2 位，其中 1 位与作品同校、"
        "1 位与作品同县（区）（县级以上评审须回避），没有可评审的专家；请添加学科 物理、学段 初中 的专家。"]


def test_shortage_when_the_eligible_experts_are_at_their_limit():
    # Two experts can take 3 entries in all; 2 entries × N=2 need 4 pairs: one entry is short by 1.
    entries = [entry(1, title="甲"), entry(2, title="乙")]
    result = solve(problem(entries, [expert(1, load=2), expert(2, load=1)], n=2))
    assert len(result.pairs) == 3
    assert dict(result.loads) == {1: 2, 2: 1}
    (s,) = result.shortages
    title = {1: "甲", 2: "乙"}[s.entry_id]
    assert s.message == (f"《{title}》缺少 1 位评审专家：学科 物理、学段 初中 的专家共 2 位，符合条件的 2 位专家中 "
                         "1 位已分配，其余 1 位均已达到评审上限；请提高他们的评审上限或添加学科 物理、学段 初中 的专家。")


def test_shortage_when_all_eligible_experts_are_full():
    entries = [entry(1, title="甲"), entry(2, title="乙")]
    result = solve(problem(entries, [expert(1, load=1)], n=1), fixed=[(1, 1)])
    assert result.pairs == ((1, 1),)
    assert [s.message for s in result.shortages] == [
        "《乙》缺少 1 位评审专家：学科 物理、学段 初中 的专家共 1 位，符合条件的 1 位专家均已达到评审上限；"
        "请提高他们的评审上限或添加学科 物理、学段 初中 的专家。"]


def test_partial_assignment_is_the_largest_possible():
    # Expert 1 could serve 物理 or 化学; only he serves 化学, so the solver must give him 化学.
    entries = [entry(1, "物理"), entry(2, "化学")]
    experts = [expert(1, ("物理", "化学"), load=1), expert(2, ("物理",), load=1)]
    result = solve(problem(entries, experts, n=1))
    assert result.pairs == ((1, 2), (2, 1))
    assert result.complete
    # With N = 2 both entries stay one short: two pairs is the most the rules allow.
    result = solve(problem(entries, experts, n=2))
    assert len(result.pairs) == 2
    assert sum(s.missing for s in result.shortages) == 2


# --- manual moves -----------------------------------------------------------------------------------
@pytest.fixture
def round_():
    entries = [entry(1, members=(1009,), title="光的折射"), entry(2, title="浮力")]
    experts = [expert(1, name="张专家"), expert(2, name="李专家"), expert(3, load=1, name="赵专家"),
               expert(4, school=100, name="钱专家"), expert(5, county=10, name="孙专家"),
               expert(6, ("化学",), name="周专家"), expert(7, stages=("senior",), name="吴专家"),
               expert(8, name="郑专家"), expert(9, name="王专家")]
    p = problem(entries, experts, n=2, conflicts={(8, 1)})
    return p, {(1, 1), (2, 1), (3, 2)}


def test_check_move_add(round_):
    p, pairs = round_
    assert check_move(p, pairs, Move(ADD, 2, 1)).ok
    d = check_move(p, pairs, Move(ADD, 1, 8))
    assert (d.ok, d.rule) == (False, "full")
    assert d.message == "《光的折射》已有 2 位评审专家（每件作品 2 位）；请先移除一位，或改用调整。"
    d = check_move(p, pairs, Move(ADD, 2, 3))
    assert (d.ok, d.message) == (False, "赵专家 已在评审《浮力》。")


@pytest.mark.parametrize("expert_id, rule, message", [
    (4, "school", "钱专家 与《浮力》同校，须回避；请选择其他学校的专家。"),
    (5, "county", "孙专家 与《浮力》同属一个县（区），县级以上评审须回避；请选择其他县（区）的专家。"),
    (6, "subject", "周专家 的评审学科为 化学，不能评审学科 物理 的《浮力》；请选择该学科的专家。"),
    (7, "stage", "吴专家 的评审学段为 高中，不能评审学段 初中 的《浮力》；请选择该学段的专家。"),
])
def test_check_move_add_refuses_each_rule(round_, expert_id, rule, message):
    p, pairs = round_
    d = check_move(p, pairs, Move(ADD, 2, expert_id))
    assert (d.ok, d.rule, d.message) == (False, rule, message)


def test_check_move_refuses_team_member_declared_conflict_and_full_load(round_):
    p, pairs = round_
    pairs = {(3, 2)}
    d = check_move(p, pairs, Move(ADD, 1, 9))
    assert (d.rule, d.message) == ("team", "王专家 是《光的折射》的主讲教师或团队成员，须回避；请选择其他专家。")
    d = check_move(p, pairs, Move(ADD, 1, 8))
    assert (d.rule, d.message) == ("declared", "郑专家 已声明与《光的折射》有利益关系，须回避；请选择其他专家。")
    d = check_move(p, pairs, Move(ADD, 1, 3))
    assert (d.rule, d.message) == ("load", "赵专家 已分配 1 件作品，达到评审上限 1 件；请选择其他专家或提高其上限。")


def test_same_county_add_is_allowed_at_county_level(round_):
    p, pairs = round_
    county_round = problem(p.entries, p.experts, n=2, above_county=False)
    assert check_move(county_round, pairs, Move(ADD, 2, 5)).ok


def test_check_move_remove(round_):
    p, pairs = round_
    d = check_move(p, pairs, Move(REMOVE, 1, 1))
    assert d.ok and d.warnings == ("移除后《光的折射》只有 1 位评审专家，发布前须补足 2 位。",)
    d = check_move(p, pairs, Move(REMOVE, 1, 1), locked={(1, 1)})
    assert (d.ok, d.rule, d.message) == (
        False, "locked", "张专家 评审《光的折射》的分配已锁定（已发布或已开始评分），不能移除或调整。")
    d = check_move(p, pairs, Move(REMOVE, 2, 1))
    assert (d.ok, d.message) == (False, "张专家 没有被分配评审《浮力》。")


def test_check_move_move(round_):
    p, pairs = round_
    assert check_move(p, pairs, Move(MOVE, 1, 1, to_expert_id=9)).ok is False  # 王专家 is on the team
    d = check_move(p, pairs, Move(MOVE, 2, 3, to_expert_id=1))
    assert (d.ok, d.warnings) == (True, ())
    d = check_move(p, pairs, Move(MOVE, 1, 1, to_expert_id=2))
    assert (d.ok, d.message) == (False, "李专家 已在评审《光的折射》。")
    d = check_move(p, pairs, Move(MOVE, 1, 1, to_expert_id=3))
    assert (d.ok, d.rule) == (False, "load")
    d = check_move(p, pairs, Move(MOVE, 1, 1, to_expert_id=4))
    assert (d.ok, d.rule) == (False, "school")
    d = check_move(p, pairs, Move(MOVE, 2, 3, to_expert_id=1), locked={(3, 2)})
    assert (d.ok, d.rule) == (False, "locked")


def test_check_move_unknown_ids(round_):
    p, pairs = round_
    assert check_move(p, pairs, Move(ADD, 99, 1)).message == "该作品不在本轮评审中。"
    assert check_move(p, pairs, Move(ADD, 1, 99)).message == "该专家不在本轮评审的专家库中。"
    assert check_move(p, pairs, Move(MOVE, 1, 1, to_expert_id=99)).message == "该专家不在本轮评审的专家库中。"


def test_violations_lists_every_broken_rule(round_):
    p, _pairs = round_
    assert violations(p, {(4, 2), (1, 1), (2, 1)}) == [
        "钱专家 与《浮力》同校，须回避；请选择其他学校的专家。",
        "《浮力》有 1 位评审专家，应为 2 位。",
    ]


# --- property tests against brute force -------------------------------------------------------------
SUBJECTS, STAGES = ("语文", "数学"), ("primary", "junior")


@st.composite
def instances(draw):
    n_entries = draw(st.integers(1, 4))
    n_experts = draw(st.integers(1, 4))
    experts = [
        Expert(x, 100 + x,
               frozenset(draw(st.sets(st.sampled_from(SUBJECTS), min_size=1))),
               frozenset(draw(st.sets(st.sampled_from(STAGES), min_size=1))),
               draw(st.integers(0, 3)),
               draw(st.sampled_from([None, 1, 2, 3])), draw(st.sampled_from([None, 1, 2])))
        for x in range(1, n_experts + 1)]
    entries = [
        Entry(e, draw(st.sampled_from(SUBJECTS)), draw(st.sampled_from(STAGES)),
              draw(st.sampled_from([None, 1, 2, 3])), draw(st.sampled_from([None, 1, 2])),
              frozenset(draw(st.sets(st.integers(101, 100 + n_experts), max_size=2))))
        for e in range(1, n_entries + 1)]
    all_pairs = [(x, e) for x in range(1, n_experts + 1) for e in range(1, n_entries + 1)]
    conflicts = draw(st.sets(st.sampled_from(all_pairs), max_size=3))
    p = Problem(tuple(entries), tuple(experts), draw(st.integers(1, 2)), draw(st.booleans()), frozenset(conflicts))
    # Fixed pairs: valid ones, within N and the loads (as a published round would have them).
    fixed, per_e, per_x = [], Counter(), Counter()
    for x, e in draw(st.lists(st.sampled_from(all_pairs), max_size=3, unique=True)):
        ex, en = p.expert_by_id[x], p.entry_by_id[e]
        if p.exclusion(ex, en) is None and per_e[e] < p.reviewers_per_entry and per_x[x] < ex.max_load:
            fixed.append((x, e))
            per_e[e] += 1
            per_x[x] += 1
    return p, fixed


def brute_force(p, fixed):
    """(most pairs possible, least sum of squared loads among those), by trying every choice."""
    fixed_set = set(fixed)
    options = []
    for en in p.entries:
        taken = {x for x, e in fixed if e == en.id}
        free = [x.id for x in p.experts if x.id not in taken and p.exclusion(x, en) is None]
        need = p.reviewers_per_entry - len(taken)
        options.append([(en.id, c) for k in range(need + 1) for c in itertools.combinations(free, k)])
    best = (-1, 0)
    for choice in itertools.product(*options):
        loads = Counter(x for x, _e in fixed_set)
        for _e, chosen in choice:
            loads.update(chosen)
        if any(loads[x.id] > x.max_load for x in p.experts):
            continue
        pairs = len(fixed_set) + sum(len(c) for _e, c in choice)
        square = sum(v * v for v in loads.values())
        if pairs > best[0] or (pairs == best[0] and square < best[1]):
            best = (pairs, square)
    return best


@settings(max_examples=150, deadline=None)
@given(instances())
def test_solver_is_valid_maximal_and_balanced_like_brute_force(instance):
    p, fixed = instance
    result = solve(p, fixed)
    assert set(fixed) <= set(result.pairs)
    assert len(set(result.pairs)) == len(result.pairs)
    for x, e in result.pairs:
        assert p.exclusion(p.expert_by_id[x], p.entry_by_id[e]) is None
    counts = per_entry(result.pairs)
    assert all(counts[e.id] <= p.reviewers_per_entry for e in p.entries)
    loads = Counter(x for x, _e in result.pairs)
    assert all(loads[x.id] <= x.max_load for x in p.experts)
    assert dict(result.loads) == {x.id: loads[x.id] for x in p.experts}

    most, least_square = brute_force(p, fixed)
    assert len(result.pairs) == most
    assert sum(v * v for v in loads.values()) == least_square
    full = len(p.entries) * p.reviewers_per_entry
    assert result.complete == (most == full)
    assert result.complete == (violations(p, result.pairs) == [])
    assert sorted(s.entry_id for s in result.shortages) == sorted(e.id for e in p.entries
                                                                  if counts[e.id] < p.reviewers_per_entry)
    for s in result.shortages:
        assert s.missing == p.reviewers_per_entry - counts[s.entry_id]
        # Every eligible expert not on a short entry is at his limit: the message's claim holds.
        en = p.entry_by_id[s.entry_id]
        free = [x for x in p.experts if p.exclusion(x, en) is None and (x.id, en.id) not in result.pairs]
        assert all(loads[x.id] >= x.max_load for x in free)
        assert s.at_limit == len(free)
    # check_move applies the same rules: each proposed pair could have been added by hand.
    pairs = set(result.pairs)
    for x, e in result.new_pairs:
        assert check_move(p, pairs - {(x, e)}, Move(ADD, e, x)).ok
        assert check_move(p, pairs, Move(REMOVE, e, x), locked=fixed).ok
    for x, e in fixed:
        assert check_move(p, pairs, Move(REMOVE, e, x), locked=fixed).rule == "locked"
