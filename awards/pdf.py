"""A certificate as a one-page PDF (reportlab): landscape A4, a double border, the title, the body
with its placeholders filled, the serial number, the issuer, date and seal, and a QR code to the
public verification page. Chinese is drawn with an embedded (subset) CJK TrueType font: WenQuanYi
Micro Hei from Debian's ``fonts-wqy-microhei`` by default, or the file ``JPK_CJK_FONT`` names."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from datetime import date
from functools import cache
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from reportlab.graphics.barcode import qrencoder
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from awards import rules
from jingpinke import config

FONT_NAME = "JPKCJK"
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)


class FontMissing(RuntimeError):
    pass


def font_path() -> str | None:
    configured = config.get("JPK_CJK_FONT").strip()
    for path in ((configured,) if configured else FONT_CANDIDATES):
        if path and os.path.exists(path):
            return path
    return None


@cache
def register_font() -> str:
    path = font_path()
    if path is None:
        raise FontMissing(_("服务器缺少中文字体，无法生成证书：请安装 fonts-wqy-microhei（make run 会自动安装），"
                            "或用 JPK_CJK_FONT 指定一个 TrueType 字体文件。"))
    pdfmetrics.registerFont(TTFont(FONT_NAME, path, subfontIndex=0))
    return FONT_NAME


@dataclass(frozen=True)
class Layout:
    """What a unit's template contributes to the page."""

    title: str
    body: str
    issuer_name: str
    signature: str = ""
    seal: bytes | None = None  # PNG/JPEG bytes
    issue_date: date | None = None


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Break Chinese (and mixed) text into lines no wider than ``width``; keeps explicit newlines."""
    lines = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for ch in paragraph:
            if pdfmetrics.stringWidth(line + ch, font, size) > width and line:
                lines.append(line)
                line = ch
            else:
                line += ch
        lines.append(line)
    return lines


def qr_matrix(value: str) -> list[list[bool]]:
    """The QR code of ``value`` (error correction M, the best mask), as rows of dark modules."""
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(value)
    code.make()
    n = code.getModuleCount()
    return [[bool(code.isDark(r, col)) for col in range(n)] for r in range(n)]


def draw_qr(c: canvas.Canvas, value: str, x: float, y: float, side: float, quiet: int = 2) -> None:
    """Draw the QR code straight on the canvas: one filled rectangle per run of dark modules in a row
    (a few hundred rectangles instead of a drawing with one shape per module)."""
    rows = qr_matrix(value)
    n = len(rows) + 2 * quiet
    unit = side / n
    c.saveState()
    c.setFillColor(colors.white)
    c.rect(x, y, side, side, stroke=0, fill=1)
    c.setFillColor(colors.black)
    for r, row in enumerate(rows):
        top = y + side - (r + quiet + 1) * unit
        col = 0
        while col < len(row):
            if row[col]:
                start = col
                while col < len(row) and row[col]:
                    col += 1
                c.rect(x + (start + quiet) * unit, top, (col - start) * unit, unit, stroke=0, fill=1)
            else:
                col += 1
    c.restoreState()


def _date_text(value: date) -> str:
    return _("%(y)d年%(m)d月%(d)d日") % {"y": value.year, "m": value.month, "d": value.day}


def render(text: rules.CertificateText, layout: Layout, *, serial: str, verify_url: str, issued_on: date,
           revoked: bool = False) -> bytes:
    """The certificate's PDF bytes."""
    font = register_font()
    out = io.BytesIO()
    width, height = landscape(A4)
    c = canvas.Canvas(out, pagesize=(width, height), pageCompression=1)
    c.setTitle(f"{layout.title} {serial}")
    c.setAuthor(layout.issuer_name)
    c.setSubject(text.award_name)
    # Border
    c.setStrokeColor(colors.HexColor("#b8860b"))
    c.setLineWidth(3)
    c.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
    c.setLineWidth(0.8)
    c.rect(16 * mm, 16 * mm, width - 32 * mm, height - 32 * mm)
    # Title
    c.setFillColor(colors.HexColor("#a61b1b"))
    c.setFont(font, 40)
    c.drawCentredString(width / 2, height - 52 * mm, layout.title)
    # Body
    c.setFillColor(colors.black)
    size, left, right = 17, 40 * mm, width - 40 * mm
    y = height - 78 * mm
    for line in _wrap(rules.render_body(layout.body, text), font, size, right - left):
        c.setFont(font, size)
        c.drawString(left, y, line)
        y -= size * 1.8
    # Issuer, date, seal
    c.setFont(font, 16)
    right_x = width - 60 * mm
    c.drawCentredString(right_x, 52 * mm, layout.signature or layout.issuer_name)
    c.drawCentredString(right_x, 42 * mm, _date_text(layout.issue_date or issued_on))
    if layout.seal:
        try:
            c.drawImage(ImageReader(io.BytesIO(layout.seal)), right_x - 20 * mm, 30 * mm, 40 * mm, 40 * mm,
                        mask="auto", preserveAspectRatio=True)
        except Exception:  # noqa: BLE001 - a broken seal image must not stop the certificate
            pass
    # Serial and QR code
    c.setFont(font, 10)
    c.drawString(24 * mm, 24 * mm, _("证书编号：%(s)s") % {"s": serial})
    c.drawString(24 * mm, 19.5 * mm, _("扫描二维码或访问 %(url)s 验证") % {"url": verify_url})
    draw_qr(c, verify_url, 24 * mm, 30 * mm, 30 * mm)
    if revoked:
        c.saveState()
        c.setFillColor(colors.Color(0.8, 0, 0, alpha=0.35))
        c.setFont(font, 90)
        c.translate(width / 2, height / 2)
        c.rotate(25)
        c.drawCentredString(0, 0, _("已撤销"))
        c.restoreState()
    c.showPage()
    c.save()
    return out.getvalue()


def record(title: str, name: str, headers: list[str], rows: list[list], urls: list[str], *, made_on: date) -> bytes:
    """A portrait A4 table of a person's honours (platypus: wraps and breaks pages by itself)."""
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = register_font()
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm, topMargin=14 * mm,
                            bottomMargin=14 * mm, title=f"{title} {name}", author=name)
    cell = ParagraphStyle("cell", fontName=font, fontSize=8.5, leading=11, wordWrap="CJK")
    heading = ParagraphStyle("h", fontName=font, fontSize=18, leading=24, alignment=1)
    small = ParagraphStyle("s", fontName=font, fontSize=9, leading=12)
    story = [Paragraph(escape(title), heading), Spacer(1, 4 * mm),
             Paragraph(escape(_("姓名：%(n)s　　生成日期：%(d)s") % {"n": name, "d": _date_text(made_on)}), small),
             Spacer(1, 3 * mm)]
    data = [[Paragraph(escape(h), cell) for h in headers]] + [[Paragraph(escape(str(v)), cell) for v in row]
                                                              for row in rows]
    if len(data) == 1:
        data.append([Paragraph(_("暂无荣誉记录"), cell)] + [""] * (len(headers) - 1))
    widths = [12, 22, 26, 38, 58, 18, 16, 34, 36, 14]
    table = Table(data, colWidths=[w * mm * 0.97 for w in widths[:len(headers)]], repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story.append(table)
    if any(urls):
        story += [Spacer(1, 4 * mm), Paragraph(_("每张证书可凭编号在以下网址核验："), small)]
        story += [Paragraph(escape(f"{row[8]}：{url}"), small) for row, url in zip(rows, urls, strict=True) if url]
    doc.build(story)
    return out.getvalue()


def notice(title: str, doc_number: str, body: str, units: list[tuple[str, str]], issuer: str, on: date) -> bytes:
    """The commendation notice (通报表扬) as a portrait A4 document."""
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    font = register_font()
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=26 * mm, rightMargin=26 * mm, topMargin=30 * mm,
                            bottomMargin=25 * mm, title=title, author=issuer)
    head = ParagraphStyle("h", fontName=font, fontSize=20, leading=30, alignment=1, textColor=colors.HexColor("#a61b1b"))
    number = ParagraphStyle("n", fontName=font, fontSize=12, leading=18, alignment=1)
    text = ParagraphStyle("t", fontName=font, fontSize=13, leading=22, firstLineIndent=26, wordWrap="CJK")
    item = ParagraphStyle("i", fontName=font, fontSize=13, leading=22, leftIndent=26, wordWrap="CJK")
    sign = ParagraphStyle("s", fontName=font, fontSize=13, leading=22, alignment=2)
    story = [Paragraph(escape(title), head)]
    if doc_number:
        story.append(Paragraph(escape(doc_number), number))
    story.append(Spacer(1, 6 * mm))
    story += [Paragraph(escape(p), text) for p in body.splitlines() if p.strip()]
    story.append(Spacer(1, 3 * mm))
    for i, (name, reason) in enumerate(units, 1):
        story.append(Paragraph(f"{i}. <b>{escape(name)}</b>：{escape(reason)}", item))
    story += [Spacer(1, 12 * mm), Paragraph(escape(issuer), sign), Paragraph(_date_text(on), sign)]
    doc.build(story)
    return out.getvalue()
