"""`make bench` (`python -m bench` without a section) runs every section in a process of its own, so
that each has its own throw-away database: in one shared process the export's seed collided with the
demo data the pages section had loaded (UNIQUE constraint failed: catalog_textbook…) and the run
stopped there."""

from __future__ import annotations

import subprocess
import sys

import pytest

import bench.__main__ as bench_main


def test_every_section_runs_in_its_own_process_and_a_failure_does_not_stop_the_rest(monkeypatch, capsys):
    calls = []

    def run(cmd, cwd=None, **kwargs):
        calls.append((cmd, cwd))
        return subprocess.CompletedProcess(cmd, 1 if cmd[-1] == "export" else 0)

    monkeypatch.setattr(bench_main.subprocess, "run", run)
    assert bench_main.main([]) == 1  # the export's failure is the run's status
    assert [cmd for cmd, _ in calls] == [[sys.executable, "-m", "bench", name] for name in bench_main.SECTIONS]
    assert {cwd for _, cwd in calls} == {bench_main.ROOT}
    out = capsys.readouterr().out
    assert all(f"== {name}" in out for name in bench_main.SECTIONS)
    assert out.rstrip().endswith("sections that failed: export (exit 1)")


def test_a_run_where_every_section_passed_says_so(monkeypatch, capsys):
    monkeypatch.setattr(bench_main.subprocess, "run", lambda cmd, cwd=None: subprocess.CompletedProcess(cmd, 0))
    assert bench_main.main([]) == 0
    assert capsys.readouterr().out.rstrip().endswith("every section ran")


def test_the_certificates_section_without_a_cjk_font_says_what_to_install(monkeypatch, capsys):
    """On a fresh machine where `make bench` ran before the font was installed, the section stopped
    with a traceback from the ZIP's first PDF after seeding and issuing; now it says so first."""
    from awards import pdf
    from bench import certificates

    monkeypatch.setattr(pdf, "font_path", lambda: None)
    assert certificates.main([]) == 1
    err = capsys.readouterr().err
    assert "fonts-wqy-microhei" in err and "Traceback" not in err


def test_a_named_section_runs_in_this_process(monkeypatch):
    ran = []
    monkeypatch.setitem(bench_main.SECTIONS, "assign", lambda argv: ran.append(argv) or 0)
    monkeypatch.setattr(bench_main.subprocess, "run", lambda *a, **k: (_ for _ in ()).throw(AssertionError(a)))
    assert bench_main.main(["assign", "--x"]) == 0
    assert ran == [["--x"]]


def test_the_locust_plan_between_runs_waits_for_sqlites_write_lock(monkeypatch):
    """bench.loadtest: the next capacity step's plan (API tokens) is written while the server may
    still hold SQLite's write lock: "database is locked" is tried again, any other error is not."""
    from django.db import OperationalError

    from bench import loadtest

    failures = [OperationalError("database is locked")] * 2
    calls = []

    def plan(users, path):
        calls.append(users)
        if failures:
            raise failures.pop()
        return {"users": users}

    monkeypatch.setattr(loadtest, "plan", plan)
    monkeypatch.setattr(loadtest.time, "sleep", lambda s: None)
    assert loadtest._plan_when_unlocked(50, None) == {"users": 50}
    assert calls == [50, 50, 50]
    monkeypatch.setattr(loadtest, "plan", lambda users, path: (_ for _ in ()).throw(OperationalError("no such table")))
    with pytest.raises(OperationalError):
        loadtest._plan_when_unlocked(50, None)
