"""Excel in and out, shared by every import and export.

Imports are all-or-nothing: ``read_sheet`` reads the rows into dicts keyed by the
template's column titles; the caller validates every row into a ``RowErrors``
and only writes when it is empty. Row numbers are the ones Excel shows.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO

from django.http import HttpResponse
from django.utils.translation import gettext as _

from jingpinke.errors import ServiceError

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_IMPORT_BYTES = 20 * 1024 * 1024
MAX_IMPORT_ROWS = 50_000


@dataclass
class Row:
    number: int  # as Excel shows it (header is row 1)
    values: dict[str, str]

    def get(self, column: str) -> str:
        return self.values.get(column, "")


@dataclass
class RowErrors:
    errors: list[dict] = field(default_factory=list)

    def add(self, row: int, column: str, message: str) -> None:
        self.errors.append({"row": row, "column": column, "message": str(message)})

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self, what: str) -> None:
        if self.errors:
            rows = sorted({e["row"] for e in self.errors})
            raise ServiceError(
                _("%(what)s未导入：共有 %(n)d 行有问题，请按下面的说明修改后重新上传整张表。已有的数据没有任何改动。")
                % {"what": what, "n": len(rows)},
                errors=self.errors,
            )


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 13800138000 typed as a number
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M") if getattr(value, "hour", 0) or getattr(value, "minute", 0) else value.strftime("%Y-%m-%d")
    return str(value).strip()


def read_sheet(upload: IO[bytes], required: Iterable[str], optional: Iterable[str] = ()) -> list[Row]:
    """Rows of the first sheet as dicts keyed by header. Refuses files that are not
    .xlsx workbooks or that lack a required column, with a message saying what to fix."""
    from openpyxl import load_workbook

    required, optional = list(required), list(optional)
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_IMPORT_BYTES:
        raise ServiceError(_("文件太大（超过 20 MB）。请把数据分成几张表分别导入。"))
    data = upload.read()
    if not data:
        raise ServiceError(_("上传的文件是空的，请选择填好的 Excel 表格（.xlsx）。"))
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ServiceError(
            _("文件不是 Excel 2007 及以上的 .xlsx 表格。请用页面上提供的模板填写；如果是 .xls 或 .csv，请在 Excel/WPS 中“另存为 .xlsx”后再上传。")
        )
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for damaged files
        raise ServiceError(_("无法读取这个 Excel 文件，文件可能已损坏。请用模板重新填写后上传。")) from None
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header_row = next(rows, None)
    if header_row is None:
        raise ServiceError(_("表格是空的：第一行应为列标题，从第二行起每行一条数据。"))
    headers = [_cell_text(h).rstrip("*＊").strip() for h in header_row]
    missing = [c for c in required if c not in headers]
    if missing:
        raise ServiceError(
            _("表格缺少这些列：%(cols)s。请下载最新模板，不要修改第一行的列标题。") % {"cols": "、".join(missing)}
        )
    wanted = set(required) | set(optional)
    index = {h: i for i, h in enumerate(headers) if h in wanted}
    out: list[Row] = []
    for number, values in enumerate(rows, start=2):
        texts = {h: _cell_text(values[i]) if i < len(values) else "" for h, i in index.items()}
        if not any(texts.values()):
            continue  # blank line
        out.append(Row(number, texts))
        if len(out) > MAX_IMPORT_ROWS:
            raise ServiceError(_("一次最多导入 %(n)d 行，请分成几张表。") % {"n": MAX_IMPORT_ROWS})
    workbook.close()
    if not out:
        raise ServiceError(_("表格里没有数据行：请从第二行开始填写。"))
    return out


def template_response(
    filename: str,
    headers: list[str],
    required: Iterable[str],
    examples: list[list] = (),
    notes: list[str] = (),
    choices: dict[str, list[str]] | None = None,
) -> HttpResponse:
    """An .xlsx template: bold headers (required ones marked *), example rows,
    a second sheet with instructions, and drop-down lists where ``choices`` say."""
    import xlsxwriter

    required = set(required)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet(_("数据"))
    bold = wb.add_format({"bold": True, "bg_color": "#FDE9D9", "border": 1})
    text = wb.add_format({"num_format": "@"})
    for col, h in enumerate(headers):
        ws.write(0, col, f"{h}*" if h in required else h, bold)
        ws.set_column(col, col, max(12, len(h) * 2 + 4), text)
    for r, row in enumerate(examples, start=1):
        for col, value in enumerate(row):
            ws.write_string(r, col, "" if value is None else str(value))
    for col, h in enumerate(headers):
        if choices and h in choices:
            ws.data_validation(1, col, 5000, col, {"validate": "list", "source": choices[h]})
    ws.freeze_panes(1, 0)
    help_ws = wb.add_worksheet(_("填写说明"))
    help_ws.set_column(0, 0, 100)
    help_ws.write(0, 0, _("填写说明"), bold)
    lines = [_("带 * 的列必填。不要修改第一行的列标题；示例行可以删除或覆盖。"),
             _("整张表校验通过才会导入；有任何一行出错时，不会导入任何数据，并列出每一行的问题。")] + list(notes)
    for i, line in enumerate(lines, start=1):
        help_ws.write(i, 0, line)
    wb.close()
    response = HttpResponse(buf.getvalue(), content_type=XLSX_CONTENT_TYPE)
    from urllib.parse import quote

    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response
