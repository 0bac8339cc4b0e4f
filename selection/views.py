"""Selection pages (375 px first). Thin: every page calls selection.services, the same functions
the API uses; every action is a plain form post that redirects back with a message.

- the desk of a unit (its entries at its level, filters, per-entry actions, the live quota and
  share summary, the confirm button; for the level above also unlock and reopen);
- an entry with its chain of levels and its timeline;
- the printable summary table (推荐汇总表) and its Excel download;
- the resource package (推荐资源包: the table and every file of the recommended courses, one ZIP);
- the progress board of a county, city or province;
- the history of a unit in a campaign (its decisions and the unit-level events: confirmation,
  unlock, reopen, deadline and quota changes), filtered, paginated, and as Excel.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import prefetch_related_objects
from django.http import Http404
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from campaigns import services as campaign_services
from campaigns.enums import NodeRule, Stage
from jingpinke.errors import ServiceError
from jingpinke.paging import InvalidCursor, paginate_request, paginate_sequence
from originality.services import counts_by_course
from selection import archive, exports, progress_html, rules, services
from selection.models import EntryState

ACTIONS = {
    "return": (rules.Action.RETURN, _("已退回，教师会看到退回理由。")),
    "decline": (rules.Action.DECLINE, _("已标记为未推荐。")),
    "recommend": (rules.Action.RECOMMEND, _("已推荐到上一级。")),
    "undo": (rules.Action.UNDO, _("已撤销，课程回到待处理。")),
}


def _back(request, default: str):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect(default)


def _campaign(request):
    """The campaign chosen by ?campaign=, else the newest open one that concerns the user."""
    actor = request.user
    campaigns = list(campaign_services.campaigns_for(actor).exclude(status="draft").select_related("owner")
                     .order_by("-year", "-id"))
    raw = request.GET.get("campaign")
    if raw:
        wanted = services.as_int(raw)
        listed = next((c for c in campaigns if c.pk == wanted), None)  # the same row get_campaign reads
        return listed or campaign_services.get_campaign(actor, raw), campaigns
    chosen = next((c for c in campaigns if c.status == "open"), campaigns[0] if campaigns else None)
    return chosen, campaigns


# --- the desk: entries held by one unit -------------------------------------------------------------
FILTER_KEYS = ("category", "stage", "subject", "grade", "state", "compliance", "unit", "awarded", "q", "node")
# The desk table's columns: (label, sort key or None)
DESK_COLUMNS = [
    (_lazy("课程"), "title"), (_lazy("类别"), "category"), (_lazy("学段/学科/年级"), "grade"),
    (_lazy("学校"), "school"), (_lazy("区县"), "county"), (_lazy("文件检测"), "compliance"),
    (_lazy("状态"), "state"), (_lazy("推荐顺序"), "rank"),
]

BULK_ACTIONS = [(rules.Action.RECOMMEND, _lazy("推荐到上一级")), (rules.Action.DECLINE, _lazy("未推荐")),
                (rules.Action.RETURN, _lazy("退回修改"))]


def _desk(request, actor):
    """The desk asked for by ?campaign= and ?held_by= (else the first one), with its level."""
    campaign, campaigns = _campaign(request)
    if campaign is None:
        return None, campaigns, [], None, None
    # Its levels and categories are read once here, not by each of desks, get_unit, the deadlines,
    # the quota board and the filter form.
    prefetch_related_objects([campaign], "levels", "categories")
    desks = services.desks(actor, campaign)
    if not desks:
        raise PermissionDenied(_("只有单位管理员可以处理推荐。"))
    wanted = request.GET.get("held_by")
    if wanted:
        desk, level = services.get_unit(actor, campaign, wanted)
    elif any(u.pk == desks[0].pk for u in actor.admin_units()):
        # A unit the actor administers (loaded with its parent): desks() keeps only units with a
        # level in the campaign, so get_unit's checks hold; its level needs no query.
        desk = desks[0]
        level = services.level_of(campaign, desk.kind)
    else:
        desk, level = services.get_unit(actor, campaign, desks[0].pk)
    return campaign, campaigns, desks, desk, level


def _query(request, **changes) -> str:
    """The current query string with ``changes`` (None removes a key); the page number and the
    cursor are dropped."""
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("cursor", None)
    for key, value in changes.items():
        query.pop(key, None)
        if value is not None:
            query[key] = value
    return query.urlencode()


def sort_headers(request, columns, current: str) -> list[dict]:
    """Column headers that sort: a click sorts by the column, a second click reverses it."""
    heads = []
    for label, key in columns:
        state = "ascending" if current == key else "descending" if current == f"-{key}" else ""
        heads.append({"label": label, "key": key, "state": state,
                      "url": "?" + _query(request, sort=f"-{key}" if state == "ascending" else key) if key else ""})
    return heads


@dataclass(slots=True)
class DeskRow:
    """One entry of the desk as its row shows it, computed in one pass (``desk_rows``): the row is
    drawn once, as a table row from 800 px and as a card on phones (CSS), with flat values only."""

    pk: int
    url: str  # the entry's page; its actions are this + "<action>/"
    title: str
    teacher: str
    category: str
    grade: str  # 学段 · 学科 · 年级
    book: str  # the textbook's label · the node's path
    school: str
    county: str
    compliance: str
    compliance_label: str
    state: str
    state_label: str
    rank: int | str  # only for a recommended entry
    award: str  # the level's award name when the entry has it
    award_name: str  # the level's award name (the award button), if the level has one
    awarded: bool
    similar: int
    similar_url: str
    similar_label: str
    reason: str
    node_reason: str
    check_label: str


def desk_rows(rows) -> list[DeskRow]:
    """The desk's (entry, county) pairs as ``DeskRow`` values: every label, URL and per-row test the
    row needs, so the template only prints them (no URL reversing, filter or include per row)."""
    entry_url = reverse("selection:entry", args=[0]).removesuffix("0/")  # "/selection/entries/"
    similar_url = reverse("originality:list") + "?course="
    states = dict(EntryState.choices)
    result = []
    for e, county in rows:
        course, node = e.course, e.node
        textbook = node.textbook
        award_name = e.level.award_name
        similar = getattr(e, "originality_count", 0)
        result.append(DeskRow(
            pk=e.pk, url=f"{entry_url}{e.pk}/", title=course.title, teacher=course.lead_teacher.display_name,
            category=rules.category_label(course.category),
            grade=f"{textbook.stage_label} · {textbook.subject} · {textbook.grade}",
            book=f"{textbook.label} · {node.label_path or node.title}",
            school=course.school.name, county=county, compliance=e.compliance, compliance_label=e.compliance_label,
            state=e.state, state_label=str(states.get(e.state, e.state)),
            rank=e.rank if e.rank and e.state == EntryState.RECOMMENDED else "",
            award=award_name if e.awarded else "", award_name=award_name, awarded=e.awarded,
            similar=similar, similar_url=f"{similar_url}{e.course_id}",
            similar_label=ngettext("%(n)s 处相似", "%(n)s 处相似", similar) % {"n": similar} if similar else "",
            reason=e.reason, node_reason=e.node_reason, check_label=_("勾选《%(t)s》") % {"t": course.title},
        ))
    return result


def unit_options(units, selected) -> str:
    """``<option>`` elements of units (a county's hundreds of schools), built in Python in one pass."""
    return mark_safe("".join(f'<option value="{u.pk}"{" selected" if u.pk == selected else ""}>{escape(u.name)}</option>'
                             for u in units))


@login_required
@require_safe
def entry_list(request):
    actor = request.user
    campaign, campaigns, desks, desk, level = _desk(request, actor)
    if campaign is None:
        return render(request, "selection/list.html", {"campaign": None, "campaigns": campaigns})
    st = services.standing(actor, campaign, desk, level)
    f = services.EntryFilter.from_query(request.GET, campaign=campaign.pk, held_by=desk.pk, level="")
    per_page = services.page_size(request.GET.get("per_page"))
    held = sum(st.held.count(s) for s in EntryState.values)  # every entry of the desk: the unfiltered count
    try:
        page = services.desk_page(actor, f, per_page, request.GET.get("page"), request.GET.get("cursor"), held=held)
    except InvalidCursor as exc:  # forged, or made for another sort: the first page, with a message
        messages.warning(request, exc.message)
        page = services.desk_page(actor, f, per_page, 1, held=held)
    similar = counts_by_course(actor, [e.course_id for e in page.object_list])  # one query
    for e in page.object_list:
        e.originality_count = similar.get(e.course_id, 0)
    rows = [(e, services.county_of(e.course.school)) for e in page.object_list]
    choices = services.filter_choices(campaign, level, desk)
    back = request.get_full_path()
    return render(request, "selection/list.html", {
        "campaign": campaign, "campaigns": campaigns, "desks": desks, "desk": desk, "level": level, "st": st,
        "f": f, "page_obj": page, "choices": choices, "next": back, "open": st.open,
        "csrf_input": format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)),
        "next_input": format_html('<input type="hidden" name="next" value="{}">', back),
        "rows": rows, "desk_rows": desk_rows(rows),
        "desk_options": unit_options(desks, desk.pk), "unit_options": unit_options(choices["children"], f.unit),
        "heads": sort_headers(request, DESK_COLUMNS, f.sort or "rank"), "per_page": per_page,
        "page_sizes": [(n, "?" + _query(request, per_page=str(n))) for n in services.PAGE_SIZES],
        "export_url": reverse("selection:export") + "?" + _query(request, per_page=None),
        "bulk_actions": BULK_ACTIONS,
        "stages": Stage.choices, "states": EntryState.choices, "compliances": list(rules.COMPLIANCE_LABELS.items()),
        "sorts": list(services.SORT_LABELS.items()), "warn_mode": campaign.node_rule == NodeRule.WARN,
        "filtered": any(request.GET.get(k) for k in FILTER_KEYS),
        **_powers(actor, st),
    })


BULK_DONE = {
    rules.Action.RECOMMEND: _lazy("已推荐 %(n)d 门课程到上一级。"),
    rules.Action.DECLINE: _lazy("已将 %(n)d 门课程标记为未推荐。"),
    rules.Action.RETURN: _lazy("已退回 %(n)d 门课程，教师会看到退回理由。"),
}


@login_required
@require_POST
def bulk(request):
    """Several checked entries of the desk table: recommend, decline or return (one reason for
    all). Each is decided on its own; every refusal is shown with the course it concerns."""
    ids = [services.as_int(v) for v in request.POST.getlist("ids")]
    action = request.POST.get("action", "")
    try:
        outcomes = services.bulk_decide(request.user, [i for i in ids if i is not None], action,
                                        reason=request.POST.get("reason", ""))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        done = sum(1 for o in outcomes if o.ok)
        if done:
            messages.success(request, BULK_DONE[action] % {"n": done})
        for o in outcomes:
            if not o.ok:
                messages.error(request, _("《%(title)s》：%(why)s") % {"title": o.title, "why": o.message} if o.title
                               else _("编号 %(id)s：%(why)s") % {"id": o.entry_id, "why": o.message})
    return _back(request, reverse("selection:list"))


@login_required
@require_safe
def export(request):
    """The whole filtered list of a desk (every page) as an Excel workbook."""
    actor = request.user
    campaign, _campaigns, _desks, desk, level = _desk(request, actor)
    if campaign is None:
        raise Http404(_("目前没有进行中的遴选活动。"))
    f = services.EntryFilter.from_query(request.GET, campaign=campaign.pk, held_by=desk.pk, level="")
    return exports.entries_download(actor, f, title=exports.entries_title(campaign, desk, level),
                                    filename=exports.entries_filename(desk, level))


def _powers(actor, st: services.Standing) -> dict:
    return {
        "can_confirm": actor.has_perm("selection.confirm_unit", st.unit) and not st.confirmed,
        "can_unlock": actor.has_perm("selection.unlock_unit", st.unit) and st.confirmed,
        "can_reopen": actor.has_perm("selection.reopen_unit", st.unit),
    }


@login_required
@require_safe
def entry_detail(request, pk):
    actor = request.user
    entry = services.get_entry_detail(actor, pk)
    campaign = entry.level.campaign
    steps = services.chain(entry)
    shown = services.timeline(entry, actor, steps=steps)  # the newest HISTORY_SHOWN, shown oldest first
    return render(request, "selection/detail.html", {
        "entry": entry, "campaign": campaign, "chain": steps,
        "timeline": _labelled(shown.events[::-1]), "history": shown,
        "timeline_start": shown.total - len(shown.events) + 1,  # numbered as in the whole timeline
        "members": services.members(entry), "can_decide": actor.has_perm("selection.decide_entry", entry),
        "warn_mode": campaign.node_rule == NodeRule.WARN,
        "open": services.is_open(campaign, entry.level, entry.unit),
        "compliance_label": rules.COMPLIANCE_LABELS[entry.compliance],
        "desk_url": reverse("selection:list") + f"?campaign={campaign.pk}&held_by={entry.unit_id}",
        "originality_count": counts_by_course(actor, [entry.course_id]).get(entry.course_id, 0),
    })


def _labelled(events: list) -> list[tuple]:
    labels: dict[str, str] = {}
    return [(ev, labels.get(ev.action) or labels.setdefault(ev.action, services.action_label(ev.action)))
            for ev in events]


@login_required
@require_safe
def entry_history(request, pk):
    """The course's whole timeline, newest first, a page at a time (``?cursor=``: the next, older
    page); to whom the entry's page is open, with the unit-level events of the units he may see."""
    actor = request.user
    entry = services.get_timeline_entry(actor, pk)
    cursor = request.GET.get("cursor") or ""
    try:
        page = services.timeline(entry, actor, size=services.TIMELINE_PAGE_SIZE, cursor=cursor)
    except InvalidCursor as exc:
        messages.warning(request, exc.message)
        page = services.timeline(entry, actor, size=services.TIMELINE_PAGE_SIZE)
    return render(request, "selection/entry_history.html", {
        "entry": entry, "page": page,
        "timeline": _labelled(page.events), "timeline_start": page.total - page.start,  # counting down
    })


@login_required
@require_POST
def entry_action(request, pk, action):
    actor = request.user
    entry = services.get_entry(actor, pk)
    default = reverse("selection:list") + f"?campaign={entry.level.campaign_id}&held_by={entry.unit_id}"
    try:
        if action in ("award", "unaward"):
            entry = services.set_award(actor, pk, action == "award")
            done = (_("已评为%(award)s。") if action == "award" else _("已取消%(award)s。")) % {
                "award": entry.level.award_name}
        elif action in ACTIONS:
            code, done = ACTIONS[action]
            rank = services.as_int(request.POST.get("rank"))
            services.decide(actor, pk, code, reason=request.POST.get("reason", ""),
                            node_reason=request.POST.get("node_reason", ""), rank=rank)
        else:
            raise Http404(_("没有这个操作。"))
    except ServiceError as exc:
        messages.error(request, _("《%(title)s》：%(why)s") % {"title": entry.course.title, "why": exc.message})
    else:
        messages.success(request, _("《%(title)s》%(done)s") % {"title": entry.course.title, "done": done})
    return _back(request, default)


# --- a unit at its level: confirm, unlock, reopen ------------------------------------------------------
def _unit(request, campaign_id, unit_id):
    campaign = campaign_services.get_campaign(request.user, campaign_id)
    unit, level = services.get_unit(request.user, campaign, unit_id)
    return campaign, unit, level


def _desk_url(campaign, unit) -> str:
    return reverse("selection:list") + f"?campaign={campaign.pk}&held_by={unit.pk}"


@login_required
@require_POST
def confirm(request, campaign_id, unit_id):
    campaign, unit, level = _unit(request, campaign_id, unit_id)
    try:
        services.confirm(request.user, campaign, level.kind, unit)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("推荐汇总表已确认，%(unit)s%(level)s的推荐结果已锁定。") % {
            "unit": unit.name, "level": level.name})
    return _back(request, _desk_url(campaign, unit))


@login_required
@require_POST
def unlock(request, campaign_id, unit_id):
    campaign, unit, level = _unit(request, campaign_id, unit_id)
    try:
        services.unlock(request.user, campaign, level.kind, unit, request.POST.get("reason", ""))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已为%(unit)s解锁，该单位可以重新调整推荐。") % {"unit": unit.name})
    return _back(request, _desk_url(campaign, unit))


@login_required
@require_POST
def reopen(request, campaign_id, unit_id):
    campaign, unit, level = _unit(request, campaign_id, unit_id)
    day, at = request.POST.get("deadline_date", "").strip(), request.POST.get("deadline_time", "").strip()
    try:
        services.reopen(request.user, campaign, level.kind, unit, f"{day} {at}".strip() if at else day,
                        request.POST.get("reason", ""))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        new = next(r for r in campaign_services.deadlines_for(campaign, unit) if r.level.pk == level.pk).deadline
        messages.success(request, _("已为%(unit)s重新开放，新的截止时间为 %(when)s。") % {
            "unit": unit.name, "when": rules.local_text(new)})
    return _back(request, _desk_url(campaign, unit))


# --- the summary table ------------------------------------------------------------------------------
@login_required
@require_safe
def summary(request, campaign_id, unit_id):
    campaign, unit, level = _unit(request, campaign_id, unit_id)
    confirmed = services.confirmation(level, unit)
    return render(request, "selection/summary.html", {
        "campaign": campaign, "unit": unit, "level": level, "confirmed": confirmed,
        "title": exports.summary_title(campaign, unit, level), "headers": exports.summary_headers(),
        "rows": list(services.summary_rows(request.user, campaign, unit, level)), "now": timezone.now(),
        "desk_url": _desk_url(campaign, unit), "package": archive.stats(request.user, campaign, unit, level),
    })


@login_required
@require_safe
def summary_xlsx(request, campaign_id, unit_id):
    campaign, unit, level = _unit(request, campaign_id, unit_id)
    return exports.summary_download(request.user, campaign, unit, level)


@login_required
@require_safe
def package_zip(request, campaign_id, unit_id):
    campaign, unit, level = _unit(request, campaign_id, unit_id)
    try:
        return archive.download(request.user, campaign, unit, level)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("selection:summary", campaign.pk, unit.pk)


# --- the history of a unit ---------------------------------------------------------------------------
@login_required
@require_safe
def unit_history(request, campaign_id, unit_id):
    campaign, unit, level = _unit(request, campaign_id, unit_id)
    f = services.HistoryFilter.from_query(request.GET)
    qs = services.unit_history(request.user, campaign, unit, f)
    page = paginate_request(request, qs, services.HISTORY_PAGE_SIZE)
    return render(request, "selection/history.html", {
        "campaign": campaign, "unit": unit, "level": level, "f": f, "page_obj": page,
        "rows": [services.history_row(ev) for ev in page.object_list],
        "choices": services.history_choices(request.user, campaign, unit), "desk_url": _desk_url(campaign, unit),
        "filtered": any((f.action, f.actor, f.since, f.until)), "query": f.as_query(),
    })


@login_required
@require_safe
def unit_history_xlsx(request, campaign_id, unit_id):
    campaign, unit, _level = _unit(request, campaign_id, unit_id)
    return exports.history_download(request.user, campaign, unit, services.HistoryFilter.from_query(request.GET))


# --- the progress board -----------------------------------------------------------------------------
PROGRESS_COLUMNS_BEFORE = [(_lazy("单位"), "unit")]
PROGRESS_COLUMNS_AFTER = [(_lazy("待处理"), "pending"), (_lazy("推荐截止"), "deadline"), (_lazy("汇总表"), "confirmed"),
                          (_lazy("工作联系表"), "contact")]


def _board(request):
    actor = request.user
    campaign = campaign_services.get_campaign(actor, request.resolver_match.kwargs["campaign_id"])
    parent = services.get_board_unit(actor, campaign, request.GET.get("unit"))
    sort = request.GET.get("sort", "")
    return campaign, parent, services.sort_progress(services.progress(actor, campaign, parent), sort), sort


@login_required
@require_safe
def progress(request, campaign_id):
    actor = request.user
    campaign = campaign_services.get_campaign(actor, campaign_id)
    parent = services.get_board_unit(actor, campaign, request.GET.get("unit"))
    sort = request.GET.get("sort", "")
    categories = services.progress_categories(campaign)
    columns = (PROGRESS_COLUMNS_BEFORE + [(label, f"quota:{code}") for code, label in categories]
               + PROGRESS_COLUMNS_AFTER)
    if sort.lstrip("-") in ("", "unit"):
        # In the units' order, page first: the rows of one page are computed, and the summary line
        # counts the units behind without reading their entries (a county of 800 schools costs
        # what one of 30 does).
        levels = services.board_levels(campaign)
        children = services.board_children(campaign, parent, levels)
        if sort == "-unit":
            children.reverse()
        page = paginate_sequence(children, services.BOARD_PAGE_SIZE, request.GET.get("page"))
        shown = services.progress(actor, campaign, parent, children=list(page.object_list), levels=levels,
                                  categories=[code for code, _label in categories])
        behind = services.behind_count(campaign, children)
    else:
        # Sorted by a computed column: every row is computed and sorted, one page of them drawn.
        rows = services.sort_progress(services.progress(actor, campaign, parent), sort)
        page = paginate_sequence(rows, services.BOARD_PAGE_SIZE, request.GET.get("page"))
        children, shown, behind = [r.unit for r in rows], list(page.object_list), sum(1 for r in rows if r.behind)
    can_manage = actor.has_perm("selection.unlock_unit", children[0]) if children else False
    table = [(r, [services.quota_cell(r, code) for code, _l in categories]) for r in shown]
    html = progress_html.BoardHtml(request, campaign, can_manage=can_manage)
    return render(request, "selection/progress.html", {
        "campaign": campaign, "parent": parent, "rows": shown, "page_obj": page,
        "boards": services.board_units(actor, campaign),
        "behind": behind,
        "can_manage": can_manage,
        "heads": sort_headers(request, columns, sort or "unit"),
        "table": table,
        "table_html": [html.row(r, cells) for r, cells in table],
        "cards_html": [html.card(r) for r in shown],
        "export_url": reverse("selection:progress_xlsx", args=[campaign.pk]) + "?" + _query(request),
    })


@login_required
@require_safe
def progress_xlsx(request, campaign_id):
    campaign, parent, rows, _sort = _board(request)
    return exports.progress_download(campaign, parent, rows, services.progress_categories(campaign))
