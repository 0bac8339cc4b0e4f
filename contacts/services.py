"""Use cases of the contact form (工作联系表): each checks the permission, resolves the unit's
deadline, locks the form row, asks ``contacts.rules``, saves and records the audit event.

- reading: who files (``reporting_units``), each unit's deadline and form (``duties``), the board
  of the organiser, the forms the actor fills;
- writing: ``save_people`` (replace the rows), ``upload_scan`` / ``attach_scan`` (the stamped
  scan, by content PDF/JPG/PNG, at most 20 MB), ``file_form`` (提交), ``reopen`` (the level
  above gives a unit a new contact-form deadline through a deadline override).

Deadlines: a unit's own level's ``contact_form_deadline`` with the overrides of the unit and the
units above it (``campaigns.services.deadlines_for``), see ``contacts.rules`` for schools.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record
from campaigns import rules as campaign_rules
from campaigns import services as campaign_services
from campaigns.enums import Category
from campaigns.models import Campaign, DeadlineOverride, Level
from contacts import rules
from contacts.models import ContactForm, ContactPerson
from jingpinke.errors import ServiceError
from jingpinke.inputs import parse_id
from media import sniff, storage
from media.models import FileKind, StoredFile
from orgs.models import Unit


# --- reading -------------------------------------------------------------------------------------------
def category_labels(campaign: Campaign) -> dict[str, str]:
    """The campaign's categories in its order: {code: label}."""
    codes = getattr(campaign, "_contact_categories", None)
    if codes is None:
        codes = list(campaign.categories.order_by("id").values_list("category", flat=True))
        campaign._contact_categories = codes
    return {c: str(Category(c).label) if c in Category.values else c for c in codes}


def _levels(campaign: Campaign) -> dict[str, Level]:
    cache = getattr(campaign, "_contact_levels", None)
    if cache is None:
        cache = {lv.kind: lv for lv in Level.objects.filter(campaign=campaign)}
        campaign._contact_levels = cache
    return cache


def files(campaign: Campaign, unit: Unit) -> bool:
    """Whether the unit files a contact form in this campaign (see contacts.rules)."""
    return rules.files_form(unit.kind, unit.parent_id, campaign.owner_id, list(_levels(campaign)))


def reporting_units(campaign: Campaign) -> list[Unit]:
    """The units that file, counties (or cities) first, then the organiser's own schools."""
    units = Unit.objects.filter(parent_id=campaign.owner_id, is_active=True, kind__in=list(_levels(campaign)))
    return sorted(units.select_related("parent"), key=lambda u: (u.kind == "school", u.sort_order, u.code, u.pk))


def _resolve(level: Level | None, unit: Unit, overrides: dict[int, dict[int, dict]]) -> datetime | None:
    if level is None:
        return None
    defaults = {name: getattr(level, name) for name in campaign_rules.DEADLINE_FIELDS}
    resolved = campaign_rules.resolve_deadlines_for_path(defaults, unit.ancestor_ids, overrides.get(level.pk, {}))
    return resolved["contact_form_deadline"].value


def deadlines(campaign: Campaign, units: list[Unit]) -> dict[int, datetime | None]:
    """Each unit's contact-form deadline, for many units at once (two queries at most)."""
    levels = _levels(campaign)
    ids = {pk for u in units for pk in u.ancestor_ids}
    overrides: dict[int, dict[int, dict]] = {}
    if ids:
        for o in DeadlineOverride.objects.filter(level__campaign=campaign, unit_id__in=ids):
            overrides.setdefault(o.level_id, {})[o.unit_id] = {
                n: getattr(o, n) for n in campaign_rules.DEADLINE_FIELDS}
    reporting = levels.get(rules.reporting_level_kind(campaign.owner.kind) or "")
    return {u.pk: rules.form_deadline(u.kind, _resolve(levels.get(u.kind), u, overrides),
                                      _resolve(reporting, u, overrides) if u.kind == "school" else None)
            for u in units}


def deadline_of(campaign: Campaign, unit: Unit) -> datetime | None:
    """One unit's contact-form deadline, resolved as every other deadline of the unit is."""
    own = next((row.contact_form_deadline for row in campaign_services.deadlines_for(campaign, unit)
                if row.level.kind == unit.kind), None)
    if own is None and unit.kind == "school":
        return deadlines(campaign, [unit])[unit.pk]
    return own


@dataclass
class Duty:
    """One reporting unit in one campaign: its deadline and its form (None before the first save)."""

    campaign: Campaign
    unit: Unit
    level: Level
    deadline: datetime | None
    form: ContactForm | None
    now: datetime
    people: list[ContactPerson] = field(default_factory=list)

    @property
    def filed(self) -> bool:
        return bool(self.form and self.form.filed)

    @property
    def filed_at(self) -> datetime | None:
        return self.form.filed_at if self.form else None

    @property
    def updated_at(self) -> datetime | None:
        return self.form.updated_at if self.form else None

    @property
    def status(self) -> str:
        return rules.status_of(self.form is not None, self.filed)

    @property
    def status_label(self) -> str:
        return str(rules.STATUS_LABELS[self.status])

    @property
    def badge_class(self) -> str:
        return {rules.Status.FILED: "st-pass", rules.Status.DRAFT: "st-warn"}.get(self.status, "st-fail")

    @property
    def scan(self) -> StoredFile | None:
        return self.form.scan if self.form and self.form.scan_id else None

    @property
    def open(self) -> bool:
        return rules.edit_decision(self.now, self.deadline).ok

    @property
    def seconds_left(self) -> int | None:
        return rules.time_left(self.now, self.deadline)

    @property
    def time_left_text(self) -> str:
        return rules.time_left_text(self.seconds_left)

    @property
    def missing(self) -> list[str]:
        return rules.missing(len(self.people), self.scan is not None)


def _forms(campaign: Campaign, units: list[Unit]) -> dict[int, ContactForm]:
    qs = (ContactForm.objects.filter(campaign=campaign, unit__in=[u.pk for u in units])
          .select_related("scan", "filed_by", "updated_by").prefetch_related("people"))
    return {f.unit_id: f for f in qs}


def duties(campaign: Campaign, units: list[Unit], *, now: datetime | None = None) -> list[Duty]:
    """The units' deadlines and forms with their people, in a fixed number of queries."""
    now = now or timezone.now()
    if not units:
        return []
    levels, forms, when = _levels(campaign), _forms(campaign, units), deadlines(campaign, units)
    return [Duty(campaign, u, levels[u.kind], when[u.pk], forms.get(u.pk), now,
                 list(forms[u.pk].people.all()) if u.pk in forms else []) for u in units]


def duty(campaign: Campaign, unit: Unit, *, now: datetime | None = None) -> Duty:
    now = now or timezone.now()
    form = _forms(campaign, [unit]).get(unit.pk)
    return Duty(campaign, unit, _levels(campaign)[unit.kind], deadline_of(campaign, unit), form, now,
                list(form.people.all()) if form else [])


def _as_int(value) -> int | None:
    return parse_id(value)


def get_unit(actor, campaign: Campaign, unit_id) -> Unit:
    """A reporting unit of the campaign whose form the actor may see; else 404."""
    unit = Unit.objects.select_related("parent").filter(pk=_as_int(unit_id) or 0, is_active=True).first()
    if unit is None or not actor.has_perm("contacts.view_form", unit):
        raise Http404(_("未找到该单位，或它不在您管理的范围内。"))
    if not files(campaign, unit):
        raise Http404(_("%(unit)s不需要在本活动中填写工作联系表（由直接向主办单位报送的单位填写）。") % {"unit": unit.name})
    return unit


def my_units(actor, campaign: Campaign) -> list[Unit]:
    """The reporting units whose form the actor fills (his own admin units)."""
    return sorted((u for u in actor.admin_units() if files(campaign, u)), key=lambda u: (u.sort_order, u.code))


def sees_board(actor, campaign: Campaign) -> bool:
    return actor.has_perm("contacts.view_board", campaign.owner)


def board(actor, campaign: Campaign, *, now: datetime | None = None) -> list[Duty]:
    """Every reporting unit of the campaign with its form: for the organiser's admins (and above)."""
    if not sees_board(actor, campaign):
        raise Http404(_("只有主办单位（%(owner)s）的管理员可以查看各单位的工作联系表。") % {"owner": campaign.owner.name})
    return duties(campaign, reporting_units(campaign), now=now)


def scan_response(request, actor, campaign: Campaign, unit: Unit):
    """The stamped scan, after the same scope check as the form (the file has no public URL)."""
    from media import services as media_services

    form = ContactForm.objects.filter(campaign=campaign, unit=unit).select_related("scan").first()
    if form is None or form.scan is None:
        raise Http404(_("%(unit)s还没有上传盖章扫描件。") % {"unit": unit.name})
    return media_services.file_response(request, form.scan, as_attachment=request.GET.get("download") == "1")


# --- writing -------------------------------------------------------------------------------------------
def _refuse(decision: rules.Decision, status: int = 400) -> None:
    if not decision.ok:
        raise ServiceError(decision.message, errors=[{"rule": decision.rule}], status=status)


def _scan_row(stored: StoredFile | None) -> dict | None:
    if stored is None:
        return None
    return {"id": str(stored.pk), "name": stored.original_name, "size": stored.size, "kind": stored.kind,
            "sha256": stored.sha256}


def snapshot(form: ContactForm) -> dict:
    return {"people": [{"name": p.name, "position": p.position, "mobile": p.mobile, "categories": p.categories,
                        "remark": p.remark} for p in form.people.order_by("order", "id")],
            "scan": _scan_row(form.scan), "filed_at": form.filed_at.isoformat() if form.filed_at else None}


def _prepare(actor, campaign: Campaign, unit: Unit, now: datetime) -> Level:
    """Checks every change makes: the actor fills for the unit, the unit files, the deadline."""
    if not actor.has_perm("contacts.fill_form", unit):
        raise PermissionDenied(_("只有%(unit)s的管理员可以填写和提交本单位的工作联系表。") % {"unit": unit.name})
    if not files(campaign, unit):
        raise Http404(_("%(unit)s不需要在本活动中填写工作联系表。") % {"unit": unit.name})
    _refuse(rules.edit_decision(now, deadline_of(campaign, unit)))
    return _levels(campaign)[unit.kind]


def _locked_form(actor, campaign: Campaign, unit: Unit, level: Level) -> ContactForm:
    ContactForm.objects.get_or_create(campaign=campaign, unit=unit, defaults={"level": level, "updated_by": actor})
    return (ContactForm.objects.select_for_update(of=("self",)).select_related("scan")
            .get(campaign=campaign, unit=unit))


@transaction.atomic
def save_people(actor, campaign: Campaign, unit: Unit, rows: list[dict], *, now: datetime | None = None) -> ContactForm:
    """Replace the form's people with ``rows`` (dicts of name, position, mobile, categories,
    remark; blank rows are skipped). All or nothing: one bad row and nothing is saved."""
    now = now or timezone.now()
    level = _prepare(actor, campaign, unit, now)
    people, errors = rules.clean_people(rows, category_labels(campaign))
    if errors:
        raise ServiceError(_("联系人信息有 %(n)d 处需要修改：%(first)s") % {"n": len(errors), "first": errors[0]["message"]},
                           errors=errors)
    form = _locked_form(actor, campaign, unit, level)
    _refuse(rules.keep_complete_decision(form.filed, len(people), form.scan_id is not None))
    before = snapshot(form)
    if before["people"] == [p.as_dict() for p in people]:
        return form  # nothing changed
    form.people.all().delete()
    ContactPerson.objects.bulk_create([ContactPerson(form=form, order=i, **p.as_dict()) for i, p in enumerate(people)])
    form.updated_by = actor
    form.save()
    record(actor, "contacts.form.update", form, before=before, after=snapshot(form), unit=unit)
    return form


def _store(actor, uploaded) -> StoredFile:
    """Stream an uploaded file (Django ``UploadedFile``: ``name``, ``size``, ``chunks()``) into the
    storage as a ``StoredFile``, if its content is a scan; refused content is never stored.

    Bytes go to a partial file in the upload folder (a stray one is removed by the media app's
    periodic cleanup), are hashed on the way, sniffed, then moved into the storage."""
    name = storage.display_name(getattr(uploaded, "name", "") or "")
    size = int(getattr(uploaded, "size", 0) or 0)
    _refuse(rules.scan_decision("pdf", "", size, name))  # size only: the content is judged below
    path = storage.partial_path(uuid.uuid4())
    digest, written = hashlib.sha256(), 0
    try:
        with open(path, "wb") as fh:
            for chunk in uploaded.chunks(storage.CHUNK):
                written += len(chunk)
                if written > rules.MAX_SCAN_BYTES:
                    break
                digest.update(chunk)
                fh.write(chunk)
        kind = sniff.sniff(path)
        _refuse(rules.scan_decision(kind, str(FileKind(kind).label), written, name))
        key = storage.store_finished(path, storage.new_storage_key())
    finally:
        Path(path).unlink(missing_ok=True)
    try:
        with transaction.atomic():
            stored = StoredFile.objects.create(owner=actor, storage_key=key, original_name=name, size=written,
                                               sha256=digest.hexdigest(), kind=kind)
            record(actor, "media.file.upload", stored, after={"name": name, "size": written, "kind": kind,
                                                               "sha256": stored.sha256})
            transaction.on_commit(lambda: _enqueue_probe(stored.pk), robust=True)
    except Exception:
        storage.delete_quietly(key)
        raise
    return stored


def _enqueue_probe(file_id) -> None:
    from media.tasks import probe_file

    probe_file.enqueue(str(file_id))


def upload_scan(actor, campaign: Campaign, unit: Unit, uploaded, *, now: datetime | None = None) -> ContactForm:
    """Store an uploaded scan and put it on the form (a plain multipart upload; ≤ 20 MB)."""
    now = now or timezone.now()
    _prepare(actor, campaign, unit, now)  # refuse before receiving the bytes into the storage
    stored = _store(actor, uploaded)
    return attach_scan(actor, campaign, unit, stored.pk, now=now)


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        raise ServiceError(_("文件编号格式不正确。"), status=404) from None


@transaction.atomic
def attach_scan(actor, campaign: Campaign, unit: Unit, file_id, *, now: datetime | None = None) -> ContactForm:
    """Put one of the actor's stored files (e.g. uploaded through tus) on the form as its scan; the
    previous scan stays in the storage (the audit log names it)."""
    now = now or timezone.now()
    level = _prepare(actor, campaign, unit, now)
    stored = StoredFile.objects.filter(pk=_uuid(file_id), owner=actor).first()
    if stored is None:
        raise ServiceError(_("找不到这个文件，或它不是您上传的。请重新上传。"), status=404)
    _refuse(rules.scan_decision(stored.kind, stored.get_kind_display(), stored.size, stored.original_name))
    form = _locked_form(actor, campaign, unit, level)
    if form.scan_id == stored.pk:
        return form
    before = snapshot(form)
    form.scan, form.updated_by = stored, actor
    form.save()
    record(actor, "contacts.form.scan", form, before=before, after=snapshot(form), unit=unit)
    return form


@transaction.atomic
def file_form(actor, campaign: Campaign, unit: Unit, *, now: datetime | None = None) -> ContactForm:
    """提交: the form goes to the level above; it needs at least one person and the scan."""
    now = now or timezone.now()
    level = _prepare(actor, campaign, unit, now)
    form = _locked_form(actor, campaign, unit, level)
    _refuse(rules.file_decision(form.people.count(), form.scan_id is not None, form.filed))
    before = snapshot(form)
    form.filed_at, form.filed_by, form.updated_by = now, actor, actor
    form.save()
    record(actor, "contacts.form.file", form, before=before, after=snapshot(form), unit=unit)
    return form


@transaction.atomic
def reopen(actor, campaign: Campaign, unit: Unit, new_deadline, reason: str, *,
           now: datetime | None = None) -> datetime:
    """The level above gives a unit a new contact-form deadline (a deadline override of the unit at
    its level; its recommendation deadlines are kept). Returns the new deadline."""
    now = now or timezone.now()
    if not actor.has_perm("contacts.reopen_unit", unit):
        raise PermissionDenied(_("只有上级单位管理员可以重新开放。"))
    if not files(campaign, unit):
        raise Http404(_("%(unit)s不需要在本活动中填写工作联系表。") % {"unit": unit.name})
    try:
        deadline = campaign_rules.parse_deadline(new_deadline) if new_deadline not in (None, "") else None
    except ValueError as exc:
        raise ServiceError(str(exc), errors=[{"rule": "deadline"}]) from None
    _refuse(rules.reopen_decision(now, deadline, reason))
    level = _levels(campaign)[unit.kind]
    existing = DeadlineOverride.objects.filter(level=level, unit=unit).first()
    campaign_services.set_deadline_override(
        actor, campaign, level_kind=unit.kind, unit=unit,
        deadline=existing.deadline if existing else None,
        confirm_deadline=existing.confirm_deadline if existing else None,
        contact_form_deadline=deadline, reason=reason.strip())
    record(actor, "contacts.reopen", campaign, after={"unit": unit.name, "contact_form_deadline": deadline.isoformat()},
           reason=reason.strip(), unit=unit)
    return deadline


# --- the export ---------------------------------------------------------------------------------------
def export_rows(campaign: Campaign, rows: list[Duty]):
    """One row per person of every filed form: 单位名称, 姓名, 职务, 手机, 负责类别, 备注, 提交时间."""
    labels = category_labels(campaign)
    for d in rows:
        if not d.filed:
            continue
        for p in d.people:
            yield [d.unit.name, p.name, p.position, p.mobile, rules.category_text(p.categories, labels), p.remark,
                   rules.local_text(d.filed_at)]


def unfiled_rows(rows: list[Duty]):
    """The units that have not filed: 单位名称, 状态, 截止时间, 最后修改."""
    for d in rows:
        if not d.filed:
            yield [d.unit.name, d.status_label, rules.local_text(d.deadline) if d.deadline else "",
                   rules.local_text(d.updated_at) if d.updated_at else ""]

