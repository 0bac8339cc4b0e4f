"""The home page's content: who you are, what to do next and by when, the notices and contacts."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone

from orgs.models import ROLE_KEYS, Unit, UnitKind
from portal.rules import Step, next_steps


@dataclass
class CampaignHome:
    campaign: object
    steps: list[Step]
    deadlines: list  # effective deadlines per level (campaigns.services.deadlines_for)
    notices: list
    contacts: list
    owner_admin: bool


@dataclass
class Home:
    role: str
    role_label: str
    unit: Unit | None
    campaigns: list[CampaignHome] = field(default_factory=list)
    general_steps: list[Step] = field(default_factory=list)


def _deadline_facts(deadlines) -> dict:
    return {
        d.level.kind: {
            "deadline": d.deadline,
            "confirm_deadline": d.confirm_deadline,
            "contact_form_deadline": d.contact_form_deadline,
        }
        for d in deadlines
    }


def _contact_form(user, campaign, unit) -> dict:
    """The home page's contact-form step: does his unit file one here, by when; does he see all."""
    from contacts import services as contacts

    files = unit is not None and contacts.files(campaign, unit)
    return {"files": files, "deadline": contacts.deadline_of(campaign, unit) if files else None,
            "board": contacts.sees_board(user, campaign)}


def home_for(user, now=None) -> Home:
    from campaigns.services import campaigns_for, deadlines_for

    now = now or timezone.now()
    role, unit = user.primary_role()
    home = Home(role=role, role_label=str(ROLE_KEYS[role]), unit=unit)
    campaigns = list(
        campaigns_for(user).select_related("owner").prefetch_related("notices", "contacts")[:5]
    )
    for campaign in campaigns:
        owner_admin = user.is_superuser or user.administers(campaign.owner)
        deadlines = deadlines_for(campaign, unit) if unit is not None else []
        next_level = None
        if unit is not None and unit.kind == UnitKind.SCHOOL:
            next_level = unit.owner_kind
        steps = next_steps(role, _deadline_facts(deadlines), now, owner_admin=owner_admin, next_level=next_level,
                           contact_form=_contact_form(user, campaign, unit) if role.endswith("_admin") else None)
        home.campaigns.append(
            CampaignHome(
                campaign=campaign,
                steps=steps,
                deadlines=deadlines,
                notices=list(campaign.notices.all()),
                contacts=list(campaign.contacts.all()),
                owner_admin=owner_admin,
            )
        )
    if not campaigns:
        home.general_steps = next_steps(role, {}, now)
    return home
