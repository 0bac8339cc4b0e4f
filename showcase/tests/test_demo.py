"""The demo holds an ended 2023 campaign whose courses went through the chain and were named
县级/市级精品课: the showcase has content, the 2024 node picker names the earlier 精品课."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from audit.models import Event
from campaigns.enums import CampaignStatus
from campaigns.models import Campaign
from courses import services as courses
from jingpinke.s3server import served
from orgs.models import Unit, User
from selection.models import Entry, EntryState
from showcase import services


@pytest.mark.slow
def test_demo_has_an_ended_campaign_with_published_courses(db, client):
    call_command("load_demo", stdout=io.StringIO())
    ended = Campaign.objects.get(year=2023)
    assert ended.status == CampaignStatus.CLOSED
    assert ended.title == "2023年湛江市基础教育精品课遴选"
    assert "演示数据" not in ended.description
    assert ended.levels.get(kind="county").deadline.year == 2023  # back to the notice's dates
    current = Campaign.objects.get(year=2024)
    assert current.status == CampaignStatus.OPEN

    cards = services.gallery({}).cards
    assert sorted((c.title, c.award, c.school, c.teacher) for c in cards) == sorted([
        ("秋天", "市级精品课", "湛江市第二十一小学", "李晓梅"),
        ("比大小", "县级精品课", "湛江市第二十一小学", "周建华"),
        ("Starter Unit 1 Hello! 问候与介绍", "市级精品课", "湛江市第一中学", "梁志明")])
    assert all(c.poster for c in cards)
    # through the chain: each decision and award is in the audit log
    autumn = next(c for c in cards if c.title == "秋天")
    actions = list(Event.objects.filter(target_type="courses.course", target_id=str(autumn.id))
                   .order_by("pk").values_list("action", flat=True))
    assert [a for a in actions if a.startswith("selection.")] == [
        "selection.enter", "selection.recommend", "selection.recommend", "selection.award", "selection.award",
        "selection.recommend"]
    # nothing of 2023 waits on anyone's desk
    assert not Entry.objects.filter(course__campaign=ended, state=EntryState.PENDING).exists()

    page = client.get(reverse("showcase:course", args=[autumn.id]))
    assert page.status_code == 200
    p = page.context["p"]
    assert [f.kind for _n, _t, files in p.periods for f in files] == ["video", "lesson_plan", "task_sheet", "slides"]
    video = served(client.get(reverse("showcase:file", args=[autumn.id, p.video.id]), HTTP_RANGE="bytes=0-99"))
    assert video.status_code == 206

    # honours and certificates: 李晓梅's 秋天 is 县级 and 市级精品课, each with its certificate
    from awards import services as awards

    teacher = User.objects.get(username="teacher_li")
    honours = [(h.year, h.award_name, h.course_title, h.certificate is not None) for h in awards.honours(teacher)
               if h.year == 2023]
    assert honours == [(2023, "市级精品课", "秋天", True), (2023, "县级精品课", "秋天", True)]

    lessons = courses.node_picker(teacher, current, {"q": "秋天"}, Unit.objects.get(code="440802001"))["lessons"]
    assert [(e.title, e.year, e.award) for item in lessons for e in item["showcased"]] == [("秋天", 2023, "市级精品课")]
