"""A probe that never finished is not left "running" for ever: a storage that cannot be read puts
the file back in line, the periodic task sends waiting files to the queue again, and a file that
stopped the prober three times is given up with a message; a video that keeps the probe busy
past the time limit is refused."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from media import probe as probe_module
from media import rules, services, testing
from media.models import ProbeStatus, StoredFile
from media.signals import file_probed

pytestmark = pytest.mark.django_db


def make_stored(owner, data=b"%PDF-1.4 x", kind="pdf", **fields) -> StoredFile:
    key = default_storage.save("files/test/recovery", ContentFile(data))
    return StoredFile.objects.create(owner=owner, storage_key=key, original_name="a.pdf", size=len(data),
                                     sha256=hashlib.sha256(data).hexdigest(), kind=kind, **fields)


def age(stored, minutes):
    StoredFile.objects.filter(pk=stored.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))


# --- the pure decision ----------------------------------------------------------------------------------
def test_stuck_probes_decision():
    d = rules.stuck_probes([("a", 0), ("b", 1), ("c", 3), ("d", 5)], queued={"b"}, max_attempts=3)
    assert (d.requeue, d.give_up) == (("a",), ("c", "d"))


@given(st.lists(st.tuples(st.uuids().map(str), st.integers(0, 6)), unique_by=lambda t: t[0]),
       st.integers(1, 5), st.data())
def test_stuck_probes_partition(waiting, max_attempts, data):
    queued = set(data.draw(st.lists(st.sampled_from([pk for pk, _ in waiting]), unique=True))) if waiting else set()
    d = rules.stuck_probes(waiting, queued, max_attempts)
    assert set(d.requeue).isdisjoint(d.give_up) and not (set(d.requeue) | set(d.give_up)) & queued
    assert set(d.requeue) | set(d.give_up) | queued == {pk for pk, _ in waiting}
    assert all(a >= max_attempts for pk, a in waiting if pk in d.give_up)


# --- the storage cannot be read -------------------------------------------------------------------------
def test_a_storage_failure_puts_the_file_back_in_line(tree, monkeypatch):
    stored = make_stored(tree.teacher)

    def broken(*args, **kwargs):
        raise ConnectionError("object storage unreachable")

    monkeypatch.setattr(probe_module, "readable", broken)
    with pytest.raises(ConnectionError):
        services.run_probe(stored.pk)
    stored.refresh_from_db()
    assert (stored.probe_status, stored.probe_attempts) == (ProbeStatus.PENDING, 0)
    assert "自动重试" in stored.probe_error


# --- the periodic task ----------------------------------------------------------------------------------
def test_waiting_files_are_probed_again_and_hopeless_ones_given_up(tree):
    """With the test settings' immediate backend a requeued probe runs at once."""
    lost = make_stored(tree.teacher, testing.pdf_bytes(2, "lost"))  # its enqueue was lost
    crashed = make_stored(tree.teacher, testing.pdf_bytes(1, "crash"), probe_status=ProbeStatus.RUNNING,
                          probe_attempts=1)  # its worker died
    hopeless = make_stored(tree.teacher, probe_status=ProbeStatus.RUNNING, probe_attempts=3)
    fresh = make_stored(tree.teacher)  # just uploaded: its probe is on its way
    for f in (lost, crashed, hopeless):
        age(f, 30)
    told = []
    file_probed.connect(receiver := lambda sender, stored_file, **kw: told.append(stored_file.pk))
    try:
        assert services.requeue_stuck_probes() == {"requeued": 2, "given_up": 1}
    finally:
        file_probed.disconnect(receiver)
    statuses = dict(StoredFile.objects.values_list("pk", "probe_status"))
    assert statuses == {lost.pk: ProbeStatus.DONE, crashed.pk: ProbeStatus.DONE, hopeless.pk: ProbeStatus.FAILED,
                        fresh.pk: ProbeStatus.PENDING}
    hopeless.refresh_from_db()
    assert "多次检测都未能完成" in hopeless.probe_error and set(told) == {lost.pk, crashed.pk, hopeless.pk}


@pytest.mark.django_db(transaction=True)
def test_a_probe_already_in_the_queue_is_not_queued_twice(settings, tree):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from django_tasks_db.models import DBTaskResult

    from media.tasks import probe_file

    queued, lost = make_stored(tree.teacher), make_stored(tree.teacher)
    age(queued, 30)
    age(lost, 30)
    probe_file.enqueue(str(queued.pk))  # still waiting for a worker
    services.requeue_stuck_probes()
    args = sorted(r["args"][0] for r in DBTaskResult.objects.values_list("args_kwargs", flat=True))
    assert args == sorted([str(queued.pk), str(lost.pk)])


# --- the time limit -------------------------------------------------------------------------------------
def test_a_video_that_keeps_the_probe_busy_is_refused(tmp_path, monkeypatch):
    path = testing.make_video(tmp_path / "slow.mp4", seconds=1)
    monkeypatch.setattr(probe_module, "VIDEO_TIME_LIMIT_S", -1.0)  # as if the packets took for ever
    result = probe_module.probe(str(path), "mp4")
    assert not result.ok and "超时" in result.error
