"""Sign a stored file, index it, and find what it copies (use cases; the pure parts are
originality.text and originality.video).

``check_file(id)`` runs in the background after the file's compliance check (media's
``file_probed``): exact copies by sha256, then near-duplicates through the band index, each candidate
confirmed by a full comparison before a ``Match`` is stored. Matches never block anything: they are
shown to those who may see them (later: the admins of the levels the course reaches, experts as a hint,
the teacher for his own earlier files)."""

from __future__ import annotations

import logging
from collections import Counter

import numpy as np
from django.db import transaction
from django.db.models import Count

from media.models import StoredFile
from media.probe import readable
from originality import text as text_sig
from originality import video as video_sig
from originality.models import Band, Match, MatchKind, Signature, SignatureKind

log = logging.getLogger(__name__)

VIDEO_KINDS = ("mp4", "mov", "avi", "mkv", "flv")
TEXT_KINDS = ("pdf", "docx", "pptx")
TEXT_REPORT = 0.3  # Jaccard of shingles, or containment ≥ 0.6, to report
TEXT_CONTAINMENT = 0.6
VIDEO_REPORT = 0.3  # share of the shorter video that corresponds, or ≥ VIDEO_MIN_SECONDS of it
VIDEO_MIN_SECONDS = 60
VIDEO_BAND_EVERY = 4  # seconds between indexed frames
VIDEO_MIN_HITS = 3  # band hits a candidate needs before a full comparison
MAX_CANDIDATES = 50


def _pack(hashes) -> bytes:
    return np.asarray([h or 0 for h in hashes], dtype="<u8").tobytes()


def _unpack(data: bytes) -> tuple[int | None, ...]:
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
    sig = text_sig.sign(stored.text or "")
    if not sig.comparable:
        return None
    return _store(stored, SignatureKind.TEXT, sig.chars, sig.hashvalues,
                  [(b, key, 0) for b, key in enumerate(sig.bands)])


def sign_video(stored: StoredFile, title_card_seconds: int = 5) -> Signature | None:
    with readable(stored) as source:  # a local path, or a RangeReader over the object
        sig = video_sig.sign(source, skip_seconds=title_card_seconds)
    if sig.signed < 5:
        return None
    bands = [(k, key, i) for i, h in enumerate(sig.hashes) if h is not None and i % VIDEO_BAND_EVERY == 0
             for k, key in enumerate(video_sig.band_keys(h))]
    return _store(stored, SignatureKind.VIDEO, len(sig.hashes), _pack(sig.hashes), bands, sig.step)


def _owners_same(a: StoredFile, b: StoredFile) -> bool:
    return a.owner_id == b.owner_id


def _record(new: StoredFile, earlier: StoredFile, kind: str, similarity: float, details: dict) -> Match:
    match, _created = Match.objects.update_or_create(new_file=new, earlier_file=earlier, kind=kind, defaults={
        "similarity": similarity, "details": details, "same_owner": _owners_same(new, earlier)})
    return match


def exact_matches(stored: StoredFile) -> list[Match]:
    if not stored.sha256:
        return []
    earlier = StoredFile.objects.filter(sha256=stored.sha256, created_at__lte=stored.created_at).exclude(pk=stored.pk)
    return [_record(stored, e, MatchKind.EXACT, 1.0, {}) for e in earlier.order_by("created_at")[:MAX_CANDIDATES]]


def _candidates(sig: Signature, min_hits: int) -> list:
    keys = list(Band.objects.filter(signature=sig).values_list("band", "key"))
    if not keys:
        return []
    from django.db.models import Q

    by_band: dict[int, list[int]] = {}
    for band, key in keys:
        by_band.setdefault(band, []).append(key)
    q = Q()
    for band, band_keys in by_band.items():
        q |= Q(band=band, key__in=band_keys)
    return list(Band.objects.filter(q, kind=sig.kind).exclude(signature=sig)
                .values("signature_id").annotate(hits=Count("id")).filter(hits__gte=min_hits)
                .order_by("-hits").values_list("signature_id", flat=True)[:MAX_CANDIDATES])


def text_matches(stored: StoredFile, sig: Signature) -> list[Match]:
    out = []
    for other in StoredFile.objects.filter(pk__in=_candidates(sig, 1), created_at__lte=stored.created_at):
        m = text_sig.compare(stored.text, other.text)
        if m.similarity >= TEXT_REPORT or m.containment >= TEXT_CONTAINMENT:
            out.append(_record(stored, other, MatchKind.TEXT, max(m.similarity, m.containment), {
                "jaccard": m.similarity, "containment": m.containment,
                "passages": [[p.a_start, p.a_end, p.b_start, p.b_end, p.text] for p in m.passages[:50]]}))
    return out


def video_matches(stored: StoredFile, sig: Signature) -> list[Match]:
    mine = video_sig.VideoSignature(sig.step, _unpack(sig.data))
    out = []
    ids = _candidates(sig, VIDEO_MIN_HITS)
    others = {s.stored_file_id: s for s in Signature.objects.filter(pk__in=ids).select_related("stored_file")}
    for other_id in ids:
        other = others[other_id]
        if other.stored_file.created_at > stored.created_at:
            continue
        m = video_sig.compare(mine, video_sig.VideoSignature(other.step, _unpack(other.data)))
        if m and (m.similarity >= VIDEO_REPORT or m.matched_seconds >= VIDEO_MIN_SECONDS):
            out.append(_record(stored, other.stored_file, MatchKind.VIDEO, m.similarity, {
                "matched_seconds": m.matched_seconds,
                "segments": [[g.a_start, g.a_end, g.b_start, g.b_end] for g in m.segments]}))
    return out


def check_file(stored_file_id, title_card_seconds: int = 5) -> dict:
    """Sign the file, index it, and record what it matches. Safe to run again."""
    stored = StoredFile.objects.filter(pk=stored_file_id).first()
    if stored is None:
        return {"missing": True}
    found = Counter()
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
