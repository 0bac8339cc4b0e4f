from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django.views.defaults import page_not_found

from api.models import ApiToken
from audit.services import record


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request):
    """The user's API tokens: create one (shown once), revoke one."""
    new_token = None
    if request.method == "POST":
        if "revoke" in request.POST:
            token = get_object_or_404(ApiToken, pk=request.POST.get("revoke"), user=request.user)
            if token.revoked_at is None:
                token.revoked_at = timezone.now()
                token.save(update_fields=["revoked_at"])
                record(request.user, "api.token.revoke", token)
            messages.success(request, _("令牌已吊销。"))
            return redirect("account:tokens")
        name = (request.POST.get("name") or "").strip()
        if not name:
            messages.error(request, _("请填写令牌用途，例如“批量上传脚本”。"))
        else:
            token, new_token = ApiToken.issue(request.user, name[:100])
            record(request.user, "api.token.create", token, after={"name": token.name, "prefix": token.prefix})
    return render(
        request,
        "api/tokens.html",
        {"tokens": ApiToken.objects.filter(user=request.user), "new_token": new_token},
    )


def not_found(request, exception):
    """The project's 404 (``handler404``): under /api/ the documented JSON error, e.g. for an id in
    a path that is not a number; elsewhere Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": _("没有这个接口地址或对象：请对照接口文档 /api/v1/docs 检查路径和其中的编号。"), "errors": []},
            status=404, json_dumps_params={"ensure_ascii": False},
        )
    return page_not_found(request, exception)
