"""A probe runs exactly once in effect: a requeued or duplicated probe task does nothing when
another probe finished the file or holds a live claim on it, takes over the claim of a worker that
died, and a probe whose claim was taken over meanwhile writes nothing (issue 12)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from media import probe as probe_module
from media import services, testing
from media.models import ProbeStatus, StoredFile
from media.signals import file_probed
from workers import services as workers
from workers.models import WorkerProcess

pytestmark = pytest.mark.django_db


def make_stored(owner, data=None) -> StoredFile:
    data = data or testing.pdf_bytes(1, "claim")
    key = default_storage.save("files/test/claim.pdf", ContentFile(data))
    return StoredFile.objects.create(owner=owner, storage_key=key, original_name="a.pdf", size=len(data),
                                     sha256=hashlib.sha256(data).hexdigest(), kind="pdf")


@pytest.fixture
def told():
    received = []

    def receiver(sender, stored_file, **kwargs):
        received.append(stored_file.pk)

    file_probed.connect(receiver)
    yield received
    file_probed.disconnect(receiver)


def claimed_by(stored, worker_id, *, minutes_ago=0):
    StoredFile.objects.filter(pk=stored.pk).update(
        probe_status=ProbeStatus.RUNNING, probe_token="a" * 32, probe_worker=worker_id, probe_attempts=1,
        probe_claimed_at=timezone.now() - timedelta(minutes=minutes_ago))


def beating(worker_id, *, seconds_ago=0):
    WorkerProcess.objects.create(worker_id=worker_id, last_seen=timezone.now() - timedelta(seconds=seconds_ago))


def test_a_duplicate_probe_task_does_nothing_once_the_file_is_probed(tree, told):
    stored = make_stored(tree.teacher)
    assert services.run_probe(stored.pk) == ProbeStatus.DONE
    assert services.run_probe(stored.pk) == "skipped"
    stored.refresh_from_db()
    assert (stored.probe_status, stored.probe_runs, stored.probe_attempts, stored.probe_token) == ("done", 1, 1, "")
    assert told == [stored.pk]


def test_a_live_claim_is_left_alone(tree, told):
    stored = make_stored(tree.teacher)
    beating("w-alive")
    claimed_by(stored, "w-alive", minutes_ago=30)  # a long probe, but its worker still beats
    assert services.run_probe(stored.pk) == "skipped"
    stored.refresh_from_db()
    assert (stored.probe_status, stored.probe_token, stored.probe_runs) == ("running", "a" * 32, 0)
    assert told == []


def test_the_claim_of_a_dead_worker_is_taken_over(tree, told, settings):
    stored = make_stored(tree.teacher)
    beating("w-dead", seconds_ago=settings.TASK_WORKER_DEAD_SECONDS + 5)
    claimed_by(stored, "w-dead", minutes_ago=2)
    assert services.run_probe(stored.pk) == ProbeStatus.DONE
    stored.refresh_from_db()
    assert (stored.probe_status, stored.probe_token, stored.probe_runs, stored.probe_attempts) == ("done", "", 1, 2)
    assert told == [stored.pk]


def test_a_claim_made_outside_a_worker_is_stale_after_the_grace_period(tree, told):
    stored = make_stored(tree.teacher)
    claimed_by(stored, "", minutes_ago=5)
    assert services.run_probe(stored.pk) == "skipped"
    claimed_by(stored, "", minutes_ago=services.PROBE_GRACE.total_seconds() / 60 + 1)
    assert services.run_probe(stored.pk) == ProbeStatus.DONE


def test_a_probe_inside_a_worker_records_the_worker(tree, monkeypatch):
    stored = make_stored(tree.teacher)
    monkeypatch.setattr(workers, "_current_worker_id", "w-1")
    stored, token = services.claim_probe(stored.pk)
    stored.refresh_from_db()
    assert (stored.probe_worker, stored.probe_token, stored.probe_status) == ("w-1", token, "running")


def _frames() -> set[str]:
    """The frame files stored so far (a folder locally, a key prefix in an object store, where a
    "folder" never exists as such)."""
    try:
        return set(default_storage.listdir("frames")[1])
    except FileNotFoundError:
        return set()


def test_a_probe_taken_over_meanwhile_writes_nothing(tree, told, monkeypatch, tmp_path):
    """Worker A is slow (taken for dead); B takes the file over and finishes; then A finishes: A's
    result and frames are dropped, the file keeps B's, and users are told once."""
    video_path = testing.make_video(tmp_path / "v.mp4", seconds=1)
    data = video_path.read_bytes()
    key = default_storage.save("files/test/v.mp4", ContentFile(data))
    stored = StoredFile.objects.create(owner=tree.teacher, storage_key=key, original_name="v.mp4", size=len(data),
                                       sha256=hashlib.sha256(data).hexdigest(), kind="mp4")
    real_probe = probe_module.probe
    inner = []

    def probe_while_taken_over(path, kind):
        result = real_probe(path, kind)
        if not inner:  # worker A, in the middle: B takes the stale claim over and finishes
            inner.append(True)
            StoredFile.objects.filter(pk=stored.pk).update(probe_claimed_at=timezone.now() - timedelta(hours=1))
            assert services.run_probe(stored.pk) == ProbeStatus.DONE
        return result

    monkeypatch.setattr(probe_module, "probe", probe_while_taken_over)
    frames_before = _frames()
    assert services.run_probe(stored.pk) == "superseded"
    stored.refresh_from_db()
    assert (stored.probe_status, stored.probe_runs, stored.probe_token) == ("done", 1, "")
    frames = _frames() - frames_before
    assert frames == {stored.poster_key.split("/")[-1], stored.title_frame_key.split("/")[-1]}
    assert told == [stored.pk]


def test_queries_of_one_probe_and_its_originality_check(tree, settings, django_assert_max_num_queries,
                                                        django_capture_on_commit_callbacks):
    """What the task worker does per uploaded file besides the queue's own statements: claim the
    file and read it back (one UPDATE … RETURNING), write the result with the sha256 (one), the
    resources using it (courses.reevaluate_file, one), then, in the same task, the originality check
    of a file that is not a video (its old matches, one DELETE without a transaction around it; its
    hash: two), the file not read again."""
    import os

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from originality.models import Match

    settings.ORIGINALITY_ON_PROBE = True
    data = os.urandom(64 * 1024)

    def uploaded(name):  # as an upload leaves it: no sha256 yet
        key = default_storage.save(f"files/test/{name}", ContentFile(data))
        return StoredFile.objects.create(owner=tree.teacher, storage_key=key, original_name="教学设计.pdf",
                                         size=len(data), kind="unknown")

    first = uploaded("first")
    with (django_assert_max_num_queries(5), django_capture_on_commit_callbacks(execute=True),
          CaptureQueriesContext(connection) as queries):
        assert services.run_probe(first.pk) == ProbeStatus.DONE
    assert not [q["sql"] for q in queries.captured_queries if q["sql"].upper().startswith(("BEGIN", "COMMIT", "SAVEPOINT"))]
    first.refresh_from_db()
    assert (first.probe_status, first.probe_runs, first.probe_attempts, first.probe_token, first.sha256) == (
        "done", 1, 1, "", hashlib.sha256(data).hexdigest())
    assert not Match.objects.exists()
    StoredFile.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    copy = uploaded("copy")  # the same bytes again: the check, run in the probe's task, finds the first
    with django_capture_on_commit_callbacks(execute=True):
        assert services.run_probe(copy.pk) == ProbeStatus.DONE
    match = Match.objects.get()
    assert (match.new_file_id, match.earlier_file_id, match.kind, match.same_owner) == (copy.pk, first.pk,
                                                                                        "exact", True)


def test_a_probe_task_run_again_after_its_worker_died_tells_the_users_again(tree, told):
    """The worker may have died after the result was written, before every user of the file had done
    its part (the originality check runs in the probe's task): run again, the task tells them again.
    A duplicate task (first attempt) still does nothing."""
    stored = make_stored(tree.teacher)
    assert services.run_probe(stored.pk) == ProbeStatus.DONE
    assert services.run_probe(stored.pk) == "skipped"
    assert told == [stored.pk]
    assert services.run_probe(stored.pk, retried=True) == "skipped"
    stored.refresh_from_db()
    assert (stored.probe_status, stored.probe_runs, stored.probe_attempts) == ("done", 1, 1)
    assert told == [stored.pk, stored.pk]
    beating("w-alive")
    claimed_by(stored, "w-alive")  # probed again (forced) by a live worker: that one tells them
    assert services.run_probe(stored.pk, retried=True) == "skipped"
    assert told == [stored.pk, stored.pk]
