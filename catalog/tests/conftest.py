"""Fixtures for the catalog tests: a campaign, the demo catalog, sheets and JSON files built in memory."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import Campaign
from catalog import demo
from catalog.rules import EXCEL_COLUMNS


def make_xlsx(headers, rows) -> io.BytesIO:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "catalog.xlsx"
    return buf


def row(unit, lesson, *, stage="小学", system="", grade="一年级", subject="语文", version="统编版", volume="上册",
        edition="新教材", book_id="", node_id="", remark=""):
    """One sheet row in EXCEL_COLUMNS order."""
    return [stage, system, grade, subject, version, volume, edition, unit, lesson, book_id, node_id, remark]


@pytest.fixture
def sheet():
    def build(*rows, headers=EXCEL_COLUMNS):
        return make_xlsx(headers, rows)

    return build


def json_file(data, name="catalog.json") -> SimpleUploadedFile:
    raw = data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode()
    return SimpleUploadedFile(name, raw, content_type="application/json")


def platform_book(book_id="tm-yw-1a", title="统编版语文一年级上册", edition="新教材", grade="一年级", units=None):
    """A textbook in the platform's nested shape."""
    if units is None:
        units = [
            {"id": "u1", "title": "第一单元", "child_nodes": [
                {"id": "l1", "title": "1 天地人", "child_nodes": []},
                {"id": "l2", "title": "2 金木水火土", "child_nodes": []},
            ]},
            {"id": "u5", "title": "第五单元", "child_nodes": [
                {"id": "l3", "title": "1 秋天", "child_nodes": []},
            ]},
        ]
    return {"id": book_id, "title": title,
            "tags": {"zxxxd": "小学", "zxxnj": grade, "zxxxk": "语文", "zxxbb": "统编版", "zxxcc": "上册",
                     "zxxxjjc": edition},
            "child_nodes": units}


@pytest.fixture
def campaign(tree):
    return Campaign.objects.create(year=2024, title="2024年湛江市基础教育精品课遴选", owner=tree.city,
                                   status="open", new_textbook_grades=["一年级", "七年级"])


@pytest.fixture
def other_campaign(tree):
    return Campaign.objects.create(year=2024, title="2024年茂名市基础教育精品课遴选", owner=tree.other_city,
                                   status="open", new_textbook_grades=["一年级", "七年级"])


@pytest.fixture
def catalog(db):
    """The demo catalog: eight real textbooks."""
    demo.load()
    from catalog.models import Textbook

    return {b.label: b for b in Textbook.objects.all()}


@pytest.fixture
def bearer():
    from api.models import ApiToken

    def issue(user):
        _, raw = ApiToken.issue(user, "t")
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    return issue
