"""Serve the platform: gunicorn (with whitenoise), the background task worker(s) and the
periodic scheduler (``run_periodic``: e.g. removing stale uploads).

Used by ``make run``. Ctrl-C (SIGINT) or SIGTERM stops every child cleanly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand

from jingpinke import config


class Command(BaseCommand):
    help = "Start gunicorn, the django-tasks database worker(s) and the periodic scheduler; stop them on Ctrl-C."

    def handle(self, *args, **options):
        host, port = config.get("JPK_HOST"), config.get("JPK_PORT")
        bindir = os.path.dirname(sys.executable)
        web = [
            os.path.join(bindir, "gunicorn"),
            "jingpinke.wsgi:application",
            "--bind", f"{host}:{port}",
            "--workers", config.get("JPK_WEB_WORKERS"),
            "--worker-class", "gthread",
            "--threads", "4",
            "--timeout", "300",
            "--graceful-timeout", "10",
            # idle keep-alive connections are closed after 5 s, not gunicorn's 2: a client that
            # reuses a connection just as the server closes it sees a reset (the locust run of
            # `python -m bench table` lost POSTs that way with users pausing 1-3 s)
            "--keep-alive", "5",
            "--access-logfile", "-",
            "--no-control-socket",  # no socket in ~/.gunicorn: several checkouts may run side by side
        ]
        worker = [sys.executable, "manage.py", "db_worker", "--queue-name", "*"]
        children = [subprocess.Popen(web)]
        for _ in range(config.get_int("JPK_TASK_WORKERS")):
            children.append(subprocess.Popen(worker))
        children.append(subprocess.Popen([sys.executable, "manage.py", "run_periodic"]))

        self._print_banner(host, port)

        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for child in children:
                    if child.poll() is not None:
                        self.stderr.write(f"进程 {child.args[0]} 已退出（代码 {child.returncode}），正在停止其他进程。")
                        stopping = True
                time.sleep(0.5)
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
            self.stdout.write(f"已停止。数据保存在 {config.data_dir()}。")

    def _print_banner(self, host, port):
        from orgs.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

        lines = [
            "",
            f"精品课遴选平台已启动：http://{host}:{port}/",
            f"接口文档：http://{host}:{port}/api/v1/docs",
            f"演示账号（密码均为 {DEMO_PASSWORD}）：",
        ]
        lines += [f"  {label:<10} {username}" for username, label in DEMO_ACCOUNTS]
        lines.append("按 Ctrl-C 停止。")
        self.stdout.write("\n".join(lines) + "\n")
        self.stdout.flush()
