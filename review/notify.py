"""Notifications and e-mails to experts, blind: they name the round by its neutral title
(``services.neutral_round_title``: level, category, phase), an entry by its neutral code, and link
to the expert's own pages. Never a teacher, school, county, course title or file name, and never
the notification's ``entry`` (nor ``campaign``) link: the notifications page and API render what
those point to.

- ``tasks_published``: one notification per expert when assignments are published (how many
  entries, the deadline; for a 试讲 round the date and place, and that the chair enters scores);
- ``sheet_reopened``: the chair reopened his sheet (code and reason);
- ``reviewer_added``: he was added as a further reviewer of a flagged entry;
- ``send_review_reminders``: 24 hours before a round closes, experts with unsubmitted sheets
  (once per round and expert: a dedupe key), run by notifications.tasks.send_reminders.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.models import Kind
from notifications.services import notify
from orgs.models import User
from review.models import Assignment, AssignmentState, Phase, ReviewRound, RoundStatus

TZ = ZoneInfo("Asia/Shanghai")
REMIND_BEFORE = timedelta(hours=24)


def _local(value: datetime) -> str:
    return value.astimezone(TZ).strftime("%Y-%m-%d %H:%M")


def _round_title(review_round: ReviewRound) -> str:
    from review.services import neutral_round_title  # services imports this module

    return str(neutral_round_title(review_round))


def _lecture_line(review_round: ReviewRound) -> str:
    if review_round.phase != Phase.LECTURE:
        return ""
    return _("试讲日期：%(d)s，地点：%(p)s（各作品的具体时间见“我的评审任务”）。试讲成绩由评审组组长在平台上录入。") % {
        "d": review_round.lecture_date.isoformat() if review_round.lecture_date else "",
        "p": review_round.lecture_place}


def tasks_published(review_round: ReviewRound, counts: dict[int, int]) -> int:
    """One notification per expert: ``counts`` = {expert id: entries just made visible to him}."""
    counts = {x: n for x, n in counts.items() if n}
    if not counts:
        return 0
    title_text = _round_title(review_round)
    link = reverse("review:my")
    sent = 0
    for user in User.objects.filter(pk__in=list(counts)).order_by("pk"):
        body = _("您在“%(r)s”中有 %(n)d 件作品待评审，截止时间 %(t)s（北京时间）。作品以编号显示；请登录平台，在“我的评审任务”中查看。") % {
            "r": title_text, "n": counts[user.pk], "t": _local(review_round.closes_at)}
        lecture = _lecture_line(review_round)
        if lecture:
            body += "\n" + lecture
        sent += len(notify([user], Kind.REVIEW_TASKS, _("新的评审任务：%(r)s") % {"r": title_text}, body, link=link))
    return sent


def published_counts(assignments) -> dict[int, int]:
    return dict(Counter(a.expert_id for a in assignments))


def sheet_reopened(assignment: Assignment, reason: str) -> int:
    """Tell the expert his sheet of entry <code> was reopened, and why (not for a 试讲 round,
    where the chair enters the scores himself)."""
    r = assignment.round
    if r.phase == Phase.LECTURE:
        return 0
    title = _("评分已重新开放：%(code)s") % {"code": assignment.entry.code}
    body = _("评审组组长重新开放了您对作品 %(code)s 的评分（%(r)s），理由：%(why)s。请修改后再次提交。") % {
        "code": assignment.entry.code, "r": _round_title(r), "why": reason.strip()}
    return len(notify([assignment.expert], Kind.REVIEW_REOPENED, title, body,
                      link=reverse("review:score", args=[assignment.pk])))


def reviewer_added(assignment: Assignment) -> int:
    r = assignment.round
    title = _("增加评审任务：%(code)s") % {"code": assignment.entry.code}
    body = _("您被增加为“%(r)s”中作品 %(code)s 的评审专家，截止时间 %(t)s（北京时间）。请登录平台，在“我的评审任务”中查看。") % {
        "r": _round_title(r), "code": assignment.entry.code, "t": _local(r.closes_at)}
    lecture = _lecture_line(r)
    if lecture:
        body += "\n" + lecture
    return len(notify([assignment.expert], Kind.REVIEW_ADDED, title, body, link=reverse("review:my")))


def send_review_reminders(now: datetime | None = None) -> int:
    """Experts with unsubmitted sheets in a published round (not 试讲) closing within 24 hours:
    one reminder per round and expert, however often this runs."""
    now = now or timezone.now()
    rounds = (ReviewRound.objects.filter(status=RoundStatus.PUBLISHED, closes_at__gt=now,
                                         closes_at__lte=now + REMIND_BEFORE, opens_at__lte=now)
              .exclude(phase=Phase.LECTURE).select_related("level"))
    sent = 0
    for r in rounds:
        open_ = Counter(Assignment.objects.filter(round=r).filter(
            Q(state=AssignmentState.ASSIGNED) | Q(state=AssignmentState.STARTED)).values_list("expert_id", flat=True))
        title_text = _round_title(r)
        for user in User.objects.filter(pk__in=list(open_)).order_by("pk"):
            body = _("您在“%(r)s”中还有 %(n)d 件作品的评分未提交，评审将于 %(t)s（北京时间）截止。截止后评分不能再保存或提交。") % {
                "r": title_text, "n": open_[user.pk], "t": _local(r.closes_at)}
            sent += len(notify([user], Kind.REVIEW_DEADLINE, _("评审即将截止：%(r)s") % {"r": title_text}, body,
                               link=reverse("review:my"), dedupe_key=f"review:{r.pk}:deadline"))
    return sent
