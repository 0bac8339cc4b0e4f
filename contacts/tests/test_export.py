"""The Excel export of all contact forms, read back with openpyxl: the exact rows."""

import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from audit.models import Event
from contacts import exports, rules, services
from contacts.tests.helpers import pdf_upload
from orgs.models import Role
from orgs.tests.factories import member

pytestmark = pytest.mark.django_db


def workbook_of(response):
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)


def values(sheet):
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def test_the_export_has_one_row_per_person_and_a_sheet_of_units_not_filed(client, tree, campaign, rows):
    services.save_people(tree.county_admin, campaign, tree.county, rows)
    services.upload_scan(tree.county_admin, campaign, tree.county, pdf_upload())
    filed_at = timezone.now().replace(microsecond=0)
    services.file_form(tree.county_admin, campaign, tree.county, now=filed_at)
    school_admin = member(tree.city_school, Role.ADMIN, username="yz_admin")
    services.save_people(school_admin, campaign, tree.city_school,
                         [{"name": "周敏", "position": "教务处主任", "mobile": "13900139001",
                           "categories": ["subject", "special", "experiment"], "remark": ""}])
    services.upload_scan(school_admin, campaign, tree.city_school, pdf_upload())
    services.file_form(school_admin, campaign, tree.city_school, now=filed_at)

    client.force_login(tree.city_admin)
    response = client.get(f"/contacts/campaigns/{campaign.pk}/export.xlsx")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert "%E5%B7%A5%E4%BD%9C%E8%81%94%E7%B3%BB%E8%A1%A8.xlsx" in response["Content-Disposition"]  # 工作联系表.xlsx
    book = workbook_of(response)
    assert book.sheetnames == ["工作联系表", "未提交单位"]
    when = rules.local_text(filed_at)
    assert values(book["工作联系表"]) == [
        ["单位名称", "姓名", "职务", "手机", "负责类别", "备注", "提交时间"],
        ["赤坎区", "黄志明", "电教站站长", "13800138021", "学科课程、特殊教育", "学科课程、特殊教育", when],
        ["赤坎区", "陈丽娟", "教研员", "13800138022", "实验教学", None, when],
        ["湛江市第一中学", "周敏", "教务处主任", "13900139001", "学科课程、特殊教育、实验教学", None, when],
    ]
    deadline = rules.local_text(campaign.levels.get(kind="county").contact_form_deadline)
    assert values(book["未提交单位"]) == [["单位名称", "状态", "截止时间", "最后修改"], ["霞山区", "未填写", deadline, None]]
    event = Event.objects.get(action="contacts.export")
    assert (event.actor, event.after) == (tree.city_admin, {"filed": 2, "units": 3})


def test_an_empty_export_still_opens(tree, campaign):
    handle = exports.workbook(iter(()), iter(()), now=timezone.now())
    book = load_workbook(handle, read_only=True)
    assert values(book["工作联系表"]) == [["单位名称", "姓名", "职务", "手机", "负责类别", "备注", "提交时间"]]
    assert values(book["未提交单位"]) == [["单位名称", "状态", "截止时间", "最后修改"]]


def test_the_mobile_is_text_in_the_sheet(tree, campaign, rows):
    handle = exports.workbook(iter([["赤坎区", "黄志明", "站长", "13800138021", "学科课程", "", "2024-08-20 10:00"]]),
                              iter(()), now=timezone.now())
    book = load_workbook(handle)
    cell = book["工作联系表"]["D2"]
    assert (cell.value, cell.data_type) == ("13800138021", "s")
