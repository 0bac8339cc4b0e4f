"""Django's PostgreSQL backend (``django.db.backends.postgresql``) with one change: a statement run
by a server-binding cursor (``jingpinke.prepared``: the keyed statements, which PostgreSQL may run
prepared) is logged with its values in place, as Django logs the statements its client-binding
cursors send. Django asks psycopg for the text it sent, which is ``$1, $2, …`` for a server-bound
statement and nothing at all for one run prepared: ``connection.queries`` and the tests' captured
queries would hold None.

``settings.DATABASES`` names this module as the ENGINE of a PostgreSQL database."""

from django.db.backends.postgresql import base
from django.db.backends.postgresql.operations import DatabaseOperations as PostgresOperations
from psycopg import errors


class DatabaseOperations(PostgresOperations):
    def last_executed_query(self, cursor, sql, params):
        if isinstance(cursor, base.ServerBindingCursor) and not self.connection.features.uses_server_side_binding:
            try:
                return self.compose_sql(sql, params)
            except errors.DataError:
                return None
        return super().last_executed_query(cursor, sql, params)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
