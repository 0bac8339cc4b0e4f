"""Demo courses for the Zhanjiang demo: drafts of the demo teachers, some with small generated
documents (probed at once), none with a video (a compliant 10-minute 1080p video is too big to
generate while loading a demo). Everything goes through the services, so the drafts obey the
same rules as a teacher's. Idempotent: a teacher's course of the same title is not made twice.

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
            testing.make_pdf(path, pages=2, text="Demo")
        return path.read_bytes()


def _stored(owner, kind: str, name: str):
    from media.models import StoredFile
    from media.services import run_probe

    data = _document(kind, name)
    key = default_storage.save(f"demo/{hashlib.sha256(data).hexdigest()[:16]}-{owner.pk}", ContentFile(data))
    stored = StoredFile.objects.create(owner=owner, storage_key=key, original_name=name, size=len(data),
                                       sha256=hashlib.sha256(data).hexdigest(), kind=kind)
    run_probe(stored.pk)  # small documents: measured now, no worker needed
    stored.refresh_from_db()
    return stored


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
    return made
