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


def failure_rows(resources: Iterable[tuple[int, list]], labels: dict[str, str], *, fail: str = "fail",
                 warn: str = "warn") -> list[Row]:
    """Check findings counted by rule: [reason, files failing it, files warned by it, entries
    concerned]. ``resources``: (course id, findings) of each file; a finding is a dict with ``rule``,
    ``level`` and ``label``. The rule's label comes from ``labels``, else the finding's own. Most
    failures first."""
    failing, warned, courses, label_of = Counter(), Counter(), {}, {}
    for course_id, findings in resources:
        seen = set()
        for f in findings or []:
            level, rule = f.get("level"), f.get("rule") or ""
            if level not in (fail, warn) or (rule, level) in seen:
                continue
            seen.add((rule, level))
            (failing if level == fail else warned)[rule] += 1
            courses.setdefault(rule, set()).add(course_id)
            label_of.setdefault(rule, str(labels.get(rule) or f.get("label") or rule))
    rules = sorted(courses, key=lambda r: (-failing[r], -warned[r], label_of[r]))
    return [[label_of[r], failing[r], warned[r], len(courses[r])] for r in rules]


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
