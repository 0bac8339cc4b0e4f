"""All reporting units' contact forms as one Excel workbook (XlsxWriter, constant memory).

Sheet 1 “工作联系表”: one row per person of every filed form (单位名称, 姓名, 职务, 手机,
负责类别, 备注, 提交时间), header in row 1, ready to filter or forward. Sheet 2 “未提交单位”: the
units that have not filed, with their state, deadline and last change. Mobile numbers are text.
"""

from __future__ import annotations

import tempfile
from datetime import datetime

import xlsxwriter
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import record
from contacts import rules, services

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

PEOPLE_COLUMNS = [(gettext_lazy("单位名称"), 26), (gettext_lazy("姓名"), 10), (gettext_lazy("职务"), 18),
                  (gettext_lazy("手机"), 14), (gettext_lazy("负责类别"), 24), (gettext_lazy("备注"), 30),
                  (gettext_lazy("提交时间"), 17)]
UNFILED_COLUMNS = [(gettext_lazy("单位名称"), 26), (gettext_lazy("状态"), 14), (gettext_lazy("截止时间"), 17),
                   (gettext_lazy("最后修改"), 17)]


def filename(campaign) -> str:
    return _("%(campaign)s-工作联系表.xlsx") % {"campaign": campaign.title}


def _sheet(book, title: str, columns, rows, head, cell) -> int:
    sheet = book.add_worksheet(title)
    for col, (text, width) in enumerate(columns):
        sheet.set_column(col, col, width)
        sheet.write_string(0, col, str(text), head)
    count = 0
    for count, row in enumerate(rows, 1):
        for col, value in enumerate(row):
            if value in (None, ""):
                sheet.write_blank(count, col, None, cell)
            else:
                sheet.write_string(count, col, str(value), cell)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(count, 1), len(columns) - 1)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)
    return count


def workbook(people_rows, unfiled_rows, *, now: datetime):
    """Write both sheets to a temporary file and return it, positioned at the start."""
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    book = xlsxwriter.Workbook(handle, {"constant_memory": True, "tmpdir": tempfile.gettempdir()})
    book.set_properties({"title": _("工作联系表"), "comments": _("导出时间：%(when)s") % {"when": rules.local_text(now)}})
    head = book.add_format({"bold": True, "border": 1, "bg_color": "#EEF2F7", "valign": "vcenter"})
    cell = book.add_format({"border": 1, "valign": "top", "text_wrap": True})
    _sheet(book, _("工作联系表"), PEOPLE_COLUMNS, people_rows, head, cell)
    _sheet(book, _("未提交单位"), UNFILED_COLUMNS, unfiled_rows, head, cell)
    book.close()
    handle.seek(0)
    return handle


def download(actor, campaign) -> FileResponse:
    """The board's forms as one workbook (the page and the API serve the same file)."""
    now = timezone.now()
    rows = services.board(actor, campaign, now=now)
    handle = workbook(services.export_rows(campaign, rows), services.unfiled_rows(rows), now=now)
    record(actor, "contacts.export", campaign, after={"filed": sum(1 for d in rows if d.filed), "units": len(rows)},
           unit=campaign.owner)
    return FileResponse(handle, as_attachment=True, filename=filename(campaign), content_type=XLSX)
