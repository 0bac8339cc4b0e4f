"""Pure rules: deadlines, effective-deadline resolution, quota resolution, who sets what, validation."""

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns import rules
from campaigns.rules import QuotaRow, Recommender, Resolved

CST = timezone(timedelta(hours=8))


# --- dates --------------------------------------------------------------------------------------------
def test_a_date_closes_at_its_end_of_day_beijing_time():
    assert rules.end_of_day(date(2024, 9, 20)).isoformat() == "2024-09-20T23:59:59+08:00"
    assert rules.make_deadline(date(2024, 9, 20)) == datetime(2024, 9, 20, 23, 59, 59, tzinfo=CST)
    assert rules.make_deadline(date(2024, 9, 20), time(17, 0)) == datetime(2024, 9, 20, 17, 0, tzinfo=CST)
    assert rules.make_deadline(None, time(17, 0)) is None


@pytest.mark.parametrize("value, expected", [
    ("2024-09-20", datetime(2024, 9, 20, 23, 59, 59, tzinfo=CST)),
    ("2024-09-20 17:00", datetime(2024, 9, 20, 17, 0, tzinfo=CST)),
    ("2024-09-20T17:00:00+08:00", datetime(2024, 9, 20, 17, 0, tzinfo=CST)),
    ("2024-09-20T09:00:00+00:00", datetime(2024, 9, 20, 17, 0, tzinfo=CST)),
    (date(2024, 9, 27), datetime(2024, 9, 27, 23, 59, 59, tzinfo=CST)),
    (datetime(2024, 9, 27, 12, 0), datetime(2024, 9, 27, 12, 0, tzinfo=CST)),
    (None, None),
    ("", None),
])
def test_parse_deadline(value, expected):
    assert rules.parse_deadline(value) == expected


def test_parse_deadline_refuses_nonsense_in_chinese():
    with pytest.raises(ValueError) as exc:
        rules.parse_deadline("9月20日")
    assert str(exc.value) == "“9月20日”不是有效的日期，请写成 2024-09-20 或 2024-09-20 17:00。"


def test_split_deadline_hides_the_end_of_day_time():
    assert rules.split_deadline(datetime(2024, 9, 20, 23, 59, 59, tzinfo=CST)) == (date(2024, 9, 20), None)
    assert rules.split_deadline(datetime(2024, 9, 20, 9, 0, tzinfo=UTC)) == (date(2024, 9, 20), time(17, 0))
    assert rules.split_deadline(None) == (None, None)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)), st.one_of(st.none(), st.times()))
def test_split_then_make_round_trips(day, at):
    at = at.replace(microsecond=0) if at else None
    value = rules.make_deadline(day, at)
    assert rules.make_deadline(*rules.split_deadline(value)) == value


def test_shift_years_moves_leap_days_to_28_february():
    assert rules.shift_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert rules.shift_years(datetime(2024, 9, 20, 23, 59, 59, tzinfo=CST), 1) == datetime(2025, 9, 20, 23, 59, 59,
                                                                                           tzinfo=CST)
    assert rules.shift_years(None, 1) is None


# --- effective deadlines ------------------------------------------------------------------------------
D = {name: datetime(2024, 9, day, 23, 59, 59, tzinfo=CST)
     for name, day in [("deadline", 20), ("confirm_deadline", 21), ("contact_form_deadline", 22)]}
EARLY = datetime(2024, 9, 10, 23, 59, 59, tzinfo=CST)
EARLIER = datetime(2024, 9, 5, 23, 59, 59, tzinfo=CST)


def test_without_overrides_every_deadline_is_the_default():
    assert rules.resolve_deadlines(D, []) == {name: Resolved(value, None) for name, value in D.items()}


def test_own_override_beats_ancestor_and_each_field_resolves_on_its_own():
    # school 3 (own override of the deadline) under county 2 (override of deadline and confirmation)
    chain = [(3, {"deadline": EARLIER}), (2, {"deadline": EARLY, "confirm_deadline": EARLY})]
    assert rules.resolve_deadlines(D, chain) == {
        "deadline": Resolved(EARLIER, 3, own=True),
        "confirm_deadline": Resolved(EARLY, 2),
        "contact_form_deadline": Resolved(D["contact_form_deadline"], None),
    }


def test_resolve_for_path_uses_the_nearest_ancestor():
    overrides = {1: {"deadline": EARLIER}, 2: {"deadline": EARLY}}
    resolved = rules.resolve_deadlines_for_path(D, [1, 2, 3], overrides)
    assert resolved["deadline"] == Resolved(EARLY, 2, own=False)
    assert rules.resolve_deadlines_for_path(D, [1, 2], overrides)["deadline"] == Resolved(EARLY, 2, own=True)


@given(st.lists(st.one_of(st.none(), st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2025, 1, 1))),
                min_size=1, max_size=5))
def test_nearest_set_value_wins(values):
    """Path ids 1..n (root first); unit i overrides the deadline with values[i-1] or not at all."""
    path = list(range(1, len(values) + 1))
    overrides = {pk: {"deadline": v} for pk, v in zip(path, values, strict=True) if v is not None}
    resolved = rules.resolve_deadlines_for_path(D, path, overrides)["deadline"]
    set_ones = [(pk, v) for pk, v in zip(path, values, strict=True) if v is not None]
    if set_ones:
        assert (resolved.value, resolved.source_unit_id) == (set_ones[-1][1], set_ones[-1][0])
        assert resolved.own == (set_ones[-1][0] == path[-1])
    else:
        assert resolved == Resolved(D["deadline"], None)


# --- levels ------------------------------------------------------------------------------------------------
def test_levels_for_unit_skip_what_a_school_does_not_pass():
    kinds = ["school", "county", "city", "province"]
    assert rules.levels_for_unit(kinds, "school", "county") == ["school", "county", "city", "province"]
    assert rules.levels_for_unit(kinds, "school", "city") == ["school", "city", "province"]
    assert rules.levels_for_unit(kinds, "school", "province") == ["school", "province"]
    assert rules.levels_for_unit(kinds, "county") == ["county", "city", "province"]
    assert rules.levels_for_unit(["city", "school", "county"], "city") == ["city"]


def test_deadlines_and_quotas_are_set_from_above():
    assert rules.may_set_for_level("school", ["county"]) is True
    assert rules.may_set_for_level("county", ["county"]) is False
    assert rules.may_set_for_level("county", ["city", "county"]) is True
    assert rules.may_set_for_level("city", ["city"]) is False
    assert rules.may_set_for_level("province", [], is_sysadmin=True) is True
    assert rules.may_set_for_level("school", []) is False


def test_targets_of_overrides_and_quotas():
    assert rules.override_target_error("school", "county") is None
    assert rules.override_target_error("school", "school") is None
    assert rules.override_target_error("county", "school") == "县（市、区）层级的截止时间只能设给县（市、区）或其上级单位，不能设给学校。"
    assert rules.quota_target_error("county", "county") is None
    assert rules.quota_target_error("school", "county") == "学校层级的名额只能设给学校单位。"


# --- quotas ---------------------------------------------------------------------------------------
def q(id, level, limit, unit=None, owner="", category="subject", subject="", per_subject=False):
    return QuotaRow(id, level, unit, owner, category, subject, per_subject, limit)


ZJ = [q(1, "county", 25), q(2, "county", 1, category="special"), q(3, "county", 10, category="experiment"),
      q(4, "school", 1, owner="city", per_subject=True)]
COUNTY = Recommender(10, "county")
CITY_SCHOOL = Recommender(20, "school", "city")
COUNTY_SCHOOL = Recommender(21, "school", "county")


def test_level_default_applies_to_every_unit_of_the_level():
    assert rules.resolve_quota(ZJ, COUNTY, "subject") == ZJ[0]
    assert rules.resolve_quota(ZJ, COUNTY, "subject", "语文") == ZJ[0]
    assert rules.resolve_quota(ZJ, COUNTY, "special") == ZJ[1]
    assert rules.resolve_quota(ZJ, Recommender(11, "county"), "experiment") == ZJ[2]


def test_owner_kind_default_only_for_schools_of_that_owner_and_per_subject():
    assert rules.resolve_quota(ZJ, CITY_SCHOOL, "subject", "物理") == ZJ[3]
    assert rules.resolve_quota(ZJ, CITY_SCHOOL, "subject") is None  # per subject: no category-wide limit
    assert rules.resolve_quota(ZJ, COUNTY_SCHOOL, "subject", "物理") is None
    assert rules.resolve_quota(ZJ, Recommender(22, "school", "province"), "subject", "物理") is None


def test_unit_override_beats_default_and_exact_subject_beats_category_wide():
    rows = ZJ + [q(5, "county", 30, unit=10), q(6, "county", 5, unit=10, subject="物理"),
                 q(7, "school", 2, unit=20, subject="数学")]
    assert rules.resolve_quota(rows, COUNTY, "subject") == rows[4]
    assert rules.resolve_quota(rows, COUNTY, "subject", "物理") == rows[5]
    assert rules.resolve_quota(rows, COUNTY, "subject", "语文") == rows[4]
    assert rules.resolve_quota(rows, Recommender(11, "county"), "subject") == ZJ[0]
    assert rules.resolve_quota(rows, CITY_SCHOOL, "subject", "数学") == rows[6]
    assert rules.resolve_quota(rows, CITY_SCHOOL, "subject", "语文") == ZJ[3]


def test_owner_specific_default_beats_general_default():
    rows = [q(1, "school", 3), q(2, "school", 1, owner="city")]
    assert rules.resolve_quota(rows, CITY_SCHOOL, "subject") == rows[1]
    assert rules.resolve_quota(rows, COUNTY_SCHOOL, "subject") == rows[0]


def test_no_row_means_no_limit():
    assert rules.resolve_quota([], COUNTY, "subject") is None
    assert rules.resolve_quota(ZJ, Recommender(1, "city"), "subject") is None


@given(st.lists(st.tuples(st.sampled_from(["county", "school"]), st.booleans(), st.sampled_from(["", "city"]),
                          st.sampled_from(["", "语文", "物理"]), st.booleans(), st.integers(0, 50)), max_size=8),
       st.sampled_from(["", "语文", "物理"]))
def test_a_units_own_row_always_wins_when_one_answers(specs, subject):
    rows = [q(i, level, limit, unit=(20 if own else None), owner=("" if own or level != "school" else owner),
              subject=subj, per_subject=per and not subj)
            for i, (level, own, owner, subj, per, limit) in enumerate(specs)]
    chosen = rules.resolve_quota(rows, CITY_SCHOOL, "subject", subject)
    own_answers = [r for r in rows if r.unit_id == 20 and r.level_kind == "school"
                   and (r.subject == subject if r.subject else (subject or not r.per_subject))]
    if own_answers:
        assert chosen is not None and chosen.unit_id == 20
    if chosen is not None:
        assert chosen.level_kind == "school" and chosen.school_owner_kind in ("", "city")


# --- validation ----------------------------------------------------------------------------------------
def test_categories_validation_reports_each_problem_with_where_and_what():
    problems = rules.Problems()
    rules.clean_categories([{"category": "subject", "max_periods": 2, "default_periods": 3},
                            {"category": "subject"}, {"category": "art"}], problems)
    assert problems == [
        {"row": "类别“学科课程”", "column": "默认课时数", "message": "默认课时数 3 大于最多课时数 2。"},
        {"row": "类别“学科课程”", "column": "类别", "message": "重复了，每个类别只能出现一次。"},
        {"row": "类别 3", "column": "类别",
         "message": "“art”无效，可选值：subject（学科课程）、special（特殊教育）、experiment（实验教学）。"},
    ]


def test_spec_durations_must_be_ordered_and_slots_need_formats():
    problems = rules.Problems()
    rules.clean_specs([{"stage": "primary", "min_duration_s": 900, "max_duration_s": 600}], problems, "学科课程")
    rules.clean_slots([{"kind": "video", "formats": []}, {"kind": "slides", "formats": "pptx、PDF、*.ppt"},
                       {"kind": "slides", "formats": ["pdf"]}], "subject", problems, "学科课程")
    assert [(p["row"], p["column"], p["message"]) for p in problems] == [
        ("学科课程 › 制作规范 1", "最短时长（秒）", "最短时长 900 秒大于最长时长 600 秒。"),
        ("学科课程 › 资源项 1", "接受的格式", "至少填写一项。"),
        ("学科课程 › 资源项 2", "接受的格式", "“*.ppt”不是文件扩展名，请写成 pdf、docx 这样的形式。"),
        ("学科课程 › 资源项 3", "资源类型", "“课件”重复了，每类资源只能出现一次。"),
    ]


def test_quota_validation():
    problems = rules.Problems()
    rules.clean_quotas([{"level": "county", "category": "subject", "limit": 25, "school_owner_kind": "city"},
                        {"level": "school", "category": "subject", "limit": 1, "subject": "语文", "per_subject": True},
                        {"level": "school", "category": "subject", "limit": -1},
                        {"level": "school", "category": "subject", "limit": 1}],
                       problems, with_unit=False, level_kinds=["school", "county"])
    assert problems == [
        {"row": "名额 1", "column": "适用学校类型", "message": "只有学校层级的名额可以按学校类型区分。"},
        {"row": "名额 2", "column": "每学科分别计算", "message": "已指定学科时不能再选“每学科分别计算”。"},
        {"row": "名额 3", "column": "名额", "message": "应在 0 到 100000 之间。"},
        {"row": "名额 4", "column": "名额", "message": "与前面的一行重复（同一层级、单位、学校类型、类别和学科只能有一行）。"},
    ]


def test_share_caps_and_targets():
    problems = rules.Problems()
    clean = rules.clean_rule_settings({
        "node_rule": "warn", "new_textbook_grades": "一年级、七年级",
        "share_caps": [{"level": "city", "category": "special", "subjects": "语文、数学、生活适应", "max_percent": 80,
                        "applies_to": "awards"}],
        "target_shares": [{"level": "city", "category": "subject", "subjects": ["物理"]}]}, problems)
    assert clean["new_textbook_grades"] == ["一年级", "七年级"]
    assert clean["share_caps"] == [{"level": "city", "category": "special", "subjects": ["语文", "数学", "生活适应"],
                                    "max_percent": 80, "applies_to": "awards"}]
    assert problems == [{"row": "学科占比目标 1", "column": "说明",
                         "message": "没有目标占比时请写明要求，例如“适当加大科学类精品课推荐数量”。"}]


def test_template_shape_is_checked_first():
    assert rules.clean_template([])[1] == [{"row": "文件", "column": "", "message": "不是活动模板：最外层应为一个 JSON 对象。"}]
    assert rules.clean_template({"format": "x"})[1] == [
        {"row": "文件", "column": "format", "message": "不是活动模板：format 应为“jingpinke-campaign-template”。"}]
    assert rules.clean_template({"format": rules.TEMPLATE_FORMAT, "version": 9})[1] == [
        {"row": "文件", "column": "version", "message": "不支持的模板版本“9”，本系统支持版本 1。"}]


def test_template_levels_above_the_owner_are_refused():
    doc = {"format": rules.TEMPLATE_FORMAT, "version": 1, "year": 2024, "title": "t",
           "categories": [{"category": "subject"}], "levels": [{"kind": "province", "name": "省级遴选"}]}
    _clean, problems = rules.clean_template(doc, owner_kind="city")
    assert problems == [{"row": "省层级", "column": "层级", "message": "高于主办单位（市），主办单位不能管理上级的层级。"}]
