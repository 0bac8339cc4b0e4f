"""Fixtures for the orgs tests: Excel sheets built in memory and API helpers."""

import io

import pytest

from orgs.rules import UNIT_COLUMNS, USER_COLUMNS


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
    buf.name = "sheet.xlsx"
    return buf


@pytest.fixture
def unit_sheet():
    def build(*rows, headers=UNIT_COLUMNS):
        return make_xlsx(headers, rows)

    return build


@pytest.fixture
def user_sheet():
    def build(*rows, headers=USER_COLUMNS):
        return make_xlsx(headers, rows)

    return build


@pytest.fixture
def bearer():
    from api.models import ApiToken

    def issue(user):
        _, raw = ApiToken.issue(user, "t")
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    return issue
