"""The progress board, the desk and the dashboard as a county or city grows (issue 12): the same
number of queries with 2 and with 7 child units and 5 or 60 courses; the board page draws 30 units
a page while counting and sorting every one; the board's figures equal a recount of the entries
row by row (what the board computed before it counted in the database)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.lists import add_courses, seed
from campaigns.models import Quota
from orgs.models import Membership, Role, Unit, UnitKind, User
from selection import rules, services
from selection.models import Entry, EntryState

pytestmark = pytest.mark.django_db


def pages(s):
    c = s.campaign.pk
    return [
        (s.county_admin, f"/selection/campaigns/{c}/progress/"),
        (s.county_admin, f"/api/v1/selection/campaigns/{c}/progress"),
        (s.county_admin, f"/selection/?campaign={c}&held_by={s.county.pk}"),
        (s.county_admin, f"/reports/?campaign={c}&unit={s.county.pk}"),
        (s.city_admin, f"/selection/campaigns/{c}/progress/"),
        (s.city_admin, f"/selection/campaigns/{c}/progress/?sort=-pending&page=1"),
        (s.city_admin, f"/api/v1/selection/campaigns/{c}/progress"),
        (s.city_admin, f"/selection/?campaign={c}&held_by={s.city.pk}"),
        (s.city_admin, f"/reports/?campaign={c}&unit={s.city.pk}"),
        (s.province_admin, f"/selection/campaigns/{c}/progress/?unit={s.city.pk}"),
    ]


def count_queries(client, user, url) -> int:
    client.force_login(user)
    client.get(url)  # warm the per-process caches (content types, permissions)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx)


def more_units(s, schools: int, counties: int) -> None:
    """``schools`` more schools in the county, ``counties`` more counties of 2 schools each."""
    for j in range(schools):
        s.schools.append(Unit.objects.create(name=f"新学校{j}", code=f"N-{s.county.code}-{j}", kind=UnitKind.SCHOOL,
                                             parent=s.county))
    for c in range(counties):
        county = Unit.objects.create(name=f"新区{c}", code=f"N-{c}", kind=UnitKind.COUNTY, parent=s.city)
        for j in range(2):
            s.schools.append(Unit.objects.create(name=f"新区{c}第{j}小学", code=f"N-{c}-{j}", kind=UnitKind.SCHOOL,
                                                 parent=county))


def with_province_admin(s) -> None:
    s.province_admin = User.objects.create_user(username="lists_province", password="x", real_name="省管理员")
    Membership.objects.create(user=s.province_admin, unit=s.province, role=Role.ADMIN)


def test_query_counts_do_not_grow_with_child_units_or_entries(client):
    s = seed(5, counties=2, schools_per_county=2)
    with_province_admin(s)
    small = {f"{user.username} {url}": count_queries(client, user, url) for user, url in pages(s)}
    more_units(s, schools=5, counties=1)
    add_courses(s, 5, 55)
    Entry.objects.filter(level__kind="county", state=EntryState.RECOMMENDED).update(awarded=True)
    Entry.objects.filter(level__kind="school", state=EntryState.PENDING, pk__lt=40).update(state=EntryState.DECLINED)
    assert Unit.objects.filter(parent=s.county).count() == 7
    large = {f"{user.username} {url}": count_queries(client, user, url) for user, url in pages(s)}
    assert large == small
    assert max(small.values()) <= 40


def test_the_board_page_draws_30_units_a_page_and_counts_every_unit(client):
    s = seed(0, counties=1, schools_per_county=35)
    add_courses(s, 0, 70)  # two courses a school: one recommended, one pending
    client.force_login(s.county_admin)
    url = f"/selection/campaigns/{s.campaign.pk}/progress/"
    response = client.get(url)
    rows, page = response.context["rows"], response.context["page_obj"]
    assert (len(rows), page.paginator.count, page.paginator.num_pages) == (30, 35, 2)
    assert response.context["behind"] == 35  # every unit, not just the page's
    html = response.content.decode()
    assert "35 个单位尚未完成" in html and "第 1 / 2 页，共 35 条" in html
    assert 'rel="next"' in html and "page=2" in html and 'rel="prev"' not in html  # the shared include
    response = client.get(url + "?page=2")
    second = response.context["rows"]
    assert [r.unit.name for r in second] == [f"第1区第{j}小学" for j in range(31, 36)]
    html = response.content.decode()
    assert 'rel="prev"' in html and "page=1" in html and 'rel="next"' not in html
    # Sorted whole, then paged: the school with the most pending entries leads page 1.
    Entry.objects.filter(unit=s.schools[-1], state=EntryState.RECOMMENDED).update(state=EntryState.PENDING)
    first = client.get(url + "?sort=-pending").context["rows"][0]
    assert (first.unit.name, first.counts["pending"]) == ("第1区第35小学", 2)
    # The API and the export keep every unit.
    body = client.get(f"/api/v1/selection/campaigns/{s.campaign.pk}/progress").json()
    assert len(body["children"]) == 35


def recount(campaign, child) -> tuple[dict, list, int]:
    """The board's figures of one child unit from its entries read row by row (the former way)."""
    rows = list(Entry.objects.filter(level__campaign=campaign, unit=child)
                .values_list("state", "awarded", "node_id", "course__category", "node__textbook__subject"))
    counts = {state: sum(1 for r in rows if r[0] == state) for state in EntryState.values}
    counts["awarded"] = sum(1 for r in rows if r[1])
    recommended = [rules.Pick(0, cat, subj) for state, _a, _n, cat, subj in rows if state == EntryState.RECOMMENDED]
    seen = {(cat, subj) for _s, _a, _n, cat, subj in rows}
    limit_for = services._limit_for(services._quota_rows(campaign), child)
    quotas = rules.quota_uses(services._categories(campaign), limit_for, recommended, seen)
    live = [rules.Pick(0, cat, subj, node) for state, _a, node, cat, subj in rows
            if state in (EntryState.PENDING, EntryState.RECOMMENDED)]
    return counts, quotas, rules.node_conflict_count(live)


@pytest.mark.parametrize("subject_quota", [False, True])
def test_the_board_shows_the_figures_of_a_row_by_row_recount(subject_quota):
    s = seed(0, counties=3, schools_per_county=3)
    add_courses(s, 0, 90)
    county_level = s.levels["county"]
    if subject_quota:  # a subject line in the county quota: the board lists the subjects held
        Quota.objects.create(campaign=s.campaign, level=county_level, category="subject", subject="语文", limit=4)
    # A mix: some awarded (recommended or not), some declined, some returned; entries of a
    # second category on the same nodes (node conflicts), one county with nothing.
    county_entries = Entry.objects.filter(level=county_level).order_by("pk")
    ids = list(county_entries.values_list("pk", flat=True))
    Entry.objects.filter(pk__in=ids[::3]).update(awarded=True)
    Entry.objects.filter(pk__in=ids[1::7]).update(state=EntryState.DECLINED)
    Entry.objects.filter(pk__in=ids[2::9]).update(state=EntryState.RETURNED, awarded=True)
    from courses.models import Course
    Course.objects.filter(entries__pk__in=ids[::4]).update(category="special")
    Entry.objects.filter(unit=Unit.objects.filter(parent=s.city).order_by("code").last()).delete()
    live = list(Entry.objects.filter(level=county_level, unit=s.county, state__in=["pending", "recommended"])
                .order_by("pk")[:3])
    Entry.objects.filter(pk__in=[e.pk for e in live]).update(node=live[0].node)  # one node held three times
    second = Unit.objects.filter(parent=s.city).order_by("code")[1]
    Entry.objects.filter(unit=second).exclude(state=EntryState.PENDING).update(state=EntryState.DECLINED)
    Entry.objects.filter(unit=second).update(awarded=False)
    rows = services.progress(s.city_admin, s.campaign, s.city)
    assert len(rows) == 3
    for r in rows:
        counts, quotas, conflicts = recount(s.campaign, r.unit)
        assert (r.counts, r.quotas, r.node_conflicts) == (counts, quotas, conflicts), r.unit.name
    assert any(r.node_conflicts for r in rows) and any(r.counts["awarded"] for r in rows)
    assert any(q.subject for r in rows for q in r.quotas) == subject_quota
    # A county holding 语文 entries but recommending none still shows its subject line ("语文 0/4").
    assert [(q.subject, q.used) for q in rows[1].quotas if q.subject] == ([("语文", 0)] if subject_quota else [])
    # The desk's summary of a county: the same figures.
    st = services.standing(s.city_admin, s.campaign, s.county, county_level)
    counts, quotas, conflicts = recount(s.campaign, s.county)
    assert (st.counts, st.quotas, st.node_conflicts) == (counts, quotas, conflicts)


def test_the_board_page_computes_its_page_only_and_counts_the_units_behind_exactly(client, monkeypatch):
    """In the units' order the page computes its 30 rows only (a county of 800 schools costs what
    one of 30 does); the summary line counts the units behind without reading their entries
    (``behind_count``), the same number as the rows computed whole."""
    from django.utils import timezone

    from selection.models import UnitLevel

    s = seed(0, counties=1, schools_per_county=35)
    add_courses(s, 0, 70)  # two courses a school: one recommended, one pending
    level = s.levels["school"]
    for i, school in enumerate(s.schools[:6]):  # confirmed: 3 still holding a pending entry, 3 done
        if i % 2:
            Entry.objects.filter(unit=school, state=EntryState.PENDING).update(state=EntryState.DECLINED)
        UnitLevel.objects.create(campaign=s.campaign, level=level, unit=school, confirmed_at=timezone.now())
    UnitLevel.objects.create(campaign=s.campaign, level=level, unit=s.schools[7])  # opened, not confirmed
    whole = services.progress(s.county_admin, s.campaign, s.county)
    assert sum(1 for r in whole if r.behind) == 32
    assert services.behind_count(s.campaign, [r.unit for r in whole]) == 32

    computed = []
    real = services._held_counts
    monkeypatch.setattr(services, "_held_counts", lambda c, ids, **kw: computed.append(len(ids)) or real(c, ids, **kw))
    client.force_login(s.county_admin)
    url = f"/selection/campaigns/{s.campaign.pk}/progress/"
    for query, shown in (("", whole[:30]), ("?page=2", whole[30:]), ("?sort=-unit&page=2", whole[::-1][30:])):
        computed.clear()
        response = client.get(url + query)
        assert computed == [len(shown)]
        rows = response.context["rows"]
        assert [(r.unit.pk, r.counts, r.behind, r.quotas) for r in rows] == [
            (r.unit.pk, r.counts, r.behind, r.quotas) for r in shown]
        assert response.context["behind"] == 32 and "32 个单位尚未完成" in response.content.decode()
    computed.clear()
    assert client.get(url + "?sort=pending").context["behind"] == 32 and computed == [35]  # sorted: every unit


def most_parameters(client, user, url) -> int:
    """The most parameters any one query of the request carried (before they were interpolated)."""
    sizes = []

    def record(execute, sql, params, many, context):
        # the node conflicts keep a list (services._held_counts: the array made a plan test flaky)
        if "selection_nodetally" not in sql:
            sizes.append(len(params or ()))
        return execute(sql, params, many, context)

    client.force_login(user)
    client.get(url)  # the dashboard's first visit makes its snapshot
    with connection.execute_wrapper(record):
        assert client.get(url).status_code == 200
    return max(sizes)


@pytest.mark.postgres
def test_the_board_names_its_child_units_as_one_array_parameter(client):
    """PostgreSQL: the child units go to the board's queries as one array (``jingpinke.sql.InIds``),
    not one parameter each: a county's ~835 schools at 1 M were prepared one by one by Django and,
    beyond 50 parameters, parsed again by psycopg at every execution."""
    if connection.vendor != "postgresql":
        pytest.skip("the array parameter is PostgreSQL's (SQLite: IN with a parameter each)")
    s = seed(5, counties=2, schools_per_county=2)
    urls = [f"/api/v1/selection/campaigns/{s.campaign.pk}/progress", f"/reports/?campaign={s.campaign.pk}"]
    small = [most_parameters(client, s.county_admin, url) for url in urls]
    more_units(s, schools=40, counties=0)
    assert Unit.objects.filter(parent=s.county).count() == 42
    assert [most_parameters(client, s.county_admin, url) for url in urls] == small
