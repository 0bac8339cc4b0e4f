"""Reading stored files in the object store: ``RangeReader`` (HTTP Range GETs with a read-ahead
buffer), and probing, thumbnails and hashing through it, never a whole download or a local copy.

The tests marked ``s3_only`` need the loopback S3 server (``JPK_TEST_STORAGE=s3``, ``make test-s3``);
the others run with both storages."""

from __future__ import annotations

import hashlib
import io
import os
import random

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from jingpinke import storage as stores
from jingpinke.s3server import s3_test_run
from media import testing
from media.models import FileKind, ProbeStatus, StoredFile
from media.probe import readable
from media.services import file_sha256, run_probe

s3_only = pytest.mark.skipif(not s3_test_run(), reason="reads the loopback S3 server (JPK_TEST_STORAGE=s3)")


@pytest.fixture
def get_requests(monkeypatch):
    """Every GetObject the app sends to the store, as its Range header (None: the whole object),
    from our own client and from django-storages' one."""
    seen: list[str | None] = []

    def record(params, **kwargs):
        seen.append(params.get("Range"))

    clients = [stores.s3_client(), default_storage.connection.meta.client]
    for client in clients:
        client.meta.events.register("provide-client-params.s3.GetObject", record, unique_id="jpk-test-get")
    yield seen
    for client in clients:
        client.meta.events.unregister("provide-client-params.s3.GetObject", unique_id="jpk-test-get")


@pytest.fixture
def no_local_copy(monkeypatch):
    """Fails the test if anything writes the stored file to a temporary file to read it."""
    import tempfile

    def refused(*args, **kwargs):
        raise AssertionError("a temporary local copy of a stored file was made")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", refused)


def _stored(tree, data: bytes, kind: str, name: str) -> StoredFile:
    key = default_storage.save(f"files/test/{name}", ContentFile(data))
    return StoredFile.objects.create(owner=tree.teacher, storage_key=key, original_name=name, size=len(data),
                                     sha256=hashlib.sha256(data).hexdigest(), kind=kind)


def _range_lengths(ranges) -> list[int]:
    lengths = []
    for header in ranges:
        start, end = header.removeprefix("bytes=").split("-")
        lengths.append(int(end) - int(start) + 1)
    return lengths


@s3_only
def test_range_reader_reads_like_a_local_file(db):
    data = os.urandom(300_000)
    key = default_storage.save("files/test/range-reader", ContentFile(data))
    reader = stores.RangeReader(stores.object_key(key), read_ahead=64 * 1024)
    local = io.BytesIO(data)
    rng = random.Random(12)
    for _ in range(200):
        where = rng.choice([io.SEEK_SET, io.SEEK_CUR, io.SEEK_END])
        offset = {io.SEEK_SET: rng.randrange(0, 310_000), io.SEEK_CUR: rng.randrange(-5_000, 5_000),
                  io.SEEK_END: -rng.randrange(0, 300_000)}[where]
        if where == io.SEEK_CUR and local.tell() + offset < 0:
            continue
        assert reader.seek(offset, where) == local.seek(offset, where)
        n = rng.choice([0, 1, 100, 4096, 70_000, 200_000])
        assert reader.read(n) == local.read(n)
        assert reader.tell() == local.tell()
    reader.seek(0)
    assert reader.read() == data and reader.read(10) == b""
    assert (reader.seekable(), reader.readable(), reader.writable()) == (True, True, False)
    with pytest.raises(FileNotFoundError):
        stores.RangeReader(stores.object_key("files/test/no-such-object"))


@s3_only
def test_range_reader_asks_for_one_read_ahead_block_at_a_time(db, get_requests):
    data = os.urandom(1_000_000)
    key = default_storage.save("files/test/blocks", ContentFile(data))
    reader = stores.RangeReader(stores.object_key(key), read_ahead=256 * 1024, size=len(data))
    assert hashlib.sha256(reader.read()).hexdigest() == hashlib.sha256(data).hexdigest()
    assert (reader.requests, reader.fetched) == (4, 1_000_000)  # 256 KiB × 3 + the rest
    reader.seek(0)
    assert reader.read(10) == data[:10]
    reader.seek(-100, io.SEEK_END)
    assert reader.read(10) == data[-100:-90]
    reader.seek(-90, io.SEEK_END)
    assert reader.read() == data[-90:]  # still in the block fetched for the read before
    assert reader.requests == 6
    assert get_requests == ["bytes=0-262143", "bytes=262144-524287", "bytes=524288-786431", "bytes=786432-999999",
                            "bytes=0-262143", "bytes=999900-999999"]

@s3_only
def test_probing_a_video_reads_it_with_range_requests_only(tree, tmp_path, monkeypatch, get_requests, no_local_copy):
    """Probe, poster and title frame of an object in the store: every GET is a Range of at most the
    read-ahead, the object is read about once in all, and nothing is copied to the local disk."""
    monkeypatch.setattr(stores, "READ_AHEAD", 32 * 1024)
    data = testing.make_video(tmp_path / "a.mp4", width=640, height=360, seconds=4).read_bytes()
    assert len(data) > 4 * 32 * 1024
    video = _stored(tree, data, FileKind.MP4, "a.mp4")
    assert run_probe(video.pk) == ProbeStatus.DONE
    video.refresh_from_db()
    assert (video.probe["width"], video.probe["height"], video.probe["size"]) == (640, 360, len(data))
    assert video.poster_key and video.title_frame_key
    assert get_requests and None not in get_requests  # never the whole object in one GET
    lengths = _range_lengths(get_requests)
    assert max(lengths) <= 32 * 1024 and len(lengths) >= 4
    assert sum(lengths) < 2 * len(data)  # seeking for the frames re-reads a little, never the file again


@s3_only
def test_hashing_and_document_probes_go_through_the_reader(tree, tmp_path, get_requests, no_local_copy):
    doc = _stored(tree, testing.make_docx(tmp_path / "a.docx").read_bytes(), FileKind.DOCX, "a.docx")
    expected = doc.sha256
    StoredFile.objects.filter(pk=doc.pk).update(sha256="")
    doc.refresh_from_db()
    assert file_sha256(doc) == expected
    assert run_probe(doc.pk) == ProbeStatus.DONE
    doc.refresh_from_db()
    assert doc.probe["chars"] > 0 and "认识秋天" in doc.text
    assert get_requests and None not in get_requests


def test_readable_is_the_local_path_or_a_range_reader(tree):
    stored = _stored(tree, b"%PDF-1.4 test", FileKind.PDF, "r.pdf")
    with readable(stored) as source:
        if s3_test_run():
            assert isinstance(source, stores.RangeReader) and source.read(5) == b"%PDF-"
        else:
            assert isinstance(source, str) and open(source, "rb").read(5) == b"%PDF-"


@s3_only
def test_a_front_to_back_reader_streams_one_get(db, get_requests):
    """The resource package (selection.archive) reads each file once through ``open_stream``: one
    GET read as it arrives, not django-storages' download into a temporary file."""
    from selection.archive import Package

    data = os.urandom(200_000)
    key = default_storage.save("files/test/stream", ContentFile(data))
    package = Package.__new__(Package)
    package.storage, package._open, package.filename = default_storage, set(), "test.zip"
    assert b"".join(package.chunks(key)) == data
    assert get_requests == [None] and not package._open
    with pytest.raises(FileNotFoundError):
        default_storage.open_stream("files/test/no-such-object")
