"""Notifications and e-mails to experts, blind: on publishing (one per expert: neutral round title,
how many entries, deadline, link to /review/my/), on a reopened sheet (code and reason), on being
added as a reviewer, and the deadline reminder 24 h before a round closes (once). None of them
names the teacher, school, county or course, sets the notification's entry or campaign, or lets
the notifications page or API show them to the expert."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from courses.models import Course
from notifications.models import Notification
from orgs.models import Role, Unit, UnitKind
from orgs.tests.factories import member
from review import lecture, services
from review.models import Assignment, PanelMember, ScoreSheet
from review.notify import send_review_reminders
from selection import services as selection_services
from selection.models import Entry

pytestmark = pytest.mark.django_db

TEACHER, SCHOOL, TITLE, TEAM = "甄独特老师", "独一无二实验小学", "绝无仅有的秋天课题", "贾唯一助教"
SECRETS = (TEACHER, SCHOOL, TITLE, TEAM, "赤坎区", "zdt_teacher", "13812345678", "第一单元")


@pytest.fixture
def secret_entries(campaign, tree, nodes):
    """Two entries held by the county from a school, teacher, team member and course titles that
    appear nowhere else."""
    school = Unit.objects.create(name=SCHOOL, code="440802099", kind=UnitKind.SCHOOL, parent=tree.county)
    teacher = member(school, Role.TEACHER, username="zdt_teacher", real_name=TEACHER, mobile="13812345678")
    helper = member(school, Role.TEACHER, username="jwy", real_name=TEAM)
    admin = member(school, Role.ADMIN, username="zdt_admin")
    out = []
    for n, node in enumerate(nodes[:2]):
        course = Course.objects.create(campaign=campaign, category="subject", node=node, title=f"{TITLE}{n}",
                                       lead_teacher=teacher, school=school, periods_count=1, status="submitted")
        course.members.create(user=helper, order=1)
        selection_services.enter(teacher, course)
        selection_services.decide(admin, Entry.objects.get(course=course, level__kind="school").pk, "recommend")
        out.append(Entry.objects.get(course=course, level__kind="county"))
    return out


@pytest.fixture
def experts(pool):
    for n, user in enumerate(pool):
        user.email = f"expert{n}@example.cn"
        user.save(update_fields=["email"])
    return pool


def make_round(campaign, tree, experts, window, **extra):
    r = services.create_round(tree.county_admin, campaign, tree.county, title="赤坎区初选（内部名称）",
                              category="subject", reviewers_per_entry=2, **{**window, **extra})
    for i, expert in enumerate(experts):
        PanelMember.objects.create(round=r, expert=expert, is_chair=i == 0)
    first, second = r.round_entries.order_by("code")
    for re, people in ((first, experts[:2]), (second, experts[1:])):
        for expert in people:
            services.assign(tree.county_admin, r, re.pk, expert.pk)
    return r


@pytest.fixture
def published(campaign, tree, secret_entries, experts, window, django_capture_on_commit_callbacks):
    r = make_round(campaign, tree, experts, window)
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_round(tree.county_admin, r)
    return r


def assert_blind(*texts):
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, (secret, text)


def test_publishing_notifies_each_expert_once_blind(published, experts):
    rows = list(Notification.objects.filter(kind="review_tasks").order_by("recipient_id"))
    assert [n.recipient_id for n in rows] == [x.pk for x in experts]
    title = services.neutral_round_title(published)
    deadline = timezone.localtime(published.closes_at).strftime("%Y-%m-%d %H:%M")
    assert [(n.title, n.link, n.entry_id, n.campaign_id) for n in rows] == [
        (f"新的评审任务：{title}", "/review/my/", None, None)] * 3
    assert [n.body.split("，")[0] for n in rows] == [f"您在“{title}”中有 {k} 件作品待评审" for k in (1, 2, 1)]
    assert f"截止时间 {deadline}（北京时间）" in rows[0].body
    assert_blind(*(n.title + n.body + n.link for n in rows))
    assert "赤坎区初选（内部名称）" not in "".join(n.title + n.body for n in rows)
    assert sorted(m.to[0] for m in mail.outbox) == ["expert0@example.cn", "expert1@example.cn", "expert2@example.cn"]
    assert_blind(*(m.subject + m.body for m in mail.outbox))
    assert all("/review/my/" in m.body for m in mail.outbox)


def test_the_notifications_page_and_api_show_the_expert_nothing_identifying(client, published, experts, bearer):
    client.force_login(experts[1])
    html = client.get(reverse("notifications:list")).content.decode()
    assert "新的评审任务" in html
    assert_blind(html)
    body = client.get("/api/v1/notifications", **bearer(experts[1])).json()
    text = json.dumps(body, ensure_ascii=False)
    assert [(n["kind"], n["entry_id"], n["campaign_id"], n["link"]) for n in body["items"]] == [
        ("review_tasks", None, None, "/review/my/")]
    assert "新的评审任务" in text
    assert_blind(text)
    n = Notification.objects.get(recipient=experts[1])
    response = client.get(reverse("notifications:open", args=[n.pk]))
    assert response.status_code == 302 and response["Location"] == "/review/my/"


def test_publishing_more_assignments_notifies_only_their_experts(published, campaign, tree, nodes, experts):
    Notification.objects.all().delete()
    re = published.round_entries.order_by("code").first()
    services.move_assignment(tree.county_admin, published, "move", re.pk, experts[0].pk, experts[2].pk)
    assert services.publish_assignments(tree.county_admin, published) == 1
    n = Notification.objects.get()
    assert (n.recipient, n.kind) == (experts[2], "review_tasks")
    assert n.body.startswith(f"您在“{services.neutral_round_title(published)}”中有 1 件作品待评审")


def test_a_lecture_round_says_when_where_and_that_the_chair_enters_scores(campaign, tree, secret_entries, experts,
                                                                          window):
    day = timezone.localtime(timezone.now()).date()
    r = make_round(campaign, tree, experts, window, phase="lecture", lecture_date=day, lecture_place="教师发展中心 301")
    services.publish_round(tree.county_admin, r)
    n = Notification.objects.filter(recipient=experts[0]).get()
    assert n.body.endswith(f"试讲日期：{day.isoformat()}，地点：教师发展中心 301（各作品的具体时间见“我的评审任务”）。"
                           "试讲成绩由评审组组长在平台上录入。")
    assert_blind(n.title, n.body)


def test_a_reopened_sheet_is_notified_with_code_and_reason(published, experts, django_capture_on_commit_callbacks):
    a = Assignment.objects.filter(round=published, expert=experts[1]).order_by("entry__code").first()
    items = {str(i.pk): str(i.max_points) for i in services.RubricItem.objects.filter(
        dimension__rubric=published.rubric)}
    services.submit_sheet(experts[1], a.pk, points=items)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.reopen_sheet(experts[0], a.pk, "第三项分数偏高，请复核")
    n = Notification.objects.get(kind="review_reopened")
    assert (n.recipient, n.title, n.entry_id, n.link) == (experts[1], f"评分已重新开放：{a.entry.code}", None,
                                                          reverse("review:score", args=[a.pk]))
    assert "理由：第三项分数偏高，请复核" in n.body
    assert [m.to for m in mail.outbox] == [["expert1@example.cn"]]
    assert_blind(n.title, n.body, mail.outbox[0].subject, mail.outbox[0].body)


def test_an_added_reviewer_is_notified_blind(published, tree, experts, django_capture_on_commit_callbacks):
    """Entry 1 gets a disagreement (60 vs 95); pool[2] is added."""
    first = published.round_entries.order_by("code").first()
    now = timezone.now()
    for expert, total in zip(experts[:2], (60, 95), strict=True):
        a = Assignment.objects.get(entry=first, expert=expert)
        a.state = "submitted"
        a.save(update_fields=["state"])
        ScoreSheet.objects.create(assignment=a, total=Decimal(total), submitted_at=now)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        lecture.add_reviewer(experts[0], published, first.pk, experts[2].pk)
    n = Notification.objects.get(kind="review_added")
    assert (n.recipient, n.title, n.entry_id, n.link) == (experts[2], f"增加评审任务：{first.code}", None, "/review/my/")
    assert [m.to for m in mail.outbox] == [["expert2@example.cn"]]
    assert_blind(n.title, n.body, mail.outbox[0].subject, mail.outbox[0].body)


def test_the_deadline_reminder_reaches_unsubmitted_experts_once(published, experts):
    Notification.objects.all().delete()
    a = Assignment.objects.filter(round=published, expert=experts[0]).get()
    items = {str(i.pk): str(i.max_points) for i in services.RubricItem.objects.filter(
        dimension__rubric=published.rubric)}
    services.submit_sheet(experts[0], a.pk, points=items)
    assert send_review_reminders(published.closes_at - timedelta(hours=30)) == 0  # not yet 24 h
    soon = published.closes_at - timedelta(hours=20)
    assert send_review_reminders(soon) == 2
    assert send_review_reminders(soon + timedelta(hours=1)) == 0  # once
    rows = list(Notification.objects.filter(kind="review_deadline").order_by("recipient_id"))
    assert [n.recipient for n in rows] == experts[1:]
    assert rows[0].body.startswith(f"您在“{services.neutral_round_title(published)}”中还有 2 件作品的评分未提交")
    assert all(n.entry_id is None and n.link == "/review/my/" for n in rows)
    assert_blind(*(n.title + n.body for n in rows))
    assert send_review_reminders(published.closes_at + timedelta(minutes=1)) == 0


def test_the_periodic_task_sends_the_review_reminders(published, experts, settings):
    from notifications.tasks import send_reminders

    Notification.objects.all().delete()
    published.closes_at = timezone.now() + timedelta(hours=5)
    published.save(update_fields=["closes_at"])
    assert send_reminders.enqueue().return_value["review"] == 3
