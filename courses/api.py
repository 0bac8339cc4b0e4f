"""Declared courses (申报) in the REST API: everything the teacher's pages do, for scripts.

Thin: every endpoint calls courses.services, the same functions the pages use. Files are uploaded
with tus at /api/v1/uploads/ (the response header X-Jpk-File-Id names the stored file); then
``PUT /courses/{id}/periods/{n}/slots/{kind}`` with {"file_id": …} puts it into a slot and returns
the slot with its check report (status "pending" until the probe has run — poll
``GET /courses/{id}/report``). ``PATCH /courses/{id}`` also changes the node or the category of an
editable course the school has not recommended yet; a new category takes the files of the slots
it lacks out of the course (they stay the teacher's files) and the answer lists them in
``emptied_slots``. ``DELETE /courses/{id}`` deletes a draft that never went to the school. Scope: a course you may not see answers 404; one you may see but
not change answers 403; a refused action answers 400 with {"detail", "errors"}.
"""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from ninja import Field, Query, Router, Schema

from campaigns.enums import CampaignStatus
from courses import services
from courses.models import Course
from jingpinke.paging import paginate
from jingpinke.paging_api import CURSOR_HELP, ListPageOut, page_out
from jingpinke.prepared import prepared
from media.api import MULTIPART_ERRORS, SHA256_NOTE, MultipartIn, MultipartOut, multipart_out

router = Router(tags=["课程申报"])


# --- schemas ---------------------------------------------------------------------------------------
class ErrorOut(Schema):
    detail: str
    errors: list = []


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class PersonOut(Schema):
    id: int
    name: str
    school: str
    mobile: str


class NodeOut(Schema):
    id: int
    title: str
    label_path: str
    textbook_id: int
    textbook_label: str
    stage: str


class CourseOut(Schema):
    id: int
    campaign_id: int
    campaign_title: str
    category: str
    category_label: str
    node: NodeOut
    title: str
    lead_teacher: PersonOut
    school_id: int
    school_name: str
    periods: int
    status: str
    status_label: str
    editable: bool
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    school_deadline: datetime | None
    same_node_warning: str
    members: list[PersonOut]


class EmptiedFileOut(Schema):
    id: str
    name: str
    size: int
    sha256: str
    kind: str


class EmptiedSlotOut(Schema):
    period: int
    slot: str
    label: str
    file: EmptiedFileOut


class CourseChangedOut(CourseOut):
    emptied_slots: list[EmptiedSlotOut] = []


class CoursePage(ListPageOut):
    items: list[CourseOut]


class CourseIn(Schema):
    campaign_id: int
    category: str
    node_id: int
    title: str
    periods: int | None = None
    school_id: int | None = None


class CourseUpdate(Schema):
    title: str | None = None
    node_id: int | None = None
    category: str | None = None
    periods: int | None = None
    period_titles: dict[int, str] | None = None


class MembersIn(Schema):
    user_ids: list[int]


class AttachIn(Schema):
    file_id: str


class FindingOut(Schema):
    rule: str
    level: str
    label: str
    measured: str = ""
    required: str = ""
    advice: str = ""


class FileOut(Schema):
    id: str
    name: str
    size: int
    sha256: str = Field(description=SHA256_NOTE)
    kind: str
    probe_status: str
    url: str
    download_url: str
    poster_url: str | None
    title_frame_url: str | None


class SlotOut(Schema):
    period: int
    kind: str
    label: str
    required: bool
    formats: list[str]
    max_size_mb: int
    accepts: str
    video_requirements: str
    status: str | None
    findings: list[FindingOut]
    file: FileOut | None
    has_previous_file: bool


class PeriodOut(Schema):
    number: int
    title: str
    slots: list[SlotOut]


class ReportOut(Schema):
    course_id: int
    status: str
    can_submit: bool
    blockers: list[str]
    can_withdraw: bool
    periods: list[PeriodOut]


# --- builders -------------------------------------------------------------------------------------
def _person(user, school="") -> dict:
    return {"id": user.pk, "name": user.display_name, "school": school, "mobile": services.mask_mobile(user.mobile)}


_READ = object()


def course_out(course: Course, user, extras: services.RowExtras | None = None, deadline=_READ) -> dict:
    """A course as the API shows it; ``extras`` (``services.row_extras``): read for a whole list page;
    ``deadline``: its ``services.school_deadline`` when the caller has it (``submit`` read it)."""
    if extras is not None:
        deadline = extras.deadlines[(course.campaign_id, course.school_id)]
        same_node, members = extras.same_node[course.pk], extras.members.get(course.pk, [])
    else:
        if deadline is _READ:
            deadline = services.school_deadline(course.campaign, course.school)
        same_node, members = services.same_node_warning(course), services.members_of(course)
    node = course.node
    return {
        "id": course.pk, "campaign_id": course.campaign_id, "campaign_title": course.campaign.title,
        "category": course.category, "category_label": str(course.get_category_display()),
        "node": {"id": node.pk, "title": node.title, "label_path": node.label_path, "textbook_id": node.textbook_id,
                 "textbook_label": node.textbook.label, "stage": node.textbook.stage},
        "title": course.title, "lead_teacher": _person(course.lead_teacher, course.school.name),
        "school_id": course.school_id, "school_name": course.school.name, "periods": course.periods_count,
        "status": course.status, "status_label": str(course.get_status_display()),
        "editable": services.can_change(user, course) and course.campaign.status == CampaignStatus.OPEN,
        "created_at": course.created_at, "updated_at": course.updated_at, "submitted_at": course.submitted_at,
        "school_deadline": deadline.deadline if deadline else None,
        "same_node_warning": same_node, "members": members,
    }


def _file_out(course: Course, card) -> dict | None:
    if card.resource is None:
        return None
    f = card.resource.file
    args = [course.pk, card.period.number, card.kind]
    url = reverse("courses:file", args=args)
    return {"id": str(f.pk), "name": f.original_name, "size": f.size, "sha256": f.sha256, "kind": f.kind,
            "probe_status": f.probe_status, "url": url, "download_url": url + "?download=1",
            "poster_url": reverse("courses:poster", args=args) if f.poster_key else None,
            "title_frame_url": reverse("courses:title_frame", args=args) if f.title_frame_key else None}


def slot_out(course: Course, card) -> dict:
    return {"period": card.period.number, "kind": card.kind, "label": card.label, "required": card.slot.required,
            "formats": list(card.requirements.formats), "max_size_mb": card.max_mb, "accepts": card.accepts,
            "video_requirements": card.video, "status": card.status or None, "findings": card.findings,
            "file": _file_out(course, card),
            "has_previous_file": bool(card.resource and card.resource.previous_file_id)}


def report_out(course: Course) -> dict:
    cards = services.package(course)
    decision = services.submission_facts(course, cards)
    return {"course_id": course.pk, "status": course.status, "can_submit": decision.ok,
            "blockers": decision.reasons, "can_withdraw": services.withdraw_decision(course).ok,
            "periods": [{"number": pc.number, "title": pc.period.title,
                         "slots": [slot_out(course, c) for c in pc.slots]} for pc in cards]}


# --- endpoints ----------------------------------------------------------------------------------------
@router.get("", response={200: CoursePage, **ERRORS}, summary="我能看到的申报课程（主讲、团队成员，或管理范围内学校的课程）")
def list_courses(request, page: int = 1, campaign: int | None = None, status: str = "", mine: bool = False,
                 cursor: str = Query("", description=CURSOR_HELP)):
    # A teacher's own courses are keyed by him (prepared: jingpinke/prepared.py); an admin's list
    # depends on the size of his scope, planned for it every time.
    with prepared(not request.user.is_system_admin and not request.user.admin_units()):
        qs = services.list_courses(request.user, campaign_id=campaign, status=status, mine=mine)
        p = paginate(qs, services.PAGE_SIZE, page, cursor, load=services.load_listed)
        extras = services.row_extras(p.object_list)
        return page_out(p, [course_out(c, request.user, extras) for c in p.object_list])


@router.post("", response={201: CourseOut, **ERRORS}, summary="新建申报（草稿）；本人为主讲教师")
def create_course(request, payload: CourseIn):
    actor = request.user
    campaign = services.get_open_campaign(actor, payload.campaign_id)
    school = None
    if payload.school_id is not None:
        school = next((s for s in services.teacher_schools(actor, campaign) if s.pk == payload.school_id), None)
        if school is None:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied("您只能以自己任教的学校申报。")
    course = services.start_course(actor, campaign, category=payload.category, node_id=payload.node_id,
                                   title=payload.title, periods=payload.periods, school=school)
    return 201, course_out(services.get_course(actor, course.pk), actor)


@router.get("/{course_id}", response={200: CourseOut, **ERRORS}, summary="申报课程详情")
def get_course(request, course_id: int):
    return course_out(services.get_course(request.user, course_id), request.user)


@router.patch("/{course_id}", response={200: CourseChangedOut, **ERRORS},
              summary="修改草稿（课程名称、目录节点、类别、课时数、课时标题）；只改给出的字段。学校推荐到上级后不能再改目录节点和类别；"
                      "改类别时，新类别没有的资源项中的文件移出课程（文件仍是您的），在 emptied_slots 中列出")
def update_course(request, course_id: int, payload: CourseUpdate):
    actor = request.user
    course = services.get_course(actor, course_id)
    changed = services.update_course(actor, course, title=payload.title, node_id=payload.node_id,
                                     category=payload.category, periods=payload.periods,
                                     period_titles=payload.period_titles)
    return {**course_out(services.get_course(actor, course_id), actor),
            "emptied_slots": [e.as_dict() for e in changed.emptied_slots]}


@router.delete("/{course_id}", response={204: None, **ERRORS},
               summary="删除从未提交过的草稿（仅主讲教师）；已上传的文件不删除，仍在您的文件中")
def delete_course(request, course_id: int):
    actor = request.user
    services.delete_draft(actor, services.get_course(actor, course_id))
    return 204, None


@router.get("/{course_id}/members", response={200: list[PersonOut], **ERRORS}, summary="团队成员")
def get_members(request, course_id: int):
    return services.members_of(services.get_course(request.user, course_id))


@router.put("/{course_id}/members", response={200: list[PersonOut], **ERRORS},
            summary="设置团队成员（按顺序的用户编号；不含主讲教师）")
def put_members(request, course_id: int, payload: MembersIn):
    actor = request.user
    course = services.get_course(actor, course_id)
    services.set_members(actor, course, payload.user_ids)
    return services.members_of(course)


@router.get("/{course_id}/teachers", response={200: list[PersonOut], **ERRORS},
            summary="按姓名（至少两个字）或 11 位手机号查找可加入团队的已注册教师")
def find_teachers(request, course_id: int, q: str = ""):
    actor = request.user
    course = services.get_course(actor, course_id)
    return services.find_teachers(actor, course, q)


@router.get("/{course_id}/report", response={200: ReportOut, **ERRORS},
            summary="资源与检测报告：每个课时、每一项的文件、检测结论（pass/warn/fail/pending）与各规则的实测值、要求和修改建议")
def report(request, course_id: int):
    return report_out(services.get_course(request.user, course_id))


@router.put("/{course_id}/periods/{number}/slots/{kind}", response={200: SlotOut, **ERRORS},
            summary="把自己上传的文件放入某课时的某一项（立即检测；类型、大小或空文件不合格时拒绝，原文件保留）")
def attach(request, course_id: int, number: int, kind: str, payload: AttachIn):
    actor = request.user
    course = services.get_course(actor, course_id)
    services.attach_file(actor, course, number, kind, payload.file_id)
    return slot_out(course, services.slot_card(course, number, kind))


@router.post("/{course_id}/periods/{number}/slots/{kind}/uploads", response={201: MultipartOut, **MULTIPART_ERRORS},
             summary="开始把文件直传到对象存储（检查：可修改这门课程、该项接受此扩展名、大小不超限）；"
                     "然后在 /api/v1/files/multipart/{id} 签名、续传、完成")
def start_upload(request, course_id: int, number: int, kind: str, payload: MultipartIn):
    actor = request.user
    course = services.get_course(actor, course_id)
    upload = services.start_direct_upload(actor, course, number, kind, name=payload.filename, size=payload.size)
    return 201, multipart_out(upload)


@router.delete("/{course_id}/periods/{number}/slots/{kind}", response={204: None, **ERRORS},
               summary="删除某课时某一项中的文件（文件本身仍在您的文件中）")
def remove(request, course_id: int, number: int, kind: str):
    actor = request.user
    services.remove_file(actor, services.get_course(actor, course_id), number, kind)
    return 204, None


@router.post("/{course_id}/periods/{number}/slots/{kind}/restore", response={200: SlotOut, **ERRORS},
             summary="恢复这一项被替换前的文件")
def restore(request, course_id: int, number: int, kind: str):
    actor = request.user
    course = services.get_course(actor, course_id)
    services.restore_previous(actor, course, number, kind)
    return slot_out(course, services.slot_card(course, number, kind))


@router.get("/{course_id}/periods/{number}/slots/{kind}/file", response={200: None, 206: None, **ERRORS},
            summary="下载或播放这一项的文件（支持 Range 请求；?download=1 作为附件下载）")
def file(request, course_id: int, number: int, kind: str, download: bool = False):
    from media.services import file_response

    actor = request.user
    course = services.get_course(actor, course_id)
    resource = services.resource_for_view(actor, course, number, kind)
    return file_response(request, resource.file, as_attachment=download)


@router.post("/{course_id}/submit", response={200: CourseOut, **ERRORS},
             summary="提交到学校（必交项齐全、没有不合格或检测中的文件、学校申报截止前）")
@prepared()  # the answer's reads too: keyed by the course (jingpinke/prepared.py)
def submit(request, course_id: int):
    actor = request.user
    # submit checks the scope and reads the course under its lock (with what course_out reads), and
    # answers it as saved, with the deadline its check read
    course = services.submit(actor, course_id)
    return course_out(course, actor, deadline=course.checked_deadline)


@router.post("/{course_id}/withdraw", response={200: CourseOut, **ERRORS}, summary="撤回（学校尚未处理时）")
@prepared()
def withdraw(request, course_id: int):
    actor = request.user
    return course_out(services.withdraw(actor, course_id), actor)
