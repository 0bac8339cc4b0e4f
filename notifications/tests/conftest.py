"""Fixtures of the notifications tests: the selection tests' Zhanjiang 2024 campaign, catalog
nodes and course factory, plus a course with a team and e-mail addresses."""

import pytest

from courses.models import CourseMember
from orgs.models import Role
from orgs.tests.factories import member
from selection.tests.conftest import bearer, campaign, make_course, nodes  # noqa: F401  (shared fixtures)


@pytest.fixture
def people(tree):
    """E-mail addresses for the lead teacher and the admins; a team member without one."""
    for user, email in ((tree.teacher, "teacher@example.cn"), (tree.school_admin, "school@example.cn"),
                        (tree.county_admin, "county@example.cn"), (tree.city_admin, "city@example.cn")):
        user.email = email
        user.save(update_fields=["email"])
    tree.colleague = member(tree.school, Role.TEACHER, username="colleague", real_name="王老师")
    tree.second_county_admin = member(tree.county, Role.ADMIN, username="ck_admin2", email="ck2@example.cn")
    return tree


@pytest.fixture
def course(make_course, people, nodes):
    """A submitted course of 湛江市第二十一小学 (lead: teacher, team: 王老师), at the school."""
    c = make_course(node=nodes[0], title="秋天")
    CourseMember.objects.create(course=c, user=people.colleague, order=1)
    return c
