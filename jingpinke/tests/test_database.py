"""Database connections kept between requests (settings: CONN_MAX_AGE), SQLite included.

The request cycle is Django's: ``close_old_connections`` (on request_started and request_finished)
calls ``close_if_unusable_or_obsolete`` on every connection of the thread. The test suite's own
SQLite database lives in memory, where Django never closes anything, so these tests build the
embedded deployment's connection (``settings.SQLITE_DATABASE``) on a file of their own.
"""

import threading

import pytest
from django.db import DEFAULT_DB_ALIAS
from django.db.backends.sqlite3.base import DatabaseWrapper
from django.db.utils import ConnectionHandler

from jingpinke import settings as base_settings


@pytest.fixture
def sqlite_file(tmp_path, django_db_blocker):
    """Connections to a file database configured as the embedded deployment's: ``make()`` → a
    new one (another thread or process of the server)."""
    made = []

    def make():
        handler = ConnectionHandler({DEFAULT_DB_ALIAS: {**base_settings.SQLITE_DATABASE, "NAME": tmp_path / "db.sqlite3"}})
        conn = handler[DEFAULT_DB_ALIAS]
        made.append(conn)
        return conn

    with django_db_blocker.unblock():  # not the test database: a file of this test's own
        first = make()
        with first.cursor() as cursor:
            cursor.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)")
        yield make
        for conn in made:
            conn.close()


def _end_of_request(conn: DatabaseWrapper) -> None:
    conn.close_if_unusable_or_obsolete()  # what close_old_connections does on request_finished


def _names(conn) -> list[str]:
    with conn.cursor() as cursor:
        cursor.execute("SELECT name FROM item ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def test_the_embedded_database_keeps_its_connections_between_requests(sqlite_file):
    assert base_settings.SQLITE_DATABASE["CONN_MAX_AGE"] > 0
    conn = sqlite_file()
    conn.ensure_connection()
    raw = conn.connection
    _end_of_request(conn)
    conn.close_if_unusable_or_obsolete()  # request_started of the next request
    assert conn.connection is raw
    assert _names(conn) == []


def test_a_kept_connection_sees_what_others_wrote_since(sqlite_file):
    """No read transaction, hence no old snapshot, outlives a request (WAL readers see the last commit)."""
    web, worker = sqlite_file(), sqlite_file()
    assert _names(web) == []
    with web.cursor() as cursor:  # a half-read result: the statement is still active
        cursor.execute("SELECT name FROM item")
    _end_of_request(web)
    with worker.cursor() as cursor:
        cursor.execute("INSERT INTO item (name) VALUES ('from the worker')")
    assert _names(web) == ["from the worker"]
    with web.cursor() as cursor:
        cursor.execute("INSERT INTO item (name) VALUES ('from the web')")
    assert _names(worker) == ["from the worker", "from the web"]


def test_a_connection_left_in_a_transaction_is_closed_and_reopened(sqlite_file):
    conn = sqlite_file()
    conn.set_autocommit(False)  # a request that died inside atomic() without leaving it
    with conn.cursor() as cursor:
        cursor.execute("INSERT INTO item (name) VALUES ('never committed')")
    raw = conn.connection
    _end_of_request(conn)
    assert conn.connection is None  # closed (and rolled back)
    assert _names(conn) == []  # a new connection, in autocommit
    assert conn.connection is not raw
    assert conn.get_autocommit()


def test_a_closed_connection_is_opened_again_by_the_next_request(sqlite_file):
    conn = sqlite_file()
    assert _names(conn) == []
    conn.close()  # closed under the request (a worker's recycle, an admin's close_old_connections)
    _end_of_request(conn)
    assert _names(conn) == []


def test_each_thread_keeps_its_own(sqlite_file):
    """gunicorn's gthread worker: a connection is never shared between threads."""
    conn = sqlite_file()
    conn.ensure_connection()
    errors = []

    def other_thread():
        try:
            conn.cursor()
        except Exception as exc:  # Django refuses to share it
            errors.append(type(exc).__name__)

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert errors == ["DatabaseError"]


@pytest.mark.django_db
def test_postgresql_connections_run_without_jit():
    """PostgreSQL: JIT off for the application's connections (settings): a board's picked-entries
    query, over-costed by the planner, spent 10-30 ms compiling at 1 M courses."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
