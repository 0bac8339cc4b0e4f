"""The upload bench's fairness: every upload starts with the task worker idle (bench/uploads.py)."""

import sqlite3
import threading
import time

import pytest

from bench import uploads


class _Alive:
    def poll(self):
        return None


def _queue(path, *rows):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE IF NOT EXISTS django_tasks_database_dbtaskresult (id INTEGER PRIMARY KEY, status TEXT, "
                 "run_after TEXT)")
    conn.execute("DELETE FROM django_tasks_database_dbtaskresult")
    conn.executemany("INSERT INTO django_tasks_database_dbtaskresult (status, run_after) VALUES (?, ?)", rows)
    conn.commit()
    conn.close()


def test_the_queue_counts_tasks_ready_now_and_running(tmp_path):
    db = tmp_path / "db.sqlite3"
    _queue(db, ("SUCCESSFUL", "9999-12-31 23:59:59.999999"), ("FAILED", "9999-12-31 23:59:59.999999"),
           ("READY", "2999-01-01 00:00:00"))  # done, failed, due much later: nothing to wait for
    assert uploads._queue_busy(db) == 0
    _queue(db, ("READY", "9999-12-31 23:59:59.999999"), ("RUNNING", "9999-12-31 23:59:59.999999"),
           ("READY", "2000-01-01 00:00:00"))  # no run_after, running, due
    assert uploads._queue_busy(db) == 3


def test_waits_until_the_worker_has_finished_what_its_tasks_enqueued(tmp_path):
    db = tmp_path / "db.sqlite3"
    _queue(db, ("RUNNING", "9999-12-31 23:59:59.999999"))
    steps = []

    def worker():  # the probe ends and enqueues the originality check, which then runs and ends
        time.sleep(0.2)
        _queue(db, ("READY", "9999-12-31 23:59:59.999999"))
        steps.append("check enqueued")
        time.sleep(0.2)
        _queue(db, ("SUCCESSFUL", "9999-12-31 23:59:59.999999"))
        steps.append("idle")

    thread = threading.Thread(target=worker)
    thread.start()
    uploads.wait_until_idle(db, _Alive(), settle=0.1)
    seen = list(steps)
    thread.join()
    assert seen == ["check enqueued", "idle"]


def test_a_worker_that_died_is_an_error_not_an_idle_queue(tmp_path):
    db = tmp_path / "db.sqlite3"
    _queue(db, ("RUNNING", "9999-12-31 23:59:59.999999"))

    class Dead:
        def poll(self):
            return 1

    with pytest.raises(RuntimeError, match="exited"):
        uploads.wait_until_idle(db, Dead())
