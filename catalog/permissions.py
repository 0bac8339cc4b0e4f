"""Who may do what with the catalog (predicates of the ``rules`` library).

The catalog is shared by every campaign: anyone logged in reads it; system admins and
province/city admins maintain it. Opening nodes belongs to a campaign: the admins of its
owner unit (or a unit above it) and system admins.
"""

from __future__ import annotations

import rules

from orgs.models import UnitKind


@rules.predicate
def is_logged_in(user) -> bool:
    return bool(user and user.is_authenticated)


@rules.predicate
def is_catalog_admin(user) -> bool:
    if not (user and user.is_authenticated):
        return False
    if user.is_superuser:
        return True
    return any(u.kind in (UnitKind.PROVINCE, UnitKind.CITY) for u in user.admin_units())


@rules.predicate
def administers_campaign_owner(user, campaign) -> bool:
    if not (user and user.is_authenticated) or campaign is None:
        return False
    return user.administers(campaign.owner)


rules.add_perm("catalog.view", is_logged_in)
rules.add_perm("catalog.import", is_catalog_admin)
rules.add_perm("catalog.manage_open_nodes", administers_campaign_owner)


def campaigns_visible_to(user):
    """Campaigns a user may see: the campaigns app decides (drafts only for their owners)."""
    from campaigns.services import campaigns_for

    return campaigns_for(user)
