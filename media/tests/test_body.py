"""Request bodies read straight from gunicorn's socket (``media.body``), through gunicorn's real
request parser and WSGI environ over a socket pair, served by the Django application the way a
gthread worker serves one connection: keep-alive, pipelined requests, refusals, breaks, silence."""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import os
import socket
import threading
import time
from types import SimpleNamespace

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from gunicorn.config import Config
from gunicorn.http import wsgi as gunicorn_wsgi
from gunicorn.http.body import Body, LengthReader
from gunicorn.http.errors import NoMoreData
from gunicorn.http.parser import RequestParser
from gunicorn.http.unreader import SocketUnreader

from api.models import ApiToken
from media import body, services, storage
from media.models import StoredFile, Upload
from media.tests.tus_helpers import probes, stored_sha256  # noqa: F401

pytestmark = pytest.mark.usefixtures("probes")
MiB = 1024 * 1024


def serve(payload: bytes, *, after_send: float = 0.0) -> SimpleNamespace:
    """Send ``payload`` (one or more raw HTTP requests) over one connection, serve it as gunicorn's
    gthread worker does (its parser, its environ, the Django application in this thread), and
    return the parsed ``responses``, the kind of body reader each PATCH got (``readers``) and the
    seconds the serving took (``seconds``).

    ``after_send``: keep the connection open (silent) that many seconds before closing it.
    """
    server, client = socket.socketpair()
    received = bytearray()

    def talk():
        try:
            client.sendall(payload)
            time.sleep(after_send)
            client.shutdown(socket.SHUT_WR)
            while chunk := client.recv(65536):
                received.extend(chunk)
        except OSError:  # the server closed first
            pass

    talker = threading.Thread(target=talk)
    talker.start()
    readers: list[str] = []
    real_open = body.open_body

    def spying_open(request, length, **kwargs):
        reader = real_open(request, length, **kwargs)
        readers.append(type(reader).__name__)
        return reader

    cfg = Config()
    application = WSGIHandler()
    start = time.monotonic()
    peer = ("127.0.0.1", 40000)
    # As Django's test client does: the test's database connection (and its transaction) must
    # outlive each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        import media.tus

        media.tus.open_body = spying_open
        for request in RequestParser(cfg, server, peer):
            response, environ = gunicorn_wsgi.create(request, server, peer, ("testserver", 80), cfg)
            result = application(environ, response.start_response)
            try:
                for item in result:
                    response.write(item)
                response.close()
            finally:
                result.close()
            if response.should_close():
                break
    except NoMoreData:  # the client closed the connection between requests
        pass
    finally:
        media.tus.open_body = real_open
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        seconds = time.monotonic() - start
        server.close()
        talker.join(timeout=10)
    return SimpleNamespace(responses=_responses(bytes(received)), readers=readers, seconds=seconds)


class _Stays(io.BytesIO):
    def close(self):  # http.client closes the file after each response: the next one follows
        pass


class _Wire:
    def __init__(self, data: bytes):
        self.file = _Stays(data)

    def makefile(self, *args, **kwargs):
        return self.file


def _responses(data: bytes) -> list[http.client.HTTPResponse]:
    wire, result = _Wire(data), []
    while wire.file.tell() < len(data):
        response = http.client.HTTPResponse(wire)
        response.begin()
        response.body = response.read()
        result.append(response)
    return result


def patch_request(path: str, token: str, offset: int, data: bytes, *, announced: int | None = None,
                  checksum: str = "") -> bytes:
    head = (
        f"PATCH {path} HTTP/1.1\r\nHost: testserver\r\nTus-Resumable: 1.0.0\r\nAuthorization: Bearer {token}\r\n"
        f"Upload-Offset: {offset}\r\nContent-Type: application/offset+octet-stream\r\n"
        f"Content-Length: {len(data) if announced is None else announced}\r\n"
    )
    if checksum:
        head += f"Upload-Checksum: {checksum}\r\n"
    return head.encode() + b"\r\n" + data


@pytest.fixture
def token(tree):
    return ApiToken.issue(tree.teacher, "gunicorn")[1]


def new_upload(tree, length: int) -> tuple[Upload, str]:
    upload = services.create_upload(tree.teacher, length, {"filename": "微课.mp4"})
    return upload, f"/api/v1/uploads/{upload.pk}"


def test_pipelined_patches_on_one_connection(tree, token):
    """Small bodies arrive with their headers (and the next request behind them); big ones are read
    from the socket. Every PATCH is answered on the same connection and the file is whole."""
    data = os.urandom(3 * MiB + 5000)
    upload, path = new_upload(tree, len(data))
    cuts = [0, 1000, 5000, 2 * MiB, len(data)]
    payload = b"".join(patch_request(path, token, a, data[a:b]) for a, b in zip(cuts, cuts[1:], strict=False))
    served = serve(payload)
    assert [r.status for r in served.responses] == [204, 204, 204, 204]
    assert [r.getheader("Upload-Offset") for r in served.responses] == [str(c) for c in cuts[1:]]
    assert served.readers == ["SocketBody"] * 4
    stored = StoredFile.objects.get()
    assert served.responses[-1].getheader("X-Jpk-File-Id") == str(stored.pk)
    assert (stored.size, stored_sha256(stored)) == (len(data), hashlib.sha256(data).hexdigest())


def test_a_refused_patch_leaves_the_connection_usable(tree, token):
    data = os.urandom(300_000)
    upload, path = new_upload(tree, len(data))
    wrong = "sha1 " + base64.b64encode(b"x" * 20).decode()
    payload = (patch_request(path, token, 0, data[:100_000])
               + patch_request(path, token, 50_000, data[50_000:250_000])  # wrong offset: 409, body drained
               + patch_request(path, token, 100_000, data[100_000:], checksum=wrong)  # 460, chunk discarded
               + patch_request(path, token, 100_000, data[100_000:]))
    served = serve(payload)
    assert [r.status for r in served.responses] == [204, 409, 460, 204]
    assert "服务器已收到 100000 字节" in served.responses[1].body.decode()
    assert stored_sha256(StoredFile.objects.get()) == hashlib.sha256(data).hexdigest()


def test_a_broken_off_body_keeps_what_arrived(tree, token):
    upload, path = new_upload(tree, 2 * MiB)
    sent = os.urandom(MiB + 12345)
    served = serve(patch_request(path, token, 0, sent, announced=2 * MiB))
    assert served.readers == ["SocketBody"]
    upload.refresh_from_db()
    assert upload.offset == len(sent)
    with open(upload.partial_path, "rb") as fh:
        assert fh.read() == sent
    assert [r.getheader("Upload-Offset") for r in served.responses] == [str(len(sent))]


def test_a_silent_client_times_out_and_releases_the_upload(tree, token, monkeypatch):
    """A client that stops sending without closing (a dropped mobile connection) does not hold the
    thread and the upload's lock for ever: after RECEIVE_TIMEOUT what arrived is kept."""
    monkeypatch.setattr(body, "RECEIVE_TIMEOUT", 0.3)
    upload, path = new_upload(tree, 2 * MiB)
    sent = os.urandom(200_000)
    served = serve(patch_request(path, token, 0, sent, announced=MiB), after_send=3)
    assert served.seconds < 2  # answered long before the client gave up
    upload.refresh_from_db()
    assert upload.offset == len(sent)
    assert [r.status for r in served.responses] == [204]


def test_with_a_checksum_a_broken_off_body_is_discarded(tree, token):
    upload, path = new_upload(tree, 2 * MiB)
    sent = os.urandom(300_000)
    digest = base64.b64encode(hashlib.sha1(sent + b"rest").digest()).decode()
    served = serve(patch_request(path, token, 0, sent, announced=len(sent) + 4, checksum=f"sha1 {digest}"))
    assert [r.status for r in served.responses] == [400]
    upload.refresh_from_db()
    assert upload.offset == 0 and os.path.getsize(upload.partial_path) == 0


# --- the reader on its own --------------------------------------------------------------------


def gunicorn_request(sock, length: int, held: bytes = b""):
    unreader = SocketUnreader(sock)
    if held:
        unreader.unread(held)
    wsgi_input = Body(LengthReader(unreader, length))
    return SimpleNamespace(META={"gunicorn.socket": sock, "wsgi.input": wsgi_input}, _read_started=False,
                           read=wsgi_input.read), unreader


def test_held_bytes_come_first_and_the_rest_is_handed_back():
    server, client = socket.socketpair()
    with server, client:
        request, unreader = gunicorn_request(server, 10, held=b"0123456789GET /next")
        reader = body.open_body(request, 10)
        assert isinstance(reader, body.SocketBody) and request._read_started
        view = memoryview(bytearray(4))
        assert reader.readinto(view) == 4 and bytes(view) == b"0123"
        reader.close()  # stopped early: the unread part of the body goes back to gunicorn
        assert unreader.read() == b"456789GET /next"


def test_reads_from_the_socket_after_the_held_bytes_and_restores_the_timeout():
    server, client = socket.socketpair()
    with server, client:
        request, unreader = gunicorn_request(server, 10, held=b"012")
        client.sendall(b"3456789XYZ")
        reader = body.open_body(request, 10, timeout=5)
        assert server.gettimeout() == 5
        buffer = bytearray(16)
        got = b""
        while n := reader.readinto(memoryview(buffer)):
            got += buffer[:n]
        assert got == b"0123456789"
        assert request.META["wsgi.input"].reader.length == 0
        reader.close()
        assert server.gettimeout() is None
        assert server.recv(3) == b"XYZ"  # the next request was not touched


def test_the_portable_path_when_gunicorn_is_not_there_or_the_body_was_started():
    server, client = socket.socketpair()
    with server, client:
        request, _ = gunicorn_request(server, 10, held=b"0123456789")
        request._read_started = True
        assert isinstance(body.open_body(request, 10), body.StreamBody)
        request, _ = gunicorn_request(server, 10, held=b"0123456789")
        assert isinstance(body.open_body(request, 11), body.StreamBody)  # lengths disagree
        plain = SimpleNamespace(META={}, _read_started=False, read=io.BytesIO(b"abc").read)
        reader = body.open_body(plain, 3)
        view = memoryview(bytearray(8))
        assert isinstance(reader, body.StreamBody) and reader.readinto(view) == 3 and bytes(view[:3]) == b"abc"


# --- buffers and the hashing thread ---------------------------------------------------------


def test_receiving_buffers_are_reused_across_requests(monkeypatch):
    monkeypatch.setattr(storage, "_POOL", [])
    def use(feeder):
        views = [feeder.buffer() for _ in range(4)]
        for view in views:
            feeder.feed(view[:100])
        feeder.close()
        return {id(view.obj) for view in views}

    taken = use(storage.HashFeeder([hashlib.sha256()]))
    assert len(taken) == 4 and len(storage._POOL) == 4
    assert use(storage.HashFeeder([hashlib.sha256()])) == taken
    for _ in range(10):  # many at once: the pool keeps at most _POOL_MAX buffers afterwards
        feeders = [storage.HashFeeder([hashlib.sha256()]) for _ in range(6)]
        for feeder in feeders:
            feeder.close()
    assert len(storage._POOL) == storage._POOL_MAX


def test_hashing_threads_are_kept_for_the_next_request(monkeypatch):
    monkeypatch.setattr(storage, "_IDLE", [])
    threads = []

    class Spy:
        def update(self, block):
            threads.append(threading.get_ident())

    for _ in range(3):
        feeder = storage.HashFeeder([Spy()])
        view = feeder.buffer()
        feeder.feed(view[:10])
        feeder.close()
    assert len(threads) == 3 and len(set(threads)) == 1 and threading.get_ident() not in threads
    assert len(storage._IDLE) == 1


@pytest.mark.parametrize("direct", [True, False], ids=["direct writes", "page cache only"])
def test_a_full_disk_fails_the_request_and_keeps_the_offset(tree, monkeypatch, direct):
    import errno
    from contextlib import contextmanager

    monkeypatch.setattr(storage, "DIRECT_WRITES", direct)
    upload = services.create_upload(tree.teacher, 8 * MiB, {})
    services.append(upload, io.BytesIO(b"a" * 1000), offset=0, content_length=1000)
    writes = []

    def full_after_one(write):
        def failing(*args):
            writes.append(write.__name__)
            if len(writes) > 1:
                raise OSError(errno.ENOSPC, "No space left on device")
            return write(*args)
        return failing

    class FullDisk:
        def __init__(self, fh):
            self.fh, self.write = fh, full_after_one(fh.write)

        def __getattr__(self, name):
            return getattr(self.fh, name)

    real = services._locked

    @contextmanager
    def locked(upload, **kwargs):
        with real(upload, **kwargs) as fh:
            yield FullDisk(fh)

    monkeypatch.setattr(services, "_locked", locked)
    pwrite = os.pwrite
    monkeypatch.setattr(storage.os, "pwrite", full_after_one(pwrite))
    stream = io.BytesIO(b"b" * 4 * MiB)
    with pytest.raises(OSError):
        services.append(upload, stream, offset=1000, content_length=4 * MiB)
    # Stopped at the failed write: with direct writes the head up to the first aligned offset went
    # through the page cache, the next 1 MiB block was to go straight to the disk.
    head = storage.DIRECT_ALIGN - 1000
    assert (writes, stream.tell()) == ((["write", "pwrite"], head + MiB) if direct else (["write", "write"], 2 * MiB))
    monkeypatch.setattr(services, "_locked", real)
    monkeypatch.setattr(storage.os, "pwrite", pwrite)
    upload.refresh_from_db()
    assert upload.offset == 1000
    services.append(upload, io.BytesIO(b"c" * 100), offset=1000, content_length=100)  # the bytes past 1000 are dropped
    with open(upload.partial_path, "rb") as fh:
        assert fh.read() == b"a" * 1000 + b"c" * 100


# --- direct writes (storage.PartialWriter) ----------------------------------------------------


class _Pieces:
    """A body that arrives in odd pieces, as a socket hands them out."""

    def __init__(self, data: bytes, piece: int):
        self.data, self.piece, self.at = data, piece, 0

    def read(self, size: int) -> bytes:
        piece = self.data[self.at:self.at + min(size, self.piece)]
        self.at += len(piece)
        return piece


@pytest.fixture
def direct_writes(monkeypatch):
    """(offset, length) of every write through an O_DIRECT descriptor."""
    descriptors, writes = set(), []
    real_open, real_pwrite = os.open, os.pwrite

    def spy_open(path, flags, *args):
        fd = real_open(path, flags, *args)
        if flags & os.O_DIRECT:
            descriptors.add(fd)
        return fd

    def spy_pwrite(fd, data, offset):
        if fd in descriptors:
            writes.append((offset, len(data)))
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(storage.os, "open", spy_open)
    monkeypatch.setattr(storage.os, "pwrite", spy_pwrite)
    return writes


@pytest.mark.parametrize("start", [0, 1000])
def test_aligned_blocks_go_straight_to_the_disk_the_rest_through_the_page_cache(tree, direct_writes, start):
    data = os.urandom(3 * MiB + 123)
    upload = services.create_upload(tree.teacher, start + len(data) + 1, {})  # stays partial: the file is read back
    if start:
        services.append(upload, io.BytesIO(b"a" * start), offset=0, content_length=start)
    services.append(upload, _Pieces(data, 50_000), offset=start, content_length=len(data))
    with open(upload.partial_path, "rb") as fh:
        assert fh.read() == b"a" * start + data
    assert direct_writes, "no direct write"
    assert all(offset % storage.DIRECT_ALIGN == 0 and n % storage.DIRECT_ALIGN == 0 for offset, n in direct_writes)
    # Whole blocks although the body came in 50,000-byte pieces; only the head up to the first
    # aligned offset and the last, shorter block went through the page cache.
    assert [n for _offset, n in direct_writes] == [MiB] * 2 + ([MiB] if not start else [])
    assert direct_writes[0][0] == (start + storage.DIRECT_ALIGN - 1) // storage.DIRECT_ALIGN * storage.DIRECT_ALIGN


def test_a_file_system_without_direct_writes_gets_the_same_bytes(tree, monkeypatch, direct_writes):
    import errno

    opened = storage.os.open

    def no_direct(path, flags, *args):  # tmpfs, some network file systems
        if flags & os.O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")
        return opened(path, flags, *args)

    monkeypatch.setattr(storage.os, "open", no_direct)
    data = os.urandom(2 * MiB + 5)
    upload = services.create_upload(tree.teacher, len(data) + 1, {})
    services.append(upload, _Pieces(data, 70_000), offset=0, content_length=len(data))
    with open(upload.partial_path, "rb") as fh:
        assert fh.read() == data
    assert direct_writes == []


def test_a_broken_body_keeps_what_arrived_of_a_block(tree, direct_writes):
    class Broken(_Pieces):
        def read(self, size):
            if self.at >= MiB + 10_000:
                raise ConnectionResetError
            return super().read(size)

    data = os.urandom(2 * MiB)
    upload = services.create_upload(tree.teacher, len(data), {})
    services.append(upload, Broken(data, 10_000), offset=0, content_length=len(data))
    upload.refresh_from_db()
    assert upload.offset == MiB + 10_000
    with open(upload.partial_path, "rb") as fh:
        assert fh.read() == data[:MiB + 10_000]
    assert direct_writes == [(0, MiB)]  # the broken-off rest of the second block: through the page cache


def test_receiving_buffers_start_on_a_page_boundary():
    import ctypes
    import mmap

    feeder = storage.HashFeeder([hashlib.sha256()])
    views = [feeder.buffer() for _ in range(4)]
    assert all(ctypes.addressof(ctypes.c_char.from_buffer(view.obj)) % mmap.PAGESIZE == 0 for view in views)
    for view in views:
        feeder.give_back(view)
    feeder.close()
