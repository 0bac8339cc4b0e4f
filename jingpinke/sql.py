"""SQL helpers shared by the apps."""

from __future__ import annotations

from django.db import connections
from django.db.models import BooleanField, Expression, F, Q


class OnColumn(Expression):
    """An expression over one column of the outer query (``self.column``, an ``F`` resolved with the
    query): the skeleton ``InIds`` and ``KeyColumn`` share; subclasses write ``as_sql``."""

    def __init__(self, column: str, output_field):
        super().__init__(output_field=output_field)
        self.column = F(column)

    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, exprs):
        (self.column,) = exprs

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        c = self.copy()
        c.column = self.column.resolve_expression(query, allow_joins, reuse, summarize, for_save)
        return c


class InIds(OnColumn):
    """``column IN (ids)`` for a long list of ids: on PostgreSQL ``column = ANY(%s)`` with the list
    as one array parameter; elsewhere Django's ``IN (%s, %s, …)``. Each parameter costs Django
    (one lookup preparation each) and psycopg (a query with more than 50 parameters is parsed
    again at every execution, not cached) CPU in proportion to the list: a city of a 1,000,000-
    course province named 5,011 units in the three queries of its courses page, ~190 ms of CPU
    as 15,000 parameters (profiled); the progress board names a county's ~835 schools in five
    queries. As one array it is one parameter."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, column: str, ids):
        super().__init__(column, BooleanField())
        self.ids = list(ids)

    def as_sql(self, compiler, connection):
        column, params = compiler.compile(self.column)
        if connection.vendor == "postgresql":
            # typed as the column: a smallint[] (psycopg's choice for small ids) made the planner
            # cost the cross-type comparison higher and go parallel (20-30 ms more per query)
            return f"{column} = ANY(%s::{self.column.output_field.rel_db_type(connection)}[])", (*params, self.ids)
        if not self.ids:
            return "1 = 0", ()
        return f"{column} IN ({', '.join(['%s'] * len(self.ids))})", (*params, *self.ids)


def in_ids(column: str, ids) -> Q:
    """``Q`` of ``InIds``, to combine with other conditions."""
    return Q(InIds(column, ids))


def triggers_keeper(table: str, install):
    """A ``post_migrate`` receiver that puts back the triggers ``install(conn, fill=False)`` creates,
    once ``table`` exists: SQLite drops a table's triggers when a later migration remakes it."""

    def ensure_triggers(using="default", **kwargs) -> None:
        conn = connections[using]
        if table in conn.introspection.table_names():
            install(conn, fill=False)

    return ensure_triggers


class KeyColumn(OnColumn):
    """``(SELECT column FROM table WHERE pk = key)``: one column of the row a foreign key
    (``key``, a field path of the outer query) points to, read by a scalar subquery instead of a
    join. Each join of a query adds to what PostgreSQL weighs when it plans it: the ten-table read
    of a page of entries spent 3–3.5 ms planning for 0.5 ms running (200 k); with three of its
    lookups (level, holding unit, sending unit) as these, 1.9 ms. Compiled directly (no nested
    query to build): cheaper for Django than a join, and than ``Subquery``. NULL when the key is."""

    def __init__(self, key: str, model, column: str):
        field = model._meta.get_field(column)
        super().__init__(key, field)  # ``self.column``: the key
        self.model, self.target = model, field.column

    def as_sql(self, compiler, connection):
        key, params = compiler.compile(self.column)
        q = connection.ops.quote_name
        table = self.model._meta.db_table
        alias = q(f"{table}_by_key")  # not an alias of the outer query, whose column ``key`` may be
        return (f"(SELECT {alias}.{q(self.target)} FROM {q(table)} {alias} "
                f"WHERE {alias}.{q(self.model._meta.pk.column)} = {key})", params)
