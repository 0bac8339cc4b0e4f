"""jingpinke.paging where the list wants a sort key's NULLs where the database's indexes do not
keep them (the entries' ``rank ASC NULLS LAST`` on SQLite, which keeps NULLs first): the page
reads the ranked rows and the unranked apart, each in its index order, instead of sorting every
row of the list for one page (issue 12: 267,000 entries of a province on SQLite). The pages by
number and by cursor are exactly those of the straightforward ordered query."""

from __future__ import annotations

import math

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.lists import seed
from jingpinke.paging import ListPaginator
from selection import services as selection_services
from selection.models import Entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(settings):
    settings.LIST_COUNT_CAP = 10_000
    return seed(40, counties=2, schools_per_county=3)


@pytest.mark.parametrize("sort", ["", "-rank", "state", "title"])
@pytest.mark.parametrize("per_page", [1, 4, 9, 30])
def test_every_page_by_number_is_the_slice_of_the_ordered_list(city, sort, per_page, monkeypatch):
    monkeypatch.setattr(ListPaginator, "SPLIT_NULLS_FROM", 0)
    f = selection_services.EntryFilter(campaign=city.campaign.pk, sort=sort)
    for user in (city.city_admin, city.county_admin):
        qs = selection_services.filtered_entries(user, f)
        expected = list(qs.values_list("pk", flat=True))
        assert Entry.objects.filter(pk__in=expected, rank=None).exists()
        assert Entry.objects.filter(pk__in=expected, rank__isnull=False).exists()
        paginator = ListPaginator(qs, per_page, page_first=True, split_nulls=True)
        for number in range(1, math.ceil(len(expected) / per_page) + 2):  # and one past the end
            page = paginator.page(number)
            assert [o.pk for o in page.object_list] == expected[(number - 1) * per_page: number * per_page], number
            assert page.has_next() == (number * per_page < len(expected))


def test_a_ranked_list_is_read_without_sorting_it(city, monkeypatch):
    """The plans of the page's queries (page 1, a page by cursor forward and back) on SQLite: no
    temporary B-tree sorts the entries (fails when the page asks for ``rank NULLS LAST`` in one
    query). On PostgreSQL the index keeps NULLs last: one query, as before."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's NULL order")
    monkeypatch.setattr(ListPaginator, "SPLIT_NULLS_FROM", 0)  # the seeded list is short
    f = selection_services.EntryFilter(campaign=city.campaign.pk)
    qs = selection_services.filtered_entries(city.city_admin, f)
    paginator = ListPaginator(qs, 5, page_first=True, split_nulls=True)
    with CaptureQueriesContext(connection) as ctx:
        page = paginator.get_page(1)
        assert paginator.count > 5
        nxt = paginator.cursor_page(page.next_cursor)
        assert paginator.cursor_page(nxt.previous_cursor).number == 1
    keyed = [q["sql"] for q in ctx.captured_queries
             if '"selection_entry"."rank" AS "rank"' in q["sql"] and "COUNT(*)" not in q["sql"]]
    assert keyed
    with connection.cursor() as cursor:
        for sql in keyed:
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            plan = " | ".join(row[-1] for row in cursor.fetchall())
            assert "TEMP B-TREE" not in plan, (sql, plan)
