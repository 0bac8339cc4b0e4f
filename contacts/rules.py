"""Pure decisions of the contact form (工作联系表): plain data in, decisions out. No ORM, no I/O.

Who files (``files_form``): the units that report straight to the campaign's organiser — the
addressees of its notice. Zhanjiang's city campaign: each county (县（市、区）教育局) and each
city-owned school (市直属学校); a province campaign: each city (and each province-owned school).
A school under a county does not file, nor does the organiser itself (its own form goes to the
level above it, outside this campaign).

By when (``form_deadline``): the unit's own level's contact-form deadline, as resolved with the
deadline overrides of the unit and the units above it. A school that reports straight to the
organiser files with its sibling counties (or cities): when its own level carries no contact-form
deadline (the school level usually does not, since most schools never file), the deadline of the
organiser's other reporting level applies. No deadline at all: editable at any time.

Editing and filing are allowed until the deadline itself, to the second (Asia/Shanghai); after it
only when the level above reopened the unit (a later ``DeadlineOverride.contact_form_deadline``).
A filed form needs at least one person and the stamped scan, and must stay so while it is edited.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from selection.rules import time_left, time_left_text  # noqa: F401 — one wording for every countdown

TZ = ZoneInfo("Asia/Shanghai")

MAX_PEOPLE = 20
MAX_SCAN_BYTES = 20 * 1024 * 1024
# media.models.FileKind values a stamped scan may have: a PDF or a photo of the page.
SCAN_KINDS = ("pdf", "jpeg", "png")
SCAN_ACCEPT = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
FIELDS = ("name", "position", "mobile", "categories", "remark")
MAX_LENGTHS = {"name": 50, "position": 50, "remark": 200}
FIELD_LABELS = {"name": gettext_lazy("姓名"), "position": gettext_lazy("职务"), "mobile": gettext_lazy("手机"),
                "categories": gettext_lazy("负责类别"), "remark": gettext_lazy("备注")}

# The organiser's kind → the kind of unit that reports straight to it (besides its own schools).
REPORTING_KIND = {"city": "county", "province": "city"}


class Status:
    MISSING = "missing"
    DRAFT = "draft"
    FILED = "filed"


STATUS_LABELS = {Status.MISSING: gettext_lazy("未填写"), Status.DRAFT: gettext_lazy("已填写未提交"),
                 Status.FILED: gettext_lazy("已提交")}


@dataclass(frozen=True)
class Decision:
    ok: bool
    rule: str = ""
    message: str = ""


ALLOW = Decision(True)


def refuse(rule: str, message: str) -> Decision:
    return Decision(False, rule, message)


def local_text(moment: datetime) -> str:
    return moment.astimezone(TZ).strftime("%Y-%m-%d %H:%M")


# --- who files, by when ----------------------------------------------------------------------------
def files_form(unit_kind: str, parent_id: int | None, owner_id: int, level_kinds: Sequence[str]) -> bool:
    """The unit reports straight to the organiser and the campaign has a level for its kind."""
    return parent_id is not None and parent_id == owner_id and unit_kind in level_kinds


def reporting_level_kind(owner_kind: str) -> str | None:
    """The level whose contact-form deadline a school reporting straight to the organiser shares."""
    return REPORTING_KIND.get(owner_kind)


def form_deadline(unit_kind: str, own: datetime | None, reporting: datetime | None) -> datetime | None:
    """The unit's deadline: its own level's; a school without one takes the reporting level's."""
    if own is not None or unit_kind != "school":
        return own
    return reporting


def edit_decision(now: datetime, deadline: datetime | None) -> Decision:
    """Saving, uploading and filing: allowed until the deadline itself (inclusive, to the second)."""
    if deadline is None or now <= deadline:
        return ALLOW
    return refuse("deadline", _("工作联系表已于 %(when)s 截止，不能再修改或提交。如确需补报，请联系上级单位为本单位重新开放"
                                "（设定新的工作联系表截止时间）。") % {"when": local_text(deadline)})


def reopen_decision(now: datetime, new_deadline: datetime | None, reason: str) -> Decision:
    """The level above reopens a unit: with a reason and a new deadline in the future."""
    if not (reason or "").strip():
        return refuse("reason", _("重新开放时请写明理由。"))
    if new_deadline is None or new_deadline <= now:
        return refuse("deadline", _("新的截止时间必须晚于现在。"))
    return ALLOW


# --- completeness, status --------------------------------------------------------------------------
def missing(people_count: int, has_scan: bool) -> list[str]:
    """What the form still lacks before it can be filed, as sentences for the page."""
    result = []
    if people_count < 1:
        result.append(_("至少填写一位联系人"))
    if not has_scan:
        result.append(_("上传加盖公章的扫描件（PDF、JPG 或 PNG）"))
    return result


def file_decision(people_count: int, has_scan: bool, filed: bool) -> Decision:
    if filed:
        return refuse("filed", _("工作联系表已经提交过了。截止前仍可修改，上级单位会看到最后修改时间，无需再次提交。"))
    lacking = missing(people_count, has_scan)
    if lacking:
        return refuse("incomplete", _("还不能提交：请%(what)s。") % {"what": "，并".join(lacking)})
    return ALLOW


def keep_complete_decision(filed: bool, people_count: int, has_scan: bool) -> Decision:
    """A filed form is edited in place: it must keep at least one person and its scan."""
    if filed and missing(people_count, has_scan):
        return refuse("filed", _("工作联系表已提交，至少要保留一位联系人和盖章扫描件。如需更换扫描件，请直接上传新的文件。"))
    return ALLOW


def status_of(exists: bool, filed: bool) -> str:
    if filed:
        return Status.FILED
    return Status.DRAFT if exists else Status.MISSING


# --- the stamped scan --------------------------------------------------------------------------------
def mb_text(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def scan_decision(kind: str, kind_label: str, size: int, name: str = "", max_bytes: int = MAX_SCAN_BYTES) -> Decision:
    """A scan is a non-empty PDF, JPG or PNG (by content, never by name) of at most ``max_bytes``."""
    label = name or _("该文件")
    if size <= 0:
        return refuse("empty", _("“%(name)s”是空文件，请重新选择盖章后的扫描件。") % {"name": label})
    if size > max_bytes:
        return refuse("size", _("“%(name)s”有 %(size)s，扫描件不能超过 %(max)s。请用 150–200 dpi 重新扫描，或存为 JPG 后再上传。")
                      % {"name": label, "size": mb_text(size), "max": mb_text(max_bytes)})
    if kind not in SCAN_KINDS:
        return refuse("kind", _("“%(name)s”的内容是%(kind)s，不是 PDF、JPG 或 PNG（按文件内容判断，与扩展名无关）。"
                                "请上传加盖公章后的扫描件或照片。") % {"name": label, "kind": kind_label})
    return ALLOW


# --- the people -------------------------------------------------------------------------------------
_FULLWIDTH = str.maketrans("０１２３４５６７８９＋", "0123456789+")
_SEPARATORS = re.compile(r"[\s\-－–—()（）.]")
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")


def normalize_mobile(text: str) -> str | None:
    """A mainland China mobile number as 11 ASCII digits, or None. Accepts full-width digits,
    spaces, hyphens and a +86 / 0086 prefix, as people type them."""
    digits = _SEPARATORS.sub("", (text or "").translate(_FULLWIDTH))
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix):]
            break
    else:
        if len(digits) == 13 and digits.startswith("86"):
            digits = digits[2:]
    return digits if MOBILE.match(digits) else None


@dataclass(frozen=True)
class Person:
    name: str
    position: str
    mobile: str
    categories: tuple[str, ...]
    remark: str = ""

    def as_dict(self) -> dict:
        return {"name": self.name, "position": self.position, "mobile": self.mobile,
                "categories": list(self.categories), "remark": self.remark}


def _text(value) -> str:
    """One line of text: control characters (NUL included, which PostgreSQL refuses) removed."""
    text = "" if value is None else str(value)
    return " ".join("".join(ch for ch in text if ch >= " " or ch in "\t\n").split())


def _categories(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [v for v in re.split(r"[,，、\s]+", value) if v]
    return [_text(v) for v in value if _text(v)]


def clean_people(rows: Sequence[Mapping], categories: Mapping[str, str]) -> tuple[list[Person], list[dict]]:
    """Validate the rows of the form (dicts with FIELDS; ``categories`` a list or a comma-separated
    text). ``categories`` maps the campaign's category codes to their labels, in campaign order;
    a row may name a category by code or label. Blank rows are skipped. Returns the people and the
    errors ({"row": n (1-based, as the page numbers them), "field": …, "message": …})."""
    people: list[Person] = []
    errors: list[dict] = []
    by_label = {str(label): code for code, label in categories.items()}
    seen_mobiles: dict[str, int] = {}

    def error(row: int, field: str, message: str) -> None:
        errors.append({"row": row, "field": field, "message": message})

    for number, row in enumerate(rows, start=1):
        values = {f: _text(row.get(f)) for f in ("name", "position", "mobile", "remark")}
        chosen = _categories(row.get("categories"))
        if not any(values.values()) and not chosen:
            continue
        before = len(errors)
        for field in ("name", "position", "mobile"):
            if not values[field]:
                error(number, field, _("第 %(n)d 位联系人：请填写%(field)s。") % {"n": number, "field": FIELD_LABELS[field]})
        for field, limit in MAX_LENGTHS.items():
            if len(values[field]) > limit:
                error(number, field, _("第 %(n)d 位联系人：%(field)s最多 %(max)d 个字。") % {
                    "n": number, "field": FIELD_LABELS[field], "max": limit})
        mobile = normalize_mobile(values["mobile"]) if values["mobile"] else None
        if values["mobile"] and mobile is None:
            error(number, "mobile", _("第 %(n)d 位联系人：“%(m)s”不是有效的手机号码，请填写 11 位手机号码，例如 13800138000。")
                  % {"n": number, "m": values["mobile"][:30]})
        elif mobile in seen_mobiles:
            error(number, "mobile", _("第 %(n)d 位联系人的手机号码与第 %(m)d 位相同。同一人负责多个类别时，请在一行里勾选多个类别。")
                  % {"n": number, "m": seen_mobiles[mobile]})
        codes = []
        for item in chosen:
            code = item if item in categories else by_label.get(item)
            if code is None:
                error(number, "categories", _("第 %(n)d 位联系人：本活动没有“%(c)s”类别，可选：%(all)s。") % {
                    "n": number, "c": item[:20], "all": "、".join(str(v) for v in categories.values())})
            elif code not in codes:
                codes.append(code)
        if not chosen:
            error(number, "categories", _("第 %(n)d 位联系人：请勾选负责的精品课类别（可多选）。") % {"n": number})
        if len(errors) == before:
            if mobile:
                seen_mobiles[mobile] = number
            people.append(Person(values["name"], values["position"], mobile or "",
                                 tuple(c for c in categories if c in codes), values["remark"]))
        elif mobile and mobile not in seen_mobiles:
            seen_mobiles[mobile] = number
    if len(people) > MAX_PEOPLE:
        errors.append({"row": 0, "field": "", "message": _("一张联系表最多 %(n)d 位联系人。") % {"n": MAX_PEOPLE}})
    return people, errors


def category_text(codes: Sequence[str], categories: Mapping[str, str]) -> str:
    """“学科课程、实验教学” for the page and the export (unknown codes shown as they are)."""
    return "、".join(str(categories.get(c, c)) for c in codes)
