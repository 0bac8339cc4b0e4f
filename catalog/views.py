"""Catalog pages. Thin: every page calls catalog.services."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from catalog import services
from catalog.forms import ExcelImportForm, JsonImportForm
from catalog.models import Edition
from jingpinke.errors import ServiceError
from jingpinke.inputs import parse_id
from jingpinke.paging import paginate_request

FILTER_FIELDS = ("stage", "subject", "grade", "version", "volume", "edition", "q")


def _ints(values) -> list[int]:
    return [i for i in map(parse_id, values) if i is not None]


def _filters(data) -> services.NodeFilters:
    return services.NodeFilters(
        **{name: data.get(name, "") for name in FILTER_FIELDS},
        textbook_ids=_ints(data.getlist("textbook")),
        node_ids=_ints(data.getlist("node")),
    )


def _campaign(request, campaigns):
    """The campaign chosen with ?campaign=, among those the user may see (else 404)."""
    raw = request.GET.get("campaign", "")
    if not raw:
        return None
    campaign = next((c for c in campaigns if str(c.pk) == raw), None)
    if campaign is None:
        raise Http404(_("未找到该遴选活动，或您无权查看。"))
    return campaign


@login_required
def nodes(request):
    """Search and filter catalog nodes; with a campaign, see and change what is open."""
    actor = request.user
    f = _filters(request.GET)
    campaigns = list(services.visible_campaigns(actor))
    campaign = _campaign(request, campaigns)
    only_open = request.GET.get("open") == "1" and campaign is not None
    qs = services.search_nodes(actor, f, campaign=campaign, only_open=only_open)
    page = paginate_request(request, qs, services.PAGE_SIZE)
    return render(request, "catalog/nodes.html", {
        "page_obj": page, "filters": f, "choices": services.filter_choices(actor),
        "editions": Edition.choices, "campaigns": campaigns, "campaign": campaign, "only_open": only_open,
        "can_manage": services.can_manage(actor, campaign), "can_import": services.can_import(actor),
        "back": request.get_full_path(), "has_filters": not f.is_empty(),
    })


@login_required
def textbooks(request):
    actor = request.user
    f = _filters(request.GET)
    campaigns = list(services.visible_campaigns(actor))
    campaign = _campaign(request, campaigns)
    qs = services.search_textbooks(actor, f, campaign=campaign)
    page = paginate_request(request, qs, services.PAGE_SIZE)
    return render(request, "catalog/textbooks.html", {
        "page_obj": page, "filters": f, "choices": services.filter_choices(actor), "editions": Edition.choices,
        "campaigns": campaigns, "campaign": campaign, "can_import": services.can_import(actor),
    })


@login_required
def textbook_detail(request, pk):
    actor = request.user
    book = services.get_textbook(actor, pk)
    campaigns = list(services.visible_campaigns(actor))
    campaign = _campaign(request, campaigns)
    nodes = services.textbook_nodes(book, campaign)
    leaves = [n for n in nodes if n.is_leaf]
    return render(request, "catalog/textbook_detail.html", {
        "book": book, "nodes": nodes, "leaf_count": len(leaves),
        "open_count": sum(1 for n in leaves if getattr(n, "is_open", False)),
        "campaigns": campaigns, "campaign": campaign, "can_manage": services.can_manage(actor, campaign),
        "back": request.get_full_path(),
    })


@login_required
def import_template(request):
    services.require_importer(request.user)
    return services.excel_template()


def _import_page(request, form_class, run, kind):
    services.require_importer(request.user)
    form = form_class(request.POST or None, request.FILES or None)
    import_error = None
    if request.method == "POST" and form.is_valid():
        try:
            result = run(request.user, form.cleaned_data["file"])
        except ServiceError as exc:
            import_error = exc
        else:
            messages.success(request, result.summary())
            return redirect("catalog:textbooks")
    status = 400 if import_error else 200
    return render(request, "catalog/import.html", {"form": form, "import_error": import_error, "kind": kind},
                  status=status)


@login_required
def import_excel(request):
    return _import_page(request, ExcelImportForm, services.import_excel, "excel")


@login_required
def import_json(request):
    return _import_page(request, JsonImportForm, services.import_json, "json")


def _back(request, campaign) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return f"{reverse('catalog:nodes')}?{urlencode({'campaign': campaign.pk})}"


@login_required
@require_POST
def campaign_open(request, pk):
    actor = request.user
    campaign = services.get_campaign(actor, pk)
    try:
        result = services.open_nodes(actor, campaign, _filters(request.POST))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        if result.opened:
            messages.success(request, _("已开放 %(n)d 个目录节点。") % {"n": result.opened})
        if result.already_open:
            messages.info(request, _("%(n)d 个节点原已开放，未重复开放。") % {"n": result.already_open})
        for message in result.messages():
            messages.warning(request, message)
    return redirect(_back(request, campaign))


@login_required
@require_POST
def campaign_close(request, pk):
    actor = request.user
    campaign = services.get_campaign(actor, pk)
    try:
        closed = services.close_nodes(actor, campaign, _filters(request.POST))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        if closed:
            messages.success(request, _("已关闭 %(n)d 个目录节点。") % {"n": closed})
        else:
            messages.info(request, _("所选节点本来就没有开放，没有变化。"))
    return redirect(_back(request, campaign))

