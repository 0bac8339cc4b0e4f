"""Ranking + recommendation proposal for a province: 20,000 entries, 60,000 expert scores (3 each).

The round is the ranking bench's (bench/ranking.py: 3 categories × 12 subjects, 600 experts with
their own leniency, one sheet in 200 vetoed), with catalog nodes added: about 6,000, each in one
subject's textbook, so many entries share a node. The province's quotas (学科课程 300, 特殊教育 20,
实验教学 60), the special-education cap (语文+数学+生活适应 ≤ 80 %) and a science target share
(物理/化学/生物/科学 ≥ 30 % of 学科课程, 2 points per pick) as a bonus.

Timed (wall clock; and the process's CPU time for both, less sensitive to other work on a shared
machine): the ranking (``review.aggregation.aggregate`` with the mean, then ``rank``) and the proposal
(``candidates_from_ranking`` and ``propose``: model, CP-SAT, an explanation for every entry left out).
Also: the same round with catalog nodes shared across subjects (a harder model), and with a quota
per category × subject (as for city-owned schools).
``python -m bench proposal --entries 5000 --runs 3`` changes the size.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

SCIENCE = ("物理", "化学", "生物", "科学")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench proposal")
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jingpinke.settings")
    import django

    django.setup()
    from bench.ranking import make_round
    from campaigns.enums import NodeRule
    from review import aggregation as agg
    from review.proposal import TargetBonus, candidates_from_ranking, propose
    from selection.rules import QuotaLimit, ShareCap, TargetShare

    entries, scores = make_round(args.entries, 3, 600)
    rng = random.Random(2024)
    n_nodes = max(1, args.entries * 3 // 10)
    books = sorted({(e.category, e.subject) for e in entries})
    per_book = n_nodes // len(books) + 1
    by_book = {e.entry_id: books.index((e.category, e.subject)) * per_book + rng.randrange(per_book) for e in entries}
    shared = {e.entry_id: rng.randrange(n_nodes) for e in entries}

    limits = {"subject": QuotaLimit(300), "special": QuotaLimit(20), "experiment": QuotaLimit(60)}
    caps = [ShareCap("special", ("语文", "数学", "生活适应"), 80)]
    bonuses = [TargetBonus(TargetShare("subject", SCIENCE, 30), 2)]
    scenarios = (("nodes of one subject's textbook", by_book, lambda c, s: limits.get(c)),
                 ("harder: nodes shared across subjects", shared, lambda c, s: limits.get(c)),
                 ("per subject: 5 per category x subject", by_book, lambda c, s: QuotaLimit(5, per_subject=True)))
    status, slow = 0, False
    print(f"entries: {len(entries)}, scores: {len(scores)}, {args.runs} runs; median (max) seconds")
    print(f"{'scenario':<40} {'ranking':>12} {'proposal':>12} {'total':>12} {'CPU':>5} {'CP-SAT':>7} {'status':>9} "
          f"{'chosen':>6}")
    for name, nodes, limit_for in scenarios:
        times_rank, times_prop, cpu, result = [], [], [], None
        for _run in range(args.runs):
            c0, t0 = time.process_time(), time.perf_counter()
            groups = agg.rank(entries, agg.aggregate(scores))
            t1 = time.perf_counter()
            candidates = candidates_from_ranking(groups, nodes)
            result = propose(candidates, limit_for, NodeRule.BLOCK, caps=caps, bonuses=bonuses)
            t2, c2 = time.perf_counter(), time.process_time()
            cpu.append(c2 - c0)
            times_rank.append(t1 - t0)
            times_prop.append(t2 - t1)
        total = [a + b for a, b in zip(times_rank, times_prop, strict=True)]

        def cell(values):
            return f"{statistics.median(values):.2f} ({max(values):.2f})"

        print(f"{name:<40} {cell(times_rank):>12} {cell(times_prop):>12} {cell(total):>12} {statistics.median(cpu):>5.2f} "
              f"{result.wall_time:>7.2f} {result.status:>9} {len(result.chosen):>6}")
        status = status or int(not result.optimal)  # a figure, not a test: only a non-optimal result fails
        slow = slow or statistics.median(total) > 2.0
    print("target ranking + proposal ≤ 2 s: " + ("MISSED" if slow else "met") + "; every proposal "
          + ("OPTIMAL" if status == 0 else "NOT proved optimal"))
    return status
