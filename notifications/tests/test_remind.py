"""The one-click reminder of the progress board: who is reminded (the admins of the actor's own
child units that are behind), the rate limit per unit, the audit entry, the scope."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from audit.models import Event
from campaigns.models import Level
from jingpinke.errors import ServiceError
from notifications import services
from notifications.models import Kind, Notification, UnitReminder
from notifications.rules import local_text
from orgs.models import Role, Unit
from orgs.tests.factories import member
from selection.models import UnitLevel

pytestmark = pytest.mark.django_db


@pytest.fixture
def now():
    return timezone.now()


def reminded():
    return sorted(Notification.objects.filter(kind=Kind.REMIND).values_list("recipient__username", flat=True))


def test_a_county_admin_reminds_his_school(people, campaign, course, now):
    result = services.remind_behind(people.county_admin, campaign, now=now)
    assert result.parent == people.county
    assert [(r.unit, r.recipients) for r in result.reminded] == [(people.school, 1)]
    assert result.skipped == [] and result.message == "已提醒 1 个单位。"
    n = Notification.objects.get(kind=Kind.REMIND)
    assert (n.recipient, n.title) == (people.school_admin, "赤坎区提醒：请尽快完成学校推荐")
    deadline = Level.objects.get(campaign=campaign, kind="school").deadline
    assert n.body == (f"赤坎区提醒湛江市第二十一小学：{campaign.title}中，本单位还有 1 门课程待处理，推荐汇总表尚未确认。"
                      f"截止时间为 {local_text(deadline)}（剩 29 天 23 小时）。请逐一处理待处理的课程，然后确认推荐汇总表。")
    assert n.link == f"/selection/?campaign={campaign.pk}&held_by={people.school.pk}"
    event = Event.objects.get(action="notifications.remind")
    assert (event.actor, event.unit_path) == (people.county_admin, people.county.path)
    assert event.after == {"parent": "赤坎区", "reminded": [{"unit": "湛江市第二十一小学", "recipients": 1}],
                           "skipped": []}


def test_not_twice_within_an_hour_per_unit(people, campaign, course, now):
    services.remind_behind(people.county_admin, campaign, now=now)
    with pytest.raises(ServiceError) as refused:
        services.remind_behind(people.county_admin, campaign, now=now + timedelta(minutes=59))
    assert refused.value.message == (f"已于 {local_text(now)} 提醒过湛江市第二十一小学，1 小时内不重复提醒，"
                                     f"{local_text(now + timedelta(hours=1))} 后可以再次提醒。")
    assert refused.value.errors == [{"unit_id": people.school.pk, "reason": refused.value.message}]
    assert len(reminded()) == 1
    assert Event.objects.filter(action="notifications.remind").count() == 1
    services.remind_behind(people.county_admin, campaign, now=now + timedelta(hours=1))
    assert reminded() == ["school_admin", "school_admin"]
    state = UnitReminder.objects.get(campaign=campaign, unit=people.school)
    assert (state.times, state.last_sent_by, state.last_sent_at) == (2, people.county_admin, now + timedelta(hours=1))


def test_the_limit_is_per_unit_whoever_sends(people, campaign, course, now):
    """A second admin of the county a minute later is refused as well."""
    services.remind_behind(people.county_admin, campaign, now=now)
    with pytest.raises(ServiceError):
        services.remind_behind(people.second_county_admin, campaign, now=now + timedelta(minutes=1))


def test_a_city_admin_reminds_his_counties_not_their_schools(people, campaign, course, now):
    result = services.remind_behind(people.city_admin, campaign, now=now)
    assert result.parent == people.city
    assert [r.unit.name for r in result.reminded] == ["赤坎区", "霞山区"]
    assert [(s.unit.name, s.reason) for s in result.skipped] == [
        ("湛江市第一中学", "湛江市第一中学还没有管理员账号，无法提醒。请先在“单位”页面为它添加管理员。")]
    assert reminded() == ["ck_admin", "ck_admin2", "xs_admin"]  # not the school's admin
    n = Notification.objects.filter(kind=Kind.REMIND, recipient=people.county_admin).get()
    assert n.title == "湛江市提醒：请尽快完成县级初选"
    assert f"{campaign.title}中，本单位推荐汇总表尚未确认，工作联系表尚未提交。" in n.body  # a county files one
    # the county's board is the county's job
    with pytest.raises(PermissionDenied):
        services.remind_behind(people.city_admin, campaign, parent=people.county.pk, now=now)
    with pytest.raises(Http404):
        services.remind_behind(people.city_admin, campaign, [people.school.pk], now=now)


def test_a_county_admin_reaches_only_his_own_schools(people, campaign, course, now):
    with pytest.raises(Http404):
        services.remind_behind(people.county_admin, campaign, [people.other_school.pk], now=now)
    with pytest.raises(Http404):
        services.remind_behind(people.county_admin, campaign, parent=people.other_county.pk, now=now)
    with pytest.raises(Http404):
        services.remind_behind(people.county_admin, campaign, parent=people.city.pk, now=now)
    with pytest.raises(PermissionDenied):
        services.remind_behind(people.school_admin, campaign, now=now)  # a school has no children
    with pytest.raises(PermissionDenied):
        services.remind_behind(people.teacher, campaign, now=now)
    assert Notification.objects.filter(kind=Kind.REMIND).count() == 0


def test_units_that_are_done_are_not_reminded(people, campaign, course, now):
    county = Level.objects.get(campaign=campaign, kind="county")
    UnitLevel.objects.create(campaign=campaign, level=county, unit=people.county, confirmed_at=now)
    UnitLevel.objects.create(campaign=campaign, level=county, unit=people.other_county, confirmed_at=now)
    member(people.city_school, Role.ADMIN, username="yz_admin")
    result = services.remind_behind(people.city_admin, campaign, [people.county.pk, people.city_school.pk], now=now)
    assert [r.unit for r in result.reminded] == [people.city_school]
    assert [s.reason for s in result.skipped] == ["赤坎区已完成，无需提醒。"]
    assert reminded() == ["yz_admin"]
    # only done units asked for: nothing to send
    with pytest.raises(ServiceError) as refused:
        services.remind_behind(people.city_admin, campaign, [people.other_county.pk], now=now)
    assert refused.value.message == "霞山区已完成，无需提醒。"
    # everyone done
    city_school_level = Level.objects.get(campaign=campaign, kind="school")
    UnitLevel.objects.create(campaign=campaign, level=city_school_level, unit=people.city_school, confirmed_at=now)
    with pytest.raises(ServiceError) as refused:
        services.remind_behind(people.city_admin, campaign, now=now)
    assert refused.value.message == "下级单位都已完成（没有待处理课程，汇总表均已确认），无需提醒。"


def test_no_reminders_in_a_closed_campaign(people, campaign, course, now):
    campaign.status = "closed"
    campaign.save()
    with pytest.raises(ServiceError, match="遴选活动不在进行中"):
        services.remind_behind(people.county_admin, campaign, now=now)


def test_a_system_admin_reminds_from_the_campaign_owner(people, campaign, course, now):
    result = services.remind_behind(people.sysadmin, campaign, now=now)
    assert result.parent == people.city
    assert {r.unit.name for r in result.reminded} == {"赤坎区", "霞山区"}
    assert Unit.objects.get(pk=people.city.pk) == result.parent
