"""Search of courses by title, lead teacher's name and school's name: a bigram index of the three texts.

Django's ``icontains`` is a case-insensitive substring test (``UPPER(col) LIKE UPPER('%q%')`` on
PostgreSQL, ``col LIKE '%q%'`` on SQLite, which folds ASCII letters only). No B-tree serves it,
and pg_trgm's trigrams cannot narrow a 2-character search (``LIKE '%分数%'`` has no whole trigram:
the index is read in full), yet 2-character Chinese words (分数, 函数, 古诗) are what users type.
SQLite has no index for it at all. So every two consecutive characters of each text, folded
the way ``icontains`` folds them, are a row of ``SearchGram`` (kind, gram, object id), primary key
(kind, gram, obj_id):

- first, one query counts, for each kind and each bigram of the search, its rows up to
  ``RARE_CAP`` (index only; up to ``FEW + 1`` for a 2-character search, which has nothing to choose
  but must know whether its word is broad, see ``rows_matching``): a
  kind missing one of the bigrams cannot match and is left out;
- a 2-character search is one bigram: its rows are exactly the objects whose text contains it
  (the fold is the database's own, so ``fold(text)`` contains ``fold(q)`` exactly when
  ``icontains`` matches), read from the primary key alone;
- a longer one takes the two rarest bigrams of each kind as the candidates, which ``icontains``
  then checks on the column itself, so the rows are exactly those of the plain substring test;
- 1 character: no bigram; the caller keeps its scan (``selection.services._search``);
- ``rows_matching`` turns the courses into a filter of a list's rows: few matches (at most
  ``FEW`` rows) become a list of primary keys, read first; more stay subqueries.

The rows are kept by triggers on the three tables (insert, update of the column, delete), on
PostgreSQL and SQLite alike, so bulk inserts, ``QuerySet.update`` and raw SQL keep them exact
too. SQLite drops a table's triggers when Django remakes the table in a later migration, so
``ensure_triggers`` runs again after every ``migrate`` (``CoursesConfig.ready``); the remake copies
the rows unchanged, so the grams stay right.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Q, QuerySet

from jingpinke.sql import triggers_keeper

TABLE = "courses_searchgram"
SEQ = "courses_searchgram_n"  # SQLite: the positions 1..SEQ_MAX a trigger cuts a text at
SEQ_MAX = 1000  # longer than any searched column (tests check max_length)
# A bigram's rows are counted up to this many to pick the rarest. Counting is what a search of a
# school's or a teacher's full name spent most on (7 bigrams × 3 kinds, most of them common: at
# 5,000 the count read ~51,000 index entries, 20-35 ms on PostgreSQL at 200 k); past 1,000 the
# pick rarely changes what the two candidate lists cost, and a 2-character search only asks
# whether its one bigram occurs (LIMIT 1).
RARE_CAP = 1000
FEW = 1000  # a search matching at most this many rows filters by their ids (``rows_matching``)
# kind, table, column
SOURCES = (("c", "courses_course", "title"), ("u", "orgs_user", "real_name"), ("s", "orgs_unit", "name"))
TITLE, TEACHER, SCHOOL = "c", "u", "s"


# --- upkeep: triggers and the initial fill ------------------------------------------------------------
def _fold(vendor: str) -> str:
    return "UPPER" if vendor == "postgresql" else "LOWER"


def _sqlite_grams(text: str) -> str:
    return f"SELECT substr(lower({text}), n, 2) FROM {SEQ} WHERE n < length({text})"


def _sqlite_statements(fill: bool) -> list[str]:
    sql = [f"CREATE TABLE IF NOT EXISTS {SEQ} (n integer PRIMARY KEY)",
           f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {SEQ_MAX}) "
           f"INSERT OR IGNORE INTO {SEQ} (n) SELECT n FROM s"]
    for kind, table, column in SOURCES:
        insert = (f"INSERT OR IGNORE INTO {TABLE} (kind, gram, obj_id) "
                  f"SELECT '{kind}', substr(lower(NEW.{column}), n, 2), NEW.id FROM {SEQ} WHERE n < length(NEW.{column})")
        delete = (f"DELETE FROM {TABLE} WHERE kind = '{kind}' AND obj_id = OLD.id "
                  f"AND gram IN ({_sqlite_grams(f'OLD.{column}')})")
        sql += [f"CREATE TRIGGER IF NOT EXISTS {table}_grams_ins AFTER INSERT ON {table} BEGIN {insert}; END",
                f"CREATE TRIGGER IF NOT EXISTS {table}_grams_upd AFTER UPDATE OF id, {column} ON {table} "
                f"WHEN OLD.{column} IS NOT NEW.{column} OR OLD.id IS NOT NEW.id BEGIN {delete}; {insert}; END",
                f"CREATE TRIGGER IF NOT EXISTS {table}_grams_del AFTER DELETE ON {table} BEGIN {delete}; END"]
        if fill:
            sql.append(f"INSERT OR IGNORE INTO {TABLE} (kind, gram, obj_id) SELECT '{kind}', "
                       f"substr(lower(x.{column}), n, 2), x.id FROM {table} x JOIN {SEQ} ON n < length(x.{column})")
    return sql


def _postgresql_statements(fill: bool) -> list[str]:
    sql = ["CREATE OR REPLACE FUNCTION courses_grams(t text) RETURNS SETOF text LANGUAGE sql IMMUTABLE "
           "PARALLEL SAFE AS $$ SELECT DISTINCT substr(upper(t), n, 2) FROM generate_series(1, length(t) - 1) n $$"]
    for kind, table, column in SOURCES:
        sql += [f"""CREATE OR REPLACE FUNCTION {table}_grams() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.{column} IS NOT DISTINCT FROM NEW.{column} AND OLD.id = NEW.id THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM {TABLE} WHERE kind = '{kind}' AND obj_id = OLD.id AND gram IN (SELECT courses_grams(OLD.{column}));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO {TABLE} (kind, gram, obj_id) SELECT '{kind}', g, NEW.id FROM courses_grams(NEW.{column}) g
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$""",
                f"CREATE OR REPLACE TRIGGER {table}_grams AFTER INSERT OR DELETE OR UPDATE OF id, {column} "
                f"ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_grams()"]
        if fill:
            sql.append(f"INSERT INTO {TABLE} (kind, gram, obj_id) SELECT '{kind}', g, x.id FROM {table} x, "
                       f"courses_grams(x.{column}) g ON CONFLICT DO NOTHING")
    return sql


def install(conn, *, fill: bool) -> None:
    """Create (or re-create) the triggers; ``fill``: also add the grams of every existing row."""
    statements = _postgresql_statements(fill) if conn.vendor == "postgresql" else _sqlite_statements(fill)
    with conn.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
        if fill and conn.vendor == "postgresql":
            cursor.execute(f"ANALYZE {TABLE}")


def uninstall(conn) -> None:
    with conn.cursor() as cursor:
        for _kind, table, _column in SOURCES:
            if conn.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_grams ON {table}")
                cursor.execute(f"DROP FUNCTION IF EXISTS {table}_grams()")
            else:
                for suffix in ("ins", "upd", "del"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {table}_grams_{suffix}")
        if conn.vendor == "postgresql":
            cursor.execute("DROP FUNCTION IF EXISTS courses_grams(text)")
        else:
            cursor.execute(f"DROP TABLE IF EXISTS {SEQ}")


# post_migrate: put back triggers a table remake dropped (SQLite), once the grams table exists
ensure_triggers = triggers_keeper(TABLE, install)


# --- reading --------------------------------------------------------------------------------------------
def _rarest(q: str, sizes: dict | None = None) -> dict[str, list[str]]:
    """The folded bigrams of ``q`` (2+ characters), per kind, rarest first; a kind none of whose
    texts holds one of them (so none can contain ``q``) is left out. One query. ``sizes``: filled
    with each kept kind's rows of its rarest bigram (up to ``RARE_CAP``): for a 2-character ``q``
    the number of its matching texts."""
    fold = _fold(connection.vendor)
    # one bigram: nothing to choose, only whether it occurs and whether it is broad (more than FEW)
    cap = FEW + 1 if len(q) == 2 else RARE_CAP
    grams = " UNION ".join(f"SELECT substr({fold}(%s), {i}, 2) AS g" for i in range(1, len(q)))
    counts = ", ".join(f"(SELECT COUNT(*) FROM (SELECT 1 FROM {TABLE} WHERE kind = '{kind}' AND gram = grams.g "
                       f"LIMIT {cap}) t_{kind})" for kind, _table, _column in SOURCES)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT grams.g, {counts} FROM ({grams}) grams", [q] * (len(q) - 1))
        rows = cursor.fetchall()
    rarest = {}
    for i, (kind, _table, _column) in enumerate(SOURCES, start=1):
        if all(row[i] for row in rows):
            rarest[kind] = [row[0] for row in sorted(rows, key=lambda row: (row[i], row[0]))]
            if sizes is not None:
                sizes[kind] = min(row[i] for row in rows)
    return rarest


def _holding(kind: str, grams) -> QuerySet:
    from courses.models import SearchGram

    return SearchGram.objects.filter(kind=kind, gram=grams).values_list("obj_id", flat=True)


def matching_parts(q: str, sizes: dict | None = None) -> list[QuerySet]:
    """Ids of the courses whose title, lead teacher's name or school's name contains ``q``
    (case-insensitive substring, exactly ``icontains``), for ``q`` of at least 2 characters: one
    query of ids per kind that can match (title, teacher, school), each read from the bigram index
    (see the module's docstring); none if no text can contain ``q``. ``sizes``: see ``_rarest``."""
    from courses.models import Course
    from orgs.models import Unit, User

    if len(q) < 2:
        raise ValueError("matching_parts needs at least 2 characters")
    rarest = _rarest(q, sizes)

    def narrowed(model, kind, column):
        if len(q) == 2:  # one bigram: its rows are exactly the matches
            return _holding(kind, rarest[kind][0])
        qs = model.objects.all()
        for gram in rarest[kind][:2]:
            qs = qs.filter(pk__in=_holding(kind, gram))
        return qs.filter(**{f"{column}__icontains": q}).order_by().values_list("pk", flat=True)

    parts = []
    if TITLE in rarest:
        parts.append(narrowed(Course, TITLE, "title"))
    if TEACHER in rarest:
        parts.append(Course.objects.filter(lead_teacher_id__in=narrowed(User, TEACHER, "real_name")).order_by().values_list("pk", flat=True))
    if SCHOOL in rarest:
        parts.append(Course.objects.filter(school_id__in=narrowed(Unit, SCHOOL, "name")).order_by().values_list("pk", flat=True))
    return parts


def matching_courses(q: str) -> QuerySet:
    """The ids of ``matching_parts`` as one query (a UNION)."""
    from courses.models import Course

    parts = matching_parts(q)
    if not parts:
        return Course.objects.none().values_list("pk", flat=True)
    first, *rest = parts
    return first.union(*rest) if rest else first


def rows_matching(model, q: str, field: str = "course_id") -> Q:
    """A filter of ``model``'s rows whose course (``field``: its id) matches ``q`` (2+ characters).

    The matching rows' primary keys are read first, at most ``FEW`` + 1 of them, from the
    courses the index gives (one query, driven by the index on ``field``): a search that matches
    few rows (a teacher, a school, a rare word) becomes ``pk IN (those ids)``: PostgreSQL reads
    them by primary key; SQLite without statistics (no ``ANALYZE``) still walks the scope's
    entries by its covering index, but tests each against that short list (a province: 267,000
    index entries, ~90 ms under load; with ``ANALYZE`` it reads the ids, ~20 ms). A broad one (分数: 6 % of the courses) filters by the index
    queries themselves (``course_id IN (…)``, one per kind that can match, joined by OR), which
    the planner reads from either side: from the scope's rows of a county, from the matches for a
    province.

    A 2-character word held by more than ``FEW`` texts of one kind (分数: 12,500 titles at 200 k)
    is broad: its rows are not read first (they would be more than ``FEW``; reading 1,001 of them
    took 7–14 ms for nothing), the filter is the index queries at once."""
    sizes: dict[str, int] = {}
    parts = matching_parts(q, sizes)
    if not parts:
        return Q(pk__in=[])
    broad = len(q) == 2 and max(sizes.values(), default=0) > FEW
    if not broad:
        first, *rest = parts
        ids = list(model.objects.filter(**{f"{field}__in": first.union(*rest) if rest else first})
                   .order_by().values_list("pk", flat=True)[:FEW + 1])
        if len(ids) <= FEW:
            return Q(pk__in=sorted(ids))
    condition = Q()
    for part in parts:
        condition |= Q(**{f"{field}__in": part})
    return condition
