"""推荐资源包: a unit's recommended entries at its level as one ZIP for the next platform,
streamed while it is read (nothing is built in memory or on disk first).

Layout (names are UTF-8 with the language-encoding flag, bit 11, so Chinese names open right in
Windows 10+ Explorer, macOS Archive Utility and unzip)::

    赤坎区-县级初选-推荐汇总表.xlsx          the summary table (the same workbook as its download)
    资源清单.csv                           one row per file: path, size, sha256, course, teachers, …
    01_赤坎区_小学数学_认识图形/
        第1课时_微课视频.mp4
        第1课时_教学设计.pdf
        …

Folders follow the table's order (序号, i.e. by 推荐顺序); a file's extension comes from its sniffed
type (``StoredFile.kind``), never from the name the teacher's computer gave it. Every member is
stored, not compressed: videos, PDFs and Office files are compressed already, and a stored archive
has a size known before the first byte (``zipstream-ng``'s sized mode), so the response carries a
Content-Length and browsers show progress. ZIP64 records are written where a size or an offset
needs them (files near 1 GB, archives of hundreds of GB).

Scope and permission are those of the summary table: ``services.get_unit`` (the unit's admins and
those above) and ``services.summary_entries`` (only the unit's recommended entries at its level).
Every row is read from the database before streaming starts, in a fixed number of queries
however many entries and files; while streaming, each stored file is opened through the storage
API when its turn comes and read ``CHUNK`` bytes at a time, so memory stays flat whatever the
sizes, with the embedded local folder or S3-compatible storage alike.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from django.core.files.storage import default_storage
from django.db.models import Count, Prefetch, Sum
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from zipstream import ZipStream

from audit.services import record
from campaigns.enums import ResourceKind
from jingpinke.errors import ServiceError
from media.models import StoredFile
from media.services import file_sha256
from selection import exports, rules, services

log = logging.getLogger(__name__)

# Bytes read from storage at a time (each is handed to the server as one block of the body).
CHUNK = 1024 * 1024
# Stored files whose presence and size are checked at once before streaming (S3: HEAD requests).
CHECK_THREADS = 8
ZIP = "application/zip"

# The extension a sniffed type is saved with. An OLE2 file (old Office) cannot tell .doc from
# .ppt by its first bytes: the slot decides (courseware is .ppt, anything else .doc).
EXTENSIONS = {
    "mp4": "mp4", "mov": "mov", "avi": "avi", "mkv": "mkv", "flv": "flv", "pdf": "pdf", "docx": "docx",
    "pptx": "pptx", "xlsx": "xlsx", "zip": "zip", "jpeg": "jpg", "png": "png",
}
# Characters Windows refuses in names (plus the path separators); replaced by "_".
_FORBIDDEN = set('<>:"/\\|?*')
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
TITLE_CHARS = 40  # a course title in a folder name (Windows paths stay well under 260 characters)


# --- names (pure) ------------------------------------------------------------------------------------
def safe_name(text: str, limit: int = TITLE_CHARS) -> str:
    """``text`` as one harmless path component: NFC, no control or format characters, none of
    ``<>:"/\\|?*`` (each becomes "_"), single spaces, no leading or trailing dots or spaces, at most
    ``limit`` characters, never a reserved Windows device name; "_" when nothing is left."""
    text, previous = str(text or ""), None
    for _round in range(4):  # until nothing changes (removing a character may un-normalise the rest)
        if text == previous:
            break
        previous = text
        text = " ".join(unicodedata.normalize("NFC", text).split())
        text = "".join("_" if ch in _FORBIDDEN else ch for ch in text
                       if unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
        text = unicodedata.normalize("NFC", " ".join(text.split())).strip(" .")
        if text.split(".")[0].upper() in _WINDOWS_RESERVED:
            text = "_" + text
        text = text[:limit].rstrip(" .")
    return text or "_"


def folder_name(number: int, width: int, county: str, stage: str, subject: str, title: str) -> str:
    """``01_赤坎区_小学数学_认识图形``: the table's 序号, where the course comes from, what it is."""
    parts = [f"{number:0{width}d}", safe_name(county, 20), safe_name(f"{stage}{subject}", 20), safe_name(title)]
    return "_".join(parts)


def extension(file_kind: str, slot_kind: str) -> str:
    if file_kind == "doc":
        return "ppt" if slot_kind == ResourceKind.SLIDES else "doc"
    return EXTENSIONS.get(file_kind, "bin")


def resource_name(period: int, label: str, file_kind: str, slot_kind: str) -> str:
    """``第1课时_微课视频.mp4``."""
    return safe_name(_("第%(n)s课时_%(label)s") % {"n": period, "label": label}, 60) + "." + extension(file_kind, slot_kind)


def unique(path: str, taken: set[str]) -> str:
    """``path``, or ``name_2.ext`` … when an equal name (compared case-insensitively, as Windows
    and macOS do) is already in the archive."""
    candidate, n = path, 1
    while candidate.casefold() in taken:
        n += 1
        stem, dot, ext = path.rpartition(".")
        candidate = f"{stem}_{n}.{ext}" if dot and "/" not in ext else f"{path}_{n}"
    taken.add(candidate.casefold())
    return candidate


def package_filename(unit, level) -> str:
    return _("%(unit)s-%(level)s-推荐资源包.zip") % {"unit": unit.name, "level": level.name}


def manifest_name() -> str:
    return _("资源清单.csv")


def manifest_headers() -> list[str]:
    return [_("文件路径"), _("大小（字节）"), "SHA-256", _("序号"), _("推荐顺序"), _("课程名称"), _("类别"), _("学段"),
            _("学科"), _("年级"), _("目录节点"), _("学校"), _("所属区县"), _("主讲教师"), _("团队成员"), _("课时"),
            _("资源类型"), _("文件类型"), _("检测结论"), _("文件编号")]


def csv_text(value):
    """A manifest cell; text a spreadsheet would run as a formula (=, +, -, @) gets a leading "'"."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def content_disposition(filename: str, fallback: str) -> str:
    """``attachment`` with an ASCII ``filename`` for old clients and the UTF-8 name as RFC 5987
    ``filename*`` (RFC 6266), which every current browser prefers."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


# --- reading the rows ------------------------------------------------------------------------------
def _entries(actor, campaign, unit, level) -> list:
    from courses.models import Period, Resource

    resources = Resource.objects.select_related("file").order_by("slot_kind", "id")
    periods = Period.objects.order_by("number").prefetch_related(Prefetch("resources", queryset=resources))
    return list(services.summary_entries(actor, campaign, unit, level)
                .prefetch_related(Prefetch("course__periods", queryset=periods)))


def _slots(campaign) -> dict[tuple[str, str], tuple[int, str]]:
    """(category, kind) → (order, label) of the campaign's resource package."""
    from campaigns.models import ResourceSlot

    rows = ResourceSlot.objects.filter(campaign_category__campaign=campaign).values_list(
        "campaign_category__category", "kind", "order", "label")
    return {(category, kind): (order, label) for category, kind, order, label in rows}


def stats(actor, campaign, unit, level) -> dict:
    """How many files the package holds and their bytes (one query; for the page's hint)."""
    from courses.models import Resource

    entries = services.summary_entries(actor, campaign, unit, level).values("course_id")
    row = Resource.objects.filter(period__course__in=entries).aggregate(files=Count("id"), bytes=Sum("file__size"))
    return {"files": row["files"] or 0, "bytes": row["bytes"] or 0}


# --- the package --------------------------------------------------------------------------------------
@dataclass
class Member:
    path: str
    size: int
    sha256: str
    key: str = ""  # storage key of a stored file; empty for the files made here


@dataclass
class Package:
    """A sized ZIP stream and what it holds. Iterate ``body()`` once; ``close()`` releases the
    temporary workbook and any stored file still open (the response calls it)."""

    filename: str
    fallback_filename: str
    entries: int
    members: list[Member]
    stream: ZipStream
    storage: object
    _closers: list = field(default_factory=list)
    _open: set = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.stream)

    @property
    def files(self) -> int:
        return sum(1 for m in self.members if m.key)

    def chunks(self, key: str):
        """A stored file's bytes, ``CHUNK`` at a time; opened only when its turn comes.

        A storage may offer ``open_stream(name)``, a file-like object that reads from the remote
        object as it goes: django-storages' S3 file downloads the whole object into a temporary
        file on the first read(), which the scaled mode's storage class should avoid this way
        (e.g. with boto3's ``get_object()["Body"]``)."""
        opener = getattr(self.storage, "open_stream", None)
        fh = opener(key) if opener is not None else self.storage.open(key, "rb")
        self._open.add(fh)
        try:
            while data := fh.read(CHUNK):
                yield data
        except OSError:
            log.exception("package %s: reading %s failed", self.filename, key)
            raise
        finally:
            self._open.discard(fh)
            fh.close()

    def body(self) -> _Body:
        return _Body(self)

    def close(self) -> None:
        for fh in list(self._open):
            fh.close()
        self._open.clear()
        for closer in self._closers:
            closer()
        self._closers.clear()


class _Body:
    """The response body: iterates the ZIP stream; ``close()`` (called by Django when the
    response is closed, also when the client went away) releases what the package holds."""

    def __init__(self, package: Package):
        self.package = package

    def __iter__(self):
        return iter(self.package.stream)

    def close(self) -> None:
        self.package.close()


def _file_chunks(handle):
    handle.seek(0)
    while data := handle.read(CHUNK):
        yield data


def _check_storage(storage, wanted: list[tuple[str, int, str]]) -> None:
    """Refuse before the first byte when a stored file is missing or has another size than
    recorded: a sized stream cannot recover from that halfway through a download of many GB."""

    def problem(item):
        key, size, label = item
        try:
            actual = storage.size(key)
        except Exception:  # noqa: BLE001 - local: OSError; S3: the client's error for a missing key
            return label
        return label if actual != size else None

    if not wanted:
        return
    with ThreadPoolExecutor(max_workers=min(CHECK_THREADS, len(wanted))) as pool:
        bad = [label for label in pool.map(problem, wanted) if label]
    if bad:
        for label in bad:
            log.error("package: stored file missing or changed: %s", label)
        shown = "；".join(bad[:5]) + (_("等 %(n)s 个") % {"n": len(bad)} if len(bad) > 5 else "")
        raise ServiceError(_("资源包无法生成：以下文件在存储中找不到或已损坏：%(files)s。请联系系统管理员恢复文件后再下载。")
                           % {"files": shown}, errors=[{"rule": "storage", "files": bad}], status=409)


def build(actor, campaign, unit, level, *, now: datetime | None = None, storage=None) -> Package:
    """Read the rows, make the summary workbook and the manifest, and queue every member of the
    archive (nothing of the stored files is read here)."""
    storage = storage or default_storage
    now = now or timezone.now()
    entries = _entries(actor, campaign, unit, level)
    slots = _slots(campaign)
    width = max(2, len(str(len(entries))))
    taken: set[str] = set()
    files: list[tuple[Member, list]] = []  # (member, manifest row)
    for number, entry in enumerate(entries, 1):
        course, textbook = entry.course, entry.node.textbook
        county = services.county_of(course.school)
        folder = unique(folder_name(number, width, county, textbook.stage_label, textbook.subject, course.title),
                        taken)
        teachers = "、".join(m.user.display_name for m in course.members.all())
        for period in course.periods.all():
            resources = sorted(period.resources.all(),
                               key=lambda r: (slots.get((course.category, r.slot_kind), (999, ""))[0], r.slot_kind))
            for resource in resources:
                stored = resource.file
                label = (slots.get((course.category, resource.slot_kind), (0, ""))[1]
                         or (str(ResourceKind(resource.slot_kind).label) if resource.slot_kind in ResourceKind.values
                             else resource.slot_kind))
                path = unique(folder + "/" + resource_name(period.number, label, stored.kind, resource.slot_kind),
                              taken)
                member = Member(path, stored.size, stored.sha256, stored.storage_key)
                files.append((member, [
                    number, entry.rank or "", course.title, rules.category_label(course.category),
                    textbook.stage_label, textbook.subject, textbook.grade, entry.node.label_path or entry.node.title,
                    course.school.name, county, course.lead_teacher.display_name, teachers, period.number, label,
                    stored.get_kind_display(), resource.get_status_display(), str(stored.pk)]))
    _check_storage(storage, [(m.key, m.size, f"{m.path}（{m.key}）") for m, _row in files])
    for member, _row in files:
        if not member.sha256:  # uploaded moments ago: its background check has not hashed it yet
            member.sha256 = file_sha256(StoredFile.objects.get(storage_key=member.key))

    confirmed = services.confirmation(level, unit)
    workbook = exports.summary_workbook(campaign, unit, level,
                                        (services.summary_row(n, e) for n, e in enumerate(entries, 1)),
                                        now=now, confirmed_at=confirmed.confirmed_at if confirmed else None)
    digest, size = hashlib.sha256(), 0
    for data in _file_chunks(workbook):
        digest.update(data)
        size += len(data)
    table = Member(unique(safe_name(exports.summary_filename(campaign, unit, level), 80), taken), size,
                   digest.hexdigest())

    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(manifest_headers())
    writer.writerow([table.path, table.size, table.sha256] + [""] * (len(manifest_headers()) - 3))
    for member, row in files:
        writer.writerow([member.path, member.size, member.sha256, *(csv_text(v) for v in row)])
    manifest_bytes = text.getvalue().encode("utf-8-sig")  # with a BOM: Excel then reads it as UTF-8
    manifest = Member(unique(manifest_name(), taken), len(manifest_bytes), hashlib.sha256(manifest_bytes).hexdigest())

    stream = ZipStream(sized=True)  # stored members: the size is known before the first byte
    package = Package(filename=package_filename(unit, level),
                      fallback_filename=f"package-{unit.code or unit.pk}-{level.kind}.zip", entries=len(entries),
                      members=[table, manifest] + [m for m, _row in files], stream=stream, storage=storage)
    package._closers.append(workbook.close)
    stream.add(_file_chunks(workbook), table.path, size=table.size)
    stream.add(manifest_bytes, manifest.path)
    for member, _row in files:
        stream.add(package.chunks(member.key), member.path, size=member.size)
    return package


def download(actor, campaign, unit, level) -> StreamingHttpResponse:
    """The package as a streamed download (the page and the API serve the same), recorded in the
    audit log of the unit."""
    package = build(actor, campaign, unit, level)
    try:
        record(actor, "selection.package", unit, unit=unit, after={
            "campaign": campaign.pk, "level": level.kind, "entries": package.entries, "files": package.files,
            "bytes": len(package)})
        response = StreamingHttpResponse(package.body(), content_type=ZIP)
    except BaseException:
        package.close()
        raise
    response["Content-Length"] = str(len(package))
    response["Content-Disposition"] = content_disposition(package.filename, package.fallback_filename)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Accel-Buffering"] = "no"  # nginx: pass the blocks on as they come
    return response
