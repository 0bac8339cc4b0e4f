"""The owner's own view of a stored file: /files/<id>/ (and its poster and title frame).

Files of a course are served by the course's views (after their own permission check) through the
same ``media.services.file_response``. Nothing is under a public URL.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from api.auth import user_from_request
from media import services
from media.models import StoredFile
from media.permissions import can_view_file


def _file_for(request, file_id) -> StoredFile:
    stored = StoredFile.objects.filter(pk=file_id).first()
    if stored is None or not can_view_file(request.jpk_user, stored):
        raise Http404(_("没有这个文件，或您无权查看。"))
    return stored


def _serve(request, file_id, part: str):
    request.jpk_user = user_from_request(request)
    if request.jpk_user is None:
        return redirect_to_login(request.get_full_path())
    stored = _file_for(request, file_id)
    key = {"file": None, "poster": stored.poster_key, "title": stored.title_frame_key}[part]
    if part != "file" and not key:
        raise Http404(_("这个文件还没有截图（检测完成后才有）。"))
    return services.file_response(request, stored, as_attachment=request.GET.get("download") == "1", key=key)


@require_safe
def file(request, file_id):
    return _serve(request, file_id, "file")


@require_safe
def poster(request, file_id):
    return _serve(request, file_id, "poster")


@require_safe
def title_frame(request, file_id):
    return _serve(request, file_id, "title")
