"""The dashboards in the REST API: each section's rows (the same rows as the page's chart, table and
Excel export) and its Excel file.

Scope as on the page: ``campaign`` and ``unit`` default to the newest campaign and the highest
unit you administer in it; a campaign or unit out of your reach answers 404 (teachers and school
admins have no dashboard: 404).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from ninja import Router, Schema

from jingpinke.errors import ServiceError
from reports import exports, services
from selection.api import ERRORS, XLSX_RESPONSE

router = Router(tags=["统计"])

KEYS_DESCRIPTION = ("key: " + "、".join(services.SECTION_KEYS)
                    + "（下级单位按状态、类别、学段、学科、名额与截止、检测不合格原因、评审进度、荣誉、学科占比上限、特殊教育各学科占比）。"
                    "campaign、unit 缺省为您可查看的最新活动和您管理的最高一级单位。")


class SectionOut(Schema):
    key: str
    title: str
    note: str
    columns: list[str]
    rows: list[list[int | float | str | None]]


class DashboardOut(Schema):
    campaign_id: int
    campaign_title: str
    unit_id: int
    unit_name: str
    sections: list[SectionOut]


def _known(key: str) -> str:
    """An unknown section answers 404 saying which ones there are (the generic 404 would not)."""
    if key not in services.SECTION_KEYS:
        raise ServiceError(_("没有这一项统计。可选：%(keys)s。") % {"keys": "、".join(services.SECTION_KEYS)}, status=404)
    return key


def _out(s) -> dict:
    return {"key": s.key, "title": s.title, "note": s.note, "columns": s.headers, "rows": s.rows}


@router.get("/dashboard", response={200: DashboardOut, **ERRORS},
            summary="统计看板：全部统计项（每项的表头与数据行，与页面上的图表、表格和 Excel 相同）",
            description=KEYS_DESCRIPTION)
def dashboard(request, campaign: int | None = None, unit: int | None = None):
    scope = services.get_scope(request.user, campaign, unit)
    return {"campaign_id": scope.campaign.pk, "campaign_title": scope.campaign.title, "unit_id": scope.unit.pk,
            "unit_name": scope.unit.name,
            "sections": [_out(s) for s in services.sections(request.user, scope.campaign, scope.unit)]}


@router.get("/sections/{key}.xlsx", response={200: None, **ERRORS}, openapi_extra={"responses": XLSX_RESPONSE},
            summary="统计看板的一项导出 Excel（与页面上的表格相同）", description=KEYS_DESCRIPTION)
def section_xlsx(request, key: str, campaign: int | None = None, unit: int | None = None):
    scope = services.get_scope(request.user, campaign, unit)
    return exports.download(scope.campaign, scope.unit, services.section(request.user, scope.campaign, scope.unit, _known(key)))


# Registered after the .xlsx route: "{key}" would also match "units.xlsx".
@router.get("/sections/{key}", response={200: SectionOut, **ERRORS},
            summary="统计看板的一项：表头与数据行", description=KEYS_DESCRIPTION)
def section(request, key: str, campaign: int | None = None, unit: int | None = None):
    scope = services.get_scope(request.user, campaign, unit)
    return _out(services.section(request.user, scope.campaign, scope.unit, _known(key)))
