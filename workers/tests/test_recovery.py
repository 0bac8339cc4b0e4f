"""Task workers beat; the tasks of a worker that died (SIGKILL) go back to the queue, once, and a
task that killed its worker three times is given up (issue 12). The multi-process test is
workers/tests/test_multinode.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from workers import rules, services
from workers.models import WorkerProcess

NOW = timezone.now()
CUTOFF = NOW - timedelta(seconds=60)


# --- the pure decision ------------------------------------------------------------------------
def test_orphaned_tasks_decision():
    old, new = CUTOFF - timedelta(seconds=1), CUTOFF + timedelta(seconds=1)
    running = [("alive", ["w1"], old), ("dead", ["w2"], old), ("just-started", ["w2"], new),
               ("third-death", ["a", "b", "w2"], old), ("requeued-once", ["w1", "w2"], old), ("no-worker", [], old)]
    d = rules.orphaned_tasks(running, alive={"w1"}, cutoff=CUTOFF)
    assert d == rules.Orphans(("dead", "requeued-once", "no-worker"), ("third-death",))


@given(st.lists(st.tuples(st.uuids().map(str), st.lists(st.sampled_from(["w1", "w2", "w3"]), max_size=4),
                          st.sampled_from([CUTOFF - timedelta(seconds=5), CUTOFF + timedelta(seconds=5)])),
                unique_by=lambda t: t[0]),
       st.sets(st.sampled_from(["w1", "w2", "w3"])))
def test_orphaned_tasks_never_touches_a_live_workers_task(running, alive):
    d = rules.orphaned_tasks(running, alive, CUTOFF)
    assert not set(d.requeue) & set(d.give_up)
    for pk, worker_ids, started in running:
        if (worker_ids and worker_ids[-1] in alive) or started >= CUTOFF:
            assert pk not in d.requeue + d.give_up
        else:
            assert pk in (d.give_up if len(worker_ids) >= rules.MAX_TASK_ATTEMPTS else d.requeue)


def test_claim_is_stale():
    now = timezone.now()
    assert rules.claim_is_stale("w1", now, alive={"w2"}, now=now, lease_seconds=900)
    assert not rules.claim_is_stale("w1", now - timedelta(hours=5), alive={"w1"}, now=now, lease_seconds=900)
    assert not rules.claim_is_stale("", now - timedelta(seconds=899), alive=set(), now=now, lease_seconds=900)
    assert rules.claim_is_stale("", now - timedelta(seconds=900), alive=set(), now=now, lease_seconds=900)
    assert rules.claim_is_stale("w1", None, alive={"w1"}, now=now, lease_seconds=900)


# --- against the database ---------------------------------------------------------------------
def running_task(worker_ids, *, seconds_ago):
    from django_tasks_db.models import DBTaskResult

    from media.tasks import cleanup_stale_uploads

    result = cleanup_stale_uploads.using(backend="default").enqueue()
    DBTaskResult.objects.filter(pk=result.id).update(
        status="RUNNING", worker_ids=worker_ids, started_at=timezone.now() - timedelta(seconds=seconds_ago))
    return result.id


@pytest.fixture
def db_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.mark.django_db
def test_register_beat_unregister(settings):
    row = services.register("w-1")
    assert (row.pid > 0, row.hostname != "") == (True, True)
    WorkerProcess.objects.filter(pk="w-1").update(last_seen=timezone.now() - timedelta(hours=1))
    assert services.alive_worker_ids() == set()
    assert services.beat("w-1") is True
    assert services.alive_worker_ids() == {"w-1"}
    WorkerProcess.objects.all().delete()  # another worker took it for dead and forgot it
    assert services.beat("w-1") is False
    assert services.alive_worker_ids() == {"w-1"}
    services.unregister("w-1")
    assert WorkerProcess.objects.count() == 0


@pytest.mark.django_db
def test_recover_requeues_the_tasks_of_dead_workers_only(db_tasks, settings):
    from django_tasks_db.models import DBTaskResult

    dead_for = settings.TASK_WORKER_DEAD_SECONDS + 10
    WorkerProcess.objects.create(worker_id="alive", last_seen=timezone.now())
    WorkerProcess.objects.create(worker_id="dead", last_seen=timezone.now() - timedelta(seconds=dead_for))
    alive_task = running_task(["alive"], seconds_ago=3600)
    dead_task = running_task(["dead"], seconds_ago=dead_for)
    hopeless = running_task(["x", "y", "dead"], seconds_ago=dead_for)
    assert services.recover_dead_workers() == {"requeued": 1, "given_up": 1, "forgotten": 1}
    status = dict(DBTaskResult.objects.values_list("id", "status"))
    assert {str(k): v for k, v in status.items()} == {str(alive_task): "RUNNING", str(dead_task): "READY",
                                                      str(hopeless): "FAILED"}
    assert DBTaskResult.objects.get(pk=hopeless).exception_class_path == "workers.WorkerDied"
    assert list(WorkerProcess.objects.values_list("worker_id", flat=True)) == ["alive"]
    assert services.recover_dead_workers() == {"requeued": 0, "given_up": 0, "forgotten": 0}  # once


@pytest.mark.django_db(transaction=True)
def test_a_worker_starting_runs_the_dead_workers_task_and_leaves_no_row(db_tasks, settings, monkeypatch):
    """``db_worker`` (ours, with heartbeat) recovers at start: the orphan is requeued, claimed and
    run again by the new worker, which records itself among the task's workers. Before anything it
    lowers its CPU priority by JPK_TASK_NICE (here recorded, not applied to the test process)."""
    from django_tasks_db.models import DBTaskResult

    niced = []
    monkeypatch.setattr(services.os, "nice", lambda n: niced.append(n) or n)
    settings.TASK_NICE = 7
    orphan = running_task(["killed"], seconds_ago=settings.TASK_WORKER_DEAD_SECONDS + 1)
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", "--worker-id", "w-new",
                 "--no-reload", verbosity=0)
    row = DBTaskResult.objects.get(pk=orphan)
    assert (row.status, row.worker_ids) == ("SUCCESSFUL", ["killed", "w-new"])
    assert WorkerProcess.objects.count() == 0  # stopped cleanly: unregistered
    assert services.current_worker_id() == ""
    assert niced == [7]


def test_lower_priority_adds_the_configured_niceness_and_never_raises_it(settings, monkeypatch):
    calls = []
    monkeypatch.setattr(services.os, "nice", lambda n: calls.append(n) or 10 + n)
    settings.TASK_NICE = 10
    assert services.lower_priority() == 20
    settings.TASK_NICE = 0
    services.lower_priority()
    settings.TASK_NICE = -5  # a negative value would need root and would outrank requests: ignored
    services.lower_priority()
    assert calls == [10, 0, 0]


def test_the_worker_command_is_ours():
    from django.core.management import get_commands

    assert get_commands()["db_worker"] == "workers"


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_beats_and_recovers(db_tasks, settings):
    """The thread a worker runs beside its tasks: beats its row, and requeues a dead worker's task
    without the worker's main loop (which may be busy with a long task)."""
    import time

    from django.db import OperationalError
    from django_tasks_db.models import DBTaskResult

    settings.TASK_HEARTBEAT_SECONDS, settings.TASK_WORKER_DEAD_SECONDS = 0.05, 0.3
    services.register("w-beating")
    stale = timezone.now() - timedelta(seconds=0.2)
    WorkerProcess.objects.filter(pk="w-beating").update(last_seen=stale)
    orphan = running_task(["gone"], seconds_ago=5)
    thread = services.Heartbeat("w-beating")
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:  # the test database on SQLite is shared in-memory: a table is locked while the thread writes
                if DBTaskResult.objects.get(pk=orphan).status == "READY":
                    break
            except OperationalError:
                pass
            time.sleep(0.05)
    finally:
        thread.stop()
        thread.join(10)
    assert DBTaskResult.objects.get(pk=orphan).status == "READY"
    assert not thread.is_alive()
    assert WorkerProcess.objects.get(pk="w-beating").last_seen > stale  # it beat


@pytest.mark.django_db
def test_a_worker_never_takes_itself_for_dead(db_tasks, settings, monkeypatch):
    """Its beats failed for a while (SQLite busy under a long write): its own task stays its own."""
    from django_tasks_db.models import DBTaskResult

    late = timezone.now() - timedelta(seconds=settings.TASK_WORKER_DEAD_SECONDS + 10)
    WorkerProcess.objects.create(worker_id="me", last_seen=late)
    mine = running_task(["me"], seconds_ago=3600)
    monkeypatch.setattr(services, "_current_worker_id", "me")
    assert services.recover_dead_workers() == {"requeued": 0, "given_up": 0, "forgotten": 0}
    assert DBTaskResult.objects.get(pk=mine).status == "RUNNING"


@pytest.mark.django_db
def test_the_admin_lists_the_workers(admin_client):
    WorkerProcess.objects.create(worker_id="w-admin", hostname="node-7", pid=42, last_seen=timezone.now())
    response = admin_client.get("/django-admin/workers/workerprocess/")
    assert response.status_code == 200 and "node-7" in response.content.decode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_workers_claim_with_skip_locked(db_tasks):
    """What the worker's claim does (django-tasks-db ``get_locked``): ``SELECT … FOR UPDATE SKIP
    LOCKED``. A task another worker is claiming (its row locked) is skipped, not waited for."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django_tasks_db.models import DBTaskResult

    from media.tasks import cleanup_stale_uploads

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks across connections); run by make test-postgres")
    import psycopg

    first = cleanup_stale_uploads.enqueue().id
    second = cleanup_stale_uploads.enqueue().id
    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k not in ("cursor_factory", "context")}) as other:
        other.execute(f"SELECT id FROM {DBTaskResult._meta.db_table} WHERE id = %s FOR UPDATE", [first])
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            claimed = DBTaskResult.objects.ready().get_locked()
        other.rollback()
    assert str(claimed.pk) == str(second)
    assert "FOR UPDATE SKIP LOCKED" in queries.captured_queries[-1]["sql"]
