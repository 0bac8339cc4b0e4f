"""The courses list (``services._listed``) reads one city's or county's courses as one range of
its area index, a small scope (a teacher's, a school's, several units') by its indexes and sorts
it, and the province's by walking the newest-first index; either way it holds exactly the
courses ``Course.objects.visible_to`` gives, newest change first (issue 12)."""

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


@pytest.mark.parametrize("who, ordering", [
    ("teacher", "-recent"), ("other_teacher", "-recent"), ("school_admin", "-recent"), ("county_admin", "-updated_at"),
    ("other_county_admin", "-updated_at"), ("city_admin", "-updated_at"), ("province_admin", "-updated_at"),
    ("sysadmin", "-updated_at"), ("expert", "-recent"),
])
def test_same_courses_as_visible_to_in_the_same_order(tree, courses, who, ordering):
    user = getattr(tree, who)
    listed = services.list_courses(user)
    assert listed.query.order_by[0] == ordering
    expected = list(Course.objects.visible_to(user).order_by("-updated_at", "-id").values_list("pk", flat=True))
    assert list(listed.values_list("pk", flat=True)) == expected


@pytest.mark.parametrize("who, column, unit", [("county_admin", "area2", "county"), ("city_admin", "area1", "city")])
def test_one_city_or_county_is_one_area_in_two_queries(tree, courses, who, column, unit,
                                                       django_assert_num_queries):
    """The admin of one city or county: his team memberships and his own courses outside his
    scope (none), then the list is ``area<depth> = unit``, read in the order of its index, without
    a list of the scope's units (a 1 M city's 5,011) and without sorting (issue 12)."""
    user = getattr(tree, who)
    user.memberships_cached()
    with django_assert_num_queries(2):
        qs, must_sort = services._listed(user)
    assert not must_sort
    where = str(qs.query).split(" WHERE ", 1)[1]
    assert where.startswith(f'"courses_course"."{column}" = {getattr(tree, unit).pk}')
    assert " OR " not in where and "path" not in where and "school_id" not in where


def test_own_courses_outside_the_scope_are_added_and_sorted(tree, courses):
    """An admin who leads a course in another county sees it too (``visible_to``), added by id;
    that list is then sorted, no longer one range of the area index."""
    admin = tree.county_admin
    Course.objects.filter(pk=courses[1].pk).update(lead_teacher=admin)  # other_school: another county
    qs, must_sort = services._listed(admin)
    assert must_sort
    listed = list(services.list_courses(admin).values_list("pk", flat=True))
    assert courses[1].pk in listed
    assert listed == list(Course.objects.visible_to(admin).order_by("-updated_at", "-id").values_list("pk", flat=True))


def test_several_units_are_sorted_and_equal_visible_to(tree, courses):
    from orgs.models import Membership, Role

    admin = tree.county_admin
    Membership.objects.create(user=admin, unit=tree.other_county, role=Role.ADMIN)
    Membership.objects.create(user=admin, unit=tree.province_school, role=Role.ADMIN)
    admin = type(admin).objects.get(pk=admin.pk)
    listed = services.list_courses(admin)
    assert listed.query.order_by[0] == "-recent"
    expected = list(Course.objects.visible_to(admin).order_by("-updated_at", "-id").values_list("pk", flat=True))
    assert len(expected) == 2
    assert list(listed.values_list("pk", flat=True)) == expected


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


def test_a_teachers_own_courses_are_one_subquery(tree, courses, campaign, node, django_assert_num_queries):
    """Someone who administers no unit sees the courses he leads and those whose team he is in
    (``own_course_ids``): one subquery of the list's query, not a query of his team memberships
    first (the locust run's most frequent request)."""
    teacher = tree.teacher
    theirs = courses[1]  # another teacher's course of another school
    CourseMember.objects.create(course=theirs, user=teacher, order=2)
    services.start_course(tree.other_teacher, campaign, category="subject", node_id=node.pk, title="无关的课",
                          periods=1)
    teacher = type(teacher).objects.get(pk=teacher.pk)
    teacher.memberships_cached()
    expected = {courses[0].pk, theirs.pk}
    assert set(Course.objects.filter(lead_teacher=teacher).values_list("pk", flat=True)) == {courses[0].pk}
    with django_assert_num_queries(1):
        assert set(Course.objects.visible_to(teacher).values_list("pk", flat=True)) == expected
    newest_first = list(Course.objects.filter(pk__in=expected).order_by("-updated_at", "-id").values_list("pk", flat=True))
    with django_assert_num_queries(1):
        assert list(services.list_courses(teacher).values_list("pk", flat=True)) == newest_first
    CourseMember.objects.filter(course=theirs, user=teacher).delete()  # he left the team: no longer his
    assert set(Course.objects.visible_to(teacher).values_list("pk", flat=True)) == {courses[0].pk}
