"""A city's and a county's scope on PostgreSQL (issue 12, 1,000,000 courses), on the seeded city of
``selection/tests/test_list_plans.py`` (20,000 courses) with seven of its ten counties moved to a
second city first (the move trigger rewrites their 14,000 courses' areas), so that the city
holds 30 % of the courses and its first county 10 %, as in a province; ``ANALYZE``d.

- Their courses page is one range of the area index (``courses/areas.py``), read in the list's
  order and stopped at the page: no sort of the scope's courses (a 1 M city's ~50,000, 270 ms
  p50), no list of its units, no sequential scan.
- A broad title word's count (in an eighth of the titles) intersects the scope's entries with the
  matching courses from the board's index alone (``progress_entry_board`` INCLUDE course): no
  sequential scan of the entries, no visit of their rows (a 1 M city's search: 257 / 391 ms)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from selection.tests.test_list_plans import city, explain, hot_seq_scans  # noqa: F401  (city: the fixture)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

PAGE_QUERY = 'SELECT "courses_course"."updated_at" AS "updated_at", "courses_course"."id" AS "id"'


def nodes(plan: dict) -> list[dict]:
    return [plan] + [n for child in plan.get("Plans", []) for n in nodes(child)]


@pytest.fixture
def split_city(city):  # noqa: F811
    from courses.models import Course
    from orgs.models import Unit, UnitKind

    other = Unit.objects.create(name="茂名市", code="L440900", kind=UnitKind.CITY, parent=city.province)
    for county in Unit.objects.filter(parent=city.city).order_by("code")[3:]:
        county.parent = other
        county.save()
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    for unit, share in ((city.city, 0.3), (other, 0.7)):
        n = Course.objects.filter(area1=unit.pk).count()
        assert n == Course.objects.filter(school__path__startswith=unit.path).count()
        assert abs(n / Course.objects.count() - share) < 0.01
    return city


def test_a_city_or_county_page_is_a_range_of_its_area_index(client, split_city, settings,
                                                            django_assert_max_num_queries):
    city = split_city
    settings.LIST_COUNT_CAP = 500
    c = city.campaign.pk
    failures = {}
    for who, index in (("city_admin", "courses_course_area1_updated"), ("county_admin", "courses_course_area2_updated")):
        user = getattr(city, who)
        for url in ("/courses/", "/api/v1/courses", "/courses/?page=5", f"/api/v1/courses?campaign={c}"):
            assert hot_seq_scans(client, user, url, counts=True) == [], (who, url)
            client.force_login(user)
            with django_assert_max_num_queries(13), CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            sqls = [q["sql"] for q in ctx.captured_queries]
            page = next(s for s in sqls if s.startswith(PAGE_QUERY))
            plan = explain(page, analyze=True)
            courses = [n for n in nodes(plan) if n.get("Relation Name") == "courses_course"]
            found = {
                "units": [s[:120] for s in sqls if 'FROM "orgs_unit"' in s and '"path"::text LIKE' in s],
                "indexes": [n.get("Index Name") for n in courses],
                "sorts": [n["Node Type"] for n in nodes(plan) if n["Node Type"] in ("Sort", "Incremental Sort")],
                # the page and, on page 5, the rows before it (151): not the scope
                "many rows": sum(n["Actual Rows"] + n.get("Rows Removed by Filter", 0) for n in courses) > 160,
            }
            if found != {"units": [], "indexes": [index], "sorts": [], "many rows": False}:
                failures[f"{who} {url}"] = found
    assert failures == {}


def test_a_broad_search_counts_the_scope_from_the_board_index(client, split_city, django_assert_max_num_queries):
    from selection.models import Entry

    city = split_city
    c = city.campaign.pk
    failures = {}
    for who in ("city_admin", "county_admin"):
        user = getattr(city, who)
        url = f"/api/v1/selection/entries?campaign={c}&q=秋天"
        client.force_login(user)
        with django_assert_max_num_queries(8), CaptureQueriesContext(connection) as ctx:
            body = client.get(url).json()
        assert body["count"] > 0
        # a city's count; a county's: its matches' ids read first, bounded (``narrow_first``), no COUNT
        count = next(q["sql"] for q in ctx.captured_queries
                     if (q["sql"].startswith("SELECT COUNT(*)") and "selection_entry" in q["sql"]) or
                     q["sql"].startswith('SELECT "selection_entry"."id" AS "pk" FROM "selection_entry"'))
        assert count.startswith("SELECT COUNT(*)") == (who == "city_admin")
        plan = explain(count, analyze=True)
        entries = [n for n in nodes(plan) if n.get("Relation Name") == "selection_entry"]
        scope = Entry.objects.filter(campaign_id=c, unit__path__startswith=user.admin_units()[0].path).count()
        found = {"nodes": sorted({(n["Node Type"], n.get("Index Name")) for n in entries}),
                  # the scope's entries at most (from the index; rows per loop are rounded), not the
                 # campaign's (the tables of a test transaction are not vacuumed: the index-only scan
                 # still visits their rows there, not in a vacuumed database)
                 "beyond the scope": sum(n["Actual Rows"] * n["Actual Loops"] for n in entries) > 1.05 * scope}
        # the board index (an Index Scan for a county's ids: they are not in it, its INCLUDE has the
        # course), or, for a city's count, the entries of the matching courses (the planner weighs the
        # two close on the test's city and has picked either); never a sequential read, and either
        # way no more entries than the scope holds
        read = [(node, "course" if index and index.startswith("selection_entry_course_id") else index)
                for node, index in found["nodes"]]
        allowed = {("Index Only Scan", "progress_entry_board"), ("Index Scan", "progress_entry_board")}
        if who == "city_admin":
            allowed |= {("Index Scan", "course"), ("Bitmap Heap Scan", None)}
        if len(read) != 1 or read[0] not in allowed or found["beyond the scope"]:
            failures[who] = found
    assert failures == {}
