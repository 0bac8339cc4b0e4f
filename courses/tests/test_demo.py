"""The demo courses load on the demo data, through the services, once."""

from courses import demo
from courses.models import Course, Resource


def test_demo_courses(db):
    from campaigns import demo as campaigns_demo
    from catalog import demo as catalog_demo
    from orgs import demo as orgs_demo

    units = orgs_demo.load()
    catalog_demo.load()
    campaign = campaigns_demo.load(units["province"], units["city"])
    catalog_demo.open_demo_nodes(campaign)
    made = demo.load(campaign)
    assert [(c.lead_teacher.username, c.title, c.status) for c in made] == [
        ("teacher_li", "秋天", "draft"), ("teacher_zhou", "数一数", "draft"),
        ("teacher_chen", "探究平面镜成像的特点", "draft")]
    assert sorted(Resource.objects.values_list("slot_kind", "status")) == [
        ("experiment_plan", "pass"), ("lesson_plan", "pass"), ("slides", "pass"), ("task_sheet", "pass")]
    assert demo.load(campaign) == [] and Course.objects.count() == 3
