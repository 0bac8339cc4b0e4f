"""The desk as a table (desktop): sortable columns, page size 30/100/500, bulk recommend / decline /
return checked entry by entry, the whole filtered set as Excel; the progress board as a sortable
table with its Excel export. Pages and API."""

import io
import json

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import CatalogNode
from orgs.models import Unit
from selection import services
from selection.models import Entry
from selection.tests.helpers import entry_at, up_to_county

pytestmark = pytest.mark.django_db
API = "/api/v1/selection"


@pytest.fixture
def desk(tree, campaign, make_course, nodes):
    """赤坎区 holds four courses of its school: 语文, 数学, and two special-education ones (quota 1)."""
    courses = [make_course(node=nodes[0], title="秋天"), make_course(node=nodes[3], title="10以内的加法"),
               make_course("special", node=nodes[1], title="认识颜色"),
               make_course("special", node=nodes[4], title="认识数字")]
    return [up_to_county(c, tree) for c in courses]


def desk_url(campaign, tree, query=""):
    return f"/selection/?campaign={campaign.pk}&held_by={tree.county.pk}{query}"


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def sheet_rows(response):
    body = b"".join(response.streaming_content)
    return [list(r) for r in openpyxl.load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True)]


# --- the table, its sort and page size ----------------------------------------------------------------
def test_the_table_has_sortable_columns(client, tree, campaign, desk):
    client.force_login(tree.county_admin)
    response = client.get(desk_url(campaign, tree, "&subject=语文&sort=title"))
    heads = response.context["heads"]
    assert [str(h["label"]) for h in heads] == ["课程", "类别", "学段/学科/年级", "学校", "区县", "文件检测", "状态",
                                                "推荐顺序"]
    # A click sorts by the column, keeping the filters; a second click on the sorted column reverses it.
    assert heads[0]["state"] == "ascending"
    assert heads[0]["url"] == f"?campaign={campaign.pk}&held_by={tree.county.pk}&subject=%E8%AF%AD%E6%96%87&sort=-title"
    assert heads[4]["url"] == f"?campaign={campaign.pk}&held_by={tree.county.pk}&subject=%E8%AF%AD%E6%96%87&sort=county"
    html = response.content.decode()
    assert '<th scope="col" aria-sort="ascending">' in html
    assert [(e.course.title, county) for e, county in response.context["rows"]] == [("秋天", "赤坎区"), ("认识颜色", "赤坎区")]
    assert f'name="ids" value="{desk[0].pk}"' in html
    # One row per entry, which is also the phone's card (CSS) with the entry's own actions.
    assert html.count(f'<tr class="entry" id="entry-{desk[0].pk}"') == 1
    assert f'action="/selection/entries/{desk[0].pk}/recommend/"' in html


def test_sort_by_county_and_by_check_result(client, tree, campaign, make_course, nodes):
    from selection.tests.test_api import add_file

    ours = up_to_county(make_course(node=nodes[0], title="秋天"), tree)
    services.decide(tree.county_admin, ours.pk, "recommend")
    other_school = Unit.objects.create(name="霞山区第二小学", code="440803002", kind="school",
                                       parent=tree.other_county)
    theirs = make_course(node=nodes[3], school=other_school, teacher=tree.other_teacher, title="加法")
    services.decide(tree.sysadmin, entry_at(theirs, "school").pk, "recommend")
    services.decide(tree.other_county_admin, entry_at(theirs, "county").pk, "recommend")
    city_owned = make_course(node=nodes[6], school=tree.city_school, title="平面镜")
    services.decide(tree.sysadmin, entry_at(city_owned, "school").pk, "recommend")
    add_file(theirs, "fail")
    add_file(ours.course, "pass")
    client.force_login(tree.city_admin)

    def rows(sort):
        response = client.get(f"/selection/?campaign={campaign.pk}&held_by={tree.city.pk}&sort={sort}")
        return [(e.course.title, county, e.compliance) for e, county in response.context["rows"]]

    assert rows("county") == [("平面镜", "市直属学校", "none"), ("秋天", "赤坎区", "pass"), ("加法", "霞山区", "fail")]
    assert rows("-county") == [("加法", "霞山区", "fail"), ("秋天", "赤坎区", "pass"), ("平面镜", "市直属学校", "none")]
    assert rows("compliance") == [("加法", "霞山区", "fail"), ("平面镜", "市直属学校", "none"), ("秋天", "赤坎区", "pass")]
    assert rows("-compliance") == [("秋天", "赤坎区", "pass"), ("平面镜", "市直属学校", "none"), ("加法", "霞山区", "fail")]


def test_page_size_and_a_query_count_independent_of_it(client, tree, campaign, make_course, nodes,
                                                      django_assert_max_num_queries):
    textbook = nodes[0].textbook
    for i in range(35):  # one lesson each: the school's node rule would refuse a second course on a lesson
        node = CatalogNode.objects.create(textbook=textbook, title=f"第{i}课", order=10 + i, is_leaf=True)
        up_to_county(make_course(node=node, title=f"课{i:02d}"), tree)
    client.force_login(tree.county_admin)
    url = desk_url(campaign, tree, "&sort=title")
    with CaptureQueriesContext(connection) as small:
        response = client.get(url)
    assert len(response.context["rows"]) == 30 and response.context["per_page"] == 30
    with django_assert_max_num_queries(26), CaptureQueriesContext(connection) as large:
        response = client.get(url + "&per_page=500")
    assert len(large) == len(small)
    assert [e.course.title for e, _c in response.context["rows"]] == [f"课{i:02d}" for i in range(35)]
    assert response.context["page_obj"].paginator.num_pages == 1
    assert client.get(url + "&per_page=100").context["per_page"] == 100
    assert client.get(url + "&per_page=7").context["per_page"] == 30  # only 30, 100 and 500
    # The size stays in the URL: the size links keep the filters, the filter form keeps the size.
    page_sizes = dict(response.context["page_sizes"])
    assert page_sizes[100] == f"?campaign={campaign.pk}&held_by={tree.county.pk}&sort=title&per_page=100"
    assert '<input type="hidden" name="per_page" value="500">' in response.content.decode()


# --- bulk decisions -----------------------------------------------------------------------------------
def test_bulk_recommend_checks_each_entry_with_its_own_refusal(client, tree, campaign, desk):
    client.force_login(tree.county_admin)
    back = desk_url(campaign, tree, "&state=pending&per_page=100")
    autumn, maths, colours, digits = desk
    response = client.post("/selection/bulk/", {"ids": [colours.pk, digits.pk, autumn.pk], "action": "recommend",
                                                "next": back}, follow=True)
    assert response.redirect_chain == [(back, 302)]  # the filters stay in the URL
    assert messages_of(response) == [
        "已推荐 2 门课程到上一级。",
        "《认识数字》：名额已满：特殊教育 已推荐 1/1。请先撤销其他推荐，或联系上级调整名额。",
    ]
    states = {e.course.title: (e.state, e.rank) for e in Entry.objects.filter(level__kind="county")}
    assert states == {"认识颜色": ("recommended", 1), "认识数字": ("pending", None), "秋天": ("recommended", 2),
                      "10以内的加法": ("pending", None)}
    assert Entry.objects.filter(level__kind="city").count() == 2


def test_bulk_return_takes_one_reason_for_all(client, tree, campaign, desk):
    client.force_login(tree.county_admin)
    autumn, maths = desk[0], desk[1]
    response = client.post("/selection/bulk/", {"ids": [autumn.pk, maths.pk], "action": "return", "reason": " "},
                           follow=True)
    assert messages_of(response) == ["退回时请写明理由，告诉教师需要修改什么。"]
    assert Entry.objects.get(pk=autumn.pk).state == "pending"
    response = client.post("/selection/bulk/", {"ids": [autumn.pk, maths.pk], "action": "return",
                                                "reason": "请补充学习任务单"}, follow=True)
    assert messages_of(response) == ["已退回 2 门课程，教师会看到退回理由。"]
    for entry in (autumn, maths):
        entry.refresh_from_db()
        entry.course.refresh_from_db()
        assert (entry.state, entry.reason, entry.course.status, entry.course.return_reason) == (
            "returned", "请补充学习任务单", "returned", "请补充学习任务单")


def test_bulk_decline_and_what_it_refuses(client, tree, campaign, desk, make_course, nodes):
    neighbour = make_course(node=nodes[2], school=tree.other_school, teacher=tree.other_teacher, title="江南")
    foreign = entry_at(neighbour, "school")
    client.force_login(tree.county_admin)
    autumn = desk[0]
    response = client.post("/selection/bulk/", {"ids": [autumn.pk, foreign.pk, "x"], "action": "decline",
                                                "reason": "本区同类课程较多"}, follow=True)
    assert messages_of(response) == ["已将 1 门课程标记为未推荐。", f"编号 {foreign.pk}：未找到该推荐记录，或您无权查看。"]
    autumn.refresh_from_db()
    assert (autumn.state, autumn.reason) == ("declined", "本区同类课程较多")
    assert Entry.objects.get(pk=foreign.pk).state == "pending"
    response = client.post("/selection/bulk/", {"ids": [autumn.pk], "action": "undo"}, follow=True)
    assert messages_of(response) == ["批量操作只能是推荐、未推荐或退回。"]
    response = client.post("/selection/bulk/", {"action": "decline"}, follow=True)
    assert messages_of(response) == ["请先勾选要处理的课程。"]


def test_bulk_decide_service_goes_entry_by_entry(tree, campaign, desk):
    autumn, maths, colours, digits = desk
    services.decide(tree.county_admin, maths.pk, "decline")
    outcomes = services.bulk_decide(tree.county_admin, [maths.pk, digits.pk, colours.pk, digits.pk], "recommend")
    assert [(o.title, o.ok, o.message) for o in outcomes] == [
        ("10以内的加法", False, "该课程当前状态为“未推荐”，不能执行此操作。"),
        ("认识数字", True, ""),  # the duplicate id is decided once
        ("认识颜色", False, "名额已满：特殊教育 已推荐 1/1。请先撤销其他推荐，或联系上级调整名额。"),
    ]
    with pytest.raises(services.ServiceError) as exc:
        services.bulk_decide(tree.county_admin, list(range(1, 502)), "decline")
    assert exc.value.message == "一次最多处理 500 门课程，请分批操作。"


# --- the whole filtered set as Excel ---------------------------------------------------------------------
EXPORT_HEADERS = ["序号", "课名", "类别", "学段", "学科", "年级", "版本", "册次", "单元/课", "学校", "所属区县", "主讲教师",
                  "文件检测", "状态", "推荐顺序", "本级荣誉", "理由", "到达时间"]


def test_the_filtered_set_exports_as_excel(client, tree, campaign, desk, django_assert_max_num_queries):
    services.decide(tree.county_admin, desk[0].pk, "recommend")
    client.force_login(tree.county_admin)
    response = client.get(desk_url(campaign, tree, "&category=subject&per_page=100"))
    export_url = response.context["export_url"]
    assert export_url == f"/selection/entries.xlsx?campaign={campaign.pk}&held_by={tree.county.pk}&category=subject"
    assert f'href="{export_url.replace("&", "&amp;")}"' in response.content.decode()
    with django_assert_max_num_queries(12):
        response = client.get(export_url + "&sort=-title")
        rows = sheet_rows(response)
    assert response["Content-Disposition"].startswith("attachment")
    assert rows[0][0] == "2024年湛江市基础教育精品课遴选 赤坎区县级初选课程列表"
    assert rows[3] == EXPORT_HEADERS
    teacher = tree.teacher.display_name
    assert [r[:17] for r in rows[4:]] == [
        [1, "秋天", "学科课程", "小学", "语文", "一年级", "统编版", "上册", "第一单元 › 第1课", "湛江市第二十一小学", "赤坎区",
         teacher, "未上传文件", "已推荐", 1, None, None],
        [2, "10以内的加法", "学科课程", "小学", "数学", "一年级", "统编版", "上册", "第一单元 › 第1课", "湛江市第二十一小学",
         "赤坎区", teacher, "未上传文件", "待处理", None, None, None],
    ]
    client.force_login(tree.other_county_admin)  # another county's desk is out of reach
    assert client.get(export_url).status_code == 404


# --- the progress board as a table --------------------------------------------------------------------------
def test_the_progress_board_table_sorts_and_exports(client, tree, campaign, desk, django_assert_max_num_queries):
    services.decide(tree.county_admin, desk[0].pk, "recommend")
    services.decide(tree.county_admin, desk[2].pk, "recommend")
    client.force_login(tree.city_admin)
    url = f"/selection/campaigns/{campaign.pk}/progress/"
    with django_assert_max_num_queries(17):
        response = client.get(url)
    heads = response.context["heads"]
    assert [str(h["label"]) for h in heads] == ["单位", "学科课程", "特殊教育", "实验教学", "待处理", "推荐截止", "汇总表",
                                                "工作联系表"]
    assert heads[1]["url"] == "?sort=quota%3Asubject"
    assert [(r.unit.name, cells) for r, cells in response.context["table"]] == [
        ("赤坎区", ["1/25", "1/1", "0/10"]), ("霞山区", ["0/25", "0/1", "0/10"]),
        ("湛江市第一中学", ["0（不限）", "0（不限）", "0（不限）"]),
    ]
    assert 'class="progress-table"' in response.content.decode()

    def units(sort):
        return [r.unit.name for r in client.get(url + "?sort=" + sort).context["rows"]]

    assert units("-pending") == ["赤坎区", "霞山区", "湛江市第一中学"]
    assert units("pending") == ["霞山区", "湛江市第一中学", "赤坎区"]
    assert units("-quota:special") == ["赤坎区", "霞山区", "湛江市第一中学"]
    assert units("-unit") == ["湛江市第一中学", "霞山区", "赤坎区"]
    assert client.get(url + "?sort=-pending").context["export_url"] == (
        f"/selection/campaigns/{campaign.pk}/progress.xlsx?sort=-pending")

    rows = sheet_rows(client.get(f"/selection/campaigns/{campaign.pk}/progress.xlsx?sort=-pending"))
    assert rows[0][0] == "2024年湛江市基础教育精品课遴选 湛江市下级推荐进度"
    assert rows[3] == ["单位", "层级", "学科课程（已推荐/名额）", "特殊教育（已推荐/名额）", "实验教学（已推荐/名额）", "待处理",
                       "已推荐", "节点冲突", "推荐截止", "汇总表确认", "工作联系表"]
    deadline = rows[4][8]
    assert [r[:8] + r[9:] for r in rows[4:]] == [
        ["赤坎区", "县级初选", "1/25", "1/1", "0/10", 2, 2, 0, "未确认", "未提交"],
        ["霞山区", "县级初选", "0/25", "0/1", "0/10", 0, 0, 0, "未确认", "未提交"],
        ["湛江市第一中学", "学校推荐", "0（不限）", "0（不限）", "0（不限）", 0, 0, 0, "未确认", "未提交"],
    ]
    assert deadline == services.rules.local_text(services.progress(tree.city_admin, campaign, tree.city)[0].deadline)


# --- the API: the same sort, page size, bulk and exports -------------------------------------------------------
def post(client, path, data):
    return client.post(path, json.dumps(data), content_type="application/json")


def test_api_page_size_sort_bulk_and_export(client, tree, campaign, desk, django_assert_max_num_queries):
    client.force_login(tree.county_admin)
    params = {"campaign": campaign.pk, "held_by": tree.county.pk, "sort": "-title"}
    with django_assert_max_num_queries(6):
        body = client.get(f"{API}/entries", {**params, "page_size": 100}).json()
    assert [i["title"] for i in body["items"]] == ["认识颜色", "认识数字", "秋天", "10以内的加法"]
    response = client.get(f"{API}/entries", {**params, "page_size": 50})
    assert response.status_code == 400
    assert response.json() == {"detail": "每页条数只能是 30、100 或 500。", "errors": [{"field": "page_size"}]}

    autumn, maths, colours, digits = desk
    response = post(client, f"{API}/entries/bulk", {"ids": [colours.pk, digits.pk], "action": "recommend"})
    assert response.status_code == 200
    assert response.json() == {"done": 1, "refused": 1, "results": [
        {"entry_id": colours.pk, "title": "认识颜色", "ok": True, "detail": ""},
        {"entry_id": digits.pk, "title": "认识数字", "ok": False,
         "detail": "名额已满：特殊教育 已推荐 1/1。请先撤销其他推荐，或联系上级调整名额。"}]}
    # An id beyond the database's range is refused with the body (422, naming it), nothing decided;
    # an id in range that is not in scope is that entry's own refusal.
    response = post(client, f"{API}/entries/bulk", {"ids": [autumn.pk, 10**30], "action": "decline"})
    assert (response.status_code, response.json()["errors"][0]["loc"]) == (422, ["body", "ids", 1])
    autumn.refresh_from_db()
    assert autumn.state == "pending"
    response = post(client, f"{API}/entries/bulk", {"ids": [autumn.pk, 2**63 - 1], "action": "decline"})
    assert response.json()["results"][1] == {"entry_id": 2**63 - 1, "title": "", "ok": False,
                                             "detail": "未找到该推荐记录，或您无权查看。"}
    response = post(client, f"{API}/entries/bulk", {"ids": [maths.pk], "action": "return"})
    assert response.status_code == 400
    assert response.json()["detail"] == "退回时请写明理由，告诉教师需要修改什么。"

    response = client.get(f"{API}/entries.xlsx", {**params, "state": "recommended"})
    rows = sheet_rows(response)
    assert rows[3] == EXPORT_HEADERS
    assert [r[1] for r in rows[4:]] == ["认识颜色"]

    body = client.get(f"{API}/campaigns/{campaign.pk}/progress", {"unit": tree.county.pk, "sort": "-pending"}).json()
    assert [c["unit_name"] for c in body["children"]] == ["湛江市第二十一小学"]
    client.force_login(tree.city_admin)
    body = client.get(f"{API}/campaigns/{campaign.pk}/progress", {"sort": "-quota:special"}).json()
    assert [c["unit_name"] for c in body["children"]] == ["赤坎区", "霞山区", "湛江市第一中学"]
    rows = sheet_rows(client.get(f"{API}/campaigns/{campaign.pk}/progress.xlsx", {"sort": "-quota:special"}))
    assert [r[0] for r in rows[4:]] == ["赤坎区", "霞山区", "湛江市第一中学"]


# --- what keeps the page fast: each row drawn once, with no per-row include or URL reversal -----------
def _add_entries(tree, make_course, nodes, start, n):
    textbook = nodes[0].textbook
    for i in range(start, start + n):  # one lesson each (the school's node rule)
        node = CatalogNode.objects.create(textbook=textbook, title=f"第{i}课", order=10 + i, is_leaf=True)
        up_to_county(make_course(node=node, title=f"课{i:02d}"), tree)


def _rendered(client, url):
    """The page, the templates it rendered and how many URLs were reversed while rendering it."""
    from unittest import mock

    import django.urls

    client.get(url)
    with mock.patch("django.urls.reverse", wraps=django.urls.reverse) as reversing:
        response = client.get(url)
    return response, sorted(t.name for t in response.templates if t.name), reversing.call_count


def test_each_entry_is_one_row_and_the_rendering_does_not_grow_per_row(client, tree, campaign, make_course, nodes):
    """The desk draws an entry once (one <tr> that is the phone's card too, with the entry's own
    forms): no second markup, no template included per row, no {% url %} per row: the same
    templates and the same number of URL reversals for 1 entry as for 35."""
    client.force_login(tree.county_admin)
    url = desk_url(campaign, tree, "&per_page=100")
    _add_entries(tree, make_course, nodes, 0, 1)
    _response, one_templates, one_reversals = _rendered(client, url)
    _add_entries(tree, make_course, nodes, 1, 34)
    response, templates, reversals = _rendered(client, url)
    assert (templates, reversals) == (one_templates, one_reversals)
    assert templates.count("selection/list.html") == 1
    html = response.content.decode()
    rows = response.context["desk_rows"]
    assert len(rows) == 35 and html.count('<tr class="entry"') == 35
    for row in rows:
        assert html.count(f'id="entry-{row.pk}"') == 1
        assert html.count(f'action="/selection/entries/{row.pk}/recommend/"') == 1
        assert html.count(f'href="/selection/entries/{row.pk}/"') == 1
