"""The demo: two Zhanjiang counties have filed their contact forms, a third has saved one, the
rest have not started; loading twice changes nothing."""

import pytest

from campaigns import demo as campaigns_demo
from contacts import demo, services
from orgs import demo as orgs_demo


@pytest.mark.django_db
def test_the_demo_shows_every_state():
    units = orgs_demo.load()
    campaign = campaigns_demo.load(units["province"], units["city"])
    made = demo.load(campaign)
    assert [(f.unit.name, f.filed) for f in made] == [("赤坎区", True), ("霞山区", True), ("坡头区", False)]
    city_admin = units["city"].memberships.get(user__username="zj_admin").user
    board = {d.unit.name: d for d in services.board(city_admin, campaign)}
    assert [board[n].status for n in ("赤坎区", "霞山区", "坡头区", "麻章区", "湛江市第一中学")] == [
        "filed", "filed", "draft", "missing", "missing"]
    assert board["赤坎区"].scan.kind == "pdf" and [p.name for p in board["赤坎区"].people] == ["黄志明", "陈丽娟"]
    assert demo.load(campaign) == []
