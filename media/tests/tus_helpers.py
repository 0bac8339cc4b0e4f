"""Helpers for the upload tests: tus requests through Django's test client."""

from __future__ import annotations

import base64
import sys
import types

import pytest

from media.models import FileKind

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


@pytest.fixture
def probes(monkeypatch):
    """The probe task is the checks part's: record what would be enqueued instead of running it.

    Also stands in for ``media.sniff`` while that module does not exist yet.
    """
    enqueued = []
    monkeypatch.setattr("media.services._enqueue_probe", lambda file_id: enqueued.append(str(file_id)))
    try:
        import media.sniff  # noqa: F401
    except ImportError:
        stub = types.ModuleType("media.sniff")
        stub.sniff = lambda path: FileKind.UNKNOWN
        monkeypatch.setitem(sys.modules, "media.sniff", stub)
    return enqueued
