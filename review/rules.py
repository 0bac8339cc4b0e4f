"""Pure decisions of the review app: plain data in, decisions (Chinese messages) out. No ORM, no I/O.

- ``clean_rubric``: a rubric document (dimensions → items with points and weights, veto items)
  checked and normalised, every problem listed with where it is;
- ``round_problems``: what is wrong with a round's settings;
- ``sheet_problem``: a veto without its written reason;
- ``entry_code``: the neutral code an expert sees instead of teacher, school and county.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

MAX_POINTS_PER_ITEM = Decimal("100")
MAX_WEIGHT = Decimal("10")
MAX_REVIEWERS = 15
MAX_TITLE = 100
MAX_NAME = 100
MAX_DIMENSION = 50


def _problem(where: str, column: str, message: str) -> dict:
    return {"row": str(where), "column": str(column), "message": str(message)}


def to_decimal(value, places: int = 1) -> Decimal | None:
    """A number with at most ``places`` decimals, or None when it is not one."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or abs(number) >= 10 ** 6:
        return None
    if number != number.quantize(Decimal(1).scaleb(-places)):
        return None
    return number


@dataclass(frozen=True)
class CleanRubric:
    title: str
    total_points: Decimal
    dimensions: list[dict]  # [{"name", "items": [{"name", "description", "max_points", "weight"}]}]
    vetoes: list[str]

    def as_doc(self) -> dict:
        return {"title": self.title, "total_points": str(self.total_points), "vetoes": list(self.vetoes),
                "dimensions": [{"name": d["name"], "items": [
                    {**i, "max_points": str(i["max_points"]), "weight": str(i["weight"])} for i in d["items"]]}
                    for d in self.dimensions]}


def weighted_total(dimensions: list[dict]) -> Decimal:
    """The most an entry can score: Σ max points × weight."""
    return sum((Decimal(i["max_points"]) * Decimal(i["weight"]) for d in dimensions for i in d["items"]),
               Decimal(0))


def clean_rubric(doc) -> tuple[CleanRubric | None, list[dict]]:
    """Check a rubric document; return it normalised, or None with every problem."""
    problems: list[dict] = []
    if not isinstance(doc, dict):
        return None, [_problem(_("评价指标"), "", _("评价指标应为一个对象，包含 title、total_points、dimensions 和 vetoes。"))]
    title = str(doc.get("title") or "").strip()
    if not title:
        problems.append(_problem(_("评价指标"), _("名称"), _("请填写评价指标的名称，例如“2024 年学科课程评价指标”。")))
    elif len(title) > MAX_TITLE:
        problems.append(_problem(_("评价指标"), _("名称"), _("名称最多 %(n)d 个字。") % {"n": MAX_TITLE}))
    total = to_decimal(doc.get("total_points", 100))
    if total is None or total <= 0 or total > 1000:
        problems.append(_problem(_("评价指标"), _("满分"), _("满分应为大于 0、不超过 1000 的数，例如 100。")))
        total = None
    dimensions = []
    raw_dimensions = doc.get("dimensions")
    if not isinstance(raw_dimensions, list) or not raw_dimensions:
        problems.append(_problem(_("评价指标"), _("一级指标"), _("至少需要一个一级指标，例如“目标与内容”。")))
        raw_dimensions = []
    seen_dimensions: set[str] = set()
    for d_index, raw in enumerate(raw_dimensions, start=1):
        raw = raw if isinstance(raw, dict) else {}
        where = _("第 %(n)d 个一级指标") % {"n": d_index}
        name = str(raw.get("name") or "").strip()
        if not name:
            problems.append(_problem(where, _("一级指标"), _("请填写一级指标的名称。")))
        elif len(name) > MAX_DIMENSION:
            problems.append(_problem(where, _("一级指标"), _("一级指标名称最多 %(n)d 个字。") % {"n": MAX_DIMENSION}))
        elif name in seen_dimensions:
            problems.append(_problem(where, _("一级指标"), _("一级指标“%(name)s”重复了。") % {"name": name}))
        seen_dimensions.add(name)
        items = []
        raw_items = raw.get("items")
        if not isinstance(raw_items, list) or not raw_items:
            problems.append(_problem(where, _("评价要点"), _("一级指标“%(name)s”至少需要一个评价要点。") % {"name": name}))
            raw_items = []
        for i_index, item in enumerate(raw_items, start=1):
            item = item if isinstance(item, dict) else {}
            at = _("“%(d)s”第 %(n)d 个评价要点") % {"d": name or d_index, "n": i_index}
            item_name = str(item.get("name") or "").strip()
            if not item_name:
                problems.append(_problem(at, _("评价要点"), _("请填写评价要点。")))
            elif len(item_name) > MAX_NAME:
                problems.append(_problem(at, _("评价要点"), _("评价要点最多 %(n)d 个字。") % {"n": MAX_NAME}))
            points = to_decimal(item.get("max_points"))
            if points is None or points <= 0 or points > MAX_POINTS_PER_ITEM:
                problems.append(_problem(at, _("分值"), _("分值应为大于 0、不超过 100 的数（最多一位小数），例如 10。")))
            weight = to_decimal(item.get("weight", 1), places=2)
            if weight is None or weight <= 0 or weight > MAX_WEIGHT:
                problems.append(_problem(at, _("权重"), _("权重应为大于 0、不超过 10 的数（最多两位小数），不加权填 1。")))
            items.append({"name": item_name, "description": str(item.get("description") or "").strip(),
                          "max_points": points, "weight": weight})
        dimensions.append({"name": name, "items": items})
    vetoes = []
    raw_vetoes = doc.get("vetoes", [])
    if not isinstance(raw_vetoes, list):
        problems.append(_problem(_("一票否决"), _("否决项"), _("一票否决项应为列表。")))
        raw_vetoes = []
    for v_index, raw in enumerate(raw_vetoes, start=1):
        name = str((raw.get("name") if isinstance(raw, dict) else raw) or "").strip()
        where = _("第 %(n)d 个一票否决项") % {"n": v_index}
        if not name:
            problems.append(_problem(where, _("否决项"), _("请填写否决项，或删除这一行。")))
        elif len(name) > MAX_NAME:
            problems.append(_problem(where, _("否决项"), _("否决项最多 %(n)d 个字。") % {"n": MAX_NAME}))
        elif name in vetoes:
            problems.append(_problem(where, _("否决项"), _("否决项“%(name)s”重复了。") % {"name": name}))
        else:
            vetoes.append(name)
    if total is not None and not problems:
        reached = weighted_total(dimensions)
        if reached != total:
            problems.append(_problem(_("评价指标"), _("满分"), _(
                "各评价要点的分值（乘以权重）合计 %(sum)s 分，与满分 %(total)s 分不一致：请调整分值，使合计等于满分。") % {
                "sum": _fmt(reached), "total": _fmt(total)}))
    if problems:
        return None, problems
    return CleanRubric(title, total, dimensions, vetoes), []


def _fmt(number: Decimal) -> str:
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# --- rounds ------------------------------------------------------------------------------------
def round_problems(*, title: str, category: str, categories: list[str], phase: str, reviewers_per_entry,
                   opens_at: datetime | None, closes_at: datetime | None, lecture_date: date | None = None,
                   lecture_place: str = "", rubric_category: str | None = None) -> list[dict]:
    """What is wrong with a round's settings (empty: nothing)."""
    where = _("评审轮次")
    problems = []
    if not (title or "").strip():
        problems.append(_problem(where, _("名称"), _("请填写评审轮次的名称，例如“2024 年县级初选 · 小学语文”。")))
    elif len(title.strip()) > MAX_TITLE:
        problems.append(_problem(where, _("名称"), _("名称最多 %(n)d 个字。") % {"n": MAX_TITLE}))
    if category not in categories:
        problems.append(_problem(where, _("类别"), _("请选择本活动开设的类别。")))
    elif rubric_category is not None and rubric_category != category:
        problems.append(_problem(where, _("评价指标"), _("所选评价指标不属于这个类别，请选择同一类别的评价指标。")))
    if phase not in ("design", "video", "lecture"):
        problems.append(_problem(where, _("评审环节"), _("请选择评审环节：课例设计评审、视频评审或试讲。")))
    if not isinstance(reviewers_per_entry, int) or isinstance(reviewers_per_entry, bool) or \
            not 1 <= reviewers_per_entry <= MAX_REVIEWERS:
        problems.append(_problem(where, _("每件作品评审专家数"),
                                 _("每件作品的评审专家数应为 1 到 %(n)d 之间的整数，常用 3 或 5。") % {"n": MAX_REVIEWERS}))
    if opens_at is None or closes_at is None:
        problems.append(_problem(where, _("评审时间"), _("请填写评审的开始时间和截止时间。")))
    elif closes_at <= opens_at:
        problems.append(_problem(where, _("评审时间"), _("截止时间应晚于开始时间。")))
    if phase == "lecture":
        if lecture_date is None:
            problems.append(_problem(where, _("试讲日期"), _("试讲环节须填写试讲日期。")))
        if not (lecture_place or "").strip():
            problems.append(_problem(where, _("试讲地点"), _("试讲环节须填写试讲地点。")))
    return problems


def entry_code(round_id: int, number: int) -> str:
    """The neutral code of the ``number``-th entry of a round: R12-007."""
    return f"R{round_id}-{number:03d}"


def sheet_problem(*, veto: bool, veto_reason: str) -> str | None:
    if veto and not (veto_reason or "").strip():
        return _("选择一票否决时须写明否决理由。")
    return None


def window_state(opens_at: datetime, closes_at: datetime, now: datetime) -> str:
    """"upcoming", "open" or "closed"."""
    if now < opens_at:
        return "upcoming"
    if now >= closes_at:
        return "closed"
    return "open"


def window_label(state: str) -> str:
    return {"upcoming": _("未开始"), "open": _("评审中"), "closed": _("已截止")}[state]


# --- scoring: the expert's blind score sheet ------------------------------------------------------
@dataclass(frozen=True)
class SheetItem:
    """A rubric item as the score sheet needs it."""

    id: int
    name: str
    max_points: Decimal
    weight: Decimal


@dataclass(frozen=True)
class CleanSheet:
    points: dict  # item id → Decimal (items left blank are absent)
    veto_id: int | None
    veto_reason: str
    comment: str
    total: Decimal | None  # None while an item is blank and there is no veto


MAX_COMMENT = 2000
MAX_VETO_REASON = 1000


def sheet_total(items: list[SheetItem], points: dict, vetoed: bool) -> Decimal | None:
    """Σ points × weight at one decimal; 0 with a veto; None while an item has no points."""
    if vetoed:
        return Decimal("0.0")
    if any(item.id not in points for item in items):
        return None
    total = sum((points[item.id] * item.weight for item in items), Decimal(0))
    return total.quantize(Decimal("0.1"))


def clean_sheet(items: list[SheetItem], veto_ids: list[int], *, raw_points: dict, veto_id, veto_reason: str,
                comment: str, final: bool) -> tuple[CleanSheet | None, list[dict]]:
    """Check an expert's sheet. ``raw_points`` maps item id → the text typed ("" for blank).
    A draft (``final=False``, autosave) may leave items blank; a submitted sheet needs every item,
    unless a veto is chosen. Points are 0..max with at most one decimal; a veto needs its reason."""
    problems: list[dict] = []
    points: dict = {}
    for item in items:
        text = str(raw_points.get(item.id, "") or "").strip()
        if not text:
            if final and veto_id is None:
                problems.append(_problem(item.name, _("得分"), _("请为“%(item)s”打分（0 到 %(max)s 分）。") % {
                    "item": item.name, "max": _fmt(item.max_points)}))
            continue
        value = to_decimal(text)
        if value is None or value < 0 or value > item.max_points:
            problems.append(_problem(item.name, _("得分"), _(
                "“%(item)s”的得分应为 0 到 %(max)s 之间的数（最多一位小数），您填的是“%(value)s”。") % {
                "item": item.name, "max": _fmt(item.max_points), "value": text[:20]}))
            continue
        points[item.id] = value
    if veto_id is not None and veto_id not in veto_ids:
        problems.append(_problem(_("一票否决"), _("否决项"), _("请从本轮评价指标的一票否决项中选择。")))
    reason = (veto_reason or "").strip()
    problem = sheet_problem(veto=veto_id is not None, veto_reason=reason)
    if problem:
        problems.append(_problem(_("一票否决"), _("否决理由"), problem))
    elif len(reason) > MAX_VETO_REASON:
        problems.append(_problem(_("一票否决"), _("否决理由"), _("否决理由最多 %(n)d 个字。") % {"n": MAX_VETO_REASON}))
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        problems.append(_problem(_("评语"), _("评语"), _("评语最多 %(n)d 个字。") % {"n": MAX_COMMENT}))
    if problems:
        return None, problems
    return CleanSheet(points, veto_id, reason if veto_id is not None else "", comment,
                      sheet_total(items, points, veto_id is not None)), []


def sheet_edit_problem(*, window: str, submitted: bool, reopened: bool, closes_at_text: str = "") -> str | None:
    """Why the expert may not change his sheet now (None: he may). After the window closes the
    sheets are final, except one the chair has reopened (until it is submitted again)."""
    if submitted:
        return _("您已提交这份评分，不能再修改；如确需修改，请联系评审组长重新开放。")
    if window == "upcoming":
        return _("本轮评审尚未开始，开始后才能评分。")
    if window == "closed" and not reopened:
        return _("本轮评审已于 %(t)s 截止，评分已是最终结果，不能再保存或提交。") % {"t": closes_at_text}
    return None


def reopen_problem(*, is_chair: bool, has_sheet: bool, submitted: bool, window: str,
                   reason: str) -> str | None:
    """Why the chair may not reopen this sheet (None: he may). Only the panel's chair reopens, one
    expert's sheet at a time, with a written reason; only a sheet that is final (submitted, or its
    window closed) needs reopening."""
    if not is_chair:
        return _("只有本轮评审组组长可以重新开放评分。")
    if not has_sheet and window != "closed":
        return _("这位专家还没有开始评分，不需要重新开放。")
    if not submitted and window != "closed":
        return _("这份评分还没有提交，专家可以直接修改，不需要重新开放。")
    if not (reason or "").strip():
        return _("请写明重新开放的理由，例如“分项分数录入有误”。")
    return None


# --- lecture scores entered by the chair; the chair's adjudication --------------------------------
def lecture_expert_problem() -> str:
    """Why an expert of a LECTURE round does not score on the platform."""
    return _("试讲环节的成绩由评审组组长在平台上录入，专家不在平台上评分或提交。")


def lecture_entry_problem(*, is_lecture: bool, window: str, submitted: bool, reopened: bool,
                          closes_at_text: str = "") -> str | None:
    """Why the chair may not enter (save or submit) this expert's sheet now (None: he may). The
    same window as the experts' own sheets: final after it closes, unless he reopened the sheet."""
    if not is_lecture:
        return _("只有试讲环节由组长录入成绩；其他环节由专家本人在平台上评分。")
    if submitted:
        return _("这份评分已提交；如需更正，请先在“本轮评分情况”中重新开放（须写明理由），再重新录入。")
    if window == "upcoming":
        return _("本轮评审尚未开始，开始后才能录入成绩。")
    if window == "closed" and not reopened:
        return _("本轮评审已于 %(t)s 截止，成绩已是最终结果，不能再录入；如需更正，请先重新开放这份评分。") % {
            "t": closes_at_text}
    return None


def adjudication_problem(*, scored: bool, disagreement: bool, vetoed: bool, points, total: Decimal,
                         reason: str) -> str | None:
    """Why the chair may not adjudicate this entry with these points and reason (None: he may).
    Only an entry flagged for disagreement (spread above the round's threshold) without a veto
    (a split veto is settled by reopening the vetoing expert's sheet); 0..the rubric's total; a
    written reason."""
    if not scored:
        return _("这件作品还没有已提交的评分，不能裁定。")
    if vetoed:
        return _("这件作品有专家一票否决：请先重新开放否决专家的评分表核实，不能以裁定分代替。")
    if not disagreement:
        return _("这件作品的评分分歧未超过本轮阈值，无需裁定。")
    value = to_decimal(points)
    if value is None or not 0 <= value <= total:
        return _("裁定分应为 0 到 %(max)s 之间的数（最多一位小数）。") % {"max": _fmt(total)}
    if not (reason or "").strip():
        return _("请写明裁定理由，例如“两位专家对评分细则理解不一，组长复核后裁定”。")
    if len(reason.strip()) > MAX_COMMENT:
        return _("裁定理由最多 %(n)d 个字。") % {"n": MAX_COMMENT}
    return None
