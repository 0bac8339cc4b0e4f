"""Where bytes live: partial uploads on local disk, finished files in the default storage.

Finished files are stored under generated keys (``files/ab/<32 hex>``); the client's file name is
never part of a path. With the embedded ``FileSystemStorage`` on the same disk as the upload folder
a finished upload is *moved* (``os.replace``, no copy); with object storage it is uploaded from
the file (multipart, parts read from the disk as they are sent); with any other storage it is
streamed into it with ``storage.save``.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import mmap
import os
import queue
import threading
import unicodedata
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage

# Bytes read from a request body at a time (the size of each receiving buffer): memory stays
# constant whatever the file size.
CHUNK = 1024 * 1024
HASH_BLOCK = 1024 * 1024  # read into one reused buffer when hashing a file
MAX_NAME_CHARS = 120


try:  # Linux: start writing dirty pages to the disk without waiting (and without dropping them)
    _libc = ctypes.CDLL(None, use_errno=True)
    _sync_file_range = _libc.sync_file_range
    _sync_file_range.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
except (OSError, AttributeError):  # pragma: no cover - other systems
    _sync_file_range = None
SYNC_FILE_RANGE_WRITE = 2
WRITEBACK_EVERY = 8 * 1024 * 1024


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to start writing this range to the disk now, so that the fsync at the end
    of an upload has little left to wait for (the disk works while the network does)."""
    if _sync_file_range is not None and length > 0:
        _sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE)


# Direct writes (O_DIRECT) of a body's aligned blocks: the bytes go from the receiving buffer to the
# disk without passing through the page cache. An upload must be on the disk when its last PATCH is
# answered anyway; written through the page cache, 1 GiB of dirty pages waits for the kernel's
# writeback, and the writer is throttled whenever the machine's dirty pages (PostgreSQL's, other
# uploads') are over the kernel's limits: on the shared benchmark machine a buffered write with
# early writeback took 0.9-3.6 s per GiB, a direct one 0.8-1.3 s (load 6, interleaved runs).
DIRECT_ALIGN = 4096  # file offset, length and memory address of a direct write: any disk's logical block
DIRECT_WRITES = hasattr(os, "O_DIRECT")


class PartialWriter:
    """Writes a PATCH body at its offset into the open partial file ``fh``, block by block.

    Blocks that start on an aligned offset and are a multiple of ``DIRECT_ALIGN`` long go through a
    second descriptor opened with ``O_DIRECT`` (the file system may refuse it: tmpfs; then every
    block is written as below); anything else (the head up to the first aligned offset of a PATCH
    that starts elsewhere, the tail, what arrived before a connection broke) through ``fh``, with
    the disk's writeback started every ``WRITEBACK_EVERY`` bytes. The caller asks ``want(n)`` how
    much to receive next, so that full blocks stay aligned. One ``fsync`` at the end (the caller's)
    makes both durable."""

    def __init__(self, fh, offset: int, path):
        self.fh, self.position = fh, offset
        self.flushed = offset
        self.direct: int | None = None
        if DIRECT_WRITES:
            try:
                self.direct = os.open(path, os.O_WRONLY | os.O_DIRECT)
            except OSError:  # not supported by this file system
                self.direct = None
        fh.seek(offset)

    def want(self, n: int) -> int:
        """How many of the ``n`` bytes still to come to receive into the next block."""
        if self.direct is not None and self.position % DIRECT_ALIGN:
            return min(n, DIRECT_ALIGN - self.position % DIRECT_ALIGN)
        return n

    def write(self, view: memoryview) -> None:
        n = len(view)
        if self.direct is not None and not (self.position % DIRECT_ALIGN or n % DIRECT_ALIGN):
            done = 0
            while done < n:
                done += os.pwrite(self.direct, view[done:], self.position + done)
        else:
            self.fh.seek(self.position)
            self.fh.write(view)
            if self.position + n - self.flushed >= WRITEBACK_EVERY:
                self.fh.flush()
                start_writeback(self.fh.fileno(), self.flushed, self.position + n - self.flushed)
                self.flushed = self.position + n
        self.position += n

    def close(self) -> None:
        self.fh.flush()
        if self.direct is not None:
            os.close(self.direct)
            self.direct = None


class HashFeeder:
    """Receiving buffers and the hashing thread of one request.

    The caller takes a buffer (``buffer()``), fills it, writes it to the file and passes it to ``feed``;
    a helper thread feeds it to the hash objects (hashlib releases the GIL, so hashing runs beside
    receiving and writing) and then hands the buffer back. ``depth`` buffers of ``block`` bytes
    circulate, so memory stays constant and nothing is allocated per block; when all of them wait to
    be hashed, ``buffer()`` waits. With no hashes, one buffer and no thread. Always ``close()`` it
    (in a ``finally``); the hashes are complete after that.
    """

    def __init__(self, hashes=(), depth: int = 4, block: int | None = None):
        self.hashes = [h for h in hashes if h is not None]
        self.error: BaseException | None = None
        self.block = block or CHUNK
        self.free: queue.SimpleQueue = queue.SimpleQueue()
        self.count = depth if self.hashes else 1
        for _ in range(self.count):
            self.free.put(_take_buffer(self.block))
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.done: threading.Event | None = None
        if self.hashes:
            self.done = threading.Event()
            _in_helper_thread(self._run, self.done)

    def _run(self) -> None:
        while (block := self.queue.get()) is not None:
            if self.error is None:
                try:
                    for h in self.hashes:
                        h.update(block)
                except BaseException as exc:  # pragma: no cover - hashlib does not fail on bytes
                    self.error = exc
            self.free.put(block.obj)

    def buffer(self) -> memoryview:
        """A free buffer to receive into (waits while every buffer is still being hashed)."""
        return memoryview(self.free.get())

    def feed(self, view: memoryview) -> None:
        """Hash ``view`` (a slice of a buffer from ``buffer()``); the buffer comes back afterwards."""
        if self.done is not None:
            self.queue.put(view)
        else:
            self.give_back(view)

    def give_back(self, view: memoryview) -> None:
        """Return a buffer that was not fed."""
        self.free.put(view.obj)

    def close(self) -> None:
        if self.done is not None:
            self.queue.put(None)
            self.done.wait()
            self.done = None
        if self.count:  # every buffer is back now: return them to the process's pool
            self.count = 0
            while not self.free.empty():
                _give_buffer(self.free.get())
        if self.error is not None:
            raise self.error


# Hashing threads are kept for the next request (at most _IDLE_MAX waiting per process): under
# load, starting a thread waits for the scheduler to run it, once more per PATCH.
_IDLE: list[queue.SimpleQueue] = []
_IDLE_LOCK = threading.Lock()
_IDLE_MAX = 8


def _in_helper_thread(job, done: threading.Event) -> None:
    """Run ``job()`` in an idle helper thread (or a new one), then set ``done``."""
    with _IDLE_LOCK:
        jobs = _IDLE.pop() if _IDLE else None
    if jobs is None:
        jobs = queue.SimpleQueue()
        threading.Thread(target=_helper, args=(jobs,), name="upload-hash", daemon=True).start()
    jobs.put((job, done))


def _helper(jobs: queue.SimpleQueue) -> None:
    while True:
        job, done = jobs.get()
        idle = False
        try:
            job()
        finally:
            with _IDLE_LOCK:  # ready for the next request before this one goes on
                if len(_IDLE) < _IDLE_MAX:
                    _IDLE.append(jobs)
                    idle = True
            done.set()
        if not idle:
            return


# Receiving buffers are reused across requests: a fresh 1 MiB buffer is zero-filled and costs the
# kernel 256 page faults, several milliseconds per PATCH for the usual four on a virtual machine.
# The pool holds at most _POOL_MAX of them (16 MiB), so memory stays bounded.
# They are anonymous memory maps, so that they start on a page boundary, as direct writes need.
_POOL: list[mmap.mmap] = []
_POOL_LOCK = threading.Lock()
_POOL_MAX = 16


def _take_buffer(size: int) -> mmap.mmap:
    with _POOL_LOCK:
        while _POOL:
            buffer = _POOL.pop()
            if len(buffer) == size:
                return buffer
    return mmap.mmap(-1, size)


def _give_buffer(buffer: mmap.mmap) -> None:
    with _POOL_LOCK:
        if len(_POOL) < _POOL_MAX:
            _POOL.append(buffer)


def upload_dir() -> Path:
    path = Path(settings.UPLOAD_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def partial_path(upload_id) -> Path:
    return upload_dir() / f"{uuid.UUID(str(upload_id)).hex}.part"


def new_storage_key(prefix: str = "files", suffix: str = "") -> str:
    key = uuid.uuid4().hex
    return f"{prefix}/{key[:2]}/{key}{suffix}"


def display_name(name: str) -> str:
    """The client's file name reduced to harmless display text.

    Drops any directory part (``/`` and ``\\``), control and format characters (including
    bidirectional overrides that disguise extensions), and leading dots; keeps CJK and emoji;
    truncates long names keeping the extension. Never used to build a path.
    """
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
    name = " ".join(name.split()).strip(" .")
    if len(name) > MAX_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: MAX_NAME_CHARS - len(ext) - 2] + "…." + ext
        else:
            name = name[: MAX_NAME_CHARS - 1] + "…"
    return name


def sha256_of(path) -> str:
    """sha256 of the file at ``path``, or of an open seekable binary file (read from its start,
    e.g. a ``RangeReader`` over an object in the store), in blocks of one reused buffer."""
    digest = hashlib.sha256()
    buffer = bytearray(HASH_BLOCK)
    view = memoryview(buffer)
    if hasattr(path, "readinto"):
        path.seek(0)
        while n := path.readinto(buffer):
            digest.update(view[:n])
        return digest.hexdigest()
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buffer):
            digest.update(view[:n])
    return digest.hexdigest()


def store_finished(path: Path | str, key: str) -> str:
    """Put the finished partial file ``path`` into the default storage under ``key``.

    Moves it when the storage is a local folder on the same disk; otherwise streams it and
    removes the partial file. Returns the key actually used.
    """
    path = Path(path)
    if isinstance(default_storage, FileSystemStorage):
        target = Path(default_storage.path(key))
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(path, target)
            return key
        except OSError as exc:
            if exc.errno != errno.EXDEV:  # another disk: fall through to a streaming copy
                raise
    from jingpinke import storage as stores

    if stores.is_s3():  # by file name: boto3 then reads each part from the disk as it sends it
        stores.upload_file(path, key)
        path.unlink(missing_ok=True)
        return key
    with open(path, "rb") as fh:
        saved = default_storage.save(key, File(fh, name=key))
    path.unlink(missing_ok=True)
    return saved


def delete_quietly(key: str) -> None:
    if key:
        try:
            default_storage.delete(key)
        except OSError:  # pragma: no cover - best effort
            pass
