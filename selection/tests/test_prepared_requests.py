"""Prepared statements in a county admin's requests of the locust run (jingpinke/prepared.py, on
PostgreSQL): the token, the memberships, a page's rows by their ids and a decision's keyed
statements are prepared; the entries list's count and page and its search, whose plans depend on
the admin's scope, never are."""

import itertools
import json

import pytest
from django.db import connection

from selection.tests.helpers import entry_at
from selection.tests.test_admin_requests import spread  # noqa: F401 (fixture)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="prepared statements are PostgreSQL's (the suite runs on SQLite here)"),
]
BASE = "/api/v1/selection"


_forgets = itertools.count()


def forget_prepared() -> None:
    """No statement prepared on this connection. psycopg forgets its own when the server answers
    DEALLOCATE ALL, but looks only at a statement text it has not run before: hence the number."""
    with connection.cursor() as cursor:
        cursor.execute(f"DEALLOCATE ALL -- {next(_forgets)}")


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_the_list_and_its_search_are_planned_for_their_values(client, tree, spread, bearer):  # noqa: F811
    auth = bearer(tree.county_admin)
    forget_prepared()
    for q in ("", "", "", "县级", "县级", "县级"):
        r = client.get(f"{BASE}/entries", {"campaign": spread[0].campaign_id, "q": q}, **auth)
        assert r.status_code == 200 and r.json()["count"] > 0
    statements = prepared_statements()
    assert any("api_apitoken" in s for s in statements)  # the token's user: every API request
    assert any("orgs_membership" in s for s in statements)  # the user's memberships: every request
    # the page's rows, read by their ids, are keyed too (jingpinke.sql.Compiled); the count, the
    # page's ids and the search's matches are not
    by_ids = [s for s in statements if '"selection_entry"."id" = ANY($1' in s]
    assert by_ids
    assert not [s for s in statements if ("selection_entry" in s or "courses_searchgram" in s) and s not in by_ids]


def test_a_decisions_keyed_statements_are_prepared(client, tree, spread, bearer):  # noqa: F811
    auth = bearer(tree.county_admin)
    pk = entry_at(spread[1], "county").pk
    forget_prepared()
    for _ in range(3):
        for action in ("recommend", "undo"):
            r = client.post(f"{BASE}/entries/{pk}/{action}", json.dumps({}), content_type="application/json", **auth)
            assert r.status_code == 200, r.content
    statements = prepared_statements()
    assert [s for s in statements if 'FROM "selection_entry"' in s and "$1" in s]
    assert [s for s in statements if s.startswith('INSERT INTO "audit_event"')]
