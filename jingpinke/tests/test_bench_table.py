"""The structure of `python -m bench table` (bench/table.py) on a tiny province: every list and role has
a row, decisions ran without errors, the export row exists, the JSON and Markdown come out. No timings
are asserted."""

import json

import pytest

from bench import province, table


@pytest.mark.django_db
def test_table_structure(tmp_path):
    campaign_id = province.generate(0.001, 3, chunk_schools=10).campaign_id
    result = table.collect(campaign_id, requests=2, decisions_n=2, uploads=None, probes=False, locust=None,
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
    assert len(export) == 1 and "available" in export[0]
    assert result["database"]["vendor"] and result["machine"]["cpus"] and result["courses"] == 200

    path = table.write(result, tmp_path)
    assert path.name.endswith(f"-{result['database']['vendor']}.json")
    assert json.loads(path.read_text(encoding="utf-8"))["rows"] == json.loads(json.dumps(rows))
    text = table.markdown(result)
    assert text.splitlines()[0].startswith("| section | case |")
    assert len(text.splitlines()) == 2 + len(rows)
    # A missed target says so.
    result["rows"][0]["met"] = False
    assert "**MISSED**" in table.markdown(result).splitlines()[2]
