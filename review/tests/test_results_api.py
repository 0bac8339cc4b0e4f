"""Round results in the REST API."""

import pytest

from review.tests.test_results import _second_school_entry, scored  # noqa: F401  (fixture)
from selection.models import Entry

pytestmark = pytest.mark.django_db
BASE = "/api/v1/review/rounds"


def test_results(client, tree, scored, bearer):  # noqa: F811
    response = client.get(f"{BASE}/{scored.pk}/results", **bearer(tree.county_admin))
    assert response.status_code == 200
    data = response.json()
    b = next(e for e in data["entries"] if e["entry_id"] == scored.entries["B"])
    assert (b["mean"], b["median"], b["sd"], b["spread"], b["score"], b["disagreement"]) == (80, 85, 14.72, 35, 80, True)
    chinese = next(g for g in data["ranking"] if g["subject"] == "语文")
    assert [(r["rank"], r["title"], r["decided_by"]) for r in chinese["rows"]] == [
        (1, "小小的船", ""), (2, "认识天地", "中位数更高"), (3, "看图说话", "得分更高")]


def test_settings(client, tree, scored, bearer):  # noqa: F811
    response = client.put(f"{BASE}/{scored.pk}/results/settings", {"method": "trimmed", "min_scored": 3,
                                                                   "disagreement_threshold": "50"},
                          content_type="application/json", **bearer(tree.county_admin))
    assert response.status_code == 200
    assert (response.json()["method"], response.json()["disagreement_threshold"]) == ("trimmed", "50.0")
    response = client.put(f"{BASE}/{scored.pk}/results/settings", {"method": "x"}, content_type="application/json",
                          **bearer(tree.county_admin))
    assert response.status_code == 400
    assert response.json()["detail"] == "未知的汇总方法“x”：请选择平均分、中位数、截尾均值或标准分。"


def test_proposal_and_apply(client, tree, scored, bearer):  # noqa: F811
    ids, auth = scored.entries, bearer(tree.county_admin)
    response = client.post(f"{BASE}/{scored.pk}/proposal", {}, content_type="application/json", **auth)
    data = response.json()
    assert (data["chosen"], data["optimal"]) == ([ids["B"], ids["A"]], True)
    assert [(r["title"], r["explanation"]) for r in data["rows"] if not r["chosen"]] == [
        ("看图说话", "同一目录节点已有更高分作品《认识天地》"), ("数一数", "评审一票否决，不予推荐")]
    response = client.post(f"{BASE}/{scored.pk}/proposal/apply", {"expected": [ids["B"], ids["A"]]},
                           content_type="application/json", **auth)
    assert response.json() == {"recommended": [ids["B"], ids["A"]], "undone": []}
    assert set(Entry.objects.filter(pk__in=ids.values(), state="recommended").values_list("pk", flat=True)) == \
        {ids["A"], ids["B"]}


def test_scope(client, tree, scored, pool, bearer):  # noqa: F811
    assert client.get(f"{BASE}/{scored.pk}/results", **bearer(pool[0])).status_code == 200  # the chair
    response = client.post(f"{BASE}/{scored.pk}/proposal", {}, content_type="application/json", **bearer(pool[0]))
    assert response.status_code == 403
    for user in (pool[1], tree.other_county_admin):
        assert client.get(f"{BASE}/{scored.pk}/results", **bearer(user)).status_code == 404
        assert client.get(f"{BASE}/{scored.pk}/results.xlsx", **bearer(user)).status_code == 404
    response = client.get(f"{BASE}/{scored.pk}/results.xlsx", **bearer(tree.county_admin))
    assert response.status_code == 200
