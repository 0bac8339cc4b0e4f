"""全部申报导出: the rows of the scope and filters exactly, the columns of one course, bad filters,
the large path (job, progress, download, owner only), a query count that does not grow with the
rows, and the cleanup of old files."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from courses.compliance import refresh as refresh_compliance
from courses.models import Course, CourseMember, Period, Resource
from courses.tests.conftest import make_file
from exports import services, xlsx
from exports.models import ExportJob
from jingpinke import periodic
from jingpinke.s3server import body_of, served
from orgs.models import Role
from orgs.tests.factories import member
from review import services as review_services
from review.models import Assignment, PanelMember, ScoreSheet
from selection import services as selection_services
from selection.models import Entry

pytestmark = pytest.mark.django_db
URL = "/exports/courses/"


def sheet(response) -> list[tuple]:
    data = body_of(served(response))  # from the object store when the file is there (S3 mode)
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return [tuple(r) for r in book.active.iter_rows(values_only=True)]


def titles(rows) -> list[str]:
    return sorted(r[7] for r in rows[1:])


@pytest.fixture
def world(tree, campaign, nodes, county_entry):
    """认识天地: 赤坎区's school recommended it (held by the county), two team members, a video with
    a warning and a passing PDF. 秋天: a draft of the same school. 霞山课程: 霞山区's, waiting at its school."""
    a = county_entry(node=nodes[0], title="认识天地")
    course = a.course
    for order, name in enumerate(["王老师", "李老师"], 1):
        CourseMember.objects.create(course=course, user=member(tree.school, Role.TEACHER, real_name=name), order=order)
    period = Period.objects.create(course=course, number=1)
    Resource.objects.create(period=period, slot_kind="video", file=make_file(tree.teacher, "mp4"), status="warn")
    Resource.objects.create(period=period, slot_kind="lesson_plan", file=make_file(tree.teacher), status="pass")
    draft = Course.objects.create(campaign=campaign, category="subject", node=nodes[1], title="秋天",
                                  lead_teacher=tree.teacher, school=tree.school, periods_count=2, status="draft")
    other = Course.objects.create(campaign=campaign, category="subject", node=nodes[3], title="霞山课程",
                                  lead_teacher=tree.other_teacher, school=tree.other_school, periods_count=1,
                                  status="submitted")
    selection_services.enter(tree.other_teacher, other)
    return {"a": a, "course": course, "draft": draft, "other": other}


def test_a_county_admin_exports_exactly_his_county(client, tree, campaign, world):
    client.force_login(tree.county_admin)
    response = client.post(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == services.XLSX_TYPE
    assert "attachment" in response["Content-Disposition"]
    rows = sheet(response)
    assert rows[0] == tuple(services.headers())
    assert titles(rows) == ["秋天", "认识天地"]  # never 霞山区's course
    course = Course.objects.get(pk=world["course"].pk)
    row = next(r for r in rows if r[7] == "认识天地")
    assert row[1:] == (
        campaign.title, "学科课程", "小学", "一年级", "语文", "统编版语文一年级上册 › 第一单元 › 第1课", "认识天地",
        tree.teacher.real_name, "王老师、李老师", "湛江市第二十一小学", "赤坎区", "湛江市", 1, "已提交学校", "有提醒",
        "已推荐", "待处理", None, None, None, None,
        timezone.localtime(course.submitted_at).strftime("%Y-%m-%d %H:%M") if course.submitted_at else None,
    )
    draft = next(r for r in rows if r[7] == "秋天")
    assert draft[13:20] == (2, "草稿", "未上传文件", None, None, None, None)
    assert sorted(r[0] for r in rows[1:]) == [1, 2]


def test_the_submission_time_is_local_to_the_minute(client, tree, world):
    """The database gives the UTC minute, the export writes it in Asia/Shanghai: past midnight here,
    the day before in UTC; seconds dropped, not rounded."""
    Course.objects.filter(pk=world["course"].pk).update(
        submitted_at=datetime(2024, 5, 1, 17, 30, 59, 999999, tzinfo=UTC))
    Course.objects.filter(pk=world["other"].pk).update(submitted_at=None)
    client.force_login(tree.city_admin)
    rows = {r[7]: r for r in sheet(client.post(URL))}
    assert rows["认识天地"][22] == "2024-05-02 01:30"
    assert rows["霞山课程"][22] is None


def test_a_city_admin_exports_the_city_and_the_filters_apply(client, tree, campaign, world):
    client.force_login(tree.city_admin)
    assert titles(sheet(client.post(URL))) == ["秋天", "认识天地", "霞山课程"]
    霞山 = next(r for r in sheet(client.post(URL)) if r[7] == "霞山课程")
    assert 霞山[11:13] == ("霞山区", "湛江市") and 霞山[16] == "待处理"
    assert titles(sheet(client.post(URL + "?status=draft"))) == ["秋天"]
    assert titles(sheet(client.post(URL + f"?campaign={campaign.pk}&status=submitted&page=3"))) == ["认识天地", "霞山课程"]
    client.force_login(tree.other_county_admin)
    assert titles(sheet(client.post(URL))) == ["霞山课程"]
    client.force_login(tree.school_admin)
    assert titles(sheet(client.post(URL))) == ["秋天", "认识天地"]


@pytest.mark.parametrize("query,words", [
    ("?status=bogus", ["状态", "bogus", "submitted"]),
    ("?campaign=abc", ["遴选活动", "abc"]),
    ("?campaign=999999", ["找不到", "999999"]),
])
def test_bad_filter_values_are_refused_in_chinese(client, tree, world, query, words):
    client.force_login(tree.city_admin)
    response = client.post(URL + query)
    assert response.status_code == 400
    text = response.content.decode()
    for word in words:
        assert word in text
    assert not ExportJob.objects.exists()


def test_only_administrators_export(client, tree, world):
    assert client.post(URL).status_code == 302  # to the login page
    client.force_login(tree.teacher)
    assert client.post(URL).status_code == 403
    client.force_login(tree.city_admin)
    assert client.get(URL).status_code == 405


def test_the_list_carries_its_query_string_to_the_export(client, tree, world):
    client.force_login(tree.city_admin)
    page = client.get("/courses/?status=draft").content.decode()
    assert 'action="/exports/courses/?status=draft"' in page
    client.force_login(tree.teacher)
    assert 'id="export-form"' not in client.get("/courses/").content.decode()


def test_review_score_and_result(client, tree, campaign, nodes, county_entry, pool, window, world):
    """The latest round's plain mean of the submitted sheets (2 decimals); a veto gives 0."""
    c = county_entry(node=nodes[2], title="数一数")
    r = review_services.create_round(tree.county_admin, campaign, tree.county, title="赤坎区初选", category="subject",
                                     reviewers_per_entry=3, **window)
    for expert in pool:
        PanelMember.objects.create(round=r, expert=expert)
    veto = r.rubric.vetoes.first()
    submitted = timezone.now() - timedelta(hours=1)
    for entry, values in ((world["a"], [80, 90, 75]), (c, [70, None, 60])):
        re = r.round_entries.get(entry=entry)
        for expert, value in zip(pool, values, strict=True):
            a = Assignment.objects.create(round=r, entry=re, expert=expert, state="submitted")
            ScoreSheet.objects.create(assignment=a, total=Decimal(value or 0), submitted_at=submitted,
                                      veto=veto if value is None else None, veto_reason="讲错了" if value is None else "")
    client.force_login(tree.county_admin)
    rows = {r[7]: r for r in sheet(client.post(URL))}
    assert rows["认识天地"][20:22] == (81.67, "3 位专家已评")
    assert rows["数一数"][20:22] == (0, "一票否决（3 位专家已评）")
    assert rows["秋天"][20:22] == (None, None)


def test_a_large_export_becomes_a_job_with_progress_and_a_download(client, tree, world, settings):
    settings.EXPORT_INLINE_ROWS = 2
    client.force_login(tree.city_admin)
    response = client.post(URL + "?status=")
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/exports/{job.pk}/"
    assert (job.owner, job.filters, job.status, job.rows_done, job.rows_total) == (tree.city_admin, {}, "done", 3, 3)
    page = client.get(f"/exports/{job.pk}/").content.decode()
    assert '<progress max="100" value="100">' in page and f'href="/exports/{job.pk}/download/"' in page
    assert "hx-trigger" not in page  # done: no more polling
    assert titles(sheet(client.get(f"/exports/{job.pk}/download/"))) == ["秋天", "认识天地", "霞山课程"]
    assert job.filename in client.get("/exports/").content.decode()
    for other in (tree.county_admin, tree.teacher, tree.province_admin):
        client.force_login(other)
        for suffix in ("", "progress/", "download/"):
            assert client.get(f"/exports/{job.pk}/{suffix}").status_code == 404
        assert job.filename not in client.get("/exports/").content.decode()


def test_a_running_job_polls_its_progress(client, tree, world):
    job = ExportJob.objects.create(owner=tree.city_admin, filters={}, rows_total=200, rows_done=50, status="running")
    client.force_login(tree.city_admin)
    fragment = client.get(f"/exports/{job.pk}/progress/").content.decode()
    assert f'hx-get="/exports/{job.pk}/progress/" hx-trigger="every 2s"' in fragment
    assert '<progress max="100" value="25">' in fragment and "download" not in fragment
    assert client.get(f"/exports/{job.pk}/download/").status_code == 404


def test_progress_advances_as_rows_are_written(tree, world, monkeypatch):
    seen = []
    monkeypatch.setattr(services, "PROGRESS_EVERY", 1)
    monkeypatch.setattr(services, "ROWS_PER_WRITE", 1)
    real = services.save_progress
    monkeypatch.setattr(services, "save_progress", lambda job_id, done: (seen.append(done), real(job_id, done)))
    job = ExportJob.objects.create(owner=tree.city_admin, filters={"status": "submitted"}, rows_total=2)
    services.run(job.pk)
    job.refresh_from_db()
    assert seen == [1, 2]
    assert (job.status, job.rows_done, job.rows_total, job.percent) == ("done", 2, 2, 100)
    assert job.size == job.file.size > 0


def test_a_large_job_writes_its_progress_a_bounded_number_of_times(tree, campaign, nodes, world, monkeypatch):
    """Each progress update is a committed UPDATE: a job makes at most PROGRESS_STEPS of them,
    however many rows it writes, and they advance to the end."""
    _more_courses(tree, campaign, nodes, 60)
    seen = []
    monkeypatch.setattr(services, "PROGRESS_EVERY", 1)
    monkeypatch.setattr(services, "PROGRESS_STEPS", 10)
    monkeypatch.setattr(services, "ROWS_PER_WRITE", 1)
    monkeypatch.setattr(services, "save_progress", lambda job_id, done: seen.append(done))
    job = ExportJob.objects.create(owner=tree.city_admin, filters={}, rows_total=63)
    services.run(job.pk)
    assert seen == list(range(6, 61, 6))  # every 63 // 10 rows
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.percent) == ("done", 63, 100)


def test_a_failed_job_says_why(tree, world, monkeypatch):
    monkeypatch.setattr(services, "sheet_rows", lambda actor, filters: iter([[1, object.__new__(BrokenText)]]))
    job = ExportJob.objects.create(owner=tree.city_admin, filters={})
    with pytest.raises(RuntimeError):
        services.run(job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "坏了" in job.error


class BrokenText:
    def __str__(self):
        raise RuntimeError("坏了")


def _more_courses(tree, campaign, nodes, n):
    courses = Course.objects.bulk_create([
        Course(campaign=campaign, category="subject", node=nodes[i % 3], title=f"批量{i}", lead_teacher=tree.teacher,
               school=tree.school, periods_count=1, status="submitted") for i in range(n)])
    CourseMember.objects.bulk_create([CourseMember(course=c, user=tree.other_teacher) for c in courses])
    level = campaign.levels.get(kind="school")
    Entry.objects.bulk_create([Entry(campaign_id=level.campaign_id, course=c, level=level, unit=tree.school, node=c.node) for c in courses])
    periods = Period.objects.bulk_create([Period(course=c, number=1) for c in courses])
    stored = make_file(tree.teacher)
    Resource.objects.bulk_create([Resource(period=p, slot_kind="lesson_plan", file=stored, status="pass")
                                  for p in periods])
    refresh_compliance([c.pk for c in courses])  # bulk inserts skip the signals that keep Course.compliance


def test_the_query_count_does_not_grow_with_the_rows(tree, campaign, nodes, world):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            data = b"".join(services.stream(tree.city_admin, {}))
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        return len(ctx.captured_queries), sum(1 for _ in book.active.iter_rows()) - 1

    count()  # the user's memberships are read once and kept on the user
    small = count()
    _more_courses(tree, campaign, nodes, 60)
    large = count()
    assert (small[1], large[1]) == (3, 63)
    # the course list's own membership lookup (its scope reads the user's own courses by id first, see
    # courses.services), its scope's units (courses.services._listed), units, campaigns, catalog nodes,
    # courses, members, entries, review sheets, adjudications: no query per row, per course or per
    # batch of rows
    assert small[0] == large[0] == 10


def test_cleanup_removes_old_files(tree, settings):
    settings.EXPORT_KEEP_HOURS = 48
    now = timezone.now()
    old = ExportJob.objects.create(owner=tree.city_admin, status="done", finished_at=now - timedelta(hours=49))
    old.file.save("old.xlsx", ContentFile(b"x"), save=True)
    name = old.file.name
    fresh = ExportJob.objects.create(owner=tree.city_admin, status="done", finished_at=now - timedelta(hours=47))
    fresh.file.save("fresh.xlsx", ContentFile(b"y"), save=True)
    assert services.cleanup(now) == {"exports": 1}
    assert list(ExportJob.objects.all()) == [fresh]
    assert not default_storage.exists(name) and default_storage.exists(fresh.file.name)
    assert ("exports.tasks.cleanup_exports", 3600) in periodic.REGISTRY


def test_shared_columns_are_written_once_per_distinct_value(tree, campaign, nodes, world, monkeypatch):
    """The sheet takes the same rows as ``rows`` gives, but each group of columns courses share
    (campaign, catalog node, school, standing, levels, submission minute) is written as XML cells
    once per distinct value, not once per row."""
    _more_courses(tree, campaign, nodes, 60)
    plain = list(services.rows(tree.city_admin, {}))
    written = []
    real = xlsx.cells
    monkeypatch.setattr(xlsx, "cells", lambda values: written.append(tuple(values)) or real(values))
    data = b"".join(services.stream(tree.city_admin, {}))
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    assert [tuple(r) for r in book.active.iter_rows(min_row=2, values_only=True)] == [
        tuple(None if v == "" else v for v in r) for r in plain]
    assert len(written) == len(set(written)) < 30  # 63 rows
    groups = {g for r in services._row_groups(tree.city_admin, {}) for g in (r[1], r[2], r[6], r[7], r[8], r[11])}
    assert set(written) == groups


def test_rows_stay_whole_across_batches(tree, campaign, nodes, world, monkeypatch):
    """Members, checks and levels are read per batch of courses: every row gets its own."""
    _more_courses(tree, campaign, nodes, 60)
    monkeypatch.setattr(services, "BATCH", 7)
    rows = list(services.rows(tree.city_admin, {}))
    assert [r[0] for r in rows] == list(range(1, 64))
    batch_rows = [r for r in rows if r[7].startswith("批量")]
    assert len(batch_rows) == 60
    assert {(r[9], r[15], r[16]) for r in batch_rows} == {(tree.other_teacher.real_name, "全部通过", "待处理")}
    assert next(r for r in rows if r[7] == "认识天地")[9] == "王老师、李老师"
