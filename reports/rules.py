"""Pure decisions of the dashboards: counting plain rows into table rows, and a table into the
options of an ECharts chart. Plain data in, plain data out: no ORM, no I/O.

A section's table is a list of rows (lists of str / int / float / None) under its headers. Its
chart names the columns it draws (``ChartSpec``): the category axis (``x``), the columns drawn as
series (``series``, stacked or side by side) and optionally a column drawn as a line (``line``,
e.g. the quota or the cap beside what was used).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

Row = list  # str | int | float | None cells


@dataclass(frozen=True)
class ChartSpec:
    x: int | tuple[int, ...] = 0  # column(s) of the category axis, joined by " · "
    series: tuple[int, ...] = (1,)  # columns drawn as bars
    stack: bool = False
    horizontal: bool = False
    marker: int | None = None  # a column drawn as a marker on each bar (a quota, a cap)
    percent: bool = False  # the value axis is a percentage (0–100)


@dataclass
class Section:
    """One block of the dashboard: a chart, its table and its Excel export share these rows."""

    key: str
    title: str
    columns: list[tuple[str, int]]  # (header, width in characters in the Excel sheet)
    rows: list[Row]
    chart: ChartSpec = field(default_factory=ChartSpec)
    note: str = ""

    @property
    def headers(self) -> list[str]:
        return [str(h) for h, _w in self.columns]


# --- counting ---------------------------------------------------------------------------------------
def dimension_rows(declared: Mapping[str, int], received: Iterable[tuple[str, str, bool, int]],
                   labels: Callable[[str], str], order: Sequence[str] = (), *, recommended: str = "recommended"
                   ) -> list[Row]:
    """Entries counted by one dimension (category, stage or subject): [label, declared in the area,
    received at the unit's level, recommended by it, awarded by it]. ``declared``: how many courses
    entered the campaign in the area, by key; ``received``: (key, state, awarded, how many) of the
    entries the unit holds (as counted by a GROUP BY). Keys in ``order`` first (in that order),
    then the rest by name; keys never seen (or counted 0) are left out."""
    declared_n = Counter({k: n for k, n in declared.items() if n})
    received_n, recommended_n, awarded_n = Counter(), Counter(), Counter()
    for key, state, awarded, n in received:
        received_n[key] += n
        recommended_n[key] += n if state == recommended else 0
        awarded_n[key] += n if awarded else 0
    keys = {k for k, n in declared_n.items() if n} | {k for k, n in received_n.items() if n}
    ordered = [k for k in order if k in keys] + sorted(k for k in keys if k not in order)
    return [[labels(k), declared_n[k], received_n[k], recommended_n[k], awarded_n[k]] for k in ordered]


def state_rows(units: Iterable[tuple[str, Counter]], states: Sequence[str]) -> list[Row]:
    """One row per unit: its name, how many of its entries are in each state, and the total."""
    return [[name, *(counts.get(s, 0) for s in states), sum(counts.get(s, 0) for s in states)]
            for name, counts in units]


def failure_rows(counted: Iterable[tuple[str, int, int, int, str]], labels: dict[str, str]) -> list[Row]:
    """Check findings counted by rule: [reason, files failing it, files warned by it, courses
    concerned]. ``counted``: (rule, files failing, files warned, courses, the findings' own label)
    per rule, as the database counts them (a file counts a rule and level once). The rule's label
    comes from ``labels``, else the finding's own, else the rule. Most failures first."""
    rows = [(str(labels.get(rule) or label or rule), failing, warned, courses)
            for rule, failing, warned, courses, label in counted if failing or warned]
    return [list(r) for r in sorted(rows, key=lambda r: (-r[1], -r[2], r[0]))]


def percent(part: int, whole: int) -> float:
    """part/whole in per cent, one decimal; 0.0 when there is nothing."""
    return round(100.0 * part / whole, 1) if whole else 0.0


# --- charts -----------------------------------------------------------------------------------------
def _number(value) -> float | int:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 0


def chart_height(section: Section) -> int:
    """Pixels the chart needs: 320, or more for horizontal bars (28 px a row), so that a province's
    cities or a long list of reasons stay readable."""
    return max(320, 80 + 28 * len(section.rows)) if section.chart.horizontal else 320


def chart_option(section: Section) -> dict:
    """The ECharts option of a section: plain JSON (no functions), so that the page can carry it in
    a ``<script type="application/json">`` block under a strict Content-Security-Policy. Tooltips
    render in the canvas (``renderMode: richText``): ECharts' HTML tooltips carry ``style``
    attributes, which the policy refuses."""
    spec, headers, rows = section.chart, section.headers, section.rows
    xs = spec.x if isinstance(spec.x, tuple) else (spec.x,)
    names = [" · ".join(str(r[c]) for c in xs if r[c] not in (None, "")) for r in rows]
    base = {"animation": False, "tooltip": {"renderMode": "richText", "confine": True},
            "legend": {"top": 0, "type": "scroll"}, "aria": {"enabled": True}}
    category_axis = {"type": "category", "data": names, "axisLabel": {"interval": 0, "hideOverlap": True}}
    value_axis = {"type": "value", "minInterval": 1}
    if spec.percent:
        value_axis = {"type": "value", "min": 0, "max": 100, "axisLabel": {"formatter": "{value} %"}}
    series = [{"type": "bar", "name": headers[c], "data": [_number(r[c]) for r in rows], "barMaxWidth": 48,
               **({"stack": "total"} if spec.stack else {})} for c in spec.series]
    if spec.marker is not None:
        series.append({"type": "scatter", "name": headers[spec.marker], "data": [
            r[spec.marker] if isinstance(r[spec.marker], int | float) else None for r in rows],
            "symbol": "diamond", "symbolSize": 14})
    return {**base, "tooltip": {**base["tooltip"], "trigger": "axis"},
            "grid": {"top": 40, "left": 8, "right": 16, "bottom": 8, "containLabel": True},
            "xAxis": value_axis if spec.horizontal else category_axis,
            "yAxis": {**category_axis, "inverse": True} if spec.horizontal else value_axis,
            "series": series}
