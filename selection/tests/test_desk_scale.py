"""The desk page (/selection/?campaign=C, and its school-name search) costs a fixed number of
queries whatever the number of courses, and on PostgreSQL none of its queries reads the courses or
the entries sequentially (the seed is ``bench.lists.seed``, as in test_list_plans.py)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.lists import add_courses, seed
from orgs.models import Membership, Role, User
from selection.tests.test_list_plans import hot_seq_scans

pytestmark = pytest.mark.django_db

# session, user, memberships, campaigns, levels + categories (one prefetch), the desk's child units,
# deadlines, confirmation, quotas, 3 summary counts, the page's ids and rows, the badges, the filter
# form's textbooks and child units, the unread notifications (25 before); the list's count only when
# a filter or a search narrows it (otherwise the summary's). A desk that is not a unit the user
# administers (?held_by=, the province admin's city) adds that unit.
DESK_QUERIES = 19


def desk_urls(s):
    c = s.campaign.pk
    school = s.schools[3].name  # 第1区第4小学
    return [
        (s.city_admin, f"/selection/?campaign={c}"),
        (s.city_admin, f"/selection/?campaign={c}&q={school}"),
        (s.county_admin, f"/selection/?campaign={c}"),
        (s.county_admin, f"/selection/?campaign={c}&q={school}"),
        (s.county_admin, f"/selection/?campaign={c}&held_by={s.schools[0].pk}"),
        (s.province_admin, f"/selection/?campaign={c}"),
        (s.province_admin, f"/selection/?campaign={c}&q={school}&sort=county"),
    ]


def with_province_admin(s):
    s.province_admin = User.objects.create_user(username="lists_province", password="x", real_name="省管理员")
    Membership.objects.create(user=s.province_admin, unit=s.province, role=Role.ADMIN)
    return s


def queries(client, user, url) -> int:
    client.force_login(user)
    client.get(url)  # the session and the caches of a first request
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert b'class="desk-table"' in response.content
    return len(ctx)


def test_the_desk_and_its_search_run_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    s = with_province_admin(seed(6, counties=2, schools_per_county=4))
    small = {f"{user.username} {url}": queries(client, user, url) for user, url in desk_urls(s)}
    add_courses(s, 6, 60)
    large = {f"{user.username} {url}": queries(client, user, url) for user, url in desk_urls(s)}
    assert large == small
    for user, url in desk_urls(s):
        client.force_login(user)
        extra = 1 if "held_by" in url or user == s.province_admin else 0
        if "q=" in url:  # courses.search: one query for the rarest bigrams, one for the matching rows' ids
            extra += 2
        with django_assert_max_num_queries(DESK_QUERIES + extra):
            assert client.get(url).status_code == 200


@pytest.mark.parametrize("cap", [10_000, 2])
def test_the_unfiltered_desk_counts_its_list_with_the_summary(settings, cap):
    """The count an unfiltered desk shows is the standing's (every state), the same as the list's
    own bounded count, capped alike; a filter or a search counts its list."""
    from selection import services

    settings.LIST_COUNT_CAP = cap
    s = seed(30, counties=2, schools_per_county=2)
    st = services.standing(s.county_admin, s.campaign, s.county, s.levels["county"])
    held = sum(st.held.count(state) for state in ("pending", "returned", "recommended", "declined"))
    assert held > 2
    for f in (services.EntryFilter(campaign=s.campaign.pk, held_by=s.county.pk),
              services.EntryFilter(campaign=s.campaign.pk, held_by=s.county.pk, sort="-title"),
              services.EntryFilter(campaign=s.campaign.pk, held_by=s.county.pk, state="pending"),
              services.EntryFilter(campaign=s.campaign.pk, held_by=s.county.pk, q="第1区第2小学")):
        counted = services.desk_page(s.county_admin, f, 30, 1).paginator
        given = services.desk_page(s.county_admin, f, 30, 1, held=held).paginator
        assert (given.count, given.capped) == (counted.count, counted.capped), f


@pytest.fixture
def city(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (query plans); run with JPK_DATABASE_URL=postgres://…")
    s = with_province_admin(seed(20_000))
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
        cur.execute("SET LOCAL random_page_cost = 1.1")  # as test_list_plans.py (README's SSD setting)
    return s


@pytest.mark.postgres
def test_the_desk_and_its_search_read_no_course_or_entry_sequentially(client, city):
    """Every query of the desk of the city, of a county and of the province (its summary counts,
    its bounded count, its page, the page's rows, the badges, the filter form), and of a school-name
    search, with 20,000 courses: no Seq Scan of courses or entries."""
    failures = {}
    for user, url in desk_urls(city):
        bad = hot_seq_scans(client, user, url, counts=True)
        if bad:
            failures[f"{user.username} {url}"] = sorted({(t, sql[:300]) for t, sql in bad})
    assert failures == {}
