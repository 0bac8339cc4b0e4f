"""The selection workflow in the REST API: the entries a unit holds, its decisions on them, its
standing at its level (quotas, live share caps, target guidance, deadline, confirmation), the
summary table and the resource package (ZIP), the progress board of the level above, and the
history of a unit (its decisions and unit-level events, filtered, as Excel too).

Thin: every endpoint calls selection.services, the same functions the pages use. Scope: an entry
or a unit outside the units you administer answers 404; a decision you may not take answers 403;
a refused decision answers 400 with {"detail": "<why, in Chinese>", "errors": [{"rule": …}]}
(``needs_reason: true`` when the node rule asks for a written reason: send ``node_reason``).
Times are ISO 8601; a date alone ("2024-09-20") means 23:59:59 Beijing time of that day.
"""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import BaseModel

from campaigns import services as campaign_services
from catalog import rules as catalog_rules
from jingpinke.paging import paginate
from jingpinke.paging_api import CURSOR_HELP, ListPageOut, page_out
from orgs.models import Unit, User
from selection import archive, exports, rules, services
from selection.models import Entry, EntryState

router = Router(tags=["推荐遴选"])


# --- schemas ---------------------------------------------------------------------------------------
class ErrorOut(Schema):
    detail: str
    errors: list = []


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class PlainOut(BaseModel):
    """An output schema read from dicts only (never from model instances): plain pydantic,
    without ninja ``Schema``'s wrapper that reads each object through a ``DjangoGetter``; the
    progress board validates six of these per child unit, and a county has hundreds; a page of
    entries 31 per entry, which took a sixth of the list's CPU through the wrapper."""


class TextbookOut(PlainOut):
    stage: str
    stage_label: str
    grade: str
    subject: str
    version: str
    volume: str
    label: str


class EntryOut(PlainOut):
    id: int
    course_id: int
    title: str
    campaign_id: int
    category: str
    category_label: str
    level: str
    level_name: str
    award_name: str
    unit_id: int
    unit_name: str
    from_unit_id: int | None
    from_unit_name: str
    school_id: int
    school_name: str
    county_name: str
    lead_teacher: str
    textbook: TextbookOut
    node_id: int
    node_path: str
    state: str
    state_label: str
    rank: int | None
    reason: str
    node_reason: str
    awarded: bool
    compliance: str
    compliance_label: str
    arrived_at: datetime
    decided_at: datetime | None
    can_decide: bool


class EntryPage(ListPageOut):
    items: list[EntryOut]


class EventOut(PlainOut):
    id: int
    at: datetime
    actor: str
    action: str
    action_label: str
    unit_name: str = Field("", description="操作所属的单位（课程所经各级单位之一）")
    unit_event: bool = Field(False, description="单位层面的操作（确认、解锁汇总表，重新开放，截止时间调整），而非对本课程的操作")
    details: str = Field("", description="单位层面操作的内容，如新的截止时间")
    reason: str
    before: dict | list | None
    after: dict | list | None


class UnitEventOut(Schema):
    id: int
    at: datetime
    actor: str
    actor_id: int | None
    action: str
    action_label: str
    target: str
    details: str
    reason: str
    before: dict | list | None
    after: dict | list | None


class UnitHistoryPage(ListPageOut):
    campaign_id: int
    unit_id: int
    unit_name: str
    items: list[UnitEventOut]


class StepOut(PlainOut):
    entry_id: int
    level: str
    level_name: str
    unit_id: int
    unit_name: str
    state: str
    state_label: str
    rank: int | None
    awarded: bool
    award_name: str


class EntryDetailOut(EntryOut):
    members: list[str]
    chain: list[StepOut]
    history: list[EventOut] = Field(description=f"最新的 {services.HISTORY_SHOWN} 条操作记录，按时间先后排列（最早的在前）")
    history_total: int = Field(description="您可以看到的操作记录总条数")
    history_more: bool = Field(description="还有更早的操作记录，不在 history 中：用 history_url 分页查看全部")
    history_url: str = Field(description="全部操作记录（分页，最新在前）")


class EntryHistoryPage(PlainOut):
    entry_id: int
    course_id: int
    total: int = Field(description="您可以看到的操作记录总条数")
    start: int = Field(description="本页之前（比本页更新）的记录条数；第一页为 0")
    next: str | None = Field(description="下一页（更早的记录）的游标（?cursor=…）；没有更早的记录时为 null")
    items: list[EventOut] = Field(description="最新的在前")


class DecisionIn(Schema):
    reason: str = ""
    node_reason: str = ""
    rank: int | None = None


class ReasonIn(Schema):
    reason: str


class ReopenIn(Schema):
    deadline: str
    reason: str


class QuotaUseOut(PlainOut):
    category: str
    category_label: str
    subject: str
    used: int
    limit: int | None
    full: bool
    text: str


class CapOut(Schema):
    category: str
    subjects: list[str]
    max_percent: int
    applies_to: str
    inside: int
    total: int
    percent: float
    ok: bool
    text: str


class TargetOut(Schema):
    category: str
    subjects: list[str]
    min_percent: int | None
    inside: int
    total: int
    met: bool | None
    text: str


class ShareBoardOut(Schema):
    quotas: list[QuotaUseOut]
    caps: list[CapOut]
    targets: list[TargetOut]


class CountsOut(PlainOut):
    pending: int
    returned: int
    recommended: int
    declined: int
    awarded: int


class StandingOut(Schema):
    campaign_id: int
    unit_id: int
    unit_name: str
    unit_kind: str
    level: str
    level_name: str
    award_name: str
    deadline: datetime | None
    deadline_source: str
    confirm_deadline: datetime | None
    seconds_left: int | None
    time_left_text: str
    open: bool
    confirmed: bool
    confirmed_at: datetime | None
    confirmed_by: str
    unlock_reason: str
    counts: CountsOut
    node_conflicts: int
    board: ShareBoardOut
    can_confirm: bool
    can_unlock: bool
    can_reopen: bool
    summary_url: str


class ChildOut(PlainOut):
    unit_id: int
    unit_name: str
    unit_kind: str
    level: str
    level_name: str
    quotas: list[QuotaUseOut]
    counts: CountsOut
    node_conflicts: int
    confirmed: bool
    confirmed_at: datetime | None
    deadline: datetime | None
    confirm_deadline: datetime | None
    seconds_left: int | None
    time_left_text: str
    behind: bool
    contact_required: bool
    contact_filed: bool
    contact_filed_at: datetime | None


class ProgressOut(PlainOut):
    campaign_id: int
    unit_id: int
    unit_name: str
    children: list[ChildOut]


class ReopenOut(Schema):
    unit_id: int
    level: str
    deadline: datetime
    reason: str


# --- builders -------------------------------------------------------------------------------------
class Shown:
    """What the rows of one answer share, each worked out once: the labels of a state, a category
    or a check result, a textbook's labels, and whether the user may decide at a unit (a page of 30
    entries holds a few of each)."""

    def __init__(self, user):
        self.user = user
        self.memo: dict = {}

    def once(self, key, make, *args):
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = make(*args)
        return found


def _textbook_out(row: services.EntryRow) -> dict:
    """The textbook's columns and labels as ``catalog.models.Textbook`` shows them (``stage_label``, ``label``)."""
    stage, system = row["textbook_stage"], row["textbook_school_system"]
    title = row["textbook_title"] or catalog_rules.textbook_title(
        row["textbook_version"], row["textbook_subject"], row["textbook_grade"], row["textbook_volume"])
    return {"stage": stage, "stage_label": catalog_rules.stage_label(stage, system), "grade": row["textbook_grade"],
            "subject": row["textbook_subject"], "version": row["textbook_version"], "volume": row["textbook_volume"],
            "label": title + catalog_rules.textbook_suffix(stage, system, row["textbook_edition"])}


def _county_name(row: services.EntryRow) -> str:
    """``services.county_of`` the course's school: its county's name; else what owns it."""
    if row["school_parent_kind"] == "county":
        return row["school_parent_name"]
    parent = (Unit(pk=row["school_parent_id"], name=row["school_parent_name"], kind=row["school_parent_kind"])
              if row["school_parent_id"] else None)
    return services.county_of(Unit(pk=row["school_id"], name=row["school_name"], kind=row["school_kind"],
                                   parent=parent))


def _teacher_name(row: services.EntryRow) -> str:
    """The lead teacher's ``User.display_name``: the real name, else as the user model composes it."""
    return row["teacher_real_name"] or User(
        real_name=row["teacher_real_name"], first_name=row["teacher_first_name"], last_name=row["teacher_last_name"],
        username=row["teacher_username"]).display_name


def _may_decide(user, unit_id: int, unit_path: str) -> bool:
    # selection.decide_entry judges the unit holding the entry and nothing else of it
    # (permissions.decides_entry): asked of a stand-in holding that unit, not of a model instance.
    return user.has_perm("selection.decide_entry", SimpleNamespace(unit=Unit(pk=unit_id, path=unit_path)))


def _state_label(state: str) -> str:
    return str(EntryState(state).label)


def _compliance_label(compliance: str) -> str:
    return str(rules.COMPLIANCE_LABELS[compliance])


def entry_out(row: services.EntryRow, shown: Shown) -> dict:
    """An entry of a list or a detail, from its row (``services.EntryRow``)."""
    once = shown.once
    state, compliance, category, unit_id = row["state"], row["compliance"], row["category"], row["unit_id"]
    return {
        "id": row["id"], "course_id": row["course_id"], "title": row["title"], "campaign_id": row["campaign_id"],
        "category": category, "category_label": once(("category", category), rules.category_label, category),
        "level": row["level"], "level_name": row["level_name"], "award_name": row["award_name"],
        "unit_id": unit_id, "unit_name": row["unit_name"], "from_unit_id": row["from_unit_id"],
        "from_unit_name": row["from_unit_name"] if row["from_unit_id"] else "",
        "school_id": row["school_id"], "school_name": row["school_name"], "county_name": _county_name(row),
        "lead_teacher": _teacher_name(row), "textbook": once(("textbook", row["textbook_id"]), _textbook_out, row),
        "node_id": row["node_id"], "node_path": row["node_label_path"] or row["node_title"],
        "state": state, "state_label": once(("state", state), _state_label, state),
        "rank": row["rank"], "reason": row["reason"], "node_reason": row["node_reason"], "awarded": row["awarded"],
        "compliance": compliance, "compliance_label": once(("compliance", compliance), _compliance_label, compliance),
        "arrived_at": row["arrived_at"], "decided_at": row["decided_at"],
        "can_decide": once(("decide", unit_id), _may_decide, shown.user, unit_id, row["unit_path"]),
    }


def events_out(events: list[services.TimelineEvent]) -> list[dict]:
    labels: dict[str, str] = {}  # a timeline holds a few actions many times: each label translated once
    return [{"id": ev.id, "at": ev.at, "actor": ev.actor_name, "action": ev.action,
             "action_label": labels.get(ev.action) or labels.setdefault(ev.action, services.action_label(ev.action)),
             "unit_name": ev.unit_name, "unit_event": ev.unit_event, "details": ev.details, "reason": ev.reason,
             "before": ev.before, "after": ev.after} for ev in events]


def history_url(entry_id: int) -> str:
    return f"/api/v1/selection/entries/{entry_id}/history"


def detail_out(entry: Entry, user) -> dict:
    """An entry's detail, also the answer of every decision: its newest ``services.HISTORY_SHOWN``
    events (oldest first, as the page shows them), their total and where the others are, so that
    the answer does not grow with the course's history."""
    steps = services.chain(entry)
    shown = services.timeline(entry, user, steps=steps)
    return {
        **entry_out(services.entry_row(entry), Shown(user)), "members": services.members(entry),
        "chain": [{"entry_id": e.pk, "level": e.level.kind, "level_name": e.level.name, "unit_id": e.unit_id,
                   "unit_name": e.unit.name, "state": e.state, "state_label": str(EntryState(e.state).label),
                   "rank": e.rank, "awarded": e.awarded, "award_name": e.level.award_name}
                  for e in steps],
        "history": events_out(shown.events[::-1]), "history_total": shown.total, "history_more": shown.more,
        "history_url": history_url(entry.pk),
    }


STATES = tuple(EntryState.values)  # (the enum builds the list anew at each access: once per board row)


def counts_out(held: services.Held) -> dict:
    return {state: held.count(state) for state in STATES} | {"awarded": len(held.awarded)}


def quota_out(q: rules.QuotaUse) -> dict:
    return {"category": q.category, "category_label": rules.category_label(q.category), "subject": q.subject,
            "used": q.used, "limit": q.limit, "full": q.full, "text": q.text()}


def board_out(st: services.Standing) -> dict:
    return {
        "quotas": [quota_out(q) for q in st.quotas],
        "caps": [{"category": s.cap.category, "subjects": list(s.cap.subjects), "max_percent": s.cap.max_percent,
                  "applies_to": applies, "inside": s.inside, "total": s.total, "percent": round(s.percent, 1),
                  "ok": s.ok, "text": s.text()} for s, applies in st.caps],
        "targets": [{"category": g.target.category, "subjects": list(g.target.subjects),
                     "min_percent": g.target.min_percent, "inside": g.inside, "total": g.total, "met": g.met,
                     "text": g.text()} for g in st.targets],
    }


def standing_out(st: services.Standing, user) -> dict:
    ul = st.unit_level
    return {
        "campaign_id": st.campaign.pk, "unit_id": st.unit.pk, "unit_name": st.unit.name, "unit_kind": st.unit.kind,
        "level": st.level.kind, "level_name": st.level.name, "award_name": st.level.award_name,
        "deadline": st.deadline, "deadline_source": st.deadline_source, "confirm_deadline": st.confirm_deadline,
        "seconds_left": st.seconds_left, "time_left_text": st.time_left_text, "open": st.open,
        "confirmed": st.confirmed, "confirmed_at": ul.confirmed_at if ul else None,
        "confirmed_by": ul.confirmed_by.display_name if ul and ul.confirmed_by_id else "",
        "unlock_reason": ul.unlock_reason if ul else "", "counts": counts_out(st.held),
        "node_conflicts": st.node_conflicts, "board": board_out(st),
        "can_confirm": user.has_perm("selection.confirm_unit", st.unit) and not st.confirmed,
        "can_unlock": user.has_perm("selection.unlock_unit", st.unit) and st.confirmed,
        "can_reopen": user.has_perm("selection.reopen_unit", st.unit),
        "summary_url": f"/api/v1/selection/campaigns/{st.campaign.pk}/units/{st.unit.pk}/summary.xlsx",
    }


def _standing(request, campaign_id: int, unit_id: int) -> services.Standing:
    campaign = campaign_services.get_campaign(request.user, campaign_id)
    unit, level = services.get_unit(request.user, campaign, unit_id)
    return services.standing(request.user, campaign, unit, level)


# --- entries ---------------------------------------------------------------------------------------
class EntryQuery(Schema):
    campaign: int | None = None
    level: str = ""
    held_by: int | None = None
    unit: int | None = None
    category: str = ""
    stage: str = ""
    subject: str = ""
    grade: str = ""
    node: int | None = None
    state: str = ""
    compliance: str = ""
    awarded: bool | None = None
    q: str = ""
    sort: str = ""
    page: int = 1
    cursor: str = Field("", description=CURSOR_HELP)
    page_size: int = services.PAGE_SIZE


LIST_DESCRIPTION = ("sort: rank, arrived, title, school, county, category, subject, grade, state, compliance"
                    "（前加 - 倒序；compliance 按检测结果从差到好）。"
                    "unit: 来源单位（该单位及其下级学校申报的课程）；held_by: 持有单位（在该单位手中待处理或已处理）。"
                    "compliance: fail（有不合格文件）, pending（检测中）, warn（有提醒）, pass（全部通过）, none（未上传文件）。")


@router.get("/entries", response={200: EntryPage, **ERRORS},
            summary="我管理的单位持有的推荐记录（筛选：活动、层级、持有单位、来源单位、类别、学段、学科、年级、目录节点、状态、检测结果、本级荣誉；排序；每页 30/100/500 条）",
            description=LIST_DESCRIPTION + "page_size: 每页条数，30、100 或 500（缺省 30）。"
            "q: 按课名、主讲教师姓名或学校名称检索；带 q 时条数最多数到 1000 条，更多时 count 为 1001、count_capped 为 true，用 next 游标继续翻页。")
def list_entries(request, filters: Query[EntryQuery]):
    data = filters.dict()
    page, cursor = data.pop("page"), data.pop("cursor")
    size = services.page_size(data.pop("page_size"), strict=True)
    f = services.EntryFilter(**data)
    p = services.entries_page(request.user, f, size, page, cursor)
    shown = Shown(request.user)
    return page_out(p, [entry_out(row, shown) for row in p.object_list])


XLSX_RESPONSE = {200: {"description": "Excel 工作簿（.xlsx）",
                         "content": {exports.XLSX: {"schema": {"type": "string", "format": "binary"}}}}}


@router.get("/entries.xlsx", response={200: None, **ERRORS}, openapi_extra={"responses": XLSX_RESPONSE},
            summary="把筛选出的全部推荐记录（不分页）导出为 Excel，筛选与排序同 GET /entries",
            description=LIST_DESCRIPTION)
def export_entries(request, filters: Query[EntryQuery]):
    data = filters.dict()
    data.pop("page"), data.pop("page_size"), data.pop("cursor")
    f = services.EntryFilter(**data)
    return exports.entries_download(request.user, f, title=_("推荐记录"), filename=_("推荐记录.xlsx"))


class BulkIn(Schema):
    ids: list[int]
    action: str
    reason: str = ""


class BulkResultOut(Schema):
    entry_id: int
    title: str
    ok: bool
    detail: str


class BulkOut(Schema):
    done: int
    refused: int
    results: list[BulkResultOut]


@router.post("/entries/bulk", response={200: BulkOut, **ERRORS},
             summary="批量推荐、未推荐或退回（一条理由共用）：逐条检查，每条记录各自成败并说明原因",
             description="action: recommend, decline, return（退回须写 reason）。ids 最多 500 个，按给出的顺序处理"
                         "（推荐顺序依次排在最后）；每条记录单独提交，某条被拒绝（名额已满、同一目录节点、已截止……）"
                         "不影响其他记录，results 中 ok=false 的 detail 说明原因。请求本身不合法时返回 400。")
def bulk_entries(request, payload: BulkIn):
    outcomes = services.bulk_decide(request.user, payload.ids, payload.action, reason=payload.reason)
    return {"done": sum(1 for o in outcomes if o.ok), "refused": sum(1 for o in outcomes if not o.ok),
            "results": [{"entry_id": o.entry_id, "title": o.title, "ok": o.ok, "detail": o.message} for o in outcomes]}


@router.get("/entries/{entry_id}", response={200: EntryDetailOut, **ERRORS},
            summary="推荐记录详情：各级处理情况与最新的操作记录（时间线；全部记录见 history_url）")
def get_entry(request, entry_id: int):
    return detail_out(services.get_entry_detail(request.user, entry_id), request.user)


@router.get("/entries/{entry_id}/history", response={200: EntryHistoryPage, **ERRORS},
            summary=f"推荐记录的全部操作记录（时间线），最新在前，每页 {services.TIMELINE_PAGE_SIZE} 条，用 next 游标翻页",
            description="与详情相同：仅该记录所在单位及其上级单位的管理员可以查看，其他人返回 404；"
                        "单位层面的操作（确认、解锁汇总表、重新开放、截止时间调整）只列出您可以查看的单位的。"
                        "cursor：上一页响应中的 next；无效或不属于本记录时返回 400。")
def entry_history(request, entry_id: int, cursor: str = Query("", description="上一页响应中的 next")):
    entry = services.get_timeline_entry(request.user, entry_id)
    page = services.timeline(entry, request.user, size=services.TIMELINE_PAGE_SIZE, cursor=cursor)
    return {"entry_id": entry.pk, "course_id": entry.course_id, "total": page.total, "start": page.start,
            "next": page.next_cursor, "items": events_out(page.events)}


def _decide(request, entry_id: int, action: str, payload: DecisionIn):
    entry = services.decide(request.user, entry_id, action, reason=payload.reason, node_reason=payload.node_reason,
                            rank=payload.rank)
    return detail_out(services.decided_detail(entry), request.user)


@router.post("/entries/{entry_id}/return", response={200: EntryDetailOut, **ERRORS},
             summary="退回修改（须写明理由；教师修改后重新提交，回到本单位）")
def return_entry(request, entry_id: int, payload: DecisionIn):
    return _decide(request, entry_id, rules.Action.RETURN, payload)


@router.post("/entries/{entry_id}/decline", response={200: EntryDetailOut, **ERRORS},
             summary="未推荐（理由可选；本级终结）")
def decline_entry(request, entry_id: int, payload: DecisionIn):
    return _decide(request, entry_id, rules.Action.DECLINE, payload)


@router.post("/entries/{entry_id}/recommend", response={200: EntryDetailOut, **ERRORS},
             summary="推荐到上一级（rank：推荐顺序，缺省排在最后；同一目录节点须填写理由时用 node_reason）")
def recommend_entry(request, entry_id: int, payload: DecisionIn):
    return _decide(request, entry_id, rules.Action.RECOMMEND, payload)


@router.post("/entries/{entry_id}/undo", response={200: EntryDetailOut, **ERRORS},
             summary="撤销本单位的推荐或未推荐（本级未确认、未截止，且上级尚未处理）")
def undo_entry(request, entry_id: int):
    return _decide(request, entry_id, rules.Action.UNDO, DecisionIn())


@router.post("/entries/{entry_id}/award", response={200: EntryDetailOut, **ERRORS},
             summary="评为本级荣誉（如县级精品课），与是否推荐无关")
def award_entry(request, entry_id: int):
    services.set_award(request.user, entry_id, True)
    return detail_out(services.get_entry_detail(request.user, entry_id), request.user)


@router.post("/entries/{entry_id}/unaward", response={200: EntryDetailOut, **ERRORS}, summary="取消本级荣誉")
def unaward_entry(request, entry_id: int):
    services.set_award(request.user, entry_id, False)
    return detail_out(services.get_entry_detail(request.user, entry_id), request.user)


# --- a unit at its level --------------------------------------------------------------------------
UNIT = "/campaigns/{campaign_id}/units/{unit_id}"


@router.get(UNIT, response={200: StandingOut, **ERRORS},
            summary="单位在本级的情况：截止时间与剩余时间、确认状态、各状态数量、名额使用、学科占比（实时）与目标提示")
def unit_standing(request, campaign_id: int, unit_id: int):
    return standing_out(_standing(request, campaign_id, unit_id), request.user)


@router.get(UNIT + "/share-board", response={200: ShareBoardOut, **ERRORS},
            summary="名额与学科占比看板：名额（已推荐 n/名额）、占比上限（当前 xx %）、目标占比（仅提示）")
def share_board(request, campaign_id: int, unit_id: int):
    return board_out(_standing(request, campaign_id, unit_id))


@router.post(UNIT + "/confirm", response={200: StandingOut, **ERRORS},
             summary="确认推荐汇总表（检查学科占比上限；确认后本级锁定，只有上级可以解锁）")
def confirm(request, campaign_id: int, unit_id: int):
    campaign = campaign_services.get_campaign(request.user, campaign_id)
    unit, level = services.get_unit(request.user, campaign, unit_id)
    services.confirm(request.user, campaign, level.kind, unit)
    return standing_out(services.standing(request.user, campaign, unit, level), request.user)


@router.post(UNIT + "/unlock", response={200: StandingOut, **ERRORS}, summary="解锁下级单位已确认的汇总表（上级，须写明理由）")
def unlock(request, campaign_id: int, unit_id: int, payload: ReasonIn):
    campaign = campaign_services.get_campaign(request.user, campaign_id)
    unit, level = services.get_unit(request.user, campaign, unit_id)
    services.unlock(request.user, campaign, level.kind, unit, payload.reason)
    return standing_out(services.standing(request.user, campaign, unit, level), request.user)


@router.post(UNIT + "/reopen", response={200: ReopenOut, **ERRORS},
             summary="截止后为下级单位重新开放（上级，须写明理由并设定新的截止时间）")
def reopen(request, campaign_id: int, unit_id: int, payload: ReopenIn):
    campaign = campaign_services.get_campaign(request.user, campaign_id)
    unit, level = services.get_unit(request.user, campaign, unit_id)
    override = services.reopen(request.user, campaign, level.kind, unit, payload.deadline, payload.reason)
    return {"unit_id": unit.pk, "level": level.kind, "deadline": override.deadline, "reason": payload.reason}


@router.get(UNIT + "/summary.xlsx", response={200: None, **ERRORS}, openapi_extra={"responses": XLSX_RESPONSE},
            summary="下载推荐汇总表（Excel）")
def summary_xlsx(request, campaign_id: int, unit_id: int):
    campaign = campaign_services.get_campaign(request.user, campaign_id)
    unit, level = services.get_unit(request.user, campaign, unit_id)
    return exports.summary_download(request.user, campaign, unit, level)


class HistoryQuery(Schema):
    action: str = Field("", description="操作代码，如 selection.confirm、selection.unlock、selection.reopen、"
                                        "campaigns.deadline_override.set、campaigns.quota_override.set、contacts.reopen、"
                                        "selection.recommend")
    actor: int | None = Field(None, description="操作人的用户编号")
    since: date | None = Field(None, description="起始日期（含，北京时间）")
    until: date | None = Field(None, description="截止日期（含，北京时间）")
    page: int = 1
    cursor: str = Field("", description=CURSOR_HELP)


@router.get(UNIT + "/history", response={200: UnitHistoryPage, **ERRORS},
            summary="单位操作记录：本单位对课程的处理，以及确认/解锁汇总表、重新开放、截止时间与名额调整、工作联系表等（最新在前，每页 50 条）",
            description="仅本单位管理员及其上级单位管理员可以查看；其他单位返回 404。筛选：action、actor、since、until。")
def unit_history(request, campaign_id: int, unit_id: int, filters: Query[HistoryQuery]):
    campaign = campaign_services.get_campaign(request.user, campaign_id)
    unit, _level = services.get_unit(request.user, campaign, unit_id)
    data = filters.dict()
    page, cursor = data.pop("page"), data.pop("cursor")
    p = paginate(services.unit_history(request.user, campaign, unit, services.HistoryFilter(**data)),
                 services.HISTORY_PAGE_SIZE, page, cursor)
    items = []
    for ev in p.object_list:
        _at, _who, label, target, details, reason = services.history_row(ev)
        items.append({"id": ev.pk, "at": ev.at, "actor": ev.actor_name, "actor_id": ev.actor_id, "action": ev.action,
                      "action_label": label, "target": target, "details": details, "reason": reason,
                      "before": ev.before, "after": ev.after})
    return {"campaign_id": campaign.pk, "unit_id": unit.pk, "unit_name": unit.name, **page_out(p, items)}


@router.get(UNIT + "/history.xlsx", response={200: None, **ERRORS}, openapi_extra={"responses": XLSX_RESPONSE},
            summary="下载单位操作记录（Excel，筛选条件同上）")
def unit_history_xlsx(request, campaign_id: int, unit_id: int, filters: Query[HistoryQuery]):
    campaign = campaign_services.get_campaign(request.user, campaign_id)
    unit, _level = services.get_unit(request.user, campaign, unit_id)
    data = filters.dict()
    data.pop("page"), data.pop("cursor")
    return exports.history_download(request.user, campaign, unit, services.HistoryFilter(**data))


PACKAGE_RESPONSE = {200: {"description": "ZIP（application/zip），带 Content-Length，边打包边下载",
                            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}}}


@router.get(UNIT + "/package.zip", response={200: None, 409: ErrorOut, **ERRORS}, openapi_extra={"responses": PACKAGE_RESPONSE},
            summary="下载推荐资源包（ZIP）：推荐汇总表、资源清单（含每个文件的 SHA-256）和每门已推荐课程的全部资源文件",
            description="本单位本级已推荐的课程（与推荐汇总表相同的范围与权限），按汇总表的序号每门课程一个文件夹"
                        "（如 01_赤坎区_小学数学_认识图形/），其中按课时命名资源（第1课时_微课视频.mp4，扩展名取自检测出的文件类型）。"
                        "文件名为 UTF-8，文件不压缩（存储），大文件与大包使用 ZIP64；边读边发送，响应带 Content-Length。"
                        "存储中有文件缺失或大小不符时在发送前返回 409 并列出这些文件。每次下载记入操作日志。")
def package_zip(request, campaign_id: int, unit_id: int):
    campaign = campaign_services.get_campaign(request.user, campaign_id)
    unit, level = services.get_unit(request.user, campaign, unit_id)
    return archive.download(request.user, campaign, unit, level)


# --- the progress board ------------------------------------------------------------------------------
PROGRESS_SORT_DESCRIPTION = ("sort: unit（缺省，单位顺序）, pending, recommended, deadline, confirmed, contact, "
                             "quota:<类别>（如 quota:subject，按该类别已推荐数）；前加 - 倒序，没有值的排在最后。")
@router.get("/campaigns/{campaign_id}/progress", response={200: ProgressOut, **ERRORS},
            summary="进度看板：各下级单位的推荐数与名额（按类别）、目录节点冲突、汇总表确认、距截止时间、工作联系表是否提交",
            description="unit: 看哪个单位的下级（缺省为您管理的最高一级单位）。" + PROGRESS_SORT_DESCRIPTION)
def progress(request, campaign_id: int, unit: int | None = None, sort: str = ""):
    campaign = campaign_services.get_campaign(request.user, campaign_id)
    parent = services.get_board_unit(request.user, campaign, unit)
    rows = services.sort_progress(services.progress(request.user, campaign, parent), sort)
    quotas: dict[rules.QuotaUse, dict] = {}  # many units share the same lines ("0 of 3"): their text once
    return {"campaign_id": campaign.pk, "unit_id": parent.pk, "unit_name": parent.name, "children": [
        {"unit_id": r.unit.pk, "unit_name": r.unit.name, "unit_kind": r.unit.kind, "level": r.level.kind,
         "level_name": r.level.name, "quotas": [quotas.get(q) or quotas.setdefault(q, quota_out(q)) for q in r.quotas],
         "counts": counts_out(r.held),
         "node_conflicts": r.node_conflicts, "confirmed": r.confirmed,
         "confirmed_at": r.unit_level.confirmed_at if r.unit_level else None, "deadline": r.deadline,
         "confirm_deadline": r.confirm_deadline, "seconds_left": r.seconds_left,
         "time_left_text": r.time_left_text, "behind": r.behind, "contact_required": r.contact_required,
         "contact_filed": r.contact_filed, "contact_filed_at": r.contact_filed_at} for r in rows]}


@router.get("/campaigns/{campaign_id}/progress.xlsx", response={200: None, **ERRORS},
            openapi_extra={"responses": XLSX_RESPONSE},
            summary="进度看板导出 Excel：每个下级单位一行（各类别已推荐/名额、待处理、截止、确认、工作联系表）",
            description="unit、sort 同 GET /campaigns/{campaign_id}/progress。" + PROGRESS_SORT_DESCRIPTION)
def progress_xlsx(request, campaign_id: int, unit: int | None = None, sort: str = ""):
    campaign = campaign_services.get_campaign(request.user, campaign_id)
    parent = services.get_board_unit(request.user, campaign, unit)
    rows = services.sort_progress(services.progress(request.user, campaign, parent), sort)
    return exports.progress_download(campaign, parent, rows, services.progress_categories(campaign))
