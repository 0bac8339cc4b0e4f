"""A county admin's requests of the locust run (issue 12): the entries list, its search, and a
recommendation and its undo, answered from what the request already read.

- The list builds its entries from plain values (``services.EntryRow``), not model instances: each
  item is exactly what the entry's detail shows of it (built from the model instances), whatever
  owns the school (a county, a city, the province), whether the teacher has a real name, and
  whether the entry came from a unit below.
- A decision answers with the entry it decided instead of reading it again: the answer is the
  detail read afterwards, for every action and at the school and the county.
- What each costs in queries, pinned at what it runs now.
"""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import Level
from catalog.models import CatalogNode, Textbook
from courses.models import CourseMember
from orgs.models import Role
from orgs.tests.factories import member
from selection.models import Entry
from selection.tests.helpers import entry_at, up_to_county

pytestmark = pytest.mark.django_db
BASE = "/api/v1/selection"
LIST_QUERIES = 5  # token, memberships, count, the page's ids, its rows
SEARCH_QUERIES = 7  # … and the search: its words' counts, a rare word's entries (courses.search)
RECOMMEND_QUERIES, UNDO_QUERIES = 22, 18  # the answer included, savepoints not counted
# … and their savepoints: the decision's own (a test runs inside a transaction), the notices' (a
# failure there never undoes the decision) and, on the recommendation, the city's first row at its
# level (get_or_create); saving the entry and the entry it makes above takes none of its own.
RECOMMEND_SAVEPOINTS, UNDO_SAVEPOINTS = 3, 2


def post(client, path, data=None, **extra):
    return client.post(path, json.dumps(data or {}), content_type="application/json", **extra)


@pytest.fixture
def spread(tree, campaign, make_course, nodes):
    """Entries held by schools of a county, of the city and of the province, and by the county;
    one lead teacher without a real name; a course with a team."""
    nameless = member(tree.school, Role.TEACHER, username="nameless", real_name="", first_name="小", last_name="王")
    at_county = [make_course(node=nodes[i], title=f"县级{i}") for i in (0, 3)]
    for course in at_county:
        up_to_county(course, tree)
    CourseMember.objects.create(course=at_county[0], user=tree.other_teacher, order=1)
    old_book = Textbook.objects.create(stage="junior", school_system="五四学制", grade="六年级", subject="数学",
                                       version="人教版", volume="下册", edition="old")
    make_course(node=CatalogNode.objects.create(textbook=old_book, title="第1课", order=1, is_leaf=True),
                teacher=nameless, title="无名")  # its label: 人教版数学六年级下册（五四学制·旧教材）
    make_course(node=nodes[4], school=tree.city_school, title="市直属")
    make_course(node=nodes[7], school=tree.province_school, title="省属")
    return at_county


def detail(client, pk, auth):
    r = client.get(f"{BASE}/entries/{pk}", **auth)
    assert r.status_code == 200, r.content
    return r.json()


def test_each_item_of_the_list_is_what_the_detail_shows(client, tree, spread, bearer):
    auth = bearer(tree.sysadmin)
    items = client.get(f"{BASE}/entries", {"page_size": 100}, **auth).json()["items"]
    assert {i["county_name"] for i in items} == {"赤坎区", "市直属学校", "省属学校"}
    assert {i["lead_teacher"] for i in items} >= {"小 王", tree.teacher.display_name}
    assert {i["from_unit_name"] for i in items} == {"", tree.school.name}
    assert "人教版数学六年级下册（五四学制·旧教材）" in {i["textbook"]["label"] for i in items}
    for item in items:
        shown = detail(client, item["id"], auth)
        assert {k: shown[k] for k in item} == item


def test_the_list_and_its_search_run_a_fixed_number_of_queries(client, tree, spread, bearer,
                                                                 django_assert_max_num_queries):
    auth = bearer(tree.county_admin)
    client.get(f"{BASE}/entries", **auth)  # the token's first use records it (once a minute)
    with django_assert_max_num_queries(LIST_QUERIES):
        body = client.get(f"{BASE}/entries", {"campaign": spread[0].campaign_id}, **auth).json()
    assert body["count"] == 5 and all(i["can_decide"] for i in body["items"])
    with django_assert_max_num_queries(SEARCH_QUERIES):
        body = client.get(f"{BASE}/entries", {"campaign": spread[0].campaign_id, "q": "县级"}, **auth).json()
    assert sorted(i["title"] for i in body["items"]) == ["县级0", "县级0", "县级3", "县级3"]  # school, county


def test_a_decision_answers_what_the_detail_reads_again(client, tree, spread, bearer):
    county = bearer(tree.county_admin)
    steps = [(county, entry_at(spread[0], "county").pk, action, data) for action, data in (
        ("recommend", {"rank": 4}), ("undo", None), ("decline", {"reason": "重复"}), ("undo", None),
        ("return", {"reason": "请补充教学设计"}))]
    school_entry = Entry.objects.get(course__title="无名").pk
    steps += [(bearer(tree.school_admin), school_entry, action, None) for action in ("recommend", "undo")]
    for auth, pk, action, data in steps:
        r = post(client, f"{BASE}/entries/{pk}/{action}", data, **auth)
        assert r.status_code == 200, (action, r.content)
        assert r.json() == detail(client, pk, auth), action
    assert detail(client, entry_at(spread[0], "county").pk, county)["members"] == [tree.other_teacher.display_name]


def test_a_recommendation_and_its_undo_run_a_fixed_number_of_queries(client, tree, spread, bearer):
    auth = bearer(tree.county_admin)
    client.get(f"{BASE}/entries", **auth)  # the token's first use records it (once a minute)
    pk = entry_at(spread[1], "county").pk
    counts, savepoints = [], []
    for action in ("recommend", "undo"):
        with CaptureQueriesContext(connection) as queries:
            assert post(client, f"{BASE}/entries/{pk}/{action}", **auth).status_code == 200
        counts.append(len([q for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]))
        savepoints.append(len([q for q in queries.captured_queries if q["sql"].startswith("SAVEPOINT")]))
    assert counts == [RECOMMEND_QUERIES, UNDO_QUERIES]
    assert savepoints == [RECOMMEND_SAVEPOINTS, UNDO_SAVEPOINTS]


def test_a_decision_outside_the_scope_or_by_a_teacher_is_not_found(client, tree, spread, bearer):
    pk = entry_at(spread[0], "county").pk
    for user in (tree.other_county_admin, tree.school_admin, tree.teacher):
        r = post(client, f"{BASE}/entries/{pk}/recommend", **bearer(user))
        assert r.status_code == 404, user
    assert post(client, f"{BASE}/entries/{2**63}/recommend", **bearer(tree.county_admin)).status_code == 404
    assert post(client, f"{BASE}/entries/{pk}/recommend", **bearer(tree.sysadmin)).status_code == 200


def test_a_page_reads_its_level_and_units_by_key_not_by_join(client, tree, spread, bearer):
    """The page's rows join its course (school, county, teacher) and node (textbook), six joins; the
    level and the units holding and sending each entry are read by key: PostgreSQL took 3–3.5 ms
    to plan the ten-table join (200 k), 1.4–1.9 ms the seven-table one. The values: see above."""
    auth = bearer(tree.county_admin)
    client.get(f"{BASE}/entries", **auth)  # the token's first use records it (once a minute)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(f"{BASE}/entries", {"campaign": spread[0].campaign_id}, **auth).json()
    assert {i["unit_name"] for i in body["items"]} == {tree.county.name, tree.school.name}
    levels = dict(Level.objects.filter(campaign_id=spread[0].campaign_id).values_list("kind", "name"))
    assert {(i["level"], i["level_name"]) for i in body["items"]} == {(k, levels[k]) for k in ("school", "county")}
    assert {i["from_unit_name"] for i in body["items"]} == {"", tree.school.name}
    rows = [q["sql"] for q in queries.captured_queries if '"node__textbook__subject"' in q["sql"]]
    assert len(rows) == 1 and rows[0].count(" JOIN ") == 6, rows
    assert ' JOIN "campaigns_level"' not in rows[0] and '"orgs_unit_by_key"' in rows[0]
