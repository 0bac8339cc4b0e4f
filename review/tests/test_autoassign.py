"""Automatic assignment wired into rounds: the solver's proposal stored as PROPOSED, shown before
publishing, manual moves checked by review.assignment.check_move, undo, scope."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from audit.models import Event
from courses.models import CourseMember
from orgs.models import Role
from orgs.tests.factories import member
from review import services
from review.models import Assignment, AssignmentChange, AssignmentState, ExpertProfile, ReviewRound, RoundStatus
from selection import services as selection_services
from selection.models import Entry

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


def pairs(review_round) -> list[tuple[str, str, str]]:
    return sorted(Assignment.objects.filter(round=review_round)
                  .values_list("entry__code", "expert__real_name", "state"))


@pytest.fixture
def panel(tree, county_round, pool):
    for i, e in enumerate(pool):
        services.add_panel_member(tree.county_admin, county_round, e.pk, is_chair=i == 0)
    return pool


@pytest.fixture
def codes(county_round):
    """Entry code by course title."""
    return {re.entry.course.title: re.code for re in county_round.round_entries.select_related("entry__course")}


def label(county_round, title) -> str:
    re = county_round.round_entries.get(entry__course__title=title)
    return f"{re.code} {title}"


def entry_of(review_round, title):
    return review_round.round_entries.get(entry__course__title=title)


def by_title(review_round) -> list[tuple[str, str, str]]:
    return sorted(Assignment.objects.filter(round=review_round)
                  .values_list("entry__entry__course__title", "expert__real_name", "state"))


# --- automatic assignment ------------------------------------------------------------------------
def test_auto_assign_proposes_pairs_hidden_until_published(tree, county_round, panel):
    """专家0 may take both entries, 专家1 and 专家2 one each; 专家1 declared a conflict with 小小的船:
    the only complete assignment."""
    ExpertProfile.objects.filter(user=panel[1]).update(max_load=1)
    ExpertProfile.objects.filter(user=panel[2]).update(max_load=1)
    services.declare_conflict(tree.county_admin, county_round, entry_of(county_round, "小小的船").pk, panel[1].pk, "亲属")
    result = services.auto_assign(tree.county_admin, county_round)
    assert (len(result.new_pairs), result.shortages) == (4, ())
    assert by_title(county_round) == [
        ("小小的船", "专家0", "proposed"), ("小小的船", "专家2", "proposed"),
        ("认识天地", "专家0", "proposed"), ("认识天地", "专家1", "proposed")]
    assert services.my_tasks(panel[0]) == []  # proposed: not visible
    event = Event.objects.get(action="review.assignment.auto")
    assert (event.actor, event.after["shortages"], len(event.after["added"])) == (tree.county_admin, [], 4)

    assert services.publish_assignments(tree.county_admin, county_round) == 4
    assert ReviewRound.objects.get().status == RoundStatus.PUBLISHED
    assert set(Assignment.objects.values_list("state", flat=True)) == {AssignmentState.ASSIGNED}
    assert sorted(t.title for t in services.my_tasks(panel[0])) == ["小小的船", "认识天地"]


def test_auto_assign_keeps_existing_pairs_and_fills_only_what_is_missing(tree, county_round, panel):
    ExpertProfile.objects.filter(user=panel[0]).update(max_load=1)
    ship = entry_of(county_round, "小小的船")
    services.assign(tree.county_admin, county_round, ship.pk, panel[0].pk)
    services.declare_conflict(tree.county_admin, county_round, ship.pk, panel[2].pk, "亲属")
    services.publish_round(tree.county_admin, county_round)
    result = services.auto_assign(tree.county_admin, county_round)
    assert len(result.new_pairs) == 3
    assert by_title(county_round) == [
        ("小小的船", "专家0", "assigned"), ("小小的船", "专家1", "proposed"),
        ("认识天地", "专家1", "proposed"), ("认识天地", "专家2", "proposed")]
    assert [t.title for t in services.my_tasks(panel[0])] == ["小小的船"]  # only the published one
    assert services.publish_assignments(tree.county_admin, county_round) == 3
    assert Event.objects.get(action="review.assignment.publish").after == {"published": 3}
    with pytest.raises(services.ServiceError) as exc:
        services.publish_assignments(tree.county_admin, county_round)
    assert exc.value.message == "没有待发布的分配。"


def test_short_entries_say_why(tree, county_round, panel):
    ExpertProfile.objects.filter(user=panel[1]).update(work_unit=tree.school)  # same school as every entry
    services.declare_conflict(tree.county_admin, county_round, entry_of(county_round, "认识天地").pk, panel[2].pk, "亲属")
    result = services.auto_assign(tree.county_admin, county_round)
    a = label(county_round, "认识天地")
    why = (f"《{a}》缺少 1 位评审专家：学科 语文、学段 小学 的专家共 3 位，其中 1 位与作品同校、1 位已声明回避，"
           "符合条件的 1 位都已分配；请添加学科 语文、学段 小学 的专家。")
    assert [s.message for s in result.shortages] == [why]
    assert by_title(county_round) == [("小小的船", "专家0", "proposed"), ("小小的船", "专家2", "proposed"),
                                      ("认识天地", "专家0", "proposed")]
    plan = services.assignment_plan(tree.county_admin, county_round)
    assert plan.shortages == [why]
    assert [(row.round_entry.entry.course.title, row.missing, row.shortage) for row in plan.entries if row.missing] \
        == [("认识天地", 1, why)]


def test_no_expert_of_the_subject_and_stage(tree, campaign, nodes, county_entry, pool, window):
    county_entry(node=nodes[6], title="浮力")  # 物理 · 初中
    r = services.create_round(tree.county_admin, campaign, tree.county, title="物理", category="subject",
                              stage="junior", reviewers_per_entry=2, **window)
    with pytest.raises(services.ServiceError) as exc:
        services.auto_assign(tree.county_admin, r)
    assert exc.value.message == "评审组还没有专家：请先把本单位专家库中的专家加入评审组，再自动分配。"
    services.add_panel_member(tree.county_admin, r, pool[0].pk)
    result = services.auto_assign(tree.county_admin, r)
    assert [s.message for s in result.shortages] == [
        f"《{r.round_entries.get().code} 浮力》缺少 2 位评审专家：没有学科 物理、学段 初中 的专家；请添加学科 物理、学段 初中 的专家。"]
    assert Assignment.objects.count() == 0
    assert AssignmentChange.objects.count() == 0  # nothing changed: nothing to undo
