"""SQL helpers shared by the apps."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import BooleanField, Expression, F, Q, Subquery
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators


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
    model instances as iterating the queryset builds them (``instances``, ``first``:
    ``select_related`` ones, deferred fields and annotations included). The one mechanism for such
    reads: the admins' (the entries page, a decision's reads), the teachers' (submit, withdraw, a
    list page, a package) and the task worker's (a probed file's resources, its earlier copies).
    ``jingpinke.rows.ModelColumns`` is for the few reads written out as SQL by hand.

    ``build(*values)`` returns the queryset; each value (an int, a string, a ``uuid.UUID``, an aware
    ``datetime``, or a list of ints, strings or uuids, e.g. the ids of ``InIds`` or of ``__in``)
    must reach the SQL as a parameter, as it is or as the list's items, once or more; on SQLite a
    uuid is a parameter as its 32 hex digits and a datetime as the text the backend adapts it to
    (both put in their stand-ins' places the same way at every run). It is built once per database,
    types of the values and lengths of the list values (PostgreSQL and ``InIds``: one array
    parameter, the SQL the same for any length; ``__in`` and SQLite: one parameter per item), with
    stand-ins for the values, and compiled; each run puts the values in their stand-ins' places. A
    shape that cannot be compiled so raises when it is first asked (no silent fallback to the ORM:
    a read that stopped being compiled would go unnoticed): a value of another type (a bool, a
    naive datetime, a date, None, …), a value the ORM transforms before it reaches the SQL (a
    ``__contains`` pattern) or that leaves none there (an empty ``__in`` list: the caller reads
    nothing without a query), prefetches (never run here), ``rows`` of a queryset that is not a
    plain ``values_list`` or ``instances`` of one that is not of model instances. A locking read
    (``select_for_update``) must only be called inside a transaction: the ORM checks it when it
    compiles, i.e. at the first call only.

    Building and compiling a read costs Django more CPU than running it costs PostgreSQL (a page of
    the entries API: 46 columns through seven joins and seven lookups by key; a seven-table
    ``select_related`` read of submit); on PostgreSQL the read is also prepared (``_cursor``):
    parsed and planned once per connection (that page's read took 1 ms to plan, 0.4 ms to run).
    200 k, ``python -m bench cpu``, CPU of the request / of its PostgreSQL backend: a county's desk
    8.1 / 5.0 → 5.3 / 3.0 ms, its recommendation and undo 34.8 / 15.8 → 19.5 / 9.5 ms.

    At most ``max_shapes`` shapes are kept per read (the oldest compiled is dropped for a new one):
    a read by ``__in`` lists has one per combination of their lengths."""

    MAX_SHAPES = 64

    def __init__(self, build, *, max_shapes: int | None = None):
        self.build = build
        self.max_shapes = max_shapes or self.MAX_SHAPES
        self.shapes: dict[tuple, _Shape] = {}

    def _compile(self, using: str, values: tuple) -> _Shape:
        stand_ins = [_stand_in(i, v) for i, v in enumerate(values)]
        qs = self.build(*stand_ins).using(using)
        if qs._prefetch_related_lookups:
            raise ValueError("Compiled: prefetch_related is not run by a compiled read")
        connection = connections[using]
        compiler = qs.query.get_compiler(using=using)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            raise ValueError("Compiled: the read is empty for these values (an empty __in list?): "
                             "read nothing without a query") from None
        # a stand-in as the backend passes it: a uuid as its hex digits where the database has no
        # uuid type (SQLite), a datetime as the text it is adapted to there
        forms = {}  # form of a stand-in → (value index, item index or None, how a value takes that form)
        for i, s in enumerate(stand_ins):
            for j, item in (enumerate(s) if isinstance(s, list) else ((None, s),)):
                forms[(type(item), item)] = (i, j, None)
                form = _form(item, connection)
                if form is not item:
                    forms[(type(form), form)] = (i, j, type(item))
        places = []  # per parameter: (value index, item index, adaptation) or (None, the fixed parameter)
        for p in params:
            if isinstance(p, list | tuple):  # an array (``InIds`` on PostgreSQL): a whole list value
                i = next((i for i, s in enumerate(stand_ins) if isinstance(s, list) and list(p) == s), None)
                places.append((i, None, None) if i is not None else (None, p))
                continue
            place = forms.get((type(p), p)) if isinstance(p, int | str | uuid.UUID | datetime) else None
            places.append(place if place is not None else (None, p))
        # every value must be a parameter (an empty list may have left none: ``InIds`` on SQLite)
        wanted = {i for i, v in enumerate(values) if not (isinstance(v, list | tuple) and not v)}
        missing = wanted - {place[0] for place in places if place[0] is not None}
        if missing:
            raise ValueError(f"Compiled: values {sorted(missing)} do not reach the SQL as parameters")
        fields = [s[0] for s in compiler.select[0:compiler.col_count]]
        if compiler.has_composite_fields(fields):
            raise ValueError("Compiled: composite fields are not supported")
        # the converters of its columns, worked out once too (``results_iter`` asks each column's
        # field and the backend at every run)
        return _Shape(compiler, sql, places, compiler.get_converters(fields), qs._iterable_class)

    def _run(self, values: tuple, using: str, iterable) -> tuple[_Shape, list]:
        key = (using, *[(len(v), type(v[0]) if v else None) if isinstance(v, list | tuple) else type(v)
                        for v in values])
        shape = self.shapes.get(key)
        if shape is None:
            if len(self.shapes) >= self.max_shapes:  # the oldest compiled goes
                try:
                    del self.shapes[next(iter(self.shapes))]
                except (KeyError, RuntimeError, StopIteration):  # another thread changed them meanwhile
                    pass
            shape = self.shapes[key] = self._compile(using, values)
        if shape.iterable is not iterable:
            raise TypeError(f"Compiled: a {shape.iterable.__name__} read asked for a {iterable.__name__}'s rows: "
                            f"rows() is for a values_list, instances() and first() for model instances")
        connection = connections[using]
        params = []
        for place in shape.places:
            i = place[0]
            if i is None:
                params.append(place[1])
                continue
            value = values[i] if place[1] is None else values[i][place[1]]
            if isinstance(value, list | tuple):
                value = list(value)
            elif place[2] is not None or type(value) is datetime:
                value = _adapted(value, place[2], connection)
            params.append(value)
        with _cursor(connection) as cursor:
            cursor.execute(shape.sql, params)
            found = cursor.fetchall()
        compiler = shape.compiler
        if compiler.has_extra_select:
            found = [row[:compiler.col_count] for row in found]
        if shape.converters:
            found = compiler.apply_converters(found, shape.converters)
        return shape, found

    def rows(self, *values, using: str = "default") -> list[tuple]:
        """The rows of a ``values_list`` read."""
        shape, found = self._run(values, using, ValuesListIterable)
        return list(map(tuple, found))

    def instances(self, *values, using: str = "default") -> list:
        """The model instances of a read of them (``select_related``, deferred fields and
        annotations included), as the queryset's own iteration (``ModelIterable``) builds them
        from its rows."""
        shape, found = self._run(values, using, ModelIterable)
        made = shape.maker
        if made is None:  # how ``ModelIterable`` builds them, worked out once per compiled read
            compiler = shape.compiler
            select, klass_info = compiler.select, compiler.klass_info
            start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
            made = shape.maker = (
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


class _Shape:
    """One compiled shape of a ``Compiled`` read."""

    __slots__ = ("compiler", "sql", "places", "converters", "iterable", "maker")

    def __init__(self, compiler, sql, places, converters, iterable):
        self.compiler, self.sql, self.places, self.converters, self.iterable = compiler, sql, places, converters, iterable
        self.maker = None  # how ``instances`` builds its instances, worked out at its first run


_STAND_IN_TIME = datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC)


def _stand_in(i: int, value):
    """The stand-in of value ``i``: a value of its kind that no real one equals (ids are positive;
    strings with NULs; uuids and times of none but these)."""
    if isinstance(value, list | tuple):
        kind = _kind(i, value[0]) if value else int
        if any(_kind(i, v) is not kind for v in value):
            raise TypeError(f"Compiled: the items of value {i} must be of one kind, not {value!r}")
        return [_stand_in_of(kind, i, j) for j in range(len(value))]
    return _stand_in_of(_kind(i, value), i, None)


def _kind(i: int, value) -> type:
    if isinstance(value, bool):
        pass
    elif isinstance(value, int | str | uuid.UUID):
        return int if isinstance(value, int) else str if isinstance(value, str) else uuid.UUID
    elif isinstance(value, datetime) and value.utcoffset() is not None:
        return datetime
    raise TypeError(f"Compiled: value {i} must be an int, a string, a uuid, an aware datetime or a list of "
                    f"ints, strings or uuids, not {value!r}")


def _stand_in_of(kind: type, i: int, j: int | None):
    n = 0 if j is None else j
    if kind is int:
        return -(7_300_000_000 + 1_000 * i) - n
    if kind is str:
        return f"\x00stand-in {i}\x00" if j is None else f"\x00stand-in {i}.{j}\x00"
    if kind is uuid.UUID:
        return uuid.UUID(int=(0x7300 << 112) + 1_000 * i + n)
    if j is not None:
        raise TypeError(f"Compiled: value {i}: a list of datetimes is not supported")
    return _STAND_IN_TIME + timedelta(microseconds=1_000 * i)


def _form(value, connection):
    """``value`` as the backend passes a uuid or datetime parameter (the value itself elsewhere)."""
    if isinstance(value, uuid.UUID) and not connection.features.has_native_uuid_field:
        return value.hex
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def _adapted(value, kind, connection):
    """A run's value in the form its stand-in took (``kind``: the stand-in's type when the backend
    changed it, else None); a datetime must be aware, as its stand-in was."""
    if isinstance(value, datetime) and value.utcoffset() is None:
        raise TypeError(f"Compiled: a naive datetime, {value!r}, where an aware one was compiled")
    if kind is uuid.UUID:
        return value.hex
    if kind is datetime:
        return connection.ops.adapt_datetimefield_value(value)
    return value


def _cursor(connection):
    """A cursor for ``Compiled``'s reads, made inside ``jingpinke.prepared.prepared()``: a read of
    fixed shape by key is the keyed statement prepared statements are for (the same SQL text every
    run: on PostgreSQL parsed and planned once per connection, unless ``JPK_DB_PREPARE=0``)."""
    from jingpinke.prepared import prepared

    with prepared():
        return connection.cursor()
