"""Two web nodes and two task workers on loopback sharing one PostgreSQL database and the file
storage (a shared folder, or the loopback S3 server with JPK_TEST_STORAGE=s3); one web node is
SIGKILLed in the middle of an upload's PATCH and one worker in the middle of a probe. The uploads
resume through the other node; every upload completes with the right sha256, every probe completes
exactly once, nothing is lost or duplicated (issue 12).

The test creates its own database (``jpk_mn_<random>`` on the server of JPK_DATABASE_URL),
migrates it, and drops it at the end; it is skipped on SQLite.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from jingpinke import config
from media import testing

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = config.BASE_DIR
HEARTBEAT, DEAD = 0.5, 3.0
PROBE_DELAY = 2.0
CHUNK = 16 * 1024
VIDEOS = 4


# --- processes ------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def killpg(proc: subprocess.Popen, sig=signal.SIGKILL) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


class Cluster:
    def __init__(self, tmp: Path, db_url: str, storage_env: dict):
        self.tmp = tmp
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("JPK_")},
            "DJANGO_SETTINGS_MODULE": "jingpinke.settings",
            "JPK_DATABASE_URL": db_url,
            "JPK_DATA_DIR": str(tmp / "node-local"),  # nothing the nodes share may live here
            "JPK_MEDIA_DIR": str(tmp / "shared" / "media"),
            "JPK_UPLOAD_DIR": str(tmp / "shared" / "uploads"),
            "JPK_SECRET_KEY": secrets.token_urlsafe(40),
            "JPK_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "JPK_TASK_HEARTBEAT_SECONDS": str(HEARTBEAT),
            "JPK_TASK_WORKER_DEAD_SECONDS": str(DEAD),
            "JPK_TEST_PROBE_DELAY": str(PROBE_DELAY),
            "JPK_LOG_LEVEL": "INFO",
            **storage_env,
        }
        self.procs: dict[str, subprocess.Popen] = {}
        self.ports: dict[str, int] = {}

    def run(self, *args) -> str:
        return subprocess.run([sys.executable, "manage.py", *args], env=self.env, cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout

    def _start(self, name: str, command: list[str]) -> None:
        log = (self.tmp / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen(command, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def start_web(self, name: str) -> None:
        self.ports[name] = port = free_port()
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        self._start(name, [gunicorn, "jingpinke.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                           "--worker-class", "gthread", "--threads", "4", "--timeout", "120", "--no-control-socket"])

    def start_worker(self, name: str) -> None:
        self._start(name, [sys.executable, str(Path(__file__).with_name("multinode_worker.py")),
                           "--queue-name", "*", "--interval", "0.2", "--worker-id", name, "--no-reload"])

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.read_text(errors='replace')[-4000:]}" for p in self.tmp.glob("*.log"))

    def stop(self) -> None:
        for proc in self.procs.values():
            killpg(proc, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                killpg(proc)
                proc.wait()


# --- HTTP (tus 1.0, as any client speaks it) ------------------------------------------------------------
def request(port: int, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


class Tus:
    def __init__(self, token: str):
        self.auth = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}

    def create(self, port: int, data: bytes, name: str) -> str:
        meta = "filename " + base64.b64encode(name.encode()).decode()
        status, headers, body = request(port, "POST", "/api/v1/uploads/", headers={
            **self.auth, "Upload-Length": str(len(data)), "Upload-Metadata": meta})
        assert status == 201, body
        return urlsplit(headers["Location"]).path

    def offset(self, port: int, path: str) -> int:
        status, headers, body = request(port, "HEAD", path, headers=self.auth)
        assert status == 200, (status, body)
        return int(headers["Upload-Offset"])

    def send(self, port: int, path: str, data: bytes, *, until: int) -> str | None:
        """PATCH from the server's offset up to ``until`` in CHUNKs; the file id once finished."""
        offset, file_id = self.offset(port, path), None
        while offset < until:
            chunk = data[offset:min(until, offset + CHUNK)]
            status, headers, body = request(port, "PATCH", path, chunk, {
                **self.auth, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})
            assert status == 204, (status, body)
            offset = int(headers["Upload-Offset"])
            file_id = headers.get("X-Jpk-File-Id") or file_id
        return file_id

    def half_sent_patch(self, port: int, path: str, data: bytes) -> socket.socket:
        """A PATCH whose headers promise a whole chunk and whose body stops half-way: the node is
        in the middle of receiving it. Returns the open socket."""
        offset = self.offset(port, path)
        chunk = data[offset:offset + CHUNK]
        sock = socket.create_connection(("127.0.0.1", port))
        head = [f"PATCH {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(chunk)}",
                f"Upload-Offset: {offset}", "Content-Type: application/offset+octet-stream",
                *(f"{k}: {v}" for k, v in self.auth.items()), "", ""]
        sock.sendall("\r\n".join(head).encode() + chunk[:len(chunk) // 2])
        return sock


# --- the database the cluster shares -------------------------------------------------------------
@pytest.fixture
def cluster_db():
    base = os.environ.get("JPK_DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        pytest.skip("needs PostgreSQL (JPK_DATABASE_URL=postgres://…); run by make test-postgres")
    import psycopg

    parts = urlsplit(base)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    name = f"jpk_mn_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(parts._replace(path=f"/{name}"))
    try:
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def query(url: str, sql: str, *args):
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql, args).fetchall()


def wait_for(what: str, check, timeout: float, cluster: Cluster):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}\n{cluster.logs()}")


# --- the test --------------------------------------------------------------------------------------------
def test_two_nodes_and_two_workers_survive_sigkill(cluster_db, tmp_path, object_store):
    storage_env = {}
    if object_store is not None:  # JPK_TEST_STORAGE=s3: the session's loopback S3 server, own prefix
        from jingpinke.s3server import ACCESS_KEY, REGION, SECRET_KEY

        storage_env = {"JPK_STORAGE_BACKEND": "s3", "JPK_STORAGE_ENDPOINT_URL": object_store.endpoint_url,
                       "JPK_STORAGE_BUCKET": object_store.bucket, "JPK_STORAGE_REGION": REGION,
                       "JPK_STORAGE_ACCESS_KEY": ACCESS_KEY, "JPK_STORAGE_SECRET_KEY": SECRET_KEY,
                       "JPK_STORAGE_PREFIX": f"mn-{uuid.uuid4().hex[:8]}/"}
    cluster = Cluster(tmp_path, cluster_db, storage_env)
    cluster.run("migrate", "-v0")
    token = cluster.run("shell", "-c", (
        "from orgs.models import User; from api.models import ApiToken;"
        "u = User.objects.create_user(username='mn_teacher', password='Jpk-mn-2024', real_name='多节点');"
        "print(ApiToken.issue(u, 'multinode')[1])")).strip().splitlines()[-1]
    videos = []
    for i in range(VIDEOS):
        path = testing.make_video(tmp_path / f"v{i}.mp4", width=640, height=360, seconds=2 + i)
        data = path.read_bytes()
        assert len(data) > 4 * CHUNK
        videos.append(data)
    sha = [hashlib.sha256(d).hexdigest() for d in videos]

    try:
        for name in ("web_a", "web_b"):
            cluster.start_web(name)
        for name in ("worker_1", "worker_2"):
            cluster.start_worker(name)
        for name in ("web_a", "web_b"):
            wait_for(f"{name} to answer /healthz", lambda n=name: _healthz(cluster.ports[n]) == 200, 60, cluster)
        wait_for("both workers to beat", lambda: len(query(cluster_db, "SELECT 1 FROM workers_workerprocess")) == 2,
                 60, cluster)
        a, b = cluster.ports["web_a"], cluster.ports["web_b"]
        tus = Tus(token)

        # Every upload starts on node A; video 0 is finished there, the others get half-way.
        paths = [tus.create(a, data, f"第{i}课时.mp4") for i, data in enumerate(videos)]
        file_ids = {0: tus.send(a, paths[0], videos[0], until=len(videos[0]))}
        for i in range(1, VIDEOS):
            assert tus.send(a, paths[i], videos[i], until=len(videos[i]) // 2) is None

        # Kill the worker that claimed video 0's probe, in the middle of it.
        claim = wait_for("video 0's probe to be claimed", lambda: query(
            cluster_db, "SELECT probe_worker FROM media_storedfile WHERE id = %s AND probe_status = 'running'",
            uuid.UUID(file_ids[0])), 30, cluster)
        dead_worker = claim[0][0]
        assert dead_worker in ("worker_1", "worker_2")
        survivor = "worker_2" if dead_worker == "worker_1" else "worker_1"
        killpg(cluster.procs[dead_worker])
        cluster.procs[dead_worker].wait()

        # Kill node A while it receives a PATCH of video 1.
        sock = tus.half_sent_patch(a, paths[1], videos[1])
        time.sleep(0.5)  # the node is now blocked reading the rest of the body
        killpg(cluster.procs["web_a"])
        cluster.procs["web_a"].wait()
        sock.close()
        assert _healthz(a) is None  # gone

        # The uploads resume through node B, from the offsets B reports.
        for i in range(1, VIDEOS):
            file_ids[i] = tus.send(b, paths[i], videos[i], until=len(videos[i]))
            assert file_ids[i]

        # Every probe completes, the dead worker's one by the survivor after recovery.
        wait_for("every probe to complete", lambda: query(
            cluster_db, "SELECT count(*) FROM media_storedfile WHERE probe_status = 'done'")[0][0] == VIDEOS,
            90, cluster)
        wait_for("the task queue to drain", lambda: not query(
            cluster_db, "SELECT 1 FROM django_tasks_database_dbtaskresult WHERE status IN ('READY', 'RUNNING')"), 60, cluster)

        rows = {str(r[0]): r[1:] for r in query(cluster_db, (
            "SELECT id, sha256, size, probe_status, probe_runs, probe_attempts, probe_token, poster_key,"
            " title_frame_key, storage_key FROM media_storedfile"))}
        # nothing lost, nothing duplicated: one stored file per upload, each upload points at its own
        assert sorted(rows) == sorted(file_ids.values())
        uploads = query(cluster_db, "SELECT id, stored_file_id, \"offset\", length FROM media_upload")
        assert len(uploads) == VIDEOS and all(r[2] == r[3] for r in uploads)
        assert sorted(str(r[1]) for r in uploads) == sorted(file_ids.values())
        for i, file_id in file_ids.items():
            sha256, size, status, runs, attempts, probe_token, poster, title, key = rows[file_id]
            assert (sha256, size, status, runs, probe_token) == (sha[i], len(videos[i]), "done", 1, ""), i
            assert poster and title
            assert attempts == (2 if i == 0 else 1), (i, attempts)  # video 0: claimed by the dead worker first
            assert _stored_sha256(cluster, key) == sha[i]

        # the dead worker's probe task ran again on the survivor, once; every probe task succeeded
        tasks = query(cluster_db, (
            "SELECT args_kwargs, status, worker_ids, return_value FROM django_tasks_database_dbtaskresult"
            " WHERE task_path = 'media.tasks.probe_file'"))
        by_file: dict[str, list] = {}
        for args_kwargs, status, worker_ids, value in tasks:
            by_file.setdefault(args_kwargs["args"][0], []).append((status, worker_ids, value))
        assert sorted(by_file) == sorted(file_ids.values())
        assert by_file[file_ids[0]] == [("SUCCESSFUL", [dead_worker, survivor], "done")]
        for i in range(1, VIDEOS):
            assert by_file[file_ids[i]] == [("SUCCESSFUL", [survivor], "done")], by_file[file_ids[i]]
        assert not query(cluster_db, "SELECT 1 FROM django_tasks_database_dbtaskresult WHERE status = 'FAILED'")
        # the dead worker is forgotten, the survivor beats; node B reports healthy
        assert [r[0] for r in query(cluster_db, "SELECT worker_id FROM workers_workerprocess")] == [survivor]
        status, _, body = request(b, "GET", "/healthz")
        assert (status, json.loads(body)["workers"]) == (200, 1)
    except BaseException:
        print(cluster.logs())
        raise
    finally:
        cluster.stop()


def _healthz(port: int) -> int | None:
    try:
        return request(port, "GET", "/healthz")[0]
    except OSError:
        return None


def _stored_sha256(cluster: Cluster, key: str) -> str:
    """The sha256 of the bytes the shared storage holds, read as a node would."""
    out = subprocess.run([sys.executable, "manage.py", "shell", "-c", (
        "import hashlib; from jingpinke.storage import open_reader;"
        f"f = open_reader({key!r}); print(hashlib.sha256(f.read()).hexdigest())")],
        env=cluster.env, cwd=ROOT, check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]
