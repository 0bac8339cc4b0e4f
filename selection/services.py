"""Use cases of the selection workflow: each loads plain data, locks the rows, asks
``selection.rules``, saves and records the audit event.

Concurrency: every decision of a unit at a level first locks that unit's ``UnitLevel`` row
(``select_for_update``), so two admins of one unit recommending at the same moment are served one
after the other and the second sees the first's recommendation when the quota and the node rule
are counted; database constraints back the one-entry-per-level and one-course-per-node rules.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record
from campaigns import rules as campaign_rules
from campaigns import services as campaign_services
from campaigns.enums import NodeRule, ResourceKind
from campaigns.models import Campaign, Level
from jingpinke.errors import ServiceError
from orgs.models import Unit
from selection import rules
from selection.models import Entry, EntryState, UnitLevel

CHAIN_KINDS = ("school", "county", "city", "province")


# --- reading -----------------------------------------------------------------------------------------
def entries_for(user) -> QuerySet[Entry]:
    """Entries held by units the user administers (a county admin: his county's and his
    schools'). Everything else is out of sight."""
    if not (user and user.is_authenticated):
        return Entry.objects.none()
    qs = Entry.objects.select_related("course", "level", "unit", "from_unit", "node__textbook")
    if user.is_system_admin:
        return qs
    units = user.admin_units()
    if not units:
        return Entry.objects.none()
    from django.db.models import Q

    q = Q()
    for unit in units:
        q |= Q(unit__path__startswith=unit.path)
    return qs.filter(q)


def get_entry(actor, pk) -> Entry:
    entry = entries_for(actor).filter(pk=pk).first()
    if entry is None:
        raise Http404(_("未找到该推荐记录，或您无权查看。"))
    return entry


# --- plumbing ----------------------------------------------------------------------------------------
def _level(campaign: Campaign, kind: str) -> Level | None:
    return Level.objects.filter(campaign=campaign, kind=kind).first()


def _locked_unit_level(campaign: Campaign, level: Level, unit: Unit) -> UnitLevel:
    UnitLevel.objects.get_or_create(campaign=campaign, level=level, unit=unit)
    return UnitLevel.objects.select_for_update().get(level=level, unit=unit)


def _deadline(campaign: Campaign, unit: Unit, level: Level, field: str = "deadline") -> datetime | None:
    for row in campaign_services.deadlines_for(campaign, unit):
        if row.level.pk == level.pk:
            return getattr(row, field)
    return getattr(level, field)


def _next_step(campaign: Campaign, unit: Unit) -> tuple[Level, Unit] | None:
    """Where a recommendation of ``unit`` goes: its parent unit, at the parent's level, when the
    campaign runs that level; None when it leaves this platform (e.g. a city campaign's top)."""
    parent = unit.parent
    if parent is None or parent.kind not in CHAIN_KINDS:
        return None
    level = _level(campaign, parent.kind)
    return (level, parent) if level else None


def _pick(entry: Entry) -> rules.Pick:
    textbook = entry.node.textbook
    return rules.Pick(entry.pk, entry.course.category, textbook.subject, entry.node_id, entry.course.title)


def _current(level: Level, unit: Unit, **state) -> list[rules.Pick]:
    qs = Entry.objects.filter(level=level, unit=unit, **state).select_related("course", "node__textbook")
    return [_pick(e) for e in qs]


def _quota(campaign: Campaign, unit: Unit, category: str, subject: str) -> rules.QuotaLimit | None:
    row = campaign_services.quota_for(campaign, unit, category, subject)
    if row is None:
        return None
    return rules.QuotaLimit(row.limit, row.subject, row.per_subject)


def _missing_resources(level: Level, course) -> tuple[str, ...]:
    required = list(level.required_resources or [])
    if not required:
        return ()
    periods = list(course.periods.prefetch_related("resources"))
    missing = []
    for kind in required:
        if not periods or any(kind not in {r.slot_kind for r in p.resources.all()} for p in periods):
            missing.append(str(ResourceKind(kind).label) if kind in ResourceKind.values else kind)
    return tuple(missing)


def _snapshot(entry: Entry) -> dict:
    return {"state": entry.state, "rank": entry.rank, "awarded": entry.awarded, "unit": entry.unit.name,
            "level": entry.level.name, "reason": entry.reason, "node_reason": entry.node_reason}


def _refuse(decision: rules.Decision) -> None:
    if not decision.ok:
        raise ServiceError(decision.message, errors=[{"rule": decision.rule, "needs_reason": decision.needs_reason}])


def _require(actor, perm: str, obj, message: str) -> None:
    if not actor.has_perm(perm, obj):
        raise PermissionDenied(message)


# --- entering and leaving the school level (called by courses on submit / withdraw) -----------------
@transaction.atomic
def enter(actor, course) -> Entry:
    """A submitted course reaches its school; a course that was returned goes back to the unit
    that returned it."""
    returned = Entry.objects.select_for_update().filter(course=course, state=EntryState.RETURNED).first()
    if returned is not None:
        deadline = _deadline(course.campaign, returned.unit, returned.level)
        _refuse(rules.deadline_decision(timezone.now(), deadline, returned.level.name))
        before = _snapshot(returned)
        returned.state, returned.decided_at, returned.decided_by = EntryState.PENDING, None, None
        returned.save(update_fields=["state", "decided_at", "decided_by"])
        record(actor, "selection.resubmit", course, before=before, after=_snapshot(returned), unit=returned.unit)
        return returned
    level = _level(course.campaign, "school")
    if level is None:
        raise ServiceError(_("本活动没有设置学校层级，无法提交。请联系主办单位。"))
    entry, _created = Entry.objects.get_or_create(
        course=course, level=level,
        defaults={"unit": course.school, "node": course.node,
                  "node_exclusive": course.campaign.node_rule == NodeRule.BLOCK})
    if entry.state != EntryState.PENDING:
        entry.state = EntryState.PENDING
        entry.save(update_fields=["state"])
    record(actor, "selection.enter", course, after=_snapshot(entry), unit=course.school)
    return entry


def school_has_acted(course) -> bool:
    return Entry.objects.filter(course=course).exclude(level__kind="school", state=EntryState.PENDING).exists()


@transaction.atomic
def leave(actor, course) -> None:
    """The teacher withdraws a submitted course the school has not acted on."""
    if school_has_acted(course):
        raise ServiceError(_("学校已经处理了这门课程，不能再撤回。如需修改，请联系学校管理员退回。"))
    Entry.objects.filter(course=course, level__kind="school", state=EntryState.PENDING).delete()
    record(actor, "selection.withdraw", course, unit=course.school)


# --- decisions of a unit ---------------------------------------------------------------------------
@transaction.atomic
def decide(actor, entry_id, action: str, *, reason: str = "", node_reason: str = "", rank: int | None = None,
           now: datetime | None = None) -> Entry:
    """Return, decline, recommend or undo one entry; see selection.rules for each rule."""
    now = now or timezone.now()
    entry = get_entry(actor, entry_id)
    _require(actor, "selection.decide_entry", entry, _("只有本单位管理员可以处理该课程。"))
    campaign = entry.course.campaign
    unit_level = _locked_unit_level(campaign, entry.level, entry.unit)
    entry = (Entry.objects.select_for_update(of=("self",)).select_related("course", "level", "unit", "node__textbook")
             .get(pk=entry.pk))
    _refuse(rules.lock_decision(unit_level.confirmed))
    _refuse(rules.deadline_decision(now, _deadline(campaign, entry.unit, entry.level), entry.level.name))
    next_entry = None
    if action == rules.Action.UNDO and entry.state == EntryState.RECOMMENDED:
        next_entry = Entry.objects.filter(course=entry.course, from_unit=entry.unit).exclude(pk=entry.pk).first()
    acted_above = bool(next_entry and (next_entry.state != EntryState.PENDING or next_entry.awarded))
    target, decision = rules.transition(entry.state, action, reason=reason, next_level_acted=acted_above)
    _refuse(decision)
    before = _snapshot(entry)
    course = entry.course

    if action == rules.Action.RECOMMEND:
        situation = rules.Situation(
            now=now, deadline=None, level_name=entry.level.name, confirmed=False,
            current=tuple(_current(entry.level, entry.unit, state=EntryState.RECOMMENDED)),
            quota=_quota(campaign, entry.unit, course.category, entry.node.textbook.subject),
            node_rule=campaign.node_rule, missing_resources=_missing_resources(entry.level, course))
        _refuse(rules.recommend_decision(situation, _pick(entry), node_reason))
        if rank is None:
            rank = (Entry.objects.filter(level=entry.level, unit=entry.unit, state=EntryState.RECOMMENDED)
                    .aggregate(m=Max("rank"))["m"] or 0) + 1
        entry.rank = rank
        entry.node_reason = node_reason.strip()
        entry.node_exclusive = campaign.node_rule == NodeRule.BLOCK  # the rule in force when it was decided
    elif action == rules.Action.RETURN:
        course.status = "returned"
        course.return_reason = reason.strip()
        course.save(update_fields=["status", "return_reason", "updated_at"])
    elif action == rules.Action.UNDO:
        entry.rank = None
        if next_entry is not None:
            next_entry.delete()
    if action in (rules.Action.RETURN, rules.Action.DECLINE):
        entry.reason = reason.strip()
    if entry.level.kind == "school" and action != rules.Action.UNDO:
        course.school_acted_at = now
        course.save(update_fields=["school_acted_at", "updated_at"])

    entry.state = target
    entry.decided_at, entry.decided_by = (None, None) if target == EntryState.PENDING else (now, actor)
    try:
        with transaction.atomic():
            entry.save()
            if action == rules.Action.RECOMMEND:
                step = _next_step(campaign, entry.unit)
                if step is not None:
                    level, unit = step
                    Entry.objects.create(course=course, level=level, unit=unit, from_unit=entry.unit, node=entry.node,
                                         node_exclusive=campaign.node_rule == NodeRule.BLOCK)
    except IntegrityError:
        raise ServiceError(_("同一目录节点原则上只推荐 1 节课：本单位已推荐了该节点的另一门课程。"),
                           errors=[{"rule": "node"}]) from None
    record(actor, f"selection.{action}", course, before=before, after=_snapshot(entry), reason=reason or node_reason,
           unit=entry.unit)
    return entry


@transaction.atomic
def set_award(actor, entry_id, awarded: bool, *, now: datetime | None = None) -> Entry:
    """Name an entry this level's award (县级/市级精品课), independently of recommending it."""
    now = now or timezone.now()
    entry = get_entry(actor, entry_id)
    _require(actor, "selection.decide_entry", entry, _("只有本单位管理员可以评定本级荣誉。"))
    if not entry.level.award_name:
        raise ServiceError(_("本层级没有设置荣誉称号。"))
    unit_level = _locked_unit_level(entry.course.campaign, entry.level, entry.unit)
    _refuse(rules.lock_decision(unit_level.confirmed))
    _refuse(rules.deadline_decision(now, _deadline(entry.course.campaign, entry.unit, entry.level), entry.level.name))
    if entry.state in (EntryState.RETURNED,) and awarded:
        raise ServiceError(_("已退回修改的课程不能评定荣誉。"))
    before = _snapshot(entry)
    entry.awarded = bool(awarded)
    entry.save(update_fields=["awarded"])
    record(actor, "selection.award" if awarded else "selection.unaward", entry.course, before=before,
           after=_snapshot(entry), unit=entry.unit)
    return entry


# --- shares, confirmation, unlock, reopen --------------------------------------------------------------
def _caps(campaign: Campaign, level_kind: str, applies_to: str) -> list[rules.ShareCap]:
    return [rules.ShareCap(c["category"], tuple(c["subjects"]), int(c["max_percent"]))
            for c in (campaign.share_caps or []) if c.get("level") == level_kind
            and c.get("applies_to", "recommendations") == applies_to]


def share_board(campaign: Campaign, level: Level, unit: Unit) -> dict:
    """Live shares of a unit's set at a level: caps (with the current percentage) and targets."""
    recommended = _current(level, unit, state=EntryState.RECOMMENDED)
    awarded = _current(level, unit, awarded=True)
    caps = [(rules.share_status(recommended, c), "recommendations") for c in _caps(campaign, level.kind, "recommendations")]
    caps += [(rules.share_status(awarded, c), "awards") for c in _caps(campaign, level.kind, "awards")]
    targets = [rules.target_guidance(recommended, rules.TargetShare(t["category"], tuple(t["subjects"]),
                                                                     t.get("min_percent"), t.get("note", "")))
               for t in (campaign.target_shares or []) if t.get("level") == level.kind]
    return {"caps": caps, "targets": targets}


@transaction.atomic
def confirm(actor, campaign: Campaign, level_kind: str, unit: Unit, *, now: datetime | None = None) -> UnitLevel:
    """The unit confirms its summary table: every share cap must hold; its level is then locked."""
    now = now or timezone.now()
    _require(actor, "selection.confirm_unit", unit, _("只有本单位管理员可以确认推荐汇总表。"))
    level = _level(campaign, level_kind)
    if level is None or level.kind != unit.kind:
        raise Http404(_("本活动没有该层级。"))
    unit_level = _locked_unit_level(campaign, level, unit)
    if unit_level.confirmed:
        raise ServiceError(_("推荐汇总表已经确认过了。"))
    confirm_deadline = _deadline(campaign, unit, level, "confirm_deadline") or _deadline(campaign, unit, level)
    _refuse(rules.deadline_decision(now, confirm_deadline, _("推荐汇总表确认")))
    if Entry.objects.filter(level=level, unit=unit, state=EntryState.PENDING).exists():
        raise ServiceError(_("还有待处理的课程。请先逐一推荐、未推荐或退回，再确认汇总表。"))
    recommended = _current(level, unit, state=EntryState.RECOMMENDED)
    awarded = _current(level, unit, awarded=True)
    _refuse(rules.share_decision(recommended, _caps(campaign, level_kind, "recommendations")))
    _refuse(rules.share_decision(awarded, _caps(campaign, level_kind, "awards")))
    unit_level.confirmed_at, unit_level.confirmed_by, unit_level.unlock_reason = now, actor, ""
    unit_level.save()
    record(actor, "selection.confirm", campaign, after={"level": level.name, "recommended": len(recommended),
                                                        "awarded": len(awarded)}, unit=unit)
    return unit_level


@transaction.atomic
def unlock(actor, campaign: Campaign, level_kind: str, unit: Unit, reason: str) -> UnitLevel:
    _require(actor, "selection.unlock_unit", unit, _("只有上级单位管理员可以解锁。"))
    if not reason.strip():
        raise ServiceError(_("解锁时请写明理由。"))
    level = _level(campaign, level_kind)
    if level is None:
        raise Http404(_("本活动没有该层级。"))
    unit_level = _locked_unit_level(campaign, level, unit)
    if not unit_level.confirmed:
        raise ServiceError(_("该单位的推荐汇总表尚未确认，无需解锁。"))
    unit_level.confirmed_at, unit_level.confirmed_by, unit_level.unlock_reason = None, None, reason.strip()
    unit_level.save()
    record(actor, "selection.unlock", campaign, after={"level": level.name}, reason=reason, unit=unit)
    return unit_level


@transaction.atomic
def reopen(actor, campaign: Campaign, level_kind: str, unit: Unit, new_deadline: datetime | None, reason: str, *,
           now: datetime | None = None):
    """The level above gives a unit a new deadline (with a reason) after its deadline passed."""
    now = now or timezone.now()
    _require(actor, "selection.reopen_unit", unit, _("只有上级单位管理员可以重新开放。"))
    deadline = campaign_rules.parse_deadline(new_deadline) if new_deadline is not None else None
    _refuse(rules.reopen_decision(now, deadline, reason))
    override = campaign_services.set_deadline_override(actor, campaign, level_kind=level_kind, unit=unit,
                                                       deadline=deadline, reason=reason)
    record(actor, "selection.reopen", campaign, after={"level": level_kind, "deadline": deadline.isoformat()},
           reason=reason, unit=unit)
    return override
