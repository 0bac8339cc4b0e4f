"""Prepared statements on PostgreSQL for the keyed statements of the hot requests.

Planning is most of PostgreSQL's CPU for a web request's short statements: on the province bench, a
teacher's submit and withdraw spent ~10 ms of the server's CPU on 31 statements, ~5 ms of it once
the statements were prepared (``python -m bench cpu``). A prepared statement is parsed once per
connection and, after five runs, PostgreSQL may keep one generic plan for every value of its
parameters. That is right for a statement that reads or writes rows by key (a token, a user's
memberships, an entry and its course by id, an insert) and wrong for one whose best plan depends on
its values: a list of a county's 600 entries and one of a city's 14,000 share a statement text but
not a plan. So statements are prepared only where a caller says so (``prepared()``, a context
manager and decorator) and every other statement is sent as before, its values bound on the client
(Django's default cursor), planned for its values each time. A cursor is of the kind in force when it
is made; the ORM makes one per query.

On PostgreSQL ``settings.DATABASES`` installs ``cursor_factory`` unless ``JPK_DB_PREPARE=0`` (a
transaction-mode connection pooler that cannot keep prepared statements, such as PgBouncer before
1.21). On SQLite ``prepared()`` changes nothing.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager

# Prepare a statement at its second run on a connection (psycopg prepares at the sixth): a web
# node's connection lives a minute (CONN_MAX_AGE) and serves every kind of request in turn.
PREPARE_THRESHOLD = 1

_ON = contextvars.ContextVar("jpk_prepared_statements", default=False)


def cursor_factory(connection, **kwargs):
    """psycopg's ``cursor_factory`` for Django's connection: inside ``prepared()`` a server-binding
    cursor (its statements are prepared after PREPARE_THRESHOLD runs), else Django's default
    client-binding cursor (never prepared)."""
    from django.db.backends.postgresql.base import Cursor, ServerBindingCursor

    return (ServerBindingCursor if _ON.get() else Cursor)(connection, **kwargs)


@contextmanager
def prepared(on: bool = True):
    """Statements run inside are keyed (their plan does not depend on their values) and may be
    prepared; ``prepared(False)`` inside opts a value-dependent read (a list page) back out. Also a
    decorator."""
    token = _ON.set(on)
    try:
        yield
    finally:
        _ON.reset(token)


def active() -> bool:
    return _ON.get()
