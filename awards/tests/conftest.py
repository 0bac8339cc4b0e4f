"""Awarded courses to certify: county-level 县级精品课 held by 赤坎区 (the tree's county)."""

import pytest

from courses.models import CourseMember
from orgs.models import Role
from orgs.tests.factories import member
from selection import services as selection_services
from selection.models import Entry
from selection.tests.conftest import bearer, campaign, make_course, nodes  # noqa: F401  (fixtures)


@pytest.fixture
def awarded(tree, campaign, make_course, nodes):  # noqa: F811
    """Two county-level awards: one course with a team member (another school's teacher)."""
    colleague = member(tree.other_school, Role.TEACHER, username="colleague", real_name="欧阳修明")
    tree.teacher.real_name = "王小明"
    tree.teacher.save(update_fields=["real_name"])
    entries = []
    for i, node in enumerate(nodes[:2]):
        course = make_course(node=node, title=f"秋天的雨{i}")
        if i == 0:
            CourseMember.objects.create(course=course, user=colleague, order=1)
        school_entry = Entry.objects.get(course=course, level__kind="school")
        selection_services.decide(tree.school_admin, school_entry.pk, "recommend")
        county_entry = Entry.objects.get(course=course, level__kind="county")
        selection_services.set_award(tree.county_admin, county_entry.pk, True)
        entries.append(Entry.objects.get(pk=county_entry.pk))
    return entries
