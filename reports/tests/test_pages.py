"""The dashboard page (统计), its Excel exports (opened with openpyxl), the API, the nav link and scope."""

import io
import json
import re

import openpyxl
import pytest

from reports import services

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook_rows(response) -> list[list]:
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def chart_options(html: str) -> dict[str, dict]:
    """The chart options the page carries in its json_script blocks, by section key."""
    blocks = re.findall(r'<script id="chart-data-([a-z]+)" type="application/json">(.*?)</script>', html, re.S)
    return {key: json.loads(body) for key, body in blocks}


def test_dashboard_page_shows_each_section_with_chart_table_and_export(client, story, tree, campaign):
    client.force_login(tree.county_admin)
    response = client.get("/reports/")
    assert response.status_code == 200
    html = response.content.decode()
    for key in services.SECTION_KEYS:
        assert f'id="section-{key}"' in html
        assert f'href="/reports/{key}.xlsx?campaign={campaign.pk}&amp;unit={tree.county.pk}"' in html
    # ECharts and our script come from our origin; no inline script is executed.
    assert '<script src="/static/vendor/echarts/echarts.min.js" defer></script>' in html
    assert '<script src="/static/js/dashboard.js" defer></script>' in html
    assert re.findall(r"<script(?![^>]*(src=|application/json))", html) == []
    options = chart_options(html)
    # A chart per section with rows (none for the county's shares: no cap at the county level, nor for
    # special education: the county has recommended none).
    assert sorted(options) == sorted(k for k in services.SECTION_KEYS if k not in ("shares", "special"))
    units = options["units"]
    assert units["yAxis"]["data"] == ["湛江市第二十一小学"]
    assert [(s["name"], s["data"]) for s in units["series"]] == [
        ("待处理", [1]), ("已退回", [0]), ("已推荐", [2]), ("未推荐", [1])]
    assert options["category"]["xAxis"]["data"] == ["学科课程", "特殊教育", "实验教学"]
    assert options["category"]["series"][0]["data"] == [2, 1, 1]
    # The table beside the chart.
    table = re.search(r'<table class="report-table" id="table-checks">(.*?)</table>', html, re.S).group(1)
    cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", table)]
    assert cells == ["分辨率", "2", "0", "2", "时长", "1", "0", "1", "PDF 无文字（扫描件）", "0", "1", "1",
                     "帧率", "0", "1", "1"]
    assert "暂无数据" in re.search(r'id="table-shares">(.*?)</table>', html, re.S).group(1)


def test_dashboard_page_query_count(client, story, tree, campaign, nodes, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports.tests.conftest import _course

    client.force_login(tree.city_admin)
    url = f"/reports/?campaign={campaign.pk}&unit={tree.city.pk}"
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for i in range(5):  # more courses in both counties: not one query more
        _course(campaign, tree, nodes[i], "subject", (tree.school, tree.other_school)[i % 2],
                (tree.teacher, tree.other_teacher)[i % 2], f"more{i}")
    # progress board: counts + node conflicts (2 GROUP BY); the area-wide counts: one snapshot row;
    # the campaign's levels once (33 before the snapshot)
    with django_assert_max_num_queries(23):
        assert client.get(url).status_code == 200
    assert len(before.captured_queries) <= 23


def test_city_admin_switches_to_a_county(client, story, tree, campaign):
    client.force_login(tree.city_admin)
    html = client.get(f"/reports/?campaign={campaign.pk}&unit={tree.county.pk}").content.decode()
    assert "赤坎区 · 统计" in html
    assert chart_options(html)["units"]["yAxis"]["data"] == ["湛江市第二十一小学"]


def test_other_county_and_city_are_404_for_a_county_admin(client, story, tree, campaign):
    client.force_login(tree.county_admin)
    for unit in (tree.other_county, tree.city):
        assert client.get(f"/reports/?campaign={campaign.pk}&unit={unit.pk}").status_code == 404
        assert client.get(f"/reports/units.xlsx?campaign={campaign.pk}&unit={unit.pk}").status_code == 404
        assert client.get(f"/api/v1/reports/sections/units?campaign={campaign.pk}&unit={unit.pk}").status_code == 404


@pytest.mark.parametrize("who", ["teacher", "school_admin"])
def test_teacher_and_school_admin_have_no_dashboard(client, story, tree, campaign, who):
    client.force_login(getattr(tree, who))
    assert client.get("/reports/").status_code == 404
    assert client.get(f"/reports/units.xlsx?campaign={campaign.pk}").status_code == 404
    assert client.get("/api/v1/reports/dashboard").status_code == 404
    assert "/reports/" not in client.get("/").content.decode()


def test_anonymous_is_sent_to_login(client, story):
    response = client.get("/reports/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get("/api/v1/reports/dashboard").status_code == 401


def test_nav_link_for_county_city_province_admins(client, story, tree):
    for admin in (tree.county_admin, tree.city_admin, tree.province_admin, tree.sysadmin):
        client.force_login(admin)
        assert '<a href="/reports/">统计</a>' in client.get("/").content.decode(), admin


# --- Excel ------------------------------------------------------------------------------------------
def test_excel_export_of_a_section(client, story, tree, campaign):
    client.force_login(tree.county_admin)
    got = workbook_rows(client.get(f"/reports/checks.xlsx?campaign={campaign.pk}&unit={tree.county.pk}"))
    assert got[0][0] == "2024年湛江市基础教育精品课遴选 赤坎区 · 文件检测不合格原因"
    assert got[1][0].startswith("导出时间：")
    assert got[3] == ["检测项", "不合格文件数", "提醒文件数", "涉及课程数"]
    assert got[4:] == [["分辨率", 2, 0, 2], ["时长", 1, 0, 1], ["PDF 无文字（扫描件）", 0, 1, 1], ["帧率", 0, 1, 1]]


def test_excel_keeps_numbers_and_blanks(client, story, tree, campaign):
    client.force_login(tree.city_admin)
    review = workbook_rows(client.get(f"/reports/review.xlsx?campaign={campaign.pk}"))
    assert review[4][:10] == ["赤坎区初选", "赤坎区", "学科课程", "评审中", 2, 3, 2, 1, 0, 66.7]
    progress = workbook_rows(client.get(f"/reports/progress.xlsx?campaign={campaign.pk}"))
    assert progress[6][:8] == ["湛江市第一中学", "学校推荐", "0（不限）", "0（不限）", "0（不限）", 0, None, 0]


def test_excel_of_an_unknown_section_is_404(client, story, tree, campaign):
    client.force_login(tree.city_admin)
    assert client.get(f"/reports/nope.xlsx?campaign={campaign.pk}").status_code == 404


# --- API ------------------------------------------------------------------------------------------
def test_api_section_returns_the_same_rows(client, story, tree, campaign, bearer):
    response = client.get(f"/api/v1/reports/sections/units?campaign={campaign.pk}", **bearer(tree.city_admin))
    assert response.status_code == 200
    assert response.json() == {
        "key": "units", "title": "下级单位申报与处理情况", "note": "下级单位在其本级收到的课程，按处理状态。",
        "columns": ["单位", "待处理", "已退回", "已推荐", "未推荐", "合计"],
        "rows": [["赤坎区", 1, 0, 1, 0, 2], ["霞山区", 1, 0, 0, 0, 1], ["湛江市第一中学", 0, 0, 0, 0, 0]]}


def test_api_dashboard_has_every_section(client, story, tree, campaign, bearer):
    body = client.get(f"/api/v1/reports/dashboard?unit={tree.county.pk}", **bearer(tree.city_admin)).json()
    assert (body["campaign_id"], body["unit_id"], body["unit_name"]) == (campaign.pk, tree.county.pk, "赤坎区")
    assert [s["key"] for s in body["sections"]] == list(services.SECTION_KEYS)
    review = next(s for s in body["sections"] if s["key"] == "review")
    assert review["rows"][0][4:10] == [2, 3, 2, 1, 0, 66.7]


def test_api_excel(client, story, tree, campaign, bearer):
    got = workbook_rows(client.get(f"/api/v1/reports/sections/awards.xlsx?campaign={campaign.pk}",
                                   **bearer(tree.county_admin)))
    assert got[4:] == [["县级精品课", "实验教学", "物理", 1]]


def test_api_unknown_section_is_404_with_the_choices(client, story, tree, campaign, bearer):
    response = client.get("/api/v1/reports/sections/nope", **bearer(tree.city_admin))
    assert response.status_code == 404
    assert "units" in response.json()["detail"]
