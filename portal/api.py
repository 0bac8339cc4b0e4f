"""The home page and the guides, for scripts and apps."""

from __future__ import annotations

from datetime import datetime

from django.http import Http404
from django.utils import timezone
from ninja import Router, Schema

from orgs.models import ROLE_KEYS
from portal.help import HELP
from portal.services import home_for

router = Router(tags=["首页与帮助"])


class StepOut(Schema):
    key: str
    text: str
    due: datetime | None
    overdue: bool
    seconds_left: int | None


class DeadlineOut(Schema):
    level: str
    level_name: str
    deadline: datetime | None
    contact_form_deadline: datetime | None
    confirm_deadline: datetime | None
    deadline_source: str | None


class ContactOut(Schema):
    category: str
    unit_name: str
    name: str
    phone: str


class NoticeOut(Schema):
    id: int
    title: str
    issuer: str
    published_on: str | None


class CampaignHomeOut(Schema):
    id: int
    title: str
    year: int
    status: str
    steps: list[StepOut]
    deadlines: list[DeadlineOut]
    notices: list[NoticeOut]
    contacts: list[ContactOut]


class HomeOut(Schema):
    role: str
    role_label: str
    unit_id: int | None
    unit_name: str | None
    campaigns: list[CampaignHomeOut]
    steps: list[StepOut]


def _step(step, now):
    return {
        "key": step.key,
        "text": step.text,
        "due": step.due,
        "overdue": step.is_overdue(now),
        "seconds_left": int((step.due - now).total_seconds()) if step.due else None,
    }


@router.get("/home", response=HomeOut, summary="首页：我的角色、接下来要做的事与截止时间、通知和联系人")
def home(request):
    now = timezone.now()
    h = home_for(request.user, now)
    return {
        "role": h.role,
        "role_label": h.role_label,
        "unit_id": h.unit.pk if h.unit else None,
        "unit_name": h.unit.name if h.unit else None,
        "steps": [_step(s, now) for s in h.general_steps],
        "campaigns": [
            {
                "id": c.campaign.pk,
                "title": c.campaign.title,
                "year": c.campaign.year,
                "status": c.campaign.status,
                "steps": [_step(s, now) for s in c.steps],
                "deadlines": [
                    {
                        "level": d.level.kind,
                        "level_name": d.level.name,
                        "deadline": d.deadline,
                        "contact_form_deadline": d.contact_form_deadline,
                        "confirm_deadline": d.confirm_deadline,
                        "deadline_source": d.deadline_source.name if d.deadline_source else None,
                    }
                    for d in c.deadlines
                ],
                "notices": [
                    {"id": n.pk, "title": n.title, "issuer": n.issuer,
                     "published_on": n.published_on.isoformat() if n.published_on else None}
                    for n in c.notices
                ],
                "contacts": [
                    {"category": ct.category, "unit_name": ct.unit_name, "name": ct.name, "phone": ct.phone}
                    for ct in c.contacts
                ],
            }
            for c in h.campaigns
        ],
    }


class GuideStepOut(Schema):
    title: str
    body: str


class GuideOut(Schema):
    role: str
    role_label: str
    summary: str
    steps: list[GuideStepOut]


def _guide(role):
    guide = HELP[role]
    return {
        "role": role,
        "role_label": str(ROLE_KEYS[role]),
        "summary": str(guide["summary"]),
        "steps": [{"title": str(t), "body": str(b)} for t, b in guide["steps"]],
    }


@router.get("/help", response=list[GuideOut], auth=None, summary="各角色的使用指南")
def help_list(request):
    return [_guide(role) for role in HELP]


@router.get("/help/{role}", response=GuideOut, auth=None, summary="某个角色的使用指南")
def help_role(request, role: str):
    if role not in HELP:
        raise Http404
    return _guide(role)
