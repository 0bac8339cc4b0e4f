"""Fixtures for the campaigns tests: the two shipped 2024 campaigns on the ``tree`` units."""

import pytest

from campaigns import services
from campaigns.enums import CampaignStatus


@pytest.fixture
def zhanjiang(tree):
    """Zhanjiang 2024, open, owned by 湛江市 (from the shipped template)."""
    return services.create_from_shipped(tree.sysadmin, "zhanjiang-2024", tree.city, status=CampaignStatus.OPEN)


@pytest.fixture
def guangdong(tree):
    """Guangdong 2024, open, owned by 广东省."""
    return services.create_from_shipped(tree.sysadmin, "guangdong-2024", tree.province, status=CampaignStatus.OPEN)


@pytest.fixture
def maoming(tree):
    """Another city's campaign (茂名市), open."""
    return services.create_from_shipped(tree.sysadmin, "zhanjiang-2024", tree.other_city,
                                        title="2024年茂名市基础教育精品课遴选", status=CampaignStatus.OPEN)


@pytest.fixture
def bearer():
    from api.models import ApiToken

    def issue(user):
        _, raw = ApiToken.issue(user, "t")
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    return issue
