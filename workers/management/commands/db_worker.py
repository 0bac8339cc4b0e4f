"""``manage.py db_worker``: django-tasks-db's worker with a heartbeat and crash recovery.

Same options as django-tasks-db's command (this app comes first in INSTALLED_APPS, so this one
is used). Before claiming anything the worker registers itself (workers.models.WorkerProcess)
and requeues the tasks of dead workers; a thread then beats every JPK_TASK_HEARTBEAT_SECONDS and
recovers again every JPK_TASK_WORKER_DEAD_SECONDS. A clean stop (SIGTERM, Ctrl-C) removes the row.
The worker first lowers its CPU priority by JPK_TASK_NICE (background work yields to requests).
"""

from __future__ import annotations

from django_tasks_db.management.commands import db_worker

from workers import services


class Worker(db_worker.Worker):
    def run(self) -> None:
        services.lower_priority()
        services.set_current_worker_id(self.worker_id)
        services.register(self.worker_id)
        try:
            result = services.recover_dead_workers()
        except Exception:  # e.g. SQLite busy: the heartbeat thread tries again soon
            db_worker.logger.exception("could not recover the tasks of dead workers at start")
        else:
            if result["requeued"] or result["given_up"]:
                db_worker.logger.warning("recovered tasks of dead workers: %s", result)
        heartbeat = services.Heartbeat(self.worker_id)
        heartbeat.start()
        try:
            super().run()
        finally:
            heartbeat.stop()
            services.unregister(self.worker_id)
            services.set_current_worker_id("")


class Command(db_worker.Command):
    help = "Run a database background worker (with heartbeat and recovery of dead workers' tasks)"

    def handle(self, *args, **options):
        original = db_worker.Worker
        db_worker.Worker = Worker  # the parent's handle() builds db_worker.Worker
        try:
            return super().handle(*args, **options)
        finally:
            db_worker.Worker = original
