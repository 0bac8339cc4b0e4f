"""Fixtures of the selection tests: the Zhanjiang 2024 campaign (open, deadlines 30 days ahead)
on the ``tree`` units, catalog nodes in three subjects, and a factory of submitted courses."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import services as campaign_services
from campaigns.enums import CampaignStatus
from catalog.models import CatalogNode, Textbook
from courses.models import Course
from selection import services


@pytest.fixture
def campaign(tree):
    campaign = campaign_services.create_from_shipped(tree.sysadmin, "zhanjiang-2024", tree.city,
                                                     status=CampaignStatus.OPEN)
    future = timezone.now() + timedelta(days=30)
    campaign.levels.update(deadline=future, confirm_deadline=future + timedelta(days=3),
                           contact_form_deadline=future)
    return campaign


@pytest.fixture
def nodes(db):
    def book(subject, grade, stage="primary"):
        return Textbook.objects.create(stage=stage, grade=grade, subject=subject, version="统编版", volume="上册")

    chinese, maths, physics = book("语文", "一年级"), book("数学", "一年级"), book("物理", "八年级", "junior")
    return [CatalogNode.objects.create(textbook=tb, title=f"第{i}课", label_path=f"第一单元 › 第{i}课", order=i,
                                       is_leaf=True)
            for tb in (chinese, maths, physics) for i in range(1, 4)]


@pytest.fixture
def make_course(campaign, tree, nodes):
    counter = iter(range(1, 1000))

    def make(category="subject", node=None, school=None, teacher=None, submit=True, title=None):
        course = Course.objects.create(campaign=campaign, category=category, node=node or nodes[0],
                                       title=title or f"课程{next(counter)}", lead_teacher=teacher or tree.teacher,
                                       school=school or tree.school, periods_count=1,
                                       status="submitted" if submit else "draft")
        if submit:
            services.enter(course.lead_teacher, course)
        return course

    return make


@pytest.fixture
def bearer():
    from api.models import ApiToken

    def issue(user):
        _, raw = ApiToken.issue(user, "t")
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    return issue
