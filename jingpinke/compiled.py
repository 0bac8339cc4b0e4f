"""Reads of a fixed shape compiled once: the hot reads of the teachers' requests and of the task worker (issue 12).

A ``Prepared`` read is a queryset whose SQL only differs by the values compared (a course id, a
teacher id): its statement is compiled by the ORM once per database connection's vendor and then
run again with the new values, its rows read into instances (``select_related`` ones included) as
the ORM's ``ModelIterable`` reads them. Compiling a seven-table ``select_related`` read cost more
CPU than PostgreSQL spent answering it.

The values are found in the compiled parameters by placeholders (unusual integers, strings,
uuids, aware datetimes) given to the queryset builder; a shape whose placeholders are not found
exactly once each (a value the ORM transforms: a LIKE pattern, …) is not prepared (it runs through
the ORM every time, as before), nor is a value of another type. The statement is run as compiled:
the ORM's check that ``select_for_update`` runs in a transaction is made when it is compiled only,
so a locking read must only be called inside one (``courses.services``' are, in submit and
withdraw).

On PostgreSQL its statements run inside ``jingpinke.prepared.prepared()`` (keyed reads: prepared
once per connection).

TODO (issue 12): ``jingpinke.sql.Compiled`` does the same for the admins' reads (it was written in
parallel, in another branch, the same morning); the two should become one: ``Compiled`` takes list
values (IN by an array), this one uuids, datetimes and falls back to the ORM on another type.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from django.db import connections, router
from django.db.models import QuerySet
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators

from jingpinke.prepared import prepared

_PLACEHOLDER = -7_345_000_001  # the first; the next ones count down


class Prepared:
    def __init__(self, build: Callable[..., QuerySet], *kinds: type):
        """``build(*values)``: the queryset for these values, of these ``kinds`` (int, str,
        uuid.UUID, datetime)."""
        assert kinds and all(k in (int, str, uuid.UUID, datetime) for k in kinds)
        self.build, self.kinds, self.arity = build, kinds, len(kinds)
        self._compiled: dict[tuple[str, str], tuple | None] = {}

    def _marks(self) -> list:
        return [_PLACEHOLDER - i if kind is int else uuid.UUID(int=(1 << 120) + 77_001 + i) if kind is uuid.UUID
                else datetime(1901, 2, 3, 4, 5, 6, 7_001 + i, tzinfo=UTC) if kind is datetime
                else f"\x01prepared-{i}\x01" for i, kind in enumerate(self.kinds)]

    def _compile(self, connection):
        marks = self._marks()
        qs = self.build(*marks)
        if qs._iterable_class not in (ModelIterable, ValuesListIterable) or qs._prefetch_related_lookups:
            return None  # flat values, dicts, named tuples, prefetches: the ORM reads them
        compiler = qs.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        params = list(params)
        positions = []
        for mark in marks:
            # a uuid is a parameter as itself (PostgreSQL) or as its 32 hex digits (SQLite)
            # a datetime as itself (PostgreSQL) or as the text the backend adapts it to (SQLite)
            found = [(i, type(p)) for i, p in enumerate(params) if p == mark or (
                isinstance(mark, uuid.UUID) and p == mark.hex) or (
                isinstance(mark, datetime) and isinstance(p, str) and p == connection.ops.adapt_datetimefield_value(mark))]
            if len(found) != 1:
                return None
            positions.append(found[0])
        return sql, params, positions, compiler, qs._iterable_class is ValuesListIterable

    def __call__(self, *values) -> list:
        if len(values) != self.arity or not all(type(v) is kind and (kind is not datetime or v.tzinfo is not None)
                                                for v, kind in zip(values, self.kinds)):
            return list(self.build(*values))
        alias = router.db_for_read(self._model())
        connection = connections[alias]
        key = (alias, connection.vendor)
        if key not in self._compiled:
            self._compiled[key] = self._compile(connection)
        compiled = self._compiled[key]
        if compiled is None:
            return list(self.build(*values))
        sql, params, positions, compiler, as_tuples = compiled
        params = list(params)
        for (position, as_type), value in zip(positions, values):
            if as_type is str and isinstance(value, uuid.UUID):
                value = value.hex
            elif as_type is str and isinstance(value, datetime):
                value = connection.ops.adapt_datetimefield_value(value)
            params[position] = value
        with prepared(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return list(_tuples(compiler, rows) if as_tuples else _instances(compiler, rows, alias))

    def _model(self):
        model = getattr(self, "_model_cls", None)
        if model is None:
            model = self._model_cls = self.build(*self._marks()).model
        return model


def _tuples(compiler, rows):
    """A ``values_list`` queryset's tuples, as ``ValuesListIterable`` reads them (its columns in
    the order asked, converted)."""
    fields = [s[0] for s in compiler.select[0:compiler.col_count]]
    converters = compiler.get_converters(fields)
    rows = [row[:compiler.col_count] for row in rows] if compiler.has_extra_select else rows
    return [tuple(row) for row in (compiler.apply_converters(rows, converters) if converters else rows)]


def _instances(compiler, rows, db):
    """The rows' instances as ``django.db.models.query.ModelIterable`` makes them (select_related
    instances populated, annotations set)."""
    select, klass_info, annotation_col_map = compiler.select, compiler.klass_info, compiler.annotation_col_map
    model_cls = klass_info["model"]
    select_fields = klass_info["select_fields"]
    start, end = select_fields[0], select_fields[-1] + 1
    init_list = [f[0].target.attname for f in select[start:end]]
    populators = get_related_populators(klass_info, select, db)
    fields = [s[0] for s in select[0:compiler.col_count]]
    converters = compiler.get_converters(fields)
    rows = [row[:compiler.col_count] for row in rows] if compiler.has_extra_select else rows
    if converters:
        rows = compiler.apply_converters(rows, converters)
    for row in rows:
        obj = model_cls.from_db(db, init_list, row[start:end])
        for populator in populators:
            populator.populate(row, obj)
        for attr_name, col_pos in (annotation_col_map or {}).items():
            setattr(obj, attr_name, row[col_pos])
        yield obj


_SHAPES: dict[tuple, Prepared] = {}
MAX_SHAPES = 512  # shapes kept per process (a list's reads differ by the lengths of their IN lists)


def by_shape(name: str, lengths: tuple[int, ...], build: Callable[..., QuerySet], *kinds: type) -> Prepared | None:
    """The ``Prepared`` read ``name`` for these lengths of its lists (``build`` takes the values
    flat, ``kinds`` theirs); None once ``MAX_SHAPES`` are kept (the caller uses the ORM)."""
    key = (name, lengths)
    found = _SHAPES.get(key)
    if found is None:
        if len(_SHAPES) >= MAX_SHAPES:
            return None
        found = _SHAPES[key] = Prepared(build, *kinds)
    return found
