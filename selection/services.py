"""Use cases of the selection workflow: each loads plain data, locks the rows, asks
``selection.rules``, saves and records the audit event.

Concurrency: every decision of a unit at a level first locks that unit's ``UnitLevel`` row
(``select_for_update``), so two admins of one unit recommending at the same moment are served one
after the other and the second sees the first's recommendation when the quota and the node rule
are counted; database constraints back the one-entry-per-level and one-course-per-node rules.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import reduce

from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
    Window,
)
from django.db.models.deletion import SET_NULL, Collector, get_candidate_relations_to_delete
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, NullIf
from django.db.models.signals import post_delete, pre_delete
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from audit.models import Event
from audit.services import record
from campaigns import rules as campaign_rules
from campaigns import services as campaign_services
from campaigns.enums import NodeRule, ResourceKind
from campaigns.models import Campaign, DeadlineOverride, Level, Quota, ResourceSlot
from catalog.models import CatalogNode, Textbook
from contacts import rules as contact_rules
from contacts.models import ContactForm
from courses import search
from courses.models import Course
from jingpinke.errors import ServiceError
from jingpinke.inputs import parse_id
from jingpinke.paging import InvalidCursor, ListPage, ListPaginator, count_cap
from jingpinke.prepared import prepared
from jingpinke.sql import Compiled, InIds, InSubqueryArray, KeyColumn
from orgs.models import Unit, UnitKind
from selection import hooks, rules, signals
from selection.models import Entry, EntryState, EntryTally, NodeTally, UnitLevel

CHAIN_KINDS = ("school", "county", "city", "province")


# --- reading -----------------------------------------------------------------------------------------
def entries_for(user, held_by: int | None = None) -> QuerySet[Entry]:
    """Entries held by units the user administers (a county admin: his county's and his
    schools'). Everything else is out of sight. ``held_by``: only that unit's, if it is in the
    user's scope (the scope's subquery then reads one unit by its key: SQLite otherwise built the
    list of every unit of a province admin's scope, 20,000 ids, for each query of a desk)."""
    if not (user and user.is_authenticated):
        return Entry.objects.none()
    qs = Entry.objects.select_related("course", "level", "unit", "from_unit", "node__textbook")
    if user.is_system_admin:
        return qs
    units = user.admin_units()
    if not units:
        return Entry.objects.none()
    if held_by is None:
        from courses.services import administers_every_unit

        if administers_every_unit(user):  # every entry: no scope filter (one query on the roots)
            return qs
    q = Q()
    for unit in units:
        q |= Q(path__startswith=unit.path)
    scope = Unit.objects.filter(q)
    if held_by is not None:
        scope = scope.filter(pk=held_by)
    # IN (subquery) rather than a join: the list can walk its ordering index and stop at the page;
    # a county's or a school's scope (sparse along that index) as an array instead (``InSubqueryArray``).
    if held_by is None and _small_units(units):
        return qs.filter(InSubqueryArray("unit_id", scope.order_by().values("pk")))
    return qs.filter(unit_id__in=scope.values("pk"))


def get_entry(actor, pk) -> Entry:
    entry = entries_for(actor).filter(pk=pk).first()
    if entry is None:
        raise Http404(_("未找到该推荐记录，或您无权查看。"))
    return entry


def get_timeline_entry(actor, pk) -> Entry:
    """The entry whose full timeline ``actor`` asks for (``timeline``), with its level, campaign and
    units (one read by key), when he may see it (``selection.view_entry``: the scope of
    ``get_entry_detail``); else the detail's refusal."""
    pk = parse_id(pk)
    entry = _IN_SCOPE.first(pk) if pk is not None else None
    if entry is None or not (actor and actor.has_perm("selection.view_entry", entry)):
        raise Http404(_("未找到该推荐记录，或您无权查看。"))
    return entry


def _entry_in_scope(actor, pk) -> Entry:
    """``get_entry`` for a decision, which reads the entry again under its lock: only the entry, the
    level and campaign and the unit it is held at (the lock and the permission need them) with the
    unit's parent (where a recommendation goes) and the unit it came from (the answer), by its key;
    not the course, node and textbook, nor the default ordering (which joins the campaign and the
    units). An entry never changes its level nor its unit: the locked read need not join them again.

    The scope is tested on the unit read, in Python: ``entries_for``'s filter (the units at or
    below one the user administers; everything for a system admin) is ``User.administers``, so the
    query need not compile and run the scope's subquery."""
    pk = parse_id(pk)
    entry = _IN_SCOPE.first(pk) if pk is not None else None
    if entry is None or not (actor and actor.is_authenticated and actor.administers(entry.unit)):
        raise Http404(_("未找到该推荐记录，或您无权查看。"))
    return entry


# The reads of a decision, each compiled once (``jingpinke.sql.Compiled``): building and compiling
# these joins cost Django more CPU than PostgreSQL spends running them (a recommendation and its
# undo ran ~25 ORM reads, ~0.5 ms of CPU each to build and compile at 200 k, profiled).
_IN_SCOPE = Compiled(lambda pk: Entry.objects.select_related("level__campaign", "unit__parent", "from_unit")
                     .filter(pk=pk).order_by()[:1])
_LOCKED = Compiled(lambda pk: Entry.objects.select_for_update(of=("self",))
                   .select_related("course__school__parent", "course__lead_teacher", "node__textbook")
                   .filter(pk=pk).order_by())
_PATH_OVERRIDES = Compiled(lambda campaign_id, ids: DeadlineOverride.objects.filter(
    level__campaign_id=campaign_id, unit_id__in=ids).select_related("unit"))
_MADE_ABOVE = Compiled(lambda course_id, unit_id, pk: Entry.objects.filter(course_id=course_id, from_unit_id=unit_id)
                       .exclude(pk=pk).annotate(**_references()).order_by()[:1])
_UNIT_LEVEL_LOCKED = Compiled(lambda level_id, unit_id: UnitLevel.objects.select_for_update()
                              .filter(level_id=level_id, unit_id=unit_id).order_by()[:1])
_CHAIN = Compiled(lambda course_id: Entry.objects.filter(course_id=course_id).select_related("unit").order_by())


_LEVELS = Compiled(lambda campaign_id: Level.objects.filter(campaign_id=campaign_id).order_by("id"))


def _prefetch_levels(campaign: Campaign) -> None:
    """``prefetch_related_objects([campaign], Prefetch("levels", queryset=Level.objects.order_by("id")))``
    as it leaves the campaign (``campaign.levels.all()`` answers the levels read, each level's
    ``campaign`` is this instance), read by ``_LEVELS``."""
    levels = _LEVELS.instances(campaign.pk)
    for level in levels:
        Level.campaign.field.set_cached_value(level, campaign)
    qs = campaign.levels._apply_rel_filters(Level.objects.order_by("id"))  # as prefetch_one_level leaves it
    qs._result_cache, qs._prefetch_done = levels, True
    campaign.__dict__.setdefault("_prefetched_objects_cache", {})["levels"] = qs


# --- plumbing ----------------------------------------------------------------------------------------
def _one(qs: QuerySet):
    """The row of a query that matches one row at most (by a unique key), else None: ``first()``
    without its ORDER BY, which a query by a unique key does not need (sorting one row) and which
    cost a third of such a query's CPU to compile (the model's default ordering, or the key's)."""
    return next(iter(qs.order_by()[:1]), None)


def _level(campaign: Campaign, kind: str) -> Level | None:
    """The campaign's level of ``kind``: from its prefetched levels when there are (``_campaign``),
    else one query."""
    if "levels" in getattr(campaign, "_prefetched_objects_cache", {}):
        return next((lv for lv in campaign.levels.all() if lv.kind == kind), None)
    return Level.objects.filter(campaign=campaign, kind=kind).first()


def _locked_unit_level(campaign: Campaign, level: Level, unit: Unit) -> UnitLevel:
    """The unit's row at ``level``, locked (SELECT … FOR UPDATE); made first when it is the first
    time (one query when the row exists, as it does after the unit's first decision)."""
    row = _UNIT_LEVEL_LOCKED.first(level.pk, unit.pk)  # unique (level, unit)
    if row is None:
        UnitLevel.objects.get_or_create(campaign=campaign, level=level, unit=unit)
        row = UnitLevel.objects.select_for_update().get(level=level, unit=unit)
    return row


def _receiving(campaign: Campaign, level: Level, unit: Unit, now: datetime) -> rules.Decision:
    """Whether ``unit`` can still decide a course arriving at ``level``. Locks its ``UnitLevel`` row
    as its own confirmation does, so a confirmation racing the arrival is served before or after
    it, never beside it: the confirmation then sees the new pending entry, or the arrival sees the
    confirmation. Locks go from the lower unit to the higher, never the other way."""
    unit_level = _locked_unit_level(campaign, level, unit)
    return rules.destination_decision(unit.name, level.name, unit_level.confirmed, now, _deadline(campaign, unit, level))


def _read_path_overrides(campaign: Campaign, unit: Unit) -> None:
    """Read the campaign's deadline overrides of ``unit`` and of every unit above it once, for the
    rest of a decision (``deadline_rows``): its own deadline, its parent's where a recommendation
    goes, and the parent's again in the notice to the parent's admins. Kept on this ``campaign``
    instance, which the decision read itself inside its transaction and drops with it."""
    ids = unit.ancestor_ids
    campaign._path_overrides = (frozenset(ids), _PATH_OVERRIDES.instances(campaign.pk, list(ids)))


def deadline_rows(campaign: Campaign, unit: Unit) -> list:
    """``campaigns.services.deadlines_for(campaign, unit)``: without a query when the overrides of
    ``unit``'s path were read for this decision (``_read_path_overrides``), else as it reads them."""
    read = getattr(campaign, "_path_overrides", None)
    if read is not None and read[0].issuperset(unit.ancestor_ids):
        return campaign_services.deadlines_for(campaign, unit, overrides_of=read[1])
    return campaign_services.deadlines_for(campaign, unit)


def _deadline(campaign: Campaign, unit: Unit, level: Level, field: str = "deadline") -> datetime | None:
    for row in deadline_rows(campaign, unit):
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
    """The unit's picks at ``level`` (``state``: a filter), in its recommendation order. Read as
    plain rows, not as entries with their course, node and textbook: a county holds ~100
    recommendations, and building 4 model instances each was about a fifth of a recommendation's CPU
    (cProfile, PostgreSQL 200 k: the largest single part of decide)."""
    return [rules.Pick(*row[:5]) for row in _current_rows(level, unit, **state)]


def _current_rows(level: Level, unit: Unit, **state) -> list[tuple]:
    """``_current``'s rows, each with its rank last (a recommendation ranks itself after the highest).

    The subject is read for each row by its node's key (a subquery), not by joining the catalog:
    PostgreSQL hashed the whole catalog (6,480 nodes, 2.3 of the query's 3.4 ms) to look up the
    ~100 nodes a county recommends (PostgreSQL 200 k)."""
    key = tuple(sorted(state.items()))
    read = _CURRENT.get(key)
    if read is None:
        read = _CURRENT[key] = Compiled(lambda level_id, unit_id: _current_query(level_id, unit_id, **state))
    return read.rows(level.pk, unit.pk)


def _current_query(level_id: int, unit_id: int, **state) -> QuerySet:
    book = CatalogNode.objects.filter(pk=OuterRef(OuterRef("node_id"))).order_by().values("textbook_id")
    subject = Subquery(Textbook.objects.filter(pk=Subquery(book)).order_by().values("subject"))
    return (Entry.objects.filter(level_id=level_id, unit_id=unit_id, **state).order_by("rank", "id")
            .values_list("pk", "course__category", subject, "node_id", "course__title", "rank"))


_CURRENT: dict[tuple, Compiled] = {}  # by the state filter (recommended; awarded)


def _quotas(campaign: Campaign, unit: Unit, category: str, subject: str) -> list[rules.QuotaLimit]:
    """Every quota row a pick of ``category`` / ``subject`` must satisfy (campaigns.rules.resolve_quotas)."""
    # As plain rows, unordered: the unique constraints leave at most one row per tier and subject
    # (resolve_quotas), and the model's ordering joined the campaign twice and the unit to sort them.
    rows = _QUOTAS.rows(campaign.pk, unit.kind, category, unit.pk)
    return _limit_for([campaign_rules.QuotaRow(*row) for row in rows], unit)(category, subject)


_QUOTAS = Compiled(lambda campaign_id, kind, category, unit_id: Quota.objects.filter(
    campaign_id=campaign_id, level__kind=kind, category=category).filter(Q(unit_id=unit_id) | Q(unit__isnull=True))
    .order_by().values_list("pk", "level__kind", "unit_id", "school_owner_kind", "category", "subject", "per_subject",
                            "limit"))


def _missing_resources(level: Level, course) -> tuple[str, ...]:
    """Labels of the items ``level`` asks for before recommending that the course lacks."""
    required = list(level.required_resources or [])
    if not required:
        return ()
    package = dict(ResourceSlot.objects.filter(campaign_category__campaign_id=course.campaign_id,
                                               campaign_category__category=course.category, required=True)
                   .values_list("kind", "label"))
    periods = [{r.slot_kind for r in p.resources.all()} for p in course.periods.prefetch_related("resources")]
    return tuple(package[k] or (str(ResourceKind(k).label) if k in ResourceKind.values else k)
                 for k in rules.missing_resources(required, package, periods))


def _snapshot(entry: Entry) -> dict:
    return {"state": entry.state, "rank": entry.rank, "awarded": entry.awarded, "unit": entry.unit.name,
            "level": entry.level.name, "reason": entry.reason, "node_reason": entry.node_reason}


def _refuse(decision: rules.Decision) -> None:
    if not decision.ok:
        raise ServiceError(decision.message, errors=[{"rule": decision.rule, "needs_reason": decision.needs_reason}])


def _blocked(hook_list, *args) -> None:
    """Refuse when an app above selection says so (selection.hooks)."""
    message = hooks.first_block(hook_list, *args)
    if message:
        raise ServiceError(message, errors=[{"rule": "blocked"}])


def _require(actor, perm: str, obj, message: str) -> None:
    if not actor.has_perm(perm, obj):
        raise PermissionDenied(message)


# --- entering and leaving the school level (called by courses on submit / withdraw) -----------------
@transaction.atomic
def enter(actor, course) -> Entry:
    """A submitted course reaches its school; a course that was returned goes back to the unit
    that returned it."""
    return enter_in_transaction(actor, course)


def enter_in_transaction(actor, course) -> Entry:
    """``enter`` for a caller already in a transaction that any error rolls back as a whole
    (``courses.services.submit``, with the course row locked): no savepoint of its own (two queries
    each). During a submission the course's school entry is taken from its entries read with the
    returned one (``returned_entry``) and made without the savepoint of ``get_or_create``: under the
    course's lock no one else makes it (only ``enter`` makes an entry at the school level)."""
    if not transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError("enter_in_transaction: call it in a transaction")
    returned = returned_entry(course)
    if returned is not None:
        # The unit's row first, then the entry: the order decide() locks them in.
        unit_level = _locked_unit_level(course.campaign, returned.level, returned.unit)
        returned = (Entry.objects.select_for_update(of=("self",)).select_related("level", "unit")
                    .filter(pk=returned.pk, state=EntryState.RETURNED).first())
        if returned is None:
            raise ServiceError(_("该课程的状态刚刚发生了变化，请刷新页面后重试。"))
        deadline = _deadline(course.campaign, returned.unit, returned.level)
        _refuse(rules.deadline_decision(timezone.now(), deadline, returned.level.name))
        _refuse(rules.destination_decision(returned.unit.name, returned.level.name, unit_level.confirmed,
                                           timezone.now(), None))
        before = _snapshot(returned)
        returned.state, returned.decided_at, returned.decided_by = EntryState.PENDING, None, None
        returned.save(update_fields=["state", "decided_at", "decided_by"])
        record(actor, "selection.resubmit", course, before=before, after=_snapshot(returned), unit=returned.unit)
        signals.entry_decided.send(Entry, entry=returned, action="resubmit", actor=actor, before=before,
                                   now=timezone.now())
        return returned
    level = _level(course.campaign, "school")
    if level is None:
        raise ServiceError(_("本活动没有设置学校层级，无法提交。请联系主办单位。"))
    defaults = {"campaign": course.campaign, "unit": course.school, "node": course.node,
                "node_exclusive": course.campaign.node_rule == NodeRule.BLOCK}
    if _entries_read(course) is not None:  # submitting, the course locked: its entries as read
        entry = next((e for e in course._entries if e.level_id == level.pk), None)
        if entry is None:
            entry = Entry.objects.create(course=course, level=level, **defaults)
    else:
        entry, _created = Entry.objects.get_or_create(course=course, level=level, defaults=defaults)
    if entry.state != EntryState.PENDING:
        entry.state = EntryState.PENDING
        entry.save(update_fields=["state"])
    record(actor, "selection.enter", course, after=_snapshot(entry), unit=course.school)
    return entry


def returned_entry(course) -> Entry | None:
    """The course's entry a unit returned, with its level and unit (None: none did). During a
    submission (``courses.services.submit`` marks the row it read under its lock, and clears the
    mark when done) it is read once, for the items asked and for ``enter``; otherwise every time,
    so that an object kept across decisions never answers an old state."""
    if getattr(course, "_submitting", False):
        entries = _entries_read(course)
        if entries is None:
            # every entry of the course, in the order the returned one is chosen in: ``enter`` finds
            # the school's entry among them (it would read it again)
            entries = course._entries = _course_entries(course.pk)
        return next((e for e in entries if e.state == EntryState.RETURNED), None)
    return (Entry.objects.filter(course=course, state=EntryState.RETURNED).select_related("level", "unit")
            .order_by("level_id", "unit__path", "rank", "pk").first())


def _entries_of_course(course_id):
    return (Entry.objects.filter(course_id=course_id).select_related("level", "unit")
            .order_by("level_id", "unit__path", "rank", "pk"))


def _course_entries(course_id) -> list[Entry]:
    """Every entry of the course with its level and unit, in the order the returned one is chosen
    in; compiled once (``jingpinke.sql.Compiled``: a submission reads it)."""
    return _COURSE_ENTRIES.instances(course_id)


_COURSE_ENTRIES = Compiled(_entries_of_course)
# withdraw: the course's entries with their level's kind (compiled once)
_ENTRIES_WITH_LEVEL_KIND = Compiled(
    lambda course_id: Entry.objects.filter(course_id=course_id).annotate(level_kind=F("level__kind")).order_by())


def _entries_read(course) -> list[Entry] | None:
    """The course's entries ``returned_entry`` read during this submission (None: not submitting,
    or not read yet)."""
    return course.__dict__.get("_entries") if getattr(course, "_submitting", False) else None


def submission_items(course) -> list[str] | None:
    """What a course must hold when its teacher submits it: the items the level it goes to (the
    school, or the unit that returned it) asks for before recommending, as the campaign sets them;
    None when that level sets none (then the whole package). With the campaign's levels read
    (``_level``, a submission) from the returned entry (``returned_entry``, which ``enter`` reads
    again); else in one query."""
    if "levels" in getattr(course.campaign, "_prefetched_objects_cache", {}):
        returned = returned_entry(course)
        level = returned.level if returned is not None else _level(course.campaign, "school")
    else:
        returned = Exists(Entry.objects.filter(level=OuterRef("pk"), course=course, state=EntryState.RETURNED))
        level = (Level.objects.annotate(returned=returned).filter(campaign_id=course.campaign_id)
                 .filter(Q(returned=True) | Q(kind="school")).order_by("-returned").first())  # one query
    return list(level.required_resources) if level is not None and level.required_resources else None


def follow_node(course, node) -> int:
    """The teacher moved a course the school has not recommended to another lesson: its entry (only
    the school's can exist then) carries the new node, so the one-course-per-node rule judges the
    lesson it now holds."""
    return Entry.objects.filter(course=course).update(node=node)


def school_has_acted(course) -> bool:
    return Entry.objects.filter(course=course).exclude(level__kind="school", state=EntryState.PENDING).exists()


@transaction.atomic
def leave(actor, course) -> None:
    """The teacher withdraws a submitted course the school has not acted on."""
    leave_in_transaction(actor, course)


def leave_in_transaction(actor, course) -> None:
    """``leave`` for a caller already in a transaction that any error rolls back as a whole
    (``courses.services.withdraw``): no savepoint of its own. The course's entries are read once,
    for ``school_has_acted``'s question and as the rows to delete (the deletion reads them again
    otherwise)."""
    if not transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError("leave_in_transaction: call it in a transaction")
    entries = _ENTRIES_WITH_LEVEL_KIND.instances(course.pk)
    pending = [e for e in entries if e.level_kind == "school" and e.state == EntryState.PENDING]
    if len(pending) < len(entries):  # school_has_acted
        raise ServiceError(_("学校已经处理了这门课程，不能再撤回。如需修改，请联系学校管理员退回。"))
    if pending:
        _delete_entries(pending)
    record(actor, "selection.withdraw", course, unit=course.school)


def _references() -> dict:
    """Annotations of an entry saying what refers to it, for ``_delete_entries``: ``referenced_elsewhere``,
    anything but a notice (review round entries, publicity items, certificates: what ``delete()``
    would cascade to or be refused by), and ``noticed``, a notice (which ``delete()`` unlinks: SET NULL)."""
    held, noticed = [], []
    for r in get_candidate_relations_to_delete(Entry._meta):  # what the collector asks (hidden too)
        (noticed if r.on_delete is SET_NULL else held).append(
            Exists(r.related_model._base_manager.filter(**{r.field.attname: OuterRef("pk")})))

    def any_of(found):
        return (ExpressionWrapper(reduce(operator.or_, found), output_field=BooleanField()) if found
                else Value(False, output_field=BooleanField()))

    return {"referenced_elsewhere": any_of(held), "noticed": any_of(noticed)}


def _delete_entries(entries: list[Entry]) -> None:
    """Delete ``entries`` as ``QuerySet.delete`` does, in fewer queries: the collector reads every
    relation to an entry one query each (review round entries, publicity items, certificates,
    notices), where an entry nothing but a notice refers to (a school's pending entry a teacher
    withdraws; the entry a recommendation made above, which its undo deletes) needs none of that.
    What refers to them is asked in one query (``_references``), or taken from the entries when
    they were read with it: when only notices do, their link is cleared as SET NULL would; then one
    DELETE. When anything else refers to one of them, or a receiver listens for their deletion: the
    collector (its cascades, SET NULL and PROTECT, as before)."""
    db = entries[0]._state.db or Entry.objects.db
    pks = [e.pk for e in entries]
    if not (Entry._meta.private_fields or pre_delete.has_listeners(Entry) or post_delete.has_listeners(Entry)):
        flags = [(e.referenced_elsewhere, e.noticed) for e in entries
                 if hasattr(e, "referenced_elsewhere") and hasattr(e, "noticed")]
        if len(flags) < len(entries):
            flags = list(Entry.objects.using(db).filter(pk__in=pks).annotate(**_references()).order_by()
                         .values_list("referenced_elsewhere", "noticed"))
        if not any(elsewhere for elsewhere, _noticed in flags):
            if any(noticed for _elsewhere, noticed in flags):
                for r in get_candidate_relations_to_delete(Entry._meta):
                    if r.on_delete is SET_NULL:
                        r.related_model._base_manager.using(db).filter(**{f"{r.field.attname}__in": pks}).update(
                            **{r.field.name: None})
            Entry.objects.using(db).filter(pk__in=pks).order_by()._raw_delete(db)
            return
    collector = Collector(using=db)
    collector.collect(entries)
    collector.delete()


# --- decisions of a unit ---------------------------------------------------------------------------
# What a decision changes on its entry (``decide``): saved alone, not every column of the row.
DECIDED_FIELDS = ("state", "rank", "reason", "node_reason", "node_exclusive", "decided_at", "decided_by")


@prepared()  # keyed: the entry, its course and unit by id (jingpinke/prepared.py)
@transaction.atomic
def decide(actor, entry_id, action: str, *, reason: str = "", node_reason: str = "", rank: int | None = None,
           now: datetime | None = None) -> Entry:
    """Return, decline, recommend or undo one entry; see selection.rules for each rule."""
    now = now or timezone.now()
    entry = _entry_in_scope(actor, entry_id)
    _require(actor, "selection.decide_entry", entry, _("只有本单位管理员可以处理该课程。"))
    campaign = entry.level.campaign
    # Its levels read once for _level and the deadlines, in their order (by id within a campaign:
    # the model's ordering joins the campaign to sort by its year and title first).
    _prefetch_levels(campaign)
    unit_level = _locked_unit_level(campaign, entry.level, entry.unit)
    held = entry
    # Under the lock: the entry with what the rules, the notices and the answer show of its course
    # (school and county, lead teacher) and node; its level and units as read above (they never change).
    locked = _LOCKED.instances(entry.pk)
    if not locked:
        raise Entry.DoesNotExist("Entry matching query does not exist.")
    entry = locked[0]
    entry.level, entry.unit, entry.from_unit = held.level, held.unit, held.from_unit
    entry.course.campaign = campaign  # read once (with its levels) for the rules and the receivers
    _read_path_overrides(campaign, entry.unit)
    _refuse(rules.lock_decision(unit_level.confirmed))
    _refuse(rules.deadline_decision(now, _deadline(campaign, entry.unit, entry.level), entry.level.name))
    _blocked(hooks.decision_blockers, entry, action)
    next_entry, step = None, None
    if action == rules.Action.UNDO and entry.state == EntryState.RECOMMENDED:
        # At most one: the entry the recommendation made at the level above.
        # (with what refers to it, for its deletion: ``_delete_entries``)
        next_entry = _MADE_ABOVE.first(entry.course_id, entry.unit_id, entry.pk)
    acted_above = bool(next_entry and (next_entry.state != EntryState.PENDING or next_entry.awarded))
    target, decision = rules.transition(entry.state, action, reason=reason, next_level_acted=acted_above)
    _refuse(decision)
    before = _snapshot(entry)
    course = entry.course

    if action == rules.Action.RECOMMEND:
        current = _current_rows(entry.level, entry.unit, state=EntryState.RECOMMENDED)
        situation = rules.Situation(
            now=now, deadline=None, level_name=entry.level.name, confirmed=False,
            current=tuple(rules.Pick(*row[:5]) for row in current),
            quota=_quotas(campaign, entry.unit, course.category, entry.node.textbook.subject),
            node_rule=campaign.node_rule, missing_resources=_missing_resources(entry.level, course))
        _refuse(rules.recommend_decision(situation, _pick(entry), node_reason))
        step = _next_step(campaign, entry.unit)
        if step is not None:
            _refuse(_receiving(campaign, *step, now))
        if rank is None:  # after the highest of the unit's recommendations, read under its lock above
            rank = max((row[5] for row in current if row[5] is not None), default=0) + 1
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
            _delete_entries([next_entry])
    if action in (rules.Action.RETURN, rules.Action.DECLINE):
        entry.reason = reason.strip()
    if entry.level.kind == "school" and action != rules.Action.UNDO:
        course.school_acted_at = now
        course.save(update_fields=["school_acted_at", "updated_at"])

    entry.state = target
    entry.decided_at, entry.decided_by = (None, None) if target == EntryState.PENDING else (now, actor)
    created = None
    try:
        # No savepoint of its own: a refusal here undoes the whole decision (``decide``'s atomic
        # block, itself a savepoint when called inside a transaction), never this part alone.
        with transaction.atomic(savepoint=False):
            entry.save(update_fields=DECIDED_FIELDS)
            if action == rules.Action.RECOMMEND:
                if step is not None:
                    level, unit = step
                    created = Entry.objects.create(campaign=campaign, course=course, level=level, unit=unit,
                                                   from_unit=entry.unit, node=entry.node,
                                                   node_exclusive=campaign.node_rule == NodeRule.BLOCK)
    except IntegrityError:
        raise ServiceError(_("同一目录节点原则上只推荐 1 节课：本单位已推荐了该节点的另一门课程。"),
                           errors=[{"rule": "node"}]) from None
    record(actor, f"selection.{action}", course, before=before, after=_snapshot(entry), reason=reason or node_reason,
           unit=entry.unit)
    extra = {"next_entry": created} if action == rules.Action.RECOMMEND else {}
    signals.entry_decided.send(Entry, entry=entry, action=action, actor=actor, before=before, now=now, **extra)
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
    _blocked(hooks.decision_blockers, entry, "award" if awarded else "unaward")
    before = _snapshot(entry)
    entry.awarded = bool(awarded)
    entry.save(update_fields=["awarded"])
    record(actor, "selection.award" if awarded else "selection.unaward", entry.course, before=before,
           after=_snapshot(entry), unit=entry.unit)
    signals.entry_decided.send(Entry, entry=entry, action="award" if awarded else "unaward", actor=actor,
                               before=before, now=now)
    return entry


# --- shares, confirmation, unlock, reopen --------------------------------------------------------------
def _caps(campaign: Campaign, level_kind: str, applies_to: str) -> list[rules.ShareCap]:
    return [rules.ShareCap(c["category"], tuple(c["subjects"]), int(c["max_percent"]))
            for c in (campaign.share_caps or []) if c.get("level") == level_kind
            and c.get("applies_to", "recommendations") == applies_to]


def share_board(campaign: Campaign, level: Level, unit: Unit, *, recommended: list[rules.Pick] | None = None,
                awarded: list[rules.Pick] | None = None) -> dict:
    """Live shares of a unit's set at a level: caps (with the current percentage) and targets.
    Pass the picks when they are already loaded."""
    if recommended is None:
        recommended = _current(level, unit, state=EntryState.RECOMMENDED)
    if awarded is None:
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
    _blocked(hooks.confirm_blockers, unit, level)
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
    try:
        deadline = campaign_rules.parse_deadline(new_deadline) if new_deadline is not None else None
    except ValueError as exc:
        raise ServiceError(str(exc), errors=[{"rule": "deadline"}]) from None
    _refuse(rules.reopen_decision(now, deadline, reason))
    level = _level(campaign, level_kind)
    # A unit given more time to recommend must also be able to confirm afterwards: a confirmation
    # deadline before the new deadline moves with it. The unit's own contact-form deadline is kept.
    confirm_deadline = _deadline(campaign, unit, level, "confirm_deadline") if level else None
    if confirm_deadline is not None and confirm_deadline < deadline:
        confirm_deadline = deadline
    existing = DeadlineOverride.objects.filter(level=level, unit=unit).first() if level else None
    override = campaign_services.set_deadline_override(
        actor, campaign, level_kind=level_kind, unit=unit, deadline=deadline, confirm_deadline=confirm_deadline,
        contact_form_deadline=existing.contact_form_deadline if existing else None, reason=reason)
    record(actor, "selection.reopen", campaign, after={"level": level_kind, "deadline": deadline.isoformat()},
           reason=reason, unit=unit)
    return override


# --- reading for the pages and the API -------------------------------------------------------------
# Sort keys offered to users ("-key" reverses); the unranked come last either way.
SORTS = {
    "rank": ("rank", "id"),
    "arrived": ("arrived_at", "id"),
    "title": ("course__title", "id"),
    "school": ("course__school__path", "rank", "id"),
    "category": ("course__category", "rank", "id"),
    "subject": ("node__textbook__subject", "node__textbook__rank", "id"),
    "grade": ("node__textbook__rank", "node__textbook__subject", "id"),
    "state": ("state", "rank", "id"),
    "county": ("course__school__parent__code", "course__school__path", "rank", "id"),
    "compliance": ("compliance_order", "rank", "id"),  # worst first (see _COMPLIANCE_ORDER)
}
SORT_LABELS = {
    "rank": _lazy("推荐顺序"), "arrived": _lazy("到达时间"), "title": _lazy("课名"), "school": _lazy("学校"),
    "category": _lazy("类别"), "subject": _lazy("学科"), "grade": _lazy("学段年级"), "state": _lazy("状态"),
    "county": _lazy("所属区县"), "compliance": _lazy("文件检测"),
}
_COMPLIANCE_ORDER = (rules.Compliance.FAIL, rules.Compliance.PENDING, rules.Compliance.WARN, rules.Compliance.NONE,
                     rules.Compliance.PASS)
PAGE_SIZE = 30
PAGE_SIZES = (30, 100, 500)  # the desk and the API list offer these; the query count does not depend on them


def page_size(value, *, strict: bool = False) -> int:
    """A page size of PAGE_SIZES from a query value; else PAGE_SIZE (``strict``: refuse it)."""
    size = as_int(value)
    if size in PAGE_SIZES:
        return size
    if strict and value not in (None, ""):
        raise ServiceError(_("每页条数只能是 30、100 或 500。"), errors=[{"field": "page_size"}])
    return PAGE_SIZE


# --- the desk's table: several entries at once ----------------------------------------------------------
BULK_ACTIONS = (rules.Action.RECOMMEND, rules.Action.DECLINE, rules.Action.RETURN)
_MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class BulkOutcome:
    """What became of one entry of a bulk decision: done, or refused with ``message`` saying why."""

    entry_id: int
    title: str
    ok: bool
    message: str = ""


def bulk_decide(actor, entry_ids, action: str, *, reason: str = "", now: datetime | None = None) -> list[BulkOutcome]:
    """Recommend, decline or return several entries with one reason, in the order given.

    Each entry goes through ``decide`` on its own, in its own transaction, so every rule (quota,
    node, deadline, lock, resources) is checked entry by entry: a refusal stops that entry only and
    its message says why; the others are decided. Not atomic on purpose: call it outside a
    transaction. Ids outside the actor's scope are reported as not found, like ``get_entry``."""
    if action not in BULK_ACTIONS:
        raise ServiceError(_("批量操作只能是推荐、未推荐或退回。"), errors=[{"field": "action"}])
    ids = list(dict.fromkeys(entry_ids or ()))
    if not ids:
        raise ServiceError(_("请先勾选要处理的课程。"), errors=[{"field": "ids"}])
    if len(ids) > max(PAGE_SIZES):
        raise ServiceError(_("一次最多处理 %(n)d 门课程，请分批操作。") % {"n": max(PAGE_SIZES)},
                           errors=[{"field": "ids"}])
    if action == rules.Action.RETURN and not reason.strip():
        raise ServiceError(_("退回时请写明理由，告诉教师需要修改什么。"), errors=[{"field": "reason", "rule": "reason"}])
    valid = [i for i in ids if isinstance(i, int) and 0 < i <= _MAX_ID]
    titles = dict(entries_for(actor).filter(pk__in=valid).values_list("pk", "course__title"))
    outcomes = []
    for pk in ids:
        if pk not in titles:
            outcomes.append(BulkOutcome(pk, "", False, _("未找到该推荐记录，或您无权查看。")))
            continue
        try:
            decide(actor, pk, action, reason=reason, now=now)
        except ServiceError as exc:
            outcomes.append(BulkOutcome(pk, titles[pk], False, exc.message))
        except PermissionDenied as exc:
            outcomes.append(BulkOutcome(pk, titles[pk], False, str(exc) or _("您没有权限执行此操作。")))
        else:
            outcomes.append(BulkOutcome(pk, titles[pk], True))
    return outcomes


def as_int(value) -> int | None:
    """An id from a query string or form; None when absent, malformed or beyond the database's range."""
    return parse_id(value)


@dataclass(frozen=True)
class EntryFilter:
    """What a list of entries is narrowed to. ``held_by``: the unit holding the entries (its
    desk); ``unit``: where the courses come from (a child unit and everything below it)."""

    campaign: int | None = None
    level: str = ""
    held_by: int | None = None
    unit: int | None = None
    category: str = ""
    stage: str = ""
    subject: str = ""
    grade: str = ""
    node: int | None = None
    state: str = ""
    compliance: str = ""
    awarded: bool | None = None
    q: str = ""
    sort: str = ""

    @classmethod
    def from_query(cls, data, **fixed) -> EntryFilter:
        """From GET parameters (page and API alike); unknown or malformed values are ignored."""
        def text(key):
            return str(data.get(key) or "").strip()[:100]

        awarded = text("awarded").lower()
        values = {
            "campaign": as_int(data.get("campaign")), "level": text("level"), "held_by": as_int(data.get("held_by")),
            "unit": as_int(data.get("unit")), "category": text("category"), "stage": text("stage"),
            "subject": text("subject"), "grade": text("grade"), "node": as_int(data.get("node")),
            "state": text("state"), "compliance": text("compliance"),
            "awarded": True if awarded in ("1", "true", "yes") else False if awarded in ("0", "false", "no") else None,
            "q": text("q"), "sort": text("sort"),
        }
        values.update(fixed)
        return cls(**values)


def with_compliance(qs: QuerySet[Entry]) -> QuerySet[Entry]:
    """Annotate ``compliance``: the worst automatic check result among the course's files
    (see rules.compliance_of), read from the column kept on the course (``Course.compliance``)."""
    return qs.annotate(compliance=F("course__compliance"))


def _list_rows(qs: QuerySet[Entry]) -> QuerySet[Entry]:
    """What a list shows of each entry: its course, school, county, teacher, campaign, compliance."""
    return with_compliance(qs.select_related("course__school__parent", "course__lead_teacher", "level__campaign"))


def list_entries(user, f: EntryFilter) -> QuerySet[Entry]:
    """Entries the user may see, narrowed and sorted, with what a list shows (exports iterate it;
    pages take ``entries_page``)."""
    return _list_rows(filtered_entries(user, f))


# A search (``q``) of the entries API counts its matches up to this many (or the list cap, if lower).
SEARCH_COUNT_CAP = 1000


def entries_page(user, f: EntryFilter, per_page: int, number, cursor: str | None = None) -> ListPage:
    """One page of ``list_entries`` by number or by cursor (``jingpinke.paging``), page first: the
    page's ids from the filtered, ordered entries (indexed columns, joins only for the filters and
    the sort asked for), then those rows; the count stops at the cap.

    A search counts up to ``SEARCH_COUNT_CAP`` (1,000) matches, not the list's 10,000: a broad
    word (分数, in 6 % of the titles) had to find 10,001 matching entries for its count, 80–140 ms
    at 200 k on PostgreSQL and 250 ms on SQLite; beyond 1,000 it says so (``count_capped``, "超过
    1,000 条") and pages on by cursor, like any list beyond its cap. ``split_nulls``: on SQLite the
    ranked entries and the unranked are read apart (``jingpinke.paging.ListPaginator._split``).
    A search reads its matches' ids first (``narrow_first``): a county's few hundred matches of a
    broad word are then sorted, not looked for along the whole campaign's rank index."""
    cap = min(count_cap(), SEARCH_COUNT_CAP) if f.q else None
    paginator = ListPaginator(filtered_entries(user, f), per_page, cap=cap, load=_api_rows, split_nulls=True,
                              narrow_first=bool(f.q) and _small_scope(user))
    return paginator.cursor_page(cursor) if cursor else paginator.get_page(number)


def _small_scope(user) -> bool:
    """Whether every unit ``user`` administers is a county or a school: a scope whose matches of a
    search lie sparse along the campaign's sort index (a county holds ~1/120 of a province's
    entries), so that reading them first (``narrow_first``) pays. A city's or the province's
    matches are dense there: their page is found after a short walk, and reading up to 1,001 ids
    first (each from the table: the board index does not hold them) cost more than it saved (a
    city's broad word, 26 → 60 ms at 200 k). Superusers and experts see the campaign: not small."""
    return not user.is_superuser and _small_units(user.admin_units())


def _small_units(units) -> bool:
    """Whether ``units`` (those a user administers) are all counties or schools: a small scope."""
    return bool(units) and all(u.kind in (UnitKind.COUNTY, UnitKind.SCHOOL) for u in units)


class EntryRow(dict):
    """An entry as the API's list shows it, read as plain values (``ROW_FIELDS``), not as model
    instances: building the entry, course, school, county, teacher, level, units, node and textbook
    of every row (ten instances a row) and reading them back was most of a page's CPU."""

    @property
    def pk(self) -> int:
        return self["id"]


# key of an EntryRow → where the value is read from, for a page of the list (``_api_rows``)
ROW_FIELDS = {
    "id": "pk", "course_id": "course_id", "title": "course__title", "campaign_id": "level__campaign_id",
    "category": "course__category", "level": "level__kind", "level_name": "level__name",
    "award_name": "level__award_name", "unit_id": "unit_id", "unit_name": "unit__name", "unit_path": "unit__path",
    "from_unit_id": "from_unit_id", "from_unit_name": "from_unit__name", "school_id": "course__school_id",
    "school_name": "course__school__name", "school_kind": "course__school__kind",
    "school_parent_id": "course__school__parent_id", "school_parent_name": "course__school__parent__name",
    "school_parent_kind": "course__school__parent__kind", "teacher_real_name": "course__lead_teacher__real_name",
    "teacher_first_name": "course__lead_teacher__first_name", "teacher_last_name": "course__lead_teacher__last_name",
    "teacher_username": "course__lead_teacher__username", "textbook_id": "node__textbook_id",
    **{f"textbook_{name}": f"node__textbook__{name}" for name in
       ("stage", "school_system", "grade", "subject", "version", "volume", "edition", "title")},
    "node_id": "node_id", "node_label_path": "node__label_path", "node_title": "node__title", "state": "state",
    "rank": "rank", "reason": "reason", "node_reason": "node_reason", "awarded": "awarded",
    "compliance": "course__compliance", "arrived_at": "arrived_at", "decided_at": "decided_at",
}


# … of which these are read by key (``jingpinke.sql.KeyColumn``), not joined: the entry's level
# and the units holding and sending it (seven joins weigh on PostgreSQL's planning, ``_api_rows``)
_BY_KEY = {"level__campaign_id": ("level_id", Level, "campaign_id"), "level__kind": ("level_id", Level, "kind"),
           "level__name": ("level_id", Level, "name"), "level__award_name": ("level_id", Level, "award_name"),
           "unit__name": ("unit_id", Unit, "name"), "unit__path": ("unit_id", Unit, "path"),
           "from_unit__name": ("from_unit_id", Unit, "name")}


def _api_rows(page_ids) -> list[EntryRow]:
    """The rows of a page of ``entries_page`` by primary key, as ``EntryRow`` values: the ids come
    from the user's scoped, filtered list, so neither the scope's subquery (SQLite built the list of
    a city's 1,000 units for it) nor the default ordering (4 joins; the page is put back in its
    order) is read again. The level and the units by key (``_BY_KEY``): the ten-table join took
    PostgreSQL 3–3.5 ms to plan (0.5 ms to run) at 200 k, the seven-table one 1.9 ms."""
    if not page_ids:
        return []
    return [EntryRow(zip(_ROW_KEYS, row, strict=True)) for row in _API_ROWS.rows(list(page_ids))]


def _api_rows_query(page_ids) -> QuerySet:
    """``_api_rows``' read (compiled once: ``jingpinke.sql.Compiled``; the ids one array on PostgreSQL)."""
    columns = [KeyColumn(*_BY_KEY[path]) if path in _BY_KEY else path for path in ROW_FIELDS.values()]
    return Entry.objects.filter(InIds("id", page_ids)).order_by().values_list(*columns)


_ROW_KEYS = tuple(ROW_FIELDS)
_API_ROWS = Compiled(_api_rows_query)


def entry_row(entry: Entry) -> EntryRow:
    """``_api_rows``' row of an entry loaded with its course (school, its parent, lead teacher),
    level, units, node and textbook (``get_entry_detail``, ``decided_detail``)."""
    course, school, teacher, textbook = entry.course, entry.course.school, entry.course.lead_teacher, entry.node.textbook
    parent = school.parent
    return EntryRow({
        "id": entry.pk, "course_id": course.pk, "title": course.title, "campaign_id": entry.level.campaign_id,
        "category": course.category, "level": entry.level.kind, "level_name": entry.level.name,
        "award_name": entry.level.award_name, "unit_id": entry.unit_id, "unit_name": entry.unit.name,
        "unit_path": entry.unit.path, "from_unit_id": entry.from_unit_id,
        "from_unit_name": entry.from_unit.name if entry.from_unit_id else None, "school_id": school.pk,
        "school_name": school.name, "school_kind": school.kind, "school_parent_id": school.parent_id,
        "school_parent_name": parent.name if parent else None, "school_parent_kind": parent.kind if parent else None,
        "teacher_real_name": teacher.real_name, "teacher_first_name": teacher.first_name,
        "teacher_last_name": teacher.last_name, "teacher_username": teacher.username, "textbook_id": textbook.pk,
        **{f"textbook_{name}": getattr(textbook, name) for name in
           ("stage", "school_system", "grade", "subject", "version", "volume", "edition", "title")},
        "node_id": entry.node_id, "node_label_path": entry.node.label_path, "node_title": entry.node.title,
        "state": entry.state, "rank": entry.rank, "reason": entry.reason, "node_reason": entry.node_reason,
        "awarded": entry.awarded, "compliance": getattr(entry, "compliance", rules.Compliance.NONE),
        "arrived_at": entry.arrived_at, "decided_at": entry.decided_at,
    })


def desk_page(user, f: EntryFilter, per_page: int, number, cursor: str | None = None, *,
              held: int | None = None) -> ListPage:
    """``entries_page`` for the desk page: the same rows in the same order, each loaded with what
    the desk table and its cards show (course, school and its parent, lead teacher, level, node and
    textbook, compliance) and nothing else: the ids come from the user's scoped, filtered list, so
    the page's rows are read by primary key alone, without the scope's subquery, the unit, the
    sending unit, the campaign, or the model's default ordering (which joined the campaign and the
    unit to sort 30 rows put back in the page's order anyway). On PostgreSQL the 12-table query
    spent 13 ms planning for 1.6 ms executing.

    ``held``: how many entries the desk's unit holds in the campaign (the standing's counts, all
    states): when nothing but the sort narrows the list, that is its count, which is then not read
    again (bounded at the cap + 1 like the count it replaces)."""
    paginator = ListPaginator(filtered_entries(user, f), per_page, _desk_rows)
    if held is not None and replace(f, sort="") == EntryFilter(campaign=f.campaign, held_by=f.held_by):
        paginator._count = min(held, paginator.cap + 1)
    return paginator.cursor_page(cursor) if cursor else paginator.get_page(number)


def _desk_rows(page_ids) -> QuerySet[Entry]:
    return with_compliance(Entry.objects.filter(pk__in=page_ids).order_by()
                           .select_related("course__school__parent", "course__lead_teacher", "level", "node__textbook"))


def matching_courses(q: str) -> QuerySet:
    """Ids of the courses whose title, lead teacher's name or school's name contains ``q`` (2+
    characters; case-insensitive substring): read from the bigram index, ``courses.search``."""
    return search.matching_courses(q)


def _search(q: str) -> Q:
    """Entries whose course's title, lead teacher's name or school's name contains ``q``.

    From 2 characters: the courses matching anywhere, a UNION of three lookups of the bigram index
    (``courses.search``: a 2-character Chinese word such as 分数 is one bigram, read from the index
    alone), so a word costs what its matches cost, not what the province holds. One character has
    no bigram: the three columns are tested on each entry of the list in its order (one
    primary-key lookup per table), so a page stops at its last match and the scope bounds the work."""
    if len(q) >= 2:
        return search.rows_matching(Entry, q, "course_id")
    return (Q(course__title__icontains=q) | Q(course__lead_teacher__real_name__icontains=q)
            | Q(course__school__name__icontains=q))


def filtered_entries(user, f: EntryFilter) -> QuerySet[Entry]:
    """Entries the user may see, narrowed and sorted; every list, page and export starts here."""
    qs = entries_for(user, f.held_by)
    if f.campaign is not None:
        qs = qs.filter(campaign_id=f.campaign)
    if f.level:
        qs = qs.filter(level__kind=f.level)
    if f.held_by is not None:
        qs = qs.filter(unit_id=f.held_by)
    if f.unit is not None:  # the unit's own courses and those of every unit below it (paths are "/1/5/9/")
        qs = qs.filter(course__school_id__in=Unit.objects.filter(path__contains=f"/{f.unit}/").values("pk"))
    for value, lookup in ((f.category, "course__category"), (f.stage, "node__textbook__stage"),
                          (f.subject, "node__textbook__subject"), (f.grade, "node__textbook__grade"),
                          (f.state, "state"), (f.compliance, "course__compliance")):
        if value:
            qs = qs.filter(**{lookup: value})
    if f.node is not None:
        qs = qs.filter(node_id=f.node)
    if f.awarded is not None:
        qs = qs.filter(awarded=f.awarded)
    if f.q:
        qs = qs.filter(_search(f.q))
    key = f.sort.lstrip("-")
    descending = f.sort.startswith("-") and key in SORTS
    if key == "compliance":
        qs = qs.annotate(compliance_order=Case(*(When(course__compliance=c, then=Value(i))
                                                 for i, c in enumerate(_COMPLIANCE_ORDER)),
                                               default=Value(len(_COMPLIANCE_ORDER)), output_field=IntegerField()))
    order = [F(name).desc(nulls_last=True) if descending else F(name).asc(nulls_last=True)
             for name in SORTS.get(key, SORTS["rank"])]
    return qs.order_by("campaign_id", *order)


def get_entry_detail(actor, pk) -> Entry:
    """One entry in the actor's scope with what its page and the API's detail show: its level and
    campaign, unit and sending unit; its course with the school, county and lead teacher; its node
    and textbook; ``compliance``. Three reads by key, not one join of the twelve tables: PostgreSQL
    took 5–9 ms to plan that join (measured at 200,000 courses; it runs in 0.3 ms), more than the
    three reads cost together, and every decision of the API answers with this."""
    entry = (entries_for(actor).select_related(None).select_related("level__campaign", "unit", "from_unit")
             .order_by().filter(pk=pk).first())
    if entry is None:
        raise Http404(_("未找到该推荐记录，或您无权查看。"))
    entry.course = Course.objects.select_related("school__parent", "lead_teacher").get(pk=entry.course_id)
    entry.node = CatalogNode.objects.select_related("textbook").get(pk=entry.node_id)
    entry.compliance = entry.course.compliance  # as with_compliance annotates it
    return entry


@prepared()
def decided_detail(entry: Entry) -> Entry:
    """The entry ``decide`` returned, as ``get_entry_detail`` reads it (its level, units, course
    with school, county and lead teacher, node and textbook, ``compliance``), without reading it
    again: the decision read it in its scope, under its lock, and holds what it saved."""
    entry.compliance = entry.course.compliance  # as with_compliance annotates it
    return entry


@dataclass(eq=False, slots=True)
class TimelineEvent:
    """An audit event of a course's timeline (``history``): the ``audit.models.Event`` columns a
    timeline shows, read as plain values (a course decided back and forth holds hundreds of events,
    and building an ``Event`` instance for each was a tenth of a decision's answer), with
    ``unit_name``, ``unit_event`` and ``details``."""

    id: int
    at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    target_type: str
    target_id: str
    target_repr: str
    unit_path: str
    before: dict | list | None
    after: dict | list | None
    reason: str
    unit_name: str = ""
    unit_event: bool = False
    details: str = ""

    @property
    def pk(self) -> int:
        return self.id


_TIMELINE_COLUMNS = ("id", "at", "actor_id", "actor_name", "action", "target_type", "target_id", "target_repr",
                     "unit_path", "before", "after", "reason")
HISTORY_SHOWN = 20  # the newest events an entry's detail shows (its page, the API's, every decision's answer)
TIMELINE_PAGE_SIZE = 50  # events per page of an entry's full timeline (page and API)
_TIMELINE_CURSOR_SALT = "selection.timeline.cursor"


@dataclass(eq=False, slots=True)
class Timeline:
    """A stretch of a course's timeline as ``viewer`` may see it, newest first (``timeline``):
    ``total`` events in all, ``start`` of them newer than these (0: these are the newest),
    ``more``: older ones follow, reached with ``next_cursor``."""

    events: list[TimelineEvent]
    total: int
    start: int
    more: bool
    next_cursor: str | None = None

    @property
    def end(self) -> int:
        return self.start + len(self.events)


def timeline(entry: Entry, viewer=None, *, steps: list[Entry] | None = None, size: int = HISTORY_SHOWN,
             cursor: str = "") -> Timeline:
    """The course's timeline, newest first, ``size`` events at most (``HISTORY_SHOWN``: an entry's
    detail; ``TIMELINE_PAGE_SIZE``: a page of the full timeline), from the newest or after
    ``cursor`` (``Timeline.next_cursor``; forged, cut short or of another course: ``InvalidCursor``).

    Its own audit events and, for each level it reached, the unit-level events of the unit holding
    it there that bear on it (confirmation, unlock, reopen, deadline change; ``rules.bears_on_entry``),
    for the units ``viewer`` may see. Each event (``TimelineEvent``) gets ``unit_name`` (the unit it
    is scoped to, when on the course's chain), ``unit_event`` (a unit-level event) and ``details``
    (``rules.event_details``).

    One query (two without ``steps``) however long the timeline: the database keeps exactly the
    events shown (which unit-level events bear on the entry's level is asked in SQL,
    ``_bears_on_level``, not in Python after the read: a page always gets ``size`` events when there
    are), takes the newest ``size`` + 1 (``ORDER BY at DESC, id DESC LIMIT``; the one more says
    whether older ones follow) and counts them all in the same read (``COUNT(*) OVER ()``). Pages
    follow by keyset on (at, id): the cursor names the last event shown, whose time the query reads
    itself (audit events are never changed nor deleted), so equal times neither repeat nor skip an
    event, however many events are recorded meanwhile."""
    if size not in (HISTORY_SHOWN, TIMELINE_PAGE_SIZE):
        raise ValueError(f"timeline: size {size} is neither HISTORY_SHOWN nor TIMELINE_PAGE_SIZE")
    steps = chain(entry) if steps is None else steps
    by_path = {e.unit.path: e for e in steps}
    visible = [e for e in steps if viewer is not None and viewer.has_perm("selection.view_unit", e.unit)]
    course_id = str(entry.course_id)
    before_id, start = _read_timeline_cursor(cursor, entry.course_id) if cursor else (None, 0)
    values = [course_id] if before_id is None else [before_id, course_id]
    if visible:
        values += [str(entry.level.campaign_id), [e.unit.path for e in visible], [e.level.kind for e in visible]]
    rows = _timeline_read(size, before_id is not None).rows(*values)
    campaign_type = Campaign._meta.label_lower
    events = []
    for *columns, _remaining in rows[:size]:
        ev = TimelineEvent(*columns)
        step = by_path.get(ev.unit_path)
        ev.unit_name = step.unit.name if step else ""
        ev.unit_event = ev.target_type == campaign_type
        ev.details = rules.event_details(ev.action, ev.before, ev.after)
        events.append(ev)
    # the window counts the rows the read kept before its LIMIT: those from the cursor on
    total = start + (rows[0][-1] if rows else 0)
    more = len(rows) > size
    next_cursor = (signing.dumps({"c": entry.course_id, "i": events[-1].id, "k": start + len(events)},
                                 salt=_TIMELINE_CURSOR_SALT) if more else None)
    return Timeline(events, total, start, more, next_cursor)


def history(entry: Entry, viewer=None, *, steps: list[Entry] | None = None) -> list[TimelineEvent]:
    """What an entry's detail shows of the course's timeline: its newest ``HISTORY_SHOWN`` events
    (``timeline``), oldest first. One query (two without ``steps``)."""
    return timeline(entry, viewer, steps=steps).events[::-1]


def _read_timeline_cursor(cursor: str, course_id: int) -> tuple[int, int]:
    """(id of the last event shown, events shown before the next) of a ``Timeline.next_cursor`` of
    this course; else ``InvalidCursor``."""
    try:
        data = signing.loads(str(cursor), salt=_TIMELINE_CURSOR_SALT)
        before_id, start = data["i"], data["k"]
        if data["c"] != course_id or not (isinstance(before_id, int) and isinstance(start, int)) or start < 0:
            raise ValueError(data)
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise InvalidCursor() from None
    return before_id, start


def _bears_on_level(kind: str) -> Q:
    """``rules.bears_on_entry`` of a unit-level event (already one of ``rules.ENTRY_UNIT_ACTIONS``)
    for an entry at a level of ``kind``, in SQL: a confirmation or unlock always; the others when
    the level they carry (``after``'s, else ``before``'s) is ``kind`` or none. (Levels are
    recorded as text or not at all: a JSON ``null`` level would read "null" on SQLite.)"""
    return Q(action__in=rules.ANY_LEVEL_UNIT_ACTIONS) | Q(event_level__in=("", kind))


def _timeline_query(course_id: str, campaign_id: str | None = None, paths: list[str] | None = None,
                    kinds: list[str] | None = None, *, before_id: int | None = None) -> QuerySet:
    """``timeline``'s read, newest first: the course's events, and those of the units at ``paths``
    in its campaign that bear on the entries they hold at the level of the same place in ``kinds``
    (``_bears_on_level``); ``before_id``: only those after that event (in this order), by keyset on
    (at, id). Each row ends with how many rows the read keeps before its LIMIT."""
    q = Q(target_type=Course._meta.label_lower, target_id=course_id)
    if paths:
        q |= Q(target_type=Campaign._meta.label_lower, target_id=campaign_id, action__in=rules.ENTRY_UNIT_ACTIONS) & (
            reduce(operator.or_, (Q(unit_path=p) & _bears_on_level(k) for p, k in zip(paths, kinds, strict=True))))
    text = TextField()
    qs = Event.objects.alias(event_level=Coalesce(NullIf(KT("after__level"), Value(""), output_field=text),
                                                  NullIf(KT("before__level"), Value(""), output_field=text),
                                                  Value(""), output_field=text))
    qs = qs.filter(q)
    if before_id is not None:
        at = Subquery(Event.objects.filter(pk=before_id).order_by().values("at")[:1])
        qs = qs.filter(Q(at__lt=at) | Q(at=at, id__lt=before_id))
    return (qs.annotate(remaining=Window(Count("id"))).order_by("-at", "-id")
            .values_list(*_TIMELINE_COLUMNS, "remaining"))


_TIMELINE_READS: dict[tuple[int, bool], Compiled] = {}


def _timeline_read(size: int, after: bool) -> Compiled:
    """The compiled read of ``size`` + 1 events (a constant LIMIT), from the newest or after an
    event (``after``: its id comes first among the values)."""
    read = _TIMELINE_READS.get((size, after))
    if read is None:
        if after:
            def build(before_id, course_id, *units):
                return _timeline_query(course_id, *units, before_id=before_id)[:size + 1]
        else:
            def build(course_id, *units):
                return _timeline_query(course_id, *units)[:size + 1]
        read = _TIMELINE_READS[(size, after)] = Compiled(build)
    return read


def chain(entry: Entry) -> list[Entry]:
    """Where the course stands at every level it reached, lowest first. The levels from the
    campaign's when a decision read them (``decide``), else with the entries."""
    campaign = entry.level.campaign if Entry.level.is_cached(entry) and Level.campaign.is_cached(entry.level) else None
    levels = getattr(campaign, "_prefetched_objects_cache", {}).get("levels")
    by_id = {lv.pk: lv for lv in levels or ()}
    rows = _CHAIN.instances(entry.course_id) if by_id else []
    if by_id and all(row.level_id in by_id for row in rows):
        for row in rows:
            row.level = by_id[row.level_id]
    else:
        rows = list(Entry.objects.filter(course_id=entry.course_id).select_related("level", "unit").order_by())
    return sorted(rows, key=lambda e: campaign_rules.level_rank(e.level.kind))


# --- the history of a unit in a campaign ---------------------------------------------------------------
HISTORY_PAGE_SIZE = 50


@dataclass(frozen=True)
class HistoryFilter:
    """What a unit's history is narrowed to: an action code, an actor (user id), and a date range
    (Beijing days, both inclusive)."""

    action: str = ""
    actor: int | None = None
    since: date | None = None
    until: date | None = None

    @classmethod
    def from_query(cls, data) -> HistoryFilter:
        """From GET parameters (page and API alike); malformed values are ignored."""
        def day(key):
            try:
                return date.fromisoformat(str(data.get(key) or "").strip())
            except ValueError:
                return None

        return cls(action=str(data.get("action") or "").strip()[:64], actor=as_int(data.get("actor")),
                   since=day("since"), until=day("until"))

    def as_query(self) -> str:
        pairs = [("action", self.action), ("actor", self.actor or ""), ("since", self.since or ""),
                 ("until", self.until or "")]
        return "&".join(f"{k}={v}" for k, v in pairs if v)


def unit_events(actor, campaign: Campaign, unit: Unit) -> QuerySet[Event]:
    """Everything recorded for ``unit`` in ``campaign``, newest first: its decisions on the courses
    it holds, its confirmations, unlocks, reopenings, deadline and quota changes, its contact form
    and resource packages. Only for the unit's admins and the levels above (else 404)."""
    if not (actor.has_perm("selection.view_unit", unit)
            and (unit.is_within(campaign.owner) or campaign.owner.is_within(unit))):
        raise Http404(_("未找到该单位，或它不在您管理的范围内。"))
    as_text = Cast("pk", output_field=CharField())
    courses = Course.objects.filter(campaign=campaign).annotate(key=as_text).values("key")
    forms = ContactForm.objects.filter(campaign=campaign, unit=unit).annotate(key=as_text).values("key")
    return Event.objects.filter(
        Q(target_type=Campaign._meta.label_lower, target_id=str(campaign.pk))
        | Q(target_type=Course._meta.label_lower, target_id__in=courses)
        | Q(target_type=ContactForm._meta.label_lower, target_id__in=forms)
        | Q(target_type=Unit._meta.label_lower, target_id=str(unit.pk), after__campaign=campaign.pk),
        unit_path=unit.path).order_by("-at", "-id")


def unit_history(actor, campaign: Campaign, unit: Unit, f: HistoryFilter) -> QuerySet[Event]:
    """``unit_events`` narrowed by the filter; every page, export and API list starts here."""
    qs = unit_events(actor, campaign, unit)
    if f.action:
        qs = qs.filter(action=f.action)
    if f.actor is not None:
        qs = qs.filter(actor_id=f.actor) if 0 < f.actor < 2**63 else qs.none()
    if f.since is not None:
        qs = qs.filter(at__gte=datetime.combine(f.since, time.min, tzinfo=rules.TZ))
    if f.until is not None:
        qs = qs.filter(at__lt=datetime.combine(f.until + timedelta(days=1), time.min, tzinfo=rules.TZ))
    return qs


def history_choices(actor, campaign: Campaign, unit: Unit) -> dict:
    """Options of the history filter: the actions and the actors found in the unit's history."""
    qs = unit_events(actor, campaign, unit).order_by()
    actions = sorted(set(qs.values_list("action", flat=True)))
    actors = sorted(set(qs.exclude(actor_id=None).values_list("actor_id", "actor_name")), key=lambda p: (p[1], p[0]))
    return {"actions": [(a, action_label(a)) for a in actions], "actors": actors}


def actor_name(actor_id: int) -> str:
    """The name an actor has in the audit log (for a filter's description)."""
    return Event.objects.filter(actor_id=actor_id).values_list("actor_name", flat=True).first() or str(actor_id)


def history_row(ev: Event) -> list[str]:
    """One event as the history table and its Excel export show it."""
    return [rules.local_text(ev.at), ev.actor_name or _("系统"), action_label(ev.action), ev.target_repr,
            rules.event_details(ev.action, ev.before, ev.after), ev.reason]


def members(entry: Entry) -> list[str]:
    return [m.user.display_name for m in course_members(entry.course)]


def course_members(course: Course) -> list:
    """The course's team members (``CourseMember`` with its user) in their order, read once per
    course instance: a decision's notice to the team and its answer both list them."""
    found = course.__dict__.get("_team_members")
    if found is None:
        found = course.__dict__["_team_members"] = _TEAM.instances(course.pk)
    return found


# --- a unit at its level: standing, quotas, shares ---------------------------------------------------
def get_unit(actor, campaign: Campaign, unit_id) -> tuple[Unit, Level]:
    """A unit of the campaign the actor administers (or one above it), with its level; else 404."""
    unit = Unit.objects.select_related("parent").filter(pk=as_int(unit_id) or 0, is_active=True).first()
    if (unit is None or not actor.has_perm("selection.view_unit", unit)
            or not (unit.is_within(campaign.owner) or campaign.owner.is_within(unit))):
        raise Http404(_("未找到该单位，或它不在您管理的范围内。"))
    level = level_of(campaign, unit.kind)
    if level is None:
        raise Http404(_("本活动没有“%(unit)s”所在的层级。") % {"unit": unit.name})
    return unit, level


def level_of(campaign: Campaign, kind: str) -> Level | None:
    """The campaign's level of ``kind``, from ``campaign.levels.all()``: no query when the page
    prefetched the levels (``prefetch_related_objects([campaign], "levels")``, as the desk does)."""
    return next((lv for lv in campaign.levels.all() if lv.kind == kind), None)


def desks(actor, campaign: Campaign) -> list[Unit]:
    """Units whose entries the actor works on in this campaign: the units he administers that
    have a level in it, then their direct children that have one (to act in their place)."""
    kinds = {lv.kind for lv in campaign.levels.all()}
    own = sorted((u for u in actor.admin_units() if u.is_within(campaign.owner) or campaign.owner.is_within(u)),
                 key=lambda u: u.depth)
    if actor.is_system_admin and not own:
        own = [campaign.owner]
    result = [u for u in own if u.kind in kinds]
    # Only names and ids are shown of the children (a county's hundreds of schools); the one opened
    # goes through ``get_unit``.
    children = Unit.objects.filter(parent__in=own, is_active=True, kind__in=kinds)
    seen = {u.pk for u in result}
    for child in children.order_by("sort_order", "code", "pk"):
        if child.pk not in seen and child.is_within(campaign.owner):
            result.append(child)
            seen.add(child.pk)
    return result


def _quota_row(q: Quota) -> campaign_rules.QuotaRow:
    return campaign_rules.QuotaRow(q.pk, q.level.kind, q.unit_id, q.school_owner_kind, q.category, q.subject,
                                   q.per_subject, q.limit)


def _quota_rows(campaign: Campaign) -> list[campaign_rules.QuotaRow]:
    return [_quota_row(q) for q in Quota.objects.filter(campaign=campaign).select_related("level")]


def _limit_for(rows: list[campaign_rules.QuotaRow], unit: Unit):
    """``limit_for(category, subject)``: every quota row a pick must satisfy (a subject row and
    the category-wide row it sits inside), as ``QuotaLimit`` values; [] for no limit."""
    owner_kind = unit.parent.kind if unit.kind == "school" and unit.parent_id else ""
    who = campaign_rules.Recommender(unit.pk, unit.kind, owner_kind)

    def limit_for(category: str, subject: str) -> list[rules.QuotaLimit]:
        return [rules.QuotaLimit(row.limit, row.subject, row.per_subject)
                for row in campaign_rules.resolve_quotas(rows, who, category, subject)]

    return limit_for


def _limits_by_unit(rows: list[campaign_rules.QuotaRow]):
    """``_limit_for`` of many units at once, each answer computed once per kind of unit: units
    without quota rows of their own (most schools of a county) share the answers of their kind
    and owner kind. The board asks for hundreds of units, a handful of questions each."""
    own = {r.unit_id for r in rows if r.unit_id is not None}
    shared: dict[tuple, dict] = {}

    def of(unit: Unit):
        owner_kind = unit.parent.kind if unit.kind == "school" and unit.parent_id else ""
        key = (unit.kind, owner_kind, unit.pk if unit.pk in own else None)
        answers = shared.setdefault(key, {})
        limit_for = _limit_for(rows, unit)

        def cached(category: str, subject: str) -> list[rules.QuotaLimit]:
            found = answers.get((category, subject))
            if found is None:
                found = answers[(category, subject)] = limit_for(category, subject)
            return found

        return cached

    return of


def _subject_categories(rows: list[campaign_rules.QuotaRow], units) -> dict[int, set[str]]:
    """For each of ``units`` whose quotas count subjects somewhere (a subject row, or a category-wide
    row counted per subject, of its level kind, its own or a default for it), those categories:
    where its quota board shows a line per subject held. Units without any are left out."""
    result: dict[int, set[str]] = {}
    for unit in units:
        owner_kind = unit.parent.kind if unit.kind == "school" and unit.parent_id else ""
        found = {r.category for r in rows if r.level_kind == unit.kind and (r.subject or r.per_subject)
                 and r.unit_id in (None, unit.pk) and r.school_owner_kind in ("", owner_kind)}
        if found:
            result[unit.pk] = found
    return result


def _categories(campaign: Campaign) -> list[str]:
    """The campaign's categories in their order; no query when ``categories`` is prefetched."""
    return [cc.category for cc in campaign.categories.all()]


@dataclass
class Held:
    """One unit's entries at its level, as plain picks by state."""

    picks: dict[str, list[rules.Pick]] = field(default_factory=dict)
    awarded: list[rules.Pick] = field(default_factory=list)

    def add(self, pick: rules.Pick, state: str, awarded: bool) -> None:
        self.picks.setdefault(state, []).append(pick)
        if awarded:
            self.awarded.append(pick)

    def of(self, state: str) -> list[rules.Pick]:
        return self.picks.get(state, [])

    def count(self, state: str) -> int:
        return len(self.of(state))

    @property
    def live(self) -> list[rules.Pick]:
        return self.of(EntryState.PENDING) + self.of(EntryState.RECOMMENDED)

    @property
    def seen(self) -> set[tuple[str, str]]:
        return {(p.category, p.subject) for state in self.picks.values() for p in state}


@dataclass
class HeldCounts(Held):
    """A unit's entries at its level counted in the database (the progress board): ``counts``
    per state; only the recommended (bounded by the quotas) and the awarded are expanded into
    picks (without entry ids or nodes), for the quota board and its sorting."""

    counts: dict[str, int] = field(default_factory=dict)
    subjects: set[tuple[str, str]] = field(default_factory=set)
    node_conflicts: int = 0

    def count(self, state: str) -> int:
        return self.counts.get(state, 0)

    @property
    def seen(self) -> set[tuple[str, str]]:
        return self.subjects


# The entries a unit has picked: recommended, or awarded (whatever their state). Bounded by the
# quotas, not by what was declared; the partial index ``progress_entry_picked`` holds these rows
# only (its condition is this very filter, so both PostgreSQL and SQLite use it).
PICKED = Q(state=EntryState.RECOMMENDED) | Q(awarded=True)


def _held_counts(campaign: Campaign, unit_ids, *, subject_categories: dict[int, set[str]] | None = None
                 ) -> dict[int, HeldCounts]:
    """``HeldCounts`` of the units in the campaign, counted in the database, whatever their size:

    1. the entries by unit, state and award, and 2. the catalog nodes held live twice or more:
       both read counters kept as the entries change (``selection/tally.py``: a few rows per unit,
       and only the conflicting nodes), never the entries nor the courses;
    3. the recommended and awarded entries (bounded by the quotas) by category and subject, from
       the partial index ``progress_entry_picked``: the only query that reads courses (one index
       probe per picked entry);
    4. only for the units of ``subject_categories`` (unit id → the categories its quota counts
       per subject, ``_subject_categories``): the (category, subject) pairs each holds there, for
       which the quota board shows a line even before anything is recommended.
    """
    result: dict[int, HeldCounts] = {}
    unit_ids = list(unit_ids)
    # the units as one array parameter (InIds): a county's ~835 schools at 1 M are five queries' lists
    entries = Entry.objects.filter(InIds("unit_id", unit_ids), campaign=campaign).order_by()
    # Counted as the entries change (selection/tally.py): a few counter rows per unit, however
    # many entries it holds.
    for unit_id, state, n in (EntryTally.objects.filter(InIds("unit_id", unit_ids), campaign_id=campaign.pk, n__gt=0)
                              .order_by().values_list("unit_id", "state", "n")):
        h = result.setdefault(unit_id, HeldCounts())
        h.counts[state] = h.counts.get(state, 0) + n
    # The course's category looked up per picked entry (an index probe each): a join would let
    # the planner hash the whole courses table for a province's thousand recommendations (the
    # catalog is small). The picked entries are read from their partial index ``progress_entry_picked``.
    course_category = Subquery(Course.objects.filter(pk=OuterRef("course_id")).order_by().values("category")[:1])
    picked = (entries.filter(PICKED)
              .annotate(category=course_category)
              .values_list("unit_id", "state", "awarded", "category", "node__textbook__subject")
              .annotate(n=Count("*")))
    for unit_id, state, awarded, category, subject, n in picked:
        h = result.setdefault(unit_id, HeldCounts())
        h.subjects.add((category, subject))
        pick = rules.Pick(0, category, subject)
        if state == EntryState.RECOMMENDED:
            h.picks.setdefault(state, []).extend([pick] * n)
        if awarded:
            h.awarded.extend([pick] * n)
    if subject_categories:
        wanted = set().union(*subject_categories.values())
        held = (Entry.objects.filter(InIds("unit_id", subject_categories), campaign=campaign).order_by()
                .annotate(category=course_category)
                .filter(category__in=list(wanted))
                .values_list("unit_id", "category", "node__textbook__subject").distinct())
        for unit_id, category, subject in held:
            if category in subject_categories[unit_id]:
                result.setdefault(unit_id, HeldCounts()).subjects.add((category, subject))
    # The nodes held live twice or more, from their counters' partial index (those rows only).
    # (a list of ids, not InIds: with the array the planner now and then read every counter of a
    # small, much-updated test table sequentially; selection/tests/test_progress_plans.py)
    conflicts = (NodeTally.objects.filter(campaign_id=campaign.pk, unit_id__in=unit_ids, n__gt=1)
                 .order_by().values_list("unit_id").annotate(k=Count("*")))
    for unit_id, k in conflicts:
        result.setdefault(unit_id, HeldCounts()).node_conflicts += k
    return result


@dataclass
class Standing:
    """A unit at its level: deadlines, confirmation, counts, quota board, share board."""

    campaign: Campaign
    level: Level
    unit: Unit
    unit_level: UnitLevel | None
    deadline: datetime | None
    confirm_deadline: datetime | None
    deadline_source: str
    held: Held
    quotas: list[rules.QuotaUse]
    caps: list
    targets: list
    node_conflicts: int
    now: datetime

    @property
    def confirmed(self) -> bool:
        return bool(self.unit_level and self.unit_level.confirmed)

    @property
    def seconds_left(self) -> int | None:
        return rules.time_left(self.now, self.deadline)

    @property
    def time_left_text(self) -> str:
        return rules.time_left_text(self.seconds_left)

    @property
    def open(self) -> bool:
        return not self.confirmed and (self.deadline is None or self.now <= self.deadline)

    @property
    def counts(self) -> dict[str, int]:
        return {**{state: self.held.count(state) for state in EntryState.values}, "awarded": len(self.held.awarded)}


def standing(actor, campaign: Campaign, unit: Unit, level: Level, *, now: datetime | None = None) -> Standing:
    """Everything a unit's desk shows at the top. About eight queries, however many entries."""
    now = now or timezone.now()
    row = next((r for r in campaign_services.deadlines_for(campaign, unit) if r.level.pk == level.pk), None)
    unit_level = UnitLevel.objects.filter(level=level, unit=unit).select_related("confirmed_by").first()
    quota_rows = _quota_rows(campaign)
    # Counted in the database (a unit holds its entries at its own level only): the desk's
    # summary costs the same with 10 or 10,000 entries pending.
    held = _held_counts(campaign, [unit.pk], subject_categories=_subject_categories(quota_rows, [unit])
                        ).get(unit.pk, HeldCounts())
    recommended = held.of(EntryState.RECOMMENDED)
    quotas = rules.quota_uses(_categories(campaign), _limit_for(quota_rows, unit), recommended, held.seen)
    board = share_board(campaign, level, unit, recommended=recommended, awarded=held.awarded)
    return Standing(
        campaign=campaign, level=level, unit=unit, unit_level=unit_level,
        deadline=row.deadline if row else level.deadline,
        confirm_deadline=(row.confirm_deadline if row else level.confirm_deadline) or (row.deadline if row else None),
        deadline_source=str(row.deadline_label) if row else "", held=held, quotas=quotas, caps=board["caps"],
        targets=board["targets"], node_conflicts=held.node_conflicts, now=now)


# --- progress board of a county, city or province ------------------------------------------------------
@dataclass
class ChildProgress:
    unit: Unit
    level: Level
    held: Held
    quotas: list[rules.QuotaUse]
    node_conflicts: int
    unit_level: UnitLevel | None
    deadline: datetime | None
    confirm_deadline: datetime | None
    now: datetime
    # The contact form (工作联系表, app contacts): whether the unit files one in this campaign
    # (it reports straight to the organiser) and when it was filed (None: not yet).
    contact_required: bool = False
    contact_filed_at: datetime | None = None

    @property
    def confirmed(self) -> bool:
        return bool(self.unit_level and self.unit_level.confirmed)

    @property
    def contact_filed(self) -> bool:
        return self.contact_filed_at is not None

    @property
    def seconds_left(self) -> int | None:
        return rules.time_left(self.now, self.deadline)

    @property
    def time_left_text(self) -> str:
        return rules.time_left_text(self.seconds_left)

    @property
    def counts(self) -> dict[str, int]:
        return {**{state: self.held.count(state) for state in EntryState.values}, "awarded": len(self.held.awarded)}

    @property
    def behind(self) -> bool:
        """Still has work to do: undecided entries, or not confirmed."""
        return not self.confirmed or self.held.count(EntryState.PENDING) > 0


def board_levels(campaign: Campaign) -> dict[str, Level]:
    """The campaign's levels by unit kind (one query)."""
    return {lv.kind: lv for lv in campaign.levels.all()}


def board_children(campaign: Campaign, unit: Unit, levels: dict[str, Level] | None = None) -> list[Unit]:
    """The child units of ``unit`` on its progress board, in the board's order (counties before
    its own schools, then by sort order and code): those that have a level in the campaign and
    are inside its owner's area. One query (the units, with their parent; and the levels unless
    given, ``board_levels``)."""
    levels = levels if levels is not None else board_levels(campaign)
    return sorted((c for c in Unit.objects.filter(parent=unit, is_active=True, kind__in=list(levels))
                   .select_related("parent") if c.is_within(campaign.owner) or campaign.owner.is_within(c)),
                  key=lambda c: (c.kind == "school", c.sort_order, c.code, c.pk))


def behind_count(campaign: Campaign, children: list[Unit]) -> int:
    """How many of ``children`` are behind (``ChildProgress.behind``: not confirmed, or holding a
    pending entry), counted without reading their entries: the confirmed ones (one row each)
    that hold no pending entry (one probe of the board index each, which stops at the first) are
    not behind. One query whatever the number of entries: the board page's summary line, whose
    rows are computed for one page only."""
    if not children:
        return 0
    done = (UnitLevel.objects.filter(campaign=campaign, unit_id__in=[c.pk for c in children],
                                     confirmed_at__isnull=False)
            .exclude(Exists(Entry.objects.filter(campaign=campaign, unit_id=OuterRef("unit_id"),
                                                 state=EntryState.PENDING)))
            .values("unit_id").distinct().count())
    return len(children) - done


def progress(actor, campaign: Campaign, unit: Unit, *, now: datetime | None = None,
             children: list[Unit] | None = None, levels: dict[str, Level] | None = None,
             categories: list[str] | None = None) -> list[ChildProgress]:
    """Each child unit of ``unit`` that has a level in the campaign (or only ``children``, some
    of ``board_children`` with its ``levels``: one page of the board): recommendations against
    its quotas per category, node conflicts, confirmation, time left. A fixed number of queries
    (fewer when given the ``levels`` and the ``categories``, as the board page has them); the
    work per child is Python only (deadlines resolved once per distinct chain of overrides)."""
    now = now or timezone.now()
    levels = levels if levels is not None else board_levels(campaign)
    if children is None:
        children = board_children(campaign, unit, levels)
    if not children:
        return []
    child_ids = [c.pk for c in children]
    quota_rows = _quota_rows(campaign)
    categories = categories if categories is not None else _categories(campaign)
    held = _held_counts(campaign, child_ids, subject_categories=_subject_categories(quota_rows, children))
    unit_levels = {ul.unit_id: ul for ul in UnitLevel.objects.filter(InIds("unit_id", child_ids), campaign=campaign)}
    files_contact = {c.pk: contact_rules.files_form(c.kind, c.parent_id, campaign.owner_id, list(levels))
                     for c in children}
    contact_filed = dict(ContactForm.objects.filter(InIds("unit_id", child_ids), campaign=campaign)
                         .values_list("unit_id", "filed_at")) if any(files_contact.values()) else {}
    overrides: dict[int, dict[int, dict]] = {}
    for o in DeadlineOverride.objects.filter(InIds("unit_id", set(unit.ancestor_ids) | set(child_ids)),
                                             level__campaign=campaign):
        overrides.setdefault(o.level_id, {})[o.unit_id] = {n: getattr(o, n) for n in campaign_rules.DEADLINE_FIELDS}
    # Children whose paths meet the same overrides (most often none) resolve to the same deadlines.
    resolved_by_chain: dict[tuple, dict] = {}
    limits_of = _limits_by_unit(quota_rows)
    result = []
    for child in children:
        level = levels[child.kind]
        of_level = overrides.get(level.pk, {})
        chain = (level.pk, child.pk in of_level, tuple(pk for pk in child.ancestor_ids if pk in of_level))
        resolved = resolved_by_chain.get(chain)
        if resolved is None:
            resolved = resolved_by_chain[chain] = campaign_rules.resolve_deadlines_for_path(
                {n: getattr(level, n) for n in campaign_rules.DEADLINE_FIELDS}, child.ancestor_ids, of_level)
        h = held.get(child.pk, HeldCounts())
        deadline = resolved["deadline"].value
        result.append(ChildProgress(
            unit=child, level=level, held=h,
            quotas=rules.quota_uses(categories, limits_of(child), h.of(EntryState.RECOMMENDED), h.seen),
            node_conflicts=h.node_conflicts, unit_level=unit_levels.get(child.pk),
            deadline=deadline, confirm_deadline=resolved["confirm_deadline"].value or deadline, now=now,
            contact_required=files_contact[child.pk], contact_filed_at=contact_filed.get(child.pk)))
    return result


BOARD_PAGE_SIZE = 30  # child units per page of the progress board page (the API and the export: all)


# Sort keys of the progress board's table ("-key" reverses; "quota:<category>" sorts by the
# recommendations of a category); rows without a value (no deadline) come last either way.
PROGRESS_SORTS = {
    "pending": lambda r: r.held.count(EntryState.PENDING),
    "recommended": lambda r: r.held.count(EntryState.RECOMMENDED),
    "deadline": lambda r: r.deadline,
    "confirmed": lambda r: r.unit_level.confirmed_at if r.confirmed else None,
    "contact": lambda r: r.contact_filed_at if r.contact_required else None,
}


def sort_progress(rows: list[ChildProgress], sort: str) -> list[ChildProgress]:
    """The board's rows in the order asked for; unknown keys (and "unit") keep the units' order."""
    key = (sort or "").lstrip("-")
    descending = (sort or "").startswith("-")
    if key.startswith("quota:"):
        category = key.split(":", 1)[1]

        def value(r):
            return sum(1 for p in r.held.of(EntryState.RECOMMENDED) if p.category == category)
    elif key in PROGRESS_SORTS:
        value = PROGRESS_SORTS[key]
    else:
        return list(reversed(rows)) if descending and key == "unit" else list(rows)
    present = [r for r in rows if value(r) is not None]
    return sorted(present, key=value, reverse=descending) + [r for r in rows if value(r) is None]


def progress_categories(campaign: Campaign) -> list[tuple[str, str]]:
    """The categories of the campaign as (code, label): the board's quota columns."""
    return [(c, rules.category_label(c)) for c in _categories(campaign)]


def quota_cell(row: ChildProgress, category: str, unlimited: str = "") -> str:
    """A unit's quota use in one category, short: "3/25", "2（不限）", or per subject "数学 1/1；语文 0/1".
    ``unlimited``: the translated "%(n)d（不限）", when a table of many rows has it already."""
    parts = []
    for q in row.quotas:
        if q.category != category:
            continue
        used = f"{q.used}/{q.limit}" if q.limit is not None else (unlimited or _("%(n)d（不限）")) % {"n": q.used}
        parts.append(f"{q.subject} {used}" if q.subject else used)
    return "；".join(parts) or "0"


def board_units(actor, campaign: Campaign) -> list[Unit]:
    """Units whose progress board the actor may open in this campaign (those with children)."""
    return [u for u in actor.admin_units() if u.kind in ("county", "city", "province")
            and (u.is_within(campaign.owner) or campaign.owner.is_within(u))] or (
        [campaign.owner] if actor.is_system_admin else [])


def get_board_unit(actor, campaign: Campaign, unit_id=None) -> Unit:
    if unit_id in (None, ""):
        units = sorted(board_units(actor, campaign), key=lambda u: u.depth)
        if not units:
            raise Http404(_("您没有可以查看进度的下级单位。"))
        return units[0]
    unit = Unit.objects.select_related("parent").filter(pk=as_int(unit_id) or 0, is_active=True).first()
    if (unit is None or unit.kind == "school" or not actor.has_perm("selection.view_unit", unit)
            or not (unit.is_within(campaign.owner) or campaign.owner.is_within(unit))):
        raise Http404(_("未找到该单位，或它不在您管理的范围内。"))
    return unit


# --- the summary table (推荐汇总表) ---------------------------------------------------------------------
def summary_entries(actor, campaign: Campaign, unit: Unit, level: Level):
    """The unit's recommendations at its level in their order, ready for the table's columns."""
    return (entries_for(actor).filter(level=level, unit=unit, state=EntryState.RECOMMENDED)
            .select_related("course__school__parent", "course__lead_teacher")
            .prefetch_related(Prefetch("course__members", queryset=_members_qs()))
            .order_by(F("rank").asc(nulls_last=True), "id"))


def _members_qs():
    from courses.models import CourseMember

    return CourseMember.objects.select_related("user").order_by("order", "id")


_TEAM = Compiled(lambda course_id: _members_qs().filter(course_id=course_id))  # ``course_members``


def county_of(school: Unit) -> str:
    """所属区县: the county a school belongs to, else what owns it (市直属学校 / 省属学校)."""
    parent = school.parent
    if parent is not None and parent.kind == "county":
        return parent.name
    return school.owner_label or (parent.name if parent else "")


def summary_row(number: int, entry: Entry) -> list:
    course, textbook = entry.course, entry.node.textbook
    return [
        number, rules.category_label(course.category), textbook.stage_label, textbook.subject, textbook.grade,
        textbook.version, textbook.volume, entry.node.label_path or entry.node.title, course.title,
        course.lead_teacher.display_name, "、".join(m.user.display_name for m in course.members.all()),
        course.school.name, county_of(course.school), entry.rank or "",
        entry.level.award_name if entry.awarded else "",
    ]


def summary_rows(actor, campaign: Campaign, unit: Unit, level: Level):
    """The table's rows, streamed from the database."""
    for number, entry in enumerate(summary_entries(actor, campaign, unit, level).iterator(chunk_size=200), 1):
        yield summary_row(number, entry)


ACTION_LABELS = {
    "courses.course.start": _lazy("创建申报"), "courses.course.update": _lazy("修改课程信息"),
    "courses.course.members": _lazy("调整团队成员"), "courses.course.submit": _lazy("提交到学校"),
    "courses.course.withdraw": _lazy("教师撤回"), "courses.resource.attach": _lazy("上传资源"),
    "courses.resource.remove": _lazy("删除资源"), "selection.enter": _lazy("到达学校"),
    "selection.resubmit": _lazy("修改后重新提交"), "selection.withdraw": _lazy("教师撤回"),
    "selection.return": _lazy("退回修改"), "selection.decline": _lazy("未推荐"), "selection.recommend": _lazy("推荐"),
    "selection.undo": _lazy("撤销决定"), "selection.award": _lazy("评为本级荣誉"),
    "selection.unaward": _lazy("取消本级荣誉"), "courses.course.delete": _lazy("删除申报"),
    # unit-level events (the history of a unit; confirm/unlock/reopen/deadline also in an entry's timeline)
    "selection.confirm": _lazy("确认推荐汇总表"), "selection.unlock": _lazy("解锁推荐汇总表"),
    "selection.reopen": _lazy("截止后重新开放"), "selection.package": _lazy("下载推荐资源包"),
    "campaigns.deadline_override.set": _lazy("设置本单位截止时间"),
    "campaigns.deadline_override.delete": _lazy("取消本单位截止时间"),
    "campaigns.quota_override.set": _lazy("设置本单位名额"), "campaigns.quota_override.delete": _lazy("取消本单位名额"),
    "campaigns.quotas.defaults": _lazy("修改默认名额"), "campaigns.campaign.create": _lazy("创建遴选活动"),
    "campaigns.campaign.update": _lazy("修改遴选活动"),
    "campaigns.campaign.import": _lazy("导入遴选活动"), "contacts.reopen": _lazy("重新开放工作联系表"),
    "contacts.form.update": _lazy("填写工作联系表"), "contacts.form.scan": _lazy("上传工作联系表扫描件"),
    "contacts.form.file": _lazy("提交工作联系表"), "contacts.export": _lazy("导出工作联系表"),
    "notifications.remind": _lazy("提醒下级单位"),
    "review.proposal.apply": _lazy("应用推荐方案"), "review.award_proposal.apply": _lazy("应用本级荣誉方案"),
    # 公示 (review app): the unit's publicity and the objections to it
    "review.publicity.open": _lazy("发布公示"), "review.publicity.close": _lazy("公示期结束"),
    "review.publicity.finalize": _lazy("公示结果确定"), "review.objection.receive": _lazy("收到异议"),
    "review.objection.resolve": _lazy("处理异议"), "review.publicity.withdraw": _lazy("异议成立，撤销结果"),
}
# --- review: lecture scores entered by the chair; adjudication; adding a reviewer ---
ACTION_LABELS.update({
    "review.sheet.enter": _lazy("组长录入试讲评分"), "review.lecture.slot": _lazy("安排试讲时间"),
    "review.adjudication.set": _lazy("组长裁定"), "review.adjudication.withdraw": _lazy("撤回组长裁定"),
    "review.assignment.add_reviewer": _lazy("增加评审专家"),
})


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def confirmation(level: Level, unit: Unit) -> UnitLevel | None:
    return UnitLevel.objects.filter(level=level, unit=unit).select_related("confirmed_by").first()


def filter_choices(campaign: Campaign, level: Level, unit: Unit) -> dict:
    """Options of a desk's filter form: the categories of the campaign, the subjects and grades
    of the entries the unit holds, and its child units (where courses come from)."""
    # The textbooks of the nodes the unit holds entries on: the nodes come from the board index
    # alone (a unit holds its entries at its own level only), one row per textbook comes back.
    nodes = Entry.objects.filter(campaign_id=level.campaign_id, unit=unit).values("node_id")
    books = list(Textbook.objects.filter(nodes__in=nodes).values_list("subject", "grade", "rank").distinct())
    subjects = sorted({subject for subject, _g, _r in books})
    grades = [g for g, _r in sorted({(g, r) for _s, g, r in books}, key=lambda pair: pair[1]) if g]
    children = list(Unit.objects.filter(parent=unit, is_active=True).order_by("sort_order", "code", "pk"))
    categories = [(c, rules.category_label(c)) for c in _categories(campaign)]
    return {"categories": categories, "subjects": subjects, "grades": list(dict.fromkeys(grades)),
            "children": children}


def is_open(campaign: Campaign, level: Level, unit: Unit, *, now: datetime | None = None) -> bool:
    """Whether the unit may still decide at its level: not confirmed and before its deadline
    (the same checks ``decide`` makes; pages use it to offer the actions)."""
    now = now or timezone.now()
    if UnitLevel.objects.filter(level=level, unit=unit, confirmed_at__isnull=False).exists():
        return False
    return rules.deadline_decision(now, _deadline(campaign, unit, level), level.name).ok
