"""Who may do what with the catalog (predicates of the ``rules`` library).

The catalog is shared by every campaign: anyone logged in reads it; system admins and
province/city admins maintain it. Opening nodes belongs to a campaign: the admins of its
owner unit (or a unit above it) and system admins.
"""

from __future__ import annotations

import rules
from django.db.models import Q

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
    """Campaigns a user may see: those run by a unit above (or at) any of his units, and,
    for admins, those run by units in their subtree. System admins see all."""
    from campaigns.models import Campaign

    if not (user and user.is_authenticated):
        return Campaign.objects.none()
    if user.is_superuser:
        return Campaign.objects.all()
    units = [m.unit for m in user.memberships_cached()]
    ancestor_ids = {pk for unit in units for pk in unit.ancestor_ids}
    if not ancestor_ids:
        return Campaign.objects.none()
    q = Q(owner_id__in=ancestor_ids)
    for unit in user.admin_units():
        q |= Q(owner__path__startswith=unit.path)
    return Campaign.objects.filter(q)
