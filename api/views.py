from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

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
