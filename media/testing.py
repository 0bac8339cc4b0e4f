"""Small generated files for tests and the benchmark (nothing binary is committed).

Videos with PyAV (H.264 + AAC through the FFmpeg inside its wheel), PDFs written by hand (with
pypdf for encryption), Word and PowerPoint files with python-docx / python-pptx, and the hostile
variants: truncated MP4, zip bomb in DOCX clothing, DOCX with an external entity.
"""

from __future__ import annotations

import io
import math
import re
import struct
import zipfile
from fractions import Fraction
from pathlib import Path

import av


def make_video(path, *, width=320, height=180, fps=25, seconds=1.0, codec="h264", audio=True,
               container=None, video_bitrate=None, audio_bitrate=128_000, audio_codec="aac",
               faststart=False, rotation=0) -> Path:
    """A clip of coloured frames (and a tone). ``container``: e.g. "mp4", "mov", "matroska"; by
    default taken from the file name. ``faststart``: the index (moov) before the media data, as
    web exports do; a broken-off copy of such a file still opens. ``rotation``: a display matrix
    turning the picture (degrees counter-clockwise), as phones write for an upright recording."""
    path = Path(path)
    frames = max(1, int(round(seconds * fps)))
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), mode="w", format=container, options=options) as out:
        v = out.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
        v.width, v.height = width, height
        v.pix_fmt = "yuv420p"
        if codec in ("h264", "libx264"):
            v.options = {"preset": "ultrafast", "tune": "zerolatency"}
        if video_bitrate:
            v.bit_rate = video_bitrate
        if rotation:
            v.set_display_rotation(rotation)
        a = None
        if audio:
            a = out.add_stream(audio_codec, rate=48000)
            a.bit_rate = audio_bitrate
            a.layout = "stereo"
        for i in range(frames):
            frame = av.VideoFrame(width, height, "yuv420p")
            shade = (i * 7) % 256
            y, u, vv = frame.planes
            y.update(bytes([shade]) * (y.line_size * height))
            u.update(bytes([90]) * (u.line_size * (height // 2)))
            vv.update(bytes([(255 - shade) % 256]) * (vv.line_size * (height // 2)))
            frame.pts = i
            for packet in v.encode(frame):
                out.mux(packet)
        for packet in v.encode():
            out.mux(packet)
        if a is not None:
            samples, total, t = 1024, int(seconds * 48000), 0
            while t < total:
                n = min(samples, total - t)
                tone = struct.pack(f"<{n}f", *(0.2 * math.sin(2 * math.pi * 440 * (t + k) / 48000) for k in range(n)))
                frame = av.AudioFrame(format="fltp", layout="stereo", samples=n)
                for plane in frame.planes:
                    plane.update(tone + bytes(plane.buffer_size - len(tone)))
                frame.sample_rate = 48000
                frame.pts = t
                for packet in a.encode(frame):
                    out.mux(packet)
                t += n
            for packet in a.encode():
                out.mux(packet)
    return path


CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


def title_card(width: int, height: int, lines: tuple[str, ...]) -> av.VideoFrame:
    """A title card (片头) as the notices ask for: the lines centred on a blue ground. Without the
    CJK font (Debian's fonts-wqy-microhei) the card is plain."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (width, height), (24, 70, 140))
    if lines and Path(CJK_FONT).exists():
        draw = ImageDraw.Draw(image)
        size = max(12, height // 14)
        y = height // 2 - len(lines) * size * 3 // 4
        for i, line in enumerate(lines):
            font = ImageFont.truetype(CJK_FONT, size if i == 0 else size * 2 // 3)
            box = draw.textbbox((0, 0), line, font=font)
            draw.text(((width - (box[2] - box[0])) // 2, y), line, font=font, fill=(255, 255, 255))
            y += (box[3] - box[1]) + size // 2
    return av.VideoFrame.from_image(image).reformat(format="yuv420p")


def make_long_video(path, *, seconds=600, width=1920, height=1080, fps=25, title=(), block_seconds=10,
                    audio=True) -> Path:
    """A full-length lesson video in about a second: ``block_seconds`` of a still title card are
    encoded once (H.264, a key frame at the start of each block) and their packets are muxed again
    for every further block, with AAC silence beside it. The result has the spec's container, codecs,
    resolution, frame rate and duration, but a very low bitrate (a still picture), which the
    checks report as a warning. ``audio=False``: no audio track at all (a recording whose sound
    was lost). For the demo, the benchmark and the checks' tests, where a real 10-minute 1080p
    encode would take minutes."""
    path = Path(path)
    with av.open(str(path), mode="w", format="mp4") as out:
        v = out.add_stream("h264", rate=fps)
        v.width, v.height, v.pix_fmt = width, height, "yuv420p"
        block = fps * block_seconds
        v.options = {"preset": "ultrafast", "g": str(block), "keyint_min": str(block), "sc_threshold": "0",
                     "bframes": "0"}
        a = out.add_stream("aac", rate=48000) if audio else None
        if a is not None:
            a.layout, a.bit_rate = "stereo", 128_000
        card = title_card(width, height, tuple(title))
        second = []  # the packets of one block
        for i in range(block):
            frame = card.reformat(format="yuv420p")
            frame.pts = i
            second += [(bytes(p), p.pts, p.dts, p.is_keyframe) for p in v.encode(frame)]
        second += [(bytes(p), p.pts, p.dts, p.is_keyframe) for p in v.encode()]
        silence, t = None, 0
        while a is not None and silence is None:  # the first packets carry the encoder's priming; take a steady one
            frame = av.AudioFrame(format="fltp", layout="stereo", samples=1024)
            for plane in frame.planes:
                plane.update(bytes(plane.buffer_size))
            frame.sample_rate, frame.pts = 48000, t
            t += 1024
            for p in a.encode(frame):
                if p.pts is not None and p.pts >= 2048:
                    silence = bytes(p)
        video_tb, audio_tb, sent = Fraction(1, fps), Fraction(1, 48000), 0
        for k in range(-(-int(seconds) // block_seconds)):
            for data, pts, dts, key in second:
                if pts + k * block >= seconds * fps:
                    break
                p = av.Packet(data)
                p.stream, p.time_base, p.duration = v, video_tb, 1
                p.pts, p.dts, p.is_keyframe = pts + k * block, dts + k * block, key
                out.mux(p)
            while a is not None and sent * 1024 < min((k + 1) * block_seconds, seconds) * 48000:
                p = av.Packet(silence)
                p.stream, p.time_base, p.duration = a, audio_tb, 1024
                p.pts = p.dts = sent * 1024
                out.mux(p)
                sent += 1
    return path


def truncate(path, keep_fraction=0.5) -> Path:
    """Cut a file to a fraction of its size (a broken-off copy)."""
    path = Path(path)
    data = path.read_bytes()
    path.write_bytes(data[: max(1, int(len(data) * keep_fraction))])
    return path


def _pdf_string(text: str) -> bytes:
    # Latin text only (the standard Helvetica font); CJK needs an embedded font.
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("latin-1", "replace")


def pdf_bytes(pages=1, text="Lesson plan") -> bytes:
    """A minimal valid PDF with ``pages`` pages, each showing ``text`` (extractable)."""
    objects: list[bytes] = []
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    font_id = 3 + 2 * pages
    for i in range(pages):
        content = b"BT /F1 18 Tf 72 720 Td (" + _pdf_string(f"{text} {i + 1}") + b") Tj ET"
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def make_pdf(path, pages=1, text="Lesson plan", encrypted=False) -> Path:
    path = Path(path)
    data = pdf_bytes(pages, text)
    if encrypted:
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
        writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")  # RC4 needs no extra package
        buf = io.BytesIO()
        writer.write(buf)
        data = buf.getvalue()
    path.write_bytes(data)
    return path


def make_docx(path, paragraphs=("教学目标：认识秋天的特征。", "教学过程：观察、朗读、交流。")) -> Path:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))
    return Path(path)


def make_pptx(path, slides=("秋天", "学习目标")) -> Path:
    from pptx import Presentation

    presentation = Presentation()
    layout = presentation.slide_layouts[1]
    for title in slides:
        slide = presentation.slides.add_slide(layout)
        slide.shapes.title.text = title
        slide.placeholders[1].text = f"{title}：课件内容"
    presentation.save(str(path))
    return Path(path)


def make_zip_bomb_docx(path, inflated_mb=2048) -> Path:
    """A DOCX-shaped zip whose document part inflates to ``inflated_mb`` MiB (a few MiB on disk).

    The member is written with a forged header: its declared size is what a checker reads from
    the central directory, while the stored stream stays small."""
    path = Path(path)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        chunk = b"0" * (1024 * 1024)
        with z.open("word/document.xml", "w", force_zip64=True) as member:
            for _ in range(inflated_mb):
                member.write(chunk)
    return path


def make_xxe_docx(path, encoding="utf-8") -> Path:
    """A DOCX whose document part declares an external entity (file:///etc/passwd); the part is
    written in ``encoding`` (e.g. "utf-16" to dodge a byte scan for ``<!DOCTYPE``)."""
    path = Path(path)
    make_docx(path)
    evil = (f'<?xml version="1.0" encoding="{encoding.upper()}" standalone="yes"?>\n'
            '<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            '<w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>')
    source = zipfile.ZipFile(path)
    members = {name: source.read(name) for name in source.namelist()}
    source.close()
    members["word/document.xml"] = evil.encode(encoding)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def make_ole2(path, streams: dict[str, bytes]) -> Path:
    """A minimal OLE2 compound file (512-byte sectors, no mini stream: every stream is padded to
    4096 bytes) holding ``streams`` under the root. Enough for directory readers."""
    sector = 512
    end, free, fat_mark = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    names = list(streams)
    entries_per_sector = sector // 128
    dir_sectors = -(-(len(names) + 1) // entries_per_sector)
    datas = [streams[n].ljust(max(4096, -(-len(streams[n]) // sector) * sector), b"\0") for n in names]
    data_sectors = [len(d) // sector for d in datas]
    fat_sectors = 1
    while fat_sectors * (sector // 4) < fat_sectors + dir_sectors + sum(data_sectors):
        fat_sectors += 1
    fat = [fat_mark] * fat_sectors
    first_dir = len(fat)
    fat += [first_dir + i + 1 for i in range(dir_sectors - 1)] + [end]
    starts = []
    for count in data_sectors:
        start = len(fat)
        starts.append(start)
        fat += [start + i + 1 for i in range(count - 1)] + [end]
    fat += [free] * (fat_sectors * (sector // 4) - len(fat))

    def entry(name: str, kind: int, child=free, right=free, start=end, size=0) -> bytes:
        raw = (name + "\0").encode("utf-16-le")
        return (raw.ljust(64, b"\0") + struct.pack("<HBBIII", len(raw), kind, 1, free, right, child)
                + bytes(16) + bytes(4) + bytes(16) + struct.pack("<IQ", start, size))

    directory = entry("Root Entry", 5, child=1 if names else free)
    for i, name in enumerate(names):
        right = i + 2 if i + 1 < len(names) else free
        directory += entry(name, 2, right=right, start=starts[i], size=len(streams[name]))
    directory = directory.ljust(dir_sectors * sector, b"\0")
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + bytes(6)
              + struct.pack("<IIIIIIIII", 0, fat_sectors, first_dir, 0, 4096, end, 0, end, 0)
              + struct.pack("<109I", *(list(range(fat_sectors)) + [free] * (109 - fat_sectors))))
    assert len(header) == 512 and fat_sectors <= 109
    path = Path(path)
    path.write_bytes(header + struct.pack(f"<{len(fat)}I", *fat) + directory + b"".join(datas))
    return path


def make_encrypted_office(path) -> Path:
    """What Office writes for a .docx/.pptx with an open password: an OLE2 file holding the
    encrypted package (the contents here are random bytes)."""
    import os

    return make_ole2(path, {"\x06DataSpaces": b"", "EncryptionInfo": os.urandom(1024),
                            "EncryptedPackage": os.urandom(6000), "\x05SummaryInformation": b""})


# --- blind copies: files whose every metadata field names the teacher and the school ------------
# (media.clean strips them; the review's tests check each side channel with these.)

_CUSTOM_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="Teacher"><vt:lpwstr>{person}</vt:lpwstr></property>'
    '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="3" name="School"><vt:lpwstr>{school}</vt:lpwstr></property>'
    '</Properties>')
_CUSTOM_TYPE = '<Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/>'
_CUSTOM_REL = ('<Relationship Id="rIdCustom9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
               'custom-properties" Target="docProps/custom.xml"/>')


def _set_core(props, person: str, school: str) -> None:
    import datetime

    props.author = person
    props.last_modified_by = person
    props.title = f"{school}{person}的教学设计"
    props.subject = school
    props.keywords = f"{person};{school}"
    props.comments = f"{school} {person}"
    props.category = school
    props.content_status = person
    props.identifier = person
    props.version = school
    props.created = props.modified = props.last_printed = datetime.datetime(2024, 9, 1, 8, 0)
    props.revision = 7


def _rewrite_zip(path: Path, edit) -> None:
    """Apply ``edit(members)`` (a dict name → bytes, changed in place) to a small zip file."""
    with zipfile.ZipFile(path) as source:
        members = {name: source.read(name) for name in source.namelist()}
    edit(members)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)


def _tag_package(members: dict, person: str, school: str, template_rels: str) -> None:
    """Company/Manager/Template in app.xml, custom properties with their relationship and type,
    an attached template on the author's disk."""
    app = members["docProps/app.xml"].decode()
    for tag, value in (("Template", f"{school}.dotm"), ("Manager", person), ("Company", school),
                       ("HyperlinkBase", f"file:///D:/{person}/")):
        app, found = re.subn(rf"<{tag}>.*?</{tag}>|<{tag}/>", f"<{tag}>{value}</{tag}>", app)
        if not found:
            app = app.replace("</Properties>", f"<{tag}>{value}</{tag}></Properties>")
    members["docProps/app.xml"] = app.encode()
    members["docProps/custom.xml"] = _CUSTOM_XML.replace("{person}", person).replace("{school}", school).encode()
    members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(b"</Types>", _CUSTOM_TYPE.encode() + b"</Types>")
    members["_rels/.rels"] = members["_rels/.rels"].replace(b"</Relationships>", _CUSTOM_REL.encode() + b"</Relationships>")
    template = (f'<Relationship Id="rIdTpl9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                f'attachedTemplate" Target="file:///C:/Users/{person}/AppData/Roaming/Microsoft/Templates/{school}.dotm" '
                f'TargetMode="External"/>')
    if template_rels in members:
        members[template_rels] = members[template_rels].replace(b"</Relationships>", template.encode() + b"</Relationships>")
    else:
        members[template_rels] = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{template}</Relationships>').encode()


def tagged_picture(person="李明华", school="湛江市第二十一小学", fmt="JPEG") -> bytes:
    """A small photo as a phone takes it: EXIF (artist, copyright, description), XMP and a comment
    (JPEG) or text chunks (PNG) naming ``person`` and ``school``."""
    from PIL import Image, PngImagePlugin

    image = Image.new("RGB", (64, 48), (200, 100, 50))
    exif = Image.Exif()
    exif[0x013B], exif[0x8298], exif[0x010E] = person, school, f"{school}{person}"
    out = io.BytesIO()
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("Author", person)
        info.add_itxt("Comment", school)
        image.save(out, "PNG", pnginfo=info, exif=exif)
    else:
        image.save(out, "JPEG", exif=exif, comment=school.encode(),
                   xmp=f"<x:xmpmeta><dc:creator>{person}</dc:creator></x:xmpmeta>".encode())
    return out.getvalue()


def make_tagged_docx(path, person="李明华", school="湛江市第二十一小学",
                     paragraphs=("教学目标：认识秋天的特征。", "教学过程：观察、朗读、交流。")) -> Path:
    """A lesson plan whose metadata names ``person`` and ``school`` everywhere Word keeps it: core
    and app properties, custom properties, a comment (author, initials), a tracked insertion and
    deletion, the co-authors list (word/people.xml), an attached template under the user's folder,
    a photo's EXIF/XMP/comment. The body text names neither."""
    import docx

    path = Path(path)
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.add_comment(document.paragraphs[0].runs, text="请补充学情分析。", author=person, initials="LMH")
    plain = io.BytesIO()
    __import__("PIL.Image").Image.new("RGB", (64, 48), (200, 100, 50)).save(plain, "JPEG")
    document.add_picture(plain)  # python-docx cannot parse every EXIF block: the tagged bytes go in below
    _set_core(document.core_properties, person, school)
    document.save(str(path))

    def edit(members):
        _tag_package(members, person, school, "word/_rels/settings.xml.rels")
        for name in [n for n in members if n.startswith("word/media/")]:
            members[name] = tagged_picture(person, school)
        body = members["word/document.xml"].decode()
        revision = (f'<w:p><w:ins w:id="901" w:author="{person}" w:date="2024-09-01T08:00:00Z"><w:r><w:t>修订：增加板书。</w:t></w:r></w:ins>'
                    f'<w:del w:id="902" w:author=\'{school}\' w:date="2024-09-01T08:00:00Z"><w:r><w:delText>旧内容</w:delText></w:r></w:del></w:p>')
        members["word/document.xml"] = body.replace("<w:sectPr", revision + "<w:sectPr", 1).encode()
        settings = members["word/settings.xml"].decode()
        members["word/settings.xml"] = re.sub(r"(<w:settings[^>]*>)", r'\1<w:attachedTemplate r:id="rIdTpl9"/>', settings, count=1).encode()
        members["word/people.xml"] = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<w15:people xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml">'
            f'<w15:person w15:author="{person}"><w15:presenceInfo w15:providerId="AD" w15:userId="{school}\\{person}"/></w15:person>'
            '</w15:people>').encode()
        members["word/_rels/document.xml.rels"] = members["word/_rels/document.xml.rels"].replace(
            b"</Relationships>", b'<Relationship Id="rIdPeople9" Type="http://schemas.microsoft.com/office/2011/relationships/people" '
                                 b'Target="people.xml"/></Relationships>')
        members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
            b"</Types>", b'<Override PartName="/word/people.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.people+xml"/></Types>')

    _rewrite_zip(path, edit)
    return path


def make_tagged_pptx(path, person="李明华", school="湛江市第二十一小学", slides=("秋天", "学习目标")) -> Path:
    """Slides whose metadata names ``person`` and ``school``: core, app and custom properties, the
    comment authors (classic ppt/commentAuthors.xml and modern ppt/authors.xml) with a comment,
    an attached template, a PNG's text chunks and EXIF. The slides' text names neither."""
    path = make_pptx(path, slides)
    from pptx import Presentation

    presentation = Presentation(str(path))
    presentation.slides[0].shapes.add_picture(io.BytesIO(tagged_picture(person, school, "PNG")), 0, 0)
    _set_core(presentation.core_properties, person, school)
    presentation.save(str(path))

    def edit(members):
        _tag_package(members, person, school, "ppt/_rels/presentation.xml.rels")
        members["ppt/commentAuthors.xml"] = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<p:cmAuthorLst xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main">'
            f'<p:cmAuthor id="0" name="{person}" initials="LMH" lastIdx="1" clrIdx="0"/>'
            f'<p:cmAuthor id="1" name="{school}" initials="ZJ21" lastIdx="0" clrIdx="1"/></p:cmAuthorLst>').encode()
        members["ppt/authors.xml"] = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<p188:authorLst xmlns:p188="http://schemas.microsoft.com/office/powerpoint/2018/8/main">'
            f'<p188:author id="{{00000000-0000-0000-0000-000000000001}}" name="{person}" initials="LMH" '
            f'userId="{person}@{school}" providerId="AD"/></p188:authorLst>').encode()
        members["ppt/comments/comment1.xml"] = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<p:cmLst xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main">'
            '<p:cm authorId="0" dt="2024-09-01T08:00:00.000" idx="1"><p:pos x="10" y="10"/><p:text>图片请换高清。</p:text></p:cm>'
            '</p:cmLst>').encode()
        members["ppt/_rels/presentation.xml.rels"] = members["ppt/_rels/presentation.xml.rels"].replace(
            b"</Relationships>", b'<Relationship Id="rIdAuthors9" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                                 b'relationships/commentAuthors" Target="commentAuthors.xml"/></Relationships>')
        members["ppt/slides/_rels/slide1.xml.rels"] = members["ppt/slides/_rels/slide1.xml.rels"].replace(
            b"</Relationships>", b'<Relationship Id="rIdCm9" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                                 b'relationships/comments" Target="../comments/comment1.xml"/></Relationships>')
        members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
            b"</Types>", b'<Override PartName="/ppt/commentAuthors.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                         b'presentationml.commentAuthors+xml"/><Override PartName="/ppt/comments/comment1.xml" ContentType='
                         b'"application/vnd.openxmlformats-officedocument.presentationml.comments+xml"/></Types>')

    _rewrite_zip(path, edit)
    return path


def _xmp(person: str, school: str) -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">'
        f'<dc:creator><rdf:Seq><rdf:li>{person}</rdf:li></rdf:Seq></dc:creator>'
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{school}</rdf:li></rdf:Alt></dc:title>'
        f'<pdf:Producer>{school}</pdf:Producer></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>').encode()


def make_tagged_pdf(path, person="李明华", school="湛江市第二十一小学", pages=2, text="Lesson plan") -> Path:
    """A PDF naming ``person`` and ``school`` in its Info dictionary (every standard key), in an
    XMP stream of the document, of the first page and of a picture on it, and in the page's
    PieceInfo; then an
    incremental update that changes the Author, so the first revision's Info (with the names)
    stays in the file's bytes, unreachable from the last revision's trailer."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, NumberObject, StreamObject, TextStringObject

    path = Path(path)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes(pages, text))))
    writer.add_metadata({"/Author": person, "/Creator": school, "/Producer": school, "/Title": f"{school}{person}",
                         "/Subject": school, "/Keywords": f"{person} {school}", "/CreationDate": "D:20240901080000+08'00'",
                         "/ModDate": "D:20240901080000+08'00'"})
    writer.xmp_metadata = _xmp(person, school)
    page_xmp = StreamObject()
    page_xmp.set_data(_xmp(person, school))
    page = writer.pages[0]
    page[NameObject("/Metadata")] = writer._add_object(page_xmp)
    page[NameObject("/PieceInfo")] = DictionaryObject({NameObject("/Word"): DictionaryObject(
        {NameObject("/Private"): TextStringObject(person)})})
    picture = StreamObject()  # a 1×1 grey picture with its own XMP, as a photo placed in Word keeps it
    picture.set_data(b"\x80")
    picture_xmp = StreamObject()
    picture_xmp.set_data(_xmp(person, school))
    picture.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Image"),
                    NameObject("/Width"): NumberObject(1), NameObject("/Height"): NumberObject(1),
                    NameObject("/ColorSpace"): NameObject("/DeviceGray"), NameObject("/BitsPerComponent"): NumberObject(8),
                    NameObject("/Metadata"): writer._add_object(picture_xmp)})
    page["/Resources"][NameObject("/XObject")] = DictionaryObject({NameObject("/Im1"): writer._add_object(picture)})
    first = io.BytesIO()
    writer.write(first)
    update = PdfWriter(io.BytesIO(first.getvalue()), incremental=True)
    update.add_metadata({"/Author": f"{person}（修订）"})
    with open(path, "wb") as out:
        update.write(out)
    return path


def make_tagged_video(path, person="李明华", school="湛江市第二十一小学", **kwargs) -> Path:
    """A clip (``make_video``'s options) whose container and stream tags name ``person`` and
    ``school``: title, artist, comment, author, copyright, description, encoder, creation_time,
    each stream's handler_name and title."""
    path = Path(path)
    plain = path.with_name(path.stem + "-untagged" + path.suffix)
    make_video(plain, **kwargs)
    tag = f"{person} {school}"
    with av.open(str(plain)) as source, av.open(str(path), "w", format="mp4") as out:
        out.metadata.update({"title": tag, "artist": tag, "comment": tag, "author": tag, "copyright": tag,
                             "description": tag, "encoder": tag, "creation_time": "2024-09-01T08:00:00Z"})
        streams = {}
        for stream in source.streams:
            copy = out.add_stream_from_template(stream)
            copy.metadata.update({"handler_name": tag, "title": tag, "creation_time": "2024-09-01T08:00:00Z"})
            streams[stream.index] = copy
        for packet in source.demux():
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            out.mux(packet)
    plain.unlink()
    return path


def make_bulky_video(path, megabytes=300, fps=25) -> Path:
    """A large MP4 in about a second, for memory tests of code that copies packets without
    decoding them (remuxing): the stream's parameters come from a real H.264 encode, its packets
    are ``megabytes`` blocks of 1 MiB of random bytes (one frame each, a key frame every second).
    Decoding it shows garbage; demuxing and remuxing it is what a 1 GB lesson video costs."""
    import os

    path = Path(path)
    seed = path.with_name(path.stem + "-seed.mp4")
    make_video(seed, seconds=0.2, audio=False, fps=fps)
    block = os.urandom(1024 * 1024)
    with av.open(str(seed)) as source, av.open(str(path), mode="w", format="mp4") as out:
        stream = out.add_stream_from_template(source.streams.video[0])
        for i in range(megabytes):
            packet = av.Packet(block)
            packet.stream, packet.time_base, packet.duration = stream, Fraction(1, fps), 1
            packet.pts = packet.dts = i
            packet.is_keyframe = i % fps == 0
            out.mux(packet)
    seed.unlink()
    return path
