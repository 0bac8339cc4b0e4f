"""Demo campaign: the Zhanjiang 2024 campaign, created from its shipped template."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns import services
from campaigns.enums import CampaignStatus
from campaigns.models import Campaign, DeadlineOverride, Level
from orgs.models import User

DEMO_TEMPLATE = "zhanjiang-2024"


# The demo's first deadline lies this many days after the day it is loaded.
DEMO_LEAD_DAYS = 14
DEADLINE_FIELDS = ("deadline", "confirm_deadline", "contact_form_deadline")


@transaction.atomic
def load(province, city, *, today: datetime.date | None = None) -> Campaign:
    """Create (once) the Zhanjiang 2024 campaign, open, owned by ``city``.

    The notices' deadlines (7-30, 8-26, 9-20, 9-27, 9-30 of 2024) have passed, and a demo in
    which everything is overdue shows nothing. So the demo keeps their order and the days between
    them but moves them all by whole days, the earliest to ``DEMO_LEAD_DAYS`` days after
    ``today``; the campaign's description says so. The shipped template keeps the real dates.

    ``province`` is accepted for the demo loader's signature; the Guangdong template stays a
    template (a province admin creates it from the page when he wants it)."""
    doc = services.shipped_template_doc(DEMO_TEMPLATE)
    existing = Campaign.objects.filter(owner=city, year=doc["year"], title=doc["title"]).first()
    if existing is not None:
        return existing
    actor = User.objects.filter(is_superuser=True).order_by("pk").first() or _SystemActor()
    campaign = services.import_template(actor, doc, city, status=CampaignStatus.OPEN)
    shift_deadlines(campaign, today or timezone.localdate())
    return campaign


def shift_deadlines(campaign: Campaign, today: datetime.date) -> int:
    """Move every deadline of ``campaign`` by the same number of whole days so that the earliest
    falls ``DEMO_LEAD_DAYS`` after ``today``. Returns the shift in days."""
    levels = list(Level.objects.filter(campaign=campaign))
    overrides = list(DeadlineOverride.objects.filter(level__campaign=campaign))
    rows = levels + overrides
    moments = [getattr(r, f) for r in rows for f in DEADLINE_FIELDS if getattr(r, f)]
    if not moments:
        return 0
    earliest = min(timezone.localtime(m).date() for m in moments)
    days = (today + datetime.timedelta(days=DEMO_LEAD_DAYS) - earliest).days
    if days <= 0:
        return 0
    delta = datetime.timedelta(days=days)
    for row in rows:
        changed = [f for f in DEADLINE_FIELDS if getattr(row, f)]
        for f in changed:
            setattr(row, f, getattr(row, f) + delta)
        row.save(update_fields=changed)
    note = _("（演示数据：为便于体验完整流程，各截止时间已整体顺延 %(days)d 天，先后顺序和间隔与通知一致。）") % {
        "days": days}
    campaign.description = (campaign.description + "\n\n" + note).strip()
    campaign.save(update_fields=["description"])
    return days


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
