"""The demo's copied course: 霞山区 teacher 吴海燕's 《正数和负数》 is copied by a teacher of a school in
赤坎区, who re-titles her video (his own title card, the first seconds cut) and pastes her lesson plan
into his own, then submits; his school recommends it to 赤坎区. The originality check runs on both
courses' files while the demo loads, so the match is there to see (赤坎区's admin ``ck_admin``:
/originality/).

The two lesson videos are lecture-like slide shows at 1 frame per second (1920×1080, H.264, AAC):
a real 10-minute encode would take minutes, and signing a 25 fps video of that length decodes every
frame. Their frame rate is therefore reported as a warning, like the other demo videos' bitrate.

Hook: ``originality.demo.load(campaign)`` after ``courses.demo.load(campaign)``."""

from __future__ import annotations

import tempfile
from fractions import Fraction
from pathlib import Path

import av

ORIGINAL = ("teacher_xs_math", "正数和负数")
COPIER = ("teacher_ck_math", "邓国强", "440802001", "数学")
COPY_TITLE = "认识正数和负数"
SEED = 2024
SECONDS = 900  # 七年级: 15–20 minutes
TRIM = 20  # the copier cut the original's first 20 seconds after its title card

LESSON_PLAN = (
    "《正数和负数》教学设计\n"
    "教学目标：1.理解正数和负数的意义，会用正数和负数表示具有相反意义的量。"
    "2.经历从生活情境中抽象出负数的过程，体会数学与生活的联系。"
    "3.在合作交流中感受引入负数的必要性，激发学习数学的兴趣。\n"
    "教学重点：正数和负数的意义。教学难点：用正数和负数表示具有相反意义的量。\n"
    "教学过程：一、情境引入。出示湛江冬季某日的天气预报，最高气温零上8摄氏度，哈尔滨最低气温零下18摄氏度，"
    "提问：零上和零下怎样用数区分？二、探究新知。零上5摄氏度记作+5℃，零下5摄氏度记作-5℃；"
    "像+5、+1.8这样的数叫做正数，像-5、-1.8这样的数叫做负数，0既不是正数也不是负数。"
    "三、生活中的相反意义的量。收入与支出、上升与下降、盈利与亏损、向东与向西，请学生举例并用正负数表示。"
    "四、巩固练习。完成课本第3页练习，说一说每个数表示的意义。五、课堂小结。今天我们认识了什么数？"
    "它们可以用来表示什么？\n作业：课本习题1.1第1、2、3题。"
)
COPY_PLAN = (
    "《认识正数和负数》教学设计（赤坎区）\n"
    "学情分析：七年级学生刚进入初中，对小学学过的数比较熟悉，但对负数只有生活中的零散认识。\n"
    + LESSON_PLAN.split("\n", 1)[1].replace("湛江冬季", "赤坎冬季")
    + "\n教学反思：学生举例积极，个别学生对0的意义理解不清，下节课再巩固。"
)


SCENE = 6  # seconds per slide


def _encode(images, bitrate: int) -> list[bytes]:
    """Every picture as its own key frame (1080p H.264), so the videos can be cut and joined anywhere
    without encoding again."""
    out = []
    with tempfile.TemporaryDirectory() as tmp, av.open(str(Path(tmp) / "x.mp4"), mode="w", format="mp4") as c:
        s = c.add_stream("h264", rate=1)
        s.width, s.height, s.pix_fmt, s.bit_rate = 1920, 1080, "yuv420p", bitrate
        s.options = {"preset": "ultrafast", "g": "1", "bframes": "0"}
        for i, img in enumerate(images):
            frame = av.VideoFrame.from_image(img)
            frame.pts = i
            out += [bytes(p) for p in s.encode(frame)]
        out += [bytes(p) for p in s.encode()]
        extradata = s.codec_context.extradata
    return out, extradata


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
    """A lecture (its title card, then a slide every ``SCENE`` seconds) and a copy of it with another
    title card whose first ``trim_start`` seconds after the card are cut (and as many added at the end, so
    both keep their length). Both are 1920×1080 H.264 with AAC silence; one picture per slide."""
    from media.testing import title_card
    from originality.testing import scene

    slides = -(-(seconds - title_seconds + trim_start) // SCENE)
    cards = [title_card(1920, 1080, t).to_image() for t in (original_title, copy_title)]
    pictures = cards + [scene(seed, i, 640, 360).resize((1920, 1080)) for i in range(slides)]
    packets, extradata = _encode(pictures, 2_000_000)
    silence = _silence()
    shift = trim_start // SCENE
    per_video = -(-(seconds - title_seconds) // SCENE)
    made = []
    for path, card, first in ((original_path, packets[0], 0), (copy_path, packets[1], shift)):
        path = Path(path)
        parts = [(card, 0, title_seconds)] + [
            (packets[2 + first + k], title_seconds + k * SCENE, min(SCENE, seconds - title_seconds - k * SCENE))
            for k in range(per_video)]
        with av.open(str(path), mode="w", format="mp4") as out:
            v = out.add_stream("h264", rate=1)
            # The same settings as the encoder that made the packets, so its headers (SPS/PPS) match them.
            v.width, v.height, v.pix_fmt, v.bit_rate = 1920, 1080, "yuv420p", 2_000_000
            v.options = {"preset": "ultrafast", "g": "1", "bframes": "0"}
            a = out.add_stream("aac", rate=48000)
            a.layout = "stereo"
            sent = 0
            for data, at, length in parts:
                p = av.Packet(data)
                p.stream, p.time_base, p.pts, p.dts, p.duration, p.is_keyframe = v, Fraction(1, 1), at, at, length, True
                out.mux(p)
                while sent * 1024 < (at + length) * 48000:
                    q = av.Packet(silence)
                    q.stream, q.time_base, q.duration = a, Fraction(1, 48000), 1024
                    q.pts = q.dts = sent * 1024
                    out.mux(q)
                    sent += 1
        made.append(path)
    return tuple(made)
