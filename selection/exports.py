"""推荐汇总表 and a unit's history (操作记录) as Excel workbooks (XlsxWriter in constant-memory mode:
rows go to disk as they are written, so a province's table costs no more memory than a school's)."""

from __future__ import annotations

import tempfile
from datetime import datetime

import xlsxwriter
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from selection import rules, services
from selection.models import EntryState

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# (header, column width in characters)
SUMMARY_COLUMNS = [
    (gettext_lazy("序号"), 6), (gettext_lazy("类别"), 10), (gettext_lazy("学段"), 8), (gettext_lazy("学科"), 10),
    (gettext_lazy("年级"), 9), (gettext_lazy("版本"), 10), (gettext_lazy("册次"), 8), (gettext_lazy("单元/课"), 28),
    (gettext_lazy("课名"), 28), (gettext_lazy("主讲教师"), 10), (gettext_lazy("团队成员"), 22),
    (gettext_lazy("学校"), 24), (gettext_lazy("所属区县"), 12), (gettext_lazy("推荐顺序"), 8),
    (gettext_lazy("本级荣誉"), 12),
]


def summary_headers() -> list[str]:
    return [str(h) for h, _w in SUMMARY_COLUMNS]


def summary_title(campaign, unit, level) -> str:
    return _("%(campaign)s %(unit)s%(level)s推荐汇总表") % {"campaign": campaign.title, "unit": unit.name,
                                                        "level": level.name}


def summary_filename(campaign, unit, level) -> str:
    return _("%(unit)s-%(level)s-推荐汇总表.xlsx") % {"unit": unit.name, "level": level.name}


def write_rows(sheet, rows, cell, *, first: int) -> int:
    """Rows from sheet row ``first`` (0-based): integers as numbers, blanks as blank cells, the
    rest as text. Returns how many rows were written."""
    count = 0
    for count, row in enumerate(rows, 1):
        for col, value in enumerate(row):
            if isinstance(value, int) and not isinstance(value, bool):
                sheet.write_number(first - 1 + count, col, value, cell)
            elif value in (None, ""):
                sheet.write_blank(first - 1 + count, col, None, cell)
            else:
                sheet.write_string(first - 1 + count, col, str(value), cell)
    return count


def summary_workbook(campaign, unit, level, rows, *, now: datetime, confirmed_at: datetime | None = None):
    """Write the table to a temporary file and return it, positioned at the start.

    Row 1: the title; row 2: when it was made (and confirmed); row 4: the headers; data from row 5.
    """
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    book = xlsxwriter.Workbook(handle, {"constant_memory": True, "tmpdir": tempfile.gettempdir()})
    sheet = book.add_worksheet(_("推荐汇总表"))
    title = book.add_format({"bold": True, "font_size": 14})
    head = book.add_format({"bold": True, "border": 1, "bg_color": "#EEF2F7", "align": "center", "valign": "vcenter",
                            "text_wrap": True})
    cell = book.add_format({"border": 1, "valign": "top", "text_wrap": True})
    for col, (_h, width) in enumerate(SUMMARY_COLUMNS):
        sheet.set_column(col, col, width)
    sheet.write_string(0, 0, summary_title(campaign, unit, level), title)
    made = _("导出时间：%(when)s") % {"when": rules.local_text(now)}
    if confirmed_at is not None:
        made += _("；确认时间：%(when)s") % {"when": rules.local_text(confirmed_at)}
    sheet.write_string(1, 0, made)
    headers = summary_headers()
    for col, text in enumerate(headers):
        sheet.write_string(3, col, text, head)
    count = write_rows(sheet, rows, cell, first=4)
    sheet.freeze_panes(4, 0)
    sheet.autofilter(3, 0, 3 + count, len(headers) - 1)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(3)
    book.close()
    handle.seek(0)
    return handle


def summary_download(user, campaign, unit, level) -> FileResponse:
    """The unit's table as a download (the page and the API serve the same file)."""
    confirmed = services.confirmation(level, unit)
    handle = summary_workbook(campaign, unit, level, services.summary_rows(user, campaign, unit, level),
                              now=timezone.now(), confirmed_at=confirmed.confirmed_at if confirmed else None)
    return FileResponse(handle, as_attachment=True, filename=summary_filename(campaign, unit, level),
                        content_type=XLSX)


# --- the desk's filtered list and the progress board (same writer, one sheet each) -------------------
def table_workbook(title: str, columns, rows, *, now: datetime, sheet_name: str, note: str = ""):
    """A titled sheet (row 1 the title, row 2 the export time, headers in row 4, data from row 5)
    on a temporary file, in constant memory; ``columns`` are (header, width) pairs; ``note`` (the filter)
    follows the export time."""
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    book = xlsxwriter.Workbook(handle, {"constant_memory": True, "tmpdir": tempfile.gettempdir()})
    sheet = book.add_worksheet(sheet_name)
    bold = book.add_format({"bold": True, "font_size": 14})
    head = book.add_format({"bold": True, "border": 1, "bg_color": "#EEF2F7", "align": "center", "valign": "vcenter",
                            "text_wrap": True})
    cell = book.add_format({"border": 1, "valign": "top", "text_wrap": True})
    for col, (_h, width) in enumerate(columns):
        sheet.set_column(col, col, width)
    sheet.write_string(0, 0, title, bold)
    made = _("导出时间：%(when)s") % {"when": rules.local_text(now)}
    sheet.write_string(1, 0, made + (_("；筛选：%(f)s") % {"f": note} if note else ""))
    for col, (header, _w) in enumerate(columns):
        sheet.write_string(3, col, str(header), head)
    count = write_rows(sheet, rows, cell, first=4)
    sheet.freeze_panes(4, 0)
    sheet.autofilter(3, 0, 3 + count, len(columns) - 1)
    book.close()
    handle.seek(0)
    return handle


# --- the history of a unit -------------------------------------------------------------------------
HISTORY_COLUMNS = [(gettext_lazy("时间"), 17), (gettext_lazy("操作人"), 12), (gettext_lazy("操作"), 18),
                   (gettext_lazy("对象"), 30), (gettext_lazy("内容"), 44), (gettext_lazy("理由"), 36)]


def history_headers() -> list[str]:
    return [str(h) for h, _w in HISTORY_COLUMNS]


def history_title(campaign, unit) -> str:
    return _("%(campaign)s %(unit)s操作记录") % {"campaign": campaign.title, "unit": unit.name}


ENTRY_COLUMNS = [
    (gettext_lazy("序号"), 6), (gettext_lazy("课名"), 28), (gettext_lazy("类别"), 10), (gettext_lazy("学段"), 8),
    (gettext_lazy("学科"), 10), (gettext_lazy("年级"), 9), (gettext_lazy("版本"), 10), (gettext_lazy("册次"), 8),
    (gettext_lazy("单元/课"), 28), (gettext_lazy("学校"), 24), (gettext_lazy("所属区县"), 12),
    (gettext_lazy("主讲教师"), 10), (gettext_lazy("文件检测"), 12), (gettext_lazy("状态"), 8),
    (gettext_lazy("推荐顺序"), 8), (gettext_lazy("本级荣誉"), 12), (gettext_lazy("理由"), 28),
    (gettext_lazy("到达时间"), 17),
]


def entry_row(number: int, entry) -> list:
    course, textbook = entry.course, entry.node.textbook
    return [
        number, course.title, rules.category_label(course.category), textbook.stage_label, textbook.subject,
        textbook.grade, textbook.version, textbook.volume, entry.node.label_path or entry.node.title,
        course.school.name, services.county_of(course.school), course.lead_teacher.display_name,
        entry.compliance_label, str(EntryState(entry.state).label), entry.rank or "",
        entry.level.award_name if entry.awarded else "", entry.reason, rules.local_text(entry.arrived_at),
    ]


def entries_download(user, f: services.EntryFilter, *, title: str, filename: str) -> FileResponse:
    """Every entry of the filtered list (not one page), in the list's order, streamed from the
    database in chunks into a constant-memory workbook."""
    rows = (entry_row(n, e) for n, e in enumerate(services.list_entries(user, f).iterator(chunk_size=500), 1))
    handle = table_workbook(title, ENTRY_COLUMNS, rows, now=timezone.now(), sheet_name=_("推荐记录"))
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=XLSX)


def entries_title(campaign, unit, level) -> str:
    return _("%(campaign)s %(unit)s%(level)s课程列表") % {"campaign": campaign.title, "unit": unit.name,
                                                      "level": level.name}


def entries_filename(unit, level) -> str:
    return _("%(unit)s-%(level)s-课程列表.xlsx") % {"unit": unit.name, "level": level.name}


def progress_columns(categories) -> list:
    return ([(gettext_lazy("单位"), 18), (gettext_lazy("层级"), 10)]
            + [(_("%(category)s（已推荐/名额）") % {"category": label}, 16) for _c, label in categories]
            + [(gettext_lazy("待处理"), 8), (gettext_lazy("已推荐"), 8), (gettext_lazy("节点冲突"), 8),
               (gettext_lazy("推荐截止"), 17), (gettext_lazy("汇总表确认"), 17), (gettext_lazy("工作联系表"), 17)])


def progress_row(r: services.ChildProgress, categories) -> list:
    if r.contact_required:
        contact = rules.local_text(r.contact_filed_at) if r.contact_filed else _("未提交")
    else:
        contact = _("无需提交")
    return ([r.unit.name, r.level.name] + [services.quota_cell(r, c) for c, _l in categories]
            + [r.held.count(EntryState.PENDING), r.held.count(EntryState.RECOMMENDED), r.node_conflicts,
               rules.local_text(r.deadline) if r.deadline else _("未设截止时间"),
               rules.local_text(r.unit_level.confirmed_at) if r.confirmed else _("未确认"), contact])


def progress_download(campaign, parent, rows, categories) -> FileResponse:
    title = _("%(campaign)s %(unit)s下级推荐进度") % {"campaign": campaign.title, "unit": parent.name}
    handle = table_workbook(title, progress_columns(categories), (progress_row(r, categories) for r in rows),
                            now=timezone.now(), sheet_name=_("下级推荐进度"))
    return FileResponse(handle, as_attachment=True, filename=_("%(unit)s-下级推荐进度.xlsx") % {"unit": parent.name},
                        content_type=XLSX)


def history_filter_text(f: services.HistoryFilter) -> str:
    parts = []
    if f.action:
        parts.append(_("操作：%(a)s") % {"a": services.action_label(f.action)})
    if f.actor is not None:
        parts.append(_("操作人：%(name)s") % {"name": services.actor_name(f.actor)})
    if f.since or f.until:
        parts.append(_("日期：%(a)s 至 %(b)s") % {"a": f.since or "", "b": f.until or ""})
    return "，".join(parts)


def history_download(user, campaign, unit, f: services.HistoryFilter) -> FileResponse:
    """The unit's history (filtered) as a download (the page and the API serve the same file)."""
    rows = (services.history_row(ev) for ev in services.unit_history(user, campaign, unit, f).iterator(chunk_size=500))
    handle = table_workbook(history_title(campaign, unit), HISTORY_COLUMNS, rows, now=timezone.now(),
                            sheet_name=_("操作记录"), note=history_filter_text(f))
    return FileResponse(handle, as_attachment=True, content_type=XLSX,
                        filename=_("%(unit)s-操作记录.xlsx") % {"unit": unit.name})
