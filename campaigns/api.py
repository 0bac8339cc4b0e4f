"""Campaigns as data: list, detail with the whole configuration, each part's update, unit
deadlines and quotas, template export/import, shipped templates, notices. Thin: every
endpoint calls campaigns.services, the same functions the pages use.

Scope: a campaign you are not concerned with answers 404; a part only the owner's admins
may change answers 403. Deadlines are ISO 8601; a date alone ("2024-09-20") means 23:59:59
Beijing time of that day.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from django.http import HttpResponse
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from pydantic import Field

from campaigns import rules, services
from campaigns.models import Campaign, DeadlineOverride, NoticeDocument, Quota
from jingpinke.paging import paginate
from jingpinke.paging_api import CURSOR_HELP, ListPageOut, page_out
from media.rules import CHECK_RULES

router = Router(tags=["遴选活动"])


# --- schemas ---------------------------------------------------------------------------------------
class ErrorOut(Schema):
    detail: str
    errors: list = []


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class CampaignOut(Schema):
    id: int
    year: int
    title: str
    status: str
    status_label: str
    owner_id: int
    owner_code: str
    owner_name: str
    can_change: bool

    @staticmethod
    def build(c: Campaign, user) -> dict:
        return {"id": c.pk, "year": c.year, "title": c.title, "status": c.status,
                "status_label": str(c.get_status_display()), "owner_id": c.owner_id, "owner_code": c.owner.code,
                "owner_name": c.owner.name, "can_change": services.can_change(user, c)}


class CampaignPage(ListPageOut):
    items: list[CampaignOut]


class SlotSchema(Schema):
    kind: str
    label: str = ""
    required: bool = True
    formats: list[str]
    max_size_mb: int = 50
    order: int | None = None


class SpecSchema(Schema):
    stage: str = ""
    container: str = "mp4"
    video_codec: str = "h264"
    width: int = 1920
    height: int = 1080
    fps: float = 25
    video_bitrate_kbps: int = 8000
    audio_codec: str = "aac"
    audio_bitrate_kbps: int = 128
    min_duration_s: int = 600
    max_duration_s: int = 900
    max_size_mb: int = 1024
    title_card_seconds: int = 5
    severities: dict[str, str] = Field(
        default_factory=dict,
        description="每个检测项的严重程度：fail（不通过，阻止提交）、warn（提醒）、off（不检查）。检测项："
                    + "、".join(f"{rule}（{label}，默认 {default}）" for rule, (label, default) in CHECK_RULES.items())
                    + "。未给出的检测项取默认值。")


class CategoryIn(Schema):
    category: str
    max_periods: int = 3
    default_periods: int = 1
    max_team_members: int = 4
    note: str = ""


class CategoryOut(CategoryIn):
    label: str
    slots: list[SlotSchema]
    specs: list[SpecSchema]


class LevelIn(Schema):
    kind: str
    name: str
    award_name: str = ""
    publicity_days: int | None = None  # 公示天数 (1–30); absent: kept (new levels: 5)
    deadline: str | None = None
    confirm_deadline: str | None = None
    contact_form_deadline: str | None = None


class LevelOut(Schema):
    kind: str
    name: str
    award_name: str
    publicity_days: int
    deadline: datetime | None
    confirm_deadline: datetime | None
    contact_form_deadline: datetime | None


class QuotaIn(Schema):
    level: str
    school_owner_kind: str = ""
    category: str
    subject: str = ""
    per_subject: bool = False
    limit: int


class QuotaOut(QuotaIn):
    id: int
    unit_id: int | None = None
    unit_code: str = ""
    unit_name: str = ""

    @staticmethod
    def build(q: Quota) -> dict:
        return {**services.quota_row(q), "id": q.pk, "unit_id": q.unit_id,
                "unit_code": q.unit.code if q.unit_id else "", "unit_name": q.unit.name if q.unit_id else ""}


class ShareCap(Schema):
    level: str
    category: str
    subjects: list[str]
    max_percent: int
    applies_to: str = "recommendations"


class TargetShare(Schema):
    level: str
    category: str
    subjects: list[str]
    min_percent: int | None = None
    note: str = ""


class RulesIn(Schema):
    node_rule: str
    new_textbook_grades: list[str] = []
    share_caps: list[ShareCap] = []
    target_shares: list[TargetShare] = []
    public_resource_kinds: list[str] | None = Field(
        None, description="活动结束后精品课展示公开的资源类型，如 [\"video\", \"lesson_plan\"]；不传则不变")


class ContactSchema(Schema):
    category: str = ""
    unit_name: str
    name: str
    phone: str
    email: str = ""


class NoticeOut(Schema):
    id: int
    title: str
    issuer: str
    doc_number: str
    published_on: date | None
    body: str
    has_file: bool
    file_name: str
    download_url: str | None

    @staticmethod
    def build(n: NoticeDocument) -> dict:
        return {"id": n.pk, "title": n.title, "issuer": n.issuer, "doc_number": n.doc_number,
                "published_on": n.published_on, "body": n.body, "has_file": bool(n.file),
                "file_name": n.original_name,
                "download_url": f"/api/v1/campaigns/{n.campaign_id}/notices/{n.pk}/file" if n.file else None}


class CampaignDetailOut(CampaignOut):
    description: str
    node_rule: str
    new_textbook_grades: list[str]
    share_caps: list[ShareCap]
    target_shares: list[TargetShare]
    public_resource_kinds: list[str]
    categories: list[CategoryOut]
    levels: list[LevelOut]
    quotas: list[QuotaOut]
    contacts: list[ContactSchema]
    notices: list[NoticeOut]


class CampaignCreateIn(Schema):
    owner_id: int
    year: int
    title: str
    description: str = ""


class CampaignPatch(Schema):
    year: int | None = None
    title: str | None = None
    description: str | None = None
    status: str | None = None


class EffectiveDeadlineOut(Schema):
    level: str
    level_name: str
    deadline: datetime | None
    confirm_deadline: datetime | None
    contact_form_deadline: datetime | None
    deadline_source: str
    confirm_source: str
    contact_form_source: str
    deadline_source_unit_id: int | None
    confirm_source_unit_id: int | None
    contact_form_source_unit_id: int | None


class OverrideIn(Schema):
    level: str
    unit_id: int
    deadline: str | None = None
    confirm_deadline: str | None = None
    contact_form_deadline: str | None = None
    reason: str = ""


class OverrideOut(Schema):
    id: int
    level: str
    unit_id: int
    unit_code: str
    unit_name: str
    deadline: datetime | None
    confirm_deadline: datetime | None
    contact_form_deadline: datetime | None
    reason: str

    @staticmethod
    def build(o: DeadlineOverride) -> dict:
        return {"id": o.pk, "level": o.level.kind, "unit_id": o.unit_id, "unit_code": o.unit.code,
                "unit_name": o.unit.name, **{name: _local(getattr(o, name)) for name in rules.DEADLINE_FIELDS},
                "reason": o.reason}


class QuotaOverrideIn(Schema):
    level: str
    unit_id: int
    category: str
    subject: str = ""
    per_subject: bool = False
    limit: int


class QuotasOut(Schema):
    defaults: list[QuotaOut]
    overrides: list[QuotaOut]


class EffectiveQuotaOut(Schema):
    unit_id: int
    category: str
    subject: str
    limited: bool
    limit: int | None
    per_subject: bool
    source: str
    quota: QuotaOut | None
    applies: list[QuotaOut] = []  # every row a pick must satisfy: its subject's row and its category's total


class TemplateOut(Schema):
    key: str
    title: str
    year: int
    owner_kind: str
    description: str


class FromTemplateIn(Schema):
    template: str
    owner_id: int
    year_offset: int = 0
    title: str = ""


class ImportIn(Schema):
    owner_id: int
    year_offset: int = 0
    title: str = ""


class NoticeIn(Schema):
    title: str
    issuer: str = ""
    doc_number: str = ""
    published_on: date | None = None
    body: str = ""


class NoticePatchIn(NoticeIn):
    remove_file: bool = False


class OkOut(Schema):
    ok: bool = True


# --- helpers ---------------------------------------------------------------------------------------------
def _detail(campaign: Campaign, user) -> dict:
    c = services.detail(campaign)
    return {
        **CampaignOut.build(c, user),
        "description": c.description, "node_rule": c.node_rule, "new_textbook_grades": c.new_textbook_grades,
        "share_caps": c.share_caps, "target_shares": c.target_shares,
        "public_resource_kinds": c.public_resource_kinds,
        "categories": [{**{f: getattr(cc, f) for f in services.CATEGORY_FIELDS},
                        "label": str(cc.get_category_display()),
                        "slots": [{f: getattr(s, f) for f in services.SLOT_FIELDS} for s in cc.slots.all()],
                        "specs": [services.spec_row(s) for s in cc.specs.all()]} for cc in c.categories.all()],
        "levels": [_level(lv) for lv in sorted(c.levels.all(), key=lambda lv: rules.level_rank(lv.kind))],
        "quotas": [QuotaOut.build(q) for q in services.default_quotas(c)],
        "contacts": [{f: getattr(ct, f) for f in services.CONTACT_FIELDS} for ct in c.contacts.all()],
        "notices": [NoticeOut.build(n) for n in c.notices.all()],
    }


def _local(value):
    """Deadlines go out in Beijing time (+08:00), whatever the database returned."""
    return value.astimezone(rules.TZ) if value else None


def _level(lv) -> dict:
    return {"kind": lv.kind, "name": lv.name, "award_name": lv.award_name, "publicity_days": lv.publicity_days,
            **{name: _local(getattr(lv, name)) for name in rules.DEADLINE_FIELDS}}


def _dump(items) -> list[dict]:
    return [i.model_dump() for i in items]


# --- campaigns --------------------------------------------------------------------------------------------
@router.get("", response={200: CampaignPage, **ERRORS}, summary="我能看到的遴选活动（分页）",
            description="与我相关的活动：主办单位是我的单位或其上级，或在我管理的单位之下；筹备中的活动只有主办单位及其上级的管理员可见。")
def list_campaigns(request, page: int = 1, cursor: str = Query("", description=CURSOR_HELP)):
    qs = services.campaigns_for(request.user).select_related("owner").order_by("-year", "title")
    p = paginate(qs, services.PAGE_SIZE, page, cursor)
    return page_out(p, [CampaignOut.build(c, request.user) for c in p.object_list])


@router.post("", response={201: CampaignDetailOut, **ERRORS}, summary="新建空白活动（筹备中）")
def create_campaign(request, payload: CampaignCreateIn):
    owner = services.get_owner(request.user, payload.owner_id)
    c = services.create_campaign(request.user, owner, year=payload.year, title=payload.title,
                                 description=payload.description)
    return 201, _detail(c, request.user)


@router.get("/templates", response=list[TemplateOut], summary="内置活动模板（依据真实通知填写）")
def list_templates(request):
    return [t.__dict__ for t in services.shipped_templates()]


@router.post("/from-template", response={201: CampaignDetailOut, **ERRORS}, summary="用内置模板创建活动（筹备中）")
def from_template(request, payload: FromTemplateIn):
    owner = services.get_owner(request.user, payload.owner_id)
    c = services.create_from_shipped(request.user, payload.template, owner, year_offset=payload.year_offset,
                                     title=payload.title)
    return 201, _detail(c, request.user)


@router.post("/import", response={201: CampaignDetailOut, **ERRORS}, summary="导入活动模板文件，创建新活动（筹备中）",
             description="multipart：file 为导出的 JSON 模板；owner_id 为主办单位；year_offset 把年度和所有截止日期顺延若干年。"
                         "文件不是有效模板时整体拒绝，errors 列出每一处问题（row=位置，column=字段）。")
def import_template(request, data: Form[ImportIn], file: File[UploadedFile]):
    owner = services.get_owner(request.user, data.owner_id)
    doc = services.read_template_file(file)
    c = services.import_template(request.user, doc, owner, year_offset=data.year_offset, title=data.title)
    return 201, _detail(c, request.user)


@router.get("/{int:campaign_id}", response={200: CampaignDetailOut, **ERRORS}, summary="活动详情（含全部设置）")
def get_campaign(request, campaign_id: int):
    return _detail(services.get_campaign(request.user, campaign_id), request.user)


@router.patch("/{int:campaign_id}", response={200: CampaignDetailOut, **ERRORS}, summary="修改基本信息与状态（主办单位）")
def patch_campaign(request, campaign_id: int, payload: CampaignPatch):
    c = services.get_campaign(request.user, campaign_id)
    data = {"year": c.year, "title": c.title, "description": c.description, "status": c.status}
    data.update(payload.model_dump(exclude_unset=True, exclude_none=True))
    services.update_campaign(request.user, c, **data)
    return _detail(c, request.user)


@router.get("/{int:campaign_id}/export", response={200: dict, **ERRORS}, summary="导出为活动模板（JSON，主办单位）",
            description="除 id 和主办单位外的全部设置；单位以单位代码表示。可用 /import 导入为新活动。")
def export_campaign(request, campaign_id: int):
    c = services.get_campaign(request.user, campaign_id)
    doc = services.export_template(request.user, c)
    return HttpResponse(json.dumps(doc, ensure_ascii=False), content_type="application/json; charset=utf-8")


@router.put("/{int:campaign_id}/categories", response={200: list[CategoryOut], **ERRORS},
            summary="设置类别（整体替换；新类别带标准资源包）")
def put_categories(request, campaign_id: int, payload: list[CategoryIn]):
    c = services.get_campaign(request.user, campaign_id)
    services.set_categories(request.user, c, _dump(payload))
    return _detail(c, request.user)["categories"]


@router.put("/{int:campaign_id}/categories/{category}/slots", response={200: list[SlotSchema], **ERRORS},
            summary="设置某类别的资源包（每课时，整体替换）")
def put_slots(request, campaign_id: int, category: str, payload: list[SlotSchema]):
    c = services.get_campaign(request.user, campaign_id)
    slots = services.set_slots(request.user, c, category, _dump(payload))
    return [{f: getattr(s, f) for f in services.SLOT_FIELDS} for s in slots]


@router.put("/{int:campaign_id}/categories/{category}/specs", response={200: list[SpecSchema], **ERRORS},
            summary="设置某类别的视频制作规范（每学段一条，整体替换）")
def put_specs(request, campaign_id: int, category: str, payload: list[SpecSchema]):
    c = services.get_campaign(request.user, campaign_id)
    return [services.spec_row(s) for s in services.set_specs(request.user, c, category, _dump(payload))]


@router.put("/{int:campaign_id}/levels", response={200: list[LevelOut], **ERRORS},
            summary="设置层级与默认截止时间（整体替换）",
            description="截止时间为 ISO 8601；只写日期（2024-09-20）表示当天 23:59:59（北京时间）。")
def put_levels(request, campaign_id: int, payload: list[LevelIn]):
    c = services.get_campaign(request.user, campaign_id)
    levels = services.set_levels(request.user, c, _dump(payload))
    return [_level(lv) for lv in levels]


@router.get("/{int:campaign_id}/deadlines", response={200: list[EffectiveDeadlineOut], **ERRORS},
            summary="某单位的实际截止时间及来源（本单位设置 / 继承自… / 活动默认）")
def effective_deadlines(request, campaign_id: int, unit_id: int | None = None):
    c = services.get_campaign(request.user, campaign_id)
    if unit_id is None:
        unit = request.user.primary_role()[1]
    else:
        unit = services.get_scope_unit(request.user, c, pk=unit_id)
    rows = services.deadlines_for(c, unit)
    return [{"level": d.level.kind, "level_name": d.level.name, "deadline": _local(d.deadline),
             "confirm_deadline": _local(d.confirm_deadline), "contact_form_deadline": _local(d.contact_form_deadline),
             "deadline_source": d.deadline_label, "confirm_source": d.confirm_label,
             "contact_form_source": d.contact_form_label,
             "deadline_source_unit_id": d.deadline_source.pk if d.deadline_source else None,
             "confirm_source_unit_id": d.confirm_source.pk if d.confirm_source else None,
             "contact_form_source_unit_id": d.contact_form_source.pk if d.contact_form_source else None}
            for d in rows]


@router.get("/{int:campaign_id}/deadline-overrides", response={200: list[OverrideOut], **ERRORS},
            summary="我管理范围内的单位截止时间")
def list_overrides(request, campaign_id: int):
    c = services.get_campaign(request.user, campaign_id)
    return [OverrideOut.build(o) for o in services.deadline_overrides_for(request.user, c)]


@router.put("/{int:campaign_id}/deadline-overrides", response={200: OverrideOut, **ERRORS},
            summary="设置某单位在某层级的截止时间（上级单位为下级设置）")
def put_override(request, campaign_id: int, payload: OverrideIn):
    c = services.get_campaign(request.user, campaign_id)
    unit = services.get_scope_unit(request.user, c, pk=payload.unit_id)
    o = services.set_deadline_override(request.user, c, level_kind=payload.level, unit=unit,
                                       deadline=payload.deadline, confirm_deadline=payload.confirm_deadline,
                                       contact_form_deadline=payload.contact_form_deadline, reason=payload.reason)
    return OverrideOut.build(o)


@router.delete("/{int:campaign_id}/deadline-overrides/{int:override_id}", response={200: OkOut, **ERRORS},
               summary="删除单位截止时间（恢复继承）")
def delete_override(request, campaign_id: int, override_id: int):
    c = services.get_campaign(request.user, campaign_id)
    services.delete_deadline_override(request.user, c, override_id)
    return {"ok": True}


@router.get("/{int:campaign_id}/quotas", response={200: QuotasOut, **ERRORS},
            summary="名额：层级默认与我管理范围内的单位名额")
def list_quotas(request, campaign_id: int):
    c = services.get_campaign(request.user, campaign_id)
    return {"defaults": [QuotaOut.build(q) for q in services.default_quotas(c)],
            "overrides": [QuotaOut.build(q) for q in services.quota_overrides_for(request.user, c)]}


@router.put("/{int:campaign_id}/quotas/defaults", response={200: list[QuotaOut], **ERRORS},
            summary="设置层级默认名额（整体替换，主办单位）")
def put_default_quotas(request, campaign_id: int, payload: list[QuotaIn]):
    c = services.get_campaign(request.user, campaign_id)
    return [QuotaOut.build(q) for q in services.set_default_quotas(request.user, c, _dump(payload))]


@router.put("/{int:campaign_id}/quotas/overrides", response={200: QuotaOut, **ERRORS},
            summary="设置某推荐单位的名额（覆盖层级默认）")
def put_quota_override(request, campaign_id: int, payload: QuotaOverrideIn):
    c = services.get_campaign(request.user, campaign_id)
    unit = services.get_scope_unit(request.user, c, pk=payload.unit_id)
    q = services.set_quota_override(request.user, c, level_kind=payload.level, unit=unit, category=payload.category,
                                    subject=payload.subject, per_subject=payload.per_subject, limit=payload.limit)
    return QuotaOut.build(q)


@router.delete("/{int:campaign_id}/quotas/overrides/{int:quota_id}", response={200: OkOut, **ERRORS},
               summary="删除单位名额（恢复层级默认）")
def delete_quota_override(request, campaign_id: int, quota_id: int):
    c = services.get_campaign(request.user, campaign_id)
    services.delete_quota_override(request.user, c, quota_id)
    return {"ok": True}


@router.get("/{int:campaign_id}/quota", response={200: EffectiveQuotaOut, **ERRORS},
            summary="某单位某类别（某学科）的实际名额",
            description="subject 为空时返回类别合计的名额；limited=false 表示不限。"
                        "applies：须同时满足的全部名额（该学科的名额，以及它所在类别的合计名额）。")
def effective_quota(request, campaign_id: int, unit_id: int, category: str, subject: str = ""):
    c = services.get_campaign(request.user, campaign_id)
    unit = services.get_scope_unit(request.user, c, pk=unit_id)
    q = services.quota_for(c, unit, category, subject)
    return {"unit_id": unit.pk, "category": category, "subject": subject, "limited": q is not None,
            "limit": q.limit if q else None, "per_subject": bool(q and q.per_subject),
            "source": ("unit" if q.unit_id else "default") if q else "none",
            "quota": QuotaOut.build(q) if q else None,
            "applies": [QuotaOut.build(row) for row in services.quotas_for(c, unit, category, subject)]}


@router.put("/{int:campaign_id}/rules", response={200: CampaignDetailOut, **ERRORS},
            summary="规则设置：同一目录节点规则、新教材起始年级、学科占比上限与目标（主办单位）")
def put_rules(request, campaign_id: int, payload: RulesIn):
    c = services.get_campaign(request.user, campaign_id)
    services.update_rules(request.user, c, payload.model_dump())
    return _detail(c, request.user)


@router.put("/{int:campaign_id}/contacts", response={200: list[ContactSchema], **ERRORS},
            summary="设置联系人（整体替换，主办单位）")
def put_contacts(request, campaign_id: int, payload: list[ContactSchema]):
    c = services.get_campaign(request.user, campaign_id)
    return [{f: getattr(ct, f) for f in services.CONTACT_FIELDS}
            for ct in services.set_contacts(request.user, c, _dump(payload))]


@router.get("/{int:campaign_id}/notices", response={200: list[NoticeOut], **ERRORS}, summary="通知文件")
def list_notices(request, campaign_id: int):
    c = services.get_campaign(request.user, campaign_id)
    return [NoticeOut.build(n) for n in c.notices.all()]


@router.post("/{int:campaign_id}/notices", response={201: NoticeOut, **ERRORS},
             summary="添加通知文件（multipart，附件可选，主办单位）")
def add_notice(request, campaign_id: int, data: Form[NoticeIn], file: File[UploadedFile] = None):
    c = services.get_campaign(request.user, campaign_id)
    return 201, NoticeOut.build(services.add_notice(request.user, c, data.model_dump(), file))


@router.post("/{int:campaign_id}/notices/{int:notice_id}", response={200: NoticeOut, **ERRORS},
             summary="修改通知文件（multipart，可替换或删除附件，主办单位）")
def update_notice(request, campaign_id: int, notice_id: int, data: Form[NoticePatchIn],
                  file: File[UploadedFile] = None):
    c = services.get_campaign(request.user, campaign_id)
    notice = services.get_notice(request.user, c, notice_id)
    fields = data.model_dump()
    remove = fields.pop("remove_file")
    return NoticeOut.build(services.update_notice(request.user, c, notice, fields, file, remove_file=remove))


@router.delete("/{int:campaign_id}/notices/{int:notice_id}", response={200: OkOut, **ERRORS},
               summary="删除通知文件（主办单位）")
def delete_notice(request, campaign_id: int, notice_id: int):
    c = services.get_campaign(request.user, campaign_id)
    services.delete_notice(request.user, c, services.get_notice(request.user, c, notice_id))
    return {"ok": True}


@router.get("/{int:campaign_id}/notices/{int:notice_id}/file", response=ERRORS, summary="下载通知附件（检查权限）")
def notice_file(request, campaign_id: int, notice_id: int):
    c = services.get_campaign(request.user, campaign_id)
    notice = services.get_notice(request.user, c, notice_id)
    return services.notice_response(request.user, c, notice)

