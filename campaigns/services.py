"""Use cases for campaigns. One function per action: permission-checked, transactional,
audited. Pages and the API both call these; other apps call the query functions
(``campaigns_for``, ``deadlines_for``, ``quota_for``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from audit.services import record
from campaigns import rules
from campaigns.enums import LEVEL_LABELS, CampaignStatus, Category, ResourceKind
from campaigns.models import (
    Campaign,
    CampaignCategory,
    Contact,
    DeadlineOverride,
    Level,
    NoticeDocument,
    ProductionSpec,
    Quota,
    ResourceSlot,
)
from campaigns.permissions import OWNER_KINDS, UnitSetting
from jingpinke.errors import ServiceError
from media.rules import severities_with_defaults
from orgs.models import Unit

PAGE_SIZE = 30
TEMPLATES_DIR = Path(__file__).resolve().parent / "campaign_templates"
MAX_TEMPLATE_BYTES = 5 * 1024 * 1024
NOTICE_EXTENSIONS = {"pdf", "doc", "docx", "ofd", "wps", "xls", "xlsx", "zip", "jpg", "jpeg", "png"}
MAX_NOTICE_MB = 50


# --- permission helpers ------------------------------------------------------------------------
def require(actor, perm: str, obj=None, message: str | None = None) -> None:
    if not actor.has_perm(perm, obj):
        raise PermissionDenied(message or _("您没有权限执行此操作。"))


def require_owner(actor, campaign: Campaign) -> None:
    require(actor, "campaigns.change_campaign", campaign,
            _("只有主办单位（%(owner)s）及其上级的管理员可以修改本活动的设置。") % {"owner": campaign.owner.name})


def can_change(actor, campaign: Campaign) -> bool:
    return actor.has_perm("campaigns.change_campaign", campaign)


# --- queries (every list, detail and endpoint starts here) ------------------------------------
def campaigns_for(user) -> QuerySet[Campaign]:
    """Campaigns that concern the user: the owner is one of his units or above one, or lies
    within a unit he administers (drafts: only those). System admins: all."""
    if not (user and user.is_authenticated):
        return Campaign.objects.none()
    if user.is_superuser:
        return Campaign.objects.all()
    ancestor_ids = {pk for m in user.memberships_cached() for pk in m.unit.ancestor_ids}
    q = Q(owner_id__in=ancestor_ids) & ~Q(status=CampaignStatus.DRAFT)
    for unit in user.admin_units():
        q |= Q(owner__path__startswith=unit.path)
    if not ancestor_ids:
        return Campaign.objects.none()
    return Campaign.objects.filter(q)


def get_campaign(actor, pk) -> Campaign:
    """A campaign that concerns the actor, else 404."""
    campaign = campaigns_for(actor).select_related("owner").filter(pk=pk).first()
    if campaign is None:
        raise Http404(_("未找到该遴选活动，或您无权查看。"))
    return campaign


def get_campaign_for_change(actor, pk) -> Campaign:
    campaign = get_campaign(actor, pk)
    require_owner(actor, campaign)
    return campaign


def owner_choices(actor) -> QuerySet[Unit]:
    """Units the actor may create a campaign for: provinces and cities he administers."""
    qs = Unit.objects.visible_to(actor).filter(kind__in=OWNER_KINDS, is_active=True)
    return qs.order_by("path")


def get_owner(actor, pk) -> Unit:
    unit = owner_choices(actor).filter(pk=pk).first()
    if unit is None:
        raise Http404(_("未找到该主办单位，或它不在您管理的范围内（主办单位须为省或市）。"))
    return unit


def scope_units(actor, campaign: Campaign) -> QuerySet[Unit]:
    """Units of the campaign the actor may see (for per-unit settings)."""
    return Unit.objects.visible_to(actor).subtree(campaign.owner).filter(is_active=True)


def get_scope_unit(actor, campaign: Campaign, pk=None, code: str | None = None) -> Unit:
    qs = scope_units(actor, campaign).select_related("parent")
    unit = qs.filter(pk=pk).first() if pk is not None else qs.filter(code=code).first()
    if unit is None:
        raise Http404(_("未找到该单位，或它不在您管理的范围内。"))
    return unit


def settable_units(actor, campaign: Campaign) -> list[Unit]:
    """Units the actor may set a deadline or quota for at some level (for choice lists)."""
    units = list(scope_units(actor, campaign).order_by("path"))
    kinds = campaign_level_kinds(campaign)
    return [u for u in units if any(actor.has_perm("campaigns.set_unit_setting", UnitSetting(campaign, k, u))
                                    for k in kinds)]


def campaign_level_kinds(campaign: Campaign) -> list[str]:
    cache = getattr(campaign, "_level_kinds", None)
    if cache is None:
        cache = sorted(campaign.levels.values_list("kind", flat=True), key=rules.level_rank)
        campaign._level_kinds = cache
    return cache


def get_level(campaign: Campaign, kind: str) -> Level:
    level = campaign.levels.filter(kind=kind).first()
    if level is None:
        raise ServiceError(_("本活动没有“%(k)s”层级，请先在“层级与截止时间”中添加。") % {
            "k": LEVEL_LABELS.get(kind, kind)})
    return level


def get_category(actor, campaign: Campaign, category: str) -> CampaignCategory:
    cc = campaign.categories.filter(category=category).first()
    if cc is None:
        raise Http404(_("本活动没有这个类别。"))
    return cc


# --- snapshots for the audit log ---------------------------------------------------------------
def campaign_snapshot(c: Campaign) -> dict:
    return {"year": c.year, "title": c.title, "owner": c.owner.code, "status": c.status,
            "description": c.description}


def rules_snapshot(c: Campaign) -> dict:
    return {"node_rule": c.node_rule, "new_textbook_grades": c.new_textbook_grades,
            "share_caps": c.share_caps, "target_shares": c.target_shares,
            "public_resource_kinds": c.public_resource_kinds}


def _value(value):
    """Datetimes in audit snapshots: ISO 8601 in Beijing time, whatever the database returned."""
    return value.astimezone(rules.TZ).isoformat() if isinstance(value, datetime) else value


def _rows(qs, fields) -> list[dict]:
    return [{f: _value(getattr(obj, f)) for f in fields} for obj in qs]


CATEGORY_FIELDS = ("category", "max_periods", "default_periods", "max_team_members", "note")
SLOT_FIELDS = ("kind", "label", "required", "formats", "max_size_mb", "order")
SPEC_FIELDS = ("stage", "container", "video_codec", "width", "height", "fps", "video_bitrate_kbps", "audio_codec",
               "audio_bitrate_kbps", "min_duration_s", "max_duration_s", "max_size_mb", "title_card_seconds",
               "severities")
LEVEL_FIELDS = ("kind", "name", "award_name", "publicity_days", "deadline", "confirm_deadline", "contact_form_deadline",
                "required_resources")
CONTACT_FIELDS = ("category", "unit_name", "name", "phone", "email")
QUOTA_FIELDS = ("school_owner_kind", "category", "subject", "per_subject", "limit")
NOTICE_FIELDS = ("title", "issuer", "doc_number", "published_on", "body")


def spec_row(spec: ProductionSpec) -> dict:
    row = {f: getattr(spec, f) for f in SPEC_FIELDS}
    row["fps"] = float(spec.fps)
    row["severities"] = severities_with_defaults(spec.severities)
    return row


def quota_row(q: Quota) -> dict:
    row = {f: getattr(q, f) for f in QUOTA_FIELDS}
    row["level"] = q.level.kind
    row["unit"] = q.unit.code if q.unit_id else ""
    return row


def _refuse(problems: rules.Problems, message: str | None = None) -> None:
    if problems:
        first = problems[0]
        raise ServiceError(message or _("输入有误，请修改后再保存：%(where)s %(col)s %(msg)s") % {
            "where": first["row"], "col": first["column"], "msg": first["message"]}, errors=list(problems))


# --- campaigns -----------------------------------------------------------------------------------
@transaction.atomic
def create_campaign(actor, owner: Unit, *, year, title, description: str = "") -> Campaign:
    require(actor, "campaigns.create_campaign", None, _("只有省、市教育局或系统管理员可以创建遴选活动。"))
    if not actor.administers(owner) or owner.kind not in OWNER_KINDS:
        raise PermissionDenied(_("您只能为自己管理的省或市创建遴选活动。"))
    problems = rules.Problems()
    data = rules.clean_basics({"year": year, "title": title, "description": description}, problems)
    _refuse(problems)
    _unique_title(owner, data["year"], data["title"])
    campaign = Campaign.objects.create(owner=owner, year=data["year"], title=data["title"],
                                       description=data["description"], status=CampaignStatus.DRAFT)
    record(actor, "campaigns.campaign.create", campaign, after=campaign_snapshot(campaign), unit=owner)
    return campaign


def _unique_title(owner: Unit, year: int, title: str, exclude_pk=None) -> None:
    qs = Campaign.objects.filter(owner=owner, year=year, title=title)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise ServiceError(_("%(owner)s在 %(year)s 年已有名为“%(title)s”的活动，请换一个名称。") % {
            "owner": owner.name, "year": year, "title": title})


@transaction.atomic
def update_campaign(actor, campaign: Campaign, *, year, title, description="", status=None) -> Campaign:
    require_owner(actor, campaign)
    problems = rules.Problems()
    data = rules.clean_basics({"year": year, "title": title, "description": description,
                               "status": status or campaign.status}, problems)
    _refuse(problems)
    _unique_title(campaign.owner, data["year"], data["title"], exclude_pk=campaign.pk)
    if data["status"] == CampaignStatus.OPEN and campaign.status != CampaignStatus.OPEN:
        _check_ready_to_open(campaign)
    before = campaign_snapshot(campaign)
    for key, value in data.items():
        setattr(campaign, key, value)
    campaign.save()
    record(actor, "campaigns.campaign.update", campaign, before=before, after=campaign_snapshot(campaign),
           unit=campaign.owner)
    return campaign


def _check_ready_to_open(campaign: Campaign) -> None:
    missing = []
    if not campaign.categories.exists():
        missing.append(_("类别"))
    if not campaign.levels.exists():
        missing.append(_("层级"))
    if missing:
        raise ServiceError(_("活动还不能开始：请先设置%(what)s。") % {"what": "、".join(missing)})


# --- categories, slots, specs ---------------------------------------------------------------
DEFAULT_SLOTS = {
    Category.SUBJECT: [
        (ResourceKind.VIDEO, True, ["mp4"], 1024), (ResourceKind.LESSON_PLAN, True, ["pdf", "docx"], 50),
        (ResourceKind.TASK_SHEET, True, ["pdf", "docx"], 50), (ResourceKind.SLIDES, True, ["pptx", "pdf"], 200),
        (ResourceKind.EXERCISES, True, ["pdf", "docx"], 50)],
    Category.SPECIAL: [
        (ResourceKind.VIDEO, True, ["mp4"], 1024), (ResourceKind.LESSON_PLAN, True, ["pdf", "docx"], 50),
        (ResourceKind.TASK_SHEET, True, ["pdf", "docx"], 50), (ResourceKind.SLIDES, True, ["pptx", "pdf"], 200),
        (ResourceKind.EXERCISES, False, ["pdf", "docx"], 50)],
    Category.EXPERIMENT: [
        (ResourceKind.EXPERIMENT_VIDEO, True, ["mp4"], 1024),
        (ResourceKind.EXPERIMENT_PLAN, True, ["pdf", "docx"], 50),
        (ResourceKind.STUDY_GUIDE, True, ["pdf", "docx"], 50), (ResourceKind.SLIDES, True, ["pptx", "pdf"], 200)],
}


def _default_slots(cc: CampaignCategory) -> None:
    ResourceSlot.objects.bulk_create([
        ResourceSlot(campaign_category=cc, kind=kind, label=str(ResourceKind(kind).label), required=required,
                     formats=formats, max_size_mb=size, order=i)
        for i, (kind, required, formats, size) in enumerate(DEFAULT_SLOTS.get(cc.category, []), start=1)])


@transaction.atomic
def set_categories(actor, campaign: Campaign, rows: list[dict]) -> list[CampaignCategory]:
    """Replace the campaign's categories (matched by category). A new category starts with
    the standard resource package; a removed one must have no quotas left."""
    require_owner(actor, campaign)
    problems = rules.Problems()
    clean = rules.clean_categories(rows, problems)
    _refuse(problems)
    existing = {c.category: c for c in campaign.categories.all()}
    wanted = {row["category"] for row in clean}
    removed = [c for key, c in existing.items() if key not in wanted]
    for cc in removed:
        if campaign.quotas.filter(category=cc.category).exists():
            raise ServiceError(_("“%(c)s”还有名额设置，请先删除它的名额，再删除这个类别。") % {
                "c": cc.get_category_display()})
    before = _rows(existing.values(), CATEGORY_FIELDS)
    for cc in removed:
        cc.delete()
    for row in clean:
        cc = existing.get(row["category"])
        if cc is None:
            cc = CampaignCategory.objects.create(campaign=campaign, **row)
            _default_slots(cc)
        else:
            for key, value in row.items():
                setattr(cc, key, value)
            cc.save()
    result = list(campaign.categories.all())
    record(actor, "campaigns.categories.update", campaign, before=before, after=_rows(result, CATEGORY_FIELDS),
           unit=campaign.owner)
    return result


@transaction.atomic
def set_slots(actor, campaign: Campaign, category: str, rows: list[dict]) -> list[ResourceSlot]:
    """Replace a category's resource package (the items of each 课时)."""
    require_owner(actor, campaign)
    cc = get_category(actor, campaign, category)
    problems = rules.Problems()
    clean = rules.clean_slots(rows, category, problems, cc.get_category_display())
    if not clean:
        problems.add(cc.get_category_display(), _("资源项"), _("至少要有一个资源项。"))
    _refuse(problems)
    before = _rows(cc.slots.all(), SLOT_FIELDS)
    cc.slots.all().delete()
    ResourceSlot.objects.bulk_create([ResourceSlot(campaign_category=cc, **row) for row in clean])
    result = list(cc.slots.all())
    record(actor, "campaigns.slots.update", campaign, before={"category": category, "slots": before},
           after={"category": category, "slots": _rows(result, SLOT_FIELDS)}, unit=campaign.owner)
    return result


@transaction.atomic
def set_specs(actor, campaign: Campaign, category: str, rows: list[dict]) -> list[ProductionSpec]:
    """Replace a category's production specs (one per stage; blank stage: any stage)."""
    require_owner(actor, campaign)
    cc = get_category(actor, campaign, category)
    problems = rules.Problems()
    clean = rules.clean_specs(rows, problems, cc.get_category_display())
    _refuse(problems)
    before = [spec_row(s) for s in cc.specs.all()]
    cc.specs.all().delete()
    ProductionSpec.objects.bulk_create([ProductionSpec(campaign_category=cc, **row) for row in clean])
    result = list(cc.specs.all())
    record(actor, "campaigns.specs.update", campaign, before={"category": category, "specs": before},
           after={"category": category, "specs": [spec_row(s) for s in result]}, unit=campaign.owner)
    return result


def spec_for(campaign: Campaign, category: str, stage: str) -> ProductionSpec | None:
    """The production spec of a category for a stage (else the category's any-stage spec)."""
    specs = {s.stage: s for s in ProductionSpec.objects.filter(campaign_category__campaign=campaign,
                                                               campaign_category__category=category)}
    return specs.get(stage) or specs.get("")


# --- levels and deadlines --------------------------------------------------------------------
@transaction.atomic
def set_levels(actor, campaign: Campaign, rows: list[dict]) -> list[Level]:
    """Replace the levels (matched by kind) with their default deadlines. A level that still
    has quotas or unit deadlines cannot be removed."""
    require_owner(actor, campaign)
    problems = rules.Problems()
    clean = rules.clean_levels(rows, problems, owner_kind=campaign.owner.kind)
    _refuse(problems)
    existing = {lv.kind: lv for lv in campaign.levels.all()}
    wanted = {row["kind"] for row in clean}
    removed = [lv for kind, lv in existing.items() if kind not in wanted]
    for lv in removed:
        if lv.quotas.exists() or lv.overrides.exists():
            raise ServiceError(_("“%(name)s”还有名额或单位截止时间，请先删除它们，再删除这个层级。") % {"name": lv.name})
    before = _rows(existing.values(), LEVEL_FIELDS)
    for lv in removed:
        lv.delete()
    # Rows without required_resources (the page, the API) keep what the level had.
    keep_resources = {r.get("kind") for r in rows if isinstance(r, dict) and "required_resources" not in r}
    for row in clean:
        lv = existing.get(row["kind"])
        if lv is None:
            Level.objects.create(campaign=campaign, **row)
        else:
            if row["kind"] in keep_resources:
                row.pop("required_resources")
            for key, value in row.items():
                setattr(lv, key, value)
            lv.save()
    result = sorted(campaign.levels.all(), key=lambda lv: rules.level_rank(lv.kind))
    campaign._level_kinds = None
    record(actor, "campaigns.levels.update", campaign, before=before, after=_rows(result, LEVEL_FIELDS),
           unit=campaign.owner)
    return result


@dataclass
class LevelDeadlines:
    """The effective deadlines of one unit at one level, and where each comes from
    (a Unit, or None for the campaign's default)."""

    level: Level
    deadline: datetime | None
    confirm_deadline: datetime | None
    contact_form_deadline: datetime | None
    deadline_source: Unit | None
    confirm_source: Unit | None
    contact_form_source: Unit | None
    unit: Unit | None = None

    def source_label(self, name: str) -> str:
        source = {"deadline": self.deadline_source, "confirm_deadline": self.confirm_source,
                  "contact_form_deadline": self.contact_form_source}[name]
        if source is None:
            return _("活动默认")
        if self.unit is not None and source.pk == self.unit.pk:
            return _("本单位设置")
        return _("继承自%(unit)s") % {"unit": source.name}

    @property
    def deadline_label(self) -> str:
        return self.source_label("deadline")

    @property
    def confirm_label(self) -> str:
        return self.source_label("confirm_deadline")

    @property
    def contact_form_label(self) -> str:
        return self.source_label("contact_form_deadline")


def _level_defaults(level: Level) -> dict:
    return {name: getattr(level, name) for name in rules.DEADLINE_FIELDS}


def deadlines_for(campaign: Campaign, unit: Unit | None, *, overrides_of=None) -> list[LevelDeadlines]:
    """Effective deadlines for a unit at every level its entries pass through, lowest first
    (a school: the school level, then its owner's level and above). Without a unit: the
    campaign's defaults of every level. Two queries (none with ``campaign.levels`` prefetched and
    ``overrides_of``: the campaign's overrides already read, for a list of many units)."""
    # sorted here (one level per kind): unordered when read, not by the default ordering's campaign join
    prefetched = "levels" in getattr(campaign, "_prefetched_objects_cache", {})
    levels = sorted(campaign.levels.all() if prefetched else campaign.levels.order_by(),
                    key=lambda lv: rules.level_rank(lv.kind))
    if unit is None:
        return [LevelDeadlines(lv, lv.deadline, lv.confirm_deadline, lv.contact_form_deadline, None, None, None)
                for lv in levels]
    owner_kind = unit.parent.kind if unit.kind == "school" and unit.parent_id else None
    kinds = rules.levels_for_unit([lv.kind for lv in levels], unit.kind, owner_kind)
    levels = [lv for lv in levels if lv.kind in kinds]
    path_ids = unit.ancestor_ids
    overrides: dict[int, dict[int, DeadlineOverride]] = {}
    if overrides_of is None:
        overrides_of = DeadlineOverride.objects.filter(level__in=levels, unit_id__in=path_ids).select_related("unit")
    level_ids, on_path = {lv.pk for lv in levels}, set(path_ids)
    for o in overrides_of:
        if o.level_id in level_ids and o.unit_id in on_path:
            overrides.setdefault(o.level_id, {})[o.unit_id] = o
    result = []
    for lv in levels:
        by_unit = overrides.get(lv.pk, {})
        resolved = rules.resolve_deadlines_for_path(
            _level_defaults(lv), path_ids,
            {pk: {name: getattr(o, name) for name in rules.DEADLINE_FIELDS} for pk, o in by_unit.items()})

        def source(name, resolved=resolved, by_unit=by_unit):  # called in this iteration only
            pk = resolved[name].source_unit_id
            return by_unit[pk].unit if pk is not None else None

        result.append(LevelDeadlines(
            lv, resolved["deadline"].value, resolved["confirm_deadline"].value,
            resolved["contact_form_deadline"].value, source("deadline"), source("confirm_deadline"),
            source("contact_form_deadline"), unit=unit))
    return result


def deadline_overrides_for(actor, campaign: Campaign) -> QuerySet[DeadlineOverride]:
    """The unit deadlines of a campaign the actor may see (his subtree)."""
    require(actor, "campaigns.manage_unit_settings", campaign)
    return (DeadlineOverride.objects.filter(level__campaign=campaign, unit__in=scope_units(actor, campaign))
            .select_related("level", "unit").order_by("unit__path", "level_id"))


def _override_snapshot(o: DeadlineOverride) -> dict:
    return {"level": o.level.kind, "unit": o.unit.code, "reason": o.reason,
            **{name: _value(getattr(o, name)) for name in rules.DEADLINE_FIELDS}}


def _require_unit_setting(actor, campaign: Campaign, level_kind: str, unit: Unit) -> None:
    require(actor, "campaigns.set_unit_setting", UnitSetting(campaign, level_kind, unit),
            _("%(level)s层级的截止时间和名额由上级单位设置，您不能为“%(unit)s”设置。") % {
                "level": LEVEL_LABELS.get(level_kind, level_kind), "unit": unit.name})


@transaction.atomic
def set_deadline_override(actor, campaign: Campaign, *, level_kind: str, unit: Unit, deadline=None,
                          confirm_deadline=None, contact_form_deadline=None, reason: str = "") -> DeadlineOverride:
    """Set (or replace) a unit's own deadlines at a level; they apply to it and the units below."""
    require(actor, "campaigns.manage_unit_settings", campaign)
    if not unit.is_within(campaign.owner) or not actor.administers(unit):
        raise Http404(_("未找到该单位，或它不在您管理的范围内。"))
    level = get_level(campaign, level_kind)
    _require_unit_setting(actor, campaign, level_kind, unit)
    problems = rules.Problems()
    where = unit.name
    error = rules.override_target_error(level_kind, unit.kind)
    if error:
        problems.add(where, _("单位"), error)
    values = {}
    for name, value, label in [("deadline", deadline, _("推荐截止时间")),
                               ("confirm_deadline", confirm_deadline, _("汇总表确认截止时间")),
                               ("contact_form_deadline", contact_form_deadline, _("工作联系表截止时间"))]:
        values[name] = rules.clean_deadline({"v": value}, "v", label, where, problems)
    reason = rules.clean_str({"reason": reason}, "reason", _("理由"), where, problems, max_length=200)
    if not problems and all(v is None for v in values.values()):
        problems.add(where, _("截止时间"), _("请至少填写一个截止时间；要恢复继承上级的设置，请删除这一行。"))
    _refuse(problems)
    override = DeadlineOverride.objects.filter(level=level, unit=unit).first()
    before = _override_snapshot(override) if override else None
    if override is None:
        override = DeadlineOverride(level=level, unit=unit)
    for name, value in values.items():
        setattr(override, name, value)
    override.reason = reason
    override.save()
    record(actor, "campaigns.deadline_override.set", campaign, before=before, after=_override_snapshot(override),
           reason=reason, unit=unit)
    return override


def _get_override(actor, campaign, pk) -> DeadlineOverride:
    override = deadline_overrides_for(actor, campaign).filter(pk=pk).first()
    if override is None:
        raise Http404(_("未找到该单位截止时间，或它不在您管理的范围内。"))
    return override


@transaction.atomic
def delete_deadline_override(actor, campaign: Campaign, pk) -> None:
    override = _get_override(actor, campaign, pk)
    _require_unit_setting(actor, campaign, override.level.kind, override.unit)
    before = _override_snapshot(override)
    override.delete()
    record(actor, "campaigns.deadline_override.delete", campaign, before=before, unit=override.unit)


# --- quotas ------------------------------------------------------------------------------------
def quota_for(campaign: Campaign, unit: Unit, category: str, subject: str = "") -> Quota | None:
    """The quota row that limits ``unit`` when it recommends ``category`` entries (of
    ``subject``), or None for no limit. See rules.resolve_quota for the precedence.
    With ``subject=""`` the answer is the category-wide limit."""
    rows = list(Quota.objects.filter(campaign=campaign, level__kind=unit.kind, category=category)
                .filter(Q(unit=unit) | Q(unit__isnull=True)).select_related("level"))
    owner_kind = unit.parent.kind if unit.kind == "school" and unit.parent_id else ""
    chosen = rules.resolve_quota(
        [rules.QuotaRow(q.pk, q.level.kind, q.unit_id, q.school_owner_kind, q.category, q.subject, q.per_subject,
                        q.limit) for q in rows],
        rules.Recommender(unit.pk, unit.kind, owner_kind), category, subject)
    return next((q for q in rows if chosen and q.pk == chosen.id), None)


def quotas_for(campaign: Campaign, unit: Unit, category: str, subject: str = "") -> list[Quota]:
    """Every quota row a pick of ``unit`` in ``category`` (of ``subject``) must satisfy: the row for
    its subject and the category-wide row it sits inside (rules.resolve_quotas); [] for no limit."""
    rows = list(Quota.objects.filter(campaign=campaign, level__kind=unit.kind, category=category)
                .filter(Q(unit=unit) | Q(unit__isnull=True)).select_related("level", "unit"))
    owner_kind = unit.parent.kind if unit.kind == "school" and unit.parent_id else ""
    chosen = rules.resolve_quotas(
        [rules.QuotaRow(q.pk, q.level.kind, q.unit_id, q.school_owner_kind, q.category, q.subject, q.per_subject,
                        q.limit) for q in rows],
        rules.Recommender(unit.pk, unit.kind, owner_kind), category, subject)
    by_pk = {q.pk: q for q in rows}
    return [by_pk[r.id] for r in chosen]


def default_quotas(campaign: Campaign) -> list[Quota]:
    return list(campaign.quotas.filter(unit__isnull=True).select_related("level")
                .order_by("level_id", "school_owner_kind", "category", "subject"))


def quota_overrides_for(actor, campaign: Campaign) -> QuerySet[Quota]:
    require(actor, "campaigns.manage_unit_settings", campaign)
    return (campaign.quotas.filter(unit__in=scope_units(actor, campaign)).select_related("level", "unit")
            .order_by("unit__path", "category", "subject"))


@transaction.atomic
def set_default_quotas(actor, campaign: Campaign, rows: list[dict]) -> list[Quota]:
    """Replace the level defaults (rows without a unit)."""
    require_owner(actor, campaign)
    problems = rules.Problems()
    clean = rules.clean_quotas(rows, problems, with_unit=False, level_kinds=campaign_level_kinds(campaign))
    categories = set(campaign.categories.values_list("category", flat=True))
    for i, row in enumerate(clean, start=1):
        if row["category"] and row["category"] not in categories:
            problems.add(_("名额 %(i)s") % {"i": i}, _("类别"), _("本活动没有“%(c)s”类别。") % {
                "c": rules.CATEGORY_LABELS[row["category"]]})
    _refuse(problems)
    levels = {lv.kind: lv for lv in campaign.levels.all()}
    before = [quota_row(q) for q in default_quotas(campaign)]
    campaign.quotas.filter(unit__isnull=True).delete()
    Quota.objects.bulk_create([
        Quota(campaign=campaign, level=levels[row["level"]], unit=None, school_owner_kind=row["school_owner_kind"],
              category=row["category"], subject=row["subject"], per_subject=row["per_subject"], limit=row["limit"])
        for row in clean])
    result = default_quotas(campaign)
    record(actor, "campaigns.quotas.defaults", campaign, before=before, after=[quota_row(q) for q in result],
           unit=campaign.owner)
    return result


@transaction.atomic
def set_quota_override(actor, campaign: Campaign, *, level_kind: str, unit: Unit, category: str, subject: str = "",
                       per_subject: bool = False, limit) -> Quota:
    """Set (or replace) one recommending unit's own quota for a category (and subject)."""
    require(actor, "campaigns.manage_unit_settings", campaign)
    if not unit.is_within(campaign.owner) or not actor.administers(unit):
        raise Http404(_("未找到该单位，或它不在您管理的范围内。"))
    level = get_level(campaign, level_kind)
    _require_unit_setting(actor, campaign, level_kind, unit)
    problems = rules.Problems()
    row = rules.clean_quota({"level": level_kind, "category": category, "subject": subject,
                             "per_subject": per_subject, "limit": limit}, problems, unit.name, with_unit=False)
    error = rules.quota_target_error(level_kind, unit.kind)
    if error:
        problems.add(unit.name, _("单位"), error)
    if row["category"] and not campaign.categories.filter(category=row["category"]).exists():
        problems.add(unit.name, _("类别"), _("本活动没有“%(c)s”类别。") % {"c": rules.CATEGORY_LABELS[row["category"]]})
    _refuse(problems)
    quota = Quota.objects.filter(level=level, unit=unit, category=row["category"], subject=row["subject"]).first()
    before = quota_row(quota) if quota else None
    if quota is None:
        quota = Quota(campaign=campaign, level=level, unit=unit, category=row["category"], subject=row["subject"])
    quota.per_subject = row["per_subject"]
    quota.limit = row["limit"]
    quota.save()
    record(actor, "campaigns.quota_override.set", campaign, before=before, after=quota_row(quota), unit=unit)
    return quota


@transaction.atomic
def delete_quota_override(actor, campaign: Campaign, pk) -> None:
    quota = quota_overrides_for(actor, campaign).filter(pk=pk).first()
    if quota is None:
        raise Http404(_("未找到该名额，或它不在您管理的范围内。"))
    _require_unit_setting(actor, campaign, quota.level.kind, quota.unit)
    before = quota_row(quota)
    quota.delete()
    record(actor, "campaigns.quota_override.delete", campaign, before=before, unit=quota.unit)


# --- rule settings, contacts --------------------------------------------------------------------
@transaction.atomic
def update_rules(actor, campaign: Campaign, data: dict) -> Campaign:
    """Node rule, starting grades on new textbooks, share caps, target shares and (when given) the
    resource kinds the public showcase may offer once the campaign has ended."""
    require_owner(actor, campaign)
    problems = rules.Problems()
    clean = rules.clean_rule_settings(data, problems)
    if data.get("public_resource_kinds") is not None:  # absent: unchanged (the showcase's public files)
        clean["public_resource_kinds"] = rules.clean_public_kinds(data["public_resource_kinds"], problems)
    kinds = set(campaign_level_kinds(campaign))
    for label, items in ((_("学科占比上限"), clean["share_caps"]), (_("学科占比目标"), clean["target_shares"])):
        for i, item in enumerate(items, start=1):
            if item["level"] and item["level"] not in kinds:
                problems.add(f"{label} {i}", _("层级"), _("本活动没有%(k)s层级。") % {"k": LEVEL_LABELS[item["level"]]})
    _refuse(problems)
    before = rules_snapshot(campaign)
    for key, value in clean.items():
        setattr(campaign, key, value)
    campaign.save()
    record(actor, "campaigns.rules.update", campaign, before=before, after=rules_snapshot(campaign),
           unit=campaign.owner)
    return campaign


@transaction.atomic
def set_contacts(actor, campaign: Campaign, rows: list[dict]) -> list[Contact]:
    require_owner(actor, campaign)
    problems = rules.Problems()
    clean = rules.clean_contacts(rows, problems)
    _refuse(problems)
    before = _rows(campaign.contacts.all(), CONTACT_FIELDS)
    campaign.contacts.all().delete()
    Contact.objects.bulk_create([Contact(campaign=campaign, **row) for row in clean])
    result = list(campaign.contacts.all())
    record(actor, "campaigns.contacts.update", campaign, before=before, after=_rows(result, CONTACT_FIELDS),
           unit=campaign.owner)
    return result


# --- notices ------------------------------------------------------------------------------------
def _check_notice_file(upload) -> None:
    ext = Path(upload.name or "").suffix.lower().lstrip(".")
    if ext not in NOTICE_EXTENSIONS:
        raise ServiceError(_("附件“%(name)s”的格式不支持，请上传 %(ok)s 文件。") % {
            "name": upload.name, "ok": "、".join(sorted(NOTICE_EXTENSIONS))})
    if upload.size > MAX_NOTICE_MB * 1024 * 1024:
        raise ServiceError(_("附件“%(name)s”超过 %(mb)s MB，请压缩后再上传。") % {"name": upload.name, "mb": MAX_NOTICE_MB})


def _notice_snapshot(n: NoticeDocument) -> dict:
    return {**{f: getattr(n, f) for f in NOTICE_FIELDS if f != "body"}, "body_chars": len(n.body),
            "file": n.original_name}


def _clean_notice(data: dict) -> dict:
    problems = rules.Problems()
    clean = rules.clean_notice(data, problems, _("通知文件"))
    _refuse(problems)
    return clean


def get_notice(actor, campaign: Campaign, pk) -> NoticeDocument:
    require(actor, "campaigns.view_notice", campaign)
    notice = campaign.notices.filter(pk=pk).first()
    if notice is None:
        raise Http404(_("未找到该通知文件。"))
    return notice


@transaction.atomic
def add_notice(actor, campaign: Campaign, data: dict, upload=None) -> NoticeDocument:
    require_owner(actor, campaign)
    clean = _clean_notice(data)
    if upload is not None:
        _check_notice_file(upload)
    order = (campaign.notices.order_by("-order").values_list("order", flat=True).first() or 0) + 1
    notice = NoticeDocument(campaign=campaign, order=order, **clean)
    if upload is not None:
        notice.original_name = Path(upload.name).name[:200]
        notice.file.save(upload.name, upload, save=False)
    notice.save()
    record(actor, "campaigns.notice.add", campaign, after=_notice_snapshot(notice), unit=campaign.owner)
    return notice


@transaction.atomic
def update_notice(actor, campaign: Campaign, notice: NoticeDocument, data: dict, upload=None,
                  remove_file: bool = False) -> NoticeDocument:
    require_owner(actor, campaign)
    clean = _clean_notice(data)
    if upload is not None:
        _check_notice_file(upload)
    before = _notice_snapshot(notice)
    for key, value in clean.items():
        setattr(notice, key, value)
    old_file = notice.file.name if notice.file else ""
    if upload is not None:
        notice.original_name = Path(upload.name).name[:200]
        notice.file.save(upload.name, upload, save=False)
    elif remove_file:
        notice.file = ""
        notice.original_name = ""
    notice.save()
    if old_file and old_file != (notice.file.name if notice.file else ""):
        transaction.on_commit(lambda: notice.file.storage.delete(old_file))
    record(actor, "campaigns.notice.update", campaign, before=before, after=_notice_snapshot(notice),
           unit=campaign.owner)
    return notice


@transaction.atomic
def delete_notice(actor, campaign: Campaign, notice: NoticeDocument) -> None:
    require_owner(actor, campaign)
    before = _notice_snapshot(notice)
    name = notice.file.name if notice.file else ""
    storage = notice.file.storage
    notice.delete()
    if name:
        transaction.on_commit(lambda: storage.delete(name))
    record(actor, "campaigns.notice.delete", campaign, before=before, unit=campaign.owner)


def notice_response(actor, campaign: Campaign, notice: NoticeDocument):
    """The permission-checked download of a notice's attachment (sent by the store or nginx when
    there is one, see ``jingpinke.storage.download_response``)."""
    import mimetypes

    from jingpinke.storage import download_response

    require(actor, "campaigns.view_notice", campaign)
    if not notice.file:
        raise Http404(_("该通知没有附件。"))
    name = notice.original_name or Path(notice.file.name).name
    return download_response(notice.file, filename=name,
                             content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
                             missing=_("附件文件已丢失，请联系主办单位重新上传。"))


# --- templates: export and import ----------------------------------------------------------------
def _iso(value):
    return value.astimezone(rules.TZ).isoformat() if value else None


def export_template(actor, campaign: Campaign) -> dict:
    """Everything of a campaign except ids and the owner; units by code. Owner admins only."""
    require(actor, "campaigns.export_campaign", campaign,
            _("只有主办单位及其上级的管理员可以导出活动模板。"))
    categories = campaign.categories.prefetch_related("slots", "specs")
    levels = sorted(campaign.levels.prefetch_related("overrides__unit"), key=lambda lv: rules.level_rank(lv.kind))
    return {
        "format": rules.TEMPLATE_FORMAT,
        "version": rules.TEMPLATE_VERSION,
        "year": campaign.year,
        "title": campaign.title,
        "status": campaign.status,
        "description": campaign.description,
        "node_rule": campaign.node_rule,
        "new_textbook_grades": list(campaign.new_textbook_grades),
        "share_caps": list(campaign.share_caps),
        "target_shares": list(campaign.target_shares),
        "categories": [
            {**{f: getattr(cc, f) for f in CATEGORY_FIELDS},
             "slots": _rows(cc.slots.all(), SLOT_FIELDS),
             "specs": [spec_row(s) for s in cc.specs.all()]}
            for cc in categories],
        "levels": [
            {"kind": lv.kind, "name": lv.name, "award_name": lv.award_name, "publicity_days": lv.publicity_days,
             **{name: _iso(getattr(lv, name)) for name in rules.DEADLINE_FIELDS},
             "required_resources": list(lv.required_resources),
             "overrides": [{"unit": o.unit.code, "reason": o.reason,
                            **{name: _iso(getattr(o, name)) for name in rules.DEADLINE_FIELDS}}
                           for o in sorted(lv.overrides.all(), key=lambda o: o.unit.path)]}
            for lv in levels],
        "quotas": [quota_row(q) for q in campaign.quotas.select_related("level", "unit")
                   .order_by("level_id", "unit__path", "school_owner_kind", "category", "subject")],
        "contacts": _rows(campaign.contacts.all(), CONTACT_FIELDS),
        "notices": [{f: (getattr(n, f).isoformat() if f == "published_on" and n.published_on else getattr(n, f))
                     for f in NOTICE_FIELDS} for n in campaign.notices.all()],
    }


def read_template_file(upload) -> dict:
    """Parse an uploaded template file; a file that is not JSON is refused with the reason."""
    if upload.size > MAX_TEMPLATE_BYTES:
        raise ServiceError(_("模板文件超过 5 MB，不是有效的活动模板。"))
    raw = upload.read()
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ServiceError(_("模板文件不是 UTF-8 编码的文本，请上传本系统导出的 .json 文件。")) from exc
    except json.JSONDecodeError as exc:
        raise ServiceError(_("模板文件不是有效的 JSON：第 %(line)s 行第 %(col)s 列附近有错误。") % {
            "line": exc.lineno, "col": exc.colno}) from exc


@transaction.atomic
def import_template(actor, doc, owner: Unit, *, year_offset: int = 0, title: str = "",
                    status: str = CampaignStatus.DRAFT) -> Campaign:
    """Create a new campaign for ``owner`` from a template; all or nothing.

    ``year_offset`` moves the year and every deadline by whole years (and the year in the
    title); notices keep their own dates. The new campaign starts as a draft."""
    require(actor, "campaigns.create_campaign", None, _("只有省、市教育局或系统管理员可以创建遴选活动。"))
    if not actor.administers(owner) or owner.kind not in OWNER_KINDS:
        raise PermissionDenied(_("您只能为自己管理的省或市创建遴选活动。"))
    if not isinstance(year_offset, int) or not -10 <= year_offset <= 10:
        raise ServiceError(_("年度偏移应为 -10 到 10 之间的整数。"))
    clean, problems = rules.clean_template(doc, owner_kind=owner.kind)
    units = {}
    if clean.levels or clean.quotas:
        codes = clean.unit_codes()
        units = {u.code: u for u in Unit.objects.subtree(owner).filter(code__in=codes, is_active=True)}
        for code in sorted(codes - set(units)):
            problems.add(_("单位代码 %(c)s") % {"c": code}, _("单位"),
                         _("在%(owner)s范围内找不到这个单位（或已停用）。") % {"owner": owner.name})
        for lv in clean.levels:
            for o in lv["overrides"]:
                if o["unit"] in units and lv["kind"]:
                    error = rules.override_target_error(lv["kind"], units[o["unit"]].kind)
                    if error:
                        problems.add(_("单位代码 %(c)s") % {"c": o["unit"]}, _("单位"), error)
        for q in clean.quotas:
            if q["unit"] in units and q["level"]:
                error = rules.quota_target_error(q["level"], units[q["unit"]].kind)
                if error:
                    problems.add(_("单位代码 %(c)s") % {"c": q["unit"]}, _("单位"), error)
    if problems:
        raise ServiceError(_("这不是有效的活动模板，未导入任何内容。请按下列问题修改（共 %(n)s 处）。") % {
            "n": len(problems)}, errors=list(problems))
    basics = clean.basics
    year = basics["year"] + year_offset
    new_title = (title or "").strip() or basics["title"].replace(str(basics["year"]), str(year))
    _unique_title(owner, year, new_title)
    campaign = Campaign.objects.create(owner=owner, year=year, title=new_title, description=basics["description"],
                                       status=status, **clean.rules)
    for cat in clean.categories:
        cc = CampaignCategory.objects.create(campaign=campaign, **{f: cat[f] for f in CATEGORY_FIELDS})
        ResourceSlot.objects.bulk_create([ResourceSlot(campaign_category=cc, **s) for s in cat["slots"]])
        ProductionSpec.objects.bulk_create([ProductionSpec(campaign_category=cc, **s) for s in cat["specs"]])
    levels = {}
    for lv in clean.levels:
        fields = {k: v for k, v in lv.items() if k != "overrides"}
        for name in rules.DEADLINE_FIELDS:
            fields[name] = rules.shift_years(fields[name], year_offset)
        level = levels[lv["kind"]] = Level.objects.create(campaign=campaign, **fields)
        DeadlineOverride.objects.bulk_create([
            DeadlineOverride(level=level, unit=units[o["unit"]], reason=o["reason"],
                             **{n: rules.shift_years(o[n], year_offset) for n in rules.DEADLINE_FIELDS})
            for o in lv["overrides"]])
    Quota.objects.bulk_create([
        Quota(campaign=campaign, level=levels[q["level"]], unit=units.get(q["unit"]) if q["unit"] else None,
              school_owner_kind=q["school_owner_kind"], category=q["category"], subject=q["subject"],
              per_subject=q["per_subject"], limit=q["limit"]) for q in clean.quotas])
    Contact.objects.bulk_create([Contact(campaign=campaign, **c) for c in clean.contacts])
    NoticeDocument.objects.bulk_create([NoticeDocument(campaign=campaign, order=i, **n)
                                        for i, n in enumerate(clean.notices, start=1)])
    record(actor, "campaigns.campaign.import", campaign, after={
        **campaign_snapshot(campaign), "template_title": basics["title"], "template_year": basics["year"],
        "year_offset": year_offset}, unit=owner)
    return campaign


@dataclass(frozen=True)
class ShippedTemplate:
    key: str
    title: str
    year: int
    owner_kind: str
    description: str

    @property
    def owner_kind_label(self) -> str:
        return str(LEVEL_LABELS.get(self.owner_kind, self.owner_kind))


def shipped_templates() -> list[ShippedTemplate]:
    """The campaign templates shipped in campaigns/campaign_templates/ (filled from real notices)."""
    result = []
    for path in sorted(TEMPLATES_DIR.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        top = max((lv["kind"] for lv in doc.get("levels", [])), key=rules.level_rank, default="")
        result.append(ShippedTemplate(path.stem, doc["title"], doc["year"], top, doc.get("description", "")))
    return result


def shipped_template_doc(key: str) -> dict:
    if key not in {t.key for t in shipped_templates()}:
        raise ServiceError(_("没有名为“%(k)s”的内置模板。") % {"k": key})
    return json.loads((TEMPLATES_DIR / f"{key}.json").read_text(encoding="utf-8"))


def create_from_shipped(actor, key: str, owner: Unit, *, year_offset: int = 0, title: str = "",
                        status: str = CampaignStatus.DRAFT) -> Campaign:
    return import_template(actor, shipped_template_doc(key), owner, year_offset=year_offset, title=title,
                           status=status)


def labelled(items: list[dict]) -> list[dict]:
    """Share caps / target shares with Chinese labels for their codes."""
    from campaigns.enums import ShareAppliesTo

    return [{**item, "level_label": str(LEVEL_LABELS.get(item.get("level"), item.get("level"))),
             "category_label": str(rules.CATEGORY_LABELS.get(item.get("category"), item.get("category"))),
             "applies_label": str(dict(ShareAppliesTo.choices).get(item.get("applies_to"), ""))} for item in items]


def detail(campaign: Campaign) -> Campaign:
    """The campaign with everything the detail page and endpoint show, prefetched."""
    return (Campaign.objects.select_related("owner")
            .prefetch_related("categories__slots", "categories__specs", "levels", "contacts", "notices")
            .get(pk=campaign.pk))

