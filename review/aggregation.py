"""Aggregation and ranking of expert scores: plain data in, decisions out. No ORM, no I/O.

The services load a round's submitted score sheets as ``Score`` (one per expert × entry: the
sheet's total points on the rubric's 0–``scale_max`` scale, whether the expert vetoed the entry
and his written reason), the round's entries as ``Entry`` and the round's ``Settings``; they call
``aggregate`` then ``rank``, and ``export_sheets`` for the Excel rows. What is decided here:

Per entry (over its sheets' raw points, as entered):
- ``count``, ``mean``, ``median`` (the mean of the two middle values when the count is even),
  ``minimum``, ``maximum``, ``spread`` = maximum − minimum;
- ``trimmed_mean``: by default the highest and the lowest score are dropped when there are at least
  3 scores (fewer: the plain mean). With ``Settings.trim_fraction`` = f (0 ≤ f < 0.5) instead,
  ⌊f × count⌋ scores are dropped at each end (scipy's ``trim_mean`` convention; f = 0.2 with 5
  scores drops one at each end, with 4 scores none);
- ``sd``: the **population** standard deviation (divide by the count, not count − 1): the panel's
  sheets are all the sheets of that entry, not a sample of them; it is 0 for a single score, so it
  is defined for every scored entry and usable as a tie-break.

Per expert, z-score normalisation (``Method.ZSCORE``):
- An expert's own statistics (mean mₑ, population SD sₑ) are taken over his sheets **without** a
  veto (a veto says nothing about his scale). He is normalised once he has at least
  ``Settings.min_scored`` (k) such sheets and sₑ > 0; otherwise **his raw points are used as they
  are** (``ExpertNorm.reason`` says why), so an entry whose experts are all below k falls back to
  its plain mean.
- z = (points − mₑ) / sₑ; the normalised experts' z-scores have mean 0 and population SD 1.
- Re-scaled to the rubric's scale with the common μ/σ of the normalised experts: μ = the mean of
  all their vetoless raw points, σ = their pooled within-expert SD, √(Σ nₑ·sₑ² / Σ nₑ); value =
  μ + z × σ, clamped to [0, scale_max]. The entry's normalised mean is the mean of its sheets'
  values (re-scaled for normalised experts, raw for the others).

The method is chosen per round (``Method``: mean, median, trimmed mean, z-score); the entry's
``score`` is that statistic **rounded to 2 decimals**, which is what is shown, exported and ranked.

Veto (一票否决): one expert's veto, with its written reason, sets the entry's score to 0 (the
statistics above still describe the sheets as entered). A veto without a reason is refused.

Disagreement: ``spread`` (rounded to 2 decimals) strictly above ``Settings.disagreement_threshold``
flags the entry for the chair (adjudicate or add a reviewer); so does a veto by some but not all of
its experts. The chair's adjudication (``Adjudication``: his score and a written reason) replaces the
round's statistic of a flagged entry without a veto; a split veto is settled by reopening the vetoing
expert's sheet instead.

Ranking (``rank``): per category and subject, a total order, whatever order the data came in:
1. higher score; 2. fewer vetoes; 3. higher median; 4. lower standard deviation (medians and SDs
compared at 2 decimals); 5. earlier submission (``Entry.submitted_at``; entries without one come
after those with one); 6. lower entry id. Every ranked row says which of these set it below the row
above (``decided_by``). Entries without any score are not ranked; they are listed per group as
unscored.

Defaults (``Settings``, a round sets its own): the mean, trimming one score at each end, k = 5, a
0–100 scale, disagreement above 20 points.

The export rows (``export_sheets``) hold only what the caller passes in ``Entry`` (its title) and
the expert names it maps: no teacher, school or county unless the caller puts it there.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import NamedTuple

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.enums import Category
from jingpinke.errors import ServiceError


class Method(models.TextChoices):
    MEAN = "mean", gettext_lazy("平均分")
    MEDIAN = "median", gettext_lazy("中位数")
    TRIMMED = "trimmed", gettext_lazy("截尾均值")
    ZSCORE = "zscore", gettext_lazy("标准分")


# --- input ---------------------------------------------------------------------------------------------
class Score(NamedTuple):
    """One expert's submitted sheet for one entry: total points, veto and its written reason."""

    expert_id: int
    entry_id: int
    points: float
    vetoed: bool = False
    veto_reason: str = ""


class Entry(NamedTuple):
    """An entry of the round as the ranking needs it. ``title`` is what the exports show."""

    entry_id: int
    category: str
    subject: str
    title: str = ""
    submitted_at: datetime | None = None


@dataclass(frozen=True)
class Settings:
    """A round's aggregation settings (campaign data; these are the defaults)."""

    method: str = Method.MEAN
    trim_fraction: float | None = None  # None: drop the highest and the lowest when count ≥ 3
    min_scored: int = 5  # k: vetoless sheets an expert needs before his scores are normalised
    scale_max: float = 100.0
    disagreement_threshold: float = 20.0


DEFAULTS = Settings()


class Adjudication(NamedTuple):
    """The panel chair's decision on an entry flagged for disagreement: his score, with a written
    reason, replaces the round's statistic."""

    entry_id: int
    points: float
    reason: str


# --- output --------------------------------------------------------------------------------------------
class SheetResult(NamedTuple):
    """One sheet after aggregation: ``z`` only for a normalised expert; ``value`` is what the
    z-score method uses (re-scaled for a normalised expert, else the raw points)."""

    expert_id: int
    entry_id: int
    points: float
    vetoed: bool
    veto_reason: str
    z: float | None
    value: float


class ExpertNorm(NamedTuple):
    expert_id: int
    count: int  # sheets without a veto
    mean: float | None
    sd: float | None
    normalised: bool
    reason: str = ""  # why not normalised, in Chinese


class EntryResult(NamedTuple):
    entry_id: int
    count: int
    mean: float
    median: float
    trimmed_mean: float
    sd: float
    minimum: float
    maximum: float
    spread: float
    normalised_mean: float
    score: float  # by the round's method (or the chair's adjudication), 0 when vetoed, rounded to 2 decimals
    vetoes: int
    veto_reasons: tuple[tuple[int, str], ...]  # (expert id, reason), by expert id
    disagreement: bool
    flags: tuple[str, ...]  # for the chair, in Chinese
    adjudicated: float | None = None  # the chair's score, when he adjudicated
    adjudication_reason: str = ""


@dataclass(frozen=True)
class Aggregate:
    settings: Settings
    entries: dict[int, EntryResult]  # by entry id, ascending
    experts: dict[int, ExpertNorm]  # by expert id, ascending
    sheets: tuple[SheetResult, ...]  # by (expert id, entry id)
    mu: float | None  # the common scale of the normalised experts (None: nobody normalised)
    sigma: float | None


# --- validation ----------------------------------------------------------------------------------------
def settings_problems(settings: Settings) -> list[str]:
    problems = []
    if settings.method not in Method.values:
        problems.append(_("未知的汇总方法“%(m)s”：请选择平均分、中位数、截尾均值或标准分。") % {"m": settings.method})
    f = settings.trim_fraction
    if f is not None and not 0 <= f < 0.5:
        problems.append(_("截尾比例 %(f)s 无效：须不小于 0 且小于 0.5（每端去掉的评分比例）。") % {"f": f})
    if settings.min_scored < 2:
        problems.append(_("标准分换算所需的最少评分数 k 为 %(k)s：须至少为 2。") % {"k": settings.min_scored})
    if not settings.scale_max > 0:
        problems.append(_("满分 %(m)s 无效：须大于 0。") % {"m": settings.scale_max})
    if not settings.disagreement_threshold >= 0:
        problems.append(_("分歧阈值 %(t)s 无效：须不小于 0。") % {"t": settings.disagreement_threshold})
    return problems


def score_problems(scores: Iterable[Score], settings: Settings) -> list[str]:
    problems, seen = [], set()
    top = settings.scale_max
    for s in sorted(scores, key=attrgetter("expert_id", "entry_id")):
        key = (s.expert_id, s.entry_id)
        duplicate = key in seen
        seen.add(key)
        if not duplicate and 0 <= s.points <= top and not (s.vetoed and not s.veto_reason.strip()):
            continue  # the common case: no message to build
        names = {"e": s.expert_id, "x": s.entry_id, "p": s.points, "max": _fmt(top)}
        if duplicate:
            problems.append(_("专家 %(e)s 对作品 %(x)s 有多份评分：每位专家对每件作品只能提交一份评分。") % names)
            continue
        if not (0 <= s.points <= top):  # also refuses NaN
            problems.append(_("专家 %(e)s 对作品 %(x)s 的总分 %(p)s 超出 0–%(max)s 分：请更正评分。") % names)
        if s.vetoed and not s.veto_reason.strip():
            problems.append(_("专家 %(e)s 对作品 %(x)s 一票否决但未填写理由：一票否决须有书面理由。") % names)
    return problems


# --- statistics ----------------------------------------------------------------------------------------
def mean(values: list[float]) -> float:
    return math.fsum(values) / len(values)  # correctly rounded: the same for any order of the values


def pstdev(values: list[float], centre: float | None = None) -> float:
    m = mean(values) if centre is None else centre
    return math.sqrt(math.fsum((v - m) ** 2 for v in values) / len(values))


def median(ordered: list[float]) -> float:
    n = len(ordered)
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def trimmed_mean(ordered: list[float], fraction: float | None = None) -> float:
    """``ordered`` ascending. Default: drop the highest and the lowest when there are ≥ 3."""
    n = len(ordered)
    if fraction is None:
        cut = 1 if n >= 3 else 0
    else:
        cut = math.floor(fraction * n + 1e-9)  # 0.29 × 100 is 28.999…: still 29
    return mean(ordered[cut:n - cut])


def _fmt(x: float) -> str:
    return f"{x:g}"


# --- aggregation ---------------------------------------------------------------------------------------
def aggregate(scores: Iterable[Score], settings: Settings = DEFAULTS,
              adjudications: Iterable[Adjudication] = ()) -> Aggregate:
    """Every statistic of every scored entry and expert; raises ``ServiceError`` listing every
    problem (bad settings, duplicate sheets, points out of range, a veto without a reason, an
    adjudication that does not apply)."""
    scores = sorted(scores, key=attrgetter("expert_id", "entry_id"))
    problems = settings_problems(settings) or score_problems(scores, settings)
    if problems:
        raise ServiceError(_("评分数据有误，未能汇总：请先更正以下问题。"), errors=problems)

    # Experts: statistics over their vetoless sheets; normalised from k sheets on, with sₑ > 0.
    vetoless: dict[int, list[float]] = defaultdict(list)
    for s in scores:
        if not s.vetoed:
            vetoless[s.expert_id].append(s.points)
    experts: dict[int, ExpertNorm] = {}
    k = settings.min_scored
    for expert_id in dict.fromkeys(s.expert_id for s in scores):  # ascending: scores are sorted
        values = vetoless.get(expert_id, [])
        n = len(values)
        m = mean(values) if n else None
        sd = pstdev(values, m) if n else None
        if n < k:
            reason = _("仅 %(n)s 份有效评分（不少于 %(k)s 份才换算标准分），按原始分计") % {"n": n, "k": k}
            experts[expert_id] = ExpertNorm(expert_id, n, m, sd, False, reason)
        elif sd == 0:
            experts[expert_id] = ExpertNorm(expert_id, n, m, sd, False, _("所评分数全部相同，无法换算标准分，按原始分计"))
        else:
            experts[expert_id] = ExpertNorm(expert_id, n, m, sd, True)

    # The common scale of the normalised experts: their mean and pooled within-expert SD.
    normalised = [e for e in experts.values() if e.normalised]
    mu = sigma = None
    if normalised:
        total = sum(e.count for e in normalised)
        mu = math.fsum(v for e in normalised for v in vetoless[e.expert_id]) / total
        sigma = math.sqrt(math.fsum(e.count * e.sd ** 2 for e in normalised) / total)

    top = float(settings.scale_max)
    sheets: list[SheetResult] = []
    by_entry: dict[int, list[SheetResult]] = defaultdict(list)
    for s in scores:
        e = experts[s.expert_id]
        points = float(s.points)
        if e.normalised:
            z = (points - e.mean) / e.sd
            value = min(max(mu + z * sigma, 0.0), top)
        else:
            z, value = None, points
        sheet = SheetResult(s.expert_id, s.entry_id, points, s.vetoed, s.veto_reason.strip(), z, value)
        sheets.append(sheet)
        by_entry[s.entry_id].append(sheet)

    entries = {entry_id: _entry_result(entry_id, by_entry[entry_id], settings) for entry_id in sorted(by_entry)}
    if adjudications:
        entries = _adjudicate(entries, list(adjudications), settings)
    return Aggregate(settings, entries, experts, tuple(sheets), mu, sigma)


def _entry_result(entry_id: int, sheets: list[SheetResult], settings: Settings) -> EntryResult:
    ordered = sorted([s.points for s in sheets])
    n = len(ordered)
    m = mean(ordered)
    stats = {
        Method.MEAN: m,
        Method.MEDIAN: median(ordered),
        Method.TRIMMED: trimmed_mean(ordered, settings.trim_fraction),
        Method.ZSCORE: mean([s.value for s in sheets]),  # fsum: the same in any order
    }
    spread = round(ordered[-1] - ordered[0], 2)
    vetoes = tuple((s.expert_id, s.veto_reason) for s in sheets if s.vetoed)  # sheets are by expert id
    score = 0.0 if vetoes else round(stats[settings.method], 2)
    disagreement = n >= 2 and spread > settings.disagreement_threshold
    flags = ()
    if disagreement or vetoes:
        flags = []
        if disagreement:
            flags.append(_("评分分歧：最高分与最低分相差 %(d)s 分，超过 %(t)s 分，请组长裁定或增加评审专家") % {
                "d": _fmt(spread), "t": _fmt(settings.disagreement_threshold)})
        if vetoes and len(vetoes) < n:
            flags.append(_("%(v)s/%(n)s 位专家一票否决，请组长核实") % {"v": len(vetoes), "n": n})
        flags = tuple(flags)
    return EntryResult(entry_id, n, m, stats[Method.MEDIAN], stats[Method.TRIMMED], pstdev(ordered, m), ordered[0],
                       ordered[-1], spread, stats[Method.ZSCORE], score, len(vetoes), vetoes, disagreement, flags)


def _adjudicate(entries: dict[int, EntryResult], adjudications: list[Adjudication],
                settings: Settings) -> dict[int, EntryResult]:
    """Only an entry flagged for disagreement, without a veto (a split veto is settled by reopening
    the vetoing expert's sheet), once, within the scale and with a written reason."""
    problems, seen = [], set()
    for a in sorted(adjudications, key=attrgetter("entry_id")):
        r = entries.get(a.entry_id)
        names = {"x": a.entry_id, "p": a.points, "max": _fmt(settings.scale_max)}
        if a.entry_id in seen:
            problems.append(_("作品 %(x)s 有多份组长裁定：每件作品只能裁定一次。") % names)
        elif r is None:
            problems.append(_("作品 %(x)s 尚无评分：不能裁定。") % names)
        elif r.vetoes:
            problems.append(_("作品 %(x)s 已被一票否决：请组长先重开否决专家的评分表核实，不能以裁定分代替。") % names)
        elif not r.disagreement:
            problems.append(_("作品 %(x)s 的评分分歧未超过阈值：无需裁定。") % names)
        elif not (0 <= a.points <= settings.scale_max):
            problems.append(_("作品 %(x)s 的裁定分 %(p)s 超出 0–%(max)s 分：请更正。") % names)
        elif not a.reason.strip():
            problems.append(_("作品 %(x)s 的裁定未填写理由：裁定须有书面理由。") % names)
        seen.add(a.entry_id)
    if problems:
        raise ServiceError(_("组长裁定有误，未能汇总：请先更正以下问题。"), errors=problems)
    entries = dict(entries)
    for a in adjudications:
        r = entries[a.entry_id]
        reason = a.reason.strip()
        flag = _("组长裁定 %(p)s 分（%(r)s）") % {"p": _fmt(round(float(a.points), 2)), "r": reason}
        entries[a.entry_id] = r._replace(score=round(float(a.points), 2), adjudicated=float(a.points),
                                         adjudication_reason=reason, flags=(*r.flags, flag))
    return entries


# --- ranking -------------------------------------------------------------------------------------------
TIE_BREAKS = (
    gettext_lazy("得分更高"),
    gettext_lazy("否决票更少"),
    gettext_lazy("中位数更高"),
    gettext_lazy("标准差更小"),
    gettext_lazy("提交更早"),
    gettext_lazy("作品编号更小"),
)


def sort_key(entry: Entry, r: EntryResult) -> tuple:
    """The ranking order, best first; one element per ``TIE_BREAKS`` label."""
    submitted = (0, entry.submitted_at.timestamp()) if entry.submitted_at else (1, 0.0)
    return (-r.score, r.vetoes, -round(r.median, 2), round(r.sd, 2), submitted, entry.entry_id)


class RankedEntry(NamedTuple):
    rank: int
    entry: Entry
    result: EntryResult
    decided_by: str  # the tie-break that set it below the row above ("" for the first)


@dataclass(frozen=True)
class Group:
    category: str
    subject: str
    rows: tuple[RankedEntry, ...]
    unscored: tuple[Entry, ...]  # by entry id


def _category_order(category: str) -> tuple:
    values = list(Category.values)
    return (values.index(category), "") if category in values else (len(values), category)


def rank(entries: Iterable[Entry], result: Aggregate) -> list[Group]:
    """Rankings per category and subject (groups in the order 学科课程, 特殊教育, 实验教学, then by
    subject). Raises ``ServiceError`` when a scored entry is not among ``entries``."""
    entries = list(entries)
    known = {e.entry_id for e in entries}
    strays = sorted(set(result.entries) - known)
    if strays:
        raise ServiceError(_("有评分的作品不在本轮作品中：%(ids)s。请核对评审轮次的作品范围。") % {
            "ids": "、".join(str(i) for i in strays)}, errors=strays)
    if len(known) != len(entries):
        raise ServiceError(_("作品重复：每件作品在一轮评审中只能出现一次。"))
    groups: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for e in entries:
        groups[(e.category, e.subject)].append(e)
    labels = [str(label) for label in TIE_BREAKS]
    out = []
    for (category, subject) in sorted(groups, key=lambda g: (_category_order(g[0]), g[1])):
        members = groups[(category, subject)]
        scored = sorted(((sort_key(e, result.entries[e.entry_id]), e) for e in members if e.entry_id in result.entries),
                        key=lambda pair: pair[0])
        rows, previous = [], None
        for i, (key, e) in enumerate(scored, start=1):
            decided_by = ""
            if previous is not None:
                decided_by = labels[next(j for j, (a, b) in enumerate(zip(previous, key, strict=True)) if a != b)]
            rows.append(RankedEntry(i, e, result.entries[e.entry_id], decided_by))
            previous = key
        unscored = tuple(sorted((e for e in members if e.entry_id not in result.entries), key=lambda e: e.entry_id))
        out.append(Group(category, subject, tuple(rows), unscored))
    return out


# --- export rows ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sheet:
    name: str
    headers: list[str]
    rows: list[list]


def _num(x: float | None):
    return "" if x is None else round(x, 2)


def _category_labels() -> dict[str, str]:
    """Looked up once per sheet: gettext per row would cost more than the whole aggregation."""
    return defaultdict(str, {value: str(label) for value, label in Category.choices})


def _label(labels: dict[str, str], category: str) -> str:
    return labels.get(category) or category


def expert_sheet(result: Aggregate, entries: Mapping[int, Entry], expert_names: Mapping[int, str]) -> Sheet:
    """Scores per expert: one row per sheet, by expert id then entry id."""
    headers = [_("专家编号"), _("专家"), _("作品编号"), _("作品名称"), _("类别"), _("学科"), _("总分"),
               _("z 分数"), _("换算分"), _("一票否决"), _("否决理由")]
    labels, yes = _category_labels(), _("是")
    rows = []
    for s in result.sheets:
        e = entries.get(s.entry_id)
        rows.append([s.expert_id, expert_names.get(s.expert_id, ""), s.entry_id, e.title if e else "",
                     _label(labels, e.category) if e else "", e.subject if e else "", _num(s.points),
                     "" if s.z is None else round(s.z, 4), _num(s.value), yes if s.vetoed else "", s.veto_reason])
    return Sheet(_("专家评分"), headers, rows)


def entry_sheet(result: Aggregate, entries: Iterable[Entry]) -> Sheet:
    """Scores per entry, by entry id; unscored entries show 评分数 0 and 未评分."""
    headers = [_("作品编号"), _("作品名称"), _("类别"), _("学科"), _("评分数"), _("平均分"), _("中位数"),
               _("截尾均值"), _("标准差"), _("最高分"), _("最低分"), _("极差"), _("标准分均值"),
               _("组长裁定分"), _("裁定理由"), _("最终得分（%(m)s）") % {"m": Method(result.settings.method).label},
               _("否决票数"), _("否决理由"), _("提示")]
    labels, unscored = _category_labels(), _("未评分")
    rows = []
    for e in sorted(entries, key=lambda e: e.entry_id):
        head = [e.entry_id, e.title, _label(labels, e.category), e.subject]
        r = result.entries.get(e.entry_id)
        if r is None:
            rows.append(head + [0] + [""] * 13 + [unscored])
            continue
        reasons = "；".join(_("专家 %(e)s：%(r)s") % {"e": x, "r": why} for x, why in r.veto_reasons)
        rows.append(head + [r.count, _num(r.mean), _num(r.median), _num(r.trimmed_mean), _num(r.sd),
                            _num(r.maximum), _num(r.minimum), _num(r.spread), _num(r.normalised_mean),
                            _num(r.adjudicated), r.adjudication_reason, _num(r.score), r.vetoes, reasons,
                            "；".join(r.flags)])
    return Sheet(_("作品汇总"), headers, rows)


def ranking_sheet(groups: Iterable[Group]) -> Sheet:
    """The ranking, group by group; each group's unscored entries follow it without a rank."""
    headers = [_("类别"), _("学科"), _("名次"), _("作品编号"), _("作品名称"), _("最终得分"), _("中位数"),
               _("标准差"), _("否决票数"), _("排名依据"), _("提示")]
    labels, unscored = _category_labels(), _("未评分")
    rows = []
    for g in groups:
        label = _label(labels, g.category)
        for row in g.rows:
            r = row.result
            rows.append([label, g.subject, row.rank, row.entry.entry_id, row.entry.title, _num(r.score),
                         _num(r.median), _num(r.sd), r.vetoes, row.decided_by, "；".join(r.flags)])
        for e in g.unscored:
            rows.append([label, g.subject, "", e.entry_id, e.title, "", "", "", "", "", unscored])
    return Sheet(_("排名"), headers, rows)


def export_sheets(result: Aggregate, entries: Iterable[Entry], expert_names: Mapping[int, str]) -> list[Sheet]:
    """The three sheets of a round's Excel export, as plain rows: the Django layer only writes them."""
    entries = list(entries)
    by_id = {e.entry_id: e for e in entries}
    return [expert_sheet(result, by_id, expert_names), entry_sheet(result, entries),
            ranking_sheet(rank(entries, result))]
