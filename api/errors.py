"""Errors every endpoint answers the same way: {"detail": "<Chinese message>", "errors": [...]}."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from jingpinke.errors import ServiceError
from jingpinke.inputs import ID_MAX


def install_error_handlers(api) -> None:
    @api.exception_handler(ServiceError)
    def service_error(request, exc: ServiceError):
        return api.create_response(request, {"detail": exc.message, "errors": exc.errors}, status=exc.status)

    @api.exception_handler(PermissionDenied)
    def permission_denied(request, exc):
        return api.create_response(request, {"detail": str(exc) or "您没有权限执行此操作。", "errors": []}, status=403)

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return api.create_response(request, {"detail": "未找到该对象，或您无权查看。", "errors": []}, status=404)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return api.create_response(
            request, {"detail": "请先登录，或在请求头中提供有效的 API 令牌（Authorization: Bearer …）。", "errors": []}, status=401
        )

    @api.exception_handler(ValidationError)
    def django_validation(request, exc: ValidationError):
        messages = exc.messages if hasattr(exc, "messages") else [str(exc)]
        return api.create_response(request, {"detail": "；".join(messages), "errors": messages}, status=400)

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        # ninja wraps whatever the body parser raises (api.parser.GuardedParser refuses NUL and
        # oversized integers with a ServiceError) into "Cannot parse request body".
        if isinstance(exc.__cause__, ServiceError):
            return service_error(request, exc.__cause__)
        if exc.status_code == 400:
            detail = _("请求体不是有效的 JSON：请检查引号、逗号和括号，并以 UTF-8 编码发送。")
        elif exc.status_code == 403:
            detail = _("安全校验失败（CSRF）：请刷新页面后重试，脚本请改用 API 令牌。")
        else:
            detail = _("请求无法处理。")
        return api.create_response(request, {"detail": detail, "errors": [str(exc)]}, status=exc.status_code)

    @api.exception_handler(OverflowError)
    def integer_overflow(request, exc: OverflowError):
        # SQLite refuses integers beyond 64 bits in a query; such an id exists nowhere.
        # (PostgreSQL compares them as numeric; JSON bodies are checked by api.parser.)
        return api.create_response(
            request,
            {"detail": _("请求中的编号超出允许范围（最大 %(max)d），没有这样的对象：请检查路径和查询参数中的编号。")
             % {"max": ID_MAX}, "errors": []},
            status=422,
        )

    @api.exception_handler(NinjaValidationError)
    def ninja_validation(request, exc: NinjaValidationError):
        return api.create_response(request, {"detail": "请求数据格式不正确。", "errors": exc.errors}, status=422)
