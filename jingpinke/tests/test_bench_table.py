"""The structure of `python -m bench table` (bench/table.py) on a tiny province: every list and role has
a row, decisions ran without errors, the export row exists, the JSON and Markdown come out. No timings
are asserted."""

import json

import pytest

from bench import province, table


@pytest.mark.django_db
def test_table_structure(tmp_path):
    campaign_id = province.generate(0.001, 3, chunk_schools=10).campaign_id
    result = table.collect(campaign_id, requests=2, decisions_n=2, uploads=None, probes=False, export=False, locust=None,
                           progress=lambda *a, **k: None)
    rows = result["rows"]
    lists = [r for r in rows if r["section"] == "lists"]
    expected = {(case, role) for case, role, _url in table.list_cases(campaign_id, "x")}
    assert {(r["case"], r["role"]) for r in lists} == expected
    assert {r["role"] for r in lists} == set(table.ROLES)
    for r in lists:
        assert r["status"] == 200, r
        assert r["queries"] > 0 and r["p95_ms"] >= r["p50_ms"] >= 0
        assert r["met"] in (True, False)
    decisions = {r["case"]: r for r in rows if r["section"] == "decisions"}
    assert set(decisions) == {"api: recommend", "api: return"}
    for r in decisions.values():
        assert 1 <= r["n"] <= 2 and r["errors"] == 0, r  # a tiny county has few pending entries
    export = [r for r in rows if r["section"] == "export"]
    assert len(export) == 1 and export[0]["note"] in ("not run", "not available: the exports app is not installed on "
                                                      "this branch")
    assert result["database"]["vendor"] and result["machine"]["cpus"] and result["courses"] == 200

    path = table.write(result, tmp_path)
    assert path.name.endswith(f"-{result['database']['vendor']}-0.2k.json")  # 200 courses, not the province's file
    assert json.loads(path.read_text(encoding="utf-8"))["rows"] == json.loads(json.dumps(rows))
    text = table.markdown(result)
    assert text.splitlines()[0].startswith("| section | case |")
    assert len(text.splitlines()) == 2 + len(rows)
    # A missed target says so.
    result["rows"][0]["met"] = False
    assert "**MISSED**" in table.markdown(result).splitlines()[2]

    # --only: the matching lists alone, nothing else measured.
    only = table.collect(campaign_id, requests=1, decisions_n=2, uploads=None, probes=False, export=False,
                         locust=None, progress=lambda *a, **k: None, only="desk.*county")
    assert [(r["case"], r["role"]) for r in only["rows"]] == [("page: desk /selection/", "county admin"),
                                                              ("search: desk, school name", "county admin")]


def test_the_list_target_is_100_ms_to_200_000_courses_and_200_ms_above():
    """Issue 12: "p95 ≤ 100 ms (200 ms at 1 M)"; a 1 M run said MISSED for lists between 100 and 200 ms."""
    assert table.list_target_ms(200) == table.list_target_ms(200_000) == 100
    assert table.list_target_ms(200_001) == table.list_target_ms(1_000_000) == 200
    assert [table.size_suffix(n) for n in (200_000, 1_000_000, 200, 50_000)] == ["", "-1m", "-0.2k", "-50k"]


@pytest.mark.django_db
def test_a_large_provinces_lists_are_held_to_200_ms(monkeypatch):
    campaign_id = province.generate(0.001, 3, chunk_schools=10).campaign_id
    monkeypatch.setattr(table, "time_get", lambda client, url, n: {"status": 200, "p50_ms": 120.0, "p95_ms": 150.0,
                                                                  "queries": 5})
    small = table.lists(campaign_id, 1, lambda *a, **k: None, "desk.*county", courses=200_000)
    large = table.lists(campaign_id, 1, lambda *a, **k: None, "desk.*county", courses=1_000_000)
    assert {(r["target"], r["met"]) for r in small} == {("p95 ≤ 100 ms", False)}
    assert {(r["target"], r["met"]) for r in large} == {("p95 ≤ 200 ms", True)}


@pytest.mark.django_db
def test_locust_plan_gives_each_user_what_it_can_do(tmp_path, client):
    from bench import loadtest

    province.generate(0.002, 5, chunk_schools=20)
    data = loadtest.plan(10, tmp_path / "plan.json")
    assert json.loads((tmp_path / "plan.json").read_text()) == data
    assert len(data["teachers"]) == 8 and len(data["admins"]) == 2
    courses = [t["course"] for t in data["teachers"]]
    assert len(set(courses)) == len(courses)
    # A teacher's course is a draft whose files passed: submit and withdraw work with his token.
    auth = {"HTTP_AUTHORIZATION": f"Bearer {data['teachers'][0]['token']}"}
    for action in ("submit", "withdraw", "submit"):
        response = client.post(f"/api/v1/courses/{courses[0]}/{action}", **auth)
        assert response.status_code == 200, response.content.decode()[:300]
    for admin in data["admins"]:
        auth = {"HTTP_AUTHORIZATION": f"Bearer {admin['token']}"}
        for entry in admin["entries"]:
            for action in ("recommend", "undo"):
                response = client.post(f"/api/v1/selection/entries/{entry}/{action}", {}, content_type="application/json",
                                       **auth)
                assert response.status_code == 200, response.content.decode()[:300]


def test_locust_capacity_stops_at_the_first_count_that_misses(tmp_path, monkeypatch):
    """The capacity row runs the counts in turn on one server and names the largest that met the
    target; the run that missed ends the sweep (locust itself is not started here)."""
    import contextlib

    from bench import loadtest

    p95 = {300: 4000.0, 25: 80.0, 50: 150.0, 100: 420.0, 150: 90.0}
    runs = []

    def fake_locust(exe, port, users, seconds, spawn_rate, prefix):
        runs.append((users, seconds))
        return {"users": users, "seconds": seconds, "requests": users * 10, "errors": 0, "p50_ms": 1.0,
                "p95_ms": p95[users], "per_second": users / 2, "met": p95[users] <= loadtest.TARGET_P95_MS}

    monkeypatch.setattr(loadtest, "ensure_locust", lambda progress: tmp_path / "locust")
    plans = []
    monkeypatch.setattr(loadtest, "plan", lambda users, path: plans.append(users) or {"teachers": [0] * users,
                                                                                      "admins": []})
    monkeypatch.setattr(loadtest, "_server", lambda progress: contextlib.nullcontext(12345))
    monkeypatch.setattr(loadtest, "_locust", fake_locust)
    monkeypatch.setattr(loadtest, "_wait_for_worker", lambda: 0.0)
    main, capacity = loadtest.run(300, 60, capacity=(25, 50, 100, 150), progress=lambda *a, **k: None)
    assert runs == [(300, 60), (25, 30), (50, 30), (100, 30)]  # 150 is not tried after 100 missed
    assert plans == [300, 25, 50, 100]  # fresh plans for every run: the last one left courses submitted
    assert main["met"] is False and main["p95_ms"] == 4000.0
    assert capacity["users"] == 50 and [s["users"] for s in capacity["steps"]] == [25, 50, 100]
    assert "50 users met the target" in capacity["note"] and "100: p95 420 ms" in capacity["note"]
    # Without counts: the main row alone.
    assert len(loadtest.run(300, 60, progress=lambda *a, **k: None)) == 1


@pytest.mark.django_db
def test_cpu_bench_runs_every_request_of_the_locust_mix(tmp_path, client):
    """`python -m bench cpu` (bench/cpu.py): each request type of the locust mix answers as locust expects
    (tus 201/204, lists 200, submit/withdraw and recommend/undo 200) on a tiny province, twice in a row as
    the bench repeats it. No timings are asserted."""
    from bench import cpu, loadtest

    province.generate(0.002, 5, chunk_schools=20)
    cases = cpu.requests_of(client, loadtest.plan(2, tmp_path / "plan.json"))
    assert tuple(cases) == cpu.CASES
    for run in cases.values():
        run()
        run()
