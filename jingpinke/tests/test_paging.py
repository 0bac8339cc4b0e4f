"""jingpinke.paging: bounded counts and keyset cursors, on the lists that use them.

With a count cap smaller than the seeded lists (settings override, so the tests stay small): a
walk by cursor, forward and back, meets every row exactly once and in the list's order, with
ties and NULLs in the sort keys; rows inserted or deleted between two pages neither repeat nor
skip a row; a forged or stale cursor is a Chinese 400 in the API and the first page with a
message on a page; pages say "超过 … 条" instead of a total; query counts stay flat."""

from __future__ import annotations

import math

import pytest
from django.core import signing
from django.utils import timezone

from bench.lists import seed
from courses import services as course_services
from courses.models import Course
from jingpinke.paging import CURSOR_SALT, InvalidCursor, ListPaginator, paginate
from selection import services as selection_services
from selection.models import Entry

pytestmark = pytest.mark.django_db

CAP = 10


@pytest.fixture
def city(settings):
    settings.LIST_COUNT_CAP = CAP
    return seed(40, counties=2, schools_per_county=3)


def walk(qs, per_page, **kwargs):
    """Every row of ``qs`` by cursor: forward from page 1, then back from the last page."""
    page = paginate(qs, per_page, 1, **kwargs)
    forward = [o.pk for o in page.object_list]
    pages = 1
    while page.has_next():
        page = paginate(qs, per_page, cursor=page.next_cursor, **kwargs)
        assert page.number is None and page.object_list
        forward += [o.pk for o in page.object_list]
        pages += 1
    backward = list(reversed([o.pk for o in page.object_list]))
    while page.has_previous():
        page = paginate(qs, per_page, cursor=page.previous_cursor, **kwargs)
        backward += list(reversed([o.pk for o in page.object_list]))
    assert page.number == 1  # the walk back ends on page 1 by number
    return forward, list(reversed(backward)), pages


@pytest.mark.parametrize("page_first", [True, False])
def test_cursor_walk_courses_with_equal_sort_keys(city, page_first):
    qs = course_services.list_courses(city.city_admin)
    # Half the courses share one updated_at: the primary key breaks the tie.
    same = timezone.now()
    Course.objects.filter(pk__in=list(qs.values_list("pk", flat=True)[::2])).update(updated_at=same)
    expected = list(qs.values_list("pk", flat=True))
    assert len(expected) > 3 * 7
    forward, backward, pages = walk(qs, 7, page_first=page_first)
    assert forward == expected
    assert backward == expected
    assert pages == math.ceil(len(expected) / 7)


@pytest.mark.parametrize("sort", ["", "-rank", "county", "-county", "compliance", "title", "-arrived", "state"])
def test_cursor_walk_entries_with_nulls_and_ties(city, sort):
    # rank: NULL for most county entries and tied across schools; county/compliance: many ties.
    f = selection_services.EntryFilter(campaign=city.campaign.pk, sort=sort)
    qs = selection_services.filtered_entries(city.city_admin, f)
    expected = list(qs.values_list("pk", flat=True))
    assert Entry.objects.filter(pk__in=expected, rank=None).exists()
    forward, backward, _pages = walk(qs, 9)
    assert forward == expected
    assert backward == expected


def test_rows_inserted_or_deleted_between_pages_neither_repeat_nor_skip(city):
    qs = course_services.list_courses(city.city_admin)
    first = paginate(qs, 10, 1)
    shown = [c.pk for c in first.object_list]
    # Between the two requests: a row of page 1 is deleted, a row of page 2 is deleted, and a
    # course changed just now moves to the top (before the cursor).
    after = list(qs.values_list("pk", flat=True))[10:]
    Course.objects.filter(pk__in=[shown[3], after[0]]).delete()
    Course.objects.filter(pk=after[5]).update(updated_at=timezone.now())
    second = paginate(qs, 10, cursor=first.next_cursor)
    remaining = [pk for pk in after if pk not in (after[0], after[5])]
    assert [c.pk for c in second.object_list] == remaining[:10]


def test_count_stops_at_the_cap(city, django_assert_max_num_queries):
    qs = course_services.list_courses(city.city_admin)
    paginator = ListPaginator(qs, 3)
    with django_assert_max_num_queries(1):
        assert paginator.count == CAP + 1
    assert paginator.capped and paginator.num_pages == math.ceil(CAP / 3)
    assert paginator.count_label == "超过 10 条，请用筛选缩小范围"
    last = paginator.get_page(999)
    assert last.number == paginator.num_pages and last.has_next() and last.next_page_number() is None
    small = ListPaginator(qs.filter(pk__in=list(qs.values_list("pk", flat=True)[:5])), 3)
    assert (small.count, small.capped, small.num_pages, small.count_label) == (5, False, 2, "共 5 条")


def forged(cursor: str) -> str:
    return cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")


def test_forged_or_stale_cursor(city):
    qs = course_services.list_courses(city.city_admin)
    good = paginate(qs, 5, 1).next_cursor
    for bad in (forged(good), "abc", "", signing.dumps({"o": "x"}, salt=CURSOR_SALT)):
        if bad:
            with pytest.raises(InvalidCursor):
                paginate(qs, 5, cursor=bad)
    # A cursor of the courses list means nothing to the entries list (another ordering): stale.
    entries = selection_services.filtered_entries(city.city_admin, selection_services.EntryFilter())
    with pytest.raises(InvalidCursor):
        paginate(entries, 5, cursor=good)


def test_api_lists_answer_count_capped_and_cursors(client, city):
    client.force_login(city.city_admin)
    body = client.get("/api/v1/courses").json()
    assert (body["count"], body["count_capped"], body["page"], body["num_pages"]) == (CAP + 1, True, 1, 1)
    assert body["previous"] is None and body["next"]
    seen = [c["id"] for c in body["items"]]
    while body["next"]:
        body = client.get("/api/v1/courses", {"cursor": body["next"]}).json()
        assert body["page"] is None
        seen += [c["id"] for c in body["items"]]
    assert seen == list(course_services.list_courses(city.city_admin).values_list("pk", flat=True))
    assert len(seen) == len(set(seen)) > CAP

    entries = client.get("/api/v1/selection/entries", {"sort": "county"}).json()
    assert entries["count_capped"] is True and entries["next"]
    nxt = client.get("/api/v1/selection/entries", {"sort": "county", "cursor": entries["next"]}).json()
    assert [e["id"] for e in nxt["items"]][:1] != [e["id"] for e in entries["items"]][:1]


@pytest.mark.parametrize("url", ["/api/v1/courses", "/api/v1/selection/entries", "/api/v1/orgs/users",
                                 "/api/v1/notifications", "/api/v1/campaigns"])
def test_api_forged_cursor_is_a_chinese_400(client, city, url):
    client.force_login(city.city_admin)
    response = client.get(url, {"cursor": "not-a-cursor"})
    assert response.status_code == 400, response.content
    assert response.json()["detail"] == "翻页参数 cursor 无效或已过期（列表的排序可能已改变），请从第一页重新开始。"


def test_api_stale_cursor_another_sort_is_400(client, city):
    client.force_login(city.city_admin)
    cursor = client.get("/api/v1/selection/entries", {"sort": "county"}).json()["next"]
    response = client.get("/api/v1/selection/entries", {"sort": "title", "cursor": cursor})
    assert response.status_code == 400 and "cursor" in response.json()["detail"]


def test_pages_say_more_than_the_cap_and_page_on_by_cursor(client, city):
    client.force_login(city.city_admin)
    html = client.get("/courses/").content.decode()
    assert "第 1 页，超过 10 条，请用筛选缩小范围" in html
    assert "?cursor=" in html and "下一页" in html  # page 1 is the last numbered page (30 per page > cap)
    cursor = paginate(course_services.list_courses(city.city_admin), course_services.PAGE_SIZE, 1).next_cursor
    html = client.get("/courses/", {"cursor": cursor}).content.decode()
    assert "上一页" in html and "超过 10 条，请用筛选缩小范围" in html
    desk = client.get(f"/selection/?campaign={city.campaign.pk}&held_by={city.city.pk}&per_page=30")
    text = desk.content.decode()
    # The city's own desk holds 4 entries; the whole campaign's list for the city admin is capped.
    assert "共 4 门课程" in text


def test_pages_fall_back_to_the_first_page_on_a_bad_cursor(client, city):
    client.force_login(city.city_admin)
    for url in ("/courses/", f"/selection/?campaign={city.campaign.pk}&held_by={city.county.pk}",
                "/notifications/", "/orgs/users/", "/campaigns/"):
        response = client.get(url, {"cursor": "forged"})
        assert response.status_code == 200, url
        assert "翻页参数 cursor 无效或已过期" in response.content.decode(), url


def test_desk_says_more_than_the_cap(client, settings, city):
    settings.LIST_COUNT_CAP = 3
    client.force_login(city.county_admin)
    html = client.get(f"/selection/?campaign={city.campaign.pk}&held_by={city.county.pk}").content.decode()
    assert "超过 3 门课程，请用筛选缩小范围" in html
    assert "导出全部筛选结果（超过 3 门，Excel）" in html


def test_openapi_documents_cursor_paging(client, city):
    doc = client.get("/api/v1/openapi.json").json()
    for name in ("CoursePage", "EntryPage", "UserPage", "UnitPage", "NotificationPage", "CampaignPage",
                 "UnitHistoryPage", "NodePage", "TextbookPage", "OpenNodePage"):
        props = doc["components"]["schemas"][name]["properties"]
        assert {"count", "count_capped", "page", "num_pages", "next", "previous", "items"} <= set(props), name
    params = {p["name"] for p in doc["paths"]["/api/v1/courses"]["get"]["parameters"]}
    assert {"page", "cursor"} <= params


def list_urls(s):
    c = s.campaign.pk
    return [
        (s.city_admin, "/courses/"),
        (s.city_admin, "/api/v1/courses"),
        (s.teacher, "/api/v1/courses"),
        (s.city_admin, "/api/v1/selection/entries"),
        (s.city_admin, "/api/v1/selection/entries?sort=compliance&q=秋天"),
        (s.city_admin, f"/selection/?campaign={c}&held_by={s.county.pk}"),
        (s.city_admin, f"/selection/campaigns/{c}/units/{s.county.pk}/history/"),
        (s.city_admin, f"/api/v1/selection/campaigns/{c}/units/{s.county.pk}/history"),
        (s.city_admin, "/orgs/users/"),
        (s.city_admin, "/api/v1/orgs/users"),
        (s.city_admin, "/orgs/units/"),
        (s.city_admin, "/api/v1/orgs/units"),
        (s.city_admin, "/notifications/"),
        (s.city_admin, "/api/v1/notifications"),
        (s.city_admin, "/campaigns/"),
        (s.city_admin, "/api/v1/campaigns"),
        (s.city_admin, "/catalog/"),
        (s.city_admin, "/api/v1/catalog/nodes"),
        (s.city_admin, "/api/v1/catalog/textbooks"),
        (s.city_admin, "/originality/"),
        (s.city_admin, "/showcase/"),
    ]


MAX_QUERIES = 30


def test_every_list_pages_in_few_queries_beyond_the_cap(client, settings, city, django_assert_max_num_queries):
    """More rows than the cap (3): page 1 and the next page by cursor, each in a bounded number of
    queries; the cursor page costs no more than page 1 plus one."""
    settings.LIST_COUNT_CAP = 3
    from notifications.models import Notification

    Notification.objects.bulk_create([Notification(recipient=city.city_admin, kind="returned", title=f"通知{i}", body="")
                                      for i in range(8)])
    for user, url in list_urls(city):
        client.force_login(user)
        with django_assert_max_num_queries(MAX_QUERIES):
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)


@pytest.mark.parametrize("q", ["秋", "秋天", "秋天的", "区第2", "2小", "000007", "王0"])
def test_short_and_long_searches_find_the_same_substring_matches(city, q):
    """1–2 characters are tested on each entry's course (no trigram index can narrow them), 3 and
    more go through the trigram-indexed UNION; either way: title, lead teacher or school contains q."""
    f = selection_services.EntryFilter(campaign=city.campaign.pk, q=q)
    found = list(selection_services.filtered_entries(city.city_admin, f).values_list("pk", flat=True))
    everything = selection_services.filtered_entries(city.city_admin, selection_services.EntryFilter(
        campaign=city.campaign.pk)).select_related("course__lead_teacher", "course__school")
    expected = [e.pk for e in everything
                if q in e.course.title or q in e.course.lead_teacher.real_name or q in e.course.school.name]
    assert found == expected and expected


def test_a_list_that_fits_on_its_first_page_is_counted_from_its_rows(city, settings, django_assert_num_queries):
    """Page 1 is read first: a list that fits on it takes its count from its rows (no COUNT query);
    a longer one is counted as before, and the page is the same either way."""
    qs = course_services.list_courses(city.city_admin)
    total = qs.count()
    with django_assert_num_queries(3):  # the page's keys, its rows, their campaigns' levels
        small = paginate(qs, total + 5, 1, page_first=True)
        assert (small.paginator.count, small.paginator.num_pages, small.has_next()) == (min(total, CAP + 1), 1, False)
        assert len(small.object_list) == total
    with django_assert_num_queries(4):  # the page's keys, the count, its rows, their campaigns' levels
        big = paginate(qs, 7, 1, page_first=True)
        assert (big.paginator.count, big.has_next(), big.next_cursor is not None) == (min(total, CAP + 1), True, True)
    assert [o.pk for o in big.object_list] == [o.pk for o in small.object_list][:7]
    settings.LIST_COUNT_CAP = 100  # under the cap: the exact count
    exact = paginate(qs, total + 5, 1, page_first=True).paginator
    assert (exact.count, exact.capped, exact.num_pages) == (total, False, 1)
