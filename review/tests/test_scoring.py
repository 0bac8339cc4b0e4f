"""The expert's blind scoring page: validation (points range, veto reason), autosave, submit, the
closed window, reopening by the chair only, and blindness of every response an expert reaches
(page, files, autosave, API), with documents and a video whose metadata names the teacher."""

import hashlib
import io
import json
import zipfile
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from audit.models import Event
from courses.models import Period, Resource
from jingpinke.errors import ServiceError
from jingpinke.s3server import served
from media import testing
from media.clean import remaining_metadata
from media.models import CleanCopy, FileKind, StoredFile
from orgs.models import Role
from orgs.tests.factories import member
from review import rules, services
from review.models import Assignment, ReviewRound, RubricItem, ScoreSheet

TEACHER, SCHOOL, COUNTY = "李明华", "湛江市第二十一小学", "赤坎区"
SECRETS = (TEACHER, SCHOOL, COUNTY, "lmh_teacher", "13800000009")
MAXES = [10, 10, 5, 10, 10, 10, 5, 10, 10, 10, 5, 5]  # the shipped 2024 学科课程 rubric


def _stored(owner, path, kind) -> StoredFile:
    data = path.read_bytes()
    key = default_storage.save(f"files/test/{hashlib.sha1(data).hexdigest()}", io.BytesIO(data))
    return StoredFile.objects.create(owner=owner, storage_key=key, original_name=path.name, size=len(data),
                                     sha256=hashlib.sha256(data).hexdigest(), kind=kind)


@pytest.fixture
def teacher(tree):
    return member(tree.school, Role.TEACHER, username="lmh_teacher", real_name=TEACHER, mobile="13800000009")


@pytest.fixture
def files(tmp_path, teacher):
    """A video, a lesson plan (DOCX) and a task sheet (PDF) whose metadata name the teacher and school,
    uploaded under names that name them too."""
    return {
        "video": _stored(teacher, testing.make_tagged_video(tmp_path / f"{TEACHER}_{SCHOOL}_微课.mp4",
                                                            person=TEACHER, school=SCHOOL, seconds=1.0),
                         FileKind.MP4),
        "lesson_plan": _stored(teacher, testing.make_tagged_docx(tmp_path / f"{TEACHER}_教学设计.docx",
                                                                 person=TEACHER, school=SCHOOL), FileKind.DOCX),
        "task_sheet": _stored(teacher, testing.make_tagged_pdf(tmp_path / f"{SCHOOL}_学习任务单.pdf",
                                                               person=TEACHER, school=SCHOOL), FileKind.PDF),
    }


def _make_round(tree, campaign, county_entry, nodes, pool, window, teacher, files, phase="video"):
    entry = county_entry(node=nodes[0], title="认识天地", teacher=teacher)
    period = Period.objects.create(course=entry.course, number=1)
    resources = {kind: Resource.objects.create(period=period, slot_kind=kind, file=stored)
                 for kind, stored in files.items()}
    r = services.create_round(tree.county_admin, campaign, tree.county, title="赤坎区初选 · 学科课程",
                              category="subject", phase=phase, reviewers_per_entry=2, **window)
    services.add_panel_member(tree.county_admin, r, pool[0].pk)
    services.add_panel_member(tree.county_admin, r, pool[1].pk, is_chair=True)
    round_entry = r.round_entries.get()
    a = services.assign(tree.county_admin, r, round_entry.pk, pool[0].pk)
    chair_a = services.assign(tree.county_admin, r, round_entry.pk, pool[1].pk)
    services.publish_round(tree.county_admin, r)
    return r, a, chair_a, resources


@pytest.fixture
def scoring(tree, campaign, county_entry, nodes, pool, window, teacher, files):
    r, a, chair_a, resources = _make_round(tree, campaign, county_entry, nodes, pool, window, teacher, files)
    items = list(RubricItem.objects.filter(dimension__rubric=r.rubric).order_by("dimension__order", "order"))
    return type("S", (), {"round": r, "a": a, "chair_a": chair_a, "resources": resources, "items": items,
                          "expert": pool[0], "chair": pool[1], "other": pool[2]})


def full_points(items, value=None) -> dict:
    return {str(i.pk): str(value if value is not None else i.max_points - 1) for i in items}


def close_window(r: ReviewRound):
    now = timezone.now()
    ReviewRound.objects.filter(pk=r.pk).update(opens_at=now - timedelta(days=5), closes_at=now - timedelta(hours=1))


# --- rules -------------------------------------------------------------------------------------
ITEMS = [rules.SheetItem(1, "目标", Decimal("10"), Decimal("1")), rules.SheetItem(2, "画面", Decimal("20"), Decimal("2"))]


def test_points_must_lie_between_zero_and_the_item_maximum():
    for text in ("-1", "10.1", "abc", "9.55"):
        clean, problems = rules.clean_sheet(ITEMS, [7], raw_points={1: text}, veto_id=None, veto_reason="",
                                            comment="", final=False)
        assert clean is None
        assert [p["message"] for p in problems] == [
            f"“目标”的得分应为 0 到 10 之间的数（最多一位小数），您填的是“{text}”。"]
    clean, problems = rules.clean_sheet(ITEMS, [7], raw_points={1: "0", 2: "20"}, veto_id=None, veto_reason="",
                                        comment=" 好 ", final=True)
    assert problems == []
    assert (clean.points, clean.total, clean.comment) == ({1: Decimal("0"), 2: Decimal("20")}, Decimal("40.0"), "好")


def test_a_draft_may_leave_items_blank_but_a_submitted_sheet_may_not():
    clean, problems = rules.clean_sheet(ITEMS, [7], raw_points={1: "8.5"}, veto_id=None, veto_reason="", comment="",
                                        final=False)
    assert (clean.points, clean.total, problems) == ({1: Decimal("8.5")}, None, [])
    clean, problems = rules.clean_sheet(ITEMS, [7], raw_points={1: "8.5"}, veto_id=None, veto_reason="", comment="",
                                        final=True)
    assert [p["message"] for p in problems] == ["请为“画面”打分（0 到 20 分）。"]


def test_a_veto_needs_its_reason_and_scores_zero():
    _c, problems = rules.clean_sheet(ITEMS, [7], raw_points={}, veto_id=7, veto_reason="  ", comment="", final=True)
    assert [p["message"] for p in problems] == ["选择一票否决时须写明否决理由。"]
    _c, problems = rules.clean_sheet(ITEMS, [7], raw_points={}, veto_id=8, veto_reason="x", comment="", final=True)
    assert [p["message"] for p in problems] == ["请从本轮评价指标的一票否决项中选择。"]
    clean, problems = rules.clean_sheet(ITEMS, [7], raw_points={1: "9"}, veto_id=7, veto_reason="第3分钟概念错误",
                                        comment="", final=True)
    assert (clean.total, clean.veto_id, clean.veto_reason, problems) == (Decimal("0.0"), 7, "第3分钟概念错误", [])


def test_reopen_rule():
    ok = {"is_chair": True, "has_sheet": True, "submitted": True, "window": "open", "reason": "录入有误"}
    assert rules.reopen_problem(**ok) is None
    assert rules.reopen_problem(**{**ok, "is_chair": False}) == "只有本轮评审组组长可以重新开放评分。"
    assert rules.reopen_problem(**{**ok, "reason": " "}) == "请写明重新开放的理由，例如“分项分数录入有误”。"
    assert rules.reopen_problem(**{**ok, "submitted": False}) == "这份评分还没有提交，专家可以直接修改，不需要重新开放。"
    assert rules.reopen_problem(**{**ok, "submitted": False, "window": "closed"}) is None


# --- autosave and submit -------------------------------------------------------------------------
def test_autosave_keeps_a_draft(client, scoring):
    client.force_login(scoring.expert)
    url = reverse("review:score_autosave", args=[scoring.a.pk])
    first, second = scoring.items[:2]
    response = client.post(url, {f"points-{first.pk}": "8.5", f"points-{second.pk}": "", "veto": "", "comment": "草稿"})
    assert response.status_code == 200
    body = response.json()
    assert body["detail"].startswith("已自动保存 ") and body["total"] is None
    sheet = ScoreSheet.objects.get(assignment=scoring.a)
    assert ({s.item_id: s.points for s in sheet.scores.all()}, sheet.comment, sheet.submitted_at) == (
        {first.pk: Decimal("8.5")}, "草稿", None)
    assert Assignment.objects.get(pk=scoring.a.pk).state == "started"
    # A second save replaces the first (the blanked item goes).
    client.post(url, {f"points-{second.pk}": "7", "veto": "", "comment": ""})
    assert {s.item_id: s.points for s in sheet.scores.all()} == {second.pk: Decimal("7")}


def test_autosave_refuses_a_point_out_of_range_and_saves_nothing(client, scoring):
    client.force_login(scoring.expert)
    item = scoring.items[2]  # 5 points
    response = client.post(reverse("review:score_autosave", args=[scoring.a.pk]), {f"points-{item.pk}": "6"})
    assert response.status_code == 400
    assert response.json() == {"detail": f"“{item.name}”的得分应为 0 到 5 之间的数（最多一位小数），您填的是“6”。",
                               "errors": [{"row": item.name, "column": "得分", "message": response.json()["detail"]}]}
    assert not ScoreSheet.objects.filter(assignment=scoring.a).exists()


def test_a_veto_without_reason_is_refused_with_it_the_total_is_zero(client, scoring):
    client.force_login(scoring.expert)
    veto = scoring.round.rubric.vetoes.first()
    url = reverse("review:score", args=[scoring.a.pk])
    response = client.post(url, {"veto": str(veto.pk), "veto_reason": "", "action": "submit"})
    assert response.status_code == 400
    assert "选择一票否决时须写明否决理由。" in response.content.decode()
    response = client.post(url, {"veto": str(veto.pk), "veto_reason": "第 3 分钟把光合作用的产物讲错", "action": "submit"})
    assert response.status_code == 302
    sheet = ScoreSheet.objects.get(assignment=scoring.a)
    assert (sheet.veto_id, sheet.veto_reason, sheet.total) == (veto.pk, "第 3 分钟把光合作用的产物讲错", Decimal("0.0"))


def test_submit_needs_every_item_then_the_sheet_is_final(client, scoring):
    client.force_login(scoring.expert)
    url = reverse("review:score", args=[scoring.a.pk])
    points = full_points(scoring.items)
    missing = dict(points)
    del missing[str(scoring.items[-1].pk)]
    response = client.post(url, {**{f"points-{k}": v for k, v in missing.items()}, "action": "submit"})
    assert response.status_code == 400
    assert f"请为“{scoring.items[-1].name}”打分（0 到 5 分）。" in response.content.decode()
    assert Assignment.objects.get(pk=scoring.a.pk).state == "assigned"

    response = client.post(url, {**{f"points-{k}": v for k, v in points.items()}, "comment": "结构清晰",
                                 "action": "submit"})
    assert response.status_code == 302
    sheet = ScoreSheet.objects.get(assignment=scoring.a)
    assert (sheet.total, sheet.comment, Assignment.objects.get(pk=scoring.a.pk).state) == (
        Decimal(sum(MAXES) - len(MAXES)), "结构清晰", "submitted")
    event = Event.objects.get(action="review.sheet.submit")
    assert (event.actor_id, event.after["total"], event.after["code"]) == (scoring.expert.pk, "88.0", scoring.a.entry.code)
    with pytest.raises(ServiceError) as exc:
        services.save_sheet(scoring.expert, scoring.a.pk, points=points)
    assert exc.value.message == "您已提交这份评分，不能再修改；如确需修改，请联系评审组长重新开放。"
    page = client.get(url).content.decode()
    assert 'data-readonly="1"' in page and 'id="submit"' not in page


def test_after_the_window_closes_sheets_are_final(client, scoring):
    services.save_sheet(scoring.expert, scoring.a.pk, points={str(scoring.items[0].pk): "9"})
    close_window(scoring.round)
    closes = timezone.localtime(ReviewRound.objects.get(pk=scoring.round.pk).closes_at,
                                timezone.get_fixed_timezone(480)).strftime("%Y-%m-%d %H:%M")
    message = f"本轮评审已于 {closes} 截止，评分已是最终结果，不能再保存或提交。"
    client.force_login(scoring.expert)
    response = client.post(reverse("review:score_autosave", args=[scoring.a.pk]),
                           {f"points-{scoring.items[0].pk}": "3"})
    assert (response.status_code, response.json()["detail"]) == (400, message)
    with pytest.raises(ServiceError) as exc:
        services.submit_sheet(scoring.expert, scoring.a.pk, points=full_points(scoring.items))
    assert exc.value.message == message
    assert ScoreSheet.objects.get(assignment=scoring.a).scores.get().points == Decimal("9")


# --- reopening ---------------------------------------------------------------------------------
def test_only_the_chair_reopens_a_sheet_with_a_reason(client, scoring, tree):
    services.submit_sheet(scoring.expert, scoring.a.pk, points=full_points(scoring.items))
    close_window(scoring.round)
    for someone in (scoring.expert, tree.county_admin):
        with pytest.raises(PermissionDenied):
            services.reopen_sheet(someone, scoring.a.pk, "想改")
    with pytest.raises(Exception) as exc:  # an expert outside the panel does not even see the task
        services.reopen_sheet(scoring.other, scoring.a.pk, "想改")
    assert exc.value.__class__.__name__ == "Http404"
    with pytest.raises(ServiceError) as exc:
        services.reopen_sheet(scoring.chair, scoring.a.pk, "  ")
    assert exc.value.message == "请写明重新开放的理由，例如“分项分数录入有误”。"

    client.force_login(scoring.chair)
    response = client.post(reverse("review:chair_sheets", args=[scoring.round.pk]),
                           {"assignment": scoring.a.pk, "reason": "第二项分数录入有误"})
    assert response.status_code == 302
    sheet = ScoreSheet.objects.get(assignment=scoring.a)
    assert (sheet.submitted_at, sheet.reopened_by_id, sheet.reopen_reason, Assignment.objects.get(pk=scoring.a.pk).state
            ) == (None, scoring.chair.pk, "第二项分数录入有误", "started")
    event = Event.objects.get(action="review.sheet.reopen")
    assert (event.actor_id, event.reason, event.before["state"], event.after["state"]) == (
        scoring.chair.pk, "第二项分数录入有误", "submitted", "started")
    # Reopened after the window: the expert corrects and submits again; then it is final again.
    services.submit_sheet(scoring.expert, scoring.a.pk, points=full_points(scoring.items, value=5))
    assert ScoreSheet.objects.get(assignment=scoring.a).total == Decimal("60.0")
    with pytest.raises(ServiceError):
        services.save_sheet(scoring.expert, scoring.a.pk, points={})


def test_the_chair_page_is_the_chairs_only(client, scoring):
    client.force_login(scoring.expert)
    assert client.get(reverse("review:chair_sheets", args=[scoring.round.pk])).status_code == 404
    assert client.post(reverse("review:chair_sheets", args=[scoring.round.pk]),
                       {"assignment": scoring.chair_a.pk, "reason": "x"}).status_code == 403
    client.force_login(scoring.chair)
    page = client.get(reverse("review:chair_sheets", args=[scoring.round.pk])).content.decode()
    assert f'id="sheet-{scoring.a.pk}"' in page and "专家0" in page
    for secret in SECRETS:
        assert secret not in page


# --- the page, its files, blindness --------------------------------------------------------------
def test_the_scoring_page_shows_the_entry_files_and_rubric(client, scoring, django_assert_max_num_queries):
    client.force_login(scoring.expert)
    url = reverse("review:score", args=[scoring.a.pk])
    client.get(url)  # the first open makes the blind copies (immediate task backend in tests)
    with django_assert_max_num_queries(11):
        response = client.get(url)
    page = response.content.decode()
    code = scoring.a.entry.code
    for text in (code, "认识天地", "第一单元 › 第1课", "学科课程 / 小学 / 语文", "目标与内容", "技术规范",
                 "存在科学性错误", f"作品{code}_第1课时_微课视频.mp4", f"作品{code}_第1课时_教学设计.docx",
                 f"作品{code}_第1课时_学习任务单.pdf", 'src="/static/js/scoring.js"', "<video"):
        assert text in page
    assert "<script>" not in page
    for secret in SECRETS + ("微课.mp4", "教学设计.docx\"", "_学习任务单.pdf\""):
        assert secret not in page
    # Another expert, even on the panel, cannot open it.
    client.force_login(scoring.chair)
    assert client.get(url).status_code == 404
    assert client.get(reverse("review:task_file", args=[scoring.a.pk, scoring.resources["video"].pk])).status_code == 404


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("kind,ext", [("lesson_plan", "docx"), ("task_sheet", "pdf"), ("video", "mp4")])
def test_files_are_the_clean_copies_under_neutral_names(client, scoring, tmp_path, kind, ext):
    client.force_login(scoring.expert)
    resource = scoring.resources[kind]
    response = served(client.get(reverse("review:task_file", args=[scoring.a.pk, resource.pk])))
    assert response.status_code == 200
    data = _body(response)
    label = {"lesson_plan": "教学设计", "task_sheet": "学习任务单", "video": "微课视频"}[kind]
    disposition = response["Content-Disposition"]
    name = f"作品{scoring.a.entry.code}_第1课时_{label}.{ext}"
    assert disposition == ("attachment" if ext == "docx" else "inline") + "; filename*=utf-8''" + quote(name)
    copy = CleanCopy.objects.get(source=resource.file)
    assert hashlib.sha256(data).hexdigest() == copy.sha256 != resource.file.sha256
    path = tmp_path / f"served.{ext}"
    path.write_bytes(data)
    assert remaining_metadata(path, ext) == []
    texts = [data]
    if ext == "docx":
        with zipfile.ZipFile(path) as archive:
            texts = [archive.read(n) for n in archive.namelist()]
    for blob in texts:
        for secret in (TEACHER, SCHOOL):
            assert secret.encode("utf-8") not in blob
            assert secret.encode("utf-16-be") not in blob
    for secret in SECRETS:
        assert secret not in disposition and secret not in str(response.headers)


def test_the_video_is_seekable(client, scoring):
    client.force_login(scoring.expert)
    url = reverse("review:task_file", args=[scoring.a.pk, scoring.resources["video"].pk])
    response = served(client.get(url, HTTP_RANGE="bytes=0-99"))
    size = CleanCopy.objects.get(source=scoring.resources["video"].file).size
    assert (response.status_code, response["Content-Range"], response["Content-Length"], response["Content-Type"]) == (
        206, f"bytes 0-99/{size}", "100", "video/mp4")
    assert len(_body(response)) == 100


def test_a_file_without_its_copy_is_being_prepared(client, scoring, monkeypatch):
    monkeypatch.setattr(services, "enqueue_clean_copies", lambda ids: len(list(ids)))  # a busy queue
    client.force_login(scoring.expert)
    page = client.get(reverse("review:score", args=[scoring.a.pk])).content.decode()
    assert page.count("文件正在准备中，请稍后刷新页面。") == 3
    assert reverse("review:task_file", args=[scoring.a.pk, scoring.resources["video"].pk]) not in page
    response = client.get(reverse("review:task_file", args=[scoring.a.pk, scoring.resources["video"].pk]))
    assert response.status_code == 404
    assert not CleanCopy.objects.exists()


def test_a_failed_copy_is_never_served(client, scoring):
    CleanCopy.objects.create(source=scoring.resources["task_sheet"].file, error="无法读取")
    client.force_login(scoring.expert)
    page = client.get(reverse("review:score", args=[scoring.a.pk])).content.decode()
    assert "这个文件暂时不能提供给专家，请联系组织单位。" in page
    assert client.get(reverse("review:task_file", args=[scoring.a.pk, scoring.resources["task_sheet"].pk])
                      ).status_code == 404


def test_publishing_sends_the_files_to_be_cleaned(tree, campaign, county_entry, nodes, pool, window, teacher, files,
                                                  django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _make_round(tree, campaign, county_entry, nodes, pool, window, teacher, files)
    assert sorted(c.source.kind for c in CleanCopy.objects.select_related("source")) == ["docx", "mp4", "pdf"]
    assert all(c.ok for c in CleanCopy.objects.all())


def test_the_design_phase_shows_documents_only(tree, campaign, county_entry, nodes, pool, window, teacher, files,
                                               client):
    _r, a, _c, resources = _make_round(tree, campaign, county_entry, nodes, pool, window, teacher, files,
                                       phase="design")
    client.force_login(pool[0])
    page = client.get(reverse("review:score", args=[a.pk])).content.decode()
    assert "<video" not in page and "微课视频" not in page
    assert client.get(reverse("review:task_file", args=[a.pk, resources["video"].pk])).status_code == 404


# --- the API ---------------------------------------------------------------------------------------
def test_the_api_scores_blind(client, scoring, bearer):
    auth = bearer(scoring.expert)
    base = f"/api/v1/review/my/tasks/{scoring.a.pk}"
    response = client.get(f"{base}/sheet", **auth)
    assert response.status_code == 200
    body = response.json()
    assert (body["task"]["code"], body["can_edit"], [f["name"] for f in body["files"]]) == (
        scoring.a.entry.code, True, [f"作品{scoring.a.entry.code}_第1课时_{x}" for x in
                                     ("微课视频.mp4", "教学设计.docx", "学习任务单.pdf")])
    assert [i["max_points"] for d in body["rubric"]["dimensions"] for i in d["items"]] == [str(m) for m in MAXES]
    first = body["rubric"]["dimensions"][0]["items"][0]["id"]
    response = client.put(f"{base}/sheet", json.dumps({"points": {str(first): "11"}}), content_type="application/json",
                          **auth)
    assert response.status_code == 400 and response.json()["detail"].endswith("您填的是“11”。")
    response = client.put(f"{base}/sheet", json.dumps({"points": {str(first): "9.5"}, "comment": "好"}),
                          content_type="application/json", **auth)
    assert (response.status_code, response.json()["points"], response.json()["state"]) == (
        200, {str(first): "9.5"}, "started")
    response = client.post(f"{base}/sheet/submit", json.dumps({"points": full_points(scoring.items)}),
                           content_type="application/json", **auth)
    assert (response.status_code, response.json()["total"], response.json()["state"]) == (200, "88", "submitted")
    file_url = body["files"][1]["url"]
    answer = served(client.get(file_url, **auth))
    assert answer.status_code == 200
    texts = []
    for url in (f"{base}/sheet", "/api/v1/review/my/tasks"):
        texts.append(client.get(url, **auth).content.decode("utf-8"))
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
    # Reopening by API: the chair only.
    reopen = f"/api/v1/review/my/chair/sheets/{scoring.a.pk}/reopen"
    assert client.post(reopen, json.dumps({"reason": "x"}), content_type="application/json", **auth).status_code == 403
    response = client.post(reopen, json.dumps({"reason": "分数录入有误"}), content_type="application/json",
                           **bearer(scoring.chair))
    assert (response.status_code, response.json()["state"], response.json()["reopen_reason"]) == (
        200, "started", "分数录入有误")
    # Another expert's task answers 404.
    assert client.get(f"{base}/sheet", **bearer(scoring.other)).status_code == 404


def test_reopening_the_page_does_not_queue_a_copy_twice(client, scoring, settings):
    from django_tasks_db.models import DBTaskResult

    CleanCopy.objects.all().delete()
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # django-tasks re-reads it
    client.force_login(scoring.expert)
    url = reverse("review:score", args=[scoring.a.pk])
    assert client.get(url).content.decode().count("文件正在准备中，请稍后刷新页面。") == 3
    client.get(url)
    queued = DBTaskResult.objects.filter(task_path="media.tasks.make_clean_copy")
    assert sorted(a["args"][0] for a in queued.values_list("args_kwargs", flat=True)) == sorted(
        str(r.file_id) for r in scoring.resources.values())
