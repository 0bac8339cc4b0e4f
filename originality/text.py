"""Near-duplicate documents and slides: character shingles of the extracted text, a MinHash
signature (datasketch) and LSH bands, so that a new document finds its candidates through an index
lookup instead of a pairwise scan; then the exact overlap and the matching passages for the report.

Pure: text in, numbers out. Chinese has no word boundaries, so shingles are character n-grams
(n = 5) of the text with whitespace and punctuation removed (NFKC, lower case)."""

from __future__ import annotations

import hashlib
import struct
import unicodedata
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash

SHINGLE = 5
NUM_PERM = 128
BANDS, ROWS = 32, 4  # 32 × 4 = 128; a pair with Jaccard s shares a band with probability 1 - (1 - s⁴)³²
SEED = 7
SCHEME = "affine64"  # datasketch ≥ 2: 64-bit values, a bijective permutation (no collision bias)
MIN_CHARS = 40  # shorter texts (a title page) are not compared
MIN_PASSAGE = 15  # characters: shorter common runs are not reported


def normalize(text: str) -> tuple[str, list[int]]:
    """The text reduced to letters, digits and ideographs (NFKC, lower case), and for each kept
    character its position in the original, so passages can be shown as written."""
    kept, where = [], []
    for i, ch in enumerate(text or ""):
        ch = unicodedata.normalize("NFKC", ch).lower()
        for c in ch:
            cat = unicodedata.category(c)
            if cat[0] in ("L", "N"):
                kept.append(c)
                where.append(i)
    return "".join(kept), where


def shingles(norm: str, n: int = SHINGLE) -> set[str]:
    return {norm[i:i + n] for i in range(len(norm) - n + 1)}


def minhash(shingle_set: set[str]) -> MinHash:
    m = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)
    m.update_batch([s.encode("utf-8") for s in shingle_set])
    return m


@dataclass(frozen=True)
class TextSignature:
    chars: int  # normalised length
    hashvalues: bytes  # NUM_PERM unsigned 64-bit values (the MinHash), little-endian
    bands: tuple[int, ...]  # one 63-bit key per LSH band (the index rows)

    @property
    def comparable(self) -> bool:
        return self.chars >= MIN_CHARS

    def minhash(self) -> MinHash:
        return MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME,
                       hashvalues=np.frombuffer(self.hashvalues, dtype="<u8"))


def band_keys(hashvalues: np.ndarray) -> tuple[int, ...]:
    out = []
    for b in range(BANDS):
        chunk = hashvalues[b * ROWS:(b + 1) * ROWS].astype("<u8").tobytes()
        digest = hashlib.blake2b(struct.pack("<H", b) + chunk, digest_size=8).digest()
        out.append(int.from_bytes(digest, "little") >> 1)  # fits a signed 64-bit column
    return tuple(out)


def sign(text: str) -> TextSignature:
    norm, _where = normalize(text)
    m = minhash(shingles(norm))
    values = np.asarray(m.hashvalues, dtype="<u8")
    return TextSignature(len(norm), values.tobytes(), band_keys(values))


def estimated_similarity(a: TextSignature, b: TextSignature) -> float:
    return float(a.minhash().jaccard(b.minhash()))


@dataclass(frozen=True)
class Passage:
    a_start: int  # positions in the original texts (inclusive start, exclusive end)
    a_end: int
    b_start: int
    b_end: int
    text: str  # as written in A


@dataclass(frozen=True)
class TextMatch:
    similarity: float  # Jaccard of the shingle sets
    containment: float  # the share of A's shingles found in B (A copied into a longer B)
    passages: tuple[Passage, ...]
    common_chars: int


def compare(a: str, b: str, min_passage: int = MIN_PASSAGE) -> TextMatch:
    """The exact overlap of two texts and the passages they share (longest common runs of shingles,
    each at least ``min_passage`` characters), in A's order."""
    na, wa = normalize(a)
    nb, wb = normalize(b)
    sa, sb = shingles(na), shingles(nb)
    if not sa or not sb:
        return TextMatch(0.0, 0.0, (), 0)
    jaccard = len(sa & sb) / len(sa | sb)
    containment = len(sa & sb) / len(sa)
    at_b: dict[str, list[int]] = {}
    for j in range(len(nb) - SHINGLE + 1):
        at_b.setdefault(nb[j:j + SHINGLE], []).append(j)
    passages, i = [], 0
    while i <= len(na) - SHINGLE:
        best = (0, -1)
        for j in at_b.get(na[i:i + SHINGLE], ())[:50]:
            k = SHINGLE
            while i + k < len(na) and j + k < len(nb) and na[i + k] == nb[j + k]:
                k += 1
            if k > best[0]:
                best = (k, j)
        length, j = best
        if length >= min_passage:
            passages.append(Passage(wa[i], wa[i + length - 1] + 1, wb[j], wb[j + length - 1] + 1,
                                    a[wa[i]:wa[i + length - 1] + 1]))
            i += length
        else:
            i += 1
    return TextMatch(round(jaccard, 4), round(containment, 4), tuple(passages),
                     sum(p.a_end - p.a_start for p in passages))
