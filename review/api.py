"""Expert review in the REST API: rubrics, expert pools, rounds with their panel and manual
assignments, and an expert's own tasks.

Thin: every endpoint calls review.services, the same functions the pages use. Scope: a round
outside the units you administer answers 404; an action you may not take answers 403; a refused
action answers 400 with {"detail": "<why, in Chinese>", "errors": [...]}. An expert's tasks carry
a neutral code, the course title, catalog node, category, stage and subject: never a teacher,
school or county. Times are ISO 8601; a time without zone is Beijing time.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.http import Http404
from ninja import Field, Router, Schema

from campaigns import services as campaign_services
from review import award_proposal, services
from review.models import Rubric

router = Router(tags=["专家评审"])
TZ = ZoneInfo("Asia/Shanghai")


class ErrorOut(Schema):
    detail: str
    errors: list = []


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=TZ) if value.tzinfo is None else value


# --- rubrics -----------------------------------------------------------------------------------
class ItemDoc(Schema):
    name: str
    description: str = ""
    max_points: str = Field(..., description="分值，大于 0，最多一位小数，如 \"10\"")
    weight: str = Field("1", description="权重，大于 0，最多两位小数；不加权为 1")


class DimensionDoc(Schema):
    name: str
    items: list[ItemDoc]


class RubricIn(Schema):
    title: str
    total_points: str = Field("100", description="满分：各要点分值 × 权重的合计须等于它")
    dimensions: list[DimensionDoc]
    vetoes: list[str] = Field([], description="一票否决项（专家选择时须写理由，总分记 0）")


class RubricOut(RubricIn):
    id: int
    campaign_id: int
    category: str
    category_label: str
    source: str
    frozen: bool = Field(..., description="已有专家按它评分：不能再修改")


def _rubric_out(rubric: Rubric) -> dict:
    return {**services.rubric_doc(rubric), "id": rubric.pk, "campaign_id": rubric.campaign_id,
            "category": rubric.category, "category_label": rubric.get_category_display(), "source": rubric.source,
            "frozen": services.has_scores(rubric)}


@router.get("/campaigns/{campaign_id}/rubrics", response={200: list[RubricOut], **ERRORS},
            summary="活动各类别的评价指标（一级指标 → 评价要点、分值、权重，一票否决项）")
def list_rubrics(request, campaign_id: int):
    campaign = campaign_services.get_campaign(request.auth, campaign_id)
    return [_rubric_out(r) for r in services.rubrics_for(request.auth, campaign)]


@router.put("/campaigns/{campaign_id}/rubrics/{category}", response={200: RubricOut, **ERRORS},
            summary="修改一个类别的评价指标（主办单位管理员；分值合计须等于满分；已有评分后不能修改）")
def put_rubric(request, campaign_id: int, category: str, payload: RubricIn):
    campaign = campaign_services.get_campaign(request.auth, campaign_id)
    rubric = services.get_rubric(request.auth, campaign, category)
    return _rubric_out(services.set_rubric(request.auth, rubric, payload.dict()))


# --- experts -----------------------------------------------------------------------------------
class ExpertOut(Schema):
    id: int
    real_name: str
    mobile: str
    work_unit: str
    work_unit_id: int | None
    subjects: list[str]
    stages: list[str]
    max_load: int | None


class ExpertIn(Schema):
    unit_id: int = Field(..., description="专家库所属单位（您管理的区县、市或省）")
    real_name: str
    mobile: str
    work_unit: str = Field("", description="工作单位：单位代码或全称；系统外单位填名称")
    subjects: list[str]
    stages: list[str] = Field(..., description="primary, junior, senior, special（或中文：小学、初中、高中、特殊教育）")
    max_load: int = 30


class ExpertCreated(ExpertOut):
    initial_password: str = Field(..., description="新账户的临时密码（只返回这一次）；已有账户为空")


def _expert_out(user) -> dict:
    p = getattr(user, "expert_profile", None)
    return {"id": user.pk, "real_name": user.real_name, "mobile": user.mobile or "",
            "work_unit": p.work_unit_label if p else "", "work_unit_id": p.work_unit_id if p else None,
            "subjects": p.subjects if p else [], "stages": p.stages if p else [], "max_load": p.max_load if p else None}


@router.get("/experts", response={200: list[ExpertOut], **ERRORS}, summary="一个单位的专家库")
def list_experts(request, unit_id: int):
    unit = services.get_pool_unit(request.auth, unit_id)
    return [_expert_out(u) for u in services.experts_of(request.auth, unit)]


@router.post("/experts", response={201: ExpertCreated, **ERRORS},
             summary="把一位专家加入单位专家库（手机号已在系统中则用原账户，姓名须一致；否则新建账户）")
def add_expert(request, payload: ExpertIn):
    unit = services.get_pool_unit(request.auth, payload.unit_id)
    user, password = services.add_expert(request.auth, unit, real_name=payload.real_name, mobile=payload.mobile,
                                         work_unit=payload.work_unit, subjects=payload.subjects, stages=payload.stages,
                                         max_load=str(payload.max_load))
    user.refresh_from_db()
    return 201, {**_expert_out(user), "initial_password": password}


# --- rounds ------------------------------------------------------------------------------------
class RoundIn(Schema):
    unit_id: int = Field(..., description="持有作品的本单位（本级）")
    title: str
    category: str
    stage: str = ""
    subject: str = ""
    phase: str = Field("video", description="design（课例设计，仅文档）, video（视频）, lecture（试讲，组长录入）")
    reviewers_per_entry: int = 3
    opens_at: datetime
    closes_at: datetime
    lecture_date: date | None = None
    lecture_place: str = ""


class PanelOut(Schema):
    expert_id: int
    name: str
    is_chair: bool


class RoundOut(Schema):
    id: int
    campaign_id: int
    unit_id: int
    unit_name: str
    level: str
    level_name: str
    title: str
    category: str
    stage: str
    subject: str
    phase: str
    phase_label: str
    rubric_id: int
    reviewers_per_entry: int
    opens_at: datetime
    closes_at: datetime
    lecture_date: date | None
    lecture_place: str
    status: str
    status_label: str
    entries: int


class AssignmentOut(Schema):
    id: int
    expert_id: int
    expert_name: str
    state: str


class RoundEntryOut(Schema):
    id: int
    code: str
    entry_id: int
    course_id: int
    title: str
    school_name: str
    lead_teacher: str
    assignments: list[AssignmentOut]
    missing: int


class RoundDetailOut(RoundOut):
    panel: list[PanelOut]
    items: list[RoundEntryOut]


def _round_out(r) -> dict:
    return {"id": r.pk, "campaign_id": r.campaign_id, "unit_id": r.unit_id, "unit_name": r.unit.name,
            "level": r.level.kind, "level_name": r.level.name, "title": r.title, "category": r.category,
            "stage": r.stage, "subject": r.subject, "phase": r.phase, "phase_label": r.get_phase_display(),
            "rubric_id": r.rubric_id, "reviewers_per_entry": r.reviewers_per_entry, "opens_at": r.opens_at,
            "closes_at": r.closes_at, "lecture_date": r.lecture_date, "lecture_place": r.lecture_place,
            "status": r.status, "status_label": r.get_status_display(),
            "entries": getattr(r, "entry_count", None) if getattr(r, "entry_count", None) is not None
            else r.round_entries.count()}


def _detail(request, r) -> dict:
    rows = services.round_entries(request.auth, r)
    return {**_round_out(r), "entries": len(rows),
            "panel": [{"expert_id": m.expert_id, "name": m.expert.real_name, "is_chair": m.is_chair}
                      for m in services.panel(r)],
            "items": [{"id": row.round_entry.pk, "code": row.round_entry.code, "entry_id": row.round_entry.entry_id,
                       "course_id": row.round_entry.entry.course_id, "title": row.round_entry.entry.course.title,
                       "school_name": row.round_entry.entry.course.school.name,
                       "lead_teacher": row.round_entry.entry.course.lead_teacher.display_name,
                       "assignments": [{"id": a.pk, "expert_id": a.expert_id, "expert_name": a.expert.real_name,
                                        "state": a.state} for a in row.assignments],
                       "missing": row.missing} for row in rows]}


@router.get("/rounds", response={200: list[RoundOut], **ERRORS}, summary="您管理的单位（及下级）的评审轮次")
def list_rounds(request):
    from django.db.models import Count

    qs = services.rounds_for(request.auth).annotate(entry_count=Count("round_entries")).order_by("-created_at")[:200]
    return [_round_out(r) for r in qs]


@router.post("/campaigns/{campaign_id}/rounds", response={201: RoundDetailOut, **ERRORS},
             summary="创建评审轮次（本单位在本级持有的作品，按类别、学段、学科筛选；作品以中性编号呈现给专家）")
def create_round(request, campaign_id: int, payload: RoundIn):
    campaign = campaign_services.get_campaign(request.auth, campaign_id)
    unit = next((u for u, _lv in services.round_places(request.auth, campaign) if u.pk == payload.unit_id), None)
    if unit is None:
        from django.core.exceptions import PermissionDenied
        from django.utils.translation import gettext as _

        raise PermissionDenied(_("只有持有这些作品的单位（本级）的管理员可以为本单位创建评审轮次。"))
    r = services.create_round(request.auth, campaign, unit, title=payload.title, category=payload.category,
                              stage=payload.stage, subject=payload.subject, phase=payload.phase,
                              reviewers_per_entry=payload.reviewers_per_entry, opens_at=_aware(payload.opens_at),
                              closes_at=_aware(payload.closes_at), lecture_date=payload.lecture_date,
                              lecture_place=payload.lecture_place)
    return 201, _detail(request, services.get_round(request.auth, r.pk))


@router.get("/rounds/{round_id}", response={200: RoundDetailOut, **ERRORS}, summary="评审轮次：设置、评审组、作品与分配")
def get_round(request, round_id: int):
    return _detail(request, services.get_round(request.auth, round_id))


class PanelIn(Schema):
    expert_id: int
    is_chair: bool = False


@router.post("/rounds/{round_id}/panel", response={200: RoundDetailOut, **ERRORS},
             summary="把本单位专家库中的专家加入评审组（可设为组长；每轮一位组长）")
def add_panel_member(request, round_id: int, payload: PanelIn):
    r = services.get_round(request.auth, round_id)
    if payload.is_chair and r.panel.filter(expert_id=payload.expert_id).exists():
        services.set_chair(request.auth, r, payload.expert_id)
    else:
        services.add_panel_member(request.auth, r, payload.expert_id, is_chair=payload.is_chair)
    return _detail(request, r)


class AssignIn(Schema):
    entry_id: int = Field(..., description="本轮作品的 id（items[].id）")
    expert_id: int


@router.post("/rounds/{round_id}/assignments", response={201: AssignmentOut, **ERRORS},
             summary="手工分配一位专家评审一件作品（每件至多 N 位、专家最大评审量、本校/团队成员/声明回避须回避）")
def assign(request, round_id: int, payload: AssignIn):
    r = services.get_round(request.auth, round_id)
    a = services.assign(request.auth, r, payload.entry_id, payload.expert_id)
    return 201, {"id": a.pk, "expert_id": a.expert_id, "expert_name": a.expert.real_name, "state": a.state}


@router.delete("/rounds/{round_id}/assignments/{assignment_id}", response={204: None, **ERRORS},
               summary="取消一项分配（已提交评分的不能取消）")
def unassign(request, round_id: int, assignment_id: int):
    services.unassign(request.auth, services.get_round(request.auth, round_id), assignment_id)
    return 204, None


@router.post("/rounds/{round_id}/publish", response={200: RoundOut, **ERRORS},
             summary="发布评审轮次：评审组专家登录后看到自己的任务")
def publish(request, round_id: int):
    r = services.publish_round(request.auth, services.get_round(request.auth, round_id))
    return _round_out(r)


# --- the expert's tasks (blind) ------------------------------------------------------------------
class TaskOut(Schema):
    id: int
    code: str = Field(..., description="作品的中性编号")
    title: str
    node: str
    category: str
    category_label: str
    stage: str
    stage_label: str
    subject: str
    round_id: int
    round_title: str = Field(..., description="层级 · 类别 · 环节（不含单位名称）")
    phase: str
    phase_label: str
    is_chair: bool
    state: str
    state_label: str
    opens_at: datetime
    closes_at: datetime
    lecture_date: date | None
    lecture_place: str
    window: str = Field(..., description="upcoming / open / closed")
    seconds_left: int
    time_left: str
    lecture_at: datetime | None = Field(None, description="试讲：本作品的试讲时间")
    entry_place: str = Field("", description="试讲：本作品的试讲地点（空：同本轮地点）")


@router.get("/my/tasks", response={200: list[TaskOut], **ERRORS},
            summary="我的评审任务（专家本人；作品以编号呈现，不含教师、学校、区县）")
def my_tasks(request):
    if not request.auth.is_expert():
        raise Http404
    return [vars(t) for t in services.my_tasks(request.auth)]


class ConflictIn(Schema):
    reason: str = Field(..., description="回避理由，如亲属关系")


@router.post("/my/tasks/{assignment_id}/conflict", response={204: None, **ERRORS},
             summary="专家对自己的一项任务申请回避：记录回避并撤回这项任务（已提交评分的不能）")
def declare_conflict(request, assignment_id: int, payload: ConflictIn):
    services.declare_own_conflict(request.auth, assignment_id, payload.reason)
    return 204, None


# --- scoring: the expert's sheet (blind), its files, the chair's reopening ---------------------
class SheetItemOut(Schema):
    id: int
    name: str
    description: str
    max_points: str
    weight: str


class SheetDimensionOut(Schema):
    name: str
    items: list[SheetItemOut]


class VetoOut(Schema):
    id: int
    name: str


class SheetRubricOut(Schema):
    title: str
    total_points: str
    dimensions: list[SheetDimensionOut]
    vetoes: list[VetoOut]


class SheetOut(Schema):
    state: str = Field(..., description="assigned / started / submitted")
    points: dict[str, str] = Field(..., description="评价要点 id → 得分")
    veto_id: int | None
    veto_reason: str
    comment: str
    total: str | None = Field(..., description="Σ 得分 × 权重；一票否决为 0；有要点未打分时为 null")
    saved_at: datetime | None
    submitted_at: datetime | None
    reopened_at: datetime | None
    reopen_reason: str


class TaskFileOut(Schema):
    resource_id: int
    period: int
    kind: str
    label: str
    name: str = Field(..., description="中性文件名（作品编号、课时、资源类型）")
    state: str = Field(..., description="ok（可下载）/ preparing（匿名副本正在准备中）/ failed")
    message: str
    url: str


class ScoringOut(Schema):
    task: TaskOut
    rubric: SheetRubricOut
    sheet: SheetOut
    files: list[TaskFileOut]
    can_edit: bool
    edit_problem: str | None


class SheetIn(Schema):
    points: dict[str, str] = Field({}, description="评价要点 id → 得分（0 到分值，最多一位小数；草稿可留空）")
    veto_id: int | None = Field(None, description="一票否决项 id（须写否决理由，总分记 0）")
    veto_reason: str = ""
    comment: str = ""


class ReopenIn(Schema):
    reason: str = Field(..., description="重新开放的理由（记入日志）")


def _sheet_out(assignment, sheet) -> dict:
    def text(value):
        return services.decimal_text(value) if value is not None else None

    if sheet is None:
        return {"state": assignment.state, "points": {}, "veto_id": None, "veto_reason": "", "comment": "",
                "total": None, "saved_at": None, "submitted_at": None, "reopened_at": None, "reopen_reason": ""}
    return {"state": assignment.state, "points": {str(s.item_id): text(s.points) for s in sheet.scores.all()},
            "veto_id": sheet.veto_id, "veto_reason": sheet.veto_reason, "comment": sheet.comment,
            "total": text(sheet.total), "saved_at": sheet.saved_at, "submitted_at": sheet.submitted_at,
            "reopened_at": sheet.reopened_at, "reopen_reason": sheet.reopen_reason}


def _scoring_out(page) -> dict:
    from django.urls import reverse

    rubric = page.assignment.round.rubric
    return {
        "task": vars(page.task),
        "rubric": {"title": rubric.title, "total_points": services.decimal_text(rubric.total_points),
                   "dimensions": [{"name": name, "items": [
                       {"id": i.id, "name": i.name, "description": i.description,
                        "max_points": services.decimal_text(i.max_points), "weight": services.decimal_text(i.weight)}
                       for i in items]} for name, items in page.dimensions],
                   "vetoes": [{"id": v.pk, "name": v.name} for v in page.vetoes]},
        "sheet": _sheet_out(page.assignment, page.sheet),
        "files": [{**{k: getattr(f, k) for k in ("resource_id", "period", "kind", "label", "name", "state",
                                                 "message")},
                   "url": reverse("api:review_task_file", args=[page.task.id, f.resource_id])}
                  for f in page.files],
        "can_edit": page.can_edit, "edit_problem": page.edit_problem,
    }


@router.get("/my/tasks/{assignment_id}/sheet", response={200: ScoringOut, **ERRORS},
            summary="评分：作品（编号、课程名称、目录节点、类别/学段/学科）、评价指标、我的评分和作品文件（匿名副本）")
def get_sheet(request, assignment_id: int):
    return _scoring_out(services.scoring_page(request.auth, assignment_id))


@router.put("/my/tasks/{assignment_id}/sheet", response={200: SheetOut, **ERRORS},
            summary="保存评分草稿（自动保存；得分 0 到分值，选一票否决须写理由；截止后不能保存）")
def save_sheet(request, assignment_id: int, payload: SheetIn):
    sheet = services.save_sheet(request.auth, assignment_id, **payload.dict())
    return _sheet_out(sheet.assignment, sheet)


@router.post("/my/tasks/{assignment_id}/sheet/submit", response={200: SheetOut, **ERRORS},
             summary="提交评分（每个评价要点都须打分，或选择一票否决并写明理由；提交后不能修改）")
def submit_sheet(request, assignment_id: int, payload: SheetIn):
    sheet = services.submit_sheet(request.auth, assignment_id, **payload.dict())
    return _sheet_out(sheet.assignment, sheet)


@router.get("/my/tasks/{assignment_id}/files/{resource_id}", response={200: None, 206: None, **ERRORS},
            url_name="review_task_file",
            summary="作品文件的匿名副本（中性文件名，已去除作者等元数据；支持 Range 请求；?download=1 下载）")
def task_file(request, assignment_id: int, resource_id: int):
    return services.task_file_response(request, request.auth, assignment_id, resource_id)


@router.post("/my/chair/sheets/{assignment_id}/reopen", response={200: SheetOut, **ERRORS},
             summary="评审组组长重新开放一位专家的评分（须写理由，记入日志；截止后也可）")
def reopen_sheet(request, assignment_id: int, payload: ReopenIn):
    sheet = services.reopen_sheet(request.auth, assignment_id, payload.reason)
    return _sheet_out(sheet.assignment, sheet)


# --- automatic assignment, manual moves, undo (part: autoassign) -------------------------------
class PlanAssignmentOut(Schema):
    expert_id: int
    expert_name: str
    state: str = Field(..., description="proposed（待发布，专家看不到）/ assigned / started / submitted")


class PlanEntryOut(Schema):
    id: int = Field(..., description="本轮作品的 id")
    code: str
    title: str
    assignments: list[PlanAssignmentOut]
    missing: int
    shortage: str = Field(..., description="缺少专家的原因（求解器给出），不缺为空")


class PlanExpertOut(Schema):
    expert_id: int
    name: str
    load: int = Field(..., description="本轮任务数")
    proposed: int = Field(..., description="其中待发布")
    capacity: int = Field(..., description="可承担：最大评审量减去其他未结束轮次的任务")


class PlanOut(Schema):
    entries: list[PlanEntryOut]
    experts: list[PlanExpertOut]
    shortages: list[str]
    proposed: int
    undo: str = Field(..., description="可撤销的上一步操作（auto/add/remove/move），没有为空")


class AutoAssignOut(PlanOut):
    added: int


class MoveIn(Schema):
    action: str = Field(..., description="add（添加）/ remove（移除）/ move（调整：由 expert_id 改为 to_expert_id）")
    entry_id: int = Field(..., description="本轮作品的 id")
    expert_id: int
    to_expert_id: int | None = None


def _plan_out(request, r) -> dict:
    plan = services.assignment_plan(request.auth, r)
    return {
        "entries": [{"id": row.round_entry.pk, "code": row.round_entry.code, "title": row.round_entry.entry.course.title,
                     "assignments": [{"expert_id": a.expert_id, "expert_name": a.expert.real_name, "state": a.state}
                                     for a in row.assignments],
                     "missing": row.missing, "shortage": row.shortage} for row in plan.entries],
        "experts": [{"expert_id": x.member.expert_id, "name": x.member.expert.real_name, "load": x.load,
                     "proposed": x.proposed, "capacity": x.capacity} for x in plan.experts],
        "shortages": plan.shortages, "proposed": plan.proposed,
        "undo": plan.last_change.kind if plan.last_change else ""}


@router.get("/rounds/{round_id}/assignment-plan", response={200: PlanOut, **ERRORS},
            summary="本轮的分配：每件作品的专家（含待发布）、每位专家的评审量、缺少专家的作品及原因")
def assignment_plan(request, round_id: int):
    return _plan_out(request, services.get_round(request.auth, round_id))


@router.post("/rounds/{round_id}/auto-assign", response={200: AutoAssignOut, **ERRORS},
             summary="自动分配（最小费用流求解，已有分配保持不变）；新分配为待发布，专家看不到")
def auto_assign(request, round_id: int):
    r = services.get_round(request.auth, round_id)
    result = services.auto_assign(request.auth, r)
    return {**_plan_out(request, r), "added": len(result.new_pairs)}


@router.post("/rounds/{round_id}/moves", response={200: PlanOut, **ERRORS},
             summary="手工添加、移除或调整一项分配（与自动分配同一套规则检查）")
def move(request, round_id: int, payload: MoveIn):
    r = services.get_round(request.auth, round_id)
    services.move_assignment(request.auth, r, payload.action, payload.entry_id, payload.expert_id,
                             payload.to_expert_id)
    return _plan_out(request, r)


@router.post("/rounds/{round_id}/undo", response={200: PlanOut, **ERRORS}, summary="撤销本轮上一步分配操作（自动或手工）")
def undo(request, round_id: int):
    r = services.get_round(request.auth, round_id)
    services.undo_last_change(request.auth, r)
    return _plan_out(request, r)


@router.post("/rounds/{round_id}/publish-assignments", response={200: PlanOut, **ERRORS},
             summary="发布待发布的分配（草稿轮次随之发布）：专家登录后看到自己的任务")
def publish_assignments(request, round_id: int):
    r = services.get_round(request.auth, round_id)
    services.publish_assignments(request.auth, r)
    return _plan_out(request, services.get_round(request.auth, round_id))


# --- round results: aggregation, ranking, exports and the proposal applied ----------------------------------
# For the round's admins (and those above) and, read-only, its panel chair. Entries appear under their neutral
# code and course title; the proposal (admins only) also names the school.
class ResultSettingsIn(Schema):
    method: str = Field(..., description="汇总方法：mean 平均分、median 中位数、trimmed 截尾均值、zscore 标准分")
    min_scored: int = Field(5, description="专家至少评了 k 份（无否决）才换算标准分")
    disagreement_threshold: str = Field("20", description="极差超过此分数即标记评分分歧")


class EntryResultOut(Schema):
    entry_id: int
    code: str
    title: str
    subject: str
    count: int
    mean: float | None
    median: float | None
    trimmed_mean: float | None
    sd: float | None
    minimum: float | None
    maximum: float | None
    spread: float | None
    normalised_mean: float | None
    score: float | None
    vetoes: int
    disagreement: bool
    flags: list[str]


class RankedOut(Schema):
    rank: int
    entry_id: int
    code: str
    title: str
    score: float
    decided_by: str = Field(..., description="与上一名的区分依据（第一名为空）")


class GroupOut(Schema):
    category: str
    subject: str
    rows: list[RankedOut]
    unscored: list[int]


class ResultsOut(Schema):
    round_id: int
    method: str
    min_scored: int
    disagreement_threshold: str
    tie_breaks: list[str]
    entries: list[EntryResultOut]
    ranking: list[GroupOut]


def _r2(x):
    return None if x is None else round(x, 2)


def _results_out(results) -> dict:
    r = results.round
    entries = []
    for entry_id, re in sorted(results.rows.items(), key=lambda item: item[1].code):
        s = results.aggregate.entries.get(entry_id)
        stats = {k: _r2(getattr(s, k)) if s else None for k in ("mean", "median", "trimmed_mean", "sd", "minimum",
                                                                "maximum", "spread", "normalised_mean", "score")}
        entries.append({"entry_id": entry_id, "code": re.code, "title": re.entry.course.title,
                        "subject": re.entry.node.textbook.subject, "count": s.count if s else 0, **stats,
                        "vetoes": s.vetoes if s else 0, "disagreement": bool(s and s.disagreement),
                        "flags": list(s.flags) if s else []})
    groups = [{"category": g.category, "subject": g.subject, "unscored": [e.entry_id for e in g.unscored],
               "rows": [{"rank": row.rank, "entry_id": row.entry.entry_id, "code": results.code(row.entry.entry_id),
                         "title": row.entry.title, "score": round(row.result.score, 2), "decided_by": row.decided_by}
                        for row in g.rows]} for g in results.groups]
    return {"round_id": r.pk, "method": r.method, "min_scored": r.min_scored,
            "disagreement_threshold": str(r.disagreement_threshold),
            "tie_breaks": [str(t) for t in services.agg.TIE_BREAKS], "entries": entries, "ranking": groups}


@router.get("/rounds/{round_id}/results", response={200: ResultsOut, **ERRORS},
            summary="评审结果：各作品统计、分歧标记与按类别学科的排名（管理员与评审组组长）")
def round_results(request, round_id: int):
    r = services.results_round(request.auth, round_id)
    return _results_out(services.round_results(request.auth, r))


@router.put("/rounds/{round_id}/results/settings", response={200: ResultsOut, **ERRORS},
            summary="设置汇总方法、标准分所需最少评分数 k 与分歧阈值（管理员）")
def round_result_settings(request, round_id: int, payload: ResultSettingsIn):
    r = services.results_round(request.auth, round_id)
    services.set_result_settings(request.auth, r, method=payload.method, min_scored=payload.min_scored,
                                 disagreement_threshold=payload.disagreement_threshold)
    return _results_out(services.round_results(request.auth, r))


@router.get("/rounds/{round_id}/results.xlsx", response={200: None, **ERRORS},
            summary="导出评审结果 Excel：专家评分、作品汇总、排名三个工作表")
def round_results_export(request, round_id: int):
    from django.http import FileResponse

    r = services.results_round(request.auth, round_id)
    return FileResponse(services.results_workbook(services.round_results(request.auth, r)), as_attachment=True,
                        filename=services.results_filename(r),
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


class ForcedIn(Schema):
    entry_id: int
    reason: str = Field(..., description="调整理由（必填）")


class ProposalIn(Schema):
    force_in: list[ForcedIn] = []
    force_out: list[ForcedIn] = []
    bonus: str = Field("0", description="目标占比加分：每件目标学科（如理科）作品加的分数，0–100")


class ApplyIn(ProposalIn):
    expected: list[int] | None = Field(None, description="您看到的推荐方案（entry_id）；方案已变化则拒绝")


class ProposalRowOut(Schema):
    entry_id: int
    code: str
    title: str
    school_name: str
    subject: str
    score: str
    state: str
    chosen: bool
    forced: str
    reason: str
    explanation: str = Field(..., description="未推荐的原因（中文）")
    rule: str


class ProposalOut(Schema):
    status: str
    optimal: bool
    total_score: str
    chosen: list[int]
    outside: list[str] = Field(..., description="本轮之外已推荐、占用名额的课程")
    rows: list[ProposalRowOut]


class AppliedOut(Schema):
    recommended: list[int]
    undone: list[int]


def _forced_map(items) -> dict:
    return {i.entry_id: i.reason for i in items}


def _proposal_out(view) -> dict:
    """A proposal (to recommend, or to award) as ProposalOut."""
    return {"status": view.proposal.status, "optimal": view.proposal.optimal,
            "total_score": str(view.proposal.total_score), "chosen": view.chosen_ids, "outside": view.outside,
            "rows": [{"entry_id": x.entry_id, "code": x.code, "title": x.title, "school_name": x.unit,
                      "subject": x.subject, "score": x.score, "state": x.state, "chosen": x.chosen, "forced": x.forced,
                      "reason": x.reason, "explanation": x.message, "rule": x.rule} for x in view.rows]}


@router.post("/rounds/{round_id}/proposal", response={200: ProposalOut, **ERRORS},
             summary="推荐方案：名额、同一节点、学科占比内总分最高的组合，并说明每件未推荐作品的原因（管理员）")
def round_proposal(request, round_id: int, payload: ProposalIn):
    r = services.results_round(request.auth, round_id)
    view = services.build_proposal(request.auth, r, force_in=_forced_map(payload.force_in),
                                   force_out=_forced_map(payload.force_out), bonus=payload.bonus)
    return _proposal_out(view)


@router.post("/rounds/{round_id}/proposal/apply", response={200: AppliedOut, **ERRORS},
             summary="应用推荐方案：一次事务内逐项按遴选规则推荐（或撤回），任一项被拒绝则全部不生效（管理员）")
def apply_round_proposal(request, round_id: int, payload: ApplyIn):
    r = services.results_round(request.auth, round_id)
    applied = services.apply_proposal(request.auth, r, force_in=_forced_map(payload.force_in),
                                      force_out=_forced_map(payload.force_out), bonus=payload.bonus,
                                      expected=payload.expected)
    return {"recommended": applied.recommended, "undone": applied.undone}


# --- awards proposal: the level's award (本级荣誉) from the round's ranking ---
class AwardCountIn(Schema):
    category: str = Field(..., description="类别：subject 学科课程、special 特殊教育、experiment 实验教学")
    subject: str = Field("", description="学科（留空：整个类别的数量）")
    limit: int = Field(..., description="评定几门")


class AwardProposalIn(Schema):
    counts: list[AwardCountIn] = Field(..., description="本级荣誉数量：每个类别，或类别下的学科（类别数量内的上限）")
    force_in: list[ForcedIn] = []
    force_out: list[ForcedIn] = []


class AwardApplyIn(AwardProposalIn):
    expected: list[int] | None = Field(None, description="您看到的荣誉方案（entry_id）；方案已变化则拒绝")


class AwardsAppliedOut(Schema):
    awarded: list[int]
    unawarded: list[int]


def _counts(items) -> list[dict]:
    return [{"category": c.category, "subject": c.subject, "limit": c.limit} for c in items]


@router.post("/rounds/{round_id}/proposal/awards", response={200: ProposalOut, **ERRORS},
             summary="本级荣誉方案：荣誉数量、同一节点、学科占比内总分最高的组合，并说明每件未评作品的原因（管理员）")
def round_award_proposal(request, round_id: int, payload: AwardProposalIn):
    r = services.results_round(request.auth, round_id)
    view = award_proposal.build_award_proposal(request.auth, r, counts=_counts(payload.counts),
                                               force_in=_forced_map(payload.force_in),
                                               force_out=_forced_map(payload.force_out))
    return _proposal_out(view)


@router.post("/rounds/{round_id}/proposal/awards/apply", response={200: AwardsAppliedOut, **ERRORS},
             summary="应用本级荣誉方案：一次事务内逐项评定（或取消）本级荣誉，任一项被拒绝则全部不生效（管理员）")
def apply_round_award_proposal(request, round_id: int, payload: AwardApplyIn):
    r = services.results_round(request.auth, round_id)
    applied = award_proposal.apply_award_proposal(request.auth, r, counts=_counts(payload.counts),
                                                  force_in=_forced_map(payload.force_in),
                                                  force_out=_forced_map(payload.force_out), expected=payload.expected)
    return {"awarded": applied.awarded, "unawarded": applied.unawarded}


# --- lecture scores entered by the chair; adjudication; adding a reviewer -------------------------
class LectureSheetOut(Schema):
    assignment_id: int
    expert_id: int
    expert_name: str
    sheet: SheetOut
    problem: str | None = Field(..., description="组长现在不能录入的原因；null：可以录入")


class LectureEntryOut(Schema):
    round_entry_id: int
    code: str
    lecture_at: datetime | None
    lecture_place: str = Field(..., description="本作品的试讲地点（空：同本轮地点）")
    sheets: list[LectureSheetOut]


class ReviewerOptionOut(Schema):
    expert_id: int
    name: str
    ok: bool
    message: str = Field(..., description="不能增加的原因（ok 为 true 时为空）")


class AdjudicationOut(Schema):
    round_entry_id: int
    code: str
    points: str
    reason: str
    by_id: int | None
    at: datetime


class FlaggedOut(Schema):
    round_entry_id: int
    code: str
    spread: float
    score: float
    disagreement: bool
    vetoes: int
    flags: list[str]
    scores: list[dict] = Field(..., description="[{expert_name, points, vetoed}]")
    adjudication: AdjudicationOut | None
    can_adjudicate: bool
    reviewer_options: list[ReviewerOptionOut]


class ChairOut(Schema):
    round_id: int
    round_title: str = Field(..., description="层级 · 类别 · 环节（不含单位名称）")
    phase: str
    closes_at: datetime
    lecture_date: date | None
    lecture_place: str
    entries: list[LectureEntryOut] = Field(..., description="试讲轮次：每件作品（编号）及每位专家的评分表")
    flagged: list[FlaggedOut]
    error: str | None = Field(..., description="评分数据不能汇总时的原因")


class SlotIn(Schema):
    lecture_at: datetime | None = Field(None, description="本作品的试讲时间（须在本轮试讲日期当天；null：未安排）")
    lecture_place: str = Field("", description="本作品的试讲地点（空：同本轮地点）")


class SlotOut(Schema):
    round_entry_id: int
    code: str
    lecture_at: datetime | None
    lecture_place: str


class AdjudicationIn(Schema):
    points: str = Field(..., description="裁定分：0 到满分，最多一位小数")
    reason: str = Field(..., description="裁定理由（必填，记入日志）")


class WithdrawIn(Schema):
    reason: str = Field(..., description="撤回理由（必填，记入日志）")


class ReviewerIn(Schema):
    expert_id: int


class AddedReviewerOut(Schema):
    assignment_id: int
    round_entry_id: int
    code: str
    expert_id: int
    state: str


def _adjudication_out(adj) -> dict | None:
    if adj is None:
        return None
    return {"round_entry_id": adj.round_entry_id, "code": adj.round_entry.code,
            "points": services.decimal_text(adj.points), "reason": adj.reason, "by_id": adj.by_id, "at": adj.at}


def _flagged_out(f) -> dict:
    return {"round_entry_id": f.round_entry.pk, "code": f.round_entry.code, "spread": f.result.spread,
            "score": f.result.score, "disagreement": f.result.disagreement, "vetoes": f.result.vetoes,
            "flags": list(f.result.flags),
            "scores": [{"expert_name": n, "points": p, "vetoed": v} for n, p, v in f.scores],
            "adjudication": _adjudication_out(f.adjudication), "can_adjudicate": f.can_adjudicate,
            "reviewer_options": [vars(o) for o in f.options]}


@router.get("/my/chair/rounds/{round_id}", response={200: ChairOut, **ERRORS},
            summary="组长：试讲成绩录入（每件作品、每位专家的评分表）与评分分歧的作品")
def chair_round(request, round_id: int):
    from review import lecture

    page = lecture.chair_page(request.auth, round_id)
    r = page.round
    return {"round_id": r.pk, "round_title": page.title, "phase": r.phase, "closes_at": r.closes_at,
            "lecture_date": r.lecture_date, "lecture_place": r.lecture_place,
            "entries": [{"round_entry_id": e.round_entry.pk, "code": e.round_entry.code,
                         "lecture_at": e.round_entry.lecture_at, "lecture_place": e.round_entry.lecture_place,
                         "sheets": [{"assignment_id": s.assignment.pk, "expert_id": s.assignment.expert_id,
                                     "expert_name": s.assignment.expert.display_name,
                                     "sheet": _sheet_out(s.assignment, s.sheet), "problem": s.problem}
                                    for s in e.sheets]} for e in page.entries],
            "flagged": [_flagged_out(f) for f in page.flagged],
            "error": page.error.message if page.error else None}


@router.put("/my/chair/sheets/{assignment_id}/entry", response={200: SheetOut, **ERRORS},
            summary="组长录入一位专家的试讲评分（保存，不提交；与专家评分相同的校验）")
def enter_sheet(request, assignment_id: int, payload: SheetIn):
    from review import lecture

    sheet = lecture.enter_sheet(request.auth, assignment_id, **payload.dict())
    return _sheet_out(sheet.assignment, sheet)


@router.post("/my/chair/sheets/{assignment_id}/entry/submit", response={200: SheetOut, **ERRORS},
             summary="组长提交一位专家的试讲评分（每个评价要点都须打分，或一票否决并写理由）")
def submit_entered_sheet(request, assignment_id: int, payload: SheetIn):
    from review import lecture

    sheet = lecture.enter_sheet(request.auth, assignment_id, final=True, **payload.dict())
    return _sheet_out(sheet.assignment, sheet)


def _chair_or_admin_round(request, round_id):
    from review import lecture

    return lecture._managed_or_chaired(request.auth, round_id)


@router.put("/rounds/{round_id}/entries/{round_entry_id}/slot", response={200: SlotOut, **ERRORS},
            summary="安排一件作品的试讲时间和地点（本轮管理员或组长）")
def set_slot(request, round_id: int, round_entry_id: int, payload: SlotIn):
    from review import lecture

    r = _chair_or_admin_round(request, round_id)
    re = lecture.set_lecture_slot(request.auth, r, round_entry_id, lecture_at=_aware(payload.lecture_at),
                                  lecture_place=payload.lecture_place)
    return {"round_entry_id": re.pk, "code": re.code, "lecture_at": re.lecture_at, "lecture_place": re.lecture_place}


@router.put("/rounds/{round_id}/entries/{round_entry_id}/adjudication", response={200: AdjudicationOut, **ERRORS},
            summary="组长裁定评分分歧的作品（须写理由；裁定分代替本轮统计分）")
def adjudicate(request, round_id: int, round_entry_id: int, payload: AdjudicationIn):
    from review import lecture

    r = _chair_or_admin_round(request, round_id)
    return _adjudication_out(lecture.adjudicate(request.auth, r, round_entry_id, payload.points, payload.reason))


@router.post("/rounds/{round_id}/entries/{round_entry_id}/adjudication/withdraw", response={204: None, **ERRORS},
             summary="组长撤回裁定（须写理由；推荐方案应用后不能撤回）")
def withdraw_adjudication(request, round_id: int, round_entry_id: int, payload: WithdrawIn):
    from review import lecture

    r = _chair_or_admin_round(request, round_id)
    lecture.withdraw_adjudication(request.auth, r, round_entry_id, payload.reason)
    return 204, None


@router.get("/rounds/{round_id}/entries/{round_entry_id}/reviewer-options", response={200: list[ReviewerOptionOut],
                                                                                      **ERRORS},
            summary="可增加为这件作品评审专家的评审组专家（不允许的附原因）")
def reviewer_options(request, round_id: int, round_entry_id: int):
    from review import lecture

    r = _chair_or_admin_round(request, round_id)
    if not request.auth.has_perm("review.add_reviewer", r):
        raise Http404
    rp = services.round_problem(r)
    if round_entry_id not in rp.problem.entry_by_id:
        raise Http404
    return [vars(o) for o in lecture.reviewer_options(rp, round_entry_id)]


@router.post("/rounds/{round_id}/entries/{round_entry_id}/reviewers", response={201: AddedReviewerOut, **ERRORS},
             summary="为评分分歧的作品增加一位评审专家（立即发布并通知本人；须符合分配规则）")
def add_reviewer(request, round_id: int, round_entry_id: int, payload: ReviewerIn):
    from review import lecture

    r = _chair_or_admin_round(request, round_id)
    a = lecture.add_reviewer(request.auth, r, round_entry_id, payload.expert_id)
    return 201, {"assignment_id": a.pk, "round_entry_id": a.entry_id, "code": a.entry.code, "expert_id": a.expert_id,
                 "state": a.state}


# --- publicity (公示) and objections: the admins' operations (the public form is a page only) ---
from review import publicity as publicity_services  # noqa: E402
from selection import services as selection_services  # noqa: E402


class PublicityIn(Schema):
    campaign_id: int
    unit_id: int
    title: str = Field("", description="公示标题；留空时为“单位 + 层级 + 结果公示”")
    note: str = ""


class PublicityItemOut(Schema):
    id: int
    entry_id: int
    course_title: str
    school_name: str
    teachers: str
    category: str
    subject: str
    node_label: str
    recommended: bool
    awarded: bool
    withdrawn: bool
    withdrawn_note: str


class ObjectionOut(Schema):
    id: int
    item_id: int | None
    name: str
    contact: str
    content: str
    has_attachment: bool
    created_at: datetime
    state: str
    outcome: str
    resolved_at: datetime | None


class PublicityOut(Schema):
    id: int
    campaign_id: int
    unit_id: int
    unit_name: str
    level: str
    title: str
    note: str
    slug: str = Field(..., description="公开页面 /gongshi/<slug>/")
    starts_at: datetime
    ends_at: datetime
    state: str = Field(..., description="open 公示中 / closed 公示期已结束 / final 结果已确定")
    finalized_at: datetime | None


class PublicityDetailOut(PublicityOut):
    items: list[PublicityItemOut]
    objections: list[ObjectionOut]


class ResolveIn(Schema):
    decision: str = Field(..., description="dismissed 维持原结果 / upheld 异议成立")
    outcome: str = Field(..., description="处理结果（必填）")
    withdraw: bool = Field(False, description="异议成立时撤销所涉课程的推荐/荣誉（按遴选规则办理）")


def _publicity_out(p) -> dict:
    return {"id": p.pk, "campaign_id": p.campaign_id, "unit_id": p.unit_id, "unit_name": p.unit.name,
            "level": p.level.kind, "title": p.title, "note": p.note, "slug": p.slug, "starts_at": p.starts_at,
            "ends_at": p.ends_at, "state": publicity_services.phase(p), "finalized_at": p.finalized_at}


def _objection_out(o) -> dict:
    return {"id": o.pk, "item_id": o.item_id, "name": o.name, "contact": o.contact, "content": o.content,
            "has_attachment": bool(o.attachment), "created_at": o.created_at, "state": o.state,
            "outcome": o.outcome, "resolved_at": o.resolved_at}


def _publicity_detail(actor, pk) -> dict:
    p = publicity_services.detail(actor, pk)
    return {**_publicity_out(p), "objections": [_objection_out(o) for o in p.objections_list],
            "items": [{f: getattr(i, f) for f in PublicityItemOut.model_fields if f != "id"} | {"id": i.pk}
                      for i in p.items_list]}


@router.get("/publicities", response={200: list[PublicityOut], **ERRORS},
            summary="公示列表：您管理的单位的公示（管理员）")
def list_publicities(request, campaign_id: int | None = None):
    qs = publicity_services.publicities_for(request.auth)
    if campaign_id is not None:
        qs = qs.filter(campaign_id=campaign_id)
    return [_publicity_out(p) for p in qs[:500]]


@router.post("/publicities", response={200: PublicityDetailOut, **ERRORS},
             summary="发起公示：公示本单位本级当前已推荐和评为本级荣誉的课程（管理员）")
def create_publicity(request, payload: PublicityIn):
    campaign = campaign_services.get_campaign(request.auth, payload.campaign_id)
    unit, _level = selection_services.get_unit(request.auth, campaign, payload.unit_id)
    p = publicity_services.create(request.auth, campaign, unit, title=payload.title, note=payload.note)
    return _publicity_detail(request.auth, p.pk)


@router.get("/publicities/{publicity_id}", response={200: PublicityDetailOut, **ERRORS},
            summary="公示详情：课程与异议（管理员）")
def get_publicity(request, publicity_id: int):
    return _publicity_detail(request.auth, publicity_id)


@router.post("/objections/{objection_id}/resolve", response={200: ObjectionOut, **ERRORS},
             summary="处理异议：维持原结果或异议成立（须写处理结果；成立时可撤销所涉课程的结果）（管理员）")
def resolve_objection(request, objection_id: int, payload: ResolveIn):
    o = publicity_services.resolve(request.auth, objection_id, payload.decision, payload.outcome,
                                   withdraw=payload.withdraw)
    return _objection_out(o)


@router.post("/publicities/{publicity_id}/finalize", response={200: PublicityOut, **ERRORS},
             summary="确定公示结果：公示期结束且异议全部处理后（管理员）")
def finalize_publicity(request, publicity_id: int):
    return _publicity_out(publicity_services.finalize(request.auth, publicity_id))
