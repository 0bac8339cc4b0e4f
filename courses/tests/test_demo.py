"""The demo courses load on the demo data, through the services, once."""

import pytest

from courses import demo
from courses.models import Course, Resource
from selection.models import Entry


@pytest.mark.slow
def test_demo_courses(db):
    from campaigns import demo as campaigns_demo
    from catalog import demo as catalog_demo
    from orgs import demo as orgs_demo

    units = orgs_demo.load()
    catalog_demo.load()
    campaign = campaigns_demo.load(units["province"], units["city"])
    catalog_demo.open_demo_nodes(campaign)
    made = demo.load(campaign)
    assert [(c.lead_teacher.username, c.title, c.status) for c in made[:3]] == [
        ("teacher_li", "秋天", "draft"), ("teacher_zhou", "数一数", "draft"),
        ("teacher_chen", "探究平面镜成像的特点", "draft")]
    assert [(c.title, c.node.title, c.status) for c in made[3:]] == [
        ("小小的船", "5 小小的船", "submitted"), ("比大小", "比大小", "submitted"),
        ("我上学了", "1 我上学了", "submitted"), ("正数和负数", "1.1 正数和负数", "submitted"),
        ("Starter Unit 1 Hello! 问候与介绍", "Starter Unit 1 Hello!", "submitted")]
    drafts = Resource.objects.filter(period__course__status="draft")
    assert sorted(drafts.values_list("slot_kind", "status")) == [
        ("experiment_plan", "pass"), ("lesson_plan", "pass"), ("slides", "pass"), ("task_sheet", "pass")]
    # The submitted packages are complete; the generated videos pass but for their low bitrate.
    videos = Resource.objects.filter(period__course__status="submitted", slot_kind="video")
    assert videos.count() == 5 and set(videos.values_list("status", flat=True)) == {"warn"}, [(v.period.course.title, v.status, [f["rule"] for f in v.findings if f["level"] != "pass"]) for v in videos]
    assert Resource.objects.filter(period__course__status="submitted").exclude(slot_kind="video").count() == 20
    # Every admin's desk has work: where each course waits now.
    pending = {(e.course.title, e.unit.name) for e in Entry.objects.filter(state="pending").select_related("course", "unit")}
    assert pending == {("小小的船", "湛江市第二十一小学"), ("比大小", "赤坎区"), ("我上学了", "赤坎区"),
                       ("正数和负数", "湛江市"), ("Starter Unit 1 Hello! 问候与介绍", "湛江市")}
    assert demo.load(campaign) == [] and Course.objects.count() == 8
