"""`manage.py serve` starts the periodic scheduler beside gunicorn and the worker, and Ctrl-C stops all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jingpinke import config

pytestmark = pytest.mark.slow


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_serve_runs_the_scheduler_and_stops_it_on_ctrl_c(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "JPK_DATA_DIR": str(tmp_path), "JPK_PORT": str(port), "DJANGO_SETTINGS_MODULE": "jingpinke.settings",
           "JPK_WEB_WORKERS": "1"}
    cwd = config.BASE_DIR
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=cwd, check=True)
    log = tmp_path / "serve.log"
    serve = subprocess.Popen([sys.executable, "manage.py", "serve"], env=env, cwd=cwd, start_new_session=True,
                             stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        # Ready: the scheduler enqueued its first task and the worker ran it (Ctrl-C during start-up
        # would interrupt Django's own set-up, which is not what this test is about).
        deadline = time.monotonic() + 60
        kids: list[int] = []
        while time.monotonic() < deadline:
            kids = _children(serve.pid)
            text = log.read_text(errors="replace")
            if len(kids) == 3 and "cleanup_stale_uploads state=SUCCESSFUL" in text and "Booting worker" in text:
                break
            time.sleep(0.2)
        commands = [_cmdline(k) for k in kids]
        assert len(kids) == 3, commands
        assert any("gunicorn" in c for c in commands) and any("db_worker" in c for c in commands)
        assert any("gunicorn" in c and "--keep-alive 5 " in c for c in commands), commands
        assert any("run_periodic" in c for c in commands)
        time.sleep(1)
        os.killpg(serve.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        serve.wait(timeout=30)
        out = log.read_text(errors="replace")
        assert serve.returncode == 0
        assert "enqueued media.tasks.cleanup_stale_uploads" in out
        assert "已停止" in out
        assert "Traceback" not in out, out
        assert not any(_alive(k) for k in kids)
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
