"""Importing textbooks: Excel template and sheet, platform JSON, all-or-nothing, re-import, permissions."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from audit.models import Event
from catalog.models import CatalogNode, OpenNode, Textbook
from catalog.tests.conftest import json_file, platform_book, row

IMPORT_EXCEL = "/api/v1/catalog/import/excel"
IMPORT_JSON = "/api/v1/catalog/import/json"


def snapshot():
    return (list(Textbook.objects.order_by("pk").values_list("title", "external_id")),
            list(CatalogNode.objects.order_by("pk").values_list("label_path", "external_id", "order", "is_leaf")),
            Event.objects.count())


def tree_of(book):
    return list(book.nodes.order_by("order").values_list("label_path", "depth", "is_leaf", "external_id"))


GOOD_ROWS = [
    row("第五单元", "1 秋天"),
    row("第五单元", "2 江南"),
    row("第一单元", "1 天地人", node_id="n-1"),
    row("第一章 机械运动", "第4节 测量平均速度", stage="初中", grade="八年级", subject="物理", version="人教版",
        edition="旧教材", book_id="tm-wl", remark="含实验：测量物体运动的平均速度"),
    row("第一单元 我的学校", "1 我上学了", stage="特殊教育", system="培智学校", subject="生活适应", version="人教版"),
]


# --- Excel ----------------------------------------------------------------------------------------------
def test_template_has_the_columns_and_dropdowns(client, tree):
    client.force_login(tree.city_admin)
    response = client.get(reverse("catalog:import_template"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    ws = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [c.value for c in ws[1]] == ["学段*", "学制", "年级", "学科*", "版本*", "册次*", "新旧教材*", "单元", "课*",
                                        "平台教材ID", "平台节点ID", "备注"]
    assert [v.formula1 for v in ws.data_validations.dataValidation] == [
        '"小学,初中,高中,特殊教育"', '"六三学制,五四学制,培智学校,盲校,聋校"', '"新教材,旧教材"']


def test_excel_import_builds_textbooks_units_and_lessons(client, tree, sheet):
    client.force_login(tree.city_admin)
    response = client.post(reverse("catalog:import_excel"), {"file": sheet(*GOOD_ROWS)})
    assert response.status_code == 302
    assert response.url == reverse("catalog:textbooks")
    books = list(Textbook.objects.order_by("rank"))
    assert [(b.label, b.external_id) for b in books] == [
        ("统编版语文一年级上册", None), ("人教版物理八年级上册（旧教材）", "tm-wl"), ("人教版生活适应一年级上册（培智学校）", None)]
    assert tree_of(books[0]) == [
        ("第五单元", 0, False, None), ("第五单元 › 1 秋天", 1, True, None), ("第五单元 › 2 江南", 1, True, None),
        ("第一单元", 0, False, None), ("第一单元 › 1 天地人", 1, True, "n-1")]
    assert CatalogNode.objects.get(title="第4节 测量平均速度").remark == "含实验：测量物体运动的平均速度"
    response = client.get(reverse("catalog:textbooks"))
    assert "已导入 3 本教材（新建 3 本）：新增节点 9 个，更新节点 0 个。" in response.content.decode()
    assert list(Event.objects.filter(action="catalog.textbook.import").order_by("pk").values_list("target_repr", flat=True)) == [
        "统编版语文一年级上册", "人教版物理八年级上册（旧教材）", "人教版生活适应一年级上册（培智学校）"]


def test_reimporting_the_same_sheet_changes_nothing_and_adds_what_is_new(client, tree, sheet):
    client.force_login(tree.province_admin)
    client.post(reverse("catalog:import_excel"), {"file": sheet(*GOOD_ROWS)})
    before = snapshot()
    response = client.post(reverse("catalog:import_excel"), {"file": sheet(*GOOD_ROWS)})
    assert response.status_code == 302
    assert snapshot() == before  # no duplicates, no audit noise
    client.post(reverse("catalog:import_excel"), {"file": sheet(
        row("第五单元", "3 雪地里的小画家"), row("第一单元", "1 天地人（修订）", node_id="n-1"))})
    book = Textbook.objects.get(subject="语文")
    # a partial sheet: stored nodes keep their order, new ones follow
    assert tree_of(book) == [
        ("第五单元", 0, False, None), ("第五单元 › 1 秋天", 1, True, None), ("第五单元 › 2 江南", 1, True, None),
        ("第五单元 › 3 雪地里的小画家", 1, True, None),
        ("第一单元", 0, False, None), ("第一单元 › 1 天地人（修订）", 1, True, "n-1")]
    client.post(reverse("catalog:import_excel"), {"file": sheet(
        row("第五单元", "2 江南"), row("第五单元", "2.5 新课"), row("第五单元", "1 秋天"))})
    assert [p for p, *_ in tree_of(book)][:5] == [
        "第五单元", "第五单元 › 1 秋天", "第五单元 › 2 江南", "第五单元 › 2.5 新课", "第五单元 › 3 雪地里的小画家"]


def test_a_bad_sheet_changes_nothing_and_lists_every_row(client, tree, sheet):
    client.force_login(tree.city_admin)
    client.post(reverse("catalog:import_excel"), {"file": sheet(*GOOD_ROWS)})
    before = snapshot()
    response = client.post(reverse("catalog:import_excel"), {"file": sheet(
        row("第六单元", "5 对韵歌"),
        row("第六单元", "6 日月明", stage="幼儿园"),
        row("第六单元", ""),
        row("第六单元", "7 小书包", edition="2024版"),
        row("第六单元", "5 对韵歌"),
    )})
    assert response.status_code == 400
    assert snapshot() == before
    errors = response.context["import_error"].errors
    assert [(e["row"], e["column"]) for e in errors] == [(3, "学段"), (4, "课"), (5, "新旧教材"), (6, "课")]
    html = response.content.decode()
    assert "教材目录未导入：共有 4 处有问题" in html
    assert "与第 2 行重复：这本教材的“第六单元 › 5 对韵歌”已经有了。" in html
    assert "新旧教材只能填“新教材”或“旧教材”，不能是“2024版”。" in html


def test_a_sheet_without_the_lesson_column_is_refused(client, tree, sheet):
    client.force_login(tree.city_admin)
    response = client.post(reverse("catalog:import_excel"), {"file": sheet(["小学"], headers=["学段"])})
    assert response.status_code == 400
    assert response.context["import_error"].message == (
        "表格缺少这些列：学科、版本、册次、新旧教材、课。请下载最新模板，不要修改第一行的列标题。")
    assert Textbook.objects.count() == 0


def test_a_textbook_id_that_belongs_to_another_book_is_refused(client, tree, sheet):
    client.force_login(tree.city_admin)
    client.post(reverse("catalog:import_excel"), {"file": sheet(*GOOD_ROWS)})
    before = snapshot()
    response = client.post(reverse("catalog:import_excel"), {"file": sheet(
        row("第一单元", "1 天地人", book_id="tm-wl"))})
    assert response.status_code == 400
    assert snapshot() == before
    assert response.context["import_error"].errors == [{
        "row": "第 2 行", "column": "平台教材ID",
        "message": "平台教材ID tm-wl 已属于“人教版物理八年级上册（旧教材）”，与本次填写的学段、年级、学科、版本、册次或新旧教材不一致。请核对后再导入。"}]


def test_excel_import_through_the_api_with_a_token(client, tree, sheet, bearer):
    response = client.post(IMPORT_EXCEL, {"file": sheet(*GOOD_ROWS)}, **bearer(tree.sysadmin))
    assert response.status_code == 201
    body = response.json()
    assert body["detail"] == "已导入 3 本教材（新建 3 本）：新增节点 9 个，更新节点 0 个。"
    assert [(t["label"], t["created"], t["nodes_total"], t["leaves"]) for t in body["textbooks"]] == [
        ("统编版语文一年级上册", True, 5, 3), ("人教版物理八年级上册（旧教材）", True, 2, 1),
        ("人教版生活适应一年级上册（培智学校）", True, 2, 1)]
    response = client.post(IMPORT_EXCEL, {"file": sheet(row("一", "", stage="大学"))}, **bearer(tree.sysadmin))
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"row": 2, "column": "学段", "message": "无法识别学段“大学”：请填 小学、初中、高中 或 特殊教育。"},
        {"row": 2, "column": "课", "message": "请填写课名：每一行是一个可选的目录节点（课）。"}]


def test_template_through_the_api(client, tree):
    client.force_login(tree.city_admin)
    response = client.get("/api/v1/catalog/import/template")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


# --- platform JSON --------------------------------------------------------------------------------------
def test_json_import_keeps_platform_ids(client, tree):
    client.force_login(tree.city_admin)
    response = client.post(IMPORT_JSON, {"file": json_file(platform_book())})
    assert response.status_code == 201
    book = Textbook.objects.get()
    assert (book.external_id, book.label) == ("tm-yw-1a", "统编版语文一年级上册")
    assert tree_of(book) == [
        ("第一单元", 0, False, "u1"), ("第一单元 › 1 天地人", 1, True, "l1"), ("第一单元 › 2 金木水火土", 1, True, "l2"),
        ("第五单元", 0, False, "u5"), ("第五单元 › 1 秋天", 1, True, "l3")]


def test_json_reimport_updates_titles_and_adds_nodes_by_id(client, tree, bearer):
    auth = bearer(tree.province_admin)
    client.post(IMPORT_JSON, {"file": json_file(platform_book())}, **auth)
    ids = dict(CatalogNode.objects.values_list("external_id", "pk"))
    response = client.post(IMPORT_JSON, {"file": json_file(platform_book())}, **auth)
    assert response.json()["textbooks"][0] | {"id": 0} == {
        "id": 0, "label": "统编版语文一年级上册", "external_id": "tm-yw-1a", "created": False, "nodes_created": 0,
        "nodes_updated": 0, "nodes_total": 5, "leaves": 3}
    changed = platform_book(title="义务教育教科书·语文一年级上册", units=[
        {"id": "u1", "title": "第一单元（识字）", "child_nodes": [
            {"id": "l1", "title": "1 天地人", "child_nodes": []},
            {"id": "l2", "title": "2 金木水火土", "child_nodes": []},
            {"id": "l4", "title": "3 口耳目手足", "child_nodes": []},
        ]},
        {"id": "u5", "title": "第五单元", "child_nodes": [{"id": "l3", "title": "1 秋天", "child_nodes": []}]},
    ])
    response = client.post(IMPORT_JSON, {"file": json_file(changed)}, **auth)
    assert response.status_code == 201
    assert response.json()["detail"] == "已导入 1 本教材（新建 0 本）：新增节点 1 个，更新节点 1 个。"
    book = Textbook.objects.get()
    assert book.label == "义务教育教科书·语文一年级上册"
    assert tree_of(book) == [
        ("第一单元（识字）", 0, False, "u1"), ("第一单元（识字） › 1 天地人", 1, True, "l1"),
        ("第一单元（识字） › 2 金木水火土", 1, True, "l2"), ("第一单元（识字） › 3 口耳目手足", 1, True, "l4"),
        ("第五单元", 0, False, "u5"), ("第五单元 › 1 秋天", 1, True, "l3")]
    assert {k: v for k, v in CatalogNode.objects.values_list("external_id", "pk") if k != "l4"} == ids


def test_malformed_json_gets_a_clear_message(client, tree):
    client.force_login(tree.city_admin)
    response = client.post(reverse("catalog:import_json"), {"file": json_file(b'{"id": "x", "title": "a",\n "tags": }')})
    assert response.status_code == 400
    assert response.context["import_error"].message == (
        "文件不是有效的 JSON：第 2 行第 10 列附近有语法错误。请检查括号、引号是否成对，逗号是否多余或缺少。")
    response = client.post(IMPORT_JSON, {"file": json_file("语文".encode("gbk"))})
    assert response.json() == {
        "detail": "文件不是 UTF-8 编码的 JSON 文本。请用平台下载的原始文件，或在编辑器中“另存为 UTF-8”。", "errors": []}
    assert Textbook.objects.count() == 0


def test_json_with_a_bad_node_changes_nothing(client, tree):
    client.force_login(tree.city_admin)
    client.post(IMPORT_JSON, {"file": json_file(platform_book())})
    before = snapshot()
    bad = platform_book(book_id="tm-sx-1a", units=[{"id": "x", "title": "数学游戏", "child_nodes": [{"id": 1}]}])
    bad["tags"]["zxxxk"] = "数学"
    response = client.post(IMPORT_JSON, {"file": json_file([platform_book(), bad])})
    assert response.status_code == 400
    assert response.json()["errors"] == [{
        "row": "第 2 本教材（统编版语文一年级上册） › 数学游戏 › 第 1 个节点", "column": "title", "message": "节点缺少标题（title）。"}]
    assert snapshot() == before


def test_a_lesson_opened_in_a_campaign_cannot_get_children(client, tree, campaign):
    client.force_login(tree.city_admin)
    client.post(IMPORT_JSON, {"file": json_file(platform_book())})
    OpenNode.objects.create(campaign=campaign, node=CatalogNode.objects.get(external_id="l3"))
    before = snapshot()
    split = platform_book(units=[{"id": "u5", "title": "第五单元", "child_nodes": [
        {"id": "l3", "title": "1 秋天", "child_nodes": [{"id": "p1", "title": "第一课时", "child_nodes": []}]}]}])
    response = client.post(IMPORT_JSON, {"file": json_file(split)})
    assert response.status_code == 400
    assert response.json()["errors"] == [{
        "row": "第 1 本教材（统编版语文一年级上册）", "column": "节点",
        "message": "“第五单元 › 1 秋天”已在遴选活动中开放，不能在它下面再添加子节点。请先在活动中关闭它。"}]
    assert snapshot() == before


# --- who may import ------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["teacher", "school_admin", "county_admin", "expert"])
def test_only_system_province_and_city_admins_import(client, tree, sheet, who):
    user = getattr(tree, who)
    client.force_login(user)
    assert client.get(reverse("catalog:import_excel")).status_code == 403
    assert client.post(reverse("catalog:import_json"), {"file": json_file(platform_book())}).status_code == 403
    assert client.get(reverse("catalog:import_template")).status_code == 403
    response = client.post(IMPORT_EXCEL, {"file": sheet(*GOOD_ROWS)})
    assert response.status_code == 403
    assert response.json()["detail"] == "教材目录由系统管理员和省、市教育局管理员维护，您没有导入权限。"
    assert Textbook.objects.count() == 0


def test_teacher_with_a_token_cannot_import(client, tree, bearer):
    response = client.post(IMPORT_JSON, {"file": json_file(platform_book())}, **bearer(tree.teacher))
    assert response.status_code == 403
    assert Textbook.objects.count() == 0


def test_import_needs_a_login(client, db):
    assert client.post(IMPORT_JSON, {"file": json_file(platform_book())}).status_code == 401
    response = client.get(reverse("catalog:import_excel"))
    assert response.status_code == 302 and "/accounts/login/" in response.url
