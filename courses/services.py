"""Use cases for declared courses. One function per action: permission-checked, transactional,
audited. The pages and the API call these same functions.

Queries start from ``Course.objects.visible_to(user)``; a course outside it is 404 everywhere.
Checks: a file put into a slot is judged at once by ``media.rules.evaluate`` against the slot's
requirements (the slot's formats and cap, and for a video the production spec of the node's
stage); while the probe runs the result is "pending", and ``reevaluate_file`` (on
``media.signals.file_probed``) or ``reevaluate_campaign`` (when a spec or slot changes) bring it
up to date. Pages and submission also re-check any resource whose requirements fingerprint is
stale, so a missed signal cannot let an outdated verdict through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import rules as permission_rules
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record
from campaigns.enums import VIDEO_KINDS, CampaignStatus
from campaigns.models import Campaign, CampaignCategory, DeadlineOverride, Level, ProductionSpec, ResourceSlot
from campaigns.services import campaigns_for, deadlines_for, spec_row
from courses import areas, compliance, rules
from courses.models import CheckStatus, Course, CourseMember, CourseStatus, Period, Resource, own_course_ids
from courses.signals import checks_failed
from jingpinke.errors import ServiceError
from jingpinke.inputs import parse_id
from jingpinke.prepared import prepared
from jingpinke.sql import Compiled
from media import multipart
from media import rules as media_rules
from media.models import ProbeStatus, StoredFile
from orgs.models import Role, Unit, UnitKind, User

PAGE_SIZE = 30
MOBILE_RE = re.compile(r"^1\d{10}$")
IMMEDIATE_REFUSALS = {"empty", "type", "size"}  # known without the probe: refused, the slot keeps its file
MAX_SEARCH_RESULTS = 10


# --- permission helpers ------------------------------------------------------------------------
def require(actor, perm: str, obj=None, message: str | None = None) -> None:
    if not actor.has_perm(perm, obj):
        raise PermissionDenied(message or _("您没有权限执行此操作。"))


def _refuse(decision: rules.Decision, message: str | None = None, status: int = 400) -> None:
    if not decision.ok:
        reasons = decision.reasons
        if message is None:
            message = reasons[0] if len(reasons) == 1 else _("还有 %(n)d 个问题需要处理：%(first)s") % {
                "n": len(reasons), "first": reasons[0]}
        raise ServiceError(message, errors=list(reasons), status=status)


def _rule(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except rules.RuleError as exc:
        raise ServiceError(str(exc)) from None


def can_change(actor, course: Course) -> bool:
    """Tested on the rule set itself: a system administrator reads every course but does not
    declare on a teacher's behalf."""
    return permission_rules.has_perm("courses.change_course", actor, course)


def is_lead(actor, course: Course) -> bool:
    return permission_rules.has_perm("courses.submit_course", actor, course)


# --- queries -------------------------------------------------------------------------------------
def courses_for(user) -> QuerySet[Course]:
    return Course.objects.visible_to(user)


def administers_every_unit(user) -> bool:
    """Whether the units ``user`` administers hold every unit there is (a province admin of the
    only province): every unit's path starts with its root's, so then the scope is the whole
    table and a list needs no scope filter at all, only the ordering index (issue 12: the
    province's ``/courses/`` walked the newest-first index through ``school_id IN (every unit of
    the province)``, and its bounded count tested 10,001 rows against that list). One query on
    the roots (``parent_id IS NULL``, indexed: a handful of rows), kept on the user object for the
    request; False without admin units."""
    cached = getattr(user, "_jpk_every_unit", None)
    if cached is None:
        units = user.admin_units() if user and user.is_authenticated else []
        cached = False
        if any(unit.parent_id is None for unit in units):  # only a root's subtree can hold a root
            within = Q()
            for unit in units:
                within |= Q(path__startswith=unit.path)
            cached = not Unit.objects.filter(parent__isnull=True).exclude(within).exists()
        user._jpk_every_unit = cached
    return cached


def _listed(user) -> tuple[QuerySet[Course], bool]:
    """The courses ``user`` sees (the same set as ``Course.objects.visible_to``, tested so), and
    whether the list must sort them (``list_courses``: ``recent``) rather than read them in the
    order of an index.

    ``visible_to`` names the schools with ``IN (subquery)`` inside an OR; no database uses an
    index for that, so a city admin's page walked the newest-first index over the whole province
    or sorted the city's courses (issue 12: a city of a 1,000,000-course province holds ~50,000
    courses, 270 ms p50 to sort them for every page). Every course carries the units at depth 1
    and 2 of its school's path (``area1``, ``area2``: its city and county, ``courses/areas.py``),
    so the scope of one city or county is ``area<depth> = unit``: one range of the index
    ``(area<depth>, -updated_at, -id)``, read in the list's order, whatever its size. The user's
    own courses (lead teacher, team member) outside that scope are read first (one query, none
    for almost every admin) and added by id.

    Sorted (small sets, read by their indexes): a teacher's own courses, a school admin's school,
    several units at once. Not filtered at all: the admin of every unit
    (``administers_every_unit``). Walked (the newest-first index, where the scope's rows come
    early): the system administrator, a province beside others."""
    if not (user and user.is_authenticated) or user.is_superuser:
        return courses_for(user), False
    if administers_every_unit(user):
        # every course: no filter, the newest-first index alone (the user's own courses are in it)
        return Course.objects.all(), False
    units = user.admin_units()
    if not units:  # a teacher: his own courses, one subquery (``own_course_ids``), sorted
        return Course.objects.filter(pk__in=own_course_ids(user)), True
    member_of = list(CourseMember.objects.filter(user=user).order_by().values_list("course_id", flat=True))
    own = Q(lead_teacher=user)
    if member_of:
        own |= Q(pk__in=member_of)
    scope = Q()
    for unit in units:
        if unit.depth in areas.DEPTHS:
            scope |= Q(**{areas.DEPTHS[unit.depth]: unit.pk})
        elif unit.kind == UnitKind.SCHOOL:  # a school at depth 3 has no unit below it
            scope |= Q(school_id=unit.pk)
        else:  # a province (beside another one): most of the table, the walk meets its rows at once
            within = Q()
            for u in units:
                within |= Q(path__startswith=u.path)
            return Course.objects.filter(own | Q(school_id__in=Unit.objects.filter(within).values("pk"))), False
    outside = list(Course.objects.filter(own).exclude(scope).order_by().values_list("pk", flat=True))
    if outside:
        scope |= Q(pk__in=outside)
    one_range = len(units) == 1 and units[0].depth in areas.DEPTHS and not outside
    return Course.objects.filter(scope), not one_range


def list_courses(user, *, campaign_id=None, status: str = "", mine: bool = False) -> QuerySet[Course]:
    """The courses list, newest change first; page it with ``jingpinke.paging.paginate`` (page
    first on indexed columns, then the page's rows with their joins).

    A small scope (``_listed``: a teacher's, a school's, several units') is sorted by ``recent``,
    the change time wrapped in a no-op COALESCE, so that the planner collects the scope's rows by
    their indexes and sorts those, instead of walking the newest-first index of every course in
    the hope that the scope's rows come early; one city or county reads its range of its area
    index in order, the province walks the newest-first index (its rows do come early)."""
    qs, scoped = _listed(user)
    qs = _with_row_reads(qs)
    if campaign_id:
        qs = qs.filter(campaign_id=campaign_id)
    if status in CourseStatus.values:
        qs = qs.filter(status=status)
    if mine:
        qs = qs.filter(lead_teacher=user)
    if scoped:
        return qs.annotate(recent=Coalesce("updated_at", "updated_at")).order_by("-recent", "-id")
    return qs.order_by("-updated_at", "-id")


def _with_row_reads(qs: QuerySet[Course]) -> QuerySet[Course]:
    """What a list row shows of a course: its campaign (with its levels), school, lead teacher, node."""
    return (qs.select_related("campaign__owner", "school__parent", "lead_teacher", "node__textbook")
            .prefetch_related(Prefetch("campaign__levels", queryset=Level.objects.order_by("pk"))))


def load_listed(ids) -> QuerySet[Course] | list[Course]:
    """The rows of a page of ``list_courses`` by key (``paginate(load=…)``): the keys come from the
    scoped list itself, so the scope is not applied again (its subqueries made PostgreSQL plan the
    seven-table read longer for nothing)."""
    ids = list(dict.fromkeys(ids))
    if not ids or len(ids) > 50:  # none: no query; a longer list than a page's: its shape seldom comes again
        return _with_row_reads(Course.objects.filter(pk__in=ids).order_by())
    # compiled once per number of rows (``jingpinke.sql.Compiled``), the levels once per campaign
    rows = _LISTED.instances(ids)
    campaigns = {course.campaign_id for course in rows}
    if len(campaigns) == 1:  # as a rule (a teacher's list, a campaign's): one prepared read
        levels = _CAMPAIGN_LEVELS.instances(rows[0].campaign_id)
        for course in rows:
            _set_levels(course.campaign, levels)
    elif rows:
        from django.db.models import prefetch_related_objects

        prefetch_related_objects(rows, Prefetch("campaign__levels", queryset=Level.objects.order_by("pk")))
    return rows


_LISTED = Compiled(lambda ids: Course.objects.filter(pk__in=ids).select_related(
    "campaign__owner", "school__parent", "lead_teacher", "node__textbook").order_by())


@dataclass
class RowExtras:
    """What a list row of a course shows beyond the row itself, read for a whole page at once
    (``row_extras``): the school level's deadline, the team, the same-node warning."""

    deadlines: dict = field(default_factory=dict)  # (campaign id, school id) → LevelDeadlines | None
    members: dict = field(default_factory=dict)  # course id → [person dict]
    same_node: dict = field(default_factory=dict)  # course id → warning text


def row_extras(courses) -> RowExtras:
    """``RowExtras`` for a page of courses from ``list_courses``, in a fixed number of queries
    however many rows and schools the page holds."""
    courses = list(courses)
    extras = RowExtras()
    if not courses:
        return extras
    campaigns = {c.campaign_id: c.campaign for c in courses}
    path_ids = sorted({pk for c in courses for pk in c.school.ancestor_ids})
    # the page's three reads compiled once per shape (``jingpinke.sql.Compiled``: the lengths of their lists)
    overrides = _by_lists(_ROW_OVERRIDES.instances, list(campaigns), path_ids)
    for c in courses:
        key = (c.campaign_id, c.school_id)
        if key not in extras.deadlines:
            rows = deadlines_for(c.campaign, c.school, overrides_of=overrides)
            extras.deadlines[key] = next((r for r in rows if r.level.kind == UnitKind.SCHOOL), rows[0] if rows else None)
    by_id = {c.pk: c for c in courses}
    extras.members = _teams(_by_lists(_ROW_TEAMS.rows, list(by_id)), lambda pk: by_id[pk].campaign)
    same = _by_lists(_ROW_SAME_NODE.rows, list(campaigns), sorted({c.school_id for c in courses}),
                     sorted({c.node_id for c in courses}))
    same = [(*row[:5], User(real_name=row[5], first_name=row[6], last_name=row[7], username=row[8]).display_name)
            for row in same]
    groups: dict[tuple, list[tuple]] = {}
    for row in same:
        groups.setdefault(row[:3], []).append(row)
    for c in courses:
        others = [row[4:] for row in groups.get((c.campaign_id, c.school_id, c.node_id), []) if row[3] != c.pk]
        extras.same_node[c.pk] = rules.same_node_warning(others, c.campaign.node_rule)
    return extras


def _by_lists(read, *lists: list[int]) -> list:
    """``read(*lists)`` (a ``Compiled`` read's ``rows`` or ``instances``; ``__in`` each list of ids),
    compiled once per shape (the lengths of the lists). An empty list: the ORM's queryset, which
    reads nothing and sends no query; lists longer than a page's (120 ids in all): the ORM's too,
    their shapes seldom come again and would push the usual ones out of the read's shapes."""
    lists = [list(dict.fromkeys(values)) for values in lists]
    if not all(lists) or sum(map(len, lists)) > 120:
        return list(read.__self__.build(*lists))
    return read(*lists)


_ROW_OVERRIDES = Compiled(lambda cs, us: DeadlineOverride.objects.filter(
    level__campaign_id__in=cs, unit_id__in=us).select_related("unit").order_by(), max_shapes=128)
_ROW_TEAMS = Compiled(lambda ids: _team_rows(CourseMember.objects.filter(course_id__in=ids)))
_ROW_SAME_NODE = Compiled(lambda cs, ss, ns: _same_node_values(Course.objects.filter(
    campaign_id__in=cs, school_id__in=ss, node_id__in=ns)), max_shapes=128)


def _team_rows(members: QuerySet[CourseMember]):
    return members.order_by("course_id", "order", "pk", "user__memberships__pk").values_list(
        "course_id", "pk", "user_id", "user__real_name", "user__first_name", "user__last_name", "user__username",
        "user__mobile", "user__memberships__role", "user__memberships__unit__name", "user__memberships__unit__path",
        "user__memberships__unit__is_active")


def _same_node_values(courses: QuerySet[Course]):
    return courses.order_by("created_at").values_list(
        "campaign_id", "school_id", "node_id", "pk", "title", "lead_teacher__real_name", "lead_teacher__first_name",
        "lead_teacher__last_name", "lead_teacher__username")


def _same_node_rows(courses: QuerySet[Course]) -> list[tuple]:
    """(campaign id, school id, node id, id, title, lead teacher's name) of ``courses``, oldest first:
    values, not instances (the warning shows two strings of each)."""
    rows = _same_node_values(courses)
    return [(*row[:5], User(real_name=row[5], first_name=row[6], last_name=row[7], username=row[8]).display_name)
            for row in rows]


def get_course(actor, pk) -> Course:
    course = (courses_for(actor).select_related("campaign", "campaign__owner", "school", "school__parent",
                                                "lead_teacher", "node__textbook")
              .filter(pk=pk).first())
    if course is None:
        raise Http404(_("未找到该课程，或您无权查看。"))
    return course


def course_in_scope(actor, pk) -> Course:
    """The course row alone, 404 as ``get_course``: for a use case that reads it again under its
    lock with what it needs (``submit``, ``withdraw``). The scope check by key needs no join;
    ``get_course``'s six joins cost PostgreSQL 3–5 ms to plan (measured at 200,000 courses)."""
    course = courses_for(actor).select_related(None).order_by().filter(pk=pk).first()
    if course is None:
        raise Http404(_("未找到该课程，或您无权查看。"))
    return course


def _locked_qs(*, levels: bool = False, teacher: bool = True) -> QuerySet[Course]:
    # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of an outer join (school__parent).
    related = ("campaign", "campaign__owner", "school", "school__parent", "node__textbook")
    qs = Course.objects.select_for_update(of=("self",)).select_related(*related, *(("lead_teacher",) if teacher else ()))
    if levels:
        # the campaign's levels, read once for the deadlines, the items asked and the school level
        # (ordered by key: the default ordering joins the campaign for nothing, one campaign here)
        qs = qs.prefetch_related(Prefetch("campaign__levels", queryset=Level.objects.order_by("pk")))
    return qs


def _locked(course: Course, *, levels: bool = False) -> Course:
    """Re-read the course row under a lock (the caller is in a transaction); ``levels``: with its
    campaign's levels."""
    return _locked_qs(levels=levels).get(pk=course.pk)


def _locked_for(actor, course: Course | int, *, levels: bool = True) -> Course:
    """``_locked`` (``levels``: with the campaign's levels) for submit and withdraw. ``course``: a
    course the caller read in scope, or the id of one from a request. The lead teacher's own course
    is in his scope (``visible_to``): it is read at once under the lock, in one query; anyone else's
    course goes through ``course_in_scope`` first (404 outside the scope, then 403 for not being its
    lead teacher, as before)."""
    if isinstance(course, Course):
        return _locked(course, levels=levels)
    if actor is not None and actor.pk is not None:
        # by key, unordered (the default ordering only cost compiling); the lead teacher is the actor;
        # compiled once (``jingpinke.sql.Compiled``), the levels too
        rows = _LEAD_LOCKED.instances(course, actor.pk)
        if rows:
            rows[0].lead_teacher = actor
            if levels and "levels" not in getattr(rows[0].campaign, "_prefetched_objects_cache", {}):
                _set_levels(rows[0].campaign, _CAMPAIGN_LEVELS.instances(rows[0].campaign_id))
            return rows[0]
    return _locked(course_in_scope(actor, course), levels=levels)


def _set_levels(campaign: Campaign, levels: list[Level]) -> None:
    """``campaign.levels.all()`` answers ``levels`` without a query, as ``prefetch_related`` leaves it."""
    qs = campaign.levels.all()
    qs._result_cache, qs._prefetch_done = levels, True
    for level in levels:
        Level.campaign.field.set_cached_value(level, campaign)
    campaign.__dict__.setdefault("_prefetched_objects_cache", {})["levels"] = qs


_LEAD_LOCKED = Compiled(lambda pk, lead: _locked_qs(teacher=False).filter(pk=pk, lead_teacher_id=lead).order_by())
_CAMPAIGN_LEVELS = Compiled(lambda campaign_id: Level.objects.filter(campaign_id=campaign_id).order_by("pk"))


def open_campaigns(actor) -> list[Campaign]:
    """Open campaigns a teacher may declare in: they concern one of his schools."""
    schools = teacher_schools(actor)
    if not schools:
        return []
    qs = campaigns_for(actor).filter(status=CampaignStatus.OPEN).select_related("owner").order_by("-year", "title")
    return [c for c in qs if any(s.is_within(c.owner) for s in schools)]


def get_open_campaign(actor, pk) -> Campaign:
    campaign = next((c for c in open_campaigns(actor) if str(c.pk) == str(pk)), None)
    if campaign is None:
        raise Http404(_("未找到该遴选活动，或它不在进行中，或您不能在其中申报。"))
    return campaign


def teacher_schools(actor, campaign: Campaign | None = None) -> list[Unit]:
    schools = [u for u in actor.teacher_units() if u.kind == UnitKind.SCHOOL]
    if campaign is not None:
        schools = [u for u in schools if u.is_within(campaign.owner)]
    return schools


# --- deadlines -----------------------------------------------------------------------------------
def school_deadline(campaign: Campaign, school: Unit):
    """The school level's effective deadline for the school (its own, inherited, or the default);
    without a school level, the first level the school's entries pass through. None: no deadline.
    The campaign's levels (unless read with it) and the overrides on the school's path are read by
    statements compiled once (``jingpinke.sql.Compiled``): every course answered asks this."""
    if "levels" not in getattr(campaign, "_prefetched_objects_cache", {}):
        _set_levels(campaign, _CAMPAIGN_LEVELS.instances(campaign.pk))
    path = school.ancestor_ids if school is not None else []
    overrides = None
    if school is not None and 0 < len(path) <= 8:
        overrides = _PATH_OVERRIDES.instances(campaign.pk, path)
    rows = deadlines_for(campaign, school, overrides_of=overrides)
    for row in rows:
        if row.level.kind == UnitKind.SCHOOL:
            return row
    return rows[0] if rows else None


# the campaign's deadline overrides of the units of a path (with their units), compiled once per path length
_PATH_OVERRIDES = Compiled(lambda campaign_id, ids: DeadlineOverride.objects.filter(
    level__campaign_id=campaign_id, unit_id__in=ids).select_related("unit").order_by())


def _deadline_value(campaign: Campaign, school: Unit):
    row = school_deadline(campaign, school)
    return row.deadline if row is not None else None


# ``submission_facts``' deadline when the caller has not read it
_READ = object()


# --- requirements ----------------------------------------------------------------------------------
class RequirementBook:
    """A campaign's slots and production specs, loaded once (two queries), answering
    "what does this slot of this category accept for this stage"."""

    def __init__(self, campaign_id: int, category: str | None = None):
        """``category``: only that category's slots and specs (two queries), for ``package``; such a
        book knows no ``CampaignCategory`` (``category()`` answers None)."""
        # Ordered by their own columns: the models' default orderings start with the parent row, which
        # joined the category and the campaign into every query for an order they already have.
        if category is not None:  # compiled once (``jingpinke.sql.Compiled``): every package reads them
            self.categories = {}
            self.slots = {category: _CATEGORY_SLOTS.instances(campaign_id, category)}
            self.specs = {(category, s.stage): spec_row(s) for s in _CATEGORY_SPECS.instances(campaign_id, category)}
            return
        categories = (CampaignCategory.objects.filter(campaign_id=campaign_id).order_by("pk").prefetch_related(
            Prefetch("slots", queryset=ResourceSlot.objects.order_by("order", "pk")),
            Prefetch("specs", queryset=ProductionSpec.objects.order_by("stage"))))
        self.categories = {cc.category: cc for cc in categories}
        self.slots = {cc.category: list(cc.slots.all()) for cc in categories}
        self.specs = {(cc.category, s.stage): spec_row(s) for cc in categories for s in cc.specs.all()}

    def category(self, category: str) -> CampaignCategory | None:
        return self.categories.get(category)

    def slots_of(self, category: str) -> list[ResourceSlot]:
        return self.slots.get(category, [])

    def slot(self, category: str, kind: str) -> ResourceSlot | None:
        return next((s for s in self.slots_of(category) if s.kind == kind), None)

    def spec(self, category: str, stage: str) -> dict | None:
        return self.specs.get((category, stage)) or self.specs.get((category, ""))

    def requirements(self, category: str, stage: str, slot: ResourceSlot) -> media_rules.Requirements:
        """The slot's formats and cap; for a video the production spec; for every file the spec's
        check severities (the shipped defaults without a spec)."""
        spec = self.spec(category, stage)
        return media_rules.requirements_for(
            {"formats": list(slot.formats), "max_size_mb": slot.max_size_mb, "label": str(slot)},
            spec if slot.kind in VIDEO_KINDS else None, (spec or {}).get("severities"))


def _of_category(campaign_id, category) -> dict:
    return {"campaign_category__campaign_id": campaign_id, "campaign_category__category": category}


_CATEGORY_SLOTS = Compiled(
    lambda campaign_id, category: ResourceSlot.objects.filter(**_of_category(campaign_id, category)).order_by(
        "order", "pk"))
_CATEGORY_SPECS = Compiled(
    lambda campaign_id, category: ProductionSpec.objects.filter(**_of_category(campaign_id, category)).order_by(
        "stage"))


def accepts_text(req: media_rules.Requirements) -> str:
    """What a slot accepts, for its card: "PDF、Word (docx)，不超过 50.0 MB"."""
    formats = "、".join(media_rules.kind_label(f) for f in req.formats) or _("任意格式")
    text = formats
    if req.max_size_bytes:
        text += _("，不超过 %(cap)s") % {"cap": media_rules.size_text(req.max_size_bytes)}
    return text


def video_text(req: media_rules.Requirements) -> str:
    v = req.video
    if v is None:
        return ""
    return _("%(c)s · %(codec)s · %(w)d×%(h)d · %(fps)s fps · 约 %(br)s Mbps · %(ac)s %(abr)d kbps · 时长 %(min)s–%(max)s · 片头 %(t)d 秒") % {
        "c": media_rules.kind_label(v.container), "codec": media_rules.codec_label(v.video_codec), "w": v.width,
        "h": v.height, "fps": media_rules.number(v.fps), "br": media_rules.number(v.video_bitrate_kbps / 1000),
        "ac": media_rules.codec_label(v.audio_codec), "abr": v.audio_bitrate_kbps,
        "min": media_rules.duration_text(v.min_duration_s), "max": media_rules.duration_text(v.max_duration_s),
        "t": v.title_card_seconds}


def _evaluate(stored: StoredFile, req: media_rules.Requirements) -> list[media_rules.Finding]:
    return media_rules.evaluate(stored.kind, stored.size, stored.probe_status, stored.probe or {}, req,
                                name=stored.original_name)


def _apply_findings(resource: Resource, findings, req) -> bool:
    """Store findings on the resource (not saved). True if anything changed."""
    rows = [f.as_dict() for f in findings]
    status = media_rules.overall(findings)
    fingerprint = req.fingerprint()
    changed = (rows, status, fingerprint) != (resource.findings, resource.status, resource.evaluated_spec)
    resource.findings, resource.status, resource.evaluated_spec = rows, status, fingerprint
    return changed


def _is_stale(resource: Resource, req) -> bool:
    if resource.evaluated_spec != req.fingerprint():
        return True
    return resource.status == CheckStatus.PENDING and resource.file.probe_status in (ProbeStatus.DONE, ProbeStatus.FAILED)


def _reevaluate(resources, book_for, *, announce: bool = False) -> int:
    """Re-judge resources (with ``file`` and ``period__course__node__textbook`` loaded); save the
    changed ones. ``book_for(campaign_id)`` gives the RequirementBook. With ``announce`` (the
    requirements changed, not the files) a course that turns from passing to failing is announced
    (see ``_save_rejudged``). Returns how many changed."""
    changed, before, labels = [], {}, {}
    for r in resources:
        course = r.period.course
        book = book_for(course.campaign_id)
        slot = book.slot(course.category, r.slot_kind)
        if slot is None:
            continue  # the slot left the package: the resource is ignored by submission
        req = book.requirements(course.category, course.node.textbook.stage, slot)
        status, spec = r.status, r.evaluated_spec
        if _apply_findings(r, _evaluate(r.file, req), req):
            changed.append((r, course, r.period.number))
            before[r.pk], labels[r.pk] = (status, spec), str(slot)
    _save_rejudged(changed, before, labels, announce=announce)
    return len(changed)


def _save_rejudged(changed, before: dict, labels: dict, *, announce: bool) -> None:
    """Save re-judged resources (``changed``: (resource, its course, its 课时 number)); with
    ``announce``, send ``courses.signals.checks_failed`` for every course whose checks passed
    before (``before``: the resources' earlier (status, evaluated_spec)) and fail now, with its
    failing items (``labels``: slot names by resource id).

    Each row is written only if it still holds what was read (compare and set): the campaign's
    task and a course page may re-judge the same resource at the same moment, and only the one
    whose write lands announces it, so a team is told once."""
    now = timezone.now()
    saved = []
    for r, course, number in changed:
        status, spec = before[r.pk]
        if Resource.objects.filter(pk=r.pk, status=status, evaluated_spec=spec).update(
                findings=r.findings, status=r.status, evaluated_spec=r.evaluated_spec, updated_at=now):
            saved.append((r, course, number))
    if saved:
        compliance.refresh({course.pk for _r, course, _n in saved})
    changed, before = saved, {r.pk: before[r.pk] for r, _c, _n in saved}
    if not announce or not any(r.status == CheckStatus.FAIL for r, _c, _n in changed):
        return
    courses = {course.pk: course for _r, course, _n in changed}
    statuses: dict[int, list[tuple[str, str]]] = {pk: [] for pk in courses}
    rows = Resource.objects.filter(period__course_id__in=list(courses)).values_list("period__course_id", "pk", "status")
    for course_id, pk, status in rows:
        statuses[course_id].append((before[pk][0] if pk in before else status, status))
    for course_id, course in courses.items():
        pairs = statuses[course_id]
        if not rules.turned_failing([b for b, _a in pairs], [a for _b, a in pairs]):
            continue
        problems = []
        for r, c, number in sorted(changed, key=lambda item: (item[2], item[0].slot_kind)):
            if c.pk != course_id or r.status != CheckStatus.FAIL:
                continue
            what = "；".join(media_rules.Finding(**f).summary for f in r.findings if f.get("level") == media_rules.FAIL)
            problems.append(_("第%(n)d课时“%(slot)s”：%(what)s") % {"n": number, "slot": labels[r.pk], "what": what})
        checks_failed.send(sender=Course, course=course, problems=problems)


def _books():
    cache: dict[int, RequirementBook] = {}

    def book_for(campaign_id):
        if campaign_id not in cache:
            cache[campaign_id] = RequirementBook(campaign_id)
        return cache[campaign_id]

    return book_for


def _resources_qs():
    return Resource.objects.select_related("file", "period__course__node__textbook")


def reevaluate_file(stored_file: StoredFile) -> int:
    """A file's probe finished: judge again every resource that uses it, with the file as the probe
    left it (``file_probed`` hands it over just written: it is not read again)."""
    # compiled once (``jingpinke.sql.Compiled``): asked once per probed file, by the task worker
    resources = _FILE_RESOURCES.instances(stored_file.pk)
    for r in resources:
        r.file = stored_file
    return _reevaluate(resources, _books())


_FILE_RESOURCES = Compiled(
    lambda file_id: Resource.objects.select_related("period__course__node__textbook").filter(file_id=file_id))


def reevaluate_campaign(campaign_id: int) -> int:
    """A campaign's slots or specs (severities included) changed: judge again every resource of
    its courses from the stored probe results (nothing is probed again), and announce the courses
    that turn from passing to failing."""
    book_for = _books()
    total = 0
    qs = _resources_qs().filter(period__course__campaign_id=campaign_id).order_by("pk")
    batch = []
    for r in qs.iterator(chunk_size=500):
        batch.append(r)
        if len(batch) >= 500:
            total += _reevaluate(batch, book_for, announce=True)
            batch = []
    return total + _reevaluate(batch, book_for, announce=True)


# --- the course package (pages, API) ----------------------------------------------------------------
@dataclass
class SlotCard:
    period: Period
    slot: ResourceSlot
    requirements: media_rules.Requirements
    resource: Resource | None

    @property
    def kind(self) -> str:
        return self.slot.kind

    @property
    def label(self) -> str:
        return str(self.slot)

    @property
    def accepts(self) -> str:
        return accepts_text(self.requirements)

    @property
    def video(self) -> str:
        return video_text(self.requirements)

    @property
    def accept_attr(self) -> str:
        """For the file chooser (a hint only: the server judges the content)."""
        mime = {"mp4": "video/mp4", "pdf": "application/pdf"}
        parts = []
        for f in self.requirements.formats:
            parts.append("." + f)
            if f in mime:
                parts.append(mime[f])
        return ",".join(parts)

    @property
    def max_mb(self) -> int:
        return self.requirements.max_size_bytes // (1024 * 1024)

    @property
    def status(self) -> str:
        return self.resource.status if self.resource else ""

    @property
    def is_video(self) -> bool:
        return self.slot.kind in VIDEO_KINDS

    @property
    def findings(self) -> list[dict]:
        return self.resource.findings if self.resource else []

    @property
    def problems(self) -> list[dict]:
        """Failures first, then warnings and what is still being checked."""
        order = {"fail": 0, "warn": 1, "pending": 2}
        return sorted((f for f in self.findings if f.get("level") in order), key=lambda f: order[f["level"]])

    @property
    def passes(self) -> list[dict]:
        return [f for f in self.findings if f.get("level") == "pass"]

    @property
    def dom_id(self) -> str:
        return f"slot-{self.period.number}-{self.slot.kind}"


@dataclass
class PeriodCard:
    period: Period
    slots: list[SlotCard] = field(default_factory=list)

    @property
    def number(self) -> int:
        return self.period.number

    @property
    def title_status_id(self) -> str:
        return f"period-title-status-{self.period.number}"


def package(course: Course, book: RequirementBook | None = None) -> list[PeriodCard]:
    """Every 课时 with its slot cards, resources loaded; stale checks are brought up to date."""
    book = book or RequirementBook(course.campaign_id, course.category)
    stage = course.node.textbook.stage
    # the resources unordered (one per slot: their default ordering joined the course) and their
    # files without the extracted text (read by search, never here)
    # compiled once (``jingpinke.sql.Compiled``): the periods, then their resources by the course's key
    periods = _COURSE_PERIODS.instances(course.pk)
    resources: dict[int, list[Resource]] = {p.pk: [] for p in periods}
    by_pk = {p.pk: p for p in periods}
    for period in periods:
        Period.course.field.set_cached_value(period, course)
    if periods:
        for r in _COURSE_RESOURCES.instances(course.pk):
            if r.period_id in resources:
                Resource.period.field.set_cached_value(r, by_pk[r.period_id])
                resources[r.period_id].append(r)
    stale, before, labels = [], {}, {}
    cards = []
    for period in periods:
        by_kind = {r.slot_kind: r for r in resources[period.pk]}
        pc = PeriodCard(period)
        for slot in book.slots_of(course.category):
            req = book.requirements(course.category, stage, slot)
            r = by_kind.get(slot.kind)
            if r is not None and _is_stale(r, req):
                before[r.pk], labels[r.pk] = (r.status, r.evaluated_spec), str(slot)
                _apply_findings(r, _evaluate(r.file, req), req)
                stale.append((r, course, period.number))
            pc.slots.append(SlotCard(period, slot, req, r))
        cards.append(pc)
    # Read before the task of a requirements change ran: announce here what the task would have.
    _save_rejudged(stale, before, labels, announce=True)
    return cards


_COURSE_PERIODS = Compiled(lambda course_id: Period.objects.filter(course_id=course_id).order_by("number"))
# the resources unordered (one per slot: their default ordering joined the course) and their files
# without the extracted text (read by search, never here)
_COURSE_RESOURCES = Compiled(
    lambda course_id: Resource.objects.filter(period__course_id=course_id).select_related("file").defer("file__text")
    .order_by())


def slot_card(course: Course, number: int, kind: str) -> SlotCard:
    for pc in package(course):
        if pc.number == number:
            for card in pc.slots:
                if card.kind == kind:
                    return card
    raise Http404(_("没有这个课时或资源项。"))


def submission_items(course: Course) -> list[str] | None:
    """The items a (re)submission must hold at this stage, when the campaign asks for less than the
    whole package (see ``rules.stage_slots``); None: the whole package."""
    if not apps.is_installed("selection") or course.status == CourseStatus.SUBMITTED:
        return None
    if not hasattr(course, "_submission_items"):  # asked by the submit box and its reasons: once
        from selection.services import submission_items as asked

        course._submission_items = asked(course)
    return course._submission_items


def submission_stage_text(course: Course, cards: list[PeriodCard]) -> str:
    """For the submit box: which items this round needs, when it is not the whole package."""
    asked = submission_items(course)
    if asked is None or not cards:
        return ""
    labels = [c.label for c in cards[0].slots if c.slot.required and c.kind in asked]
    later = [c.label for c in cards[0].slots if c.slot.required and c.kind not in asked]
    if not later:
        return ""
    return _("本轮只需具备：%(now)s。%(later)s可在上级单位要求时再补交（届时课程会退回给您）。") % {
        "now": "、".join(labels) or _("（无）"), "later": "、".join(later)}


def submission_facts(course: Course, cards: list[PeriodCard] | None = None, now=None, deadline=_READ) -> rules.Decision:
    """What the submit button would answer now (for pages and the API). ``deadline``: the course's
    ``school_deadline`` when the caller read it (``submit``), else it is read here."""
    now = now or timezone.now()
    if deadline is _READ:
        deadline = school_deadline(course.campaign, course.school)
    cards = cards if cards is not None else package(course)
    book_slots = cards[0].slots if cards else []
    slots = [rules.SlotFacts(c.slot.kind, c.label, c.slot.required) for c in book_slots]
    if not cards:
        slots = [rules.SlotFacts(s.kind, str(s), s.required)
                 for s in RequirementBook(course.campaign_id, course.category).slots_of(course.category)]
    slots = rules.stage_slots(slots, submission_items(course))
    resources = [rules.ResourceFacts(c.period.number, c.kind, c.status) for pc in cards for c in pc.slots if c.resource]
    return rules.can_submit(status=course.status, campaign_open=course.campaign.status == CampaignStatus.OPEN,
                            periods=course.periods_count, slots=slots, resources=resources,
                            deadline=deadline.deadline if deadline is not None else None, now=now)


def same_node_warning(course: Course) -> str:
    """The warning about other courses of the same school on the same node of the campaign."""
    return rules.same_node_warning([row[4:] for row in _same_node_rows_of(course)], course.campaign.node_rule)


def _same_node_rows_of(course: Course) -> list[tuple]:
    """``_same_node_rows`` of the other courses of the course's school on its node in its campaign:
    the statement the ORM compiles, written out (every course answered asks it)."""
    from django.db import connection

    q = connection.ops.quote_name
    c, u = q(Course._meta.db_table), q(User._meta.db_table)
    rows = _sql_rows(
        f"SELECT {c}.campaign_id, {c}.school_id, {c}.node_id, {c}.id, {c}.title, {u}.real_name, {u}.first_name, "
        f"{u}.last_name, {u}.username FROM {c} INNER JOIN {u} ON ({c}.lead_teacher_id = {u}.id) "
        f"WHERE ({c}.campaign_id = %s AND {c}.node_id = %s AND {c}.school_id = %s AND NOT ({c}.id = %s)) "
        f"ORDER BY {c}.created_at ASC", [course.campaign_id, course.node_id, course.school_id, course.pk])
    return [(*row[:5], User(real_name=row[5], first_name=row[6], last_name=row[7], username=row[8]).display_name)
            for row in rows]


def school_counts_by_node(school: Unit | None, campaign: Campaign, node_ids, exclude: Course | None = None) -> dict[int, int]:
    """How many courses of the school target each node."""
    return {pk: mine for pk, (_group, mine) in node_counts(school, campaign, node_ids, exclude).items()}


def node_counts(school: Unit | None, campaign: Campaign, node_ids, exclude: Course | None = None
                ) -> dict[int, tuple[int, int]]:
    """Per node: (courses of the school's recommending unit, of the school itself) that target it
    in the campaign, withdrawn ones not counted. The recommending unit is the school's parent:
    its county, or for a city-/province-owned school the schools directly under that unit. One
    query; only counts leave here (the picker shows them to teachers of other schools)."""
    if school is None or school.parent_id is None:
        return {}
    qs = Course.objects.filter(campaign=campaign, school__parent_id=school.parent_id, node_id__in=list(node_ids))
    qs = qs.exclude(status=CourseStatus.WITHDRAWN)
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    rows = qs.values("node_id").annotate(n=Count("pk"), mine=Count("pk", filter=Q(school_id=school.pk)))
    return {row["node_id"]: (row["n"], row["mine"]) for row in rows}


# --- snapshots --------------------------------------------------------------------------------------
def snapshot(course: Course) -> dict:
    return {"title": course.title, "category": course.category, "node": course.node_id,
            "node_label": str(course.node), "periods": course.periods_count, "status": course.status,
            "school": course.school.code}


def _file_row(stored: StoredFile | None) -> dict | None:
    if stored is None:
        return None
    return {"id": str(stored.pk), "name": stored.original_name, "size": stored.size, "sha256": stored.sha256,
            "kind": stored.kind}


# --- start and edit ---------------------------------------------------------------------------------
def _open_node(campaign: Campaign, node_id):
    from catalog.models import OpenNode

    try:
        node_id = int(node_id)
    except (TypeError, ValueError):
        raise ServiceError(_("请选择目录节点（课）。")) from None
    opened = (OpenNode.objects.filter(campaign=campaign, node_id=node_id, node__is_leaf=True)
              .select_related("node__textbook").first())
    if opened is None:
        raise ServiceError(_("这个目录节点没有在本次活动中开放，请从开放的节点中选择。"))
    return opened.node


def _category(book: RequirementBook, campaign: Campaign, category: str) -> CampaignCategory:
    cc = book.category(category)
    if cc is None:
        raise ServiceError(_("本次活动没有“%(c)s”这个类别，请重新选择。") % {"c": category})
    return cc


@transaction.atomic
def start_course(actor, campaign: Campaign, *, category: str, node_id, title: str, periods=None,
                 school: Unit | None = None, now: datetime | None = None) -> Course:
    """A teacher starts a course (a draft) in an open campaign; he is its lead teacher."""
    require(actor, "courses.add_course", None, _("只有教师可以申报课程。"))
    now = now or timezone.now()
    if not campaigns_for(actor).filter(pk=campaign.pk).exists():
        raise Http404(_("未找到该遴选活动，或您无权查看。"))
    schools = teacher_schools(actor, campaign)
    if not schools:
        raise PermissionDenied(_("您不是本次活动范围内学校的教师，不能在本活动中申报。"))
    if school is None:
        school = schools[0]
    elif school.pk not in {s.pk for s in schools}:
        raise PermissionDenied(_("您只能以自己任教的学校申报。"))
    _refuse(rules.may_start(campaign_open=campaign.status == CampaignStatus.OPEN,
                            deadline=_deadline_value(campaign, school), now=now))
    book = RequirementBook(campaign.pk)
    cc = _category(book, campaign, category)
    node = _open_node(campaign, node_id)
    clean_title = _rule(rules.check_title, title)
    n = _rule(rules.check_periods, cc.default_periods if periods in (None, "") else periods, cc.max_periods)
    course = Course.objects.create(campaign=campaign, category=cc.category, node=node, title=clean_title,
                                   lead_teacher=actor, school=school, periods_count=n)
    Period.objects.bulk_create([Period(course=course, number=i) for i in range(1, n + 1)])
    record(actor, "courses.course.start", course, after=snapshot(course), unit=school)
    return course


@dataclass(frozen=True)
class EmptiedSlot:
    """A slot whose file a category change took out of the course (the file itself is kept)."""

    period: int
    kind: str
    label: str
    file: StoredFile

    @property
    def text(self) -> str:
        return _("第%(n)d课时“%(label)s”（%(name)s）") % {"n": self.period, "label": self.label,
                                                       "name": self.file.original_name or _("无文件名")}

    def as_dict(self) -> dict:
        return {"period": self.period, "slot": self.kind, "label": self.label, "file": _file_row(self.file)}


def emptied_text(emptied: list[EmptiedSlot]) -> str:
    """One sentence for the page: which slots were emptied, and that the files are kept."""
    if not emptied:
        return ""
    return _("新类别没有以下资源项，其中的文件已移出课程：%(list)s。这些文件没有删除，仍保存在您的文件中；"
             "新类别的资源项请重新上传。") % {"list": "、".join(e.text for e in emptied)}


def _entries(course: Course) -> set[tuple[str, str]]:
    """(level kind, state) of the course's entries in the selection (one query, kept on the
    instance: a page asks several questions of it)."""
    cached = getattr(course, "_entry_facts", None)
    if cached is None:
        cached = set()
        if apps.is_installed("selection"):
            from selection.models import Entry

            cached = set(Entry.objects.filter(course=course).values_list("level__kind", "state"))
        course._entry_facts = cached
    return cached


def recommended_by_school(course: Course) -> bool:
    """Has the school recommended the course (its entry is recommended, or it has one above)?"""
    return any(kind != UnitKind.SCHOOL or state == "recommended" for kind, state in _entries(course))


def relocate_decision(course: Course) -> rules.Decision:
    """May the node and the category of the course change now (see ``rules.may_relocate``)?"""
    return rules.may_relocate(status=course.status, campaign_open=course.campaign.status == CampaignStatus.OPEN,
                              recommended_by_school=recommended_by_school(course))


def _filled(course: Course) -> list[Resource]:
    return list(Resource.objects.filter(period__course=course).select_related("file", "period")
                .order_by("period__number", "pk"))


def _emptied(book: RequirementBook, course: Course, category: str, filled: list[Resource]) -> list[EmptiedSlot]:
    kinds = [s.kind for s in book.slots_of(category)]
    gone = set(rules.emptied_by_category([(r.period.number, r.slot_kind) for r in filled], kinds))
    out = []
    for r in filled:
        if (r.period.number, r.slot_kind) in gone:
            slot = book.slot(course.category, r.slot_kind)
            label = str(slot) if slot is not None else str(r.get_slot_kind_display())
            out.append(EmptiedSlot(r.period.number, r.slot_kind, label, r.file))
    return out


@dataclass
class CategoryOption:
    """One category on the "更换目录节点 / 类别" page: what choosing it would do to the files."""

    value: str
    label: str
    current: bool
    emptied: list[EmptiedSlot]
    blockers: list[str]


def category_options(course: Course) -> list[CategoryOption]:
    """Every category of the campaign, each with the files it would take out of the course and
    what would have to be reduced first (a fixed number of queries)."""
    book = RequirementBook(course.campaign_id)
    filled = _filled(course)
    members = course.members.count()
    out = []
    for value, cc in book.categories.items():
        label = str(cc.get_category_display())
        current = value == course.category
        fits = rules.category_fits(label=label, periods=course.periods_count, max_periods=cc.max_periods,
                                   members=members, max_members=cc.max_team_members)
        out.append(CategoryOption(value, label, current, [] if current else _emptied(book, course, value, filled),
                                  [] if current else fits.reasons))
    return out


def _period_titles(course: Course) -> dict[str, str]:
    return {str(n): t for n, t in course.periods.order_by("number").values_list("number", "title")}


@transaction.atomic
def update_course(actor, course: Course, *, title=None, node_id=None, category=None, periods=None,
                  period_titles: dict | None = None) -> Course:
    """The autosave of a draft and its corrections: any of title, node, category, number of 课时,
    课时 titles. Only the lead teacher, only while the course is editable.

    Node and category change only while ``rules.may_relocate`` allows it (never once the school has
    recommended the course). A new category keeps the files of the slots it shares with the old one
    (they are checked again against its requirements) and takes the files of the other slots out of
    the course: the files themselves stay in the teacher's files (``media.StoredFile``, nothing is
    deleted), the audit event lists them, and the returned course carries them as
    ``emptied_slots`` (a list of ``EmptiedSlot``) so that the page and the API say which slots
    were emptied. A refusal changes nothing.
    """
    course = _locked(course)
    _require_edit(actor, course)
    before = {**snapshot(course), "period_titles": _period_titles(course)}
    book = RequirementBook(course.campaign_id)
    new_category = category not in (None, "") and category != course.category
    node = None
    if node_id not in (None, "") and _digits(node_id) != course.node_id:
        node = _open_node(course.campaign, node_id)
    if new_category or node is not None:
        _refuse(relocate_decision(course))
    cc = _category(book, course.campaign, category if new_category else course.category)
    n = course.periods_count
    if periods not in (None, ""):
        n = _rule(rules.check_periods, periods, cc.max_periods)
    emptied: list[EmptiedSlot] = []
    if new_category:
        _refuse(rules.category_fits(label=str(cc.get_category_display()), periods=n, max_periods=cc.max_periods,
                                    members=course.members.count(), max_members=cc.max_team_members))
        emptied = _emptied(book, course, cc.category, _filled(course))
    titles = _rule(rules.check_period_titles, period_titles, n) if period_titles else {}

    stage_before = course.node.textbook.stage
    if emptied:
        Resource.objects.filter(period__course=course, slot_kind__in={e.kind for e in emptied}).delete()
    if new_category:
        course.category = cc.category
    if node is not None:
        course.node = node
    if title is not None:
        course.title = _rule(rules.check_title, title)
    if n != course.periods_count:
        used = Resource.objects.filter(period__course=course).values_list("period__number", flat=True)
        busy = rules.removed_periods_in_use(course.periods_count, n, used)
        if busy:
            raise ServiceError(_("第%(list)s课时已有上传的文件，不能减少课时。请先删除这些课时的文件。") % {
                "list": "、".join(str(b) for b in busy)})
        course.periods.filter(number__gt=n).delete()
        existing = set(course.periods.values_list("number", flat=True))
        Period.objects.bulk_create([Period(course=course, number=i) for i in range(1, n + 1) if i not in existing])
        course.periods_count = n
    for number, text in titles.items():
        course.periods.filter(number=number).update(title=text)
    course.save()
    if node is not None and apps.is_installed("selection"):
        # Only the school's own entry can exist here (may_relocate refuses once the school has
        # recommended the course): a course the school returned goes back to it on the new node.
        from selection.services import follow_node

        follow_node(course, node)
    if new_category or course.node.textbook.stage != stage_before:
        _reevaluate(list(_resources_qs().filter(period__course=course)), _books())
    after = {**snapshot(course), "period_titles": _period_titles(course)}
    if emptied:
        after["emptied"] = [e.as_dict() for e in emptied]
    if after != before:
        record(actor, "courses.course.update", course, before=before, after=after, unit=course.school)
    course.emptied_slots = emptied
    return course


def _require_edit(actor, course: Course) -> None:
    if not is_lead(actor, course):
        raise PermissionDenied(_("只有主讲教师可以修改这门课程。"))
    _refuse(rules.may_edit(status=course.status, campaign_open=course.campaign.status == CampaignStatus.OPEN))


# --- team -------------------------------------------------------------------------------------------
def _teachers_in(campaign: Campaign) -> QuerySet[User]:
    return (User.objects.filter(is_active=True, memberships__role=Role.TEACHER,
                                memberships__unit__path__startswith=campaign.owner.path,
                                memberships__unit__is_active=True).distinct())


def mask_mobile(mobile: str | None) -> str:
    if not mobile:
        return ""
    return mobile[:3] + "****" + mobile[-4:]


def find_teachers(actor, course: Course, query: str) -> list[dict]:
    """Registered teachers of the campaign's area, by exact mobile number or by name (at least
    two characters). Shows name, school and a masked mobile; never more than 10."""
    require(actor, "courses.view_course", course)
    q = (query or "").strip()
    qs = _teachers_in(course.campaign).exclude(pk=course.lead_teacher_id)
    if MOBILE_RE.match(q):
        qs = qs.filter(mobile=q)
    elif len(q) >= 2:
        qs = qs.filter(real_name__contains=q)
    else:
        return []
    users = list(qs.order_by("real_name", "pk")[:MAX_SEARCH_RESULTS])
    return [_person(u, course.campaign) for u in users]


def _person(user: User, campaign: Campaign | None = None) -> dict:
    schools = [m.unit for m in user.memberships_cached() if m.role == Role.TEACHER
               and (campaign is None or m.unit.is_within(campaign.owner))]
    return {"id": user.pk, "name": user.display_name, "school": schools[0].name if schools else "",
            "mobile": mask_mobile(user.mobile)}


def members_of(course: Course) -> list[dict]:
    """The team as the API shows it (``_person``), in order, in one query (written out: the
    answer of every course read, submit and withdraw)."""
    return _teams(_one_team_rows(course.pk), lambda _pk: course.campaign).get(course.pk, [])


def _sql_rows(sql: str, params) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _one_team_rows(course_id: int) -> list[tuple]:
    """``_teams``' rows of one course: the statement its ORM query compiles to, written out (the
    ORM's compilation of four joined tables cost more than the query, on every course answered)."""
    from django.db import connection

    from orgs.models import Membership

    q = connection.ops.quote_name
    m, u, ms, un = (q(model._meta.db_table) for model in (CourseMember, User, Membership, Unit))
    return _sql_rows(
        f"SELECT {m}.course_id, {m}.id, {m}.user_id, {u}.real_name, {u}.first_name, {u}.last_name, {u}.username, "
        f"{u}.mobile, {ms}.role, {un}.name, {un}.path, {un}.is_active FROM {m} "
        f"INNER JOIN {u} ON ({m}.user_id = {u}.id) LEFT OUTER JOIN {ms} ON ({u}.id = {ms}.user_id) "
        f"LEFT OUTER JOIN {un} ON ({ms}.unit_id = {un}.id) "
        f"WHERE {m}.course_id = %s ORDER BY {m}.{q('order')} ASC, {m}.id ASC, {ms}.id ASC", [course_id])


def _teams(members: QuerySet[CourseMember] | list[tuple], campaign_of) -> dict[int, list[dict]]:
    """Course id → its team in order (``members``: of one or more courses, or their rows as
    ``_one_team_rows`` reads them; ``campaign_of(course id)``: the course's campaign), each member
    as ``_person`` shows him: one query of values, each member joined with his memberships (in the
    order of their keys), not three of instances."""
    rows = members if isinstance(members, list) else _team_rows(members)
    teams: dict[int, list[dict]] = {}
    last, found = None, False
    for course_id, pk, user_id, real, first, last_name, username, mobile, role, unit, path, active in rows:
        if pk != last:
            last, found, owner = pk, False, campaign_of(course_id).owner.path
            person = {"id": user_id, "name": User(real_name=real, first_name=first, last_name=last_name,
                                                  username=username).display_name,
                      "school": "", "mobile": mask_mobile(mobile)}
            teams.setdefault(course_id, []).append(person)
        # memberships_cached: the memberships of active units; _person: the first teacher's within the campaign
        if not found and role == Role.TEACHER and active and path.startswith(owner):
            person["school"], found = unit, True
    return teams


@transaction.atomic
def set_members(actor, course: Course, user_ids: list[int]) -> list[CourseMember]:
    """Replace the team (in this order). Members are registered teachers of the campaign's area,
    possibly of another school; at most the category's maximum, the lead teacher not counted."""
    course = _locked(course)
    _require_edit(actor, course)
    cc = _category(RequirementBook(course.campaign_id), course.campaign, course.category)
    try:
        ids = [int(i) for i in user_ids]
    except (TypeError, ValueError):
        raise ServiceError(_("团队成员应为用户编号的列表。")) from None
    ids = _rule(rules.check_team, course.lead_teacher_id, ids, cc.max_team_members)
    found = set(_teachers_in(course.campaign).filter(pk__in=ids).values_list("pk", flat=True))
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise ServiceError(_("有 %(n)d 位成员不是本次活动范围内已注册的教师，请通过姓名或手机号重新查找。") % {"n": len(unknown)},
                           errors=[{"user_id": i} for i in unknown])
    before = list(course.members.order_by("order", "pk").values_list("user_id", flat=True))
    if before != ids:
        course.members.all().delete()
        CourseMember.objects.bulk_create([CourseMember(course=course, user_id=pk, order=i)
                                          for i, pk in enumerate(ids, start=1)])
        course.save(update_fields=["updated_at"])
        record(actor, "courses.course.members", course, before={"members": before}, after={"members": ids},
               unit=course.school)
    return list(course.members.select_related("user").order_by("order"))


# --- files in slots ----------------------------------------------------------------------------------
def _period(course: Course, number) -> Period:
    try:
        number = int(number)
    except (TypeError, ValueError):
        raise Http404(_("没有这个课时。")) from None
    period = course.periods.filter(number=number).first()
    if period is None:
        raise Http404(_("这门课程没有第%(n)s课时。") % {"n": number})
    return period


def _slot(book: RequirementBook, course: Course, kind: str) -> ResourceSlot:
    slot = book.slot(course.category, kind)
    if slot is None:
        raise Http404(_("本类别的资源包里没有这一项。"))
    return slot


@transaction.atomic
def attach_file(actor, course: Course, number, kind: str, file_id) -> Resource:
    """Put one of the actor's uploaded files into a slot of a 课时 and judge it at once.

    A file whose type, emptiness or size already fails is refused and the slot keeps what it
    had; other problems (found by the probe) are flagged in the report, and the replaced file
    is kept as ``previous_file`` so it can be put back."""
    course = _locked(course)
    _require_edit(actor, course)
    period = _period(course, number)
    book = RequirementBook(course.campaign_id)
    slot = _slot(book, course, kind)
    stored = StoredFile.objects.filter(pk=_uuid(file_id), owner=actor).first()
    if stored is None:
        raise ServiceError(_("找不到这个文件，或它不是您上传的。请重新上传。"), status=404)
    req = book.requirements(course.category, course.node.textbook.stage, slot)
    findings = _evaluate(stored, req)
    refused = [f for f in findings if f.level == media_rules.FAIL and f.rule in IMMEDIATE_REFUSALS]
    if refused:
        first = refused[0]
        message = _("“%(name)s”不能作为“%(slot)s”：%(what)s。%(advice)s") % {
            "name": stored.original_name or _("该文件"), "slot": str(slot), "what": first.summary,
            "advice": first.advice}
        if Resource.objects.filter(period=period, slot_kind=kind).exists():
            message += _("原来的文件仍然保留。")
        raise ServiceError(message, errors=[f.as_dict() for f in refused])
    resource = Resource.objects.filter(period=period, slot_kind=kind).select_related("file").first()
    before = None
    if resource is None:
        resource = Resource(period=period, slot_kind=kind, file=stored, attached_by=actor)
    else:
        if resource.file_id == stored.pk:
            return resource
        before = {"file": _file_row(resource.file), "status": resource.status}
        resource.previous_file = resource.file
        resource.file = stored
        resource.attached_by = actor
    _apply_findings(resource, findings, req)
    resource.save()
    course.save(update_fields=["updated_at"])
    record(actor, "courses.resource.attach", course, before=before,
           after={"period": period.number, "slot": kind, "file": _file_row(stored), "status": resource.status},
           unit=course.school)
    return resource


def start_direct_upload(actor, course: Course, number, kind: str, *, name: str, size: int):
    """Start an upload straight to the object store (``media.multipart``) for a slot of a 课时: only
    who may change the course's files, only into a slot of its package, and only a file whose name
    and size the slot accepts (the content is judged again when the upload completes)."""
    _require_edit(actor, course)
    period = _period(course, number)
    book = RequirementBook(course.campaign_id)
    slot = _slot(book, course, kind)
    req = book.requirements(course.category, course.node.textbook.stage, slot)
    return multipart.create_multipart(actor, name=name, size=size, formats=req.formats,
                                      slot_max_bytes=req.max_size_bytes, course_id=course.pk,
                                      period=period.number, slot=kind)


def _uuid(value):
    import uuid

    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        raise ServiceError(_("文件编号格式不正确。"), status=404) from None


@transaction.atomic
def restore_previous(actor, course: Course, number, kind: str) -> Resource:
    """Put back the file a slot had before its latest replacement."""
    course = _locked(course)
    _require_edit(actor, course)
    period = _period(course, number)
    resource = Resource.objects.filter(period=period, slot_kind=kind).select_related("file", "previous_file").first()
    if resource is None or resource.previous_file is None:
        raise ServiceError(_("这一项没有可以恢复的上一个文件。"))
    return attach_file(actor, course, number, kind, resource.previous_file_id)


@transaction.atomic
def remove_file(actor, course: Course, number, kind: str) -> None:
    """Take the file out of the slot (the uploaded file itself stays the teacher's)."""
    course = _locked(course)
    _require_edit(actor, course)
    period = _period(course, number)
    resource = Resource.objects.filter(period=period, slot_kind=kind).select_related("file").first()
    if resource is None:
        raise ServiceError(_("这一项还没有文件。"), status=404)
    before = {"period": period.number, "slot": kind, "file": _file_row(resource.file), "status": resource.status}
    resource.delete()
    course.save(update_fields=["updated_at"])
    record(actor, "courses.resource.remove", course, before=before, unit=course.school)


# --- submission -----------------------------------------------------------------------------------
@prepared()  # keyed: the course, its campaign, school and entries by id (jingpinke/prepared.py)
@transaction.atomic
def submit(actor, course: Course | int, now: datetime | None = None) -> Course:
    """Send the course to the school: every required slot filled, no check failed or running,
    before the school level's deadline (at the second, Beijing time). ``course``: a course in the
    actor's scope, or a course id (see ``_locked_for``)."""
    now = now or timezone.now()
    course = _locked_for(actor, course)
    if not is_lead(actor, course):
        raise PermissionDenied(_("只有主讲教师可以提交这门课程。"))
    # For this submission only (the row read under the lock): the course's entries are read once,
    # for the items asked (its returned entry) and for ``enter`` (``selection.services.returned_entry``).
    course._submitting = True
    try:
        cards = package(course)  # brings every check up to date first
        deadline = school_deadline(course.campaign, course.school)
        decision = submission_facts(course, cards, now=now, deadline=deadline)
        _refuse(decision)
        before = snapshot(course)
        course.status = rules.transition(course.status, "submit")
        course.submitted_at = now
        course.save(update_fields=["status", "submitted_at", "updated_at"])
        if apps.is_installed("selection"):  # the school's screening list (a returned course goes back to its unit)
            from selection.services import enter_in_transaction

            enter_in_transaction(actor, course)  # in this transaction: no savepoint
    finally:
        course.__dict__.pop("_submitting", None)
        course.__dict__.pop("_entries", None)
    record(actor, "courses.course.submit", course, before=before, after={
        **snapshot(course), "files": [_file_row(c.resource.file) for pc in cards for c in pc.slots if c.resource]},
        unit=course.school)
    course.checked_deadline = deadline  # what the check read: the API's answer shows it (not read again)
    return course


@prepared()
@transaction.atomic
def withdraw(actor, course: Course | int, now: datetime | None = None) -> Course:
    """Take a submitted course back while the school has not acted on it. ``course``: a course in the
    actor's scope, or a course id (see ``_locked_for``; no levels: only an answer reads them)."""
    course = _locked_for(actor, course, levels=False)
    if not is_lead(actor, course):
        raise PermissionDenied(_("只有主讲教师可以撤回这门课程。"))
    _refuse(rules.can_withdraw(status=course.status, school_acted=course.school_acted_at is not None))
    if apps.is_installed("selection"):
        from selection.services import leave_in_transaction

        leave_in_transaction(actor, course)  # refuses once the school has acted; in this transaction
    before = snapshot(course)
    course.status = rules.transition(course.status, "withdraw")
    course.save(update_fields=["status", "updated_at"])
    record(actor, "courses.course.withdraw", course, before=before, after=snapshot(course), unit=course.school)
    return course


def withdraw_decision(course: Course) -> rules.Decision:
    return rules.can_withdraw(status=course.status, school_acted=course.school_acted_at is not None)


# --- deleting a draft ----------------------------------------------------------------------------------
def _ever_submitted(course: Course) -> bool:
    return course.submitted_at is not None or bool(_entries(course))


def delete_decision(course: Course) -> rules.Decision:
    return rules.may_delete(status=course.status, ever_submitted=_ever_submitted(course))


def may_delete(actor, course: Course) -> bool:
    """For pages: show the 删除草稿 button?"""
    return permission_rules.has_perm("courses.delete_course", actor, course) and delete_decision(course).ok


@transaction.atomic
def delete_draft(actor, course: Course) -> None:
    """The lead teacher deletes a draft that never went to the school: the course, its 课时, team
    and slot assignments. The uploaded files stay in his files (``media.StoredFile`` is not
    touched); the audit event keeps what was deleted, files included."""
    course = _locked(course)
    if not permission_rules.has_perm("courses.delete_course", actor, course):
        raise PermissionDenied(_("只有主讲教师可以删除这门课程。"))
    _refuse(delete_decision(course))
    files = [{"period": r.period.number, "slot": r.slot_kind, "file": _file_row(r.file)} for r in _filled(course)]
    members = list(course.members.order_by("order", "pk").values_list("user_id", flat=True))
    record(actor, "courses.course.delete", course,
           before={**snapshot(course), "period_titles": _period_titles(course), "members": members, "files": files},
           unit=course.school)
    course.delete()


# --- serving files ---------------------------------------------------------------------------------
def resource_for_view(actor, course: Course, number, kind: str) -> Resource:
    """The resource of a slot, for someone allowed to see the course (the caller got the course
    through ``get_course``, so it is in scope)."""
    require(actor, "courses.view_course", course)
    period = _period(course, number)
    resource = Resource.objects.filter(period=period, slot_kind=kind).select_related("file").first()
    if resource is None:
        raise Http404(_("这一项还没有文件。"))
    return resource


# --- the node picker (start page) -----------------------------------------------------------------
PICKER_LEVELS = ("stage", "subject", "grade", "version", "volume")
MAX_PICKER_RESULTS = 40


def _digits(value) -> int | None:
    return parse_id(value)


def node_picker(actor, campaign: Campaign, params, school: Unit | None = None, exclude: Course | None = None) -> dict:
    """Options of the cascading picker 学段 → 学科 → 年级 → 版本 → 册次 → (教材) → 单元 → 课, limited
    to the nodes open in the campaign, or the open nodes matching a keyword. Each lesson tells
    how many courses of the teacher's school already target it (``exclude``: the course whose
    node is being changed does not count itself)."""
    from catalog import services as catalog
    from catalog.models import CatalogNode, OpenNode

    chosen = {k: str(params.get(k) or "").strip() for k in PICKER_LEVELS}
    textbook_id, unit_id = _digits(params.get("textbook")), _digits(params.get("unit"))
    q = str(params.get("q") or "").strip()[:100]
    f = catalog.facets(actor, **chosen, textbook_id=textbook_id, unit_id=unit_id, campaign=campaign)
    # A choice that is no longer offered (a higher level changed) is dropped with those below it.
    for i, level in enumerate(PICKER_LEVELS):
        if chosen[level] and chosen[level] not in {o["value"] for o in f[f"{level}s"]}:
            for lower in PICKER_LEVELS[i:]:
                chosen[lower] = ""
            textbook_id = unit_id = None
            f = catalog.facets(actor, **chosen, campaign=campaign)
            break
    if textbook_id is None and len(f["textbooks"]) == 1:
        textbook_id = f["textbooks"][0]["id"]
        f = catalog.facets(actor, **chosen, textbook_id=textbook_id, unit_id=unit_id, campaign=campaign)
    if textbook_id is not None and not any(b["id"] == textbook_id for b in f["textbooks"]):
        textbook_id = None
    if unit_id is not None and not any(u["id"] == unit_id for u in f["units"]):
        unit_id = None
        f = catalog.facets(actor, **chosen, textbook_id=textbook_id, campaign=campaign)
    lessons = [dict(item) for item in f["lessons"]] if textbook_id else []
    if q:
        found = catalog.search_nodes(actor, catalog.NodeFilters(q=q, **chosen), campaign=campaign, only_open=True)
        lessons = [{"id": n.pk, "title": n.title, "label_path": n.label_path, "remark": n.remark,
                    "textbook": n.textbook.label} for n in found[:MAX_PICKER_RESULTS]]
    selected = None
    node_id = _digits(params.get("node"))
    if node_id is not None:
        opened = OpenNode.objects.filter(campaign=campaign, node_id=node_id).select_related("node__textbook").first()
        if opened is not None:
            n: CatalogNode = opened.node
            selected = {"id": n.pk, "title": n.title, "label_path": n.label_path, "remark": n.remark,
                        "textbook": n.textbook.label}
            if not any(item["id"] == n.pk for item in lessons):
                lessons.insert(0, selected)
    counts = node_counts(school, campaign, [item["id"] for item in lessons], exclude=exclude)
    group = school.parent if school is not None and school.parent_id else None
    for item in lessons:
        item["same_group"], item["same_school"] = counts.get(item["id"], (0, 0))
        item["hint"] = rules.node_count_hint(
            in_group=item["same_group"], in_school=item["same_school"], group_name=group.name if group else "",
            group_kind=group.kind if group else "", node_rule=campaign.node_rule) if group else ""
    _add_showcased(lessons, campaign)
    return {"facets": f, "chosen": chosen, "textbook_id": textbook_id, "unit_id": unit_id, "q": q,
            "lessons": lessons, "selected": selected, "searching": bool(q)}


def _add_showcased(lessons: list[dict], campaign: Campaign) -> None:
    """Each lesson's selected courses of earlier years (the public showcase), so that a teacher who
    picks a lesson already taught as a 精品课 sees it (title, year, award, link)."""
    from showcase.services import earlier_selected

    earlier = earlier_selected([item["id"] for item in lessons], before_year=campaign.year)
    for item in lessons:
        item["showcased"] = earlier.get(item["id"], [])


def picker_params(course: Course) -> dict:
    """The picker opened at the course's own textbook, its lesson chosen (the page that changes
    the node shows the neighbouring lessons first)."""
    book = course.node.textbook
    return {"stage": book.stage, "subject": book.subject, "grade": book.grade, "version": book.version,
            "volume": book.volume, "textbook": str(book.pk), "node": str(course.node_id)}
