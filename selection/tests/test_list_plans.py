"""The plans of the hot lists on PostgreSQL (issue 12): with a few 10,000 rows seeded in bulk and
``ANALYZE``d, every query a list page or API list runs is explained, and none may read the
courses or the entries table sequentially (that is what made the lists grow with N). The seed is
``bench.lists.seed``, the same as the benchmark's."""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

HOT_TABLES = {"courses_course", "selection_entry"}
N_COURSES = 20_000


def seq_scans(plan: dict) -> list[str]:
    """Relations read by a Seq Scan anywhere in an EXPLAIN (FORMAT JSON) plan."""
    found = []
    if plan.get("Node Type") == "Seq Scan":
        found.append(plan.get("Relation Name"))
    for child in plan.get("Plans", []):
        found.extend(seq_scans(child))
    return found


def explain(sql: str, *, analyze: bool = False) -> dict:
    with connection.cursor() as cur:
        cur.execute(("EXPLAIN (ANALYZE, FORMAT JSON) " if analyze else "EXPLAIN (FORMAT JSON) ") + sql)
        raw = cur.fetchone()[0]
    return (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]


def hot_seq_scans(client, user, url, *, counts: bool = False, tables=HOT_TABLES,
                  bounded_counts: bool = True) -> list[tuple[str, str]]:
    """(table, sql) of every Seq Scan of ``tables`` (courses and entries) in the queries the
    request runs to build its page. The count (``COUNT(*)``, bounded by ``JPK_LIST_COUNT_CAP``) is
    left out unless ``counts``: on a list smaller than the cap it reads every visible row by nature.
    ``bounded_counts``: a counted count may scan up to its cap (see below); False: no Seq Scan at
    all, as for any other query."""
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.content[:300])
    bad = []
    for q in ctx.captured_queries:
        sql = q["sql"]
        if not sql.lstrip().upper().startswith("SELECT") or not any(t in sql for t in tables):
            continue
        # a count, or a search's matching ids read before its page (``narrow_first``): unordered and
        # bounded like a count, which they replace
        is_count = sql.lstrip().startswith("SELECT COUNT(*)") or bool(BOUNDED_IDS.fullmatch(sql.strip()))
        if not counts and is_count:
            continue
        if is_count and bounded_counts:
            # A bounded count stops after cap + 1 rows: a Seq Scan that the LIMIT stops there (the
            # scope is most of the table, e.g. a city admin on the seeded city) reads O(cap), not the
            # table; what it may not do is read on through the table (the rows it threw away count).
            limit = 2 * (settings.LIST_COUNT_CAP + 1)
            bad.extend((t, sql) for t, read in seq_scan_reads(explain(sql, analyze=True))
                       if t in tables and read > limit)
            continue
        bad.extend((t, sql) for t in seq_scans(explain(sql)) if t in tables)
    return bad


BOUNDED_IDS = re.compile(r'SELECT "\w+"\."id" AS "pk" FROM (?:(?!ORDER BY).)* LIMIT \d+', re.S)


def seq_scan_reads(plan: dict) -> list[tuple[str, int]]:
    """(relation, rows read) of every Seq Scan in an EXPLAIN ANALYZE plan: the rows it returned and
    those its filter threw away, over all its loops."""
    found = []
    if plan.get("Node Type") == "Seq Scan":
        loops = plan.get("Actual Loops", 1)
        found.append((plan.get("Relation Name"),
                      (plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)) * loops))
    for child in plan.get("Plans", []):
        found.extend(seq_scan_reads(child))
    return found


@pytest.fixture
def city(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (query plans); run with JPK_DATABASE_URL=postgres://…")
    from bench.lists import seed

    s = seed(N_COURSES)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
        # The SSD setting README recommends for production (the default, 4, models spinning disks);
        # local to the test's transaction.
        cur.execute("SET LOCAL random_page_cost = 1.1")
    return s


def test_no_sequential_scan_of_courses_or_entries_on_the_hot_lists(client, city):
    c = city.campaign.pk
    cases = [
        (city.city_admin, "/api/v1/selection/entries"),
        (city.county_admin, "/api/v1/selection/entries"),
        (city.city_admin, f"/api/v1/selection/entries?campaign={c}&page=50"),
        (city.city_admin, "/api/v1/selection/entries?compliance=fail"),
        (city.city_admin, f"/selection/?campaign={c}&held_by={city.city.pk}"),
        (city.city_admin, "/courses/"),
        (city.city_admin, "/courses/?page=20"),
        (city.county_admin, "/courses/"),
        (city.teacher, "/courses/"),
        (city.city_admin, "/api/v1/courses"),
        (city.city_admin, "/api/v1/selection/entries?q=秋天的雨（1232）"),  # a title
        (city.city_admin, "/api/v1/selection/entries?q=王000040"),  # a teacher
        (city.city_admin, "/api/v1/selection/entries?q=第3区第7小学"),  # a school
    ]
    failures = {}
    for user, url in cases:
        bad = hot_seq_scans(client, user, url)
        if bad:
            failures[f"{user.username} {url}"] = bad
    assert {url: sorted({(t, sql[:300]) for t, sql in bad}) for url, bad in failures.items()} == {}



def cursor_cases_without_seq_scans(client, cases, *, counts: bool) -> dict:
    failures = {}
    for user, url, params in cases:
        client.force_login(user)
        body = client.get(url, params).json()
        assert body["next"], (url, params)
        query = "&".join(f"{k}={v}" for k, v in params.items() if k != "page")
        bad = hot_seq_scans(client, user, f"{url}?{query}&cursor={body['next']}", counts=counts)
        if bad:
            failures[f"{user.username} {url} {params}"] = sorted({(t, sql[:300]) for t, sql in bad})
    return failures


def test_cursor_pages_and_bounded_counts_read_no_table_sequentially(client, city, settings):
    """Keyset pages (``?cursor=`` past page 10, in the ranked and in the unranked part of the
    entries) and the bounded ``COUNT(*)`` of a list larger than the cap: no Seq Scan of courses
    or entries, the count included; a 2-character search's page (its count reads the scope)."""
    settings.LIST_COUNT_CAP = 500
    c = city.campaign.pk
    entries = "/api/v1/selection/entries"
    cases = [
        (city.city_admin, entries, {"campaign": c}),
        (city.city_admin, entries, {"campaign": c, "page": 10}),
        (city.city_admin, entries, {"campaign": c, "level": "city", "page": 10}),  # unranked: rank IS NULL
        (city.county_admin, entries, {"campaign": c, "held_by": city.county.pk}),
    ]
    assert cursor_cases_without_seq_scans(client, cases, counts=True) == {}
    short = [(city.city_admin, entries, {"campaign": c, "q": "秋天"})]
    assert cursor_cases_without_seq_scans(client, short, counts=False) == {}


def test_courses_bounded_count_reads_no_table_sequentially(client, city, settings):
    """A county's courses (a tenth of the seeded city) are read by the school index and sorted
    (courses.services ``_listed``), the bounded count too, not by walking or scanning every
    course. (The city admin's scope is the whole table here: his page walks the newest-first
    index, checked by the test above, and his bounded count stops after cap + 1 rows.)"""
    settings.LIST_COUNT_CAP = 500
    cases = [(city.county_admin, "/api/v1/courses", {}),
             (city.county_admin, "/api/v1/courses", {"campaign": city.campaign.pk, "page": 3})]
    assert cursor_cases_without_seq_scans(client, cases, counts=True) == {}


def removed_by_filter(plan: dict, table: str) -> int:
    """Rows of ``table`` an EXPLAIN ANALYZE plan read and then threw away (Filter)."""
    n = plan.get("Rows Removed by Filter", 0) * plan.get("Actual Loops", 1) if plan.get("Relation Name") == table else 0
    return n + sum(removed_by_filter(child, table) for child in plan.get("Plans", []))


def test_a_deep_keyset_page_reads_its_page_not_the_rows_before_it(client, city):
    """Past page 10 of the ranked entries and of the unranked ones (``rank IS NULL``, after all
    ranked): the cursor page's query starts its index range at the cursor (``campaign_id`` is
    fixed by the filter, so the range is on ``(rank, id)``) instead of filtering its way there."""
    c = city.campaign.pk
    client.force_login(city.city_admin)
    for params in ({"campaign": c, "page": 10}, {"campaign": c, "level": "city", "page": 10},
                   {"campaign": c, "level": "county", "page": 200}):
        body = client.get("/api/v1/selection/entries", params).json()
        query = {k: v for k, v in params.items() if k != "page"}
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/api/v1/selection/entries", {**query, "cursor": body["next"]})
        assert response.status_code == 200
        ids_query = next(q["sql"] for q in ctx.captured_queries
                         if q["sql"].startswith('SELECT "selection_entry"."campaign_id" AS "campaign_id"'))
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + ids_query)
            raw = cur.fetchone()[0]
        plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
        assert removed_by_filter(plan, "selection_entry") < 100, params


def loops_of(plan: dict, table: str) -> list[int]:
    """How many times each node reading ``table`` ran in an EXPLAIN ANALYZE plan."""
    own = [plan.get("Actual Loops", 1)] if plan.get("Relation Name") == table else []
    return own + [n for child in plan.get("Plans", []) for n in loops_of(child, table)]


def test_a_county_desk_reads_its_units_once_not_once_per_entry(client, city):
    """A county admin's entries (sparse along the campaign's rank index: a county holds ~1/120 of a
    province's) are filtered by the array of his units (``jingpinke.sql.InSubqueryArray``): the
    units are read once and his entries come from the (unit, campaign, rank) index, instead of a
    walk along the campaign's rank index that looked up the unit of every entry it passed (6,860
    probes, 14 ms, for a county's first page at 200 k). A city admin's scope is dense along that
    index: his list keeps the walk, which stops at the page."""
    c = city.campaign.pk
    for params in ({"campaign": c}, {"campaign": c, "q": "秋天"}, {"campaign": c, "state": "pending"}):
        client.force_login(city.county_admin)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/api/v1/selection/entries", params)
        assert response.status_code == 200 and response.json()["count"] > 0, params
        scoped = [q["sql"] for q in ctx.captured_queries
                  if q["sql"].startswith("SELECT") and '"orgs_unit" U0' in q["sql"]]
        assert scoped, params
        for sql in scoped:
            assert "= ANY(ARRAY(SELECT" in sql, (params, sql[:300])
            assert loops_of(explain(sql, analyze=True), "orgs_unit") == [1], (params, sql[:300])
    client.force_login(city.city_admin)
    with CaptureQueriesContext(connection) as ctx:
        client.get("/api/v1/selection/entries", {"campaign": c})
    assert not any("ANY(ARRAY(" in q["sql"] for q in ctx.captured_queries)
