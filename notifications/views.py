"""Notification pages (375 px first) and the one-click reminder of the progress board. Thin: each
view calls notifications.services, the same functions the API uses."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from campaigns import services as campaign_services
from jingpinke.errors import ServiceError
from jingpinke.paging import paginate_request
from notifications import services
from notifications.models import Kind
from selection.services import as_int


def _safe(request, target: str) -> bool:
    return bool(target) and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                            require_https=request.is_secure())


def _back(request, default: str):
    target = request.POST.get("next") or request.GET.get("next") or ""
    return redirect(target if _safe(request, target) else default)


@login_required
@require_safe
def notification_list(request):
    unread_only = request.GET.get("unread") == "1"
    page = paginate_request(request, services.list_for(request.user, unread=unread_only), services.PAGE_SIZE)
    return render(request, "notifications/list.html", {"page_obj": page, "unread_only": unread_only})


@login_required
@require_safe
def open_notification(request, pk):
    """Follow a notification to its page; it counts as read from then on."""
    n = services.mark_read(request.user, pk)
    if n.kind == Kind.INCOMING and n.entry_id is None:
        messages.info(request, _("这条推荐已被撤回，无需处理。"))
        return redirect("notifications:list")
    return redirect(n.link if _safe(request, n.link) else reverse("notifications:list"))


@login_required
@require_POST
def read(request, pk):
    services.mark_read(request.user, pk)
    return _back(request, reverse("notifications:list"))


@login_required
@require_POST
def read_all(request):
    n = services.mark_all_read(request.user)
    messages.success(request, _("已将 %(n)d 条通知标为已读。") % {"n": n})
    return _back(request, reverse("notifications:list"))


@login_required
@require_POST
def remind(request):
    """The progress board's "一键提醒未完成单位"."""
    campaign = campaign_services.get_campaign(request.user, as_int(request.POST.get("campaign")) or 0)
    default = reverse("selection:progress", args=[campaign.pk])
    unit_ids = request.POST.getlist("unit_ids") or None
    try:
        result = services.remind_behind(request.user, campaign, unit_ids, parent=request.POST.get("unit") or None)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, result.message)
        for s in result.skipped:
            messages.warning(request, s.reason)
    return _back(request, default)
