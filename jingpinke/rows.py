"""Model instances from written-out SQL: for the few fixed-shape reads every request makes.

The ORM spends far more CPU compiling a small joined read (``select_related`` over a few models,
~30-40 columns) than the database spends running it: ~0.5 ms per query on this project's hardware,
paid again by every request. ``ModelColumns`` lists a model's concrete columns (from its ``_meta``:
a new field is read without touching the SQL) for a statement written out once, and turns the
slice of a result row back into an instance as the ORM would (``Model.from_db``, after the same
database converters: SQLite's datetimes and booleans come back as text and integers).

Which to use: a read the ORM can write as a queryset is a ``jingpinke.sql.Compiled`` read (built
once from the queryset, compiled by the ORM once per shape and run again with new values: the
SQL stays the ORM's, a changed filter or ``select_related`` is the queryset's change alone); that
is the default for a hot read of fixed shape. ``ModelColumns`` is for a statement written out by
hand, where the SQL itself is the point and no queryset gives it as one statement: the token's user
with its staleness as a ``CASE`` (``api.auth``), the memberships with their units and the units'
parents (``orgs.models.active_memberships``), both read before anything else of a request.
"""

from __future__ import annotations

from django.db.models.expressions import Col


class ModelColumns:
    """The concrete columns of ``model`` under the table alias ``alias``."""

    def __init__(self, model, alias: str):
        self.model, self.alias = model, alias
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        self.width = len(self.fields)
        self.pk_index = self.attnames.index(model._meta.pk.attname)
        self._converters: dict[str, list] = {}

    def select(self, connection) -> str:
        """``alias."col1", alias."col2", …`` in field order."""
        qn = connection.ops.quote_name
        return ", ".join(f"{self.alias}.{qn(f.column)}" for f in self.fields)

    def converters(self, connection) -> list:
        """(index, [converters], expression) for the columns whose values the backend converts."""
        found = self._converters.get(connection.vendor)
        if found is None:
            found = []
            for i, field in enumerate(self.fields):
                col = Col(self.alias, field)
                funcs = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
                if funcs:
                    found.append((i, funcs, col))
            self._converters[connection.vendor] = found
        return found

    def values(self, row, start: int, connection) -> list:
        values = list(row[start:start + self.width])
        for i, funcs, col in self.converters(connection):
            value = values[i]
            for func in funcs:
                value = func(value, col, connection)
            values[i] = value
        return values

    def instance(self, row, start: int, connection):
        """The instance held by ``row[start:start + width]``; None if its primary key is NULL (an
        outer join that found nothing)."""
        values = self.values(row, start, connection)
        if values[self.pk_index] is None:
            return None
        return self.model.from_db(connection.alias, self.attnames, values)
