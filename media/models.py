"""Stored files and resumable uploads.

A ``StoredFile`` is a finished, immutable file in the default storage under a generated key; the
client's file name is display text only. Its ``probe`` holds what was measured (by
``media.tasks.probe_file``); judging the measurements against a campaign's requirements is the pure
``media.rules.evaluate`` and belongs to whoever uses the file (a course's resource slot).

An ``Upload`` is a tus upload in progress: bytes go to a partial file on local disk, and when the
last byte arrives the upload becomes a ``StoredFile``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class FileKind(models.TextChoices):
    """What the content is, decided from its bytes (``media.sniff``), never from the name."""

    MP4 = "mp4", _("MP4 视频")
    MOV = "mov", _("QuickTime 视频")
    AVI = "avi", _("AVI 视频")
    MKV = "mkv", _("MKV/WebM 视频")
    FLV = "flv", _("FLV 视频")
    PDF = "pdf", _("PDF 文档")
    DOCX = "docx", _("Word 文档（docx）")
    PPTX = "pptx", _("PowerPoint 演示文稿（pptx）")
    XLSX = "xlsx", _("Excel 表格（xlsx）")
    DOC = "doc", _("旧版 Office 文档（doc/ppt/xls）")
    ZIP = "zip", _("ZIP 压缩包")
    JPEG = "jpeg", _("JPEG 图片")
    PNG = "png", _("PNG 图片")
    EMPTY = "empty", _("空文件")
    UNKNOWN = "unknown", _("无法识别的文件")


class ProbeStatus(models.TextChoices):
    PENDING = "pending", _("等待检测")
    RUNNING = "running", _("检测中")
    DONE = "done", _("已检测")
    FAILED = "failed", _("无法读取")


def new_key() -> str:
    return uuid.uuid4().hex


class StoredFile(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="stored_files")
    storage_key = models.CharField(max_length=255, unique=True)
    original_name = models.CharField(_("原文件名"), max_length=255, blank=True)
    size = models.BigIntegerField(_("大小（字节）"))
    sha256 = models.CharField(max_length=64, db_index=True)
    kind = models.CharField(_("文件类型"), max_length=10, choices=FileKind.choices, default=FileKind.UNKNOWN)
    created_at = models.DateTimeField(auto_now_add=True)

    # Filled by media.tasks.probe_file.
    probe_status = models.CharField(max_length=10, choices=ProbeStatus.choices, default=ProbeStatus.PENDING)
    probe = models.JSONField(default=dict, blank=True)
    probe_error = models.TextField(blank=True)
    probed_at = models.DateTimeField(null=True, blank=True)
    # Probes started for this file (a worker that died mid-probe leaves it "running"; see
    # media.services.requeue_stuck_probes).
    probe_attempts = models.PositiveSmallIntegerField(default=0)
    # The claim of the probe running now (media.services.run_probe): a random token, the task
    # worker holding it ("" outside a worker) and since when. Only the holder of the token may
    # write the result; a claim whose worker died is taken over. ``probe_runs`` counts the probes
    # that wrote their result (one per probe asked for, however often its task ran).
    probe_token = models.CharField(max_length=32, blank=True)
    probe_worker = models.CharField(max_length=64, blank=True)
    probe_claimed_at = models.DateTimeField(null=True, blank=True)
    probe_runs = models.PositiveIntegerField(default=0)
    text = models.TextField(blank=True)
    poster_key = models.CharField(max_length=255, blank=True)
    title_frame_key = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = _("文件")
        verbose_name_plural = _("文件")
        ordering = ["-created_at"]

    def __str__(self):
        return self.original_name or str(self.id)


class Upload(models.Model):
    """A tus upload in progress (or finished: ``stored_file`` is then set)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploads")
    length = models.BigIntegerField()
    offset = models.BigIntegerField(default=0)
    metadata = models.JSONField(default=dict, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    partial_path = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    stored_file = models.OneToOneField(StoredFile, null=True, blank=True, on_delete=models.SET_NULL, related_name="upload")

    class Meta:
        verbose_name = _("上传")
        verbose_name_plural = _("上传")

    def __str__(self) -> str:
        return f"Upload {self.pk}: {self.original_name} {self.offset}/{self.length}"


class CleanCopy(models.Model):
    """The metadata-free copy of a stored file that blind review serves (``media.clean``), made
    once by ``media.tasks.make_clean_copy``. When the file cannot be cleaned (damaged, password,
    unsupported type) ``error`` says why in Chinese and there is no copy (``storage_key`` empty)."""

    source = models.OneToOneField(StoredFile, on_delete=models.CASCADE, related_name="clean_copy")
    storage_key = models.CharField(max_length=255, blank=True)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("匿名副本")
        verbose_name_plural = _("匿名副本")

    def __str__(self):
        return f"clean copy of {self.source_id}"

    @property
    def ok(self) -> bool:
        return bool(self.storage_key) and not self.error


class MultipartUpload(models.Model):
    """An upload going from the browser straight to the object store (S3 multipart; see
    ``media.multipart``). The app never sees its bytes: it signs part URLs, lists the parts the
    store holds (resume), completes or aborts. ``key`` is the storage name the finished file gets
    (``StoredFile.storage_key``); ``upload_id`` is the store's id of the multipart upload. The
    course, 课时 and slot it was started for decide what it may be (type, size); the periodic
    cleanup aborts the ones left unfinished (JPK_UPLOAD_EXPIRE_HOURS)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="multipart_uploads")
    key = models.CharField(max_length=255, unique=True)
    upload_id = models.CharField(max_length=1024)
    original_name = models.CharField(max_length=255, blank=True)
    size = models.BigIntegerField()
    part_size = models.BigIntegerField()
    formats = models.JSONField(default=list, blank=True)  # FileKind values accepted ([]: any)
    course_id = models.PositiveIntegerField(null=True, blank=True)
    period = models.PositiveSmallIntegerField(null=True, blank=True)
    slot = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    stored_file = models.OneToOneField(StoredFile, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="multipart_upload")

    class Meta:
        verbose_name = _("直传上传")
        verbose_name_plural = _("直传上传")

    def __str__(self):
        return self.original_name or str(self.id)
