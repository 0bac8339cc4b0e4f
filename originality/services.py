"""Sign a stored file, index it, and find what it copies (use cases; the pure parts are
originality.text and originality.video).

``check_file(id)`` runs in the background after the file's compliance check (media's
``file_probed``): exact copies by sha256, then near-duplicates through the band index, each candidate
confirmed by a full comparison before a ``Match`` is stored. Matches never block anything: they are
shown to those who may see them (``matches_for``: the admins of the levels the course reached, the
teacher for his own earlier files; ``reviewed_matches``: experts, blind, as a hint next to the veto)."""

from __future__ import annotations

import logging
from collections import Counter

from django.db import transaction
from django.db.models import Count
from django.db.models.signals import post_delete, pre_delete

from jingpinke.sql import Compiled
from media.models import StoredFile
from media.probe import readable
from originality.models import Band, Match, MatchKind, Signature, SignatureKind

# numpy, imagehash and datasketch (originality.text, originality.video) are imported by the functions
# that sign and compare, in the task worker: the pages import this module for the viewers' queries,
# and a web worker stays without them (jingpinke/tests/test_worker_memory.py).

log = logging.getLogger(__name__)

VIDEO_KINDS = ("mp4", "mov", "avi", "mkv", "flv")
TEXT_KINDS = ("pdf", "docx", "pptx")
TEXT_REPORT = 0.3  # Jaccard of shingles, or containment ≥ 0.6, to report
TEXT_CONTAINMENT = 0.6
VIDEO_REPORT = 0.3  # share of the shorter video that corresponds, or ≥ VIDEO_MIN_SECONDS of it
VIDEO_MIN_SECONDS = 60
VIDEO_BAND_EVERY = 4  # seconds between indexed frames
VIDEO_MIN_HITS = 3  # band hits a candidate needs before a full comparison
VIDEO_MIN_PICTURES = 3  # different pictures the matched part must show (one still picture is no evidence)
TEXT_MIN_COMMON = 80  # characters of passages in common: a shared template's headings are not a copy
MAX_CANDIDATES = 50


def _pack(hashes) -> bytes:
    import numpy as np

    return np.asarray([h or 0 for h in hashes], dtype="<u8").tobytes()


def _unpack(data: bytes) -> tuple[int | None, ...]:
    import numpy as np

    return tuple(int(v) or None for v in np.frombuffer(bytes(data), dtype="<u8"))


def _signed(key: int) -> int:
    return key - (1 << 64) if key >= 1 << 63 else key


@transaction.atomic
def _store(stored: StoredFile, kind: str, size: int, data: bytes, bands: list[tuple[int, int, int]], step=1.0):
    sig, _created = Signature.objects.update_or_create(stored_file=stored, defaults={
        "kind": kind, "size": size, "data": data, "step": step})
    Band.objects.filter(signature=sig).delete()
    Band.objects.bulk_create([Band(signature=sig, kind=kind, band=b, key=_signed(k), at=at) for b, k, at in bands],
                             batch_size=2000)
    return sig


def sign_text(stored: StoredFile) -> Signature | None:
    from originality import text as text_sig

    sig = text_sig.sign(stored.text or "")
    if not sig.comparable:
        return None
    return _store(stored, SignatureKind.TEXT, sig.chars, sig.hashvalues,
                  [(b, key, 0) for b, key in enumerate(sig.bands)])


def sign_video(stored: StoredFile, title_card_seconds: int = 5) -> Signature | None:
    from originality import video as video_sig

    with readable(stored) as source:  # a local path, or a RangeReader over the object
        sig = video_sig.sign(source, skip_seconds=title_card_seconds)
    if sig.signed < 5:
        return None
    bands = [(k, key, i) for i, h in enumerate(sig.hashes) if h is not None and i % VIDEO_BAND_EVERY == 0
             for k, key in enumerate(video_sig.band_keys(h))]
    return _store(stored, SignatureKind.VIDEO, len(sig.hashes), _pack(sig.hashes), bands, sig.step)


def _owners_same(a: StoredFile, b: StoredFile) -> bool:
    """Legitimate re-use: the same teacher's own file, or a file of the same course (a team member's
    earlier version, replaced after a return)."""
    if a.owner_id == b.owner_id:
        return True
    from django.db.models import Q

    from courses.models import Resource

    rows = Resource.objects.filter(Q(file__in=(a.pk, b.pk)) | Q(previous_file__in=(a.pk, b.pk))).values_list(
        "period__course", "file", "previous_file")
    courses = {a.pk: set(), b.pk: set()}
    for course, *files in rows:  # one query
        for f in files:
            if f in courses:
                courses[f].add(course)
    return bool(courses[a.pk] & courses[b.pk])


def _record(new: StoredFile, earlier: StoredFile, kind: str, similarity: float, details: dict) -> Match:
    match, _created = Match.objects.update_or_create(new_file=new, earlier_file=earlier, kind=kind, defaults={
        "similarity": similarity, "details": details, "same_owner": _owners_same(new, earlier)})
    return match


def exact_matches(stored: StoredFile) -> list[Match]:
    if not stored.sha256:
        return []
    # compiled once (jingpinke.sql.Compiled): asked for every probed file that is not a video
    earlier = _EARLIER_COPIES.instances(stored.sha256, stored.created_at, stored.pk)
    return [_record(stored, e, MatchKind.EXACT, 1.0, {}) for e in earlier]


def _earlier_copies(sha256, created_at, pk):
    return (StoredFile.objects.filter(sha256=sha256, created_at__lte=created_at).exclude(pk=pk)
            .order_by("created_at")[:MAX_CANDIDATES])


_EARLIER_COPIES = Compiled(_earlier_copies)


def _candidates(sig: Signature, min_hits: int) -> list:
    """The earlier signatures sharing at least ``min_hits`` band keys with ``sig``, most hits first.

    One SQL statement: per band, an index range search ``(kind, band) + key IN (…)`` answered from the
    covering index alone, the bands joined with ``UNION ALL``; the hits (a few per key) are counted
    here. An ``OR`` of the bands inside one ``WHERE`` made SQLite scan the whole index instead
    (1–2 s at 20,000 video signatures, see ``python -m bench originality index``)."""
    keys = list(Band.objects.filter(signature=sig).values_list("band", "key"))
    if not keys:
        return []
    by_band: dict[int, list[int]] = {}
    for band, key in keys:
        by_band.setdefault(band, []).append(key)
    parts = [Band.objects.filter(kind=sig.kind, band=band, key__in=sorted(set(band_keys)))
             .values_list("signature_id", flat=True).order_by() for band, band_keys in sorted(by_band.items())]
    query = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    hits = Counter(query)
    hits.pop(sig.pk, None)
    ranked = sorted(((n, pk) for pk, n in hits.items() if n >= min_hits), key=lambda t: (-t[0], t[1]))
    return [pk for _n, pk in ranked[:MAX_CANDIDATES]]


def text_matches(stored: StoredFile, sig: Signature) -> list[Match]:
    from originality import text as text_sig

    out = []
    for other in StoredFile.objects.filter(pk__in=_candidates(sig, 1), created_at__lte=stored.created_at):
        m = text_sig.compare(stored.text, other.text)
        if (m.similarity >= TEXT_REPORT or m.containment >= TEXT_CONTAINMENT) and m.common_chars >= TEXT_MIN_COMMON:
            out.append(_record(stored, other, MatchKind.TEXT, max(m.similarity, m.containment), {
                "jaccard": m.similarity, "containment": m.containment,
                "passages": [[p.a_start, p.a_end, p.b_start, p.b_end, p.text] for p in m.passages[:50]]}))
    return out


def video_matches(stored: StoredFile, sig: Signature) -> list[Match]:
    from originality import video as video_sig

    mine = video_sig.VideoSignature(sig.step, _unpack(sig.data))
    out = []
    ids = _candidates(sig, VIDEO_MIN_HITS)
    others = {s.stored_file_id: s for s in Signature.objects.filter(pk__in=ids).select_related("stored_file")}
    for other_id in ids:
        other = others[other_id]
        if other.stored_file.created_at > stored.created_at:
            continue
        m = video_sig.compare(mine, video_sig.VideoSignature(other.step, _unpack(other.data)))
        if (m and (m.similarity >= VIDEO_REPORT or m.matched_seconds >= VIDEO_MIN_SECONDS)
                and video_sig.distinct_pictures(mine, m.segments, VIDEO_MIN_PICTURES) >= VIDEO_MIN_PICTURES):
            out.append(_record(stored, other.stored_file, MatchKind.VIDEO, m.similarity, {
                "matched_seconds": m.matched_seconds,
                "segments": [[g.a_start, g.a_end, g.b_start, g.b_end] for g in m.segments]}))
    return out


def _forget_matches(stored: StoredFile) -> int:
    """Delete the file's matches as the new file: one DELETE in autocommit. Nothing refers to a
    match and no signal listens to its deletion, so Django's deletion (a transaction around the one
    statement: BEGIN, DELETE, COMMIT, and the collector's work) did nothing more, once per probed file."""
    from django.db import connection

    if pre_delete.has_listeners(Match) or post_delete.has_listeners(Match):  # someone listens: as before
        return Match.objects.filter(new_file=stored).delete()[0]
    with connection.cursor() as cursor:
        field = Match._meta.get_field("new_file")
        cursor.execute(f"DELETE FROM {Match._meta.db_table} WHERE {field.column} = %s",
                       [field.get_db_prep_value(stored.pk, connection)])
        return cursor.rowcount


def check_file(stored_file, title_card_seconds: int = 5) -> dict:
    """Sign the file, index it, and record what it matches. Safe to run again. ``stored_file``: its
    id, or the StoredFile itself as its probe left it (not read again)."""
    stored = stored_file if isinstance(stored_file, StoredFile) else StoredFile.objects.filter(pk=stored_file).first()
    if stored is None:
        return {"missing": True}
    found = Counter()
    _forget_matches(stored)  # found again below: what no longer matches goes
    found["exact"] = len(exact_matches(stored))
    if stored.kind in TEXT_KINDS:
        sig = sign_text(stored)
        if sig is not None:
            found["text"] = len(text_matches(stored, sig))
    elif stored.kind in VIDEO_KINDS:
        sig = sign_video(stored, title_card_seconds)
        if sig is not None:
            found["video"] = len(video_matches(stored, sig))
    return dict(found)


# --- who sees what ----------------------------------------------------------------------------------
# A match is about the course of its newer file (the one that may have copied). It is shown to
# - the admins of every unit the course has reached (an entry held by that unit: the school once
#   submitted, the county once recommended to it, ...), and to the system admin;
# - the experts reviewing it (blind), as a hint next to the 非原创 veto;
# - its teacher, only for a match with his own earlier file (information, never copying).
# Legitimate re-use (the same teacher's, or the same course's, earlier file) is never shown to admins
# or experts. The other course is described only as much as the viewer may see of it.


def matches_for(user):
    """Every match the user may see on the named pages (the admins' list and match page, the badges):
    those of the courses that reached a unit he administers, and his own re-use as a teacher. Experts
    see theirs only blind, from their task (``reviewed_matches``)."""
    from django.db.models import Q

    if not (user and user.is_authenticated):
        return Match.objects.none()
    course = "new_file__resources__period__course"
    if user.is_system_admin:
        q = Q(same_owner=False, **{f"{course}__isnull": False})  # course files (not contact-form scans …)
    else:
        q = Q(same_owner=True, **{f"{course}__lead_teacher": user})
        units = user.admin_units()
        if units:
            q |= Q(same_owner=False, **{f"{course}__entries__unit__in": units})
    ids = Match.objects.filter(q).values("pk")
    return Match.objects.filter(pk__in=ids).select_related("new_file", "earlier_file").order_by("-found_at", "-pk")


def reviewed_matches(user, assignment):
    """The matches an expert sees for one of his tasks (blind)."""
    return Match.objects.filter(same_owner=False, new_file__resources__period__course=assignment.entry.entry.course_id
                                ).select_related("new_file", "earlier_file").distinct().order_by("-similarity", "-pk")


def counts_by_course(user, course_ids) -> dict[int, int]:
    """How many matches the user may see for each of these courses (badges on lists and pages).

    The matches that ``matches_for`` lets the user see, but found from the courses asked for (a
    page's 30): their periods, resources, and the matches of those files, each then tested with
    two EXISTS on the courses holding its new file. ``matches_for`` first builds every match the
    user may see, which read every resource of the scope: 0.5–1.8 s for a county's desk page on the
    200,000-course SQLite province, even with no match at all."""
    from django.db.models import Exists, OuterRef, Q

    from courses.models import Resource

    course_ids = list(course_ids)
    if not course_ids or not (user and user.is_authenticated):
        return {}
    holders = Resource.objects.filter(file_id=OuterRef("new_file_id"))
    if user.is_system_admin:
        visible = Q(same_owner=False) & Exists(holders.filter(period__course__isnull=False))
    else:
        visible = Q(same_owner=True) & Exists(holders.filter(period__course__lead_teacher=user))
        units = user.admin_units()
        if units:
            visible |= Q(same_owner=False) & Exists(holders.filter(period__course__entries__unit__in=units))
    rows = (Match.objects.filter(visible, new_file__resources__period__course__in=course_ids).order_by()
            .values("new_file__resources__period__course").annotate(n=Count("pk", distinct=True)))
    return {r["new_file__resources__period__course"]: r["n"] for r in rows}


class Side:
    """One side of a match as the viewer may see it: ``full`` names the course, its teacher and school;
    otherwise only the campaign's year, the level it reached and its catalog node."""

    def __init__(self, stored, course, level_name: str, full: bool, code: str = ""):
        self.stored, self.course, self.level_name, self.full, self.code = stored, course, level_name, full, code

    @property
    def anonymous_label(self) -> str:
        from django.utils.translation import gettext as _

        if self.course is None:
            return _("平台上更早上传的一个文件（未用于申报）")
        return _("%(year)s 年 · %(level)s · %(node)s") % {
            "year": self.course.campaign.year, "level": self.level_name or _("未提交"),
            "node": f"{self.course.node.textbook.label} · {self.course.node.label_path or self.course.node.title}"}


def _courses_of(file_ids) -> dict:
    """file id → (course, the name of the highest level its entries reached), in two queries."""
    from courses.models import Resource
    from selection.models import Entry

    by_file = {}
    for r in (Resource.objects.filter(file_id__in=file_ids)
              .select_related("period__course__campaign", "period__course__node__textbook",
                              "period__course__school", "period__course__lead_teacher").order_by("id")):
        by_file.setdefault(r.file_id, r.period.course)
    levels = {}
    for e in Entry.objects.filter(course__in={c.pk for c in by_file.values()}).select_related("level").order_by("level_id"):
        levels[e.course_id] = e.level.name
    return {f: (c, levels.get(c.pk, "")) for f, c in by_file.items()}


class Row:
    def __init__(self, match, new: Side, earlier: Side):
        self.match, self.new, self.earlier = match, new, earlier


def describe(user, matches, *, blind: bool = False, code: str = "") -> list[Row]:
    """The matches with both sides as the user may see them (three queries whatever their number)."""
    from courses.models import Course

    matches = list(matches)
    files = {m.new_file_id for m in matches} | {m.earlier_file_id for m in matches}
    courses = _courses_of(files)
    visible = set()
    if not blind:
        ids = {c.pk for c, _level in courses.values()}
        visible = set(Course.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
    rows = []
    for m in matches:
        nc, nl = courses.get(m.new_file_id, (None, ""))
        ec, el = courses.get(m.earlier_file_id, (None, ""))
        rows.append(Row(m, Side(m.new_file, nc, nl, nc is not None and nc.pk in visible, code),
                        Side(m.earlier_file, ec, el, ec is not None and ec.pk in visible)))
    return rows


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


def _length(seconds: float) -> str:
    from django.utils.translation import gettext as _

    s = int(round(seconds))
    return _("%(m)d 分 %(s)02d 秒") % {"m": s // 60, "s": s % 60} if s >= 60 else _("%(s)d 秒") % {"s": s}


def segments(match) -> list[dict]:
    """The corresponding time ranges of a video match, in the new video's order, with durations."""
    out = []
    for a0, a1, b0, b1 in match.details.get("segments", []):
        out.append({"new": f"{_clock(a0)}–{_clock(a1)}", "new_length": _length(a1 - a0),
                    "earlier": f"{_clock(b0)}–{_clock(b1)}", "earlier_length": _length(b1 - b0)})
    return out


CONTEXT = 40  # characters shown around a passage


def passages(match) -> list[dict]:
    """The overlapping passages of a text match, each with a little context on both sides."""
    new_text, earlier_text = match.new_file.text or "", match.earlier_file.text or ""
    out = []
    for a0, a1, b0, b1, _text in match.details.get("passages", []):
        out.append({
            "new": (new_text[max(0, a0 - CONTEXT):a0], new_text[a0:a1], new_text[a1:a1 + CONTEXT]),
            "earlier": (earlier_text[max(0, b0 - CONTEXT):b0], earlier_text[b0:b1], earlier_text[b1:b1 + CONTEXT]),
            "chars": a1 - a0})
    return out
