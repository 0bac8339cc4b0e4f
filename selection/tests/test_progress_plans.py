"""The plans of the progress board and the desk summary on PostgreSQL (issue 12): with a city of
20,000 courses seeded in bulk and ``ANALYZE``d (``VACUUM``ed, as autovacuum leaves a table, so
that the visibility map allows index-only scans), no query of the board page and API or of the
desk page reads the courses or the entries table sequentially, the board's counts read their
counters (``selection/tally.py``) and its picked entries the partial index ``progress_entry_picked``."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from selection.tests.test_list_plans import HOT_TABLES, explain, hot_seq_scans, seq_scans

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

N_COURSES = 20_000


def nodes_of(plan: dict, kind: str) -> list[str]:
    found = [plan.get("Index Name")] if plan.get("Node Type") == kind else []
    for child in plan.get("Plans", []):
        found.extend(nodes_of(child, kind))
    return found


@pytest.fixture
def city(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (query plans); run with JPK_DATABASE_URL=postgres://…")
    from bench.lists import seed

    s = seed(N_COURSES)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE selection_entry")
        cur.execute("ANALYZE")
    return s


def test_the_board_and_the_desk_read_no_table_sequentially(client, city):
    c = city.campaign.pk
    cases = [
        (city.city_admin, f"/selection/campaigns/{c}/progress/"),
        (city.city_admin, f"/api/v1/selection/campaigns/{c}/progress"),
        (city.county_admin, f"/selection/campaigns/{c}/progress/"),
        (city.county_admin, f"/api/v1/selection/campaigns/{c}/progress"),
        (city.county_admin, f"/selection/?campaign={c}&held_by={city.county.pk}"),
        (city.city_admin, f"/selection/?campaign={c}&held_by={city.city.pk}"),
    ]
    failures = {}
    for user, url in cases:
        bad = hot_seq_scans(client, user, url)
        if bad:
            failures[f"{user.username} {url}"] = sorted({(t, sql[:300]) for t, sql in bad})
    assert failures == {}


def index_names(plan: dict) -> set[str]:
    found = {plan["Index Name"]} if plan.get("Index Name") else set()
    for child in plan.get("Plans", []):
        found |= index_names(child)
    return found


def relations(plan: dict) -> set[str]:
    found = {plan["Relation Name"]} if plan.get("Relation Name") else set()
    for child in plan.get("Plans", []):
        found |= relations(child)
    return found


def tally_rows_read(plan: dict) -> int:
    """Rows of ``selection_nodetally`` an EXPLAIN ANALYZE plan read (returned plus filtered out)."""
    read = 0
    if plan.get("Relation Name") == "selection_nodetally":
        read += (plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)
                 + plan.get("Rows Removed by Index Recheck", 0)) * plan.get("Actual Loops", 1)
    return read + sum(tally_rows_read(child) for child in plan.get("Plans", []))


def test_the_board_counts_read_counters_and_the_picked_entries_only(client, city):
    """The counts by state and the node conflicts come from the counters (``selection/tally.py``),
    never from the entries; the conflicts from their partial index; the picked entries (the only
    query of the entries) from ``progress_entry_picked``: what each reads is bounded by the units
    and their quotas, not by the entries declared."""
    client.force_login(city.city_admin)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"/api/v1/selection/campaigns/{city.campaign.pk}/progress").status_code == 200
    sqls = [q["sql"] for q in ctx.captured_queries]
    tallies = [sql for sql in sqls if 'FROM "selection_entrytally"' in sql or 'FROM "selection_nodetally"' in sql]
    assert len(tallies) == 2  # by state and award; the nodes held twice
    for sql in tallies:
        assert not relations(explain(sql)) & HOT_TABLES, sql[:200]
    (conflicts,) = [sql for sql in tallies if "selection_nodetally" in sql]
    # The conflicts read at most the counters of these units (their partial index holds the nodes
    # held twice only; the seeded city puts 20,000 courses on 50 nodes, so every node conflicts
    # here and the planner may read the units' rows by any path), never every unit's counters.
    from orgs.models import Unit
    from selection.models import NodeTally

    children = list(Unit.objects.filter(parent=city.city).values_list("pk", flat=True))
    own = NodeTally.objects.filter(campaign_id=city.campaign.pk, unit_id__in=children).count()
    assert 0 < tally_rows_read(explain(conflicts, analyze=True)) <= own
    entries = [sql for sql in sqls if 'FROM "selection_entry"' in sql and "EXISTS" not in sql]
    assert entries, sqls
    for sql in entries:
        plan = explain(sql)
        assert "progress_entry_picked" in index_names(plan), sql[:300]
        assert not set(seq_scans(plan)) & HOT_TABLES


def test_the_units_behind_are_counted_by_probes_of_the_board_index(client, city):
    """The board page's summary line (``services.behind_count``): the confirmed units (a few rows)
    each probed for one pending entry in ``progress_entry_board``, not their entries read."""
    from django.utils import timezone

    from selection import services
    from selection.models import UnitLevel

    level = city.levels["school"]
    UnitLevel.objects.bulk_create([UnitLevel(campaign=city.campaign, level=level, unit=school,
                                             confirmed_at=timezone.now()) for school in city.schools[:10]])
    with connection.cursor() as cur:
        cur.execute("ANALYZE selection_unitlevel")
    with CaptureQueriesContext(connection) as ctx:
        services.behind_count(city.campaign, city.schools)
    (sql,) = [q["sql"] for q in ctx.captured_queries]
    plan = explain(sql)
    assert "progress_entry_board" in nodes_of(plan, "Index Only Scan"), sql[:300]
    assert not set(seq_scans(plan)) & HOT_TABLES
