"""Many admins of one county recommending at the same moment against one quota (PostgreSQL)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from campaigns import services as campaign_services
from campaigns.enums import CampaignStatus
from catalog.models import CatalogNode, Textbook
from courses.models import Course
from jingpinke.errors import ServiceError
from selection import services
from selection.models import Entry, UnitLevel

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_recommendations_never_overrun_the_quota(tree):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks across connections); run by make test-postgres")
    campaign = campaign_services.create_from_shipped(tree.sysadmin, "zhanjiang-2024", tree.city,
                                                     status=CampaignStatus.OPEN)
    campaign.levels.update(deadline=timezone.now() + timedelta(days=30))
    campaign_services.set_quota_override(tree.city_admin, campaign, level_kind="county", unit=tree.county,
                                         category="experiment", limit=3)
    book = Textbook.objects.create(stage="junior", grade="八年级", subject="物理", version="人教版", volume="上册")
    entries = []
    for i in range(12):
        node = CatalogNode.objects.create(textbook=book, title=f"实验{i}", order=i, is_leaf=True)
        course = Course.objects.create(campaign=campaign, category="experiment", node=node, title=f"实验课{i}",
                                       lead_teacher=tree.teacher, school=tree.school, status="submitted")
        services.enter(tree.teacher, course)
        services.decide(tree.school_admin, Entry.objects.get(course=course, level__kind="school").pk, "recommend")
        entries.append(Entry.objects.get(course=course, level__kind="county").pk)

    # The county's row exists from its earlier work: the lock, not the row's creation, must serialize.
    UnitLevel.objects.get_or_create(campaign=campaign, level=campaign.levels.get(kind="county"), unit=tree.county)
    barrier = threading.Barrier(len(entries))
    outcomes = []

    def recommend(pk):
        try:
            barrier.wait()
            services.decide(tree.county_admin, pk, "recommend")
            outcomes.append("ok")
        except ServiceError as exc:
            outcomes.append(exc.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=recommend, args=(pk,)) for pk in entries]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 3
    assert all("实验教学 已推荐 3/3" in o for o in outcomes if o != "ok")
    assert Entry.objects.filter(level__kind="county", unit=tree.county, state="recommended").count() == 3
    assert Entry.objects.filter(level__kind="city").count() == 3


def test_a_confirmation_racing_recommendations_from_below_leaves_none_behind(tree):
    """The county confirms while its school recommends course after course: every recommendation
    lands before the confirmation (which then refuses, seeing it pending) or is refused after it;
    never a pending course at a confirmed county."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks across connections); run by make test-postgres")
    campaign = campaign_services.create_from_shipped(tree.sysadmin, "zhanjiang-2024", tree.city,
                                                     status=CampaignStatus.OPEN)
    future = timezone.now() + timedelta(days=30)
    campaign.levels.update(deadline=future, confirm_deadline=future)
    book = Textbook.objects.create(stage="junior", grade="八年级", subject="物理", version="人教版", volume="下册")
    school_entries = []
    for i in range(8):
        node = CatalogNode.objects.create(textbook=book, title=f"实验{i}", order=i, is_leaf=True)
        course = Course.objects.create(campaign=campaign, category="experiment", node=node, title=f"实验课{i}",
                                       lead_teacher=tree.teacher, school=tree.school, status="submitted")
        services.enter(tree.teacher, course)
        school_entries.append(Entry.objects.get(course=course, level__kind="school").pk)
    county = campaign.levels.get(kind="county")
    UnitLevel.objects.get_or_create(campaign=campaign, level=county, unit=tree.county)
    barrier = threading.Barrier(len(school_entries) + 1)
    outcomes = {"recommended": 0, "refused": [], "confirmed": None}

    def recommend(pk):
        try:
            barrier.wait()
            services.decide(tree.school_admin, pk, "recommend")
            outcomes["recommended"] += 1
        except ServiceError as exc:
            outcomes["refused"].append(exc.message)
        finally:
            connections.close_all()

    def confirm():
        try:
            barrier.wait()
            services.confirm(tree.county_admin, campaign, "county", tree.county)
            outcomes["confirmed"] = True
        except ServiceError as exc:
            outcomes["confirmed"] = exc.message
        finally:
            connections.close_all()

    threads = [threading.Thread(target=recommend, args=(pk,)) for pk in school_entries]
    threads.append(threading.Thread(target=confirm))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    confirmed = UnitLevel.objects.get(level=county, unit=tree.county).confirmed
    pending = Entry.objects.filter(level=county, unit=tree.county, state="pending").count()
    arrived = Entry.objects.filter(level=county, unit=tree.county).count()
    assert set(outcomes["refused"]) <= {"赤坎区 已确认推荐汇总表，无法再接收推荐；请联系该单位。"}
    assert outcomes["recommended"] + len(outcomes["refused"]) == len(school_entries)
    assert arrived == outcomes["recommended"]
    if confirmed:
        assert (outcomes["confirmed"], pending) == (True, 0)
    else:
        assert outcomes["confirmed"] == "还有待处理的课程。请先逐一推荐、未推荐或退回，再确认汇总表。"
        assert (pending, outcomes["refused"]) == (len(school_entries), [])
