"""What a teacher's own list and team cost the server (issue 12, the locust run: four in five users
are teachers). The list of his courses reads each thing once for the page (no count when the page
holds them all), and a course's team and its same-node warning are one query of values each,
showing what the instances showed."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses import services
from courses.models import CourseMember
from orgs.models import Membership, Role, Unit, UnitKind
from orgs.tests.factories import member

pytestmark = pytest.mark.django_db
BASE = "/api/v1/courses"
LIST_QUERIES = 8  # token, memberships, page keys (his courses: one subquery), rows, levels, deadlines, teams, same node


def _old_team(course):
    """The team as ``members_of`` built it from instances (``_person`` on each member)."""
    return [services._person(m.user, course.campaign) for m in course.members.select_related("user").order_by("order", "pk")]


def test_the_team_shows_what_the_members_instances_showed(tree, course, campaign):
    # a teacher of two schools, the first outside the campaign's city; one whose school closed; an
    # administrator who teaches nowhere; one without a real name (his username shows)
    outside = Unit.objects.create(name="茂名市第一小学", code="440900001", kind=UnitKind.SCHOOL, parent=tree.other_city)
    two = member(outside, Role.TEACHER, username="two_schools", mobile="13900000002")
    Membership.objects.create(user=two, unit=tree.other_school, role=Role.TEACHER)
    closed = Unit.objects.create(name="已撤并小学", code="440802099", kind=UnitKind.SCHOOL, parent=tree.county,
                                 is_active=False)
    gone = member(closed, Role.TEACHER, username="closed_school")
    nameless = member(tree.school, Role.TEACHER, username="nameless", real_name="")
    team = [two, gone, tree.school_admin, nameless, tree.other_teacher]
    for i, user in enumerate(team, start=1):
        CourseMember.objects.create(course=course, user=user, order=len(team) - i)
    course = services.get_course(tree.teacher, course.pk)
    expected = _old_team(course)
    assert [p["school"] for p in expected] == ["霞山区第一小学", "湛江市第二十一小学", "", "", "霞山区第一小学"]
    assert services.members_of(course) == expected
    assert {p["name"] for p in expected} >= {"nameless"} and "139****0002" in {p["mobile"] for p in expected}
    assert services.row_extras([course]).members[course.pk] == expected


def test_a_teachers_list_reads_each_thing_once_and_shows_what_the_detail_shows(client, tree, campaign, node, course, bearer):
    services.start_course(tree.teacher, campaign, category="subject", node_id=node.pk, title="天地人二", periods=1)
    theirs = services.start_course(tree.other_teacher, campaign, category="subject", node_id=node.pk, title="他人的课")
    services.set_members(tree.other_teacher, theirs, [tree.teacher.pk])
    services.set_members(tree.teacher, course, [tree.other_teacher.pk])
    auth = bearer(tree.teacher)
    client.get(BASE, **auth)  # the token's first use is recorded once
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(BASE, **auth)
    assert r.status_code == 200
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert len(sqls) <= LIST_QUERIES, sqls
    assert not any("COUNT(" in s for s in sqls)  # the page holds the whole list: its rows are the count
    assert sum('FROM "campaigns_level"' in s for s in sqls) == 1
    page = r.json()
    assert (page["count"], page["num_pages"], page["next"]) == (3, 1, None)
    for item in page["items"]:  # the list's rows are the detail's (read for a page at once)
        assert item == client.get(f"{BASE}/{item['id']}", **auth).json()
    warned = {i["title"] for i in page["items"] if i["same_node_warning"]}
    assert warned == {"天地人", "天地人二"}  # the other teacher's course is in another school


def test_written_out_team_and_same_node_reads_equal_the_orm_ones(tree, campaign, node, course, django_assert_num_queries):
    """``members_of`` and ``same_node_warning`` of one course read with written-out statements (every
    answered course asks them): the same rows, in the same order, as the ORM queries they replace
    (``row_extras`` still builds those for a page); one query each."""
    second = services.start_course(tree.teacher, campaign, category="subject", node_id=node.pk, title="天地人二", periods=1)
    CourseMember.objects.create(course=course, user=tree.school_admin, order=2)  # teaches nowhere
    CourseMember.objects.create(course=course, user=tree.other_teacher, order=1)
    Membership.objects.create(user=tree.other_teacher, unit=tree.school, role=Role.TEACHER)  # two memberships
    for c in (course, second):
        c = services.get_course(tree.teacher, c.pk)
        orm_team = list(CourseMember.objects.filter(course_id=c.pk).order_by(
            "course_id", "order", "pk", "user__memberships__pk").values_list(
            "course_id", "pk", "user_id", "user__real_name", "user__first_name", "user__last_name", "user__username",
            "user__mobile", "user__memberships__role", "user__memberships__unit__name", "user__memberships__unit__path",
            "user__memberships__unit__is_active"))
        written = services._one_team_rows(c.pk)
        assert [tuple(r[:11]) + (bool(r[11]) if r[11] is not None else None,) for r in written] == [
            tuple(r[:11]) + (r[11],) for r in orm_team]
        orm_same = services._same_node_rows(services.Course.objects.filter(
            campaign_id=c.campaign_id, school_id=c.school_id, node_id=c.node_id).exclude(pk=c.pk))
        assert services._same_node_rows_of(c) == orm_same and len(orm_same) == 1
        expected = services._teams(CourseMember.objects.filter(course_id=c.pk), lambda _pk, c=c: c.campaign).get(c.pk, [])
        with django_assert_num_queries(1):
            assert services.members_of(c) == expected
        with django_assert_num_queries(1):
            warning = services.same_node_warning(c)
        assert warning == services.rules.same_node_warning([row[4:] for row in orm_same], c.campaign.node_rule)
        assert "天地人" in warning
    assert len(services._one_team_rows(course.pk)) == 3 and services._one_team_rows(second.pk) == []
