"""Export pages. Thin: every view calls exports.services.

POST /exports/courses/?<the course list's query string>: a small export streams straight back as
the XLSX; a large one becomes a job and redirects to its progress page, which polls (htmx) a
fragment until the download link appears. Jobs are their owner's only (404 for anyone else).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from exports import services
from jingpinke.errors import ServiceError
from jingpinke.storage import download_response


@login_required
@require_POST
def export_courses(request):
    try:
        filters, total, job = services.start(request.user, request.GET)
    except ServiceError as exc:
        return render(request, "exports/refused.html", {"message": exc.message,
                                                        "query": request.GET.urlencode()}, status=exc.status)
    if job is not None:
        return redirect("exports:detail", job.pk)
    response = StreamingHttpResponse(services.stream(request.user, filters), content_type=services.XLSX_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, services.filename(request.user, filters))
    response["X-Jpk-Rows"] = str(total)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_safe
def job_list(request):
    return render(request, "exports/list.html", {"jobs": services.jobs_for(request.user)[:50]})


@login_required
@require_safe
def job_detail(request, pk):
    job = services.get_job(request.user, pk)
    return render(request, "exports/detail.html", {"job": job, "query": services.query_string(job.filters)})


@login_required
@require_safe
def job_progress(request, pk):
    job = services.get_job(request.user, pk)
    return render(request, "exports/_progress.html", {"job": job})


@login_required
@require_safe
def job_download(request, pk):
    job = services.get_job(request.user, pk)
    if job.status != job.Status.DONE or not job.file:
        raise Http404(_("导出文件还没有生成好。"))
    return download_response(job.file, filename=job.filename or "export.xlsx", content_type=services.XLSX_TYPE,
                             missing=_("导出文件已被清理，请重新导出。"))
