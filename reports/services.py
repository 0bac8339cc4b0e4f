"""The dashboards (统计) of a county, city or province: one function per section, each returning a
``rules.Section`` whose plain rows feed the chart, the page's table, the Excel export and the API
alike.

Scope: the unit comes from ``selection.services.get_board_unit`` (a unit the actor administers, or
one below it; else 404), and every query starts from the actor's visible rows (``entries_for``,
``ReviewRound.objects.visible_to``) narrowed to the unit's subtree. Each section makes a fixed
number of queries, however many units and entries there are.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, OuterRef, Q, Subquery, prefetch_related_objects
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns import services as campaign_services
from campaigns.enums import LEVEL_ORDER, Category, ShareAppliesTo, Stage
from campaigns.models import Campaign
from catalog.rules import stage_label
from courses.models import CheckStatus, Course
from media.rules import CHECK_RULES
from orgs.models import Unit
from reports import rules
from reports.models import Snapshot
from reports.rules import ChartSpec, Section
from review.models import AssignmentState, ReviewRound, RoundStatus
from selection import rules as selection_rules
from selection import services as selection_services
from selection.models import Entry, EntryState

SECTION_TITLES = {
    "units": gettext_lazy("下级单位申报与处理情况"),
    "category": gettext_lazy("按类别统计"),
    "stage": gettext_lazy("按学段统计"),
    "subject": gettext_lazy("按学科统计"),
    "progress": gettext_lazy("名额使用与截止时间"),
    "checks": gettext_lazy("文件检测不合格原因"),
    "review": gettext_lazy("专家评审进度"),
    "awards": gettext_lazy("本级荣誉（精品课）评定"),
    "shares": gettext_lazy("学科占比与上限"),
    "special": gettext_lazy("特殊教育各学科占比"),
}
SECTION_KEYS = tuple(SECTION_TITLES)


# --- choosing the campaign and the unit ------------------------------------------------------------
@dataclass
class Scope:
    campaign: Campaign
    unit: Unit
    campaigns: list[Campaign]  # those the actor may open a dashboard of
    units: list[Unit]  # his units for this campaign (the picker)


def dashboard_campaigns(actor) -> list[Campaign]:
    """Campaigns of which the actor administers a county, city or province (system admins: all)."""
    campaigns = list(campaign_services.campaigns_for(actor).select_related("owner"))
    return [c for c in campaigns if selection_services.board_units(actor, c)]


def get_scope(actor, campaign_id=None, unit_id=None) -> Scope:
    """The campaign (default: the newest one the actor has a dashboard of) and the unit (default:
    his highest unit in it). A campaign or unit out of his reach: 404."""
    if not actor.has_perm("reports.view_dashboard"):
        raise Http404(_("统计供县（市、区）、市、省管理员使用。"))
    campaigns = dashboard_campaigns(actor)
    if campaign_id in (None, ""):
        if not campaigns:
            raise Http404(_("您管理的单位还没有参加任何遴选活动，暂无统计。"))
        campaign = campaigns[0]
    else:
        campaign = next((c for c in campaigns if c.pk == selection_services.as_int(campaign_id)), None)
        if campaign is None:
            raise Http404(_("未找到该遴选活动，或您无权查看它的统计。"))
    unit = selection_services.get_board_unit(actor, campaign, unit_id)
    return Scope(campaign, unit, campaigns, selection_services.board_units(actor, campaign))


# --- helpers ------------------------------------------------------------------------------------------
def _area_entries(actor, campaign: Campaign, unit: Unit):
    """Entries of the campaign held by the unit or any unit below it, as the actor may see them."""
    return selection_services.entries_for(actor).filter(campaign=campaign, unit__path__startswith=unit.path)


def _held(actor, units: list[Unit]):
    """Entries held by ``units`` themselves: the dashboard's unit and its child units, which
    ``get_scope`` and ``selection.services.progress`` take from within the actor's scope. So the
    actor's scope (``entries_for``: an IN over every unit of his subtree, 20,000 at a province,
    hashed for each query) adds nothing here and is left out."""
    if not (actor and actor.is_authenticated) or not units:
        return Entry.objects.none()
    return Entry.objects.filter(unit_id__in=[u.pk for u in units])


def _course_category():
    """The entry's course category, looked up per entry (an index probe): for the few awarded or
    recommended entries a join would hash the whole courses table."""
    return Subquery(Course.objects.filter(pk=OuterRef("course_id")).order_by().values("category")[:1])


def _own_level(campaign: Campaign, unit: Unit):
    return next((lv for lv in campaign.levels.all() if lv.kind == unit.kind), None)


STATES = tuple(EntryState.values)


def _state_label(state: str) -> str:
    return str(EntryState(state).label)


# --- entries by child unit (stacked by state) --------------------------------------------------------
def units_section(actor, campaign: Campaign, unit: Unit, *, children=None) -> Section:
    """Each child unit (a county's schools; a city's counties and city-owned schools; …): its
    entries at its own level by state. ``children``: ``selection.services.progress`` rows, when
    already loaded."""
    rows = children if children is not None else selection_services.progress(actor, campaign, unit)
    counted = [(r.unit.name, Counter({s: r.held.count(s) for s in STATES})) for r in rows]
    columns = ([(_("单位"), 20)] + [(_state_label(s), 8) for s in STATES] + [(_("合计"), 8)])
    return Section("units", str(SECTION_TITLES["units"]), columns, rules.state_rows(counted, STATES),
                   ChartSpec(series=tuple(range(1, len(STATES) + 1)), stack=True, horizontal=True),
                   note=_("下级单位在其本级收到的课程，按处理状态。"))


# --- entries by category, stage, subject -----------------------------------------------------------
DIMENSIONS = {
    "category": ("course__category", lambda k: selection_rules.category_label(k), list(Category.values)),
    "stage": ("node__textbook__stage", lambda k: str(stage_label(k)), list(Stage.values)),
    "subject": ("node__textbook__subject", lambda k: k or _("（未填学科）"), []),
}


# The fields of each dimension in the counted rows of ``AreaCounts`` (category, stage, subject).
DIMENSION_INDEX = {"category": 0, "stage": 1, "subject": 2}


@dataclass
class AreaCounts:
    """The entries of the three dimension sections, counted in the database once for all three:
    ``declared``: (category, stage, subject, n) of the courses entered in the unit's area (each
    once, by its school-level entry); ``received``: (category, stage, subject, state, awarded, n)
    of the entries the unit holds at its own level."""

    declared: list[tuple]
    received: list[tuple]


_KEYS = ("course__category", "node__textbook__stage", "node__textbook__subject")


def _declared(area):
    """(category, stage, subject, n) of the courses entered in ``area`` (each once, by its
    school-level entry): one GROUP BY."""
    return area.filter(level__kind=LEVEL_ORDER[0]).order_by().values_list(*_KEYS).annotate(n=Count("*"))


def area_counts(actor, campaign: Campaign, unit: Unit, *, declared: list | None = None) -> AreaCounts:
    """Two GROUP BY queries, a few hundred rows back, whatever the number of entries.
    ``declared``: those of ``area_aggregates`` (a snapshot), when already loaded."""
    if declared is None:
        declared = _declared(_area_entries(actor, campaign, unit))
    level = _own_level(campaign, unit)
    received = (_held(actor, [unit]).filter(level=level).order_by()
                .values_list(*_KEYS, "state", "awarded").annotate(n=Count("*")) if level else [])
    return AreaCounts(list(declared), list(received))


def dimension_section(actor, campaign: Campaign, unit: Unit, dimension: str, *, counts: AreaCounts | None = None
                      ) -> Section:
    """Entries counted by category, stage or subject: declared in the unit's area (each course once,
    by its school-level entry), received at the unit's own level, recommended and awarded there.
    ``counts``: ``area_counts``, when already loaded."""
    _field, label, order = DIMENSIONS[dimension]
    counts = counts if counts is not None else area_counts(actor, campaign, unit)
    i = DIMENSION_INDEX[dimension]
    declared: Counter = Counter()
    for row in counts.declared:
        declared[row[i]] += row[-1]
    received = [(row[i], row[3], row[4], row[5]) for row in counts.received]
    columns = [({"category": _("类别"), "stage": _("学段"), "subject": _("学科")}[dimension], 16),
               (_("区域内申报"), 10), (_("本级收到"), 10), (_("本级已推荐"), 10), (_("本级荣誉"), 10)]
    return Section(dimension, str(SECTION_TITLES[dimension]), columns,
                   rules.dimension_rows(declared, received, label, order),
                   ChartSpec(series=(1, 2, 3)),
                   note=_("区域内申报：本单位及下级学校提交的课程；本级：本单位在本层级收到、推荐和评定的课程。"))


# --- progress against quotas and deadlines ---------------------------------------------------------
def progress_section(actor, campaign: Campaign, unit: Unit, *, children=None) -> Section:
    """Each child unit's recommendations against its quotas (per category and in all), what is
    still pending, its deadline and whether its summary table is confirmed."""
    rows = children if children is not None else selection_services.progress(actor, campaign, unit)
    categories = selection_services.progress_categories(campaign)
    # Translated once, and each deadline's texts once (a county's ~835 schools share a handful of
    # deadlines and ``now``): gettext per cell was a fifth of this section's CPU.
    unlimited, no_deadline, confirmed, unconfirmed = _("%(n)d（不限）"), _("未设截止时间"), _("已确认"), _("未确认")
    when: dict[tuple, tuple[str, str]] = {}
    out = []
    for r in rows:
        limits = [q.limit for q in r.quotas]
        quota = sum(limits) if limits and None not in limits else None
        texts = when.get((r.deadline, r.now))
        if texts is None:
            texts = when[(r.deadline, r.now)] = (selection_rules.local_text(r.deadline) if r.deadline else no_deadline,
                                                 r.time_left_text)
        out.append([r.unit.name, r.level.name, *(selection_services.quota_cell(r, c, unlimited) for c, _l in categories),
                    r.held.count(EntryState.RECOMMENDED), quota, r.held.count(EntryState.PENDING),
                    *texts, confirmed if r.confirmed else unconfirmed])
    n = len(categories)
    columns = ([(_("单位"), 20), (_("层级"), 10)]
               + [(_("%(category)s（已推荐/名额）") % {"category": label}, 16) for _c, label in categories]
               + [(_("已推荐"), 8), (_("名额合计"), 8), (_("待处理"), 8), (_("推荐截止"), 17), (_("剩余时间"), 14),
                  (_("汇总表"), 8)])
    return Section("progress", str(SECTION_TITLES["progress"]), columns, out,
                   ChartSpec(series=(2 + n, 4 + n), marker=3 + n),
                   note=_("名额合计为各类别名额之和；某类别不限名额时留空。"))


# --- check failure reasons ---------------------------------------------------------------------------
# The findings of the failing and warned files, one row per (file, finding) with its course, then
# counted by rule: files failing it, files warned by it, courses concerned (each file counts a rule
# and level once). The findings are a JSON list in the row, so each vendor unnests it its own way.
_FINDINGS_SQL = {
    "postgresql": """
        SELECT r.id AS file_id, p.course_id AS course_id, f.value ->> 'rule' AS rule,
               f.value ->> 'level' AS level, f.value ->> 'label' AS label
        FROM courses_resource r JOIN courses_period p ON p.id = r.period_id
        CROSS JOIN LATERAL jsonb_array_elements(
            CASE jsonb_typeof(r.findings) WHEN 'array' THEN r.findings ELSE '[]'::jsonb END) f
        WHERE r.status IN (%s, %s) AND p.course_id IN ({area}) AND jsonb_typeof(f.value) = 'object'""",
    "sqlite": """
        SELECT r.id AS file_id, p.course_id AS course_id, json_extract(f.value, '$.rule') AS rule,
               json_extract(f.value, '$.level') AS level, json_extract(f.value, '$.label') AS label
        FROM courses_resource r JOIN courses_period p ON p.id = r.period_id,
             json_each(CASE json_type(r.findings) WHEN 'array' THEN r.findings ELSE '[]' END) f
        WHERE r.status IN (%s, %s) AND p.course_id IN ({area}) AND f.type = 'object'""",
}
_FINDINGS_COUNT = """
    SELECT COALESCE(rule, ''),
           COUNT(DISTINCT CASE WHEN level = %s THEN file_id END),
           COUNT(DISTINCT CASE WHEN level = %s THEN file_id END),
           COUNT(DISTINCT course_id), MIN(COALESCE(label, ''))
    FROM ({findings}) x WHERE level IN (%s, %s) GROUP BY COALESCE(rule, '')"""


def _failure_counts(area) -> list[tuple[str, int, int, int, str]]:
    """(rule, files failing, files warned, courses, a label) of the files of the courses in ``area``
    (a queryset of course ids): one query, a row per rule, however many files there are."""
    area_sql, area_params = area.query.sql_with_params()
    findings = _FINDINGS_SQL["postgresql" if connection.vendor == "postgresql" else "sqlite"].format(area=area_sql)
    sql = _FINDINGS_COUNT.format(findings=findings)
    fail, warn = CheckStatus.FAIL, CheckStatus.WARN
    with connection.cursor() as cursor:
        cursor.execute(sql, [fail, warn, fail, warn, *area_params, fail, warn])
        return [tuple(row) for row in cursor.fetchall()]


def _declared_courses(area):
    return area.filter(level__kind=LEVEL_ORDER[0]).order_by().values("course_id")


def checks_section(actor, campaign: Campaign, unit: Unit, *, failures: list | None = None) -> Section:
    """Files of the courses entered in the unit's area whose automatic checks failed or warned,
    counted by reason (rule) in the database. ``failures``: those of ``area_aggregates``."""
    if failures is None:
        failures = _failure_counts(_declared_courses(_area_entries(actor, campaign, unit)))
    labels = {rule: str(label) for rule, (label, _default) in CHECK_RULES.items()}
    columns = [(_("检测项"), 22), (_("不合格文件数"), 12), (_("提醒文件数"), 12), (_("涉及课程数"), 12)]
    return Section("checks", str(SECTION_TITLES["checks"]), columns,
                   rules.failure_rows([tuple(row) for row in failures], labels),
                   ChartSpec(series=(1, 2), stack=True, horizontal=True),
                   note=_("区域内已提交课程的资源文件自动检测结果，按原因统计（一个文件可有多个原因）。"))


# --- review progress -----------------------------------------------------------------------------
def review_section(actor, campaign: Campaign, unit: Unit) -> Section:
    """Review rounds of the unit and the units below it: of the score sheets assigned (published
    assignments; proposals not yet published do not count), how many are submitted, being filled
    in (saved, not submitted) and not started."""
    published = ~Q(assignments__state=AssignmentState.PROPOSED)
    rounds = (ReviewRound.objects.visible_to(actor).filter(campaign=campaign, unit__path__startswith=unit.path)
              .select_related("unit").order_by("unit__path", "opens_at", "id")
              .annotate(n_entries=Count("round_entries", distinct=True),
                        n_assigned=Count("assignments", filter=published, distinct=True),
                        n_submitted=Count("assignments", filter=Q(assignments__state=AssignmentState.SUBMITTED),
                                          distinct=True),
                        n_started=Count("assignments", filter=Q(assignments__state=AssignmentState.STARTED),
                                        distinct=True)))
    rows = [[r.title, r.unit.name, selection_rules.category_label(r.category), str(RoundStatus(r.status).label),
             r.n_entries, r.n_assigned, r.n_submitted, r.n_started, r.n_assigned - r.n_submitted - r.n_started,
             rules.percent(r.n_submitted, r.n_assigned), selection_rules.local_text(r.closes_at)] for r in rounds]
    columns = [(_("评审轮次"), 26), (_("单位"), 14), (_("类别"), 10), (_("状态"), 8), (_("作品数"), 8),
               (_("评分表（已分配）"), 10), (_("已提交"), 8), (_("评分中"), 8), (_("未开始"), 8), (_("完成率（%）"), 10),
               (_("截止时间"), 17)]
    return Section("review", str(SECTION_TITLES["review"]), columns, rows,
                   ChartSpec(series=(6, 7, 8), stack=True, horizontal=True))


# --- awards --------------------------------------------------------------------------------------
def _awards(area):
    """(level id, category, subject, n) of the awarded entries of ``area``: one GROUP BY."""
    return (area.filter(awarded=True).annotate(category=_course_category()).order_by()
            .values_list("level_id", "category", "node__textbook__subject").annotate(n=Count("*")))


def awards_section(actor, campaign: Campaign, unit: Unit, *, awards: list | None = None) -> Section:
    """Entries awarded a level's title (县级/市级精品课…) in the unit's area, by level, category
    and subject. ``awards``: those of ``area_aggregates``."""
    levels = {lv.pk: lv for lv in campaign.levels.all()}
    if awards is None:
        awards = _awards(_area_entries(actor, campaign, unit))
    counted = Counter({(lv, cat, subject): n for lv, cat, subject, n in awards})
    rank = {kind: i for i, kind in enumerate(LEVEL_ORDER)}
    category_rank = {c: i for i, c in enumerate(Category.values)}
    keys = sorted(counted, key=lambda k: (rank.get(levels[k[0]].kind, 9), category_rank.get(k[1], 9), k[2]))
    rows = [[levels[lv].award_name or levels[lv].name, selection_rules.category_label(cat), subject, counted[
        (lv, cat, subject)]] for lv, cat, subject in keys]
    columns = [(_("荣誉"), 14), (_("类别"), 10), (_("学科"), 10), (_("课程数"), 8)]
    return Section("awards", str(SECTION_TITLES["awards"]), columns, rows,
                   ChartSpec(x=(0, 1, 2), series=(3,), horizontal=True),
                   note=_("本单位及下级单位评定的本级荣誉。"))


# --- subject shares against the caps -----------------------------------------------------------------
def _own_picks(actor, campaign: Campaign, unit: Unit, received: list | None) -> dict[str, list]:
    """The unit's own recommendations and awards at its level as picks: from ``received``
    (``AreaCounts.received``, (category, stage, subject, state, awarded, n)) when loaded, else
    counted from its picked entries (the partial index ``progress_entry_picked``)."""
    level = _own_level(campaign, unit)
    if level is None:
        return {"recommendations": [], "awards": []}
    if received is None:
        received = (_held(actor, [unit]).filter(level=level).filter(selection_services.PICKED)
                    .annotate(category=_course_category()).order_by()
                    .values_list("category", "node__textbook__stage", "node__textbook__subject", "state", "awarded")
                    .annotate(n=Count("*")))
    held = {"recommendations": [], "awards": []}
    for category, _stage, subject, state, awarded, n in received:
        pick = selection_rules.Pick(0, category, subject)
        if state == EntryState.RECOMMENDED:
            held["recommendations"].extend([pick] * n)
        if awarded:
            held["awards"].extend([pick] * n)
    return held


def shares_section(actor, campaign: Campaign, unit: Unit, *, children=None, received: list | None = None) -> Section:
    """For the unit and each child unit, every share cap of its level (e.g. 特殊教育 语文+数学+生活适应
    ≤ 80 % of the city's awards): the share now against the cap. The child units' picks are those
    of their ``selection.services.progress`` rows (``children``), the unit's own those it received
    (``received``: ``AreaCounts.received``, when loaded): no query of its own then."""
    levels = {lv.kind: lv for lv in campaign.levels.all()}
    if children is None:
        children = selection_services.progress(actor, campaign, unit)
    units = [unit] + [r.unit for r in children]
    units = [u for u in units if u.kind in levels and campaign.share_caps]
    picks: dict[tuple, dict[str, list]] = {}
    if units:
        picks[(unit.pk, unit.kind)] = _own_picks(actor, campaign, unit, received)
        for r in children:
            picks[(r.unit.pk, r.unit.kind)] = {"recommendations": r.held.of(EntryState.RECOMMENDED),
                                               "awards": r.held.awarded}
    rows = []
    for u in units:
        for applies_to in ShareAppliesTo.values:
            for cap in selection_services._caps(campaign, u.kind, applies_to):
                status = selection_rules.share_status(picks.get((u.pk, u.kind), {}).get(applies_to, []), cap)
                rows.append([f"{u.name} · {selection_rules.category_label(cap.category)}", "+".join(cap.subjects),
                             str(ShareAppliesTo(applies_to).label), status.inside, status.total,
                             rules.percent(status.inside, status.total), cap.max_percent,
                             _("符合") if status.ok else _("超出上限")])
    columns = [(_("单位 · 类别"), 24), (_("学科"), 18), (_("适用于"), 18), (_("这些学科"), 8), (_("该类别合计"), 10),
               (_("当前占比（%）"), 10), (_("上限（%）"), 8), (_("结论"), 8)]
    return Section("shares", str(SECTION_TITLES["shares"]), columns, rows,
                   ChartSpec(series=(5,), marker=6, percent=True),
                   note=_("活动设置的学科占比上限（如特殊教育中语文、数学、生活适应合计不超过 80%）。"))


def special_section(actor, campaign: Campaign, unit: Unit) -> Section:
    """The subjects of the special-education courses the unit has recommended and awarded at its
    level, each with its share, and whether a share cap of the level counts it."""
    level = _own_level(campaign, unit)
    picks = (_held(actor, [unit]).filter(level=level, course__category=Category.SPECIAL)
             .filter(Q(state=EntryState.RECOMMENDED) | Q(awarded=True))
             .order_by().values_list("node__textbook__subject", "state", "awarded")) if level else []
    capped = {subject for c in (campaign.share_caps or []) if level and c.get("level") == level.kind
              and c.get("category") == Category.SPECIAL for subject in c.get("subjects", [])}
    recommended, awarded = Counter(), Counter()
    for subject, state, is_awarded in picks:
        recommended[subject] += state == EntryState.RECOMMENDED
        awarded[subject] += bool(is_awarded)
    n_recommended, n_awarded = sum(recommended.values()), sum(awarded.values())
    subjects = sorted(set(recommended) | set(awarded), key=lambda k: (k not in capped, -recommended[k], k))
    rows = [[subject, recommended[subject], rules.percent(recommended[subject], n_recommended), awarded[subject],
             rules.percent(awarded[subject], n_awarded), _("是") if subject in capped else _("否")]
            for subject in subjects]
    columns = [(_("学科"), 14), (_("本级已推荐"), 10), (_("占已推荐（%）"), 12), (_("本级荣誉"), 10),
               (_("占本级荣誉（%）"), 12), (_("计入占比上限"), 12)]
    return Section("special", str(SECTION_TITLES["special"]), columns, rows,
                   ChartSpec(series=(2, 4), percent=True),
                   note=_("本单位本级特殊教育课程的学科分布；“计入占比上限”的学科合计不得超过上限（见上一项）。"))


# --- all of them -------------------------------------------------------------------------------------
WITH_CHILDREN = {"units": units_section, "progress": progress_section, "shares": shares_section}
BUILDERS = {**WITH_CHILDREN, "checks": checks_section, "review": review_section, "awards": awards_section,
            "special": special_section}


def section(actor, campaign: Campaign, unit: Unit, key: str, *, children=None, counts=None,
            aggregates: dict | None = None) -> Section:
    """One section, live; ``aggregates``: the area's (``area_aggregates``, a snapshot) instead of
    counting them again."""
    if key in DIMENSIONS:
        return dimension_section(actor, campaign, unit, key, counts=counts)
    if key not in BUILDERS:
        raise Http404(_("没有这一项统计。可选：%(keys)s。") % {"keys": "、".join(SECTION_KEYS)})
    if key == "shares":
        return shares_section(actor, campaign, unit, children=children,
                              received=counts.received if counts is not None else None)
    if key in WITH_CHILDREN:
        return BUILDERS[key](actor, campaign, unit, children=children)
    if aggregates is not None and key == "checks":
        return checks_section(actor, campaign, unit, failures=aggregates["failures"])
    if aggregates is not None and key == "awards":
        return awards_section(actor, campaign, unit, awards=aggregates["awards"])
    return BUILDERS[key](actor, campaign, unit)


def sections(actor, campaign: Campaign, unit: Unit, *, aggregates: dict | None = None) -> list[Section]:
    """Every section; the child units' progress is loaded once for the three that use it, the
    entries by category, stage and subject once for the three dimensions. ``aggregates``: the
    area-wide counts of a snapshot (``current_aggregates``); None: everything counted now."""
    if "levels" not in getattr(campaign, "_prefetched_objects_cache", {}):
        prefetch_related_objects([campaign], "levels")  # one query for the five sections that read them
    children = selection_services.progress(actor, campaign, unit)
    counts = area_counts(actor, campaign, unit, declared=aggregates["declared"] if aggregates else None)
    return [section(actor, campaign, unit, key, children=children, counts=counts, aggregates=aggregates)
            for key in SECTION_KEYS]


# --- snapshots of the area-wide aggregates ----------------------------------------------------------
# Three sections count every entry of the unit's area: the courses declared there (by category,
# stage and subject), their files' check failures and the awards. At a province (200,000 courses,
# 270,000 entries, their files' findings) that is most of the page's time and grows with the
# province, whatever the indexes: the answer is an aggregate of the whole area by nature. The page
# reads them from a snapshot (one row) refreshed in the background when older than
# REPORTS_SNAPSHOT_MINUTES or on demand; the rest of the page (the unit's own level, its child
# units, review rounds) is bounded by the tree or by what the unit holds, and stays live.
def snapshot_max_age() -> timedelta:
    return timedelta(minutes=float(settings.REPORTS_SNAPSHOT_MINUTES))


def area_aggregates(campaign: Campaign, unit: Unit) -> dict:
    """The area-wide counts of the dashboard of ``unit`` in ``campaign`` as plain JSON lists:
    ``declared`` (category, stage, subject, n), ``failures`` (rule, files failing, files warned,
    courses, label), ``awards`` (level id, category, subject, n). Three GROUP BY queries.

    Who looks does not matter: the dashboard of a unit opens only to the admins of it or of a unit
    above it (``get_scope``), whose entries (``entries_for``) include the unit's whole area. So
    these are the numbers the live sections count for any of them (pinned by the tests)."""
    area = Entry.objects.filter(campaign=campaign, unit__path__startswith=unit.path)
    return {"declared": [list(row) for row in _declared(area)],
            "failures": [list(row) for row in _failure_counts(_declared_courses(area))],
            "awards": [list(row) for row in _awards(area)]}


@dataclass
class Aggregates:
    """What the page shows of the area-wide counts: ``data`` (``area_aggregates``) as of
    ``computed_at``; ``refreshing``: a newer one is being computed in the background."""

    data: dict
    computed_at: datetime
    refreshing: bool = False


def _store(campaign: Campaign, unit: Unit, data: dict, computed_at: datetime) -> Snapshot:
    try:
        with transaction.atomic():
            snapshot, _created = Snapshot.objects.update_or_create(
                campaign=campaign, unit=unit, defaults={"data": data, "computed_at": computed_at})
    except IntegrityError:  # created at the same moment by another request: theirs is as fresh
        snapshot = Snapshot.objects.get(campaign=campaign, unit=unit)
    return snapshot


def refresh_snapshot(campaign_id: int, unit_id: int) -> Snapshot | None:
    """Count the area again and store it (the background task). None: campaign or unit gone."""
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    unit = Unit.objects.filter(pk=unit_id).first()
    if campaign is None or unit is None:
        return None
    started = timezone.now()  # what changes while counting is newer than the snapshot says
    return _store(campaign, unit, area_aggregates(campaign, unit), started)


def request_refresh(campaign: Campaign, unit: Unit, *, now: datetime | None = None) -> None:
    """Have the snapshot recounted in the background (the 刷新 button; a stale snapshot)."""
    Snapshot.objects.filter(campaign=campaign, unit=unit).update(refresh_requested_at=now or timezone.now())
    _enqueue_refresh(campaign.pk, unit.pk)


def _enqueue_refresh(campaign_id: int, unit_id: int) -> None:
    from reports.tasks import refresh_snapshot as task

    task.enqueue(campaign_id, unit_id)


def current_aggregates(campaign: Campaign, unit: Unit, *, now: datetime | None = None) -> Aggregates:
    """The area-wide counts for the page: the snapshot (one query), recounted in the background
    when older than ``snapshot_max_age`` (once: not again while that refresh is pending, unless it
    is itself that old); without a snapshot, counted now and stored as the first one."""
    now = now or timezone.now()
    snapshot = Snapshot.objects.filter(campaign=campaign, unit=unit).first()
    if snapshot is None:
        data = area_aggregates(campaign, unit)
        _store(campaign, unit, data, now)
        return Aggregates(data, now)
    requested = snapshot.refresh_requested_at
    pending = requested is not None and requested > snapshot.computed_at and now - requested < snapshot_max_age()
    if not pending and now - snapshot.computed_at > snapshot_max_age():
        request_refresh(campaign, unit, now=now)
        snapshot.refresh_from_db()
        pending = snapshot.refresh_requested_at is not None and snapshot.refresh_requested_at > snapshot.computed_at
    return Aggregates(snapshot.data, snapshot.computed_at, refreshing=pending)
