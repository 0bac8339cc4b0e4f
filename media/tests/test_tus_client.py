"""The official tus Python client (tuspy) against the live server: chunks, break off, resume."""

from __future__ import annotations

import hashlib
import os
import socket
from urllib.parse import urlsplit

import pytest
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError
from tusclient.storage import filestorage

from api.models import ApiToken
from media import services
from media.models import StoredFile, Upload
from media.tests.tus_helpers import probes, stored_sha256  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("probes")]
MiB = 1024 * 1024


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "第一课时 微课.mp4"
    path.write_bytes(os.urandom(5 * MiB + 12345))
    return path


@pytest.fixture
def tus(live_server, tree):
    _, raw = ApiToken.issue(tree.teacher, "tuspy")
    return tus_client.TusClient(live_server.url + "/api/v1/uploads/", headers={"Authorization": f"Bearer {raw}"})


def _break_off(live_server, url: str, auth: str, offset: int, data: bytes, announced: int):
    """A PATCH that announces ``announced`` bytes, sends ``data``, and drops the connection."""
    parts = urlsplit(live_server.url)
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        head = (
            f"PATCH {urlsplit(url).path} HTTP/1.1\r\nHost: {parts.netloc}\r\nTus-Resumable: 1.0.0\r\n"
            f"Authorization: {auth}\r\nUpload-Offset: {offset}\r\n"
            f"Content-Type: application/offset+octet-stream\r\nContent-Length: {announced}\r\n\r\n"
        )
        sock.sendall(head.encode() + data)
        sock.shutdown(socket.SHUT_WR)
        sock.recv(1024)  # wait until the server has given up on the body


def test_tuspy_uploads_in_chunks_breaks_off_and_resumes(tus, source, live_server, tree, probes):
    uploader = tus.uploader(str(source), chunk_size=MiB, metadata={"filename": source.name, "filetype": "video/mp4"},
                            upload_checksum=True)
    uploader.upload_chunk()
    uploader.upload_chunk()
    assert uploader.offset == 2 * MiB
    url = uploader.url
    assert url.startswith(live_server.url + "/api/v1/uploads/")

    # The connection breaks in the middle of the third chunk: what arrived is kept.
    data = source.read_bytes()
    _break_off(live_server, url, tus.headers["Authorization"], 2 * MiB, data[2 * MiB:2 * MiB + 300_000], MiB)
    upload = Upload.objects.get()
    assert upload.offset == 2 * MiB + 300_000

    # A new client (e.g. the script restarted) resumes from the server's offset.
    resumed = tus.uploader(str(source), url=url, chunk_size=MiB, upload_checksum=True)
    assert resumed.offset == 2 * MiB + 300_000
    resumed.upload()
    file_id = resumed.request.response_headers["x-jpk-file-id"]

    stored = StoredFile.objects.get(pk=file_id)
    assert (stored.owner, stored.size, stored.original_name) == (tree.teacher, len(data), "第一课时 微课.mp4")
    assert probes == [file_id]
    services.run_probe(file_id)  # what the worker does with the enqueued check: first of all, the sha256
    stored.refresh_from_db()
    assert stored.sha256 == hashlib.sha256(data).hexdigest()


def test_tuspy_resumes_by_fingerprint(tus, source, tmp_path):
    urls = filestorage.FileStorage(str(tmp_path / "tus-urls.json"))
    first = tus.uploader(str(source), chunk_size=2 * MiB, store_url=True, url_storage=urls)
    first.upload_chunk()
    # Later, the same file: the stored URL is found and the upload continues where it stopped.
    again = tus.uploader(str(source), chunk_size=2 * MiB, store_url=True, url_storage=urls)
    assert (again.url, again.offset) == (first.url, 2 * MiB)
    again.upload()
    assert stored_sha256(StoredFile.objects.get()) == hashlib.sha256(source.read_bytes()).hexdigest()
    assert Upload.objects.count() == 1


def test_tuspy_wrong_offset_is_refused(tus, source):
    uploader = tus.uploader(str(source), chunk_size=MiB)
    uploader.upload_chunk()
    uploader.offset = 0  # the client got confused
    with pytest.raises(Exception) as caught:
        uploader.upload_chunk()
    assert getattr(caught.value, "status_code", None) == 409
    assert Upload.objects.get().offset == MiB


def test_tuspy_over_the_cap(tus, source, settings):
    settings.UPLOAD_MAX_BYTES = MiB
    uploader = tus.uploader(str(source), chunk_size=MiB)
    with pytest.raises(TusCommunicationError) as caught:
        uploader.upload()
    assert caught.value.status_code == 413
    assert "文件太大" in caught.value.response_content.decode()
