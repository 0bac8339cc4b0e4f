"""selection.hooks: apps above selection refuse a confirmation or a decision without selection
importing them (review registers its 公示 checks in ReviewConfig.ready())."""

import pytest

from jingpinke.errors import ServiceError
from selection import hooks, services
from selection.models import Entry
from selection.tests.helpers import entry_at, up_to_county

pytestmark = pytest.mark.django_db


@pytest.fixture
def blockers(monkeypatch):
    seen = []
    monkeypatch.setattr(hooks, "confirm_blockers", [])
    monkeypatch.setattr(hooks, "decision_blockers", [])
    return seen


def test_review_registers_its_publicity_checks():
    from review import publicity

    assert publicity.confirm_blocker in hooks.confirm_blockers
    assert publicity.decision_blocker in hooks.decision_blockers


def test_a_confirm_blocker_refuses_with_its_message(tree, campaign, blockers):
    hooks.confirm_blockers.append(lambda unit, level: blockers.append((unit.pk, level.kind)) or "暂不能确认")
    with pytest.raises(ServiceError, match="暂不能确认") as exc:
        services.confirm(tree.school_admin, campaign, "school", tree.school)
    assert exc.value.errors == [{"rule": "blocked"}]
    assert blockers == [(tree.school.pk, "school")]
    hooks.confirm_blockers[:] = [lambda unit, level: None]
    assert services.confirm(tree.school_admin, campaign, "school", tree.school).confirmed


def test_a_decision_blocker_sees_the_entry_and_the_action(tree, campaign, make_course, blockers):
    course = make_course()
    entry = entry_at(course, "school")
    hooks.decision_blockers.append(lambda e, action: blockers.append((e.pk, action)) or (
        "不能推荐" if action == "recommend" else None))
    with pytest.raises(ServiceError, match="不能推荐"):
        services.decide(tree.school_admin, entry.pk, "recommend")
    assert Entry.objects.get(pk=entry.pk).state == "pending"
    services.decide(tree.school_admin, entry.pk, "decline", reason="x")
    assert blockers == [(entry.pk, "recommend"), (entry.pk, "decline")]
    assert Entry.objects.get(pk=entry.pk).state == "declined"


def test_set_award_asks_the_decision_blockers(tree, campaign, make_course, blockers):
    county_entry = up_to_county(make_course(), tree)
    hooks.decision_blockers.append(lambda e, action: "荣誉已锁定" if action == "award" else None)
    with pytest.raises(ServiceError, match="荣誉已锁定"):
        services.set_award(tree.county_admin, county_entry.pk, True)
    assert not Entry.objects.get(pk=county_entry.pk).awarded
