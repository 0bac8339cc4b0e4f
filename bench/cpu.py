"""`python -m bench cpu`: CPU per request of the locust mix (bench/locustfile.py), one request type at a
time, on the province the table measures (run after `python -m bench table` or `python -m bench province`;
JPK_DATA_DIR / JPK_DATABASE_URL as for the table).

Each request goes through the test client (the whole middleware stack, API token auth, no network). Per
request: CPU of this process (`time.process_time`), CPU of its PostgreSQL server process (read from
/proc/<pid>/stat; 0 on SQLite), wall time, and the SQL queries of one request. The users are the locust
plan's (`bench.loadtest.plan`): a teacher with a draft course whose files passed, and a county admin with
pending entries. What the locust run's p95 depends on is how much CPU a request costs on these 2 cores,
which this shows per request type and which the run itself cannot.
"""

from __future__ import annotations

import argparse
import base64
import gc
import os
import sys
import time
from pathlib import Path

CASES = ("upload", "my_courses", "submit_withdraw", "desk", "search", "recommend_undo")


def _backend_cpu(pid: int | None) -> float:
    if not pid:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def requests_of(client, plan: dict) -> dict:
    """The locust mix's request types as callables; each asserts its answer's status."""
    teacher, admin, campaign = plan["teachers"][0], plan["admins"][0], plan["campaign"]
    th = {"HTTP_AUTHORIZATION": f"Bearer {teacher['token']}"}
    ah = {"HTTP_AUTHORIZATION": f"Bearer {admin['token']}"}
    body = os.urandom(64 * 1024)
    meta = "filename " + base64.b64encode("教学设计.pdf".encode()).decode()

    def check(response, status):
        assert response.status_code == status, (response.status_code, response.content[:300])

    def upload():  # two requests: tus creation POST, one PATCH (fresh bytes: see bench/locustfile.py)
        r = client.post("/api/v1/uploads/", HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_LENGTH=str(len(body)),
                        HTTP_UPLOAD_METADATA=meta, **th)
        check(r, 201)
        check(client.generic("PATCH", r["Location"], os.urandom(16) + body[16:],
                             content_type="application/offset+octet-stream", HTTP_TUS_RESUMABLE="1.0.0",
                             HTTP_UPLOAD_OFFSET="0", **th), 204)

    def my_courses():
        check(client.get("/api/v1/courses", **th), 200)

    def submit_withdraw():  # two requests
        for action in ("submit", "withdraw"):
            check(client.post(f"/api/v1/courses/{teacher['course']}/{action}", **th), 200)

    def desk():
        check(client.get(f"/api/v1/selection/entries?campaign={campaign}", **ah), 200)

    def search():
        check(client.get(f"/api/v1/selection/entries?campaign={campaign}&q=分数", **ah), 200)

    def recommend_undo():  # two requests
        for action in ("recommend", "undo"):
            check(client.post(f"/api/v1/selection/entries/{admin['entries'][0]}/{action}", {},
                              content_type="application/json", **ah), 200)

    found = locals()
    return {name: found[name] for name in CASES}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench cpu", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40, help="requests per type (default 40)")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jingpinke.settings")
    os.environ.setdefault("JPK_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench import loadtest, province
    from orgs.models import Unit

    if not Unit.objects.filter(code=f"{province.PREFIX}-44").exists():
        print("no province in this database: run `python -m bench province` (or the table) first", file=sys.stderr)
        return 2
    work = Path(loadtest.ROOT) / "var" / "bench" / "cpu"
    work.mkdir(parents=True, exist_ok=True)
    client = Client(HTTP_HOST="127.0.0.1")
    cases = requests_of(client, loadtest.plan(2, work / "plan.json"))
    pid = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
    gc.freeze()  # as the server does (jingpinke/wsgi.py)
    print(f"{'request':<16} {'CPU ms':>8} {'DB CPU ms':>10} {'wall ms':>8} {'queries':>8}")
    for name, run in cases.items():
        run()  # warm up
        with CaptureQueriesContext(connection) as queries:
            run()
        n_queries = len(queries.captured_queries)  # now: it reads the connection's log, which later requests clear
        db0, cpu0, wall0 = _backend_cpu(pid), time.process_time(), time.perf_counter()
        for _ in range(args.requests):
            run()
        n = args.requests
        print(f"{name:<16} {(time.process_time() - cpu0) / n * 1000:8.1f} {(_backend_cpu(pid) - db0) / n * 1000:10.1f} "
              f"{(time.perf_counter() - wall0) / n * 1000:8.1f} {n_queries:8d}", flush=True)
    return 0
