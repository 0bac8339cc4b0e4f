"""Notifications in the REST API (/api/v1/notifications) and the one-click reminder of the
progress board. Thin: every endpoint calls notifications.services, the same functions the pages
use. Only your own notifications are visible: another user's answers 404."""

from __future__ import annotations

from datetime import datetime

from ninja import Query, Router, Schema

from campaigns import services as campaign_services
from jingpinke.paging import paginate
from jingpinke.paging_api import CURSOR_HELP, ListPageOut, page_out
from notifications import services
from notifications.models import Notification

router = Router(tags=["通知与提醒"])


class ErrorOut(Schema):
    detail: str
    errors: list = []


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class NotificationOut(Schema):
    id: int
    kind: str
    kind_label: str
    title: str
    body: str
    link: str
    campaign_id: int | None
    entry_id: int | None
    created_at: datetime
    read: bool
    read_at: datetime | None
    emailed_at: datetime | None


class NotificationPage(ListPageOut):
    unread: int
    items: list[NotificationOut]


class UnreadOut(Schema):
    unread: int


class ReadAllOut(Schema):
    marked: int
    unread: int


class RemindIn(Schema):
    campaign: int
    unit: int | None = None
    unit_ids: list[int] | None = None


class RemindedOut(Schema):
    unit_id: int
    unit_name: str
    recipients: int


class SkippedOut(Schema):
    unit_id: int
    unit_name: str
    reason: str


class RemindOut(Schema):
    unit_id: int
    unit_name: str
    message: str
    reminded: list[RemindedOut]
    skipped: list[SkippedOut]


def notification_out(n: Notification) -> dict:
    return {"id": n.pk, "kind": n.kind, "kind_label": n.get_kind_display(), "title": n.title, "body": n.body,
            "link": n.link, "campaign_id": n.campaign_id, "entry_id": n.entry_id, "created_at": n.created_at,
            "read": n.read, "read_at": n.read_at, "emailed_at": n.emailed_at}


@router.get("", response={200: NotificationPage, **ERRORS},
            summary="我的通知（未读在前，新的在前；unread=true 只看未读；分页，每页 20 条）")
def list_notifications(request, unread: bool = False, page: int = 1,
                       cursor: str = Query("", description=CURSOR_HELP)):
    p = paginate(services.list_for(request.user, unread=unread), services.PAGE_SIZE, page, cursor)
    return {**page_out(p, [notification_out(n) for n in p.object_list]), "unread": services.unread_count(request.user)}


@router.get("/unread-count", response=UnreadOut, summary="未读通知数（导航栏铃铛上的数字）")
def unread_count(request):
    return {"unread": services.unread_count(request.user)}


@router.post("/read-all", response=ReadAllOut, summary="全部标为已读")
def read_all(request):
    return {"marked": services.mark_all_read(request.user), "unread": 0}


@router.post("/remind", response={200: RemindOut, **ERRORS},
             summary="一键提醒未完成的下级单位（有待处理课程或汇总表未确认；每个单位 1 小时内只提醒一次）",
             description="unit: 提醒哪个单位的下级（须是您本人管理的县、市或省；缺省为您管理的最高一级单位）。"
                         "unit_ids: 只提醒这些下级单位（缺省为全部未完成的）。1 小时内提醒过的单位会跳过，"
                         "skipped 说明上次提醒的时间；一个单位也没能提醒时返回 400。")
def remind(request, payload: RemindIn):
    campaign = campaign_services.get_campaign(request.user, payload.campaign)
    result = services.remind_behind(request.user, campaign, payload.unit_ids, parent=payload.unit)
    return {"unit_id": result.parent.pk, "unit_name": result.parent.name, "message": result.message,
            "reminded": [{"unit_id": r.unit.pk, "unit_name": r.unit.name, "recipients": r.recipients}
                         for r in result.reminded],
            "skipped": [{"unit_id": s.unit.pk, "unit_name": s.unit.name, "reason": s.reason} for s in result.skipped]}


@router.get("/{notification_id}", response={200: NotificationOut, **ERRORS}, summary="一条通知")
def get_notification(request, notification_id: int):
    return notification_out(services.get_for(request.user, notification_id))


@router.post("/{notification_id}/read", response={200: NotificationOut, **ERRORS}, summary="标为已读")
def read(request, notification_id: int):
    return notification_out(services.mark_read(request.user, notification_id))
