"""Opening and closing catalog nodes for a campaign: the starting-grade rule, pages, API, permissions."""

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from audit.models import Event
from campaigns.models import CampaignStatus
from catalog import services
from catalog.models import CatalogNode, OpenNode

YUWEN_NEW = "统编版语文一年级上册"
YUWEN_OLD = "统编版语文一年级上册（旧教材）"
PHYSICS = "人教版物理八年级上册（旧教材）"


def opened(campaign):
    return set(OpenNode.objects.filter(campaign=campaign).values_list("node_id", flat=True))


def leaves(book):
    return set(book.nodes.filter(is_leaf=True).values_list("pk", flat=True))


def api(campaign, action):
    return f"/api/v1/catalog/campaigns/{campaign.pk}/{action}"


# --- services ---------------------------------------------------------------------------------------
def test_open_by_subject_and_grade_skips_old_books_of_starting_grades(tree, campaign, catalog):
    result = services.open_nodes(tree.city_admin, campaign, services.NodeFilters(subject="语文", grade="一年级"))
    assert (result.opened, result.already_open) == (49, 0)
    assert result.messages() == ["一年级须使用新教材：统编版语文一年级上册（旧教材）未开放"]
    assert opened(campaign) == leaves(catalog[YUWEN_NEW])
    event = Event.objects.get(action="catalog.nodes.open")
    assert (event.target_repr, event.unit_path, event.after["opened"], event.after["filters"], event.after["refused"]) == (
        campaign.title, tree.city.path, 49, {"subject": "语文", "grade": "一年级"},
        ["一年级须使用新教材：统编版语文一年级上册（旧教材）未开放"])


def test_old_books_open_outside_the_starting_grades(tree, campaign, catalog):
    result = services.open_nodes(tree.city_admin, campaign, services.NodeFilters(stage="junior", edition="old"))
    assert (result.opened, result.refused) == (50, [])
    assert opened(campaign) == leaves(catalog[PHYSICS]) | leaves(catalog["人教版化学九年级上册（旧教材）"])


def test_open_is_idempotent_and_close_removes(tree, campaign, catalog):
    book = catalog["人教版数学七年级上册"]
    selection = services.NodeFilters(textbook_ids=[book.pk])
    assert services.open_nodes(tree.city_admin, campaign, selection).opened == 26
    again = services.open_nodes(tree.city_admin, campaign, selection)
    assert (again.opened, again.already_open) == (0, 26)
    assert Event.objects.filter(action="catalog.nodes.open").count() == 1
    first_chapter = list(book.nodes.filter(is_leaf=True, label_path__startswith="第一章").values_list("pk", flat=True))
    assert services.close_nodes(tree.city_admin, campaign, services.NodeFilters(node_ids=first_chapter)) == 5
    assert opened(campaign) == leaves(book) - set(first_chapter)
    event = Event.objects.get(action="catalog.nodes.close")
    assert (event.before, event.after) == ({"node_ids": sorted(first_chapter)},
                                           {"filters": {"node_ids": sorted(first_chapter)}, "closed": 5})


def test_only_leaves_open(tree, campaign, catalog):
    unit = catalog[YUWEN_NEW].nodes.get(title="第五单元（阅读）")
    lesson = catalog[YUWEN_NEW].nodes.get(label_path="第五单元（阅读） › 1 秋天")
    result = services.open_nodes(tree.city_admin, campaign, services.NodeFilters(node_ids=[unit.pk, lesson.pk]))
    assert result.opened == 1
    assert result.messages() == ["统编版语文一年级上册：1 个节点不是末级节点（课），只能开放末级节点"]
    assert opened(campaign) == {lesson.pk}


def test_an_empty_selection_or_a_closed_campaign_is_refused(tree, campaign, catalog):
    with pytest.raises(services.ServiceError) as exc:
        services.open_nodes(tree.city_admin, campaign, services.NodeFilters())
    assert exc.value.message == "请至少选择一个条件：教材、目录节点、学段、学科、年级、版本或册次。"
    with pytest.raises(services.ServiceError) as exc:
        services.open_nodes(tree.city_admin, campaign, services.NodeFilters(subject="历史"))
    assert exc.value.message == "没有找到符合条件的目录节点，请检查筛选条件。"
    campaign.status = CampaignStatus.CLOSED
    campaign.save()
    with pytest.raises(services.ServiceError) as exc:
        services.close_nodes(tree.city_admin, campaign, services.NodeFilters(subject="语文"))
    assert exc.value.message == "活动“2024年湛江市基础教育精品课遴选”已结束，不能再开放或关闭目录节点。"


# --- pages ---------------------------------------------------------------------------------------------
def test_page_opens_a_textbook_and_says_why_the_old_one_stays_closed(client, tree, campaign, catalog):
    client.force_login(tree.city_admin)
    back = reverse("catalog:nodes") + "?" + urlencode({"campaign": campaign.pk, "grade": "一年级", "subject": "语文"})
    response = client.post(reverse("catalog:campaign_open", args=[campaign.pk]),
                           {"subject": "语文", "grade": "一年级", "next": back}, follow=True)
    assert response.redirect_chain == [(back, 302)]
    html = response.content.decode()
    assert "已开放 49 个目录节点。" in html
    assert "一年级须使用新教材：统编版语文一年级上册（旧教材）未开放" in html
    assert opened(campaign) == leaves(catalog[YUWEN_NEW])


def test_page_opens_and_closes_checked_nodes(client, tree, campaign, catalog):
    client.force_login(tree.province_admin)
    nodes = list(catalog[PHYSICS].nodes.filter(is_leaf=True).order_by("order").values_list("pk", flat=True)[:3])
    response = client.post(reverse("catalog:campaign_open", args=[campaign.pk]), {"node": nodes}, follow=True)
    assert response.redirect_chain == [(reverse("catalog:nodes") + f"?campaign={campaign.pk}", 302)]
    assert "已开放 3 个目录节点。" in response.content.decode()
    response = client.post(reverse("catalog:campaign_close", args=[campaign.pk]), {"node": nodes[:1]}, follow=True)
    assert "已关闭 1 个目录节点。" in response.content.decode()
    assert opened(campaign) == set(nodes[1:])
    response = client.post(reverse("catalog:campaign_open", args=[campaign.pk]), {}, follow=True)
    assert "请至少选择一个条件：教材、目录节点、学段、学科、年级、版本或册次。" in response.content.decode()


def test_page_refuses_an_offsite_next(client, tree, campaign, catalog):
    client.force_login(tree.city_admin)
    response = client.post(reverse("catalog:campaign_open", args=[campaign.pk]),
                           {"subject": "物理", "next": "https://evil.example/"})
    assert response.url == reverse("catalog:nodes") + f"?campaign={campaign.pk}"


def test_textbook_page_opens_the_whole_book(client, tree, campaign, catalog):
    client.force_login(tree.city_admin)
    book = catalog[YUWEN_OLD]
    url = reverse("catalog:textbook", args=[book.pk]) + f"?campaign={campaign.pk}"
    page = client.get(url).content.decode()
    assert "开放本教材全部节点" in page
    response = client.post(reverse("catalog:campaign_open", args=[campaign.pk]), {"textbook": book.pk, "next": url},
                           follow=True)
    assert "一年级须使用新教材：统编版语文一年级上册（旧教材）未开放" in response.content.decode()
    assert opened(campaign) == set()


# --- API ----------------------------------------------------------------------------------------------
def test_api_open_reports_refusals_with_a_token(client, tree, campaign, catalog, bearer):
    response = client.post(api(campaign, "open"), {"grade": "一年级"}, content_type="application/json",
                           **bearer(tree.city_admin))
    assert response.status_code == 200
    old = catalog[YUWEN_OLD]
    assert response.json() == {
        "detail": "已开放 83 个目录节点；一年级须使用新教材：统编版语文一年级上册（旧教材）未开放",
        "opened": 83, "already_open": 0,
        "refused": [{"textbook_id": old.pk, "textbook_label": YUWEN_OLD, "reason": "old_edition", "grade": "一年级",
                     "count": 53, "message": "一年级须使用新教材：统编版语文一年级上册（旧教材）未开放"}]}
    # 统编版语文 (49) + 人教版数学 (24) + 培智 生活适应 (10): special education is outside the rule
    assert len(opened(campaign)) == 83


def test_api_close_and_list_open_nodes(client, tree, campaign, catalog, django_assert_max_num_queries):
    client.force_login(tree.city_admin)
    book = catalog["人教版英语七年级上册"]
    client.post(api(campaign, "open"), {"textbook_ids": [book.pk]}, content_type="application/json")
    with django_assert_max_num_queries(8):
        response = client.get(api(campaign, "open-nodes"))
    body = response.json()
    assert (body["count"], body["num_pages"]) == (17, 1)
    assert [i["label_path"] for i in body["items"]][:4] == [
        "Starter Unit 1 Hello!", "Starter Unit 2 Keep Tidy!", "Starter Unit 3 Welcome!", "Unit 1 You and Me › Section A"]
    assert {i["is_open"] for i in body["items"]} == {True}
    response = client.post(api(campaign, "close"), {"textbook_ids": [book.pk], "q": "Starter"},
                           content_type="application/json")
    assert response.json() == {"detail": "已关闭 3 个目录节点", "closed": 3}
    assert client.get(api(campaign, "open-nodes")).json()["count"] == 14


# --- who may open and close ----------------------------------------------------------------------------
def test_county_admin_cannot_open_nodes_in_the_city_campaign(client, tree, campaign, catalog, bearer):
    client.force_login(tree.county_admin)
    response = client.post(reverse("catalog:campaign_open", args=[campaign.pk]), {"subject": "语文"})
    assert response.status_code == 403
    response = client.post(api(campaign, "open"), {"subject": "语文"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["detail"] == "只有主办单位（湛江市）及其上级的管理员可以开放或关闭本活动的目录节点。"
    response = client.post(api(campaign, "close"), {"subject": "语文"}, content_type="application/json",
                           **bearer(tree.county_admin))
    assert response.status_code == 403
    assert opened(campaign) == set()


@pytest.mark.parametrize("who", ["teacher", "school_admin", "expert"])
def test_others_in_the_city_get_403(client, tree, campaign, catalog, who):
    client.force_login(getattr(tree, who))
    assert client.post(api(campaign, "open"), {"subject": "语文"}, content_type="application/json").status_code == 403
    assert client.post(reverse("catalog:campaign_close", args=[campaign.pk]), {"subject": "语文"}).status_code == 403


def test_another_city_cannot_even_see_the_campaign(client, tree, campaign, other_campaign, catalog):
    client.force_login(tree.other_teacher)  # a 霞山区 teacher sees Zhanjiang's campaign, not Maoming's
    assert client.get(api(other_campaign, "open-nodes")).status_code == 404
    assert client.get(reverse("catalog:nodes") + f"?campaign={other_campaign.pk}").status_code == 404
    assert client.get(api(campaign, "open-nodes")).status_code == 200
    client.force_login(tree.city_admin)
    response = client.post(api(other_campaign, "open"), {"subject": "语文"}, content_type="application/json")
    assert response.status_code == 404
    assert response.json() == {"detail": "未找到该对象，或您无权查看。", "errors": []}


def test_province_and_system_admins_manage_the_city_campaign(client, tree, campaign, catalog):
    for user in (tree.province_admin, tree.sysadmin):
        client.force_login(user)
        response = client.post(api(campaign, "open"), {"subject": "物理"}, content_type="application/json")
        assert response.status_code == 200
    assert len(opened(campaign)) == 26
    assert CatalogNode.objects.filter(openings__campaign=campaign).count() == 26


def test_a_draft_campaign_is_hidden_from_units_below_its_owner(client, tree, campaign, catalog):
    campaign.status = "draft"
    campaign.save()
    client.force_login(tree.county_admin)
    response = client.post(reverse("catalog:campaign_open", args=[campaign.pk]), {"subject": "语文"})
    assert response.status_code == 404
    client.force_login(tree.city_admin)
    response = client.post(reverse("catalog:campaign_open", args=[campaign.pk]), {"subject": "语文"})
    assert response.status_code in (200, 302)
    assert opened(campaign)
