"""Originality (issue #13), measured, not asserted:

1. recall and false positives of the video signatures on a generated corpus: ``--originals`` lectures (60 s,
   320×180, unrelated to each other) and, of each, five copies — re-encoded at 480×270 and a low bitrate,
   trimmed (12 s at the start, 9 s at the end), re-titled, cropped 5 % per edge, and trimmed + re-titled +
   rescaled together. Recall = copies matched to their original / copies; false-positive rate = matched pairs
   among all pairs of different lectures (originals and copies of different seeds);
2. the time to sign video: a 1080p clip (``--sign-seconds``, 25 fps) signed once, reported per minute of
   video and extrapolated to 15 minutes;
3. the time to query the band index holding ``--signatures`` video signatures (``--indexed`` indexed seconds
   each, random frame hashes) for the candidates of one new video (``originality.services._candidates``),
   on the configured database.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path


def corpus(args) -> int:
    from originality import testing, video

    d = Path(tempfile.mkdtemp(prefix="jpk-orig-"))
    t0 = time.perf_counter()
    originals, copies = {}, []
    kinds = {
        "reencoded": dict(out_size=(480, 270), bitrate=150_000),
        "trimmed": dict(trim_start=12, trim_end=9),
        "retitled": dict(title_seed=999),
        "cropped": dict(crop=0.05),
        "combined": dict(trim_start=8, title_seed=998, out_size=(384, 216)),
    }
    for seed in range(1, args.originals + 1):
        originals[seed] = video.sign(testing.lecture(d / f"o{seed}.mp4", seed=seed), skip_seconds=5)
        for kind, options in kinds.items():
            copies.append((seed, kind, video.sign(testing.copy(d / f"c{seed}{kind}.mp4", seed, **options),
                                                  skip_seconds=5)))
    made = time.perf_counter() - t0
    found = {kind: 0 for kind in kinds}
    for seed, kind, sig in copies:
        m = video.compare(sig, originals[seed])
        if m is not None and m.similarity >= 0.3:
            found[kind] += 1
    pairs = fp = 0
    everything = [(s, "original", sig) for s, sig in originals.items()] + copies
    for i, (sa, _ka, a) in enumerate(everything):
        for sb, _kb, b in everything[i + 1:]:
            if sa != sb:
                pairs += 1
                m = video.compare(a, b)
                fp += bool(m is not None and m.similarity >= 0.3)
    n = args.originals
    print(f"corpus: {n} originals × {len(kinds)} copies generated and signed in {made:.0f} s")
    for kind, k in found.items():
        print(f"  recall {kind:<10} {k}/{n}")
    total = sum(found.values())
    print(f"  recall overall    {total}/{len(copies)} = {100 * total / len(copies):.1f} % (target ≥ 95 %)")
    print(f"  false positives   {fp}/{pairs} pairs of different lectures = {100 * fp / pairs:.2f} % (target ≤ 1 %)")
    return 0


def sign_speed(args) -> int:
    from originality import testing, video

    d = Path(tempfile.mkdtemp(prefix="jpk-orig-"))
    path = testing.lecture(d / "hd.mp4", seed=42, seconds=args.sign_seconds, width=1920, height=1080, fps=25)
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        sig = video.sign(path, skip_seconds=5)
        runs.append(time.perf_counter() - t0)
    per_minute = statistics.median(runs) / args.sign_seconds * 60
    print(f"sign: {args.sign_seconds} s of 1080p25 H.264 ({path.stat().st_size / 2**20:.1f} MiB, {sig.signed} frames "
          f"signed) in {statistics.median(runs):.2f} s (median of 3): {per_minute:.1f} s per minute of video, "
          f"about {per_minute * 15:.0f} s for a 15-minute lecture")
    return 0


def index_query(args) -> int:
    os.environ.setdefault("JPK_DATA_DIR", tempfile.mkdtemp(prefix="jpk-bench-orig-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jingpinke.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from media.models import StoredFile
    from orgs.models import User
    from originality import services, video
    from originality.models import Band, Signature

    rnd = random.Random(13)
    owner = User.objects.create_user(username="bench_orig", password="x")
    t0 = time.perf_counter()
    files = StoredFile.objects.bulk_create([StoredFile(owner=owner, storage_key=f"bench/{i}", size=1, sha256=f"{i:064x}",
                                                       kind="mp4") for i in range(args.signatures)], batch_size=5000)
    sigs = Signature.objects.bulk_create([Signature(stored_file=f, kind="video", size=args.indexed * 4, data=b"")
                                          for f in files], batch_size=5000)
    batch = []
    for s in sigs:
        for at in range(args.indexed):
            h = rnd.getrandbits(64)
            batch += [Band(signature_id=s.pk, kind="video", band=k, key=services._signed(key), at=at * 4)
                      for k, key in enumerate(video.band_keys(h))]
        if len(batch) >= 200_000:
            Band.objects.bulk_create(batch, batch_size=20_000)
            batch = []
    Band.objects.bulk_create(batch, batch_size=20_000)
    seeded = time.perf_counter() - t0
    rows = Band.objects.count()
    # The new video: random frames, plus 40 frames equal to one indexed signature (a copy of it).
    target = sigs[len(sigs) // 2]
    copied = list(Band.objects.filter(signature=target).values_list("band", "key")[:160])
    new_file = StoredFile.objects.create(owner=owner, storage_key="bench/new", size=1, sha256="f" * 64, kind="mp4")
    new = Signature.objects.create(stored_file=new_file, kind="video", size=900, data=b"")
    Band.objects.bulk_create([Band(signature=new, kind="video", band=k, key=services._signed(key))
                              for _ in range(225 - 40) for k, key in enumerate(video.band_keys(rnd.getrandbits(64)))]
                             + [Band(signature=new, kind="video", band=b, key=key) for b, key in copied])
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        found = services._candidates(new, services.VIDEO_MIN_HITS)
        times.append(time.perf_counter() - t0)
    assert target.pk in found, "the copied signature must be a candidate"
    print(f"index: {args.signatures} video signatures × {args.indexed} indexed seconds = {rows} band rows "
          f"({connection.vendor}), seeded in {seeded:.0f} s; candidates of a new 15-minute video "
          f"(225 indexed seconds, 900 keys): median {1000 * statistics.median(times):.0f} ms, "
          f"max {1000 * max(times):.0f} ms (target ≤ 1 s); found the copied one among {len(found)} candidates")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench originality")
    parser.add_argument("part", nargs="?", choices=["corpus", "sign", "index", "all"], default="all")
    parser.add_argument("--originals", type=int, default=20)
    parser.add_argument("--sign-seconds", type=int, default=60)
    parser.add_argument("--signatures", type=int, default=20_000)
    parser.add_argument("--indexed", type=int, default=60)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jingpinke.settings")
    status = 0
    for name, part in (("corpus", corpus), ("sign", sign_speed), ("index", index_query)):
        if args.part in (name, "all"):
            status = part(args) or status
    return status
