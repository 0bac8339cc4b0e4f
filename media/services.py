"""Use cases of the media app: resumable uploads, finished files, serving them.

The tus protocol (headers, status codes) is parsed in ``media.tus``; this module does the work:

- ``create_upload``: a new upload of a known length (refused over the size cap or the free disk);
- ``append``: stream one PATCH body into the partial file, chunk by chunk (constant memory),
  verifying the optional per-request checksum; a broken connection keeps what arrived;
- ``finish_upload`` (on the last byte): type by content (``media.sniff``), move into the default
  storage under a generated key, a ``StoredFile``, and the probe task on commit (which computes the
  file's sha256 first, off the upload's path);
- ``terminate_upload``, ``cleanup_stale_uploads``;
- ``file_response``: serve a stored file with HTTP range support (video seeking).

Concurrent requests on one upload are serialised by an exclusive ``flock`` on its partial file
(a second one gets 423), so the database is never held locked while bytes are streaming.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import logging
import os
import re
import shutil
import uuid
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from jingpinke.errors import ServiceError
from jingpinke.sql import Compiled
from media import body, storage
from media.models import CleanCopy, FileKind, StoredFile, Upload

log = logging.getLogger(__name__)

MAX_OPEN_UPLOADS = 20  # unfinished uploads one person may have at a time
CHECKSUM_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "md5": hashlib.md5}

CONTENT_TYPES = {
    FileKind.MP4: "video/mp4",
    FileKind.MOV: "video/quicktime",
    FileKind.AVI: "video/x-msvideo",
    FileKind.MKV: "video/x-matroska",
    FileKind.FLV: "video/x-flv",
    FileKind.PDF: "application/pdf",
    FileKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    FileKind.PPTX: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    FileKind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    FileKind.DOC: "application/octet-stream",
    FileKind.ZIP: "application/zip",
    FileKind.JPEG: "image/jpeg",
    FileKind.PNG: "image/png",
}
# Shown in the browser (video player, PDF preview, images); anything else is a download.
INLINE_KINDS = {FileKind.MP4, FileKind.MOV, FileKind.PDF, FileKind.JPEG, FileKind.PNG}


def max_upload_bytes() -> int:
    return int(settings.UPLOAD_MAX_BYTES)


def expire_after() -> timedelta:
    return timedelta(hours=int(settings.UPLOAD_EXPIRE_HOURS))


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB"


# --- uploads ------------------------------------------------------------------------------------


def get_upload(user, upload_id) -> Upload:
    """The user's own upload; anybody else's (or none) is 404."""
    upload = _OWN_UPLOAD.first(upload_id, user.pk)  # compiled once (jingpinke.sql.Compiled)
    if upload is None:
        raise ServiceError(_("找不到这个上传：它不存在、已被删除或已过期，请重新上传文件。"), status=404)
    upload.owner = user  # it is his: the last PATCH registers the file as his without reading him again
    return upload


def _own_upload(upload_id, owner_id):
    return Upload.objects.filter(pk=upload_id, owner_id=owner_id).order_by()[:1]


_OWN_UPLOAD = Compiled(_own_upload)


def create_upload(user, length: int, metadata: dict[str, str]) -> Upload:
    if length < 0:
        raise ServiceError(_("Upload-Length 必须是不小于 0 的整数（文件的字节数）。"))
    if length == 0:
        # An empty file is never a valid resource (no video, document or scan is 0 bytes).
        raise ServiceError(_("文件是空的（0 字节），不能上传：请检查是否选错了文件，或文件是否已损坏。"))
    if length > max_upload_bytes():
        raise ServiceError(
            _("文件太大：%(size)s，上传上限是 %(max)s。请压缩后再上传。") % {"size": _mb(length), "max": _mb(max_upload_bytes())},
            status=413,
        )
    folder = storage.upload_dir()
    if shutil.disk_usage(folder).free < length + 64 * 1024 * 1024:
        log.error("upload refused: disk full (%s free, %s asked)", shutil.disk_usage(folder).free, length)
        raise ServiceError(_("服务器磁盘空间不足，暂时无法接收这个文件。请稍后再试，或联系管理员。"), status=507)
    name = storage.display_name(metadata.get("filename") or metadata.get("name") or "")
    upload = Upload(owner=user, length=length, offset=0, metadata=metadata, original_name=name)
    upload.partial_path = str(storage.partial_path(upload.pk))
    Path(upload.partial_path).touch(exist_ok=False)
    try:
        created = _insert_within_quota(upload)
    except BaseException:
        Path(upload.partial_path).unlink(missing_ok=True)
        raise
    if not created:
        Path(upload.partial_path).unlink(missing_ok=True)
        raise ServiceError(
            _("您有 %(n)d 个未完成的上传。请先完成或取消其中一些，再开始新的上传。") % {"n": MAX_OPEN_UPLOADS}, status=429
        )
    return upload


def _insert_within_quota(upload: Upload) -> bool:
    """Insert the new upload unless its owner already has ``MAX_OPEN_UPLOADS`` unfinished ones:
    one ``INSERT … SELECT … WHERE (count) < n`` instead of a COUNT and an INSERT (once per upload).
    False: refused (nothing inserted)."""
    from django.db import connection

    meta, q = Upload._meta, connection.ops.quote_name
    upload.created_at = upload.updated_at = timezone.now()
    # every column but the file's link (NULL by default: a bare NULL in a SELECT list would be text
    # to PostgreSQL, not a uuid)
    fields = [f for f in meta.concrete_fields if f.name != "stored_file"]
    owner, link = meta.get_field("owner"), meta.get_field("stored_file")
    sql = (f"INSERT INTO {q(meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "
           f"SELECT {', '.join(['%s'] * len(fields))} "
           f"WHERE (SELECT COUNT(*) FROM {q(meta.db_table)} WHERE {q(owner.column)} = %s AND {q(link.column)} IS NULL) < %s")
    params = [f.get_db_prep_save(getattr(upload, f.attname), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, upload.owner_id, MAX_OPEN_UPLOADS])
        created = cursor.rowcount == 1
    if created:
        upload._state.adding, upload._state.db = False, connection.alias
    return created


@contextmanager
def _locked(upload: Upload, *, wait: bool = False):
    """Exclusive lock on the partial file; yields the open file (r+b) or None if it is missing."""
    try:
        fh = open(upload.partial_path, "r+b")
    except FileNotFoundError:
        yield None
        return
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise ServiceError(_("这个文件正在另一个连接中上传。请稍候几秒再继续。"), status=423) from None
        yield fh
    finally:
        fh.close()


def _refresh(upload: Upload, fh) -> None:
    """Make sure ``upload`` holds the row as it is now that we hold the lock (call with it held).

    The row was read before the lock was taken: a request that held the lock meanwhile may have
    moved the offset or finished the file. Every such request leaves the partial file exactly as
    long as the offset it recorded (appended bytes, then their offset; a checksum failure truncates
    back; the last byte moves the file away), so a partial file as long as the offset we read says
    nobody did: the row is read again only when the sizes differ (then ``_reconcile`` decides), or
    when all bytes are there (someone may have just finished the file: it is then not ours to finish)."""
    if os.fstat(fh.fileno()).st_size != upload.offset or upload.offset == upload.length:
        upload.refresh_from_db(fields=["offset", "length", "stored_file"])


def _reconcile(upload: Upload, fh) -> None:
    """Make the partial file and the recorded offset agree (call with the lock held).

    Bytes past the recorded offset were never acknowledged (the process died mid-request):
    drop them. A file shorter than the offset (lost on a machine crash): go back to its size,
    the client resumes from there.
    """
    size = os.fstat(fh.fileno()).st_size
    if size > upload.offset:
        fh.truncate(upload.offset)
    elif size < upload.offset:
        log.warning("upload %s: partial file has %s bytes, offset was %s", upload.pk, size, upload.offset)
        upload.offset = size
        upload.save(update_fields=["offset", "updated_at"])


def current_offset(upload: Upload) -> int:
    """The offset to report on HEAD. While a PATCH is running, the last recorded one.

    All bytes there but no file yet (finishing failed half-way, e.g. the process died): finish now.
    """
    if upload.stored_file_id:
        return upload.offset
    try:
        with _locked(upload) as fh:
            if fh is None:
                raise ServiceError(_("这个上传的临时文件已被清理，请重新上传文件。"), status=410)
            _refresh(upload, fh)
            if upload.stored_file_id:
                return upload.offset
            _reconcile(upload, fh)
            if upload.offset == upload.length:
                finish_upload(upload)
    except ServiceError as exc:
        if exc.status != 423:
            raise
    return upload.offset


def parse_checksum(header: str):
    """``Upload-Checksum: <algorithm> <base64 digest>`` → (hasher, digest bytes) or None."""
    if not header:
        return None
    algorithm, _sep, value = header.strip().partition(" ")
    factory = CHECKSUM_ALGORITHMS.get(algorithm.lower())
    if factory is None:
        raise ServiceError(
            _("不支持的校验算法“%(alg)s”，请使用 sha1、sha256 或 md5。") % {"alg": algorithm[:20]}, status=400
        )
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ServiceError(_("Upload-Checksum 的校验值不是有效的 Base64 编码。"), status=400) from None
    return factory(), digest


def append(upload: Upload, stream, *, offset: int, content_length: int, checksum: str = "") -> Upload:
    """Write one PATCH body (``content_length`` bytes read from ``stream``) at ``offset``.

    ``stream`` is a reader from ``media.body.open_body`` (the view passes one: under gunicorn it
    reads the socket directly) or any file-like object with ``read(n)``. Bytes are received into
    reused ``storage.CHUNK``-sized buffers and written. With a checksum they are hashed in a helper
    thread beside the receiving, and a mismatch discards the whole chunk (460). Without one, a
    broken connection keeps the bytes that arrived (the client resumes from the new offset).
    Returns the upload, finished when its last byte arrived.

    The whole file's sha256 is not computed here but by the file's background check
    (``run_probe``), so that it costs the upload nothing: see ``finish_upload``.
    """
    if upload.stored_file_id:
        raise ServiceError(_("这个文件已经上传完成，不需要再上传。"), status=409)
    check = parse_checksum(checksum)
    reader = stream if isinstance(stream, (body.StreamBody, body.SocketBody)) else body.StreamBody(stream)
    with _locked(upload) as fh:
        if fh is None:
            raise ServiceError(_("这个上传的临时文件已被清理，请重新上传文件。"), status=410)
        _refresh(upload, fh)
        _reconcile(upload, fh)
        if offset != upload.offset:
            raise ServiceError(
                _("续传位置不对：服务器已收到 %(have)d 字节，请求从第 %(asked)d 字节开始。请先查询进度（HEAD）再从服务器给出的位置继续。")
                % {"have": upload.offset, "asked": offset},
                status=409,
            )
        if offset + content_length > upload.length:
            raise ServiceError(
                _("数据超出了文件长度：文件共 %(length)d 字节，本次请求会写到第 %(end)d 字节。")
                % {"length": upload.length, "end": offset + content_length},
                status=413,
            )
        received, broken = _receive(upload, reader, fh, offset, content_length, check)
        if check and (broken or check[0].digest() != check[1]):
            fh.truncate(offset)
            if broken:
                raise ServiceError(_("连接中断，这一段数据没有收全，已丢弃。请从第 %(offset)d 字节重新发送。") % {"offset": offset}, status=400)
            raise ServiceError(
                _("校验失败：这一段数据在传输中损坏，已丢弃。请从第 %(offset)d 字节重新发送这一段。") % {"offset": offset},
                status=460,
            )
        upload.offset = offset + received
        if upload.offset != upload.length:
            upload.save(update_fields=["offset", "updated_at"])
        else:  # the last byte: the offset is written with the upload's link to its file (one UPDATE)
            try:
                finish_upload(upload)
            except BaseException:
                # as when the offset was written first: all bytes recorded, HEAD finishes the file
                _record_offset_quietly(upload)
                raise
    return upload


def _record_offset_quietly(upload: Upload) -> None:
    try:
        Upload.objects.filter(pk=upload.pk, stored_file__isnull=True).update(offset=upload.offset,
                                                                             updated_at=timezone.now())
    except Exception:  # noqa: BLE001 - the finishing error is the one to raise
        log.exception("upload %s: could not record its offset after finishing failed", upload.pk)


def _receive(upload: Upload, reader, fh, offset: int, content_length: int, check) -> tuple[int, bool]:
    """Receive the body into reused buffers and write them (``storage.PartialWriter``: aligned
    blocks straight to the disk); for ``check`` (a PATCH with ``Upload-Checksum``) hash them in a
    helper thread beside the receiving; (bytes received, broken?)."""
    received = 0
    broken = False
    feeder = storage.HashFeeder([check[0]] if check else [])
    writer = storage.PartialWriter(fh, offset, upload.partial_path)
    try:
        while received < content_length and not broken:
            view = feeder.buffer()[: writer.want(min(storage.CHUNK, content_length - received))]
            n = 0
            while n < len(view):  # fill the block: one write per block, whatever pieces the socket gives
                try:
                    got = reader.readinto(view[n:])
                except Exception:  # the client went away: reset, timeout, UnreadablePostError, …
                    log.info("upload %s: connection broken after %s bytes", upload.pk, received + n, exc_info=True)
                    got = 0
                if not got:
                    broken = True
                    break
                n += got
            if not n:
                feeder.give_back(view)
                break
            writer.write(view[:n])
            feeder.feed(view[:n])
            received += n
    finally:
        try:
            writer.close()
        finally:
            feeder.close()
    return received, broken


def finish_upload(upload: Upload) -> StoredFile:
    """The last byte arrived: flush, sniff, store under a generated key, create the StoredFile.

    The file's sha256 is left empty here: hashing 1 GiB takes a core about a second (a hash cannot
    be split), longer than storing the bytes, so the background check computes it first thing
    (``run_probe``), from the page cache, seconds later.
    """
    from media.sniff import sniff

    path = Path(upload.partial_path)
    with open(path, "rb") as fh:  # the bytes are on the disk when the last PATCH is answered
        os.fsync(fh.fileno())
    kind = sniff(path)
    key = storage.store_finished(path, storage.new_storage_key())
    try:
        with transaction.atomic():
            stored = register_file(upload.owner, key, upload.original_name, upload.length, kind)
            upload.stored_file = stored
            upload.save(update_fields=["offset", "stored_file", "updated_at"])  # the last PATCH's offset too
    except Exception:
        storage.delete_quietly(key)
        raise
    return stored


def register_file(owner, key: str, name: str, size: int, kind: str) -> StoredFile:
    """The bytes are in the storage under ``key``: the ``StoredFile``, its audit entry and (on
    commit) its probe. Shared by every way a file arrives (tus here, direct-to-store multipart in
    ``media.multipart``); call it inside the caller's transaction."""
    from audit.services import record

    stored = StoredFile.objects.create(owner=owner, storage_key=key, original_name=name, size=size, kind=kind)
    record(owner, "media.file.upload", stored, after={"name": stored.original_name, "size": stored.size, "kind": stored.kind})
    # robust: a queue that is down must not fail the upload (the file is stored; the probe can be
    # enqueued again later, see requeue_stuck_probes).
    transaction.on_commit(lambda: _enqueue_probe(stored.pk), robust=True)
    return stored


def _enqueue_probe(file_id) -> None:
    from media.tasks import probe_file

    probe_file.enqueue(str(file_id))


def terminate_upload(upload: Upload) -> None:
    """tus termination: forget an unfinished upload and its bytes (a finished file stays)."""
    with _locked(upload, wait=False):
        Path(upload.partial_path).unlink(missing_ok=True)
        upload.delete()


def cleanup_stale_uploads(now=None) -> dict:
    """Remove unfinished uploads idle longer than ``UPLOAD_EXPIRE_HOURS`` and stray partial files.

    Finished uploads' rows are kept as long (clients may still ask for their file id) and then
    removed too; their files are StoredFiles and stay.
    """
    now = now or timezone.now()
    cutoff = now - expire_after()
    removed = files = 0
    for upload in Upload.objects.filter(updated_at__lt=cutoff).iterator():
        try:
            with _locked(upload):
                Path(upload.partial_path).unlink(missing_ok=True)
                if not upload.stored_file_id:
                    removed += 1
                upload.delete()
        except ServiceError:  # being written to right now: not stale
            continue
    known = set(Upload.objects.values_list("partial_path", flat=True))
    folder = storage.upload_dir()
    for path in folder.glob("*.part"):
        try:
            if str(path) not in known and path.stat().st_mtime < cutoff.timestamp():
                path.unlink()
                files += 1
        except FileNotFoundError:
            continue
    if removed or files:
        log.info("cleanup: %s stale uploads, %s stray partial files removed", removed, files)
    return {"uploads": removed, "stray_files": files}


# --- serving ------------------------------------------------------------------------------------

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _parse_range(header: str, size: int):
    """One ``bytes=`` range → (start, end inclusive); None to serve everything; "bad" for 416."""
    match = _RANGE.match(header.strip().replace(" ", ""))
    if not match:
        return None  # several ranges or another unit: the whole file (allowed by RFC 9110)
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":
        n = int(last)
        if n == 0:
            return "bad"
        return max(0, size - n), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return "bad"
    return start, end


def _ranged_chunks(fh, start: int, length: int, block: int = 256 * 1024):
    try:
        fh.seek(start)
        remaining = length
        while remaining > 0:
            data = fh.read(min(block, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data
    finally:
        fh.close()


def file_response(request, stored_file: StoredFile, *, as_attachment: bool = False, key: str | None = None,
                  name: str | None = None):
    """Serve a stored file (or, with ``key``, its poster/title frame).

    ``key`` and ``name`` together: another version of the file itself (its blind copy, see
    ``make_clean_copy``) served as the file's type under ``name`` (never the original name).
    Call it only after the caller has checked that ``request``'s user may see the file: the bytes
    are then sent by whoever holds them, never streamed through Python when something else can:

    - object storage (``JPK_STORAGE_BACKEND=s3``): after one HEAD (a missing object is our 404 with
      a Chinese message, not the store's XML error), 302 to a presigned URL that lives
      ``JPK_STORAGE_URL_SECONDS`` and fixes the type and Content-Disposition; the store answers
      ranges itself. The redirect is never cached (``no-store``): the next request checks again.
    - local storage behind nginx (``JPK_X_ACCEL_REDIRECT``): an empty answer with
      ``X-Accel-Redirect``; nginx sends the file (ranges included) with the headers set here.
    - otherwise streamed here with HTTP range support: ``Range: bytes=a-b`` → 206 with
      Content-Range; unsatisfiable → 416; ``If-Range`` not matching → the whole file. Memory stays
      constant: the body is read in blocks.
    """
    from jingpinke import storage as stores

    key = key or stored_file.storage_key
    if not key:
        raise Http404(_("没有这个文件。"))
    if key == stored_file.storage_key or name:
        content_type = CONTENT_TYPES.get(stored_file.kind, "application/octet-stream")
        inline = stored_file.kind in INLINE_KINDS and not as_attachment
        name = name or stored_file.original_name or f"{stored_file.pk}"
        etag = f'"{key.rsplit("/", 1)[-1]}"'  # a stored key never changes its bytes
    else:  # a derived image (poster, title frame)
        content_type, inline, name = "image/jpeg", not as_attachment, f"{stored_file.pk}.jpg"
        etag = f'"{key.rsplit("/", 1)[-1]}"'
    disposition = content_disposition_header(not inline, name)

    if (stores.is_s3() or stores.x_accel_prefix()) and not default_storage.exists(key):
        log.error("stored file %s: %s missing from storage", stored_file.pk, key)
        raise Http404(_("文件内容找不到了，请联系管理员。"))
    if stores.is_s3():
        url = stores.presigned_get_url(key, content_type=content_type, disposition=disposition)
        response = HttpResponse(status=302)
        response["Location"] = url
        response["Cache-Control"] = "private, no-store"
        return response
    if stores.x_accel_prefix():
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = stores.x_accel_path(key)
        response["ETag"] = etag
        response["Cache-Control"] = "private, max-age=3600"
        response["Content-Disposition"] = disposition
        response["X-Content-Type-Options"] = "nosniff"
        return response

    try:
        fh = default_storage.open(key, "rb")
        size = default_storage.size(key)
    except (FileNotFoundError, OSError):
        log.error("stored file %s: %s missing from storage", stored_file.pk, key)
        raise Http404(_("文件内容找不到了，请联系管理员。")) from None

    wanted = None
    header = request.headers.get("Range", "")
    if header and request.method in ("GET", "HEAD"):
        if_range = request.headers.get("If-Range")
        if not if_range or if_range == etag:
            wanted = _parse_range(header, size)
    if wanted == "bad":
        fh.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    elif wanted is None:
        response = FileResponse(fh, content_type=content_type)
        response["Content-Length"] = str(size)
    else:
        start, end = wanted
        response = StreamingHttpResponse(_ranged_chunks(fh, start, end - start + 1), status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = disposition
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- checks: probing a finished file -------------------------------------------------------------
MAX_PROBE_ATTEMPTS = 3
PROBE_GRACE = timedelta(minutes=15)  # a probe normally ends within seconds of the upload
# A file's sha256 is written with its probe's result, in the same UPDATE; a bigger file's (whose
# probe may take seconds: frames, text of a long document) at once, so that the originality check
# of a copy uploaded meanwhile finds it by its hash as before.
EARLY_SHA256_BYTES = 8 * 1024 * 1024


def run_probe(file_id, *, force: bool = False, retried: bool = False) -> str:
    """Measure the file, store facts, text and frames, and send ``file_probed``. Returns the
    probe status. A bad file ends as ``failed`` with a Chinese ``probe_error``, never an exception.
    When the storage cannot be read (not the file's fault) the file goes back to ``pending`` and the
    exception is raised for the task log; ``requeue_stuck_probes`` tries again later.

    Exactly once in effect, however often the task runs (requeued after its worker died, enqueued
    twice): the probe first claims the file (``claim_probe``). A file already probed is left as it
    is (``"skipped"``; ``force`` probes it again), so is one whose probe another live worker holds;
    a claim whose worker died is taken over. Only the holder of the claim writes the result; a
    probe whose claim was taken over meanwhile drops its frames and returns ``"superseded"``.
    ``retried``: the task runs again after its worker died; on a file already probed, the users are
    told again (``file_probed``: their work is safe to repeat) in case that worker died telling them."""
    from django.core.files.base import ContentFile

    from media.models import ProbeStatus
    from media.probe import probe, readable
    from media.signals import file_probed

    stored, token = claim_probe(file_id, force=force)
    if stored is None:
        return "missing"
    if not token:
        if retried and stored.probe_status in (ProbeStatus.DONE, ProbeStatus.FAILED):
            file_probed.send(sender=StoredFile, stored_file=stored)
        return "skipped"
    # The sha256 is written with the result (or with the failure below), not by an UPDATE of its own.
    sha256 = {} if stored.sha256 else {"sha256": ""}
    try:
        with readable(stored) as source:  # a local path, or a RangeReader over the object
            if sha256:
                sha256["sha256"] = stored.sha256 = storage.sha256_of(source)
                if stored.size > EARLY_SHA256_BYTES:  # a long probe follows: known to other files' checks now
                    StoredFile.objects.filter(pk=stored.pk).update(sha256=stored.sha256)
                    sha256 = {}
            result = probe(source, stored.kind)
    except Exception:
        log.exception("probe of file %s could not read the storage", stored.pk)
        StoredFile.objects.filter(pk=stored.pk, probe_token=token).update(
            probe_status=ProbeStatus.PENDING, probe_attempts=F("probe_attempts") - 1, probe_token="",
            probe_worker="", probe_claimed_at=None,
            probe_error=_("检测暂时未能完成（读取存储失败），系统会自动重试。"),
            **{k: v for k, v in sha256.items() if v})  # a hash computed before the failure is kept
        raise
    keys = {}
    for name, jpeg in result.frames.items():
        keys[name] = default_storage.save(f"frames/{stored.pk.hex}-{token[:8]}-{name}.jpg", ContentFile(jpeg))
    # The frames the file had when we claimed it: only the holder of the claim writes them (and
    # ``probe_runs``), so they are still the file's as long as our token is (one conditional UPDATE,
    # no locked read: a claim taken over meanwhile changed the token and the UPDATE matches nothing).
    old_keys = [k for k in (stored.poster_key, stored.title_frame_key) if k and k not in keys.values()]
    stored.probe = result.facts if result.ok else {"error": result.error}
    stored.probe_error = result.error
    stored.text = result.text
    stored.poster_key = keys.get("poster", "")
    stored.title_frame_key = keys.get("title", "")
    stored.probe_status = ProbeStatus.DONE if result.ok else ProbeStatus.FAILED
    stored.probed_at = timezone.now()
    written = StoredFile.objects.filter(pk=stored.pk, probe_token=token).update(
        probe=stored.probe, probe_error=stored.probe_error, text=stored.text, poster_key=stored.poster_key,
        title_frame_key=stored.title_frame_key, probe_status=stored.probe_status, probed_at=stored.probed_at,
        probe_token="", probe_worker="", probe_claimed_at=None, probe_runs=F("probe_runs") + 1, **sha256)
    if not written:  # taken over (we were taken for dead): the other probe writes
        for key in keys.values():
            default_storage.delete(key)
        log.warning("probe of file %s was taken over by another worker; result dropped", stored.pk)
        return "superseded"
    stored.probe_token, stored.probe_worker, stored.probe_claimed_at = "", "", None
    stored.probe_runs += 1
    for old in old_keys:
        default_storage.delete(old)
    file_probed.send(sender=StoredFile, stored_file=stored)
    return stored.probe_status


def claim_probe(file_id, *, force: bool = False, now=None) -> tuple[StoredFile | None, str]:
    """Claim the file's probe for this process: ``(file, token)``, or ``(file, "")`` when there is
    nothing to do (already probed, unless ``force``; or held by a live claim), ``(None, "")`` when
    the file is gone. A claim is stale when its worker stopped beating (workers.services) or, made
    outside a worker, after ``PROBE_GRACE``."""
    from media.models import ProbeStatus
    from workers.rules import claim_is_stale
    from workers.services import alive_worker_ids, current_worker_id

    now = now or timezone.now()
    # The usual case first, without a transaction: a file waiting for its first probe is claimed
    # and read back by one statement (``_claim_pending``).
    token = uuid.uuid4().hex
    claimed = _claim_pending(file_id, token, current_worker_id(), now)
    if claimed is not None:
        return claimed, token
    # Else (not pending, held, gone; or no RETURNING): read, then one conditional UPDATE.
    # ``probe_runs`` unchanged means no probe wrote a result since the read (each write adds one),
    # so the row read is still the file's but for the claim itself.
    stored = StoredFile.objects.filter(pk=file_id).first()
    if stored is None:
        return None, ""
    if stored.probe_status == ProbeStatus.PENDING and not stored.probe_token:
        token = uuid.uuid4().hex
        if StoredFile.objects.filter(pk=stored.pk, probe_status=ProbeStatus.PENDING, probe_token="",
                                     probe_runs=stored.probe_runs).update(
                probe_status=ProbeStatus.RUNNING, probe_attempts=F("probe_attempts") + 1, probe_token=token,
                probe_worker=current_worker_id(), probe_claimed_at=now):
            return stored, token
    elif stored.probe_status in (ProbeStatus.DONE, ProbeStatus.FAILED) and not force:
        return stored, ""  # a result is never taken back but by a forced probe
    with transaction.atomic():
        stored = StoredFile.objects.select_for_update().filter(pk=file_id).first()
        if stored is None:
            return None, ""
        if stored.probe_status in (ProbeStatus.DONE, ProbeStatus.FAILED) and not force:
            return stored, ""
        if (stored.probe_status == ProbeStatus.RUNNING and stored.probe_token
                and not claim_is_stale(stored.probe_worker, stored.probe_claimed_at, alive_worker_ids(now), now,
                                       PROBE_GRACE.total_seconds())):
            return stored, ""
        if stored.probe_status == ProbeStatus.RUNNING and stored.probe_token:
            log.warning("probe of file %s: claim of worker %r is stale; taking it over", stored.pk, stored.probe_worker)
        token = uuid.uuid4().hex
        StoredFile.objects.filter(pk=stored.pk).update(
            probe_status=ProbeStatus.RUNNING, probe_attempts=F("probe_attempts") + 1, probe_token=token,
            probe_worker=current_worker_id(), probe_claimed_at=now)
    return stored, token


def _claim_pending(file_id, token: str, worker: str, now) -> StoredFile | None:
    """Claim a file waiting for its first probe (pending, no claim) and read it back, claimed, in
    one statement: ``UPDATE … RETURNING`` (PostgreSQL; SQLite since 3.35), instead of a read and a
    conditional UPDATE (once per uploaded file). None: nothing claimed so (the file is not pending,
    is held, is gone, or the database cannot return rows from an UPDATE): the caller reads it."""
    from django.db import connection

    from media.models import ProbeStatus

    if not connection.features.can_return_columns_from_insert:
        return None
    meta, q = StoredFile._meta, connection.ops.quote_name
    field = meta.get_field
    columns = ", ".join(q(f.column) for f in meta.concrete_fields)
    sql = (f"UPDATE {q(meta.db_table)} SET {q('probe_status')} = %s, {q('probe_attempts')} = {q('probe_attempts')} + 1, "
           f"{q('probe_token')} = %s, {q('probe_worker')} = %s, {q('probe_claimed_at')} = %s "
           f"WHERE {q('id')} = %s AND {q('probe_status')} = %s AND {q('probe_token')} = '' RETURNING {columns}")
    try:
        pk = field("id").to_python(file_id)
    except Exception:  # noqa: BLE001 - not a file id: the long way answers as before
        return None
    params = [ProbeStatus.RUNNING.value, token, worker, field("probe_claimed_at").get_db_prep_value(now, connection),
              field("id").get_db_prep_value(pk, connection), ProbeStatus.PENDING.value]
    rows = list(StoredFile.objects.raw(sql, params))
    return rows[0] if rows else None


def _record_sha256(stored: StoredFile, path) -> str:
    """The file's sha256, computed from ``path`` and saved if it is not known yet (see ``finish_upload``)."""
    if not stored.sha256:
        stored.sha256 = storage.sha256_of(path)
        StoredFile.objects.filter(pk=stored.pk).update(sha256=stored.sha256)
    return stored.sha256


def file_sha256(stored: StoredFile) -> str:
    """The file's sha256, computed now if its background check has not done it yet."""
    if stored.sha256:
        return stored.sha256
    from media.probe import readable

    with readable(stored) as source:
        return _record_sha256(stored, source)


def _queued_probe_ids() -> set[str]:
    """Ids of files whose probe waits in, or runs from, the task queue (database backend; with
    another backend nothing is known to be queued)."""
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    if not isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend):
        return set()

    rows = DBTaskResult.objects.filter(task_path="media.tasks.probe_file", status__in=["READY", "RUNNING"])
    return {str((a.get("args") or [None])[0]) for a in rows.values_list("args_kwargs", flat=True)}


def requeue_stuck_probes(now=None) -> dict:
    """Periodic: probe again the files still waiting for their check long after their upload (an
    enqueue lost while the queue was down, a worker killed mid-probe), and give up, with a message
    for the teacher, on a file that stopped the prober ``MAX_PROBE_ATTEMPTS`` times."""
    from media.models import ProbeStatus
    from media.rules import stuck_probes
    from media.signals import file_probed

    now = now or timezone.now()
    waiting = StoredFile.objects.filter(probe_status__in=[ProbeStatus.PENDING, ProbeStatus.RUNNING],
                                        created_at__lt=now - PROBE_GRACE)
    decision = stuck_probes(waiting.values_list("pk", "probe_attempts"), _queued_probe_ids(), MAX_PROBE_ATTEMPTS)
    for pk in decision.requeue:
        _enqueue_probe(pk)
    for stored in StoredFile.objects.filter(pk__in=decision.give_up):
        stored.probe_status, stored.probed_at = ProbeStatus.FAILED, now
        stored.probe_error = _("多次检测都未能完成，文件结构可能异常。请用常见软件重新导出后上传；如仍不行，请联系管理员。")
        stored.probe = {"error": stored.probe_error}
        stored.save(update_fields=["probe_status", "probed_at", "probe_error", "probe"])
        file_probed.send(sender=StoredFile, stored_file=stored)
    return {"requeued": len(decision.requeue), "given_up": len(decision.give_up)}


# --- blind copies: a metadata-free copy of a finished file, made once (media.clean) --------------


def make_clean_copy(file_id) -> CleanCopy | None:
    """The file's blind copy (``CleanCopy``), made now unless it exists. The copy is written by
    ``media.clean`` into a temporary folder, checked again with ``remaining_metadata`` and only
    then stored under a generated key; a file that cannot be cleaned gets a record with the reason
    (``error``) and no copy, so that it is never served to an expert by mistake. Two runs at once
    store one copy (the one-to-one row decides; the loser's bytes are deleted). When the storage
    cannot be read the exception is raised for the task log and nothing is recorded.

    Only metadata goes: the video's title card (片头) may still show the teacher and the school,
    which is accepted (the review's help says so)."""
    import tempfile

    from django.db import IntegrityError

    from media.clean import CleanError, clean_copy, remaining_metadata
    from media.probe import readable

    stored = StoredFile.objects.filter(pk=file_id).first()
    if stored is None:
        return None
    existing = CleanCopy.objects.filter(source=stored).first()
    if existing is not None:
        return existing
    fields = {"storage_key": "", "size": 0, "sha256": "", "error": ""}
    with readable(stored) as path, tempfile.TemporaryDirectory(prefix="jpk-clean-", dir=storage.upload_dir()) as tmp:
        target = Path(tmp) / f"clean.{stored.kind}"
        try:
            clean_copy(path, target, stored.kind)
            left = remaining_metadata(target, stored.kind)
        except CleanError as exc:
            fields["error"] = str(exc)
        else:
            if left:  # a format variant media.clean does not know: never serve it
                log.error("clean copy of %s still has metadata: %s", stored.pk, left)
                fields["error"] = _("匿名处理后文件中仍有作者等信息（%(fields)s），副本不予使用，请联系管理员。") % {
                    "fields": "、".join(sorted({item.field for item in left}))}
            else:
                fields["size"] = target.stat().st_size
                fields["sha256"] = storage.sha256_of(target)
                fields["storage_key"] = storage.store_finished(target, storage.new_storage_key("clean", f".{stored.kind}"))
    try:
        with transaction.atomic():
            return CleanCopy.objects.create(source=stored, **fields)
    except IntegrityError:  # made meanwhile by another run
        storage.delete_quietly(fields["storage_key"])
        return CleanCopy.objects.get(source=stored)
