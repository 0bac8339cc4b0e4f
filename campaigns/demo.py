"""Demo campaign: the Zhanjiang 2024 campaign, created from its shipped template."""

from __future__ import annotations

from django.db import transaction

from campaigns import services
from campaigns.enums import CampaignStatus
from campaigns.models import Campaign
from orgs.models import User

DEMO_TEMPLATE = "zhanjiang-2024"


@transaction.atomic
def load(province, city) -> Campaign:
    """Create (once) the Zhanjiang 2024 campaign, open, owned by ``city``.

    ``province`` is accepted for the demo loader's signature; the Guangdong template stays a
    template (a province admin creates it from the page when he wants it)."""
    doc = services.shipped_template_doc(DEMO_TEMPLATE)
    existing = Campaign.objects.filter(owner=city, year=doc["year"], title=doc["title"]).first()
    if existing is not None:
        return existing
    actor = User.objects.filter(is_superuser=True).order_by("pk").first() or _SystemActor()
    return services.import_template(actor, doc, city, status=CampaignStatus.OPEN)


class _SystemActor:
    """Stands in for a system admin when the demo has no superuser yet."""

    pk = None
    is_superuser = True
    is_authenticated = True
    display_name = "演示数据"

    def has_perm(self, perm, obj=None):
        return True

    def administers(self, unit):
        return True

    def __str__(self):
        return self.display_name
