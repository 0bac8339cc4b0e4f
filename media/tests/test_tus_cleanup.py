"""Stale uploads are removed by a periodic task; the scheduler enqueues due tasks."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from jingpinke import periodic
from media import services, storage
from media.models import StoredFile, Upload
from media.tests.tus_helpers import probes  # noqa: F401


def _age(upload: Upload, hours: float):
    Upload.objects.filter(pk=upload.pk).update(updated_at=timezone.now() - timedelta(hours=hours))


def test_idle_partial_uploads_are_removed_after_24_hours(tree, settings):
    settings.UPLOAD_EXPIRE_HOURS = 24
    stale = services.create_upload(tree.teacher, 100, {"filename": "旧.mp4"})
    fresh = services.create_upload(tree.teacher, 100, {"filename": "新.mp4"})
    services.append(stale, __import__("io").BytesIO(b"x" * 10), offset=0, content_length=10)
    _age(stale, 25)
    _age(fresh, 23)
    stray = storage.upload_dir() / "0123456789abcdef0123456789abcdef.part"
    stray.write_bytes(b"left over")
    os.utime(stray, (time.time() - 25 * 3600,) * 2)

    from media.tasks import cleanup_stale_uploads

    result = cleanup_stale_uploads.call()
    # (in S3 mode the task also reports the direct uploads it aborted: media.multipart)
    assert {k: result[k] for k in ("uploads", "stray_files")} == {"uploads": 1, "stray_files": 1}
    assert list(Upload.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not Path(stale.partial_path).exists() and Path(fresh.partial_path).exists()
    assert not stray.exists()


def test_finished_files_stay(tree, probes):
    upload = services.create_upload(tree.teacher, 3, {})
    services.append(upload, __import__("io").BytesIO(b"abc"), offset=0, content_length=3)
    _age(upload, 48)
    services.cleanup_stale_uploads()
    assert Upload.objects.count() == 0
    assert StoredFile.objects.count() == 1


def test_an_upload_being_written_is_not_removed(tree):
    import fcntl

    upload = services.create_upload(tree.teacher, 100, {})
    _age(upload, 48)
    with open(upload.partial_path, "r+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        assert services.cleanup_stale_uploads() == {"uploads": 0, "stray_files": 0}
    assert Upload.objects.count() == 1


def test_expire_hours_come_from_settings(tree, settings):
    settings.UPLOAD_EXPIRE_HOURS = 2
    upload = services.create_upload(tree.teacher, 100, {})
    _age(upload, 3)
    assert services.cleanup_stale_uploads()["uploads"] == 1


# --- the scheduler --------------------------------------------------------------------------------


def test_due_is_pure():
    registry = [("a.task", 60), ("b.task", 3600)]
    assert periodic.due(registry, {}, 0.0) == ["a.task", "b.task"]
    assert periodic.due(registry, {"a.task": 0.0, "b.task": 0.0}, 59.0) == []
    assert periodic.due(registry, {"a.task": 0.0, "b.task": 0.0}, 60.0) == ["a.task"]
    assert periodic.due(registry, {"a.task": 60.0, "b.task": 0.0}, 3600.0) == ["a.task", "b.task"]
    assert periodic.seconds_to_next(registry, {"a.task": 0.0, "b.task": 0.0}, 10.0) == 50.0


def test_the_cleanup_is_registered_hourly():
    assert ("media.tasks.cleanup_stale_uploads", 3600) in periodic.REGISTRY


def test_run_enqueues_when_due(monkeypatch):
    enqueued = []
    monkeypatch.setattr(periodic, "enqueue", enqueued.append)
    clock = iter([0.0, 0.0, 30.0, 30.0, 61.0, 61.0, 122.0, 122.0])
    state = {"ticks": 0}

    def stopping():
        state["ticks"] += 1
        return state["ticks"] > 4

    periodic.run([("a.task", 60)], stopping=stopping, clock=lambda: next(clock), sleep=lambda s: None)
    assert enqueued == ["a.task", "a.task", "a.task"]


def test_a_broken_task_does_not_stop_the_scheduler(caplog):
    periodic.enqueue("media.tasks.no_such_task")
    assert "could not enqueue media.tasks.no_such_task" in caplog.text


def test_run_periodic_once_enqueues_the_cleanup(tree, capsys):
    """With the test settings' immediate backend the task runs right away."""
    upload = services.create_upload(tree.teacher, 100, {})
    _age(upload, 48)
    call_command("run_periodic", "--once")
    assert f"已加入队列：{len(periodic.REGISTRY)} 个定时任务" in capsys.readouterr().out
    assert Upload.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_run_periodic_enqueues_into_the_database_backend(settings, tree):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # django-tasks re-reads it
    from django_tasks_db.models import DBTaskResult

    call_command("run_periodic", "--once")
    assert sorted(DBTaskResult.objects.values_list("task_path", flat=True)) == sorted(p for p, _ in periodic.REGISTRY)
