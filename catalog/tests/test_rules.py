"""The pure catalog rules: dimensions, Excel rows and platform JSON into trees, the starting-grade rule."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog import rules
from catalog.rules import DimensionError, NodeFacts
from catalog.tests.conftest import platform_book


# --- dimensions ------------------------------------------------------------------------------------
@pytest.mark.parametrize("stage, system, expected", [
    ("小学", "", ("primary", "")),
    ("小学", "六三学制", ("primary", "")),
    ("初中（五•四学制）", "", ("junior", "五四学制")),
    ("初中", "五四制", ("junior", "五四学制")),
    (" 高中 ", "", ("senior", "")),
    ("特殊教育", "培智学校", ("special", "培智学校")),
    ("培智学校", "", ("special", "培智学校")),
    ("特殊教育", "盲校", ("special", "盲校")),
])
def test_parse_stage_reads_what_people_and_the_platform_write(stage, system, expected):
    assert rules.parse_stage(stage, system) == expected


@pytest.mark.parametrize("stage, system, column, message", [
    ("幼儿园", "", "学段", "无法识别学段“幼儿园”：请填 小学、初中、高中 或 特殊教育。"),
    ("", "", "学段", "请填写学段：小学、初中、高中或特殊教育。"),
    ("特殊教育", "", "学制", "特殊教育教材须填写学制：培智学校、盲校或聋校。"),
    ("小学", "培智学校", "学段", "培智学校的教材，学段请填“特殊教育”。"),
    ("小学", "七二学制", "学制", "无法识别学制“七二学制”：请填 六三学制、五四学制、培智学校、盲校 或 聋校（六三学制可不填）。"),
    ("高中", "五四学制", "学制", "高中没有五四学制，请把学制留空。"),
])
def test_parse_stage_refuses_with_a_reason(stage, system, column, message):
    with pytest.raises(DimensionError) as exc:
        rules.parse_stage(stage, system)
    assert (exc.value.column, exc.value.message) == (column, message)


@pytest.mark.parametrize("stage, system, grade, message", [
    ("primary", "", "一年级", ""),
    ("primary", "", "七年级", "小学没有“七年级”：请填 一年级 至 六年级。"),
    ("primary", "五四学制", "六年级", "小学（五四学制）没有“六年级”：请填 一年级 至 五年级。"),
    ("junior", "五四学制", "六年级", ""),
    ("junior", "", "", "请填写年级，例如 一年级。"),
    ("senior", "", "", ""),
    ("senior", "", "高二", ""),
    ("senior", "", "十年级", "高中的年级请填 高一、高二、高三，或不填。"),
    ("special", "培智学校", "九年级", ""),
])
def test_check_grade(stage, system, grade, message):
    assert rules.check_grade(stage, system, grade) == message


def test_edition_and_labels():
    assert rules.parse_edition("新教材") == "new"
    assert rules.parse_edition(" 旧 ") == "old"
    with pytest.raises(DimensionError) as exc:
        rules.parse_edition("2024版")
    assert exc.value.message == "新旧教材只能填“新教材”或“旧教材”，不能是“2024版”。"
    assert rules.textbook_title("统编版", "语文", "一年级", "上册") == "统编版语文一年级上册"
    assert rules.textbook_suffix("primary", "", "old") == "（旧教材）"
    assert rules.textbook_suffix("junior", "五四学制", "old") == "（五四学制·旧教材）"
    assert rules.textbook_suffix("special", "培智学校", "new") == "（培智学校）"
    assert rules.stage_label("junior", "五四学制") == "初中（五四学制）"
    assert rules.textbook_rank("primary", "一年级") < rules.textbook_rank("primary", "六年级") < rules.textbook_rank(
        "junior", "七年级") < rules.textbook_rank("senior", "高一") < rules.textbook_rank("special", "一年级")
    assert sorted(["七年级", "一年级", "高一", "三年级"], key=rules.grade_sort_key) == ["一年级", "三年级", "七年级", "高一"]


# --- Excel rows ---------------------------------------------------------------------------------------
def values(unit, lesson, **kw):
    base = {"学段": "小学", "学制": "", "年级": "一年级", "学科": "语文", "版本": "统编版", "册次": "上册",
            "新旧教材": "新教材", "单元": unit, "课": lesson, "平台教材ID": "", "平台节点ID": "", "备注": ""}
    base.update(kw)
    return base


def tree_of(spec):
    return [(n.title, [c.title for c in n.children]) for n in spec.children]


def test_rows_group_into_textbooks_and_units_in_order():
    rows = [
        (2, values("第五单元", "1 秋天")),
        (3, values("第五单元", "2 江南")),
        (4, values("第一单元", "1 天地人")),
        (5, values("第五单元", "3 雪地里的小画家")),
        (6, values("", "我是中国人")),
        (7, values("第一章 机械运动", "第4节 测量平均速度", 学段="初中", 年级="八年级", 学科="物理", 版本="人教版",
                   新旧教材="旧教材", 平台教材ID="tm-wl", 平台节点ID="n-1", 备注="含实验")),
    ]
    books, errors = rules.parse_excel_rows(rows)
    assert errors == []
    assert [b.label for b in books] == ["统编版语文一年级上册", "人教版物理八年级上册（旧教材）"]
    assert tree_of(books[0]) == [
        ("第五单元", ["1 秋天", "2 江南", "3 雪地里的小画家"]), ("第一单元", ["1 天地人"]), ("我是中国人", [])]
    physics = books[1]
    assert (physics.external_id, physics.dimensions) == (
        "tm-wl", ("junior", "", "八年级", "物理", "人教版", "上册", "old"))
    leaf = physics.children[0].children[0]
    assert (leaf.title, leaf.external_id, leaf.remark) == ("第4节 测量平均速度", "n-1", "含实验")


def test_every_bad_row_gets_its_reason():
    rows = [
        (2, values("第一单元", "1 天地人")),
        (3, values("第一单元", "", 学段="幼儿园")),
        (4, values("第一单元", "2 金木水火土", 新旧教材="新版")),
        (5, values("第一单元", "1 天地人")),
        (6, values("第一单元", "3 口耳目手足", 年级="七年级")),
        (7, values("第一单元", "4 日月山川", 平台节点ID="x")),
        (8, values("第一单元", "5 对韵歌", 平台节点ID="x")),
        (9, values("第一单元", "6 画", 平台教材ID="A")),
        (10, values("第一单元", "7 小书包", 平台教材ID="B")),
        (11, values("", "第一单元")),
        (12, values("第一单元", "8 升国旗", 学科="")),
    ]
    books, errors = rules.parse_excel_rows(rows)
    assert errors == [
        {"row": 3, "column": "学段", "message": "无法识别学段“幼儿园”：请填 小学、初中、高中 或 特殊教育。"},
        {"row": 3, "column": "课", "message": "请填写课名：每一行是一个可选的目录节点（课）。"},
        {"row": 4, "column": "新旧教材", "message": "新旧教材只能填“新教材”或“旧教材”，不能是“新版”。"},
        {"row": 5, "column": "课", "message": "与第 2 行重复：这本教材的“第一单元 › 1 天地人”已经有了。"},
        {"row": 6, "column": "年级", "message": "小学没有“七年级”：请填 一年级 至 六年级。"},
        {"row": 8, "column": "平台节点ID", "message": "平台节点ID x 与第 7 行重复。"},
        {"row": 10, "column": "平台教材ID", "message": "同一本教材的平台教材ID不一致：第 9 行是 A，这一行是 B。"},
        {"row": 11, "column": "课", "message": "“第一单元”与第 2 行的单元同名。"},
        {"row": 12, "column": "学科", "message": "请填写学科。"},
    ]


def test_one_textbook_id_cannot_name_two_textbooks():
    rows = [(2, values("一", "1", 平台教材ID="A")), (3, values("一", "1", 平台教材ID="A", 新旧教材="旧教材"))]
    _books, errors = rules.parse_excel_rows(rows)
    assert errors == [{"row": 3, "column": "平台教材ID", "message": "平台教材ID A 在第 2 行已用于另一本教材。"}]


titles = st.text(alphabet="天地人日月山川一二三", min_size=1, max_size=4)


@given(st.dictionaries(titles, st.lists(titles, min_size=1, max_size=4, unique=True), min_size=1, max_size=4))
def test_sheet_rows_round_trip_to_the_same_tree(units):
    """Writing a unit › lesson tree as rows and reading it back gives the same tree."""
    rows = [(i, values(u, lesson)) for i, (u, lesson) in
            enumerate(((u, lesson) for u, ls in units.items() for lesson in ls), start=2)]
    books, errors = rules.parse_excel_rows(rows)
    assert errors == []
    assert tree_of(books[0]) == [(u, ls) for u, ls in units.items()]


# --- platform JSON ------------------------------------------------------------------------------------
def test_platform_json_keeps_ids_and_tree():
    books, errors = rules.parse_platform_json(platform_book())
    assert errors == []
    (book,) = books
    assert (book.external_id, book.title, book.dimensions) == (
        "tm-yw-1a", "统编版语文一年级上册", ("primary", "", "一年级", "语文", "统编版", "上册", "new"))
    assert [(n.external_id, n.title, [(c.external_id, c.title) for c in n.children]) for n in book.children] == [
        ("u1", "第一单元", [("l1", "1 天地人"), ("l2", "2 金木水火土")]),
        ("u5", "第五单元", [("l3", "1 秋天")]),
    ]


def test_platform_json_accepts_tag_list_lists_and_wrapper():
    item = platform_book()
    tags = item.pop("tags")
    item["tag_list"] = [{"tag_dimension_id": k, "tag_name": v} for k, v in tags.items()]
    item["id"] = 42
    for data in (item, [item], {"textbooks": [item]}):
        books, errors = rules.parse_platform_json(data)
        assert errors == [] and [b.external_id for b in books] == ["42"]
    five_four = platform_book(units=[{"title": "第一章", "child_nodes": []}])
    five_four["tags"].update(zxxxd="初中（五•四学制）", zxxnj="六年级", zxxxk="数学")
    (book,), errors = rules.parse_platform_json(five_four)
    assert (book.stage, book.school_system, book.grade) == ("junior", "五四学制", "六年级")


def test_platform_json_names_the_bad_book_and_node():
    bad_tags = platform_book(book_id="b2", title="某教材")
    bad_tags["tags"].update(zxxxd="大学", zxxxjjc="")
    bad_nodes = platform_book(book_id="b3", title="坏目录", grade="二年级", units=[
        {"id": "u1", "title": "第一单元", "child_nodes": [
            {"id": "l1", "title": "", "child_nodes": []},
            {"id": "u1", "title": "2 重复的ID", "child_nodes": []},
            {"id": "l3", "title": "3 课", "child_nodes": "x"},
            "不是对象",
        ]},
        {"id": "u2", "title": "第一单元", "child_nodes": []},
    ])
    books, errors = rules.parse_platform_json([platform_book(), bad_tags, bad_nodes, 7, {"title": "无目录", "tags": {}}])
    assert [b.external_id for b in books] == ["tm-yw-1a"]
    empty = "第 5 本教材（无目录）"
    assert errors == [
        {"row": "第 2 本教材（某教材）", "column": "tags.zxxxd（学段）",
         "message": "无法识别学段“大学”：请填 小学、初中、高中 或 特殊教育。"},
        {"row": "第 2 本教材（某教材）", "column": "tags.zxxxjjc（新旧教材）", "message": "请填写新旧教材：“新教材”或“旧教材”。"},
        {"row": "第 3 本教材（坏目录） › 第一单元 › 第 1 个节点", "column": "title", "message": "节点缺少标题（title）。"},
        {"row": "第 3 本教材（坏目录） › 第一单元 › 2 重复的ID", "column": "id", "message": "节点 id u1 与“第一单元”重复。"},
        {"row": "第 3 本教材（坏目录） › 第一单元 › 3 课", "column": "child_nodes", "message": "child_nodes 应是节点数组。"},
        {"row": "第 3 本教材（坏目录） › 第一单元 › 第 4 个节点", "column": "",
         "message": "节点应是一个对象（{…}），含 id、title 和 child_nodes。"},
        {"row": "第 3 本教材（坏目录） › 第一单元", "column": "title", "message": "同一层下已有同名节点“第一单元”。"},
        {"row": "第 4 本教材", "column": "", "message": "每本教材应是一个对象（{…}），含 id、title、tags 和 child_nodes。"},
        {"row": empty, "column": "tags.zxxxd（学段）", "message": "请填写学段：小学、初中、高中或特殊教育。"},
        {"row": empty, "column": "tags.zxxxk（学科）", "message": "请填写学科。"},
        {"row": empty, "column": "tags.zxxbb（版本）", "message": "请填写版本。"},
        {"row": empty, "column": "tags.zxxcc（册次）", "message": "请填写册次。"},
        {"row": empty, "column": "tags.zxxxjjc（新旧教材）", "message": "请填写新旧教材：“新教材”或“旧教材”。"},
        {"row": empty, "column": "child_nodes", "message": "教材没有目录：child_nodes 应是非空的节点数组。"},
    ]


def test_platform_json_refuses_the_same_book_twice_and_bad_top_level():
    books, errors = rules.parse_platform_json([platform_book(), platform_book(book_id="other")])
    assert errors == [{"row": "第 2 本教材（统编版语文一年级上册）", "column": "tags",
                       "message": "与第 1 本教材（统编版语文一年级上册）的六个维度完全相同：同一本教材只能出现一次。"}]
    assert rules.parse_platform_json("text") == ([], [{
        "row": "文件", "column": "", "message": "JSON 的最外层应是一本教材（含 id、title、tags、child_nodes）或教材数组。"}])
    assert rules.parse_platform_json([]) == ([], [{"row": "文件", "column": "", "message": "文件里没有教材。"}])


# --- the starting-grade rule ---------------------------------------------------------------------------
def facts(pk, *, leaf=True, stage="primary", grade="一年级", edition="new", book=1, label="统编版语文一年级上册"):
    return NodeFacts(pk, leaf, stage, grade, edition, book, label)


def test_old_edition_in_a_starting_grade_is_refused_with_the_page_sentence():
    nodes = [
        facts(1), facts(2),
        facts(3, edition="old", book=2, label="统编版语文一年级上册（旧教材）"),
        facts(4, edition="old", book=2, label="统编版语文一年级上册（旧教材）"),
        facts(5, grade="八年级", stage="junior", edition="old", book=3, label="人教版物理八年级上册（旧教材）"),
        facts(6, leaf=False, book=1),
        facts(7, stage="special", edition="old", book=4, label="人教版生活适应一年级上册（培智学校·旧教材）"),
    ]
    decision = rules.decide_opening(nodes, ["一年级", "七年级"])
    assert decision.allowed == [1, 2, 5, 7]
    assert [(r.textbook_id, r.reason, r.node_ids, r.message) for r in decision.refused] == [
        (2, "old_edition", [3, 4], "一年级须使用新教材：统编版语文一年级上册（旧教材）未开放"),
        (1, "not_leaf", [6], "统编版语文一年级上册：1 个节点不是末级节点（课），只能开放末级节点"),
    ]
    assert rules.decide_opening(nodes[2:4], []).allowed == [3, 4]


node_facts = st.builds(
    NodeFacts, id=st.integers(1, 10_000), is_leaf=st.booleans(), stage=st.sampled_from(rules.STAGE_ORDER),
    grade=st.sampled_from(["一年级", "二年级", "七年级", "八年级", ""]), edition=st.sampled_from(["new", "old"]),
    textbook_id=st.integers(1, 5), textbook_label=st.just("书"))


@given(st.lists(node_facts, unique_by=lambda n: n.id), st.lists(st.sampled_from(["一年级", "七年级", "八年级"])))
def test_opening_partitions_the_nodes_and_never_lets_an_old_book_into_a_starting_grade(nodes, grades):
    decision = rules.decide_opening(nodes, grades)
    assert sorted(decision.allowed + decision.refused_ids) == sorted(n.id for n in nodes)
    by_id = {n.id: n for n in nodes}
    for pk in decision.allowed:
        node = by_id[pk]
        assert node.is_leaf
        assert not (node.stage in ("primary", "junior") and node.grade in grades and node.edition == "old")
