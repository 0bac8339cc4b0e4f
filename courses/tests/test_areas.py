"""The course's areas (``courses/areas.py``): the ids at depth 1 and 2 of its school's path, kept
by database triggers whatever writes the course or moves a unit (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection

from courses import areas
from courses.models import Course
from orgs.models import Unit, UnitKind

pytestmark = pytest.mark.django_db


def expected(course_id: int) -> tuple[int | None, int | None]:
    """The areas computed in Python from the school's path as it is now."""
    ids = [int(p) for p in Unit.objects.get(courses__pk=course_id).path.strip("/").split("/")]
    return (ids[1] if len(ids) > 1 else None, ids[2] if len(ids) > 2 else None)


def assert_exact():
    rows = list(Course.objects.values_list("pk", "area1", "area2"))
    assert rows
    assert {pk: (a1, a2) for pk, a1, a2 in rows} == {pk: expected(pk) for pk, _a1, _a2 in rows}


def copy(course, school, title="另一门课"):
    return Course(campaign=course.campaign, category=course.category, node=course.node, title=title,
                  lead_teacher=course.lead_teacher, school=school)


def test_areas_follow_the_school_however_the_course_is_written(tree, course):
    """Created through the service (a county's school: its city and county); bulk-inserted at a
    city's and at the province's own school (the school itself is the area at its depth); the
    school changed by ``save``, by ``update`` and by raw SQL."""
    course.refresh_from_db()
    assert (course.area1, course.area2) == (tree.city.pk, tree.county.pk)
    at_city, at_province = Course.objects.bulk_create([copy(course, tree.city_school), copy(course, tree.province_school)])
    got = dict(Course.objects.filter(pk__in=[at_city.pk, at_province.pk]).values_list("pk", "area1"))
    assert got == {at_city.pk: tree.city.pk, at_province.pk: tree.province_school.pk}
    assert Course.objects.get(pk=at_city.pk).area2 == tree.city_school.pk
    assert Course.objects.get(pk=at_province.pk).area2 is None
    assert_exact()

    course.school = tree.other_school
    course.save()
    Course.objects.filter(pk=at_city.pk).update(school=tree.school)
    with connection.cursor() as cur:
        cur.execute("UPDATE courses_course SET school_id = %s WHERE id = %s", [tree.city_school.pk, at_province.pk])
    assert_exact()
    assert Course.objects.get(pk=course.pk).area2 == tree.other_county.pk

    # a stale instance saved again writes its school, so the areas are computed again, not copied
    stale = Course.objects.get(pk=course.pk)
    Course.objects.filter(pk=course.pk).update(school=tree.school)
    stale.title = "改名"
    stale.school = tree.school
    stale.area1, stale.area2 = 0, 0
    stale.save()
    assert_exact()


def test_moving_a_unit_moves_the_areas_of_its_subtree(tree, course):
    """A county moved to another city (``Unit.save`` rewrites its subtree's paths in one
    statement): every course of its schools takes the new city; a school moved to another
    county, and up to its city, likewise."""
    Course.objects.bulk_create([copy(course, tree.other_school), copy(course, tree.city_school)])
    tree.county.parent = tree.other_city
    tree.county.save()
    assert_exact()
    assert set(Course.objects.filter(school=tree.school).values_list("area1", flat=True)) == {tree.other_city.pk}

    tree.school.refresh_from_db()
    tree.school.parent = tree.other_county
    tree.school.save()
    assert_exact()
    tree.school.parent = tree.city
    tree.school.save()
    assert_exact()
    assert set(Course.objects.filter(school=tree.school).values_list("area1", "area2")) == {(tree.city.pk, tree.school.pk)}


def test_the_triggers_come_back_after_they_were_dropped(tree, course):
    """``ensure_triggers`` (after every ``migrate``: SQLite drops a remade table's triggers) puts
    them back and computes the areas the courses written meanwhile missed; with every trigger in
    place it changes nothing."""
    areas.uninstall(connection)
    assert not areas._installed(connection)
    Course.objects.filter(pk=course.pk).update(school=tree.other_school)
    assert Course.objects.get(pk=course.pk).area2 == tree.county.pk  # stale without its triggers
    areas.ensure_triggers(using="default")
    assert areas._installed(connection)
    assert_exact()
    Course.objects.filter(pk=course.pk).update(school=tree.school)
    assert_exact()
    areas.ensure_triggers(using="default")
    assert_exact()


def test_a_save_without_a_change_of_school_leaves_the_areas(tree, course):
    """The update triggers act on a change of school or area only: a full ``save`` of an unchanged
    school writes the areas it read, which are the current ones."""
    course = Course.objects.get(pk=course.pk)
    course.title = "改名"
    course.save()
    assert_exact()


def test_every_school_kind_has_its_areas(tree, course):
    """A school's areas depend on where it hangs (county, city, province), not on its kind name:
    any depth-1 or depth-2 unit is the area of the schools below it (the scope of its admin)."""
    schools = list(Unit.objects.filter(kind=UnitKind.SCHOOL))
    Course.objects.bulk_create([copy(course, school, title=f"课{i}") for i, school in enumerate(schools)])
    assert_exact()
    for unit in Unit.objects.filter(depth__in=list(areas.DEPTHS)):
        column = areas.DEPTHS[unit.depth]
        below = set(Course.objects.filter(school__path__startswith=unit.path).values_list("pk", flat=True))
        assert set(Course.objects.filter(**{column: unit.pk}).values_list("pk", flat=True)) == below, unit
