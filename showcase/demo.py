"""The demo's ended earlier campaign: 湛江市 2023 (the shipped Zhanjiang template one year back),
whose courses went through the chain and were named 县级/市级精品课, so that the public showcase,
the honours and the certificates have content, and the node picker of the 2024 campaign shows an
earlier 精品课 on 《秋天》 and 《比大小》.

Everything goes through the services (start, attach, submit, recommend, award), as real users do:
the campaign is created open with its deadlines moved ahead, the chain runs, then the deadlines go
back to their 2023 dates and the campaign ends (``CampaignStatus.CLOSED``). The public files'
metadata-free copies are made at once (the showcase serves those). Idempotent.

Hook: ``showcase.demo.load()`` after ``orgs.demo.load()`` and ``catalog.demo.load()``.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from campaigns.enums import LEVEL_ORDER, CampaignStatus
from campaigns.models import Campaign, DeadlineOverride, Level

YEAR_OFFSET = -1
# (teacher, real name, school code, subject, grade, node title, category, course title,
#  the admins who recommend it in chain order, the levels whose award it gets: (level kind, admin))
EARLIER = [
    ("teacher_li", "李晓梅", "440802001", "语文", "一年级", "1 秋天", "subject", "秋天",
     ["ck21x_admin", "ck_admin"], [("county", "ck_admin"), ("city", "zj_admin")]),
    ("teacher_zhou", "周建华", "440802001", "数学", "一年级", "比大小", "subject", "比大小",
     ["ck21x_admin"], [("county", "ck_admin")]),
    ("teacher_zj1z", "梁志明", "440800001", "英语", "七年级", "Starter Unit 1 Hello!", "subject",
     "Starter Unit 1 Hello! 问候与介绍", ["zj1z_admin"], [("city", "zj_admin")]),
]


def _shift(campaign: Campaign, delta: datetime.timedelta) -> None:
    fields = ("deadline", "confirm_deadline", "contact_form_deadline")
    for row in [*Level.objects.filter(campaign=campaign), *DeadlineOverride.objects.filter(level__campaign=campaign)]:
        changed = [f for f in fields if getattr(row, f)]
        for f in changed:
            setattr(row, f, getattr(row, f) + delta)
        row.save(update_fields=changed)


def _course(campaign, row) -> object | None:
    from catalog.models import CatalogNode
    from courses import demo as courses_demo
    from courses import services
    from courses.models import Course
    from orgs.models import User
    from selection import services as selection
    from selection.models import Entry, EntryState

    username, real_name, school, subject, grade, node_title, category, title, deciders, awards = row
    teacher = courses_demo._teacher(username, real_name, school, subject)
    if Course.objects.filter(campaign=campaign, lead_teacher=teacher, title=title).exists():
        return None
    node = (CatalogNode.objects.filter(openings__campaign=campaign, is_leaf=True, textbook__subject=subject,
                                       textbook__grade=grade, title=node_title)
            .select_related("textbook").order_by("textbook_id").first())
    if node is None:
        return None
    course = services.start_course(teacher, campaign, category=category, node_id=node.pk, title=title, periods=1)
    seconds = 660 if node.textbook.stage == "primary" else 960
    video = courses_demo._video((title, f"{course.school.name}  {real_name}"), seconds)
    services.attach_file(teacher, course, 1, "video", courses_demo._stored(teacher, "mp4", f"{title}.mp4", video).pk)
    for slot, kind, name in courses_demo.SUBJECT_DOCUMENTS:
        services.attach_file(teacher, course, 1, slot, courses_demo._stored(teacher, kind, f"《{title}》{name}").pk)
    course = services.submit(teacher, course)
    for admin in deciders:
        entry = Entry.objects.get(course=course, state=EntryState.PENDING)
        selection.decide(User.objects.get(username=admin), entry.pk, "recommend")
    for kind, admin in awards:
        entry = Entry.objects.get(course=course, level__kind=kind)
        selection.set_award(User.objects.get(username=admin), entry.pk, True)
        if entry.state == EntryState.PENDING:  # the last level it reached: it stays there, decided
            top = kind == max(campaign.levels.values_list("kind", flat=True), key=LEVEL_ORDER.index)
            selection.decide(User.objects.get(username=admin), entry.pk, "recommend" if top else "decline",
                             reason="" if top else "名额有限，评为县级精品课，未向市推荐。")
    return course


def _issue_certificates(campaign: Campaign) -> int:
    """Each unit that named awards issues its certificates (awards.services, as its admin would from
    the certificates page); without the CJK font for the PDFs the demo goes on without them."""
    from awards import services as awards
    from jingpinke.errors import ServiceError
    from orgs.models import Role, Unit, User
    from selection.models import Entry

    issued = 0
    places = (Entry.objects.filter(course__campaign=campaign, awarded=True).exclude(level__award_name="")
              .values_list("level", "unit").distinct())
    for level_id, unit_id in places:
        level, unit = Level.objects.get(pk=level_id), Unit.objects.get(pk=unit_id)
        admin = User.objects.filter(memberships__unit=unit, memberships__role=Role.ADMIN).order_by("pk").first()
        if admin is None:
            continue
        try:
            job = awards.start_issue(admin, level, unit)
        except ServiceError:
            return issued  # no font for the certificates' PDFs on this machine
        issued += awards.run_issue(job.pk).created
    return issued


@transaction.atomic
def load(city) -> Campaign | None:
    """Create (once) the ended 2023 campaign of ``city`` with its 精品课."""
    from campaigns import demo as campaigns_demo
    from campaigns import services as campaign_services
    from catalog import demo as catalog_demo
    from media.services import make_clean_copy
    from orgs.models import User
    from showcase import services

    doc = campaign_services.shipped_template_doc(campaigns_demo.DEMO_TEMPLATE)
    year = doc["year"] + YEAR_OFFSET
    if Campaign.objects.filter(owner=city, year=year).exists():
        return None
    actor = User.objects.filter(is_superuser=True).order_by("pk").first() or campaigns_demo._SystemActor()
    campaign = campaign_services.create_from_shipped(actor, campaigns_demo.DEMO_TEMPLATE, city,
                                                     year_offset=YEAR_OFFSET, status=CampaignStatus.OPEN)
    catalog_demo.open_demo_nodes(campaign)
    # The chain runs as if in 2023: deadlines ahead while it runs, back to the notice's dates after.
    ahead = campaigns_demo.shift_deadlines(campaign, timezone.localdate())
    for row in EARLIER:
        _course(campaign, row)
    _shift(campaign, -datetime.timedelta(days=ahead))
    campaign.refresh_from_db()
    campaign.description = campaign.description.split("\n\n（演示数据")[0]
    campaign.status = CampaignStatus.CLOSED
    campaign.save(update_fields=["status", "description", "updated_at"])
    _issue_certificates(campaign)
    kinds = list(campaign.public_resource_kinds or ())
    from courses.models import Resource

    for file_id in (Resource.objects.filter(period__course__in=services.published().filter(campaign=campaign),
                                            slot_kind__in=kinds).values_list("file_id", flat=True)):
        make_clean_copy(file_id)
    return campaign
