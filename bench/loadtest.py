"""The locust run of `python -m bench table`: ``users`` simulated users for ``seconds`` against gunicorn
on loopback, on the database the table measures (the province).

Locust (pinned below) is installed by the bench into its own venv, var/bench/locust-venv, so that its
gevent never meets the platform's packages. gunicorn is started as `make run` starts it
(`manage.py serve`: gthread, JPK_WEB_WORKERS workers, 4 threads) together with one background task
worker. The plan (bench/locustfile.py): 80 % teachers (each with his own draft course whose files all
passed: tus uploads of 64 KiB, his course list, submit and withdraw in turn), 20 % county admins (each
his own county: the desk's entry list, a search, recommend and undo). Targets: 0 errors, p95 ≤ 300 ms.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCUST = "locust==2.47.0"
VENV = ROOT / "var" / "bench" / "locust-venv"
TEACHER_SHARE = 80
TARGET_P95_MS = 300


def ensure_locust(progress=print) -> Path:
    exe = VENV / "bin" / "locust"
    stamp = VENV / f".installed-{LOCUST}"
    if not stamp.exists():
        progress(f"installing {LOCUST} into var/bench/locust-venv", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "--quiet", LOCUST], check=True)
        stamp.touch()
    return exe


def plan(users: int, path: Path) -> dict:
    """API tokens for the simulated users (teachers with a draft course whose files passed, county admins
    with pending entries on nodes their county has not recommended yet), written to ``path``."""
    from django.db.models import Q

    from api.models import ApiToken
    from bench import province
    from campaigns.models import Campaign
    from courses.models import Course
    from orgs.models import User
    from selection.models import Entry

    campaign = Campaign.objects.get(owner__code=f"{province.PREFIX}-44")
    teachers_n = max(1, users * TEACHER_SHARE // 100)
    admins_n = max(1, users - teachers_n)
    courses = (Course.objects.filter(campaign=campaign, status="draft")
               .exclude(periods__resources__status__in=("fail", "pending")).order_by("id"))
    seen, teachers = set(), []
    for course in courses.select_related("lead_teacher").iterator():
        if course.lead_teacher_id in seen:
            continue
        seen.add(course.lead_teacher_id)
        teachers.append({"token": ApiToken.issue(course.lead_teacher, "locust")[1], "course": course.pk})
        if len(teachers) == teachers_n:
            break
    admins = []
    for admin in User.objects.filter(username__startswith=f"{province.PREFIX}_county_").order_by("username")[:admins_n]:
        county = admin.admin_units()[0]
        taken = set(Entry.objects.filter(level__campaign=campaign, unit=county, state="recommended")
                    .values_list("node_id", flat=True))
        entries = []
        for pk, node in (Entry.objects.filter(level__campaign=campaign, unit=county, state="pending")
                         .filter(~Q(node__in=taken)).order_by("id").values_list("id", "node_id")):
            if node not in taken:
                taken.add(node)
                entries.append(pk)
            if len(entries) == 5:
                break
        admins.append({"token": ApiToken.issue(admin, "locust")[1], "entries": entries})
    data = {"campaign": campaign.pk, "teacher_share": TEACHER_SHARE, "teachers": teachers, "admins": admins}
    path.write_text(json.dumps(data), encoding="utf-8")
    return data


def _plan_when_unlocked(users: int, path: Path, tries: int = 10, pause: float = 3.0) -> dict:
    """``plan`` between two locust runs on the same server: on SQLite (one writer at a time) the
    server may still hold the write lock for the last requests' and the task worker's writes, and the
    plan's token INSERTs failed with "database is locked" (a `make bench` stopped there). Tried again
    after ``pause`` seconds, ``tries`` times; any other error at once."""
    from django.db import OperationalError

    for attempt in range(tries):
        try:  # (a try cut short leaves some tokens issued: bench users' tokens, unused)
            return plan(users, path)
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == tries - 1:
                raise
            time.sleep(pause)
    raise AssertionError("unreachable")


def _stats(prefix: Path) -> tuple[dict, list[dict]]:
    with open(f"{prefix}_stats.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    return total, [r for r in rows if r["Name"] != "Aggregated"]


@contextlib.contextmanager
def _server(progress=print):
    """gunicorn as `make run` starts it, with one background task worker, on a free loopback port."""
    from bench.uploads import _free_port, _stop, _wait_for, gunicorn_command

    port = _free_port()
    env = {**os.environ, "JPK_PORT": str(port), "JPK_HOST": "127.0.0.1", "JPK_LOG_LEVEL": "WARNING"}
    py = sys.executable
    subprocess.run([py, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    gunicorn = subprocess.Popen(gunicorn_command(port, int(os.environ.get("JPK_WEB_WORKERS", "2")), timeout=120),
                                cwd=ROOT, env=env)
    worker = subprocess.Popen([py, "manage.py", "db_worker", "--queue-name", "*"], cwd=ROOT, env=env)
    try:
        _wait_for(port, gunicorn)
        _warm_up(port, int(os.environ.get("JPK_WEB_WORKERS", "2")))
        yield port
    finally:
        _stop(worker)
        _stop(gunicorn)


def _warm_up(port: int, workers: int, timeout: float = 120) -> None:
    """Wait until every gunicorn worker has booted and answers: the master listens before its workers
    have imported Django (seconds on a busy machine), and a run that started then would count that
    wait in its first requests. A few concurrent health checks per worker, until they all answer."""
    import concurrent.futures
    import urllib.request

    def check(_):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as r:
            return r.status

    deadline = time.monotonic() + timeout
    with concurrent.futures.ThreadPoolExecutor(max_workers=4 * workers) as pool:
        while time.monotonic() < deadline:
            statuses = list(pool.map(check, range(4 * workers)))
            if all(s == 200 for s in statuses):
                return
            time.sleep(0.5)
    raise RuntimeError("gunicorn's workers did not answer in time")


def _wait_for_worker(timeout: float = 300, settle: float = 2) -> float:
    """Wait until the task worker has no task ready or running (for ``settle`` seconds): the checks
    of a run's uploads are not the next run's load. Gives up after ``timeout``; the seconds waited."""
    from django.db.models import Q
    from django_tasks_db.models import DBTaskResult

    start = time.monotonic()
    idle_since = None
    while time.monotonic() - start < timeout:
        busy = DBTaskResult.objects.filter(Q(status="RUNNING") | Q(status="READY")).exists()
        now = time.monotonic()
        if busy:
            idle_since = None
        elif idle_since is None:
            idle_since = now
        elif now - idle_since >= settle:
            break
        time.sleep(0.5)
    return time.monotonic() - start


def _locust(exe: Path, port: int, users: int, seconds: int, spawn_rate: int, prefix: Path) -> dict:
    """One headless locust run; its totals and per-request rows, as the table shows them."""
    load_before = os.getloadavg()[0]
    subprocess.run([str(exe), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless", "-u", str(users),
                    "-r", str(spawn_rate), "-t", f"{seconds}s", "--host", f"http://127.0.0.1:{port}",
                    "--csv", str(prefix), "--only-summary", "--stop-timeout", "10", "--loglevel", "WARNING"],
                   env={**os.environ, "JPK_LOCUST_PLAN": str(prefix.parent / "plan.json")}, cwd=ROOT,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=seconds + 120)
    total, per_name = _stats(prefix)
    requests_n, failures = int(total["Request Count"]), int(total["Failure Count"])
    p95 = float(total["95%"]) if total["95%"] not in ("", "N/A") else 0.0
    p50 = float(total["50%"]) if total["50%"] not in ("", "N/A") else 0.0
    worst = sorted(per_name, key=lambda r: -float(r["95%"] or 0))[:3]
    note = (f"{requests_n:,} requests, {float(total['Requests/s']):.0f}/s, {failures} errors; slowest p95: "
            + ", ".join(f"{r['Name']} {float(r['95%']):.0f} ms" for r in worst))
    failed = {r["Name"]: int(r["Failure Count"]) for r in per_name if int(r["Failure Count"])}
    return {"users": users, "seconds": seconds, "requests": requests_n, "errors": failures, "p50_ms": p50,
            "p95_ms": p95, "per_second": float(total["Requests/s"]), "errors_by_request": failed, "note": note,
            "by_request": [{"name": r["Name"], "count": int(r["Request Count"]), "errors": int(r["Failure Count"]),
                            "p50_ms": float(r["50%"] or 0), "p95_ms": float(r["95%"] or 0)} for r in per_name],
            "load": (load_before, os.getloadavg()[0]),
            "met": failures == 0 and p95 <= TARGET_P95_MS}


def run(users: int = 300, seconds: int = 60, spawn_rate: int = 30, progress=print,
        capacity: tuple[int, ...] = ()) -> list[dict]:
    """The locust row (``users`` for ``seconds``) and, when ``capacity`` lists user counts (ascending),
    the capacity row: those counts run in turn for ``seconds`` / 2 each on the same server, until one
    misses the target; the row names the largest that met it, i.e. how many such users this machine
    serves within 0 errors and p95 ≤ 300 ms."""
    row = {"section": "locust", "case": f"{users} users for {seconds} s (80 % teachers, 20 % county admins)",
           "role": "", "target": f"0 errors, p95 ≤ {TARGET_P95_MS} ms"}
    try:
        exe = ensure_locust(progress)
    except (subprocess.CalledProcessError, OSError) as exc:
        return [{**row, "met": None, "note": f"not run: locust could not be installed ({exc})"}]
    work = ROOT / "var" / "bench" / "locust"
    work.mkdir(parents=True, exist_ok=True)
    data = plan(max((users, *capacity)), work / "plan.json")
    rows = []
    with _server(progress) as port:
        _wait_for_worker()  # tasks an earlier run left in the queue are not this run's load
        progress(f"locust: {users} users ({len(data['teachers'])} teacher plans, {len(data['admins'])} admin plans) "
                 f"for {seconds} s", file=sys.stderr)
        rows.append({**row, **_locust(exe, port, users, seconds, spawn_rate, work / "run")})
        if capacity:
            steps, served = [], 0
            for n in capacity:
                _wait_for_worker()  # the previous run's uploads are checked before the next run starts
                # Fresh plans: the last run left some courses submitted and entries recommended, which
                # a new user would try to submit or recommend again (an error that is the bench's, not
                # the server's).
                _plan_when_unlocked(n, work / "plan.json")
                progress(f"locust capacity: {n} users for {max(10, seconds // 2)} s", file=sys.stderr)
                step = _locust(exe, port, n, max(10, seconds // 2), spawn_rate, work / f"cap{n}")
                steps.append({k: step[k] for k in ("users", "requests", "errors", "p50_ms", "p95_ms", "per_second")})
                if not step["met"]:
                    break
                served = n
            rows.append({"section": "locust", "case": "capacity: most users within the target", "role": "",
                         "target": f"0 errors, p95 ≤ {TARGET_P95_MS} ms", "users": served, "steps": steps,
                         "note": f"{served} users met the target; " + ", ".join(
                             f"{s['users']}: p95 {s['p95_ms']:.0f} ms, {s['per_second']:.0f}/s, {s['errors']} errors"
                             for s in steps),
                         "met": None})
    return rows
