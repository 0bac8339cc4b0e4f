"""The streaming XLSX writer on plain data: what openpyxl reads back, escaping, and that it
streams (bytes leave before the rows are all read; memory bounded at 20,000 rows)."""

from __future__ import annotations

import io
import random
import tracemalloc
import zipfile
from datetime import date, datetime
from decimal import Decimal

import openpyxl

from exports import xlsx


def read(data: bytes) -> list[tuple]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return [tuple(r) for r in book.active.iter_rows(values_only=True)]


def test_cells_come_back_as_written():
    data = b"".join(xlsx.stream(["序号", "课名", "得分", "空"], [
        [1, "秋天 & <冬天>", Decimal("87.50"), None],
        [2, " 前后有空格 ", 90.25, ""],
        [3, "控制字符\x01\x0b删掉\ufffe", 0, "换行\n保留"],
    ], sheet_name="申报课程", widths=[6, 20, 8, 4]))
    assert read(data) == [
        ("序号", "课名", "得分", "空"),
        (1, "秋天 & <冬天>", 87.5, None),
        (2, " 前后有空格 ", 90.25, None),
        (3, "控制字符删掉", 0, "换行\n保留"),
    ]
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["申报课程"]
    assert book.active.freeze_panes == "A2"
    assert book.active["A1"].font.b is True
    assert book.active.column_dimensions["B"].width == 20


def test_escape_and_column_names():
    assert xlsx.escape("a<b>&c") == "a&lt;b&gt;&amp;c"
    assert xlsx.escape("ok\x00\x08\x1f") == "ok"
    assert xlsx.escape("\t\n\r") == "\t\n\r"
    assert [xlsx.column_name(i) for i in (0, 25, 26, 27, 701, 702)] == ["A", "Z", "AA", "AB", "ZZ", "AAA"]


def test_long_text_is_cut_to_excels_limit():
    data = b"".join(xlsx.stream(["x"], [["字" * 40000]]))
    assert len(read(data)[1][0]) == xlsx.MAX_CELL_CHARS


def test_no_rows_gives_a_header_only_sheet():
    data = b"".join(xlsx.stream(["a", "b"], []))
    assert read(data) == [("a", "b")]
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None


def test_bytes_leave_before_the_rows_are_all_read():
    consumed = []

    def rows():
        for i in range(20000):
            consumed.append(i)
            yield [i, f"课程{i}"]

    chunks = xlsx.stream(["n", "t"], rows(), rows_per_write=100)
    head = next(chunks)  # the fixed parts
    first_rows = next(chunks)
    assert first_rows and len(consumed) < 10000  # zlib lets bytes go once its window fills
    rest = b"".join(chunks)
    assert len(consumed) == 20000
    sheet = read(head + first_rows + rest)
    assert len(sheet) == 20001 and sheet[-1] == (19999, "课程19999")



def test_memory_stays_bounded_at_20000_rows():
    """The writer holds one batch of rows: 20,000 rows of ~300 characters (6 MB of text, ~20 MB
    of sheet XML) go through with a peak well under what holding them would take."""
    def rows():
        for i in range(20000):
            yield [i, f"湛江市第二十一小学 课程{i}", "统编版语文一年级上册 › 第一单元 › 1 秋天" * 3, "张三、李四、王五",
                   Decimal("88.25"), None, "已推荐 · 县级精品课"] + ["填充文本" * 10] * 3

    out = io.BytesIO()
    tracemalloc.start()
    try:
        size = 0
        for chunk in xlsx.stream([str(i) for i in range(10)], rows()):
            size += len(chunk)  # like a response: each chunk goes on and is dropped
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > 100_000
    assert peak < 4 * 1024 * 1024, peak
    xlsx.write(out, ["n"], ([i] for i in range(3)))
    assert read(out.getvalue()) == [("n",), (0,), (1,), (2,)]


VALUES = ["", " ", "文本", "秋天 & <冬天>", " 前有空格", "后有空格 ", "\u3000全角空格", "控制\x01字符", "不是字符\ufffe",
          "分隔\ue000 符", "a \ue000b", "\ue000", "换行\n中间", "换行结尾\n", "\t", "A>B", "&", "字" * 40000, None, 0, 1, -5,
          2.5, 0.0, Decimal("87.50"), Decimal("0"), True, False, datetime(2024, 5, 1, 10, 20), date(2024, 5, 1),
          xlsx.cells(["共享", None, 3]), xlsx.cells(["需要 & 转义 "]), xlsx.cells([])]


def test_cells_written_once_are_the_cells_of_their_values():
    """``cells`` (shared columns written once) puts in a row exactly what the values would."""
    values = [" 学校 & 附小", None, "", 3, Decimal("1.50"), "区县"]
    assert xlsx.row_xml(9, [1, xlsx.cells(values), "尾"]) == xlsx.row_xml(9, [1, *values, "尾"])
    assert xlsx._row_xml_checked(9, [xlsx.cells(values[:2]), xlsx.cells(values[2:])]) == xlsx.row_xml(9, values)


def test_the_row_template_writes_what_the_cell_by_cell_path_writes():
    """``row_xml`` fills a cached template per row shape; byte for byte it writes what the cell-by-cell
    path writes, whatever the mix of values (texts to escape, cut or preserve, numbers, empties,
    booleans, dates, rows of no values)."""
    rng = random.Random(2024)
    for number in range(1, 20001):
        row = [rng.choice(VALUES) for _ in range(rng.randint(0, 7))]
        assert xlsx.row_xml(number, row) == xlsx._row_xml_checked(number, row), row


def test_clean_rows_are_filled_into_their_shapes_template(monkeypatch):
    """What makes the writer fast, pinned without a clock: rows of the same shape whose texts need
    no care never go cell by cell (one template per shape, however many rows); a row that needs
    care does, alone."""
    cell_by_cell = []
    real = xlsx._row_xml_checked
    monkeypatch.setattr(xlsx, "_row_xml_checked", lambda n, values: cell_by_cell.append(n) or real(n, values))
    monkeypatch.setattr(xlsx, "_TEMPLATES", {})
    rows = [[i, f"课程{i}", "统编版语文一年级上册 › 第一单元", "" if i % 2 else "已推荐", None, Decimal("88.50")]
            for i in range(1, 5001)]
    rows.insert(2500, [7, "秋天 & 冬天", "x", "", None, Decimal("1")])  # a shape of the others
    data = b"".join(xlsx.stream(["a", "b", "c", "d", "e", "f"], rows))
    assert cell_by_cell == [2502]  # the row with "&" (sheet row 2502: after the header, 0-based 2500)
    assert len(xlsx._TEMPLATES) == 2  # the two shapes: with and without the fourth text
    sheet = read(data)
    assert sheet[2501] == (7, "秋天 & 冬天", "x", None, None, 1)
    assert sheet[-1] == (5000, "课程5000", "统编版语文一年级上册 › 第一单元", "已推荐", None, 88.5)
