"""Reading a request body into reusable buffers: ``open_body(request, length).readinto(view)``.

Under gunicorn the body is read straight from the client's socket (``recv_into`` a buffer the
caller reuses). gunicorn's own ``wsgi.input`` hands out each block as a new ``bytes`` after copying
it through the ``BytesIO`` buffers of its unreader and its body; measured through gunicorn gthread
on loopback that cost more than half of a 1 GiB upload's time, more than writing the bytes to the
disk. Anywhere else (Django's test client, another server, a gunicorn whose internals differ from
the pinned version's, a body already started) the body is read with ``request.read()``, the
portable WSGI way.

The fast path keeps gunicorn's bookkeeping right, so that the connection can carry the next request:
the bytes gunicorn had already received with the headers are taken first (anything past this body,
a pipelined request, is handed back), and gunicorn's count of body bytes still to come is lowered
by what is read here; if reading fails half-way the body is marked failed and gunicorn closes the
connection instead of looking for a next request in the middle of this one.

While the body is read the socket has a receive timeout (``RECEIVE_TIMEOUT``): a client that goes
silent (a dropped mobile connection sends no reset) ends the request like a broken connection, so
the thread and the upload's lock are not held for ever and the client can resume.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

RECEIVE_TIMEOUT = 60.0  # seconds without a byte before a body counts as broken off


class StreamBody:
    """``readinto`` over any file-like ``read(n)`` (the portable path)."""

    def __init__(self, stream):
        self.stream = stream

    def readinto(self, view: memoryview) -> int:
        data = self.stream.read(len(view))
        n = len(data)
        view[:n] = data
        return n

    def close(self) -> None:
        pass


class SocketBody:
    """The rest of a gunicorn request body, read from its socket (see the module docstring)."""

    def __init__(self, sock, buffered: bytes, gunicorn_body, prior_timeout):
        self.sock = sock
        self.buffered = memoryview(buffered)
        self.body = gunicorn_body
        self.reader = gunicorn_body.reader  # gunicorn's LengthReader: .length = body bytes still to come
        self.prior_timeout = prior_timeout

    def readinto(self, view: memoryview) -> int:
        want = min(len(view), self.reader.length)
        if want <= 0:
            return 0
        if self.buffered:
            n = min(want, len(self.buffered))
            view[:n] = self.buffered[:n]
            self.buffered = self.buffered[n:]
        else:
            try:
                n = self.sock.recv_into(view, want)
            except BaseException:
                self.body.failed = True  # gunicorn closes the connection
                raise
            if n == 0:  # the client closed the connection
                self.body.failed = True
                return 0
        self.reader.length -= n
        return n

    def close(self) -> None:
        if self.buffered:  # not all taken (the caller stopped early): gunicorn reads or drains it
            self.reader.unreader.unread(bytes(self.buffered))
            self.buffered = memoryview(b"")
        try:
            self.sock.settimeout(self.prior_timeout)
        except OSError:  # pragma: no cover - the socket is already closed
            pass


def _gunicorn_body(request, length: int, timeout: float):
    """A ``SocketBody`` if ``request`` is an untouched gunicorn request with a plain length body."""
    sock = request.META.get("gunicorn.socket")
    if sock is None or getattr(request, "_read_started", True):
        return None
    try:
        from gunicorn.http.body import Body, LengthReader
        from gunicorn.http.unreader import SocketUnreader
    except ImportError:  # pragma: no cover - gunicorn is a dependency
        return None
    body = request.META.get("wsgi.input")
    if type(body) is not Body or type(body.reader) is not LengthReader:
        return None  # chunked transfer encoding, HTTP/2, a wrapped stream, …
    reader = body.reader
    unreader = reader.unreader
    if type(unreader) is not SocketUnreader or unreader.sock is not sock or not hasattr(unreader, "take_buffered"):
        return None
    if body.buf.getbuffer().nbytes or reader.length != length or getattr(body, "failed", False):
        return None  # something read the body already
    prior_timeout = sock.gettimeout()
    sock.settimeout(timeout)
    # Bytes received with the headers: the start of this body, perhaps followed by the next request.
    held = unreader.take_buffered()
    if len(held) > length:
        unreader.unread(held[length:])
        held = held[:length]
    request._read_started = True  # request.body now refuses instead of reading the middle of the upload
    return SocketBody(sock, held, body, prior_timeout)


def open_body(request, length: int, *, timeout: float | None = None):
    """A reader of the ``length`` bytes of ``request``'s body: ``readinto(view) → n`` (0 at the
    end or when the client went away), then ``close()``."""
    try:
        fast = _gunicorn_body(request, length, RECEIVE_TIMEOUT if timeout is None else timeout)
    except (AttributeError, OSError):  # an unexpected gunicorn inside: the portable way
        log.warning("reading the request body from gunicorn's socket failed; using request.read()", exc_info=True)
        fast = None
    return fast or StreamBody(request)
