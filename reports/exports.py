"""A dashboard section as an Excel workbook: the same rows as its chart and table, one sheet,
written by XlsxWriter in constant-memory mode (the layout of the selection app's exports: title in
row 1, export time and note in row 2, headers in row 4, data from row 5)."""

from __future__ import annotations

import tempfile
from datetime import datetime

import xlsxwriter
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from reports.rules import Section
from selection.exports import XLSX
from selection.rules import local_text


def title(campaign, unit, section: Section) -> str:
    return _("%(campaign)s %(unit)s · %(section)s") % {"campaign": campaign.title, "unit": unit.name,
                                                        "section": section.title}


def filename(unit, section: Section) -> str:
    return _("%(unit)s-%(section)s.xlsx") % {"unit": unit.name, "section": section.title}


def workbook(heading: str, section: Section, *, now: datetime):
    """The section on a temporary file, positioned at the start. Numbers (counts, percentages) are
    written as numbers, blanks as blank cells, the rest as text."""
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    book = xlsxwriter.Workbook(handle, {"constant_memory": True, "tmpdir": tempfile.gettempdir()})
    sheet = book.add_worksheet(section.title[:31])
    bold = book.add_format({"bold": True, "font_size": 14})
    head = book.add_format({"bold": True, "border": 1, "bg_color": "#EEF2F7", "align": "center", "valign": "vcenter",
                            "text_wrap": True})
    cell = book.add_format({"border": 1, "valign": "top", "text_wrap": True})
    for col, (_h, width) in enumerate(section.columns):
        sheet.set_column(col, col, width)
    sheet.write_string(0, 0, heading, bold)
    made = _("导出时间：%(when)s") % {"when": local_text(now)}
    sheet.write_string(1, 0, made + ("；" + section.note if section.note else ""))
    for col, header in enumerate(section.headers):
        sheet.write_string(3, col, header, head)
    for i, row in enumerate(section.rows, 4):
        for col, value in enumerate(row):
            if isinstance(value, int | float) and not isinstance(value, bool):
                sheet.write_number(i, col, value, cell)
            elif value in (None, ""):
                sheet.write_blank(i, col, None, cell)
            else:
                sheet.write_string(i, col, str(value), cell)
    sheet.freeze_panes(4, 0)
    sheet.autofilter(3, 0, 3 + len(section.rows), len(section.columns) - 1)
    book.close()
    handle.seek(0)
    return handle


def download(campaign, unit, section: Section) -> FileResponse:
    handle = workbook(title(campaign, unit, section), section, now=timezone.now())
    return FileResponse(handle, as_attachment=True, filename=filename(unit, section), content_type=XLSX)
