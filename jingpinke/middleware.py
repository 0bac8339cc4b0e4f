"""Guards every request, pages and API alike, against input the database cannot take."""

from __future__ import annotations

from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from jingpinke.inputs import nul_problems

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def streams_body(view):
    """Marks a view that reads the request body as a stream: the guard leaves its body alone."""
    view.streams_body = True
    return view


def _problems(request, *, forms: bool):
    problems = nul_problems("query", ((k, v) for k, vs in request.GET.lists() for v in vs))
    if forms and request.method == "POST" and request.content_type in FORM_TYPES:
        problems += nul_problems("form", ((k, v) for k, vs in request.POST.lists() for v in vs))
        problems += nul_problems("file", ((k, f.name or "") for k, fs in request.FILES.lists() for f in fs))
    return problems


class InputGuardMiddleware:
    """Refuses NUL in query strings, form fields and uploaded file names (PostgreSQL cannot store
    it) with a message naming the field: 422 JSON for the API, a 400 page otherwise. And answers an
    integer beyond SQLite's 64-bit range that reached a query (a hand-typed id in a URL) as "not
    found" rather than a server error. JSON bodies are checked by ``api.parser.GuardedParser``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # After the CSRF check; views that stream the body themselves (tus) are never made to parse it.
        if problems := _problems(request, forms=not getattr(view_func, "streams_body", False)):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": problems[0].msg, "errors": [p.as_error() for p in problems]},
                                    status=422, json_dumps_params={"ensure_ascii": False})
            return render(request, "input_refused.html", {"problems": problems}, status=400)
        return None

    def process_exception(self, request, exception):
        if isinstance(exception, OverflowError):
            raise Http404(_("没有这个编号的对象：编号超出了允许范围。"))
        return None
