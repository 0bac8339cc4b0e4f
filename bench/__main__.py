"""`make bench`: measure the platform on this machine. Figures go to stdout and README.md by hand.

Sections: `pages` (below), `probe` (bench/probe.py: probe time per video), `uploads` (bench/uploads.py: a 1 GiB tus upload through gunicorn),
`package` (bench/package.py: a county's ~1 GiB resource package downloaded from gunicorn),
`assign` (bench/assign.py: reviewer assignment, 5,000 entries × 300 experts, N = 3),
`ranking` (bench/ranking.py: aggregation and ranking of 20,000 entries and 60,000 scores)
`proposal` (bench/proposal.py: ranking + recommendation proposal for a province of 20,000 entries)
`certificates` (bench/certificates.py: issuing 5,000 certificates and streaming them as one ZIP)
`originality` (bench/originality.py: recall and false positives of video copies, signing speed, index query)
`export` (bench/export.py: the full XLSX export of 200,000 courses, time and peak RSS)
and `table` (bench/table.py: a synthetic province of 200,000 courses, bench/province.py, and one table of every
list, recommend/return, uploads side by side with @tus/server, probes and a locust run; SQLite, or PostgreSQL
through JPK_DATABASE_URL; results also in bench/results/);
`python -m bench uploads --size-mb 256` runs one section with its options.

Runs against a throw-away SQLite database with the demo loaded (or PostgreSQL when
JPK_DATABASE_URL is set), through the full Django stack (test client: middleware, auth,
templates), so the figures are per-request server time without the network.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pages(argv: list[str] | None = None) -> int:
    data_dir = tempfile.mkdtemp(prefix="jpk-bench-")
    os.environ.setdefault("JPK_DATA_DIR", data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jingpinke.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import override_settings

    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    call_command("load_demo", verbosity=0)
    load_s = time.perf_counter() - t0

    from bench.cases import CASES
    from orgs.models import User

    rows = []
    with override_settings(DEBUG=True, ALLOWED_HOSTS=["*"], STORAGES={
        **settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}):
        for name, username, url in CASES:
            url = url() if callable(url) else url
            client = Client()
            if username:
                client.force_login(User.objects.get(username=username))
            client.get(url)  # warm up
            times, queries = [], 0
            for _ in range(30):
                reset_queries()
                start = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
                queries = len(connection.queries)
            rows.append((name, response.status_code, statistics.median(times), max(times), queries))

    print(f"database: {connection.vendor}; demo load: {load_s:.2f} s")
    print(f"{'case':<40} {'status':>6} {'median ms':>10} {'max ms':>8} {'queries':>8}")
    for name, status, median, worst, queries in rows:
        print(f"{name:<40} {status:>6} {median:>10.1f} {worst:>8.1f} {queries:>8}")
    return 0


def uploads(argv: list[str] | None = None) -> int:
    from bench import uploads as upload_bench

    return upload_bench.main(argv or [])


# `python -m bench` runs every section; `python -m bench <section> [options]` runs one.
def probes(argv: list[str] | None = None) -> int:
    from bench import probe as probe_bench

    return probe_bench.main(argv or [])


def proposal(argv: list[str] | None = None) -> int:
    from bench import proposal as proposal_bench

    return proposal_bench.main(argv or [])


def package(argv: list[str] | None = None) -> int:
    from bench import package as package_bench

    return package_bench.main(argv or [])


def assign(argv: list[str] | None = None) -> int:
    from bench import assign as assign_bench

    return assign_bench.main(argv or [])


def ranking(argv: list[str] | None = None) -> int:
    from bench import ranking as ranking_bench

    return ranking_bench.main(argv or [])


def certificates(argv: list[str] | None = None) -> int:
    from bench import certificates as certificates_bench

    return certificates_bench.main(argv or [])


def originality(argv: list[str] | None = None) -> int:
    from bench import originality as originality_bench

    return originality_bench.main(argv or [])


def export(argv: list[str] | None = None) -> int:
    from bench import export as export_bench

    return export_bench.main(argv or [])
def province(argv: list[str] | None = None) -> int:
    from bench import province as province_bench

    return province_bench.main(argv or [])


def cpu(argv: list[str] | None = None) -> int:
    from bench import cpu as cpu_bench

    return cpu_bench.main(argv or [])


def table(argv: list[str] | None = None) -> int:
    from bench import table as table_bench

    return table_bench.main(argv or [])


SECTIONS = {"pages": pages, "probe": probes, "uploads": uploads, "package": package, "assign": assign,
            "ranking": ranking, "proposal": proposal, "certificates": certificates,
            "originality": originality, "export": export, "table": table}
# Run only when asked (`python -m bench province`): `table` generates its own province; `cpu` measures
# the locust mix's requests one type at a time on the province a table run left (bench/cpu.py).
ON_DEMAND = {"province": province, "cpu": cpu}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in {**SECTIONS, **ON_DEMAND}:
        return {**SECTIONS, **ON_DEMAND}[argv[0]](argv[1:])
    if argv:
        print(f"unknown section {argv[0]!r}; sections: {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    failed = []
    for name in SECTIONS:
        print(f"\n== {name}", flush=True)
        # Each section in its own process: its own throw-away database (sections seed data that
        # collide in a shared one: the export's textbooks were the demo's that `pages` loaded, and
        # `make bench` stopped there) and its own peak RSS (the certificates' included the pages').
        done = subprocess.run([sys.executable, "-m", "bench", name], cwd=ROOT)
        if done.returncode:
            failed.append((name, done.returncode))
    if failed:
        # The sections' output is long; the failures are named again at its end, where they are seen.
        print("\nsections that failed: " + ", ".join(f"{name} (exit {rc})" for name, rc in failed), flush=True)
        return failed[-1][1]
    print("\nevery section ran", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
