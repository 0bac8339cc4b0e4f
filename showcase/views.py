"""The public showcase pages: /showcase/ (gallery) and /showcase/<id>/ (a course), and the public
files of a course (its video with Range requests, so seeking works; poster frames; documents).

Open to everyone, logged in or not. Caching: conditional GET. Every page carries an ETag made of
the showcase's fingerprint (``services.version``), the query string and the viewer (the header
shows who is logged in), and ``Cache-Control: private, max-age=60``: a browser reuses a page for a
minute and then revalidates it with one small query (304, nothing rendered). The pages are not
``public`` because they carry the visitor's CSRF token. Files are ``public, max-age=3600``: their
stored bytes never change under a key.
"""

from __future__ import annotations

import hashlib

from django.http import Http404
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import condition, require_safe

from media.services import file_response
from showcase import services

PAGE_MAX_AGE = 60
FILE_MAX_AGE = 3600


def _etag(request, *args, **kwargs) -> str:
    who = request.user.pk if request.user.is_authenticated else "anon"
    facts = f"{services.version()}|{who}|{request.get_full_path()}|{getattr(request, 'LANGUAGE_CODE', '')}"
    return hashlib.sha256(facts.encode()).hexdigest()[:32]


def _cached(response):
    patch_cache_control(response, private=True, max_age=PAGE_MAX_AGE)
    response["Vary"] = "Cookie, Accept-Language"
    return response


@require_safe
@condition(etag_func=_etag)
def gallery(request):
    g = services.gallery(request.GET)
    return _cached(render(request, "showcase/gallery.html", {"g": g, "page_obj": g.page, "f": g.filter}))


@require_safe
@condition(etag_func=_etag)
def course(request, pk):
    page = services.course_page(pk)
    return _cached(render(request, "showcase/course.html", {"p": page, "c": page.card}))


def _public(response):
    if not response.has_header("Location"):  # a redirect to a presigned URL (object storage) stays no-store
        response["Cache-Control"] = f"public, max-age={FILE_MAX_AGE}"
    return response


@require_safe
def file(request, pk, resource_id):
    course, resource = services.public_resource(pk, resource_id)
    copy = services.served_copy(resource)
    if copy is None:
        raise Http404(_("文件正在准备中，请稍后再试。"))
    if not copy.storage_key:  # it could not be cleaned of its metadata: not public
        raise Http404(_("这个文件暂时不能公开。"))
    name = services.public_name(course, resource.period.number, resource.slot_kind, resource.file.kind)
    return _public(file_response(request, resource.file, as_attachment=request.GET.get("download") == "1",
                                 key=copy.storage_key, name=name))


@require_safe
def poster(request, pk, resource_id):
    _course, resource = services.public_resource(pk, resource_id)
    if not resource.file.poster_key:
        raise Http404(_("这个视频还没有截图。"))
    return _public(file_response(request, resource.file, key=resource.file.poster_key))
