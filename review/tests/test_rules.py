"""The pure rules of review: rubric documents, round settings, manual assignment, veto reasons."""

from datetime import datetime, timedelta
from decimal import Decimal

from review import rules


def rubric(**over):
    doc = {"title": "测试指标", "total_points": 100, "vetoes": ["存在科学性错误"],
           "dimensions": [{"name": "目标与内容", "items": [{"name": "目标", "max_points": 60}]},
                          {"name": "技术规范", "items": [{"name": "画面", "max_points": "40"}]}]}
    doc.update(over)
    return doc


def test_a_rubric_totalling_its_full_marks_is_clean():
    clean, problems = rules.clean_rubric(rubric())
    assert problems == []
    assert clean.total_points == Decimal("100")
    assert [(d["name"], [(i["name"], i["max_points"], i["weight"]) for i in d["items"]]) for d in clean.dimensions] == [
        ("目标与内容", [("目标", Decimal("60"), Decimal("1"))]), ("技术规范", [("画面", Decimal("40"), Decimal("1"))])]
    assert clean.vetoes == ["存在科学性错误"]


def test_points_must_add_up_to_the_full_marks():
    clean, problems = rules.clean_rubric(rubric(total_points=90))
    assert clean is None
    assert problems == [{"row": "评价指标", "column": "满分",
                         "message": "各评价要点的分值（乘以权重）合计 100 分，与满分 90 分不一致：请调整分值，使合计等于满分。"}]


def test_weights_count_in_the_total():
    doc = rubric(dimensions=[{"name": "一", "items": [{"name": "a", "max_points": 25, "weight": 2},
                                                     {"name": "b", "max_points": 50}]}])
    clean, problems = rules.clean_rubric(doc)
    assert problems == []
    assert rules.weighted_total(clean.dimensions) == Decimal("100")


def test_points_must_be_positive_and_every_problem_is_listed():
    doc = rubric(dimensions=[{"name": "一", "items": [{"name": "a", "max_points": 0}, {"name": "", "max_points": "x",
                                                                                      "weight": 0}]}],
                 vetoes=["非原创", "非原创"])
    clean, problems = rules.clean_rubric(doc)
    assert clean is None
    assert [(p["row"], p["column"]) for p in problems] == [
        ("“一”第 1 个评价要点", "分值"), ("“一”第 2 个评价要点", "评价要点"), ("“一”第 2 个评价要点", "分值"),
        ("“一”第 2 个评价要点", "权重"), ("第 2 个一票否决项", "否决项")]
    assert problems[0]["message"] == "分值应为大于 0、不超过 100 的数（最多一位小数），例如 10。"


def test_a_dimension_needs_items():
    clean, problems = rules.clean_rubric(rubric(dimensions=[{"name": "一", "items": []}]))
    assert problems == [{"row": "第 1 个一级指标", "column": "评价要点", "message": "一级指标“一”至少需要一个评价要点。"}]


def test_round_settings():
    now = datetime(2024, 9, 1, 8)
    good = dict(title="初选", category="subject", categories=["subject"], phase="video", reviewers_per_entry=3,
                opens_at=now, closes_at=now + timedelta(days=3))
    assert rules.round_problems(**good) == []
    bad = rules.round_problems(**{**good, "reviewers_per_entry": 0, "closes_at": now, "category": "special"})
    assert [p["column"] for p in bad] == ["类别", "每件作品评审专家数", "评审时间"]
    lecture = rules.round_problems(**{**good, "phase": "lecture"})
    assert [p["message"] for p in lecture] == ["试讲环节须填写试讲日期。", "试讲环节须填写试讲地点。"]


def test_a_veto_needs_a_reason():
    assert rules.sheet_problem(veto=True, veto_reason="  ") == "选择一票否决时须写明否决理由。"
    assert rules.sheet_problem(veto=True, veto_reason="第 3 分钟概念错误") is None
    assert rules.sheet_problem(veto=False, veto_reason="") is None


def test_entry_codes_and_windows():
    assert rules.entry_code(12, 7) == "R12-007"
    t = datetime(2024, 9, 1)
    assert rules.window_state(t, t + timedelta(days=1), t - timedelta(seconds=1)) == "upcoming"
    assert rules.window_state(t, t + timedelta(days=1), t) == "open"
    assert rules.window_state(t, t + timedelta(days=1), t + timedelta(days=1)) == "closed"
