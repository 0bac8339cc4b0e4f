"""Nothing is sent where it cannot be decided: a recommendation (and a resubmitted course) is
refused when the receiving unit has confirmed its summary table or its deadline has passed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import services as campaign_services
from campaigns.enums import CampaignStatus
from courses.models import Course
from jingpinke.errors import ServiceError
from selection import rules, services
from selection.models import Entry
from selection.tests.helpers import entry_at, up_to_county

pytestmark = pytest.mark.django_db

NOW = timezone.now()


# --- the rule ------------------------------------------------------------------------------------------
def test_rule_refuses_a_confirmed_destination():
    decision = rules.destination_decision("赤坎区", "县级初选", True, NOW, None)
    assert (decision.ok, decision.rule, decision.message) == (
        False, "destination", "赤坎区 已确认推荐汇总表，无法再接收推荐；请联系该单位。")


def test_rule_refuses_a_destination_past_its_deadline():
    deadline = NOW.replace(year=2024, month=9, day=20, hour=15, minute=59, second=59, microsecond=0)  # 23:59 Beijing
    decision = rules.destination_decision("赤坎区", "县级初选", False, deadline + timedelta(seconds=1), deadline)
    assert (decision.ok, decision.message) == (
        False, "赤坎区 的县级初选已于 2024-09-20 23:59 截止，无法再接收推荐；请联系该单位。")
    assert rules.destination_decision("赤坎区", "县级初选", False, deadline, deadline).ok  # inclusive
    assert rules.destination_decision("赤坎区", "县级初选", False, NOW, None).ok


# --- every level ---------------------------------------------------------------------------------------
def test_a_school_cannot_recommend_to_a_county_that_has_confirmed(make_course, tree, campaign):
    course = make_course()
    services.confirm(tree.county_admin, campaign, "county", tree.county)
    with pytest.raises(ServiceError) as refused:
        services.decide(tree.school_admin, entry_at(course, "school").pk, "recommend")
    assert refused.value.message == "赤坎区 已确认推荐汇总表，无法再接收推荐；请联系该单位。"
    assert refused.value.errors == [{"rule": "destination", "needs_reason": False}]
    assert entry_at(course, "school").state == "pending"
    assert list(Entry.objects.filter(course=course).values_list("level__kind", flat=True)) == ["school"]
    services.unlock(tree.city_admin, campaign, "county", tree.county, "还有学校要推荐")
    services.decide(tree.school_admin, entry_at(course, "school").pk, "recommend")
    assert entry_at(course, "county").state == "pending"


def test_a_school_cannot_recommend_to_a_county_past_its_deadline(make_course, tree, campaign):
    course = make_course()
    deadline = timezone.now() + timedelta(days=1)
    campaign_services.set_deadline_override(tree.city_admin, campaign, level_kind="county", unit=tree.county,
                                            deadline=deadline, reason="提前截止")
    campaign.levels.filter(kind="school").update(deadline=deadline + timedelta(days=5))
    with pytest.raises(ServiceError) as refused:
        services.decide(tree.school_admin, entry_at(course, "school").pk, "recommend",
                        now=deadline + timedelta(minutes=1))
    assert refused.value.message == (f"赤坎区 的县级初选已于 {rules.local_text(deadline)} 截止，"
                                     "无法再接收推荐；请联系该单位。")
    assert not Entry.objects.filter(course=course, level__kind="county").exists()


def test_a_county_cannot_recommend_to_a_city_that_has_confirmed(make_course, tree, campaign):
    course = make_course()
    county_entry = up_to_county(course, tree)
    services.confirm(tree.city_admin, campaign, "city", tree.city)
    with pytest.raises(ServiceError) as refused:
        services.decide(tree.county_admin, county_entry.pk, "recommend")
    assert refused.value.message == "湛江市 已确认推荐汇总表，无法再接收推荐；请联系该单位。"
    assert entry_at(course, "county").state == "pending"


def test_a_city_cannot_recommend_to_a_province_that_has_confirmed(tree, nodes):
    campaign = campaign_services.create_from_shipped(tree.sysadmin, "guangdong-2024", tree.province,
                                                     status=CampaignStatus.OPEN)
    campaign.levels.update(deadline=timezone.now() + timedelta(days=30))
    course = Course.objects.create(campaign=campaign, category="subject", node=nodes[0], title="认识图形",
                                   lead_teacher=tree.teacher, school=tree.city_school, status="submitted")
    services.enter(tree.teacher, course)
    services.decide(tree.city_admin, entry_at(course, "school").pk, "recommend")
    services.confirm(tree.province_admin, campaign, "province", tree.province)
    with pytest.raises(ServiceError) as refused:
        services.decide(tree.city_admin, entry_at(course, "city").pk, "recommend")
    assert refused.value.message == "广东省 已确认推荐汇总表，无法再接收推荐；请联系该单位。"
    assert not Entry.objects.filter(course=course, level__kind="province").exists()


def test_a_returned_course_cannot_go_back_to_a_unit_that_has_confirmed(make_course, tree, campaign):
    course = make_course()
    county_entry = up_to_county(course, tree)
    services.decide(tree.county_admin, county_entry.pk, "return", reason="视频缺片头")
    services.confirm(tree.county_admin, campaign, "county", tree.county)
    course.refresh_from_db()
    with pytest.raises(ServiceError) as refused:
        services.enter(tree.teacher, course)
    assert refused.value.message == "赤坎区 已确认推荐汇总表，无法再接收推荐；请联系该单位。"
    assert entry_at(course, "county").state == "returned"


def test_the_api_says_why_a_recommendation_is_refused(client, make_course, tree, campaign, bearer):
    course = make_course()
    services.confirm(tree.county_admin, campaign, "county", tree.county)
    response = client.post(f"/api/v1/selection/entries/{entry_at(course, 'school').pk}/recommend", {},
                           content_type="application/json", **bearer(tree.school_admin))
    assert response.status_code == 400
    assert response.json() == {"detail": "赤坎区 已确认推荐汇总表，无法再接收推荐；请联系该单位。",
                               "errors": [{"rule": "destination", "needs_reason": False}]}
