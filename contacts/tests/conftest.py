"""Fixtures of the contact-form tests: the Zhanjiang 2024 campaign (open; every contact-form
deadline 30 days ahead) on the ``tree`` units, rows of people, and generated scans."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import services as campaign_services
from campaigns.enums import CampaignStatus


@pytest.fixture
def campaign(tree):
    campaign = campaign_services.create_from_shipped(tree.sysadmin, "zhanjiang-2024", tree.city,
                                                     status=CampaignStatus.OPEN)
    future = timezone.now() + timedelta(days=30)
    campaign.levels.update(deadline=future, confirm_deadline=future + timedelta(days=3))
    campaign.levels.filter(kind="county").update(contact_form_deadline=future)
    return campaign


@pytest.fixture
def rows():
    return [
        {"name": "黄志明", "position": "电教站站长", "mobile": "138 0013 8021", "categories": ["subject", "special"],
         "remark": "学科课程、特殊教育"},
        {"name": "陈丽娟", "position": "教研员", "mobile": "13800138022", "categories": ["experiment"], "remark": ""},
    ]


@pytest.fixture
def bearer():
    from api.models import ApiToken

    def issue(user):
        _, raw = ApiToken.issue(user, "t")
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    return issue
