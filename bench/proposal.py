"""Ranking + recommendation proposal for a province: 20,000 entries, 60,000 expert scores (3 each).

The data is random but shaped like a Guangdong campaign: 80 % 学科课程, 5 % 特殊教育, 15 %
实验教学, about 6,000 catalog nodes (so many entries share a node), the province's quotas
(学科课程 300, 特殊教育 20, 实验教学 60), the special-education cap (语文+数学+生活适应 ≤ 80 %)
and a science target share (物理/化学/生物/科学 ≥ 30 % of 学科课程, 2 points per pick) as a bonus.

Timed: the ranking (mean of each entry's scores on the 100-point rubric, highest first, ties by
entry id) and ``review.proposal.propose`` (model, CP-SAT, explanations for the 19,620 left out).
Also timed: the same entries with catalog nodes shared across subjects (a harder model), and with a
quota per category × subject (as for city-owned schools).
``python -m bench proposal --entries 5000 --runs 3`` changes the size.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections import defaultdict

SUBJECTS = ["语文", "数学", "英语", "物理", "化学", "生物", "科学", "道德与法治", "历史", "地理", "音乐", "美术",
            "体育与健康", "信息科技"]
SPECIAL = ["语文", "数学", "生活适应", "唱游与律动", "绘画与手工", "运动与保健"]
EXPERIMENT = ["物理", "化学", "生物", "科学"]
SCIENCE = ("物理", "化学", "生物", "科学")


def make_data(entries: int, seed: int = 2024):
    rng = random.Random(seed)
    rows, scores = [], []
    nodes = max(1, entries * 3 // 10)
    for i in range(1, entries + 1):
        r = rng.random()
        if r < 0.80:
            category, subject = "subject", rng.choice(SUBJECTS)
        elif r < 0.85:
            category, subject = "special", rng.choice(SPECIAL)
        else:
            category, subject = "experiment", rng.choice(EXPERIMENT)
        # a node belongs to one subject's textbook: draw it within the subject
        book = ["subject", "special", "experiment"].index(category) * 100 + (SUBJECTS + SPECIAL).index(subject)
        node = book * 100_000 + rng.randrange(nodes // len(SUBJECTS) + 1)
        rows.append((i, f"作品{i}", category, subject, node))
        quality = rng.gauss(78, 8)
        for _expert in range(3):
            scores.append((i, round(min(100.0, max(0.0, quality + rng.gauss(0, 4))), 1)))
    rng.shuffle(scores)
    return rows, scores


def rank(rows, scores):
    """Mean per entry (two decimals), highest first, ties by entry id."""
    total, count = defaultdict(float), defaultdict(int)
    for entry_id, value in scores:
        total[entry_id] += value
        count[entry_id] += 1
    mean = {e: round(total[e] / count[e], 2) for e in total}
    return sorted(rows, key=lambda r: (-mean[r[0]], r[0])), mean


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench proposal")
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jingpinke.settings")
    import django

    django.setup()
    from campaigns.enums import NodeRule
    from review.proposal import Candidate, TargetBonus, propose
    from selection.rules import QuotaLimit, ShareCap, TargetShare

    limits = {"subject": QuotaLimit(300), "special": QuotaLimit(20), "experiment": QuotaLimit(60)}
    caps = [ShareCap("special", ("语文", "数学", "生活适应"), 80)]
    bonuses = [TargetBonus(TargetShare("subject", SCIENCE, 30), 2)]
    rows, scores = make_data(args.entries)
    rng = random.Random(7)
    shared = [(i, title, category, subject, rng.randrange(max(1, args.entries * 3 // 10)))
              for i, title, category, subject, _node in rows]
    scenarios = (("nodes of one subject's textbook", rows, lambda c, s: limits.get(c)),
                 ("harder: nodes shared across subjects", shared, lambda c, s: limits.get(c)),
                 ("per subject: 5 per category x subject", rows, lambda c, s: QuotaLimit(5, per_subject=True)))
    status, slow = 0, False
    print(f"entries: {args.entries}, scores: {len(scores)}, {args.runs} runs; median (max) seconds")
    print(f"{'scenario':<40} {'ranking':>12} {'proposal':>12} {'total':>12} {'CP-SAT':>7} {'status':>9} {'chosen':>6}")
    for name, data, limit_for in scenarios:
        times_rank, times_prop, result = [], [], None
        for _run in range(args.runs):
            t0 = time.perf_counter()
            ordered, mean = rank(data, scores)
            candidates = [Candidate(i, title, f"{mean[i]:.2f}", category, subject, node)
                          for i, title, category, subject, node in ordered]
            t1 = time.perf_counter()
            result = propose(candidates, limit_for, NodeRule.BLOCK, caps=caps, bonuses=bonuses)
            t2 = time.perf_counter()
            times_rank.append(t1 - t0)
            times_prop.append(t2 - t1)
        total = [a + b for a, b in zip(times_rank, times_prop, strict=True)]

        def cell(values):
            return f"{statistics.median(values):.2f} ({max(values):.2f})"

        print(f"{name:<40} {cell(times_rank):>12} {cell(times_prop):>12} {cell(total):>12} "
              f"{result.wall_time:>7.2f} {result.status:>9} {len(result.chosen):>6}")
        status = status or int(not result.optimal)  # a figure, not a test: only a non-optimal result fails
        slow = slow or statistics.median(total) > 2.0
    print("target ranking + proposal ≤ 2 s: " + ("MISSED" if slow else "met") + "; every proposal "
          + ("OPTIMAL" if status == 0 else "NOT proved optimal"))
    return status
