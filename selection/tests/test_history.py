"""Every decision traceable by the admins in scope: an entry's timeline carries the unit-level
events of the units holding it (confirmation, unlock, reopen, deadline change), and each unit has
a history page, API and Excel export for its admins and the levels above only."""

import io
from datetime import timedelta

import openpyxl
import pytest
from django.utils import timezone

from campaigns import services as campaign_services
from contacts import services as contact_services
from selection import rules, services
from selection.tests.helpers import entry_at, up_to_county

pytestmark = pytest.mark.django_db

BASE = "/api/v1/selection"


@pytest.fixture
def story(tree, campaign, make_course):
    """A course at the county; the city reopens the county after its deadline, the county
    confirms, the city unlocks it; the city confirms too (an event of the city, not the county)."""
    course = make_course(title="认识图形")
    county_entry = up_to_county(course, tree)
    county = campaign.levels.get(kind="county")
    later = county.deadline + timedelta(days=1)
    new_deadline = county.deadline + timedelta(days=3)
    campaign.levels.filter(kind="city").update(deadline=new_deadline + timedelta(days=5),
                                               confirm_deadline=new_deadline + timedelta(days=5))
    services.reopen(tree.city_admin, campaign, "county", tree.county, new_deadline, "系统故障补报", now=later)
    services.decide(tree.county_admin, county_entry.pk, "decline", reason="同类课程较多", now=later)
    services.confirm(tree.county_admin, campaign, "county", tree.county, now=later)
    services.unlock(tree.city_admin, campaign, "county", tree.county, "学校申诉，重新审议")
    services.confirm(tree.city_admin, campaign, "city", tree.city, now=later)
    campaign_services.set_quota_override(tree.city_admin, campaign, level_kind="county", unit=tree.county,
                                         category="experiment", limit=3)
    return {"course": course, "entry": county_entry, "new_deadline": new_deadline}


# --- the pure part ---------------------------------------------------------------------------------------
def test_which_unit_events_bear_on_an_entry():
    assert rules.bears_on_entry("selection.confirm", None, {"level": "县级初选"}, "county") is True
    assert rules.bears_on_entry("selection.reopen", None, {"level": "county"}, "county") is True
    assert rules.bears_on_entry("campaigns.deadline_override.set", None, {"level": "school"}, "county") is False
    assert rules.bears_on_entry("campaigns.deadline_override.delete", {"level": "county"}, None, "county") is True
    assert rules.bears_on_entry("campaigns.quota_override.set", None, {"level": "county"}, "county") is False
    assert rules.bears_on_entry("selection.recommend", None, {}, "county") is False


def test_event_details_say_what_changed():
    assert rules.event_details("selection.reopen", None, {"deadline": "2024-09-25T15:59:59+00:00"}) == (
        "新的截止时间：2024-09-25 23:59")
    assert rules.event_details("selection.confirm", None, {"level": "县级初选", "recommended": 3, "awarded": 1}) == (
        "县级初选：推荐 3 门，本级荣誉 1 门")
    assert rules.event_details("campaigns.deadline_override.set", None, {
        "level": "county", "deadline": "2024-09-25T23:59:59+08:00", "confirm_deadline": None,
        "contact_form_deadline": None}) == "推荐截止：2024-09-25 23:59；汇总表确认截止：继承上级；工作联系表截止：继承上级"
    assert rules.event_details("campaigns.quota_override.set", {"category": "experiment", "subject": "", "limit": 10},
                               {"category": "experiment", "subject": "", "limit": 12}) == "实验教学：名额 10 → 12"
    assert rules.event_details("campaigns.quota_override.delete", {"category": "subject", "subject": "数学",
                                                                     "limit": 2}, None) == (
        "学科课程（数学）：恢复默认名额（原为 2）")
    assert rules.event_details("selection.recommend", None, {"state": "recommended"}) == ""


# --- an entry's timeline ---------------------------------------------------------------------------------
def _timeline(body):
    return [(h["action_label"], h["actor"], h["unit_name"] if h["unit_event"] else "", h["reason"])
            for h in body["history"]]


def test_entry_history_shows_the_holding_units_events_in_the_api(client, tree, story, django_assert_max_num_queries):
    client.force_login(tree.county_admin)
    with django_assert_max_num_queries(10):
        body = client.get(f"{BASE}/entries/{story['entry'].pk}").json()
    city, county = tree.city_admin.display_name, tree.county_admin.display_name
    assert _timeline(body) == [
        ("到达学校", tree.teacher.display_name, "", ""),
        ("推荐", tree.school_admin.display_name, "", ""),
        ("设置本单位截止时间", city, "赤坎区", "系统故障补报"),
        ("截止后重新开放", city, "赤坎区", "系统故障补报"),
        ("未推荐", county, "", "同类课程较多"),
        ("确认推荐汇总表", county, "赤坎区", ""),
        ("解锁推荐汇总表", city, "赤坎区", "学校申诉，重新审议"),
    ]  # not the city's own confirmation (the entry is not held by the city), nor the quota change
    reopen = body["history"][3]
    assert reopen["details"] == f"新的截止时间：{rules.local_text(story['new_deadline'])}"


def test_entry_history_reaches_every_level_the_course_reached_at_a_fixed_query_count(
        client, tree, campaign, make_course, django_assert_max_num_queries):
    course = make_course()
    county_entry = up_to_county(course, tree)
    services.decide(tree.county_admin, county_entry.pk, "recommend")
    city_entry = entry_at(course, "city")
    for unit, kind, admin, above in ((tree.school, "school", tree.school_admin, tree.county_admin),
                                     (tree.county, "county", tree.county_admin, tree.city_admin)):
        services.confirm(admin, campaign, kind, unit)
        services.unlock(above, campaign, kind, unit, f"{unit.name}申请调整")
    client.force_login(tree.city_admin)
    with django_assert_max_num_queries(10):
        body = client.get(f"{BASE}/entries/{city_entry.pk}").json()
    unit_events = [(h["action"], h["unit_name"], h["reason"]) for h in body["history"] if h["unit_event"]]
    assert unit_events == [
        ("selection.confirm", "湛江市第二十一小学", ""), ("selection.unlock", "湛江市第二十一小学", "湛江市第二十一小学申请调整"),
        ("selection.confirm", "赤坎区", ""), ("selection.unlock", "赤坎区", "赤坎区申请调整")]


def test_entry_history_hides_the_events_of_units_above_the_viewers_scope(client, tree, campaign, make_course):
    course = make_course()
    county_entry = up_to_county(course, tree)
    services.decide(tree.county_admin, county_entry.pk, "recommend")
    services.decide(tree.city_admin, entry_at(course, "city").pk, "decline", reason="名额有限")
    services.confirm(tree.city_admin, campaign, "city", tree.city)
    services.confirm(tree.county_admin, campaign, "county", tree.county)
    client.force_login(tree.county_admin)
    body = client.get(f"{BASE}/entries/{county_entry.pk}").json()
    assert [(h["action"], h["unit_name"]) for h in body["history"] if h["unit_event"]] == [
        ("selection.confirm", "赤坎区")]
    client.force_login(tree.city_admin)
    body = client.get(f"{BASE}/entries/{county_entry.pk}").json()
    assert [(h["action"], h["unit_name"]) for h in body["history"] if h["unit_event"]] == [
        ("selection.confirm", "湛江市"), ("selection.confirm", "赤坎区")]


def test_entry_page_shows_the_unit_events(client, tree, story):
    client.force_login(tree.county_admin)
    html = client.get(f"/selection/entries/{story['entry'].pk}/").content.decode()
    assert "解锁推荐汇总表" in html and "学校申诉，重新审议" in html and "（赤坎区）" in html
    assert f"新的截止时间：{rules.local_text(story['new_deadline'])}" in html


# --- a unit's history ----------------------------------------------------------------------------------
def _unit_url(campaign, unit, suffix=""):
    return f"{BASE}/campaigns/{campaign.pk}/units/{unit.pk}/history{suffix}"


def test_unit_history_api_lists_the_units_events_newest_first(client, tree, campaign, story):
    client.force_login(tree.county_admin)
    body = client.get(_unit_url(campaign, tree.county)).json()
    city, county = tree.city_admin.display_name, tree.county_admin.display_name
    assert (body["unit_name"], body["count"], body["num_pages"]) == ("赤坎区", 6, 1)
    new = rules.local_text(story["new_deadline"])
    assert [(i["action_label"], i["actor"], i["details"], i["reason"]) for i in body["items"]] == [
        ("设置本单位名额", city, "实验教学：名额 3", ""),
        ("解锁推荐汇总表", city, "", "学校申诉，重新审议"),
        ("确认推荐汇总表", county, "县级初选：推荐 0 门，本级荣誉 0 门", ""),
        ("未推荐", county, "", "同类课程较多"),
        ("截止后重新开放", city, f"新的截止时间：{new}", "系统故障补报"),
        ("设置本单位截止时间", city, f"推荐截止：{new}；汇总表确认截止：{new}；工作联系表截止：继承上级", "系统故障补报"),
    ]
    assert [i["target"] for i in body["items"]][2:4] == [campaign.title, "认识图形"]


def test_unit_history_filters_by_action_actor_and_date(client, tree, campaign, story):
    client.force_login(tree.city_admin)
    body = client.get(_unit_url(campaign, tree.county), {"action": "selection.unlock"}).json()
    assert [(i["action"], i["reason"], i["target"]) for i in body["items"]] == [
        ("selection.unlock", "学校申诉，重新审议", campaign.title)]
    body = client.get(_unit_url(campaign, tree.county), {"actor": tree.county_admin.pk}).json()
    assert [i["action"] for i in body["items"]] == ["selection.confirm", "selection.decline"]
    today = timezone.now().astimezone(rules.TZ).date()
    assert client.get(_unit_url(campaign, tree.county), {"since": today + timedelta(days=1)}).json()["count"] == 0
    assert client.get(_unit_url(campaign, tree.county), {"until": today - timedelta(days=1)}).json()["count"] == 0
    assert client.get(_unit_url(campaign, tree.county), {"since": today, "until": today}).json()["count"] == 6
    assert client.get(_unit_url(campaign, tree.county), {"actor": 10**30}).json()["count"] == 0


def test_unit_history_counts_only_the_units_own_events(client, tree, campaign, story):
    """The city's confirmation is the city's history; the school's recommendation the school's."""
    client.force_login(tree.city_admin)
    city = [i["action"] for i in client.get(_unit_url(campaign, tree.city)).json()["items"]]
    school = [i["action"] for i in client.get(_unit_url(campaign, tree.school)).json()["items"]]
    assert city == ["selection.confirm", "campaigns.campaign.import"]
    assert school == ["selection.recommend", "selection.enter"]


def test_contact_form_reopen_is_in_the_units_history(client, tree, campaign):
    deadline = timezone.now() + timedelta(days=2)
    contact_services.reopen(tree.city_admin, campaign, tree.county, deadline, "联系表补交")
    client.force_login(tree.county_admin)
    items = client.get(_unit_url(campaign, tree.county), {"action": "contacts.reopen"}).json()["items"]
    assert [(i["action_label"], i["reason"], i["details"]) for i in items] == [
        ("重新开放工作联系表", "联系表补交", f"工作联系表新的截止时间：{rules.local_text(deadline)}")]


@pytest.mark.parametrize("who", ["other_county_admin", "school_admin", "teacher", "expert"])
def test_nobody_sees_the_history_of_a_unit_outside_his_scope(client, tree, campaign, story, who):
    client.force_login(getattr(tree, who))
    response = client.get(_unit_url(campaign, tree.county))
    assert (response.status_code, response.json()["detail"]) == (404, "未找到该对象，或您无权查看。")
    assert client.get(_unit_url(campaign, tree.county, ".xlsx")).status_code == 404
    page = client.get(f"/selection/campaigns/{campaign.pk}/units/{tree.county.pk}/history/")
    assert page.status_code == 404
    assert client.get(f"/selection/campaigns/{campaign.pk}/units/{tree.county.pk}/history.xlsx").status_code == 404


def test_the_units_history_is_closed_to_the_out_of_scope_in_the_service(tree, campaign):
    from django.http import Http404

    with pytest.raises(Http404):
        services.unit_events(tree.other_county_admin, campaign, tree.county)
    assert services.unit_events(tree.province_admin, campaign, tree.county).count() == 0


def test_unit_history_page_and_excel(client, tree, campaign, story, django_assert_max_num_queries):
    client.force_login(tree.county_admin)
    url = f"/selection/campaigns/{campaign.pk}/units/{tree.county.pk}/history/"
    with django_assert_max_num_queries(12):
        html = client.get(url, {"action": "selection.unlock"}).content.decode()
    assert "赤坎区操作记录" in html and "学校申诉，重新审议" in html and "确认推荐汇总表</option>" in html
    assert f'href="{url[:-1]}.xlsx?action=selection.unlock"' in html
    response = client.get(url[:-1] + ".xlsx", {"action": "selection.unlock"})
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = [[c for c in row] for row in sheet.iter_rows(min_row=4, values_only=True)]
    unlock_at = services.unit_history(tree.county_admin, campaign, tree.county,
                                      services.HistoryFilter(action="selection.unlock")).get().at
    assert sheet["A1"].value == f"{campaign.title} 赤坎区操作记录"
    assert sheet["A2"].value.endswith("；筛选：操作：解锁推荐汇总表")
    assert rows == [["时间", "操作人", "操作", "对象", "内容", "理由"],
                    [rules.local_text(unlock_at), tree.city_admin.display_name, "解锁推荐汇总表", campaign.title, None,
                     "学校申诉，重新审议"]]
