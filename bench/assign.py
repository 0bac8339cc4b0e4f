"""Reviewer assignment (review.assignment.solve): a city round of 5,000 entries and 300 experts, N = 3.

The instance is generated from a fixed seed: 12 subjects × 3 stages, 10 counties of 30 schools; 80 % of
the experts teach at one of those schools (so the county and school rules bite), the others come from
city units; about a third also review a second stage; every expert takes at most 60 entries (45 in the third case, too few
places for 15,000 pairs); 200
entries have an expert on their team and 300 personal conflicts are declared. Timed: ``solve`` on the
generated problem (its indexes, the graph, OR-Tools min-cost flow, reading the flow back, shortages),
then the same round re-solved with half of its pairs fixed (as after publishing part of it), then a
round with too few places, where every short entry's reasons are counted and written. Every
result is checked with ``review.assignment.violations``.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections import Counter

SUBJECTS = ("语文", "数学", "英语", "物理", "化学", "生物", "历史", "地理", "道德与法治", "音乐", "美术", "体育与健康")
STAGES = ("primary", "junior", "senior")


def instance(entries: int = 5000, experts: int = 300, n: int = 3, max_load: int = 60, seed: int = 2024):
    from review.assignment import Entry, Expert, Problem

    rng = random.Random(seed)
    fields = [(s, g) for s in SUBJECTS for g in STAGES]
    weights = [rng.uniform(0.5, 1.5) for _ in fields]
    schools = [(1000 + c * 30 + k, c) for c in range(10) for k in range(30)]
    entry_fields = rng.choices(fields, weights, k=entries)
    demand = Counter(entry_fields)
    # Experts per field in proportion to the field's entries (at least 4).
    share = [max(4, round(experts * demand[f] / entries)) for f in fields]
    while sum(share) > experts:
        share[share.index(max(share))] -= 1
    while sum(share) < experts:
        share[share.index(min(share))] += 1
    expert_rows = []
    for f, count in zip(fields, share, strict=True):
        for _ in range(count):
            i = len(expert_rows) + 1
            stages = {f[1]}
            if rng.random() < 0.35:
                stages.add(rng.choice(STAGES))
            school, county = rng.choice(schools) if rng.random() < 0.8 else (None, None)
            expert_rows.append(Expert(i, i, frozenset({f[0]}), frozenset(stages), max_load, school, county, f"专家{i}"))
    entry_rows = []
    for e, f in enumerate(entry_fields, start=1):
        school, county = rng.choice(schools)
        members = {100_000 + e * 4 + k for k in range(rng.randint(1, 4))}
        entry_rows.append(Entry(e, f[0], f[1], school, county, frozenset(members), f"课{e}"))
    for e in rng.sample(range(entries), 200):  # an expert on the team
        row = entry_rows[e]
        entry_rows[e] = Entry(row.id, row.subject, row.stage, row.school_id, row.county_id,
                              row.member_user_ids | {rng.randint(1, experts)}, row.title)
    conflicts = {(rng.randint(1, experts), rng.randint(1, entries)) for _ in range(300)}
    return Problem(tuple(entry_rows), tuple(expert_rows), n, True, frozenset(conflicts))


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jingpinke.settings")
    import django

    django.setup()
    from review.assignment import solve, violations

    entries, experts, n = 5000, 300, 3
    print(f"reviewer assignment: {entries} entries × {experts} experts, N = {n} (target ≤ 10 s)")
    print(f"{'case':<50} {'seconds (median of 3)':>22} {'pairs':>7} {'short':>6} {'load min–max':>13}")
    cases = (("solve", 60, False), ("re-solve, half the pairs fixed", 60, True),
             ("too few places: max load 45, shortages explained", 45, False))
    for case, max_load, refix in cases:
        times = []
        for _ in range(3):
            problem = instance(entries, experts, n, max_load)
            fixed = solve(problem).pairs[::2] if refix else ()
            problem = instance(entries, experts, n, max_load)  # a fresh copy: its indexes are built inside the timing
            start = time.perf_counter()
            result = solve(problem, fixed)
            times.append(time.perf_counter() - start)
        broken = violations(problem, result.pairs) if result.complete else []
        assert not broken, broken[:3]
        assert set(fixed) <= set(result.pairs)
        loads = result.loads.values()
        print(f"{case:<50} {statistics.median(times):>22.2f} {len(result.pairs):>7} {len(result.shortages):>6} "
              f"{f'{min(loads)}–{max(loads)}':>13}")
        if result.shortages:
            print(f"  e.g. {result.shortages[0].message}")
    return 0
