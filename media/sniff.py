"""What a file is, from its bytes. The name and the browser's content type are never trusted.

Reads at most the first 64 KiB and, for zip containers, the central directory (names only; no
member is decompressed here).
"""

from __future__ import annotations

import os
import zipfile

from media.models import FileKind

HEAD = 64 * 1024

# ISO base media (MP4 family): a "ftyp" box at offset 4; the major brand tells MP4 from QuickTime.
QUICKTIME_BRANDS = {b"qt  "}
# ISO base media files that are still pictures (HEIF/HEIC from phones, AVIF) or camera raws: not videos.
IMAGE_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis", b"crx "}
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def sniff_bytes(head: bytes) -> FileKind | None:
    """The kind decided by the first bytes alone; None for zip containers (need the directory)
    and for unknown content."""
    if not head:
        return FileKind.EMPTY
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in IMAGE_BRANDS:
            return FileKind.UNKNOWN
        return FileKind.MOV if brand in QUICKTIME_BRANDS else FileKind.MP4
    if len(head) >= 8 and head[4:8] in (b"moov", b"mdat", b"wide", b"free") and b"ftyp" not in head[:64]:
        return FileKind.MOV  # old QuickTime files without ftyp
    if head.lstrip(b"\x00\t\r\n \xef\xbb\xbf")[:5] == b"%PDF-" or b"%PDF-" in head[:1024]:
        return FileKind.PDF
    if head.startswith(OLE2):
        return FileKind.DOC
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return FileKind.AVI
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return FileKind.MKV
    if head.startswith(b"FLV\x01"):
        return FileKind.FLV
    if head.startswith(b"\xff\xd8\xff"):
        return FileKind.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileKind.PNG
    return None


def office_kind(names: set[str]) -> FileKind:
    """An Office Open XML package by its parts, else a plain zip."""
    if "[Content_Types].xml" not in names:
        return FileKind.ZIP
    if "word/document.xml" in names:
        return FileKind.DOCX
    if "ppt/presentation.xml" in names:
        return FileKind.PPTX
    if "xl/workbook.xml" in names:
        return FileKind.XLSX
    return FileKind.ZIP


def sniff(path: str | os.PathLike) -> FileKind:
    with open(path, "rb") as f:
        return sniff_file(f)


def sniff_file(f) -> FileKind:
    """``sniff`` on an open, seekable binary file (a local file, or a reader that fetches byte
    ranges of an object in the store: only the head and a zip's directory are read)."""
    head = f.read(HEAD)
    kind = sniff_bytes(head)
    if kind is not None:
        return kind
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        f.seek(0)
        try:
            with zipfile.ZipFile(f) as archive:
                return office_kind(set(archive.namelist()))
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return FileKind.ZIP  # a damaged zip: the probe reports it
    return FileKind.UNKNOWN
