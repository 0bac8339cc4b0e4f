"""Pure decisions about task workers (no ORM, no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

# A task whose worker died this many times is not run again: something in it kills the worker
# (memory, a crash in native code), so it is marked failed instead of going round for ever.
MAX_TASK_ATTEMPTS = 3


class Orphans(NamedTuple):
    requeue: tuple
    give_up: tuple


def orphaned_tasks(running: Iterable[tuple], alive: set[str], cutoff: datetime,
                   max_attempts: int = MAX_TASK_ATTEMPTS) -> Orphans:
    """Of the RUNNING tasks (``(id, worker_ids, started_at)``), those whose worker is dead: the
    last worker that claimed it has not beaten since ``cutoff`` (is not in ``alive``) and the task
    started before ``cutoff`` (a worker beats before it claims, so a task started later cannot
    belong to a worker dead that long). Such a task goes back to the queue, or is given up once
    ``max_attempts`` workers died running it."""
    requeue, give_up = [], []
    for pk, worker_ids, started_at in running:
        worker_ids = list(worker_ids or [])
        if started_at is not None and started_at >= cutoff:
            continue
        if worker_ids and worker_ids[-1] in alive:
            continue
        (give_up if len(worker_ids) >= max_attempts else requeue).append(pk)
    return Orphans(tuple(requeue), tuple(give_up))


def claim_is_stale(worker_id: str, claimed_at: datetime | None, alive: set[str], now: datetime,
                   lease_seconds: float) -> bool:
    """Whether a claim on a piece of work (e.g. a file's probe) may be taken over: its worker is
    dead (not in ``alive``), or, for a claim made outside a worker (``worker_id`` empty), its
    lease of ``lease_seconds`` has run out."""
    if claimed_at is None:
        return True
    if worker_id:
        return worker_id not in alive
    return (now - claimed_at).total_seconds() >= lease_seconds
