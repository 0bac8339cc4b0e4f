"""Prepared statements in a teacher's requests of the locust run (jingpinke/prepared.py, on
PostgreSQL): his own courses, submit and withdraw, and a tus upload run keyed statements, which are
prepared; an admin's course list, whose plan depends on his scope, never is."""

import base64

import pytest
from django.db import connection

from courses.tests.conftest import fill
from selection.tests.test_prepared_requests import forget_prepared, prepared_statements

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="prepared statements are PostgreSQL's (the suite runs on SQLite here)"),
]
BASE = "/api/v1/courses"


def test_a_teachers_own_courses_submit_and_withdraw_are_prepared(client, tree, course, bearer):
    fill(course, tree.teacher)
    auth = bearer(tree.teacher)
    forget_prepared()
    for _ in range(3):
        assert client.get(BASE, **auth).status_code == 200
    assert [s for s in prepared_statements() if 'FROM "courses_course"' in s]
    forget_prepared()
    for _ in range(2):
        for action in ("submit", "withdraw"):
            r = client.post(f"{BASE}/{course.pk}/{action}", **auth)
            assert r.status_code == 200, r.content
    statements = prepared_statements()
    assert [s for s in statements if s.startswith('UPDATE "courses_course"')]
    assert [s for s in statements if "selection_entry" in s]


def test_an_admins_course_list_is_planned_for_its_values(client, tree, course, bearer):
    auth = bearer(tree.county_admin)
    forget_prepared()
    for _ in range(4):
        r = client.get(BASE, **auth)
        assert r.status_code == 200 and r.json()["count"] >= 0
    statements = prepared_statements()
    assert any("api_apitoken" in s for s in statements)
    # the page's courses, read by their ids, are keyed (jingpinke.sql.Compiled); the scope's count and
    # the page of its ids are not
    courses = [s for s in statements if "courses_course" in s]
    assert courses and all(" IN ($1" in s for s in courses), courses
    assert not [s for s in courses if "COUNT(" in s or "LIMIT" in s]


def test_a_tus_upload_and_its_probe_are_prepared(client, tree, bearer, django_capture_on_commit_callbacks):
    auth = bearer(tree.teacher)
    meta = "filename " + base64.b64encode("教学设计.pdf".encode()).decode()
    forget_prepared()
    for _ in range(3):
        r = client.post("/api/v1/uploads/", HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_LENGTH="4",
                        HTTP_UPLOAD_METADATA=meta, **auth)
        assert r.status_code == 201, r.content
        with django_capture_on_commit_callbacks(execute=True):  # the probe task, run inline
            r = client.generic("PATCH", r["Location"], b"%PDF", content_type="application/offset+octet-stream",
                               HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_OFFSET="0", **auth)
        assert r.status_code == 204, r.content
    statements = prepared_statements()
    assert [s for s in statements if "media_upload" in s]
    assert [s for s in statements if s.startswith('UPDATE "media_storedfile"')]  # the probe's claim
