"""What a person must do next, and by when: a pure function of role and deadlines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Plain deadline facts the Django layer hands in, per level kind.
# {"school": {"deadline": dt, "contact_form_deadline": dt, "confirm_deadline": dt}, "county": {...}, ...}
Deadlines = dict[str, dict[str, datetime | None]]


@dataclass(frozen=True)
class Step:
    key: str
    text: str  # Chinese, shown as is
    due: datetime | None
    url_name: str | None = None

    def is_overdue(self, now: datetime) -> bool:
        return self.due is not None and self.due < now


ADMIN_LEVEL = {
    "school_admin": "school",
    "county_admin": "county",
    "city_admin": "city",
    "province_admin": "province",
}
NEXT_LEVEL_NAME = {"school": "区县", "county": "市", "city": "省", "province": "教育部"}
UNIT_KIND_NAME = {"county": "区县", "city": "市", "province": "省"}


def next_steps(role: str, deadlines: Deadlines, now: datetime, *, owner_admin: bool = False,
               next_level: str | None = None, contact_form: dict | None = None) -> list[Step]:
    """The to-do list of the home page, open items first, each ordered by due date.

    ``owner_admin``: the user administers the campaign's owner unit (he configures it).
    ``next_level``: the kind of unit his level recommends to (for a 市直属学校: "city").
    ``contact_form``: what the contacts app says for his unit, {"files": bool, "deadline": dt,
    "board": bool}: he files the form on the platform (a linked step with his deadline), and/or
    he sees every reporting unit's form; None: only the level's contact-form deadline is known.
    """
    steps: list[Step] = []
    if role == "teacher":
        school = deadlines.get("school", {})
        # A teacher submits to his school before the school's own deadline to recommend.
        steps.append(Step("catalog", "查看本次活动开放的目录节点，选定拟讲授的课", None, "catalog:nodes"))
        steps.append(Step("declare", "制作资源包并向学校提交申报（微课视频、教学设计、学习任务单、课件、作业练习）",
                          school.get("deadline"), "courses:list"))
    elif role in ADMIN_LEVEL:
        level = ADMIN_LEVEL[role]
        mine = deadlines.get(level, {})
        target = UNIT_KIND_NAME.get(next_level or "") or NEXT_LEVEL_NAME[level]
        if owner_admin:
            steps.append(Step("configure", "检查活动设置：类别与资源包、制作规范、各级截止时间、名额与规则",
                              None, "campaigns:list"))
            steps.append(Step("open_nodes", "开放本次活动可申报的教材目录节点", None, "catalog:nodes"))
        if role != "school_admin":
            steps.append(Step("people", "导入或核对下级单位与管理员账号", None, "orgs:units"))
        else:
            steps.append(Step("people", "导入或核对本校教师账号", None, "orgs:users"))
        if contact_form and contact_form.get("files"):
            steps.append(Step("contact_form", "填写工作联系表并上传盖章扫描件", contact_form.get("deadline"),
                              "contacts:home"))
        elif mine.get("contact_form_deadline"):
            steps.append(Step("contact_form", "填写工作联系表并上传盖章扫描件", mine["contact_form_deadline"], None))
        if contact_form and contact_form.get("board"):
            steps.append(Step("contact_board", "查看各单位工作联系表的报送情况，下载汇总 Excel", None, "contacts:home"))
        if level == "school":
            steps.append(Step("screen", "审核本校教师的申报，择优向%s推荐" % target, mine.get("deadline"), None))
        else:
            steps.append(Step("screen", "审核下级推荐的课程，在名额内向%s推荐" % target, mine.get("deadline"), None))
        if mine.get("confirm_deadline"):
            steps.append(Step("confirm", "下载并确认推荐汇总表", mine["confirm_deadline"], None))
    elif role == "expert":
        steps.append(Step("review", "等待评审任务分配；分配后按评价指标完成评分", None, None))
    elif role == "sysadmin":
        steps.append(Step("orgs", "维护单位与用户", None, "orgs:units"))
        steps.append(Step("campaigns", "创建或检查遴选活动", None, "campaigns:list"))
        steps.append(Step("catalog", "导入教材目录", None, "catalog:textbooks"))

    def order(step: Step):
        overdue = step.is_overdue(now)
        return (overdue, step.due is None, step.due or now)

    return sorted(steps, key=order)
