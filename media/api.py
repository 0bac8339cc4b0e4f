"""Files in the REST API (/api/v1/files). Uploading itself is tus at /api/v1/uploads/."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.http import Http404
from django.urls import reverse
from ninja import Field, Router, Schema

from media import services
from media.models import StoredFile
from media.permissions import can_view_file

# The whole file's sha256 is computed by the file's background check, not during the upload.
SHA256_NOTE = "文件的 SHA-256（十六进制）。上传完成后由后台检测计算，通常几秒内写入；在此之前为空字符串。"

router = Router(tags=["文件"])


class ErrorOut(Schema):
    detail: str
    errors: list = []


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class UploadOut(Schema):
    id: UUID
    length: int
    offset: int
    complete: bool
    file_id: UUID | None


class FileOut(Schema):
    id: UUID
    original_name: str
    size: int
    sha256: str = Field(description=SHA256_NOTE)
    kind: str
    kind_label: str
    created_at: datetime
    probe_status: str
    probe_status_label: str
    probe: dict
    probe_error: str
    probed_at: datetime | None
    url: str
    download_url: str
    poster_url: str | None
    title_frame_url: str | None


def file_out(stored: StoredFile) -> dict:
    url = reverse("media:file", args=[stored.pk])
    return {
        "id": stored.pk,
        "original_name": stored.original_name,
        "size": stored.size,
        "sha256": stored.sha256,
        "kind": stored.kind,
        "kind_label": stored.get_kind_display(),
        "created_at": stored.created_at,
        "probe_status": stored.probe_status,
        "probe_status_label": stored.get_probe_status_display(),
        "probe": stored.probe or {},
        "probe_error": stored.probe_error,
        "probed_at": stored.probed_at,
        "url": url,
        "download_url": url + "?download=1",
        "poster_url": reverse("media:poster", args=[stored.pk]) if stored.poster_key else None,
        "title_frame_url": reverse("media:title_frame", args=[stored.pk]) if stored.title_frame_key else None,
    }


@router.get("/uploads/{uuid:upload_id}", response={200: UploadOut, **ERRORS},
            summary="我的一个上传的进度与生成的文件编号（丢失了 X-Jpk-File-Id 时用）")
def upload_detail(request, upload_id: UUID):
    upload = services.get_upload(request.user, upload_id)
    return {
        "id": upload.pk,
        "length": upload.length,
        "offset": upload.offset,
        "complete": upload.stored_file_id is not None,
        "file_id": upload.stored_file_id,
    }


@router.get("", response=list[FileOut], summary="我上传的文件（最近 100 个）")
def my_files(request):
    return [file_out(f) for f in StoredFile.objects.filter(owner=request.user)[:100]]


@router.get("/{uuid:file_id}", response={200: FileOut, **ERRORS}, summary="文件信息与检测状态")
def file_detail(request, file_id: UUID):
    stored = StoredFile.objects.filter(pk=file_id).first()
    if stored is None or not can_view_file(request.user, stored):
        raise Http404
    return file_out(stored)
