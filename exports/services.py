"""全部申报导出: every course the user may see, narrowed by the course list's own filters, as one
streamed XLSX (exports.xlsx) — straight back as the response when small, as a background job
(``ExportJob``) with a progress bar and a stored file when large.

Scope and filters come from ``courses.services.list_courses``, the function the list page uses,
so the export holds exactly the rows the list shows. The rows are read with one query over the
course, its lead teacher and school (``values_list(...).iterator()``, ordered by id); what a course
has many of (team members, entries per level, review sheets, adjudications) comes from one query
each over the same scope (a subquery of ids), also ordered by course id, consumed beside the courses
(a merge join, ``_Stream``); what many courses share (campaign, catalog node and textbook, county and
city) from lookups read once. So an export makes the same 9 queries whatever its size, with no id
lists, and memory holds a fetch of each cursor and the lookups (bounded by nodes, schools, minutes).
The shared columns reach the writer as XML cells written once per distinct value (``sheet_rows``).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db.models import Avg, CharField, Count, Func, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import record
from campaigns.enums import Category, Stage
from campaigns.models import Campaign
from campaigns.services import campaigns_for
from catalog import rules as catalog_rules
from catalog.models import CatalogNode
from courses import services as course_services
from courses.models import Course, CourseMember, CourseStatus
from exports import xlsx
from exports.models import ExportJob
from jingpinke.errors import ServiceError
from jingpinke.inputs import parse_id
from orgs.models import Unit, UnitKind
from selection import rules as selection_rules
from selection.models import Entry, EntryState

log = logging.getLogger("jingpinke.exports")

BATCH = 2000  # rows fetched at a time from each cursor
PROGRESS_EVERY = 2000  # rows between two progress updates of a job at least…
PROGRESS_STEPS = 50  # …and at most this many updates per job (each is a committed UPDATE: 2 % steps)
ROWS_PER_WRITE = xlsx.ROWS_PER_WRITE  # rows between two handovers of bytes (and progress checks)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STALE_AFTER = timedelta(minutes=10)  # a queued/running job without progress this long is started again

# (header, column width in characters)
COLUMNS = [
    (gettext_lazy("序号"), 7), (gettext_lazy("遴选活动"), 26), (gettext_lazy("类别"), 9), (gettext_lazy("学段"), 7),
    (gettext_lazy("年级"), 8), (gettext_lazy("学科"), 8), (gettext_lazy("目录节点"), 48),
    (gettext_lazy("课程名称"), 28), (gettext_lazy("主讲教师"), 10), (gettext_lazy("团队成员"), 22),
    (gettext_lazy("学校"), 26), (gettext_lazy("区县"), 12), (gettext_lazy("地市"), 10), (gettext_lazy("课时数"), 7),
    (gettext_lazy("申报状态"), 11), (gettext_lazy("文件检测"), 12), (gettext_lazy("学校推荐"), 16),
    (gettext_lazy("区县推荐"), 16), (gettext_lazy("地市推荐"), 16), (gettext_lazy("省级推荐"), 16),
    (gettext_lazy("评审平均分"), 10), (gettext_lazy("评审结果"), 16), (gettext_lazy("提交时间"), 17),
]
LEVEL_KINDS = (UnitKind.SCHOOL, UnitKind.COUNTY, UnitKind.CITY, UnitKind.PROVINCE)


def headers() -> list[str]:
    return [str(h) for h, _w in COLUMNS]


def widths() -> list[float]:
    return [w for _h, w in COLUMNS]


# --- who may export, and the filters ------------------------------------------------------------------
def require_exporter(actor) -> None:
    if not actor.has_perm("exports.export_courses"):
        raise PermissionDenied(_("只有学校、区县、地市、省级管理员可以导出申报课程。"))


def parse_filters(actor, data) -> dict:
    """The course list's filters from a query string, checked: a value the list would silently
    ignore is refused here with what to fix (an export must not hold other rows than the user
    asked for). Unknown parameters (``page``) are ignored. Returns the plain filters to store."""
    filters: dict = {}
    raw = str(data.get("campaign") or "").strip()
    if raw:
        campaign_id = parse_id(raw)
        if campaign_id is None:
            raise ServiceError(_("筛选条件“遴选活动”不正确（%(v)s）：应为活动编号，请从申报课程列表重新导出。") % {"v": raw[:30]},
                               errors=[{"field": "campaign"}])
        if not campaigns_for(actor).filter(pk=campaign_id).exists():
            raise ServiceError(_("找不到编号为 %(v)s 的遴选活动，或您无权查看：请从申报课程列表重新导出。") % {"v": campaign_id},
                               errors=[{"field": "campaign"}])
        filters["campaign"] = campaign_id
    status = str(data.get("status") or "").strip()
    if status:
        if status not in CourseStatus.values:
            allowed = "、".join(f"{v}（{label}）" for v, label in CourseStatus.choices)
            raise ServiceError(_("筛选条件“状态”不正确（%(v)s）：只能是 %(allowed)s 之一，或留空表示全部。") % {
                "v": status[:30], "allowed": allowed}, errors=[{"field": "status"}])
        filters["status"] = status
    return filters


def query_string(filters: dict) -> str:
    return urlencode({k: v for k, v in filters.items() if v not in (None, "")})


def courses(actor, filters: dict) -> QuerySet[Course]:
    """The courses of the export: the list page's query (scope included), same filters."""
    return course_services.list_courses(actor, campaign_id=filters.get("campaign"), status=filters.get("status", ""))


def filename(actor, filters: dict, now: datetime | None = None) -> str:
    now = timezone.localtime(now or timezone.now())
    campaign = Campaign.objects.filter(pk=filters["campaign"]).values_list("title", flat=True).first() \
        if filters.get("campaign") else None
    stem = campaign or _("全部申报")
    return _("%(stem)s-申报课程-%(stamp)s.xlsx") % {"stem": stem, "stamp": now.strftime("%Y%m%d-%H%M")}


# --- the rows -------------------------------------------------------------------------------------------
# Per course, what differs from course to course (its own columns, its lead teacher and school by
# join); what many courses share (campaign, catalog node and textbook, county and city) comes from
# lookups read once, and the submission time as its UTC minute, turned into local text once per minute.
_FIELDS = (
    "pk", "campaign_id", "category", "node_id", "title", "lead_teacher__real_name", "lead_teacher__username",
    "school__name", "school__path", "periods_count", "status", "compliance",
)
_NODE_FIELDS = (
    "pk", "textbook__stage", "textbook__school_system", "textbook__grade", "textbook__subject", "textbook__title",
    "textbook__version", "textbook__volume", "textbook__edition", "label_path", "title",
)


class _UtcMinute(Func):
    """A timestamp's UTC minute as text, ``YYYY-MM-DD HH:MM``: the database writes it, and its local
    text is worked out once per minute (``_LocalMinutes``) instead of once per row."""

    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra):
        # stored as UTC text, "YYYY-MM-DD HH:MM:SS[.ffffff]" (no strftime: a "%" in SQL is a placeholder to Django)
        return self.as_sql(compiler, connection, template="replace(substr(%(expressions)s, 1, 16), 'T', ' ')", **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection,
                           template="to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')", **extra)


class _LocalMinutes(dict):
    """UTC minute text → (the same minute in TIME_ZONE as ``YYYY-MM-DD HH:MM``,) (offsets are whole
    minutes), remembered; None → ("",)."""

    def __init__(self):
        super().__init__({None: ("",)})
        self.tz = ZoneInfo(settings.TIME_ZONE)

    def __missing__(self, minute: str) -> tuple[str]:
        if len(self) > 100_000:  # bounded, whatever the span of the submissions
            self.clear()
            self[None] = ("",)
        local = datetime.strptime(minute, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).astimezone(self.tz)
        text = self[minute] = (local.strftime("%Y-%m-%d %H:%M"),)
        return text


class _Stream:
    """Rows of one query ordered by course id (the first value), consumed alongside the courses:
    ``take(pk)`` skips what lies before ``pk`` and returns the rows of ``pk``. A merge join in
    Python: one query per stream for the whole export, one row of each in memory."""

    def __init__(self, rows: Iterable[tuple]):
        self._it = iter(rows)
        self._next = next(self._it, None)

    def take(self, pk: int) -> list[tuple]:
        nxt = self._next
        if nxt is None or nxt[0] > pk:  # most calls: nothing (left) for this course
            return []
        out = []
        while nxt is not None and nxt[0] < pk:
            nxt = next(self._it, None)
        while nxt is not None and nxt[0] == pk:
            out.append(nxt)
            nxt = next(self._it, None)
        self._next = nxt
        return out


def _streams(scope) -> dict[str, _Stream]:
    """What courses have many of, for every course of ``scope`` (a subquery of ids), each query
    ordered by course id. (The file checks need none: ``Course.compliance`` holds their worst.)"""
    from review.models import Adjudication, ScoreSheet

    def it(qs):
        return _Stream(qs.iterator(chunk_size=BATCH))

    return {
        "members": it(CourseMember.objects.filter(course_id__in=scope).order_by("course_id", "order", "id")
                      .values_list("course_id", "user__real_name", "user__username")),
        "levels": it(Entry.objects.filter(course_id__in=scope).order_by("course_id", "id")
                     .values_list("course_id", "level__kind", "state", "awarded", "level__award_name")),
        "sheets": it(ScoreSheet.objects.filter(submitted_at__isnull=False, assignment__entry__entry__course_id__in=scope)
                     .values_list("assignment__entry__entry__course_id", "assignment__entry__round_id")
                     .annotate(avg=Avg("total"), n=Count("id"), vetoes=Count("veto"))
                     .order_by("assignment__entry__entry__course_id", "assignment__entry__round_id")),
        "adjudications": it(Adjudication.objects.filter(round_entry__entry__course_id__in=scope)
                            .order_by("round_entry__entry__course_id", "round_entry__round_id")
                            .values_list("round_entry__entry__course_id", "round_entry__round_id", "points")),
    }


class _LevelTexts:
    """The four level columns of a course from its entries: the entry's state, with the level's
    award when it was named; each distinct (kind, state, award) worked out once."""

    def __init__(self):
        self.states = {v: str(label) for v, label in EntryState.choices}
        self.index = {kind: i for i, kind in enumerate(LEVEL_KINDS)}
        self._texts: dict[tuple, tuple[int | None, str]] = {}

    def _text(self, key: tuple) -> tuple[int | None, str]:
        kind, state, awarded, award_name = key
        text = self.states.get(state, state)
        if awarded:
            text = f"{text} · {award_name or _('本级荣誉')}"
        hit = self._texts[key] = (self.index.get(kind), text)
        return hit

    def of(self, rows: list[tuple]) -> tuple[str, str, str, str]:
        if not rows:
            return ("", "", "", "")
        out = ["", "", "", ""]
        texts = self._texts
        for row in rows:
            key = row[1:]
            index, text = texts.get(key) or self._text(key)
            if index is not None:
                out[index] = text
        return tuple(out)


def _review(sheets: list[tuple], adjudications: list[tuple]) -> tuple:
    """Of the course's latest review round: (mean of the submitted sheets, result text). A veto
    makes the score 0; the chair's adjudication replaces the mean."""
    if not sheets:
        return None, ""
    _course_id, round_id, avg, count, vetoes = sheets[-1]
    adjudicated = {r: p for _c, r, p in adjudications}
    if vetoes:
        return 0, _("一票否决（%(n)d 位专家已评）") % {"n": count}
    if round_id in adjudicated:
        return float(adjudicated[round_id]), _("组长裁定（%(n)d 位专家已评）") % {"n": count}
    if avg is None:
        return None, ""
    score = Decimal(str(avg)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return float(score), _("%(n)d 位专家已评") % {"n": count}


class _Places:
    """County and city of a school from its path, with the units above schools read once."""

    def __init__(self):
        self.units = {pk: (name, kind) for pk, name, kind in
                      Unit.objects.exclude(kind=UnitKind.SCHOOL).values_list("pk", "name", "kind")}
        self._cache: dict[str, tuple[str, str]] = {}
        self._schools: dict[str, tuple[str, str, str]] = {}

    def school(self, name: str, path: str) -> tuple[str, str, str]:
        """(学校, 区县, 地市) of the school at ``path``."""
        hit = self._schools.get(path)
        if hit is None:
            if len(self._schools) > 100_000:  # bounded, whatever the number of schools
                self._schools.clear()
            hit = self._schools[path] = (name, *self.of(path))
        return hit

    def of(self, path: str) -> tuple[str, str]:
        hit = self._cache.get(path)
        if hit is None:
            county = city = ""
            for part in path.strip("/").split("/"):
                unit = self.units.get(int(part)) if part.isdigit() else None
                if unit and unit[1] == UnitKind.COUNTY:
                    county = unit[0]
                elif unit and unit[1] == UnitKind.CITY:
                    city = unit[0]
            hit = self._cache[path] = (county, city)
            if len(self._cache) > 100_000:  # bounded, whatever the number of schools
                self._cache.clear()
        return hit


def _nodes(scope_nodes) -> dict[int, tuple[str, str, str, str]]:
    """Per catalog node of the export's courses: (学段, 年级, 学科, 目录节点 text) — as many as the
    catalog has lessons in use, whatever the number of courses."""
    stages = {v: str(label) for v, label in Stage.choices}
    out = {}
    for pk, stage, system, grade, subject, book_title, version, volume, edition, label_path, title in (
            CatalogNode.objects.filter(pk__in=scope_nodes).order_by().values_list(*_NODE_FIELDS)
            .iterator(chunk_size=BATCH)):
        book = ((book_title or catalog_rules.textbook_title(version, subject, grade, volume))
                + catalog_rules.textbook_suffix(stage, system, edition))
        out[pk] = (stages.get(stage, stage), grade, subject, f"{book} › {label_path or title}")
    return out


def _row_groups(actor, filters: dict) -> Iterator[tuple]:
    """The export's rows in the order the courses were declared (id), one row of each query in
    memory at a time: the courses and, beside them, one stream per kind of to-many data. The loop
    does per course only what differs per course: lookups, the merge, one tuple. Columns that come
    from what courses share come as groups (tuples), the same for every course that shares them:
    (序号, (遴选活动, 类别), (学段, 年级, 学科, 目录节点), 课程名称, 主讲教师, 团队成员, (学校, 区县, 地市),
    (课时数, 申报状态, 文件检测), (学校推荐, 区县推荐, 地市推荐, 省级推荐), 评审平均分, 评审结果, (提交时间,))."""
    scope = courses(actor, filters).order_by()
    places = _Places()
    minutes = _LocalMinutes()
    levels_of = _LevelTexts().of
    categories = {v: str(label) for v, label in Category.choices}
    statuses = {v: str(label) for v, label in CourseStatus.choices}
    compliance = {k: str(v) for k, v in selection_rules.COMPLIANCE_LABELS.items()}
    none_label = compliance[selection_rules.Compliance.NONE]
    titles = dict(Campaign.objects.filter(pk__in=scope.values("campaign_id")).order_by().values_list("pk", "title"))
    campaigns: dict[tuple, tuple[str, str]] = {}
    standings: dict[tuple, tuple[int, str, str]] = {}
    nodes = _nodes(scope.values("node_id"))
    main = (scope.order_by("pk").values_list(*_FIELDS, _UtcMinute("submitted_at"))
            .iterator(chunk_size=BATCH))
    streams = _streams(scope.values("pk"))
    members, levels = streams["members"].take, streams["levels"].take
    sheets, adjudications = streams["sheets"].take, streams["adjudications"].take
    for number, (pk, campaign_id, category, node_id, title, lead_name, lead_user, school, school_path, periods,
                 status, check, submitted) in enumerate(main, 1):
        campaign = campaigns.get((campaign_id, category))
        if campaign is None:
            campaign = campaigns[campaign_id, category] = (titles[campaign_id], categories.get(category, category))
        standing = standings.get((periods, status, check))
        if standing is None:
            standing = standings[periods, status, check] = (periods, statuses.get(status, status),
                                                            compliance.get(check, none_label))
        review = sheets(pk)
        score, result = _review(review, adjudications(pk)) if review else (None, "")
        yield (
            number, campaign, nodes[node_id], title, lead_name or lead_user,
            "、".join([real_name or username for _c, real_name, username in members(pk)]),
            places.school(school, school_path), standing, levels_of(levels(pk)), score, result, minutes[submitted],
        )


def rows(actor, filters: dict) -> Iterator[tuple]:
    """The export's rows as plain values, one per column (``COLUMNS``)."""
    for number, campaign, node, title, lead, team, school, standing, levels, score, result, submitted in (
            _row_groups(actor, filters)):
        yield (number, *campaign, *node, title, lead, team, *school, *standing, *levels, score, result, *submitted)


def sheet_rows(actor, filters: dict) -> Iterator[tuple]:
    """The rows as the sheet takes them: each group of shared columns written once as XML cells
    (``xlsx.cells``) and reused for every course that shares it, so the writer fills and checks
    per row only what is the course's own."""
    written: dict[tuple, xlsx.Cells] = {}

    def cells(group: tuple) -> xlsx.Cells:
        hit = written.get(group)
        if hit is None:
            if len(written) > 100_000:  # bounded, whatever the number of schools, nodes and minutes
                written.clear()
            hit = written[group] = xlsx.cells(group)
        return hit

    for number, campaign, node, title, lead, team, school, standing, levels, score, result, submitted in (
            _row_groups(actor, filters)):
        yield (number, cells(campaign), cells(node), title, lead, team, cells(school), cells(standing),
               cells(levels), score, result, cells(submitted))


def stream(actor, filters: dict, *, on_rows: Callable[[int], None] | None = None) -> Iterator[bytes]:
    return xlsx.stream(headers(), sheet_rows(actor, filters), sheet_name=str(_("申报课程")), widths=widths(),
                       title=str(_("全部申报导出")), created=timezone.now(), on_rows=on_rows,
                       rows_per_write=ROWS_PER_WRITE)


# --- small: straight back; large: a job -------------------------------------------------------------
def inline_limit() -> int:
    return int(getattr(settings, "EXPORT_INLINE_ROWS", 5000))


def start(actor, data) -> tuple[dict, int, ExportJob | None]:
    """Check the filters and count the rows; above ``inline_limit`` queue a job. Returns
    (filters, rows, job or None). A job of the same filters still running is reused."""
    require_exporter(actor)
    filters = parse_filters(actor, data)
    total = courses(actor, filters).count()
    if total <= inline_limit():
        record(actor, "exports.courses", None, after={"filters": filters, "rows": total})
        return filters, total, None
    running = ExportJob.objects.filter(owner=actor, kind="courses", filters=filters, status__in=[
        ExportJob.Status.QUEUED, ExportJob.Status.RUNNING], updated_at__gte=timezone.now() - STALE_AFTER).first()
    if running is not None:
        return filters, total, running
    job = ExportJob.objects.create(owner=actor, filters=filters, rows_total=total,
                                   filename=filename(actor, filters))
    record(actor, "exports.courses", job, after={"filters": filters, "rows": total, "job": job.pk})
    from exports.tasks import run_export

    run_export.enqueue(job.pk)
    return filters, total, job


def save_progress(job_id: int, done: int) -> None:
    ExportJob.objects.filter(pk=job_id).update(rows_done=done, updated_at=timezone.now())


def run(job_id: int) -> ExportJob:
    """The task: write the workbook to a temporary file as rows come (progress every
    PROGRESS_EVERY rows, at most PROGRESS_STEPS times), then put it into storage."""
    job = ExportJob.objects.select_related("owner").get(pk=job_id)
    if job.status == ExportJob.Status.DONE:
        return job
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, rows_done=0, error="",
                                               updated_at=timezone.now())
    done = last = 0
    step = max(PROGRESS_EVERY, job.rows_total // PROGRESS_STEPS)

    def on_rows(n: int) -> None:
        nonlocal done, last
        done = n
        if n - last >= step:
            last = n
            save_progress(job.pk, n)

    try:
        with tempfile.TemporaryFile(suffix=".xlsx") as handle:
            size = 0
            for chunk in stream(job.owner, job.filters, on_rows=on_rows):
                handle.write(chunk)
                size += len(chunk)
            handle.seek(0)
            job.refresh_from_db()
            job.file.save(os.path.basename(job.filename or "export.xlsx"), File(handle), save=False)
    except Exception as exc:  # noqa: BLE001 - the job says it failed (the owner sees why)
        log.exception("export job %s failed", job.pk)
        ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.FAILED, error=str(exc)[:1000],
                                                   finished_at=timezone.now())
        raise
    job.status, job.size, job.finished_at, job.rows_done, job.rows_total = (
        ExportJob.Status.DONE, size, timezone.now(), done, done)
    job.save(update_fields=["file", "status", "size", "finished_at", "rows_done", "rows_total", "updated_at"])
    return job


# --- the owner's jobs -----------------------------------------------------------------------------------
def jobs_for(actor) -> QuerySet[ExportJob]:
    """Only the owner's own jobs: anyone else's is 404."""
    if not (actor and actor.is_authenticated):
        return ExportJob.objects.none()
    return ExportJob.objects.filter(owner=actor)


def get_job(actor, pk) -> ExportJob:
    job = jobs_for(actor).filter(pk=parse_id(pk) or 0).first()
    if job is None:
        raise Http404(_("未找到该导出任务，或它不是您创建的。"))
    return job


def keep_hours() -> int:
    return int(getattr(settings, "EXPORT_KEEP_HOURS", 48))


def cleanup(now: datetime | None = None) -> dict:
    """Periodic: delete export files (and their jobs) older than EXPORT_KEEP_HOURS."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=keep_hours())
    removed = 0
    for job in ExportJob.objects.filter(Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff)
                                        ).iterator():
        if job.file:
            try:
                job.file.delete(save=False)
            except OSError:
                log.warning("export %s: could not delete %s", job.pk, job.file.name)
        job.delete()
        removed += 1
    if removed:
        log.info("cleanup: %s old exports removed", removed)
    return {"exports": removed}
