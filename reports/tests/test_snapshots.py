"""The snapshot of a dashboard's area-wide aggregates (reports.services.current_aggregates): on a
generated province its numbers are those of the live computation, for the province, a city and a
county; after a change they are again once refreshed; a stale one is refreshed in the background;
the page says when its data date from and reads the snapshot in one query."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench import province as bench_province
from courses.models import Resource
from orgs.models import User
from reports import services
from reports.models import Snapshot
from selection.models import Entry

pytestmark = pytest.mark.django_db


def _finding(rule, level, label):
    return {"rule": rule, "level": level, "label": label, "measured": "", "required": "", "advice": ""}


@pytest.fixture
def generated():
    campaign_id = bench_province.generate(0.002, 11, chunk_schools=20).campaign_id
    rnd = random.Random(5)
    # findings (the generator's files all pass) and awards (it awards none), spread over the province
    resources = list(Resource.objects.filter(period__course__campaign_id=campaign_id).order_by("id"))
    for r in rnd.sample(resources, len(resources) // 4):
        level = rnd.choice(["fail", "warn"])
        r.status = level
        r.findings = [_finding(rnd.choice(["resolution", "duration", "fps"]), level, "x"),
                      _finding("container", "pass", "封装格式"), "not an object"]
        r.save(update_fields=["status", "findings"])
    held = list(Entry.objects.filter(campaign_id=campaign_id).exclude(level__kind="school").order_by("id"))
    Entry.objects.filter(pk__in=[e.pk for e in rnd.sample(held, len(held) // 3)]).update(awarded=True)
    return campaign_id


def _admins():
    return [User.objects.get(username=u) for u in ("pv_province", "pv_city_01", "pv_county_001", "pv_sysadmin")]


def _rows(sections):
    return [(s.key, s.headers, s.rows) for s in sections]


def _scopes(campaign_id):
    for admin in _admins():
        scope = services.get_scope(admin, campaign_id)
        yield admin, scope.campaign, scope.unit


def test_the_snapshot_holds_the_live_numbers_for_every_admin(generated):
    seen = set()
    for admin, campaign, unit in _scopes(generated):
        seen.add(unit.kind)
        live = _rows(services.sections(admin, campaign, unit))
        aggregates = services.current_aggregates(campaign, unit)  # none yet: counted now and stored
        assert Snapshot.objects.filter(campaign=campaign, unit=unit).exists()
        assert _rows(services.sections(admin, campaign, unit, aggregates=aggregates.data)) == live
        stored = services.current_aggregates(campaign, unit)  # from the snapshot (JSON round trip)
        assert stored.computed_at == aggregates.computed_at
        assert _rows(services.sections(admin, campaign, unit, aggregates=stored.data)) == live
        by_key = {key: rows for key, _h, rows in live}
        assert by_key["checks"] and by_key["category"]  # the test means something
        assert by_key["awards"] or unit.kind == "county"
    assert seen == {"province", "city", "county"}


def test_after_a_change_the_refreshed_snapshot_is_live_again(generated):
    admin, campaign, unit = next(_scopes(generated))
    services.current_aggregates(campaign, unit)
    # a change in the area: an award taken back, a file passing now, a course declared afresh
    Entry.objects.filter(pk=Entry.objects.filter(campaign=campaign, awarded=True).order_by("id").values("pk")[:1]
                         ).update(awarded=False)
    Resource.objects.filter(pk=Resource.objects.filter(status="fail").order_by("id").values("pk")[:1]).update(
        status="pass", findings=[])
    Entry.objects.filter(pk=Entry.objects.filter(campaign=campaign, level__kind="school").order_by("id")
                         .values("pk")[:1]).delete()
    live = _rows(services.sections(admin, campaign, unit))
    stale = services.current_aggregates(campaign, unit)
    assert _rows(services.sections(admin, campaign, unit, aggregates=stale.data)) != live
    services.refresh_snapshot(campaign.pk, unit.pk)
    fresh = services.current_aggregates(campaign, unit)
    assert fresh.computed_at > stale.computed_at
    assert _rows(services.sections(admin, campaign, unit, aggregates=fresh.data)) == live


def test_a_stale_snapshot_is_refreshed_in_the_background_once(generated, monkeypatch):
    admin, campaign, unit = next(_scopes(generated))
    services.current_aggregates(campaign, unit)
    old = timezone.now() - timedelta(minutes=30)
    Snapshot.objects.filter(campaign=campaign, unit=unit).update(computed_at=old, data={"declared": [], "failures": [],
                                                                                         "awards": []})
    enqueued = []
    from reports import tasks
    monkeypatch.setattr(services, "_enqueue_refresh", lambda *args: enqueued.append(args))
    first = services.current_aggregates(campaign, unit)
    assert enqueued == [(campaign.pk, unit.pk)] and first.refreshing and first.computed_at == old
    assert services.current_aggregates(campaign, unit).refreshing
    assert len(enqueued) == 1  # not again while that refresh is pending
    tasks.refresh_snapshot.call(campaign.pk, unit.pk)  # the worker runs it
    now = services.current_aggregates(campaign, unit)
    assert not now.refreshing and now.computed_at > old and now.data == services.area_aggregates(campaign, unit)


def test_the_page_reads_the_snapshot_and_says_when_its_data_date_from(client, generated):
    admin, campaign, unit = next(_scopes(generated))
    client.force_login(admin)
    url = f"/reports/?campaign={campaign.pk}"
    assert client.get(url).status_code == 200  # the first view counts and stores
    snapshot = Snapshot.objects.get(campaign=campaign, unit=unit)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    html = response.content.decode()
    assert "数据更新于 " + timezone.localtime(snapshot.computed_at).strftime("%H:%M") in html
    assert 'id="snapshot-refresh"' in html
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert sum('FROM "reports_snapshot"' in sql for sql in sqls) == 1
    # the area-wide counts are not made again: no findings unnested, no GROUP BY of the area's courses
    assert not any("jsonb_array_elements" in sql or "json_each" in sql for sql in sqls)
    # session, user, memberships, campaigns…, the snapshot, the levels once, the progress of the
    # child units, the unit's own counts, shares, special, review rounds, the badge (27 before)
    assert len(sqls) <= 21, len(sqls)


def test_the_refresh_button_recounts(client, generated):
    admin, campaign, unit = next(_scopes(generated))
    client.force_login(admin)
    client.get(f"/reports/?campaign={campaign.pk}")
    Snapshot.objects.filter(campaign=campaign, unit=unit).update(data={"declared": [], "failures": [], "awards": []})
    response = client.post("/reports/refresh/", {"campaign": campaign.pk, "unit": unit.pk})
    assert response.status_code == 302 and response["Location"].startswith("/reports/?")
    # the test settings run tasks at once (ImmediateBackend)
    assert Snapshot.objects.get(campaign=campaign, unit=unit).data == services.area_aggregates(campaign, unit)
    assert client.get("/reports/refresh/").status_code == 405


def test_the_refresh_button_of_a_unit_out_of_reach_is_404(client, generated):
    county_admin = User.objects.get(username="pv_county_001")
    other = services.get_scope(User.objects.get(username="pv_province"), generated).unit
    client.force_login(county_admin)
    assert client.post("/reports/refresh/", {"campaign": generated, "unit": other.pk}).status_code == 404
    assert not Snapshot.objects.exists()


# The loop the page's tables were drawn with before they were built in the view (reports.views._body).
OLD_TBODY = ('<tbody>{% for row in table %}<tr>{% for cell, number in row %}<td{% if number %} class="num"{% endif %}>'
             '{% if cell is None %}—{% else %}{{ cell }}{% endif %}</td>{% endfor %}</tr>\n    {% empty %}<tr><td colspan='
             '"{{ n }}" class="muted">{% translate "暂无数据。" %}</td></tr>{% endfor %}</tbody>')
NEW_TBODY = ('<tbody>{% if body %}{{ body }}{% else %}<tr><td colspan="{{ n }}" class="muted">{% translate "暂无数据。" %}'
             '</td></tr>{% endif %}</tbody>')


def test_the_tables_are_the_html_the_template_loop_made(generated):
    from django.template import Context, Template

    from reports import rules, views

    old, new = Template("{% load i18n %}" + OLD_TBODY), Template("{% load i18n %}" + NEW_TBODY)
    extra = rules.Section("x", "x", [("a", 1)] * 5, [["<b>&", None, 12.5, 3, True], []])
    for admin, campaign, unit in _scopes(generated):
        for s in [*services.sections(admin, campaign, unit), extra, rules.Section("y", "y", [("a", 1)], [])]:
            table = [[(c, views._number(c)) for c in row] for row in s.rows]
            assert (new.render(Context({"body": views._body(s), "n": len(s.headers)}))
                    == old.render(Context({"table": table, "n": len(s.headers)}))), s.key
