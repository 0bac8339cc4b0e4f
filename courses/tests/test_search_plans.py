"""The plans of the search on PostgreSQL (courses/search.py): on the city of
``selection/tests/test_list_plans.py`` (20,000 courses, ``ANALYZE``d), no query of a search —
the bigram counts, the matching entries, the count and the page — reads the courses, the entries
or the users sequentially, whether the search matches few rows (a teacher, a school, a rare word:
read from their ids) or many (秋天, a title word of one course in eight)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from selection.tests.test_list_plans import city, explain, hot_seq_scans  # noqa: F401  (city: the fixture)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

HOT_TABLES = {"courses_course", "selection_entry", "orgs_user", "courses_searchgram"}
WORDS = ["秋天", "江南", "秋天的雨", "王000040", "第3区第7小学", "欧阳", "欧阳老师的课1", "不存在的词", "（1232）"]


def search_seq_scans(client, user, url) -> list[tuple[str, str]]:
    """``hot_seq_scans`` over the search's tables, the count included and held to the same rule as
    every other query (no Seq Scan at all, not even one its LIMIT stops)."""
    return hot_seq_scans(client, user, url, counts=True, tables=HOT_TABLES, bounded_counts=False)


@pytest.mark.parametrize("who", ["city_admin", "county_admin"])
def test_no_search_reads_a_hot_table_sequentially(client, city, who, settings):  # noqa: F811
    """The count too, bounded as in production relative to the scope (the cap at 500 here, where
    the city admin's scope is the whole table: a count of 10,000 would read all of it)."""
    settings.LIST_COUNT_CAP = 500
    c = city.campaign.pk
    failures = {}
    for word in WORDS:
        bad = search_seq_scans(client, getattr(city, who), f"/api/v1/selection/entries?campaign={c}&q={word}")
        if bad:
            failures[word] = sorted(set(bad))
    assert {word: [(t, sql[:40]) for t, sql in bad] for word, bad in failures.items()} == {}


def searchgram_rows(plan: dict) -> list[int]:
    """Rows per loop of every scan of ``courses_searchgram`` in an EXPLAIN ANALYZE plan."""
    rows = [plan.get("Actual Rows", 0)] if plan.get("Relation Name") == "courses_searchgram" else []
    return rows + [n for child in plan.get("Plans", []) for n in searchgram_rows(child)]


@pytest.mark.parametrize("word", ["秋天", "第3区第7小学", "王000040", "欧阳老师的课1"])
def test_the_bigram_counts_read_a_bounded_number_of_index_entries(city, word):  # noqa: F811
    """The first query of a search (each bigram's rows per kind, to pick the rarest) reads at most
    1,000 index entries per bigram and kind, and up to ``FEW + 1`` for a 2-character search (its one
    bigram only has to occur, and be told broad or not): at 5,000 it was most of a full-name search's time (~51,000 entries, 20-35 ms
    at 200 k courses)."""
    from courses import search

    with CaptureQueriesContext(connection) as ctx:
        search._rarest(word)
    (query,) = ctx.captured_queries
    read = searchgram_rows(explain(query["sql"], analyze=True))
    assert read and max(read) <= (search.FEW + 1 if len(word) == 2 else search.RARE_CAP), read
