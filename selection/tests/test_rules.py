"""The pure selection rules: transitions, quotas, node uniqueness, share caps, targets, deadlines."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from selection import rules
from selection.rules import Action, Pick, QuotaLimit, ShareCap, Situation, State, TargetShare

CST = timezone(timedelta(hours=8))
DEADLINE = datetime(2024, 9, 20, 23, 59, 59, tzinfo=CST)


def pick(i, category="subject", subject="语文", node=None, title=""):
    return Pick(i, category, subject, node if node is not None else 1000 + i, title or f"课{i}")


# --- transitions -------------------------------------------------------------------------------------
@pytest.mark.parametrize("state, action, target", [
    (State.PENDING, Action.RETURN, State.RETURNED),
    (State.PENDING, Action.DECLINE, State.DECLINED),
    (State.PENDING, Action.RECOMMEND, State.RECOMMENDED),
    (State.RECOMMENDED, Action.UNDO, State.PENDING),
    (State.DECLINED, Action.UNDO, State.PENDING),
    (State.RETURNED, Action.RESUBMIT, State.PENDING),
])
def test_allowed_transitions(state, action, target):
    assert rules.transition(state, action, reason="请补充教学设计") == (target, rules.ALLOW)


@given(st.sampled_from([State.PENDING, State.RETURNED, State.RECOMMENDED, State.DECLINED]),
       st.sampled_from([Action.RETURN, Action.DECLINE, Action.RECOMMEND, Action.UNDO, Action.RESUBMIT]))
def test_every_other_transition_is_refused_with_the_state_named(state, action):
    target, decision = rules.transition(state, action, reason="理由")
    if (state, action) in rules._TRANSITIONS:
        assert target is not None and decision.ok
    else:
        assert target is None and not decision.ok
        assert decision.rule == "state"
        assert str(rules.STATE_LABELS[state]) in decision.message


def test_a_return_needs_a_reason():
    target, decision = rules.transition(State.PENDING, Action.RETURN, reason="  ")
    assert target is None and decision.rule == "reason" and "理由" in decision.message


def test_no_undo_once_the_level_above_acted():
    target, decision = rules.transition(State.RECOMMENDED, Action.UNDO, next_level_acted=True)
    assert target is None and "上级已经处理" in decision.message


# --- deadlines and locks -----------------------------------------------------------------------------
def test_deadline_holds_to_the_second_in_beijing_time():
    assert rules.deadline_decision(DEADLINE, DEADLINE, "县级初选推荐").ok
    late = rules.deadline_decision(DEADLINE + timedelta(seconds=1), DEADLINE, "县级初选推荐")
    assert not late.ok and late.rule == "deadline"
    assert late.message.startswith("县级初选推荐已于 2024-09-20 23:59 截止")
    # The same moment written in UTC is judged the same way.
    utc = DEADLINE.astimezone(UTC)
    assert rules.deadline_decision(utc, DEADLINE, "x").ok
    assert not rules.deadline_decision(utc + timedelta(seconds=1), DEADLINE, "x").ok
    assert rules.deadline_decision(DEADLINE + timedelta(days=400), None, "x").ok


def test_a_confirmed_level_is_locked():
    assert rules.lock_decision(False).ok
    locked = rules.lock_decision(True)
    assert not locked.ok and locked.rule == "locked" and "解锁" in locked.message


def test_reopen_needs_a_reason_and_a_future_deadline():
    now = DEADLINE + timedelta(days=1)
    assert rules.reopen_decision(now, now + timedelta(days=3), "补报一节课").ok
    assert rules.reopen_decision(now, now + timedelta(days=3), " ").rule == "reason"
    assert rules.reopen_decision(now, now - timedelta(seconds=1), "补报").rule == "deadline"
    assert rules.reopen_decision(now, None, "补报").rule == "deadline"


# --- quotas ------------------------------------------------------------------------------------------
def test_quota_refusal_gives_the_numbers():
    current = [pick(i, "experiment", "物理") for i in range(10)]
    decision = rules.quota_decision(current, pick(99, "experiment", "化学"), QuotaLimit(10))
    assert not decision.ok and decision.rule == "quota"
    assert "实验教学 已推荐 10/10" in decision.message


def test_quota_counts_only_its_category_and_the_entry_itself_once():
    current = [pick(i, "subject") for i in range(24)] + [pick(50, "experiment", "物理")]
    assert rules.quota_decision(current, pick(99), QuotaLimit(25)).ok
    # Re-checking an entry already in the set does not count it twice.
    full = [pick(i) for i in range(25)]
    assert rules.quota_decision(full, full[0], QuotaLimit(25)).ok
    assert rules.quota_decision(full, pick(99), None).ok


def test_per_subject_quota_counts_each_subject_on_its_own():
    # City-owned schools: 1 per category per subject.
    current = [pick(1, "subject", "语文")]
    per_subject = QuotaLimit(1, per_subject=True)
    assert rules.quota_decision(current, pick(2, "subject", "数学"), per_subject).ok
    refused = rules.quota_decision(current, pick(3, "subject", "语文"), per_subject)
    assert not refused.ok and "学科课程（语文） 已推荐 1/1" in refused.message


@given(st.integers(0, 30), st.integers(0, 30))
def test_quota_allows_exactly_while_below_the_limit(used, limit):
    current = [pick(i) for i in range(used)]
    assert rules.quota_decision(current, pick(999), QuotaLimit(limit)).ok == (used < limit)


@given(st.lists(st.sampled_from(["语文", "数学", "英语"]), max_size=20), st.integers(1, 5))
def test_adding_picks_one_by_one_never_exceeds_the_quota(subjects, limit):
    accepted = []
    for i, subject in enumerate(subjects):
        if rules.quota_decision(accepted, pick(i, subject=subject), QuotaLimit(limit)).ok:
            accepted.append(pick(i, subject=subject))
    assert len(accepted) == min(limit, len(subjects))


# --- one course per node -----------------------------------------------------------------------------
def test_same_node_is_blocked_with_the_other_course_named():
    current = [pick(1, node=7, title="秋天")]
    decision = rules.node_decision(current, pick(2, node=7), "block")
    assert not decision.ok and decision.rule == "node" and "《秋天》" in decision.message
    assert rules.node_decision(current, pick(3, node=8), "block").ok


def test_same_node_in_warn_mode_needs_a_reason_then_passes_with_a_warning():
    current = [pick(1, node=7, title="秋天")]
    asked = rules.node_decision(current, pick(2, node=7), "warn")
    assert not asked.ok and asked.needs_reason and "请填写理由" in asked.message
    allowed = rules.node_decision(current, pick(2, node=7), "warn", reason="两节课分别面向普通班和融合班")
    assert allowed.ok and "已填写理由" in allowed.warnings[0]


# --- shares ------------------------------------------------------------------------------------------
GD_CAP = ShareCap("special", ("语文", "数学", "生活适应"), 80)


def special(i, subject):
    return pick(i, "special", subject)


def test_share_status_is_shown_live():
    picks = [special(1, "语文"), special(2, "数学"), special(3, "生活适应"), special(4, "运动与保健")]
    status = rules.share_status(picks + [pick(9, "subject", "语文")], GD_CAP)
    assert (status.inside, status.total, status.percent, status.ok) == (3, 4, 75.0, True)
    assert "当前 75 %" in status.text() and "上限 80 %" in status.text()


def test_share_cap_is_enforced_on_confirmation():
    picks = [special(1, "语文"), special(2, "数学"), special(3, "生活适应"), special(4, "语文"), special(5, "绘画与手工")]
    assert rules.share_decision(picks, [GD_CAP]).ok  # 4/5 = 80 %: at the cap
    over = rules.share_decision(picks + [special(6, "数学")], [GD_CAP])  # 5/6 = 83 %
    assert not over.ok and over.rule == "share" and "当前 83 %" in over.message


def test_a_set_in_one_subject_only_gets_a_warning_to_spread():
    picks = [special(i, "运动与保健") for i in range(3)]
    decision = rules.share_decision(picks, [GD_CAP])
    assert decision.ok and "同一学科" in decision.warnings[0]


@given(st.lists(st.sampled_from(["语文", "数学", "生活适应", "运动与保健", "绘画与手工"]), max_size=30))
def test_share_ok_matches_the_percentage(subjects):
    picks = [special(i, s) for i, s in enumerate(subjects)]
    status = rules.share_status(picks, GD_CAP)
    assert status.ok == (status.percent <= 80 + 1e-9)


def test_target_shares_are_guidance_only():
    target = TargetShare("subject", ("科学", "物理", "化学", "生物学"), None, "适当加大科学类精品课推荐数量")
    picks = [pick(1, subject="物理"), pick(2, subject="语文"), pick(3, subject="数学"), pick(4, subject="英语")]
    guidance = rules.target_guidance(picks, target)
    assert (guidance.inside, guidance.total, guidance.met) == (1, 4, None)
    assert "25 %" in guidance.text() and "适当加大科学类" in guidance.text()
    numbered = rules.target_guidance(picks, TargetShare("subject", ("物理",), 30))
    assert numbered.met is False and "目标不低于 30 %" in numbered.text()


# --- all together ------------------------------------------------------------------------------------
def situation(**changes):
    base = dict(now=DEADLINE - timedelta(hours=1), deadline=DEADLINE, level_name="县级初选推荐", confirmed=False,
                current=tuple(pick(i) for i in range(3)), quota=QuotaLimit(25), node_rule="block")
    base.update(changes)
    return Situation(**base)


def test_recommend_decision_checks_in_the_order_a_user_fixes_things():
    assert rules.recommend_decision(situation(), pick(99)).ok
    assert rules.recommend_decision(situation(confirmed=True), pick(99)).rule == "locked"
    assert rules.recommend_decision(situation(now=DEADLINE + timedelta(seconds=1)), pick(99)).rule == "deadline"
    missing = rules.recommend_decision(situation(missing_resources=("微课视频",)), pick(99))
    assert missing.rule == "resources" and "微课视频" in missing.message
    assert rules.recommend_decision(situation(quota=QuotaLimit(3)), pick(99)).rule == "quota"
    assert rules.recommend_decision(situation(), pick(99, node=1000)).rule == "node"


# --- items a level asks for before it recommends ----------------------------------------------------------
SUBJECT_PACKAGE = {"video", "lesson_plan", "task_sheet", "slides", "exercises"}
SPECIAL_PACKAGE = {"video", "lesson_plan", "task_sheet", "slides"}  # 作业练习 optional
EXPERIMENT_PACKAGE = {"experiment_video", "experiment_plan", "study_guide", "slides"}
COUNTY_ASKS = ["video", "exercises", "experiment_video"]  # one list for every category


def test_missing_resources_per_category():
    design_only = [{"lesson_plan"}, {"lesson_plan", "video"}]
    assert rules.missing_resources(COUNTY_ASKS, SUBJECT_PACKAGE, design_only) == ["video", "exercises"]
    assert rules.missing_resources(COUNTY_ASKS, SPECIAL_PACKAGE, design_only) == ["video"]
    assert rules.missing_resources(COUNTY_ASKS, EXPERIMENT_PACKAGE, [{"experiment_plan"}]) == ["experiment_video"]
    assert rules.missing_resources(COUNTY_ASKS, EXPERIMENT_PACKAGE, []) == ["experiment_video"]
    assert rules.missing_resources([], SUBJECT_PACKAGE, []) == []


@given(st.lists(st.sampled_from(sorted(SUBJECT_PACKAGE | EXPERIMENT_PACKAGE))),
       st.lists(st.sets(st.sampled_from(sorted(SUBJECT_PACKAGE))), min_size=1, max_size=3))
def test_missing_resources_are_asked_for_required_and_absent_somewhere(asked, periods):
    missing = rules.missing_resources(asked, SUBJECT_PACKAGE, periods)
    assert len(missing) == len(set(missing))
    for kind in set(asked):
        absent = kind in SUBJECT_PACKAGE and any(kind not in have for have in periods)
        assert (kind in missing) == absent
