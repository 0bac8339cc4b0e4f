"""``/healthz`` checks the database, the file storage and the uploads folder: 200 with JSON when
all answer, 503 naming the failing part (issue 12)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from portal import health
from workers.models import WorkerProcess

pytestmark = pytest.mark.django_db


def test_healthy(client):
    WorkerProcess.objects.create(worker_id="w1", last_seen=timezone.now())
    response = client.get("/healthz")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert response.json() == {"ok": True, "database": "ok", "storage": "ok", "uploads": "ok", "workers": 1}


def test_a_storage_that_does_not_answer_is_named(client, monkeypatch):
    def down():
        raise ConnectionError("store unreachable at 10.0.0.5")

    monkeypatch.setattr(health, "CHECKS", (("database", health.check_database), ("storage", down),
                                          ("uploads", health.check_uploads)))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"ok": False, "database": "ok", "storage": "失败：ConnectionError", "uploads": "ok",
                               "workers": 0}
    assert "10.0.0.5" not in response.content.decode()  # public page: the kind of error only


def test_an_unwritable_uploads_folder_is_named(client, settings, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    settings.UPLOAD_DIR = blocker / "uploads"
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["uploads"].startswith("失败：")
    assert response.json()["storage"] == "ok"


def test_a_database_that_does_not_answer_is_named(client, monkeypatch):
    class Broken:
        def __enter__(self):
            raise connection.Database.OperationalError("connection refused")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(health.connection, "cursor", lambda: Broken())
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["ok"] is False and body["database"].startswith("失败：") and "workers" not in body


def test_a_missing_bucket_is_named(client, monkeypatch):
    from jingpinke import storage

    if not storage.is_s3():
        pytest.skip("object storage only (JPK_TEST_STORAGE=s3)")
    monkeypatch.setattr(storage, "bucket_name", lambda: "no-such-bucket")
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["storage"] == "失败：ClientError"
