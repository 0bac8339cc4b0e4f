"""What the teacher's submit and withdraw cost the server (issue 12, the locust run: one in six of
a teacher's requests). Each reads the course with its campaign, school and node once, under its
lock, and answers with that row as saved: the lead teacher's course is found by key under the lock
(his scope holds it; ``get_course``'s joins took PostgreSQL 3–5 ms to plan at 200,000 courses), the
campaign's levels and the school's deadline are read once for the check and the answer, and the
answer is not read again."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses import services
from courses.models import Course
from courses.tests.conftest import fill

pytestmark = pytest.mark.django_db
BASE = "/api/v1/courses"
JOINED_READ = 'FROM "courses_course" INNER JOIN "campaigns_campaign"'
# with a bearer token, the answer included (PostgreSQL 200 k: 33 and 26, then 27 and 28 before the
# course, its levels and its deadline were read once per request; 23 and 20 before the entries were
# read once and ``enter``/``leave`` joined the request's transaction without savepoints; withdraw 17
# before the entry nothing refers to was deleted without the collector's query per relation)
SUBMIT_QUERIES, WITHDRAW_QUERIES = 18, 14
ONCE = ('FROM "campaigns_level"', 'FROM "campaigns_deadlineoverride"', 'FROM "campaigns_resourceslot"',
        'FROM "campaigns_productionspec"', 'FROM "courses_coursemember"')


def test_submit_and_withdraw_read_the_course_once_and_answer_it_as_saved(client, tree, course, bearer):
    fill(course, tree.teacher)
    auth = bearer(tree.teacher)
    expected = {}
    for action, status, most in (("submit", "submitted", SUBMIT_QUERIES), ("withdraw", "withdrawn", WITHDRAW_QUERIES),
                                 ("submit", "submitted", SUBMIT_QUERIES)):
        with CaptureQueriesContext(connection) as queries:
            r = client.post(f"{BASE}/{course.pk}/{action}", **auth)
        assert (r.status_code, r.json()["status"]) == (200, status), r.content
        joined = [q["sql"] for q in queries.captured_queries if JOINED_READ in q["sql"]]
        assert len(joined) == 1, joined
        assert "FOR UPDATE" in joined[0] or not connection.features.has_select_for_update
        assert len(queries.captured_queries) <= most, (action, len(queries.captured_queries))
        sqls = [q["sql"] for q in queries.captured_queries]
        for table in ONCE:  # the levels, deadlines, slots, specs and team: read once, not per question
            assert sum(table in sql for sql in sqls) <= 1, (action, table)
        assert not any('FROM "campaigns_campaigncategory"' in sql for sql in sqls)
        # the course's entries: read once, for the returned one and the school's (submit), for the
        # school's answer and as the rows to delete (withdraw)
        assert sum(sql.startswith('SELECT "selection_entry"."id"') for sql in sqls) == 1, action
        # the answer is what a fresh read shows
        fresh = client.get(f"{BASE}/{course.pk}", **auth).json()
        answered = r.json()
        assert answered == fresh
        expected[action] = answered
    stored = Course.objects.get(pk=course.pk)
    assert (expected["submit"]["submitted_at"] is not None, stored.status) == (True, "submitted")


def test_submit_and_withdraw_refuse_outside_the_scope_as_before(client, tree, course, bearer):
    fill(course, tree.teacher)
    for user, code in ((tree.other_teacher, 404), (tree.county_admin, 403)):
        r = client.post(f"{BASE}/{course.pk}/submit", **bearer(user))
        assert r.status_code == code, (user, r.content)
    assert Course.objects.get(pk=course.pk).status == "draft"
    assert services.course_in_scope(tree.teacher, course.pk).pk == course.pk
