"""The home page's content: who you are, what to do next and by when, the notices and contacts."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Case, IntegerField, When
from django.utils import timezone

from campaigns.enums import CampaignStatus
from orgs.models import ROLE_KEYS, Unit, UnitKind
from portal.rules import ADMIN_LEVEL, Step, next_steps, no_campaign_steps


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


def _year_of_interest(campaigns, today) -> int:
    """The campaign year the home page speaks of: the latest year of a campaign still running
    (the demo keeps 2024 running), else the current year."""
    running = [c.year for c in campaigns if c.status != CampaignStatus.CLOSED]
    return max(running, default=today.year)


def _template_for(unit: Unit | None) -> dict | None:
    """The shipped campaign template a province's or city's own campaign starts from (Guangdong
    for a province, Zhanjiang for a city), the newest first."""
    from campaigns.services import shipped_templates

    kind = unit.kind if unit is not None else UnitKind.PROVINCE
    fitting = sorted((t for t in shipped_templates() if t.owner_kind == kind), key=lambda t: -t.year)
    return {"key": fitting[0].key, "title": fitting[0].title, "year": fitting[0].year} if fitting else None


def home_for(user, now=None) -> Home:
    from campaigns.services import campaigns_for, deadlines_for

    now = now or timezone.now()
    role, unit = user.primary_role()
    home = Home(role=role, role_label=str(ROLE_KEYS[role]), unit=unit)
    qs = campaigns_for(user).select_related("owner").prefetch_related("notices", "contacts")
    if unit is not None:
        # His own unit's campaigns first (a province admin: the province campaign of the year).
        qs = qs.annotate(own=Case(When(owner=unit, then=0), default=1, output_field=IntegerField()))
        qs = qs.order_by("own", "-year", "title")
    campaigns = list(qs[:5])
    for campaign in campaigns:
        owner_admin = user.is_superuser or user.administers(campaign.owner)
        defaults = deadlines_for(campaign, None)
        levels = [d.level.kind for d in defaults]
        path = deadlines_for(campaign, unit) if unit is not None else []
        next_level = None
        if unit is not None and unit.kind == UnitKind.SCHOOL:
            next_level = unit.owner_kind
        steps = next_steps(role, _deadline_facts(path), now, owner_admin=owner_admin, next_level=next_level,
                           contact_form=_contact_form(user, campaign, unit) if role.endswith("_admin") else None,
                           levels=levels, all_levels=_deadline_facts(defaults),
                           unit_kind=unit.kind if unit is not None else None, owner_name=campaign.owner.name,
                           campaign_id=campaign.pk)
        # The table of dates: his own path's, unless he runs the campaign (or his level is not part
        # of it, or he is the system admin): then every level's.
        own_level = ADMIN_LEVEL.get(role) or (unit.kind if unit is not None else None)
        table = path if path and not owner_admin and own_level in levels else defaults
        home.campaigns.append(
            CampaignHome(
                campaign=campaign,
                steps=steps,
                deadlines=table,
                notices=list(campaign.notices.all()),
                contacts=list(campaign.contacts.all()),
                owner_admin=owner_admin,
            )
        )
    year = _year_of_interest(campaigns, timezone.localdate(now))
    may_create = user.has_perm("campaigns.create_campaign")
    if role in ("province_admin", "city_admin"):
        if not any(c.owner_id == unit.pk and c.year == year for c in campaigns):
            home.general_steps = no_campaign_steps(role, unit_name=unit.name, year=year, template=_template_for(unit),
                                                   may_create=may_create, owner_id=unit.pk)
    elif not campaigns:
        home.general_steps = no_campaign_steps(role, year=year, template=None, may_create=False)
    return home
