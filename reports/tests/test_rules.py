"""The pure counting and chart functions of the dashboards."""

from collections import Counter

from reports import rules
from reports.rules import ChartSpec, Section


def test_dimension_rows_count_declared_received_recommended_awarded_in_order():
    got = rules.dimension_rows(
        Counter(["subject", "subject", "special", "experiment", "x"]),
        [("subject", "pending", False, 1), ("experiment", "recommended", True, 1), ("experiment", "declined", False, 1)],
        str.upper, ["subject", "special", "experiment"])
    assert got == [["SUBJECT", 2, 1, 0, 0], ["SPECIAL", 1, 0, 0, 0], ["EXPERIMENT", 1, 2, 1, 1], ["X", 1, 0, 0, 0]]
    # Counted rows (a GROUP BY's): the same figures.
    assert rules.dimension_rows(
        {"subject": 2, "special": 1, "experiment": 1, "x": 1},
        [("subject", "pending", False, 1), ("experiment", "recommended", True, 1), ("experiment", "declined", False, 1)],
        str.upper, ["subject", "special", "experiment"]) == got
    assert rules.dimension_rows({"math": 0}, [("math", "pending", True, 3), ("math", "recommended", True, 2)], str) == [
        ["math", 0, 5, 2, 5]]


def test_dimension_rows_leave_out_keys_never_seen():
    assert rules.dimension_rows({}, [], str, ["subject"]) == []
    assert rules.dimension_rows({"subject": 0}, [("special", "pending", False, 0)], str, ["subject"]) == []


def test_state_rows_total_each_unit():
    assert rules.state_rows([("甲", Counter(pending=2, declined=1)), ("乙", Counter())], ["pending", "declined"]) == [
        ["甲", 2, 1, 3], ["乙", 0, 0, 0]]


def test_failure_rows_label_and_order_the_counted_reasons_most_failures_first():
    got = rules.failure_rows([
        ("resolution", 2, 0, 1, ""), ("fps", 0, 1, 1, ""), ("duration", 1, 0, 1, ""),
        ("type", 1, 0, 1, "文件类型"),  # no label of ours: the finding's own
        ("odd", 0, 0, 0, ""),  # nothing failing or warned: left out
    ], {"resolution": "分辨率", "fps": "帧率", "duration": "时长"})
    assert got == [["分辨率", 2, 0, 1], ["文件类型", 1, 0, 1], ["时长", 1, 0, 1], ["帧率", 0, 1, 1]]
    assert rules.failure_rows([("x", 0, 2, 1, "")], {}) == [["x", 0, 2, 1]]


def test_percent():
    assert (rules.percent(2, 3), rules.percent(0, 0), rules.percent(3, 3)) == (66.7, 0.0, 100.0)


def section(**spec):
    return Section("k", "标题", [("单位", 10), ("甲", 5), ("乙", 5), ("名额", 5)],
                   [["A", 1, 2, 10], ["B", 0, 3, None]], ChartSpec(**spec))


def test_chart_option_stacked_horizontal_bars():
    option = rules.chart_option(section(series=(1, 2), stack=True, horizontal=True))
    assert option["yAxis"]["data"] == ["A", "B"] and option["yAxis"]["inverse"] is True
    assert option["xAxis"]["type"] == "value"
    assert [(s["type"], s["name"], s["data"], s["stack"]) for s in option["series"]] == [
        ("bar", "甲", [1, 0], "total"), ("bar", "乙", [2, 3], "total")]
    # Plain JSON, tooltips drawn in the canvas (no HTML with style attributes).
    assert option["tooltip"]["renderMode"] == "richText"


def test_chart_option_marker_and_percent_axis():
    option = rules.chart_option(section(series=(1,), marker=3, percent=True))
    assert option["xAxis"]["data"] == ["A", "B"]
    assert option["yAxis"]["max"] == 100
    assert [(s["type"], s["data"]) for s in option["series"]] == [("bar", [1, 0]), ("scatter", [10, None])]
    assert "stack" not in option["series"][0]


def test_chart_names_join_several_columns():
    s = Section("k", "t", [("a", 1), ("b", 1), ("n", 1)], [["县级", "物理", 1], ["市级", "", 2]], ChartSpec(x=(0, 1), series=(2,)))
    assert rules.chart_option(s)["xAxis"]["data"] == ["县级 · 物理", "市级"]


def test_chart_height_grows_with_horizontal_rows():
    assert rules.chart_height(section(horizontal=False)) == 320
    rows = [[str(i), 1, 1, 1] for i in range(20)]
    tall = Section("k", "t", [("a", 1)] * 4, rows, ChartSpec(horizontal=True))
    assert rules.chart_height(tall) == 80 + 28 * 20
