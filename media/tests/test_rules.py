"""The pure check rules: a file's measurements against its slot's requirements."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from media import rules
from media.rules import FAIL, PASS, PENDING, WARN, Requirements, VideoSpec

MB = 1024 * 1024
VIDEO_SLOT = {"label": "微课视频", "formats": ["mp4"], "max_size_mb": 1024}
PRIMARY = {"container": "mp4", "video_codec": "h264", "width": 1920, "height": 1080, "fps": "25.00",
           "video_bitrate_kbps": 8000, "audio_codec": "aac", "audio_bitrate_kbps": 128,
           "min_duration_s": 600, "max_duration_s": 900, "max_size_mb": 1024, "title_card_seconds": 5}
GOOD = {"container": "mp4", "video_codec": "h264", "width": 1920, "height": 1080, "display_aspect": "16:9",
        "fps": 25.0, "video_bitrate_kbps": 7900, "audio_codec": "aac", "audio_bitrate_kbps": 128, "duration_s": 720}


def video(**changes):
    req = rules.requirements_for(VIDEO_SLOT, PRIMARY)
    probe = {**GOOD, **changes}
    return rules.evaluate(probe["container"], 500 * MB, "done", probe, req)


def by_rule(findings):
    return {f.rule: f for f in findings}


def test_requirements_from_plain_dicts():
    req = rules.requirements_for(VIDEO_SLOT, PRIMARY)
    assert req.formats == ("mp4",) and req.max_size_bytes == 1024 * MB and req.label == "微课视频"
    assert req.video == VideoSpec(fps=25.0)
    # The smaller of the slot's and the spec's caps applies.
    assert rules.requirements_for({**VIDEO_SLOT, "max_size_mb": 500}, PRIMARY).max_size_bytes == 500 * MB
    doc = rules.requirements_for({"formats": ["PDF", "docx"], "max_size_mb": 20})
    assert doc.formats == ("pdf", "docx") and doc.video is None
    # A change of the spec changes the fingerprint (checks run again).
    assert req.fingerprint() != rules.requirements_for(VIDEO_SLOT, {**PRIMARY, "fps": 30}).fingerprint()
    assert req.fingerprint() == rules.requirements_for(VIDEO_SLOT, dict(PRIMARY)).fingerprint()


def test_a_compliant_video_passes_every_rule():
    findings = video()
    assert rules.overall(findings) == PASS
    assert {"type", "size", "video_codec", "resolution", "aspect", "fps", "video_bitrate", "audio_codec",
            "audio_bitrate", "duration"} <= set(by_rule(findings))


def test_frame_rate_is_a_warning_in_plain_words():
    f = by_rule(video(fps=30.0))["fps"]
    assert f.level == WARN
    assert f.summary == "帧率 30 fps，要求 25 fps"
    assert "25 fps" in f.advice
    assert by_rule(video(fps=25.4))["fps"].level == PASS


@pytest.mark.parametrize("changes, rule, summary", [
    ({"width": 1280, "height": 720}, "resolution", "分辨率 1280×720，要求 1920×1080"),
    ({"width": 1440, "height": 1080, "display_aspect": "4:3"}, "aspect", "画面比例 4:3，要求 16:9"),
    ({"video_codec": "hevc"}, "video_codec", "视频编码 H.265 (HEVC)，要求 H.264"),
    ({"duration_s": 510}, "duration", "时长 8 分 30 秒，要求 10 分钟–15 分钟"),
    ({"duration_s": 1000}, "duration", "时长 16 分 40 秒，要求 10 分钟–15 分钟"),
    ({"container": "mov"}, "type", "文件类型 MOV (QuickTime)，要求 MP4"),
    ({"rotation": 90, "display_aspect": "9:16"}, "resolution", "分辨率 1080×1920（竖屏），要求 1920×1080"),
    # A micro-lecture without sound is unusable: no audio track fails by default.
    ({"audio_codec": None, "audio_bitrate_kbps": None}, "audio", "音频 没有声音，要求 AAC"),
])
def test_hard_failures(changes, rule, summary):
    findings = video(**changes)
    assert by_rule(findings)[rule].level == FAIL
    assert by_rule(findings)[rule].summary == summary
    assert by_rule(findings)[rule].advice
    assert rules.overall(findings) == FAIL


@pytest.mark.parametrize("changes, rule", [
    ({"video_bitrate_kbps": 3000}, "video_bitrate"),
    ({"video_bitrate_kbps": 20000}, "video_bitrate"),
    ({"audio_codec": "mp3"}, "audio_codec"),
    ({"audio_bitrate_kbps": 64}, "audio_bitrate"),
])
def test_warnings_do_not_fail(changes, rule):
    findings = video(**changes)
    assert by_rule(findings)[rule].level == WARN and by_rule(findings)[rule].advice
    assert rules.overall(findings) == WARN


def test_size_over_the_cap_fails_with_both_sizes():
    req = rules.requirements_for(VIDEO_SLOT, PRIMARY)
    f = by_rule(rules.evaluate("mp4", 1200 * MB, "done", GOOD, req))["size"]
    assert f.level == FAIL and f.measured == "1.17 GB" and f.required == "不超过 1.00 GB"


def test_wrong_type_says_content_decides_not_the_extension():
    req = rules.requirements_for({"formats": ["pdf", "docx"], "max_size_mb": 20})
    findings = rules.evaluate("pptx", 10_000, "done", {}, req)
    assert findings[0].rule == "type" and findings[0].level == FAIL
    assert "改扩展名无效" in findings[0].advice
    old = rules.evaluate("doc", 10_000, "done", {}, req)[0]
    assert "另存为" in old.advice and "旧版 Office" in old.measured


def test_names_typed_by_an_administrator_are_understood():
    req = rules.requirements_for({"formats": [".PDF", "DOCX", "pdf"], "max_size_mb": 20},
                                 {**PRIMARY, "container": "MP4", "video_codec": "H.264", "audio_codec": "AAC"})
    assert req.formats == ("pdf", "docx")
    assert (req.video.container, req.video.video_codec, req.video.audio_codec) == ("mp4", "h264", "aac")
    assert req.fingerprint() == rules.requirements_for({"formats": ["pdf", "docx"], "max_size_mb": 20}, PRIMARY).fingerprint()
    assert rules.requirements_for(VIDEO_SLOT, {**PRIMARY, "video_codec": "H.265"}).video.video_codec == "hevc"


def test_an_encrypted_office_file_is_named_as_such():
    req = rules.requirements_for({"formats": ["pdf", "docx"], "max_size_mb": 20})
    before = rules.evaluate("doc", 10_000, "pending", {}, req)[0]
    assert "密码" in before.advice  # before the probe: either an old format or a password
    after = rules.evaluate("doc", 10_000, "done", {"encrypted": True}, req)[0]
    assert after.measured == "加密的 Office 文件" and "取消密码" in after.advice
    legacy = rules.requirements_for({"formats": ["ppt", "pptx"], "max_size_mb": 20})
    assert legacy.formats == ("doc", "pptx")
    assert rules.overall(rules.evaluate("doc", 10_000, "done", {"encrypted": False}, legacy)) == PASS
    assert by_rule(rules.evaluate("doc", 10_000, "done", {"encrypted": True}, legacy))["encrypted"].level == FAIL


def test_empty_file_fails_first():
    req = rules.requirements_for({"formats": ["pdf"], "max_size_mb": 20})
    findings = rules.evaluate("empty", 0, "done", {}, req)
    assert [(f.rule, f.level) for f in findings] == [("empty", FAIL)]


def test_pending_until_probed_and_unreadable_fails():
    req = rules.requirements_for(VIDEO_SLOT, PRIMARY)
    assert rules.overall(rules.evaluate("mp4", MB, "pending", {}, req)) == PENDING
    failed = rules.evaluate("mp4", MB, "failed", {"error": "视频文件不完整"}, req)
    assert rules.overall(failed) == FAIL and by_rule(failed)["readable"].measured == "视频文件不完整"


def test_documents():
    req = rules.requirements_for({"formats": ["pdf", "docx"], "max_size_mb": 20})
    assert rules.overall(rules.evaluate("pdf", 9000, "done", {"pages": 3, "chars": 500}, req)) == PASS
    enc = rules.evaluate("pdf", 9000, "done", {"pages": 3, "encrypted": True}, req)
    assert by_rule(enc)["encrypted"].level == FAIL and "密码" in by_rule(enc)["encrypted"].advice
    scan = rules.evaluate("pdf", 9000, "done", {"pages": 3, "chars": 0}, req)
    assert rules.overall(scan) == WARN and "扫描件" in by_rule(scan)["text"].advice
    assert rules.overall(rules.evaluate("pdf", 9000, "done", {"pages": 0}, req)) == FAIL
    assert rules.overall(rules.evaluate("docx", 9000, "done", {"chars": 0}, req)) == FAIL
    assert rules.overall(rules.evaluate("docx", 9000, "done", {"chars": 120}, req)) == PASS
    slides = rules.requirements_for({"formats": ["pptx", "pdf"], "max_size_mb": 100})
    assert rules.overall(rules.evaluate("pptx", 9000, "done", {"slides": 12}, slides)) == PASS
    assert rules.overall(rules.evaluate("pptx", 9000, "done", {"slides": 0}, slides)) == FAIL


LEVELS = st.sampled_from([PASS, WARN, PENDING, FAIL])


@given(st.lists(LEVELS))
def test_overall_is_the_worst_level(levels):
    findings = [rules.Finding("r", level, "x") for level in levels]
    expected = max(levels, key=rules.SEVERITY.get) if levels else PASS
    assert rules.overall(findings) == expected
    assert rules.overall([f.as_dict() for f in findings]) == expected


@given(st.floats(min_value=1, max_value=120, allow_nan=False), st.floats(min_value=1, max_value=120, allow_nan=False))
def test_frame_rate_never_fails_and_warns_only_outside_the_tolerance(fps, wanted):
    req = Requirements(("mp4",), 0, VideoSpec(fps=wanted))
    f = by_rule(rules.evaluate("mp4", 1, "done", {**GOOD, "fps": fps}, req))["fps"]
    assert f.level == (PASS if abs(fps - wanted) <= rules.FPS_TOLERANCE else WARN)


@given(st.integers(0, 5000))
def test_duration_passes_exactly_inside_the_range(seconds):
    f = by_rule(video(duration_s=seconds))["duration"]
    assert (f.level == PASS) == (600 <= seconds <= 900)


@given(st.floats(min_value=1, max_value=50_000, allow_nan=False), st.integers(500, 20_000))
def test_video_bitrate_never_fails_and_warns_only_outside_the_band(kbps, wanted):
    req = Requirements(("mp4",), 0, VideoSpec(video_bitrate_kbps=wanted))
    f = by_rule(rules.evaluate("mp4", 1, "done", {**GOOD, "video_bitrate_kbps": kbps}, req))["video_bitrate"]
    inside = wanted * rules.VIDEO_BITRATE_LOW <= kbps <= wanted * rules.VIDEO_BITRATE_HIGH
    assert f.level == (PASS if inside else WARN) and (f.level == PASS) == (not f.advice)


@given(st.floats(min_value=0, max_value=120), st.floats(min_value=0, max_value=120))
def test_a_frame_rate_closer_to_the_spec_is_never_judged_worse(a, b):
    req = Requirements(("mp4",), 0, VideoSpec(fps=25))
    level = {x: by_rule(rules.evaluate("mp4", 1, "done", {**GOOD, "fps": x}, req))["fps"].level for x in (a, b)}
    if abs(a - 25) <= abs(b - 25):
        assert rules.SEVERITY[level[a]] <= rules.SEVERITY[level[b]]


# --- severities (campaign data) -----------------------------------------------------------------
def test_shipped_default_severities():
    assert rules.DEFAULT_SEVERITIES == {
        "container": FAIL, "video_codec": FAIL, "resolution": FAIL, "aspect": FAIL, "fps": WARN,
        "video_bitrate": WARN, "audio": FAIL, "audio_codec": WARN, "audio_bitrate": WARN, "duration": FAIL,
        "text": WARN, "extension": WARN}
    # Unknown rules and values are dropped; missing rules take the default.
    assert rules.severities_with_defaults({"fps": "fail", "audio": "loud", "nope": "off"}) == {
        **rules.DEFAULT_SEVERITIES, "fps": FAIL}


def test_a_spec_sets_each_rules_severity():
    def video_at(severities, **changes):
        req = rules.requirements_for(VIDEO_SLOT, {**PRIMARY, "severities": severities})
        return by_rule(rules.evaluate("mp4", 500 * MB, "done", {**GOOD, **changes}, req))

    assert video_at({"fps": "fail"}, fps=30.0)["fps"].level == FAIL
    assert video_at({"audio": "warn"}, audio_codec=None)["audio"].level == WARN
    assert video_at({"duration": "warn"}, duration_s=510)["duration"].level == WARN
    # Off: the rule is not checked, neither its problem nor its pass is shown.
    off = video_at({"fps": "off", "audio": "off"}, fps=30.0, audio_codec=None)
    assert "fps" not in off and "audio" not in off and rules.overall(off.values()) == PASS
    assert "fps" not in video_at({"fps": "off"})
    # A passing rule stays a pass at any severity.
    assert video_at({"fps": "fail"})["fps"].level == PASS
    # Severities decide the findings, so they are part of the fingerprint.
    assert (rules.requirements_for(VIDEO_SLOT, {**PRIMARY, "severities": {"fps": "fail"}}).fingerprint()
            != rules.requirements_for(VIDEO_SLOT, PRIMARY).fingerprint())
    # Given apart from the spec (a document slot of the category takes the spec's severities).
    doc = rules.requirements_for({"formats": ["pdf"], "max_size_mb": 20}, None, {"text": "off"})
    assert [f.rule for f in rules.evaluate("pdf", 9000, "done", {"pages": 3, "chars": 0}, doc)] == ["type", "size", "pages"]


def test_rules_that_make_a_file_unusable_always_fail():
    req = rules.requirements_for(VIDEO_SLOT, {**PRIMARY, "severities": {r: "off" for r in rules.CHECK_RULES}})
    no_video = rules.evaluate("mp4", MB, "done", {"container": "mp4", "duration_s": 720}, req)
    assert [(f.rule, f.level) for f in no_video] == [("type", PASS), ("size", PASS), ("video_track", FAIL)]
    assert rules.overall(rules.evaluate("mp4", MB, "failed", {"error": "坏了"}, req)) == FAIL


# --- the file name's extension against the content --------------------------------------------------
DOCS = {"formats": ["pdf", "docx"], "max_size_mb": 20}


def test_an_extension_that_disagrees_with_the_content_is_reported_not_refused():
    findings = rules.evaluate("pdf", 9000, "done", {"pages": 3, "chars": 500}, rules.requirements_for(DOCS),
                              name="教学设计.docx")
    ext = by_rule(findings)["extension"]
    assert (ext.level, ext.label, ext.measured) == (WARN, "文件名", "扩展名为 .docx，实际内容为 PDF")
    assert ext.summary == "文件名 扩展名为 .docx，实际内容为 PDF"
    assert ext.advice == "文件按实际内容（PDF）检测和使用。建议在电脑上把文件另存为正确的格式，或把扩展名改为 .pdf，以免下载后打不开。"
    assert by_rule(findings)["type"].level == PASS and rules.overall(findings) == WARN


@pytest.mark.parametrize("name, kind, probe_status, probe", [
    ("教学设计.pdf", "pdf", "done", {}),
    ("教学设计.PDF", "pdf", "done", {}),
    ("微课.m4v", "mp4", "done", {}),
    ("照片.jpg", "jpeg", "done", {}),
    ("没有扩展名", "pdf", "done", {}),
    ("说明.txt", "pdf", "done", {}),  # not a type we know by its content
    ("加密的.docx", "doc", "pending", {}),  # an Office file with an open password is OLE2 inside
    ("加密的.docx", "doc", "done", {"encrypted": True}),
])
def test_no_extension_finding_when_the_name_fits_or_says_nothing(name, kind, probe_status, probe):
    assert rules.extension_finding(name, kind, probe_status, probe) is None


def test_a_legacy_office_file_renamed_docx_is_reported_once_probed():
    f = rules.extension_finding("旧.docx", "doc", "done", {"encrypted": False})
    assert f.measured == "扩展名为 .docx，实际内容为 旧版 Office (doc/ppt/xls)"


def test_the_extension_rule_follows_its_severity():
    probe = {"pages": 3, "chars": 500}
    off = rules.requirements_for(DOCS, None, {"extension": "off"})
    assert "extension" not in by_rule(rules.evaluate("pdf", 9000, "done", probe, off, name="a.docx"))
    fail = rules.requirements_for(DOCS, None, {"extension": "fail"})
    assert rules.overall(rules.evaluate("pdf", 9000, "done", probe, fail, name="a.docx")) == FAIL


def test_the_fingerprint_is_the_hash_of_the_requirements_as_a_dict():
    """Stored on every resource (``evaluated_spec``): built field by field, it must stay the hash of
    ``asdict`` it always was, or every file of every course would be judged again."""
    import hashlib
    import json
    from dataclasses import asdict

    video = rules.requirements_for({"formats": ["MP4"], "max_size_mb": 500, "label": "微课视频"},
                                   {"container": "mp4", "video_codec": "H.264", "fps": 25, "severities": {"fps": "warn"}})
    document = rules.requirements_for({"formats": ["pdf", "docx"], "max_size_mb": 50})
    for req in (video, document):
        old = hashlib.sha256(json.dumps(asdict(req), sort_keys=True, default=str).encode()).hexdigest()[:16]
        assert req.fingerprint() == old
    assert video.fingerprint() != document.fingerprint()
