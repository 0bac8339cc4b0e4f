"""Blind copies (media.clean): every metadata field of a teacher's DOCX, PPTX, PDF and MP4 names
him and his school; the cleaned copy names neither anywhere in its bytes (ZIP members after
decompression), still opens and keeps its content. Memory stays bounded; the task stores the copy
once; the copy is served under a neutral name."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tracemalloc
import zipfile

import av
import pytest
from django.core.files.storage import default_storage
from django.test import RequestFactory

from jingpinke.s3server import served
from media import clean, probe, services, testing
from media.clean import EMPTY_CORE, CleanError, Leftover, clean_copy, neutral_name, remaining_metadata
from media.models import CleanCopy, FileKind, StoredFile

TEACHER = "李明华"
SCHOOL = "湛江市第二十一小学"


def names_in(data: bytes) -> list[str]:
    """Which of the teacher's name and school occur in ``data``, in any encoding a file may use
    (UTF-8, UTF-16 either way round, a PDF's hex string)."""
    found = []
    for text in (TEACHER, SCHOOL):
        forms = [text.encode(enc) for enc in ("utf-8", "utf-16-be", "utf-16-le")]
        forms += [text.encode("utf-16-be").hex().encode(), text.encode("utf-16-be").hex().upper().encode()]
        if any(form in data for form in forms):
            found.append(text)
    return found


def members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def names_in_zip(path) -> dict[str, list[str]]:
    return {name: found for name, data in members(path).items() if (found := names_in(data))}


def assert_same_picture(before: bytes, after: bytes, fmt: str) -> None:
    """The picture lost its metadata blocks, not a pixel: its image data is the same bytes."""
    from PIL import Image

    old, new = Image.open(io.BytesIO(before)), Image.open(io.BytesIO(after))
    assert names_in(before) and names_in(after) == [] and len(after) < len(before)
    assert (new.format, new.size, new.tobytes()) == (fmt, old.size, old.tobytes())
    assert new.getexif() == {} and "xmp" not in new.info and "comment" not in new.info
    if fmt == "JPEG":  # everything from the start of scan on is untouched
        assert after[after.index(b"\xff\xda"):] == before[before.index(b"\xff\xda"):]


def fields(leftovers) -> list[tuple[str, str]]:
    return sorted((item.where, item.field) for item in leftovers)


# --- DOCX ----------------------------------------------------------------------------------------

DOCX_METADATA = sorted(
    [("docProps/core.xml", f) for f in ("title", "subject", "creator", "keywords", "description", "lastModifiedBy",
                                         "revision", "created", "modified", "category", "contentStatus", "identifier",
                                         "version", "lastPrinted")]
    + [("docProps/app.xml", f) for f in ("Template", "Manager", "Company", "HyperlinkBase")]
    + [("docProps/custom.xml", "Teacher"), ("docProps/custom.xml", "School")]
    + [("word/document.xml", "author"), ("word/document.xml", "author")]
    + [("word/comments.xml", "author"), ("word/comments.xml", "initials")]
    + [("word/_rels/settings.xml.rels", "Target")]
    + [("word/people.xml", "author"), ("word/people.xml", "providerId"), ("word/people.xml", "userId")]
    + [("word/media/image1.jpg", "APP1 (EXIF/XMP)"), ("word/media/image1.jpg", "APP1 (EXIF/XMP)"),
       ("word/media/image1.jpg", "COM")]
    + [("docProps/thumbnail.jpeg", "APP1 (EXIF/XMP)")])  # python-docx's template thumbnail has EXIF of its own


def test_docx_metadata_is_stripped_and_the_document_kept(tmp_path):
    import docx

    source = testing.make_tagged_docx(tmp_path / f"{TEACHER}-教学设计.docx")
    assert fields(remaining_metadata(source, "docx")) == DOCX_METADATA
    before = members(source)
    assert sorted(names_in_zip(source)) == sorted([
        "docProps/core.xml", "docProps/app.xml", "docProps/custom.xml", "word/document.xml", "word/comments.xml",
        "word/_rels/settings.xml.rels", "word/people.xml", "word/media/image1.jpg"])

    target = tmp_path / "clean.docx"
    clean_copy(source, target, "docx")

    assert names_in(target.read_bytes()) == [] and names_in_zip(target) == {}
    assert remaining_metadata(target, "docx") == []
    after = members(target)
    assert list(after) == [name for name in before if name != "docProps/custom.xml"]
    # Everything that named nobody is byte for byte the same.
    rewritten = {"docProps/core.xml", "docProps/app.xml", "[Content_Types].xml", "_rels/.rels", "word/document.xml",
                 "word/comments.xml", "word/_rels/settings.xml.rels", "word/people.xml", "word/media/image1.jpg", "docProps/thumbnail.jpeg"}
    assert {n: after[n] for n in after if n not in rewritten} == {n: before[n] for n in after if n not in rewritten}
    # The rewritten parts change only in the named values.
    assert after["docProps/core.xml"] == EMPTY_CORE
    assert after["word/document.xml"] == before["word/document.xml"].replace(
        f'w:author="{TEACHER}"'.encode(), 'w:author="作者"'.encode()).replace(
        f"w:author='{SCHOOL}'".encode(), "w:author='作者'".encode())
    assert after["word/people.xml"].decode() == before["word/people.xml"].decode().replace(
        f'w15:author="{TEACHER}"', 'w15:author="作者"').replace('w15:providerId="AD"', 'w15:providerId="None"').replace(
        f'w15:userId="{SCHOOL}\\{TEACHER}"', 'w15:userId="作者"')
    app = before["docProps/app.xml"].decode()
    for tag, value in (("Template", f"{SCHOOL}.dotm"), ("Manager", TEACHER), ("Company", SCHOOL),
                       ("HyperlinkBase", f"file:///D:/{TEACHER}/")):
        app = app.replace(f"<{tag}>{value}</{tag}>", f"<{tag}/>")
    assert after["docProps/app.xml"].decode() == app and "<Pages>1</Pages>" in app
    assert b"docProps/custom.xml" not in after["[Content_Types].xml"] + after["_rels/.rels"]
    assert after["[Content_Types].xml"] == before["[Content_Types].xml"].replace(
        b'<Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/>', b"")
    assert b'Target="about:blank" TargetMode="External"' in after["word/_rels/settings.xml.rels"]
    assert_same_picture(before["word/media/image1.jpg"], after["word/media/image1.jpg"], "JPEG")

    original, copy = docx.Document(str(source)), docx.Document(str(target))
    assert [p.text for p in copy.paragraphs] == [p.text for p in original.paragraphs]
    assert [p.text for p in copy.paragraphs][:2] == ["教学目标：认识秋天的特征。", "教学过程：观察、朗读、交流。"]
    assert [(c.author, c.initials, c.text) for c in copy.comments] == [("作者", "作者", "请补充学情分析。")]
    core = copy.core_properties
    assert (core.author, core.last_modified_by, core.title, core.keywords, core.comments, core.created) == ("", "", "", "", "", None)


def test_docx_parts_in_utf16_and_single_quotes_are_cleaned_too(tmp_path):
    source = testing.make_tagged_docx(tmp_path / "a.docx")
    parts = members(source)
    parts["word/comments.xml"] = parts["word/comments.xml"].decode().replace(
        "encoding='UTF-8'", "encoding='UTF-16'").replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    assert ("word/comments.xml", "author") in fields(remaining_metadata(source, "docx"))
    target = tmp_path / "clean.docx"
    clean_copy(source, target, "docx")
    assert names_in_zip(target) == {} and remaining_metadata(target, "docx") == []
    comments = members(target)["word/comments.xml"]
    assert comments[:2] == b"\xff\xfe" and 'w:author="作者"' in comments.decode("utf-16")


# --- PPTX ----------------------------------------------------------------------------------------


def test_pptx_metadata_is_stripped_and_the_slides_kept(tmp_path):
    from pptx import Presentation

    source = testing.make_tagged_pptx(tmp_path / "课件.pptx")
    assert fields(remaining_metadata(source, "pptx")) == sorted(
        [item for item in DOCX_METADATA if item[0].startswith("docProps/")]
        + [("ppt/_rels/presentation.xml.rels", "Target")]
        + [("ppt/commentAuthors.xml", f) for f in ("name", "initials", "name", "initials")]
        + [("ppt/authors.xml", f) for f in ("name", "initials", "userId", "providerId")]
        + [("ppt/media/image1.png", f) for f in ("iTXt", "iTXt", "eXIf")])
    before = members(source)
    target = tmp_path / "clean.pptx"
    clean_copy(source, target, "pptx")

    assert names_in(target.read_bytes()) == [] and names_in_zip(target) == {}
    assert remaining_metadata(target, "pptx") == []
    after = members(target)
    assert after["ppt/commentAuthors.xml"].decode() == (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<p:cmAuthorLst xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main">'
        '<p:cmAuthor id="0" name="作者" initials="作者" lastIdx="1" clrIdx="0"/>'
        '<p:cmAuthor id="1" name="作者" initials="作者" lastIdx="0" clrIdx="1"/></p:cmAuthorLst>')
    assert after["ppt/comments/comment1.xml"] == before["ppt/comments/comment1.xml"]  # the comment's text is content
    assert_same_picture(before["ppt/media/image1.png"], after["ppt/media/image1.png"], "PNG")
    for name in ("ppt/slides/slide1.xml", "ppt/slides/slide2.xml", "ppt/presentation.xml"):
        assert after[name] == before[name]

    original, copy = Presentation(str(source)), Presentation(str(target))
    texts = [[s.text_frame.text for s in slide.shapes if s.has_text_frame] for slide in copy.slides]
    assert texts == [["秋天", "秋天：课件内容"], ["学习目标", "学习目标：课件内容"]]
    assert texts == [[s.text_frame.text for s in slide.shapes if s.has_text_frame] for slide in original.slides]
    assert (copy.core_properties.author, copy.core_properties.title) == ("", "")


def test_office_memory_stays_bounded(tmp_path):
    """A 60 MiB picture and a 26 MB document part with 200,000 tracked changes go through in
    blocks: the copy allocates a few MiB, not the parts. Attributes that straddle the blocks are
    cleaned all the same."""
    source = testing.make_tagged_docx(tmp_path / "big.docx")
    parts = members(source)
    revisions = "".join(f'<w:p><w:ins w:id="{i}" w:author="{TEACHER}" w:date="2024-09-01T08:00:00Z"><w:r>'
                        f"<w:t>第{i}段修订</w:t></w:r></w:ins></w:p>" for i in range(200_000))
    parts["word/document.xml"] = parts["word/document.xml"].replace(b"<w:sectPr", revisions.encode() + b"<w:sectPr", 1)
    parts["word/media/image1.bin"] = os.urandom(60 * 1024 * 1024)
    with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    del parts, revisions
    target = tmp_path / "clean.docx"
    tracemalloc.start()
    try:
        clean_copy(source, target, "docx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024, peak
    with zipfile.ZipFile(target) as archive:
        document = archive.read("word/document.xml")
        assert document.count('w:author="作者"'.encode()) == 200_001 and names_in(document) == []
        with zipfile.ZipFile(source) as original:
            assert archive.read("word/media/image1.bin") == original.read("word/media/image1.bin")


# --- PDF -----------------------------------------------------------------------------------------


def test_pdf_info_and_xmp_are_dropped_even_from_earlier_revisions(tmp_path):
    from pypdf import PdfReader

    source = testing.make_tagged_pdf(tmp_path / "教学设计.pdf", pages=2, text="Lesson plan")
    original = PdfReader(source)
    assert original.metadata["/Author"] == f"{TEACHER}（修订）"  # the last revision's Info …
    assert names_in(source.read_bytes()) == [TEACHER, SCHOOL]  # … and the first one's, still in the bytes
    assert fields(remaining_metadata(source, "pdf")) == sorted(
        [("Info", k) for k in ("Author", "Creator", "Producer", "Title", "Subject", "Keywords", "CreationDate", "ModDate")]
        + [("Root", "Metadata"), ("page 1", "Metadata"), ("page 1", "PieceInfo"), ("page 1 /Im1", "Metadata")])

    target = tmp_path / "clean.pdf"
    clean_copy(source, target, "pdf")

    data = target.read_bytes()
    assert names_in(data) == [] and b"/Info" not in data and b"xmpmeta" not in data
    assert data.count(b"%%EOF") == 1  # a new file, not an update appended to the old one
    assert remaining_metadata(target, "pdf") == []
    copy = PdfReader(target)
    assert (copy.metadata, copy.xmp_metadata, len(copy.pages)) == (None, None, 2)
    assert [p.extract_text() for p in copy.pages] == ["Lesson plan 1", "Lesson plan 2"]
    picture = copy.pages[0]["/Resources"]["/XObject"]["/Im1"].get_object()  # the picture stays, its XMP goes
    assert (picture.get_data(), "/Metadata" in picture) == (b"\x80", False)


def test_an_encrypted_or_broken_pdf_cannot_be_cleaned(tmp_path):
    with pytest.raises(CleanError, match="设置了密码"):
        clean_copy(testing.make_pdf(tmp_path / "e.pdf", encrypted=True), tmp_path / "c.pdf", "pdf")
    broken = tmp_path / "b.pdf"
    broken.write_bytes(b"%PDF-1.4\n" + os.urandom(300))
    with pytest.raises(CleanError, match="PDF 文件已损坏"):
        clean_copy(broken, tmp_path / "c2.pdf", "pdf")
    assert not (tmp_path / "c2.pdf").exists()


# --- video ---------------------------------------------------------------------------------------


def _packets(path) -> dict[int, int]:
    counts: dict[int, int] = {}
    with av.open(str(path)) as container:
        for packet in container.demux():
            if packet.dts is not None:
                counts[packet.stream.index] = counts.get(packet.stream.index, 0) + 1
    return counts


def _streams(path):
    with av.open(str(path)) as container:
        return container.duration, [(s.type, s.codec_context.name, s.frames) for s in container.streams]


def test_video_tags_are_dropped_without_reencoding(tmp_path):
    source = testing.make_tagged_video(tmp_path / "微课.mp4", seconds=2)
    assert names_in(source.read_bytes()) == [TEACHER, SCHOOL]
    assert fields(remaining_metadata(source, "mp4")) == sorted(
        [("container", k) for k in ("creation_time", "title", "artist", "encoder", "comment", "copyright", "description")]
        + [(f"stream {i} ({t})", k) for i, t in ((0, "video"), (1, "audio")) for k in ("creation_time", "handler_name", "name")])

    target = tmp_path / "clean.mp4"
    clean_copy(source, target, "mp4")

    data = target.read_bytes()
    assert names_in(data) == [] and b"Lavf" not in data  # no writer's tag either
    assert remaining_metadata(target, "mp4") == []
    assert _streams(target) == _streams(source) == (2_000_000, [("video", "h264", 50), ("audio", "aac", 95)])
    assert _packets(target) == _packets(source) == {0: 50, 1: 95}
    assert data.find(b"moov") < data.find(b"mdat")  # the index first: the browser seeks at once
    with av.open(str(target)) as container:  # the pictures are the same pictures
        frames = [f.to_ndarray().tobytes() for f in container.decode(video=0)]
    with av.open(str(source)) as container:
        assert [hashlib.sha256(f.to_ndarray().tobytes()).digest() for f in container.decode(video=0)] == [
            hashlib.sha256(f).digest() for f in frames]


def _timestamps(path) -> list[tuple[int, int, int]]:
    with av.open(str(path)) as container:
        return [(p.stream.index, p.pts, p.dts) for p in container.demux() if p.dts is not None]


def test_reordered_frames_keep_their_timestamps_and_the_copy_seeks(tmp_path):
    """Camera and editor exports reorder frames (B-frames: negative decode times at the start);
    the copy keeps every packet's timestamps and seeks to a second in the middle."""
    source = tmp_path / "b-frames.mp4"
    with av.open(str(source), "w", format="mp4") as out:
        video = out.add_stream("h264", rate=25)
        video.width, video.height, video.pix_fmt = 320, 180, "yuv420p"
        video.options = {"preset": "medium", "bf": "3", "g": "25", "keyint_min": "25", "sc_threshold": "0"}
        for i in range(50):
            frame = av.VideoFrame(320, 180, "yuv420p")
            for k, plane in enumerate(frame.planes):
                plane.update(bytes([(i * 9 + k * 40) % 256]) * (plane.line_size * plane.height))
            frame.pts = i
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
    original = _timestamps(source)
    assert original[:2] == [(0, 0, -1024), (0, 2048, -512)]  # really reordered
    target = tmp_path / "clean.mp4"
    clean_copy(source, target, "mp4")
    assert _timestamps(target) == original
    with av.open(str(target)) as container:
        stream = container.streams.video[0]
        container.seek(int(1 / stream.time_base), stream=stream)
        frame = next(container.decode(stream))
        assert frame.time == 1.0


def test_subtitle_tracks_are_left_out(tmp_path):
    """A subtitle track may name anyone (its text is in the packets): the copy keeps only the
    picture and the sound."""
    from fractions import Fraction

    source = testing.make_video(tmp_path / "a.mp4", seconds=1)
    with_text = tmp_path / "b.mp4"
    with av.open(str(source)) as src, av.open(str(with_text), "w", format="mp4") as out:
        streams = {s.index: out.add_stream_from_template(s) for s in src.streams}
        subtitles = out.add_mux_stream("mov_text", time_base=Fraction(1, 1000))
        for packet in src.demux():
            if packet.dts is not None:
                packet.stream = streams[packet.stream.index]
                out.mux(packet)
        text = f"主讲：{TEACHER}（{SCHOOL}）".encode()
        packet = av.Packet(len(text).to_bytes(2, "big") + text)
        packet.stream, packet.time_base, packet.pts, packet.dts, packet.duration = subtitles, Fraction(1, 1000), 0, 0, 500
        out.mux(packet)
    with av.open(str(with_text)) as container:
        assert [s.type for s in container.streams] == ["video", "audio", "subtitle"]
    assert names_in(with_text.read_bytes()) == [TEACHER, SCHOOL]
    assert remaining_metadata(with_text, "mp4")[1:] == [
        Leftover("stream 2 (subtitle)", "stream", "subtitle"),
        Leftover("stream 2 (subtitle)", "handler_name", "SubtitleHandler")]  # [0]: the writer's "encoder"
    clean_copy(with_text, tmp_path / "c.mp4", "mp4")
    with av.open(str(tmp_path / "c.mp4")) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]
    assert names_in((tmp_path / "c.mp4").read_bytes()) == []


def test_a_truncated_video_cannot_be_cleaned(tmp_path):
    broken = testing.truncate(testing.make_video(tmp_path / "a.mp4", seconds=2), 0.3)
    with pytest.raises(CleanError, match="视频文件"):
        clean_copy(broken, tmp_path / "c.mp4", "mp4")
    assert not (tmp_path / "c.mp4").exists()


CHILD = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jingpinke.settings_test")
import django
django.setup()
from media.clean import clean_copy
clean_copy(sys.argv[1], sys.argv[2], "mp4")
"""


def _peak_rss_of_cleaning(source, target) -> int:
    """Peak resident memory (bytes) of a fresh process that cleans ``source``."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    process = subprocess.Popen([sys.executable, "-c", CHILD, str(source), str(target)], cwd=root,
                               env={**os.environ, "PYTHONPATH": root})
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0
    return usage.ru_maxrss * 1024  # Linux: KiB


@pytest.mark.slow
def test_video_memory_stays_constant_whatever_the_size(tmp_path):
    """Cleaning a 300 MiB video costs its process the same memory as a 3 MiB one: packets are
    copied one at a time, nothing is read whole."""
    small = testing.make_bulky_video(tmp_path / "small.mp4", megabytes=3)
    large = testing.make_bulky_video(tmp_path / "large.mp4", megabytes=300)
    baseline = _peak_rss_of_cleaning(small, tmp_path / "small-clean.mp4")
    peak = _peak_rss_of_cleaning(large, tmp_path / "large-clean.mp4")
    assert peak - baseline < 32 * 1024 * 1024, (baseline, peak)
    assert _packets(tmp_path / "large-clean.mp4") == {0: 300}
    assert (tmp_path / "large-clean.mp4").stat().st_size > 300 * 1024 * 1024


# --- refusals and names --------------------------------------------------------------------------


def test_hostile_and_unsupported_files_are_refused(tmp_path):
    with pytest.raises(CleanError, match="压缩炸弹"):
        clean_copy(testing.make_zip_bomb_docx(tmp_path / "bomb.docx", inflated_mb=64), tmp_path / "c.docx", "docx")
    with pytest.raises(CleanError, match="DOCTYPE"):
        clean_copy(testing.make_xxe_docx(tmp_path / "x.docx", encoding="utf-16"), tmp_path / "c.docx", "docx")
    assert not (tmp_path / "c.docx").exists()
    with pytest.raises(CleanError, match="只支持 DOCX、PPTX、PDF 和 MP4/MOV"):
        clean_copy(testing.make_video(tmp_path / "a.mkv", seconds=1, container="matroska"), tmp_path / "c.mkv", "mkv")


def test_neutral_names_hold_only_the_code_the_period_and_the_resource():
    assert neutral_name(123, 1, "教学设计", "docx") == "作品0123_第1课时_教学设计.docx"
    assert neutral_name("A7-0042", 3, "微课视频", "mp4") == "作品A7-0042_第3课时_微课视频.mp4"
    assert neutral_name(5, None, "课 件/../x", "pptx") == "作品0005_课件..x.pptx"
    assert neutral_name("李明华", 2, "学习任务单", "pdf") == "作品_第2课时_学习任务单.pdf"


# --- the stored copy (task) and serving it -------------------------------------------------------


def _stored(tree, path, kind) -> StoredFile:
    data = path.read_bytes()
    key = default_storage.save(f"files/test/{hashlib.sha1(data).hexdigest()}", io.BytesIO(data))
    return StoredFile.objects.create(owner=tree.teacher, storage_key=key, original_name=path.name, size=len(data),
                                     sha256=hashlib.sha256(data).hexdigest(), kind=kind)


def test_the_task_stores_the_clean_copy_once(tree, tmp_path):
    from media.tasks import make_clean_copy

    stored = _stored(tree, testing.make_tagged_docx(tmp_path / f"{TEACHER}_{SCHOOL}_教学设计.docx"), FileKind.DOCX)
    assert make_clean_copy.enqueue(str(stored.pk)).return_value == "ok"
    copy = CleanCopy.objects.get(source=stored)
    with default_storage.open(copy.storage_key, "rb") as fh:
        data = fh.read()
    assert (copy.error, copy.size, copy.sha256) == ("", len(data), hashlib.sha256(data).hexdigest())
    assert copy.storage_key.startswith("clean/") and copy.storage_key.endswith(".docx")
    assert names_in(data) == [] and names_in_zip(io.BytesIO(data)) == {}
    # Once: the second run finds it and writes nothing.
    assert make_clean_copy.enqueue(str(stored.pk)).return_value == "ok"
    assert list(CleanCopy.objects.values_list("pk", "storage_key")) == [(copy.pk, copy.storage_key)]
    assert make_clean_copy.enqueue("00000000-0000-0000-0000-000000000000").return_value == "missing"


def test_a_file_that_cannot_be_cleaned_is_recorded_and_never_served(tree, tmp_path):
    from media.tasks import make_clean_copy

    stored = _stored(tree, testing.make_pdf(tmp_path / "e.pdf", encrypted=True), FileKind.PDF)
    reason = "PDF 文件设置了密码，无法生成匿名副本。请去掉密码后重新上传。"
    assert make_clean_copy.enqueue(str(stored.pk)).return_value == reason
    copy = CleanCopy.objects.get(source=stored)
    assert (copy.ok, copy.storage_key, copy.error) == (False, "", reason)


def test_a_copy_with_metadata_left_is_not_kept(tree, tmp_path, monkeypatch):
    """Should a format variant slip through the cleaning, the check afterwards stops the copy."""
    stored = _stored(tree, testing.make_tagged_docx(tmp_path / "a.docx"), FileKind.DOCX)
    def copy_unchanged(source, target, kind):  # source: a path, or a RangeReader with object storage
        with probe.opened(source) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)

    monkeypatch.setattr(clean, "clean_office", copy_unchanged)
    copy = services.make_clean_copy(stored.pk)
    assert (copy.ok, copy.storage_key) == (False, "")
    assert copy.error.startswith("匿名处理后文件中仍有作者等信息（") and "creator" in copy.error


def test_two_runs_at_once_keep_one_copy(tree, tmp_path, monkeypatch):
    stored = _stored(tree, testing.make_docx(tmp_path / "a.docx"), FileKind.DOCX)
    real = clean.clean_copy
    other = {}

    def racing(source, target, kind):  # the other run finishes while this one is cleaning
        real(source, target, kind)
        other["copy"] = CleanCopy.objects.create(source=stored, storage_key="clean/xx/other.docx", size=1)

    monkeypatch.setattr(clean, "clean_copy", racing)
    before = set(_listing("clean"))
    assert services.make_clean_copy(stored.pk) == other["copy"]
    assert set(_listing("clean")) == before  # this run's bytes were deleted again


def _listing(top: str) -> list[str]:
    if not default_storage.exists(top):
        return []
    found = []
    dirs, files = default_storage.listdir(top)
    found += [f"{top}/{f}" for f in files]
    for d in dirs:
        found += _listing(f"{top}/{d}")
    return found


def test_the_copy_is_served_under_its_neutral_name(tree, tmp_path):
    stored = _stored(tree, testing.make_tagged_docx(tmp_path / f"{TEACHER}-教学设计.docx"), FileKind.DOCX)
    copy = services.make_clean_copy(stored.pk)
    request = RequestFactory().get("/")
    response = served(services.file_response(request, stored, key=copy.storage_key,
                                             name=neutral_name(12, 1, "教学设计", "docx")), {})
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%E4%BD%9C%E5%93%810012_%E7%AC%AC1%E8%AF%BE%E6%97%B6_"
        "%E6%95%99%E5%AD%A6%E8%AE%BE%E8%AE%A1.docx")
    assert hashlib.sha256(body).hexdigest() == copy.sha256 and names_in(body) == []
