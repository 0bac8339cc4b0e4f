"""Who may do what with campaigns (predicates of the ``rules`` library).

Scope is enforced twice: querysets start from ``services.campaigns_for(user)`` (and
``Unit.objects.visible_to(user)`` for units), object checks go through these predicates.

- a campaign concerns a user when its owner is one of his units or above one, or lies in a
  unit he administers; drafts only concern the owner's admins (and those above);
- its settings belong to the owner's admins (and those above) and system admins;
- a unit's deadline or quota at a level is set from above (see rules.may_set_for_level).
"""

from __future__ import annotations

from dataclasses import dataclass

import rules

from campaigns import rules as campaign_rules
from campaigns.enums import CampaignStatus
from orgs.models import UnitKind

OWNER_KINDS = (UnitKind.CITY, UnitKind.PROVINCE)


@dataclass(frozen=True)
class UnitSetting:
    """The object of a per-unit setting: a unit's deadline or quota at one level of a campaign."""

    campaign: object
    level_kind: str
    unit: object


def _logged_in(user) -> bool:
    return bool(user and user.is_authenticated)


@rules.predicate
def administers_owner(user, campaign) -> bool:
    if not _logged_in(user) or campaign is None:
        return False
    return user.administers(campaign.owner)


@rules.predicate
def concerns_user(user, campaign) -> bool:
    if not _logged_in(user) or campaign is None:
        return False
    if user.administers(campaign.owner):
        return True
    if campaign.status == CampaignStatus.DRAFT:
        return False
    return any(m.unit.is_within(campaign.owner) for m in user.memberships_cached())


@rules.predicate
def is_unit_admin(user) -> bool:
    return _logged_in(user) and (user.is_superuser or bool(user.admin_units()))


@rules.predicate
def may_create_campaigns(user) -> bool:
    return _logged_in(user) and (user.is_superuser or any(u.kind in OWNER_KINDS for u in user.admin_units()))


@rules.predicate
def sets_unit_setting(user, target: UnitSetting) -> bool:
    """The target unit lies in the campaign and under one of the user's admin units that
    acts at a higher level than the setting's level."""
    if not _logged_in(user) or target is None:
        return False
    if not target.unit.is_within(target.campaign.owner):
        return False
    kinds = [u.kind for u in user.admin_units() if target.unit.is_within(u)]
    return campaign_rules.may_set_for_level(target.level_kind, kinds, is_sysadmin=user.is_superuser)


rules.add_perm("campaigns.view_campaign", concerns_user)
rules.add_perm("campaigns.change_campaign", administers_owner)
rules.add_perm("campaigns.export_campaign", administers_owner)
rules.add_perm("campaigns.create_campaign", may_create_campaigns)
# Opening the per-unit pages (deadline overrides, unit quotas): any admin the campaign concerns.
rules.add_perm("campaigns.manage_unit_settings", concerns_user & is_unit_admin)
rules.add_perm("campaigns.set_unit_setting", sets_unit_setting)
rules.add_perm("campaigns.view_notice", concerns_user)
