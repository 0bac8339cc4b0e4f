"""The pure aggregation and ranking of expert scores, against hand-computed values."""

import math
import random
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jingpinke.errors import ServiceError
from review import aggregation as agg
from review.aggregation import Entry, Method, Score, Settings

CST = timezone(timedelta(hours=8))


def sheets(entry_id, *points):
    """One sheet per point value, from experts 1, 2, 3, …"""
    return [Score(expert_id=i, entry_id=entry_id, points=p) for i, p in enumerate(points, start=1)]


def entry(entry_id, category="subject", subject="语文", submitted_at=None):
    return Entry(entry_id, category, subject, f"课{entry_id}", submitted_at)


# --- per entry -----------------------------------------------------------------------------------------
def test_entry_statistics_by_hand():
    r = agg.aggregate(sheets(7, 90, 70, 85, 95, 80)).entries[7]
    # sorted: 70 80 85 90 95
    assert r.count == 5
    assert r.mean == 84.0  # 420 / 5
    assert r.median == 85.0
    assert r.trimmed_mean == 85.0  # drop 70 and 95: (80 + 85 + 90) / 3
    # population SD: deviations −14 −4 1 6 11, squares 196 16 1 36 121 = 370; 370 / 5 = 74
    assert r.sd == math.sqrt(74)
    assert (r.minimum, r.maximum, r.spread) == (70.0, 95.0, 25.0)
    assert r.score == 84.0  # the default method is the mean
    assert r.disagreement is True  # 25 > 20
    assert r.flags == ("评分分歧：最高分与最低分相差 25 分，超过 20 分，请组长裁定或增加评审专家",)


def test_even_count_median_is_the_mean_of_the_two_middle_scores_and_two_scores_are_not_trimmed():
    r = agg.aggregate(sheets(1, 60, 100, 70, 80)).entries[1]
    assert r.median == 75.0  # (70 + 80) / 2
    assert r.trimmed_mean == 75.0  # drop 60 and 100: (70 + 80) / 2
    two = agg.aggregate(sheets(2, 60, 71)).entries[2]
    assert (two.trimmed_mean, two.mean, two.median) == (65.5, 65.5, 65.5)
    one = agg.aggregate(sheets(3, 88)).entries[3]
    assert (one.sd, one.spread, one.trimmed_mean) == (0.0, 0.0, 88.0)


@pytest.mark.parametrize("fraction, expected", [
    (0.0, 77.5),  # nothing dropped: (60 + 70 + 80 + 100) / 4
    (0.2, 77.5),  # ⌊0.2 × 4⌋ = 0 dropped at each end
    (0.25, 75.0),  # ⌊0.25 × 4⌋ = 1: (70 + 80) / 2
    (None, 75.0),  # default: the highest and the lowest
])
def test_trim_fraction(fraction, expected):
    r = agg.aggregate(sheets(1, 60, 100, 70, 80), Settings(trim_fraction=fraction)).entries[1]
    assert r.trimmed_mean == expected


def test_trim_fraction_counts_whole_scores_despite_float_rounding():
    # 0.29 × 100 is 28.999… in floating point; 29 scores are still dropped at each end
    assert agg.trimmed_mean(list(range(100)), 0.29) == 49.5  # mean of 29 … 70
    assert agg.trimmed_mean([1.0, 2.0, 3.0, 4.0, 10.0], 0.2) == 3.0  # ⌊1.0⌋ = 1: (2 + 3 + 4) / 3


@pytest.mark.parametrize("method, expected", [
    (Method.MEAN, 84.0), (Method.MEDIAN, 85.0), (Method.TRIMMED, 85.0), (Method.ZSCORE, 84.0)])
def test_the_round_method_chooses_the_score(method, expected):
    # nobody reaches k = 5 sheets here, so the z-score method falls back to the raw mean
    assert agg.aggregate(sheets(7, 90, 70, 85, 95, 80), Settings(method=method)).entries[7].score == expected


def test_score_is_rounded_to_two_decimals():
    r = agg.aggregate(sheets(1, 80, 80, 81)).entries[1]
    assert r.mean == 241 / 3
    assert r.score == 80.33


# --- veto ------------------------------------------------------------------------------------------------
def test_one_veto_sets_the_score_to_zero_and_is_flagged_for_the_chair():
    scores = sheets(5, 90, 88) + [Score(3, 5, 60, vetoed=True, veto_reason="  科学性错误：公式推导有误 ")]
    r = agg.aggregate(scores).entries[5]
    assert r.score == 0.0
    assert r.vetoes == 1
    assert r.veto_reasons == ((3, "科学性错误：公式推导有误"),)
    assert r.mean == 238 / 3  # the statistics still describe the sheets as entered
    assert r.flags == ("评分分歧：最高分与最低分相差 30 分，超过 20 分，请组长裁定或增加评审专家",
                       "1/3 位专家一票否决，请组长核实")


def test_a_unanimous_veto_is_not_a_disagreement():
    scores = [Score(1, 5, 0, True, "非原创"), Score(2, 5, 0, True, "非原创")]
    r = agg.aggregate(scores, Settings(method=Method.MEDIAN)).entries[5]
    assert (r.score, r.vetoes, r.flags) == (0.0, 2, ())


def test_a_veto_needs_a_written_reason():
    with pytest.raises(ServiceError) as e:
        agg.aggregate([Score(4, 9, 50, vetoed=True, veto_reason="   ")])
    assert e.value.message == "评分数据有误，未能汇总：请先更正以下问题。"
    assert e.value.errors == ["专家 4 对作品 9 一票否决但未填写理由：一票否决须有书面理由。"]


def test_every_bad_sheet_is_listed():
    scores = [Score(1, 1, 101), Score(1, 2, -1), Score(1, 2, 50), Score(2, 3, float("nan"))]
    with pytest.raises(ServiceError) as e:
        agg.aggregate(scores)
    assert e.value.errors == [
        "专家 1 对作品 1 的总分 101 超出 0–100 分：请更正评分。",
        "专家 1 对作品 2 的总分 -1 超出 0–100 分：请更正评分。",
        "专家 1 对作品 2 有多份评分：每位专家对每件作品只能提交一份评分。",
        "专家 2 对作品 3 的总分 nan 超出 0–100 分：请更正评分。",
    ]


def test_bad_settings_are_refused():
    with pytest.raises(ServiceError) as e:
        agg.aggregate([], Settings(method="max", trim_fraction=0.5, min_scored=1, scale_max=0,
                                   disagreement_threshold=-1))
    assert e.value.errors == [
        "未知的汇总方法“max”：请选择平均分、中位数、截尾均值或标准分。",
        "截尾比例 0.5 无效：须不小于 0 且小于 0.5（每端去掉的评分比例）。",
        "标准分换算所需的最少评分数 k 为 1：须至少为 2。",
        "满分 0 无效：须大于 0。",
        "分歧阈值 -1 无效：须不小于 0。",
    ]


# --- disagreement ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("low, high, threshold, flagged", [
    (70, 90, 20, False),  # exactly the threshold: not above it
    (70, 90.01, 20, True),
    (70.3, 90.3, 20, False),  # 90.3 − 70.3 is 20.000000000000004 in floating point: compared at 2 decimals
    (70, 80, 5, True),
])
def test_disagreement_is_max_minus_min_strictly_above_the_threshold(low, high, threshold, flagged):
    r = agg.aggregate(sheets(1, low, high), Settings(disagreement_threshold=threshold)).entries[1]
    assert r.disagreement is flagged
    assert bool(r.flags) is flagged


# --- the chair's adjudication -------------------------------------------------------------------------
def test_the_chair_adjudicates_a_disagreement():
    scores = sheets(1, 60, 90, 91) + sheets(2, 70, 95)
    result = agg.aggregate(scores, Settings(method=Method.MEDIAN),
                           [agg.Adjudication(1, 88.5, " 60 分专家误读评分细则，组长复核后定为 88.5 分 ")])
    r = result.entries[1]
    assert (r.median, r.score, r.adjudicated) == (90.0, 88.5, 88.5)
    assert r.adjudication_reason == "60 分专家误读评分细则，组长复核后定为 88.5 分"
    assert r.flags == ("评分分歧：最高分与最低分相差 31 分，超过 20 分，请组长裁定或增加评审专家",
                       "组长裁定 88.5 分（60 分专家误读评分细则，组长复核后定为 88.5 分）")
    assert result.entries[2].score == 82.5  # flagged (25 > 20) but not adjudicated: (70 + 95) / 2
    rows = agg.rank([entry(1), entry(2)], result)[0].rows
    assert [(row.entry.entry_id, row.result.score) for row in rows] == [(1, 88.5), (2, 82.5)]
    row = agg.entry_sheet(result, [entry(1)]).rows[0]
    assert row[12:16] == [80.33, 88.5, "60 分专家误读评分细则，组长复核后定为 88.5 分", 88.5]  # 标准分均值: (60 + 90 + 91) / 3, raw below k


def test_an_adjudication_must_apply():
    scores = sheets(1, 60, 90) + sheets(2, 80, 82) + [Score(1, 3, 50), Score(2, 3, 90, True, "非原创")]
    adjudications = [agg.Adjudication(1, 101, "复核"), agg.Adjudication(1, 80, "复核"),
                     agg.Adjudication(2, 81, "复核"), agg.Adjudication(3, 70, "复核"),
                     agg.Adjudication(4, 70, "复核")]
    with pytest.raises(ServiceError) as e:
        agg.aggregate(scores, Settings(), adjudications)
    assert e.value.message == "组长裁定有误，未能汇总：请先更正以下问题。"
    assert e.value.errors == [
        "作品 1 的裁定分 101 超出 0–100 分：请更正。",
        "作品 1 有多份组长裁定：每件作品只能裁定一次。",
        "作品 2 的评分分歧未超过阈值：无需裁定。",
        "作品 3 已被一票否决：请组长先重开否决专家的评分表核实，不能以裁定分代替。",
        "作品 4 尚无评分：不能裁定。",
    ]
    with pytest.raises(ServiceError) as e:
        agg.aggregate(scores, Settings(), [agg.Adjudication(1, 75, "  ")])
    assert e.value.errors == ["作品 1 的裁定未填写理由：裁定须有书面理由。"]


# --- z-score normalisation -------------------------------------------------------------------------------
def lenient_and_harsh():
    # expert 1 (lenient, narrow): 81 81 79 79 → m = 80, population SD = 1
    # expert 2 (harsh, wide):     67 53 67 53 → m = 60, population SD = 7
    # expert 3 has 2 sheets only (k = 3): his raw points are used
    return [
        Score(1, 1, 81), Score(1, 2, 81), Score(1, 3, 79), Score(1, 4, 79),
        Score(2, 1, 67), Score(2, 2, 53), Score(2, 3, 67), Score(2, 4, 53),
        Score(3, 4, 90), Score(3, 5, 88),
    ]


def test_zscore_normalisation_by_hand():
    result = agg.aggregate(lenient_and_harsh(), Settings(method=Method.ZSCORE, min_scored=3))
    # common scale: μ = (320 + 240) / 8 = 70; σ = √((4·1² + 4·7²) / 8) = √25 = 5
    assert (result.mu, result.sigma) == (70.0, 5.0)
    assert result.experts[1] == agg.ExpertNorm(1, 4, 80.0, 1.0, True)
    assert result.experts[2] == agg.ExpertNorm(2, 4, 60.0, 7.0, True)
    assert result.experts[3] == agg.ExpertNorm(
        3, 2, 89.0, 1.0, False, "仅 2 份有效评分（不少于 3 份才换算标准分），按原始分计")
    values = {(s.expert_id, s.entry_id): (s.z, s.value) for s in result.sheets}
    assert values == {
        (1, 1): (1.0, 75.0), (1, 2): (1.0, 75.0), (1, 3): (-1.0, 65.0), (1, 4): (-1.0, 65.0),  # 70 ± 1 × 5
        (2, 1): (1.0, 75.0), (2, 2): (-1.0, 65.0), (2, 3): (1.0, 75.0), (2, 4): (-1.0, 65.0),
        (3, 4): (None, 90.0), (3, 5): (None, 88.0),
    }
    scores = {i: r.score for i, r in result.entries.items()}
    # entry 1: (75 + 75) / 2; 2: (75 + 65) / 2; 3: (65 + 75) / 2; 4: (65 + 65 + 90) / 3 = 73.33…; 5: 88 raw
    assert scores == {1: 75.0, 2: 70.0, 3: 70.0, 4: 73.33, 5: 88.0}
    # the raw means rank 1 > 3 > 2: the harsh expert's spread no longer decides
    assert {i: r.mean for i, r in result.entries.items()} == {1: 74.0, 2: 67.0, 3: 73.0, 4: 74.0, 5: 88.0}


def test_below_k_everything_falls_back_to_the_raw_mean():
    result = agg.aggregate(lenient_and_harsh(), Settings(method=Method.ZSCORE, min_scored=5))
    assert (result.mu, result.sigma) == (None, None)
    assert [e.normalised for e in result.experts.values()] == [False, False, False]
    assert {i: r.score for i, r in result.entries.items()} == {1: 74.0, 2: 67.0, 3: 73.0, 4: 74.0, 5: 88.0}


def test_an_expert_with_identical_scores_is_not_normalised():
    scores = [Score(1, i, 80) for i in range(1, 4)] + [Score(2, i, p) for i, p in [(1, 70), (2, 60), (3, 50)]]
    result = agg.aggregate(scores, Settings(method=Method.ZSCORE, min_scored=3))
    assert result.experts[1] == agg.ExpertNorm(1, 3, 80.0, 0.0, False, "所评分数全部相同，无法换算标准分，按原始分计")
    # expert 2 alone is the common scale: his values are his raw points
    assert [r.score for r in result.entries.values()] == [75.0, 70.0, 65.0]  # (80 + 70) / 2, …


def test_vetoed_sheets_do_not_enter_the_experts_scale():
    scores = [Score(1, 1, 90), Score(1, 2, 70), Score(1, 3, 0, True, "政治方向错误")]
    result = agg.aggregate(scores, Settings(method=Method.ZSCORE, min_scored=2))
    # m = (90 + 70) / 2 = 80, SD = 10; the vetoed 0 is not counted
    assert result.experts[1] == agg.ExpertNorm(1, 2, 80.0, 10.0, True)
    assert [(s.z, s.value) for s in result.sheets] == [(1.0, 90.0), (-1.0, 70.0), (-8.0, 0.0)]
    assert [r.score for r in result.entries.values()] == [90.0, 70.0, 0.0]


def test_rescaled_values_are_clamped_to_the_rubric_scale():
    # expert 1: 0 0 0 100 → m = 25, variance = (3·625 + 75²) / 4 = 1875
    # expert 2: 50 50 52 48 → m = 50, variance = (0 + 0 + 4 + 4) / 4 = 2, SD = √2
    # μ = (100 + 200) / 8 = 37.5, σ² = (4·1875 + 4·2) / 8 = 938.5
    # expert 2's 48: z = −2/√2 = −√2 → 37.5 − √2 × √938.5 = 37.5 − √1877 ≈ −5.82 → 0
    scores = [Score(1, i, p) for i, p in zip((1, 2, 3, 4), (0, 0, 0, 100), strict=True)]
    scores += [Score(2, i, p) for i, p in zip((1, 2, 3, 4), (50, 50, 52, 48), strict=True)]
    result = agg.aggregate(scores, Settings(method=Method.ZSCORE, min_scored=4))
    assert (result.mu, result.sigma) == (37.5, math.sqrt(938.5))
    value = {(s.expert_id, s.entry_id): s.value for s in result.sheets}
    assert value[(2, 4)] == 0.0
    assert value[(1, 4)] == pytest.approx(37.5 + math.sqrt(3) * math.sqrt(938.5))  # z = 75 / √1875 = √3


@st.composite
def rounds(draw, max_entries=12, max_experts=6):
    n_entries = draw(st.integers(1, max_entries))
    n_experts = draw(st.integers(1, max_experts))
    points = st.one_of(st.integers(0, 100), st.floats(0, 100, allow_nan=False).map(lambda x: round(x, 1)))
    scores = []
    for entry_id in range(1, n_entries + 1):
        panel = draw(st.sets(st.integers(1, n_experts), max_size=n_experts))
        for expert_id in sorted(panel):
            vetoed = draw(st.integers(0, 9)) == 0  # about one sheet in ten
            scores.append(Score(expert_id, entry_id, draw(points), vetoed, "科学性错误" if vetoed else ""))
    subjects = ["语文", "数学", "物理"]
    entries = [Entry(i, draw(st.sampled_from(["subject", "special", "experiment"])), draw(st.sampled_from(subjects)),
                     f"课{i}", draw(st.none() | st.datetimes(datetime(2024, 9, 1), datetime(2024, 9, 3)).map(
                         lambda d: d.replace(tzinfo=CST, minute=0, second=0, microsecond=0))))
               for i in range(1, n_entries + 1)]
    return entries, scores


@settings(max_examples=150, deadline=None)
@given(rounds(), st.integers(2, 4))
def test_normalised_z_scores_have_mean_0_and_sd_1(data, k):
    _, scores = data
    result = agg.aggregate(scores, Settings(method=Method.ZSCORE, min_scored=k))
    for e in result.experts.values():
        z = [s.z for s in result.sheets if s.expert_id == e.expert_id and not s.vetoed]
        if e.normalised:
            assert len(z) >= k
            assert abs(math.fsum(z) / len(z)) < 1e-9
            assert agg.pstdev(z) == pytest.approx(1.0, abs=1e-9)
        else:
            assert z == [None] * len(z)
    for s in result.sheets:
        assert 0 <= s.value <= 100


@settings(max_examples=150, deadline=None)
@given(rounds(), st.sampled_from(list(Method)), st.randoms(use_true_random=False))
def test_ranking_is_a_total_deterministic_order_invariant_to_input_order(data, method, rnd):
    entries, scores = data
    config = Settings(method=method, min_scored=2)
    groups = agg.rank(entries, agg.aggregate(scores, config))
    shuffled_scores, shuffled_entries = scores[:], entries[:]
    rnd.shuffle(shuffled_scores)
    rnd.shuffle(shuffled_entries)
    assert agg.rank(shuffled_entries, agg.aggregate(shuffled_scores, config)) == groups
    scored = {s.entry_id for s in scores}
    seen = []
    for g in groups:
        assert [row.rank for row in g.rows] == list(range(1, len(g.rows) + 1))
        keys = [agg.sort_key(row.entry, row.result) for row in g.rows]
        assert all(a < b for a, b in zip(keys, keys[1:], strict=False))  # strictly ordered: no ties left
        assert [row.decided_by == "" for row in g.rows] == [i == 0 for i in range(len(g.rows))]
        assert all(row.result.score == 0 for row in g.rows if row.result.vetoes)
        assert all((row.entry.category, row.entry.subject) == (g.category, g.subject) for row in g.rows)
        seen += [row.entry.entry_id for row in g.rows] + [e.entry_id for e in g.unscored]
        assert not scored & {e.entry_id for e in g.unscored}
    assert sorted(seen) == [e.entry_id for e in entries]  # every entry exactly once


# --- ranking ---------------------------------------------------------------------------------------------
def test_tie_breaks_in_order():
    early, late = datetime(2024, 9, 1, 9, tzinfo=CST), datetime(2024, 9, 2, 9, tzinfo=CST)
    scores = (
        sheets(1, 90, 90, 90)  # 90.0
        + sheets(2, 80, 80, 80)  # 80.0, median 80, SD 0
        + sheets(3, 70, 80, 90)  # 80.0, median 80, SD √(200/3) ≈ 8.16: after 2 (SD 0)
        + sheets(4, 70, 85, 85)  # 80.0, median 85: higher median, ahead of 2 and 3
        + sheets(5, 75, 75, 75) + sheets(6, 75, 75, 75) + sheets(7, 75, 75, 75) + sheets(8, 75, 75, 75)
        + [Score(1, 9, 0, True, "非原创"), Score(2, 9, 0)]  # vetoed: 0, one veto
        + [Score(1, 10, 0, True, "非原创"), Score(2, 10, 0, True, "非原创")]  # vetoed: 0, two vetoes
        + sheets(11, 0, 0)  # 0, no veto
    )
    entries = [entry(i) for i in range(1, 12)]
    entries[4] = entry(5, submitted_at=late)
    entries[5] = entry(6, submitted_at=early)
    groups = agg.rank(entries + [entry(12)], agg.aggregate(scores))
    assert len(groups) == 1
    rows = [(r.rank, r.entry.entry_id, r.result.score, r.decided_by) for r in groups[0].rows]
    assert rows == [
        (1, 1, 90.0, ""),
        (2, 4, 80.0, "得分更高"),
        (3, 2, 80.0, "中位数更高"),
        (4, 3, 80.0, "标准差更小"),
        (5, 6, 75.0, "得分更高"),
        (6, 5, 75.0, "提交更早"),
        (7, 7, 75.0, "提交更早"),  # without a submission time: after those with one
        (8, 8, 75.0, "作品编号更小"),
        (9, 11, 0.0, "得分更高"),
        (10, 9, 0.0, "否决票更少"),
        (11, 10, 0.0, "否决票更少"),
    ]
    assert groups[0].unscored == (entry(12),)


def test_rankings_are_per_category_and_subject_in_a_fixed_order():
    entries = [entry(1, "experiment", "物理"), entry(2, "special", "生活适应"), entry(3, "subject", "语文"),
               entry(4, "subject", "数学"), entry(5, "subject", "数学"), entry(6, "experiment", "化学")]
    scores = [Score(1, i, 60 + i) for i in range(1, 7)]
    groups = agg.rank(entries, agg.aggregate(scores))
    # 学科课程, 特殊教育, 实验教学; subjects by code point (数 U+6570 < 语 U+8BED, 化 U+5316 < 物 U+7269)
    assert [(g.category, g.subject, [r.entry.entry_id for r in g.rows]) for g in groups] == [
        ("subject", "数学", [5, 4]), ("subject", "语文", [3]), ("special", "生活适应", [2]),
        ("experiment", "化学", [6]), ("experiment", "物理", [1]),
    ]


def test_a_scored_entry_outside_the_round_is_refused():
    with pytest.raises(ServiceError) as e:
        agg.rank([entry(1)], agg.aggregate(sheets(1, 80) + sheets(2, 70) + sheets(3, 60)))
    assert e.value.message == "有评分的作品不在本轮作品中：2、3。请核对评审轮次的作品范围。"
    with pytest.raises(ServiceError) as e:
        agg.rank([entry(1), entry(1)], agg.aggregate(sheets(1, 80)))
    assert e.value.message == "作品重复：每件作品在一轮评审中只能出现一次。"


# --- export rows -----------------------------------------------------------------------------------------
def test_export_sheets_rows():
    scores = [Score(1, 1, 81), Score(1, 2, 81), Score(1, 3, 79), Score(1, 4, 79),
              Score(2, 1, 67), Score(2, 2, 53), Score(2, 3, 67), Score(2, 4, 53, True, "科学性错误")]
    result = agg.aggregate(scores, Settings(method=Method.ZSCORE, min_scored=3))
    # expert 1 as above (m 80, SD 1); expert 2 without his vetoed sheet: 67 53 67 → m = 187/3 = 62.33,
    # variance = ((14/3)² + (28/3)² + (14/3)²) / 3 = 392/9 = 43.56, SD = 14√2/3 = 6.60, so his z-scores
    # are 1/√2 = 0.7071 (67) and −√2 = −1.4142 (53); μ = (320 + 187) / 7 = 72.4286,
    # σ = √((4·1 + 3·392/9) / 7) = √19.238 = 4.3861
    # values: 72.4286 ± 4.3861 = 76.81 / 68.04; 72.4286 + 0.7071 × 4.3861 = 75.53; 72.4286 − 1.4142 × 4.3861 = 66.23
    # entry means: 1 (76.81 + 75.53) / 2 = 76.17; 2 (76.81 + 66.23) / 2 = 71.52; 3 (68.04 + 75.53) / 2 = 71.79;
    # 4 (68.04 + 66.23) / 2 = 67.13 but vetoed: 0
    entries = [entry(1), entry(2, "special", "生活适应"), entry(3), entry(4), entry(5)]
    expert_sheet, entry_sheet, ranking_sheet = agg.export_sheets(result, entries, {1: "王专家", 2: "李专家"})
    assert expert_sheet.name == "专家评分"
    assert expert_sheet.headers == ["专家编号", "专家", "作品编号", "作品名称", "类别", "学科", "总分", "z 分数", "换算分",
                                    "一票否决", "否决理由"]
    assert expert_sheet.rows == [
        [1, "王专家", 1, "课1", "学科课程", "语文", 81.0, 1.0, 76.81, "", ""],
        [1, "王专家", 2, "课2", "特殊教育", "生活适应", 81.0, 1.0, 76.81, "", ""],
        [1, "王专家", 3, "课3", "学科课程", "语文", 79.0, -1.0, 68.04, "", ""],
        [1, "王专家", 4, "课4", "学科课程", "语文", 79.0, -1.0, 68.04, "", ""],
        [2, "李专家", 1, "课1", "学科课程", "语文", 67.0, 0.7071, 75.53, "", ""],
        [2, "李专家", 2, "课2", "特殊教育", "生活适应", 53.0, -1.4142, 66.23, "", ""],
        [2, "李专家", 3, "课3", "学科课程", "语文", 67.0, 0.7071, 75.53, "", ""],
        [2, "李专家", 4, "课4", "学科课程", "语文", 53.0, -1.4142, 66.23, "是", "科学性错误"],
    ]
    assert entry_sheet.name == "作品汇总"
    assert entry_sheet.headers == ["作品编号", "作品名称", "类别", "学科", "评分数", "平均分", "中位数", "截尾均值", "标准差",
                                   "最高分", "最低分", "极差", "标准分均值", "组长裁定分", "裁定理由", "最终得分（标准分）", "否决票数",
                                   "否决理由", "提示"]
    assert entry_sheet.rows == [
        [1, "课1", "学科课程", "语文", 2, 74.0, 74.0, 74.0, 7.0, 81.0, 67.0, 14.0, 76.17, "", "", 76.17, 0, "", ""],
        [2, "课2", "特殊教育", "生活适应", 2, 67.0, 67.0, 67.0, 14.0, 81.0, 53.0, 28.0, 71.52, "", "", 71.52, 0, "",
         "评分分歧：最高分与最低分相差 28 分，超过 20 分，请组长裁定或增加评审专家"],
        [3, "课3", "学科课程", "语文", 2, 73.0, 73.0, 73.0, 6.0, 79.0, 67.0, 12.0, 71.79, "", "", 71.79, 0, "", ""],
        [4, "课4", "学科课程", "语文", 2, 66.0, 66.0, 66.0, 13.0, 79.0, 53.0, 26.0, 67.13, "", "", 0.0, 1,
         "专家 2：科学性错误",
         "评分分歧：最高分与最低分相差 26 分，超过 20 分，请组长裁定或增加评审专家；1/2 位专家一票否决，请组长核实"],
        [5, "课5", "学科课程", "语文", 0, "", "", "", "", "", "", "", "", "", "", "", "", "", "未评分"],
    ]
    assert ranking_sheet.name == "排名"
    assert ranking_sheet.headers == ["类别", "学科", "名次", "作品编号", "作品名称", "最终得分", "中位数", "标准差", "否决票数",
                                     "排名依据", "提示"]
    assert ranking_sheet.rows == [
        ["学科课程", "语文", 1, 1, "课1", 76.17, 74.0, 7.0, 0, "", ""],
        ["学科课程", "语文", 2, 3, "课3", 71.79, 73.0, 6.0, 0, "得分更高", ""],
        ["学科课程", "语文", 3, 4, "课4", 0.0, 66.0, 13.0, 1, "得分更高",
         "评分分歧：最高分与最低分相差 26 分，超过 20 分，请组长裁定或增加评审专家；1/2 位专家一票否决，请组长核实"],
        ["学科课程", "语文", "", 5, "课5", "", "", "", "", "", "未评分"],
        ["特殊教育", "生活适应", 1, 2, "课2", 71.52, 67.0, 14.0, 0, "", "评分分歧：最高分与最低分相差 28 分，超过 20 分，请组长裁定或增加评审专家"],
    ]


def test_many_entries_aggregate_and_rank():
    # a province-sized round in miniature; pure: without the django_db mark any query would raise here
    rnd = random.Random(10)
    entries = [entry(i, rnd.choice(["subject", "special", "experiment"]), rnd.choice(["语文", "数学"]))
               for i in range(1, 2001)]
    scores = [Score(x, e.entry_id, rnd.randint(40, 100)) for e in entries for x in rnd.sample(range(1, 101), 3)]
    result = agg.aggregate(scores, Settings(method=Method.ZSCORE))
    groups = agg.rank(entries, result)
    assert [(g.category, g.subject) for g in groups] == [
        ("subject", "数学"), ("subject", "语文"), ("special", "数学"), ("special", "语文"),
        ("experiment", "数学"), ("experiment", "语文")]
    assert sum(len(g.rows) for g in groups) == 2000
    assert all(e.normalised for e in result.experts.values())  # 100 experts, 60 sheets each on average
    sheets_ = agg.export_sheets(result, entries, {})
    assert [len(s.rows) for s in sheets_] == [6000, 2000, 2000]
