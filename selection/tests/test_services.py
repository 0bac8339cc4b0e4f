"""The selection use cases on the Zhanjiang 2024 campaign: school → county → city."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from audit.models import Event
from campaigns import services as campaign_services
from campaigns.models import DeadlineOverride
from jingpinke.errors import ServiceError
from selection import services
from selection.models import Entry, EntryState
from selection.tests.helpers import entry_at, up_to_county

pytestmark = pytest.mark.django_db


def test_a_recommendation_goes_up_to_the_owner(make_course, tree):
    course = make_course()
    school_entry = entry_at(course, "school")
    assert (school_entry.unit, school_entry.state) == (tree.school, EntryState.PENDING)
    county_entry = up_to_county(course, tree)
    assert (county_entry.unit, county_entry.from_unit, county_entry.state) == (tree.county, tree.school, "pending")
    school_entry.refresh_from_db()
    assert (school_entry.state, school_entry.rank, school_entry.decided_by) == ("recommended", 1, tree.school_admin)
    course.refresh_from_db()
    assert course.school_acted_at is not None
    assert Event.objects.filter(action="selection.recommend").count() == 1


def test_a_city_owned_school_goes_straight_to_the_city(make_course, tree):
    city_school_admin = tree.city_admin  # the city administers its own schools
    course = make_course(school=tree.city_school)
    services.decide(city_school_admin, entry_at(course, "school").pk, "recommend")
    assert entry_at(course, "city").unit == tree.city
    assert not Entry.objects.filter(course=course, level__kind="county").exists()


def test_return_and_resubmission_come_back_to_the_same_unit(make_course, tree):
    course = make_course()
    county_entry = up_to_county(course, tree)
    with pytest.raises(ServiceError, match="理由"):
        services.decide(tree.county_admin, county_entry.pk, "return", reason=" ")
    services.decide(tree.county_admin, county_entry.pk, "return", reason="请补充学习任务单")
    course.refresh_from_db()
    assert (course.status, course.return_reason) == ("returned", "请补充学习任务单")
    services.enter(tree.teacher, course)  # the teacher fixed it and submits again
    county_entry.refresh_from_db()
    assert county_entry.state == "pending" and county_entry.unit == tree.county
    assert Entry.objects.filter(course=course).count() == 2


def test_decline_and_undo(make_course, tree):
    course = make_course()
    county_entry = up_to_county(course, tree)
    services.decide(tree.county_admin, county_entry.pk, "decline", reason="与本区其他课程重复")
    county_entry.refresh_from_db()
    assert (county_entry.state, county_entry.reason) == ("declined", "与本区其他课程重复")
    with pytest.raises(ServiceError, match="未推荐"):
        services.decide(tree.county_admin, county_entry.pk, "recommend")
    services.decide(tree.county_admin, county_entry.pk, "undo")
    county_entry.refresh_from_db()
    assert county_entry.state == "pending"


def test_undo_of_a_recommendation_takes_it_back_from_the_level_above(make_course, tree):
    course = make_course()
    county_entry = up_to_county(course, tree)
    services.decide(tree.county_admin, county_entry.pk, "recommend")
    assert entry_at(course, "city").state == "pending"
    services.decide(tree.county_admin, county_entry.pk, "undo")
    assert not Entry.objects.filter(course=course, level__kind="city").exists()
    # Once the city acted, the county can no longer take it back.
    services.decide(tree.county_admin, county_entry.pk, "recommend")
    services.decide(tree.city_admin, entry_at(course, "city").pk, "decline")
    with pytest.raises(ServiceError, match="上级已经处理"):
        services.decide(tree.county_admin, county_entry.pk, "undo")


def test_quota_refusal_names_the_numbers(make_course, tree, campaign, nodes):
    campaign_services.set_quota_override(tree.city_admin, campaign, level_kind="county", unit=tree.county,
                                         category="experiment", limit=1)
    first, second = make_course("experiment", nodes[6]), make_course("experiment", nodes[7])
    services.decide(tree.county_admin, up_to_county(first, tree).pk, "recommend")
    with pytest.raises(ServiceError, match="实验教学 已推荐 1/1"):
        services.decide(tree.county_admin, up_to_county(second, tree).pk, "recommend")
    assert entry_at(second, "county").state == "pending"


def test_one_course_per_node_blocks_or_asks_for_a_reason(make_course, tree, campaign, nodes):
    a, b = make_course(node=nodes[1]), make_course(node=nodes[1])
    services.decide(tree.school_admin, entry_at(a, "school").pk, "recommend")
    with pytest.raises(ServiceError, match="同一目录节点"):
        services.decide(tree.school_admin, entry_at(b, "school").pk, "recommend")
    campaign.node_rule = "warn"
    campaign.save()
    with pytest.raises(ServiceError, match="请填写理由") as refused:
        services.decide(tree.school_admin, entry_at(b, "school").pk, "recommend")
    assert refused.value.errors[0]["needs_reason"] is True
    services.decide(tree.school_admin, entry_at(b, "school").pk, "recommend", node_reason="两个班分别执教")
    assert entry_at(b, "school").node_reason == "两个班分别执教"


def test_deadline_passes_and_the_level_above_reopens(make_course, tree, campaign):
    course = make_course()
    county_entry = up_to_county(course, tree)
    deadline = campaign.levels.get(kind="county").deadline
    campaign.levels.filter(kind="city").update(deadline=deadline + timedelta(days=10))  # the city still receives
    with pytest.raises(ServiceError, match="截止"):
        services.decide(tree.county_admin, county_entry.pk, "recommend", now=deadline + timedelta(seconds=1))
    with pytest.raises(PermissionDenied):
        services.reopen(tree.county_admin, campaign, "county", tree.county, deadline + timedelta(days=2), "补报")
    later = deadline + timedelta(days=1)
    services.reopen(tree.city_admin, campaign, "county", tree.county, deadline + timedelta(days=2), "系统故障补报",
                    now=later)
    services.decide(tree.county_admin, county_entry.pk, "recommend", now=later)
    assert entry_at(course, "county").state == "recommended"


def test_a_reopen_also_gives_time_to_confirm(make_course, tree, campaign):
    """Zhanjiang's counties recommend and confirm by the same day: a unit reopened after that day
    can confirm until its new deadline; its own contact-form deadline is kept."""
    county = campaign.levels.get(kind="county")
    county.confirm_deadline = county.deadline
    county.save()
    contact = county.deadline - timedelta(days=5)
    campaign_services.set_deadline_override(tree.city_admin, campaign, level_kind="county", unit=tree.county,
                                            contact_form_deadline=contact, reason="联系表延期")
    up_to_county(make_course(), tree)
    later, new_deadline = county.deadline + timedelta(days=1), county.deadline + timedelta(days=3)
    services.reopen(tree.city_admin, campaign, "county", tree.county, new_deadline, "补报", now=later)
    override = DeadlineOverride.objects.get(level=county, unit=tree.county)
    assert (override.deadline, override.confirm_deadline, override.contact_form_deadline) == (
        new_deadline, new_deadline, contact)
    services.decide(tree.county_admin, Entry.objects.get(level=county).pk, "decline", now=later)
    assert services.confirm(tree.county_admin, campaign, "county", tree.county, now=later).confirmed


def test_confirmation_locks_until_the_level_above_unlocks(make_course, tree, campaign):
    a, b = make_course(), make_course()
    services.decide(tree.school_admin, entry_at(a, "school").pk, "recommend")
    with pytest.raises(ServiceError, match="待处理"):
        services.confirm(tree.school_admin, campaign, "school", tree.school)
    services.decide(tree.school_admin, entry_at(b, "school").pk, "decline")
    services.confirm(tree.school_admin, campaign, "school", tree.school)
    with pytest.raises(ServiceError, match="已锁定"):
        services.decide(tree.school_admin, entry_at(b, "school").pk, "undo")
    with pytest.raises(PermissionDenied):
        services.unlock(tree.school_admin, campaign, "school", tree.school, "改一下")
    with pytest.raises(ServiceError, match="理由"):
        services.unlock(tree.county_admin, campaign, "school", tree.school, "")
    services.unlock(tree.county_admin, campaign, "school", tree.school, "学校申请调整")
    services.decide(tree.school_admin, entry_at(b, "school").pk, "undo")


def test_share_cap_is_enforced_when_the_city_confirms_its_awards(make_course, tree, campaign, nodes):
    campaign.share_caps = [{"level": "city", "category": "special", "subjects": ["语文", "数学"], "max_percent": 50,
                            "applies_to": "awards"}]
    campaign.save()
    courses = [make_course("special", nodes[0], school=tree.city_school),
               make_course("special", nodes[3], school=tree.city_school)]
    for course in courses:
        services.decide(tree.city_admin, entry_at(course, "school").pk, "recommend")
    services.confirm(tree.city_admin, campaign, "school", tree.city_school)
    city_entries = [entry_at(c, "city") for c in courses]
    for e in city_entries:
        services.decide(tree.city_admin, e.pk, "recommend")
        services.set_award(tree.city_admin, e.pk, True)
    board = services.share_board(campaign, city_entries[0].level, tree.city)
    status, applies = board["caps"][0]
    assert applies == "awards" and "当前 100 %" in status.text()
    with pytest.raises(ServiceError, match="学科占比超过上限"):
        services.confirm(tree.city_admin, campaign, "city", tree.city)


def test_scope(make_course, tree):
    course = make_course()
    county_entry = up_to_county(course, tree)
    assert list(services.entries_for(tree.other_county_admin)) == []
    with pytest.raises(Http404):
        services.decide(tree.other_county_admin, county_entry.pk, "recommend")
    with pytest.raises(Http404):
        services.decide(tree.teacher, county_entry.pk, "recommend")
    assert set(services.entries_for(tree.county_admin)) == set(Entry.objects.filter(course=course))
    # held_by narrows the scope to one unit (the desk), never widens it
    assert set(services.entries_for(tree.county_admin, tree.county.pk)) == {county_entry}
    assert set(services.entries_for(tree.county_admin, tree.school.pk)) == set(Entry.objects.filter(
        course=course, unit=tree.school))
    assert list(services.entries_for(tree.other_county_admin, tree.county.pk)) == []
    assert list(services.filtered_entries(tree.other_county_admin, services.EntryFilter(held_by=tree.county.pk))) == []


def test_withdraw_only_before_the_school_acts(make_course, tree):
    course = make_course()
    services.leave(tree.teacher, course)
    assert not Entry.objects.filter(course=course).exists()
    other = make_course()
    services.decide(tree.school_admin, entry_at(other, "school").pk, "decline")
    with pytest.raises(ServiceError, match="不能再撤回"):
        services.leave(tree.teacher, other)


def test_withdraw_deletes_the_school_entry_as_the_collector_did(make_course, tree, django_assert_max_num_queries):
    """``leave`` deletes the pending school entry in one DELETE when nothing refers to it (one query
    asks every relation), and through Django's collector when something does: a notice about the
    entry keeps its row without the entry (SET NULL), as before."""
    from django.db import transaction

    from notifications.models import Notification

    course = make_course()
    with transaction.atomic(), django_assert_max_num_queries(4):  # entries, references, DELETE, audit
        services.leave_in_transaction(tree.teacher, course)
    assert not Entry.objects.filter(course=course).exists()
    other = make_course()
    entry = entry_at(other, "school")
    notice = Notification.objects.create(recipient=tree.teacher, kind="returned", title="退回", entry=entry)
    services.leave(tree.teacher, other)
    assert not Entry.objects.filter(course=other).exists()
    notice.refresh_from_db()
    assert notice.entry_id is None
    assert Event.objects.filter(action="selection.withdraw").count() == 2


def test_a_level_asks_for_items_before_it_recommends(make_course, tree, campaign, nodes):
    """The county pre-selects on the design and asks for the video before recommending to the
    city: one list for all categories, each course asked only for what its package has."""
    from courses.models import Period, Resource
    from courses.tests.conftest import make_file

    campaign.levels.filter(kind="county").update(required_resources=["video", "experiment_video"])
    design_only = make_course()
    experiment = make_course(category="experiment", node=nodes[6])
    for course in (design_only, experiment):
        period = Period.objects.create(course=course, number=1)
        kind = "lesson_plan" if course.category == "subject" else "experiment_plan"
        Resource.objects.create(period=period, slot_kind=kind, file=make_file(tree.teacher, "docx"), status="pass")
    for course, item in ((design_only, "微课视频"), (experiment, "实验教学视频")):
        entry = up_to_county(course, tree)  # the school has no such list: the design is enough there
        with pytest.raises(ServiceError, match=f"推荐到上一级前须具备：{item}。") as refused:
            services.decide(tree.county_admin, entry.pk, "recommend")
        assert refused.value.errors[0]["rule"] == "resources"
    Resource.objects.create(period=design_only.periods.get(), slot_kind="video", file=make_file(tree.teacher, "mp4"),
                            status="pass")
    assert services.decide(tree.county_admin, entry_at(design_only, "county").pk, "recommend").state == "recommended"
