"""Fixtures for the export tests: the Zhanjiang campaign of the courses tests, and a way to put
many courses (with team members, entries, files and review scores) into it quickly."""

from __future__ import annotations

import pytest

from courses.tests.conftest import campaign, future, leaf, make_file  # noqa: F401  (fixtures and helpers)
