"""The province admin's lists on PostgreSQL (issue 12): he administers every unit, so his courses
list and his entries carry no scope filter (``courses.services.administers_every_unit``): the
courses page walks the newest-first index and stops at the page, the bounded count reads cap + 1
index entries, and no query reads the units of the province (the count used to hash all of
them, 20,142 at 200 k, and test each course against them). On the seeded city of
``selection/tests/test_list_plans.py`` (20,000 courses, ``ANALYZE``d)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from selection.tests.test_list_plans import city, hot_seq_scans  # noqa: F401  (city: the fixture)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def province_admin(city):  # noqa: F811
    from orgs.models import Membership, Role, Unit, User

    user = User.objects.create_user(username="lists_province", password="x", real_name="省管理员")
    Membership.objects.create(user=user, unit=Unit.objects.get(code="L440000"), role=Role.ADMIN)
    return user


def test_the_province_lists_read_no_unit_and_scan_nothing(client, city, province_admin, settings,  # noqa: F811
                                                          django_assert_max_num_queries):
    settings.LIST_COUNT_CAP = 500
    c = city.campaign.pk
    urls = ["/courses/", "/api/v1/courses", f"/api/v1/selection/entries?campaign={c}",
            f"/api/v1/selection/entries?campaign={c}&q=秋天", f"/api/v1/selection/entries?campaign={c}&q=王000040"]
    failures = {}
    for url in urls:
        assert hot_seq_scans(client, province_admin, url, counts=True) == [], url
        client.force_login(province_admin)
        with django_assert_max_num_queries(13), CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        scoped = [q["sql"][:200] for q in ctx.captured_queries
                  if ('FROM "courses_course"' in q["sql"] or 'FROM "selection_entry"' in q["sql"])
                  and '"path"::text LIKE' in q["sql"]]  # a scope: units by their path
        if scoped:
            failures[url] = scoped
    assert failures == {}
