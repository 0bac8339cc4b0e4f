"""The course's areas: the units at depth 1 and 2 on its school's path (issue 12, 1,000,000 courses).

A city admin's courses are the courses whose school lies under his city. Named as a list of the
city's schools (``school_id = ANY(…)``) they are a union of index lookups that must be sorted: a
city of a 1 M province holds ~50,000 courses, sorted for every page (270 ms p50). So each course
carries the ids of the units at depth 1 and 2 of its school's path (``Unit.path``, ``/1/2/23/…``):

- ``area1``: the city, or the school itself when a province owns it;
- ``area2``: the county, or the school itself when a city owns it (NULL above that).

A school lies under the unit U of depth d (1 or 2) exactly when the id at depth d of its path is
U's, so ``area<d> = U`` is U's scope, and the indexes ``(area<d>, -updated_at, -id)`` read a page
of it in the list's order, however large the scope.

The columns are kept by triggers (PostgreSQL and SQLite, as the search's grams and the entry
counters are): on the course, whenever ``school_id`` (or an area column) is written, in insert or
update, so bulk inserts, ``QuerySet.update`` and raw SQL keep them exact; on the unit, when its
path changes (a move rewrites the paths of its subtree in one statement: each moved school
rewrites its courses' areas). SQLite drops a table's triggers when a later migration remakes it,
so ``ensure_triggers`` runs after every ``migrate`` (``CoursesConfig.ready``).
"""

from __future__ import annotations

COLUMNS = ("area1", "area2")
DEPTHS = {1: "area1", 2: "area2"}
WATCHED = ("school_id", *COLUMNS)


def _changed(differs: str) -> str:
    return " OR ".join(f"OLD.{c} {differs} NEW.{c}" for c in WATCHED)


def _sqlite_part(path: str, depth: int) -> str:
    """SQL for the id at ``depth`` of a path like ``/1/2/23/`` (NULL when the path is shorter)."""
    rest = f"substr({path}, 2)"
    for _ in range(depth):
        rest = f"substr({rest}, instr({rest}, '/') + 1)"
    return f"CAST(NULLIF(substr({rest}, 1, instr({rest}, '/') - 1), '') AS INTEGER)"


def _sqlite_statements() -> list[str]:
    def set_areas(path: str, where: str) -> str:
        return (f"UPDATE courses_course SET area1 = {_sqlite_part(path, 1)}, area2 = {_sqlite_part(path, 2)} "
                f"WHERE {where};")

    school_path = "(SELECT path FROM orgs_unit WHERE id = NEW.school_id)"
    return [
        f"CREATE TRIGGER IF NOT EXISTS courses_course_areas_ins AFTER INSERT ON courses_course BEGIN "
        f"{set_areas(school_path, 'id = NEW.id')} END",
        # Only when the school or an area changes (a full ``save`` writes every column: the row is
        # not written twice for nothing); the UPDATE inside sets the areas to their value, so a
        # recursive firing (off by default in SQLite) would find nothing changed and stop.
        f"CREATE TRIGGER IF NOT EXISTS courses_course_areas_upd AFTER UPDATE OF {', '.join(WATCHED)} "
        f"ON courses_course WHEN {_changed('IS NOT')} BEGIN {set_areas(school_path, 'id = NEW.id')} END",
        f"CREATE TRIGGER IF NOT EXISTS orgs_unit_course_areas AFTER UPDATE OF path ON orgs_unit "
        f"WHEN OLD.path IS NOT NEW.path BEGIN {set_areas('NEW.path', 'school_id = NEW.id')} END",
    ]


def _postgresql_statements() -> list[str]:
    def part(path: str, depth: int) -> str:
        return f"NULLIF(split_part({path}, '/', {depth + 2}), '')::bigint"

    return [
        f"""CREATE OR REPLACE FUNCTION courses_course_areas() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT {part('path', 1)}, {part('path', 2)} INTO NEW.area1, NEW.area2 FROM orgs_unit WHERE id = NEW.school_id;
    RETURN NEW;
END $$""",
        "CREATE OR REPLACE TRIGGER courses_course_areas BEFORE INSERT "
        "ON courses_course FOR EACH ROW EXECUTE FUNCTION courses_course_areas()",
        # only when the school or an area changes (a full ``save`` writes every column)
        f"CREATE OR REPLACE TRIGGER courses_course_areas_upd BEFORE UPDATE OF {', '.join(WATCHED)} "
        f"ON courses_course FOR EACH ROW WHEN ({_changed('IS DISTINCT FROM')}) EXECUTE FUNCTION courses_course_areas()",
        f"""CREATE OR REPLACE FUNCTION orgs_unit_course_areas() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE courses_course SET area1 = {part('NEW.path', 1)}, area2 = {part('NEW.path', 2)}
        WHERE school_id = NEW.id;
    RETURN NULL;
END $$""",
        "CREATE OR REPLACE TRIGGER orgs_unit_course_areas AFTER UPDATE OF path ON orgs_unit FOR EACH ROW "
        "WHEN (OLD.path IS DISTINCT FROM NEW.path) EXECUTE FUNCTION orgs_unit_course_areas()",
    ]


def _fill_statement(vendor: str) -> str:
    if vendor == "postgresql":
        # -1 differs from every row's NULL: the update trigger computes the areas of each row
        return "UPDATE courses_course SET area1 = -1 WHERE school_id IS NOT NULL"
    school_path = "(SELECT path FROM orgs_unit WHERE orgs_unit.id = courses_course.school_id)"
    return f"UPDATE courses_course SET area1 = {_sqlite_part(school_path, 1)}, area2 = {_sqlite_part(school_path, 2)}"


def install(conn, *, fill: bool) -> None:
    """Create (or re-create) the triggers; ``fill``: also compute the areas of every existing course."""
    statements = _postgresql_statements() if conn.vendor == "postgresql" else _sqlite_statements()
    with conn.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
        if fill:
            cursor.execute(_fill_statement(conn.vendor))


def uninstall(conn) -> None:
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute("DROP TRIGGER IF EXISTS courses_course_areas ON courses_course")
            cursor.execute("DROP TRIGGER IF EXISTS courses_course_areas_upd ON courses_course")
            cursor.execute("DROP FUNCTION IF EXISTS courses_course_areas()")
            cursor.execute("DROP TRIGGER IF EXISTS orgs_unit_course_areas ON orgs_unit")
            cursor.execute("DROP FUNCTION IF EXISTS orgs_unit_course_areas()")
        else:
            for name in ("courses_course_areas_ins", "courses_course_areas_upd", "orgs_unit_course_areas"):
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


TRIGGERS = {"postgresql": ("courses_course_areas", "courses_course_areas_upd", "orgs_unit_course_areas"),
            "sqlite": ("courses_course_areas_ins", "courses_course_areas_upd", "orgs_unit_course_areas")}


def _installed(conn) -> bool:
    names = TRIGGERS.get(conn.vendor, ())
    table = "pg_trigger WHERE tgname" if conn.vendor == "postgresql" else "sqlite_master WHERE type = 'trigger' AND name"
    with conn.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table} IN ({', '.join(['%s'] * len(names))})", names)
        return cursor.fetchone()[0] == len(names)


def ensure_triggers(using="default", **kwargs) -> None:
    """post_migrate: put back triggers a table remake dropped (SQLite), once the columns exist; when
    any was missing, the courses written meanwhile may hold stale areas: every course's areas are
    computed again (the triggers only act on a change of school or area)."""
    from django.db import connections

    conn = connections[using]
    with conn.cursor() as cursor:
        if "courses_course" not in conn.introspection.table_names(cursor):
            return
        names = {c.name for c in conn.introspection.get_table_description(cursor, "courses_course")}
    if set(COLUMNS) <= names:
        install(conn, fill=not _installed(conn))
