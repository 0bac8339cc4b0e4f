"""Contact-form pages (375 px first). Thin: every page calls contacts.services, the same functions
the API uses.

- ``home``: the forms the user fills in the chosen campaign and, for the organiser's admins, every
  reporting unit's state (filed / not filed, scan, last change) with the Excel download and
  reopening after a deadline;
- ``form``: one unit's form: people rows (add with the button, remove with the tick box), the
  stamped scan as a plain multipart upload (≤ 20 MB), 保存 and 保存并提交; read only for the level
  above and after the deadline;
- ``scan``: the scan, after the form's permission check; ``export``: the workbook.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from campaigns import services as campaign_services
from contacts import exports, rules, services
from jingpinke.errors import ServiceError

MAX_ROWS = 100  # form rows read from one post (the rules allow MAX_PEOPLE people)
ROW_KEY = re.compile(r"^p-(\d{1,3})-(name|position|mobile|remark|categories|delete)$")


def _campaign(request):
    """The campaign chosen by ?campaign=, else the newest open one that concerns the user."""
    campaigns = list(campaign_services.campaigns_for(request.user).exclude(status="draft").select_related("owner")
                     .order_by("-year", "-id"))
    raw = request.GET.get("campaign")
    if raw:
        return campaign_services.get_campaign(request.user, raw), campaigns
    return next((c for c in campaigns if c.status == "open"), campaigns[0] if campaigns else None), campaigns


def home_url(campaign) -> str:
    return reverse("contacts:home") + f"?campaign={campaign.pk}"


@login_required
@require_safe
def home(request):
    actor = request.user
    campaign, campaigns = _campaign(request)
    context = {"campaign": campaign, "campaigns": campaigns, "mine": [], "board": None}
    if campaign is not None:
        mine = services.duties(campaign, services.my_units(actor, campaign))
        board = services.board(actor, campaign) if services.sees_board(actor, campaign) else None
        if board is None and len(mine) == 1 and not request.GET.get("campaign"):
            return redirect("contacts:form", campaign.pk, mine[0].unit.pk)
        context.update(mine=mine, board=board, filed=sum(1 for d in board or [] if d.filed),
                       can_reopen=bool(board) and actor.has_perm("contacts.reopen_unit", board[0].unit))
    return render(request, "contacts/home.html", context)


def _posted_rows(post) -> list[dict]:
    """The people rows of a post in their order, without the rows ticked for removal."""
    rows: dict[int, dict] = {}
    for key in post:
        match = ROW_KEY.match(key)
        if not match:
            continue
        index, name = int(match.group(1)), match.group(2)
        if index not in rows and len(rows) >= MAX_ROWS:
            continue
        row = rows.setdefault(index, {})
        row[name] = post.getlist(key) if name == "categories" else post.get(key, "")
    return [row for _i, row in sorted(rows.items()) if not row.get("delete")]


def _row_view(number: int, row: dict, errors: dict) -> dict:
    return {"n": number, "i": number - 1, "name": row.get("name", ""), "position": row.get("position", ""),
            "mobile": row.get("mobile", ""), "remark": row.get("remark", ""),
            "categories": list(row.get("categories") or []), "errors": errors.get(number, {})}


def _rows_for(duty: services.Duty) -> list[dict]:
    rows = [_row_view(n, {"name": p.name, "position": p.position, "mobile": p.mobile, "remark": p.remark,
                          "categories": p.categories}, {}) for n, p in enumerate(duty.people, 1)]
    return rows + [_row_view(len(rows) + 1, {}, {})]  # one blank row to add a person without JavaScript


def _render_form(request, campaign, unit, *, rows=None, errors=None, status=200):
    actor = request.user
    duty = services.duty(campaign, unit)
    can_fill = actor.has_perm("contacts.fill_form", unit)
    labels = services.category_labels(campaign)
    return render(request, "contacts/form.html", {
        "campaign": campaign, "unit": unit, "d": duty, "rows": rows if rows is not None else _rows_for(duty),
        "categories": list(labels.items()),
        "people": [{"p": p, "categories": rules.category_text(p.categories, labels)} for p in duty.people],
        "can_edit": can_fill and duty.open, "can_fill": can_fill, "errors": errors or [],
        "max_mb": rules.MAX_SCAN_BYTES // 1024 // 1024, "accept": rules.SCAN_ACCEPT,
        "back_url": home_url(campaign),
        "blank_row": {"n": "__n__", "i": "__i__", "categories": [], "errors": {}},
    }, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def form(request, campaign_id, unit_id):
    actor = request.user
    campaign = campaign_services.get_campaign(actor, campaign_id)
    unit = services.get_unit(actor, campaign, unit_id)
    if request.method != "POST":
        return _render_form(request, campaign, unit)
    posted = _posted_rows(request.POST)
    upload = request.FILES.get("scan")
    problems: list[str] = []
    row_errors: dict[int, dict] = {}
    try:
        services.save_people(actor, campaign, unit, posted)
    except ServiceError as exc:
        problems.append(exc.message)
        for e in exc.errors:
            if e.get("row"):
                row_errors.setdefault(e["row"], {})[e.get("field") or "name"] = e["message"]
    if upload is not None:
        try:
            services.upload_scan(actor, campaign, unit, upload)
        except ServiceError as exc:
            if exc.message not in problems:  # e.g. the deadline: said once
                problems.append(exc.message)
        else:
            messages.success(request, _("已上传扫描件“%(name)s”。") % {"name": upload.name})
    if problems:
        for problem in problems:
            messages.error(request, problem)
        rows = [_row_view(n, row, row_errors) for n, row in enumerate(posted, 1)] or _rows_for(services.duty(campaign, unit))
        return _render_form(request, campaign, unit, rows=rows, errors=problems, status=400)
    if request.POST.get("action") == "file":
        try:
            services.file_form(actor, campaign, unit)
        except ServiceError as exc:
            messages.error(request, _("已保存。%(why)s") % {"why": exc.message})
        else:
            messages.success(request, _("工作联系表已提交，%(owner)s可以看到。截止前仍可修改。") % {"owner": campaign.owner.name})
    else:
        messages.success(request, _("已保存。"))
    return redirect("contacts:form", campaign.pk, unit.pk)


@login_required
@require_safe
def scan(request, campaign_id, unit_id):
    campaign = campaign_services.get_campaign(request.user, campaign_id)
    unit = services.get_unit(request.user, campaign, unit_id)
    return services.scan_response(request, request.user, campaign, unit)


@login_required
@require_safe
def export(request, campaign_id):
    campaign = campaign_services.get_campaign(request.user, campaign_id)
    return exports.download(request.user, campaign)


@login_required
@require_POST
def reopen(request, campaign_id, unit_id):
    campaign = campaign_services.get_campaign(request.user, campaign_id)
    unit = services.get_unit(request.user, campaign, unit_id)
    day, at = request.POST.get("deadline_date", "").strip(), request.POST.get("deadline_time", "").strip()
    try:
        with transaction.atomic():
            new = services.reopen(request.user, campaign, unit, f"{day} {at}".strip() if at else day,
                                  request.POST.get("reason", ""))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已为%(unit)s重新开放工作联系表，新的截止时间为 %(when)s。") % {
            "unit": unit.name, "when": rules.local_text(new)})
    return redirect(home_url(campaign) + f"#unit-{unit.pk}")
