"""jingpinke.paging's ``narrow_first`` (a search of the entries API): the list's primary keys are
read first, up to cap + 1; they are the count, and when they fit under the cap the pages are read
among them, sorted, instead of walking the list's sort index for sparse matches (issue 12: a broad
word in a county of a 1,000,000-course province, 290–550 ms). The pages by number and by cursor,
forward and back, and the count are exactly those of the list without it; beyond the cap it pages
as before and says the count is capped. No more queries than without it."""

from __future__ import annotations

import math
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.lists import seed
from jingpinke.paging import ListPaginator
from selection import services as selection_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(settings):
    settings.LIST_COUNT_CAP = 10_000
    return seed(40, counties=2, schools_per_county=3)


def _walk(paginator: ListPaginator) -> list[int]:
    """Every row, page by cursor to the end, then back again to page 1 (checked on the way)."""
    page = paginator.get_page(1)
    pages = [[o.pk for o in page.object_list]]
    while page.next_cursor:
        page = paginator.cursor_page(page.next_cursor)
        pages.append([o.pk for o in page.object_list])
    back = len(pages) - 1
    while page.previous_cursor:
        page = paginator.cursor_page(page.previous_cursor)
        back -= 1
        assert [o.pk for o in page.object_list] == pages[back]
    return [pk for rows in pages for pk in rows]


@pytest.mark.parametrize("sort", ["", "-rank", "title", "county", "-arrived"])
@pytest.mark.parametrize("per_page", [1, 3, 7])
@pytest.mark.parametrize("page_first", [True, False])  # the page among the ids alone, or the list's query narrowed
def test_a_narrowed_search_pages_exactly_as_the_list(city, sort, per_page, page_first):
    for user in (city.city_admin, city.county_admin):
        f = selection_services.EntryFilter(campaign=city.campaign.pk, sort=sort, q="秋天")
        qs = selection_services.filtered_entries(user, f)
        expected = list(qs.values_list("pk", flat=True))
        assert len(expected) > 3
        narrowed = ListPaginator(qs, per_page, page_first=page_first, split_nulls=True, narrow_first=True)
        assert narrowed.count == len(expected) and not narrowed.capped
        for number in range(1, math.ceil(len(expected) / per_page) + 1):
            page = narrowed.page(number)
            assert [o.pk for o in page.object_list] == expected[(number - 1) * per_page: number * per_page]
        assert _walk(ListPaginator(qs, per_page, page_first=page_first, split_nulls=True, narrow_first=True)) == expected


def test_beyond_the_cap_it_pages_as_before_and_says_capped(city):
    f = selection_services.EntryFilter(campaign=city.campaign.pk, q="秋天")
    qs = selection_services.filtered_entries(city.city_admin, f)
    expected = list(qs.values_list("pk", flat=True))
    cap = len(expected) // 2
    narrowed = ListPaginator(qs, 4, cap=cap, page_first=True, narrow_first=True)
    assert narrowed.capped and narrowed.count == cap + 1
    assert [o.pk for o in narrowed.get_page(2).object_list] == expected[4:8]
    assert _walk(ListPaginator(qs, 4, cap=cap, page_first=True, narrow_first=True)) == expected


def test_no_match_reads_nothing_more(city, django_assert_num_queries, django_assert_max_num_queries):
    f = selection_services.EntryFilter(campaign=city.campaign.pk, q="没有这个词")
    qs = selection_services.filtered_entries(city.county_admin, f)
    paginator = ListPaginator(qs, 30, page_first=True, narrow_first=True)
    with django_assert_max_num_queries(1):  # the ids at most; no page, no count
        page = paginator.get_page(1)
    assert list(page.object_list) == [] and paginator.count == 0
    with django_assert_num_queries(0):
        assert paginator.count == 0


# the scope's filter: IN (subquery), or ``= ANY(ARRAY(subquery))`` (a county's, on PostgreSQL)
SCOPED = re.compile(r'"selection_entry"\."unit_id" (IN|= ANY\(ARRAY)\b')


def test_only_a_county_or_school_search_reads_its_ids_first(client, city):
    """A city's (or the province's) matches lie dense along the sort index: its search pages as
    before (a COUNT, no id read first); a county's reads its ids first."""
    def reads(user):
        client.force_login(user)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/api/v1/selection/entries?campaign={city.campaign.pk}&q=秋天").status_code == 200
        return ([q for q in ctx.captured_queries if q["sql"].startswith("SELECT COUNT(*)")],
                [q for q in ctx.captured_queries if q["sql"].startswith('SELECT "selection_entry"."id" AS "pk" FROM')
                 and SCOPED.search(q["sql"])])  # the scope's matches (not the search's own)
    counts, ids = reads(city.city_admin)
    assert not ids  # (its few matches fit on the first page: counted from the rows, no COUNT either)
    counts, ids = reads(city.county_admin)
    assert ids and not counts


def test_the_api_search_reads_its_ids_first_and_no_count(client, city):
    """The entries API's search: the matches' ids (unordered, bounded), the page among them, its
    rows; no COUNT query. The answer equals the list's first page and count."""
    client.force_login(city.county_admin)
    f = selection_services.EntryFilter(campaign=city.campaign.pk, q="秋天")
    expected = list(selection_services.filtered_entries(city.county_admin, f).values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as ctx:
        body = client.get(f"/api/v1/selection/entries?campaign={city.campaign.pk}&q=秋天").json()
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert not [s for s in sqls if s.startswith("SELECT COUNT(*)")], sqls
    assert body["count"] == len(expected)
    assert [item["id"] for item in body["items"]] == expected[:30]
