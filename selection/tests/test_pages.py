"""The selection pages (plain form posts): the county admin's desk, filters, every action,
confirmation, unlock and reopen from the city, the entry's timeline, the progress board."""

from datetime import timedelta

import pytest
from django.utils import timezone

from selection import services
from selection.models import UnitLevel
from selection.tests.helpers import entry_at, up_to_county

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(tree, campaign, make_course, nodes):
    """Three courses of 赤坎区's school waiting at the county."""
    courses = [make_course(node=nodes[0], title="秋天"), make_course(node=nodes[3], title="10以内的加法"),
               make_course("experiment", node=nodes[6], title="探究平面镜成像")]
    return [up_to_county(c, tree) for c in courses]


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_the_desk_shows_entries_quotas_and_the_navigation(client, tree, campaign, desk, django_assert_max_num_queries):
    client.force_login(tree.county_admin)
    with django_assert_max_num_queries(25):
        response = client.get("/selection/")
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["desk"] == tree.county
    assert [e.course.title for e in response.context["page_obj"].object_list] == ["秋天", "10以内的加法", "探究平面镜成像"]
    assert "学科课程 已推荐 0/25" in html and "实验教学 已推荐 0/10" in html
    assert 'href="/selection/"' in html  # the navigation link
    assert "确认推荐汇总表" in html
    # The desk's query count does not grow with its entries.
    for e in desk:
        services.decide(tree.county_admin, e.pk, "recommend")
    with django_assert_max_num_queries(25):
        client.get("/selection/")


def test_filters_and_sort(client, tree, campaign, desk):
    client.force_login(tree.county_admin)
    base = f"/selection/?campaign={campaign.pk}&held_by={tree.county.pk}"

    def titles(query):
        return [e.course.title for e in client.get(base + query).context["page_obj"].object_list]

    assert titles("&subject=数学") == ["10以内的加法"]
    assert titles("&category=experiment") == ["探究平面镜成像"]
    assert titles("&stage=junior") == ["探究平面镜成像"]
    assert titles("&compliance=none&sort=-title") == ["秋天", "探究平面镜成像", "10以内的加法"]
    assert titles(f"&unit={tree.school.pk}&state=pending") == ["秋天", "10以内的加法", "探究平面镜成像"]
    assert titles("&state=declined") == []
    response = client.get(base + "&subject=数学")
    assert response.context["choices"]["subjects"] == ["数学", "物理", "语文"]
    assert "已筛选" in response.content.decode()


def test_every_action_as_a_plain_post(client, tree, campaign, desk):
    client.force_login(tree.county_admin)
    autumn, maths, physics = desk
    back = f"/selection/?campaign={campaign.pk}&held_by={tree.county.pk}"
    response = client.post(f"/selection/entries/{autumn.pk}/return/", {"reason": "", "next": back}, follow=True)
    assert messages_of(response) == ["《秋天》：退回时请写明理由，告诉教师需要修改什么。"]
    response = client.post(f"/selection/entries/{autumn.pk}/return/", {"reason": "请补充学习任务单", "next": back},
                           follow=True)
    assert response.redirect_chain == [(back, 302)]
    assert messages_of(response) == ["《秋天》已退回，教师会看到退回理由。"]
    response = client.post(f"/selection/entries/{maths.pk}/recommend/", {"rank": "2"}, follow=True)
    assert messages_of(response) == ["《10以内的加法》已推荐到上一级。"]
    maths.refresh_from_db()
    assert (maths.state, maths.rank) == ("recommended", 2)
    response = client.post(f"/selection/entries/{maths.pk}/award/", follow=True)
    assert messages_of(response) == ["《10以内的加法》已评为县级精品课。"]
    client.post(f"/selection/entries/{physics.pk}/decline/", {"reason": "重复"})
    client.post(f"/selection/entries/{physics.pk}/undo/")
    physics.refresh_from_db()
    assert physics.state == "pending"
    assert client.post(f"/selection/entries/{physics.pk}/fly/").status_code == 404
    assert client.get(f"/selection/entries/{physics.pk}/recommend/").status_code == 405
    # An unsafe next is ignored.
    response = client.post(f"/selection/entries/{physics.pk}/decline/", {"next": "https://evil.example/"})
    assert response.url == back
    # The entry page shows the chain and the timeline.
    html = client.get(f"/selection/entries/{maths.pk}/").content.decode()
    for text in ("到达学校", "推荐", "评为本级荣誉", "<strong>湛江市</strong> · 市级遴选", "县级精品课"):
        assert text in html


def test_confirm_then_the_city_unlocks_and_reopens(client, tree, campaign, desk):
    client.force_login(tree.county_admin)
    url = f"/selection/campaigns/{campaign.pk}/units/{tree.county.pk}/"
    response = client.post(url + "confirm/", follow=True)
    assert messages_of(response) == ["还有待处理的课程。请先逐一推荐、未推荐或退回，再确认汇总表。"]
    for e in desk:
        client.post(f"/selection/entries/{e.pk}/recommend/")
    response = client.post(url + "confirm/", follow=True)
    assert messages_of(response)[-1] == "推荐汇总表已确认，赤坎区县级初选的推荐结果已锁定。"
    assert "汇总表已确认" in response.content.decode()
    assert "确定推荐" not in response.content.decode()  # no more actions on a locked desk
    assert client.post(url + "unlock/", {"reason": "调整"}).status_code == 403
    client.force_login(tree.city_admin)
    response = client.post(url + "unlock/", {"reason": "区里申请调整"}, follow=True)
    assert messages_of(response) == ["已为赤坎区解锁，该单位可以重新调整推荐。"]
    assert UnitLevel.objects.get(unit=tree.county).confirmed_at is None
    campaign.levels.filter(kind="county").update(deadline=timezone.now() - timedelta(days=1))
    response = client.post(url + "reopen/", {"deadline_date": "2099-03-01", "deadline_time": "17:00",
                                             "reason": "系统故障补报"}, follow=True)
    assert messages_of(response) == ["已为赤坎区重新开放，新的截止时间为 2099-03-01 17:00。"]
    response = client.post(url + "reopen/", {"deadline_date": "", "reason": "x"}, follow=True)
    assert messages_of(response) == ["新的截止时间必须晚于现在。"]


def test_the_progress_board_page(client, tree, campaign, desk, django_assert_max_num_queries):
    services.decide(tree.county_admin, desk[0].pk, "recommend")
    client.force_login(tree.city_admin)
    with django_assert_max_num_queries(17):  # 3 GROUP BY of the entries + the subjects held (Zhanjiang counts subjects)
        response = client.get(f"/selection/campaigns/{campaign.pk}/progress/")
    html = response.content.decode()
    assert [r.unit.name for r in response.context["rows"]] == ["赤坎区", "霞山区", "湛江市第一中学"]
    assert "学科课程 已推荐 1/25" in html and "重新开放" in html
    # Each child unit's row and card link to its history (操作记录).
    assert html.count(f'href="/selection/campaigns/{campaign.pk}/units/{tree.county.pk}/history/"') == 2
    client.force_login(tree.county_admin)
    response = client.get(f"/selection/campaigns/{campaign.pk}/progress/")
    assert [r.unit.name for r in response.context["rows"]] == ["湛江市第二十一小学"]


def test_scope_of_the_pages(client, tree, campaign, desk):
    entry = desk[0]
    client.force_login(tree.other_county_admin)
    assert client.get(f"/selection/?campaign={campaign.pk}&held_by={tree.county.pk}").status_code == 404
    assert client.get(f"/selection/entries/{entry.pk}/").status_code == 404
    assert client.post(f"/selection/entries/{entry.pk}/recommend/").status_code == 404
    for part in ("summary/", "summary.xlsx", "confirm/"):
        url = f"/selection/campaigns/{campaign.pk}/units/{tree.county.pk}/{part}"
        assert (client.post if part == "confirm/" else client.get)(url).status_code == 404, part
    assert client.get(f"/selection/campaigns/{campaign.pk}/progress/?unit={tree.county.pk}").status_code == 404
    entry.refresh_from_db()
    assert entry.state == "pending"
    client.force_login(tree.teacher)
    assert client.get("/selection/").status_code == 403
    assert 'href="/selection/"' not in client.get("/").content.decode()
    # The school's admin works at the school level only.
    client.force_login(tree.school_admin)
    assert client.get("/selection/").context["desk"] == tree.school
    assert entry_at(entry.course, "school").state == "recommended"
