"""Every role's home page shows its next dated task, or says plainly that there is none and why.

The shipped 2024 templates keep the notices' real dates (Zhanjiang: schools and counties 9-20,
contact form 8-26; city 9-27, summary table 9-30; Guangdong: cities 9-27 and 9-30), so "now" is
pinned to 2024-09-01.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from campaigns import services as campaign_services
from campaigns.enums import CampaignStatus
from portal.services import home_for
from portal.templatetags.portal_tags import step_url

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2024, 9, 1, 9, 0, tzinfo=TZ)


def day(month, d):
    return datetime(2024, month, d, 23, 59, 59, tzinfo=TZ)


def dated(steps):
    """(key, due) of the steps that carry a date, in the page's order."""
    return [(s.key, s.due) for s in steps if s.due is not None]


@pytest.fixture
def zhanjiang(tree):
    return campaign_services.create_from_shipped(tree.sysadmin, "zhanjiang-2024", tree.city,
                                                 status=CampaignStatus.OPEN)


@pytest.fixture
def guangdong(tree):
    return campaign_services.create_from_shipped(tree.sysadmin, "guangdong-2024", tree.province)


def test_province_admin_without_a_province_campaign_is_told_how_to_start_one(tree, zhanjiang):
    home = home_for(tree.province_admin, NOW)
    assert [s.key for s in home.general_steps] == ["start_campaign"]
    start = home.general_steps[0]
    assert start.text == ("2024年度广东省还没有遴选活动：在“从内置模板创建活动”中选择“2024年广东省基础教育精品课遴选”，"
                          "主办单位选广东省，年度偏移填 0，即按通知建立类别、名额和各级截止时间，检查后开始活动。")
    assert step_url(start) == f"/campaigns/from-template/?template=guangdong-2024&year_offset=0&owner={tree.province.pk}"
    # The city's campaign does not pass through the province: he is told so, not asked to screen.
    (card,) = home.campaigns
    assert [s.key for s in card.steps if s.key in ("screen", "confirm", "no_deadline")] == ["no_deadline"]
    assert card.steps[-1].text == "本活动由湛江市主办，只到市级，不经过省级：本级无需审核和推荐，可查看各地进度。"
    # ... and sees every level's dates of that campaign.
    assert [(d.level.kind, d.deadline) for d in card.deadlines] == [
        ("school", day(9, 20)), ("county", day(9, 20)), ("city", day(9, 27))]


def test_the_link_opens_the_template_form_filled_in(client, tree):
    client.force_login(tree.province_admin)
    page = client.get(f"/campaigns/from-template/?template=guangdong-2024&year_offset=0&owner={tree.province.pk}")
    form = page.context["form"]
    assert (form["template"].value(), str(form["owner"].value()), str(form["year_offset"].value())) == (
        "guangdong-2024", str(tree.province.pk), "0")


def test_province_admin_sees_the_province_campaign_first_with_its_dates(tree, zhanjiang, guangdong):
    home = home_for(tree.province_admin, NOW)
    assert home.general_steps == []
    assert [c.campaign.pk for c in home.campaigns] == [guangdong.pk, zhanjiang.pk]
    card = home.campaigns[0]
    # The province level has no date of its own; his next dated tasks are what the cities owe him.
    assert dated(card.steps) == [("receive", day(9, 27)), ("receive_confirm", day(9, 30))]
    assert card.steps[0].text == "各市向本级推荐截止，届时收齐推荐"
    assert [(d.level.kind, d.deadline, d.confirm_deadline, d.contact_form_deadline) for d in card.deadlines] == [
        ("school", None, None, None), ("county", None, None, None),
        ("city", day(9, 27), day(9, 30), day(7, 30)), ("province", None, None, None)]


def test_province_admin_told_why_when_no_level_has_a_date(tree, guangdong):
    guangdong.levels.update(deadline=None, confirm_deadline=None, contact_form_deadline=None)
    card = home_for(tree.province_admin, NOW).campaigns[0]
    assert dated(card.steps) == []
    last = card.steps[-1]
    assert (last.key, last.text) == ("no_deadline", "本活动尚未设置省级的截止时间：请在“层级与截止时间”中设置。")
    assert step_url(last) == f"/campaigns/{guangdong.pk}/levels/"


def test_system_admin_watches_the_next_deadline(tree, zhanjiang):
    home = home_for(tree.sysadmin, NOW)
    (card,) = home.campaigns
    assert dated(card.steps) == [("watch", day(9, 20))]
    assert card.steps[0].text == "关注下一个截止：学校级推荐截止，届时检查各单位是否按时完成"
    assert [d.level.kind for d in card.deadlines] == ["school", "county", "city"]
    later = home_for(tree.sysadmin, datetime(2024, 9, 28, 9, 0, tzinfo=TZ)).campaigns[0]
    assert dated(later.steps) == [("watch", day(9, 30))]
    assert later.steps[0].text == "关注下一个截止：市级汇总表确认截止，届时检查各单位是否按时完成"


def test_system_admin_told_when_every_deadline_has_passed(tree, zhanjiang):
    card = home_for(tree.sysadmin, datetime(2024, 10, 8, tzinfo=TZ)).campaigns[0]
    assert (card.steps[-1].key, card.steps[-1].text) == (
        "no_deadline", "本活动各级截止时间均已过去：可查看结果，或为下一年度从模板新建活动。")


def test_system_admin_without_any_campaign(tree):
    home = home_for(tree.sysadmin, NOW)
    assert home.campaigns == []
    assert [(s.key, step_url(s)) for s in home.general_steps] == [
        ("start_campaign", "/campaigns/from-template/"), ("orgs", "/orgs/units/"), ("catalog", "/catalog/textbooks/")]


def test_expert_review_is_bounded_by_his_level_deadline(tree, zhanjiang):
    (card,) = home_for(tree.expert, NOW).campaigns
    assert dated(card.steps) == [("review", day(9, 27))]
    assert card.steps[0].text == "等待评审任务分配；分配后按评价指标完成评分（本级须在推荐截止前完成评审）"


def test_expert_told_why_there_is_no_date(tree, zhanjiang):
    zhanjiang.levels.update(deadline=None)
    (card,) = home_for(tree.expert, NOW).campaigns
    assert [(s.key, s.due, s.text) for s in card.steps] == [
        ("review", None, "等待评审任务分配；分配后按评价指标完成评分（本级须在推荐截止前完成评审）"),
        ("no_deadline", None, "本级尚未设置推荐截止时间，评审时间未定：评审任务分配后，这里会显示评分截止时间。"),
    ]


def test_city_county_school_and_teacher_keep_their_dated_tasks(tree, zhanjiang):
    assert dated(home_for(tree.city_admin, NOW).campaigns[0].steps) == [
        ("screen", day(9, 27)), ("confirm", day(9, 30)), ("contact_form", day(7, 30))]
    assert dated(home_for(tree.county_admin, NOW).campaigns[0].steps) == [
        ("screen", day(9, 20)), ("confirm", day(9, 20)), ("contact_form", day(8, 26))]
    assert dated(home_for(tree.school_admin, NOW).campaigns[0].steps) == [("screen", day(9, 20))]
    assert dated(home_for(tree.teacher, NOW).campaigns[0].steps) == [("declare", day(9, 20))]
    # The city runs the campaign of the year: nothing to start.
    assert home_for(tree.city_admin, NOW).general_steps == []


def test_teacher_told_why_there_is_no_date(tree, zhanjiang):
    zhanjiang.levels.filter(kind="school").update(deadline=None)
    steps = home_for(tree.teacher, NOW).campaigns[0].steps
    assert (steps[-1].key, steps[-1].text) == ("no_deadline", "学校尚未设置申报截止时间：以学校的通知为准，设置后这里会显示。")


def test_user_without_any_campaign_is_told_why(tree):
    for user in (tree.county_admin, tree.school_admin, tree.teacher, tree.expert):
        home = home_for(user, NOW)
        assert [(s.key, s.text) for s in home.general_steps] == [
            ("no_campaign", "您所在单位及上级单位目前没有进行中的遴选活动：活动由省、市教育局发布，发布后这里会显示各项任务和截止时间。")]


def test_home_page_shows_the_start_link_and_the_reason(client, tree, zhanjiang):
    client.force_login(tree.province_admin)
    html = client.get("/").content.decode()
    assert (f'<li data-step="start_campaign"><a href="/campaigns/from-template/?template=guangdong-2024&amp;'
            f'year_offset=0&amp;owner={tree.province.pk}">2024年度广东省还没有遴选活动') in html
    assert "本活动由湛江市主办，只到市级，不经过省级：本级无需审核和推荐，可查看各地进度。" in html


def test_home_api_lists_the_general_steps(client, tree, zhanjiang):
    client.force_login(tree.province_admin)
    data = client.get("/api/v1/portal/home").json()
    assert [s["key"] for s in data["steps"]] == ["start_campaign"]
    assert data["campaigns"][0]["steps"][-1]["key"] == "no_deadline"
