"""Aggregation and ranking of a province's review round (review.aggregation, pure Python): 20,000 entries
in 3 categories × 12 subjects, 3 sheets each (60,000 scores) from 600 experts with their own leniency and
spread, one sheet in 200 vetoed. Times per method: ``aggregate``, ``rank``, and the Excel rows
(``export_sheets``), wall clock, and the process's CPU time for the three (less sensitive to other
work on a shared machine); median of 5 runs. Target (issue #10, with the proposal): ≤ 2 s."""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time


def make_round(n_entries: int, per_entry: int, n_experts: int, seed: int = 10):
    from review.aggregation import Entry, Score

    rnd = random.Random(seed)
    subjects = ["语文", "数学", "英语", "物理", "化学", "生物", "历史", "地理", "道德与法治", "科学", "音乐", "生活适应"]
    categories = ["subject"] * 8 + ["special", "experiment"]
    entries = [Entry(i, rnd.choice(categories), rnd.choice(subjects), f"课{i}") for i in range(1, n_entries + 1)]
    bias = {x: (rnd.uniform(-8, 8), rnd.uniform(0.6, 1.4)) for x in range(1, n_experts + 1)}
    scores = []
    for e in entries:
        quality = rnd.gauss(75, 8)
        for x in rnd.sample(range(1, n_experts + 1), per_entry):
            shift, spread = bias[x]
            points = min(100.0, max(0.0, round(75 + shift + (quality - 75) * spread + rnd.gauss(0, 3), 1)))
            vetoed = rnd.random() < 0.005
            scores.append(Score(x, e.entry_id, points, vetoed, "科学性错误" if vetoed else ""))
    return entries, scores


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench ranking")
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--per-entry", type=int, default=3)
    parser.add_argument("--experts", type=int, default=600)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jingpinke.settings")
    import django

    django.setup()
    from review import aggregation as agg

    entries, scores = make_round(args.entries, args.per_entry, args.experts)
    names = {x: f"专家{x}" for x in range(1, args.experts + 1)}
    print(f"{len(entries)} entries, {len(scores)} scores, {args.experts} experts; median of {args.runs} runs")
    print(f"{'method':<10} {'aggregate ms':>13} {'rank ms':>8} {'export rows ms':>15} {'total ms':>9} {'CPU ms':>7}")
    for method in agg.Method.values:
        config = agg.Settings(method=method)
        runs = []
        for _ in range(args.runs):
            c0, t0 = time.process_time(), time.perf_counter()
            result = agg.aggregate(scores, config)
            t1 = time.perf_counter()
            groups = agg.rank(entries, result)
            t2 = time.perf_counter()
            sheets = agg.export_sheets(result, entries, names)
            t3, c3 = time.perf_counter(), time.process_time()
            runs.append(((t1 - t0) * 1000, (t2 - t1) * 1000, (t3 - t2) * 1000, (t3 - t0) * 1000, (c3 - c0) * 1000))
        assert sum(len(g.rows) for g in groups) == len(entries) and len(sheets[0].rows) == len(scores)
        a, r, x, total, cpu = (statistics.median(col) for col in zip(*runs, strict=True))
        print(f"{method:<10} {a:>13.0f} {r:>8.0f} {x:>15.0f} {total:>9.0f} {cpu:>7.0f}")
    return 0
