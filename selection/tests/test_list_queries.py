"""Every list touched by issue 12 runs the same number of queries with 5 and with 50 courses
(page first, then the page's rows): the entries API and desk page for a city and a county admin,
/courses/ and GET /api/v1/courses for a city admin and a teacher, the progress board."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.lists import add_courses, seed
from courses.models import Course

pytestmark = pytest.mark.django_db


def lists(s):
    c = s.campaign.pk
    return [
        (s.city_admin, "/api/v1/selection/entries"),
        (s.city_admin, "/api/v1/selection/entries?sort=compliance&q=秋天"),
        (s.county_admin, "/api/v1/selection/entries?page_size=100"),
        (s.city_admin, f"/selection/?campaign={c}&held_by={s.city.pk}"),
        (s.county_admin, f"/selection/?campaign={c}&held_by={s.county.pk}&sort=county"),
        (s.city_admin, "/courses/"),
        (s.teacher, "/courses/"),
        (s.city_admin, "/api/v1/courses"),
        (s.teacher, "/api/v1/courses"),
        (s.city_admin, f"/api/v1/selection/campaigns/{c}/progress"),
        (s.city_admin, f"/selection/campaigns/{c}/progress/"),
    ]


def count_queries(client, user, url) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx)


def test_query_counts_do_not_grow_with_the_number_of_courses(client):
    s = seed(5, counties=2, schools_per_county=3)
    small = {url + " " + user.username: count_queries(client, user, url) for user, url in lists(s)}
    add_courses(s, 5, 45)
    # The same rows lead both pages (the teacher's courses and the one he is a team member of).
    Course.objects.filter(Q(lead_teacher=s.teacher) | Q(members__user=s.teacher)).update(updated_at=timezone.now())
    large = {url + " " + user.username: count_queries(client, user, url) for user, url in lists(s)}
    # A list that fits on its first page takes its count from its rows (jingpinke.paging): one query
    # less while it is that small; past a page the counts stay the same however many rows there are.
    assert all(small[k] <= large[k] <= small[k] + 1 for k in small), (small, large)
    add_courses(s, 50, 45)
    Course.objects.filter(Q(lead_teacher=s.teacher) | Q(members__user=s.teacher)).update(updated_at=timezone.now())
    larger = {url + " " + user.username: count_queries(client, user, url) for user, url in lists(s)}
    assert larger == large
    assert max(large.values()) <= 30
