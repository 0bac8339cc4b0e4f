"""公示 in the REST API: create, list, detail with objections, resolve, finalize — for the unit's
admins only (another county's admin gets 404), refusals as {"detail", "errors"}; and the round's
results and proposal pages linking to the publicity."""

from datetime import timedelta

import pytest

from review.models import Objection, Publicity
from review.tests.test_results import scored  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db
BASE = "/api/v1/review"


def _post(client, url, body, headers):
    return client.post(url, body, content_type="application/json", **headers)


def test_the_whole_cycle(client, tree, campaign, results, bearer):
    admin = bearer(tree.county_admin)
    response = _post(client, f"{BASE}/publicities", {"campaign_id": campaign.pk, "unit_id": tree.county.pk,
                                                     "title": "赤坎区公示"}, admin)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["title"], body["state"], body["level"], len(body["items"]), body["objections"]) == (
        "赤坎区公示", "open", "county", 2, [])
    assert "mobile" not in str(body) and "13800000001" not in str(body)
    pub = Publicity.objects.get()
    again = _post(client, f"{BASE}/publicities", {"campaign_id": campaign.pk, "unit_id": tree.county.pk}, admin)
    assert again.status_code == 400 and "尚未确定结果" in again.json()["detail"]

    listed = client.get(f"{BASE}/publicities?campaign_id={campaign.pk}", **admin).json()
    assert [p["id"] for p in listed] == [pub.pk]

    item = pub.items.get(course_title="认识天地")
    o = Objection.objects.create(publicity=pub, item=item, name="张三", contact="a@b.cn", content="雷同", ip_hash="h")
    detail = client.get(f"{BASE}/publicities/{pub.pk}", **admin).json()
    assert [(x["id"], x["state"], x["item_id"], x["has_attachment"]) for x in detail["objections"]] == [
        (o.pk, "open", item.pk, False)]

    bad = _post(client, f"{BASE}/objections/{o.pk}/resolve", {"decision": "upheld", "outcome": ""}, admin)
    assert bad.status_code == 400 and "请写明处理结果" in bad.json()["detail"]
    early = _post(client, f"{BASE}/publicities/{pub.pk}/finalize", {}, admin)
    assert early.status_code == 400 and "还有 1 条异议未处理" in early.json()["detail"]
    assert early.json()["errors"][0]["rule"] == "finalize"

    done = _post(client, f"{BASE}/objections/{o.pk}/resolve",
                 {"decision": "upheld", "outcome": "经核实雷同", "withdraw": True}, admin)
    assert done.status_code == 200 and done.json()["state"] == "upheld"
    item.refresh_from_db()
    assert item.withdrawn

    Publicity.objects.filter(pk=pub.pk).update(starts_at=pub.starts_at - timedelta(days=6),
                                               ends_at=pub.ends_at - timedelta(days=6))
    final = _post(client, f"{BASE}/publicities/{pub.pk}/finalize", {}, admin)
    assert final.status_code == 200 and final.json()["state"] == "final"


def test_another_countys_admin_gets_404(client, tree, campaign, results, bearer):
    admin, other = bearer(tree.county_admin), bearer(tree.other_county_admin)
    created = _post(client, f"{BASE}/publicities", {"campaign_id": campaign.pk, "unit_id": tree.county.pk}, admin)
    pub = Publicity.objects.get(pk=created.json()["id"])
    o = Objection.objects.create(publicity=pub, name="张三", contact="a@b.cn", content="x", ip_hash="h")
    assert client.get(f"{BASE}/publicities/{pub.pk}", **other).status_code == 404
    assert client.get(f"{BASE}/publicities", **other).json() == []
    assert _post(client, f"{BASE}/objections/{o.pk}/resolve", {"decision": "dismissed", "outcome": "x"},
                 other).status_code == 404
    assert _post(client, f"{BASE}/publicities/{pub.pk}/finalize", {}, other).status_code == 404
    assert _post(client, f"{BASE}/publicities", {"campaign_id": campaign.pk, "unit_id": tree.county.pk},
                 other).status_code == 404
    assert client.get(f"{BASE}/publicities/{pub.pk}").status_code == 401
    o.refresh_from_db()
    assert o.state == "open"


def test_a_school_cannot_publish(client, tree, campaign, results, bearer):
    response = _post(client, f"{BASE}/publicities", {"campaign_id": campaign.pk, "unit_id": tree.school.pk},
                     bearer(tree.school_admin))
    assert response.status_code == 403
    assert not Publicity.objects.exists()


def test_the_results_and_proposal_pages_link_to_the_publicity(client, tree, scored):  # noqa: F811
    client.force_login(tree.county_admin)
    link = f"/review/campaigns/{scored.campaign_id}/units/{scored.unit_id}/publicity/"
    assert link in client.get(f"/review/rounds/{scored.pk}/results/").content.decode()
    assert link in client.get(f"/review/rounds/{scored.pk}/proposal/").content.decode()
