"""Guards every request, pages and API alike, against input the database cannot take."""

from __future__ import annotations

import http.client

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as LibraryCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
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


# Attributes with which a view (django-csp's decorators) gives its response a policy of its own.
_OWN_POLICY = ("_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")
_DEBUG_EXEMPT = (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND)


class CSPMiddleware(LibraryCSPMiddleware):
    """django-csp's middleware with the policy built once: the library builds both headers (policy
    and report-only) from the settings at every response, ~35 µs of CPU on every request. A
    response with nothing of its own (no nonce used, no decorator's policy: this project has none)
    gets the headers built from the settings, kept until the settings change (tests override
    them); anything else goes through the library's own path. Same headers either way
    (jingpinke/tests/test_security.py)."""

    def __init__(self, get_response):
        super().__init__(get_response)
        self._built = None

    def _headers(self) -> tuple[str, str]:
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", None)
        report_only = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
        built = self._built
        if built is None or built[0] is not policy or built[1] is not report_only:
            built = self._built = (policy, report_only, build_policy(), build_policy(report_only=True),
                                   tuple((policy or {}).get("EXCLUDE_URL_PREFIXES") or ()),
                                   tuple((report_only or {}).get("EXCLUDE_URL_PREFIXES") or ()))
        return built[2:]

    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(hasattr(response, a) for a in _OWN_POLICY):
            return super().process_response(request, response)
        if response.status_code in _DEBUG_EXEMPT and settings.DEBUG:
            return response
        csp, csp_ro, excluded, excluded_ro = self._headers()
        path = request.path_info
        if csp and HEADER not in response and getattr(response, "_csp_exempt", False) is False \
                and not path.startswith(excluded):
            response[HEADER] = csp
        if csp_ro and HEADER_REPORT_ONLY not in response and getattr(response, "_csp_exempt_ro", False) is False \
                and not path.startswith(excluded_ro):
            response[HEADER_REPORT_ONLY] = csp_ro
        # As the library: once the header is written, using the nonce is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
