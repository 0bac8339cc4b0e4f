"""Fixtures of the review tests: the Zhanjiang 2024 campaign (open) on the ``tree`` units, catalog
nodes, submitted courses and their entries held by the county (赤坎区) at the county level, and a
county expert pool."""

from datetime import timedelta

import pytest
from django.utils import timezone

from courses.models import Course
from orgs.models import Role
from orgs.tests.factories import member
from review import services
from review.models import ExpertProfile
from selection import services as selection_services
from selection.models import Entry
from selection.tests.conftest import campaign, nodes  # noqa: F401  (the same campaign and catalog nodes)


@pytest.fixture
def county_entry(campaign, tree, nodes):
    """A submitted course of the county's school, recommended by the school: held by the county."""
    counter = iter(range(1, 1000))

    def make(node=None, category="subject", teacher=None, title=None):
        course = Course.objects.create(campaign=campaign, category=category, node=node or nodes[0],
                                       title=title or f"课程{next(counter)}", lead_teacher=teacher or tree.teacher,
                                       school=tree.school, periods_count=1, status="submitted")
        selection_services.enter(course.lead_teacher, course)
        school_entry = Entry.objects.get(course=course, level__kind="school")
        selection_services.decide(tree.school_admin, school_entry.pk, "recommend")
        return Entry.objects.get(course=course, level__kind="county")

    return make


@pytest.fixture
def pool(tree):
    """Three experts in the county's pool, working at the city (no conflict with county schools)."""
    experts = []
    for i in range(3):
        user = member(tree.county, Role.EXPERT, username=f"pool{i}", real_name=f"专家{i}", mobile=f"1390000000{i}")
        ExpertProfile.objects.create(user=user, work_unit=tree.city, subjects=["语文", "数学"],
                                     stages=["primary"], max_load=5)
        experts.append(user)
    return experts


@pytest.fixture
def window():
    now = timezone.now()
    return {"opens_at": now - timedelta(days=1), "closes_at": now + timedelta(days=3, hours=5)}


@pytest.fixture
def county_round(campaign, tree, nodes, county_entry, pool, window):
    county_entry(node=nodes[0], title="认识天地")
    county_entry(node=nodes[1], title="小小的船")
    return services.create_round(tree.county_admin, campaign, tree.county, title="赤坎区初选 · 学科课程",
                                 category="subject", phase="video", reviewers_per_entry=2, **window)


@pytest.fixture
def bearer():
    from api.models import ApiToken

    def issue(user):
        _, raw = ApiToken.issue(user, "t")
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    return issue


# --- publicity (公示) and objections ---
from courses.models import CourseMember  # noqa: E402
from review import publicity  # noqa: E402


@pytest.fixture
def results(tree, campaign, nodes, county_entry):  # noqa: F811
    """The county's results: 认识天地 recommended (a team with mobiles), 小小的船 declined but named
    the county's award, 秋天 declined (not published)."""
    a = county_entry(node=nodes[0], title="认识天地")
    b = county_entry(node=nodes[1], title="小小的船")
    c = county_entry(node=nodes[2], title="秋天")
    team = member(tree.school, Role.TEACHER, username="13900001111", real_name="", mobile="13900001111")
    named = member(tree.school, Role.TEACHER, username="li", real_name="李老师", mobile="13900002222")
    CourseMember.objects.create(course=a.course, user=team, order=1)
    CourseMember.objects.create(course=a.course, user=named, order=2)
    admin = tree.county_admin
    selection_services.decide(admin, a.pk, "recommend")
    selection_services.decide(admin, b.pk, "decline", reason="同类较多")
    selection_services.set_award(admin, b.pk, True)
    selection_services.decide(admin, c.pk, "decline", reason="不符合要求")
    return {"a": a, "b": b, "c": c}


@pytest.fixture
def pub(tree, campaign, results):  # noqa: F811
    return publicity.create(tree.county_admin, campaign, tree.county, note="如有异议请实名反映")
