"""A hand-built campaign for the dashboards (Zhanjiang 2024 on the ``tree`` units).

赤坎区 (county) and its school 湛江市第二十一小学:
  A 语文·小学 学科课程 — school: pending
  B 数学·小学 学科课程 — school: recommended → county: pending
  C 物理·初中 实验教学 — school: recommended → county: recommended, awarded 县级精品课 → city: pending
  D 语文·小学 特殊教育 — school: declined
霞山区 (the other county): E 语文·小学 学科课程 — school: recommended → 霞山区: pending

Check findings: A's video fails 分辨率 and warns 帧率; B's video fails 分辨率 and 时长, B's slides warn
(PDF 无文字); E's video fails 时长 (outside 赤坎区).
Review: a 赤坎区 round on B and C — 4 assignments: 2 submitted, 1 started, 1 only proposed; a
霞山区 round on E with 1 assignment, not submitted.
"""

from types import SimpleNamespace

import pytest
from django.utils import timezone

from courses.models import Course, Period, Resource
from media.models import StoredFile
from orgs.models import Role
from orgs.tests.factories import member
from review.models import Assignment, ReviewRound, RoundEntry, Rubric
from selection import services as selection_services
from selection.models import Entry
from selection.tests.conftest import bearer, campaign, nodes  # noqa: F401  (the same campaign and catalog nodes)


def _course(campaign, tree, node, category, school, teacher, title):  # noqa: F811
    course = Course.objects.create(campaign=campaign, category=category, node=node, title=title,
                                   lead_teacher=teacher, school=school, periods_count=1, status="submitted")
    selection_services.enter(teacher, course)
    return course


def _entry(course, kind):
    return Entry.objects.get(course=course, level__kind=kind)


_FILES = iter(range(1, 100000))


def _resource(course, kind, status, findings):
    period, _ = Period.objects.get_or_create(course=course, number=1)
    i = next(_FILES)
    stored = StoredFile.objects.create(owner=course.lead_teacher, storage_key=f"test/{i}", original_name=f"{i}.bin",
                                       size=1, sha256=f"{i:064d}")
    return Resource.objects.create(period=period, slot_kind=kind, file=stored, status=status, findings=findings)


def _finding(rule, level, label):
    return {"rule": rule, "level": level, "label": label, "measured": "", "required": "", "advice": ""}


@pytest.fixture
def story(campaign, tree, nodes):  # noqa: F811  (the fixtures imported above)
    other_school_admin = member(tree.other_school, Role.ADMIN, username="other_school_admin")
    a = _course(campaign, tree, nodes[0], "subject", tree.school, tree.teacher, "A")
    b = _course(campaign, tree, nodes[3], "subject", tree.school, tree.teacher, "B")
    c = _course(campaign, tree, nodes[6], "experiment", tree.school, tree.teacher, "C")
    d = _course(campaign, tree, nodes[1], "special", tree.school, tree.teacher, "D")
    e = _course(campaign, tree, nodes[0], "subject", tree.other_school, tree.other_teacher, "E")
    for course in (b, c):
        selection_services.decide(tree.school_admin, _entry(course, "school").pk, "recommend")
    selection_services.decide(tree.school_admin, _entry(d, "school").pk, "decline", reason="不符合要求")
    selection_services.decide(other_school_admin, _entry(e, "school").pk, "recommend")
    selection_services.decide(tree.county_admin, _entry(c, "county").pk, "recommend")
    selection_services.set_award(tree.county_admin, _entry(c, "county").pk, True)

    _resource(a, "video", "fail", [_finding("resolution", "fail", "分辨率"), _finding("fps", "warn", "帧率"),
                                   _finding("container", "pass", "封装格式")])
    _resource(b, "video", "fail", [_finding("resolution", "fail", "分辨率"), _finding("duration", "fail", "时长")])
    _resource(b, "slides", "warn", [_finding("text", "warn", "文字内容")])
    _resource(c, "slides", "pass", [_finding("pages", "pass", "页数")])
    _resource(e, "video", "fail", [_finding("duration", "fail", "时长")])

    rubric = Rubric.objects.get_or_create(campaign=campaign, category="subject", defaults={"title": "学科课程"})[0]
    now = timezone.now()
    window = {"opens_at": now - timezone.timedelta(days=1), "closes_at": now + timezone.timedelta(days=3)}
    county_level = campaign.levels.get(kind="county")
    experts = [member(tree.city, Role.EXPERT, username=f"reviewer{i}") for i in range(3)]
    r1 = ReviewRound.objects.create(campaign=campaign, level=county_level, unit=tree.county, title="赤坎区初选",
                                    category="subject", rubric=rubric, status="published", **window)
    rb = RoundEntry.objects.create(round=r1, entry=_entry(b, "county"), code="R1-001")
    rc = RoundEntry.objects.create(round=r1, entry=_entry(c, "county"), code="R1-002")
    for expert, entry, state in ((experts[0], rb, "submitted"), (experts[1], rb, "started"),
                                 (experts[2], rc, "submitted"), (experts[0], rc, "proposed")):
        Assignment.objects.create(round=r1, entry=entry, expert=expert, state=state)
    r2 = ReviewRound.objects.create(campaign=campaign, level=county_level, unit=tree.other_county, title="霞山区初选",
                                    category="subject", rubric=rubric, status="published", **window)
    re_ = RoundEntry.objects.create(round=r2, entry=_entry(e, "county"), code="R2-001")
    Assignment.objects.create(round=r2, entry=re_, expert=experts[1], state="assigned")
    return SimpleNamespace(a=a, b=b, c=c, d=d, e=e, round=r1, other_round=r2)
