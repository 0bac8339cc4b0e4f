"""An entry's timeline, bounded: its detail (page, API, and so every decision's answer) holds the
newest ``services.HISTORY_SHOWN`` events with their total, at a query count that does not grow with
the course's history; the whole timeline is paged (page and API) by keyset on (at, id), to those the
detail is open to, with the unit-level events of the units each viewer may see.

Every test compares with the timeline worked out the plain way (``expected``: every event read,
``rules.bears_on_entry`` asked in Python), which the SQL of ``services.timeline`` must match."""

import json
import re
from datetime import timedelta
from html import unescape
from urllib.parse import unquote

import pytest
from django.db import connection
from django.db.models import Case, Q, QuerySet, Value, When
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import Event
from campaigns.models import Campaign
from courses.models import Course
from selection import rules, services
from selection.tests.helpers import entry_at, up_to_county

pytestmark = pytest.mark.django_db
BASE = "/api/v1/selection"
N = services.HISTORY_SHOWN
PAGE = services.TIMELINE_PAGE_SIZE
DETAIL_QUERIES = 10  # the detail's bound in test_history / test_api, whatever the history
RECOMMEND_QUERIES, UNDO_QUERIES = 23, 22  # as selection/tests/test_decision_cost.py


def post(client, path, **extra):
    return client.post(path, json.dumps({}), content_type="application/json", **extra)


# --- making a long history ---------------------------------------------------------------------------------
def add_events(rows, start):
    """Events ``rows`` of (target, unit, action, after) recorded at ``start`` and after it, three to
    a second: equal times, which only the id orders."""
    made = Event.objects.bulk_create([
        Event(action=action, target_type=target._meta.label_lower, target_id=str(target.pk),
              target_repr=str(target), unit_path=unit.path, actor_name="测试", after=after)
        for target, unit, action, after in rows])
    ids = [e.pk for e in made]
    # audit events refuse ``update``; the test sets their times with the plain queryset's
    QuerySet.update(Event.objects.filter(pk__in=ids),
                    at=Case(*(When(pk=pk, then=Value(start + timedelta(seconds=i // 3))) for i, pk in enumerate(ids))))
    return ids


def unit_rows(campaign, unit, kind):
    """Unit-level events of ``unit``, some bearing on its entries at ``kind``, some not."""
    return [(campaign, unit, "selection.confirm", {"level": "任意名称"}),  # any level: bears
            (campaign, unit, "selection.unlock", None),  # bears
            (campaign, unit, "selection.reopen", {"level": kind, "deadline": "2024-09-25T15:59:59+00:00"}),
            (campaign, unit, "selection.reopen", {"level": "province"}),  # another level: not
            (campaign, unit, "campaigns.deadline_override.set", {"level": ""}),  # no level: bears
            (campaign, unit, "campaigns.deadline_override.delete", None),  # no level: bears
            (campaign, unit, "campaigns.quota_override.set", {"level": kind, "limit": 3}),  # not an entry's
            (campaign, unit, "contacts.reopen", {})]  # not an entry's


def long_history(campaign, course, steps, n=190):
    """``n`` events of the course, and the unit-level events of each unit holding it (and of one
    not holding it, and of another campaign), interleaved, ten days ago onwards."""
    other = Campaign.objects.get_or_create(title="另一活动", owner=campaign.owner, year=campaign.year)[0]
    course_rows = [(course, steps[-1].unit, ("selection.recommend", "selection.undo")[i % 2], {"state": "x"})
                   for i in range(n)]
    rows = []
    for i, row in enumerate(course_rows):
        rows.append(row)
        if i % 20 == 5:
            step = steps[(i // 20) % len(steps)]
            rows += unit_rows(campaign, step.unit, step.level.kind)
            rows += unit_rows(other, step.unit, step.level.kind)
    return add_events(rows, timezone.now() - timedelta(days=10))


def expected(entry, viewer) -> list[int]:
    """The ids of the course's timeline as ``viewer`` may see it, newest first, worked out the
    plain way: every event read, the unit-level ones kept by ``rules.bears_on_entry``."""
    steps = services.chain(entry)
    by_path = {e.unit.path: e for e in steps}
    visible = [e.unit.path for e in steps if viewer.has_perm("selection.view_unit", e.unit)]
    found = Event.objects.filter(
        Q(target_type=Course._meta.label_lower, target_id=str(entry.course_id))
        | Q(target_type=Campaign._meta.label_lower, target_id=str(entry.level.campaign_id), unit_path__in=visible))
    kept = [ev for ev in found if ev.target_type == Course._meta.label_lower
            or rules.bears_on_entry(ev.action, ev.before, ev.after, by_path[ev.unit_path].level.kind)]
    return [ev.pk for ev in sorted(kept, key=lambda ev: (ev.at, ev.pk), reverse=True)]


@pytest.fixture
def at_county(tree, campaign, make_course):
    """A course pending at the county with ~250 events, unit-level ones of its school and county."""
    course = make_course(title="反复处理的课程")
    entry = up_to_county(course, tree)
    long_history(campaign, course, services.chain(entry))
    return entry


@pytest.fixture
def at_city(tree, campaign, make_course):
    """A course the county recommended to the city, with ~250 events, unit-level ones of its
    school, county and city."""
    course = make_course(title="到了市级的课程")
    services.decide(tree.county_admin, up_to_county(course, tree).pk, "recommend")
    entry = entry_at(course, "city")
    long_history(campaign, course, services.chain(entry))
    return entry


def walk_api(client, entry, **auth):
    """Every page of the entry's full timeline through the API: (ids in order, pages)."""
    ids, pages, cursor = [], [], ""
    while True:
        r = client.get(f"{BASE}/entries/{entry.pk}/history", {"cursor": cursor} if cursor else {}, **auth)
        assert r.status_code == 200, r.content
        body = r.json()
        assert body["start"] == len(ids)
        ids += [item["id"] for item in body["items"]]
        pages.append(body)
        cursor = body["next"]
        if not cursor:
            return ids, pages


# --- the detail ----------------------------------------------------------------------------------------------
def test_the_detail_holds_the_newest_events_at_a_query_count_that_does_not_grow(
        client, tree, at_county, make_course, nodes, django_assert_max_num_queries):
    full = expected(at_county, tree.county_admin)
    assert len(full) > 200
    client.force_login(tree.county_admin)
    with django_assert_max_num_queries(DETAIL_QUERIES), CaptureQueriesContext(connection) as long:
        body = client.get(f"{BASE}/entries/{at_county.pk}").json()
    assert [h["id"] for h in body["history"]] == full[:N][::-1]  # the newest N, oldest first as before
    assert (body["history_total"], body["history_more"]) == (len(full), True)
    assert body["history_url"] == f"{BASE}/entries/{at_county.pk}/history"
    # the same queries as the detail of a course with a short history
    short_entry = up_to_county(make_course(node=nodes[1]), tree)
    with CaptureQueriesContext(connection) as short:
        short_body = client.get(f"{BASE}/entries/{short_entry.pk}").json()
    assert len(long.captured_queries) == len(short.captured_queries)
    short_full = expected(short_entry, tree.county_admin)  # its own 2 events and its units' ones
    assert [h["id"] for h in short_body["history"]] == short_full[:N][::-1]
    assert short_body["history_total"] == len(short_full) < len(full) / 4
    # the read of the timeline takes N + 1 rows in SQL, not all of them
    timeline_sql = [q["sql"] for q in long.captured_queries if '"audit_event"' in q["sql"]]
    assert len(timeline_sql) == 1 and re.search(rf"LIMIT {N + 1}\b", timeline_sql[0]), timeline_sql


def test_a_decision_answers_with_the_newest_events_at_a_query_count_that_does_not_grow(
        client, tree, at_county, make_course, nodes, bearer, django_assert_max_num_queries):
    auth = bearer(tree.county_admin)
    short = up_to_county(make_course(node=nodes[1]), tree)

    def decide(entry, action):
        with CaptureQueriesContext(connection) as queries:
            r = post(client, f"{BASE}/entries/{entry.pk}/{action}", **auth)
        assert r.status_code == 200, r.content
        return len(queries.captured_queries), r.json()

    for action in ("recommend", "undo"):
        decide(short, action)  # the unit's first decisions make its rows once
    short_counts = [decide(short, action)[0] for action in ("recommend", "undo")]
    for (action, bound), short_count in zip((("recommend", RECOMMEND_QUERIES), ("undo", UNDO_QUERIES)), short_counts,
                                            strict=True):
        with django_assert_max_num_queries(bound):
            count, body = decide(at_county, action)
        assert count == short_count
        full = expected(at_county, tree.county_admin)
        assert len(body["history"]) == N and [h["id"] for h in body["history"]] == full[:N][::-1]
        assert body["history"][-1]["action"] == f"selection.{action}"  # the decision itself, newest
        assert (body["history_total"], body["history_more"]) == (len(full), True)


def test_the_detail_page_shows_the_newest_events_and_links_to_all(client, tree, at_county,
                                                                   django_assert_max_num_queries):
    full = expected(at_county, tree.county_admin)
    client.force_login(tree.county_admin)
    with django_assert_max_num_queries(20):
        html = client.get(f"/selection/entries/{at_county.pk}/").content.decode()
    timeline = html.split('<ol class="timeline"')[1].split("</ol>")[0]
    assert timeline.count("<li>") == N and timeline.startswith(f' start="{len(full) - N + 1}">')  # numbered in all
    times = re.findall(r'<time datetime="([^"]+)"', timeline)
    assert times == sorted(times)  # oldest first, as the page always showed them
    assert f"共 {len(full)} 条，以下是最新的 {N} 条。" in html
    assert f'<a href="/selection/entries/{at_county.pk}/history/">查看全部 {len(full)} 条记录</a>' in html


def test_a_short_history_is_shown_whole_without_a_link(client, tree, make_course):
    entry = up_to_county(make_course(), tree)  # (the only course: no long history here)
    client.force_login(tree.county_admin)
    html = client.get(f"/selection/entries/{entry.pk}/").content.decode()
    assert "查看全部" not in html and "以下是最新的" not in html


# --- the whole timeline, paged ------------------------------------------------------------------------------
def test_the_api_pages_the_whole_timeline_without_gap_or_repeat(client, tree, at_county,
                                                                django_assert_max_num_queries):
    full = expected(at_county, tree.county_admin)
    client.force_login(tree.county_admin)
    ids, pages = walk_api(client, at_county)
    assert ids == full  # newest first, every event once, equal times included (three to a second)
    assert len(pages) == -(-len(full) // PAGE) and all(len(p["items"]) == PAGE for p in pages[:-1])
    assert {p["total"] for p in pages} == {len(full)}
    assert pages[0]["items"][0]["action_label"] == "推荐"  # the school's recommendation, the newest
    with django_assert_max_num_queries(DETAIL_QUERIES):  # a page deep in costs what the first costs
        client.get(f"{BASE}/entries/{at_county.pk}/history", {"cursor": pages[-2]["next"]})


def test_pages_split_events_of_one_time_and_new_events_shift_nothing(client, tree, at_county):
    """Every event at one time: only the ids order them; events recorded between two pages are
    newer than the walk's start and do not shift the next page."""
    full = expected(at_county, tree.county_admin)
    QuerySet.update(Event.objects.filter(pk__in=full), at=timezone.now() - timedelta(days=1))
    client.force_login(tree.county_admin)
    first = client.get(f"{BASE}/entries/{at_county.pk}/history").json()
    assert [i["id"] for i in first["items"]] == sorted(full, reverse=True)[:PAGE]
    services.decide(tree.county_admin, at_county.pk, "recommend")
    ids, _pages = [i["id"] for i in first["items"]], None
    cursor = first["next"]
    while cursor:
        body = client.get(f"{BASE}/entries/{at_county.pk}/history", {"cursor": cursor}).json()
        assert body["start"] == len(ids)
        ids += [i["id"] for i in body["items"]]
        cursor = body["next"]
    assert ids == sorted(full, reverse=True)


def test_the_page_walks_the_whole_timeline(client, tree, at_county, django_assert_max_num_queries):
    full = expected(at_county, tree.county_admin)
    client.force_login(tree.county_admin)
    url = f"/selection/entries/{at_county.pk}/history/"
    seen, query = 0, {}
    while True:
        with django_assert_max_num_queries(20):
            html = client.get(url, query).content.decode()
        timeline = html.split('<ol class="timeline"')[1].split("</ol>")[0]
        count = timeline.count("<li>")
        assert timeline.startswith(f' reversed start="{len(full) - seen}">')  # the newest is the last number
        assert f"第 {seen + 1}–{seen + count} 条，共 {len(full)} 条" in html
        seen += count
        assert ('<a rel="first" href="?">最新记录</a>' in html) == (seen > count)
        found = re.search(r'<a rel="next" href="\?cursor=([^"]+)">更早的记录</a>', html)
        if not found:
            break
        assert count == PAGE
        query = {"cursor": unquote(unescape(found.group(1)))}
    assert seen == len(full)
    assert "《反复处理的课程》的全部操作记录" in html


def test_a_forged_cursor_is_refused(client, tree, at_county, make_course, nodes):
    client.force_login(tree.county_admin)
    url = f"{BASE}/entries/{at_county.pk}/history"
    r = client.get(url, {"cursor": "forged"})
    assert (r.status_code, r.json()["detail"]) == (400, "翻页参数 cursor 无效或已过期（列表的排序可能已改变），请从第一页重新开始。")
    other = up_to_county(make_course(node=nodes[1]), tree)
    long_history(at_county.level.campaign, other.course, services.chain(other), n=60)
    cursor = client.get(f"{BASE}/entries/{other.pk}/history").json()["next"]
    assert client.get(url, {"cursor": cursor}).status_code == 400  # another course's cursor
    page = client.get(f"/selection/entries/{at_county.pk}/history/", {"cursor": "forged"})
    assert page.status_code == 200 and "翻页参数 cursor 无效" in page.content.decode()  # its first page


# --- who sees it ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["other_county_admin", "school_admin", "teacher", "expert"])
def test_the_whole_timeline_is_refused_as_the_detail_is(client, tree, at_county, who):
    client.force_login(tree.county_admin)
    cursor = client.get(f"{BASE}/entries/{at_county.pk}/history").json()["next"]
    client.force_login(getattr(tree, who))
    detail = client.get(f"{BASE}/entries/{at_county.pk}")
    for query in ({}, {"cursor": cursor}):
        r = client.get(f"{BASE}/entries/{at_county.pk}/history", query)
        assert (r.status_code, r.json()) == (detail.status_code, detail.json())
        assert (r.status_code, r.json()["detail"]) == (404, "未找到该对象，或您无权查看。")
        assert client.get(f"/selection/entries/{at_county.pk}/history/", query).status_code == 404
    assert client.get(f"/selection/entries/{at_county.pk}/").status_code == 404
    with pytest.raises(Http404, match="未找到该推荐记录，或您无权查看。"):
        services.get_timeline_entry(getattr(tree, who), at_county.pk)


def test_the_whole_timeline_needs_a_login(client, at_county):
    assert client.get(f"{BASE}/entries/{at_county.pk}/history").status_code == 401
    assert client.get(f"/selection/entries/{at_county.pk}/history/").status_code == 302


def test_each_viewer_sees_the_unit_events_of_the_units_he_may_see_on_every_page(client, tree, at_city, bearer):
    """The city sees the unit-level events of the city, the county and the school; the county, on
    its own entry of the course (the city's is not his to see), those of the county and the school.
    The others are not read at all: every page but the last is full."""
    county_entry = entry_at(at_city.course, "county")
    assert client.get(f"{BASE}/entries/{at_city.pk}/history", **bearer(tree.county_admin)).status_code == 404
    city_view, county_view = expected(at_city, tree.city_admin), expected(county_entry, tree.county_admin)
    assert set(county_view) < set(city_view)
    for viewer, entry, full, units in (
            (tree.city_admin, at_city, city_view, {"湛江市", "赤坎区", "湛江市第二十一小学"}),
            (tree.county_admin, county_entry, county_view, {"赤坎区", "湛江市第二十一小学"})):
        ids, pages = walk_api(client, entry, **bearer(viewer))
        assert ids == full
        assert all(len(p["items"]) == PAGE for p in pages[:-1]) and {p["total"] for p in pages} == {len(full)}
        events = [i for p in pages for i in p["items"] if i["unit_event"]]
        assert {i["unit_name"] for i in events} == units
        assert ("selection.reopen", "province") not in {(i["action"], (i["after"] or {}).get("level")) for i in events}
        assert not {i["action"] for i in events} & {"campaigns.quota_override.set", "contacts.reopen"}
        detail = client.get(f"{BASE}/entries/{entry.pk}", **bearer(viewer)).json()
        assert [h["id"] for h in detail["history"]] == full[:N][::-1] and detail["history_total"] == len(full)


# --- in a browser ----------------------------------------------------------------------------------------------
@pytest.mark.browser
@pytest.mark.slow
def test_a_county_admin_walks_a_long_timeline_on_a_phone(transactional_db, tree, campaign, make_course,
                                                         browser_page, screenshot_dir):
    course = make_course(title="反复处理的课程")
    entry = up_to_county(course, tree)
    long_history(campaign, course, services.chain(entry))
    total = len(expected(entry, tree.county_admin))
    page = browser_page
    page.goto("/accounts/login/")
    page.fill("#id_username", tree.county_admin.username)
    page.fill("#id_password", "Secret-pass-2024")
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    page.goto(f"/selection/entries/{entry.pk}/")
    assert page.locator("ol.timeline > li").count() == N
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(screenshot_dir / "selection-entry-timeline.png"), full_page=True)
    page.click(f"text=查看全部 {total} 条记录")
    page.wait_for_url(f"**/selection/entries/{entry.pk}/history/")
    assert page.locator("ol.timeline > li").count() == PAGE
    assert f"第 1–{PAGE} 条，共 {total} 条" in page.locator("nav.pagination").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(screenshot_dir / "selection-entry-history.png"), full_page=True)
    page.click("text=更早的记录")
    page.wait_for_url("**/history/?cursor=*")
    assert f"第 {PAGE + 1}–{2 * PAGE} 条，共 {total} 条" in page.locator("nav.pagination").inner_text()
    page.screenshot(path=str(screenshot_dir / "selection-entry-history-2.png"))
    page.click("text=最新记录")
    assert f"第 1–{PAGE} 条" in page.locator("nav.pagination").inner_text()
