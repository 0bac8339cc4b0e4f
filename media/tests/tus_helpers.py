"""Helpers for the upload tests: tus requests through Django's test client."""

from __future__ import annotations

import base64
import hashlib

import pytest

TUS = {"HTTP_TUS_RESUMABLE": "1.0.0"}
ENDPOINT = "/api/v1/uploads/"
OFFSET_TYPE = "application/offset+octet-stream"


def metadata(**pairs) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())


def create(client, length: int, name: str = "微课.mp4", **extra):
    return client.post(ENDPOINT, **TUS, HTTP_UPLOAD_LENGTH=str(length), HTTP_UPLOAD_METADATA=metadata(filename=name), **extra)


def patch(client, url: str, data: bytes, offset: int, **extra):
    return client.generic("PATCH", url, data=data, content_type=OFFSET_TYPE, **TUS, HTTP_UPLOAD_OFFSET=str(offset), **extra)


def head(client, url: str, **extra):
    return client.head(url, **TUS, **extra)


def stored_sha256(stored) -> str:
    """The sha256 of what the storage holds for ``stored`` (the upload leaves ``stored.sha256`` to
    the background check), read in blocks."""
    from django.core.files.storage import default_storage

    digest = hashlib.sha256()
    with default_storage.open(stored.storage_key, "rb") as fh:
        while block := fh.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


@pytest.fixture
def probes(monkeypatch):
    """Record what would be enqueued instead of probing (the probe has its own tests)."""
    enqueued = []
    monkeypatch.setattr("media.services._enqueue_probe", lambda file_id: enqueued.append(str(file_id)))
    return enqueued
