"""Prepared statements (jingpinke/prepared.py): only the statements run inside ``prepared()`` are
prepared on PostgreSQL; every other one is bound on the client and planned for its values."""

import os
import subprocess
import sys

import pytest
from django.db import connection

from jingpinke import prepared
from jingpinke.config import BASE_DIR

pg_only = pytest.mark.skipif(connection.vendor != "postgresql",
                             reason="prepared statements are PostgreSQL's (the suite runs on SQLite here)")


def _prepared_texts(marker: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s", [f"%{marker}%"])
        return [row[0] for row in cursor.fetchall()]


def _run(marker: str, times: int, value: int = 7) -> None:
    for _ in range(times):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT /* {marker} */ id FROM orgs_unit WHERE id = %s", [value])
            cursor.fetchall()


def test_the_context_is_a_flag_that_nests_and_resets():
    assert not prepared.active()
    with prepared.prepared():
        assert prepared.active()
        with prepared.prepared(False):
            assert not prepared.active()
        assert prepared.active()
    assert not prepared.active()

    @prepared.prepared()
    def keyed():
        assert prepared.active()
        raise ValueError

    with pytest.raises(ValueError):
        keyed()
    assert not prepared.active()


@pg_only
@pytest.mark.django_db
def test_a_statement_inside_is_prepared_at_its_second_run_with_its_values_bound_on_the_server():
    with prepared.prepared():
        _run("jpk-prep-inside", prepared.PREPARE_THRESHOLD + 1)
    texts = _prepared_texts("jpk-prep-inside")
    assert len(texts) == 1
    assert "$1" in texts[0]  # one statement for every id, not one per value


@pg_only
@pytest.mark.django_db
def test_a_statement_outside_or_opted_out_is_never_prepared():
    _run("jpk-prep-outside", 6)
    with prepared.prepared(), prepared.prepared(False):
        _run("jpk-prep-opted-out", 6)
    # values bound on the client, as before: each value its own text, none prepared
    for value in (1, 2, 3):
        _run("jpk-prep-values", 3, value)
    assert _prepared_texts("jpk-prep-outside") == []
    assert _prepared_texts("jpk-prep-opted-out") == []
    assert _prepared_texts("jpk-prep-values") == []


def _options(env: dict) -> str:
    code = ("from jingpinke import settings as s; o = s.DATABASES['default'].get('OPTIONS', {}); "
            "print(o.get('cursor_factory') is not None, o.get('prepare_threshold'))")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JPK_") and k != "DJANGO_SETTINGS_MODULE"}
    out = subprocess.run([sys.executable, "-c", code], cwd=BASE_DIR, env={**clean, **env},
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_settings_install_it_on_postgresql_unless_turned_off(tmp_path):
    url = "postgres://postgres@127.0.0.1:5432/jpk_unused"
    data = {"JPK_DATA_DIR": str(tmp_path)}
    assert _options({**data, "JPK_DATABASE_URL": url}) == f"True {prepared.PREPARE_THRESHOLD}"
    assert _options({**data, "JPK_DATABASE_URL": url, "JPK_DB_PREPARE": "0"}) == "False None"
    assert _options(data) == "False None"  # SQLite


@pg_only
@pytest.mark.django_db
def test_a_prepared_statement_is_logged_with_its_values_as_every_other():
    from django.test.utils import CaptureQueriesContext

    with prepared.prepared(), CaptureQueriesContext(connection) as queries:
        _run("jpk-prep-logged", 3, 41)
    assert [q["sql"] for q in queries.captured_queries] == [
        "SELECT /* jpk-prep-logged */ id FROM orgs_unit WHERE id = 41"] * 3
    assert _prepared_texts("jpk-prep-logged")  # the last two ran prepared
