"""Files in the REST API (/api/v1/files). Uploading itself is tus at /api/v1/uploads/, or, when the
files live in an object store, straight from the client to the store (``/api/v1/files/multipart``:
start one for a course's slot with ``POST /api/v1/courses/{id}/periods/{n}/slots/{kind}/uploads``,
then sign part URLs, PUT the parts to the store, list parts to resume, complete or abort here)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.http import Http404
from django.urls import reverse
from ninja import Field, Router, Schema

from media import multipart, services
from media.models import StoredFile
from media.permissions import can_view_file

# The whole file's sha256 is computed by the file's background check, not during the upload.
SHA256_NOTE = "文件的 SHA-256（十六进制）。上传完成后由后台检测计算，通常几秒内写入；在此之前为空字符串。"

router = Router(tags=["文件"])


class ErrorOut(Schema):
    detail: str
    errors: list = []


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
MULTIPART_ERRORS = {**ERRORS, 409: ErrorOut, 410: ErrorOut, 413: ErrorOut, 415: ErrorOut, 429: ErrorOut}


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


# --- direct uploads to the object store (S3 multipart; media.multipart) -----------------------------
class MultipartIn(Schema):
    filename: str = Field(max_length=1000, description="文件名（只用于显示和按扩展名初步判断类型）")
    size: int = Field(description="文件的字节数")


class MultipartOut(Schema):
    id: UUID = Field(description="上传编号（签名、查询分块、完成、取消时使用）")
    key: str = Field(description="文件在对象存储中的键")
    size: int
    part_size: int = Field(description="每块的字节数（最后一块可以更小）")
    parts_count: int
    complete: bool
    file_id: UUID | None


def multipart_out(upload) -> dict:
    return {"id": upload.pk, "key": upload.key, "size": upload.size, "part_size": upload.part_size,
            "parts_count": multipart.parts_count(upload), "complete": upload.stored_file_id is not None,
            "file_id": upload.stored_file_id}


class SignIn(Schema):
    parts: list[int] = Field(description="要上传的分块编号（从 1 开始，一次最多 100 个）")


class SignedPart(Schema):
    number: int
    url: str = Field(description="用 PUT 把这一块的字节直接发到这个地址（短时有效）")


class SignOut(Schema):
    expires_in: int = Field(description="地址的有效秒数")
    parts: list[SignedPart]


class PartOut(Schema):
    number: int
    size: int
    etag: str


@router.get("/multipart/{uuid:upload_id}", response={200: MultipartOut, **MULTIPART_ERRORS},
            summary="直传上传的信息")
def multipart_detail(request, upload_id: UUID):
    return multipart_out(multipart.get_multipart(request.user, upload_id))


@router.post("/multipart/{uuid:upload_id}/sign", response={200: SignOut, **MULTIPART_ERRORS},
             summary="为若干分块签发直传地址（PUT 到对象存储，短时有效）")
def multipart_sign(request, upload_id: UUID, payload: SignIn):
    urls = multipart.sign_parts(multipart.get_multipart(request.user, upload_id), payload.parts)
    return {"expires_in": multipart.PART_URL_SECONDS, "parts": [{"number": n, "url": u} for n, u in urls.items()]}


@router.get("/multipart/{uuid:upload_id}/parts", response={200: list[PartOut], **MULTIPART_ERRORS},
            summary="对象存储已收到的分块（刷新页面或换一台服务器后据此续传）")
def multipart_parts(request, upload_id: UUID):
    return multipart.list_parts(multipart.get_multipart(request.user, upload_id))


@router.post("/multipart/{uuid:upload_id}/complete", response={200: FileOut, **MULTIPART_ERRORS},
             summary="完成直传：合并分块、按内容判断类型、生成文件并开始检测")
def multipart_complete(request, upload_id: UUID):
    return file_out(multipart.complete_multipart(multipart.get_multipart(request.user, upload_id)))


@router.delete("/multipart/{uuid:upload_id}", response={204: None, **MULTIPART_ERRORS},
               summary="取消直传（对象存储删除已收到的分块）")
def multipart_abort(request, upload_id: UUID):
    multipart.abort_multipart(multipart.get_multipart(request.user, upload_id))
    return 204, None


@router.get("", response=list[FileOut], summary="我上传的文件（最近 100 个）")
def my_files(request):
    return [file_out(f) for f in StoredFile.objects.filter(owner=request.user)[:100]]


@router.get("/{uuid:file_id}", response={200: FileOut, **ERRORS}, summary="文件信息与检测状态")
def file_detail(request, file_id: UUID):
    stored = StoredFile.objects.filter(pk=file_id).first()
    if stored is None or not can_view_file(request.user, stored):
        raise Http404
    return file_out(stored)
