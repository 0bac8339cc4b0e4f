"""Upload benchmark: a generated file through the tus endpoint of a real gunicorn on loopback.

`python -m bench uploads [--size-mb N] [--chunk-mb N] [--rounds N] [--clients a,b]` (part of `make bench`).

1. A throw-away data folder inside the checkout's `var/` (the disk the platform writes to) is
   migrated, and a teacher with an API token is created; the file is generated there (random bytes,
   so nothing compresses).
2. gunicorn is started as `make run` starts it (`manage.py serve`: gthread, 2 workers, 4 threads)
   on a free port of 127.0.0.1, with one background task worker (`manage.py db_worker`, as
   `make run` starts it), and warmed up with three small uploads.
3. Each round runs the raw baseline and then every client, one after the other, with nothing
   waiting to be written to the disk before each (`sync`). Each upload is compared with the baseline
   of its own round, so that a machine busy with something else for a while moves both.

The raw baseline writes the same bytes into the same folder the way a careful program does: read
from the file into one reused 1 MiB buffer, write, `fsync` at the end; it is the faster of two such
copies, one that leaves all the writing to the `fsync` and one that starts the disk writing every
8 MiB during the copy (`sync_file_range`, as the server does; it wins when the disk is slower than
the copy). The server ends the same way (the bytes are on the disk when the last PATCH is
answered), so both are measured to durability. A copy that stops at the page cache (no `fsync`)
is shown too, for scale, and two floors no upload can go below: hashing the bytes with sha256 in
one thread (the server must, and a hash cannot be split across cores) and moving them over
loopback TCP with nothing else (`sendfile` → `recv_into` a reused buffer).

The clients all speak tus 1.0 as every other client does (creation POST, then PATCHes with
`Upload-Offset`, `Content-Type: application/offset+octet-stream` and `Content-Length`):

- `sendfile`: `http.client` over one keep-alive connection, PATCHes of `--chunk-mb` (32 MiB, the
  upload widget's chunk), each body handed to the kernel with `socket.sendfile` from the file. It
  costs the shared CPU least, so it shows what the server can take.
- `tuspy`: the official Python client with `chunk_size` = `--chunk-mb` (as in README's example):
  each chunk is read into a new `bytes` and sent by `requests` over a new connection.
- `tuspy-default`: tuspy with its default chunk size (the whole file in one PATCH, read into memory
  first).

Upload time runs from the creation POST to the answer to the last PATCH, so it includes type
sniffing, `fsync`, the move into storage and the database rows. The file's sha256 is not computed
on the upload's path but by its background check in the worker: the time from the answer until the
file's API shows the sha256 is measured too (it includes the worker's polling of the queue, one
second when idle), and the stored sha256 and size are checked after each upload, before the next
one starts (so the worker's hashing never overlaps an upload). For every upload the CPU time of the client (this
process) and of the gunicorn workers (`/proc/<pid>/stat`) is recorded, and the workers' peak
resident memory (`VmHWM`, reset before each upload through `/proc/<pid>/clear_refs` where allowed).

The figures are printed; README.md's benchmark section records them.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parent.parent
CLIENTS = ("sendfile", "tuspy", "tuspy-default")
TICKS = os.sysconf("SC_CLK_TCK")


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


def _cpu_seconds(pids: list[int]) -> tuple[float, float]:
    """(user, system) CPU seconds the processes have used so far."""
    user = system = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
        user, system = user + int(fields[11]), system + int(fields[12])  # utime, stime
    return user / TICKS, system / TICKS


def _cpu_with_children(pid: int) -> float:
    """CPU seconds (user + system) of a process and of its children it has waited for (a task
    worker's ffprobe/ffmpeg runs)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / TICKS  # utime, stime, cutime, cstime


def _queue_busy(database: Path) -> int:
    """Tasks waiting to run now or running in the task queue of the SQLite ``database`` (read-only)."""
    import sqlite3

    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=20)
    try:
        return conn.execute(
            "SELECT COUNT(*) FROM django_tasks_database_dbtaskresult WHERE status = 'RUNNING' OR (status = 'READY' AND "
            "(run_after >= '9999' OR run_after <= strftime('%Y-%m-%d %H:%M:%f', 'now')))").fetchone()[0]  # 9999: no run_after
    finally:
        conn.close()


def wait_until_idle(database: Path, worker: subprocess.Popen, timeout: float = 300, settle: float = 0.3) -> float:
    """Wait until the background task worker has nothing to do (no task ready or running for
    ``settle`` seconds, so that a task enqueued by the one that just ended is seen); the seconds waited."""
    start = time.perf_counter()
    idle_since = None
    while True:
        if worker.poll() is not None:
            raise RuntimeError("the task worker exited")
        now = time.perf_counter()
        if _queue_busy(database):
            idle_since = None
        elif idle_since is None:
            idle_since = now
        elif now - idle_since >= settle:
            return idle_since - start
        if now - start > timeout:
            raise RuntimeError(f"the task worker was still busy after {timeout} s")
        time.sleep(0.05)


def _reset_peak(pids: list[int]) -> bool:
    try:
        for pid in pids:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:  # not allowed here: the peak is then the peak since the start
        return False


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def _generate(path: Path, size: int, block: int = 32 * MiB) -> str:
    digest = hashlib.sha256()
    with open(path, "wb") as fh:
        left = size
        while left:
            data = os.urandom(min(block, left))
            digest.update(data)
            fh.write(data)
            left -= len(data)
    return digest.hexdigest()


def raw_baseline(source: Path, target: Path, block: int = MiB, fsync: bool = True, writeback: bool = False) -> float:
    """Seconds to copy ``source`` into ``target`` through one reused buffer (and one fsync).

    ``writeback``: start writing to the disk every 8 MiB during the copy (``sync_file_range``, as
    the server does), so that the fsync at the end has less to wait for.
    """
    from media.storage import WRITEBACK_EVERY, start_writeback

    buffer = bytearray(block)
    view = memoryview(buffer)
    start = time.perf_counter()
    with open(source, "rb", buffering=0) as src, open(target, "wb", buffering=0) as dst:
        written = flushed = 0
        while n := src.readinto(buffer):
            dst.write(view[:n])
            written += n
            if writeback and written - flushed >= WRITEBACK_EVERY:
                start_writeback(dst.fileno(), flushed, written - flushed)
                flushed = written
        if fsync:
            os.fsync(dst.fileno())
    elapsed = time.perf_counter() - start
    target.unlink()
    return elapsed


def sha256_floor(source: Path, block: int = MiB) -> float:
    """Seconds to sha256 the file's bytes in one thread (from the page cache; a hash cannot be split)."""
    digest, buffer = hashlib.sha256(), bytearray(block)
    view = memoryview(buffer)
    with open(source, "rb", buffering=0) as fh:
        start = time.perf_counter()
        while n := fh.readinto(buffer):
            digest.update(view[:n])
        return time.perf_counter() - start


def tcp_floor(source: Path, target: Path | None = None, block: int = MiB) -> float:
    """Seconds to move the file's bytes over loopback TCP: ``sendfile`` in one thread, ``recv_into``
    one reused buffer in another. With no ``target``, nothing else (what receiving costs at best);
    with one, each block is also written there, writeback every 8 MiB, ``fsync`` at the end: the
    server's own data path without HTTP, Django or the database."""
    from media.storage import WRITEBACK_EVERY, start_writeback

    with socket.create_server(("127.0.0.1", 0)) as server:
        sender = socket.create_connection(server.getsockname())
        receiver, _ = server.accept()
    buffer = bytearray(block)
    view = memoryview(buffer)

    def send():
        with open(source, "rb") as fh, sender:
            sender.sendfile(fh)

    start = time.perf_counter()
    thread = threading.Thread(target=send)
    thread.start()
    with receiver, (open(target, "wb", buffering=0) if target else open(os.devnull, "wb")) as dst:
        written = flushed = 0
        while n := receiver.recv_into(view):
            if target:
                dst.write(view[:n])
                written += n
                if written - flushed >= WRITEBACK_EVERY:
                    start_writeback(dst.fileno(), flushed, written - flushed)
                    flushed = written
        if target:
            os.fsync(dst.fileno())
    thread.join()
    elapsed = time.perf_counter() - start
    if target:
        target.unlink()
    return elapsed


def _start_server(data_dir: Path, size_mb: int, workers: int) -> tuple[dict, str, Path, str, int, subprocess.Popen]:
    """Migrate a throw-away SQLite database in ``data_dir``, issue a teacher's API token, generate the
    ``size_mb`` source file, start gunicorn as ``make run`` does: (env, token, source, sha256, port, gunicorn)."""
    env = {**os.environ, "JPK_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "jingpinke.settings",
           "JPK_UPLOAD_MAX_MB": str(max(1100, size_mb + 1)), "JPK_LOG_LEVEL": "WARNING"}
    env.pop("JPK_DATABASE_URL", None)  # its own SQLite database in the throw-away folder
    py = sys.executable
    (data_dir / "static").mkdir()
    subprocess.run([py, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    token = subprocess.run(
        [py, "manage.py", "shell", "-c",
         "from orgs.tests.factories import UserFactory; from api.models import ApiToken; "
         "u = UserFactory(username='bench_teacher'); print(ApiToken.issue(u, 'bench')[1])"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    source = data_dir / "source.bin"
    sha256 = _generate(source, size_mb * MiB)
    port = _free_port()
    gunicorn = subprocess.Popen(gunicorn_command(port, workers), cwd=ROOT, env=env)
    return env, token, source, sha256, port, gunicorn


def gunicorn_command(port: int, workers: int, timeout: int = 300) -> list[str]:
    """gunicorn as `manage.py serve` starts it (gthread, 4 threads, 5 s keep-alive), on loopback."""
    return [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "jingpinke.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--worker-class", "gthread",
            "--threads", "4", "--timeout", str(timeout), "--keep-alive", "5", "--no-control-socket",
            "--log-level", "warning"]


def _stop(proc: subprocess.Popen | None) -> None:
    """SIGTERM a child process (gunicorn, a worker) and wait for it; kill it after 20 s."""
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


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


def _check(status: int, expected: int, what: str, body: bytes = b"") -> None:
    if status != expected:
        raise RuntimeError(f"{what}: HTTP {status}, expected {expected}: {body.decode(errors='replace')[:300]}")


def sendfile_upload(endpoint: str, headers: dict, path: Path, chunk: int, name: str) -> str:
    """A lean tus client: creation POST, then PATCHes of ``chunk`` bytes over one keep-alive
    connection, each body sent from the file by the kernel (``socket.sendfile``). Returns the file id."""
    parts = urlsplit(endpoint)
    size = path.stat().st_size
    tus = {"Tus-Resumable": "1.0.0", **headers}
    conn = http.client.HTTPConnection(parts.hostname, parts.port)
    try:
        meta = "filename " + base64.b64encode(name.encode()).decode()
        conn.request("POST", parts.path, headers={**tus, "Upload-Length": str(size), "Upload-Metadata": meta})
        response = conn.getresponse()
        body = response.read()
        _check(response.status, 201, "creation POST", body)
        location = urlsplit(response.getheader("Location")).path
        offset, file_id = 0, response.getheader("X-Jpk-File-Id")
        with open(path, "rb") as fh:
            while offset < size:
                n = min(chunk, size - offset)
                conn.putrequest("PATCH", location, skip_accept_encoding=True)
                for key, value in {**tus, "Upload-Offset": str(offset), "Content-Length": str(n),
                                   "Content-Type": "application/offset+octet-stream"}.items():
                    conn.putheader(key, value)
                conn.endheaders()
                conn.sock.sendfile(fh, offset, n)
                response = conn.getresponse()
                body = response.read()
                _check(response.status, 204, f"PATCH at {offset}", body)
                offset = int(response.getheader("Upload-Offset"))
                file_id = response.getheader("X-Jpk-File-Id") or file_id
        return file_id
    finally:
        conn.close()


def tuspy_upload(endpoint: str, headers: dict, path: Path, chunk: int | None, name: str) -> str:
    from tusclient import client as tus_client

    client = tus_client.TusClient(endpoint, headers=headers)
    options = {"chunk_size": chunk} if chunk else {}  # None: tuspy's default (the whole file at once)
    uploader = client.uploader(str(path), metadata={"filename": name}, **options)
    uploader.upload()
    return uploader.request.response_headers["x-jpk-file-id"]


def _wait_for_sha256(base: str, headers: dict, file_id: str, timeout: float = 120) -> dict:
    """The file's API answer once its background check has recorded the sha256."""
    import requests

    deadline = time.monotonic() + timeout
    while True:
        info = requests.get(f"{base}/api/v1/files/{file_id}", headers=headers).json()
        if info["sha256"]:
            return info
        if time.monotonic() > deadline:
            raise RuntimeError(f"no sha256 recorded within {timeout} s: {info}")
        time.sleep(0.02)


def _upload(kind: str, endpoint: str, headers: dict, path: Path, chunk: int) -> str:
    name = "基准测试 1GB.mp4"
    if kind == "sendfile":
        return sendfile_upload(endpoint, headers, path, chunk, name)
    if kind == "tuspy":
        return tuspy_upload(endpoint, headers, path, chunk, name)
    if kind == "tuspy-default":
        return tuspy_upload(endpoint, headers, path, None, name)
    raise ValueError(kind)


def run(size_mb: int = 1024, chunk_mb: int = 32, rounds: int = 3, clients=CLIENTS, workers: int = 2,
        progress=print) -> dict:
    (ROOT / "var").mkdir(exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="bench-uploads-", dir=ROOT / "var"))
    py = sys.executable
    gunicorn = worker = None
    try:
        env, token, source, sha256, port, gunicorn = _start_server(data_dir, size_mb, workers)
        size = size_mb * MiB
        _wait_for(port, gunicorn)
        base = f"http://127.0.0.1:{port}"
        endpoint = base + "/api/v1/uploads/"
        headers = {"Authorization": f"Bearer {token}"}
        # A warm server: a few small uploads first, so that every worker has loaded the code.
        warm = data_dir / "warm.bin"
        warm.write_bytes(os.urandom(4 * MiB))
        worker = subprocess.Popen([py, "manage.py", "db_worker", "--queue-name", "*"], cwd=ROOT, env=env)
        for kind in ("tuspy", "sendfile", "tuspy"):
            _wait_for_sha256(base, headers, _upload(kind, endpoint, headers, warm, MiB), timeout=60)
        worker_pids = _children(gunicorn.pid)
        idle_rss = max(_status(pid, "VmRSS") for pid in worker_pids)

        results: dict = {"raw": [], "cache": [], "sha256": [], "tcp": [], "tcp_file": [],
                         **{kind: [] for kind in clients}}
        load_before = os.getloadavg()[0]
        peak_reset = True
        for r in range(rounds):
            # The baseline is the faster of two careful copies: all at once then fsync, and with the
            # disk writing during the copy (which wins when the disk is slower than the copy).
            os.sync()
            plain_s = raw_baseline(source, data_dir / "raw-copy.bin")
            os.sync()
            writeback_s = raw_baseline(source, data_dir / "raw-copy.bin", writeback=True)
            raw_s = min(plain_s, writeback_s)
            results["raw"].append({"seconds": raw_s, "plain": plain_s, "writeback": writeback_s})
            os.sync()
            results["cache"].append({"seconds": raw_baseline(source, data_dir / "raw-copy.bin", fsync=False)})
            results["sha256"].append({"seconds": sha256_floor(source)})
            results["tcp"].append({"seconds": tcp_floor(source)})
            os.sync()
            results["tcp_file"].append({"seconds": tcp_floor(source, data_dir / "tcp-copy.bin")})
            progress(f"round {r + 1}: raw {plain_s:.2f} s, with early writeback {writeback_s:.2f} s", file=sys.stderr)
            for kind in clients:
                os.sync()
                peak_reset = _reset_peak(worker_pids) and peak_reset
                server_cpu, client_cpu = _cpu_seconds(worker_pids), os.times()
                start = time.perf_counter()
                file_id = _upload(kind, endpoint, headers, source, chunk_mb * MiB)
                seconds = time.perf_counter() - start
                client_after = os.times()
                row = {
                    "seconds": seconds, "ratio": raw_s / seconds,
                    "server_user": _cpu_seconds(worker_pids)[0] - server_cpu[0],
                    "server_sys": _cpu_seconds(worker_pids)[1] - server_cpu[1],
                    "client_cpu": (client_after.user - client_cpu.user) + (client_after.system - client_cpu.system),
                    "peak_rss": max(_status(pid, "VmHWM") for pid in worker_pids),
                }
                info = _wait_for_sha256(base, headers, file_id)
                row["hashed_after"] = time.perf_counter() - start - seconds
                if info["sha256"] != sha256 or info["size"] != size:
                    raise RuntimeError(f"stored file differs: {info}")
                results[kind].append(row)
                progress(f"round {r + 1}: {kind} {seconds:.2f} s ({row['ratio'] * 100:.0f} % of raw)", file=sys.stderr)
                # Keep the disk from filling up: the stored copy is not needed any more.
                for stored in (data_dir / "media" / "files").glob("*/*"):
                    stored.unlink()
        return {"size_mb": size_mb, "chunk_mb": chunk_mb, "workers": workers, "rounds": rounds,
                "idle_rss": idle_rss, "peak_reset": peak_reset, "results": results,
                "load": (load_before, os.getloadavg()[0])}
    finally:
        _stop(worker)
        _stop(gunicorn)
        shutil.rmtree(data_dir, ignore_errors=True)


def _span(values, fmt: str, unit: str = "") -> str:
    low, high = format(min(values), fmt), format(max(values), fmt)
    return (low if low == high else f"{low}–{high}") + unit


LABELS = {"sendfile": "tus, http.client + sendfile, {chunk} MiB", "tuspy": "tus, tuspy, {chunk} MiB chunks",
          "tuspy-default": "tus, tuspy, default (one PATCH)"}


def report(r: dict) -> None:
    size, results = r["size_mb"], r["results"]
    raw = [row["seconds"] for row in results["raw"]]
    rows = [("raw write, same disk, fsync: baseline", raw, "100 %", "", "", "", "")]
    for key, label in (("plain", "  copy, then fsync"), ("writeback", "  copy with early writeback, fsync")):
        rows.append((label, [row[key] for row in results["raw"]], "", "", "", "", ""))
    cache = [row["seconds"] for row in results["cache"]]
    cache_ratio = _span([a / b * 100 for a, b in zip(raw, cache, strict=False)], ".0f", " %")
    rows.append(("raw write, no fsync (page cache)", cache, cache_ratio, "", "", "", ""))
    floors = (("sha256", "floor: sha256 of the bytes, one core"), ("tcp", "floor: loopback TCP, sendfile→recv"),
              ("tcp_file", "floor: TCP into a file, fsync"))
    for key, label in floors:
        seconds = [row["seconds"] for row in results[key]]
        rows.append((label, seconds, _span([a / b * 100 for a, b in zip(raw, seconds, strict=False)], ".0f", " %"), "", "", "", ""))
    for kind, uploads in results.items():
        if kind in ("raw", "cache", "sha256", "tcp", "tcp_file"):
            continue
        ratios = [row["ratio"] * 100 for row in uploads]
        rows.append((
            LABELS[kind].format(chunk=r["chunk_mb"]), [row["seconds"] for row in uploads],
            f"{_span(ratios, '.0f', ' %')} ({statistics.median(ratios):.0f})",
            " + ".join(_span([row[key] for row in uploads], ".1f") for key in ("server_user", "server_sys")),
            _span([row["client_cpu"] for row in uploads], ".2f"),
            _span([row["peak_rss"] / MiB for row in uploads], ".0f", " MB"),
            _span([row["hashed_after"] for row in uploads], ".1f", " s"),
        ))
    print(f"{size} MiB through the tus endpoint of gunicorn (gthread x{r['workers']}, 4 threads) on loopback, "
          f"{r['rounds']} rounds; load average {r['load'][0]:.1f} before, {r['load'][1]:.1f} after")
    header = ("case", "seconds", "MiB/s", "of raw (median)", "server CPU usr + sys", "client CPU", "server peak RSS",
              "sha256 after")
    widths = (38, 11, 10, 16, 21, 10, 15, 12)
    print(" ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths, strict=False))))
    for label, seconds, ratio, server, client, rss, hashed in rows:
        cells = (label, _span(seconds, ".2f"), _span([size / s for s in seconds], ".0f"), ratio, server, client, rss,
                 hashed)
        print(" ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=False))))
    peak = "per upload" if r["peak_reset"] else "since the start (could not reset it)"
    print(f"(of raw: each upload against the baseline of its round; worker RSS when idle: "
          f"{r['idle_rss'] / MiB:.0f} MB; peak RSS {peak}; sha256 after: from the upload's answer until the "
          f"background check had recorded it, then verified)")


# --- side by side with the reference tus server (issue 12) -----------------------------------
TUSNODE_SOURCE = ROOT / "bench" / "tusnode"  # package.json (pinned versions) and server.mjs
TUSNODE_DIR = ROOT / "var" / "bench" / "tusnode"  # where the bench installs them from npm


def ensure_tusnode(progress=print) -> Path:
    """@tus/server + @tus/file-store installed from npm into var/bench/tusnode (once per version)."""
    TUSNODE_DIR.mkdir(parents=True, exist_ok=True)
    wanted = (TUSNODE_SOURCE / "package.json").read_text()
    installed = TUSNODE_DIR / "package.json"
    for name in ("package.json", "server.mjs"):
        shutil.copyfile(TUSNODE_SOURCE / name, TUSNODE_DIR / name)
    if not (TUSNODE_DIR / "node_modules" / "@tus" / "server").is_dir() or installed.read_text() != wanted:
        progress("installing @tus/server and @tus/file-store from npm into var/bench/tusnode", file=sys.stderr)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=TUSNODE_DIR, check=True)
    return TUSNODE_DIR


def _tree_rss(pids: list[int], field: str) -> int:
    return sum(_status(pid, field) for pid in pids)


def versus(size_mb: int = 1024, chunk_mb: int = 32, rounds: int = 3, workers: int = 2, progress=print) -> dict:
    """The same file, the same client (``sendfile_upload``: 32 MiB PATCHes over one keep-alive
    connection), through jingpinke (gunicorn as `make run` starts it, with its background worker)
    and through @tus/server + @tus/file-store on node, in alternating order round by round.

    Every upload, to either server, starts with jingpinke's task worker idle (``wait_until_idle``):
    its checks of the previous file (sha256, probe, originality) are not the upload's path and
    must not slow down the next upload of either server. They are timed apart, from the answer
    until the worker is idle again (``worker_seconds``, ``worker_cpu``)."""
    node_dir = ensure_tusnode(progress)
    (ROOT / "var").mkdir(exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="bench-versus-", dir=ROOT / "var"))
    py = sys.executable
    gunicorn = worker = node = None
    try:
        env, token, source, sha256, port, gunicorn = _start_server(data_dir, size_mb, workers)
        size = size_mb * MiB
        _wait_for(port, gunicorn)
        worker = subprocess.Popen([py, "manage.py", "db_worker", "--queue-name", "*"], cwd=ROOT, env=env)
        node_files = data_dir / "tusnode-files"
        node_files.mkdir()
        node_port = _free_port()
        node = subprocess.Popen(["node", "server.mjs", str(node_port), str(node_files)], cwd=node_dir,
                                stdout=subprocess.DEVNULL)
        _wait_for(node_port, node)
        servers = {
            "jingpinke": (f"http://127.0.0.1:{port}/api/v1/uploads/", {"Authorization": f"Bearer {token}"}),
            "tus-node": (f"http://127.0.0.1:{node_port}/files/", {}),
        }
        warm = data_dir / "warm.bin"
        warm.write_bytes(os.urandom(4 * MiB))
        for endpoint, headers in servers.values():  # every worker has loaded its code
            for _ in range(3):
                sendfile_upload(endpoint, headers, warm, MiB, "warm.bin")
        for f in node_files.iterdir():
            f.unlink()
        pids = {"jingpinke": _children(gunicorn.pid), "tus-node": [node.pid]}
        idle = {name: _tree_rss(p, "VmRSS") if name == "tus-node" else max(_status(x, "VmRSS") for x in p)
                for name, p in pids.items()}
        results: dict = {name: [] for name in servers}
        database = data_dir / "db.sqlite3"
        load_before = os.getloadavg()[0]
        for r in range(rounds):
            order = list(servers) if r % 2 == 0 else list(reversed(servers))
            for name in order:
                endpoint, headers = servers[name]
                # Neither server shares the machine with the task worker's checks of an earlier file.
                wait_until_idle(database, worker)
                os.sync()
                _reset_peak(pids[name])
                cpu, worker_cpu = _cpu_seconds(pids[name]), _cpu_with_children(worker.pid)
                start = time.perf_counter()
                file_id = sendfile_upload(endpoint, headers, source, chunk_mb * MiB, "基准测试 1GB.mp4")
                seconds = time.perf_counter() - start
                after = _cpu_seconds(pids[name])
                row = {"seconds": seconds, "cpu": (after[0] - cpu[0]) + (after[1] - cpu[1]),
                       "peak_rss": max(_status(pid, "VmHWM") for pid in pids[name])}
                results[name].append(row)
                if name == "jingpinke":
                    # The task worker's checks of the file (sha256, probe, originality) are not the
                    # upload's path: timed apart, from the answer until the worker is idle again.
                    row["worker_seconds"] = time.perf_counter() - start - seconds + wait_until_idle(database, worker)
                    row["worker_cpu"] = _cpu_with_children(worker.pid) - worker_cpu
                    info = _wait_for_sha256(f"http://127.0.0.1:{port}", headers, file_id)
                    if info["size"] != size or info["sha256"] != sha256:
                        raise RuntimeError(f"stored file differs: {info}")
                    for stored in (data_dir / "media" / "files").glob("*/*"):
                        stored.unlink()
                else:
                    stored = [f for f in node_files.iterdir() if not f.name.endswith(".json")]
                    if [f.stat().st_size for f in stored] != [size]:
                        raise RuntimeError(f"tus-node stored {[f.stat().st_size for f in stored]}, expected {size}")
                    for f in node_files.iterdir():
                        f.unlink()
                progress(f"round {r + 1}: {name} {seconds:.2f} s ({size_mb / seconds:.0f} MiB/s)", file=sys.stderr)
        jpk = statistics.median(row["seconds"] for row in results["jingpinke"])
        ref = statistics.median(row["seconds"] for row in results["tus-node"])
        return {"size_mb": size_mb, "chunk_mb": chunk_mb, "rounds": rounds, "workers": workers, "results": results,
                "idle_rss": idle, "ratio": ref / jpk, "ratios": [n["seconds"] / j["seconds"] for j, n in
                                                               zip(results["jingpinke"], results["tus-node"], strict=False)],
                "load": (load_before, os.getloadavg()[0]), "versions": json.loads(
                    (TUSNODE_SOURCE / "package.json").read_text())["dependencies"]}
    finally:
        _stop(node)
        _stop(worker)
        _stop(gunicorn)
        shutil.rmtree(data_dir, ignore_errors=True)


def versus_report(r: dict) -> None:
    print(f"{r['size_mb']} MiB, sendfile client, {r['chunk_mb']} MiB PATCHes, {r['rounds']} alternating rounds; "
          f"load average {r['load'][0]:.1f} before, {r['load'][1]:.1f} after")
    print(f"{'server':<44} {'seconds':>12} {'MiB/s':>10} {'server CPU s':>12} {'peak RSS':>10}")
    labels = {"jingpinke": f"jingpinke (gunicorn gthread x{r['workers']}, 4 threads)",
              "tus-node": "@tus/server {} + @tus/file-store {}".format(r["versions"]["@tus/server"],
                                                                      r["versions"]["@tus/file-store"])}
    for name, rows in r["results"].items():
        seconds = [row["seconds"] for row in rows]
        print(f"{labels[name]:<44} {_span(seconds, '.2f'):>12} {_span([r['size_mb'] / s for s in seconds], '.0f'):>10} "
              f"{_span([row['cpu'] for row in rows], '.1f'):>12} "
              f"{_span([row['peak_rss'] / MiB for row in rows], '.0f', ' MB'):>10}")
    print("idle RSS: " + ", ".join(f"{k} {v / MiB:.0f} MB" for k, v in r["idle_rss"].items()))
    jpk = r["results"]["jingpinke"]
    print(f"jingpinke's task worker, apart (sha256, probe, originality of each file; every upload of either server "
          f"starts with the worker idle): busy {_span([row['worker_seconds'] for row in jpk], '.1f', ' s')} after the "
          f"answer (its 1 s polling included), {_span([row['worker_cpu'] for row in jpk], '.1f', ' s')} of CPU")
    print(f"throughput ratio jingpinke / @tus/server: {r['ratio']:.2f}x (medians; per round "
          f"{', '.join(f'{x:.2f}' for x in r['ratios'])}); target ≥ 1.5x, RSS ≤ 150 MB")


def versus_rows(size_mb: int = 1024, rounds: int = 3, progress=print) -> list[dict]:
    """The comparison as rows of `python -m bench table`."""
    r = versus(size_mb, rounds=rounds, progress=progress)
    rows = []
    for name, runs in r["results"].items():
        seconds = [row["seconds"] for row in runs]
        peak = max(row["peak_rss"] for row in runs)
        rows.append({"section": "uploads", "case": f"{size_mb} MiB tus upload, {r['chunk_mb']} MiB PATCHes", "role": name,
                     "seconds": seconds, "mib_s": size_mb / statistics.median(seconds), "peak_rss": peak,
                     "note": f"{size_mb / statistics.median(seconds):.0f} MiB/s, peak RSS {peak / MiB:.0f} MB" + (
                         f"; task worker afterwards {statistics.median(row['worker_seconds'] for row in runs):.1f} s"
                         if name == "jingpinke" else ""),
                     "target": "RSS ≤ 150 MB", "met": peak <= 150 * MiB})
    rows.append({"section": "uploads", "case": "throughput ratio jingpinke / @tus/server", "role": "",
                 "ratio": r["ratio"], "ratios": r["ratios"], "note": f"{r['ratio']:.2f}×",
                 "target": "≥ 1.5×", "met": r["ratio"] >= 1.5, "load": r["load"]})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench uploads", description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="file size in MiB (default 1024 = 1 GiB)")
    parser.add_argument("--chunk-mb", type=int, default=32,
                        help="tus PATCH size in MiB (default 32, the upload widget's)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of baseline + every client (default 3)")
    parser.add_argument("--clients", default=",".join(CLIENTS), help=f"comma-separated, of {', '.join(CLIENTS)}")
    parser.add_argument("--against", choices=("tus-node", "raw"), default="tus-node",
                        help="tus-node (default): side by side with @tus/server + @tus/file-store, sendfile client; "
                             "raw: the former raw-disk baseline, floors and every client")
    args = parser.parse_args(argv)
    if args.against == "tus-node":
        versus_report(versus(args.size_mb, args.chunk_mb, args.rounds))
        return 0
    clients = [c for c in args.clients.split(",") if c]
    if unknown := set(clients) - set(CLIENTS):
        parser.error(f"unknown clients: {', '.join(sorted(unknown))}")
    report(run(args.size_mb, args.chunk_mb, args.rounds, clients))
    return 0


if __name__ == "__main__":
    sys.exit(main())
