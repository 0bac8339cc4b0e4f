"""Periodic background work: which tasks run how often.

``manage.py run_periodic`` (started by ``make run`` beside gunicorn and the task worker) enqueues
each task of ``REGISTRY`` when it is due; the task worker runs it. Run exactly one scheduler per
installation (the tasks are idempotent, so a second one would only repeat work).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from django.utils.module_loading import import_string

log = logging.getLogger("jingpinke.periodic")

# (dotted path of a django-tasks task, every how many seconds)
REGISTRY: list[tuple[str, int]] = [
    ("media.tasks.cleanup_stale_uploads", 3600),
    ("notifications.tasks.send_reminders", 3600),
    ("media.tasks.requeue_stuck_probes", 600),
    ("exports.tasks.cleanup_exports", 3600),
]


def due(registry: Iterable[tuple[str, int]], last_run: dict[str, float], now: float) -> list[str]:
    """The tasks to enqueue at ``now`` (pure): never run yet, or their interval has passed."""
    return [path for path, every in registry if path not in last_run or now - last_run[path] >= every]


def seconds_to_next(registry: Iterable[tuple[str, int]], last_run: dict[str, float], now: float) -> float:
    waits = [max(0.0, last_run.get(path, now) + every - now) if path in last_run else 0.0 for path, every in registry]
    return min(waits, default=60.0)


def enqueue(path: str) -> None:
    try:
        import_string(path).enqueue()
        log.info("enqueued %s", path)
    except Exception:  # one broken task must not stop the others
        log.exception("could not enqueue %s", path)


def run(
    registry: Iterable[tuple[str, int]] | None = None,
    *,
    once: bool = False,
    stopping: Callable[[], bool] = lambda: False,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Enqueue due tasks until ``stopping()``; with ``once``, enqueue every task once and return.

    Returns how many tasks were enqueued. Sleeps in steps of at most one second so that a stop
    request is honoured quickly.
    """
    registry = list(REGISTRY if registry is None else registry)
    last_run: dict[str, float] = {}
    count = 0
    while not stopping():
        now = clock()
        for path in due(registry, last_run, now):
            enqueue(path)
            last_run[path] = now
            count += 1
        if once:
            break
        sleep(min(1.0, max(0.05, seconds_to_next(registry, last_run, clock()))))
    return count
