"""Trigram (pg_trgm) GIN indexes for the lists' search by course title, teacher name and school name
(issue 12), on PostgreSQL only: SQLite migrates through it untouched.

The indexes are on ``UPPER(column)`` because that is what Django's ``icontains`` compares on
PostgreSQL (``UPPER("title"::text) LIKE UPPER('%秋天%')``). pg_trgm needs at least 3 characters
of the search to narrow the index (a 1–2 character search still uses it but reads more rows);
its word characters follow the database's LC_CTYPE (C.UTF-8 and zh_CN.UTF-8 count Chinese ones).
Not model state: no model ``Meta`` describes them, so no later migration drops them.
"""

from django.db import migrations

INDEXES = (
    ("courses_course_title_trgm", "courses_course", "title"),
    ("orgs_user_real_name_trgm", "orgs_user", "real_name"),
    ("orgs_unit_name_trgm", "orgs_unit", "name"),
)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin (UPPER("{column}"::text) gin_trgm_ops)')


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):

    dependencies = [
        ("courses", "0002_compliance"),
        ("orgs", "0001_initial"),
    ]

    operations = [migrations.RunPython(forward, backward)]
