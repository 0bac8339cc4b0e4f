"""Originality pages. Thin: everything comes from originality.services; every page checks its
permission (originality/permissions.py) and starts from the viewer's scope (404 outside it).

- ``/originality/``: the matches the viewer may see, newest first, paginated (``?course=`` narrows it);
- ``/originality/<id>/``: one match: the similarity, both courses as far as the viewer may see them,
  and the matched segments (video) or passages (documents) side by side;
- ``/originality/review/<assignment>/<id>/``: the same for an expert, blind (no names)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from jingpinke.paging import paginate_request
from originality import services

PAGE_SIZE = 20


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
@require_safe
def match_list(request):
    if not request.user.has_perm("originality.view_list"):
        raise PermissionDenied(_("只有管理员和教师可以查看原创性检测结果。"))
    qs = services.matches_for(request.user)
    course_id = _int(request.GET.get("course"))
    if course_id is not None:
        qs = qs.filter(pk__in=services.Match.objects.filter(new_file__resources__period__course=course_id).values("pk"))
    page = paginate_request(request, qs, PAGE_SIZE)
    return render(request, "originality/list.html", {
        "page_obj": page, "rows": services.describe(request.user, page.object_list), "course_id": course_id})


def _page(request, match, row, *, blind: bool, assignment=None):
    return render(request, "originality/match.html", {
        "m": match, "row": row, "blind": blind, "assignment": assignment,
        "segments": services.segments(match), "passages": services.passages(match)})


@login_required
@require_safe
def match_detail(request, pk):
    match = services.matches_for(request.user).filter(pk=pk).first()
    if match is None:
        raise Http404(_("未找到该检测结果，或您无权查看。"))
    if not request.user.has_perm("originality.view_match", match):
        raise PermissionDenied(_("您无权查看该检测结果。"))
    return _page(request, match, services.describe(request.user, [match])[0], blind=False)


@login_required
@require_safe
def blind_match(request, assignment_id, pk):
    from review.models import Assignment

    assignment = (Assignment.objects.of_expert(request.user).select_related("entry__entry")
                  .filter(pk=assignment_id).first())
    match = services.reviewed_matches(request.user, assignment).filter(pk=pk).first() if assignment else None
    if match is None:
        raise Http404(_("未找到该检测结果，或您无权查看。"))
    if not request.user.has_perm("originality.view_match_blind", match):
        raise PermissionDenied(_("您无权查看该检测结果。"))
    row = services.describe(request.user, [match], blind=True, code=assignment.entry.code)[0]
    return _page(request, match, row, blind=True, assignment=assignment)
