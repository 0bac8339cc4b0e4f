"""The dashboard page (统计) and each section's Excel export. Thin: reports.services does the work."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from reports import exports, rules, services


def _query(scope: services.Scope) -> str:
    return urlencode({"campaign": scope.campaign.pk, "unit": scope.unit.pk})


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cells(section: rules.Section) -> list[list[tuple]]:
    """The table's cells as (value, is a number): numbers are right-aligned."""
    return [[(c, _number(c)) for c in row] for row in section.rows]


def _heads(section: rules.Section) -> list[tuple]:
    """The headers as (text, the column holds numbers): right-aligned above numbers."""
    return [(h, any(_number(row[i]) for row in section.rows)) for i, h in enumerate(section.headers)]


@login_required
@require_safe
def dashboard(request):
    scope = services.get_scope(request.user, request.GET.get("campaign"), request.GET.get("unit"))
    query = _query(scope)
    blocks = [{"section": s, "option": rules.chart_option(s), "chart_id": f"chart-{s.key}", "table": _cells(s), "heads": _heads(s),
               "height": rules.chart_height(s),
               "data_id": f"chart-data-{s.key}",
               "export_url": reverse("reports:xlsx", args=[s.key]) + "?" + query}
              for s in services.sections(request.user, scope.campaign, scope.unit)]
    return render(request, "reports/dashboard.html", {"scope": scope, "blocks": blocks})


@login_required
@require_safe
def section_xlsx(request, key):
    scope = services.get_scope(request.user, request.GET.get("campaign"), request.GET.get("unit"))
    return exports.download(scope.campaign, scope.unit, services.section(request.user, scope.campaign, scope.unit, key))
