"""Fixtures for the courses tests: the Zhanjiang campaign (open, deadlines ahead), the demo
catalog opened in it, a teacher's course, and stored files with chosen probe facts."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from campaigns import services as campaign_services
from campaigns.enums import CampaignStatus
from campaigns.models import Level
from catalog import demo as catalog_demo
from catalog.models import CatalogNode
from courses import services
from media.models import StoredFile

GOOD_VIDEO = {"container": "mp4", "video_codec": "h264", "width": 1920, "height": 1080, "display_aspect": "16:9",
              "fps": 25.0, "video_bitrate_kbps": 8000, "audio_codec": "aac", "audio_bitrate_kbps": 128,
              "duration_s": 720.0}
GOOD_PDF = {"encrypted": False, "pages": 3, "chars": 1200}
GOOD_DOCX = {"encrypted": False, "chars": 800, "paragraphs": 12}
GOOD_PPTX = {"encrypted": False, "slides": 12, "chars": 300}
GOOD = {"mp4": GOOD_VIDEO, "pdf": GOOD_PDF, "docx": GOOD_DOCX, "pptx": GOOD_PPTX}
SUBJECT_SLOTS = ["video", "lesson_plan", "task_sheet", "slides", "exercises"]
SLOT_FILE = {"video": "mp4", "lesson_plan": "docx", "task_sheet": "pdf", "slides": "pptx", "exercises": "pdf"}


def future(days=30):
    return timezone.now() + timedelta(days=days)


@pytest.fixture
def campaign(tree):
    """Zhanjiang 2024 (shipped template), open, every deadline 30 days ahead, demo catalog open."""
    c = campaign_services.create_from_shipped(tree.sysadmin, "zhanjiang-2024", tree.city, status=CampaignStatus.OPEN)
    Level.objects.filter(campaign=c).update(deadline=future(), confirm_deadline=future(40))
    catalog_demo.load()
    catalog_demo.open_demo_nodes(c)
    return c


@pytest.fixture
def maoming(tree):
    c = campaign_services.create_from_shipped(tree.sysadmin, "zhanjiang-2024", tree.other_city,
                                              title="2024年茂名市基础教育精品课遴选", status=CampaignStatus.OPEN)
    Level.objects.filter(campaign=c).update(deadline=future())
    return c


def leaf(campaign, *, subject="语文", grade="一年级", index=0):
    return (CatalogNode.objects.filter(openings__campaign=campaign, textbook__subject=subject, textbook__grade=grade,
                                       is_leaf=True).order_by("textbook_id", "order")[index])


@pytest.fixture
def node(campaign):
    """A primary-school lesson (小学语文一年级上册), open in the campaign."""
    return leaf(campaign)


@pytest.fixture
def junior_node(campaign):
    return leaf(campaign, subject="数学", grade="七年级")


@pytest.fixture
def course(tree, campaign, node):
    return services.start_course(tree.teacher, campaign, category="subject", node_id=node.pk, title="天地人",
                                 periods=1)


def make_file(owner, kind="pdf", *, size=None, probe_status="done", probe=None, name=None, content=None):
    """A StoredFile with real bytes in storage and chosen probe facts (the probe has its own tests)."""
    data = content if content is not None else (b"%PDF-1.4 test " + uuid.uuid4().bytes) * 8
    key = default_storage.save(f"test/{uuid.uuid4().hex}", ContentFile(data))
    return StoredFile.objects.create(
        owner=owner, storage_key=key, original_name=name or f"文件.{kind}", size=size if size is not None else len(data),
        sha256=hashlib.sha256(data).hexdigest(), kind=kind, probe_status=probe_status,
        probe=GOOD.get(kind, {}) if probe is None else probe)


@pytest.fixture
def stored():
    return make_file


def fill(course, user, *, periods=None, overrides=None):
    """Attach good files to every slot of every 课时; ``overrides``: {(n, slot): StoredFile}."""
    overrides = overrides or {}
    for n in range(1, (periods or course.periods_count) + 1):
        for slot in SUBJECT_SLOTS:
            f = overrides.get((n, slot)) or make_file(user, SLOT_FILE[slot])
            services.attach_file(user, course, n, slot, f.pk)


@pytest.fixture
def bearer():
    from api.models import ApiToken

    def issue(user):
        _, raw = ApiToken.issue(user, "t")
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    return issue
