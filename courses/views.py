"""Course pages (375 px first). Thin: every page calls courses.services, the same functions the API uses.

htmx makes the edit page live (autosave, member search, slot cards that swap after an upload and
poll while a check runs); every action also works as a plain form post with a redirect.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from campaigns.enums import CampaignStatus
from courses import services
from courses.forms import InfoForm, RelocateForm, StartForm
from courses.models import CourseStatus
from jingpinke.errors import ServiceError
from jingpinke.paging import paginate_request
from media.services import file_response


def _htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- list ---------------------------------------------------------------------------------------
@login_required
def course_list(request):
    actor = request.user
    campaign_id = services._digits(request.GET.get("campaign"))
    status = request.GET.get("status", "")
    qs = services.list_courses(actor, campaign_id=campaign_id, status=status)
    page = paginate_request(request, qs, services.PAGE_SIZE, load=services.load_listed)
    is_admin = actor.is_superuser or bool(actor.admin_units())
    return render(request, "courses/list.html", {
        "page_obj": page, "open_campaigns": services.open_campaigns(actor), "is_admin": is_admin,
        "statuses": CourseStatus.choices, "status": status, "campaign_id": campaign_id,
        "is_teacher": actor.has_perm("courses.add_course"), "can_export": actor.has_perm("exports.export_courses"),
    })


# --- start --------------------------------------------------------------------------------------
def _start_context(request, campaign, data):
    actor = request.user
    book = services.RequirementBook(campaign.pk)
    categories = [(cc.category, cc.get_category_display()) for cc in book.categories.values()]
    chosen = data.get("category") or (categories[0][0] if len(categories) == 1 else "")
    cc = book.category(chosen)
    schools = services.teacher_schools(actor, campaign)
    school = next((s for s in schools if str(s.pk) == str(data.get("school") or "")), schools[0] if schools else None)
    max_periods = max((c.max_periods for c in book.categories.values()), default=1)
    default = cc.default_periods if cc else 1
    return book, categories, schools, school, max_periods, default


@login_required
def course_create(request):
    actor = request.user
    services.require(actor, "courses.add_course", None, _("只有教师可以申报课程。"))
    campaigns = services.open_campaigns(actor)
    raw = request.POST.get("campaign") or request.GET.get("campaign")
    if not raw and len(campaigns) == 1:
        raw = str(campaigns[0].pk)
    if not raw:
        return render(request, "courses/create.html", {"campaigns": campaigns, "campaign": None})
    campaign = services.get_open_campaign(actor, raw)
    data = request.POST if request.method == "POST" else request.GET
    book, categories, schools, school, max_periods, default = _start_context(request, campaign, data)
    initial = {"periods": default, "school": str(school.pk) if school else ""}
    form = StartForm(request.POST or None, initial={**initial, **{k: v for k, v in request.GET.items() if v}},
                     categories=categories, schools=schools, max_periods=max_periods, default_periods=default)
    if request.method == "POST" and form.is_valid():
        try:
            course = services.start_course(
                actor, campaign, category=form.cleaned_data["category"], node_id=form.cleaned_data["node"],
                title=form.cleaned_data["title"], periods=form.cleaned_data["periods"],
                school=next((s for s in schools if str(s.pk) == form.cleaned_data.get("school")), None))
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已创建申报草稿“%(t)s”。接下来请为每个课时上传资源，填好后提交到学校。") % {"t": course.title})
            warning = services.same_node_warning(course)
            if warning:
                messages.warning(request, warning)
            return redirect("courses:detail", course.pk)
    return render(request, "courses/create.html", {
        "campaigns": campaigns, "campaign": campaign, "form": form, "categories": categories,
        "picker": services.node_picker(actor, campaign, data, school),
        "deadline": services.school_deadline(campaign, school) if school else None, "book": book,
    })


@login_required
@require_safe
def node_picker(request):
    """The picker fragment (htmx) for the start page, or (``?course=``) for the page that changes
    a course's node."""
    actor = request.user
    course_pk = services._digits(request.GET.get("course"))
    if course_pk is not None:
        course = services.get_course(actor, course_pk)
        _require_lead(actor, course)
        return render(request, "courses/_node_picker.html", {
            "course": course, "picker_action": reverse("courses:relocate", args=[course.pk]),
            "picker": services.node_picker(actor, course.campaign, request.GET, course.school, exclude=course)})
    campaign = services.get_open_campaign(actor, request.GET.get("campaign"))
    schools = services.teacher_schools(actor, campaign)
    school = next((s for s in schools if str(s.pk) == request.GET.get("school", "")), schools[0] if schools else None)
    return render(request, "courses/_node_picker.html", {
        "campaign": campaign, "picker": services.node_picker(actor, campaign, request.GET, school)})


def _require_lead(actor, course) -> None:
    if not services.is_lead(actor, course):
        raise PermissionDenied(_("只有主讲教师可以更换目录节点和类别。"))


PICKER_KEYS = ("stage", "subject", "grade", "version", "volume", "textbook", "unit", "q", "node")


@login_required
def course_relocate(request, pk):
    """更换目录节点 / 类别: the node picker opened at the course's lesson, and the categories, each
    saying which uploaded files it would take out of the course. Posts to ``update_course``."""
    actor = request.user
    course = services.get_course(actor, pk)
    _require_lead(actor, course)
    decision = services.relocate_decision(course)
    options = services.category_options(course)
    if request.method == "POST":
        data = request.POST
    elif any(request.GET.get(k) for k in PICKER_KEYS):
        data = request.GET  # the picker's own button without JavaScript
    else:
        data = services.picker_params(course)
    form = RelocateForm(request.POST or None, categories=[(o.value, o.label) for o in options])
    if request.method == "POST" and decision.ok and form.is_valid():
        before = (course.node_id, course.category)
        try:
            course = services.update_course(actor, course, node_id=form.cleaned_data["node"],
                                            category=form.cleaned_data["category"])
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            if (course.node_id, course.category) == before:
                messages.info(request, _("目录节点和类别都没有变化。"))
            else:
                messages.success(request, _("已更换为“%(c)s” · %(node)s。已上传的文件按新的要求重新检测。") % {
                    "c": course.get_category_display(), "node": course.node.label_path or course.node.title})
            emptied = services.emptied_text(course.emptied_slots)
            if emptied:
                messages.warning(request, emptied)
            # The course page shows the same-node warning of the new node itself (#same-node).
            return redirect("courses:detail", course.pk)
    chosen = data.get("category") or course.category
    return render(request, "courses/relocate.html", {
        "course": course, "form": form, "decision": decision, "options": options, "chosen_category": chosen,
        "has_files": any(o.emptied for o in options),
        "picker": services.node_picker(actor, course.campaign, data, course.school, exclude=course),
        "picker_action": reverse("courses:relocate", args=[course.pk]),
    })


# --- the course page ------------------------------------------------------------------------------
def originality_count(actor, course_id) -> int:
    from originality.services import counts_by_course

    return counts_by_course(actor, [course_id]).get(course_id, 0)


def _detail_context(request, course, *, info_form=None, member_q=None):
    actor = request.user
    book = services.RequirementBook(course.campaign_id)
    cards = services.package(course, book)
    cc = book.category(course.category)
    editable = services.can_change(actor, course) and course.campaign.status == CampaignStatus.OPEN
    if info_form is None and editable:
        info_form = InfoForm(initial={"title": course.title, "periods": course.periods_count},
                             max_periods=cc.max_periods if cc else course.periods_count)
    member_q = request.GET.get("member_q", "") if member_q is None else member_q
    return {
        "course": course, "cards": cards, "editable": editable, "is_lead": services.is_lead(actor, course),
        "info_form": info_form, "members": services.members_of(course),
        "max_members": cc.max_team_members if cc else 0, "member_q": member_q,
        "member_results": services.find_teachers(actor, course, member_q) if editable and member_q else [],
        "deadline": services.school_deadline(course.campaign, course.school),
        "same_node": services.same_node_warning(course),
        "decision": services.submission_facts(course, cards),
        "stage_text": services.submission_stage_text(course, cards),
        "withdraw": services.withdraw_decision(course),
        "relocate": services.relocate_decision(course) if editable and services.is_lead(actor, course) else None,
        "can_delete": services.may_delete(actor, course),
        "originality_count": originality_count(actor, course.pk),
    }


@login_required
def course_detail(request, pk):
    course = services.get_course(request.user, pk)
    return render(request, "courses/detail.html", _detail_context(request, course))


@login_required
@require_POST
def autosave(request, pk):
    actor = request.user
    course = services.get_course(actor, pk)
    cc = services.RequirementBook(course.campaign_id).category(course.category)
    form = InfoForm(request.POST, max_periods=cc.max_periods if cc else course.periods_count)
    error = ""
    periods_before = course.periods_count
    if form.is_valid():
        try:
            course = services.update_course(actor, course, title=form.cleaned_data["title"],
                                            periods=form.cleaned_data["periods"])
        except ServiceError as exc:
            error = exc.message
    else:
        error = "；".join(e for errors in form.errors.values() for e in errors)
    if _htmx(request):
        response = render(request, "courses/_autosave.html", {"error": error, "course": course})
        if not error and course.periods_count != periods_before:
            response["HX-Refresh"] = "true"  # the 课时 sections change
        elif not error:
            response["HX-Trigger"] = "jpk-course-changed"
        return response
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("已保存。"))
    return redirect("courses:detail", course.pk)


@login_required
@require_POST
def period_title(request, pk, number):
    """Autosave of one 课时's title (htmx), or a plain form post with a redirect."""
    actor = request.user
    course = services.get_course(actor, pk)
    error = ""
    try:
        services.update_course(actor, course, period_titles={number: request.POST.get("title", "")})
    except ServiceError as exc:
        error = exc.message
    if _htmx(request):
        return render(request, "courses/_autosave.html", {"error": error, "status_id": f"period-title-status-{number}"})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("第%(n)d课时的标题已保存。") % {"n": number})
    return redirect(reverse("courses:detail", args=[course.pk]) + f"#period-{number}")


@login_required
@require_POST
def course_delete(request, pk):
    """删除草稿 (the page asks first: data-confirm)."""
    actor = request.user
    course = services.get_course(actor, pk)
    title = course.title
    try:
        services.delete_draft(actor, course)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("courses:detail", course.pk)
    messages.success(request, _("已删除草稿“%(t)s”。已上传的文件没有删除，仍保存在您的文件中。") % {"t": title})
    return redirect("courses:list")


@login_required
def members(request, pk):
    """GET: search teachers (fragment for htmx); POST: add or remove one member."""
    actor = request.user
    course = services.get_course(actor, pk)
    if request.method == "POST":
        current = [m["id"] for m in services.members_of(course)]
        user_id = services._digits(request.POST.get("user"))
        if request.POST.get("action") == "remove":
            wanted = [i for i in current if i != user_id]
        else:
            wanted = current + ([user_id] if user_id is not None else [])
        error = ""
        try:
            services.set_members(actor, course, wanted)
        except ServiceError as exc:
            error = exc.message
        if _htmx(request):
            ctx = _detail_context(request, course, member_q="")
            ctx["member_error"] = error
            return render(request, "courses/_members.html", ctx)
        if error:
            messages.error(request, error)
        else:
            messages.success(request, _("团队成员已更新。"))
        return redirect(reverse("courses:detail", args=[course.pk]) + "#team")
    services.require(actor, "courses.change_course", course)
    q = request.GET.get("member_q", "")
    return render(request, "courses/_member_results.html", {
        "course": course, "member_q": q, "member_results": services.find_teachers(actor, course, q),
        "editable": True})


def _card_response(request, course, number, kind, error=""):
    card = services.slot_card(course, int(number), kind)
    editable = services.can_change(request.user, course) and course.campaign.status == CampaignStatus.OPEN
    response = render(request, "courses/_slot.html", {"course": course, "card": card, "editable": editable,
                                                      "slot_error": error})
    response["HX-Trigger"] = "jpk-course-changed"
    return response


def _slot_action(request, pk, number, kind, action, done: str):
    actor = request.user
    course = services.get_course(actor, pk)
    error = ""
    try:
        action(actor, course)
    except ServiceError as exc:
        error = exc.message
    if _htmx(request):
        return _card_response(request, services.get_course(actor, pk), number, kind, error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    return redirect(reverse("courses:detail", args=[course.pk]) + f"#slot-{number}-{kind}")


@login_required
@require_POST
def attach(request, pk, number, kind):
    file_id = request.POST.get("file_id", "")
    return _slot_action(request, pk, number, kind,
                        lambda actor, course: services.attach_file(actor, course, number, kind, file_id),
                        _("文件已放入，正在检测。"))


@login_required
@require_POST
def remove(request, pk, number, kind):
    return _slot_action(request, pk, number, kind,
                        lambda actor, course: services.remove_file(actor, course, number, kind),
                        _("已删除这一项的文件。"))


@login_required
@require_POST
def restore(request, pk, number, kind):
    return _slot_action(request, pk, number, kind,
                        lambda actor, course: services.restore_previous(actor, course, number, kind),
                        _("已恢复上一个文件。"))


@login_required
@require_safe
def slot(request, pk, number, kind):
    course = services.get_course(request.user, pk)
    return _card_response(request, course, number, kind)


@login_required
@require_safe
def submit_box(request, pk):
    course = services.get_course(request.user, pk)
    return render(request, "courses/_submit_box.html", _detail_context(request, course))


@login_required
@require_POST
def submit(request, pk):
    actor = request.user
    course = services.get_course(actor, pk)
    try:
        services.submit(actor, course)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已提交到学校。学校处理前，您可以撤回修改。"))
    return redirect("courses:detail", course.pk)


@login_required
@require_POST
def withdraw(request, pk):
    actor = request.user
    course = services.get_course(actor, pk)
    try:
        services.withdraw(actor, course)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已撤回。修改后请重新提交。"))
    return redirect("courses:detail", course.pk)


# --- files ----------------------------------------------------------------------------------------
@login_required
@require_safe
def resource_file(request, pk, number, kind, part="file"):
    """A slot's file (Range requests for video seeking), its poster or its title-card frame, for
    anyone who may see the course. ``?download=1`` asks for an attachment."""
    actor = request.user
    course = services.get_course(actor, pk)
    try:
        resource = services.resource_for_view(actor, course, number, kind)
    except PermissionDenied:
        raise Http404 from None
    stored = resource.file
    key = {"file": None, "poster": stored.poster_key, "title": stored.title_frame_key}[part]
    if part != "file" and not key:
        raise Http404(_("这个文件还没有截图（检测完成后才有）。"))
    return file_response(request, stored, as_attachment=request.GET.get("download") == "1", key=key)

