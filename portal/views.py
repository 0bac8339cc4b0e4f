from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from orgs.models import ROLE_KEYS
from portal.health import health
from portal.help import HELP
from portal.services import home_for


@login_required
def home(request):
    return render(request, "portal/home.html", {"home": home_for(request.user), "now": timezone.now()})


def help_index(request):
    own = request.user.primary_role()[0] if request.user.is_authenticated else None
    guides = [(key, ROLE_KEYS[key], HELP[key]["summary"]) for key in HELP]
    return render(request, "portal/help_index.html", {"guides": guides, "own": own})


def help_page(request, role):
    if role not in HELP:
        raise Http404
    return render(request, "portal/help_role.html", {"role": role, "role_label": ROLE_KEYS[role], "guide": HELP[role]})


def healthz(request):
    """200 with every part "ok", or 503 naming the failing part (portal.health)."""
    healthy, report = health()
    response = JsonResponse(report, status=200 if healthy else 503, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response
