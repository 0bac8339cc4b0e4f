"""Pure decisions about textbooks and catalog nodes: no ORM, no I/O.

- reading the six textbook dimensions (学段 with 学制, 年级, 学科, 版本, 册次, 新旧教材)
  from the words people and the national platform use;
- turning the rows of an Excel sheet, or the nested JSON the platform publishes,
  into textbook trees, with a reason for every bad row or node;
- the starting-grade rule: which nodes a campaign may open.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

# --- dimensions ------------------------------------------------------------------------------
# Stage values are those of campaigns.models.Stage.
PRIMARY, JUNIOR, SENIOR, SPECIAL = "primary", "junior", "senior", "special"
STAGE_ORDER = [PRIMARY, JUNIOR, SENIOR, SPECIAL]
STAGE_NAMES = {"小学": PRIMARY, "初中": JUNIOR, "高中": SENIOR, "特殊教育": SPECIAL}
STAGE_LABELS = {v: k for k, v in STAGE_NAMES.items()}

FIVE_FOUR = "五四学制"
SPECIAL_SYSTEMS = ("培智学校", "盲校", "聋校")
SYSTEM_CHOICES = ("六三学制", FIVE_FOUR, *SPECIAL_SYSTEMS)
_SYSTEM_ALIASES = {
    "": "", "六三学制": "", "六三制": "", "63": "", "6-3": "",
    "五四学制": FIVE_FOUR, "五四制": FIVE_FOUR, "54": FIVE_FOUR, "5-4": FIVE_FOUR,
    "培智学校": "培智学校", "培智": "培智学校", "盲校": "盲校", "聋校": "聋校",
}

CN_DIGITS = "一二三四五六七八九"
GRADES = [f"{d}年级" for d in CN_DIGITS]  # 一年级 … 九年级
SENIOR_GRADES = ["高一", "高二", "高三"]
GRADE_ORDER = {g: i for i, g in enumerate(GRADES + SENIOR_GRADES, start=1)}
_GRADES_BY_STAGE = {
    (PRIMARY, ""): GRADES[:6],
    (PRIMARY, FIVE_FOUR): GRADES[:5],
    (JUNIOR, ""): GRADES[6:],
    (JUNIOR, FIVE_FOUR): GRADES[5:],
    (SENIOR, ""): SENIOR_GRADES,
}

NEW, OLD = "new", "old"
EDITION_NAMES = {"新教材": NEW, "新": NEW, "旧教材": OLD, "旧": OLD}
EDITION_LABELS = {NEW: "新教材", OLD: "旧教材"}

MAX_TITLE = 200
MAX_LABEL_PATH = 500
MAX_DEPTH = 6
MAX_NODES_PER_TEXTBOOK = 5000
PATH_SEPARATOR = " › "


class DimensionError(ValueError):
    """A dimension that cannot be read; ``column`` names it, the message says what to write."""

    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column = column
        self.message = message


def _squash(text) -> str:
    return re.sub(r"\s+", "", str(text or ""))


def normalize_school_system(text) -> str:
    """'' (六三学制, the default), 五四学制, 培智学校, 盲校 or 聋校."""
    key = _squash(text).replace("•", "").replace("·", "").replace("・", "").replace(".", "")
    if key in _SYSTEM_ALIASES:
        return _SYSTEM_ALIASES[key]
    raise DimensionError(
        "学制", _("无法识别学制“%(v)s”：请填 六三学制、五四学制、培智学校、盲校 或 聋校（六三学制可不填）。") % {"v": text}
    )


def parse_stage(stage_text, system_text="") -> tuple[str, str]:
    """(stage, school_system) from 学段 and 学制 as people and the platform write them:
    小学 / 初中（五•四学制） / 高中 / 特殊教育 + 培智学校 / 培智学校 alone."""
    text = _squash(stage_text)
    if not text:
        raise DimensionError("学段", _("请填写学段：小学、初中、高中或特殊教育。"))
    system_in_stage = ""
    match = re.fullmatch(r"(小学|初中|高中)[（(](.+)[）)]", text)
    if match:
        text, system_in_stage = match.group(1), match.group(2)
    if text in SPECIAL_SYSTEMS or text in ("培智",):
        text, system_in_stage = "特殊教育", text
    stage = STAGE_NAMES.get(text)
    if stage is None:
        raise DimensionError(
            "学段", _("无法识别学段“%(v)s”：请填 小学、初中、高中 或 特殊教育。") % {"v": stage_text}
        )
    system = normalize_school_system(system_text or system_in_stage)
    if stage == SPECIAL and system not in SPECIAL_SYSTEMS:
        raise DimensionError("学制", _("特殊教育教材须填写学制：培智学校、盲校或聋校。"))
    if stage != SPECIAL and system in SPECIAL_SYSTEMS:
        raise DimensionError("学段", _("%(s)s的教材，学段请填“特殊教育”。") % {"s": system})
    if stage == SENIOR and system == FIVE_FOUR:
        raise DimensionError("学制", _("高中没有五四学制，请把学制留空。"))
    return stage, system


def normalize_grade(text) -> str:
    value = _squash(text)
    match = re.fullmatch(r"([1-9])年级", value)
    if match:
        return GRADES[int(match.group(1)) - 1]
    return value


def check_grade(stage: str, system: str, grade: str) -> str:
    """'' if the grade fits the stage, else what is wrong."""
    if stage == SENIOR:
        if grade and grade not in SENIOR_GRADES:
            return _("高中的年级请填 高一、高二、高三，或不填。")
        return ""
    if not grade:
        return _("请填写年级，例如 一年级。")
    if stage == SPECIAL:
        return "" if grade in GRADES else _("无法识别年级“%(g)s”：请填 一年级 至 九年级。") % {"g": grade}
    allowed = _GRADES_BY_STAGE[(stage, system)]
    if grade in allowed:
        return ""
    return _("%(stage)s没有“%(g)s”：请填 %(first)s 至 %(last)s。") % {
        "stage": stage_label(stage, system), "g": grade, "first": allowed[0], "last": allowed[-1]}


def parse_edition(text) -> str:
    if not _squash(text):
        raise DimensionError("新旧教材", _("请填写新旧教材：“新教材”或“旧教材”。"))
    value = EDITION_NAMES.get(_squash(text))
    if value is None:
        raise DimensionError("新旧教材", _("新旧教材只能填“新教材”或“旧教材”，不能是“%(v)s”。") % {"v": text})
    return value


def stage_label(stage: str, system: str = "") -> str:
    label = STAGE_LABELS.get(stage, stage)
    return f"{label}（{system}）" if system else label


def textbook_title(version: str, subject: str, grade: str, volume: str) -> str:
    return f"{version}{subject}{grade}{volume}"


def textbook_suffix(stage: str, system: str, edition: str) -> str:
    parts = [system] if system else []
    if edition == OLD:
        parts.append(EDITION_LABELS[OLD])
    return f"（{'·'.join(parts)}）" if parts else ""


def textbook_rank(stage: str, grade: str) -> int:
    """One sortable number: 小学一年级 1 … 初中九年级 109, 高中 2xx, 特殊教育 3xx."""
    stage_index = STAGE_ORDER.index(stage) if stage in STAGE_ORDER else len(STAGE_ORDER)
    return stage_index * 100 + GRADE_ORDER.get(grade, 0)


def grade_sort_key(grade: str) -> tuple[int, str]:
    return (GRADE_ORDER.get(grade, 99), grade)


def stage_sort_key(stage: str) -> int:
    return STAGE_ORDER.index(stage) if stage in STAGE_ORDER else 99


def label_path(titles: Iterable[str]) -> str:
    return PATH_SEPARATOR.join(titles)


# --- what an import reads ----------------------------------------------------------------------
@dataclass
class NodeSpec:
    title: str
    external_id: str = ""
    remark: str = ""
    children: list[NodeSpec] = field(default_factory=list)
    where: str = ""  # "第 5 行" or "第1本教材 › 第一单元": for messages


@dataclass
class TextbookSpec:
    stage: str
    school_system: str
    grade: str
    subject: str
    version: str
    volume: str
    edition: str
    title: str = ""
    external_id: str = ""
    children: list[NodeSpec] = field(default_factory=list)
    where: str = ""

    @property
    def dimensions(self) -> tuple:
        return (self.stage, self.school_system, self.grade, self.subject, self.version, self.volume, self.edition)

    @property
    def label(self) -> str:
        return (self.title or textbook_title(self.version, self.subject, self.grade, self.volume)) + textbook_suffix(
            self.stage, self.school_system, self.edition)

    def leaves(self) -> list[NodeSpec]:
        out: list[NodeSpec] = []

        def walk(nodes):
            for node in nodes:
                if node.children:
                    walk(node.children)
                else:
                    out.append(node)

        walk(self.children)
        return out


def problem(where, column: str, message: str) -> dict:
    return {"row": where, "column": column, "message": str(message)}


# --- Excel: one row per leaf -----------------------------------------------------------------------
EXCEL_COLUMNS = ["学段", "学制", "年级", "学科", "版本", "册次", "新旧教材", "单元", "课", "平台教材ID", "平台节点ID", "备注"]
EXCEL_REQUIRED = ["学段", "学科", "版本", "册次", "新旧教材", "课"]
EXCEL_OPTIONAL = [c for c in EXCEL_COLUMNS if c not in EXCEL_REQUIRED]


def read_dimensions(values: dict[str, str]) -> tuple[tuple, list[tuple[str, str]]]:
    """The seven dimensions of one row (or tag set), and the problems as (column, message)."""
    problems: list[tuple[str, str]] = []
    stage = system = edition = ""
    try:
        stage, system = parse_stage(values.get("学段", ""), values.get("学制", ""))
    except DimensionError as exc:
        problems.append((exc.column, exc.message))
    grade = normalize_grade(values.get("年级", ""))
    if stage:
        message = check_grade(stage, system, grade)
        if message:
            problems.append(("年级", message))
    texts = {}
    for column, limit in (("学科", 30), ("版本", 40), ("册次", 30)):
        texts[column] = _squash(values.get(column, ""))
        if not texts[column]:
            problems.append((column, _("请填写%(c)s。") % {"c": column}))
        elif len(texts[column]) > limit:
            problems.append((column, _("%(c)s太长（最多 %(n)d 字）。") % {"c": column, "n": limit}))
    try:
        edition = parse_edition(values.get("新旧教材", ""))
    except DimensionError as exc:
        problems.append((exc.column, exc.message))
    dims = (stage, system, grade, texts["学科"], texts["版本"], texts["册次"], edition)
    return dims, problems


def _check_title(title: str) -> str:
    if len(title) > MAX_TITLE:
        return _("标题太长（最多 %(n)d 字）。") % {"n": MAX_TITLE}
    return ""


def parse_excel_rows(rows: Iterable[tuple[int, dict[str, str]]]) -> tuple[list[TextbookSpec], list[dict]]:
    """Rows (Excel row number, values by column title) → textbooks with 单元 › 课 trees.

    Rows of the same seven dimensions form one textbook; rows of the same 单元 one unit,
    in the order they first appear. A row without 单元 puts its 课 right under the textbook.
    """
    errors: list[dict] = []
    books: dict[tuple, TextbookSpec] = {}
    book_ext_rows: dict[tuple, int] = {}
    ext_owner: dict[str, tuple[tuple, int]] = {}
    # per book: title at the top level → (kind, NodeSpec, row); lessons seen; node ids seen
    top: dict[tuple, dict[str, tuple[str, NodeSpec, int]]] = {}
    lessons_seen: dict[tuple, int] = {}
    node_ids: dict[tuple, int] = {}

    for number, values in rows:
        row_problems = []
        dims, problems = read_dimensions(values)
        row_problems += problems
        unit_title = (values.get("单元") or "").strip()
        lesson_title = (values.get("课") or "").strip()
        book_ext = (values.get("平台教材ID") or "").strip()
        node_ext = (values.get("平台节点ID") or "").strip()
        remark = (values.get("备注") or "").strip()
        if not lesson_title:
            row_problems.append(("课", _("请填写课名：每一行是一个可选的目录节点（课）。")))
        for column, title in (("单元", unit_title), ("课", lesson_title)):
            message = _check_title(title)
            if message:
                row_problems.append((column, message))
        if len(remark) > 200:
            row_problems.append(("备注", _("备注太长（最多 200 字）。")))
        if len(book_ext) > 64 or len(node_ext) > 64:
            row_problems.append(("平台节点ID" if len(node_ext) > 64 else "平台教材ID", _("ID 太长（最多 64 个字符）。")))
        if row_problems:
            errors += [problem(number, c, m) for c, m in row_problems]
            continue

        book = books.get(dims)
        if book is None:
            book = TextbookSpec(*dims, where=_("第 %(n)d 行") % {"n": number})
            books[dims] = book
            top[dims] = {}
        if book_ext:
            owner = ext_owner.get(book_ext)
            if owner is not None and owner[0] != dims:
                errors.append(problem(number, "平台教材ID", _("平台教材ID %(id)s 在第 %(r)d 行已用于另一本教材。") % {
                    "id": book_ext, "r": owner[1]}))
                continue
            if book.external_id and book.external_id != book_ext:
                errors.append(problem(number, "平台教材ID", _("同一本教材的平台教材ID不一致：第 %(r)d 行是 %(a)s，这一行是 %(b)s。") % {
                    "r": book_ext_rows[dims], "a": book.external_id, "b": book_ext}))
                continue
            ext_owner.setdefault(book_ext, (dims, number))
            book.external_id = book_ext
            book_ext_rows.setdefault(dims, number)
        lesson_key = (dims, unit_title, lesson_title)
        if lesson_key in lessons_seen:
            errors.append(problem(number, "课", _("与第 %(r)d 行重复：这本教材的“%(path)s”已经有了。") % {
                "r": lessons_seen[lesson_key], "path": label_path([t for t in (unit_title, lesson_title) if t])}))
            continue
        if node_ext:
            if (dims, node_ext) in node_ids:
                errors.append(problem(number, "平台节点ID", _("平台节点ID %(id)s 与第 %(r)d 行重复。") % {
                    "id": node_ext, "r": node_ids[(dims, node_ext)]}))
                continue
        names = top[dims]
        lesson = NodeSpec(lesson_title, external_id=node_ext, remark=remark, where=_("第 %(n)d 行") % {"n": number})
        if unit_title:
            kind, unit, first_row = names.get(unit_title, (None, None, 0))
            if kind == "lesson":
                errors.append(problem(number, "单元", _("单元“%(t)s”与第 %(r)d 行不属于任何单元的课同名。") % {
                    "t": unit_title, "r": first_row}))
                continue
            if unit is None:
                unit = NodeSpec(unit_title, where=_("第 %(n)d 行") % {"n": number})
                names[unit_title] = ("unit", unit, number)
                book.children.append(unit)
            unit.children.append(lesson)
        else:
            if lesson_title in names:
                kind, _node, first_row = names[lesson_title]
                errors.append(problem(number, "课", _("“%(t)s”与第 %(r)d 行的单元同名。") % {"t": lesson_title, "r": first_row}))
                continue
            names[lesson_title] = ("lesson", lesson, number)
            book.children.append(lesson)
        lessons_seen[lesson_key] = number
        if node_ext:
            node_ids[(dims, node_ext)] = number
    return list(books.values()), errors


# --- JSON as the national platform publishes it ---------------------------------------------------
JSON_TAGS = {"zxxxd": "学段", "zxxnj": "年级", "zxxxk": "学科", "zxxbb": "版本", "zxxcc": "册次", "zxxxjjc": "新旧教材"}


def _ident(value) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, (int, str)):
        return str(value).strip()
    return ""


def _tags_of(book: dict) -> dict[str, str] | None:
    """Tags from {"tags": {"zxxxd": "小学", …}} or the platform's
    {"tag_list": [{"tag_dimension_id": "zxxxd", "tag_name": "小学"}, …]}."""
    tags = book.get("tags")
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items() if v is not None}
    tag_list = book.get("tag_list")
    if isinstance(tag_list, list):
        out = {}
        for item in tag_list:
            if isinstance(item, dict) and item.get("tag_dimension_id"):
                out[str(item["tag_dimension_id"])] = str(item.get("tag_name") or "")
        return out
    return None


def parse_platform_json(data: Any) -> tuple[list[TextbookSpec], list[dict]]:
    """The platform's nested textbook JSON → textbooks. Accepts one textbook object,
    a list of them, or {"textbooks": [...]}. Errors name the textbook and node path."""
    if isinstance(data, dict) and isinstance(data.get("textbooks"), list):
        items = data["textbooks"]
    elif isinstance(data, list):
        items = data
    elif isinstance(data, dict):
        items = [data]
    else:
        return [], [problem(_("文件"), "", _("JSON 的最外层应是一本教材（含 id、title、tags、child_nodes）或教材数组。"))]
    if not items:
        return [], [problem(_("文件"), "", _("文件里没有教材。"))]
    errors: list[dict] = []
    books: list[TextbookSpec] = []
    seen_dims: dict[tuple, str] = {}
    seen_ids: dict[str, str] = {}
    for index, item in enumerate(items, start=1):
        where = _("第 %(n)d 本教材") % {"n": index}
        if not isinstance(item, dict):
            errors.append(problem(where, "", _("每本教材应是一个对象（{…}），含 id、title、tags 和 child_nodes。")))
            continue
        title = item.get("title")
        title = title.strip() if isinstance(title, str) else ""
        if title:
            where = f"{where}（{title}）"
        book_errors: list[dict] = []
        tags = _tags_of(item)
        dims: tuple = ()
        if tags is None:
            book_errors.append(problem(where, "tags", _("缺少 tags：请给出六个维度 zxxxd（学段）、zxxnj（年级）、zxxxk（学科）、zxxbb（版本）、zxxcc（册次）、zxxxjjc（新旧教材）。")))
        else:
            values = {label: tags.get(key, "") for key, label in JSON_TAGS.items()}
            values["学制"] = tags.get("school_system", "") or tags.get("学制", "")
            dims, problems = read_dimensions(values)
            by_label = {v: k for k, v in JSON_TAGS.items()}
            for column, message in problems:
                book_errors.append(problem(where, f"tags.{by_label.get(column, 'school_system')}（{column}）", message))
        external_id = _ident(item.get("id"))
        if item.get("id") is not None and not external_id:
            book_errors.append(problem(where, "id", _("教材 id 应是字符串或数字。")))
        if len(external_id) > 64:
            book_errors.append(problem(where, "id", _("ID 太长（最多 64 个字符）。")))
        if len(title) > 120:
            book_errors.append(problem(where, "title", _("教材名称太长（最多 120 字）。")))
        children = item.get("child_nodes")
        if not isinstance(children, list) or not children:
            book_errors.append(problem(where, "child_nodes", _("教材没有目录：child_nodes 应是非空的节点数组。")))
            children = []
        if not book_errors:
            if dims in seen_dims:
                book_errors.append(problem(where, "tags", _("与%(other)s的六个维度完全相同：同一本教材只能出现一次。") % {
                    "other": seen_dims[dims]}))
            if external_id and external_id in seen_ids:
                book_errors.append(problem(where, "id", _("教材 id %(id)s 与%(other)s重复。") % {
                    "id": external_id, "other": seen_ids[external_id]}))
        node_errors: list[dict] = []
        book_ids: dict[str, str] = {}
        counter = [0]
        nodes = _parse_nodes(children, [], where, 1, node_errors, book_ids, counter)
        if counter[0] > MAX_NODES_PER_TEXTBOOK:
            node_errors = [problem(where, "child_nodes", _("一本教材最多 %(n)d 个节点。") % {"n": MAX_NODES_PER_TEXTBOOK})]
        errors += book_errors + node_errors
        if book_errors or node_errors:
            continue
        seen_dims[dims] = where
        if external_id:
            seen_ids[external_id] = where
        books.append(TextbookSpec(*dims, title=title, external_id=external_id, children=nodes, where=where))
    return books, errors


def _parse_nodes(items, path: list[str], book_where: str, depth: int, errors: list[dict],
                 ids: dict[str, str], counter: list[int]) -> list[NodeSpec]:
    out: list[NodeSpec] = []
    titles: set[str] = set()
    for index, item in enumerate(items, start=1):
        counter[0] += 1
        if counter[0] > MAX_NODES_PER_TEXTBOOK:
            return out
        here = label_path([book_where, *path, _("第 %(n)d 个节点") % {"n": index}])
        if not isinstance(item, dict):
            errors.append(problem(here, "", _("节点应是一个对象（{…}），含 id、title 和 child_nodes。")))
            continue
        title = item.get("title")
        title = " ".join(title.split()) if isinstance(title, str) else ""
        if not title:
            errors.append(problem(here, "title", _("节点缺少标题（title）。")))
            continue
        here = label_path([book_where, *path, title])
        too_long = _check_title(title)
        if too_long:
            errors.append(problem(here, "title", too_long))
            continue
        if title in titles:
            errors.append(problem(here, "title", _("同一层下已有同名节点“%(t)s”。") % {"t": title}))
            continue
        titles.add(title)
        node_id = _ident(item.get("id"))
        if item.get("id") is not None and not node_id:
            errors.append(problem(here, "id", _("节点 id 应是字符串或数字。")))
            continue
        if len(node_id) > 64:
            errors.append(problem(here, "id", _("ID 太长（最多 64 个字符）。")))
            continue
        if node_id:
            if node_id in ids:
                errors.append(problem(here, "id", _("节点 id %(id)s 与“%(other)s”重复。") % {"id": node_id, "other": ids[node_id]}))
                continue
            ids[node_id] = label_path([*path, title])
        remark = item.get("remark")
        remark = remark.strip()[:200] if isinstance(remark, str) else ""
        children = item.get("child_nodes") or []
        if not isinstance(children, list):
            errors.append(problem(here, "child_nodes", _("child_nodes 应是节点数组。")))
            continue
        if children and depth >= MAX_DEPTH:
            errors.append(problem(here, "child_nodes", _("目录最多 %(n)d 层。") % {"n": MAX_DEPTH}))
            continue
        node = NodeSpec(title, external_id=node_id, remark=remark, where=here)
        node.children = _parse_nodes(children, [*path, title], book_where, depth + 1, errors, ids, counter)
        if len(label_path([*path, title])) > MAX_LABEL_PATH:
            errors.append(problem(here, "title", _("目录路径太长（最多 %(n)d 字）。") % {"n": MAX_LABEL_PATH}))
            continue
        out.append(node)
    return out


# --- the starting-grade rule ----------------------------------------------------------------------
@dataclass(frozen=True)
class NodeFacts:
    id: int
    is_leaf: bool
    stage: str
    grade: str
    edition: str
    textbook_id: int
    textbook_label: str


# "小学和初中起始年级的课程目录节点需以9月份投入使用的新教材为准": the rule covers these stages.
NEW_TEXTBOOK_STAGES = (PRIMARY, JUNIOR)


@dataclass
class Refusal:
    textbook_id: int
    textbook_label: str
    reason: str  # "old_edition" | "not_leaf"
    grade: str
    node_ids: list[int]
    message: str


@dataclass
class OpenDecision:
    allowed: list[int]
    refused: list[Refusal]

    @property
    def refused_ids(self) -> list[int]:
        return [i for r in self.refused for i in r.node_ids]


def decide_opening(nodes: Iterable[NodeFacts], new_textbook_grades: Iterable[str]) -> OpenDecision:
    """Which nodes a campaign may open. Only leaves; in the starting grades
    (``new_textbook_grades``) of 小学 and 初中 only new-edition textbooks. Refusals are
    grouped per textbook and reason, with the sentence the page shows."""
    starting = {normalize_grade(g) for g in new_textbook_grades or () if str(g).strip()}
    allowed: list[int] = []
    groups: dict[tuple[int, str], Refusal] = {}
    for node in nodes:
        reason = ""
        if not node.is_leaf:
            reason = "not_leaf"
        elif node.stage in NEW_TEXTBOOK_STAGES and node.grade in starting and node.edition != NEW:
            reason = "old_edition"
        if not reason:
            allowed.append(node.id)
            continue
        key = (node.textbook_id, reason)
        if key not in groups:
            groups[key] = Refusal(node.textbook_id, node.textbook_label, reason, node.grade, [], "")
        groups[key].node_ids.append(node.id)
    for refusal in groups.values():
        if refusal.reason == "old_edition":
            refusal.message = _("%(grade)s须使用新教材：%(book)s未开放") % {
                "grade": refusal.grade, "book": refusal.textbook_label}
        else:
            refusal.message = _("%(book)s：%(n)d 个节点不是末级节点（课），只能开放末级节点") % {
                "book": refusal.textbook_label, "n": len(refusal.node_ids)}
    return OpenDecision(allowed, list(groups.values()))
