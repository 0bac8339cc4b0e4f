"""Fixtures of the export tests: the selection tests' campaign and catalog nodes, the review
tests' county entries and expert pool (the same small Guangdong › Zhanjiang tree)."""

from __future__ import annotations

from review.tests.conftest import county_entry, pool, window  # noqa: F401  (fixtures)
from selection.tests.conftest import campaign, nodes  # noqa: F401  (fixtures)
