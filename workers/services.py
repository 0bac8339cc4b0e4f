"""Task worker heartbeats and the recovery of tasks whose worker died.

Every ``manage.py db_worker`` (workers/management/commands/db_worker.py) registers a
``WorkerProcess`` row before it claims anything, beats it every JPK_TASK_HEARTBEAT_SECONDS from a
thread, and deletes it when it stops cleanly. A worker killed with SIGKILL (or whose machine died)
stops beating; after JPK_TASK_WORKER_DEAD_SECONDS ``recover_dead_workers`` (run by every worker
at its start and then periodically) puts the tasks it was running back in the queue, where the
next worker claims them with ``SELECT … FOR UPDATE SKIP LOCKED`` (django-tasks-db). Tasks must
therefore be safe to run again (the probe guards itself with a claim: media.services.run_probe).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from workers.models import WorkerProcess
from workers.rules import MAX_TASK_ATTEMPTS, orphaned_tasks

log = logging.getLogger("jingpinke.workers")

# The id of the worker this process is (set by db_worker; "" outside a worker).
_current_worker_id = ""


def current_worker_id() -> str:
    return _current_worker_id


def set_current_worker_id(worker_id: str) -> None:
    global _current_worker_id
    _current_worker_id = worker_id


def heartbeat_seconds() -> float:
    return float(settings.TASK_HEARTBEAT_SECONDS)


def dead_seconds() -> float:
    return float(settings.TASK_WORKER_DEAD_SECONDS)


def alive_worker_ids(now=None) -> set[str]:
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=dead_seconds())
    return set(WorkerProcess.objects.filter(last_seen__gte=cutoff).values_list("worker_id", flat=True))


def lower_priority() -> int:
    """Add settings.TASK_NICE (JPK_TASK_NICE) to this process's niceness, so that on a machine that
    also serves pages the checks and exports the worker runs take the CPU only when requests leave
    it. Returns the niceness now (unchanged when the setting is 0 or less)."""
    nice = int(settings.TASK_NICE)
    return os.nice(nice if nice > 0 else 0)


def register(worker_id: str) -> WorkerProcess:
    row, _ = WorkerProcess.objects.update_or_create(
        worker_id=worker_id,
        defaults={"hostname": socket.gethostname()[:255], "pid": os.getpid(), "last_seen": timezone.now()},
    )
    return row


def beat(worker_id: str) -> bool:
    """Record that the worker lives. Returns False when its row was gone (another worker took it
    for dead and forgot it); the row is then made again."""
    if WorkerProcess.objects.filter(worker_id=worker_id).update(last_seen=timezone.now()):
        return True
    log.warning("worker %s was taken for dead; registering again", worker_id)
    register(worker_id)
    return False


def unregister(worker_id: str) -> None:
    WorkerProcess.objects.filter(worker_id=worker_id).delete()


def recover_dead_workers(now=None) -> dict:
    """Requeue the RUNNING tasks of dead workers (or fail those that killed ``MAX_TASK_ATTEMPTS``
    workers) and forget the dead workers' rows. Safe to run in several processes at once: the task
    rows are locked with SKIP LOCKED, so each orphan is handled once."""
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    cutoff = now - timedelta(seconds=dead_seconds())
    with transaction.atomic():
        alive = set(WorkerProcess.objects.filter(last_seen__gte=cutoff).values_list("worker_id", flat=True))
        if current_worker_id():  # the worker recovering is alive, even if its beats failed lately
            alive.add(current_worker_id())
        running = (DBTaskResult.objects.running().filter(started_at__lt=cutoff)
                   .select_for_update(skip_locked=True).order_by()
                   .values_list("id", "worker_ids", "started_at"))
        decision = orphaned_tasks(list(running), alive, cutoff)
        if decision.requeue:
            DBTaskResult.objects.filter(pk__in=decision.requeue).update(status="READY")
        if decision.give_up:
            DBTaskResult.objects.filter(pk__in=decision.give_up).update(
                status="FAILED", finished_at=now, return_value=None,
                exception_class_path="workers.WorkerDied",
                traceback=f"The worker running this task died {MAX_TASK_ATTEMPTS} times; not retried.\n")
        forgotten, _ = WorkerProcess.objects.filter(last_seen__lt=cutoff).exclude(worker_id=current_worker_id()).delete()
    for pk in decision.requeue:
        log.warning("task %s of a dead worker requeued", pk)
    for pk in decision.give_up:
        log.error("task %s killed its worker %d times; marked failed", pk, MAX_TASK_ATTEMPTS)
    return {"requeued": len(decision.requeue), "given_up": len(decision.give_up), "forgotten": forgotten}


class Heartbeat(threading.Thread):
    """Beats the worker's row every JPK_TASK_HEARTBEAT_SECONDS and recovers dead workers' tasks
    every JPK_TASK_WORKER_DEAD_SECONDS, on its own database connection, until ``stop()``."""

    def __init__(self, worker_id: str):
        super().__init__(name=f"heartbeat-{worker_id}", daemon=True)
        self.worker_id = worker_id
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        every = heartbeat_seconds()
        recover_every = max(1, round(dead_seconds() / every))
        beats = 0
        try:
            while not self._stop_event.wait(every):
                close_old_connections()
                try:
                    beat(self.worker_id)
                    beats += 1
                    if beats % recover_every == 0:
                        recover_dead_workers()
                except Exception:  # the database may be away for a while; keep trying
                    log.exception("heartbeat of worker %s failed", self.worker_id)
        finally:
            connection.close()
