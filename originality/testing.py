"""Generated lecture-like videos and their copies, for the tests and `make bench` (nothing binary is
committed). A "lecture" is a sequence of scenes (a slide of coloured blocks and lines with a moving
pointer), different for each seed; copies are made the way people make them: re-encoded at another
size and bitrate, trimmed at either end, given a new title card, cropped."""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageDraw

SCENE_SECONDS = 4


def scene(seed: int, index: int, width: int, height: int) -> Image.Image:
    rnd = random.Random(seed * 1000 + index)
    img = Image.new("RGB", (width, height), tuple(rnd.randrange(40, 220) for _ in range(3)))
    d = ImageDraw.Draw(img)
    for _ in range(8):
        x0, y0 = rnd.randrange(width), rnd.randrange(height)
        x1, y1 = x0 + rnd.randrange(width // 8, width // 2), y0 + rnd.randrange(height // 8, height // 2)
        d.rectangle((x0, y0, x1, y1), fill=tuple(rnd.randrange(256) for _ in range(3)))
    for _ in range(6):
        d.line((rnd.randrange(width), rnd.randrange(height), rnd.randrange(width), rnd.randrange(height)),
               fill=tuple(rnd.randrange(256) for _ in range(3)), width=max(2, width // 80))
    return img


def title(text_seed: int, width: int, height: int) -> Image.Image:
    rnd = random.Random(-text_seed)
    img = Image.new("RGB", (width, height), (20, 40, 120))
    d = ImageDraw.Draw(img)
    for k in range(5):
        d.rectangle((width // 6, height // 4 + k * height // 10, width // 6 + rnd.randrange(width // 3, 2 * width // 3),
                     height // 4 + k * height // 10 + height // 25), fill=(240, 240, 240))
    return img


def lecture_frames(seed: int, seconds: int, width: int, height: int, fps: int, title_seconds: int = 5,
                   title_seed: int | None = None):
    for i in range(seconds * fps):
        t = i / fps
        if t < title_seconds:
            yield title(seed if title_seed is None else title_seed, width, height)
            continue
        img = scene(seed, int((t - title_seconds) // SCENE_SECONDS), width, height)
        d = ImageDraw.Draw(img)
        x = int((t % SCENE_SECONDS) / SCENE_SECONDS * width)
        d.ellipse((x, height // 2, x + width // 20, height // 2 + width // 20), fill=(255, 0, 0))
        yield img


def write(path, frames, width: int, height: int, fps: int, bitrate: int | None = None) -> Path:
    path = Path(path)
    with av.open(str(path), "w") as out:
        s = out.add_stream("h264", rate=Fraction(fps))
        s.width, s.height, s.pix_fmt = width, height, "yuv420p"
        s.options = {"preset": "ultrafast"}
        if bitrate:
            s.bit_rate = bitrate
        for i, img in enumerate(frames):
            frame = av.VideoFrame.from_image(img.resize((width, height)) if img.size != (width, height) else img)
            frame.pts = i
            for p in s.encode(frame):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return path


def lecture(path, seed: int, seconds: int = 60, width: int = 320, height: int = 180, fps: int = 5, **kw) -> Path:
    return write(path, lecture_frames(seed, seconds, width, height, fps, **kw), width, height, fps)


def copy(path, seed: int, seconds: int = 60, *, fps: int = 5, width: int = 320, height: int = 180,
         out_size: tuple[int, int] | None = None, bitrate: int | None = None, trim_start: int = 0, trim_end: int = 0,
         title_seed: int | None = None, crop: float = 0.0) -> Path:
    """A copy of ``lecture(seed)`` made from the same source pictures: rescaled, re-encoded, trimmed,
    re-titled and/or cropped (``crop``: the share cut from each edge, then scaled back up)."""
    ow, oh = out_size or (width, height)
    frames = list(lecture_frames(seed, seconds, width, height, fps, title_seed=title_seed))
    frames = frames[trim_start * fps: len(frames) - trim_end * fps]
    if title_seed is not None and trim_start:
        frames = list(lecture_frames(seed, 5, width, height, fps, title_seed=title_seed))[: 5 * fps] + frames
    if crop:
        cx, cy = int(width * crop), int(height * crop)
        frames = [f.crop((cx, cy, width - cx, height - cy)) for f in frames]
    return write(path, (f.resize((ow, oh)) for f in frames), ow, oh, fps, bitrate)
