"""推荐汇总表: the Excel file (opened with openpyxl) and the printable page."""

import io

import openpyxl
import pytest

from courses.models import CourseMember
from orgs.models import Role
from orgs.tests.factories import member
from selection import services
from selection.exports import summary_headers
from selection.tests.helpers import entry_at, up_to_county

pytestmark = pytest.mark.django_db

HEADERS = ["序号", "类别", "学段", "学科", "年级", "版本", "册次", "单元/课", "课名", "主讲教师", "团队成员", "学校",
           "所属区县", "推荐顺序", "本级荣誉"]


@pytest.fixture
def recommended(tree, campaign, make_course, nodes):
    """赤坎区 recommends two courses (the 物理 one first), declines a third, awards the 语文 one."""
    chinese = make_course(node=nodes[0], title="秋天")
    helper = member(tree.school, Role.TEACHER, username="helper", real_name="王芳")
    CourseMember.objects.create(course=chinese, user=helper, order=1)
    CourseMember.objects.create(course=chinese, user=tree.other_teacher, order=2)
    physics = make_course("experiment", node=nodes[6], title="探究平面镜成像")
    declined = make_course(node=nodes[3], title="加法")
    for course in (chinese, physics, declined):
        up_to_county(course, tree)
    services.decide(tree.county_admin, entry_at(physics, "county").pk, "recommend")
    services.decide(tree.county_admin, entry_at(chinese, "county").pk, "recommend")
    services.decide(tree.county_admin, entry_at(declined, "county").pk, "decline")
    services.set_award(tree.county_admin, entry_at(chinese, "county").pk, True)
    return {"chinese": chinese, "physics": physics, "helper": helper}


def test_the_workbook_lists_the_recommendations_in_order(client, tree, campaign, recommended, bearer,
                                                         django_assert_max_num_queries):
    headers = bearer(tree.county_admin)
    url = f"/api/v1/selection/campaigns/{campaign.pk}/units/{tree.county.pk}/summary.xlsx"
    with django_assert_max_num_queries(12):
        response = client.get(url, **headers)
        body = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "2024年湛江市基础教育精品课遴选 赤坎区县级初选推荐汇总表"
    assert rows[1][0].startswith("导出时间：")
    assert rows[3] == HEADERS == summary_headers()
    teacher = tree.teacher.display_name
    assert rows[4:] == [
        [1, "实验教学", "初中", "物理", "八年级", "统编版", "上册", "第一单元 › 第1课", "探究平面镜成像", teacher, None,
         "湛江市第二十一小学", "赤坎区", 1, None],
        [2, "学科课程", "小学", "语文", "一年级", "统编版", "上册", "第一单元 › 第1课", "秋天", teacher,
         f"王芳、{tree.other_teacher.display_name}", "湛江市第二十一小学", "赤坎区", 2, "县级精品课"],
    ]


def test_a_city_owned_school_names_its_owner_and_scope_holds(client, tree, campaign, make_course, nodes):
    course = make_course(node=nodes[1], school=tree.city_school, title="小小的船")
    services.decide(tree.city_admin, entry_at(course, "school").pk, "recommend")
    client.force_login(tree.city_admin)
    url = f"/api/v1/selection/campaigns/{campaign.pk}/units/{tree.city_school.pk}/summary.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(client.get(url).streaming_content))).active
    row = list(next(sheet.iter_rows(min_row=5, values_only=True)))
    assert (row[8], row[11], row[12]) == ("小小的船", "湛江市第一中学", "市直属学校")
    client.force_login(tree.county_admin)
    assert client.get(url).status_code == 404


def test_the_printable_page(client, tree, campaign, recommended, django_assert_max_num_queries):
    client.force_login(tree.county_admin)
    url = f"/selection/campaigns/{campaign.pk}/units/{tree.county.pk}/summary/"
    with django_assert_max_num_queries(14):
        response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "赤坎区县级初选推荐汇总表" in html
    assert html.index("探究平面镜成像") < html.index("秋天")
    assert "王芳" in html and "县级精品课" in html and "加法" not in html
    assert f'href="/api/v1/selection/campaigns/{campaign.pk}/units/{tree.county.pk}/summary.xlsx"' not in html
    assert f'href="/selection/campaigns/{campaign.pk}/units/{tree.county.pk}/summary.xlsx"' in html
    download = client.get(f"/selection/campaigns/{campaign.pk}/units/{tree.county.pk}/summary.xlsx")
    assert download.status_code == 200 and download["Content-Type"].startswith("application/vnd.openxmlformats")
    client.force_login(tree.other_county_admin)
    assert client.get(url).status_code == 404
