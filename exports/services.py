"""全部申报导出: every course the user may see, narrowed by the course list's own filters, as one
streamed XLSX (exports.xlsx) — straight back as the response when small, as a background job
(``ExportJob``) with a progress bar and a stored file when large.

Scope and filters come from ``courses.services.list_courses``, the function the list page uses,
so the export holds exactly the rows the list shows. The rows are read with one query over the
course and its to-one relations (``values_list(...).iterator()``); what a course has many of
(team members, entries per level, file checks, review scores) is read for a batch of
``BATCH`` courses at a time with one query each. So the number of queries grows with N / BATCH,
never with N, and memory holds one batch.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db.models import Avg, Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import record
from campaigns.enums import Category, Stage
from campaigns.models import Campaign
from campaigns.services import campaigns_for
from catalog import rules as catalog_rules
from courses import services as course_services
from courses.models import Course, CourseMember, CourseStatus, Resource
from exports import xlsx
from exports.models import ExportJob
from jingpinke.errors import ServiceError
from jingpinke.inputs import parse_id
from orgs.models import Unit, UnitKind
from selection import rules as selection_rules
from selection.models import Entry, EntryState

log = logging.getLogger("jingpinke.exports")

BATCH = 2000  # courses whose to-many data is read together
PROGRESS_EVERY = 2000  # rows between two progress updates of a job
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
_FIELDS = (
    "pk", "campaign__title", "category", "node__textbook__stage", "node__textbook__school_system",
    "node__textbook__grade", "node__textbook__subject", "node__textbook_id", "node__textbook__title",
    "node__textbook__version", "node__textbook__volume", "node__textbook__edition", "node__label_path",
    "node__title", "title", "lead_teacher__real_name", "lead_teacher__username", "school__name", "school__path",
    "periods_count", "status", "submitted_at",
)


def _batches(iterable: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _members(ids: list[int]) -> dict[int, str]:
    names: dict[int, list[str]] = defaultdict(list)
    for course_id, real_name, username in (CourseMember.objects.filter(course_id__in=ids)
                                           .order_by("course_id", "order", "id")
                                           .values_list("course_id", "user__real_name", "user__username")):
        names[course_id].append(real_name or username)
    return {k: "、".join(v) for k, v in names.items()}


def _compliance(ids: list[int]) -> dict[int, str]:
    statuses: dict[int, list[str]] = defaultdict(list)
    for course_id, status in (Resource.objects.filter(period__course_id__in=ids).order_by()
                              .values_list("period__course_id", "status").distinct()):
        statuses[course_id].append(status)
    return {k: selection_rules.compliance_of(v) for k, v in statuses.items()}


def _levels(ids: list[int], state_labels: dict[str, str]) -> dict[int, dict[str, str]]:
    """Per course and level kind: the entry's state, with the level's award when it was named."""
    result: dict[int, dict[str, str]] = defaultdict(dict)
    for course_id, kind, state, awarded, award_name in (
            Entry.objects.filter(course_id__in=ids).order_by()
            .values_list("course_id", "level__kind", "state", "awarded", "level__award_name")):
        text = state_labels.get(state, state)
        if awarded:
            text = f"{text} · {award_name or _('本级荣誉')}"
        result[course_id][kind] = text
    return result


def _reviews(ids: list[int]) -> dict[int, tuple]:
    """Per course, of its latest review round: (mean of the submitted sheets, result text). A veto
    makes the score 0; the chair's adjudication replaces the mean."""
    from review.models import Adjudication, ScoreSheet

    rounds: dict[int, tuple] = {}
    for course_id, round_id, avg, count, vetoes in (
            ScoreSheet.objects.filter(submitted_at__isnull=False, assignment__entry__entry__course_id__in=ids)
            .order_by().values_list("assignment__entry__entry__course_id", "assignment__entry__round_id")
            .annotate(avg=Avg("total"), n=Count("id"), vetoes=Count("veto"))):
        if course_id not in rounds or round_id > rounds[course_id][0]:
            rounds[course_id] = (round_id, avg, count, vetoes)
    adjudicated = {(c, r): p for c, r, p in Adjudication.objects.filter(round_entry__entry__course_id__in=ids)
                   .values_list("round_entry__entry__course_id", "round_entry__round_id", "points")}
    result = {}
    for course_id, (round_id, avg, count, vetoes) in rounds.items():
        if vetoes:
            result[course_id] = (0, _("一票否决（%(n)d 位专家已评）") % {"n": count})
        elif (course_id, round_id) in adjudicated:
            result[course_id] = (float(adjudicated[(course_id, round_id)]), _("组长裁定（%(n)d 位专家已评）") % {"n": count})
        elif avg is not None:
            score = Decimal(str(avg)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            result[course_id] = (float(score), _("%(n)d 位专家已评") % {"n": count})
    return result


class _Places:
    """County and city of a school from its path, with the units above schools read once."""

    def __init__(self):
        self.units = {pk: (name, kind) for pk, name, kind in
                      Unit.objects.exclude(kind=UnitKind.SCHOOL).values_list("pk", "name", "kind")}
        self._cache: dict[str, tuple[str, str]] = {}

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


def rows(actor, filters: dict) -> Iterator[list]:
    """The export's rows, in the list's order, one batch of to-many data in memory at a time."""
    qs = courses(actor, filters)
    places = _Places()
    tz = ZoneInfo(settings.TIME_ZONE)
    categories = {v: str(label) for v, label in Category.choices}
    stages = {v: str(label) for v, label in Stage.choices}
    statuses = {v: str(label) for v, label in CourseStatus.choices}
    states = {v: str(label) for v, label in EntryState.choices}
    compliance_labels = {k: str(v) for k, v in selection_rules.COMPLIANCE_LABELS.items()}
    none_label = compliance_labels[selection_rules.Compliance.NONE]
    books: dict[int, str] = {}
    number = 0
    for batch in _batches(qs.values_list(*_FIELDS).iterator(chunk_size=BATCH), BATCH):
        ids = [r[0] for r in batch]
        members, checks, levels, reviews = _members(ids), _compliance(ids), _levels(ids, states), _reviews(ids)
        for (pk, campaign, category, stage, system, grade, subject, book_id, book_title, version, volume, edition,
             label_path, node_title, title, lead_name, lead_user, school, school_path, periods, status,
             submitted_at) in batch:
            book = books.get(book_id)
            if book is None:
                book = books[book_id] = ((book_title or catalog_rules.textbook_title(version, subject, grade, volume))
                                         + catalog_rules.textbook_suffix(stage, system, edition))
            county, city = places.of(school_path)
            level = levels.get(pk, {})
            score, result = reviews.get(pk, (None, ""))
            number += 1
            yield [
                number, campaign, categories.get(category, category), stages.get(stage, stage), grade, subject,
                f"{book} › {label_path or node_title}", title, lead_name or lead_user, members.get(pk, ""), school,
                county, city, periods, statuses.get(status, status),
                compliance_labels.get(checks.get(pk), none_label),
                *(level.get(kind, "") for kind in LEVEL_KINDS),
                score, result, submitted_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if submitted_at else "",
            ]


def stream(actor, filters: dict, *, on_rows: Callable[[int], None] | None = None) -> Iterator[bytes]:
    return xlsx.stream(headers(), rows(actor, filters), sheet_name=str(_("申报课程")), widths=widths(),
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
    PROGRESS_EVERY rows), then put it into storage."""
    job = ExportJob.objects.select_related("owner").get(pk=job_id)
    if job.status == ExportJob.Status.DONE:
        return job
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, rows_done=0, error="",
                                               updated_at=timezone.now())
    done = last = 0

    def on_rows(n: int) -> None:
        nonlocal done, last
        done = n
        if n - last >= PROGRESS_EVERY:
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
