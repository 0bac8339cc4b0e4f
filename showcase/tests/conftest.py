"""Fixtures of the showcase tests: an ended Zhanjiang campaign (a year before the open one) with
published and unpublished courses, files in every slot kind that matters, and an open campaign
whose awarded course must stay private.

Entries are written directly (the chain's services are tested in selection); what matters here is
what the showcase makes of them."""

import hashlib
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from campaigns import services as campaign_services
from campaigns.enums import CampaignStatus
from catalog.models import CatalogNode, Textbook
from courses.models import Course, CourseMember, Period, Resource
from media import testing
from media.models import StoredFile
from media.services import run_probe
from orgs.models import Role
from orgs.tests.factories import member
from selection.models import Entry, EntryState

_VIDEO: dict[str, bytes] = {}


def _video_bytes() -> bytes:
    """A 4-second H.264/AAC clip with its index in front (made once per test run)."""
    if "v" not in _VIDEO:
        with tempfile.TemporaryDirectory() as tmp:
            _VIDEO["v"] = testing.make_video(Path(tmp) / "v.mp4", seconds=4, faststart=True).read_bytes()
    return _VIDEO["v"]


def stored(owner, kind: str, name: str, data: bytes | None = None) -> StoredFile:
    if data is None:
        data = testing.pdf_bytes(text=name)
    digest = hashlib.sha256(data).hexdigest()
    key = default_storage.save(f"test/{digest[:12]}-{owner.pk}-{kind}", ContentFile(data))
    f = StoredFile.objects.create(owner=owner, storage_key=key, original_name=name, size=len(data), sha256=digest,
                                  kind=kind)
    run_probe(f.pk)
    f.refresh_from_db()
    return f


def attach(course: Course, slot: str, f: StoredFile, number: int = 1) -> Resource:
    period = Period.objects.get(course=course, number=number)
    return Resource.objects.create(period=period, slot_kind=slot, file=f, status="pass")


@pytest.fixture
def books(db):
    def book(subject, grade, stage="primary", version="统编版"):
        return Textbook.objects.create(stage=stage, grade=grade, subject=subject, version=version, volume="上册")

    chinese, maths, physics = book("语文", "一年级"), book("数学", "一年级", version="人教版"), book("物理", "八年级", "junior")
    return SimpleNamespace(**{name: CatalogNode.objects.create(textbook=tb, title=title, label_path=f"第一单元 › {title}",
                                                             is_leaf=True)
                              for name, tb, title in (("autumn", chinese, "1 秋天"), ("compare", maths, "比大小"),
                                                      ("mirror", physics, "平面镜成像"))})


def _campaign(tree, status, year_offset):
    return campaign_services.create_from_shipped(tree.sysadmin, "zhanjiang-2024", tree.city, status=status,
                                                 year_offset=year_offset)


@pytest.fixture
def world(tree, books):
    """``ended`` (2023, closed): ``gold`` (县级 and 市级精品课, video, lesson plan, exercises, a team
    member), ``bronze`` (县级 only, 数学, other county), ``plain`` (recommended, never awarded);
    ``current`` (2024, open): ``fresh`` awarded 县级 but the campaign runs."""
    ended = _campaign(tree, CampaignStatus.CLOSED, -1)
    current = _campaign(tree, CampaignStatus.OPEN, 0)
    tree.teacher.real_name = "李晓梅"
    tree.teacher.save()
    tree.other_teacher.real_name = "吴海燕"
    tree.other_teacher.mobile = "13800000009"
    tree.other_teacher.save()
    colleague = member(tree.school, Role.TEACHER, username="colleague", mobile="13912345678", real_name="张丽")

    def course(campaign, title, node, teacher, school, category="subject", awards=()):
        c = Course.objects.create(campaign=campaign, category=category, node=node, title=title, lead_teacher=teacher,
                                  school=school, periods_count=1, status="submitted")
        Period.objects.create(course=c, number=1)
        levels = {lv.kind: lv for lv in campaign.levels.all()}
        chain = [("school", school)] + ([("county", school.parent)] if school.parent.kind == "county" else []) + [
            ("city", tree.city)]
        for kind, unit in chain:
            Entry.objects.create(course=c, level=levels[kind], unit=unit, node=node, state=EntryState.RECOMMENDED,
                                 node_exclusive=False,
                                 awarded=kind in awards, reason="评审意见：内部理由")
        return c

    gold = course(ended, "秋天", books.autumn, tree.teacher, tree.school, awards=("county", "city"))
    CourseMember.objects.create(course=gold, user=colleague, order=1)
    video = stored(tree.teacher, "mp4", "李晓梅-13800000001-秋天.mp4", _video_bytes())
    gold_video = attach(gold, "video", video)
    gold_plan = attach(gold, "lesson_plan", stored(tree.teacher, "pdf", "教学设计-李晓梅.pdf"))
    gold_exercises = attach(gold, "exercises", stored(tree.teacher, "pdf", "作业练习（含答案）.pdf"))
    bronze = course(ended, "比大小", books.compare, tree.other_teacher, tree.other_school, awards=("county",))
    plain = course(ended, "认识钟表", books.compare, tree.teacher, tree.school)
    plain_plan = attach(plain, "lesson_plan", stored(tree.teacher, "pdf", "认识钟表教学设计.pdf"))
    fresh = course(current, "秋天（新）", books.autumn, tree.teacher, tree.school, awards=("county",))
    fresh_plan = attach(fresh, "lesson_plan", stored(tree.teacher, "pdf", "秋天（新）教学设计.pdf"))
    return SimpleNamespace(ended=ended, current=current, gold=gold, bronze=bronze, plain=plain, fresh=fresh,
                           gold_video=gold_video, gold_plan=gold_plan, gold_exercises=gold_exercises,
                           plain_plan=plain_plan, fresh_plan=fresh_plan, colleague=colleague, books=books)
