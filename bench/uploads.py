"""Upload benchmark: a generated file through the tus endpoint of a real gunicorn on loopback.

`python -m bench uploads [--size-mb N] [--chunk-mb N]` (part of `make bench`). It

1. makes a throw-away data folder inside the checkout's `var/` (the disk the platform writes to),
   migrates it and creates a teacher with an API token;
2. generates the file (random bytes, so nothing compresses) and writes the same bytes once more
   to the same folder with plain Python (read 32 MiB / write / fsync at the end): the raw baseline;
3. starts gunicorn exactly as `make run` does (gthread) on a free port of 127.0.0.1 and uploads
   the file with tuspy (the official tus client) in chunks, measuring the wall time from the
   creation POST to the response of the last PATCH (which includes the server's sha256 pass,
   type sniffing, the move into storage and the database rows);
4. reads the peak resident memory (VmHWM) of the gunicorn worker processes and checks the
   sha256 the server stored.

The server is warm (three small uploads first) and nothing is waiting to be written to the disk
when a measurement starts (`sync`). The raw baseline is the median of three runs.

The figures are printed; README.md's benchmark section records them.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status(pid: int, field: str) -> int:
    """A /proc/<pid>/status field in bytes (VmHWM: peak resident set, VmRSS: now)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def _generate(path: Path, size: int, block: int) -> str:
    digest = hashlib.sha256()
    with open(path, "wb") as fh:
        left = size
        while left:
            data = os.urandom(min(block, left))
            digest.update(data)
            fh.write(data)
            left -= len(data)
    return digest.hexdigest()


def raw_baseline(source: Path, target: Path, block: int, fsync: bool = True) -> float:
    """Seconds to copy ``source`` into ``target`` with plain reads/writes (and one fsync)."""
    start = time.perf_counter()
    with open(source, "rb") as src, open(target, "wb") as dst:
        while data := src.read(block):
            dst.write(data)
        dst.flush()
        if fsync:
            os.fsync(dst.fileno())
    elapsed = time.perf_counter() - start
    target.unlink()
    return elapsed


def _wait_for(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("gunicorn exited before it listened")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not listen in time")


def run(size_mb: int = 1024, chunk_mb: int = 32, workers: int = 2) -> dict:
    import requests
    from tusclient import client as tus_client

    (ROOT / "var").mkdir(exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="bench-uploads-", dir=ROOT / "var"))
    env = {**os.environ, "JPK_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "jingpinke.settings",
           "JPK_UPLOAD_MAX_MB": str(max(1100, size_mb + 1)), "JPK_LOG_LEVEL": "WARNING"}
    env.pop("JPK_DATABASE_URL", None)  # its own SQLite database in the throw-away folder
    py = sys.executable
    gunicorn = None
    (data_dir / "static").mkdir()
    try:
        subprocess.run([py, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        token = subprocess.run(
            [py, "manage.py", "shell", "-c",
             "from orgs.tests.factories import UserFactory; from api.models import ApiToken; "
             "u = UserFactory(username='bench_teacher'); print(ApiToken.issue(u, 'bench')[1])"],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]

        size = size_mb * MiB
        source = data_dir / "source.bin"
        sha256 = _generate(source, size, chunk_mb * MiB)
        os.sync()  # start every measurement with nothing waiting to be written
        raw_runs = []
        for _ in range(3):
            raw_runs.append(raw_baseline(source, data_dir / "raw-copy.bin", chunk_mb * MiB))
            os.sync()
        raw_s = sorted(raw_runs)[1]  # the median of three
        cache_s = raw_baseline(source, data_dir / "raw-copy.bin", chunk_mb * MiB, fsync=False)
        os.sync()

        port = _free_port()
        gunicorn = subprocess.Popen(
            [os.path.join(os.path.dirname(py), "gunicorn"), "jingpinke.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers), "--worker-class", "gthread", "--threads", "4", "--timeout", "300",
             "--no-control-socket", "--log-level", "warning"],
            cwd=ROOT, env=env)
        _wait_for(port, gunicorn)
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {token}"}
        client = tus_client.TusClient(base + "/api/v1/uploads/", headers=headers)
        # A warm server: a few small uploads first, so that every worker has loaded the code.
        warm = data_dir / "warm.bin"
        warm.write_bytes(os.urandom(4 * MiB))
        for _ in range(3):
            client.uploader(str(warm), chunk_size=MiB, metadata={"filename": "warm.bin"}).upload()
        worker_pids = _children(gunicorn.pid)
        idle_rss = max(_status(pid, "VmRSS") for pid in worker_pids)
        os.sync()

        start = time.perf_counter()
        uploader = client.uploader(str(source), chunk_size=chunk_mb * MiB, metadata={"filename": "基准测试 1GB.mp4"})
        uploader.upload()
        upload_s = time.perf_counter() - start
        file_id = uploader.request.response_headers["x-jpk-file-id"]
        peak = max(_status(pid, "VmHWM") for pid in worker_pids)
        info = requests.get(f"{base}/api/v1/files/{file_id}", headers=headers).json()
        if info["sha256"] != sha256 or info["size"] != size:
            raise RuntimeError(f"stored file differs: {info}")
        return {
            "size_mb": size_mb, "chunk_mb": chunk_mb, "workers": workers,
            "raw_s": raw_s, "raw_mbps": size / MiB / raw_s, "cache_s": cache_s, "cache_mbps": size / MiB / cache_s,
            "upload_s": upload_s, "upload_mbps": size / MiB / upload_s,
            "ratio": raw_s / upload_s, "idle_rss_mb": idle_rss / MiB, "peak_rss_mb": peak / MiB,
        }
    finally:
        if gunicorn is not None and gunicorn.poll() is None:
            gunicorn.send_signal(signal.SIGTERM)
            try:
                gunicorn.wait(timeout=20)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
        shutil.rmtree(data_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench uploads", description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="file size in MiB (default 1024 = 1 GiB)")
    parser.add_argument("--chunk-mb", type=int, default=32, help="tus PATCH size in MiB (default 32)")
    args = parser.parse_args(argv)
    r = run(args.size_mb, args.chunk_mb)
    print(f"tus upload of {r['size_mb']} MiB (tuspy, {r['chunk_mb']} MiB chunks, gunicorn gthread x{r['workers']}, loopback)")
    print(f"{'case':<34} {'seconds':>8} {'MiB/s':>8} {'of raw':>7} {'server peak RSS':>16}")
    print(f"{'raw write (same disk, fsync)':<34} {r['raw_s']:>8.2f} {r['raw_mbps']:>8.0f} {'100 %':>7} {'':>16}")
    print(f"{'raw write, no fsync (page cache)':<34} {r['cache_s']:>8.2f} {r['cache_mbps']:>8.0f} "
          f"{r['raw_s'] / r['cache_s'] * 100:>5.0f} % {'':>16}")
    print(f"{'tus upload (sha256, move, rows)':<34} {r['upload_s']:>8.2f} {r['upload_mbps']:>8.0f} "
          f"{r['ratio'] * 100:>5.0f} % {r['peak_rss_mb']:>13.0f} MB")
    print(f"(worker RSS when idle: {r['idle_rss_mb']:.0f} MB; stored sha256 verified)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
