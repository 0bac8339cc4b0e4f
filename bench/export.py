"""全部申报导出 (exports): the full export of a province's courses as one XLSX.

Seeds a synthetic province with bulk inserts (21 cities, 120 counties, ``--schools`` schools,
``--rows`` courses, each with a lead teacher, one team member, one 课时 with two checked files,
its school entry, and a county / city entry for some), then runs the export job
(``exports.services.run``: query, rows, XLSX, stored file) as the province admin in a fresh child
process, and reports its wall time and the child's peak RSS (VmHWM), with the RSS the child
had before the export started. Targets (issue #12): 200,000 rows in ≤ 15 s and ≤ 300 MB RSS.

    python -m bench export                       # 200,000 rows on a throw-away SQLite database
    python -m bench export --rows 20000
    JPK_DATABASE_URL=postgres://postgres@127.0.0.1:5432/jpk_bench_export python -m bench export
    (PostgreSQL: create the database first; it is emptied (flush) before seeding — use a scratch one.)
    python -m bench export --province --repeat 3  # no seeding: the province of `python -m bench table`
    JPK_DATABASE_URL=postgres://…/jpk_bench_export python -m bench export --province   # (a copy of) its database

``--province`` measures on the synthetic province `bench/province.py` generates (200,000 courses,
five checked files each, 267,000 entries over four levels; as ``pv_province``): on SQLite the
database `python -m bench table` leaves in var/bench/province-1-2024/ (``--data-dir`` for another),
on PostgreSQL the JPK_DATABASE_URL database, which must hold it — never emptied. Each measurement
prints the load average beside it (the machine may be shared: compare runs back to back).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

TARGET_S, TARGET_MB = 15.0, 300.0


def rss_mb() -> float:
    """This process's peak RSS: VmHWM (ru_maxrss would carry the seeding parent's peak across
    fork and exec on Linux)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jingpinke.settings")
    import django

    django.setup()


def seed(rows: int, schools: int) -> dict:
    from django.core.management import call_command
    from django.db import connection, transaction

    if connection.vendor == "postgresql":
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    from campaigns import services as campaign_services
    from campaigns.enums import CampaignStatus
    from catalog.models import CatalogNode, Textbook
    from courses.models import Course, CourseMember, Period, Resource
    from media.models import StoredFile
    from orgs.models import Membership, Role, Unit, UnitKind, User
    from selection.models import Entry

    t0 = time.perf_counter()
    with transaction.atomic():
        province = Unit.objects.create(name="广东省", code="X440000", kind=UnitKind.PROVINCE)
        cities = [Unit.objects.create(name=f"第{i}市", code=f"C{i:04d}", kind=UnitKind.CITY, parent=province)
                  for i in range(1, 22)]
        counties = [Unit.objects.create(name=f"第{i}区", code=f"D{i:04d}", kind=UnitKind.COUNTY,
                                        parent=cities[i % len(cities)]) for i in range(1, 121)]
        school_units = Unit.objects.bulk_create([
            Unit(name=f"第{i}学校", code=f"S{i:07d}", kind=UnitKind.SCHOOL, parent=counties[i % len(counties)])
            for i in range(schools)])
        for s in school_units:  # the materialised path, as Unit.save would set it
            s.path, s.depth = f"{s.parent.path}{s.pk}/", 3
        Unit.objects.bulk_update(school_units, ["path", "depth"], batch_size=2000)
        admin = User.objects.create_user(username="bench_gd_admin", password="x", real_name="省管理员")
        Membership.objects.create(user=admin, unit=province, role=Role.ADMIN)
        campaign = campaign_services.create_from_shipped(admin, "guangdong-2024", province,
                                                         status=CampaignStatus.OPEN)
        levels = {lv.kind: lv for lv in campaign.levels.all()}
        books = [Textbook.objects.create(stage="primary", grade=f"{g}年级", subject=s, version="统编版", volume="上册")
                 for g in "一二三四五六" for s in ("语文", "数学", "英语")]
        nodes = CatalogNode.objects.bulk_create([
            CatalogNode(textbook=b, title=f"第{i}课", label_path=f"第{(i - 1) // 4 + 1}单元 › 第{i}课 秋天的雨", order=i,
                        is_leaf=True) for b in books for i in range(1, 21)])
        teachers = User.objects.bulk_create([User(username=f"bt{i}", real_name=f"教师{i:06d}")
                                             for i in range(rows // 2 + 1)], batch_size=5000)
        stored = StoredFile.objects.create(kind="pdf", size=10, original_name="x.pdf", storage_key="bench/x.pdf", sha256="0" * 64,
                                           owner=admin)
        done = 0
        batch = 10_000
        while done < rows:
            n = min(batch, rows - done)
            ids = range(done, done + n)
            # compliance "warn": the worst of the two files below (pass, warn), set here because bulk
            # inserts skip the signals that keep it, and courses.compliance.refresh's correlated
            # subqueries run for minutes per batch on a fresh PostgreSQL database
            courses = Course.objects.bulk_create([
                Course(campaign=campaign, category="subject", node=nodes[i % len(nodes)], title=f"课程{i}：秋天的雨",
                       lead_teacher=teachers[i // 2], school=school_units[i % len(school_units)], periods_count=1,
                       status="submitted", compliance="warn") for i in ids])
            CourseMember.objects.bulk_create([CourseMember(course=c, user=teachers[(i + 7) // 2 % len(teachers)],
                                                           order=1) for i, c in zip(ids, courses, strict=True)])
            periods = Period.objects.bulk_create([Period(course=c, number=1) for c in courses])
            Resource.objects.bulk_create([Resource(period=p, slot_kind=k, file=stored, status=s) for p in periods
                                          for k, s in (("lesson_plan", "pass"), ("slides", "warn"))])
            entries = []
            for i, c in zip(ids, courses, strict=True):
                school = c.school
                entries.append(Entry(campaign_id=levels["school"].campaign_id, course=c, level=levels["school"], unit=school, node=c.node, node_exclusive=False,
                                     state="recommended" if i % 2 == 0 else "pending"))
                if i % 2 == 0:
                    entries.append(Entry(campaign_id=levels["county"].campaign_id, course=c, level=levels["county"], unit=school.parent, node=c.node,
                                         node_exclusive=False, state="recommended" if i % 4 == 0 else "declined",
                                         awarded=i % 8 == 0))
                if i % 4 == 0 and "city" in levels:
                    entries.append(Entry(campaign_id=levels["city"].campaign_id, course=c, level=levels["city"], unit=school.parent.parent, node=c.node,
                                         node_exclusive=False, state="pending"))
            Entry.objects.bulk_create(entries)
            done += n
    return {"seed_s": round(time.perf_counter() - t0, 1), "admin_id": admin.pk}


def measure(admin_id: int) -> dict:
    """In a fresh process: the export job of every course in the province admin's scope."""
    from exports import services
    from exports.models import ExportJob
    from orgs.models import User

    admin = User.objects.get(pk=admin_id)
    job = ExportJob.objects.create(owner=admin, filters={}, rows_total=0, filename="bench.xlsx")
    before = rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    job = services.run(job.pk)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    size = job.size
    job.file.delete(save=False)
    return {"rows": job.rows_done, "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
            "peak_rss_mb": round(rss_mb(), 1), "rss_before_mb": round(before, 1), "size_mb": round(size / 2**20, 1),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def _measure_child(admin_id: int) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench", "export", "--measure", str(admin_id)],
                         capture_output=True, text=True, env=os.environ.copy(), check=False)
    if out.returncode:
        print(out.stdout, out.stderr, file=sys.stderr)
        raise SystemExit(out.returncode)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench export")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--schools", type=int, default=20_000)
    parser.add_argument("--province", action="store_true",
                        help="measure on the bench province's database instead of seeding one")
    parser.add_argument("--data-dir", help="with --province on SQLite: its JPK_DATA_DIR "
                                           "(default var/bench/province-1-2024)")
    parser.add_argument("--repeat", type=int, default=1, help="measurements, each in a fresh process")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)  # the child: the admin's id
    args = parser.parse_args(argv)
    if args.measure:
        _setup()
        print(json.dumps(measure(args.measure)))
        return 0

    if args.province and not os.environ.get("JPK_DATABASE_URL"):
        from pathlib import Path

        data = Path(args.data_dir or Path(__file__).resolve().parent.parent / "var" / "bench" / "province-1-2024")
        if not (data / "db.sqlite3").exists():
            print(f"no province database in {data}: run `python -m bench table` (or `JPK_DATA_DIR={data} "
                  "python -m bench province`) first", file=sys.stderr)
            return 2
        os.environ["JPK_DATA_DIR"] = str(data)
    elif not os.environ.get("JPK_DATABASE_URL"):
        os.environ.setdefault("JPK_DATA_DIR", tempfile.mkdtemp(prefix="jpk-bench-export-"))
    _setup()
    from django.db import connection

    if args.province:
        from orgs.models import User

        admin = User.objects.filter(username="pv_province").values_list("pk", flat=True).first()
        if admin is None:
            print("this database holds no bench province (no user pv_province)", file=sys.stderr)
            return 2
        seeded = {"seed_s": None, "admin_id": admin, "data": "province"}
        print(f"{connection.vendor}: the bench province, as pv_province", flush=True)
    else:
        seeded = {**seed(args.rows, args.schools), "data": "seeded"}
        print(f"{connection.vendor}: seeded {args.rows:,} courses ({args.schools:,} schools) in {seeded['seed_s']} s",
              flush=True)
    connection.close()
    for _ in range(args.repeat):
        result = _measure_child(seeded["admin_id"])
        ok_s, ok_mb = result["seconds"] <= TARGET_S, result["peak_rss_mb"] <= TARGET_MB
        load = ", ".join(f"{x:.2f}" for x in result["load_average"])
        print(f"export: {result['rows']:,} rows, {result['size_mb']} MiB XLSX in {result['seconds']} s "
              f"(CPU {result['cpu_seconds']} s; target ≤ {TARGET_S:.0f} s: {'met' if ok_s else 'MISSED'}); "
              f"peak RSS {result['peak_rss_mb']} MB (before the export {result['rss_before_mb']} MB; "
              f"target ≤ {TARGET_MB:.0f} MB: {'met' if ok_mb else 'MISSED'}); load average {load}")
        print(json.dumps({"vendor": connection.vendor, **seeded, **result}), flush=True)
    return 0
