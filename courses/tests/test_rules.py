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


# --- 课时 titles ----------------------------------------------------------------------------------
@given(st.text(max_size=300))
def test_period_title_is_one_clean_line_or_refused(text):
    try:
        clean = rules.check_period_title(text)
    except rules.RuleError as exc:
        assert str(exc) == "课时标题最多 200 个字。"
        assert len(" ".join(text.split())) > 200
    else:
        assert len(clean) <= 200 and clean == clean.strip()
        assert "\x00" not in clean and "\n" not in clean and "  " not in clean


def test_period_titles_only_for_the_courses_periods():
    assert rules.check_period_titles({"1": " 识字\x00 ", 2: "写字"}, 2) == {1: "识字", 2: "写字"}
    with pytest.raises(rules.RuleError, match="这门课程没有第3课时（共 2 个课时）。"):
        rules.check_period_titles({3: "x"}, 2)
    with pytest.raises(rules.RuleError, match="课时编号应为 1 到 2 之间的整数。"):
        rules.check_period_titles({"一": "x"}, 2)


# --- changing the node or the category ----------------------------------------------------------------
STATES = ["draft", "submitted", "returned", "withdrawn"]
ABOVE = ("学校已把这门课程推荐到上级，目录节点和类别不能再更改；退回修改只能修改课程名称、团队和资源文件。"
         "如确需换一节课，请联系学校管理员。")


@given(st.sampled_from(STATES), st.booleans(), st.booleans())
def test_node_and_category_change_only_before_the_school_recommends(status, campaign_open, recommended):
    d = rules.may_relocate(status=status, campaign_open=campaign_open, recommended_by_school=recommended)
    assert d.ok == (status != "submitted" and campaign_open and not recommended)
    if recommended:
        assert d.reasons == [ABOVE]  # the same answer whatever else is true: it cannot be fixed by waiting
    elif not d.ok:
        assert d.reasons == rules.may_edit(status=status, campaign_open=campaign_open).reasons


def test_returned_by_the_school_may_change_the_node():
    assert rules.may_relocate(status="returned", campaign_open=True, recommended_by_school=False).ok


SUBJECT_KINDS = ["video", "lesson_plan", "task_sheet", "slides", "exercises"]
EXPERIMENT_KINDS = ["experiment_video", "experiment_plan", "study_guide", "slides"]


@given(st.sets(st.tuples(st.integers(min_value=1, max_value=3), st.sampled_from(SUBJECT_KINDS + EXPERIMENT_KINDS))),
       st.sampled_from([SUBJECT_KINDS, EXPERIMENT_KINDS]))
def test_a_new_category_empties_exactly_the_slots_it_lacks(filled, new_kinds):
    emptied = rules.emptied_by_category(filled, new_kinds)
    assert emptied == sorted(emptied) and set(emptied) <= filled
    assert all(kind not in new_kinds for _, kind in emptied)
    assert all(kind in new_kinds for _, kind in filled - set(emptied))  # everything else keeps its file


def test_subject_to_experiment_keeps_only_the_slides():
    filled = [(1, "video"), (1, "slides"), (2, "lesson_plan"), (2, "slides")]
    assert rules.emptied_by_category(filled, EXPERIMENT_KINDS) == [(1, "video"), (2, "lesson_plan")]
    assert rules.emptied_by_category(filled, SUBJECT_KINDS) == []


def test_category_bounds_say_what_to_reduce():
    assert rules.category_fits(label="实验教学", periods=2, max_periods=3, members=4, max_members=4).ok
    d = rules.category_fits(label="实验教学", periods=3, max_periods=2, members=5, max_members=4)
    assert d.reasons == ["“实验教学”最多 2 个课时，这门课程现在有 3 个。请先把课时数减到 2。",
                         "“实验教学”的团队最多 4 人（不含主讲教师），现在是 5 人。请先移除多出的成员。"]


# --- deleting a draft ---------------------------------------------------------------------------------
@given(st.sampled_from(STATES), st.booleans())
def test_only_a_draft_that_never_went_to_the_school_may_be_deleted(status, ever_submitted):
    d = rules.may_delete(status=status, ever_submitted=ever_submitted)
    assert d.ok == (status == "draft" and not ever_submitted)
    assert d.ok or len(d.reasons) == 1


def test_refusals_to_delete_say_what_to_do_instead():
    assert rules.may_delete(status="submitted", ever_submitted=True).reasons == [
        "课程已提交学校，不能删除。学校处理前可以先撤回；不再申报的话，撤回后保留即可，它不会进入遴选。"]
    assert rules.may_delete(status="returned", ever_submitted=True).reasons == [
        "课程已被退回修改，仍在遴选记录中，不能删除。请修改后重新提交；不再申报的话，请联系退回的单位。"]
    assert rules.may_delete(status="withdrawn", ever_submitted=True).reasons == [
        "这门课程曾提交到学校，学校留有记录，不能删除。它已撤回，不会进入遴选。"]


@pytest.mark.parametrize("before, after, turned", [
    (["pass", "warn"], ["pass", "fail"], True),
    (["warn"], ["fail"], True),
    (["pass", "fail"], ["fail", "fail"], False),  # already failing
    (["pending", "pass"], ["pending", "fail"], False),  # still being checked: not passing yet
    (["warn"], ["pass"], False),
    ([], [], False),
])
def test_turned_failing(before, after, turned):
    assert rules.turned_failing(before, after) is turned
