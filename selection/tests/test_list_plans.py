"""The plans of the hot lists on PostgreSQL (issue 12): with a few 10,000 rows seeded in bulk and
``ANALYZE``d, every query a list page or API list runs is explained, and none may read the
courses or the entries table sequentially (that is what made the lists grow with N). The seed is
``bench.lists.seed``, the same as the benchmark's."""

from __future__ import annotations

import json

import pytest
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


def explain(sql: str) -> dict:
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (FORMAT JSON) " + sql)
        raw = cur.fetchone()[0]
    return (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]


def hot_seq_scans(client, user, url) -> list[tuple[str, str]]:
    """(table, sql) of every Seq Scan of courses or entries in the queries the request runs to
    build its page. The total count of a page-number list (``COUNT(*)``) is left out: counting
    every visible row reads them all by nature (a sequential scan is the cheapest way); the API
    lists' cursor mode does not count."""
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.content[:300])
    bad = []
    for q in ctx.captured_queries:
        sql = q["sql"]
        if not sql.lstrip().upper().startswith("SELECT") or not any(t in sql for t in HOT_TABLES):
            continue
        if sql.lstrip().startswith('SELECT COUNT(*) AS "__count"'):
            continue
        bad.extend((t, sql) for t in seq_scans(explain(sql)) if t in HOT_TABLES)
    return bad


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
