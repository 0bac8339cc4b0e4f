"""What a decision costs the server (issue 12, the locust run: recommend and undo were the dearest
requests of a county admin).

- The queries and the model instances of a recommendation and its undo do not grow with how many
  courses the unit has already recommended (a county of the 200,000-course province holds ~100:
  reading them as entries with their course, node and textbook was a fifth of a recommendation's CPU).
- The unit's picks read as rows are exactly the picks read through the entries.
- No query of a decision, its answer or the entry's detail joins more than ``MAX_JOINS`` tables:
  PostgreSQL took 5–9 ms to plan the twelve-relation read of the detail (0.3 ms to run it).
"""

import json

import pytest
from django.db import connection
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext

from campaigns.models import Level, Quota
from catalog.models import CatalogNode
from courses.models import Course
from selection import rules, services
from selection.models import Entry
from selection.tests.helpers import entry_at, up_to_county

pytestmark = pytest.mark.django_db
BASE = "/api/v1/selection"
MAX_JOINS = 6
RECOMMEND_QUERIES, UNDO_QUERIES = 23, 22  # with a bearer token, the answer (the detail) included; were 38, 36, then 26, 28


def post(client, path, **extra):
    return client.post(path, json.dumps({}), content_type="application/json", **extra)


def hold_recommended(tree, campaign, nodes, n, start=0):
    """``n`` courses the county has recommended already, each on its own node."""
    county = Level.objects.get(campaign=campaign, kind="county")
    for i in range(start, start + n):
        node = CatalogNode.objects.create(textbook=nodes[i % 3 * 3].textbook, title=f"加{i}", order=100 + i,
                                          label_path=f"第九单元 › 加{i}", is_leaf=True)
        course = Course.objects.create(campaign=campaign, category="subject", node=node, title=f"已推荐{i}",
                                       lead_teacher=tree.teacher, school=tree.school, periods_count=1,
                                       status="submitted")
        Entry.objects.create(campaign=campaign, course=course, level=county, unit=tree.county,
                             from_unit=tree.school, node=node, state="recommended", rank=i + 1)


class Built:
    """Model instances built while it is active, by model."""

    def __init__(self):
        self.counts = {}

    def __call__(self, sender, **kwargs):
        self.counts[sender.__name__] = self.counts.get(sender.__name__, 0) + 1

    def __enter__(self):
        post_init.connect(self, weak=False)
        return self

    def __exit__(self, *exc):
        post_init.disconnect(self)


WATCHED = ("Entry", "Course", "CatalogNode", "Textbook")


def decide_once(client, entry, auth):
    """Recommend and undo ``entry`` over the API: (queries, entries/courses/nodes/textbooks built)
    of each."""
    costs = []
    for action in ("recommend", "undo"):
        with CaptureQueriesContext(connection) as queries, Built() as built:
            r = post(client, f"{BASE}/entries/{entry.pk}/{action}", **auth)
        assert r.status_code == 200, r.content
        costs.append((len(queries.captured_queries), {k: v for k, v in built.counts.items() if k in WATCHED}))
    return costs


def test_a_decision_costs_the_same_however_many_courses_the_unit_recommended(
        client, tree, campaign, make_course, nodes, bearer):
    Quota.objects.filter(campaign=campaign).delete()  # the quota is not what is measured here
    auth = bearer(tree.county_admin)
    hold_recommended(tree, campaign, nodes, 2)
    decide_once(client, up_to_county(make_course(node=nodes[0]), tree), auth)  # the unit's first: rows made once
    few = decide_once(client, up_to_county(make_course(node=nodes[1]), tree), auth)
    hold_recommended(tree, campaign, nodes, 40, start=2)
    many = decide_once(client, up_to_county(make_course(node=nodes[2]), tree), auth)
    assert many == few
    (recommend, built), (undo, _built) = few
    assert recommend <= RECOMMEND_QUERIES and undo <= UNDO_QUERIES
    assert sum(built.values()) <= 16, built  # the entry, its chain and its answer: not the unit's picks


def test_a_decision_tells_the_team_in_one_insert(client, tree, campaign, make_course, nodes, bearer):
    from courses.models import CourseMember

    course = make_course(node=nodes[1])
    for i, user in enumerate((tree.other_teacher, tree.expert)):
        CourseMember.objects.create(course=course, user=user, order=i + 1)
    entry = up_to_county(course, tree)
    auth = bearer(tree.county_admin)
    for action in ("recommend", "undo"):
        with CaptureQueriesContext(connection) as queries:
            assert post(client, f"{BASE}/entries/{entry.pk}/{action}", **auth).status_code == 200
        inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "notifications_notification"')]
        # one for the lead teacher, the two members and the admins of the city it goes to / comes back from
        assert len(inserts) == 1, inserts
    assert course.lead_teacher.notifications.filter(kind="undone").count() == 1
    assert list(tree.city_admin.notifications.order_by("id").values_list("kind", flat=True)) == [
        "incoming", "incoming_undone"]
    assert tree.other_teacher.notifications.filter(kind__in=("recommended", "undone")).count() == 3  # school, county, undo


def test_the_picks_read_as_rows_are_the_picks_of_the_entries(tree, campaign, nodes):
    hold_recommended(tree, campaign, nodes, 7)
    county = Level.objects.get(campaign=campaign, kind="county")
    Entry.objects.filter(unit=tree.county, rank__in=(2, 5)).update(state="declined", rank=None, awarded=True)
    for state in ({"state": "recommended"}, {"awarded": True}):
        straight = [rules.Pick(e.pk, e.course.category, e.node.textbook.subject, e.node_id, e.course.title)
                    for e in Entry.objects.filter(level=county, unit=tree.county, **state).order_by("rank", "id")]
        with Built() as built, CaptureQueriesContext(connection) as queries:
            assert services._current(county, tree.county, **state) == straight
        assert built.counts == {}  # rows, no model instances
        # each pick's subject by its node's key, not by joining the catalog (PostgreSQL hashed all of it)
        assert ' JOIN "catalog_catalognode"' not in queries.captured_queries[0]["sql"]
    assert len(services._current(county, tree.county, state="recommended")) == 5


def test_no_query_of_a_decision_or_the_detail_joins_many_tables(client, tree, campaign, make_course, nodes, bearer):
    auth = bearer(tree.county_admin)
    entry = up_to_county(make_course(node=nodes[1]), tree)
    requests = [("post", f"{BASE}/entries/{entry.pk}/recommend"), ("get", f"{BASE}/entries/{entry.pk}"),
                ("post", f"{BASE}/entries/{entry.pk}/undo"), ("post", f"{BASE}/entries/{entry.pk}/decline")]
    for method, path in requests:
        with CaptureQueriesContext(connection) as queries:
            r = post(client, path, **auth) if method == "post" else client.get(path, **auth)
        assert r.status_code == 200, r.content
        joins = max(q["sql"].count(" JOIN ") for q in queries.captured_queries)
        assert joins <= MAX_JOINS, (path, [q["sql"] for q in queries.captured_queries
                                           if q["sql"].count(" JOIN ") > MAX_JOINS])


def test_the_detail_shows_the_same_after_it_is_read_in_parts(client, tree, campaign, make_course, nodes, bearer):
    """What the detail reads by key in three parts is what one join of everything read."""
    auth = bearer(tree.county_admin)
    entry = up_to_county(make_course(node=nodes[4], title="10以内的加法"), tree)
    body = client.get(f"{BASE}/entries/{entry.pk}", **auth).json()
    joined = (services.with_compliance(services.entries_for(tree.county_admin).select_related(
        "course__school__parent", "course__lead_teacher", "level__campaign")).get(pk=entry.pk))
    assert (body["title"], body["school_name"], body["county_name"], body["lead_teacher"]) == (
        "10以内的加法", tree.school.name, tree.county.name, joined.course.lead_teacher.display_name)
    assert (body["textbook"]["subject"], body["node_path"], body["compliance"]) == (
        joined.node.textbook.subject, joined.node.label_path, joined.compliance)
    assert (body["level_name"], body["unit_name"], body["from_unit_name"], body["campaign_id"]) == (
        joined.level.name, tree.county.name, tree.school.name, campaign.pk)
    assert client.get(f"{BASE}/entries/{entry_at(make_course(node=nodes[2], school=tree.other_school, teacher=tree.other_teacher), 'school').pk}",
                      **auth).status_code == 404


def test_an_undo_deletes_the_entry_above_as_delete_does(tree, campaign, make_course, nodes):
    """The entry a recommendation made above goes as ``Entry.delete()`` takes it: the notices about
    it stay and lose their link; what else refers to it (a review round's entry) goes with it."""
    from django.utils import timezone

    from notifications.models import Notification
    from review.models import ReviewRound, RoundEntry, Rubric

    course = make_course(node=nodes[1])
    above = up_to_county(course, tree)
    notices = list(Notification.objects.filter(entry=above).values_list("pk", flat=True))
    assert notices  # the county's admins were told
    with CaptureQueriesContext(connection) as queries:
        services.decide(tree.school_admin, entry_at(course, "school").pk, "undo")
    assert not Entry.objects.filter(pk=above.pk).exists()
    assert set(Notification.objects.filter(pk__in=notices).values_list("entry_id", flat=True)) == {None}
    assert not [q for q in queries.captured_queries if "review_roundentry" in q["sql"] and "EXISTS" not in q["sql"]]

    above = up_to_county(course, tree)
    rubric = Rubric.objects.get_or_create(campaign=campaign, category="subject", defaults={"title": "学科课程"})[0]
    now = timezone.now()
    review_round = ReviewRound.objects.create(
        campaign=campaign, level=above.level, unit=tree.county, title="赤坎区初选", category="subject", rubric=rubric,
        status="published", opens_at=now - timezone.timedelta(days=1), closes_at=now + timezone.timedelta(days=3))
    RoundEntry.objects.create(round=review_round, entry=above, code="R1-001")
    services.decide(tree.school_admin, entry_at(course, "school").pk, "undo")
    assert not Entry.objects.filter(pk=above.pk).exists()
    assert not RoundEntry.objects.filter(round=review_round).exists()  # cascaded, as delete() does


def test_a_decision_runs_its_reads_compiled_once(client, tree, campaign, make_course, nodes, bearer, monkeypatch):
    """The reads of a decision (the entry in scope and under its lock, the campaign's levels, the
    deadline overrides, the unit's picks and quotas, the entry above, the chain, the timeline, the
    team, the admins told) are compiled once per process (``jingpinke.sql.Compiled``): building and
    compiling them cost Django more CPU than running them (16 and 15 compilations before; with
    them prepared on PostgreSQL, 200 k, ``python -m bench cpu``: recommend + undo 35 → 20 ms of
    CPU, its PostgreSQL backend 16 → 10 ms). Their queries are counted above."""
    from django.db.models.sql.compiler import SQLCompiler

    auth = bearer(tree.county_admin)
    decide_once(client, up_to_county(make_course(node=nodes[0]), tree), auth)  # compiles them
    entry = up_to_county(make_course(node=nodes[1]), tree)
    compiled, original = [], SQLCompiler.as_sql

    def counted(compiler, *args, **kwargs):
        compiled.append(compiler.query.model.__name__)
        return original(compiler, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", counted)
    for action, most in (("recommend", 1), ("undo", 1)):
        compiled.clear()
        assert post(client, f"{BASE}/entries/{entry.pk}/{action}", **auth).status_code == 200
        # left: the user's memberships (orgs, once per request); the writes have compilers of their own
        assert len(compiled) <= most, (action, compiled)


def test_an_undo_unlinks_notices_only_when_one_refers_to_the_entry_above(tree, campaign, make_course, nodes):
    """``_delete_entries`` (withdraw and undo alike) reads what refers to the entry with it: the
    notices' links are cleared (one UPDATE) only when a notice refers to it, then one DELETE."""
    from notifications.models import Notification

    for noticed in (True, False):
        course = make_course(node=nodes[1] if noticed else nodes[2])
        above = up_to_county(course, tree)
        if not noticed:
            Notification.objects.filter(entry=above).delete()
        with CaptureQueriesContext(connection) as queries:
            services.decide(tree.school_admin, entry_at(course, "school").pk, "undo")
        sqls = [q["sql"] for q in queries.captured_queries]
        assert not Entry.objects.filter(pk=above.pk).exists()
        assert sum(sql.startswith('UPDATE "notifications_notification"') for sql in sqls) == noticed, noticed
        assert sum(sql.startswith('DELETE FROM "selection_entry"') for sql in sqls) == 1
