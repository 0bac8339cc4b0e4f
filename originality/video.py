"""Near-duplicate videos: a perceptual signature from sampled frames (PyAV decodes, imagehash's
pHash on the frame's centre), and an alignment of two signatures that reports which segments
correspond and for how long.

Robust to what a copier does: re-encoding, another resolution or bitrate (the hash is of a 32×32
grey thumbnail), small crops and letterboxing (only the centre 80 % is hashed), trimming at either
end and a new title card (the alignment finds the time offset by voting, and the first
``title_card_seconds`` are not signed: the national title-card template is the same for everyone).
Frames with too little detail (black, a flat colour) are not signed either."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

import av
import imagehash
import numpy as np
from PIL import Image

STEP = 1.0  # seconds between sampled frames
MIN_DETAIL = 4.0  # standard deviation of the grey thumbnail below which a frame is not signed
NEAR = 12  # Hamming distance (of 64 bits) of two frames considered the same picture when voting
ALIGNED = 16  # ... and when extending an aligned run (the offset is known then)
MAX_GAP = 3  # seconds of unmatched frames tolerated inside a segment
MIN_SEGMENT = 8  # seconds: shorter corresponding runs are not reported
MIN_VOTES = 6


@dataclass(frozen=True)
class VideoSignature:
    step: float
    hashes: tuple[int | None, ...]  # one per sampled second (None: not signed)

    @property
    def duration(self) -> float:
        return len(self.hashes) * self.step

    @property
    def signed(self) -> int:
        return sum(1 for h in self.hashes if h is not None)


def frame_hash(gray: np.ndarray) -> int | None:
    """pHash (64 bits) of the centre 80 % of a grey frame; None when it has too little detail."""
    h, w = gray.shape
    core = gray[h // 10: h - h // 10, w // 10: w - w // 10]
    if float(core.std()) < MIN_DETAIL:
        return None
    bits = imagehash.phash(Image.fromarray(core), hash_size=8).hash.flatten()
    return int("".join("1" if b else "0" for b in bits), 2)


def sign(path, *, step: float = STEP, skip_seconds: float = 0.0, max_seconds: float | None = None) -> VideoSignature:
    """Decode the file once (threaded), keep one frame per ``step`` seconds scaled down to 128 px wide
    in grey (FFmpeg's scaler does that, not Python), and hash it. Frames before ``skip_seconds`` (the
    title card) are not signed."""
    hashes: list[int | None] = []
    if hasattr(path, "seek"):  # an open file (a RangeReader over an object in the store)
        path.seek(0)
    with av.open(path if hasattr(path, "read") else str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        next_t = 0.0
        for frame in container.decode(stream):
            if frame.time is None or frame.time + 1e-6 < next_t:
                continue
            if max_seconds is not None and frame.time >= max_seconds:
                break
            while next_t <= frame.time + 1e-6:
                next_t += step
                if len(hashes) * step < skip_seconds:
                    hashes.append(None)
                    continue
                small = frame.reformat(width=128, height=max(2, round(128 * frame.height / frame.width / 2) * 2),
                                       format="gray")
                hashes.append(frame_hash(small.to_ndarray()))
    return VideoSignature(step, tuple(hashes))


def distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def band_keys(h: int) -> tuple[int, int, int, int]:
    """The four 16-bit quarters of a frame hash: two frames within 3 bits share at least one."""
    return tuple((h >> (16 * k)) & 0xFFFF for k in range(4))


@dataclass(frozen=True)
class Segment:
    a_start: float
    a_end: float
    b_start: float
    b_end: float

    @property
    def seconds(self) -> float:
        return self.a_end - self.a_start


@dataclass(frozen=True)
class VideoMatch:
    segments: tuple[Segment, ...]
    matched_seconds: float
    similarity: float  # matched seconds over the shorter signed duration


def _votes(a: VideoSignature, b: VideoSignature) -> Counter:
    by_band: dict[tuple[int, int], list[int]] = defaultdict(list)
    for j, h in enumerate(b.hashes):
        if h is not None:
            for k, key in enumerate(band_keys(h)):
                by_band[(k, key)].append(j)
    votes: Counter = Counter()
    for i, h in enumerate(a.hashes):
        if h is None:
            continue
        seen = set()
        for k, key in enumerate(band_keys(h)):
            for j in by_band.get((k, key), ()):
                if j not in seen and distance(h, b.hashes[j]) <= NEAR:
                    seen.add(j)
                    votes[j - i] += 1
    return votes


def _segments(a: VideoSignature, b: VideoSignature, offset: int) -> list[Segment]:
    runs, start, last, gap = [], None, None, 0
    for i, h in enumerate(a.hashes):
        j = i + offset
        ok = (h is not None and 0 <= j < len(b.hashes) and b.hashes[j] is not None
              and distance(h, b.hashes[j]) <= ALIGNED)
        if ok:
            if start is None:
                start = i
            last, gap = i, 0
        elif start is not None:
            gap += 1
            if gap > MAX_GAP:
                runs.append((start, last))
                start, gap = None, 0
    if start is not None:
        runs.append((start, last))
    s = a.step
    return [Segment(i0 * s, (i1 + 1) * s, (i0 + offset) * s, (i1 + 1 + offset) * s) for i0, i1 in runs
            if (i1 + 1 - i0) * s >= MIN_SEGMENT]


def distinct_pictures(sig: VideoSignature, segments, limit: int = 100) -> int:
    """How many different pictures (more than ``NEAR`` bits apart) the signature shows within these
    segments, counted up to ``limit``. A run of one still picture (a title card template, a logo, a
    slide left on screen) is one picture however long it lasts: it is not evidence of copying."""
    kept: list[int] = []
    for seg in segments:
        for i in range(round(seg.a_start / sig.step), round(seg.a_end / sig.step)):
            h = sig.hashes[i] if i < len(sig.hashes) else None
            if h is not None and all(distance(h, k) > NEAR for k in kept):
                kept.append(h)
                if len(kept) >= limit:
                    return len(kept)
    return len(kept)


def compare(a: VideoSignature, b: VideoSignature) -> VideoMatch | None:
    """Which parts of A appear in B: the time offsets most frames agree on (a trimmed or re-titled copy
    has one; a re-edited one several), then the aligned runs at each. None when nothing corresponds."""
    votes = _votes(a, b)
    segments: list[Segment] = []
    covered: set[int] = set()
    for offset, n in votes.most_common(5):
        if n < MIN_VOTES:
            break
        for seg in _segments(a, b, offset):
            span = set(range(round(seg.a_start / a.step), round(seg.a_end / a.step)))
            if len(span & covered) < len(span) / 2:
                segments.append(seg)
                covered |= span
    if not segments:
        return None
    segments.sort(key=lambda g: g.a_start)
    matched = sum(g.seconds for g in segments)
    shorter = min(a.signed, b.signed) * a.step or 1
    return VideoMatch(tuple(segments), matched, round(min(1.0, matched / shorter), 3))
