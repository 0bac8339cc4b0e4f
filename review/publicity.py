"""公示 (publicity period) and objections: use cases, the public reading and the hooks into selection.

A unit's results at its level (its recommended entries and those named its own award) are
published for the campaign's number of days (``Level.publicity_days``) on a public page with an
objection form. Its admins resolve every objection with a written outcome (dismissed: 维持原结果;
upheld: 成立, which may withdraw the item it names through ``selection.services``); only after the
period is over and every objection is resolved can they finalize, and only then can the unit
confirm its summary table (``selection.hooks.confirm_blockers``). While the publicity is not final,
the published entries cannot change outside the objection path (``decision_blockers``).

Audit: open / close / finalize on the campaign scoped to the unit (they join each entry's timeline
through ``selection.rules.ENTRY_UNIT_ACTIONS``); an objection received or resolved and an item
withdrawn on the item's course (the entry's history and the unit's history).
"""

from __future__ import annotations

import contextvars
import hashlib
import re
import secrets
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record
from campaigns.models import Campaign, Level
from courses.models import CourseMember
from jingpinke.errors import ServiceError
from jingpinke.inputs import parse_id
from jingpinke.sql import Compiled
from notifications.models import Kind
from notifications.services import notify, unit_admins
from orgs.models import Unit
from review.models import Objection, ObjectionState, Publicity, PublicityItem, PublicityState
from review.permissions import RoundTarget
from selection import rules as selection_rules
from selection import services as selection_services
from selection.models import Entry, EntryState, UnitLevel

MAX_ATTACHMENT = 10 * 1024 * 1024
PER_IP_PER_HOUR = 3
PER_CONTACT_PER_PUBLICITY = 10
RECENT_FINAL_DAYS = 30
PHONE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")
_DIGITS = re.compile(r"\d{7,}")  # a phone number hidden in a name (e.g. a mobile used as username)

# The entry an upheld objection is withdrawing: its decisions pass the decision blocker.
_withdrawing: contextvars.ContextVar[int | None] = contextvars.ContextVar("publicity_withdrawing", default=None)


def _require(actor, perm: str, obj, message: str) -> None:
    if not actor.has_perm(perm, obj):
        raise PermissionDenied(message)


def phase(publicity: Publicity, now: datetime | None = None) -> str:
    """The state as it stands now: ``open`` until ``ends_at``, then ``closed`` until finalized."""
    if publicity.state == PublicityState.FINAL:
        return PublicityState.FINAL
    return PublicityState.OPEN if (now or timezone.now()) <= publicity.ends_at else PublicityState.CLOSED


def phase_label(publicity: Publicity, now: datetime | None = None) -> str:
    return str(PublicityState(phase(publicity, now)).label)


def countdown(publicity: Publicity, now: datetime | None = None) -> str:
    """“距公示结束还有 2 天 3 小时” while open; else the phase's label."""
    now = now or timezone.now()
    if phase(publicity, now) != PublicityState.OPEN:
        return phase_label(publicity, now)
    left = publicity.ends_at - now
    days, hours = left.days, left.seconds // 3600
    if days:
        return _("距公示结束还有 %(d)s 天 %(h)s 小时") % {"d": days, "h": hours}
    return _("距公示结束还有 %(h)s 小时 %(m)s 分钟") % {"h": hours, "m": left.seconds % 3600 // 60}


# --- admins: reading ---------------------------------------------------------------------------------
def publicities_for(user) -> QuerySet[Publicity]:
    """Publicities of units the user administers (and those below them)."""
    if not (user and user.is_authenticated):
        return Publicity.objects.none()
    qs = Publicity.objects.select_related("campaign", "level", "unit")
    if user.is_system_admin:
        return qs
    q = Q()
    for unit in user.admin_units():
        q |= Q(unit__path__startswith=unit.path)
    return qs.filter(q) if q else Publicity.objects.none()


def get_publicity(actor, pk) -> Publicity:
    publicity = publicities_for(actor).filter(pk=parse_id(pk) or 0).first()
    if publicity is None or not actor.has_perm("review.manage_publicity", publicity):
        raise Http404(_("未找到该公示，或您无权查看。"))
    return publicity


def detail(actor, pk, *, now: datetime | None = None) -> Publicity:
    """A publicity with its items and objections (``items_list``, ``objections_list``); records the
    end of the period the first time an admin looks after it."""
    publicity = get_publicity(actor, pk)
    close_if_over(publicity, now=now)
    publicity.items_list = list(publicity.items.all())
    publicity.objections_list = list(publicity.objections.select_related("item", "resolved_by"))
    return publicity


def unit_publicities(actor, campaign: Campaign, unit: Unit) -> list[Publicity]:
    return list(publicities_for(actor).filter(campaign=campaign, unit=unit))


# --- admins: creating ------------------------------------------------------------------------------
def _teachers(entry: Entry, members: dict[int, list[str]]) -> str:
    names = [entry.course.lead_teacher.display_name, *members.get(entry.course_id, [])]
    names = [_DIGITS.sub("", n).strip() for n in dict.fromkeys(names)]
    return "、".join(n for n in names if n)[:500]


def _subject(entry: Entry) -> str:
    tb = entry.node.textbook
    return " ".join(x for x in (tb.get_stage_display(), tb.grade, tb.subject) if x)[:100]


@transaction.atomic
def create(actor, campaign: Campaign, unit: Unit, *, title: str = "", note: str = "",
           now: datetime | None = None) -> Publicity:
    """Publish the unit's current recommended and awarded entries at its level."""
    now = now or timezone.now()
    level = Level.objects.filter(campaign=campaign, kind=unit.kind).first()
    if level is None:
        raise ServiceError(_("本活动没有“%(unit)s”所在的层级，无法公示。") % {"unit": unit.name})
    _require(actor, "review.publicize", RoundTarget(campaign, level, unit),
             _("只有本单位管理员可以发起本级的公示。"))
    # The unit's row, as selection's decisions and confirmation lock it: a decision or a confirmation
    # racing the publication is served before it (and published, or refused) or after it (and blocked).
    UnitLevel.objects.get_or_create(campaign=campaign, level=level, unit=unit)
    unit_level = UnitLevel.objects.select_for_update().get(level=level, unit=unit)
    if unit_level.confirmed:
        raise ServiceError(_("本单位已确认推荐汇总表，结果已锁定，不能再发起公示。如需公示，请联系上级单位解锁。"))
    if Publicity.objects.filter(level=level, unit=unit).exclude(state=PublicityState.FINAL).exists():
        raise ServiceError(_("本单位本级已有一次公示尚未确定结果，请先处理完它。"))
    entries = list(Entry.objects.filter(Q(state=EntryState.RECOMMENDED) | Q(awarded=True), level=level, unit=unit)
                   .exclude(state=EntryState.RETURNED)
                   .select_related("course__school", "course__lead_teacher", "node__textbook")
                   .order_by("course__category", F("rank").asc(nulls_last=True), "id"))
    if not entries:
        raise ServiceError(_("本单位本级还没有推荐或评为本级荣誉的课程，没有可公示的结果。"))
    members: dict[int, list[str]] = {}
    for m in (CourseMember.objects.filter(course_id__in=[e.course_id for e in entries])
              .select_related("user").order_by("order", "id")):
        members.setdefault(m.course_id, []).append(m.user.display_name)
    title = (title or "").strip()[:200] or _("%(unit)s%(level)s结果公示") % {"unit": unit.name, "level": level.name}
    try:
        with transaction.atomic():
            publicity = Publicity.objects.create(
                campaign=campaign, level=level, unit=unit, slug=secrets.token_urlsafe(16)[:22], title=title,
                note=(note or "").strip(), starts_at=now, ends_at=now + timedelta(days=level.publicity_days),
                created_by=actor)
    except IntegrityError:
        raise ServiceError(_("本单位本级已有一次公示尚未确定结果，请先处理完它。")) from None
    PublicityItem.objects.bulk_create([
        PublicityItem(publicity=publicity, entry=e, order=i, course_title=e.course.title,
                      school_name=e.course.school.name, teachers=_teachers(e, members), category=e.course.category,
                      subject=_subject(e), node_label=str(e.node)[:500],
                      recommended=e.state == EntryState.RECOMMENDED, awarded=e.awarded)
        for i, e in enumerate(entries, 1)])
    record(actor, "review.publicity.open", campaign, after={
        "publicity": publicity.pk, "level": level.kind, "title": title, "items": len(entries),
        "starts_at": publicity.starts_at, "ends_at": publicity.ends_at}, unit=unit)
    return publicity


def close_if_over(publicity: Publicity, *, now: datetime | None = None, actor=None) -> bool:
    """Mark the period over (once, recorded) when ``ends_at`` has passed."""
    if publicity.state != PublicityState.OPEN or phase(publicity, now) == PublicityState.OPEN:
        return False
    with transaction.atomic():
        changed = Publicity.objects.filter(pk=publicity.pk, state=PublicityState.OPEN).update(
            state=PublicityState.CLOSED)
        publicity.state = PublicityState.CLOSED
        if changed:
            record(actor, "review.publicity.close", publicity.campaign, after={
                "publicity": publicity.pk, "level": publicity.level.kind, "title": publicity.title,
                "objections": publicity.objections.count()}, unit=publicity.unit)
    return bool(changed)


# --- admins: objections and finalizing ---------------------------------------------------------------
def get_objection(actor, pk) -> Objection:
    objection = (Objection.objects.select_related("publicity__unit", "publicity__level", "publicity__campaign",
                                                  "item__entry").filter(pk=parse_id(pk) or 0).first())
    if objection is None or not actor.has_perm("review.manage_publicity", objection.publicity):
        raise Http404(_("未找到该异议，或您无权查看。"))
    return objection


def _withdraw(actor, item: PublicityItem, outcome: str, now: datetime) -> None:
    """Undo the item's recommendation (then decline it, with the outcome as the reason) and remove
    its award, through selection (its rules apply)."""
    token = _withdrawing.set(item.entry_id)
    try:
        entry = Entry.objects.get(pk=item.entry_id)
        if entry.state == EntryState.RECOMMENDED:
            selection_services.decide(actor, entry.pk, selection_rules.Action.UNDO, now=now)
            selection_services.decide(actor, entry.pk, selection_rules.Action.DECLINE, reason=outcome, now=now)
        if entry.awarded:
            selection_services.set_award(actor, entry.pk, False, now=now)
    except (ServiceError, PermissionDenied, Http404) as exc:
        raise ServiceError(_("撤销《%(t)s》的结果被拒绝：%(d)s 异议仍为待处理，未做任何更改。") % {
            "t": item.course_title, "d": getattr(exc, "message", None) or str(exc)},
            errors=[{"rule": "withdraw", "detail": getattr(exc, "message", None) or str(exc)}]) from None
    finally:
        _withdrawing.reset(token)


@transaction.atomic
def resolve(actor, objection_id, decision: str, outcome: str, *, withdraw: bool = False,
            now: datetime | None = None) -> Objection:
    """Resolve an objection with a written outcome: ``dismissed`` (维持原结果) or ``upheld`` (成立);
    an upheld objection naming a course may ``withdraw`` it."""
    now = now or timezone.now()
    objection = get_objection(actor, objection_id)
    _require(actor, "review.manage_publicity", objection.publicity, _("只有本单位管理员可以处理异议。"))
    objection = Objection.objects.select_for_update(of=("self",)).select_related("item__entry").get(pk=objection.pk)
    publicity = objection.publicity
    if publicity.state == PublicityState.FINAL:
        raise ServiceError(_("公示结果已确定，不能再处理异议。"))
    if objection.state != ObjectionState.OPEN:
        raise ServiceError(_("这条异议已经处理过了。"))
    if decision not in (ObjectionState.UPHELD, ObjectionState.DISMISSED):
        raise ServiceError(_("请选择处理结论：异议成立，或维持原结果。"), errors=[{"field": "decision"}])
    outcome = (outcome or "").strip()
    if not outcome:
        raise ServiceError(_("请写明处理结果（调查情况和结论），它将记入记录。"), errors=[{"field": "outcome"}])
    item = objection.item
    withdraw = bool(withdraw) and decision == ObjectionState.UPHELD
    if withdraw and item is None:
        raise ServiceError(_("这条异议没有指明课程，无法撤销结果；请在处理结果中写明。"), errors=[{"field": "withdraw"}])
    if withdraw and item.withdrawn:
        raise ServiceError(_("《%(t)s》的结果已经撤销过了。") % {"t": item.course_title})
    if withdraw:
        _withdraw(actor, item, outcome, now)
        item.withdrawn, item.withdrawn_note = True, outcome
        item.save(update_fields=["withdrawn", "withdrawn_note"])
        record(actor, "review.publicity.withdraw", item.entry.course, after={
            "publicity": publicity.pk, "objection": objection.pk, "title": publicity.title}, reason=outcome,
            unit=publicity.unit)
    objection.state, objection.outcome, objection.resolved_by, objection.resolved_at = decision, outcome, actor, now
    objection.save(update_fields=["state", "outcome", "resolved_by", "resolved_at"])
    record(actor, "review.objection.resolve", item.entry.course if item else publicity.campaign, after={
        "publicity": publicity.pk, "objection": objection.pk, "state": decision, "withdrawn": withdraw},
        reason=outcome, unit=publicity.unit)
    return objection


@transaction.atomic
def finalize(actor, publicity_id, *, now: datetime | None = None) -> Publicity:
    """The results become final: only after the period and with every objection resolved."""
    now = now or timezone.now()
    publicity = get_publicity(actor, publicity_id)
    _require(actor, "review.manage_publicity", publicity, _("只有本单位管理员可以确定公示结果。"))
    publicity = Publicity.objects.select_for_update().select_related("campaign", "level", "unit").get(pk=publicity.pk)
    if publicity.state == PublicityState.FINAL:
        raise ServiceError(_("公示结果已经确定了。"))
    missing = []
    if now <= publicity.ends_at:
        missing.append(_("公示期到 %(when)s 才结束") % {"when": selection_rules.local_text(publicity.ends_at)})
    open_count = publicity.objections.filter(state=ObjectionState.OPEN).count()
    if open_count:
        missing.append(_("还有 %(n)s 条异议未处理") % {"n": open_count})
    if missing:
        raise ServiceError(_("暂不能确定公示结果：%(what)s。") % {"what": "；".join(missing)},
                           errors=[{"rule": "finalize", "missing": missing}])
    close_if_over(publicity, now=now, actor=actor)
    publicity.state, publicity.finalized_at, publicity.finalized_by = PublicityState.FINAL, now, actor
    publicity.save(update_fields=["state", "finalized_at", "finalized_by"])
    withdrawn = publicity.items.filter(withdrawn=True).count()
    record(actor, "review.publicity.finalize", publicity.campaign, after={
        "publicity": publicity.pk, "level": publicity.level.kind, "title": publicity.title,
        "withdrawn": withdrawn}, unit=publicity.unit)
    return publicity


def attachment(actor, objection_id) -> Objection:
    """An objection's attachment, for the unit's admins only (404 when there is none)."""
    objection = get_objection(actor, objection_id)
    if not objection.attachment:
        raise Http404(_("这条异议没有附件。"))
    return objection


# --- the public side -----------------------------------------------------------------------------------
def public_list(now: datetime | None = None) -> list[Publicity]:
    """Publicities not yet final, and those finalized in the last 30 days, newest first."""
    now = now or timezone.now()
    return list(Publicity.objects.filter(Q(finalized_at__isnull=True) |
                                         Q(finalized_at__gte=now - timedelta(days=RECENT_FINAL_DAYS)))
                .select_related("unit", "level").annotate(n=Count("items")).order_by("-starts_at", "-id"))


def get_public(slug: str) -> Publicity:
    publicity = Publicity.objects.select_related("unit", "level", "campaign").filter(slug=str(slug)[:32]).first()
    if publicity is None:
        raise Http404(_("未找到该公示。"))
    publicity.items_list = list(publicity.items.all())
    return publicity


def ip_hash(ip: str) -> str:
    return hashlib.sha256(f"{settings.SECRET_KEY}|objection|{ip}".encode()).hexdigest()


def clean_contact(value: str) -> str:
    """A phone number (mobile, or landline with area code) or an e-mail address."""
    value = (value or "").strip().replace(" ", "")
    if PHONE.match(value):
        return value
    try:
        validate_email(value)
    except ValidationError:
        raise ValidationError(_("请填写手机号码（11 位）、带区号的固定电话或电子邮箱，以便我们联系您。")) from None
    return value


ATTACHMENT_KINDS = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png",
                    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def sniff(upload) -> str:
    """The attachment's kind by its content (pdf, jpg, png, docx), whatever its name says."""
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(upload) as z:
                if "word/document.xml" in z.namelist():
                    return "docx"
        except (zipfile.BadZipFile, OSError):
            pass
        finally:
            upload.seek(0)
    raise ValidationError(_("附件只能是 PDF、JPG、PNG 图片或 Word（DOCX）文档。"))


def check_attachment(upload) -> str:
    if upload.size > MAX_ATTACHMENT:
        raise ValidationError(_("附件不能超过 10 MB。"))
    return sniff(upload)


@dataclass(frozen=True)
class ObjectionInput:
    name: str
    contact: str
    content: str
    item_id: int | None = None
    attachment: object = None  # an UploadedFile already checked (check_attachment)
    kind: str = ""


def _notify_admins(publicity: Publicity, objection: Objection) -> None:
    people = unit_admins([publicity.unit_id]).get(publicity.unit_id, [])
    what = objection.item.course_title if objection.item else _("（未指明课程）")
    notify(people, Kind.REMIND, _("公示收到新的异议：%(t)s") % {"t": publicity.title},
           _("涉及：%(what)s。请在公示管理页查看并处理，写明处理结果。") % {"what": what},
           link=reverse("review:publicity", args=[publicity.pk]), campaign=publicity.campaign)


@transaction.atomic
def submit_objection(slug: str, data: ObjectionInput, ip: str, *, now: datetime | None = None) -> Objection:
    """An objection from the public form (no login): within the period, rate limited in the
    database (per IP per hour, per contact per publicity) so it holds across processes and nodes."""
    now = now or timezone.now()
    publicity = Publicity.objects.filter(slug=str(slug)[:32]).first()
    if publicity is None:
        raise Http404(_("未找到该公示。"))
    # One objection at a time per publicity: the counts below cannot be overrun together.
    publicity = Publicity.objects.select_for_update().select_related("campaign", "unit", "level").get(pk=publicity.pk)
    if phase(publicity, now) != PublicityState.OPEN:
        raise ServiceError(_("公示期已结束，不再受理异议。"), errors=[{"rule": "period"}])
    item = None
    if data.item_id is not None:
        item = publicity.items.filter(pk=data.item_id).first()
        if item is None:
            raise ServiceError(_("所选课程不在本次公示中，请重新选择。"), errors=[{"field": "item"}])
    hashed = ip_hash(ip)
    recent = list(Objection.objects.filter(ip_hash=hashed, created_at__gt=now - timedelta(hours=1))
                  .order_by("created_at").values_list("created_at", flat=True))
    if len(recent) >= PER_IP_PER_HOUR:
        again = recent[-PER_IP_PER_HOUR] + timedelta(hours=1)
        raise ServiceError(_("提交过于频繁：每小时最多提交 %(n)s 条异议，请于 %(when)s 之后再试。") % {
            "n": PER_IP_PER_HOUR, "when": selection_rules.local_text(again + timedelta(minutes=1))},
            errors=[{"rule": "rate", "retry_at": again.isoformat()}], status=429)
    if publicity.objections.filter(contact__iexact=data.contact).count() >= PER_CONTACT_PER_PUBLICITY:
        raise ServiceError(_("同一联系方式对本次公示最多提交 %(n)s 条异议，已达上限；如有补充，请等待处理结果或与公示单位联系。") % {
            "n": PER_CONTACT_PER_PUBLICITY}, errors=[{"rule": "rate"}], status=429)
    objection = Objection(publicity=publicity, item=item, name=data.name.strip()[:50],
                          contact=data.contact.strip()[:100], content=data.content.strip(), ip_hash=hashed,
                          created_at=now)
    if data.attachment is not None:
        objection.attachment_name = str(getattr(data.attachment, "name", ""))[:200]
        objection.attachment_type = ATTACHMENT_KINDS[data.kind]
        objection.attachment.save(f"{secrets.token_hex(16)}.{data.kind}", data.attachment, save=False)
    objection.save()
    record(_("公众"), "review.objection.receive", item.entry.course if item else publicity.campaign, after={
        "publicity": publicity.pk, "objection": objection.pk, "title": publicity.title,
        "attachment": bool(objection.attachment)}, unit=publicity.unit)
    _notify_admins(publicity, objection)
    return objection


# --- the hooks into selection ------------------------------------------------------------------------
def confirm_blocker(unit, level) -> str | None:
    if Publicity.objects.filter(unit=unit, level=level).exclude(state=PublicityState.FINAL).exists():
        return _("公示尚未结束或仍有异议未处理，暂不能确认推荐汇总表。")
    return None


_OPEN_PUBLICITY = Compiled(lambda unit_id, level_id: Publicity.objects.filter(unit_id=unit_id, level_id=level_id)
                           .exclude(state=PublicityState.FINAL).order_by().values_list("pk")[:1])


def decision_blocker(entry, action: str) -> str | None:
    if _withdrawing.get() == entry.pk:
        return None
    if not _OPEN_PUBLICITY.rows(entry.unit_id, entry.level_id):  # (every decision asks: compiled once)
        return None
    pending = Publicity.objects.filter(unit_id=entry.unit_id, level_id=entry.level_id).exclude(
        state=PublicityState.FINAL)
    if PublicityItem.objects.filter(publicity__in=pending, entry_id=entry.pk, withdrawn=False).exists():
        return _("该课程正在公示，结果确定前不能更改；如异议成立，请在公示管理页处理异议时撤销。")
    if action in (selection_rules.Action.RECOMMEND, "award"):
        return _("本单位本级正在公示，结果确定前不能新增推荐或本级荣誉。")
    return None
