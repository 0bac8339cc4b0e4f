"""Uploads that go from the browser straight to the object store: S3 multipart with presigned part URLs.

The app never holds a byte of the file. It

- ``create_multipart``: checks the declared name and size against the slot (``media.rules``),
  starts a multipart upload in the bucket under a generated key and records a ``MultipartUpload``;
- ``sign_parts``: signs short-lived ``PUT`` URLs for some part numbers (the browser sends each part
  to the store itself);
- ``list_parts``: what the store holds (resume after a reload, or through another web node: the
  store and the row are the only state);
- ``complete_multipart``: has the store join the parts, checks the size, reads the object's first
  bytes with a range GET to decide its real type (``media.sniff``), then creates the ``StoredFile``
  exactly as the tus path does (``media.services.register_file``: audit entry, probe on commit);
- ``abort_multipart`` and ``cleanup_stale_multipart`` (periodic, JPK_UPLOAD_EXPIRE_HOURS).

The store is the default storage in S3 mode (``jingpinke.storage``: JPK_STORAGE_BACKEND=s3); part
URLs are signed for its public address (JPK_STORAGE_PUBLIC_URL, else the endpoint), which browsers must
reach, and the bucket needs the CORS rule of ``cors_rules`` (``manage.py storage_cors``).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jingpinke import storage as stores
from jingpinke.errors import ServiceError
from media import rules, services, storage
from media.models import MultipartUpload
from media.sniff import HEAD, sniff_file

log = logging.getLogger(__name__)

PART_URL_SECONDS = 15 * 60  # a signed part URL is valid this long (the client asks again after)


# --- the store (jingpinke.storage: clients, bucket, keys, range reads) ------------------------------


def direct_uploads_enabled() -> bool:
    """True when uploads go straight to the object store (the pages then use the S3 widget)."""
    return stores.is_s3()


def _store() -> None:
    if not stores.is_s3():
        raise ServiceError(_("本站的文件保存在服务器本地，不支持直传到对象存储。请使用普通上传（/api/v1/uploads/）。"), status=400)


def _is_missing(exc) -> bool:
    code = str((getattr(exc, "response", None) or {}).get("Error", {}).get("Code", ""))
    return code in {"NoSuchUpload", "NoSuchKey", "404", "NotFound"}


def open_ranges(key: str, size: int):
    """A seekable reader over the object ``key`` that fetches 64 KiB ranges on demand (enough for
    the sniffer's head; a zip's directory costs one more), never the whole object."""
    return stores.RangeReader(key, size=size, read_ahead=HEAD)


def cors_rules(origins: list[str]) -> dict:
    """The bucket CORS configuration direct uploads need: the site's pages may PUT parts and read
    each part's ETag (Uppy sends it back on completion), and GET (playback, downloads)."""
    return {"CORSRules": [{"AllowedOrigins": list(origins), "AllowedMethods": ["GET", "HEAD", "PUT", "POST"],
                           "AllowedHeaders": ["*"],
                           "ExposeHeaders": ["ETag", "Content-Length", "Content-Range", "Accept-Ranges"],
                           "MaxAgeSeconds": 3600}]}


def set_bucket_cors(origins: list[str]) -> dict:
    """Apply ``cors_rules(origins)`` to the default storage's bucket; returns what was set."""
    _store()
    rules_ = cors_rules(origins)
    stores.s3_client().put_bucket_cors(Bucket=stores.bucket_name(), CORSConfiguration=rules_)
    return rules_


# --- use cases ------------------------------------------------------------------------------------


def create_multipart(user, *, name: str, size: int, formats=(), slot_max_bytes: int = 0,
                     course_id: int | None = None, period: int | None = None, slot: str = "") -> MultipartUpload:
    """Start a direct upload of ``size`` bytes named ``name`` for a slot that accepts ``formats``
    (FileKind values; the caller has checked that ``user`` may upload into it)."""
    _store()
    name = storage.display_name(name)
    refused = rules.upload_size_error(size, services.max_upload_bytes(), slot_max_bytes)
    if refused:
        raise ServiceError(refused, status=413 if size > 0 else 400)
    refused = rules.upload_type_error(name, formats)
    if refused:
        raise ServiceError(refused, status=415)
    open_count = MultipartUpload.objects.filter(owner=user, stored_file__isnull=True).count()
    if open_count >= services.MAX_OPEN_UPLOADS:
        raise ServiceError(
            _("您有 %(n)d 个未完成的上传。请先完成或取消其中一些，再开始新的上传。") % {"n": services.MAX_OPEN_UPLOADS}, status=429)
    key = storage.new_storage_key()
    kind = rules.normalise_name(rules.extension_of(name))
    content_type = services.CONTENT_TYPES.get(kind, "application/octet-stream")
    started = stores.s3_client().create_multipart_upload(Bucket=stores.bucket_name(), Key=stores.object_key(key),
                                                         ContentType=content_type)
    return MultipartUpload.objects.create(
        owner=user, key=key, upload_id=started["UploadId"], original_name=name, size=size,
        part_size=rules.part_size_for(size), formats=list(formats or ()), course_id=course_id, period=period,
        slot=slot or "")


def get_multipart(user, pk) -> MultipartUpload:
    """The user's own direct upload; anybody else's (or none) is 404; a stale one is 410."""
    upload = MultipartUpload.objects.filter(pk=pk).first()
    if upload is None or not rules.may_use_upload(getattr(user, "pk", None), upload.owner_id):
        raise ServiceError(_("找不到这个上传：它不存在、已被删除或已过期，请重新上传文件。"), status=404)
    if not upload.stored_file_id and rules.upload_expired(upload.updated_at, timezone.now(), int(settings.UPLOAD_EXPIRE_HOURS)):
        raise ServiceError(
            _("这个上传已过期（超过 %(h)d 小时没有进展），已上传的部分会被清理。请重新选择文件上传。")
            % {"h": int(settings.UPLOAD_EXPIRE_HOURS)}, status=410)
    return upload


def parts_count(upload: MultipartUpload) -> int:
    return rules.parts_count(upload.size, upload.part_size)


def part_length(upload: MultipartUpload, number: int) -> int:
    """The bytes part ``number`` must hold (every part is ``part_size`` but the last)."""
    if number < parts_count(upload):
        return upload.part_size
    return upload.size - upload.part_size * (parts_count(upload) - 1)


def sign_parts(upload: MultipartUpload, numbers: list[int]) -> dict[int, str]:
    """Presigned ``PUT`` URLs (valid ``PART_URL_SECONDS``) for these part numbers."""
    if upload.stored_file_id:
        raise ServiceError(_("这个文件已经上传完成，不需要再上传。"), status=409)
    refused = rules.part_numbers_error(numbers, parts_count(upload))
    if refused:
        raise ServiceError(refused)
    _store()
    client = stores.public_s3_client()  # the URLs name the store's address as browsers reach it
    params = {"Bucket": stores.bucket_name(), "Key": stores.object_key(upload.key), "UploadId": upload.upload_id}
    urls = {n: client.generate_presigned_url("upload_part", Params={**params, "PartNumber": n},
                                             ExpiresIn=PART_URL_SECONDS, HttpMethod="PUT")
            for n in dict.fromkeys(numbers)}
    MultipartUpload.objects.filter(pk=upload.pk).update(updated_at=timezone.now())  # in progress: not stale
    return urls


def _stored_parts(upload: MultipartUpload) -> list[dict]:
    client = stores.s3_client()
    parts, marker = [], 0
    while True:
        try:
            page = client.list_parts(Bucket=stores.bucket_name(), Key=stores.object_key(upload.key),
                                     UploadId=upload.upload_id, PartNumberMarker=marker)
        except Exception as exc:
            if _is_missing(exc):
                raise ServiceError(_("对象存储中已没有这个上传（已过期或已取消），请重新上传文件。"), status=410) from None
            raise
        parts += [{"number": p["PartNumber"], "size": p["Size"], "etag": p["ETag"]} for p in page.get("Parts", [])]
        if not page.get("IsTruncated"):
            return parts
        marker = page["NextPartNumberMarker"]


def list_parts(upload: MultipartUpload) -> list[dict]:
    """The parts the store holds: ``[{number, size, etag}]`` in order."""
    if upload.stored_file_id:
        return []
    _store()
    parts = _stored_parts(upload)
    MultipartUpload.objects.filter(pk=upload.pk).update(updated_at=timezone.now())
    return parts


def _check_parts(upload: MultipartUpload, parts: list[dict]) -> None:
    have = {p["number"]: p for p in parts}
    count = parts_count(upload)
    missing = [n for n in range(1, count + 1) if n not in have]
    if missing:
        raise ServiceError(
            _("还有 %(n)d 个分块没有上传（第 %(first)d 块起），请继续上传后再完成。") % {"n": len(missing), "first": missing[0]},
            status=409)
    wrong = [n for n in range(1, count + 1) if have[n]["size"] != part_length(upload, n)]
    if wrong or len(have) > count:
        n = wrong[0] if wrong else max(have)
        raise ServiceError(
            _("第 %(n)d 块的大小不对（文件声明为 %(size)d 字节，每块 %(part)d 字节）。请取消后重新上传。")
            % {"n": n, "size": upload.size, "part": upload.part_size}, status=409)


def complete_multipart(upload: MultipartUpload):
    """Join the parts, check size and real type, and create the ``StoredFile`` (probe queued on
    commit). Safe to repeat: a finished upload answers with its file. A refused type deletes the
    object and the upload, and raises a ServiceError that says why."""
    _store()
    client = stores.s3_client()
    bucket, key = stores.bucket_name(), stores.object_key(upload.key)
    refused = None
    with transaction.atomic():
        upload = MultipartUpload.objects.select_for_update().get(pk=upload.pk)
        if upload.stored_file_id:
            return upload.stored_file
        try:
            parts = _stored_parts(upload)
        except ServiceError:
            parts = None  # completed by an earlier request that died before it was recorded?
        if parts is not None:
            _check_parts(upload, parts)
            client.complete_multipart_upload(
                Bucket=bucket, Key=key, UploadId=upload.upload_id,
                MultipartUpload={"Parts": [{"PartNumber": p["number"], "ETag": p["etag"]} for p in parts]})
        try:
            size = client.head_object(Bucket=bucket, Key=key)["ContentLength"]
        except Exception as exc:
            if _is_missing(exc):
                raise ServiceError(_("对象存储中已没有这个上传（已过期或已取消），请重新上传文件。"), status=410) from None
            raise
        if size != upload.size:
            refused = _("上传的文件大小（%(got)d 字节）与声明的（%(size)d 字节）不一致，文件已删除。请重新上传。") % {
                "got": size, "size": upload.size}
            kind = None
        else:
            with open_ranges(key, size) as head:
                kind = sniff_file(head)
            refused = rules.sniffed_type_error(kind, upload.formats, upload.original_name)
        if refused is None:
            stored = services.register_file(upload.owner, upload.key, upload.original_name, upload.size, kind)
            upload.stored_file = stored
            upload.save(update_fields=["stored_file", "updated_at"])
            return stored
        upload.delete()
    client.delete_object(Bucket=bucket, Key=key)
    raise ServiceError(refused, status=400)


def abort_multipart(upload: MultipartUpload) -> None:
    """Cancel an unfinished upload: the store drops its parts, the row goes."""
    if upload.stored_file_id:
        raise ServiceError(_("这个文件已经上传完成，不能取消；如不需要，请在课程中删除它。"), status=409)
    _store()
    try:
        stores.s3_client().abort_multipart_upload(Bucket=stores.bucket_name(), Key=stores.object_key(upload.key),
                                                  UploadId=upload.upload_id)
    except Exception as exc:
        if not _is_missing(exc):
            raise
    upload.delete()


def cleanup_stale_multipart(now=None) -> dict:
    """Periodic: abort direct uploads idle longer than JPK_UPLOAD_EXPIRE_HOURS (and multipart
    uploads in the bucket that no row knows, e.g. a node died between starting one and recording
    it); drop rows of finished ones as old (their files stay)."""
    if not stores.is_s3():
        return {}  # files on local disk: no direct uploads
    client = stores.s3_client()
    now = now or timezone.now()
    hours = int(settings.UPLOAD_EXPIRE_HOURS)
    aborted = strays = 0
    for upload in MultipartUpload.objects.filter(updated_at__lt=now - services.expire_after()).iterator():
        if not rules.upload_expired(upload.updated_at, now, hours):
            continue
        if upload.stored_file_id:
            upload.delete()
            continue
        abort_multipart(upload)
        aborted += 1
    known = set(MultipartUpload.objects.values_list("upload_id", flat=True))
    params = {"Bucket": stores.bucket_name(), "Prefix": stores.object_key("files/")}
    while True:
        page = client.list_multipart_uploads(**params)
        for item in page.get("Uploads", []):
            if item["UploadId"] not in known and rules.upload_expired(item["Initiated"], now, hours):
                try:
                    client.abort_multipart_upload(Bucket=stores.bucket_name(), Key=item["Key"], UploadId=item["UploadId"])
                    strays += 1
                except Exception as exc:
                    if not _is_missing(exc):
                        raise
        if not page.get("IsTruncated"):
            break
        params.update(KeyMarker=page.get("NextKeyMarker", ""), UploadIdMarker=page.get("NextUploadIdMarker", ""))
    if aborted or strays:
        log.info("cleanup: %s stale direct uploads aborted, %s stray multipart uploads aborted", aborted, strays)
    return {"multipart": aborted, "stray_multipart": strays}
