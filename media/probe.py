"""Measuring a stored file: what the checks (``media.rules``) judge, and the frames people look at.

- Videos with PyAV: container, codecs, resolution, display aspect, frame rate, bitrates,
  duration; every packet is read (not decoded) so that a truncated file is noticed; a poster frame
  (at about 10 %) and a frame inside the title card (the first seconds), as JPEG.
- PDFs with pypdf: encrypted?, pages, text.
- DOCX/PPTX with python-docx/python-pptx, after the zip guard: the central directory must
  promise a sane total size, ratio and entry count (zip bombs), and no XML part may declare a
  DOCTYPE or entities (external entities, billion laughs), in UTF-8 or UTF-16.
- Legacy Office (OLE2) files: the directory names only, to tell a password-protected docx/pptx
  (Office stores it as an OLE2 "EncryptedPackage") from an old .doc/.ppt/.xls.
Nothing here raises on a bad file: the result carries a Chinese ``error`` instead.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field

from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 200_000
MAX_PDF_TEXT_PAGES = 300
# Zip guard (Office files).
ZIP_MAX_ENTRIES = 5000
ZIP_MAX_TOTAL = 300 * 1024 * 1024
ZIP_MAX_RATIO = 200
ZIP_RATIO_FLOOR = 5 * 1024 * 1024  # ratios matter only for members larger than this
FRAME_WIDTH = 640
TITLE_CARD_AT = 2.0  # seconds into the video


class Refused(Exception):
    """A file we will not open further; the message is for the user."""


@dataclass
class ProbeResult:
    facts: dict = field(default_factory=dict)
    text: str = ""
    error: str = ""
    frames: dict = field(default_factory=dict)  # name → JPEG bytes ("poster", "title")

    @property
    def ok(self) -> bool:
        return not self.error


@contextlib.contextmanager
def readable(stored_file):
    """The file's bytes, to probe, hash, sign or clean: the local path with local storage; with
    object storage a seekable ``RangeReader`` over the object (HTTP Range GETs with a read-ahead
    buffer; never a whole download, never a temporary copy). Every reader here takes either."""
    from jingpinke import storage as stores

    if not stores.is_s3():
        with local_copy(stored_file) as path:
            yield path
        return
    reader = stores.open_reader(stored_file.storage_key)
    try:
        yield reader
    finally:
        reader.close()


def is_file(source) -> bool:
    """Is ``source`` an open binary file (a ``RangeReader``) rather than a path?"""
    return hasattr(source, "read") and hasattr(source, "seek")


def size_of(source) -> int:
    """The size in bytes; an open file keeps its position (a reader may be in use by PyAV)."""
    if is_file(source):
        if isinstance(getattr(source, "size", None), int):
            return source.size
        here = source.tell()
        size = source.seek(0, os.SEEK_END)
        source.seek(here)
        return size
    return os.path.getsize(source)


@contextlib.contextmanager
def opened(source):
    """``source`` as a binary file positioned at its start (a path is opened and closed here; an
    open file is rewound and left open for its owner)."""
    if is_file(source):
        source.seek(0)
        yield source
        return
    with open(source, "rb") as fh:
        yield fh


def rewound(source):
    """``source`` ready to be read from its start again (an open file is rewound)."""
    if is_file(source):
        source.seek(0)
    return source


@contextlib.contextmanager
def local_copy(stored_file):
    """A local path to the file's bytes: the storage's own path when it has one, else a
    temporary copy streamed from the storage."""
    try:
        path = default_storage.path(stored_file.storage_key)
    except NotImplementedError:
        path = None
    if path:
        yield path
        return
    with tempfile.NamedTemporaryFile(prefix="jpk-probe-", delete=True) as tmp:
        with default_storage.open(stored_file.storage_key, "rb") as src:
            shutil.copyfileobj(src, tmp, 1024 * 1024)
        tmp.flush()
        yield tmp.name


def probe(path, kind: str) -> ProbeResult:
    """Measure the file at ``path`` (a local path, or an open seekable binary file such as a
    ``RangeReader`` over an object in the store)."""
    try:
        if kind in ("mp4", "mov", "avi", "mkv", "flv"):
            return probe_video(path, kind)
        if kind == "pdf":
            return probe_pdf(path)
        if kind == "docx":
            return probe_docx(path)
        if kind == "pptx":
            return probe_pptx(path)
        if kind == "doc":
            return probe_ole2(path)
        return ProbeResult(facts={"size": size_of(path)})
    except Refused as exc:
        return ProbeResult(error=str(exc))
    except Exception:  # a library choking on a hostile file: say so, never crash the worker
        log.warning("probe of %s (%s) failed", path, kind, exc_info=True)
        return ProbeResult(error=_("文件无法解析，可能已损坏或格式不规范。"))


# --- video ------------------------------------------------------------------------------------------
def _ratio_text(w: int, h: int) -> str:
    from math import gcd

    g = gcd(w, h) or 1
    return f"{w // g}:{h // g}"


# Reading every packet of a 1 GB, 20-minute video takes well under a second; a file that keeps the
# probe busy for minutes is built to do so (or broken) and is refused instead of holding a worker.
VIDEO_TIME_LIMIT_S = 120.0


def probe_video(path, kind: str) -> ProbeResult:
    import time

    import av

    try:
        container = av.open(rewound(path), metadata_errors="ignore")
    except (av.FFmpegError, OSError, UnicodeDecodeError):
        raise Refused(_("视频文件无法打开：文件不完整（可能上传前没有导出完毕）或已损坏。")) from None
    with container:
        vstreams, astreams = container.streams.video, container.streams.audio
        facts: dict = {"container": str(kind), "format": container.format.name, "size": size_of(path)}
        duration = container.duration / 1_000_000 if container.duration else 0.0
        v = vstreams[0] if vstreams else None
        a = astreams[0] if astreams else None
        if v is not None:
            cc = v.codec_context
            rate = v.average_rate or v.guessed_rate or v.base_rate
            width, height = cc.width, cc.height
            sar = v.sample_aspect_ratio
            dw = int(round(width * (sar.numerator / sar.denominator))) if sar and sar.numerator else width
            facts.update({
                "video_codec": cc.name, "width": width, "height": height,
                "display_aspect": _ratio_text(dw, height) if height else "",
                "fps": round(float(rate), 3) if rate else 0.0,
                "video_bitrate_kbps": round((v.bit_rate or 0) / 1000, 1) or None,
            })
            if not duration and v.duration and v.time_base:
                duration = float(v.duration * v.time_base)
        if a is not None:
            facts.update({"audio_codec": a.codec_context.name,
                          "audio_bitrate_kbps": round((a.bit_rate or 0) / 1000, 1) or None,
                          "audio_channels": a.codec_context.channels,
                          "audio_sample_rate": a.codec_context.sample_rate})
        facts["duration_s"] = round(duration, 3)
        if v is None:
            return ProbeResult(facts=facts)

        # Read every packet (no decoding): a broken-off file ends early or raises.
        last, video_bytes, audio_bytes = 0.0, 0, 0
        give_up = time.monotonic() + VIDEO_TIME_LIMIT_S
        try:
            for n, packet in enumerate(container.demux()):
                if n % 1024 == 0 and time.monotonic() > give_up:
                    raise Refused(_("视频检测超时：文件结构异常（读到约 %(at)d 秒处仍未读完）。请用常见软件重新导出为 MP4 后上传。")
                                  % {"at": int(last)})
                if packet.size == 0:
                    continue
                if packet.stream.type == "video":
                    video_bytes += packet.size
                    if packet.pts is not None and packet.time_base:
                        last = max(last, float(packet.pts * packet.time_base))
                elif packet.stream.type == "audio":
                    audio_bytes += packet.size
        except av.FFmpegError:
            raise Refused(_("视频文件不完整或已损坏：读到约 %(at)d 秒处出错。请重新导出后上传。") % {"at": int(last)}) from None
        start = float(v.start_time * v.time_base) if v.start_time is not None and v.time_base else 0.0
        frame_time = 1 / facts["fps"] if facts.get("fps") else 0.1
        if duration and (last - start + frame_time) < duration * 0.9 - 1:
            raise Refused(_("视频文件不完整：时长应为 %(d)d 秒，但画面只到约 %(at)d 秒。请重新导出后上传。") % {
                "d": int(duration), "at": int(last)})
        if duration:
            if not facts.get("video_bitrate_kbps"):
                facts["video_bitrate_kbps"] = round(video_bytes * 8 / duration / 1000, 1)
            if a is not None and not facts.get("audio_bitrate_kbps"):
                facts["audio_bitrate_kbps"] = round(audio_bytes * 8 / duration / 1000, 1)

        frames = {}
        for name, at in (("title", min(TITLE_CARD_AT, duration / 2)), ("poster", duration * 0.1)):
            jpeg, rotation = _frame_at(container, v, at)
            if jpeg:
                frames[name] = jpeg
                facts["rotation"] = rotation
        if facts.get("rotation") in (90, 270):  # shot upright on a phone: shown as a portrait picture
            facts["display_aspect"] = _ratio_text(height, dw) if dw else ""
        return ProbeResult(facts=facts, frames=frames)


def _frame_at(container, stream, seconds: float) -> tuple[bytes | None, int]:
    """A JPEG of the frame at ``seconds``, turned as players show it, and that turn (degrees
    counter-clockwise from the display matrix: 0, 90, 180 or 270)."""
    import av

    try:
        target = int(seconds / stream.time_base) if stream.time_base else 0
        container.seek(max(0, target), stream=stream, backward=True, any_frame=False)
        for frame in container.decode(stream):
            if frame.time is None or frame.time + 0.001 >= seconds or seconds == 0:
                rotation = int(round(getattr(frame, "rotation", 0) or 0)) % 360
                image = frame.to_image()
                if rotation:
                    image = image.rotate(rotation, expand=True)
                if image.width > FRAME_WIDTH:
                    image = image.resize((FRAME_WIDTH, max(1, image.height * FRAME_WIDTH // image.width)))
                out = io.BytesIO()
                image.save(out, format="JPEG", quality=82)
                return out.getvalue(), rotation
    except (av.FFmpegError, ValueError, OSError):
        log.info("no frame at %.1f s", seconds, exc_info=True)
    return None, 0


# --- documents -------------------------------------------------------------------------------------
def _clip(text: str) -> str:
    return text[:MAX_TEXT_CHARS]


def _count_chars(text: str) -> int:
    return sum(1 for ch in text if not ch.isspace())


def probe_pdf(path) -> ProbeResult:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(rewound(path))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except Exception:
                opened = 0
            if not opened:
                return ProbeResult(facts={"encrypted": True})
        pages = len(reader.pages)
        parts, total = [], 0
        for page in reader.pages[:MAX_PDF_TEXT_PAGES]:
            chunk = page.extract_text() or ""
            parts.append(chunk)
            total += len(chunk)
            if total > MAX_TEXT_CHARS:
                break
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError):
        raise Refused(_("PDF 文件已损坏或不完整，无法打开。请重新导出后上传。")) from None
    text = _clip("\n".join(parts))
    return ProbeResult(facts={"encrypted": False, "pages": pages, "chars": _count_chars(text)}, text=text)


OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
OLE2_END = 0xFFFFFFFE
OLE2_MAX_DIR_SECTORS = 4096


def ole2_names(path) -> list[str]:
    """The stream and storage names in an OLE2 compound file's directory (legacy Office files, and
    Office files with an open password: Office wraps those in OLE2 as "EncryptedPackage").
    Reads the header, the FAT sectors on the directory's chain and the directory; bounded."""
    import struct

    with opened(path) as f:
        header = f.read(512)
        if len(header) < 512 or not header.startswith(OLE2_MAGIC):
            raise Refused(_("文件已损坏：不是完整的 Office 文件。请重新保存后上传。"))
        shift = struct.unpack_from("<H", header, 0x1E)[0]
        if shift not in (9, 12):
            raise Refused(_("文件已损坏：不是完整的 Office 文件。请重新保存后上传。"))
        size = 1 << shift
        per_fat = size // 4
        first_dir = struct.unpack_from("<I", header, 0x30)[0]
        difat = list(struct.unpack_from("<109I", header, 0x4C))
        next_difat, difat_count = struct.unpack_from("<II", header, 0x44)
        for _i in range(min(difat_count, 1024)):  # more FAT sectors (files over ~7 MB)
            if next_difat >= OLE2_END:
                break
            f.seek((next_difat + 1) * size)
            block = f.read(size)
            if len(block) < size:
                break
            entries = struct.unpack(f"<{per_fat}I", block)
            difat.extend(entries[:-1])
            next_difat = entries[-1]

        def sector(n: int) -> bytes:
            f.seek((n + 1) * size)
            data = f.read(size)
            if len(data) < size:
                raise Refused(_("文件不完整：Office 文件的目录读不全。请重新保存后上传。"))
            return data

        def next_of(n: int) -> int:
            index = n // per_fat
            if index >= len(difat) or difat[index] >= OLE2_END:
                return OLE2_END
            return struct.unpack_from("<I", sector(difat[index]), (n % per_fat) * 4)[0]

        names, current, seen = [], first_dir, set()
        while current < OLE2_END and current not in seen and len(seen) < OLE2_MAX_DIR_SECTORS:
            seen.add(current)
            block = sector(current)
            for offset in range(0, size, 128):
                length = struct.unpack_from("<H", block, offset + 0x40)[0]
                if 2 <= length <= 64:
                    names.append(block[offset:offset + length - 2].decode("utf-16-le", "replace"))
            current = next_of(current)
        return names


def probe_ole2(path) -> ProbeResult:
    names = ole2_names(path)
    encrypted = "EncryptedPackage" in names or "EncryptionInfo" in names
    return ProbeResult(facts={"encrypted": encrypted, "size": size_of(path), "streams": len(names)})


def guard_zip(path) -> zipfile.ZipFile:
    """Open an Office file's zip only if its directory is sane; refuse bombs and entity tricks.
    ``path`` may be an open seekable file; closing the archive leaves it open."""
    try:
        archive = zipfile.ZipFile(rewound(path))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise Refused(_("文件已损坏：Office 文件应是完整的压缩包，但无法打开。请重新保存后上传。")) from None
    infos = archive.infolist()
    if len(infos) > ZIP_MAX_ENTRIES:
        archive.close()
        raise Refused(_("文件结构异常（包含 %(n)d 个部件），已拒绝处理。请用 Office/WPS 重新保存后上传。") % {"n": len(infos)})
    total = sum(i.file_size for i in infos)
    bomb = total > ZIP_MAX_TOTAL or any(
        i.file_size > ZIP_RATIO_FLOOR and i.file_size > ZIP_MAX_RATIO * max(i.compress_size, 1) for i in infos)
    if bomb:
        archive.close()
        raise Refused(_("文件解压后异常巨大（约 %(mb)d MB），疑似“压缩炸弹”，已拒绝处理。请上传正常的文档。") % {
            "mb": total // (1024 * 1024)})
    for info in infos:
        if info.filename.endswith((".xml", ".rels")) and _declares_entities(archive, info):
            archive.close()
            raise Refused(_("文件中含有不安全的 XML 声明（DOCTYPE/ENTITY），已拒绝处理。请用 Office/WPS 重新保存后上传。"))
    return archive


# A DTD in any encoding an XML part may use (UTF-8 or UTF-16 either way round).
DTD_MARKERS = tuple(word.encode(enc) for word in ("<!DOCTYPE", "<!ENTITY") for enc in ("utf-8", "utf-16-le", "utf-16-be"))


def _declares_entities(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Stream the part (bounded by the guard) looking for DTD declarations."""
    tail = b""
    try:
        with archive.open(info) as member:
            while chunk := member.read(64 * 1024):
                window = tail + chunk
                if any(marker in window for marker in DTD_MARKERS):
                    return True
                tail = window[-32:]
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError):
        raise Refused(_("文件已损坏：压缩包内的部件无法读取。请重新保存后上传。")) from None
    return False


def _app_property(archive: zipfile.ZipFile, name: str) -> int | None:
    """A count from docProps/app.xml (Pages, Slides, Words), parsed safely."""
    from defusedxml import ElementTree

    try:
        root = ElementTree.fromstring(archive.read("docProps/app.xml"))
    except Exception:
        return None
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1] == name and (el.text or "").strip().isdigit():
            return int(el.text)
    return None


def probe_docx(path) -> ProbeResult:
    import docx

    with guard_zip(path) as archive:
        pages = _app_property(archive, "Pages")
    try:
        document = docx.Document(rewound(path))
    except Exception:
        raise Refused(_("Word 文件已损坏或不是有效的 docx 文件。请用 Office/WPS 打开后另存为 docx 再上传。")) from None
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    text = _clip("\n".join(t for t in parts if t))
    facts = {"encrypted": False, "chars": _count_chars(text), "paragraphs": len(document.paragraphs)}
    if pages:
        facts["pages"] = pages
    return ProbeResult(facts=facts, text=text)


def probe_pptx(path) -> ProbeResult:
    from pptx import Presentation

    with guard_zip(path):
        pass
    try:
        presentation = Presentation(rewound(path))
    except Exception:
        raise Refused(_("PowerPoint 文件已损坏或不是有效的 pptx 文件。请另存为 pptx 后再上传。")) from None
    parts = []
    for slide in presentation.slides:
        for shape in slide.shapes:
            if shape.has_text_frame and shape.text_frame.text:
                parts.append(shape.text_frame.text)
    text = _clip("\n".join(parts))
    return ProbeResult(facts={"encrypted": False, "slides": len(presentation.slides), "chars": _count_chars(text)}, text=text)
