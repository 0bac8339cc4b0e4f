"""Sniffing and probing real generated files, the probe task, and every bad content input."""

import hashlib

import pytest
from django.core.files.storage import default_storage

from media import rules, testing
from media.models import FileKind, ProbeStatus, StoredFile
from media.probe import probe
from media.services import run_probe
from media.signals import file_probed
from media.sniff import sniff

VIDEO_SLOT = {"label": "微课视频", "formats": ["mp4"], "max_size_mb": 1024}
DOC_SLOT = {"label": "教学设计", "formats": ["pdf", "docx"], "max_size_mb": 20}


# --- sniffing -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, name, kind", [
    (lambda p: testing.make_video(p), "a.mp4", FileKind.MP4),
    (lambda p: testing.make_video(p, container="mov"), "a.mov", FileKind.MOV),
    (lambda p: testing.make_video(p, container="matroska"), "a.mkv", FileKind.MKV),
    (lambda p: testing.make_pdf(p), "a.pdf", FileKind.PDF),
    (lambda p: testing.make_docx(p), "a.docx", FileKind.DOCX),
    (lambda p: testing.make_pptx(p), "a.pptx", FileKind.PPTX),
    (lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)), "a.doc", FileKind.DOC),
    (lambda p: p.write_bytes(b""), "a.pdf", FileKind.EMPTY),
    (lambda p: p.write_text("这不是视频"), "a.mp4", FileKind.UNKNOWN),
])
def test_sniff_by_content(tmp_path, make, name, kind):
    path = tmp_path / name
    make(path)
    assert sniff(path) == kind


@pytest.mark.parametrize("brand", [b"heic", b"mif1", b"avif"])
def test_phone_photos_in_iso_boxes_are_not_videos(tmp_path, brand):
    path = tmp_path / "IMG_0001.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x00\x00mif1heic" + bytes(200))
    assert sniff(path) == FileKind.UNKNOWN


def test_the_extension_is_never_trusted(tmp_path):
    # A Word file renamed to .pdf is Word; a PowerPoint renamed to .mp4 is PowerPoint.
    assert sniff(testing.make_docx(tmp_path / "教学设计.pdf")) == FileKind.DOCX
    assert sniff(testing.make_pptx(tmp_path / "微课.mp4")) == FileKind.PPTX


# --- probing ------------------------------------------------------------------------------------------
def test_video_facts_and_frames(tmp_path):
    path = testing.make_video(tmp_path / "hd.mp4", width=1920, height=1080, fps=25, seconds=1)
    result = probe(str(path), "mp4")
    assert result.ok
    f = result.facts
    assert (f["container"], f["video_codec"], f["width"], f["height"], f["display_aspect"]) == ("mp4", "h264", 1920, 1080, "16:9")
    assert f["fps"] == 25.0 and f["audio_codec"] == "aac" and 0.9 <= f["duration_s"] <= 1.1
    assert f["video_bitrate_kbps"] > 0 and 90 <= f["audio_bitrate_kbps"] <= 160
    for name in ("poster", "title"):
        assert result.frames[name][:3] == b"\xff\xd8\xff"  # JPEG


def test_a_generated_full_length_video_meets_the_spec_but_its_bitrate(tmp_path):
    """The demo's lesson videos: 10 minutes of 1080p H.264/AAC made from one encoded block; the
    checks pass everything but the bitrate of a still picture, which is only a warning."""
    path = testing.make_long_video(tmp_path / "lesson.mp4", seconds=600, title=("小小的船", "李晓梅"))
    result = probe(str(path), "mp4")
    f = result.facts
    assert (f["video_codec"], f["width"], f["height"], f["fps"], f["audio_codec"]) == ("h264", 1920, 1080, 25.0, "aac")
    assert abs(f["duration_s"] - 600) < 0.1 and f["size"] < 20 * 1024 * 1024
    findings = rules.evaluate("mp4", f["size"], "done", f, rules.requirements_for(
        {"formats": ["mp4"], "max_size_mb": 1024}, {"min_duration_s": 600, "max_duration_s": 900}))
    levels = {x.rule: x.level for x in findings}
    assert rules.FAIL not in levels.values() and levels["video_bitrate"] == rules.WARN, levels
    assert result.frames["title"][:3] == b"\xff\xd8\xff"


def test_frame_rate_and_missing_audio_are_measured(tmp_path):
    path = testing.make_video(tmp_path / "a.mp4", fps=30, audio=False, seconds=1)
    facts = probe(str(path), "mp4").facts
    assert facts["fps"] == 30.0 and "audio_codec" not in facts
    req = rules.requirements_for(VIDEO_SLOT, {"width": 320, "height": 180, "min_duration_s": 1, "max_duration_s": 5})
    findings = {f.rule: f for f in rules.evaluate("mp4", 10_000, "done", facts, req)}
    assert findings["fps"].summary == "帧率 30 fps，要求 25 fps"
    assert findings["audio"].level == "fail"  # a micro-lecture without sound is unusable (shipped default)


def test_an_upright_phone_recording_is_measured_as_shown(tmp_path):
    from io import BytesIO

    from PIL import Image

    path = testing.make_video(tmp_path / "phone.mp4", width=320, height=180, seconds=1, rotation=90)
    result = probe(str(path), "mp4")
    assert result.ok and result.facts["rotation"] == 90 and result.facts["display_aspect"] == "9:16"
    assert Image.open(BytesIO(result.frames["poster"])).size == (180, 320)  # turned as players show it
    req = rules.requirements_for(VIDEO_SLOT, {"width": 320, "height": 180, "min_duration_s": 1, "max_duration_s": 5})
    findings = {f.rule: f for f in rules.evaluate("mp4", 10_000, "done", result.facts, req)}
    assert findings["resolution"].level == "fail" and findings["resolution"].measured == "180×320（竖屏）"
    assert "横屏" in findings["resolution"].advice and findings["aspect"].level == "fail"
    plain = probe(str(testing.make_video(tmp_path / "flat.mp4", width=320, height=180, seconds=1)), "mp4")
    assert plain.facts["rotation"] == 0 and plain.facts["display_aspect"] == "16:9"


def test_corrupt_and_truncated_videos_are_flagged(tmp_path):
    broken = testing.truncate(testing.make_video(tmp_path / "a.mp4", seconds=4), 0.5)
    assert "不完整" in probe(str(broken), "mp4").error
    # A web export (index first) cut off halfway still opens: the packets tell.
    cut = testing.truncate(testing.make_video(tmp_path / "b.mp4", seconds=6, faststart=True), 0.5)
    error = probe(str(cut), "mp4").error
    assert "不完整" in error and "6 秒" in error
    garbage = tmp_path / "c.mp4"
    garbage.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(5000))
    assert probe(str(garbage), "mp4").error


def test_documents(tmp_path):
    pdf = probe(str(testing.make_pdf(tmp_path / "a.pdf", pages=3, text="Autumn")), "pdf")
    assert pdf.facts == {"encrypted": False, "pages": 3, "chars": pdf.facts["chars"]} and "Autumn 2" in pdf.text
    assert probe(str(testing.make_pdf(tmp_path / "e.pdf", encrypted=True)), "pdf").facts == {"encrypted": True}
    word = probe(str(testing.make_docx(tmp_path / "a.docx")), "docx")
    assert word.facts["chars"] > 10 and "认识秋天" in word.text and word.facts["pages"] == 1
    slides = probe(str(testing.make_pptx(tmp_path / "a.pptx", slides=("一", "二", "三"))), "pptx")
    assert slides.facts["slides"] == 3 and "课件内容" in slides.text


def test_zip_bomb_disguised_as_docx_is_refused_without_inflating(tmp_path, monkeypatch):
    bomb = testing.make_zip_bomb_docx(tmp_path / "教学设计.docx", inflated_mb=320)
    assert bomb.stat().st_size < 2 * 1024 * 1024 and sniff(bomb) == FileKind.DOCX
    monkeypatch.setattr("docx.Document", lambda *a, **k: pytest.fail("python-docx must not open a bomb"))
    result = probe(str(bomb), "docx")
    assert "压缩炸弹" in result.error
    # A high ratio alone is enough, even under the total cap.
    small = testing.make_zip_bomb_docx(tmp_path / "b.docx", inflated_mb=64)
    assert "压缩炸弹" in probe(str(small), "docx").error


def test_external_entities_are_refused(tmp_path):
    result = probe(str(testing.make_xxe_docx(tmp_path / "a.docx")), "docx")
    assert "DOCTYPE" in result.error and "root:" not in result.text


def test_external_entities_in_utf16_are_refused_too(tmp_path):
    result = probe(str(testing.make_xxe_docx(tmp_path / "a.docx", encoding="utf-16")), "docx")
    assert "DOCTYPE" in result.error and not result.text


def test_an_office_file_with_an_open_password_is_flagged(tmp_path):
    # Office wraps a password-protected docx in an OLE2 file: it sniffs like a legacy .doc.
    path = testing.make_encrypted_office(tmp_path / "教学设计.docx")
    assert sniff(path) == FileKind.DOC
    result = probe(str(path), "doc")
    assert result.ok and result.facts["encrypted"] is True
    findings = rules.evaluate("doc", path.stat().st_size, "done", result.facts, rules.requirements_for(DOC_SLOT))
    assert findings[0].rule == "type" and findings[0].level == "fail"
    assert findings[0].measured == "加密的 Office 文件" and "取消密码" in findings[0].advice
    # A legacy Office file without a password (its directory spans several sectors) is not.
    plain = testing.make_ole2(tmp_path / "旧.doc", {f"Stream{i}": b"x" for i in range(10)})
    assert probe(str(plain), "doc").facts["encrypted"] is False


def test_a_broken_legacy_office_file_is_an_error_not_an_exception(tmp_path):
    path = testing.truncate(testing.make_encrypted_office(tmp_path / "a.doc"), 0.04)
    assert sniff(path) == FileKind.DOC and probe(str(path), "doc").error
    junk = tmp_path / "b.doc"
    junk.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    assert probe(str(junk), "doc").error


def test_a_corrupt_office_file_is_refused(tmp_path):
    path = tmp_path / "a.docx"
    data = testing.make_docx(tmp_path / "ok.docx").read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert probe(str(path), "docx").error


# --- the task -------------------------------------------------------------------------------------------
def stored(tree, tmp_path, path, kind):
    data = path.read_bytes()
    key = default_storage.save(f"files/test/{path.name}", open(path, "rb"))
    return StoredFile.objects.create(owner=tree.teacher, storage_key=key, original_name=path.name, size=len(data),
                                     sha256=hashlib.sha256(data).hexdigest(), kind=kind)


def test_run_probe_stores_facts_text_and_frames_and_signals(tree, tmp_path):
    received = []

    def listener(sender, stored_file, **kwargs):
        received.append(stored_file.pk)

    file_probed.connect(listener)
    try:
        video = stored(tree, tmp_path, testing.make_video(tmp_path / "a.mp4", seconds=2), "mp4")
        assert run_probe(video.pk) == ProbeStatus.DONE
        video.refresh_from_db()
        assert video.probe["video_codec"] == "h264" and video.probed_at
        assert default_storage.open(video.poster_key).read(3) == b"\xff\xd8\xff"
        assert default_storage.exists(video.title_frame_key)
        old_poster = video.poster_key
        assert run_probe(video.pk) == "skipped"  # a duplicate task: probed already, nothing done
        assert run_probe(video.pk, force=True) == ProbeStatus.DONE  # asked again: old frames replaced
        video.refresh_from_db()
        assert not default_storage.exists(old_poster) or old_poster == video.poster_key
        doc = stored(tree, tmp_path, testing.make_pdf(tmp_path / "e.pdf", encrypted=True), "pdf")
        assert run_probe(doc.pk) == ProbeStatus.DONE
        doc.refresh_from_db()
        assert doc.probe == {"encrypted": True}
        bad = stored(tree, tmp_path, testing.make_xxe_docx(tmp_path / "x.docx"), "docx")
        assert run_probe(bad.pk) == ProbeStatus.FAILED
        bad.refresh_from_db()
        assert "DOCTYPE" in bad.probe_error and bad.probe == {"error": bad.probe_error}
        assert received == [video.pk, video.pk, doc.pk, bad.pk]
    finally:
        file_probed.disconnect(listener)
    assert run_probe("00000000-0000-0000-0000-000000000000") == "missing"


def test_the_probe_task_runs_through_django_tasks(tree, tmp_path):
    from media.tasks import probe_file

    doc = stored(tree, tmp_path, testing.make_docx(tmp_path / "a.docx"), "docx")
    result = probe_file.enqueue(str(doc.pk))  # the test settings run tasks at once
    assert result.return_value == ProbeStatus.DONE
    doc.refresh_from_db()
    assert "认识秋天" in doc.text


# --- end to end: a tus upload is sniffed and probed -------------------------------------------------------
@pytest.mark.parametrize("name, make, kind, status", [
    ("微课.mp4", lambda p: testing.make_video(p, seconds=1), "mp4", ProbeStatus.DONE),
    ("教学设计.pdf", lambda p: testing.make_docx(p), "docx", ProbeStatus.DONE),  # a Word file behind .pdf
    ("教学设计.docx", lambda p: testing.make_zip_bomb_docx(p, inflated_mb=64), "docx", ProbeStatus.FAILED),
])
def test_an_upload_is_sniffed_and_probed(client, tree, tmp_path, django_capture_on_commit_callbacks,
                                         name, make, kind, status):
    from media.tests.tus_helpers import create, patch

    data = make(tmp_path / f"source.{kind}").read_bytes()
    client.force_login(tree.teacher)
    url = create(client, len(data), name)["Location"].replace("http://testserver", "")
    with django_capture_on_commit_callbacks(execute=True):
        response = patch(client, url, data, 0)
    assert response.status_code == 204
    stored_file = StoredFile.objects.get(pk=response["X-Jpk-File-Id"])
    assert (stored_file.kind, stored_file.probe_status, stored_file.original_name) == (kind, status, name)
