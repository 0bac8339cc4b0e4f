"""The demo catalog: real textbooks, loaded idempotently, opened respecting the starting-grade rule."""

from catalog import demo
from catalog.models import CatalogNode, OpenNode, Textbook


def test_demo_files_parse_and_load_idempotently(db):
    assert len(demo.demo_specs()) == 8
    demo.load()
    first = list(CatalogNode.objects.order_by("pk").values_list("pk", "label_path", "order", "is_leaf"))
    demo.load()
    assert list(CatalogNode.objects.order_by("pk").values_list("pk", "label_path", "order", "is_leaf")) == first
    assert [(b.label, b.stage_label, b.nodes.filter(is_leaf=True).count()) for b in Textbook.objects.all()] == [
        ("人教版数学一年级上册", "小学", 24),
        ("统编版语文一年级上册", "小学", 49),
        ("统编版语文一年级上册（旧教材）", "小学", 53),
        ("人教版数学七年级上册", "初中", 26),
        ("人教版英语七年级上册", "初中", 17),
        ("人教版物理八年级上册（旧教材）", "初中", 26),
        ("人教版化学九年级上册（旧教材）", "初中", 24),
        ("人教版生活适应一年级上册（培智学校）", "特殊教育（培智学校）", 10),
    ]
    yuwen = Textbook.objects.get(subject="语文", edition="new")
    assert list(yuwen.nodes.filter(depth=1, parent__title="第一单元（识字）").values_list("title", flat=True))[:4] == [
        "1 天地人", "2 金木水火土", "3 口耳目手足", "4 日月山川"]
    assert yuwen.nodes.get(title="1 秋天").label_path == "第五单元（阅读） › 1 秋天"
    math7 = Textbook.objects.get(subject="数学", grade="七年级")
    assert list(math7.nodes.filter(depth=0).values_list("title", flat=True)) == [
        "第一章 有理数", "第二章 有理数的运算", "第三章 代数式", "第四章 整式的加减", "第五章 一元一次方程", "第六章 几何图形初步"]
    physics = Textbook.objects.get(subject="物理")
    assert physics.nodes.exclude(remark="").count() == 14


def test_open_demo_nodes_keeps_old_books_of_starting_grades_closed(tree, campaign):
    demo.load()
    decision = demo.open_demo_nodes(campaign)
    assert [r.message for r in decision.refused] == ["一年级须使用新教材：统编版语文一年级上册（旧教材）未开放"]
    assert OpenNode.objects.filter(campaign=campaign).count() == 24 + 49 + 26 + 17 + 26 + 24 + 10
    assert not OpenNode.objects.filter(campaign=campaign, node__textbook__edition="old", node__textbook__grade="一年级",
                                       node__textbook__stage="primary").exists()
    demo.open_demo_nodes(campaign)
    assert OpenNode.objects.filter(campaign=campaign).count() == 176
