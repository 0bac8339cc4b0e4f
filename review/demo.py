"""The demo's review round in progress: 湛江市 reviews the 学科课程 entries it holds at the city level
with 王立平 (``expert_wang``) as chair and reviewer, so that the demo expert has work."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from orgs.models import Unit, User
from review import services
from review.models import ExpertProfile, ReviewRound


def load(campaign, *, admin_username: str = "zj_admin", expert_username: str = "expert_wang") -> ReviewRound | None:
    admin = User.objects.filter(username=admin_username).first()
    expert = User.objects.filter(username=expert_username).first()
    city = campaign.owner
    if admin is None or expert is None:
        return None
    ExpertProfile.objects.update_or_create(user=expert, defaults={
        "work_unit": city, "subjects": ["语文", "数学", "英语", "物理", "化学", "生物", "科学"],
        "stages": ["primary", "junior", "senior"], "max_load": 30})
    level = campaign.levels.filter(kind=city.kind).first()
    if level is None or not services.eligible_entries(level, city, category="subject").exists():
        return None
    now = timezone.now()
    closes = max(level.deadline or now, now) + timedelta(days=7)
    review_round = services.create_round(admin, campaign, Unit.objects.get(pk=city.pk), title="市级遴选 · 学科课程视频评审",
                                         category="subject", phase="video", reviewers_per_entry=1,
                                         opens_at=now - timedelta(days=1), closes_at=closes)
    services.add_panel_member(admin, review_round, expert.pk, is_chair=True)
    for round_entry in review_round.round_entries.all():
        try:
            services.assign(admin, review_round, round_entry.pk, expert.pk)
        except services.ServiceError:
            continue  # a conflict or his load: the demo leaves that entry to another expert
    if review_round.assignments.exists():
        services.publish_round(admin, review_round)
    return review_round
