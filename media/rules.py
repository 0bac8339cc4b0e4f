"""Judging a file against what its slot asks for: plain data in, findings out. No ORM, no I/O.

The probe (``media.probe``) measures; this module compares the measurements with the campaign's
requirements for the slot (accepted formats, size cap, and for videos the production spec of the
node's stage) and says, in plain Chinese, what passes, what is off and how to fix it.

Policy. A file that cannot serve as the slot's resource always **fails** (blocks submission): a
type the slot does not accept (judged by content, not name), an empty file, a file over the size
cap, a file that cannot be read (corrupt, truncated, zip bomb, external entities), an encrypted
document (a PDF with a password, or an Office file with an open password, which Office stores as
an OLE2 "EncryptedPackage"), a document without pages/slides/text content, a video without a
video track.

Every other rule (``CHECK_RULES``) has a severity that is campaign data (the production spec's
``severities``): **fail**, **warn** (shown, does not block) or **off** (not checked, not shown).
Shipped defaults (``DEFAULT_SEVERITIES``): fail for a container, video codec, resolution (as
shown: a portrait phone recording turned by its display matrix is 1080×1920), aspect (16:9),
duration outside the stage's range, and no audio track; warn for frame rate off by more than
0.5 fps, video bitrate below 60 % or above 150 % of the spec, another audio codec, audio bitrate
below 75 % of the spec, a PDF from which no text could be extracted (a scan), and a file name
whose extension disagrees with the content (a PDF named ``.docx``: judged as the PDF it is).
**pending**: the probe has not run yet; the overall result is pending until it has.
Overall: fail if anything fails, else pending, else warn, else pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

PASS, WARN, FAIL, PENDING = "pass", "warn", "fail", "pending"
OFF = "off"  # a severity only: the rule is not checked
SEVERITY = {PASS: 0, WARN: 1, PENDING: 2, FAIL: 3}
SEVERITY_LEVELS = (FAIL, WARN, OFF)
SEVERITY_LABELS = {FAIL: gettext_lazy("不通过（阻止提交）"), WARN: gettext_lazy("提醒（不阻止提交）"),
                   OFF: gettext_lazy("不检查")}

# The rules whose severity a campaign sets (production spec), with their label and shipped default.
CHECK_RULES = {
    "container": (gettext_lazy("封装格式"), FAIL),
    "video_codec": (gettext_lazy("视频编码"), FAIL),
    "resolution": (gettext_lazy("分辨率"), FAIL),
    "aspect": (gettext_lazy("画面比例"), FAIL),
    "fps": (gettext_lazy("帧率"), WARN),
    "video_bitrate": (gettext_lazy("视频码率"), WARN),
    "audio": (gettext_lazy("没有音频轨道"), FAIL),
    "audio_codec": (gettext_lazy("音频编码"), WARN),
    "audio_bitrate": (gettext_lazy("音频码率"), WARN),
    "duration": (gettext_lazy("时长"), FAIL),
    "text": (gettext_lazy("PDF 无文字（扫描件）"), WARN),
    "extension": (gettext_lazy("扩展名与内容不符"), WARN),
}
DEFAULT_SEVERITIES = {rule: default for rule, (_label, default) in CHECK_RULES.items()}


def severities_with_defaults(given: Mapping | None = None) -> dict[str, str]:
    """Every rule of ``CHECK_RULES`` with its severity: the given one where it is valid, else the
    shipped default (unknown rules are dropped), in ``CHECK_RULES`` order."""
    given = given or {}
    return {rule: given[rule] if given.get(rule) in SEVERITY_LEVELS else default
            for rule, default in DEFAULT_SEVERITIES.items()}

FPS_TOLERANCE = 0.5
VIDEO_BITRATE_LOW, VIDEO_BITRATE_HIGH = 0.6, 1.5
AUDIO_BITRATE_LOW = 0.75

KIND_LABELS = {
    "mp4": "MP4", "mov": "MOV (QuickTime)", "avi": "AVI", "mkv": "MKV/WebM", "flv": "FLV", "pdf": "PDF",
    "docx": "Word (docx)", "pptx": "PowerPoint (pptx)", "xlsx": "Excel (xlsx)", "doc": gettext_lazy("旧版 Office (doc/ppt/xls)"),
    "zip": "ZIP", "jpeg": "JPEG", "png": "PNG", "empty": gettext_lazy("空文件"),
    "unknown": gettext_lazy("无法识别的格式"),
}
CODEC_LABELS = {"h264": "H.264", "hevc": "H.265 (HEVC)", "mpeg4": "MPEG-4", "vp9": "VP9", "av1": "AV1",
                "aac": "AAC", "mp3": "MP3", "opus": "Opus", "pcm_s16le": "PCM"}
VIDEO_KINDS = {"mp4", "mov", "avi", "mkv", "flv"}


@dataclass(frozen=True)
class VideoSpec:
    container: str = "mp4"
    video_codec: str = "h264"
    width: int = 1920
    height: int = 1080
    fps: float = 25.0
    video_bitrate_kbps: int = 8000
    audio_codec: str = "aac"
    audio_bitrate_kbps: int = 128
    min_duration_s: int = 600
    max_duration_s: int = 900
    title_card_seconds: int = 5


@dataclass(frozen=True)
class Requirements:
    formats: tuple[str, ...]
    max_size_bytes: int
    video: VideoSpec | None = None
    label: str = ""  # the slot's name, e.g. 微课视频
    # (rule, severity) for every rule of CHECK_RULES (a tuple: the requirements stay immutable).
    severities: tuple[tuple[str, str], ...] = tuple(DEFAULT_SEVERITIES.items())

    def severity(self, rule: str) -> str | None:
        """fail / warn / off for a rule of CHECK_RULES; None for a rule that always fails."""
        return dict(self.severities).get(rule)

    def fingerprint(self) -> str:
        """Changes whenever anything that decides the findings changes (re-run the checks): the
        hash of ``asdict(self)`` as JSON, the dict built field by field (``asdict`` deep-copies,
        four times the cost; a package asks it of every file)."""
        import hashlib
        import json

        row = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.video is not None:
            row["video"] = {f.name: getattr(self.video, f.name) for f in fields(self.video)}
        return hashlib.sha256(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Finding:
    rule: str
    level: str
    label: str
    measured: str = ""
    required: str = ""
    advice: str = ""

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def summary(self) -> str:
        """E.g. 帧率 30 fps，要求 25 fps"""
        if self.measured and self.required:
            return _("%(label)s %(measured)s，要求 %(required)s") % {
                "label": self.label, "measured": self.measured, "required": self.required}
        return f"{self.label} {self.measured}".strip()


# Names an administrator may type into the production spec or a slot's formats, and the names
# the probe reports (FileKind values, FFmpeg codec names).
NAME_ALIASES = {
    "h.264": "h264", "h-264": "h264", "avc": "h264", "avc1": "h264", "x264": "h264", "libx264": "h264",
    "h.265": "hevc", "h265": "hevc", "h-265": "hevc", "hvc1": "hevc", "x265": "hevc",
    "aac-lc": "aac", "m4v": "mp4", "quicktime": "mov",
    "matroska": "mkv", "webm": "mkv", "jpg": "jpeg", "ppt": "doc", "xls": "doc",
}


def normalise_name(name) -> str:
    """``"H.264"`` → ``"h264"``, ``".PDF"`` → ``"pdf"``, ``"MP4"`` → ``"mp4"``."""
    text = str(name or "").strip().lower().lstrip(".")
    return NAME_ALIASES.get(text, text)


def requirements_for(slot: Mapping, spec: Mapping | None = None, severities: Mapping | None = None) -> Requirements:
    """From plain dicts: a slot (formats, max_size_mb, label) and, for a video slot, the
    production spec (the fields of VideoSpec; its max_size_mb caps the size too). Format and codec
    names are normalised (``"H.264"``, ``"MP4"``, ``".pdf"`` are understood). The severities are
    ``severities``, else the spec's, completed with the shipped defaults."""
    formats = tuple(dict.fromkeys(normalise_name(f) for f in (slot.get("formats") or ()) if normalise_name(f)))
    caps = [int(slot.get("max_size_mb") or 0)]
    video = None
    if spec:
        video = VideoSpec(**{k: spec[k] for k in VideoSpec.__dataclass_fields__ if spec.get(k) is not None})
        video = VideoSpec(**{**asdict(video), "fps": float(video.fps), "container": normalise_name(video.container),
                             "video_codec": normalise_name(video.video_codec),
                             "audio_codec": normalise_name(video.audio_codec)})
        caps.append(int(spec.get("max_size_mb") or 0))
    caps = [c for c in caps if c > 0]
    max_bytes = min(caps) * 1024 * 1024 if caps else 0
    if severities is None and spec:
        severities = spec.get("severities")
    return Requirements(formats, max_bytes, video, str(slot.get("label") or ""),
                        tuple(severities_with_defaults(severities).items()))


# --- formatting -----------------------------------------------------------------------------------
def size_text(n: int) -> str:
    if n >= 1024 ** 3:
        return f"{n / 1024 ** 3:.2f} GB"
    if n >= 1024 ** 2:
        return f"{n / 1024 ** 2:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return _("%(n)d 字节") % {"n": n}


def duration_text(seconds: float) -> str:
    seconds = int(round(seconds))
    m, s = divmod(seconds, 60)
    if m and s:
        return _("%(m)d 分 %(s)d 秒") % {"m": m, "s": s}
    if m:
        return _("%(m)d 分钟") % {"m": m}
    return _("%(s)d 秒") % {"s": s}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def codec_label(codec: str | None) -> str:
    return CODEC_LABELS.get(codec or "", (codec or "").upper() or _("无"))


def number(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _ratio(w: int, h: int) -> tuple[int, int]:
    from math import gcd

    g = gcd(w, h) or 1
    return w // g, h // g


# --- evaluation -----------------------------------------------------------------------------------
def evaluate(kind: str, size: int, probe_status: str, probe: Mapping | None, requirements: Requirements,
             name: str = "") -> list[Finding]:
    """Every finding for one file (``name``: the file name the teacher gave it) in one slot, in
    the order a teacher would fix them, at the severities of the requirements: a rule set to
    "off" is left out, a rule's problem is a failure or a warning as the campaign says."""
    out = []
    for f in _findings(kind, size, probe_status, probe, requirements, name):
        severity = requirements.severity(f.rule)
        if severity == OFF:
            continue
        if severity and f.level in (WARN, FAIL) and f.level != severity:
            f = replace(f, level=severity)
        out.append(f)
    return out


def extension_of(name: str) -> str:
    """``"教学设计.DOCX"`` → ``"docx"``; "" without one."""
    base = str(name or "").strip().rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    if "." not in base.strip("."):
        return ""
    return base.rsplit(".", 1)[-1].strip().lower()


OFFICE_OPEN_XML = {"docx", "pptx", "xlsx"}


def extension_finding(name: str, kind: str, probe_status: str = "", probe: Mapping | None = None) -> Finding | None:
    """A file whose extension names another known type than its content (a PDF named .docx)."""
    ext = extension_of(name)
    named = normalise_name(ext)
    known = set(KIND_LABELS) - {"empty", "unknown"}
    if not ext or kind in ("empty", "unknown") or named not in known or named == kind:
        return None
    if kind == "doc" and named in OFFICE_OPEN_XML and not (probe_status == "done" and (probe or {}).get("encrypted") is False):
        return None  # an Office file with an open password is OLE2 inside: a .docx until the probe says otherwise
    return Finding("extension", WARN, _("文件名"),
                   _("扩展名为 .%(ext)s，实际内容为 %(kind)s") % {"ext": ext, "kind": kind_label(kind)}, "",
                   _("文件按实际内容（%(kind)s）检测和使用。建议在电脑上把文件另存为正确的格式，或把扩展名改为 .%(right)s，"
                     "以免下载后打不开。") % {"kind": kind_label(kind), "right": kind})


def _findings(kind: str, size: int, probe_status: str, probe: Mapping | None, requirements: Requirements,
              name: str) -> list[Finding]:
    r = requirements
    probe = probe or {}
    out: list[Finding] = []
    accepted = "、".join(kind_label(f) for f in r.formats) or _("任意")

    if kind == "empty" or size == 0:
        return [Finding("empty", FAIL, _("文件内容"), _("空文件（0 字节）"), _("非空文件"),
                        _("文件没有内容，可能是上传前没有保存好。请重新导出后再上传。"))]
    if r.formats and kind not in r.formats:
        advice = _("请另存为 %(formats)s 后重新上传。文件类型按文件内容识别，改扩展名无效。") % {"formats": accepted}
        encrypted_office = kind == "doc" and bool(probe.get("encrypted"))
        if encrypted_office:
            advice = _("这是设置了打开密码的 Office 文件，评审专家无法打开。请用 Office/WPS 打开，取消密码后"
                       "“另存为”%(formats)s 再上传。") % {"formats": accepted}
        elif kind == "doc":
            advice = _("这是旧版 Office 格式（doc/ppt/xls），或是设置了打开密码的 Office 文件（加密后也是这种格式）。"
                       "请用 Office/WPS 打开，如有密码先取消，再“另存为”%(formats)s。") % {"formats": accepted}
        elif kind in VIDEO_KINDS:
            advice = _("请用剪辑软件导出为 %(formats)s（H.264 编码）。") % {"formats": accepted}
        measured = _("加密的 Office 文件") if encrypted_office else kind_label(kind)
        out.append(Finding("type", FAIL, _("文件类型"), measured, accepted, advice))
    else:
        out.append(Finding("type", PASS, _("文件类型"), kind_label(kind), accepted))
    mismatch = extension_finding(name, kind, probe_status, probe)
    if mismatch:
        out.append(mismatch)
    if r.max_size_bytes:
        if size > r.max_size_bytes:
            out.append(Finding("size", FAIL, _("文件大小"), size_text(size), _("不超过 %(cap)s") % {"cap": size_text(r.max_size_bytes)},
                               _("请降低码率重新导出，或压缩图片、删去多余内容。")))
        else:
            out.append(Finding("size", PASS, _("文件大小"), size_text(size), _("不超过 %(cap)s") % {"cap": size_text(r.max_size_bytes)}))
    if any(f.level == FAIL and f.rule == "type" for f in out):
        return out  # nothing more to say about a file of the wrong type

    if probe_status in ("pending", "running"):
        out.append(Finding("probe", PENDING, _("自动检测"), _("检测中"), "", _("正在检测文件，通常一两分钟内完成，请稍后刷新。")))
        return out
    if probe_status == "failed":
        out.append(Finding("readable", FAIL, _("文件可读性"), str(probe.get("error") or _("无法读取")), _("完整、可正常打开的文件"),
                           _("文件已损坏、不完整或格式异常。请确认在本机能正常打开，重新导出后再上传。")))
        return out

    if kind in VIDEO_KINDS and r.video:
        out.extend(_video(probe, r.video))
    elif kind == "pdf":
        out.extend(_pdf(probe))
    elif kind == "docx":
        out.extend(_words(probe))
    elif kind == "pptx":
        out.extend(_slides(probe))
    elif kind == "doc":  # accepted legacy Office: only a password stands in the way
        enc = _encrypted(probe)
        if enc:
            out.append(enc)
    return out


def _video(p: Mapping, spec: VideoSpec) -> list[Finding]:
    out = []
    container = p.get("container", "")
    if container != spec.container:
        out.append(Finding("container", FAIL, _("封装格式"), kind_label(container), kind_label(spec.container),
                           _("请导出为 %(c)s 文件。") % {"c": kind_label(spec.container)}))
    codec = p.get("video_codec")
    if not codec:
        out.append(Finding("video_track", FAIL, _("视频轨道"), _("没有视频画面"), codec_label(spec.video_codec),
                           _("文件里没有视频轨道，请检查导出设置。")))
        return out
    out.append(Finding("video_codec", PASS if codec == spec.video_codec else FAIL, _("视频编码"), codec_label(codec),
                       codec_label(spec.video_codec),
                       "" if codec == spec.video_codec else _("请在导出设置里把视频编码选为 %(c)s。") % {"c": codec_label(spec.video_codec)}))
    w, h = int(p.get("width") or 0), int(p.get("height") or 0)
    upright = int(p.get("rotation") or 0) in (90, 270)  # a phone held upright: players turn the picture
    if upright:
        w, h = h, w
    ok = (w, h) == (spec.width, spec.height)
    advice = "" if ok else _("请按 %(w)d×%(h)d 录制或导出，不要拉伸画面。") % {"w": spec.width, "h": spec.height}
    if upright and not ok:
        advice = _("视频是竖屏拍摄的（播放时画面会竖起来）。请横屏录制，或在剪辑软件里导出为 %(w)d×%(h)d 的横屏画面。") % {
            "w": spec.width, "h": spec.height}
    measured = f"{w}×{h}" + (_("（竖屏）") if upright else "")
    out.append(Finding("resolution", PASS if ok else FAIL, _("分辨率"), measured, f"{spec.width}×{spec.height}", advice))
    dar = p.get("display_aspect") or "{}:{}".format(*_ratio(w, h))
    want = "{}:{}".format(*_ratio(spec.width, spec.height))
    out.append(Finding("aspect", PASS if dar == want else FAIL, _("画面比例"), dar, want,
                       "" if dar == want else _("请使用 %(r)s 的画面比例。") % {"r": want}))
    fps = float(p.get("fps") or 0)
    ok = abs(fps - float(spec.fps)) <= FPS_TOLERANCE
    out.append(Finding("fps", PASS if ok else WARN, _("帧率"), f"{number(fps)} fps", f"{number(spec.fps)} fps",
                       "" if ok else _("请在导出时把帧率设为 %(f)s fps。") % {"f": number(spec.fps)}))
    vbr = p.get("video_bitrate_kbps")
    if vbr:
        low, high = spec.video_bitrate_kbps * VIDEO_BITRATE_LOW, spec.video_bitrate_kbps * VIDEO_BITRATE_HIGH
        level = PASS if low <= vbr <= high else WARN
        advice = ""
        if vbr < low:
            advice = _("码率偏低，画面可能不清晰。请把视频码率设为约 %(r)s Mbps。") % {"r": number(spec.video_bitrate_kbps / 1000)}
        elif vbr > high:
            advice = _("码率偏高，文件会过大。请把视频码率设为约 %(r)s Mbps。") % {"r": number(spec.video_bitrate_kbps / 1000)}
        out.append(Finding("video_bitrate", level, _("视频码率"), f"{number(vbr / 1000)} Mbps",
                           _("约 %(r)s Mbps") % {"r": number(spec.video_bitrate_kbps / 1000)}, advice))
    acodec = p.get("audio_codec")
    if not acodec:
        out.append(Finding("audio", FAIL, _("音频"), _("没有声音"), codec_label(spec.audio_codec),
                           _("视频没有音频轨道。微课通常需要讲解声音，请检查录制或导出设置。")))
    else:
        ok = acodec == spec.audio_codec
        out.append(Finding("audio_codec", PASS if ok else WARN, _("音频编码"), codec_label(acodec), codec_label(spec.audio_codec),
                           "" if ok else _("请在导出设置里把音频编码选为 %(c)s。") % {"c": codec_label(spec.audio_codec)}))
        abr = p.get("audio_bitrate_kbps")
        if abr:
            ok = abr >= spec.audio_bitrate_kbps * AUDIO_BITRATE_LOW
            out.append(Finding("audio_bitrate", PASS if ok else WARN, _("音频码率"), f"{int(round(abr))} kbps",
                               _("约 %(r)d kbps") % {"r": spec.audio_bitrate_kbps},
                               "" if ok else _("音频码率偏低，声音可能不清楚。请设为 %(r)d kbps。") % {"r": spec.audio_bitrate_kbps}))
    duration = float(p.get("duration_s") or 0)
    ok = spec.min_duration_s <= duration <= spec.max_duration_s
    advice = ""
    if duration < spec.min_duration_s:
        advice = _("视频偏短，请补充内容，使时长不少于 %(d)s。") % {"d": duration_text(spec.min_duration_s)}
    elif duration > spec.max_duration_s:
        advice = _("视频偏长，请精简内容，使时长不超过 %(d)s。") % {"d": duration_text(spec.max_duration_s)}
    out.append(Finding("duration", PASS if ok else FAIL, _("时长"), duration_text(duration),
                       f"{duration_text(spec.min_duration_s)}–{duration_text(spec.max_duration_s)}", advice))
    return out


def _encrypted(p: Mapping) -> Finding | None:
    if p.get("encrypted"):
        return Finding("encrypted", FAIL, _("加密"), _("文档已加密"), _("不加密"),
                       _("请取消文档的打开密码或编辑限制后重新导出上传，否则评审专家无法打开。"))
    return None


def _pdf(p: Mapping) -> list[Finding]:
    enc = _encrypted(p)
    if enc:
        return [enc]
    pages = int(p.get("pages") or 0)
    out = [Finding("pages", PASS if pages else FAIL, _("页数"), _("%(n)d 页") % {"n": pages}, _("至少 1 页"),
                   "" if pages else _("文档没有页面，请重新导出。"))]
    if pages and not p.get("chars"):
        out.append(Finding("text", WARN, _("文字内容"), _("未提取到文字"), _("可选中、可检索的文字"),
                           _("这可能是扫描件或图片。建议从 Word/WPS 直接导出 PDF，便于评审和查重。")))
    return out


def _words(p: Mapping) -> list[Finding]:
    enc = _encrypted(p)
    if enc:
        return [enc]
    chars = int(p.get("chars") or 0)
    return [Finding("content", PASS if chars else FAIL, _("文字内容"), _("%(n)d 字") % {"n": chars}, _("有内容"),
                    "" if chars else _("文档里没有文字，请检查是否上传了正确的文件。"))]


def _slides(p: Mapping) -> list[Finding]:
    enc = _encrypted(p)
    if enc:
        return [enc]
    slides = int(p.get("slides") or 0)
    return [Finding("slides", PASS if slides else FAIL, _("幻灯片"), _("%(n)d 张") % {"n": slides}, _("至少 1 张"),
                    "" if slides else _("演示文稿没有幻灯片，请检查是否上传了正确的文件。"))]


def overall(findings: Iterable[Finding | Mapping]) -> str:
    """The worst level: fail > pending > warn > pass (pass for no findings)."""
    worst = PASS
    for f in findings:
        level = f["level"] if isinstance(f, Mapping) else f.level
        if SEVERITY.get(level, 0) > SEVERITY[worst]:
            worst = level
    return worst


# --- probes that never finished ---------------------------------------------------------------------
@dataclass(frozen=True)
class StuckProbes:
    requeue: tuple = ()  # ids to probe again
    give_up: tuple = ()  # ids whose probe was started too often without finishing


def stuck_probes(waiting: Iterable[tuple], queued: set, max_attempts: int) -> StuckProbes:
    """Which files waiting for their probe (``(id, attempts)``, already older than the grace
    period) to send to the queue again: those the queue does not hold (the enqueue was lost, or a
    worker died in the middle). A file whose probe was started ``max_attempts`` times without
    finishing is given up: something in it stops the worker, so it is not tried forever."""
    requeue, give_up = [], []
    for pk, attempts in waiting:
        if str(pk) in queued:
            continue
        (give_up if attempts >= max_attempts else requeue).append(pk)
    return StuckProbes(tuple(requeue), tuple(give_up))


# --- direct uploads to the object store (S3 multipart, media.multipart) ---------------------------
MIB = 1024 * 1024
MIN_PART_BYTES = 16 * MIB  # parts of 16–64 MiB: few signing requests, little lost on a broken part
MAX_PART_BYTES = 64 * MIB
DEFAULT_PART_BYTES = 32 * MIB
MAX_PARTS = 10_000  # the S3 API's limit
SIGN_BATCH = 100  # part URLs signed in one request at most


def upload_size_error(size: int, max_bytes: int, slot_max_bytes: int = 0) -> str | None:
    """Why a declared file size cannot be uploaded (None: it can). ``max_bytes`` is the site's cap
    (JPK_UPLOAD_MAX_MB), ``slot_max_bytes`` the slot's (0: none)."""
    if size <= 0:
        return _("文件是空的（0 字节），不能上传：请检查是否选错了文件，或文件是否已损坏。")
    cap = min(c for c in (max_bytes, slot_max_bytes) if c > 0) if (max_bytes > 0 or slot_max_bytes > 0) else 0
    if cap and size > cap:
        return _("文件太大：%(size)s，这里最多 %(max)s。请压缩后再上传。") % {"size": size_text(size), "max": size_text(cap)}
    if size > MAX_PART_BYTES * MAX_PARTS:
        return _("文件太大：%(size)s，无法分块上传。") % {"size": size_text(size)}
    return None


def upload_type_error(name: str, formats: Iterable[str]) -> str | None:
    """Why a file may not go into a slot accepting ``formats`` (FileKind values), judged by its
    name's extension before a byte is sent (None: it may; no formats: anything). The content is
    judged again when the upload is complete (``sniffed_type_error``)."""
    formats = tuple(formats or ())
    if not formats:
        return None
    ext = extension_of(name)
    if not ext:
        return _("文件名“%(name)s”没有扩展名，无法判断类型。这里接受：%(ok)s。") % {
            "name": str(name)[:80], "ok": "、".join(kind_label(f) for f in formats)}
    if normalise_name(ext) not in formats:
        return _("这里不接受 .%(ext)s 文件，只接受：%(ok)s。请选择正确的文件。") % {
            "ext": ext[:10], "ok": "、".join(kind_label(f) for f in formats)}
    return None


def sniffed_type_error(kind: str, formats: Iterable[str], name: str = "") -> str | None:
    """Why the uploaded content (``kind``, from its first bytes) is refused (None: accepted)."""
    formats = tuple(formats or ())
    if kind in ("empty", "unknown"):
        return _("“%(name)s”的内容无法识别（%(kind)s），文件可能已损坏或不是所选的类型。请用常见软件重新导出后上传。") % {
            "name": str(name)[:80], "kind": kind_label(kind)}
    if formats and kind not in formats and not (kind == "doc" and OFFICE_OPEN_XML & set(formats)):
        return _("“%(name)s”的实际内容是 %(kind)s，这里只接受：%(ok)s。文件已删除，请选择正确的文件重新上传。") % {
            "name": str(name)[:80], "kind": kind_label(kind), "ok": "、".join(kind_label(f) for f in formats)}
    return None


def part_size_for(size: int, preferred: int = DEFAULT_PART_BYTES) -> int:
    """The part size of a multipart upload of ``size`` bytes: ``preferred`` kept within 16–64 MiB,
    larger when the file would need more than 10,000 parts."""
    part = min(max(preferred, MIN_PART_BYTES), MAX_PART_BYTES)
    while part < MAX_PART_BYTES and -(-size // part) > MAX_PARTS:
        part += MIB
    return part


def parts_count(size: int, part_size: int) -> int:
    return max(1, -(-size // part_size))


def part_numbers_error(numbers: Iterable[int], count: int) -> str | None:
    """Why these part numbers cannot be signed for an upload of ``count`` parts (None: they can)."""
    numbers = list(numbers)
    if not numbers:
        return _("请给出要上传的分块编号。")
    if len(numbers) > SIGN_BATCH:
        return _("一次最多签发 %(n)d 个分块地址，请分批请求。") % {"n": SIGN_BATCH}
    bad = [n for n in numbers if not isinstance(n, int) or n < 1 or n > count]
    if bad:
        return _("分块编号 %(n)s 不对：这个文件分为 %(count)d 块，编号从 1 到 %(count)d。") % {"n": bad[0], "count": count}
    return None


def upload_expired(last_activity, now, hours: int) -> bool:
    """An unfinished upload untouched for ``hours`` is stale (the periodic cleanup aborts it)."""
    from datetime import timedelta

    return now - last_activity > timedelta(hours=hours)


def may_use_upload(user_id, owner_id) -> bool:
    """Only whoever started an upload may sign, list, complete or abort it."""
    return user_id is not None and user_id == owner_id
