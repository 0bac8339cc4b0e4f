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

On Linux the body can also go from the socket to a file without passing through Python at all
(``SocketBody.splice_into``: ``splice(2)`` from the socket into a pipe and from the pipe into the
file). This is how an upload's bytes are stored when nothing needs to look at them on the way (no
``Upload-Checksum``): on loopback it halves the time of a 1 GiB upload against ``recv_into`` and
``write``, and the server's CPU with it. Each body borrows one pipe (1 MiB) from a small pool.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import select
import socket
import threading

log = logging.getLogger(__name__)

RECEIVE_TIMEOUT = 60.0  # seconds without a byte before a body counts as broken off
PIPE_SIZE = 1024 * 1024  # bytes moved per splice (the kernel may give a pipe less: then that)
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
# errno values that mean "this kind of file or socket cannot be spliced": use plain reads/writes.
_NO_SPLICE = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EBADF}


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
        self.pipe: tuple[int, int] | None = None
        self.poller = None
        self.spliceable = SPLICE_OK and type(sock) is socket.socket  # never an SSL socket (ciphertext)

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

    def splice_into(self, fd: int, offset: int, count: int) -> int:
        """Move up to ``count`` bytes of the body into the file ``fd`` at ``offset`` (``pwrite``
        semantics: the file's position is not used) and return how many; 0 when the client closed
        the connection. A failure reading the socket (reset, ``TimeoutError``) or writing the file
        (``OSError``, e.g. a full disk) raises; the bytes returned before it are in the file."""
        want = min(count, self.reader.length)
        if want <= 0:
            return 0
        if self.buffered or not self.spliceable:
            return self._copy_into(fd, offset, want)
        if self.pipe is None:
            self.pipe = _take_pipe()
        try:
            n = self._socket_to_pipe(want)
        except OSError as exc:
            if exc.errno in _NO_SPLICE:  # this kind of socket cannot be spliced: copy
                self.spliceable = False
                return self._copy_into(fd, offset, want)
            self.body.failed = True
            raise
        except BaseException:
            self.body.failed = True
            raise
        if n == 0:  # the client closed the connection
            self.body.failed = True
            return 0
        try:
            _pipe_to_file(self.pipe[0], fd, offset, n)
        except BaseException:
            self.body.failed = True  # read from the socket but not stored: the connection is done
            _close_pipe(self.pipe)  # it may still hold bytes
            self.pipe = None
            raise
        self.reader.length -= n
        return n

    def _socket_to_pipe(self, want: int) -> int:
        sock_fd = self.sock.fileno()
        while True:
            try:
                return os.splice(sock_fd, self.pipe[1], min(want, PIPE_SIZE),
                                 flags=os.SPLICE_F_MOVE | os.SPLICE_F_NONBLOCK)
            except BlockingIOError:  # nothing received yet (the socket is non-blocking under a timeout)
                if self.poller is None:
                    self.poller = select.poll()
                    self.poller.register(sock_fd, select.POLLIN)
                timeout = self.sock.gettimeout()
                if not self.poller.poll(None if timeout is None else timeout * 1000):
                    raise TimeoutError("no bytes from the client within the receive timeout") from None

    def _copy_into(self, fd: int, offset: int, want: int) -> int:
        """The held bytes, or (when splicing is not possible) one read from the socket, written at ``offset``."""
        if self.buffered:
            data = self.buffered[: min(want, len(self.buffered))]
            self.buffered = self.buffered[len(data):]
            self.reader.length -= len(data)
        else:
            data = bytearray(min(want, PIPE_SIZE))
            n = self.readinto(memoryview(data))
            if n == 0:
                return 0
            data = memoryview(data)[:n]
        _pwrite_all(fd, data, offset)
        return len(data)

    def close(self) -> None:
        if self.pipe is not None:
            _give_pipe(self.pipe)
            self.pipe = None
        if self.buffered:  # not all taken (the caller stopped early): gunicorn reads or drains it
            self.reader.unreader.unread(bytes(self.buffered))
            self.buffered = memoryview(b"")
        try:
            self.sock.settimeout(self.prior_timeout)
        except OSError:  # pragma: no cover - the socket is already closed
            pass


def _pwrite_all(fd: int, data, offset: int) -> None:
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, offset)
        view, offset = view[n:], offset + n


def _pipe_to_file(pipe_r: int, fd: int, offset: int, n: int) -> None:
    """Empty ``n`` bytes from the pipe into the file at ``offset``."""
    global SPLICE_OK
    while n:
        try:
            m = os.splice(pipe_r, fd, n, offset_dst=offset, flags=os.SPLICE_F_MOVE)
        except OSError as exc:
            if exc.errno not in _NO_SPLICE:
                raise
            # This file system does not take spliced pages: copy what the pipe holds, and stop
            # splicing in this process.
            SPLICE_OK = False
            while n:
                data = os.read(pipe_r, min(n, PIPE_SIZE))
                _pwrite_all(fd, data, offset)
                offset, n = offset + len(data), n - len(data)
            return
        if m == 0:  # pragma: no cover - the pipe holds n bytes, so splice moves some
            raise OSError(errno.EIO, "splice moved nothing from a full pipe")
        offset, n = offset + m, n - m


# Pipes for splicing are reused across requests (at most _PIPES_MAX kept open per process).
SPLICE_OK = hasattr(os, "splice")
_PIPES: list[tuple[int, int]] = []
_PIPES_LOCK = threading.Lock()
_PIPES_MAX = 8


def _take_pipe() -> tuple[int, int]:
    with _PIPES_LOCK:
        if _PIPES:
            return _PIPES.pop()
    r, w = os.pipe2(os.O_CLOEXEC)
    try:
        fcntl.fcntl(w, _F_SETPIPE_SZ, PIPE_SIZE)
    except OSError:  # over the system's limit for pipes: the default size (64 KiB) works too
        pass
    return r, w


def _give_pipe(pipe: tuple[int, int]) -> None:
    with _PIPES_LOCK:
        if len(_PIPES) < _PIPES_MAX:
            _PIPES.append(pipe)
            return
    _close_pipe(pipe)


def _close_pipe(pipe: tuple[int, int]) -> None:
    for fd in pipe:
        try:
            os.close(fd)
        except OSError:  # pragma: no cover - already closed
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
    except (AttributeError, OSError, socket.error):  # an unexpected gunicorn inside: the portable way
        log.warning("reading the request body from gunicorn's socket failed; using request.read()", exc_info=True)
        fast = None
    return fast or StreamBody(request)
