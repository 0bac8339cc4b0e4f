"""Counters of the entries, for the progress board and the dashboard (issue 12).

The board shows, for every child unit of a county, city or province, its entries by state and
award and the catalog nodes it holds live twice or more. Counted from the entries, that reads
every entry of every child unit (a province's cities hold ~69,000 at 1 M courses), however good
the index. So two small tables count them as they change:

- ``selection_entrytally`` (campaign, unit, state, awarded) → n: the entries;
- ``selection_nodetally`` (campaign, unit, node) → n: the live entries (pending or recommended)
  on each catalog node; a partial index holds the rows with n > 1 (the node conflicts) only.

They are kept by triggers on ``selection_entry`` (insert, delete, update of the counted columns),
on PostgreSQL and SQLite alike, in the transaction that changes the entry: bulk inserts (the
bench's generator), ``QuerySet.update``, cascaded deletes and raw SQL keep them exact too, and a
rolled-back decision rolls its counts back. Under concurrency each change is ``n = n + 1`` (an
``INSERT … ON CONFLICT DO UPDATE``) on one counter row, which PostgreSQL row-locks until commit:
two admins deciding at once never lose a count (the second waits for the first's row, then adds
to the committed value), and the decisions of one unit already queue on its ``UnitLevel`` row
(``services._locked_unit_level``) before they touch its counters, so they take them in the same
order. SQLite runs one writer at a time.

As with the search's grams (``courses/search.py``), SQLite drops a table's triggers when Django
remakes the table in a later migration, so ``ensure_triggers`` runs after every ``migrate``.
``manage.py rebuild_tallies`` recounts both tables from the entries (and ``--check`` compares).
"""

from __future__ import annotations

from django.db import connection, transaction

from jingpinke.sql import triggers_keeper

ENTRY_TALLY = "selection_entrytally"
NODE_TALLY = "selection_nodetally"
LIVE = ("pending", "recommended")  # EntryState values counted on a node (services: node conflicts)
COLUMNS = ("campaign_id", "unit_id", "state", "awarded", "node_id")
_LIVE_SQL = ", ".join(f"'{s}'" for s in LIVE)


def _fill_statements() -> list[str]:
    return [f"INSERT INTO {ENTRY_TALLY} (campaign_id, unit_id, state, awarded, n) "
            f"SELECT campaign_id, unit_id, state, awarded, COUNT(*) FROM selection_entry "
            f"GROUP BY campaign_id, unit_id, state, awarded",
            f"INSERT INTO {NODE_TALLY} (campaign_id, unit_id, node_id, n) "
            f"SELECT campaign_id, unit_id, node_id, COUNT(*) FROM selection_entry WHERE state IN ({_LIVE_SQL}) "
            f"GROUP BY campaign_id, unit_id, node_id"]


def _changed(old: str = "OLD", new: str = "NEW") -> str:
    return " OR ".join(f"{old}.{c} IS NOT {new}.{c}" for c in COLUMNS)


def _sqlite_statements() -> list[str]:
    add = (f"INSERT INTO {ENTRY_TALLY} (campaign_id, unit_id, state, awarded, n) "
           f"VALUES (NEW.campaign_id, NEW.unit_id, NEW.state, NEW.awarded, 1) "
           f"ON CONFLICT (campaign_id, unit_id, state, awarded) DO UPDATE SET n = n + 1; "
           f"INSERT INTO {NODE_TALLY} (campaign_id, unit_id, node_id, n) "
           f"SELECT NEW.campaign_id, NEW.unit_id, NEW.node_id, 1 WHERE NEW.state IN ({_LIVE_SQL}) "
           f"ON CONFLICT (campaign_id, unit_id, node_id) DO UPDATE SET n = n + 1;")
    remove = (f"UPDATE {ENTRY_TALLY} SET n = n - 1 WHERE campaign_id = OLD.campaign_id AND unit_id = OLD.unit_id "
              f"AND state = OLD.state AND awarded = OLD.awarded; "
              f"UPDATE {NODE_TALLY} SET n = n - 1 WHERE OLD.state IN ({_LIVE_SQL}) AND campaign_id = OLD.campaign_id "
              f"AND unit_id = OLD.unit_id AND node_id = OLD.node_id;")
    return [f"CREATE TRIGGER IF NOT EXISTS selection_entry_tally_ins AFTER INSERT ON selection_entry BEGIN {add} END",
            f"CREATE TRIGGER IF NOT EXISTS selection_entry_tally_upd AFTER UPDATE OF {', '.join(COLUMNS)} "
            f"ON selection_entry WHEN {_changed()} BEGIN {remove} {add} END",
            f"CREATE TRIGGER IF NOT EXISTS selection_entry_tally_del AFTER DELETE ON selection_entry BEGIN {remove} END"]


def _postgresql_statements() -> list[str]:
    same = " AND ".join(f"OLD.{c} IS NOT DISTINCT FROM NEW.{c}" for c in COLUMNS)
    return [f"""CREATE OR REPLACE FUNCTION selection_entry_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND {same} THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        UPDATE {ENTRY_TALLY} SET n = n - 1 WHERE campaign_id = OLD.campaign_id AND unit_id = OLD.unit_id
            AND state = OLD.state AND awarded = OLD.awarded;
        IF OLD.state IN ({_LIVE_SQL}) THEN
            UPDATE {NODE_TALLY} SET n = n - 1 WHERE campaign_id = OLD.campaign_id AND unit_id = OLD.unit_id
                AND node_id = OLD.node_id;
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO {ENTRY_TALLY} (campaign_id, unit_id, state, awarded, n)
            VALUES (NEW.campaign_id, NEW.unit_id, NEW.state, NEW.awarded, 1)
            ON CONFLICT (campaign_id, unit_id, state, awarded) DO UPDATE SET n = {ENTRY_TALLY}.n + 1;
        IF NEW.state IN ({_LIVE_SQL}) THEN
            INSERT INTO {NODE_TALLY} (campaign_id, unit_id, node_id, n)
                VALUES (NEW.campaign_id, NEW.unit_id, NEW.node_id, 1)
                ON CONFLICT (campaign_id, unit_id, node_id) DO UPDATE SET n = {NODE_TALLY}.n + 1;
        END IF;
    END IF;
    RETURN NULL;
END $$""",
            f"CREATE OR REPLACE TRIGGER selection_entry_tally AFTER INSERT OR DELETE OR UPDATE OF {', '.join(COLUMNS)} "
            f"ON selection_entry FOR EACH ROW EXECUTE FUNCTION selection_entry_tally()"]


def install(conn, *, fill: bool) -> None:
    """Create (or re-create) the triggers; ``fill``: also count the existing entries (empty tables)."""
    statements = _postgresql_statements() if conn.vendor == "postgresql" else _sqlite_statements()
    with conn.cursor() as cursor:
        for statement in statements + (_fill_statements() if fill else []):
            cursor.execute(statement)
        if fill and conn.vendor == "postgresql":
            cursor.execute(f"ANALYZE {ENTRY_TALLY}")
            cursor.execute(f"ANALYZE {NODE_TALLY}")


def uninstall(conn) -> None:
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute("DROP TRIGGER IF EXISTS selection_entry_tally ON selection_entry")
            cursor.execute("DROP FUNCTION IF EXISTS selection_entry_tally()")
        else:
            for suffix in ("ins", "upd", "del"):
                cursor.execute(f"DROP TRIGGER IF EXISTS selection_entry_tally_{suffix}")


# post_migrate: put back triggers a table remake dropped (SQLite), once the tallies exist
ensure_triggers = triggers_keeper(ENTRY_TALLY, install)


def rebuild() -> None:
    """Recount both tables from the entries, writers held off meanwhile (PostgreSQL: a SHARE lock
    on the entries, which waits for the running decisions and blocks new ones until commit)."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("LOCK TABLE selection_entry IN SHARE MODE")
            cursor.execute(f"DELETE FROM {ENTRY_TALLY}")
            cursor.execute(f"DELETE FROM {NODE_TALLY}")
            for statement in _fill_statements():
                cursor.execute(statement)


def differences() -> list[tuple]:
    """What the counters say that a recount does not: (table, key, counted, recounted) for each
    key where they differ (a zero counter equals a missing row). [] when they agree."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT campaign_id, unit_id, state, awarded, n FROM {ENTRY_TALLY} WHERE n <> 0")
        entries = {tuple(r[:3]) + (bool(r[3]),): r[4] for r in cursor.fetchall()}
        cursor.execute("SELECT campaign_id, unit_id, state, awarded, COUNT(*) FROM selection_entry "
                       "GROUP BY campaign_id, unit_id, state, awarded")
        recount = {tuple(r[:3]) + (bool(r[3]),): r[4] for r in cursor.fetchall()}
        cursor.execute(f"SELECT campaign_id, unit_id, node_id, n FROM {NODE_TALLY} WHERE n <> 0")
        nodes = {tuple(r[:3]): r[3] for r in cursor.fetchall()}
        cursor.execute(f"SELECT campaign_id, unit_id, node_id, COUNT(*) FROM selection_entry "
                       f"WHERE state IN ({_LIVE_SQL}) GROUP BY campaign_id, unit_id, node_id")
        live = {tuple(r[:3]): r[3] for r in cursor.fetchall()}
    return ([(ENTRY_TALLY, k, entries.get(k, 0), recount.get(k, 0)) for k in sorted(set(entries) | set(recount), key=str)
             if entries.get(k, 0) != recount.get(k, 0)]
            + [(NODE_TALLY, k, nodes.get(k, 0), live.get(k, 0)) for k in sorted(set(nodes) | set(live), key=str)
               if nodes.get(k, 0) != live.get(k, 0)])
