"""The courses list reads a small scope by its indexes and sorts it (``services._listed``),
and a large one by walking the newest-first index; either way it holds exactly the courses
``Course.objects.visible_to`` gives, newest change first (issue 12)."""

from __future__ import annotations

import pytest

from courses import services
from courses.models import Course, CourseMember

pytestmark = pytest.mark.django_db


@pytest.fixture
def courses(tree, campaign, node, course):
    other = services.start_course(tree.other_teacher, campaign, category="subject", node_id=node.pk,
                                  title="另一门课", periods=1)
    CourseMember.objects.create(course=other, user=tree.school_admin, order=1)  # a member from elsewhere
    return [course, other]


@pytest.mark.parametrize("who, scope_first", [
    ("teacher", True), ("other_teacher", True), ("school_admin", True), ("county_admin", True),
    ("other_county_admin", True), ("city_admin", False), ("province_admin", False), ("sysadmin", False),
    ("expert", True),
])
def test_same_courses_as_visible_to_in_the_same_order(tree, courses, who, scope_first):
    user = getattr(tree, who)
    listed = services.list_courses(user)
    ordering = listed.query.order_by
    assert ordering[0] == ("-recent" if scope_first else "-updated_at")
    expected = list(Course.objects.visible_to(user).order_by("-updated_at", "-id").values_list("pk", flat=True))
    assert list(listed.values_list("pk", flat=True)) == expected


def test_scope_first_names_the_schools_in_one_query(tree, courses, django_assert_num_queries):
    """Memberships (cached on the user), the team memberships, the scope's schools with the total."""
    tree.county_admin.memberships_cached()
    with django_assert_num_queries(2):
        assert services._listed(tree.county_admin)[1]
    tree.province_admin.memberships_cached()
    with django_assert_num_queries(1):  # a province's scope: no list of schools
        assert not services._listed(tree.province_admin)[1]


def test_a_scope_with_most_of_the_units_walks_the_index(tree, courses, monkeypatch):
    monkeypatch.setattr(services, "SCOPE_FIRST_SHARE", 1)
    assert services.list_courses(tree.city_admin).query.order_by[0] == "-recent"
    monkeypatch.setattr(services, "SCOPE_FIRST_MAX_SCHOOLS", 3)
    assert services.list_courses(tree.city_admin).query.order_by[0] == "-updated_at"
