"""REST API of the notifications, with the session and with a Bearer token: list (paginated,
unread filter), one, mark read, mark all read, unread count, and the one-click reminder."""

import json

import pytest

from notifications import services
from notifications.models import Kind, Notification

pytestmark = pytest.mark.django_db
BASE = "/api/v1/notifications"


def post(client, path, data=None, **extra):
    return client.post(path, json.dumps(data or {}), content_type="application/json", **extra)


def make(user, n):
    return [services.notify([user], Kind.REMIND, f"通知{i}", f"内容{i}", link="/selection/")[0] for i in range(n)]


def test_unauthenticated_is_401(client):
    assert client.get(BASE).status_code == 401
    assert client.get(f"{BASE}/unread-count").status_code == 401
    assert post(client, f"{BASE}/read-all").status_code == 401


def test_list_with_a_bearer_token(client, tree, bearer, django_assert_max_num_queries):
    first, second, third = make(tree.teacher, 3)
    services.mark_read(tree.teacher, third.pk)
    make(tree.other_teacher, 2)
    headers = bearer(tree.teacher)
    with django_assert_max_num_queries(6):
        body = client.get(BASE, **headers).json()
    assert (body["count"], body["page"], body["num_pages"], body["unread"]) == (3, 1, 1, 2)
    assert [i["title"] for i in body["items"]] == ["通知1", "通知0", "通知2"]  # unread first, newest first
    item = body["items"][0]
    assert {k: item[k] for k in ("id", "kind", "kind_label", "body", "link", "campaign_id", "entry_id", "read",
                                 "read_at", "emailed_at")} == {
        "id": second.pk, "kind": "remind", "kind_label": "上级提醒", "body": "内容1", "link": "/selection/",
        "campaign_id": None, "entry_id": None, "read": False, "read_at": None, "emailed_at": None}
    unread = client.get(BASE, {"unread": "true"}, **headers).json()
    assert [i["id"] for i in unread["items"]] == [second.pk, first.pk]


def test_pages_of_twenty(client, tree, bearer, django_assert_max_num_queries):
    make(tree.teacher, 25)
    headers = bearer(tree.teacher)
    with django_assert_max_num_queries(6):
        body = client.get(BASE, {"page": 2}, **headers).json()
    assert (body["count"], body["page"], body["num_pages"], len(body["items"])) == (25, 2, 2, 5)


def test_unread_count_read_and_read_all_with_the_session(client, tree):
    one, _two, _three = make(tree.teacher, 3)
    client.force_login(tree.teacher)
    assert client.get(f"{BASE}/unread-count").json() == {"unread": 3}
    body = post(client, f"{BASE}/{one.pk}/read").json()
    assert body["id"] == one.pk and body["read"] is True and body["read_at"] is not None
    assert client.get(f"{BASE}/unread-count").json() == {"unread": 2}
    assert client.get(f"{BASE}/{one.pk}").json()["read"] is True
    assert post(client, f"{BASE}/read-all").json() == {"marked": 2, "unread": 0}
    assert client.get(f"{BASE}/unread-count").json() == {"unread": 0}


def test_anothers_notification_is_404(client, tree, bearer):
    theirs = make(tree.other_teacher, 1)[0]
    headers = bearer(tree.teacher)
    assert client.get(f"{BASE}/{theirs.pk}", **headers).status_code == 404
    assert post(client, f"{BASE}/{theirs.pk}/read", **headers).status_code == 404
    assert post(client, f"{BASE}/read-all", **headers).json() == {"marked": 0, "unread": 0}
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_remind_with_a_bearer_token(client, people, campaign, course, bearer):
    headers = bearer(people.county_admin)
    response = post(client, f"{BASE}/remind", {"campaign": campaign.pk}, **headers)
    assert response.status_code == 200
    assert response.json() == {
        "unit_id": people.county.pk, "unit_name": "赤坎区", "message": "已提醒 1 个单位。",
        "reminded": [{"unit_id": people.school.pk, "unit_name": "湛江市第二十一小学", "recipients": 1}], "skipped": []}
    again = post(client, f"{BASE}/remind", {"campaign": campaign.pk, "unit_ids": [people.school.pk]}, **headers)
    assert again.status_code == 400
    assert "提醒过湛江市第二十一小学，1 小时内不重复提醒" in again.json()["detail"]
    assert again.json()["errors"][0]["unit_id"] == people.school.pk


def test_remind_with_the_session_from_the_city(client, people, campaign, course):
    client.force_login(people.city_admin)
    body = post(client, f"{BASE}/remind", {"campaign": campaign.pk, "unit": people.city.pk}).json()
    assert [r["unit_name"] for r in body["reminded"]] == ["赤坎区", "霞山区"]
    assert body["skipped"] == [{"unit_id": people.city_school.pk, "unit_name": "湛江市第一中学",
                                "reason": "湛江市第一中学还没有管理员账号，无法提醒。请先在“单位”页面为它添加管理员。"}]


def test_remind_is_scoped(client, people, campaign, course, bearer):
    county = bearer(people.county_admin)
    assert post(client, f"{BASE}/remind", {"campaign": campaign.pk, "unit_ids": [people.other_school.pk]},
                **county).status_code == 404
    assert post(client, f"{BASE}/remind", {"campaign": campaign.pk, "unit": people.city.pk}, **county).status_code == 404
    city = bearer(people.city_admin)
    response = post(client, f"{BASE}/remind", {"campaign": campaign.pk, "unit": people.county.pk}, **city)
    assert response.status_code == 403 and response.json()["detail"] == "只有赤坎区的管理员可以提醒它的下级单位。"
    teacher = bearer(people.teacher)
    assert post(client, f"{BASE}/remind", {"campaign": campaign.pk}, **teacher).status_code == 403
    assert post(client, f"{BASE}/remind", {"campaign": 999999}, **county).status_code == 404
    assert post(client, f"{BASE}/remind", {}, **county).status_code == 422
    assert not Notification.objects.filter(kind=Kind.REMIND).exists()


def test_documented_in_openapi(client, tree):
    client.force_login(tree.teacher)
    schema = client.get("/api/v1/openapi.json").json()
    paths = {p: ops for p, ops in schema["paths"].items() if p.startswith(BASE)}
    assert set(paths) == {BASE, f"{BASE}/unread-count", f"{BASE}/read-all", f"{BASE}/remind",
                          f"{BASE}/{{notification_id}}", f"{BASE}/{{notification_id}}/read"}
    assert all(op.get("summary") for ops in paths.values() for op in ops.values())
    assert paths[f"{BASE}/remind"]["post"]["summary"].startswith("一键提醒未完成的下级单位")
