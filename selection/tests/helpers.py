"""Helpers shared by the selection tests (fixtures are in conftest.py)."""

from selection import services
from selection.models import Entry


def entry_at(course, kind):
    return Entry.objects.get(course=course, level__kind=kind)


def up_to_county(course, tree):
    services.decide(tree.school_admin, entry_at(course, "school").pk, "recommend")
    return entry_at(course, "county")
