"""Probe time per video: generated H.264/AAC clips (1080p 25 fps, 8 Mbps) probed by media.probe
(the packet walk over the whole file, two frames decoded), several runs each."""

from __future__ import annotations

import os
import statistics
import tempfile
import time


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jingpinke.settings")
    import django

    django.setup()
    from media import testing
    from media.probe import probe

    lengths = [int(a) for a in argv] or [10, 60, 600]
    print(f"{'video':<34} {'size MB':>8} {'generate s':>10} {'probe ms (median of 5)':>24}")
    with tempfile.TemporaryDirectory(prefix="jpk-bench-probe-") as tmp:
        for seconds in lengths:
            path = os.path.join(tmp, f"v{seconds}.mp4")
            t0 = time.perf_counter()
            testing.make_video(path, width=1920, height=1080, fps=25, seconds=seconds, video_bitrate=8_000_000)
            generated = time.perf_counter() - t0
            times = []
            for _ in range(5):
                start = time.perf_counter()
                result = probe(path, "mp4")
                times.append((time.perf_counter() - start) * 1000)
                assert result.ok, result.error
            size = os.path.getsize(path) / 1024 / 1024
            print(f"{f'1920x1080 25 fps, {seconds} s':<34} {size:>8.1f} {generated:>10.1f} {statistics.median(times):>24.1f}")
    return 0
