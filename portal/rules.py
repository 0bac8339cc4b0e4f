"""What a person must do next, and by when: a pure function of role and deadlines.

Every home page shows a dated next task, or says plainly that there is none and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _

# Plain deadline facts the Django layer hands in, per level kind.
# {"school": {"deadline": dt, "contact_form_deadline": dt, "confirm_deadline": dt}, "county": {...}, ...}
Deadlines = dict[str, dict[str, datetime | None]]


@dataclass(frozen=True)
class Step:
    key: str
    text: str  # Chinese, shown as is
    due: datetime | None
    url_name: str | None = None
    url_args: tuple = ()
    query: dict | None = None  # the link's query string (e.g. a form's initial values)

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


LEVEL_NAME = {"school": "学校", "county": "区县", "city": "市", "province": "省"}
LEVEL_ORDER = ("school", "county", "city", "province")
DEADLINE_WHAT = {"deadline": "推荐截止", "confirm_deadline": "汇总表确认截止", "contact_form_deadline": "工作联系表截止"}


def _level_below(level: str, levels: list[str]) -> str | None:
    """The campaign's level directly below ``level`` (whose units report to it)."""
    below = [k for k in LEVEL_ORDER[:LEVEL_ORDER.index(level)] if k in levels]
    return below[-1] if below else None


def next_steps(role: str, deadlines: Deadlines, now: datetime, *, owner_admin: bool = False,
               next_level: str | None = None, contact_form: dict | None = None,
               levels: list[str] | None = None, all_levels: Deadlines | None = None,
               unit_kind: str | None = None, owner_name: str = "", campaign_id: int | None = None) -> list[Step]:
    """The to-do list of the home page, open items first, each ordered by due date.

    ``owner_admin``: the user administers the campaign's owner unit (he configures it).
    ``next_level``: the kind of unit his level recommends to (for a 市直属学校: "city").
    ``contact_form``: what the contacts app says for his unit, {"files": bool, "deadline": dt,
    "board": bool}: he files the form on the platform (a linked step with his deadline), and/or
    he sees every reporting unit's form; None: only the level's contact-form deadline is known.
    ``levels``: the level kinds the campaign has (None: not known, every level assumed).
    ``all_levels``: the campaign's default deadlines of every level (the system admin watches
    them; an admin whose own level has no deadline is shown the one of the level below).
    ``unit_kind``: the kind of the expert's unit (he reviews for that level).

    When no step carries a date, a last step (``no_deadline``) says plainly why.
    """
    steps: list[Step] = []
    reason = ""
    levels = list(levels) if levels is not None else list(LEVEL_ORDER)
    all_levels = all_levels or {}
    if role == "teacher":
        school = deadlines.get("school", {})
        # A teacher submits to his school before the school's own deadline to recommend.
        steps.append(Step("catalog", _("查看本次活动开放的目录节点，选定拟讲授的课"), None, "catalog:nodes"))
        steps.append(Step("declare", _("制作资源包并向学校提交申报（微课视频、教学设计、学习任务单、课件、作业练习）"),
                          school.get("deadline"), "courses:list"))
        reason = _("学校尚未设置申报截止时间：以学校的通知为准，设置后这里会显示。")
    elif role in ADMIN_LEVEL:
        level = ADMIN_LEVEL[role]
        mine = deadlines.get(level, {})
        target = UNIT_KIND_NAME.get(next_level or "") or NEXT_LEVEL_NAME[level]
        in_campaign = level in levels
        if owner_admin:
            steps.append(Step("configure", _("检查活动设置：类别与资源包、制作规范、各级截止时间、名额与规则"),
                              None, "campaigns:list"))
            steps.append(Step("open_nodes", _("开放本次活动可申报的教材目录节点"), None, "catalog:nodes"))
        if role != "school_admin":
            steps.append(Step("people", _("导入或核对下级单位与管理员账号"), None, "orgs:units"))
        else:
            steps.append(Step("people", _("导入或核对本校教师账号"), None, "orgs:users"))
        if contact_form and contact_form.get("files"):
            steps.append(Step("contact_form", _("填写工作联系表并上传盖章扫描件"), contact_form.get("deadline"),
                              "contacts:home"))
        elif mine.get("contact_form_deadline"):
            steps.append(Step("contact_form", _("填写工作联系表并上传盖章扫描件"), mine["contact_form_deadline"], None))
        if contact_form and contact_form.get("board"):
            steps.append(Step("contact_board", _("查看各单位工作联系表的报送情况，下载汇总 Excel"), None, "contacts:home"))
        if not in_campaign:
            top = max(levels, key=LEVEL_ORDER.index) if levels else level
            reason = _("本活动由%(owner)s主办，只到%(top)s级，不经过%(mine)s级：本级无需审核和推荐，可查看各地进度。") % {
                "owner": owner_name or _("上级"), "top": LEVEL_NAME[top], "mine": LEVEL_NAME[level]}
        else:
            if level == "school":
                steps.append(Step("screen", _("审核本校教师的申报，择优向%s推荐") % target, mine.get("deadline"), None))
            else:
                steps.append(Step("screen", _("审核下级推荐的课程，在名额内向%s推荐") % target, mine.get("deadline"), None))
            if mine.get("confirm_deadline"):
                steps.append(Step("confirm", _("下载并确认推荐汇总表"), mine["confirm_deadline"], None))
            below = _level_below(level, levels)
            if not (mine.get("deadline") or mine.get("confirm_deadline")) and below:
                # His own level has no date: the next dated thing is what the level below owes him.
                facts = all_levels.get(below, {})
                for name, text in (("deadline", _("各%(below)s向本级推荐截止，届时收齐推荐")),
                                   ("confirm_deadline", _("各%(below)s确认推荐汇总表截止"))):
                    if facts.get(name):
                        steps.append(Step("receive" if name == "deadline" else "receive_confirm",
                                          text % {"below": LEVEL_NAME[below]}, facts[name], None))
            if owner_admin:
                reason = _("本活动尚未设置%(level)s级的截止时间：请在“层级与截止时间”中设置。") % {"level": LEVEL_NAME[level]}
            else:
                reason = _("本活动尚未设置%(level)s级的截止时间：由主办单位%(owner)s设置后，这里会显示。") % {
                    "level": LEVEL_NAME[level], "owner": owner_name or _("上级")}
    elif role == "expert":
        level = unit_kind if unit_kind in LEVEL_ORDER else None
        mine = deadlines.get(level, {}) if level else {}
        steps.append(Step("review", _("等待评审任务分配；分配后按评价指标完成评分（本级须在推荐截止前完成评审）"),
                          mine.get("deadline"), None))
        reason = _("本级尚未设置推荐截止时间，评审时间未定：评审任务分配后，这里会显示评分截止时间。")
    elif role == "sysadmin":
        steps.append(Step("orgs", _("维护单位与用户"), None, "orgs:units"))
        steps.append(Step("campaigns", _("创建或检查遴选活动"), None, "campaigns:list"))
        steps.append(Step("catalog", _("导入教材目录"), None, "catalog:textbooks"))
        fields = list(DEADLINE_WHAT)
        dated = sorted(((due, LEVEL_ORDER.index(kind), fields.index(name)), kind, name)
                       for kind, facts in all_levels.items() if kind in LEVEL_ORDER
                       for name, due in facts.items() if due is not None and name in DEADLINE_WHAT)
        upcoming = [d for d in dated if d[0][0] >= now]
        if upcoming:
            (due, _rank, _field), kind, name = upcoming[0]
            steps.append(Step("watch", _("关注下一个截止：%(level)s级%(what)s，届时检查各单位是否按时完成") % {
                "level": LEVEL_NAME.get(kind, kind), "what": DEADLINE_WHAT[name]}, due, None))
        elif dated:
            reason = _("本活动各级截止时间均已过去：可查看结果，或为下一年度从模板新建活动。")
        else:
            reason = _("本活动尚未设置任何截止时间：由主办单位在“层级与截止时间”中设置。")

    if reason and all(step.due is None for step in steps):
        steps.append(Step("no_deadline", reason, None, "campaigns:levels" if owner_admin else None,
                          (campaign_id,) if owner_admin and campaign_id else ()))

    def order(step: Step):
        overdue = step.is_overdue(now)
        return (overdue, step.due is None, step.due or now)

    return sorted(steps, key=order)


def no_campaign_steps(role: str, *, unit_name: str = "", year: int | None = None,
                      template: dict | None = None, may_create: bool = False, owner_id: int | None = None) -> list[Step]:
    """The home page's steps when the user has no campaign of ``year`` (an admin of a province or
    city: none his unit runs; anyone else: none at all), saying why and how to start one.

    ``template``: the shipped template that fits his unit, {"key", "title", "year"}.
    """
    steps: list[Step] = []
    if role == "sysadmin":
        steps += [Step("orgs", _("维护单位与用户"), None, "orgs:units"),
                  Step("catalog", _("导入教材目录"), None, "catalog:textbooks")]
    if may_create and template:
        offset = (year or template["year"]) - template["year"]
        text = _("%(year)s年度%(unit)s还没有遴选活动：在“从内置模板创建活动”中选择“%(title)s”，"
                 "主办单位选%(owner)s，年度偏移填 %(offset)d，即按通知建立类别、名额和各级截止时间，"
                 "检查后开始活动。") % {"year": year or template["year"], "unit": unit_name or _("平台上"),
                                 "title": template["title"], "owner": unit_name or _("省或市"), "offset": offset}
        steps.insert(0, Step("start_campaign", text, None, "campaigns:from_template",
                             query={"template": template["key"], "year_offset": str(offset),
                                    **({"owner": str(owner_id)} if owner_id else {})}))
    elif role == "sysadmin":
        steps.insert(0, Step("start_campaign", _("平台上还没有遴选活动：在“从内置模板创建活动”中选用内置模板创建。"),
                             None, "campaigns:from_template"))
    elif role != "none":
        steps.append(Step("no_campaign", _("您所在单位及上级单位目前没有进行中的遴选活动：活动由省、市教育局发布，发布后这里会显示各项任务和截止时间。"),
                          None, None))
    return steps
