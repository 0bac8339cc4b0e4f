"""SQL helpers shared by the apps."""

from __future__ import annotations

from django.db import connections
from django.db.models import BooleanField, Expression, F, Q, Subquery
from django.db.models.query import get_related_populators


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


class InSubqueryArray(OnColumn):
    """``column IN (subquery)``, written on PostgreSQL as ``column = ANY(ARRAY(subquery))``: the
    subquery runs once (an InitPlan) and the outer query filters by the array, as by a list of
    ids. For a scope of a few hundred units whose rows lie sparse along a sort index (a county's
    entries are ~1/120 of a province's campaign): ``IN (subquery)`` is planned as a semi-join
    walking the campaign's rank index and probing each entry's unit (a county's desk at 200 k:
    6,860 probes, 14 ms, 5 ms more to plan); with the array PostgreSQL reads the county's entries
    from the index on (unit, campaign, rank) and sorts the few thousand for the page (under 1 ms,
    0.2 ms to plan). It cannot know the array's length when planning, and assumes a short one:
    use it for small scopes only (a city's entries are dense along the rank index, where the walk
    stops early). Elsewhere (SQLite) ``IN (subquery)``."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, column: str, queryset):
        super().__init__(column, BooleanField())
        self.subquery = Subquery(queryset)

    def get_source_expressions(self):
        return [self.column, self.subquery]

    def set_source_expressions(self, exprs):
        self.column, self.subquery = exprs

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        c = super().resolve_expression(query, allow_joins, reuse, summarize, for_save)
        c.subquery = self.subquery.resolve_expression(query, allow_joins, reuse, summarize, for_save)
        return c

    def as_sql(self, compiler, connection):
        column, params = compiler.compile(self.column)
        sub, sub_params = compiler.compile(self.subquery)  # "(SELECT …)"
        if connection.vendor == "postgresql":
            return f"{column} = ANY(ARRAY{sub})", (*params, *sub_params)
        return f"{column} IN {sub}", (*params, *sub_params)


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


class Compiled:
    """A read of fixed shape whose SQL is compiled once and run again with new values: its rows as
    ``values_list`` gives them (``rows``: the backend's and the fields' converters applied), or its
    model instances as iterating the queryset builds them (``instances``, ``first``).

    ``build(*values)`` returns the queryset; each value (an int, a string, or a
    list of them, e.g. the ids of ``InIds``) must reach the SQL as a parameter, as it is or as the
    list's items. It is built once per database and lengths of the list values (PostgreSQL: one
    array parameter, the SQL the same for any length; SQLite: one parameter per item), with
    stand-ins for the values, and compiled; each run puts the values in their stand-ins' places.
    Building and compiling a read costs Django more CPU than running it costs PostgreSQL (a page of
    the entries API: 46 columns through seven joins and seven lookups by key); on PostgreSQL the
    read is also prepared (``_cursor``): parsed and planned once per connection (that page's read
    took 1 ms to plan, 0.4 ms to run). 200 k, ``python -m bench cpu``, CPU of the request / of its
    PostgreSQL backend: a county's desk 8.1 / 5.0 → 5.3 / 3.0 ms, its recommendation and undo
    34.8 / 15.8 → 19.5 / 9.5 ms."""

    MAX_SHAPES = 64

    def __init__(self, build):
        self.build = build
        self.shapes: dict[tuple, tuple] = {}
        self.makers: dict = {}  # compiler → how its instances are built (``instances``)

    @staticmethod
    def _stand_in(i: int, value):
        base = -(7_300_000_000 + 1_000 * i)  # ids are positive: a stand-in equals no real value
        if isinstance(value, list | tuple):
            texts = bool(value) and isinstance(value[0], str)
            return [f"\x00stand-in {i}.{j}\x00" if texts else base - j for j in range(len(value))]
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise TypeError(f"Compiled: value {i} must be an int, a string or a list of them, not {value!r}")
        return f"\x00stand-in {i}\x00" if isinstance(value, str) else base

    def _compile(self, using: str, values: tuple):
        stand_ins = [self._stand_in(i, v) for i, v in enumerate(values)]
        qs = self.build(*stand_ins).using(using)
        compiler = qs.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        places = []  # per parameter: ("value", i), ("item", i, j) or ("fixed", param)
        for p in params:
            place = ("fixed", p)
            for i, s in enumerate(stand_ins):
                if isinstance(s, list):
                    if isinstance(p, list | tuple) and list(p) == s:
                        place = ("value", i)
                    elif not isinstance(p, list | tuple) and p in s:
                        place = ("item", i, s.index(p))
                elif p == s:
                    place = ("value", i)
                if place[0] != "fixed":
                    break
            places.append(place)
        # every value must be a parameter (an empty list may have left none: ``InIds`` on SQLite)
        wanted = {i for i, v in enumerate(values) if not (isinstance(v, list | tuple) and not v)}
        missing = wanted - {place[1] for place in places if place[0] != "fixed"}
        if missing:
            raise ValueError(f"Compiled: values {sorted(missing)} do not reach the SQL as parameters")
        fields = [s[0] for s in compiler.select[0:compiler.col_count]]
        if compiler.has_composite_fields(fields):
            raise ValueError("Compiled: composite fields are not supported")
        # the converters of its columns, worked out once too (``results_iter`` asks each column's
        # field and the backend at every run)
        return compiler, sql, places, compiler.get_converters(fields)

    def _run(self, values: tuple, using: str):
        key = (using, tuple(len(v) if isinstance(v, list | tuple) else None for v in values))
        shape = self.shapes.get(key)
        if shape is None:
            if len(self.shapes) >= self.MAX_SHAPES:
                self.shapes.clear()
                self.makers.clear()
            shape = self.shapes[key] = self._compile(using, values)
        compiler, sql, places, converters = shape
        params = [p[1] if p[0] == "fixed" else values[p[1]][p[2]] if p[0] == "item"
                  else list(values[p[1]]) if isinstance(values[p[1]], list | tuple) else values[p[1]]
                  for p in places]
        with _cursor(connections[using]) as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchall()
        if compiler.has_extra_select:
            found = [row[:compiler.col_count] for row in found]
        if converters:
            found = compiler.apply_converters(found, converters)
        return compiler, found

    def rows(self, *values, using: str = "default") -> list[tuple]:
        """The rows of a ``values_list`` read."""
        compiler, found = self._run(values, using)
        return list(map(tuple, found))

    def instances(self, *values, using: str = "default") -> list:
        """The model instances of a read of them (``select_related`` and annotations included), as
        the queryset's own iteration (``ModelIterable``) builds them from its rows."""
        compiler, found = self._run(values, using)
        made = self.makers.get(compiler)
        if made is None:  # how ``ModelIterable`` builds them, worked out once per compiled read
            select, klass_info = compiler.select, compiler.klass_info
            start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
            made = self.makers[compiler] = (
                klass_info["model"], start, end, [f[0].target.attname for f in select[start:end]],
                get_related_populators(klass_info, select, using), list((compiler.annotation_col_map or {}).items()))
        model, start, end, init_list, populators, annotations = made
        result = []
        for row in found:
            obj = model.from_db(using, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for name, position in annotations:
                setattr(obj, name, row[position])
            result.append(obj)
        return result

    def first(self, *values, using: str = "default"):
        """The first instance, else None."""
        found = self.instances(*values, using=using)
        return found[0] if found else None


def _cursor(connection):
    """A cursor for ``Compiled``'s reads, made inside ``jingpinke.prepared.prepared()``: a read of
    fixed shape by key is the keyed statement prepared statements are for (the same SQL text every
    run: on PostgreSQL parsed and planned once per connection, unless ``JPK_DB_PREPARE=0``)."""
    from jingpinke.prepared import prepared

    with prepared():
        return connection.cursor()
