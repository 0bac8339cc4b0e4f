"""The tus 1.0.0 protocol (https://tus.io/protocols/resumable-upload) at /api/v1/uploads/.

Core protocol plus the creation, termination, checksum and expiration extensions. Plain Django
views, because tus speaks headers, not JSON; errors carry a plain-text Chinese body that says what
to do. The work itself is in ``media.services``.

Authentication: ``Authorization: Bearer <API token>`` (scripts), or the browser session, which then
needs the CSRF token in ``X-CSRFToken`` on POST/PATCH/DELETE. An upload belongs to whoever
created it; anybody else gets 404.

The request body is read in fixed-size blocks into reused buffers (``media.body``: from gunicorn's
socket directly, else ``request.read()``), never as ``request.body``: memory use does not depend on
the file size.
"""

from __future__ import annotations

import base64
import binascii
from email.utils import format_datetime

from django.http import HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from api.auth import user_from_request
from jingpinke.errors import ServiceError
from jingpinke.inputs import NUL, nul_message
from jingpinke.middleware import streams_body
from jingpinke.prepared import prepared
from media import services
from media.body import open_body

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,termination,checksum,expiration"
OFFSET_TYPE = "application/offset+octet-stream"
EXPOSED = ("Tus-Resumable, Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm, Upload-Offset, "
           "Upload-Length, Upload-Metadata, Upload-Expires, Location, X-Jpk-File-Id")


def _response(status: int = 204, text: str = "") -> HttpResponse:
    response = HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")
    response["Tus-Resumable"] = TUS_VERSION
    response["Access-Control-Expose-Headers"] = EXPOSED
    response["Cache-Control"] = "no-store"
    return response


def _error(exc: ServiceError) -> HttpResponse:
    return _response(exc.status, exc.message + "\n")


def parse_metadata(header: str) -> dict[str, str]:
    """``Upload-Metadata: key base64,key2 base64`` → {key: text}. Values must be UTF-8."""
    result: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in (header or "").split(","))):
        key, _sep, value = pair.partition(" ")
        if not key or len(result) >= 32 or len(key) > 100:
            raise ServiceError(_("Upload-Metadata 格式不对：应为“键 Base64值”并以逗号分隔。"))
        try:
            text = base64.b64decode(value.strip(), validate=True).decode("utf-8") if value.strip() else ""
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ServiceError(
                _("Upload-Metadata 中“%(key)s”的值不是有效的 Base64 编码的 UTF-8 文本。") % {"key": key[:40]}
            ) from None
        if NUL in key or NUL in text:
            # PostgreSQL cannot store NUL in text or jsonb; refused as everywhere else (jingpinke.inputs).
            raise ServiceError(nul_message(("Upload-Metadata", key.replace(NUL, "\\u0000")[:40])))
        result[key] = text[:1000]
    return result


def _int_header(request, name: str) -> int:
    raw = request.headers.get(name)
    if raw is None or not (raw.strip().isascii() and raw.strip().isdigit()):
        raise ServiceError(_("缺少请求头 %(name)s，或它不是非负整数。") % {"name": name})
    return int(raw)


def _authenticate(request):
    """The user, or a ServiceError (401/403). Session requests must pass the CSRF check."""
    bearer = request.headers.get("Authorization", "").lower().startswith("bearer ")
    user = user_from_request(request)
    if user is None:
        if bearer:
            raise ServiceError(_("API 令牌无效、已过期或已被撤销。请在“我的账户 › API 令牌”中创建新的令牌。"), status=401)
        raise ServiceError(_("请先登录，或在请求头 Authorization 中提供 API 令牌（Bearer jpk_…）。"), status=401)
    if getattr(user, "must_change_password", False):
        raise ServiceError(_("请先登录网站修改初始密码，然后再上传文件。"), status=403)
    if not bearer and request.method not in ("GET", "HEAD", "OPTIONS"):
        reason = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
        if reason is not None:
            raise ServiceError(_("安全校验失败（CSRF）：请刷新页面后重试。"), status=403)
    return user


def _check_version(request):
    if request.method != "OPTIONS" and request.headers.get("Tus-Resumable") != TUS_VERSION:
        response = _response(412, _("不支持的 tus 协议版本：请求头 Tus-Resumable 必须是 1.0.0。") + "\n")
        response["Tus-Version"] = TUS_VERSION
        return response
    return None


def _options() -> HttpResponse:
    response = _response(204)
    response["Tus-Version"] = TUS_VERSION
    response["Tus-Extension"] = EXTENSIONS
    response["Tus-Max-Size"] = str(services.max_upload_bytes())
    response["Tus-Checksum-Algorithm"] = ",".join(services.CHECKSUM_ALGORITHMS)
    return response


def _expires(upload) -> str:
    return format_datetime(upload.updated_at + services.expire_after(), usegmt=True)


def _file_headers(response, upload):
    if upload.stored_file_id:
        response["X-Jpk-File-Id"] = str(upload.stored_file_id)
    return response


@streams_body
@csrf_exempt
@prepared()  # keyed: the owner's uploads (jingpinke/prepared.py)
def collection(request):
    """OPTIONS (capabilities) and POST (create an upload) at /api/v1/uploads/."""
    if request.method == "OPTIONS":
        return _options()
    if request.method != "POST":
        response = _response(405, _("这里只接受 POST（创建上传）和 OPTIONS 请求。") + "\n")
        response["Allow"] = "OPTIONS, POST"
        return response
    try:
        user = _authenticate(request)  # first: strangers learn nothing, not even the protocol
    except ServiceError as exc:
        return _error(exc)
    if refused := _check_version(request):
        return refused
    try:
        if request.headers.get("Upload-Defer-Length"):
            raise ServiceError(_("不支持延后声明文件长度（Upload-Defer-Length），请在 Upload-Length 中给出文件字节数。"))
        length = _int_header(request, "Upload-Length")
        metadata = parse_metadata(request.headers.get("Upload-Metadata", ""))
        upload = services.create_upload(user, length, metadata)
    except ServiceError as exc:
        return _error(exc)
    response = _response(201)
    response["Location"] = request.build_absolute_uri(f"/api/v1/uploads/{upload.pk}")
    response["Upload-Expires"] = _expires(upload)
    if upload.stored_file_id:
        response["Upload-Offset"] = str(upload.offset)
    return _file_headers(response, upload)


@streams_body
@csrf_exempt
@prepared()  # keyed: the upload by id and owner
def resource(request, upload_id):
    """HEAD (progress), PATCH (append bytes), DELETE (terminate) at /api/v1/uploads/<id>."""
    if request.method == "OPTIONS":
        return _options()
    if request.method not in ("HEAD", "PATCH", "DELETE"):
        response = _response(405, _("这里只接受 HEAD、PATCH、DELETE 和 OPTIONS 请求。") + "\n")
        response["Allow"] = "OPTIONS, HEAD, PATCH, DELETE"
        return response
    try:
        user = _authenticate(request)
    except ServiceError as exc:
        return _error(exc)
    if refused := _check_version(request):
        return refused
    try:
        upload = services.get_upload(user, upload_id)
        if request.method == "HEAD":
            offset = services.current_offset(upload)
            response = _response(200)
            response["Upload-Offset"] = str(offset)
            response["Upload-Length"] = str(upload.length)
            if upload.metadata:
                response["Upload-Metadata"] = ",".join(
                    f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in upload.metadata.items())
            if not upload.stored_file_id:
                response["Upload-Expires"] = _expires(upload)
            return _file_headers(response, upload)
        if request.method == "DELETE":
            services.terminate_upload(upload)
            return _response(204)
        # PATCH
        if request.content_type != OFFSET_TYPE:
            raise ServiceError(_("PATCH 请求的 Content-Type 必须是 application/offset+octet-stream。"), status=415)
        offset = _int_header(request, "Upload-Offset")
        if not (request.META.get("CONTENT_LENGTH") or "").strip().isdigit():
            raise ServiceError(_("请求缺少 Content-Length：请按块发送，并在请求头中给出这一块的字节数。"), status=411)
        content_length = int(request.META["CONTENT_LENGTH"])
        reader = open_body(request, content_length)  # under gunicorn: straight from the socket
        try:
            upload = services.append(upload, reader, offset=offset, content_length=content_length,
                                     checksum=request.headers.get("Upload-Checksum", ""))
        finally:
            reader.close()
    except ServiceError as exc:
        return _error(exc)
    response = _response(204)
    response["Upload-Offset"] = str(upload.offset)
    if not upload.stored_file_id:
        response["Upload-Expires"] = _expires(upload)
    return _file_headers(response, upload)
