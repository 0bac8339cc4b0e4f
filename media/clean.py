"""Blind copies: a stored file without the metadata that names its authors.

Experts review entries blind: no teacher names, schools or original file names. The review serves
every file under a neutral name (``neutral_name``) from a cleaned copy made once
(``media.services.make_clean_copy``, run as the task ``media.tasks.make_clean_copy``). This module
writes that copy, format by format, streaming with bounded memory:

- DOCX/PPTX: the ZIP is rewritten member by member. ``docProps/core.xml`` becomes an empty
  property set (creator, last modified by, title, subject, keywords, description, revision, dates);
  in ``docProps/app.xml`` Company, Manager, Template and HyperlinkBase are emptied (in a DOCX also
  the title repeated in TitlesOfParts); ``docProps/custom.xml`` is dropped with its relationship and
  content-type entry; the authors of comments and tracked changes (``author``/``initials``
  attributes in every Word/PowerPoint part, ``word/people.xml``, ``ppt/commentAuthors.xml``,
  ``ppt/authors.xml``) become the neutral “作者”; an attached template or a linked local file
  (``file:`` paths name the user's folder) points nowhere. Pictures (JPEG, PNG) lose their EXIF,
  XMP, IPTC, comment and text blocks (a phone photo's EXIF holds the owner and the GPS position of
  the school); their image data is copied as it is, never re-encoded. Every other member is copied
  unchanged (same bytes after decompression), the rewritten parts change only in the values named
  here.
- PDF (pypdf): a new file without the Info dictionary, the XMP metadata streams (of the document,
  its pages, pictures and forms) and the applications' private data (PieceInfo); objects that only earlier revisions
  (incremental updates) reached are not written. Pages are kept. pypdf holds the document's objects
  while writing, so memory follows the PDF's size (documents are capped by the campaign at a few
  tens of MB; videos, the large files, stream).
- MP4/MOV (PyAV): remuxed packet by packet, never re-encoded; container and stream tags (title,
  artist, comment, encoder, handler_name, creation_time, …) are dropped and the writer's own tags
  are suppressed (bitexact), only video and audio streams are kept (subtitle, data and timecode
  tracks go), the index (moov) is written at the front (faststart), so the copy seeks at once.

What stays, knowingly: what the content itself shows. The video's title card (片头) may show the
teacher and the school, as the notices ask; the review's help says so and that is accepted. Text in
the document body, pictures in the slides and the teacher's voice are content, not metadata.

``remaining_metadata`` lists the metadata left in a file (for the tests and for an admin's check);
on a cleaned copy it is empty. Errors are ``CleanError`` with a Chinese message for the user.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

NEUTRAL_AUTHOR = "作者"
CHUNK = 1024 * 1024  # bytes read at a time when copying ZIP members
# Technical tags every MP4 carries (ftyp brands, track language, the default handler names).
VIDEO_TECHNICAL_TAGS = {"major_brand", "minor_version", "compatible_brands"}
VIDEO_NEUTRAL_STREAM_TAGS = {
    "language": None,  # any value: a language code
    "handler_name": {"VideoHandler", "SoundHandler"},
    "vendor_id": {"[0][0][0][0]"},
}
CLEANABLE_KINDS = ("docx", "pptx", "pdf", "mp4", "mov")


class CleanError(Exception):
    """The file cannot be cleaned; the message says why, in Chinese, for the user."""


@dataclass(frozen=True)
class Leftover:
    """One piece of metadata found in a file: where, which field, and its value."""

    where: str
    field: str
    value: str


def clean_copy(source, target, kind: str) -> None:
    """Write a metadata-free copy of the file at ``source`` (of ``kind``, a ``FileKind`` value)
    to ``target``. Raises ``CleanError`` for a file that cannot be cleaned. ``source`` may also be an
    open seekable binary file (a ``RangeReader`` over an object in the store)."""
    from media.probe import is_file, rewound

    source, target = rewound(source) if is_file(source) else str(source), str(target)
    if kind in ("docx", "pptx"):
        clean_office(source, target, kind)
    elif kind == "pdf":
        clean_pdf(source, target)
    elif kind in ("mp4", "mov"):
        clean_video(source, target, kind)
    else:
        raise CleanError(_("该类型的文件（%(kind)s）无法生成匿名副本，只支持 DOCX、PPTX、PDF 和 MP4/MOV。") % {"kind": kind})


def remaining_metadata(path, kind: str) -> list[Leftover]:
    """The metadata that names people, places or software left in the file (empty when clean)."""
    path = str(path)
    if kind in ("docx", "pptx"):
        return office_metadata(path, kind)
    if kind == "pdf":
        return pdf_metadata(path)
    if kind in ("mp4", "mov"):
        return video_metadata(path)
    raise CleanError(_("该类型的文件（%(kind)s）无法检查元数据。") % {"kind": kind})


def neutral_name(code: int | str, period: int | None, resource: str, kind: str) -> str:
    """The name an expert sees: an opaque entry code, the 课时 and the resource type, e.g.
    ``neutral_name(123, 1, "教学设计", "docx") == "作品0123_第1课时_教学设计.docx"``. The extension
    comes from the file's measured kind, never from the uploaded name."""
    code_text = f"{code:04d}" if isinstance(code, int) else re.sub(r"[^0-9A-Za-z-]", "", str(code))
    parts = [f"作品{code_text}"]
    if period:
        parts.append(f"第{int(period)}课时")
    label = re.sub(r"[\\/:*?\"<>|\s]+", "", str(resource or ""))
    if label:
        parts.append(label)
    return "_".join(parts) + f".{kind}"


# --- Office (DOCX/PPTX) ------------------------------------------------------------------------

CORE = "docProps/core.xml"
APP = "docProps/app.xml"
CUSTOM = "docProps/custom.xml"
EMPTY_CORE = (
    b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
    b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
    b'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
)
APP_FIELDS = ("Company", "Manager", "Template", "HyperlinkBase")
PEOPLE_PARTS = {  # part → the attributes naming a person in it
    "word/people.xml": ("author", "userId", "providerId"),
    "ppt/commentAuthors.xml": ("name", "initials"),
    "ppt/authors.xml": ("name", "initials", "userId", "providerId"),
}
AUTHOR_ATTRIBUTES = ("author", "initials")  # in every other Word/PowerPoint part
NEUTRAL_VALUES = {"providerId": "None"}  # what Office writes for a local account
ATTACHED_TEMPLATE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate"
NEUTRAL_TARGET = "about:blank"


def _attribute_pattern(names) -> re.Pattern:
    # An attribute in any namespace prefix, single or double quoted; '<' never occurs inside a
    # value, so a text that ends before a '<' holds only whole tags.
    alternatives = "|".join(map(re.escape, names))
    return re.compile(r"(\s(?:[\w.-]+:)?(" + alternatives + r")\s*=\s*)(\"[^\"]*\"|'[^']*')")


def _neutral_value(name: str) -> str:
    return NEUTRAL_VALUES.get(name, NEUTRAL_AUTHOR)


def _people_attributes(member: str, kind: str) -> tuple[str, ...] | None:
    """Which attributes of ``member`` name people (None: the part is copied unchanged)."""
    if member in PEOPLE_PARTS:
        return PEOPLE_PARTS[member]
    top = "word/" if kind == "docx" else "ppt/"
    if member.startswith(top) and member.endswith(".xml"):
        return AUTHOR_ATTRIBUTES
    return None


def clean_office(source: str, target: str, kind: str) -> None:
    from media.probe import Refused, guard_zip

    try:
        archive = guard_zip(source)  # refuses zip bombs and XML with DTDs before anything is parsed
    except Refused as exc:
        raise CleanError(str(exc)) from None
    try:
        with archive, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
            for info in archive.infolist():
                name = info.filename
                if name == CUSTOM or info.is_dir():
                    continue
                new = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # no save times
                new.compress_type = info.compress_type if info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) else zipfile.ZIP_DEFLATED
                new.external_attr = 0o644 << 16
                if name == CORE:
                    out.writestr(new, EMPTY_CORE)
                elif name == APP:
                    out.writestr(new, _clean_app(_read_small(archive, info), kind))
                elif name == "[Content_Types].xml":
                    out.writestr(new, _drop_custom_type(_read_small(archive, info)))
                elif name.endswith(".rels"):
                    out.writestr(new, _clean_rels(_read_small(archive, info), top_level=name == "_rels/.rels"))
                elif (attributes := _people_attributes(name, kind)) is not None:
                    with archive.open(info) as src, out.open(new, "w", force_zip64=info.file_size > 2**31) as dst:
                        _rewrite_attributes(src, dst, _attribute_pattern(attributes))
                else:
                    with archive.open(info) as src, out.open(new, "w", force_zip64=info.file_size > 2**31) as dst:
                        strip_image(src, dst)
    except (zipfile.BadZipFile, OSError, EOFError, UnicodeDecodeError, LookupError) as exc:
        Path(target).unlink(missing_ok=True)
        if isinstance(exc, FileNotFoundError):
            raise
        raise CleanError(_("文件已损坏：压缩包内的部件无法读取，无法生成匿名副本。请用 Office/WPS 重新保存后上传。")) from None


# Package parts that are rewritten whole (content types, relationships, app properties) are small;
# beyond this they are not a real Office file.
SMALL_PART_LIMIT = 8 * 1024 * 1024


def _read_small(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    if info.file_size > SMALL_PART_LIMIT:
        raise CleanError(_("文件结构异常（部件 %(name)s 过大），无法生成匿名副本。请用 Office/WPS 重新保存后上传。") % {"name": info.filename})
    data = archive.read(info)
    return data.decode(_xml_encoding(data[:200]))


def _xml_encoding(head: bytes) -> str:
    """The codec of an XML part from its first bytes (BOM, or the declaration)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head.startswith(b"<\x00"):
        return "utf-16-le"
    if head.startswith(b"\x00<"):
        return "utf-16-be"
    match = re.match(rb"<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']", head)
    name = match.group(1).decode("ascii") if match else "utf-8"
    codecs.lookup(name)  # LookupError: not a readable part
    return name


def _rewrite_attributes(src, dst, pattern: re.Pattern) -> None:
    """Stream an XML part from ``src`` to ``dst`` replacing the values of the attributes matched
    by ``pattern`` with neutral ones; everything else keeps its bytes. Memory: one chunk plus the
    tag that straddles it."""
    head = src.read(CHUNK)
    encoding = _xml_encoding(head[:200])
    if encoding == "utf-16":  # keep the BOM as it was, then code without one
        bom, head = head[:2], head[2:]
        encoding = "utf-16-le" if bom == codecs.BOM_UTF16_LE else "utf-16-be"
        dst.write(bom)
    elif encoding == "utf-8-sig":
        dst.write(codecs.BOM_UTF8)
        head, encoding = head[3:], "utf-8"
    decoder = codecs.getincrementaldecoder(encoding)()
    encoder = codecs.getincrementalencoder(encoding)()

    def replace(match: re.Match) -> str:
        quote = match.group(3)[0]
        return f"{match.group(1)}{quote}{_neutral_value(match.group(2))}{quote}"

    pending, chunk = "", head
    while chunk:
        pending += decoder.decode(chunk)
        cut = pending.rfind("<")
        if cut > 0:
            dst.write(encoder.encode(pattern.sub(replace, pending[:cut])))
            pending = pending[cut:]
        chunk = src.read(CHUNK)
    pending += decoder.decode(b"", final=True)
    dst.write(encoder.encode(pattern.sub(replace, pending), final=True))


def _element_pattern(name: str) -> re.Pattern:
    return re.compile(r"<((?:[\w.-]+:)?" + re.escape(name) + r")(\s[^>]*)?(?:/>|>.*?</\1\s*>)", re.S)


def _clean_app(text: str, kind: str) -> bytes:
    for name in APP_FIELDS:
        text = _element_pattern(name).sub(lambda m: f"<{m.group(1)}/>", text)
    if kind == "docx":  # Word repeats the document's title here
        text = _element_pattern("TitlesOfParts").sub(
            lambda m: re.sub(r"(<(?:[\w.-]+:)?lpstr)(\s[^>]*)?(?:/>|>.*?</(?:[\w.-]+:)?lpstr\s*>)", r"\1/>", m.group(0), flags=re.S),
            text)
    return text.encode("utf-8") if not text.startswith("\ufeff") else text.encode("utf-8-sig")


def _drop_custom_type(text: str) -> bytes:
    text = re.sub(r"<(?:[\w.-]+:)?Override\s[^>]*PartName\s*=\s*[\"']/docProps/custom\.xml[\"'][^>]*?(?:/>|>\s*</(?:[\w.-]+:)?Override\s*>)",
                  "", text)
    return text.encode("utf-8")


_RELATIONSHIP = re.compile(r"<(?:[\w.-]+:)?Relationship\s[^>]*?(?:/>|>\s*</(?:[\w.-]+:)?Relationship\s*>)", re.S)
_TARGET = re.compile(r"(\sTarget\s*=\s*)([\"'])(.*?)\2", re.S)


def _clean_rels(text: str, top_level: bool) -> bytes:
    def relationship(match: re.Match) -> str:
        tag = match.group(0)
        target = _TARGET.search(tag)
        value = target.group(3) if target else ""
        if top_level and value.lstrip("/").endswith("docProps/custom.xml"):
            return ""
        if ATTACHED_TEMPLATE in tag or _is_local_path(value):
            return _TARGET.sub(lambda m: f"{m.group(1)}{m.group(2)}{NEUTRAL_TARGET}{m.group(2)}", tag, count=1)
        return tag

    return _RELATIONSHIP.sub(relationship, text).encode("utf-8")


def _is_local_path(target: str) -> bool:
    """A link to a file on the author's disk or network share (its path names the user)."""
    target = target.strip()
    return bool(re.match(r"(?i)file:|[a-z]:[\\/]|\\\\", target))


def office_metadata(path: str, kind: str) -> list[Leftover]:
    from defusedxml import ElementTree

    from media.probe import Refused, guard_zip

    try:
        archive = guard_zip(path)
    except Refused as exc:
        raise CleanError(str(exc)) from None
    found: list[Leftover] = []
    with archive:
        names = set(archive.namelist())
        for part, fields in ((CORE, None), (APP, APP_FIELDS), (CUSTOM, None)):
            if part not in names:
                continue
            root = ElementTree.fromstring(archive.read(part))
            for el in root.iter():
                local = el.tag.rsplit("}", 1)[-1]
                value = (el.text or "").strip()
                if el is root or not value or (fields is not None and local not in fields):
                    continue
                if part == CUSTOM:
                    local = next((p.get("name") for p in root if el in p.iter()), local)
                found.append(Leftover(part, local, value))
            if part == APP and kind == "docx":
                for titles in (e for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "TitlesOfParts"):
                    found += [Leftover(part, "TitlesOfParts", e.text.strip()) for e in titles.iter() if (e.text or "").strip()]
        for info in archive.infolist():
            name = info.filename
            if name.endswith(".rels"):
                for rel in _RELATIONSHIP.finditer(archive.read(info).decode("utf-8", "replace")):
                    target = _TARGET.search(rel.group(0))
                    value = target.group(3) if target else ""
                    if value != NEUTRAL_TARGET and (ATTACHED_TEMPLATE in rel.group(0) or _is_local_path(value)):
                        found.append(Leftover(name, "Target", value))
                continue
            attributes = _people_attributes(name, kind)
            if attributes is None:
                with archive.open(info) as member:
                    found += [Leftover(name, block, "") for block in strip_image(member, None)]
                continue
            pattern = _attribute_pattern(attributes)
            data = archive.read(info)
            text = data.decode(_xml_encoding(data[:200]))
            for match in pattern.finditer(text):
                value = match.group(3)[1:-1]
                if value != _neutral_value(match.group(2)):
                    found.append(Leftover(name, match.group(2), value))
    return found


# --- pictures inside Office files ----------------------------------------------------------------

JPEG_DROP = {0xE1: "APP1 (EXIF/XMP)", 0xEC: "APP12", 0xED: "APP13 (IPTC)", 0xFE: "COM"}
JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8)}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_DROP = {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"}


class _Discard:
    def write(self, data) -> None:
        pass


def strip_image(src, dst) -> list[str]:
    """Copy ``src`` to ``dst`` (None: only look), leaving out a JPEG's or PNG's metadata blocks;
    any other content is copied unchanged. Returns the names of the blocks left out. Reads block
    by block (a JPEG segment is at most 64 KiB; PNG chunks are copied in ``CHUNK`` pieces)."""
    out = dst if dst is not None else _Discard()
    head = src.read(8)
    if head.startswith(b"\xff\xd8"):
        return _strip_jpeg(head, src, out)
    out.write(head)
    if head == PNG_SIGNATURE:
        return _strip_png(src, out)
    _copy_rest(src, out)
    return []


def _copy_rest(src, out, limit: int | None = None) -> None:
    left = limit
    while left is None or left > 0:
        block = src.read(CHUNK if left is None else min(CHUNK, left))
        if not block:
            return
        out.write(block)
        if left is not None:
            left -= len(block)


def _strip_jpeg(head: bytes, src, out) -> list[str]:
    dropped: list[str] = []
    out.write(head[:2])
    pending = head[2:]

    def read(n: int) -> bytes:
        nonlocal pending
        data, pending = pending[:n], pending[n:]
        return data + (src.read(n - len(data)) if len(data) < n else b"")

    while True:
        marker = read(2)
        while len(marker) == 2 and marker[0] == 0xFF and marker[1] == 0xFF:  # fill bytes
            marker = b"\xff" + read(1)
        if len(marker) < 2 or marker[0] != 0xFF or marker[1] in (0xDA, 0xD9) or marker[1] in JPEG_STANDALONE:
            out.write(marker + pending)  # the image data (start of scan) onwards: as it is
            _copy_rest(src, out)
            return dropped
        size = read(2)
        length = int.from_bytes(size, "big") if len(size) == 2 else 0
        body = read(max(length - 2, 0))
        if marker[1] in JPEG_DROP:
            dropped.append(JPEG_DROP[marker[1]])
        else:
            out.write(marker + size + body)


def _strip_png(src, out) -> list[str]:
    dropped: list[str] = []
    while len(header := src.read(8)) == 8:
        length, kind = int.from_bytes(header[:4], "big"), header[4:]
        if kind in PNG_DROP:
            _copy_rest(src, _Discard(), length + 4)
            dropped.append(kind.decode("latin-1"))
            continue
        out.write(header)
        _copy_rest(src, out, length + 4)
    out.write(header)
    return dropped


# --- PDF ---------------------------------------------------------------------------------------

PDF_PRIVATE_KEYS = ("/Metadata", "/PieceInfo")


def _open_pdf(path: str):
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        encrypted = reader.is_encrypted
    except (PdfReadError, OSError, ValueError):
        raise CleanError(_("PDF 文件已损坏，无法生成匿名副本。请重新导出 PDF 后上传。")) from None
    if encrypted:
        raise CleanError(_("PDF 文件设置了密码，无法生成匿名副本。请去掉密码后重新上传。"))
    return reader


def clean_pdf(source: str, target: str) -> None:
    """A new file (never an incremental update of the old one): objects only earlier revisions or
    the removed metadata reached are not written."""
    from pypdf import PdfWriter
    from pypdf.errors import PdfReadError
    from pypdf.generic import DictionaryObject

    reader = _open_pdf(source)
    try:
        writer = PdfWriter(clone_from=reader)
        writer.metadata = None
        writer.xmp_metadata = None
        # Every object: the catalog, pages, pictures and forms may each carry their own XMP (a
        # photo placed in Word keeps its author there). ``_objects`` is pypdf's list of them.
        for obj in [writer.root_object, *writer.pages, *writer._objects]:
            if isinstance(obj, DictionaryObject):
                for key in PDF_PRIVATE_KEYS:
                    obj.pop(key, None)
        writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
        with open(target, "wb") as out:
            writer.write(out)
    except (PdfReadError, OSError, ValueError, KeyError, TypeError):
        Path(target).unlink(missing_ok=True)
        raise CleanError(_("PDF 文件已损坏，无法生成匿名副本。请重新导出 PDF 后上传。")) from None


def pdf_metadata(path: str) -> list[Leftover]:
    reader = _open_pdf(path)
    found = [Leftover("Info", key.lstrip("/"), str(value)) for key, value in (reader.metadata or {}).items()]
    root = reader.trailer["/Root"].get_object()
    for key in PDF_PRIVATE_KEYS:
        if key in root:
            found.append(Leftover("Root", key.lstrip("/"), _pdf_value(root[key])))
    for number, page in enumerate(reader.pages, start=1):
        for key in PDF_PRIVATE_KEYS:
            if key in page:
                found.append(Leftover(f"page {number}", key.lstrip("/"), _pdf_value(page[key])))
        found += _xobject_metadata(page, f"page {number}", set())
    return found


def _xobject_metadata(holder, where: str, seen: set) -> list[Leftover]:
    """Metadata of the pictures and forms a page (or a form, recursively) uses."""
    found = []
    resources = holder.get("/Resources")
    xobjects = resources.get_object().get("/XObject") if resources is not None else None
    for name, ref in (xobjects.get_object().items() if xobjects is not None else ()):
        key = getattr(ref, "idnum", None) or id(ref)
        if key in seen:
            continue
        seen.add(key)
        xobject = ref.get_object()
        for private in PDF_PRIVATE_KEYS:
            if private in xobject:
                found.append(Leftover(f"{where} {name}", private.lstrip("/"), _pdf_value(xobject[private])))
        found += _xobject_metadata(xobject, f"{where} {name}", seen)
    return found


def _pdf_value(obj) -> str:
    obj = obj.get_object()
    if hasattr(obj, "get_data"):
        return obj.get_data().decode("utf-8", "replace")
    return str(obj)


# --- video -------------------------------------------------------------------------------------


def clean_video(source: str, target: str, kind: str) -> None:
    """Remux without re-encoding. Memory: one packet at a time (FFmpeg's faststart pass moves the
    index with a fixed buffer)."""
    import av

    try:
        container = av.open(source, metadata_errors="ignore")
    except (av.FFmpegError, OSError, UnicodeDecodeError):
        raise CleanError(_("视频文件无法打开，无法生成匿名副本。请重新导出 MP4 后上传。")) from None
    try:
        with container, av.open(target, "w", format="mp4" if kind == "mp4" else "mov",
                                options={"movflags": "+faststart", "fflags": "+bitexact"}) as out:
            out.metadata.clear()
            streams = {}
            for stream in container.streams:
                if stream.type in ("video", "audio"):
                    copy = out.add_stream_from_template(stream)
                    copy.metadata.clear()
                    streams[stream.index] = copy
            if not streams:
                raise CleanError(_("视频文件中没有视频或音频流，无法生成匿名副本。"))
            for packet in container.demux([container.streams[i] for i in streams]):
                if packet.dts is None:  # the demuxer's end-of-stream marker
                    continue
                packet.stream = streams[packet.stream.index]
                out.mux(packet)
    except CleanError:
        Path(target).unlink(missing_ok=True)
        raise
    except (av.FFmpegError, OSError, ValueError):
        Path(target).unlink(missing_ok=True)
        raise CleanError(_("视频文件已损坏或不完整，无法生成匿名副本。请重新导出 MP4 后上传。")) from None


def video_metadata(path: str) -> list[Leftover]:
    import av

    try:
        container = av.open(path, metadata_errors="ignore")
    except (av.FFmpegError, OSError, UnicodeDecodeError):
        raise CleanError(_("视频文件无法打开。")) from None
    found = []
    with container:
        for key, value in container.metadata.items():
            if key not in VIDEO_TECHNICAL_TAGS:
                found.append(Leftover("container", key, str(value)))
        for stream in container.streams:
            where = f"stream {stream.index} ({stream.type})"
            if stream.type not in ("video", "audio"):
                found.append(Leftover(where, "stream", stream.type))
            for key, value in stream.metadata.items():
                allowed = VIDEO_NEUTRAL_STREAM_TAGS.get(key, ())
                if allowed is None or value in allowed:
                    continue
                found.append(Leftover(where, key, str(value)))
    return found
