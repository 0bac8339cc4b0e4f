"""Level.publicity_days (公示天数): campaign data, kept when absent, edited on the page and the
API, carried by the export and the clone."""

import pytest

from campaigns import services
from jingpinke.errors import ServiceError

pytestmark = pytest.mark.django_db


@pytest.fixture
def zhanjiang(tree):
    return services.create_from_shipped(tree.sysadmin, "zhanjiang-2024", tree.city)


def test_set_levels_takes_the_days_and_keeps_them_when_absent(tree, zhanjiang):
    rows = [{"kind": "school", "name": "学校推荐"}, {"kind": "county", "name": "县级初选", "publicity_days": 7},
            {"kind": "city", "name": "市级遴选", "award_name": "市级精品课"}]
    levels = services.set_levels(tree.city_admin, zhanjiang, rows)
    assert [lv.publicity_days for lv in levels] == [5, 7, 5]
    rows[1].pop("publicity_days")
    assert [lv.publicity_days for lv in services.set_levels(tree.city_admin, zhanjiang, rows)] == [5, 7, 5]
    with pytest.raises(ServiceError) as exc:
        services.set_levels(tree.city_admin, zhanjiang, [{**rows[1], "publicity_days": 0}, rows[0], rows[2]])
    assert exc.value.errors == [{"row": "县（市、区）层级", "column": "公示天数", "message": "应在 1 到 30 之间。"}]


def test_the_export_carries_the_days(tree, zhanjiang):
    zhanjiang.levels.filter(kind="city").update(publicity_days=10)
    doc = services.export_template(tree.city_admin, zhanjiang)
    assert {lv["kind"]: lv["publicity_days"] for lv in doc["levels"]} == {"school": 5, "county": 5, "city": 10}


def test_the_api_and_the_page(client, tree, zhanjiang):
    client.force_login(tree.city_admin)
    body = [{"kind": "school", "name": "学校推荐"}, {"kind": "county", "name": "县级初选", "publicity_days": 3},
            {"kind": "city", "name": "市级遴选", "award_name": "市级精品课"}]
    response = client.put(f"/api/v1/campaigns/{zhanjiang.pk}/levels", body, content_type="application/json")
    assert response.status_code == 200, response.json()
    assert [lv["publicity_days"] for lv in response.json()] == [5, 3, 5]
    page = client.get(f"/campaigns/{zhanjiang.pk}/").content.decode()
    assert "公示天数" in page
