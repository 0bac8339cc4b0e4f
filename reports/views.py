"""The dashboard page (统计) and each section's Excel export. Thin: reports.services does the work."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from reports import exports, rules, services


def _query(scope: services.Scope) -> str:
    return urlencode({"campaign": scope.campaign.pk, "unit": scope.unit.pk})


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cell_html(value) -> str:
    """What ``{{ value }}`` prints in the template (localized, escaped); None: a dash."""
    if value is None:
        return "—"
    if type(value) is str:
        return conditional_escape(value)
    if type(value) is int and not settings.USE_THOUSAND_SEPARATOR:
        return str(value)  # what localize gives an int without grouping
    return conditional_escape(str(localize(value)))


def _td(value) -> str:
    return f'<td class="num">{_cell_html(value)}</td>' if _number(value) else f"<td>{_cell_html(value)}</td>"


def _body(section: rules.Section) -> str:
    """The table's rows as HTML, as the template's loop wrote them: a county's 120 schools in
    several sections made thousands of template nodes to render, a third of the page's time.
    Each distinct text, integer and None is escaped and formatted once (a 1 M county's ~835
    schools repeat "0", "未确认" and their deadline in ~14,000 cells); keyed by type too (1 and
    True print differently); other values (floats: 0.0 equals -0.0) each time."""
    cells: dict[tuple, str] = {}

    def td(value) -> str:
        kind = type(value)
        if kind is not str and kind is not int and value is not None:
            return _td(value)
        key = (kind, value)
        html = cells.get(key)
        if html is None:
            html = cells[key] = _td(value)
        return html

    return mark_safe("".join("<tr>" + "".join([td(c) for c in row]) + "</tr>\n    " for row in section.rows))


def _heads(section: rules.Section) -> list[tuple]:
    """The headers as (text, the column holds numbers): right-aligned above numbers."""
    return [(h, any(_number(row[i]) for row in section.rows)) for i, h in enumerate(section.headers)]


@login_required
@require_safe
def dashboard(request):
    scope = services.get_scope(request.user, request.GET.get("campaign"), request.GET.get("unit"))
    query = _query(scope)
    aggregates = services.current_aggregates(scope.campaign, scope.unit)
    blocks = [{"section": s, "option": rules.chart_option(s), "chart_id": f"chart-{s.key}", "body": _body(s), "heads": _heads(s),
               "height": rules.chart_height(s),
               "data_id": f"chart-data-{s.key}",
               "export_url": reverse("reports:xlsx", args=[s.key]) + "?" + query}
              for s in services.sections(request.user, scope.campaign, scope.unit, aggregates=aggregates.data)]
    return render(request, "reports/dashboard.html", {"scope": scope, "blocks": blocks, "aggregates": aggregates})


@login_required
@require_POST
def refresh(request):
    """The 刷新 button: recount the area-wide sections in the background."""
    scope = services.get_scope(request.user, request.POST.get("campaign"), request.POST.get("unit"))
    services.request_refresh(scope.campaign, scope.unit)
    messages.success(request, _("正在重新统计区域内的申报、文件检测和荣誉数据，稍后刷新本页即可看到最新结果。"))
    return redirect(reverse("reports:dashboard") + "?" + _query(scope))


@login_required
@require_safe
def section_xlsx(request, key):
    scope = services.get_scope(request.user, request.GET.get("campaign"), request.GET.get("unit"))
    return exports.download(scope.campaign, scope.unit, services.section(request.user, scope.campaign, scope.unit, key))
