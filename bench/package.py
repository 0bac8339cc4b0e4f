"""Resource-package benchmark: a county's 推荐资源包 (selection/archive.py) of about 1 GiB, downloaded
from a real gunicorn on loopback.

`python -m bench package [--total-mb N] [--courses N] [--parallel N]` (part of `make bench`). It

1. makes a throw-away data folder inside the checkout's `var/` (SQLite and the local media folder,
   as `make run` uses them; with JPK_STORAGE_BACKEND=s3 the files go to that bucket), migrates it, and creates a county (赤坎区) that has recommended
   ``--courses`` courses, each with a 微课视频 and four documents of random bytes (nothing
   compresses) totalling ``--total-mb``, plus an API token of the county admin;
2. reads the same files once with plain Python (1 MiB blocks): the raw baseline. The files were
   just written, so both this and the server read them from the page cache: the figures are the
   platform's own cost (ZIP framing, CRC-32, Django, gunicorn, loopback), not the disk's;
3. starts gunicorn as `make run` does (gthread, 2 workers × 4 threads) on a free port of
   127.0.0.1, warms it up, and downloads the package with `requests` (streamed, 1 MiB blocks,
   counted and dropped): time to the first byte, wall time, MiB/s. Then ``--parallel`` downloads
   at once (aggregate MiB/s);
4. reads the peak resident memory (VmHWM) of the gunicorn worker processes, against their
   resident memory when idle after the warm-up;
5. downloads once more into a file and checks it: every member's sha256 against the manifest
   inside, and the bytes against the files generated in step 1.

The figures are printed; README.md's benchmark section records them.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

from bench.uploads import _children, _free_port, _status, _stop, _wait_for, gunicorn_command  # the same harness

MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [("lesson_plan", "pdf"), ("task_sheet", "pdf"), ("slides", "pptx"), ("exercises", "pdf")]


# --- step 1, run inside the platform (a subprocess with the throw-away settings) -----------------------
def _write_random(path: str, size: int) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    digest = hashlib.sha256()
    with open(path, "wb") as fh:
        left = size
        while left:
            data = os.urandom(min(8 * MiB, left))
            digest.update(data)
            fh.write(data)
            left -= len(data)
    return digest.hexdigest()


class _RandomBytes(io.RawIOBase):
    """``size`` random bytes (nothing compresses), hashed as they are read."""

    def __init__(self, size: int):
        super().__init__()
        self.left, self.digest = size, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = min(len(b), self.left)
        data = os.urandom(n)
        b[:n] = data
        self.digest.update(data)
        self.left -= n
        return n


def _store_random(key: str, size: int) -> str:
    """Write ``size`` random bytes under ``key`` in the default storage; their sha256. Locally straight
    into the media folder; with object storage (JPK_STORAGE_BACKEND=s3) as one (multipart) upload."""
    from django.core.files.storage import default_storage

    from jingpinke import storage as stores

    if not stores.is_s3():
        return _write_random(default_storage.path(key), size)
    source = _RandomBytes(size)
    stores.s3_client().upload_fileobj(io.BufferedReader(source, 8 * MiB), stores.bucket_name(), stores.object_key(key))
    return source.digest.hexdigest()


def read_stored(keys: list[str]) -> None:
    """Step 2 with object storage: read the files once through the store (RangeReader); print
    the seconds and bytes as JSON."""
    from jingpinke.storage import open_reader

    start, total = time.perf_counter(), 0
    for key in keys:
        with open_reader(key) as fh:
            while data := fh.read(MiB):
                total += len(data)
    print(json.dumps([time.perf_counter() - start, total]))


def prepare(total_mb: int, courses: int) -> None:
    """Build the county and its recommended courses; print what the benchmark needs as JSON."""
    from datetime import timedelta

    from django.core.files.storage import default_storage
    from django.utils import timezone

    from api.models import ApiToken
    from campaigns import services as campaign_services
    from campaigns.enums import CampaignStatus
    from catalog.models import CatalogNode, Textbook
    from courses.models import Course, Period, Resource
    from jingpinke import storage as stores
    from media.models import StoredFile
    from media.storage import new_storage_key
    from orgs.models import Role, Unit, UnitKind
    from orgs.tests.factories import UserFactory, member
    from selection import services
    from selection.models import Entry

    province = Unit.objects.create(name="广东省", code="440000", kind=UnitKind.PROVINCE)
    city = Unit.objects.create(name="湛江市", code="440800", kind=UnitKind.CITY, parent=province)
    county = Unit.objects.create(name="赤坎区", code="440802", kind=UnitKind.COUNTY, parent=city)
    school = Unit.objects.create(name="湛江市第二十一小学", code="440802001", kind=UnitKind.SCHOOL, parent=county)
    sysadmin = UserFactory(username="bench_sys", is_superuser=True, is_staff=True)
    county_admin = member(county, Role.ADMIN, username="bench_ck")
    school_admin = member(school, Role.ADMIN, username="bench_school")
    teacher = member(school, Role.TEACHER, username="bench_teacher")
    campaign = campaign_services.create_from_shipped(sysadmin, "zhanjiang-2024", city, status=CampaignStatus.OPEN)
    future = timezone.now() + timedelta(days=30)
    campaign.levels.update(deadline=future, confirm_deadline=future, contact_form_deadline=future)
    textbook = Textbook.objects.create(stage="primary", grade="一年级", subject="数学", version="人教版", volume="上册")

    total = total_mb * MiB
    document = MiB
    video = total // courses - document * len(DOCUMENTS)
    files = {}
    for i in range(1, courses + 1):
        node = CatalogNode.objects.create(textbook=textbook, title=f"第{i}课", label_path=f"第一单元 › 第{i}课", order=i,
                                          is_leaf=True)
        course = Course.objects.create(campaign=campaign, category="subject", node=node, title=f"认识图形（{i}）",
                                       lead_teacher=teacher, school=school, periods_count=1, status="submitted")
        services.enter(teacher, course)
        period = Period.objects.create(course=course, number=1)
        for slot, kind in [("video", "mp4"), *DOCUMENTS]:
            size = video if slot == "video" else document
            key = new_storage_key()
            sha256 = _store_random(key, size)
            stored = StoredFile.objects.create(owner=teacher, storage_key=key, original_name=f"x.{kind}", size=size,
                                               sha256=sha256, kind=kind, probe_status="done")
            Resource.objects.create(period=period, slot_kind=slot, file=stored, status="pass")
            files[key] = sha256
        services.decide(school_admin, Entry.objects.get(course=course, level__kind="school").pk, "recommend")
        services.decide(county_admin, Entry.objects.get(course=course, level__kind="county").pk, "recommend",
                        rank=i)
    print(json.dumps({"campaign": campaign.pk, "county": county.pk, "token": ApiToken.issue(county_admin, "bench")[1],
                      "media": "" if stores.is_s3() else str(default_storage.location), "files": files}))


# --- steps 2 to 5 ---------------------------------------------------------------------------------------
def _raw_read(media: Path, keys) -> tuple[float, int]:
    start, total = time.perf_counter(), 0
    for key in keys:
        with open(media / key, "rb") as fh:
            while data := fh.read(MiB):
                total += len(data)
    return time.perf_counter() - start, total


def _download(url: str, headers: dict, sink=None) -> dict:
    import requests

    start = time.perf_counter()
    with requests.get(url, headers=headers, stream=True, timeout=600) as response:
        response.raise_for_status()
        first, received = None, 0
        for block in response.iter_content(chunk_size=MiB):
            if first is None:
                first = time.perf_counter() - start
            received += len(block)
            if sink is not None:
                sink.write(block)
        elapsed = time.perf_counter() - start
        length = int(response.headers["Content-Length"])
    if received != length:
        raise RuntimeError(f"received {received} bytes, Content-Length said {length}")
    return {"seconds": elapsed, "first_byte": first or elapsed, "bytes": received}


def _verify(path: Path, files: dict[str, str]) -> int:
    """Every member against the manifest inside; every resource's sha256 is one generated."""
    wanted = set(files.values())
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        manifest = next(n for n in names if n.endswith(".csv"))
        rows = list(csv.reader(io.StringIO(archive.read(manifest).decode("utf-8-sig"))))[1:]
        checked = 0
        for row in rows:
            digest = hashlib.sha256()
            with archive.open(row[0]) as member:
                while data := member.read(MiB):
                    digest.update(data)
            if digest.hexdigest() != row[2]:
                raise RuntimeError(f"{row[0]}: sha256 differs from the manifest")
            checked += 1
        resources = {row[2] for row in rows[1:]}
        if resources != wanted or len(names) != len(rows) + 1:
            raise RuntimeError("the package does not hold exactly the generated files")
    return checked


def run(total_mb: int = 1024, courses: int = 8, parallel: int = 2, workers: int = 2) -> dict:
    (ROOT / "var").mkdir(exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="bench-package-", dir=ROOT / "var"))
    env = {**os.environ, "JPK_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "jingpinke.settings",
           "JPK_LOG_LEVEL": "WARNING"}
    env.pop("JPK_DATABASE_URL", None)  # its own SQLite database in the throw-away folder
    for name in ("JPK_MEDIA_DIR", "JPK_UPLOAD_DIR"):
        env.pop(name, None)
    py = sys.executable
    gunicorn = None
    (data_dir / "static").mkdir()
    try:
        subprocess.run([py, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        t0 = time.perf_counter()
        out = subprocess.run(
            [py, "-c", "import django; django.setup(); from bench.package import prepare; "
                       f"prepare({total_mb}, {courses})"],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        made_s = time.perf_counter() - t0
        info = json.loads(out)
        if info["media"]:
            raw_s, raw_bytes = min(_raw_read(Path(info["media"]), info["files"]) for _ in range(3))
        else:  # object storage: read through the store
            raw_s, raw_bytes = min(tuple(json.loads(subprocess.run(
                [py, "-c", "import django, json, sys; django.setup(); from bench.package import read_stored; "
                           "read_stored(json.load(sys.stdin))"],
                cwd=ROOT, env=env, check=True, capture_output=True, text=True, input=json.dumps(list(info["files"])),
            ).stdout.strip().splitlines()[-1])) for _ in range(3))

        port = _free_port()
        gunicorn = subprocess.Popen(gunicorn_command(port, workers), cwd=ROOT, env=env)
        _wait_for(port, gunicorn)
        import requests

        base = f"http://127.0.0.1:{port}/api/v1/selection/campaigns/{info['campaign']}/units/{info['county']}"
        headers = {"Authorization": f"Bearer {info['token']}"}
        for _ in range(6):  # every worker has loaded the code and answered
            requests.get(base, headers=headers, timeout=60).raise_for_status()
        worker_pids = _children(gunicorn.pid)
        idle_rss = max(_status(pid, "VmRSS") for pid in worker_pids)

        url = base + "/package.zip"
        single = _download(url, headers)
        peak_single = max(_status(pid, "VmHWM") for pid in worker_pids)

        results: list[dict] = []
        threads = [threading.Thread(target=lambda: results.append(_download(url, headers))) for _ in range(parallel)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        parallel_s = time.perf_counter() - start
        if len(results) != parallel:
            raise RuntimeError("a parallel download failed")
        peak = max(_status(pid, "VmHWM") for pid in worker_pids)

        target = data_dir / "package.zip"
        with open(target, "wb") as sink:
            _download(url, headers, sink)
        checked = _verify(target, info["files"])
        return {
            "total_mb": total_mb, "courses": courses, "files": len(info["files"]), "workers": workers,
            "made_s": made_s, "package_bytes": single["bytes"], "raw_s": raw_s, "raw_mbps": raw_bytes / MiB / raw_s,
            "single_s": single["seconds"], "single_mbps": single["bytes"] / MiB / single["seconds"],
            "first_byte_ms": single["first_byte"] * 1000, "parallel": parallel, "parallel_s": parallel_s,
            "parallel_mbps": sum(r["bytes"] for r in results) / MiB / parallel_s,
            "idle_rss_mb": idle_rss / MiB, "peak_single_mb": peak_single / MiB, "peak_rss_mb": peak / MiB,
            "checked": checked,
        }
    finally:
        _stop(gunicorn)
        shutil.rmtree(data_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench package", description=__doc__.splitlines()[0])
    parser.add_argument("--total-mb", type=int, default=1024, help="bytes of all files in MiB (default 1024)")
    parser.add_argument("--courses", type=int, default=8, help="recommended courses, 5 files each (default 8)")
    parser.add_argument("--parallel", type=int, default=2, help="simultaneous downloads in the second run")
    args = parser.parse_args(argv)
    r = run(args.total_mb, args.courses, args.parallel)
    print(f"推荐资源包: {r['courses']} courses, {r['files']} files, {r['package_bytes'] / MiB:.0f} MiB "
          f"(gunicorn gthread x{r['workers']}, loopback; files in the page cache; set up in {r['made_s']:.0f} s)")
    print(f"{'case':<40} {'seconds':>8} {'MiB/s':>8} {'first byte':>11} {'worker peak RSS':>16}")
    print(f"{'raw read of the files (1 MiB blocks)':<40} {r['raw_s']:>8.2f} {r['raw_mbps']:>8.0f} {'':>11} {'':>16}")
    print(f"{'package download':<40} {r['single_s']:>8.2f} {r['single_mbps']:>8.0f} "
          f"{r['first_byte_ms']:>8.0f} ms {r['peak_single_mb']:>13.0f} MB")
    label = f"{r['parallel']} downloads at once (aggregate)"
    print(f"{label:<40} {r['parallel_s']:>8.2f} {r['parallel_mbps']:>8.0f} "
          f"{'':>11} {r['peak_rss_mb']:>13.0f} MB")
    print(f"(worker RSS when idle: {r['idle_rss_mb']:.0f} MB; {r['checked']} members checked against the manifest "
          "and the generated sha256)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
