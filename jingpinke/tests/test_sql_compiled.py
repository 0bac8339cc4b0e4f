"""``jingpinke.sql.Compiled``: a read compiled once and run again with new values answers what the
queryset it was built from answers (rows and model instances, related ones included), on SQLite and
PostgreSQL; the SQL is not compiled again for the same shape."""

import pytest
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext

from jingpinke.sql import Compiled, InIds
from orgs.models import Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def units():
    root = Unit.objects.create(name="省", code="C-44", kind="province", path="/", depth=0)
    root.path = f"/{root.pk}/"
    root.save()
    made = [root]
    for i in range(4):
        u = Unit.objects.create(name=f"市{i}", code=f"C-44{i:02d}", kind="city", parent=root,
                                path="", depth=1, sort_order=i)
        u.path = f"{root.path}{u.pk}/"
        u.save()
        made.append(u)
    return made


class Compiles:
    """How many times Django compiles a query while it is active."""

    def __init__(self, monkeypatch):
        self.n = 0
        original = SQLCompiler.as_sql

        def counted(compiler, *args, **kwargs):
            self.n += 1
            return original(compiler, *args, **kwargs)

        monkeypatch.setattr(SQLCompiler, "as_sql", counted)


def by_kind_and_ids(kind, ids):
    return (Unit.objects.filter(InIds("id", ids), kind=kind).order_by("sort_order", "id")
            .values_list("id", "name", "parent__name", "path"))


def test_rows_are_the_querysets_for_every_value(units, monkeypatch):
    read = Compiled(by_kind_and_ids)
    ids = [u.pk for u in units]
    for kind, chosen in (("city", ids), ("city", ids[1:3]), ("province", ids), ("city", ids[2:3]), ("city", [])):
        assert read.rows(kind, chosen) == list(by_kind_and_ids(kind, chosen)), (kind, chosen)
    compiles = Compiles(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        assert read.rows("city", ids[1:3]) == [(u.pk, u.name, "省", u.path) for u in units[1:3]]
    assert compiles.n == 0 and len(queries.captured_queries) == 1


def test_instances_carry_their_related_rows_as_select_related_does(units, django_assert_num_queries):
    read = Compiled(lambda pk: Unit.objects.select_related("parent").filter(pk=pk).order_by()[:1])
    for unit in units:
        with django_assert_num_queries(1):
            found = read.first(unit.pk)
            assert (found.pk, found.name, found.parent.name if found.parent_id else None) == (
                unit.pk, unit.name, unit.parent.name if unit.parent_id else None)
        assert not found._state.adding and found._state.db == "default"
    assert read.first(-5) is None


def test_lists_of_texts_and_single_texts_are_parameters(units):
    read = Compiled(lambda paths, code: Unit.objects.filter(path__in=paths).exclude(code=code).order_by("id")
                    .values_list("code", flat=False))
    paths = [u.path for u in units]
    assert read.rows(paths, "C-4401") == [(u.code,) for u in units if u.code != "C-4401"]
    assert read.rows(paths[:2], "C-44") == [(units[1].code,)]


def test_a_value_that_does_not_reach_the_sql_is_refused(units):
    with pytest.raises(ValueError, match="do not reach the SQL"):
        Compiled(lambda name: Unit.objects.filter(name__contains=name).values_list("id")).rows("市")
    with pytest.raises(TypeError):
        Compiled(lambda active: Unit.objects.filter(is_active=active).values_list("id")).rows(True)


@pytest.mark.postgres
def test_on_postgresql_a_compiled_read_is_prepared_for_the_connection(units):
    """PostgreSQL parses and plans it once per connection (psycopg prepares it, its values bound on
    the server); it is logged with its values in place, like Django's own queries."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL; run with JPK_DATABASE_URL=postgres://…")
    read = Compiled(by_kind_and_ids)
    ids = [u.pk for u in units]
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert len(read.rows("city", ids)) == 4
    assert all(f"= ANY('{{{ids[0]}," in q["sql"] and "$1" not in q["sql"] for q in queries.captured_queries)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                       ['%FROM "orgs_unit"%= ANY($1::bigint[])%'])
        assert cursor.fetchone()[0] == 1
