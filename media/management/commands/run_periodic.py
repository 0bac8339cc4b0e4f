"""``manage.py run_periodic``: enqueue the periodic tasks of ``jingpinke.periodic`` when due.

Started by ``manage.py serve`` (``make run``). ``--once`` enqueues every task once and exits
(for cron or a manual run). SIGINT/SIGTERM stop it cleanly.
"""

from __future__ import annotations

import signal

from django.core.management.base import BaseCommand

from jingpinke import periodic


class Command(BaseCommand):
    help = "Enqueue periodic background tasks (e.g. removing stale uploads) when they are due."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Enqueue every periodic task once, then exit.")

    def handle(self, *args, once=False, **options):
        stop = {"now": False}

        def request_stop(signum, frame):
            stop["now"] = True

        if not once:
            signal.signal(signal.SIGINT, request_stop)
            signal.signal(signal.SIGTERM, request_stop)
        count = periodic.run(once=once, stopping=lambda: stop["now"])
        if once:
            self.stdout.write(f"已加入队列：{count} 个定时任务。")
