"""Fixtures of the originality page tests: the review tests' campaign, nodes, entries and pool."""

from review.tests.conftest import county_entry, county_round, pool, window  # noqa: F401
from selection.tests.conftest import campaign, nodes  # noqa: F401
