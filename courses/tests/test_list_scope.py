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


def test_scope_first_names_the_units_in_one_bounded_query(tree, courses, django_assert_num_queries):
    """Memberships (cached on the user), the team memberships, the scope's units with the units
    outside it counted up to three times the scope's size (never every unit of the province)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    tree.county_admin.memberships_cached()
    with django_assert_num_queries(2), CaptureQueriesContext(connection) as ctx:
        assert services._listed(tree.county_admin)[1]
    scope = ctx.captured_queries[-1]["sql"]
    assert "COUNT(*)" in scope and "LIMIT (SELECT 3 * COUNT(*)" in scope
    tree.province_admin.memberships_cached()
    with django_assert_num_queries(1):  # a province's scope: no list of units
        assert not services._listed(tree.province_admin)[1]


def test_a_scope_with_most_of_the_units_walks_the_index(tree, courses, monkeypatch):
    monkeypatch.setattr(services, "SCOPE_FIRST_SHARE", 1)
    assert services.list_courses(tree.city_admin).query.order_by[0] == "-recent"
    monkeypatch.setattr(services, "SCOPE_FIRST_MAX_UNITS", 3)  # the bound of the list of ids
    assert services.list_courses(tree.city_admin).query.order_by[0] == "-updated_at"


def test_the_choice_is_the_share_of_the_units_not_their_number(tree, courses, monkeypatch):
    """Scope first costs the scope's courses, the walk at worst every course outside it: a
    county holding a quarter of the units or less is read scope first however many units that
    is; a unit holding more walks (until 2026-12-04 a cap of 5,000 schools sent a 1,000,000-course
    province's city of 5,011 units walking past 950,000 newer courses)."""
    from orgs.models import Unit

    total = Unit.objects.count()
    scope = Unit.objects.filter(path__startswith=tree.county.path).count()
    monkeypatch.setattr(services, "SCOPE_FIRST_MAX_UNITS", scope)
    monkeypatch.setattr(services, "SCOPE_FIRST_SHARE", total // scope)  # just a minority: scope first
    assert services._listed(tree.county_admin)[1]
    monkeypatch.setattr(services, "SCOPE_FIRST_SHARE", total // scope + 1)  # more than its share: walk
    assert not services._listed(tree.county_admin)[1]


def test_the_admin_of_every_unit_reads_no_scope_filter(tree, courses, django_assert_num_queries):
    """The admin of the only province administers every unit: his list is every course, read
    without a scope filter (the newest-first index alone, issue 12), in one query on the root
    units; with a second province beside it, his scope is his province again (same courses as
    ``visible_to`` either way), and an admin below the root never asks."""
    from orgs.models import Unit, UnitKind

    admin = tree.province_admin
    admin.memberships_cached()
    with django_assert_num_queries(1):
        qs, scope_first = services._listed(admin)
    assert not scope_first and not qs.query.where
    assert set(qs.values_list("pk", flat=True)) == set(Course.objects.visible_to(admin).values_list("pk", flat=True))
    tree.county_admin.memberships_cached()
    with django_assert_num_queries(0):  # not a root: no query
        assert not services.administers_every_unit(tree.county_admin)

    other = Unit.objects.create(name="广西壮族自治区", code="450000", kind=UnitKind.PROVINCE)
    school = Unit.objects.create(name="南宁市第一中学", code="450100001", kind=UnitKind.SCHOOL, parent=other)
    Course.objects.filter(pk=courses[1].pk).update(school=school)
    admin = type(admin).objects.get(pk=admin.pk)  # a new request
    qs, _scope_first = services._listed(admin)
    assert qs.query.where
    expected = list(Course.objects.visible_to(admin).order_by("-updated_at", "-id").values_list("pk", flat=True))
    assert courses[1].pk not in expected
    assert list(services.list_courses(admin).values_list("pk", flat=True)) == expected
