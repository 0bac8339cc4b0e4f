"""Expert-review pages. Thin: every page calls review.services, the same functions the API uses.

- ``home``: an admin's review rounds (scoped to his units) and where to start; an expert's tasks;
- ``rubrics`` / ``rubric_edit``: a campaign's evaluation indicators per category, edited by its owner;
- ``experts`` (+ ``expert_import``, ``expert_template``): a unit's expert pool;
- ``round_new`` / ``round_detail`` / ``round_action``: a round, its panel and manual assignments;
- ``my_tasks``: the expert's assignments (neutral codes only) with deadline and countdown.
"""

from __future__ import annotations

import base64
from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from campaigns import services as campaign_services
from campaigns.enums import Category, Stage
from jingpinke.errors import ServiceError
from jingpinke.inputs import parse_id
from orgs.forms import ImportForm
from orgs.services import PASSWORDS_CONTENT_TYPE, passwords_workbook
from originality.services import reviewed_matches
from review import award_proposal, services
from review.models import Phase, RoundStatus

TZ = ZoneInfo("Asia/Shanghai")
MAX_RUBRIC_ROWS = 60
BLANK_ROWS = 3


def local_datetime(text: str) -> datetime | None:
    """A datetime-local input ("2024-09-20T18:00"), in Beijing time."""
    value = parse_datetime((text or "").strip()) if text else None
    if value is None:
        return None
    return value.replace(tzinfo=TZ) if value.tzinfo is None else value


@login_required
@require_safe
def home(request):
    user = request.user
    rounds = list(services.rounds_for(user).order_by("-created_at")[:100])
    campaigns = list(campaign_services.campaigns_for(user).exclude(status="draft").select_related("owner")) \
        if user.admin_units() or user.is_superuser else []
    places = [(c, services.round_places(user, c)) for c in campaigns]
    return render(request, "review/home.html", {
        "rounds": rounds, "places": [(c, p) for c, p in places if p],
        "rubric_campaigns": [c for c in campaigns if user.has_perm("review.view_rubric", c)],
        "pool_units": services.pool_units(user)[:20] if not user.is_superuser else [],
        "is_expert": user.is_expert(),
    })


@login_required
@require_safe
def my_tasks(request):
    if not request.user.is_expert():
        raise PermissionDenied(_("只有评审专家可以查看评审任务。"))
    return render(request, "review/my_tasks.html", {"tasks": services.my_tasks(request.user)})


@login_required
@require_POST
def decline_task(request, assignment_id):
    try:
        services.declare_own_conflict(request.user, assignment_id, request.POST.get("reason", ""))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已记录回避，这项任务已撤回，组织单位会另行安排专家。"))
    return redirect("review:my")


# --- rubrics -----------------------------------------------------------------------------------
@login_required
@require_safe
def rubrics(request, campaign_id):
    campaign = campaign_services.get_campaign(request.user, campaign_id)
    items = services.rubrics_for(request.user, campaign)
    return render(request, "review/rubrics.html", {
        "campaign": campaign, "rubrics": items, "can_change": request.user.has_perm("review.change_rubric", campaign)})


def rubric_doc_from_post(post) -> dict:
    """The rubric form's rows → the rubric document (rows with the same 一级指标 form one dimension,
    in the order they first appear; blank rows are left out)."""
    dimensions: dict[str, list] = {}
    for n in range(MAX_RUBRIC_ROWS):
        dim = post.get(f"row-{n}-dimension", "").strip()
        name = post.get(f"row-{n}-item", "").strip()
        points = post.get(f"row-{n}-points", "").strip()
        weight = post.get(f"row-{n}-weight", "").strip()
        if not (dim or name or points):
            continue
        dimensions.setdefault(dim, []).append({"name": name, "max_points": points, "weight": weight or "1",
                                               "description": post.get(f"row-{n}-description", "").strip()})
    return {"title": post.get("title", ""), "total_points": post.get("total_points", "").strip() or None,
            "dimensions": [{"name": d, "items": items} for d, items in dimensions.items()],
            "vetoes": [line.strip() for line in post.get("vetoes", "").splitlines() if line.strip()]}


def _rows(doc: dict) -> list[dict]:
    rows = [{"dimension": d["name"], **i} for d in doc["dimensions"] for i in d["items"]]
    return rows + [{"dimension": "", "name": "", "max_points": "", "weight": "1", "description": ""}] * BLANK_ROWS


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def rubric_edit(request, campaign_id, category):
    campaign = campaign_services.get_campaign(request.user, campaign_id)
    if category not in Category.values:
        raise Http404
    rubric = services.get_rubric(request.user, campaign, category)
    if not request.user.has_perm("review.change_rubric", campaign):
        raise PermissionDenied(_("只有主办单位及其上级的管理员可以修改评价指标。"))
    error, doc = None, services.rubric_doc(rubric)
    if request.method == "POST":
        doc = rubric_doc_from_post(request.POST)
        try:
            services.set_rubric(request.user, rubric, doc)
        except ServiceError as exc:
            error = exc
        else:
            messages.success(request, _("评价指标已保存。"))
            return redirect("review:rubrics", campaign.pk)
    return render(request, "review/rubric_edit.html", {
        "campaign": campaign, "rubric": rubric, "doc": doc, "rows": _rows(doc), "error": error,
        "vetoes_text": "\n".join(doc["vetoes"]), "frozen": services.has_scores(rubric),
    }, status=400 if error else 200)


# --- experts -----------------------------------------------------------------------------------
def _pool_unit(request):
    raw = parse_id(request.GET.get("unit"))
    if raw is not None:
        return services.get_pool_unit(request.user, raw)
    units = services.pool_units(request.user) if not request.user.is_superuser else []
    if not units:
        raise PermissionDenied(_("只有区县、市、省的管理员可以管理专家库。"))
    return units[0]


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def experts(request):
    unit = _pool_unit(request)
    error, created = None, None
    if request.method == "POST":
        try:
            user, password = services.add_expert(
                request.user, unit, real_name=request.POST.get("real_name", ""), mobile=request.POST.get("mobile", ""),
                work_unit=request.POST.get("work_unit", ""), subjects=request.POST.get("subjects", ""),
                stages=request.POST.getlist("stages"), max_load=request.POST.get("max_load", ""))
        except ServiceError as exc:
            error = exc
        else:
            created = {"user": user, "password": password}
    return render(request, "review/experts.html", {
        "unit": unit, "experts": services.experts_of(request.user, unit), "error": error, "created": created,
        "stages": Stage.choices, "units": services.pool_units(request.user), "post": request.POST,
    }, status=400 if error else 200)


@login_required
@require_safe
def expert_template(request):
    if not (request.user.is_superuser or services.pool_units(request.user)):
        raise PermissionDenied
    return services.expert_template()


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def expert_import(request):
    unit = _pool_unit(request)
    form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
    import_error = None
    if request.method == "POST" and form.is_valid():
        try:
            imported = services.import_experts(request.user, unit, form.cleaned_data["file"])
        except ServiceError as exc:
            import_error = exc
        else:
            # The passwords file is built now and embedded in this one page: it is never stored.
            data = base64.b64encode(passwords_workbook([i for i in imported if i.password])).decode()
            return render(request, "review/import_done.html", {
                "unit": unit, "imported": imported, "generated": sum(1 for i in imported if i.password),
                "passwords_href": f"data:{PASSWORDS_CONTENT_TYPE};base64,{data}"})
    return render(request, "orgs/import.html", {
        "form": form, "import_error": import_error, "what": _("评审专家（%(u)s专家库）") % {"u": unit.name},
        "template_url_name": "review:expert_template"}, status=400 if import_error else 200)


# --- rounds ------------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def round_new(request, campaign_id):
    campaign = campaign_services.get_campaign(request.user, campaign_id)
    places = services.round_places(request.user, campaign)
    if not places:
        raise PermissionDenied(_("只有持有作品的单位（县、市、省）在本级的管理员可以创建评审轮次。"))
    error = None
    if request.method == "POST":
        post = request.POST
        unit_id = parse_id(post.get("unit"))
        unit = next((u for u, _lv in places if u.pk == unit_id), None)
        try:
            if unit is None:
                raise ServiceError(_("请选择本单位。"))
            n = parse_id(post.get("reviewers_per_entry"))
            review_round = services.create_round(
                request.user, campaign, unit, title=post.get("title", ""), category=post.get("category", ""),
                stage=post.get("stage", ""), subject=post.get("subject", ""), phase=post.get("phase", ""),
                reviewers_per_entry=n if n is not None else -1, opens_at=local_datetime(post.get("opens_at")),
                closes_at=local_datetime(post.get("closes_at")), lecture_date=parse_date(post.get("lecture_date") or ""),
                lecture_place=post.get("lecture_place", ""))
        except (ServiceError, ValueError) as exc:
            error = exc if isinstance(exc, ServiceError) else ServiceError(_("日期格式不对，请用页面上的日期选择器填写。"))
        else:
            messages.success(request, _("评审轮次已创建，共 %(n)d 件作品。请组建评审组并分配专家。") % {
                "n": review_round.round_entries.count()})
            return redirect("review:round", review_round.pk)
    return render(request, "review/round_new.html", {
        "campaign": campaign, "places": places, "error": error, "post": request.POST,
        "categories": [(c.category, c.get_category_display()) for c in campaign.categories.all()],
        "stages": Stage.choices, "phases": Phase.choices,
    }, status=400 if error else 200)


@login_required
@require_safe
def round_detail(request, round_id):
    review_round = services.get_round(request.user, round_id)
    return render(request, "review/round.html", {
        "round": review_round, "rows": services.round_entries(request.user, review_round),
        "panel": services.panel(review_round), "candidates": services.candidates(review_round),
        "can_change": request.user.has_perm("review.change_round", review_round),
        "is_draft": review_round.status == RoundStatus.DRAFT,
    })


ACTIONS = {
    "add_member": lambda u, r, p: services.add_panel_member(u, r, parse_id(p.get("expert")),
                                                            is_chair=p.get("is_chair") == "1"),
    "set_chair": lambda u, r, p: services.set_chair(u, r, parse_id(p.get("expert"))),
    "remove_member": lambda u, r, p: services.remove_panel_member(u, r, parse_id(p.get("expert"))),
    "assign": lambda u, r, p: services.assign(u, r, parse_id(p.get("entry")), parse_id(p.get("expert"))),
    "unassign": lambda u, r, p: services.unassign(u, r, parse_id(p.get("assignment"))),
    "conflict": lambda u, r, p: services.declare_conflict(u, r, parse_id(p.get("entry")), parse_id(p.get("expert")),
                                                          p.get("reason", "")),
    "publish": lambda u, r, p: services.publish_round(u, r),
}
DONE = {
    "add_member": gettext_lazy("已加入评审组。"), "set_chair": gettext_lazy("已设为组长。"), "remove_member": gettext_lazy("已移出评审组。"),
    "assign": gettext_lazy("已分配。"), "unassign": gettext_lazy("已取消分配。"), "conflict": gettext_lazy("已记录回避，并取消了这位专家对这件作品的分配。"),
    "publish": gettext_lazy("已发布：评审组专家登录后可以看到自己的评审任务。"),
}


@login_required
@require_POST
def round_action(request, round_id):
    review_round = services.get_round(request.user, round_id)
    action = request.POST.get("action", "")
    if action not in ACTIONS:
        raise Http404
    try:
        ACTIONS[action](request.user, review_round, request.POST)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, str(DONE[action]))
    return redirect("review:round", review_round.pk)


# --- scoring: the expert's blind scoring page, autosave, files, the chair's reopening ------------


def sheet_data(post) -> dict:
    """The scoring form → save_sheet's arguments (``points-<item id>``, ``veto``, ``veto_reason``,
    ``comment``)."""
    points = {key.removeprefix("points-"): value for key, value in post.items() if key.startswith("points-")}
    return {"points": points, "veto_id": parse_id(post.get("veto")), "veto_reason": post.get("veto_reason", ""),
            "comment": post.get("comment", "")}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def score(request, assignment_id):
    """The scoring page: the entry (neutral code) with its video and documents beside the rubric.
    Without JavaScript the buttons save or submit; with it (static/js/scoring.js) the form also
    saves itself every few seconds after a change."""
    error = None
    if request.method == "POST":
        final = request.POST.get("action") == "submit"
        try:
            (services.submit_sheet if final else services.save_sheet)(request.user, assignment_id,
                                                                      **sheet_data(request.POST))
        except ServiceError as exc:
            error = exc
        else:
            messages.success(request, _("评分已提交。") if final else _("评分已保存（尚未提交）。"))
            return redirect("review:score", assignment_id)
    page = services.scoring_page(request.user, assignment_id)
    hints = list(reviewed_matches(request.user, page.assignment))
    return render(request, "review/score.html", {"page": page, "task": page.task, "error": error,
                                                 "originality_hints": hints,
                                                 **sheet_form(page, request.POST if error else None)},
                  status=400 if error else 200)


def sheet_form(page, posted) -> dict:
    """What the form shows: what was just posted (when refused), else the saved sheet."""
    sheet = page.sheet
    dimensions = []
    for name, items in page.dimensions:
        rows = []
        for item in items:
            saved = services.decimal_text(item.points) if item.points is not None else ""
            rows.append({"id": item.id, "name": item.name, "description": item.description,
                         "value": posted.get(f"points-{item.id}", "") if posted is not None else saved,
                         "max_text": services.decimal_text(item.max_points),
                         "weight_text": services.decimal_text(item.weight)})
        dimensions.append((name, rows))
    if posted is not None:
        veto_id, reason, comment = parse_id(posted.get("veto")), posted.get("veto_reason", ""), posted.get("comment", "")
    else:
        veto_id = sheet.veto_id if sheet else None
        reason, comment = (sheet.veto_reason, sheet.comment) if sheet else ("", "")
    total = services.decimal_text(sheet.total) if sheet is not None and sheet.total is not None else None
    return {"dimensions": dimensions, "veto_id": veto_id, "veto_reason": reason, "comment": comment, "total": total}


@login_required
@require_POST
def score_autosave(request, assignment_id):
    """Autosave (JSON): {"detail", "saved_at", "total"}; refused: 400 {"detail", "errors"}."""
    try:
        sheet = services.save_sheet(request.user, assignment_id, **sheet_data(request.POST))
    except ServiceError as exc:
        return JsonResponse({"detail": exc.message, "errors": exc.errors or []}, status=400)
    saved = timezone.localtime(sheet.saved_at, TZ)
    total = services.decimal_text(sheet.total) if sheet.total is not None else None
    return JsonResponse({"detail": _("已自动保存 %(t)s") % {"t": saved.strftime("%H:%M:%S")},
                         "saved_at": sheet.saved_at.isoformat(), "total": total})


@login_required
@require_safe
def task_file(request, assignment_id, resource_id):
    """A file of the expert's task: its metadata-free copy under a neutral name (Range: seeking)."""
    return services.task_file_response(request, request.user, assignment_id, resource_id)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def chair_sheets(request, round_id):
    """The panel chair's list of the round's sheets, to reopen one expert's sheet with a reason."""
    if request.method == "POST":
        try:
            services.reopen_sheet(request.user, parse_id(request.POST.get("assignment")),
                                  request.POST.get("reason", ""))
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已重新开放这份评分，专家可以修改后再次提交。"))
        return redirect("review:chair_sheets", round_id)
    review_round, rows = services.chair_sheets(request.user, round_id)
    return render(request, "review/chair_sheets.html", {
        "round": review_round, "round_title": services.neutral_round_title(review_round), "rows": rows})


# --- automatic assignment, manual moves, undo (part: autoassign) -------------------------------
ASSIGNMENT_ACTIONS = {
    "auto": lambda u, r, p: services.auto_assign(u, r),
    "add": lambda u, r, p: services.move_assignment(u, r, "add", parse_id(p.get("entry")), parse_id(p.get("expert"))),
    "remove": lambda u, r, p: services.move_assignment(u, r, "remove", parse_id(p.get("entry")),
                                                       parse_id(p.get("expert"))),
    "move": lambda u, r, p: services.move_assignment(u, r, "move", parse_id(p.get("entry")), parse_id(p.get("expert")),
                                                     parse_id(p.get("to_expert"))),
    "undo": lambda u, r, p: services.undo_last_change(u, r),
    "publish": lambda u, r, p: services.publish_assignments(u, r),
}


def _assignment_done(action: str, result) -> str:
    if action == "auto":
        if not result.new_pairs:
            return _("没有可以新增的分配。")
        return _("已自动分配 %(n)d 项，待发布：请核对后发布。") % {"n": len(result.new_pairs)}
    if action == "publish":
        return _("已发布 %(n)d 项分配：评审组专家登录后可以看到自己的评审任务。") % {"n": result}
    return {"add": _("已添加，待发布。"), "remove": _("已移除。"), "move": _("已调整，待发布。"),
            "undo": _("已撤销上一步分配操作。")}[action]


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def round_assignment(request, round_id):
    """The round's assignment before publishing: automatic assignment, manual moves, undo, publish."""
    review_round = services.get_round(request.user, round_id)
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in ASSIGNMENT_ACTIONS:
            raise Http404
        try:
            result = ASSIGNMENT_ACTIONS[action](request.user, review_round, request.POST)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _assignment_done(action, result))
        return redirect("review:round_assignment", review_round.pk)
    return render(request, "review/round_assignment.html", {
        "round": review_round, "plan": services.assignment_plan(request.user, review_round),
        "can_change": request.user.has_perm("review.assign", review_round),
    })


# --- round results: aggregation, ranking, exports and the proposal applied ----------------------------------
def _results_context(request, review_round):
    try:
        results, error = services.round_results(request.user, review_round), None
    except ServiceError as exc:
        results, error = None, exc
    groups = [(Category(g.category).label if g.category in Category.values else g.category, g,
               [(row, results.code(row.entry.entry_id)) for row in g.rows]) for g in results.groups] if results else []
    can_change = request.user.has_perm("review.change_results", review_round)
    # The chair is an expert: he sees the neutral round title, never the unit (blind as his tasks are).
    title = review_round.title if can_change else services.neutral_round_title(review_round)
    return {"round": review_round, "results": results, "error": error, "groups": groups, "title": title,
            "can_change": can_change,
            "methods": services.agg.Method.choices}


def _result_rows(results):
    """Per entry, in code order: the round entry, its statistics (None: unscored) and its rank."""
    ranks = {row.entry.entry_id: (row.rank, row.decided_by) for g in results.groups for row in g.rows}
    return [(re, results.aggregate.entries.get(entry_id), ranks.get(entry_id, (None, ""))) for entry_id, re in
            sorted(results.rows.items(), key=lambda item: item[1].code)]


@login_required
@require_safe
def round_results(request, round_id):
    review_round = services.results_round(request.user, round_id)
    context = _results_context(request, review_round)
    if context["results"] is not None:
        context["rows"] = _result_rows(context["results"])
    return render(request, "review/results.html", context, status=400 if context["error"] else 200)


@login_required
@require_POST
def round_results_settings(request, round_id):
    review_round = services.results_round(request.user, round_id)
    try:
        services.set_result_settings(request.user, review_round, method=request.POST.get("method", ""),
                                     min_scored=request.POST.get("min_scored"),
                                     disagreement_threshold=request.POST.get("disagreement_threshold"))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("汇总设置已保存，结果已按新设置重新计算。"))
    return redirect("review:results", review_round.pk)


@login_required
@require_safe
def round_results_export(request, round_id):
    from django.http import FileResponse

    review_round = services.results_round(request.user, round_id)
    try:
        results = services.round_results(request.user, review_round)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("review:results", review_round.pk)
    return FileResponse(services.results_workbook(results), as_attachment=True,
                        filename=services.results_filename(review_round),
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@login_required
@require_safe
def round_report(request, round_id):
    """The printable panel report (评审组报告): settings, ranking with statistics, flags, signatures."""
    review_round = services.results_round(request.user, round_id)
    context = _results_context(request, review_round)
    context["panel"] = services.panel(review_round)
    return render(request, "review/report.html", context, status=400 if context["error"] else 200)


def _forced(post) -> tuple[dict, dict]:
    force_in, force_out = {}, {}
    for key, value in post.items():
        if key.startswith("force_") and value in ("in", "out"):
            entry_id = key.removeprefix("force_")
            (force_in if value == "in" else force_out)[entry_id] = post.get(f"reason_{entry_id}", "")
    return force_in, force_out


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def round_proposal(request, round_id):
    review_round = services.results_round(request.user, round_id)
    if not request.user.has_perm("review.change_results", review_round):
        raise PermissionDenied(_("只有本轮评审所属单位的管理员可以生成和应用推荐方案。"))
    data = request.POST if request.method == "POST" else request.GET
    force_in, force_out = _forced(data)
    bonus = data.get("bonus", "0") or "0"
    error = None
    if request.method == "POST" and data.get("action") == "apply":
        try:
            applied = services.apply_proposal(request.user, review_round, force_in=force_in, force_out=force_out,
                                              bonus=bonus, expected=[i for i in map(parse_id, data.getlist("expected")) if i is not None])
        except ServiceError as exc:
            error = exc
        else:
            messages.success(request, _("推荐方案已应用：新推荐 %(r)d 门，撤回推荐 %(u)d 门。") % {
                "r": len(applied.recommended), "u": len(applied.undone)})
            return redirect("review:proposal", review_round.pk)
    view = None
    try:
        view = services.build_proposal(request.user, review_round, force_in=force_in, force_out=force_out, bonus=bonus)
    except ServiceError as exc:
        error = error or exc
    return render(request, "review/proposal.html", {
        "round": review_round, "view": view, "error": error, "bonus": bonus,
        "targets": [t for t in (review_round.campaign.target_shares or []) if t.get("level") == review_round.level.kind],
    }, status=400 if error else 200)


# --- awards proposal: the level's award (本级荣誉) from the round's ranking ---
def _award_counts(data, categories_subjects) -> list[dict]:
    """The admin's award numbers from the form: ``count_<category>`` and ``count_<category>__<subject>``."""
    rows = []
    for category, subjects in categories_subjects:
        rows.append({"category": category, "subject": "", "limit": data.get(f"count_{category}", "")})
        rows += [{"category": category, "subject": s, "limit": data.get(f"count_{category}__{s}", "")}
                 for s in subjects]
    return rows


# --- lecture scores entered by the chair; adjudication; adding a reviewer -------------------------
def _chair_action(request, review_round):
    """One POST of the chair's page (or the admin's): returns the success message."""
    from review import lecture

    post, user = request.POST, request.user
    action = post.get("action", "")
    if action in ("enter", "enter_submit"):
        lecture.enter_sheet(user, parse_id(post.get("assignment")), final=action == "enter_submit", **sheet_data(post))
        return _("成绩已提交。") if action == "enter_submit" else _("成绩已保存（尚未提交）。")
    if action == "slot":
        lecture.set_lecture_slot(user, review_round, parse_id(post.get("entry")),
                                 lecture_at=local_datetime(post.get("lecture_at")),
                                 lecture_place=post.get("lecture_place", ""))
        return _("试讲时间已保存。")
    if action == "adjudicate":
        lecture.adjudicate(user, review_round, parse_id(post.get("entry")), post.get("points", ""),
                           post.get("reason", ""))
        return _("裁定已保存，评审结果已按裁定分重新计算。")
    if action == "withdraw":
        lecture.withdraw_adjudication(user, review_round, parse_id(post.get("entry")), post.get("reason", ""))
        return _("裁定已撤回。")
    if action == "add_reviewer":
        lecture.add_reviewer(user, review_round, parse_id(post.get("entry")), parse_id(post.get("expert")))
        return _("已增加评审专家并通知本人。")
    raise Http404


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def round_award_proposal(request, round_id):
    """The awards mode of the proposal page: how many awards per category (× subject), the exact set,
    the explanations, forcing in or out with a reason, and applying it (all or nothing)."""
    from urllib.parse import urlencode

    review_round = services.results_round(request.user, round_id)
    if not request.user.has_perm("review.change_results", review_round):
        raise PermissionDenied(_("只有本轮评审所属单位的管理员可以生成和应用本级荣誉方案。"))
    data = request.POST if request.method == "POST" else request.GET
    force_in, force_out = _forced(data)
    error, view, results = None, None, None
    try:
        results = services.round_results(request.user, review_round)
    except ServiceError as exc:
        error = exc
    subjects: dict[str, set] = {}
    for entry in (results.entries if results else []):
        subjects.setdefault(entry.category, set()).add(entry.subject)
    categories = [(c, sorted(subjects.get(c, ()))) for c in
                  review_round.campaign.categories.values_list("category", flat=True) if c in subjects]
    counts = _award_counts(data, categories)
    given = any(str(c["limit"]).strip() for c in counts)
    if results is not None and given:
        if request.method == "POST" and data.get("action") == "apply":
            try:
                applied = award_proposal.apply_award_proposal(
                    request.user, review_round, counts=counts, force_in=force_in, force_out=force_out,
                    expected=[i for i in map(parse_id, data.getlist("expected")) if i is not None])
            except ServiceError as exc:
                error = exc
            else:
                messages.success(request, _("本级荣誉方案已应用：新评 %(a)d 门，取消 %(u)d 门。") % {
                    "a": len(applied.awarded), "u": len(applied.unawarded)})
                query = urlencode({f"count_{c['category']}" + (f"__{c['subject']}" if c["subject"] else ""): c["limit"]
                                   for c in counts if str(c["limit"]).strip()})
                return redirect(f"{request.path}?{query}")
        try:
            view = award_proposal.build_award_proposal(request.user, review_round, counts=counts, force_in=force_in,
                                                       force_out=force_out, results=results)
        except ServiceError as exc:
            error = error or exc
    values = {f"{c['category']}__{c['subject']}": c["limit"] for c in counts}
    rows = [(c, Category(c).label if c in Category.values else c, values.get(f"{c}__", ""),
             [(s, values.get(f"{c}__{s}", "")) for s in subs]) for c, subs in categories]
    return render(request, "review/award_proposal.html", {
        "round": review_round, "view": view, "error": error, "count_rows": rows, "given": given,
        "award_name": review_round.level.award_name,
    }, status=400 if error else 200)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def chair_panel(request, round_id):
    """The panel chair's page: 试讲 scores entered per entry and expert (with the entry's time
    slot), and the entries flagged for disagreement with adjudication and adding a reviewer."""
    from review import lecture

    review_round = lecture.chair_round(request.user, round_id)
    refused = None
    if request.method == "POST":
        try:
            messages.success(request, _chair_action(request, review_round))
        except ServiceError as exc:
            if request.POST.get("action") not in ("enter", "enter_submit"):
                messages.error(request, exc.message)
            else:  # the sheet form again with what was typed, and why it was refused
                refused = exc
        if refused is None:
            anchor = request.POST.get("anchor", "")
            return redirect(request.path + (f"#{anchor}" if anchor.replace("-", "").isalnum() else ""))
    page = lecture.chair_page(request.user, round_id)
    if refused is not None:
        wanted = parse_id(request.POST.get("assignment"))
        for entry in page.entries:
            for s in entry.sheets:
                if s.assignment.pk == wanted:
                    s.show_posted(sheet_data(request.POST), refused)
    return render(request, "review/chair_panel.html", {"page": page, "round": page.round, "admin": False},
                  status=400 if refused else 200)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def round_disagreements(request, round_id):
    """The round's admin: the 试讲 time slots and the flagged entries, to add a reviewer."""
    from review import lecture

    review_round = services.get_round(request.user, round_id)
    if request.method == "POST":
        if request.POST.get("action") not in ("slot", "add_reviewer"):
            raise Http404
        try:
            messages.success(request, _chair_action(request, review_round))
        except ServiceError as exc:
            messages.error(request, exc.message)
        return redirect("review:disagreements", review_round.pk)
    flagged, error = lecture.flagged_entries(request.user, review_round)
    slots = list(review_round.round_entries.order_by("code")) if review_round.phase == Phase.LECTURE else []
    return render(request, "review/round_disagreements.html", {
        "round": review_round, "flagged": flagged, "error": error, "slots": slots, "admin": True})
