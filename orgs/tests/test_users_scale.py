"""The users page at a province's scale: the scope shortcut of a top unit's admin (same people as
the generic scope), the filters' single semi-join, the query count, and on PostgreSQL the plans
(the page walks ``orgs_user_by_name``; the count reads no table sequentially)."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orgs import services
from orgs.models import Membership, Role, Unit, UnitKind, User
from orgs.permissions import users_cover_every_unit, users_visible_to
from orgs.tests.factories import member


def _generic(actor):
    """The scope as it is defined: everyone with a membership in the actor's subtree."""
    units = Unit.objects.visible_to(actor)
    return User.objects.filter(pk__in=Membership.objects.filter(unit__in=units).values("user_id"))


def ids(qs):
    return sorted(qs.values_list("pk", flat=True))


def test_a_top_units_admin_sees_everyone_with_a_membership_as_before(tree):
    nobody = User.objects.create_user(username="no_membership", password="x")
    assert users_cover_every_unit(tree.province_admin)
    assert not users_cover_every_unit(tree.city_admin)
    visible = ids(users_visible_to(tree.province_admin))
    assert visible == ids(_generic(tree.province_admin))
    assert nobody.pk not in visible and tree.teacher.pk in visible


def test_another_top_unit_turns_the_shortcut_off(tree):
    other = Unit.objects.create(name="海南省", code="460000", kind=UnitKind.PROVINCE)
    outsider = member(other, Role.TEACHER, username="hainan_teacher")
    admin = User.objects.get(pk=tree.province_admin.pk)  # fresh: the shortcut is cached per user object
    assert not users_cover_every_unit(admin)
    visible = ids(users_visible_to(admin))
    assert outsider.pk not in visible and visible == ids(_generic(admin))
    for role in ("", "teacher", "admin", "county_admin", "expert"):
        assert ids(services.search_users(admin, role=role)) == ids(_generic(admin).filter(
            pk__in=Membership.objects.filter(unit__in=Unit.objects.visible_to(admin), **(
                {"role": Role.TEACHER} if role == "teacher" else {"role": Role.ADMIN} if role == "admin"
                else {"role": Role.ADMIN, "unit__kind": "county"} if role == "county_admin"
                else {"role": Role.EXPERT} if role == "expert" else {})).values("user_id")))


@pytest.mark.parametrize("who", ["province_admin", "city_admin", "county_admin", "sysadmin"])
def test_the_filters_give_the_people_of_scope_and_filter(tree, who):
    Membership.objects.create(user=tree.teacher, unit=tree.other_school, role=Role.EXPERT)
    User.objects.filter(pk=tree.other_teacher.pk).update(is_active=False)
    actor = getattr(tree, who)
    scope = _generic(actor) if not actor.is_superuser else User.objects.all()
    for unit in [None, *Unit.objects.visible_to(actor)]:
        for role, wanted in (("", {}), ("teacher", {"role": Role.TEACHER}), ("expert", {"role": Role.EXPERT}),
                             ("county_admin", {"role": Role.ADMIN, "unit__kind": "county"})):
            for active in ("", "1", "0"):
                got = [u.pk for u in services.search_users(actor, unit=unit, role=role, active=active)]
                expected = scope
                if unit is not None or role:
                    units = Unit.objects.subtree(unit) if unit else Unit.objects.visible_to(actor)
                    expected = expected.filter(pk__in=Membership.objects.filter(unit__in=units, **wanted)
                                               .values("user_id"))
                if active:
                    expected = expected.filter(is_active=active == "1")
                assert got == list(expected.order_by("real_name", "username", "pk").values_list("pk", flat=True)), (
                    unit, role, active)


def test_the_users_page_of_a_province_admin_makes_few_queries(client, tree, django_assert_max_num_queries):
    for i in range(40):
        member(tree.school if i % 2 else tree.other_school, Role.TEACHER, username=f"t{i:02d}")
    client.force_login(tree.province_admin)
    # session, user, memberships, the top-unit check, the bounded count, the page, its memberships,
    # the notifications badge
    with django_assert_max_num_queries(8):
        response = client.get(reverse("orgs:users"))
    assert response.status_code == 200
    assert len(response.context["page_obj"]) == 30
    with django_assert_max_num_queries(8):
        assert client.get(reverse("orgs:users"), {"role": "teacher", "active": "1"}).status_code == 200


# --- PostgreSQL plans -------------------------------------------------------------------------------
N_SCHOOLS, PER_SCHOOL = 400, 40  # 16,000 people


def _plan(sql: str) -> dict:
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (FORMAT JSON) " + sql)
        raw = cur.fetchone()[0]
    return (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]


def _nodes(plan: dict, kind: str) -> list[str]:
    found = [plan.get("Index Name") or plan.get("Relation Name")] if plan.get("Node Type") == kind else []
    for child in plan.get("Plans", []):
        found.extend(_nodes(child, kind))
    return found


@pytest.fixture
def province(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (query plans); run with JPK_DATABASE_URL=postgres://…")
    top = Unit.objects.create(name="广东省", code="P44", kind=UnitKind.PROVINCE)
    cities = [Unit.objects.create(name=f"第{c}市", code=f"P44{c:02d}", kind=UnitKind.CITY, parent=top) for c in range(5)]
    counties = [Unit.objects.create(name=f"第{c}区", code=f"P4408{c:02d}", kind=UnitKind.COUNTY, parent=cities[c % 5])
                for c in range(10)]
    schools = Unit.objects.bulk_create([Unit(name=f"学校{i}", code=f"P-S{i}", kind=UnitKind.SCHOOL,
                                             parent=counties[i % 10], depth=3) for i in range(N_SCHOOLS)])
    for s in schools:
        s.path = f"{s.parent.path}{s.pk}/"
    Unit.objects.bulk_update(schools, ["path"])
    people = User.objects.bulk_create([User(username=f"p{i:05d}", real_name=f"教师{(i * 7919) % 100000:05d}",
                                            password="!") for i in range(N_SCHOOLS * PER_SCHOOL)])
    Membership.objects.bulk_create([Membership(user=u, unit=schools[i % N_SCHOOLS], role=Role.TEACHER)
                                    for i, u in enumerate(people)])
    admin = member(top, Role.ADMIN, username="p_admin")
    city_admin = member(cities[0], Role.ADMIN, username="p_city")
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE orgs_user")
        cur.execute("VACUUM ANALYZE orgs_membership")
        cur.execute("ANALYZE orgs_unit")
        cur.execute("SET random_page_cost = 1.1")  # the SSD setting README recommends
    yield admin, city_admin
    with connection.cursor() as cur:
        cur.execute("RESET random_page_cost")


def _queries(client, user, url):
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


pg = pytest.mark.django_db(transaction=True)


@pg
def test_the_users_page_of_a_province_reads_a_page_of_the_name_index(client, province):
    admin, city_admin = province
    for user, url in ((admin, "/orgs/users/"), (admin, "/orgs/users/?role=teacher"),
                      (admin, "/orgs/users/?active=0"), (city_admin, "/orgs/users/")):
        sqls = _queries(client, user, url)
        page = next(s for s in sqls if '"_paging_k0"' in s)
        # A list that fits on its first page takes its count from its rows (jingpinke.paging): no COUNT
        # query then (the fixture's few inactive people); the larger lists are counted.
        count = next((s for s in sqls if s.startswith("SELECT COUNT(*) FROM (SELECT \"orgs_user\"")), None)
        assert count is not None or url.endswith("active=0"), (url, sqls)
        page_plan = _plan(page)
        # the page: the first rows of the name index that are in scope, no sort of the scope
        assert "Sort" not in json.dumps(page_plan), (url, page_plan)
        assert set(_nodes(page_plan, "Index Scan")) & {"orgs_user_by_name", "orgs_user_inactive_by_name"}, url
        assert not set(_nodes(page_plan, "Seq Scan")) & {"orgs_user", "orgs_membership"}, (url, page_plan)
        if user == admin and count is not None:  # the whole province: 10,001 of its people counted from two indexes
            assert "orgs_unit" not in count or "unit_id" in count, count
            assert not _nodes(_plan(count), "Seq Scan"), (url, count)
    # the province admin's scope is every membership: no unit is looked up per person
    sqls = _queries(client, admin, "/orgs/users/")
    count = next(s for s in sqls if s.startswith("SELECT COUNT(*) FROM (SELECT \"orgs_user\""))
    assert "orgs_unit" not in count
