"""The demo's copied course: 赤坎区 teacher 李晓梅's 《小小的船》 (湛江市第二十一小学) is copied by a
teacher of 霞山区第一小学, who re-titles her video (his own title card, the first 16 seconds after it
cut) and pastes her lesson plan into his own, then submits; 霞山区's admin, screening for the school,
recommends it to the county. The originality check runs on both courses' video and lesson plan while
the demo loads, so the match is there to see (霞山区's admin ``xs_admin``: /originality/).

The two lesson videos are slide shows (1920×1080, 25 fps, H.264 with AAC silence): every slide is
encoded once as a key frame and the frames that repeat it are the same packets for every slide, so
both videos are made in seconds (a real 10-minute encode would take minutes). Their bitrate is low,
which the checks report as a warning, like the other demo videos'.

Hooks: ``courses.demo`` asks ``original_material`` for the original's video and lesson plan;
``originality.demo.load(campaign)`` runs after ``courses.demo.load(campaign)``."""

from __future__ import annotations

import functools
import itertools
import tempfile
from fractions import Fraction
from pathlib import Path

import av
from av.video.frame import PictureType

ORIGINAL = ("teacher_li", "小小的船")  # 李晓梅, 湛江市第二十一小学 (赤坎区)
ORIGINAL_CARD = ("小小的船", "湛江市第二十一小学  李晓梅")
COPIER = ("teacher_xs_chinese", "陈丽华", "440803001", "语文")  # 霞山区第一小学
COPY_TITLE = "弯弯的月儿小小的船"
SEED = 2024
SECONDS = 610  # 小学: 10–15 minutes
TRIM = 16  # the copier cut the original's first 16 seconds (two slides) after its title card

LESSON_PLAN = (
    "《小小的船》教学设计\n"
    "教学目标：1.认识“的、船、两、头”等11个生字和月字旁、舟字旁2个偏旁，会写“月、儿、头、里”4个字。"
    "2.正确、流利地朗读课文，背诵课文，读出夜空的美和小朋友的快乐。"
    "3.观察插图，借助生活经验想象“弯弯的月儿”像什么，感受儿歌的韵律。\n"
    "教学重点：认读生字，朗读背诵课文。教学难点：读好叠词，读出儿歌的节奏。\n"
    "教学过程：一、猜谜导入。有时落在山腰，有时挂在树梢，有时像个圆盘，有时像把镰刀。学生猜出月亮，"
    "教师出示夜空图，引出课题。二、初读课文，识字正音。自由读课文，圈出生字，同桌互相认读；"
    "开火车读“弯弯的、小小的、闪闪的、蓝蓝的”，体会叠词的妙处。三、品读课文，想象画面。"
    "弯弯的月儿像什么？小朋友坐在月儿上看见了什么？指导学生边做动作边读“我在小小的船里坐，只看见闪闪的星星蓝蓝的天”。"
    "四、指导书写。观察“月、儿、头、里”在田字格中的位置，教师范写，学生描红、临写。"
    "五、课堂小结。今天我们跟着小朋友坐上了月亮船，回家把这首儿歌背给爸爸妈妈听。\n"
    "作业：背诵课文；画一画你心中的月亮船。"
)
COPY_PLAN = (
    "《弯弯的月儿小小的船》教学设计（霞山区第一小学）\n"
    "学情分析：一年级学生刚入学不久，喜欢儿歌和图画，识字量小，注意力集中时间短。\n"
    + LESSON_PLAN.split("\n", 1)[1].replace("猜谜导入", "谜语导入")
    + "\n教学反思：学生对月亮船很感兴趣，朗读热情高，个别学生“船”字读音不准，下节课再巩固。"
)


SLIDE = 8  # seconds per slide (a multiple of it is trimmed)
FPS = 25
OPTIONS = {"preset": "ultrafast", "tune": "zerolatency", "bframes": "0", "g": "1000", "sc_threshold": "0",
           "forced-idr": "1"}


def _encode(pictures) -> tuple[list[bytes], list[bytes]]:
    """Each picture encoded once as a key frame (IDR), and the frames that repeat a picture for one
    slide (identical for every picture: taken from the first). The videos are then joined from these
    packets without encoding again."""
    key_frames, repeats = [], []
    with tempfile.TemporaryDirectory() as tmp, av.open(str(Path(tmp) / "x.mp4"), mode="w", format="mp4") as c:
        s = c.add_stream("h264", rate=FPS)
        s.width, s.height, s.pix_fmt = 1920, 1080, "yuv420p"
        s.options = OPTIONS
        pts = 0
        for n, img in enumerate(pictures):
            frame = av.VideoFrame.from_image(img).reformat(format="yuv420p")
            for k in range(SLIDE * FPS if n == 0 else 1):
                frame.pts, frame.pict_type = pts, (PictureType.I if k == 0 else PictureType.NONE)
                pts += 1
                for p in s.encode(frame):
                    (key_frames if p.is_keyframe else repeats).append(bytes(p))
        for p in s.encode():
            (key_frames if p.is_keyframe else repeats).append(bytes(p))
    return key_frames, repeats[:SLIDE * FPS - 1]


def _silence() -> bytes:
    with tempfile.TemporaryDirectory() as tmp, av.open(str(Path(tmp) / "a.mp4"), mode="w", format="mp4") as c:
        a = c.add_stream("aac", rate=48000)
        a.layout, a.bit_rate = "stereo", 128_000
        t = 0
        while True:  # the first packets carry the encoder's priming; take a steady one
            frame = av.AudioFrame(format="fltp", layout="stereo", samples=1024)
            for plane in frame.planes:
                plane.update(bytes(plane.buffer_size))
            frame.sample_rate, frame.pts = 48000, t
            t += 1024
            for p in a.encode(frame):
                if p.pts is not None and p.pts >= 2048:
                    return bytes(p)


def lecture_pair(original_path, copy_path, *, seed: int = SEED, seconds: int = SECONDS,
                 original_title: tuple[str, ...] = (), copy_title: tuple[str, ...] = (), trim_start: int = TRIM,
                 title_seconds: int = 5) -> tuple[Path, Path]:
    """A lecture (its title card, then a new slide every ``SLIDE`` seconds) and a copy of it with
    another title card whose first ``trim_start`` seconds after the card are cut (and as many more
    at the end, so both keep their length). 1920×1080, 25 fps H.264 with AAC silence."""
    from media.testing import title_card
    from originality.testing import scene

    slides = -(-(seconds - title_seconds + trim_start) // SLIDE)
    pictures = itertools.chain((title_card(1920, 1080, t).to_image() for t in (original_title, copy_title)),
                               (scene(seed, i, 640, 360).resize((1920, 1080)) for i in range(slides)))
    key_frames, repeats = _encode(pictures)
    silence = _silence()
    made = []
    for path, card, first in ((original_path, 0, 0), (copy_path, 1, trim_start // SLIDE)):
        path = Path(path)
        shown = [(card, title_seconds * FPS)]  # (picture, frames)
        left, slide = (seconds - title_seconds) * FPS, first
        while left > 0:
            shown.append((2 + slide, min(left, SLIDE * FPS)))
            left -= shown[-1][1]
            slide += 1
        with av.open(str(path), mode="w", format="mp4") as out:
            v = out.add_stream("h264", rate=FPS)  # the encoder's settings, so that its headers match the packets
            v.width, v.height, v.pix_fmt = 1920, 1080, "yuv420p"
            v.options = OPTIONS
            a = out.add_stream("aac", rate=48000)
            a.layout = "stereo"
            sent, at = 0, 0
            for picture, frames in shown:
                for k, data in enumerate(([key_frames[picture]] + repeats)[:frames]):
                    p = av.Packet(data)
                    p.stream, p.time_base, p.duration, p.is_keyframe = v, Fraction(1, FPS), 1, k == 0
                    p.pts = p.dts = at + k
                    out.mux(p)
                at += frames
                while sent * 1024 * FPS < at * 48000:
                    q = av.Packet(silence)
                    q.stream, q.time_base, q.duration = a, Fraction(1, 48000), 1024
                    q.pts = q.dts = sent * 1024
                    out.mux(q)
                    sent += 1
        made.append(path)
    return tuple(made)


def _docx(lines: list[str]) -> bytes:
    from media.testing import make_docx

    with tempfile.TemporaryDirectory() as tmp:
        return make_docx(Path(tmp) / "plan.docx", lines).read_bytes()


@functools.cache
def _videos() -> tuple[bytes, bytes]:
    """The original lecture and its copy, made together (the slides are encoded once)."""
    with tempfile.TemporaryDirectory() as tmp:
        a, b = lecture_pair(Path(tmp) / "a.mp4", Path(tmp) / "b.mp4",
                            original_title=ORIGINAL_CARD, copy_title=(COPY_TITLE, f"霞山区第一小学  {COPIER[1]}"))
        return a.read_bytes(), b.read_bytes()


def original_material(username: str, title: str) -> dict | None:
    """For the course that gets copied: its lecture video and lesson plan (slot → bytes); None for the
    other demo courses."""
    if (username, title) != ORIGINAL:
        return None
    return {"video": _videos()[0], "lesson_plan": _docx(LESSON_PLAN.split("\n"))}


def load(campaign) -> list:
    """The copying course, submitted and recommended to 赤坎区, and the originality check of both
    courses' video and lesson plan (run here, not left to the worker, so that the match is there as
    soon as the demo is loaded). Idempotent."""
    from django.db import transaction

    from courses import demo as courses_demo
    from courses import services
    from courses.models import Course, Resource
    from orgs.models import User
    from originality.services import check_file
    from selection import services as selection
    from selection.models import Entry, EntryState

    original = Course.objects.filter(campaign=campaign, lead_teacher__username=ORIGINAL[0], title=ORIGINAL[1]).first()
    username, real_name, school, subject = COPIER
    if original is None or Course.objects.filter(campaign=campaign, lead_teacher__username=username,
                                                 title=COPY_TITLE).exists():
        return []
    with transaction.atomic():
        teacher = courses_demo._teacher(username, real_name, school, subject)
        course = services.start_course(teacher, campaign, category="subject", node_id=original.node_id,
                                       title=COPY_TITLE, periods=1)
        video = courses_demo._stored(teacher, "mp4", f"{COPY_TITLE}.mp4", _videos()[1])
        services.attach_file(teacher, course, 1, "video", video.pk)
        plan = courses_demo._stored(teacher, "docx", f"《{COPY_TITLE}》教学设计.docx", _docx(COPY_PLAN.split("\n")))
        services.attach_file(teacher, course, 1, "lesson_plan", plan.pk)
        for slot, kind, name in courses_demo.SUBJECT_DOCUMENTS[1:]:
            services.attach_file(teacher, course, 1, slot, courses_demo._stored(teacher, kind, f"《{COPY_TITLE}》{name}").pk)
        course = services.submit(teacher, course)
        entry = Entry.objects.get(course=course, state=EntryState.PENDING)
        selection.decide(User.objects.get(username="xs_admin"), entry.pk, "recommend")
    files = (Resource.objects.filter(period__course__in=(original, course), slot_kind__in=("video", "lesson_plan"))
             .order_by("file__created_at").values_list("file_id", flat=True))
    for file_id in files:
        check_file(file_id)
    return [course]
