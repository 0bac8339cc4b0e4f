"""A campaign that collects the package in stages (the Guangdong/Zhanjiang 县级初选 works on the
designs, the video is filmed afterwards): the school level asks only for the 教学设计, the county
asks for everything before it recommends to the city. The teacher submits the design, the county
pre-selects and returns the course for the video, the teacher completes and resubmits it."""

import pytest

from courses import rules, services
from courses.tests.conftest import SLOT_FILE, SUBJECT_SLOTS, make_file
from jingpinke.errors import ServiceError
from selection import services as selection
from selection.models import Entry

pytestmark = pytest.mark.django_db


def test_stage_slots():
    slots = [rules.SlotFacts("video", "微课视频", True), rules.SlotFacts("lesson_plan", "教学设计", True),
             rules.SlotFacts("exercises", "作业练习", False)]
    assert rules.stage_slots(slots, None) == slots
    assert [s.required for s in rules.stage_slots(slots, ["lesson_plan", "exercises"])] == [False, True, False]


@pytest.fixture
def staged(campaign):
    campaign.levels.filter(kind="school").update(required_resources=["lesson_plan"])
    campaign.levels.filter(kind="county").update(required_resources=SUBJECT_SLOTS)
    return campaign


def entry(course, kind):
    return Entry.objects.get(course=course, level__kind=kind)


def test_the_design_first_and_the_video_when_the_county_asks(staged, tree, course, client):
    assert services.submission_facts(course).reasons == ["第1课时缺少“教学设计”。"]
    services.attach_file(tree.teacher, course, 1, "lesson_plan", make_file(tree.teacher, "docx").pk)
    client.force_login(tree.teacher)
    page = client.get(f"/courses/{course.pk}/").content.decode()
    assert "本轮只需具备：教学设计。微课视频、学习任务单、课件、作业练习可在上级单位要求时再补交" in page
    services.submit(tree.teacher, course)

    selection.decide(tree.school_admin, entry(course, "school").pk, "recommend")
    county = entry(course, "county")
    with pytest.raises(ServiceError, match="推荐到上一级前须具备：微课视频、学习任务单、课件、作业练习。"):
        selection.decide(tree.county_admin, county.pk, "recommend")
    selection.decide(tree.county_admin, county.pk, "return", reason="初选通过，请按制作要求摄制视频，补齐资源后提交")

    course.refresh_from_db()
    with pytest.raises(ServiceError) as refused:  # the county's stage: the whole package
        services.submit(tree.teacher, course)
    assert refused.value.errors == ["第1课时缺少“微课视频”。", "第1课时缺少“学习任务单”。", "第1课时缺少“课件”。",
                                    "第1课时缺少“作业练习”。"]
    for slot in ("video", "task_sheet", "slides", "exercises"):
        services.attach_file(tree.teacher, course, 1, slot, make_file(tree.teacher, SLOT_FILE[slot]).pk)
    services.submit(tree.teacher, course)
    assert entry(course, "county").state == "pending"
    assert selection.decide(tree.county_admin, county.pk, "recommend").state == "recommended"


def test_without_stages_the_whole_package_is_needed(campaign, tree, course):
    services.attach_file(tree.teacher, course, 1, "lesson_plan", make_file(tree.teacher, "docx").pk)
    with pytest.raises(ServiceError):
        services.submit(tree.teacher, course)
    assert services.submission_stage_text(course, services.package(course)) == ""
