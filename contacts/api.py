"""The contact form (工作联系表) in the REST API.

Thin: every endpoint calls contacts.services, the same functions the pages use. Scope: a unit
outside the units you administer answers 404; a change you may not make (e.g. the level above
editing a unit's form) answers 403; a refused change answers 400 with {"detail": "<why, in
Chinese>", "errors": [...]} — for the people, one error per problem with its row (1-based) and field.
Times are ISO 8601; a date alone ("2024-08-26") means 23:59:59 Beijing time of that day.
"""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from ninja import File, Router, Schema
from ninja.files import UploadedFile

from campaigns import services as campaign_services
from contacts import exports, services

router = Router(tags=["工作联系表"])


class ErrorOut(Schema):
    detail: str
    errors: list = []


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class PersonIn(Schema):
    name: str
    position: str
    mobile: str
    categories: list[str]
    remark: str = ""


class FormIn(Schema):
    people: list[PersonIn]


class AttachIn(Schema):
    file_id: str


class ReopenIn(Schema):
    deadline: str
    reason: str


class PersonOut(Schema):
    name: str
    position: str
    mobile: str
    categories: list[str]
    category_labels: list[str]
    remark: str


class ScanOut(Schema):
    id: str
    name: str
    size: int
    kind: str
    kind_label: str
    url: str


class FormOut(Schema):
    campaign_id: int
    unit_id: int
    unit_name: str
    level: str
    level_name: str
    status: str
    status_label: str
    filed: bool
    filed_at: datetime | None
    filed_by: str
    updated_at: datetime | None
    updated_by: str
    deadline: datetime | None
    seconds_left: int | None
    time_left_text: str
    open: bool
    can_edit: bool
    missing: list[str]
    scan: ScanOut | None
    people: list[PersonOut]


class StatusOut(Schema):
    campaign_id: int
    unit_id: int
    unit_name: str
    filed_count: int
    total: int
    units: list[FormOut]


def _local(moment: datetime | None) -> datetime | None:
    return timezone.localtime(moment) if moment else None


def form_out(d: services.Duty, user) -> dict:
    labels = services.category_labels(d.campaign)
    form, scan = d.form, d.scan
    return {
        "campaign_id": d.campaign.pk, "unit_id": d.unit.pk, "unit_name": d.unit.name, "level": d.level.kind,
        "level_name": d.level.name, "status": d.status, "status_label": d.status_label, "filed": d.filed,
        "filed_at": _local(d.filed_at), "filed_by": form.filed_by.display_name if form and form.filed_by else "",
        "updated_at": _local(d.updated_at), "updated_by": form.updated_by.display_name if form and form.updated_by else "",
        "deadline": _local(d.deadline), "seconds_left": d.seconds_left, "time_left_text": d.time_left_text, "open": d.open,
        "can_edit": d.open and user.has_perm("contacts.fill_form", d.unit), "missing": d.missing,
        "scan": {"id": str(scan.pk), "name": scan.original_name, "size": scan.size, "kind": scan.kind,
                 "kind_label": scan.get_kind_display(),
                 "url": reverse("contacts:scan", args=[d.campaign.pk, d.unit.pk])} if scan else None,
        "people": [{"name": p.name, "position": p.position, "mobile": p.mobile, "categories": p.categories,
                    "category_labels": [labels.get(c, c) for c in p.categories], "remark": p.remark}
                   for p in d.people],
    }


def _unit(request, campaign_id: int, unit_id: int):
    campaign = campaign_services.get_campaign(request.user, campaign_id)
    return campaign, services.get_unit(request.user, campaign, unit_id)


def _out(request, campaign, unit) -> dict:
    return form_out(services.duty(campaign, unit), request.user)


UNIT = "/campaigns/{campaign_id}/units/{unit_id}"


@router.get("/campaigns/{campaign_id}/mine", response={200: list[FormOut], **ERRORS},
            summary="我要填写的工作联系表：本人管理的、直接向主办单位报送的单位（各县（市、区）、直属学校；省级活动中的各市）")
def mine(request, campaign_id: int):
    campaign = campaign_services.get_campaign(request.user, campaign_id)
    return [form_out(d, request.user) for d in services.duties(campaign, services.my_units(request.user, campaign))]


@router.get(UNIT + "/form", response={200: FormOut, **ERRORS},
            summary="单位的工作联系表：联系人（姓名、职务、手机、负责类别、备注）、盖章扫描件、状态、截止时间")
def get_form(request, campaign_id: int, unit_id: int):
    campaign, unit = _unit(request, campaign_id, unit_id)
    return _out(request, campaign, unit)


@router.put(UNIT + "/form", response={200: FormOut, **ERRORS},
            summary="保存联系人（整表替换；截止前可改，已提交的表至少保留一位联系人）",
            description="categories 为本活动的类别代码（subject、special、experiment）或名称；手机须为 11 位手机号码"
                        "（可带 +86、空格或短横线，保存为 11 位数字）。任何一行有问题时整表不保存，errors 逐条列出行号和字段。")
def put_form(request, campaign_id: int, unit_id: int, payload: FormIn):
    campaign, unit = _unit(request, campaign_id, unit_id)
    services.save_people(request.user, campaign, unit, [p.dict() for p in payload.people])
    return _out(request, campaign, unit)


@router.post(UNIT + "/scan", response={200: FormOut, **ERRORS},
             summary="上传加盖公章的扫描件（multipart 字段 scan；PDF、JPG 或 PNG，按内容判断，不超过 20 MB）")
def upload_scan(request, campaign_id: int, unit_id: int, scan: UploadedFile = File(...)):
    campaign, unit = _unit(request, campaign_id, unit_id)
    services.upload_scan(request.user, campaign, unit, scan)
    return _out(request, campaign, unit)


@router.put(UNIT + "/scan", response={200: FormOut, **ERRORS},
            summary="用已上传的文件作为扫描件（file_id：通过 /api/v1/uploads/ 断点续传上传完成的本人文件）")
def attach_scan(request, campaign_id: int, unit_id: int, payload: AttachIn):
    campaign, unit = _unit(request, campaign_id, unit_id)
    services.attach_scan(request.user, campaign, unit, payload.file_id)
    return _out(request, campaign, unit)


SCAN_RESPONSE = {200: {"description": "扫描件（application/pdf、image/jpeg 或 image/png），支持 Range",
                         "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}


@router.get(UNIT + "/scan", response={200: None, **ERRORS}, openapi_extra={"responses": SCAN_RESPONSE},
            summary="下载盖章扫描件（本单位及上级单位管理员；没有公开链接）")
def get_scan(request, campaign_id: int, unit_id: int):
    campaign, unit = _unit(request, campaign_id, unit_id)
    return services.scan_response(request, request.user, campaign, unit)


@router.post(UNIT + "/file", response={200: FormOut, **ERRORS},
             summary="提交工作联系表（须至少一位联系人和盖章扫描件，截止时间前）")
def file_form(request, campaign_id: int, unit_id: int):
    campaign, unit = _unit(request, campaign_id, unit_id)
    services.file_form(request.user, campaign, unit)
    return _out(request, campaign, unit)


@router.post(UNIT + "/reopen", response={200: FormOut, **ERRORS},
             summary="截止后为报送单位重新开放工作联系表（上级，须写明理由并设定新的截止时间；不改动推荐截止时间）")
def reopen(request, campaign_id: int, unit_id: int, payload: ReopenIn):
    campaign, unit = _unit(request, campaign_id, unit_id)
    services.reopen(request.user, campaign, unit, payload.deadline, payload.reason)
    return _out(request, campaign, unit)


@router.get("/campaigns/{campaign_id}/status", response={200: StatusOut, **ERRORS},
            summary="各报送单位的工作联系表情况（主办单位管理员）：已提交 / 已填写未提交 / 未填写、联系人、扫描件、最后修改")
def status(request, campaign_id: int):
    campaign = campaign_services.get_campaign(request.user, campaign_id)
    rows = services.board(request.user, campaign)
    return {"campaign_id": campaign.pk, "unit_id": campaign.owner.pk, "unit_name": campaign.owner.name,
            "filed_count": sum(1 for d in rows if d.filed), "total": len(rows),
            "units": [form_out(d, request.user) for d in rows]}


XLSX_RESPONSE = {200: {"description": "Excel（.xlsx）：工作表“工作联系表”每位联系人一行，工作表“未提交单位”列出尚未提交的单位",
                         "content": {exports.XLSX: {"schema": {"type": "string", "format": "binary"}}}}}


@router.get("/campaigns/{campaign_id}/export.xlsx", response={200: None, **ERRORS},
            openapi_extra={"responses": XLSX_RESPONSE},
            summary="导出全部工作联系表（Excel：单位名称、姓名、职务、手机、负责类别、备注、提交时间；另附未提交单位）")
def export(request, campaign_id: int):
    campaign = campaign_services.get_campaign(request.user, campaign_id)
    return exports.download(request.user, campaign)

