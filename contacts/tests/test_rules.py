"""The pure rules of the contact form: who files, by when, the deadline to the second, mobile
numbers, rows, completeness, the scan."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contacts import rules

TZ = ZoneInfo("Asia/Shanghai")
DEADLINE = datetime(2024, 8, 26, 23, 59, 59, tzinfo=TZ)
CATS = {"subject": "学科课程", "special": "特殊教育", "experiment": "实验教学"}
LEVELS = ["school", "county", "city"]


# --- who files, by when ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind, parent, expected", [
    ("county", 10, True),    # a county under the city that runs the campaign
    ("school", 10, True),    # a city-owned school (市直属学校)
    ("school", 20, False),   # a school under a county
    ("county", 11, False),   # a county of another city
    ("city", None, False),   # the organiser's level above has no parent here
    ("province", 10, False),  # no such level in the campaign
])
def test_who_files(kind, parent, expected):
    assert rules.files_form(kind, parent, 10, LEVELS) is expected


def test_a_province_campaign_is_filed_by_its_cities():
    assert rules.files_form("city", 1, 1, ["school", "county", "city", "province"]) is True
    assert rules.reporting_level_kind("province") == "city"
    assert rules.reporting_level_kind("city") == "county"
    assert rules.reporting_level_kind("county") is None


def test_a_school_without_its_own_deadline_takes_the_reporting_levels():
    other = DEADLINE + timedelta(days=3)
    assert rules.form_deadline("school", None, DEADLINE) == DEADLINE
    assert rules.form_deadline("school", other, DEADLINE) == other
    assert rules.form_deadline("county", None, DEADLINE) is None
    assert rules.form_deadline("county", other, DEADLINE) == other


def test_the_deadline_holds_to_the_second():
    assert rules.edit_decision(DEADLINE, DEADLINE).ok
    assert rules.edit_decision(DEADLINE - timedelta(seconds=1), DEADLINE).ok
    late = rules.edit_decision(DEADLINE + timedelta(seconds=1), DEADLINE)
    assert (late.ok, late.rule) == (False, "deadline")
    assert late.message == ("工作联系表已于 2024-08-26 23:59 截止，不能再修改或提交。如确需补报，请联系上级单位为本单位重新开放"
                            "（设定新的工作联系表截止时间）。")
    assert rules.edit_decision(DEADLINE + timedelta(days=999), None).ok


@given(st.integers(min_value=-10**7, max_value=10**7))
def test_open_exactly_until_the_deadline(offset):
    now = DEADLINE + timedelta(seconds=offset)
    assert rules.edit_decision(now, DEADLINE).ok is (offset <= 0)


def test_reopen_needs_a_reason_and_a_future_deadline():
    assert rules.reopen_decision(DEADLINE, DEADLINE + timedelta(days=1), "补报").ok
    assert rules.reopen_decision(DEADLINE, DEADLINE + timedelta(days=1), "  ").message == "重新开放时请写明理由。"
    assert rules.reopen_decision(DEADLINE, DEADLINE, "补报").message == "新的截止时间必须晚于现在。"
    assert rules.reopen_decision(DEADLINE, None, "补报").rule == "deadline"


def test_time_left_text():
    assert rules.time_left_text(rules.time_left(DEADLINE - timedelta(days=2, hours=3), DEADLINE)) == "剩 2 天 3 小时"
    assert rules.time_left_text(rules.time_left(DEADLINE + timedelta(seconds=1), DEADLINE)) == "已截止"
    assert rules.time_left_text(None) == "未设截止时间"


# --- mobile numbers ---------------------------------------------------------------------------------
@pytest.mark.parametrize("typed, expected", [
    ("13800138000", "13800138000"),
    ("138 0013 8000", "13800138000"),
    ("138-0013-8000", "13800138000"),
    ("+86 138 0013 8000", "13800138000"),
    ("008613800138000", "13800138000"),
    ("8613800138000", "13800138000"),
    ("１３８００１３８０００", "13800138000"),  # full-width digits from a Chinese keyboard
    ("19912345678", "19912345678"),
    ("12800138000", None),   # no such prefix
    ("1380013800", None),    # 10 digits
    ("138001380001", None),  # 12 digits
    ("0759-3201457", None),  # a landline
    ("", None),
    ("abc", None),
    ("١٣٨٠٠١٣٨٠٠٠", None),  # Arabic-Indic digits are not accepted as ASCII digits
])
def test_normalize_mobile(typed, expected):
    assert rules.normalize_mobile(typed) == expected


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.sampled_from(["", "+86", "0086", "+86 "]),
       st.sampled_from(["", " ", "-"]))
def test_any_valid_mobile_survives_common_typing(number, prefix, sep):
    typed = prefix + sep.join([number[:3], number[3:7], number[7:]])
    assert rules.normalize_mobile(typed) == number


@given(st.text(max_size=20))
def test_a_normalized_mobile_is_always_eleven_ascii_digits(text):
    result = rules.normalize_mobile(text)
    assert result is None or (len(result) == 11 and result.isascii() and result.isdigit() and result[0] == "1")


# --- rows -------------------------------------------------------------------------------------------
def row(**kw):
    base = {"name": "黄志明", "position": "站长", "mobile": "13800138021", "categories": ["subject"], "remark": ""}
    return {**base, **kw}


def test_clean_people_accepts_codes_labels_and_text_and_keeps_campaign_order():
    people, errors = rules.clean_people([
        row(categories=["experiment", "学科课程", "subject"]),
        {"name": "", "position": "", "mobile": "", "categories": [], "remark": ""},  # a blank row is skipped
        row(name=" 陈\x00丽娟 ", mobile="+86 139-0013-9000", categories="特殊教育，实验教学", remark="  备注\n一 "),
    ], CATS)
    assert errors == []
    assert [p.as_dict() for p in people] == [
        {"name": "黄志明", "position": "站长", "mobile": "13800138021", "categories": ["subject", "experiment"],
         "remark": ""},
        {"name": "陈丽娟", "position": "站长", "mobile": "13900139000", "categories": ["special", "experiment"],
         "remark": "备注 一"},
    ]


def test_clean_people_says_what_to_fix_per_row():
    _people, errors = rules.clean_people([
        row(name="", position=""),
        row(mobile="1380013800"),
        row(categories=[], mobile="13800138023"),
        row(categories=["德育"], mobile="13800138024"),
        row(mobile="13800138021", name="重复"),
        row(remark="很" * 201, mobile="13800138026"),
    ], CATS)
    assert errors == [
        {"row": 1, "field": "name", "message": "第 1 位联系人：请填写姓名。"},
        {"row": 1, "field": "position", "message": "第 1 位联系人：请填写职务。"},
        {"row": 2, "field": "mobile",
         "message": "第 2 位联系人：“1380013800”不是有效的手机号码，请填写 11 位手机号码，例如 13800138000。"},
        {"row": 3, "field": "categories", "message": "第 3 位联系人：请勾选负责的精品课类别（可多选）。"},
        {"row": 4, "field": "categories", "message": "第 4 位联系人：本活动没有“德育”类别，可选：学科课程、特殊教育、实验教学。"},
        {"row": 5, "field": "mobile",
         "message": "第 5 位联系人的手机号码与第 1 位相同。同一人负责多个类别时，请在一行里勾选多个类别。"},
        {"row": 6, "field": "remark", "message": "第 6 位联系人：备注最多 200 个字。"},
    ]


def test_clean_people_caps_the_number_of_people():
    many = [row(mobile=f"138{i:08d}") for i in range(rules.MAX_PEOPLE + 1)]
    people, errors = rules.clean_people(many, CATS)
    assert errors == [{"row": 0, "field": "", "message": "一张联系表最多 20 位联系人。"}]
    people, errors = rules.clean_people(many[:-1], CATS)
    assert (len(people), errors) == (rules.MAX_PEOPLE, [])


# --- completeness, status ---------------------------------------------------------------------------
def test_filing_needs_a_person_and_the_scan():
    assert rules.file_decision(1, True, False).ok
    assert rules.file_decision(0, False, False).message == (
        "还不能提交：请至少填写一位联系人，并上传加盖公章的扫描件（PDF、JPG 或 PNG）。")
    assert rules.file_decision(2, False, False).message == "还不能提交：请上传加盖公章的扫描件（PDF、JPG 或 PNG）。"
    assert rules.file_decision(1, True, True).rule == "filed"


def test_a_filed_form_stays_complete():
    assert rules.keep_complete_decision(False, 0, False).ok
    assert rules.keep_complete_decision(True, 1, True).ok
    assert rules.keep_complete_decision(True, 0, True).rule == "filed"


def test_status():
    assert [rules.status_of(False, False), rules.status_of(True, False), rules.status_of(True, True)] == [
        "missing", "draft", "filed"]
    assert [str(rules.STATUS_LABELS[s]) for s in ("missing", "draft", "filed")] == ["未填写", "已填写未提交", "已提交"]


# --- the scan ---------------------------------------------------------------------------------------
def test_scan_decision():
    assert rules.scan_decision("pdf", "PDF 文档", 1000, "a.pdf").ok
    assert rules.scan_decision("jpeg", "JPEG 图片", 1000).ok and rules.scan_decision("png", "PNG 图片", 1).ok
    assert rules.scan_decision("pdf", "PDF 文档", 0, "a.pdf").message == "“a.pdf”是空文件，请重新选择盖章后的扫描件。"
    big = rules.scan_decision("pdf", "PDF 文档", rules.MAX_SCAN_BYTES + 1, "a.pdf")
    assert big.message == "“a.pdf”有 20.0 MB，扫描件不能超过 20.0 MB。请用 150–200 dpi 重新扫描，或存为 JPG 后再上传。"
    assert rules.scan_decision("pdf", "PDF 文档", rules.MAX_SCAN_BYTES, "a.pdf").ok
    wrong = rules.scan_decision("docx", "Word 文档（docx）", 1000, "联系表.pdf")
    assert wrong.message == ("“联系表.pdf”的内容是Word 文档（docx），不是 PDF、JPG 或 PNG（按文件内容判断，与扩展名无关）。"
                             "请上传加盖公章后的扫描件或照片。")
