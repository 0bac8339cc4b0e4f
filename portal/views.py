from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import render

from orgs.models import ROLE_KEYS


@login_required
def home(request):
    role, unit = request.user.primary_role()
    return render(request, "portal/home.html", {"role": role, "role_label": ROLE_KEYS[role], "unit": unit})


def help_index(request):
    return render(request, "portal/help_index.html", {"roles": ROLE_KEYS})


def help_page(request, role):
    if role not in ROLE_KEYS or role == "none":
        raise Http404
    return render(request, "portal/help_role.html", {"role": role, "role_label": ROLE_KEYS[role]})


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})
