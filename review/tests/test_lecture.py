"""试讲 (LECTURE rounds): the round's date and place are required; each entry's time slot; experts do
not score on the platform; the chair enters each expert's sheet with the experts' own validation,
recorded (entered_by, audit) and counted in the results; the window and the reopen rule; the chair's
page (neutral codes, pinned queries) and the API; permissions and scope."""

import json
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from audit.models import Event
from jingpinke.errors import ServiceError
from review import lecture, services
from review.models import Assignment, PanelMember, RubricItem, ScoreSheet

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
TEACHER_NAME = "甄试讲老师"


@pytest.fixture
def lround(campaign, tree, nodes, county_entry, pool, window):
    """A published 试讲 round of two entries (认识天地, 小小的船); chair pool[0]; pool[1] and pool[2]
    assigned to both entries."""
    tree.teacher.real_name = TEACHER_NAME
    tree.teacher.save(update_fields=["real_name"])
    county_entry(node=nodes[0], title="认识天地")
    county_entry(node=nodes[1], title="小小的船")
    day = timezone.localtime(timezone.now(), TZ).date()
    r = services.create_round(tree.county_admin, campaign, tree.county, title="赤坎区试讲", category="subject",
                              phase="lecture", reviewers_per_entry=2, lecture_date=day, lecture_place="赤坎区教师发展中心 301",
                              **window)
    for i, expert in enumerate(pool):
        PanelMember.objects.create(round=r, expert=expert, is_chair=i == 0)
    for re in r.round_entries.order_by("code"):
        for expert in pool[1:]:
            Assignment.objects.create(round=r, entry=re, expert=expert, state="assigned")
    r.status = "published"
    r.save(update_fields=["status"])
    r.chair, r.experts = pool[0], pool[1:]
    r.items = list(RubricItem.objects.filter(dimension__rubric=r.rubric).order_by("dimension__order", "order", "pk"))
    return r


def full(items, minus=0):
    """Every item at its maximum, the first item ``minus`` points lower."""
    return {str(i.pk): str(i.max_points - (minus if n == 0 else 0)) for n, i in enumerate(items)}


def weighted(items, minus=0):
    return sum((i.max_points - (minus if n == 0 else 0)) * i.weight for n, i in enumerate(items))


def assignment(r, expert, n=0):
    return Assignment.objects.filter(round=r, expert=expert).order_by("entry__code")[n]


# --- the round's date and place ------------------------------------------------------------------
def test_a_lecture_round_needs_its_date_and_place(campaign, tree, nodes, county_entry, window):
    county_entry(node=nodes[0])
    with pytest.raises(ServiceError) as exc:
        services.create_round(tree.county_admin, campaign, tree.county, title="试讲", category="subject",
                              phase="lecture", lecture_place="301", **window)
    assert exc.value.message == "输入有误，请修改后再保存：评审轮次 试讲日期 试讲环节须填写试讲日期。"
    with pytest.raises(ServiceError) as exc:
        services.create_round(tree.county_admin, campaign, tree.county, title="试讲", category="subject",
                              phase="lecture", lecture_date=timezone.now().date(), lecture_place=" ", **window)
    assert [e["message"] for e in exc.value.errors] == ["试讲环节须填写试讲地点。"]


# --- experts do not score ------------------------------------------------------------------------
def test_experts_of_a_lecture_round_cannot_save_or_submit(client, lround, bearer):
    a = assignment(lround, lround.experts[0])
    for final in (False, True):
        with pytest.raises(ServiceError) as exc:
            services.save_sheet(lround.experts[0], a.pk, points=full(lround.items), final=final)
        assert exc.value.message == "试讲环节的成绩由评审组组长在平台上录入，专家不在平台上评分或提交。"
    assert not ScoreSheet.objects.filter(assignment=a).exists()
    client.force_login(lround.experts[0])
    page = client.get(reverse("review:score", args=[a.pk])).content.decode()
    assert "试讲环节的成绩由评审组组长在平台上录入" in page and 'id="submit"' not in page
    response = client.post(f"/api/v1/review/my/tasks/{a.pk}/sheet/submit", json.dumps({"points": full(lround.items)}),
                           content_type="application/json", **bearer(lround.experts[0]))
    assert response.status_code == 400 and response.json()["detail"].startswith("试讲环节的成绩由评审组组长")


# --- the chair enters the sheets -----------------------------------------------------------------
def test_the_chair_enters_and_submits_a_sheet_recorded_and_counted(lround, tree):
    a = assignment(lround, lround.experts[0])
    sheet = lecture.enter_sheet(lround.chair, a.pk, points=full(lround.items, minus=3), comment="讲得清楚")
    assert (sheet.submitted_at, sheet.entered_by, Assignment.objects.get(pk=a.pk).state) == (None, lround.chair,
                                                                                             "started")
    sheet = lecture.enter_sheet(lround.chair, a.pk, points=full(lround.items, minus=3), comment="讲得清楚", final=True)
    assert sheet.total == weighted(lround.items, minus=3) and sheet.submitted_at is not None
    assert Assignment.objects.get(pk=a.pk).state == "submitted"
    events = list(Event.objects.filter(action="review.sheet.enter").order_by("pk"))
    assert [(e.actor_id, e.after["final"], e.after["code"], e.after["expert"]) for e in events] == [
        (lround.chair.pk, False, a.entry.code, a.expert_id), (lround.chair.pk, True, a.entry.code, a.expert_id)]
    b = assignment(lround, lround.experts[1])
    lecture.enter_sheet(lround.chair, b.pk, points=full(lround.items, minus=5), final=True)
    res = services.round_results(tree.county_admin, lround)
    total = float(weighted(lround.items, minus=3) + weighted(lround.items, minus=5)) / 2
    assert res.aggregate.entries[a.entry.entry_id].score == round(total, 2)
    assert res.aggregate.entries[a.entry.entry_id].count == 2


def test_entered_sheets_use_the_experts_validation(lround):
    a = assignment(lround, lround.experts[0])
    first = lround.items[0]
    with pytest.raises(ServiceError) as exc:
        lecture.enter_sheet(lround.chair, a.pk, points={str(first.pk): str(first.max_points + 1)})
    assert exc.value.message.endswith(f"您填的是“{first.max_points + 1}”。")
    veto = lround.rubric.vetoes.first()
    with pytest.raises(ServiceError) as exc:
        lecture.enter_sheet(lround.chair, a.pk, points={}, veto_id=veto.pk, veto_reason=" ", final=True)
    assert exc.value.message == "选择一票否决时须写明否决理由。"
    with pytest.raises(ServiceError) as exc:
        lecture.enter_sheet(lround.chair, a.pk, points={str(first.pk): "1"}, final=True)
    assert exc.value.message.startswith(f"评分有 {len(lround.items) - 1} 处问题，未保存")
    assert not ScoreSheet.objects.filter(assignment=a).exists()
    sheet = lecture.enter_sheet(lround.chair, a.pk, points={}, veto_id=veto.pk, veto_reason="科学性错误", final=True)
    assert (sheet.total, sheet.veto_id) == (Decimal(0), veto.pk)


def test_a_submitted_or_closed_sheet_is_final_until_the_chair_reopens_it(lround):
    a = assignment(lround, lround.experts[0])
    lecture.enter_sheet(lround.chair, a.pk, points=full(lround.items), final=True)
    with pytest.raises(ServiceError) as exc:
        lecture.enter_sheet(lround.chair, a.pk, points=full(lround.items, minus=1), final=True)
    assert exc.value.message.startswith("这份评分已提交；如需更正，请先在“本轮评分情况”中重新开放")
    services.reopen_sheet(lround.chair, a.pk, "第一项录入有误")
    sheet = lecture.enter_sheet(lround.chair, a.pk, points=full(lround.items, minus=1), final=True)
    assert sheet.total == weighted(lround.items, minus=1)
    # After the window closes nothing more is entered.
    b = assignment(lround, lround.experts[1])
    later = lround.closes_at + timedelta(minutes=1)
    with pytest.raises(ServiceError) as exc:
        lecture.enter_sheet(lround.chair, b.pk, points=full(lround.items), now=later)
    assert "截止，成绩已是最终结果，不能再录入" in exc.value.message


def test_only_the_chair_enters_sheets(lround, tree, pool):
    a = assignment(lround, lround.experts[0])
    for outsider in (lround.experts[0], lround.experts[1], tree.county_admin):
        with pytest.raises(Http404):
            lecture.enter_sheet(outsider, a.pk, points=full(lround.items))
    assert not ScoreSheet.objects.filter(assignment=a).exists()


def test_an_unpublished_assignment_is_not_entered(lround, pool):
    re = lround.round_entries.order_by("code").first()
    proposed = Assignment.objects.create(round=lround, entry=re, expert=pool[0], state="proposed")
    with pytest.raises(Http404):
        lecture.enter_sheet(lround.chair, proposed.pk, points={})


def test_sheets_of_a_video_round_are_not_entered_by_the_chair(county_round, pool):
    PanelMember.objects.create(round=county_round, expert=pool[0], is_chair=True)
    a = Assignment.objects.create(round=county_round, entry=county_round.round_entries.first(), expert=pool[1])
    county_round.status = "published"
    county_round.save(update_fields=["status"])
    with pytest.raises(ServiceError) as exc:
        lecture.enter_sheet(pool[0], a.pk, points={})
    assert exc.value.message == "只有试讲环节由组长录入成绩；其他环节由专家本人在平台上评分。"


# --- time slots ------------------------------------------------------------------------------------
def test_admin_and_chair_set_an_entrys_slot_shown_to_its_experts(client, lround, tree):
    re = lround.round_entries.order_by("code").first()
    at = datetime.combine(lround.lecture_date, time(9, 30), tzinfo=TZ)
    lecture.set_lecture_slot(tree.county_admin, lround, re.pk, lecture_at=at, lecture_place="")
    lecture.set_lecture_slot(lround.chair, lround, re.pk, lecture_at=at + timedelta(minutes=30), lecture_place="302 室")
    re.refresh_from_db()
    assert (re.lecture_at, re.lecture_place) == (at + timedelta(minutes=30), "302 室")
    assert Event.objects.filter(action="review.lecture.slot").count() == 2
    with pytest.raises(ServiceError) as exc:
        lecture.set_lecture_slot(lround.chair, lround, re.pk, lecture_at=at + timedelta(days=1))
    assert exc.value.message == f"试讲时间应在本轮的试讲日期 {lround.lecture_date.isoformat()} 当天。"
    with pytest.raises(PermissionDenied):
        lecture.set_lecture_slot(lround.experts[0], lround, re.pk, lecture_at=at)
    task = next(t for t in services.my_tasks(lround.experts[0]) if t.code == re.code)
    assert (task.lecture_at, task.entry_place, task.lecture_place) == (at + timedelta(minutes=30), "302 室",
                                                                       "赤坎区教师发展中心 301")
    client.force_login(lround.experts[0])
    html = client.get(reverse("review:my")).content.decode()
    assert f"{lround.lecture_date:%Y-%m-%d} · 302 室 · 本作品 {lround.lecture_date:%Y-%m-%d} 10:00" in html
    assert "试讲成绩由评审组组长录入。" in html


def test_the_api_task_list_carries_the_slot(client, lround, bearer):
    re = lround.round_entries.order_by("code").first()
    at = datetime.combine(lround.lecture_date, time(9, 30), tzinfo=TZ)
    lecture.set_lecture_slot(lround.chair, lround, re.pk, lecture_at=at, lecture_place="302 室")
    tasks = client.get("/api/v1/review/my/tasks", **bearer(lround.experts[0])).json()
    task = next(t for t in tasks if t["code"] == re.code)
    assert (datetime.fromisoformat(task["lecture_at"]), task["entry_place"], task["lecture_place"],
            task["lecture_date"]) == (at, "302 室", "赤坎区教师发展中心 301", lround.lecture_date.isoformat())
    assert TEACHER_NAME not in json.dumps(tasks, ensure_ascii=False)


# --- the chair's page ------------------------------------------------------------------------------
def test_the_chair_page_lists_codes_and_sheet_forms(client, lround, django_assert_max_num_queries):
    client.force_login(lround.chair)
    url = reverse("review:chair_panel", args=[lround.pk])
    with django_assert_max_num_queries(16):
        response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    codes = list(lround.round_entries.order_by("code").values_list("code", flat=True))
    assert all(code in html for code in codes)
    assert html.count('class="lecture-sheet"') == 4
    assert "赤坎区教师发展中心 301" in html and TEACHER_NAME not in html and "赤坎区试讲" not in html
    # More entries and sheets: the same number of queries.
    a = assignment(lround, lround.experts[0])
    client.post(url, {"action": "enter_submit", "assignment": a.pk, **{f"points-{k}": v for k, v in
                                                                        full(lround.items).items()}, "veto": ""})
    assert ScoreSheet.objects.get(assignment=a).entered_by == lround.chair
    with django_assert_max_num_queries(18):  # + the session's message after the POST
        assert client.get(url).status_code == 200


def test_the_chair_page_query_count_does_not_grow(client, lround, county_entry, nodes,
                                                  pool):
    client.force_login(lround.chair)
    url = reverse("review:chair_panel", args=[lround.pk])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get(url)
    entry = county_entry(node=nodes[3], title="数一数")
    re = lround.round_entries.create(entry=entry, code="R0-999")
    for expert in pool[1:]:
        Assignment.objects.create(round=lround, entry=re, expert=expert, state="assigned")
    with CaptureQueriesContext(connection) as big:
        client.get(url)
    assert len(big) == len(small)


def test_the_chair_page_refuses_others(client, lround, tree):
    url = reverse("review:chair_panel", args=[lround.pk])
    other_admin = tree.other_county_admin
    for user in (lround.experts[0], tree.county_admin, other_admin):
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.post(url, {"action": "enter", "assignment": assignment(lround, lround.experts[0]).pk}
                           ).status_code == 404
    client.force_login(other_admin)
    assert client.get(reverse("review:disagreements", args=[lround.pk])).status_code == 404


def test_the_admin_page_sets_slots(client, lround, tree):
    re = lround.round_entries.order_by("code").first()
    client.force_login(tree.county_admin)
    url = reverse("review:disagreements", args=[lround.pk])
    assert f'id="slot-{re.pk}"' in client.get(url).content.decode()
    client.post(url, {"action": "slot", "entry": re.pk, "lecture_at": f"{lround.lecture_date.isoformat()}T14:00",
                      "lecture_place": ""})
    re.refresh_from_db()
    assert re.lecture_at == datetime.combine(lround.lecture_date, time(14, 0), tzinfo=TZ)
    assert client.post(url, {"action": "enter"}).status_code == 404


# --- API -------------------------------------------------------------------------------------------
def test_the_api_enters_lecture_sheets(client, lround, bearer, tree):
    auth = bearer(lround.chair)
    body = client.get(f"/api/v1/review/my/chair/rounds/{lround.pk}", **auth).json()
    assert body["round_title"] == services.neutral_round_title(lround)
    assert [len(e["sheets"]) for e in body["entries"]] == [2, 2]
    assert TEACHER_NAME not in json.dumps(body, ensure_ascii=False)
    a = body["entries"][0]["sheets"][0]["assignment_id"]
    url = f"/api/v1/review/my/chair/sheets/{a}/entry"
    response = client.put(url, json.dumps({"points": full(lround.items)}), content_type="application/json", **auth)
    assert response.status_code == 200 and response.json()["submitted_at"] is None
    response = client.post(f"{url}/submit", json.dumps({"points": {}}), content_type="application/json", **auth)
    assert response.status_code == 400  # every item needed
    response = client.post(f"{url}/submit", json.dumps({"points": full(lround.items)}), content_type="application/json",
                           **auth)
    assert response.status_code == 200 and response.json()["state"] == "submitted"
    # An expert who is not the chair: 404; slots through the API.
    other = bearer(lround.experts[0])
    assert client.get(f"/api/v1/review/my/chair/rounds/{lround.pk}", **other).status_code == 404
    assert client.put(url, json.dumps({"points": {}}), content_type="application/json", **other).status_code == 404
    re = body["entries"][1]["round_entry_id"]
    response = client.put(f"/api/v1/review/rounds/{lround.pk}/entries/{re}/slot",
                          json.dumps({"lecture_at": f"{lround.lecture_date.isoformat()}T10:00:00",
                                      "lecture_place": "阶梯教室"}), content_type="application/json",
                          **bearer(tree.county_admin))
    assert response.status_code == 200 and response.json()["lecture_place"] == "阶梯教室"
    response = client.put(f"/api/v1/review/rounds/{lround.pk}/entries/{re}/slot", json.dumps({"lecture_at": None}),
                          content_type="application/json", **other)
    assert response.status_code == 404


def test_a_refused_entry_shows_the_form_again_with_what_was_typed(client, lround):
    a = assignment(lround, lround.experts[0])
    first, second = lround.items[:2]
    client.force_login(lround.chair)
    response = client.post(reverse("review:chair_panel", args=[lround.pk]), {
        "action": "enter_submit", "assignment": a.pk, f"points-{first.pk}": "99", f"points-{second.pk}": "4.5",
        "veto": "", "comment": "声音洪亮"})
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="sheet-error-{a.pk}"' in html and "您填的是“99”。" in html
    assert f'name="points-{first.pk}" value="99"' in html and f'name="points-{second.pk}" value="4.5"' in html
    assert ">声音洪亮</textarea>" in html
    assert not ScoreSheet.objects.filter(assignment=a).exists()
