"""Demo courses for the Zhanjiang demo.

- Drafts of the demo teachers, some with small generated documents (probed at once).
- Submitted courses with a complete package: documents and a full-length 1080p lesson video made
  in about a second from one encoded block of its title card (``media.testing.make_long_video``;
  its still picture has a low bitrate, which the report shows as a warning). The schools and
  counties have acted on some of them, so every admin's desk has work: 湛江市第二十一小学 has a
  course to screen, 赤坎区 has courses its schools recommended, 湛江市 has courses from 霞山区 and
  from 湛江市第一中学.

Everything goes through the services, so the demo obeys the same rules as real users.
Idempotent: a teacher's course of the same title is not made twice.

Hook: ``courses.demo.load(campaign)`` after ``catalog.demo.open_demo_nodes(campaign)``.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

# (username, category, subject, grade, node title, course title, periods, documents to attach)
DEMO_COURSES = [
    ("teacher_li", "subject", "语文", "一年级", "1 秋天", "秋天", 2,
     [("lesson_plan", "docx", "《秋天》教学设计.docx"), ("task_sheet", "pdf", "《秋天》学习任务单.pdf"),
      ("slides", "pptx", "《秋天》课件.pptx")]),
    ("teacher_zhou", "subject", "数学", "一年级", None, "数一数", 1, []),
    ("teacher_chen", "experiment", "物理", "八年级", "第3节 平面镜成像", "探究平面镜成像的特点", 1,
     [("experiment_plan", "docx", "平面镜成像实验教学设计.docx")]),
]


def _document(kind: str, name: str) -> bytes:
    from media import testing

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"doc.{kind}"
        if kind == "docx":
            testing.make_docx(path, (name.removesuffix(".docx"), "教学目标：……", "教学过程：……"))
        elif kind == "pptx":
            testing.make_pptx(path, (name.removesuffix(".pptx"), "学习目标", "课堂练习"))
        else:
            # Each its own bytes: one identical PDF in every course would be reported as an exact copy.
            testing.make_pdf(path, pages=2, text=f"Demo {hashlib.sha1(name.encode()).hexdigest()[:8]}")
        return path.read_bytes()


def _video(title: tuple[str, ...], seconds: int) -> bytes:
    from media import testing

    with tempfile.TemporaryDirectory() as tmp:
        return testing.make_long_video(Path(tmp) / "lesson.mp4", seconds=seconds, title=title).read_bytes()


def _stored(owner, kind: str, name: str, data: bytes | None = None):
    from media.models import StoredFile
    from media.services import run_probe

    data = _document(kind, name) if data is None else data
    key = default_storage.save(f"demo/{hashlib.sha256(data).hexdigest()[:16]}-{owner.pk}", ContentFile(data))
    stored = StoredFile.objects.create(owner=owner, storage_key=key, original_name=name, size=len(data),
                                       sha256=hashlib.sha256(data).hexdigest(), kind=kind)
    run_probe(stored.pk)  # small documents: measured now, no worker needed
    stored.refresh_from_db()
    return stored


# Submitted courses: (teacher username, real name, school code, subject, grade, node title,
# category, course title, who acts on it: the admins, in chain order, who recommend it).
SUBMITTED = [
    ("teacher_li", "李晓梅", "440802001", "语文", "一年级", "5 小小的船", "subject", "小小的船", []),
    ("teacher_zhou", "周建华", "440802001", "数学", "一年级", "比大小", "subject", "比大小", ["ck21x_admin"]),
    ("teacher_ck_special", "黄美玲", "440802004", "生活适应", "一年级", "1 我上学了", "special", "我上学了",
     ["ck_admin"]),
    ("teacher_xs_math", "吴海燕", "440803003", "数学", "七年级", "1.1 正数和负数", "subject", "正数和负数",
     ["xs_admin", "xs_admin"]),
    ("teacher_zj1z", "梁志明", "440800001", "英语", "七年级", "Starter Unit 1 Hello!", "subject",
     "Starter Unit 1 Hello! 问候与介绍", ["zj1z_admin"]),
]
SUBJECT_DOCUMENTS = [("lesson_plan", "docx", "教学设计.docx"), ("task_sheet", "pdf", "学习任务单.pdf"),
                     ("slides", "pptx", "课件.pptx"), ("exercises", "pdf", "作业练习.pdf")]


def _teacher(username: str, real_name: str, school_code: str, subject: str):
    from orgs.demo import DEMO_PASSWORD
    from orgs.models import Membership, Role, Unit, User

    school = Unit.objects.get(code=school_code)
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, real_name=real_name)
        user.set_password(DEMO_PASSWORD)
        user.save()
    Membership.objects.get_or_create(user=user, unit=school, role=Role.TEACHER, defaults={"subject": subject})
    return user


def load_submitted(campaign) -> list:
    """Submit the complete demo courses and let the admins named in ``SUBMITTED`` recommend them."""
    from catalog.models import CatalogNode
    from courses import services
    from courses.models import Course
    from orgs.models import User
    from originality import demo as originality_demo
    from selection import services as selection
    from selection.models import Entry, EntryState

    made = []
    for username, real_name, school, subject, grade, node_title, category, title, deciders in SUBMITTED:
        teacher = _teacher(username, real_name, school, subject)
        if Course.objects.filter(campaign=campaign, lead_teacher=teacher, title=title).exists():
            continue
        node = (CatalogNode.objects.filter(openings__campaign=campaign, is_leaf=True, textbook__subject=subject,
                                           textbook__grade=grade, title=node_title)
                .select_related("textbook").order_by("textbook_id").first())
        if node is None:
            continue
        with transaction.atomic():
            course = services.start_course(teacher, campaign, category=category, node_id=node.pk, title=title,
                                           periods=1)
            seconds = 660 if node.textbook.stage == "primary" else 960
            # The course another demo teacher copies has a real lecture and lesson plan (originality.demo).
            material = originality_demo.original_material(username, title) or {}
            video = material.get("video") or _video((title, f"{course.school.name}  {real_name}"), seconds)
            services.attach_file(teacher, course, 1, "video", _stored(teacher, "mp4", f"{title}.mp4", video).pk)
            for slot, kind, name in SUBJECT_DOCUMENTS:
                services.attach_file(teacher, course, 1, slot,
                                     _stored(teacher, kind, f"《{title}》{name}", material.get(slot)).pk)
            course = services.submit(teacher, course)
            for admin in deciders:
                entry = Entry.objects.get(course=course, state=EntryState.PENDING)
                selection.decide(User.objects.get(username=admin), entry.pk, "recommend")
        made.append(course)
    return made


@transaction.atomic
def load(campaign) -> list:
    from catalog.models import CatalogNode
    from courses import services
    from courses.models import Course
    from orgs.models import User

    made = []
    for username, category, subject, grade, node_title, title, periods, documents in DEMO_COURSES:
        teacher = User.objects.filter(username=username).first()
        if teacher is None or Course.objects.filter(campaign=campaign, lead_teacher=teacher, title=title).exists():
            continue
        nodes = CatalogNode.objects.filter(openings__campaign=campaign, is_leaf=True, textbook__subject=subject,
                                           textbook__grade=grade).order_by("textbook_id", "order")
        node = (nodes.filter(title=node_title) if node_title else nodes).first()
        if node is None:
            continue
        course = services.start_course(teacher, campaign, category=category, node_id=node.pk, title=title,
                                       periods=periods)
        for slot, kind, name in documents:
            services.attach_file(teacher, course, 1, slot, _stored(teacher, kind, name).pk)
        made.append(course)
    return made + load_submitted(campaign)
