"""Pure decisions about campaign configuration: plain data in, plain data out.

No ORM, no I/O. Services turn rows into the small dataclasses here, ask, and act.

- deadlines: date-only input closes at 23:59:59 Asia/Shanghai; the effective deadline of a
  unit is its own override, else the nearest ancestor's, else the level default, each of the
  three deadlines independently, with the place it came from;
- quotas: which quota row limits a recommending unit for a category (and subject);
- who may set a unit's deadline or quota at a level;
- validation of every part of a campaign, shared by pages, the API and template import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from campaigns.enums import (
    LEVEL_LABELS,
    LEVEL_ORDER,
    CampaignStatus,
    Category,
    NodeRule,
    ResourceKind,
    ShareAppliesTo,
    Stage,
)
from media.rules import CHECK_RULES, SEVERITY_LABELS, severities_with_defaults

TZ = ZoneInfo("Asia/Shanghai")
END_OF_DAY = time(23, 59, 59)
DEADLINE_FIELDS = ("deadline", "confirm_deadline", "contact_form_deadline")
TEMPLATE_FORMAT = "jingpinke-campaign-template"
TEMPLATE_VERSION = 1
FORMAT_RE = re.compile(r"^[a-z0-9]{1,10}$")
LIST_SPLIT_RE = re.compile(r"[,，、;；\s]+")


# --- dates --------------------------------------------------------------------------------------
def end_of_day(day: date) -> datetime:
    """A deadline given as a date closes at the end of that day, Beijing time."""
    return datetime.combine(day, END_OF_DAY, tzinfo=TZ)


def make_deadline(day: date | None, at: time | None = None) -> datetime | None:
    """Date + optional time (Asia/Shanghai) → aware datetime; no time means end of day."""
    if day is None:
        return None
    if at is None:
        return end_of_day(day)
    return datetime.combine(day, at.replace(tzinfo=None), tzinfo=TZ)


def parse_deadline(value) -> datetime | None:
    """Accept None/"", a date, a datetime or an ISO string ("2024-09-20", "2024-09-20 17:00",
    "2024-09-20T23:59:59+08:00"). Naive values are Beijing time. Raises ValueError (Chinese)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(TZ) if value.tzinfo else value.replace(tzinfo=TZ)
    if isinstance(value, date):
        return end_of_day(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return end_of_day(date.fromisoformat(text))
            parsed = datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            return parse_deadline(parsed)
    raise ValueError(_("“%(value)s”不是有效的日期，请写成 2024-09-20 或 2024-09-20 17:00。") % {"value": value})


def split_deadline(value: datetime | None) -> tuple[date | None, time | None]:
    """For forms: (date, time) in Beijing time; an end-of-day deadline shows no time."""
    if value is None:
        return None, None
    local = value.astimezone(TZ)
    at = local.time().replace(microsecond=0)
    return local.date(), (None if at == END_OF_DAY else at)


def shift_years(value, offset: int):
    """Move a date or datetime by whole years (29 February becomes 28 February)."""
    if value is None or not offset:
        return value
    try:
        return value.replace(year=value.year + offset)
    except ValueError:
        return value.replace(year=value.year + offset, day=28)


# --- levels ---------------------------------------------------------------------------------------
def level_rank(kind: str) -> int:
    return LEVEL_ORDER.index(kind)


def levels_for_unit(level_kinds: Iterable[str], unit_kind: str, owner_kind: str | None = None) -> list[str]:
    """The levels an entry of this unit passes through, lowest first.

    A county, city or province unit: its own level and every level above it. A school: the
    school level, then its owner's level and above (a 市直属 school skips the county level).
    """
    kinds = sorted(set(level_kinds), key=level_rank)
    if unit_kind == "school":
        start = level_rank(owner_kind) if owner_kind in LEVEL_ORDER else 1
        return [k for k in kinds if k == "school" or level_rank(k) >= start]
    return [k for k in kinds if level_rank(k) >= level_rank(unit_kind)]


def may_set_for_level(level_kind: str, actor_kinds: Iterable[str], is_sysadmin: bool = False) -> bool:
    """A unit's deadline or quota at a level is set from above: by an admin of a unit that
    contains the target and acts at a higher level (a county for its schools, never for itself).

    ``actor_kinds``: kinds of the actor's admin units that contain the target unit."""
    if is_sysadmin:
        return True
    return any(level_rank(k) > level_rank(level_kind) for k in actor_kinds if k in LEVEL_ORDER)


def override_target_error(level_kind: str, unit_kind: str) -> str | None:
    """A deadline override at a level applies to a unit of that level or one above it (all below)."""
    if level_rank(unit_kind) < level_rank(level_kind):
        return _("%(level)s层级的截止时间只能设给%(level)s或其上级单位，不能设给%(unit)s。") % {
            "level": LEVEL_LABELS[level_kind], "unit": LEVEL_LABELS[unit_kind]}
    return None


def quota_target_error(level_kind: str, unit_kind: str) -> str | None:
    """A quota override belongs to a recommending unit of exactly that level."""
    if unit_kind != level_kind:
        return _("%(level)s层级的名额只能设给%(level)s单位。") % {"level": LEVEL_LABELS[level_kind]}
    return None


# --- effective deadlines -------------------------------------------------------------------------
@dataclass(frozen=True)
class Resolved:
    value: datetime | None
    source_unit_id: int | None  # None: the campaign's level default
    own: bool = False  # set on the unit itself


def resolve_deadlines(
    defaults: Mapping[str, datetime | None],
    chain: Sequence[tuple[int, Mapping[str, datetime | None]]],
) -> dict[str, Resolved]:
    """Effective deadlines of one unit at one level.

    ``chain``: (unit id, override values) from the unit itself up to the root, nearest first;
    units without an override are simply absent. Each field resolves on its own: the nearest
    override that sets it, else the level default."""
    result = {}
    own_id = chain[0][0] if chain else None
    for name in DEADLINE_FIELDS:
        resolved = Resolved(defaults.get(name), None)
        for unit_id, values in chain:
            if values.get(name) is not None:
                resolved = Resolved(values[name], unit_id, own=unit_id == own_id)
                break
        result[name] = resolved
    return result


def resolve_deadlines_for_path(
    defaults: Mapping[str, datetime | None],
    path_ids: Sequence[int],
    overrides: Mapping[int, Mapping[str, datetime | None]],
) -> dict[str, Resolved]:
    """Same, with the unit's path (root first, the unit last) and overrides by unit id."""
    chain = [(pk, overrides[pk]) for pk in reversed(path_ids) if pk in overrides]
    resolved = resolve_deadlines(defaults, chain)
    unit_id = path_ids[-1] if path_ids else None
    return {k: Resolved(v.value, v.source_unit_id, own=v.source_unit_id is not None and v.source_unit_id == unit_id)
            for k, v in resolved.items()}


# --- quotas ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuotaRow:
    id: int
    level_kind: str
    unit_id: int | None
    school_owner_kind: str
    category: str
    subject: str
    per_subject: bool
    limit: int


@dataclass(frozen=True)
class Recommender:
    unit_id: int
    kind: str
    owner_kind: str = ""  # a school's owner kind: county, city, province


def resolve_quota(rows: Iterable[QuotaRow], who: Recommender, category: str, subject: str = "") -> QuotaRow | None:
    """The quota row that limits ``who`` for ``category`` (and ``subject``); None: no limit.

    Candidates are the rows of the unit's own level for that category. Order of precedence:
    1. a row for this very unit (override) before level defaults;
    2. among defaults, one restricted to the school's owner kind (e.g. 市直属学校) before an
       unrestricted one; a default restricted to another owner kind never applies;
    3. within a tier, a row for exactly this subject before a category-wide row.
    A category-wide row with ``per_subject`` counts each subject separately, so it answers a
    question about a subject but not one about the whole category (``subject=""``).
    """
    subject = (subject or "").strip()
    candidates = [r for r in rows if r.level_kind == who.kind and r.category == category]
    own = [r for r in candidates if r.unit_id == who.unit_id]
    defaults = [r for r in candidates if r.unit_id is None]
    tiers = [own]
    if who.kind == "school" and who.owner_kind:
        tiers.append([r for r in defaults if r.school_owner_kind == who.owner_kind])
    tiers.append([r for r in defaults if not r.school_owner_kind])
    for tier in tiers:
        if subject:
            exact = [r for r in tier if r.subject == subject]
            if exact:
                return exact[0]
        wide = [r for r in tier if not r.subject and (subject or not r.per_subject)]
        if wide:
            return wide[0]
    return None


def resolve_quotas(rows: Iterable[QuotaRow], who: Recommender, category: str, subject: str = "") -> list[QuotaRow]:
    """Every quota row that limits ``who`` for ``category`` (and ``subject``): a pick must satisfy
    all of them. A subject row is a sub-limit inside the category quota ("学科课程 25 节，其中数学
    不超过 3 节"), so a pick of a subject is counted against

    1. the most specific row for exactly this subject (the unit's own override first, then a default
       for the school's owner kind, then an unrestricted default), and
    2. the category-wide row that applies to the unit (its own override of the category-wide row
       replaces the default one, with the same tiers).

    The two are resolved independently: a unit's override of the category-wide row does not hide
    the default subject rows, nor does an override of a subject row hide the default category-wide
    row. A category-wide row with ``per_subject`` counts each subject separately, so it limits a
    pick of a subject but does not answer a question about the whole category (``subject=""``).
    Subject row first, then the category-wide row; [] for no limit."""
    subject = (subject or "").strip()
    candidates = [r for r in rows if r.level_kind == who.kind and r.category == category]
    own = [r for r in candidates if r.unit_id == who.unit_id]
    defaults = [r for r in candidates if r.unit_id is None]
    tiers = [own]
    if who.kind == "school" and who.owner_kind:
        tiers.append([r for r in defaults if r.school_owner_kind == who.owner_kind])
    tiers.append([r for r in defaults if not r.school_owner_kind])
    found: list[QuotaRow] = []
    if subject:
        exact = next((r for tier in tiers for r in tier if r.subject == subject), None)
        if exact is not None:
            found.append(exact)
    wide = next((r for tier in tiers for r in tier if not r.subject), None)
    if wide is not None and (subject or not wide.per_subject):
        found.append(wide)
    return found


# --- validation -----------------------------------------------------------------------------------
class Problems(list):
    """Problems found in some input, each {"row": where, "column": field, "message": what to fix}."""

    def add(self, where: str, column: str, message: str) -> None:
        self.append({"row": where, "column": column, "message": message})


_MISSING = object()


def _label(choices, value) -> str:
    return str(dict(choices).get(value, value))


def clean_str(data, key, label, where, problems, *, max_length, required=False) -> str:
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems.add(where, label, _("应为文字。"))
        return ""
    value = value.strip()
    if required and not value:
        problems.add(where, label, _("必须填写。"))
    elif len(value) > max_length:
        problems.add(where, label, _("最多 %(n)s 个字，现在有 %(m)s 个。") % {"n": max_length, "m": len(value)})
        value = value[:max_length]
    return value


def clean_int(data, key, label, where, problems, *, minimum=0, maximum=None, default=_MISSING) -> int:
    value = data.get(key, default)
    if value is _MISSING or value is None or value == "":
        if default is _MISSING:
            problems.add(where, label, _("必须填写。"))
            return minimum
        return default
    if isinstance(value, bool) or not isinstance(value, int | str):
        problems.add(where, label, _("应为整数。"))
        return minimum
    try:
        number = int(value)
    except ValueError:
        problems.add(where, label, _("“%(v)s”不是整数。") % {"v": value})
        return minimum
    if number < minimum or (maximum is not None and number > maximum):
        if maximum is None:
            problems.add(where, label, _("不能小于 %(min)s。") % {"min": minimum})
        else:
            problems.add(where, label, _("应在 %(min)s 到 %(max)s 之间。") % {"min": minimum, "max": maximum})
    return number


def clean_number(data, key, label, where, problems, *, minimum, maximum, default) -> float:
    value = data.get(key, default)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        problems.add(where, label, _("应为数字。"))
        return default
    if not minimum <= number <= maximum:
        problems.add(where, label, _("应在 %(min)s 到 %(max)s 之间。") % {"min": minimum, "max": maximum})
    return number


def clean_bool(data, key, label, where, problems, *, default) -> bool:
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        problems.add(where, label, _("应为 true 或 false。"))
        return default
    return value


def clean_choice(data, key, label, where, problems, choices, *, blank=False, default=_MISSING) -> str:
    value = data.get(key, default)
    if value is _MISSING:
        problems.add(where, label, _("必须填写。"))
        return ""
    if value in (None, "") and blank:
        return ""
    values = [c[0] for c in choices]
    if value not in values:
        problems.add(where, label, _("“%(v)s”无效，可选值：%(ok)s。") % {
            "v": value, "ok": "、".join(f"{v}（{lbl}）" for v, lbl in choices)})
        return ""
    return value


def clean_str_list(data, key, label, where, problems, *, item_max=30, required=False) -> list[str]:
    value = data.get(key, [])
    if isinstance(value, str):
        value = [v for v in LIST_SPLIT_RE.split(value) if v]
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.add(where, label, _("应为文字列表。"))
        return []
    items = []
    for v in value:
        v = v.strip()
        if not v:
            continue
        if len(v) > item_max:
            problems.add(where, label, _("“%(v)s”太长（最多 %(n)s 个字）。") % {"v": v, "n": item_max})
        elif v not in items:
            items.append(v)
    if required and not items:
        problems.add(where, label, _("至少填写一项。"))
    return items


def clean_deadline(data, key, label, where, problems):
    try:
        return parse_deadline(data.get(key))
    except ValueError as exc:
        problems.add(where, label, str(exc))
        return None


def _object(value, where, problems) -> dict:
    if not isinstance(value, dict):
        problems.add(where, "", _("应为一个对象（{…}）。"))
        return {}
    return value


def _list(data, key, where, problems) -> list:
    value = data.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add(where, key, _("应为列表（[…]）。"))
        return []
    return value


CATEGORY_LABELS = dict(Category.choices)
LEVEL_CHOICES = [(k, LEVEL_LABELS[k]) for k in LEVEL_ORDER]
OWNER_KIND_CHOICES = [("county", _("县属学校")), ("city", _("市直属学校")), ("province", _("省属学校"))]


def clean_basics(data: Mapping, problems: Problems, where: str = "") -> dict:
    where = where or _("基本信息")
    return {
        "year": clean_int(data, "year", _("年度"), where, problems, minimum=2000, maximum=2100),
        "title": clean_str(data, "title", _("活动名称"), where, problems, max_length=200, required=True),
        "description": clean_str(data, "description", _("说明"), where, problems, max_length=5000),
        "status": clean_choice(data, "status", _("状态"), where, problems, CampaignStatus.choices,
                               default=CampaignStatus.DRAFT),
    }


def clean_slots(rows: Sequence, category: str, problems: Problems, where: str) -> list[dict]:
    result, seen = [], set()
    for i, raw in enumerate(rows, start=1):
        w = _("%(where)s › 资源项 %(i)s") % {"where": where, "i": i}
        row = _object(raw, w, problems)
        kind = clean_choice(row, "kind", _("资源类型"), w, problems, ResourceKind.choices)
        if kind and kind in seen:
            problems.add(w, _("资源类型"), _("“%(k)s”重复了，每类资源只能出现一次。") % {
                "k": _label(ResourceKind.choices, kind)})
        seen.add(kind)
        formats = [f.lower().lstrip(".") for f in clean_str_list(row, "formats", _("接受的格式"), w, problems,
                                                                 item_max=10, required=True)]
        for f in formats:
            if not FORMAT_RE.match(f):
                problems.add(w, _("接受的格式"), _("“%(f)s”不是文件扩展名，请写成 pdf、docx 这样的形式。") % {"f": f})
        result.append({
            "kind": kind,
            "label": clean_str(row, "label", _("名称"), w, problems, max_length=50),
            "required": clean_bool(row, "required", _("必交"), w, problems, default=True),
            "formats": formats,
            "max_size_mb": clean_int(row, "max_size_mb", _("大小上限（MB）"), w, problems, minimum=1,
                                     maximum=10240, default=50),
            "order": clean_int(row, "order", _("顺序"), w, problems, minimum=0, maximum=1000, default=i),
        })
    return result


SPEC_INTS = [
    ("width", _("宽（像素）"), 16, 7680, 1920),
    ("height", _("高（像素）"), 16, 4320, 1080),
    ("video_bitrate_kbps", _("视频码率（kbps）"), 1, 100000, 8000),
    ("audio_bitrate_kbps", _("音频码率（kbps）"), 1, 2000, 128),
    ("min_duration_s", _("最短时长（秒）"), 0, 36000, 600),
    ("max_duration_s", _("最长时长（秒）"), 1, 36000, 900),
    ("max_size_mb", _("文件大小上限（MB）"), 1, 102400, 1024),
    ("title_card_seconds", _("片头时长（秒）"), 0, 60, 5),
]


def clean_severities(value, where: str, problems: Problems) -> dict[str, str]:
    """The severity of every check rule (fail / warn / off): the given ones, the shipped default
    for the others (media.rules.CHECK_RULES)."""
    label = _("检测项严重程度")
    if value in (None, ""):
        value = {}
    if not isinstance(value, dict):
        problems.add(where, label, _("应为一个对象，例如 {\"audio\": \"fail\", \"fps\": \"warn\"}。"))
        return severities_with_defaults()
    for rule, level in value.items():
        if rule not in CHECK_RULES:
            problems.add(where, label, _("没有“%(r)s”这个检测项，可选：%(ok)s。") % {
                "r": rule, "ok": "、".join(f"{r}（{lbl}）" for r, (lbl, _d) in CHECK_RULES.items())})
        elif level not in SEVERITY_LABELS:
            problems.add(where, label, _("“%(r)s”的严重程度“%(v)s”无效，可选值：%(ok)s。") % {
                "r": CHECK_RULES[rule][0], "v": level,
                "ok": "、".join(f"{v}（{lbl}）" for v, lbl in SEVERITY_LABELS.items())})
    return severities_with_defaults(value)


def clean_specs(rows: Sequence, problems: Problems, where: str) -> list[dict]:
    result, seen = [], set()
    for i, raw in enumerate(rows, start=1):
        w = _("%(where)s › 制作规范 %(i)s") % {"where": where, "i": i}
        row = _object(raw, w, problems)
        stage = clean_choice(row, "stage", _("学段"), w, problems, Stage.choices, blank=True, default="")
        if stage in seen:
            problems.add(w, _("学段"), _("“%(s)s”的制作规范重复了。") % {
                "s": _label(Stage.choices, stage) if stage else _("全部学段")})
        seen.add(stage)
        spec = {"stage": stage}
        for key, label, lo, hi, default in SPEC_INTS:
            spec[key] = clean_int(row, key, label, w, problems, minimum=lo, maximum=hi, default=default)
        for key, label, default in [("container", _("封装格式"), "mp4"), ("video_codec", _("视频编码"), "h264"),
                                    ("audio_codec", _("音频编码"), "aac")]:
            value = clean_str(row, key, label, w, problems, max_length=10) or default
            spec[key] = value.lower()
        spec["fps"] = clean_number(row, "fps", _("帧率"), w, problems, minimum=1, maximum=240, default=25)
        spec["severities"] = clean_severities(row.get("severities"), w, problems)
        if spec["min_duration_s"] > spec["max_duration_s"]:
            problems.add(w, _("最短时长（秒）"), _("最短时长 %(a)s 秒大于最长时长 %(b)s 秒。") % {
                "a": spec["min_duration_s"], "b": spec["max_duration_s"]})
        result.append(spec)
    return result


def clean_categories(rows: Sequence, problems: Problems, *, nested: bool = False) -> list[dict]:
    """Categories with their package rules; with ``nested`` also their slots and specs."""
    result, seen = [], set()
    if not rows:
        problems.add(_("类别"), "", _("至少要有一个类别。"))
    for i, raw in enumerate(rows, start=1):
        w = _("类别 %(i)s") % {"i": i}
        row = _object(raw, w, problems)
        category = clean_choice(row, "category", _("类别"), w, problems, Category.choices)
        if category:
            w = _("类别“%(c)s”") % {"c": CATEGORY_LABELS[category]}
            if category in seen:
                problems.add(w, _("类别"), _("重复了，每个类别只能出现一次。"))
            seen.add(category)
        item = {
            "category": category,
            "max_periods": clean_int(row, "max_periods", _("最多课时数"), w, problems, minimum=1, maximum=10, default=3),
            "default_periods": clean_int(row, "default_periods", _("默认课时数"), w, problems, minimum=1, maximum=10,
                                         default=1),
            "max_team_members": clean_int(row, "max_team_members", _("团队成员上限（不含主讲教师）"), w, problems,
                                          minimum=0, maximum=50, default=4),
            "note": clean_str(row, "note", _("说明"), w, problems, max_length=2000),
        }
        if item["default_periods"] > item["max_periods"]:
            problems.add(w, _("默认课时数"), _("默认课时数 %(a)s 大于最多课时数 %(b)s。") % {
                "a": item["default_periods"], "b": item["max_periods"]})
        if nested:
            item["slots"] = clean_slots(_list(row, "slots", w, problems), category, problems, w)
            item["specs"] = clean_specs(_list(row, "specs", w, problems), problems, w)
        result.append(item)
    return result


def clean_levels(rows: Sequence, problems: Problems, *, owner_kind: str | None = None, nested: bool = False) -> list[dict]:
    result, seen = [], set()
    if not rows:
        problems.add(_("层级"), "", _("至少要有一个层级。"))
    for i, raw in enumerate(rows, start=1):
        w = _("层级 %(i)s") % {"i": i}
        row = _object(raw, w, problems)
        kind = clean_choice(row, "kind", _("层级"), w, problems, LEVEL_CHOICES)
        if kind:
            w = _("%(k)s层级") % {"k": LEVEL_LABELS[kind]}
            if kind in seen:
                problems.add(w, _("层级"), _("重复了，每个层级只能出现一次。"))
            seen.add(kind)
            if owner_kind in LEVEL_ORDER and level_rank(kind) > level_rank(owner_kind):
                problems.add(w, _("层级"), _("高于主办单位（%(o)s），主办单位不能管理上级的层级。") % {
                    "o": LEVEL_LABELS[owner_kind]})
        item = {
            "kind": kind,
            "name": clean_str(row, "name", _("名称"), w, problems, max_length=50, required=True),
            "award_name": clean_str(row, "award_name", _("本级荣誉"), w, problems, max_length=30),
            "required_resources": [],
        }
        if row.get("publicity_days") not in (None, ""):  # absent: the level keeps its days (default 5)
            item["publicity_days"] = clean_int(row, "publicity_days", _("公示天数"), w, problems, minimum=1, maximum=30)
        for key, label in [("deadline", _("推荐截止时间")), ("confirm_deadline", _("汇总表确认截止时间")),
                           ("contact_form_deadline", _("工作联系表截止时间"))]:
            item[key] = clean_deadline(row, key, label, w, problems)
        for r in clean_str_list(row, "required_resources", _("上报时须具备的资源"), w, problems):
            if r not in ResourceKind.values:
                problems.add(w, _("上报时须具备的资源"), _("“%(v)s”不是资源类型。") % {"v": r})
            else:
                item["required_resources"].append(r)
        if nested:
            item["overrides"] = []
            for j, oraw in enumerate(_list(row, "overrides", w, problems), start=1):
                ow = _("%(w)s › 单位截止时间 %(j)s") % {"w": w, "j": j}
                orow = _object(oraw, ow, problems)
                override = {"unit": clean_str(orow, "unit", _("单位代码"), ow, problems, max_length=40, required=True),
                            "reason": clean_str(orow, "reason", _("理由"), ow, problems, max_length=200)}
                for key, label in [("deadline", _("推荐截止时间")), ("confirm_deadline", _("汇总表确认截止时间")),
                                   ("contact_form_deadline", _("工作联系表截止时间"))]:
                    override[key] = clean_deadline(orow, key, label, ow, problems)
                item["overrides"].append(override)
        result.append(item)
    return sorted(result, key=lambda x: level_rank(x["kind"]) if x["kind"] else 99)


def clean_quota(row: Mapping, problems: Problems, where: str, *, with_unit: bool) -> dict:
    item = {
        "level": clean_choice(row, "level", _("层级"), where, problems, LEVEL_CHOICES),
        "category": clean_choice(row, "category", _("类别"), where, problems, Category.choices),
        "subject": clean_str(row, "subject", _("学科"), where, problems, max_length=30),
        "per_subject": clean_bool(row, "per_subject", _("每学科分别计算"), where, problems, default=False),
        "limit": clean_int(row, "limit", _("名额"), where, problems, minimum=0, maximum=100000),
        "school_owner_kind": clean_choice(row, "school_owner_kind", _("适用学校类型"), where, problems,
                                          OWNER_KIND_CHOICES, blank=True, default=""),
        "unit": clean_str(row, "unit", _("单位代码"), where, problems, max_length=40) if with_unit else "",
    }
    if item["subject"] and item["per_subject"]:
        problems.add(where, _("每学科分别计算"), _("已指定学科时不能再选“每学科分别计算”。"))
    if item["school_owner_kind"] and item["level"] and item["level"] != "school":
        problems.add(where, _("适用学校类型"), _("只有学校层级的名额可以按学校类型区分。"))
    if item["school_owner_kind"] and item["unit"]:
        problems.add(where, _("适用学校类型"), _("单位名额不按学校类型区分，请留空。"))
    return item


def quota_key(item: Mapping) -> tuple:
    return (item["level"], item.get("unit") or "", item.get("school_owner_kind") or "", item["category"],
            item.get("subject") or "")


def clean_quotas(rows: Sequence, problems: Problems, *, with_unit: bool, level_kinds: Iterable[str] | None = None) -> list[dict]:
    result, seen = [], set()
    level_kinds = set(level_kinds) if level_kinds is not None else None
    for i, raw in enumerate(rows, start=1):
        w = _("名额 %(i)s") % {"i": i}
        item = clean_quota(_object(raw, w, problems), problems, w, with_unit=with_unit)
        if level_kinds is not None and item["level"] and item["level"] not in level_kinds:
            problems.add(w, _("层级"), _("本活动没有%(k)s层级。") % {"k": LEVEL_LABELS[item["level"]]})
        key = quota_key(item)
        if key in seen:
            problems.add(w, _("名额"), _("与前面的一行重复（同一层级、单位、学校类型、类别和学科只能有一行）。"))
        seen.add(key)
        result.append(item)
    return result


def clean_contacts(rows: Sequence, problems: Problems) -> list[dict]:
    result = []
    for i, raw in enumerate(rows, start=1):
        w = _("联系人 %(i)s") % {"i": i}
        row = _object(raw, w, problems)
        email = clean_str(row, "email", _("邮箱"), w, problems, max_length=254)
        if email and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
            problems.add(w, _("邮箱"), _("“%(e)s”不是有效的邮箱地址。") % {"e": email})
        result.append({
            "category": clean_choice(row, "category", _("负责类别"), w, problems, Category.choices, blank=True,
                                     default=""),
            "unit_name": clean_str(row, "unit_name", _("单位/部门"), w, problems, max_length=100, required=True),
            "name": clean_str(row, "name", _("姓名"), w, problems, max_length=50, required=True),
            "phone": clean_str(row, "phone", _("电话"), w, problems, max_length=40, required=True),
            "email": email,
            "order": i,
        })
    return result


def clean_share_caps(rows: Sequence, problems: Problems) -> list[dict]:
    result = []
    for i, raw in enumerate(rows, start=1):
        w = _("学科占比上限 %(i)s") % {"i": i}
        row = _object(raw, w, problems)
        result.append({
            "level": clean_choice(row, "level", _("层级"), w, problems, LEVEL_CHOICES),
            "category": clean_choice(row, "category", _("类别"), w, problems, Category.choices),
            "subjects": clean_str_list(row, "subjects", _("学科"), w, problems, required=True),
            "max_percent": clean_int(row, "max_percent", _("最高占比（%）"), w, problems, minimum=1, maximum=100),
            "applies_to": clean_choice(row, "applies_to", _("适用于"), w, problems, ShareAppliesTo.choices,
                                       default=ShareAppliesTo.RECOMMENDATIONS),
        })
    return result


def clean_target_shares(rows: Sequence, problems: Problems) -> list[dict]:
    result = []
    for i, raw in enumerate(rows, start=1):
        w = _("学科占比目标 %(i)s") % {"i": i}
        row = _object(raw, w, problems)
        minimum = row.get("min_percent")
        item = {
            "level": clean_choice(row, "level", _("层级"), w, problems, LEVEL_CHOICES),
            "category": clean_choice(row, "category", _("类别"), w, problems, Category.choices),
            "subjects": clean_str_list(row, "subjects", _("学科"), w, problems, required=True),
            "min_percent": None if minimum in (None, "") else clean_int(
                row, "min_percent", _("目标占比（%）"), w, problems, minimum=1, maximum=100),
            "note": clean_str(row, "note", _("说明"), w, problems, max_length=200),
        }
        if item["min_percent"] is None and not item["note"]:
            problems.add(w, _("说明"), _("没有目标占比时请写明要求，例如“适当加大科学类精品课推荐数量”。"))
        result.append(item)
    return result


def clean_rule_settings(data: Mapping, problems: Problems) -> dict:
    where = _("规则设置")
    return {
        "node_rule": clean_choice(data, "node_rule", _("同一目录节点规则"), where, problems, NodeRule.choices,
                                  default=NodeRule.BLOCK),
        "new_textbook_grades": clean_str_list(data, "new_textbook_grades", _("须使用新教材的起始年级"), where,
                                              problems, item_max=20),
        "share_caps": clean_share_caps(_list(data, "share_caps", where, problems), problems),
        "target_shares": clean_target_shares(_list(data, "target_shares", where, problems), problems),
    }


def clean_public_kinds(value, problems: Problems) -> list[str]:
    """The resource kinds the showcase may publish (``Campaign.public_resource_kinds``): known kinds,
    each once, in the kinds' order. Empty: nothing but the course's facts is public."""
    from campaigns.enums import ResourceKind

    where, label = _("规则设置"), _("精品课展示公开的资源")
    if value is None:
        value = []
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        problems.add(where, label, _("应为资源类型列表，例如 [\"video\", \"lesson_plan\"]。"))
        return []
    unknown = [v for v in value if v not in ResourceKind.values]
    if unknown:
        problems.add(where, label, _("没有这种资源类型：%(v)s。可选：%(ok)s。") % {
            "v": "、".join(unknown), "ok": "、".join(ResourceKind.values)})
    return [k for k in ResourceKind.values if k in set(value)]


def clean_notice(row: Mapping, problems: Problems, where: str) -> dict:
    published = row.get("published_on")
    published_on = None
    if published not in (None, ""):
        if isinstance(published, date):
            published_on = published
        else:
            try:
                published_on = date.fromisoformat(str(published).strip()[:10])
            except ValueError:
                problems.add(where, _("发布日期"), _("“%(v)s”不是有效的日期，请写成 2024-08-01。") % {"v": published})
    return {
        "title": clean_str(row, "title", _("文件标题"), where, problems, max_length=200, required=True),
        "issuer": clean_str(row, "issuer", _("发文单位"), where, problems, max_length=100),
        "doc_number": clean_str(row, "doc_number", _("文号"), where, problems, max_length=60),
        "published_on": published_on,
        "body": clean_str(row, "body", _("正文"), where, problems, max_length=200000),
    }


@dataclass
class CleanTemplate:
    basics: dict = field(default_factory=dict)
    rules: dict = field(default_factory=dict)
    categories: list = field(default_factory=list)
    levels: list = field(default_factory=list)
    quotas: list = field(default_factory=list)
    contacts: list = field(default_factory=list)
    notices: list = field(default_factory=list)

    def unit_codes(self) -> set[str]:
        codes = {q["unit"] for q in self.quotas if q["unit"]}
        codes |= {o["unit"] for lv in self.levels for o in lv.get("overrides", []) if o["unit"]}
        return codes


def clean_template(doc, owner_kind: str | None = None) -> tuple[CleanTemplate, Problems]:
    """Validate a whole campaign template (see services.export_template for the shape)."""
    problems = Problems()
    result = CleanTemplate()
    if not isinstance(doc, dict):
        problems.add(_("文件"), "", _("不是活动模板：最外层应为一个 JSON 对象。"))
        return result, problems
    if doc.get("format") != TEMPLATE_FORMAT:
        problems.add(_("文件"), "format", _("不是活动模板：format 应为“%(f)s”。") % {"f": TEMPLATE_FORMAT})
        return result, problems
    if doc.get("version") != TEMPLATE_VERSION:
        problems.add(_("文件"), "version", _("不支持的模板版本“%(v)s”，本系统支持版本 %(ok)s。") % {
            "v": doc.get("version"), "ok": TEMPLATE_VERSION})
        return result, problems
    result.basics = clean_basics(doc, problems)
    result.rules = clean_rule_settings(doc, problems)
    result.categories = clean_categories(_list(doc, "categories", _("文件"), problems), problems, nested=True)
    result.levels = clean_levels(_list(doc, "levels", _("文件"), problems), problems, owner_kind=owner_kind,
                                 nested=True)
    level_kinds = {lv["kind"] for lv in result.levels if lv["kind"]}
    result.quotas = clean_quotas(_list(doc, "quotas", _("文件"), problems), problems, with_unit=True,
                                 level_kinds=level_kinds)
    categories = {c["category"] for c in result.categories if c["category"]}
    for i, q in enumerate(result.quotas, start=1):
        if q["category"] and q["category"] not in categories:
            problems.add(_("名额 %(i)s") % {"i": i}, _("类别"), _("本模板没有“%(c)s”类别。") % {
                "c": CATEGORY_LABELS[q["category"]]})
    result.contacts = clean_contacts(_list(doc, "contacts", _("文件"), problems), problems)
    result.notices = [clean_notice(_object(n, _("通知文件 %(i)s") % {"i": i}, problems), problems,
                                   _("通知文件 %(i)s") % {"i": i})
                      for i, n in enumerate(_list(doc, "notices", _("文件"), problems), start=1)]
    return result, problems
