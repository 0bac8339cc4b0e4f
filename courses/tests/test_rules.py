"""The pure decisions of courses.rules: states, the deadline at the second, submission, bounds."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from courses import rules
from courses.rules import ResourceFacts, SlotFacts

TZ = ZoneInfo("Asia/Shanghai")
DEADLINE = datetime(2024, 9, 20, 23, 59, 59, tzinfo=TZ)
SLOTS = [SlotFacts("video", "微课视频", True), SlotFacts("lesson_plan", "教学设计", True),
         SlotFacts("exercises", "作业练习", False)]


def full(periods, status="pass"):
    return [ResourceFacts(n, s.kind, status) for n in range(1, periods + 1) for s in SLOTS if s.required]


def decide(**kw):
    args = {"status": "draft", "campaign_open": True, "periods": 1, "slots": SLOTS, "resources": full(1),
            "deadline": DEADLINE, "now": DEADLINE - timedelta(days=1)}
    args.update(kw)
    return rules.can_submit(**args)


def test_complete_course_before_the_deadline_may_be_submitted():
    assert decide() == rules.Decision(True, [])


def test_the_last_second_still_counts_and_the_next_does_not():
    assert decide(now=DEADLINE + timedelta(microseconds=999_999)).ok
    late = decide(now=DEADLINE + timedelta(seconds=1))
    assert late.reasons == ["学校申报已于 2024-09-20 23:59:59 截止，不能再提交。"]


def test_deadline_compared_in_any_timezone():
    utc = DEADLINE.astimezone(ZoneInfo("UTC"))
    assert decide(now=utc).ok
    assert not decide(now=utc + timedelta(seconds=1)).ok


def test_no_deadline_means_open():
    assert decide(deadline=None, now=datetime(2030, 1, 1, tzinfo=TZ)).ok


def test_every_missing_required_slot_is_named_optional_ones_are_not():
    d = decide(periods=2, resources=full(1))
    assert d.reasons == ["第2课时缺少“微课视频”。", "第2课时缺少“教学设计”。"]


def test_failed_and_pending_checks_block_warnings_do_not():
    resources = [ResourceFacts(1, "video", "fail"), ResourceFacts(1, "lesson_plan", "pending"),
                 ResourceFacts(1, "exercises", "warn")]
    assert decide(resources=resources).reasons == [
        "第1课时的“教学设计”还在检测中，请稍候。",
        "第1课时的“微课视频”未通过检测，请按检测报告修改后重新上传。"]
    assert decide(resources=full(1, "warn")).ok


def test_a_failed_optional_file_blocks_too():
    assert decide(resources=full(1) + [ResourceFacts(1, "exercises", "fail")]).reasons == [
        "第1课时的“作业练习”未通过检测，请按检测报告修改后重新上传。"]


def test_files_of_removed_periods_or_slots_are_ignored():
    assert decide(resources=full(1) + [ResourceFacts(2, "video", "fail"), ResourceFacts(1, "gone", "fail")]).ok


def test_closed_campaign_and_states():
    assert decide(campaign_open=False).reasons == ["遴选活动不在进行中，不能提交。"]
    assert decide(status="submitted").reasons == ["课程已提交学校，等待学校审核。"]
    assert decide(status="returned").ok and decide(status="withdrawn").ok


@given(st.sampled_from(["draft", "submitted", "returned", "withdrawn"]), st.sampled_from(["submit", "withdraw", "return"]))
def test_transitions_are_exactly_the_table(status, action):
    expected = {("draft", "submit"): "submitted", ("withdrawn", "submit"): "submitted",
                ("returned", "submit"): "submitted", ("submitted", "withdraw"): "withdrawn",
                ("submitted", "return"): "returned"}.get((status, action))
    if expected is None:
        with pytest.raises(rules.RuleError):
            rules.transition(status, action)
    else:
        assert rules.transition(status, action) == expected


@given(st.sampled_from(["draft", "submitted", "returned", "withdrawn"]), st.booleans())
def test_editable_exactly_when_not_with_the_school(status, campaign_open):
    d = rules.may_edit(status=status, campaign_open=campaign_open)
    assert d.ok == (status != "submitted" and campaign_open)


def test_withdraw_only_while_the_school_has_not_acted():
    assert rules.can_withdraw(status="submitted", school_acted=False).ok
    assert rules.can_withdraw(status="submitted", school_acted=True).reasons == [
        "学校已处理这门课程，不能再撤回。如需修改，请联系学校管理员退回。"]
    assert not rules.can_withdraw(status="draft", school_acted=False).ok


@given(st.integers(min_value=-5, max_value=10), st.integers(min_value=1, max_value=5))
def test_periods_bounds(n, maximum):
    if 1 <= n <= maximum:
        assert rules.check_periods(n, maximum) == n
    else:
        with pytest.raises(rules.RuleError):
            rules.check_periods(n, maximum)


@given(st.lists(st.integers(min_value=2, max_value=9), max_size=8), st.integers(min_value=0, max_value=5))
def test_team_bounds_and_duplicates(ids, maximum):
    unique = list(dict.fromkeys(ids))
    if len(unique) > maximum:
        with pytest.raises(rules.RuleError):
            rules.check_team(1, ids, maximum)
    else:
        assert rules.check_team(1, ids, maximum) == unique


def test_lead_is_not_a_member():
    with pytest.raises(rules.RuleError, match="主讲教师不必再添加为团队成员。"):
        rules.check_team(1, [2, 1], 4)


@given(st.integers(min_value=1, max_value=3), st.integers(min_value=1, max_value=3),
       st.sets(st.integers(min_value=1, max_value=3)))
def test_removed_periods_in_use(current, wanted, used):
    busy = rules.removed_periods_in_use(current, wanted, used)
    assert busy == sorted(n for n in used if wanted < n <= current)


@given(st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2025, 1, 1), timezones=st.just(TZ)))
def test_deadline_passed_is_monotonic(now):
    assert rules.deadline_passed(DEADLINE, now) == (now.replace(microsecond=0) > DEADLINE)


def test_title_and_same_node_texts():
    assert rules.check_title("  秋天 \n 第一课时 ") == "秋天 第一课时"
    with pytest.raises(rules.RuleError):
        rules.check_title("   ")
    assert rules.same_node_warning([], "block") == ""
    assert rules.same_node_warning([("秋天", "李老师")], "block") == (
        "本校已有 1 门课程选择了同一目录节点：“秋天”（李老师）。按本次活动规则，同一目录节点原则上只推荐 1 节，请与学校或同事协调。")
    assert rules.same_node_warning([("秋天", "李老师")], "warn").endswith("学校推荐时需说明理由。")
