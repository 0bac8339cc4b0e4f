"""Errors every endpoint answers the same way: {"detail": "<Chinese message>", "errors": [...]}."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from jingpinke.errors import ServiceError
from ninja.errors import AuthenticationError, ValidationError as NinjaValidationError


def install_error_handlers(api) -> None:
    @api.exception_handler(ServiceError)
    def service_error(request, exc: ServiceError):
        return api.create_response(request, {"detail": exc.message, "errors": exc.errors}, status=exc.status)

    @api.exception_handler(PermissionDenied)
    def permission_denied(request, exc):
        return api.create_response(request, {"detail": str(exc) or "您没有权限执行此操作。"}, status=403)

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return api.create_response(request, {"detail": "未找到该对象，或您无权查看。"}, status=404)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return api.create_response(
            request, {"detail": "请先登录，或在请求头中提供有效的 API 令牌（Authorization: Bearer …）。"}, status=401
        )

    @api.exception_handler(ValidationError)
    def django_validation(request, exc: ValidationError):
        messages = exc.messages if hasattr(exc, "messages") else [str(exc)]
        return api.create_response(request, {"detail": "；".join(messages), "errors": messages}, status=400)

    @api.exception_handler(NinjaValidationError)
    def ninja_validation(request, exc: NinjaValidationError):
        return api.create_response(request, {"detail": "请求数据格式不正确。", "errors": exc.errors}, status=422)
