"""公示 for the admins: the snapshot, resolving objections (upheld withdraws through selection),
finalizing, the summary table and decisions blocked until final, and the history it leaves."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from audit.models import Event
from jingpinke.errors import ServiceError
from notifications.models import Notification
from review import publicity
from review.models import Objection, Publicity, PublicityState
from selection import services as selection_services
from selection.models import Entry, UnitLevel

pytestmark = pytest.mark.django_db


def _objection(pub, item=None, name="张三", contact="13712345678", content="与已有课程雷同"):
    return Objection.objects.create(publicity=pub, item=item, name=name, contact=contact, content=content,
                                    ip_hash="x")


def test_creation_snapshots_the_recommended_and_awarded_entries(tree, campaign, pub, results):
    county = campaign.levels.get(kind="county")
    assert (pub.level, pub.unit, pub.state, pub.ends_at - pub.starts_at) == (
        county, tree.county, "open", timedelta(days=county.publicity_days))
    assert county.publicity_days == 5
    rows = [(i.order, i.course_title, i.school_name, i.teachers, i.recommended, i.awarded, i.withdrawn)
            for i in pub.items.order_by("order")]
    assert rows == [  # the recommended in their order first, then the awarded
        (1, "认识天地", "湛江市第二十一小学", f"{tree.teacher.display_name}、李老师", True, False, False),
        (2, "小小的船", "湛江市第二十一小学", tree.teacher.display_name, False, True, False),
    ]
    item = pub.items.get(course_title="认识天地")
    assert (item.subject, item.node_label, item.category) == ("小学 一年级 语文", "第一单元 › 第1课", "subject")
    ev = Event.objects.get(action="review.publicity.open")
    assert (ev.target_type, ev.unit_path, ev.after["items"], ev.after["level"]) == (
        "campaigns.campaign", tree.county.path, 2, "county")


def test_creation_refused_with_nothing_to_publish_twice_or_not_his_level(tree, campaign, nodes, county_entry):
    county_entry(node=nodes[0])
    with pytest.raises(ServiceError, match="没有可公示的结果"):
        publicity.create(tree.county_admin, campaign, tree.county)
    with pytest.raises(PermissionDenied):
        publicity.create(tree.other_county_admin, campaign, tree.county)
    with pytest.raises(PermissionDenied):
        publicity.create(tree.school_admin, campaign, tree.school)


def test_creation_refused_once_pending_or_confirmed(tree, campaign, results, pub):
    with pytest.raises(ServiceError, match="尚未确定结果"):
        publicity.create(tree.county_admin, campaign, tree.county)
    Publicity.objects.all().delete()
    county = campaign.levels.get(kind="county")
    UnitLevel.objects.update_or_create(campaign=campaign, level=county, unit=tree.county,
                                       defaults={"confirmed_at": timezone.now()})
    with pytest.raises(ServiceError, match="已确认推荐汇总表"):
        publicity.create(tree.county_admin, campaign, tree.county)


def test_resolving_requires_a_decision_and_an_outcome(tree, pub):
    o = _objection(pub)
    with pytest.raises(ServiceError, match="请写明处理结果"):
        publicity.resolve(tree.county_admin, o.pk, "dismissed", "  ")
    with pytest.raises(ServiceError, match="请选择处理结论"):
        publicity.resolve(tree.county_admin, o.pk, "maybe", "查无实据")
    o.refresh_from_db()
    assert (o.state, o.outcome) == ("open", "")
    publicity.resolve(tree.county_admin, o.pk, "dismissed", "经核实，课程为原创")
    o.refresh_from_db()
    assert (o.state, o.outcome, o.resolved_by) == ("dismissed", "经核实，课程为原创", tree.county_admin)
    with pytest.raises(ServiceError, match="已经处理过了"):
        publicity.resolve(tree.county_admin, o.pk, "upheld", "再议")


def test_another_countys_admin_cannot_resolve(tree, pub):
    o = _objection(pub)
    with pytest.raises(Http404):
        publicity.resolve(tree.other_county_admin, o.pk, "dismissed", "x")


def test_upheld_withdraws_the_recommendation_and_the_award_through_selection(tree, pub, results):
    a_item, b_item = pub.items.get(course_title="认识天地"), pub.items.get(course_title="小小的船")
    o1, o2 = _objection(pub, a_item), _objection(pub, b_item)
    publicity.resolve(tree.county_admin, o1.pk, "upheld", "经核实与他人作品雷同", withdraw=True)
    publicity.resolve(tree.county_admin, o2.pk, "upheld", "获奖依据不足", withdraw=True)
    a, b = Entry.objects.get(pk=results["a"].pk), Entry.objects.get(pk=results["b"].pk)
    assert (a.state, a.reason) == ("declined", "经核实与他人作品雷同")
    assert not Entry.objects.filter(course=a.course, level__kind="city").exists()  # the recommendation undone
    assert (b.state, b.awarded) == ("declined", False)
    a_item.refresh_from_db()
    assert (a_item.withdrawn, a_item.withdrawn_note) == (True, "经核实与他人作品雷同")
    actions = list(Event.objects.filter(target_id=str(a.course_id), target_type="courses.course")
                   .order_by("id").values_list("action", flat=True))
    assert actions[-4:] == ["selection.undo", "selection.decline", "review.publicity.withdraw",
                            "review.objection.resolve"]


def test_a_refusal_from_selection_is_reported_and_nothing_changes(tree, pub, results):
    """The city already acted on the county's recommendation: selection refuses the undo."""
    city_entry = Entry.objects.get(course=results["a"].course, level__kind="city")
    selection_services.decide(tree.city_admin, city_entry.pk, "decline", reason="名额已满")
    item = pub.items.get(course_title="认识天地")
    o = _objection(pub, item)
    with pytest.raises(ServiceError, match="上级已经处理了这条推荐") as exc:
        publicity.resolve(tree.county_admin, o.pk, "upheld", "雷同", withdraw=True)
    assert "异议仍为待处理" in exc.value.message
    o.refresh_from_db()
    item.refresh_from_db()
    assert (o.state, item.withdrawn, Entry.objects.get(pk=results["a"].pk).state) == ("open", False, "recommended")
    assert not Event.objects.filter(action__in=["review.objection.resolve", "review.publicity.withdraw"]).exists()


def test_finalize_refused_before_the_end_and_with_open_objections(tree, pub):
    o = _objection(pub)
    with pytest.raises(ServiceError) as exc:
        publicity.finalize(tree.county_admin, pub.pk)
    assert "公示期到" in exc.value.message and "还有 1 条异议未处理" in exc.value.message
    after = pub.ends_at + timedelta(seconds=1)
    with pytest.raises(ServiceError, match="还有 1 条异议未处理"):
        publicity.finalize(tree.county_admin, pub.pk, now=after)
    publicity.resolve(tree.county_admin, o.pk, "dismissed", "查无实据")
    done = publicity.finalize(tree.county_admin, pub.pk, now=after)
    assert (done.state, done.finalized_by) == ("final", tree.county_admin)
    assert list(Event.objects.filter(action__startswith="review.publicity.").order_by("id")
                .values_list("action", flat=True)) == [
        "review.publicity.open", "review.publicity.close", "review.publicity.finalize"]
    with pytest.raises(ServiceError, match="已经确定了"):
        publicity.finalize(tree.county_admin, pub.pk, now=after)


def test_the_summary_table_cannot_be_confirmed_until_final(tree, campaign, pub):
    with pytest.raises(ServiceError, match="公示尚未结束或仍有异议未处理，暂不能确认推荐汇总表"):
        selection_services.confirm(tree.county_admin, campaign, "county", tree.county)
    assert not UnitLevel.objects.get(unit=tree.county, level__kind="county").confirmed
    publicity.finalize(tree.county_admin, pub.pk, now=pub.ends_at + timedelta(minutes=1))
    assert selection_services.confirm(tree.county_admin, campaign, "county", tree.county).confirmed


def test_decisions_on_publicized_entries_are_refused_until_final(tree, pub, results, nodes, county_entry):
    with pytest.raises(ServiceError, match="该课程正在公示"):
        selection_services.decide(tree.county_admin, results["a"].pk, "undo")
    with pytest.raises(ServiceError, match="该课程正在公示"):
        selection_services.set_award(tree.county_admin, results["b"].pk, False)
    late = county_entry(node=nodes[3], title="新来的")
    with pytest.raises(ServiceError, match="不能新增推荐或本级荣誉"):
        selection_services.decide(tree.county_admin, late.pk, "recommend")
    # not published, not adding to the results: allowed
    selection_services.decide(tree.county_admin, late.pk, "decline", reason="不符合")
    publicity.finalize(tree.county_admin, pub.pk, now=pub.ends_at + timedelta(minutes=1))
    selection_services.decide(tree.county_admin, results["a"].pk, "undo")


def test_an_objection_notifies_the_units_admins(tree, pub, client):
    item = pub.items.first()
    publicity.submit_objection(pub.slug, publicity.ObjectionInput("王五", "wang@example.com", "有问题", item.pk),
                               "10.0.0.1")
    n = Notification.objects.get(recipient=tree.county_admin, kind="remind")
    assert (n.kind, n.link) == ("remind", f"/review/publicity/{pub.pk}/")
    assert item.course_title in n.body
    assert not Notification.objects.filter(recipient=tree.other_county_admin, kind="remind").exists()


def test_history_events_in_the_entry_history_and_the_units_history(client, tree, campaign, pub, results):
    item = pub.items.get(course_title="认识天地")
    publicity.submit_objection(pub.slug, publicity.ObjectionInput("王五", "wang@example.com", "雷同", item.pk),
                               "10.0.0.1")
    o = Objection.objects.get()
    publicity.resolve(tree.county_admin, o.pk, "upheld", "经核实雷同", withdraw=True)
    publicity.finalize(tree.county_admin, pub.pk, now=pub.ends_at + timedelta(minutes=1))
    client.force_login(tree.county_admin)
    body = client.get(f"/api/v1/selection/entries/{results['a'].pk}").json()
    labels = [(h["action_label"], h["unit_name"] if h["unit_event"] else "", h["reason"]) for h in body["history"]]
    assert labels[3:] == [
        ("发布公示", "赤坎区", ""), ("收到异议", "", ""), ("撤销决定", "", ""), ("未推荐", "", "经核实雷同"),
        ("异议成立，撤销结果", "", "经核实雷同"), ("处理异议", "", "经核实雷同"), ("公示期结束", "赤坎区", ""),
        ("公示结果确定", "赤坎区", ""),
    ]
    page = client.get(f"/selection/entries/{results['a'].pk}/")
    for text in ("发布公示", "收到异议", "处理异议", "公示结果确定"):
        assert text in page.content.decode()
    units = client.get(f"/api/v1/selection/campaigns/{campaign.pk}/units/{tree.county.pk}/history").json()
    got = [i["action_label"] for i in units["items"]][:7]
    assert got == ["公示结果确定", "公示期结束", "处理异议", "异议成立，撤销结果", "未推荐", "撤销决定", "收到异议"]
    opened = next(i for i in units["items"] if i["action_label"] == "发布公示")
    assert opened["details"].startswith(f"{pub.title}：公示 2 门")


# --- the admins' pages ----------------------------------------------------------------------------------
def test_admin_pages_create_resolve_finalize(client, tree, campaign, results):
    client.force_login(tree.county_admin)
    url = f"/review/campaigns/{campaign.pk}/units/{tree.county.pk}/publicity/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"title": "赤坎区县级初选结果公示", "note": ""})
    pub = Publicity.objects.get()
    assert response.url == f"/review/publicity/{pub.pk}/"
    o = _objection(pub, pub.items.first())
    page = client.get(response.url).content.decode()
    assert "赤坎区县级初选结果公示" in page and f"/gongshi/{pub.slug}/" in page and "与已有课程雷同" in page
    client.post(response.url, {"action": "resolve", "objection": o.pk, "decision": "dismissed", "outcome": ""})
    o.refresh_from_db()
    assert o.state == "open"
    client.post(response.url, {"action": "resolve", "objection": o.pk, "decision": "dismissed", "outcome": "属实无误"})
    o.refresh_from_db()
    assert (o.state, o.outcome) == ("dismissed", "属实无误")
    page = client.post(response.url, {"action": "finalize"}, follow=True).content.decode()
    assert "暂不能确定公示结果" in page
    pub.refresh_from_db()
    assert pub.state == "open"


def test_admin_page_is_closed_to_other_units(client, tree, pub):
    client.force_login(tree.other_county_admin)
    assert client.get(f"/review/publicity/{pub.pk}/").status_code == 404
    assert client.post(f"/review/publicity/{pub.pk}/", {"action": "finalize"}).status_code == 404
    client.force_login(tree.city_admin)  # the level above may help
    assert client.get(f"/review/publicity/{pub.pk}/").status_code == 200


def test_closing_is_recorded_once_when_an_admin_looks_after_the_end(tree, pub):
    publicity.detail(tree.county_admin, pub.pk, now=pub.ends_at + timedelta(hours=1))
    publicity.detail(tree.county_admin, pub.pk, now=pub.ends_at + timedelta(hours=2))
    pub.refresh_from_db()
    assert pub.state == PublicityState.CLOSED
    assert Event.objects.filter(action="review.publicity.close").count() == 1


def test_the_desk_and_the_results_page_link_to_the_publicity(client, tree, campaign, results):
    client.force_login(tree.county_admin)
    link = f"/review/campaigns/{campaign.pk}/units/{tree.county.pk}/publicity/"
    desk = client.get(f"/selection/?campaign={campaign.pk}&held_by={tree.county.pk}").content.decode()
    assert link in desk


def test_the_admin_page_query_count_does_not_grow_with_objections(client, tree, pub, django_assert_max_num_queries):
    client.force_login(tree.county_admin)
    url = f"/review/publicity/{pub.pk}/"
    client.get(url)
    for i in range(2):
        _objection(pub, pub.items.first(), content=f"异议{i}")
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    for i in range(6):
        _objection(pub, pub.items.last(), content=f"更多异议{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(url).content.decode()
    assert html.count('id="objection-') == 8


def test_withdrawing_needs_a_named_course_and_dismissal_never_withdraws(tree, pub, results):
    general = _objection(pub)
    with pytest.raises(ServiceError, match="没有指明课程"):
        publicity.resolve(tree.county_admin, general.pk, "upheld", "属实", withdraw=True)
    named = _objection(pub, pub.items.get(course_title="认识天地"))
    publicity.resolve(tree.county_admin, named.pk, "dismissed", "查无实据", withdraw=True)
    assert Entry.objects.get(pk=results["a"].pk).state == "recommended"
    assert not pub.items.filter(withdrawn=True).exists()
