"""What each notification says (pure: plain data in, title and body out; no ORM).

Plain Chinese that tells the reader what happened and what to do next. Times are Beijing time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.utils.translation import gettext as _

from notifications.rules import local_text
from selection.rules import time_left_text


def _left(deadline: datetime, now: datetime) -> str:
    return time_left_text(int((deadline - now).total_seconds()))


# --- decisions on an entry (to the course's lead teacher and team) ------------------------------
def returned(title: str, unit: str, reason: str, by_when: datetime | None, now: datetime) -> tuple[str, str]:
    head = _("《%(t)s》被%(u)s退回修改") % {"t": title, "u": unit}
    lines = [_("退回理由：%(r)s") % {"r": reason.strip()}, _("课程已恢复为可编辑状态。")]
    if by_when is None:
        lines.append(_("请按退回理由修改后重新提交，重新提交后课程会回到%(u)s。") % {"u": unit})
    elif by_when < now:
        lines.append(_("重新提交的截止时间（%(d)s）已过，请联系%(u)s为您重新开放后再提交。") % {
            "d": local_text(by_when), "u": unit})
    else:
        lines.append(_("请按退回理由修改，并在 %(d)s 前重新提交（%(left)s），重新提交后课程会回到%(u)s。") % {
            "d": local_text(by_when), "left": _left(by_when, now), "u": unit})
    return head, "\n".join(lines)


def declined(title: str, unit: str, level: str, reason: str) -> tuple[str, str]:
    head = _("《%(t)s》在%(l)s未获推荐") % {"t": title, "l": level}
    body = _("%(u)s没有推荐这门课程。") % {"u": unit}
    if reason.strip():
        body += _("理由：%(r)s。") % {"r": reason.strip().rstrip("。")}
    body += _("这门课程在本次遴选中到此结束，无需再操作；如有疑问，请联系%(u)s。") % {"u": unit}
    return head, body


def recommended(title: str, unit: str, to_unit: str, to_level: str) -> tuple[str, str]:
    if to_unit:
        head = _("《%(t)s》已被%(u)s推荐到%(to)s") % {"t": title, "u": unit, "to": to_unit}
        body = _("%(u)s已将这门课程推荐到%(to)s，接下来由%(to)s进行%(l)s。课程资料已锁定，您无需操作，请留意后续通知。") % {
            "u": unit, "to": to_unit, "l": to_level}
    else:
        head = _("《%(t)s》已被%(u)s推荐到上一级") % {"t": title, "u": unit}
        body = _("%(u)s已将这门课程推荐到上一级。课程资料已锁定，您无需操作，请留意后续通知。") % {"u": unit}
    return head, body


def undone(title: str, unit: str, previous: str) -> tuple[str, str]:
    if previous == "recommended":
        head = _("《%(t)s》的推荐已撤销") % {"t": title}
        body = _("%(u)s撤销了对这门课程的推荐，课程回到%(u)s待处理，结果以%(u)s重新处理为准。您无需操作。") % {"u": unit}
    else:
        head = _("《%(t)s》的“未推荐”已撤销") % {"t": title}
        body = _("%(u)s撤销了“未推荐”，课程回到%(u)s待处理。您无需操作，请留意后续通知。") % {"u": unit}
    return head, body


def awarded(title: str, unit: str, award: str) -> tuple[str, str]:
    return (_("《%(t)s》被评为%(a)s") % {"t": title, "a": award},
            _("祝贺！%(u)s将这门课程评为%(a)s。") % {"u": unit, "a": award})


def unawarded(title: str, unit: str, award: str) -> tuple[str, str]:
    return (_("《%(t)s》的%(a)s已取消") % {"t": title, "a": award},
            _("%(u)s取消了这门课程的%(a)s评定。如有疑问，请联系%(u)s。") % {"u": unit, "a": award})


# --- to the admins of the unit a course was recommended to ---------------------------------------
def incoming(title: str, from_unit: str, school: str, category: str, subject: str, deadline: datetime | None,
             now: datetime) -> tuple[str, str]:
    head = _("新的推荐待处理：《%(t)s》") % {"t": title}
    body = _("%(f)s推荐了《%(t)s》（%(s)s，%(c)s · %(sub)s）。") % {
        "f": from_unit, "t": title, "s": school, "c": category, "sub": subject}
    if deadline is not None and deadline >= now:
        body += _("请在 %(d)s 前处理（%(left)s）：推荐、未推荐或退回修改。") % {
            "d": local_text(deadline), "left": _left(deadline, now)}
    else:
        body += _("请及时处理：推荐、未推荐或退回修改。")
    return head, body


def resubmitted(title: str, teacher: str, reason: str, deadline: datetime | None, now: datetime) -> tuple[str, str]:
    head = _("退回的课程已重新提交：《%(t)s》") % {"t": title}
    body = _("%(who)s按退回意见修改了《%(t)s》并重新提交") % {"who": teacher, "t": title}
    body += _("（退回理由：%(r)s）。") % {"r": reason} if reason else "。"
    if deadline is not None and deadline >= now:
        body += _("请在 %(d)s 前再次处理（%(left)s）。") % {"d": local_text(deadline), "left": _left(deadline, now)}
    else:
        body += _("请及时再次处理。")
    return head, body


def incoming_undone(title: str, from_unit: str) -> tuple[str, str]:
    return (_("推荐已撤回：《%(t)s》") % {"t": title},
            _("%(f)s撤销了对《%(t)s》的推荐，这门课程已不在本单位的待处理列表中，无需处理。") % {"f": from_unit, "t": title})


# --- deadlines near --------------------------------------------------------------------------------
def _what(fields: Sequence[str]) -> str:
    names = {"deadline": _("推荐上报"), "confirm_deadline": _("推荐汇总表确认"),
             "contact_form_deadline": _("工作联系表报送")}
    return "、".join(str(names[f]) for f in fields)


def deadline_near(unit: str, campaign: str, level: str, fields: Sequence[str], deadline: datetime, now: datetime,
                  pending: int) -> tuple[str, str]:
    what = _what(fields)
    head = _("%(u)s：%(w)s将于 %(d)s 截止") % {"u": unit, "w": what, "d": local_text(deadline)}
    lines = [_("%(c)s（%(l)s）中，%(u)s的%(w)s将于 %(d)s 截止（%(left)s）。") % {
        "c": campaign, "l": level, "u": unit, "w": what, "d": local_text(deadline), "left": _left(deadline, now)}]
    if "deadline" in fields:
        if pending:
            lines.append(_("还有 %(n)d 门课程待处理，请逐一推荐、未推荐或退回修改。") % {"n": pending})
        else:
            lines.append(_("请在截止前完成本级的推荐。"))
    if "confirm_deadline" in fields:
        lines.append(_("处理完毕后请确认推荐汇总表，确认后本级结果锁定。"))
    return head, "\n".join(lines)


def contact_form_near(unit: str, campaign: str, deadline: datetime, now: datetime, started: bool) -> tuple[str, str]:
    head = _("%(u)s：工作联系表将于 %(d)s 截止") % {"u": unit, "d": local_text(deadline)}
    body = _("%(c)s中，%(u)s的工作联系表将于 %(d)s 截止（%(left)s），目前%(state)s。") % {
        "c": campaign, "u": unit, "d": local_text(deadline), "left": _left(deadline, now),
        "state": _("已填写但还没有提交") if started else _("还没有填写")}
    body += "\n" + _("请填写联系人（姓名、职务、手机、负责类别），上传加盖公章的扫描件，然后点击“保存并提交”。")
    return head, body


def draft_near(title: str, status: str, deadline: datetime, now: datetime) -> tuple[str, str]:
    head = _("《%(t)s》尚未提交，%(d)s 截止") % {"t": title, "d": local_text(deadline)}
    if status == "returned":
        body = _("这门课程被退回修改后还没有重新提交，截止时间为 %(d)s（%(left)s）。请按退回理由修改后重新提交。") % {
            "d": local_text(deadline), "left": _left(deadline, now)}
    else:
        body = _("这门课程还没有提交到学校，申报将于 %(d)s 截止（%(left)s）。请补齐各课时的资源，检测通过后点击“提交到学校”；截止后不能再提交。") % {
            "d": local_text(deadline), "left": _left(deadline, now)}
    return head, body


# --- the one-click reminder of the level above ----------------------------------------------------
def remind(parent: str, unit: str, campaign: str, level: str, pending: int, confirmed: bool,
           deadline: datetime | None, now: datetime, contact_form_missing: bool = False) -> tuple[str, str]:
    head = _("%(p)s提醒：请尽快完成%(l)s") % {"p": parent, "l": level}
    problems = []
    if pending:
        problems.append(_("还有 %(n)d 门课程待处理") % {"n": pending})
    if not confirmed:
        problems.append(_("推荐汇总表尚未确认"))
    if contact_form_missing:
        problems.append(_("工作联系表尚未提交"))
    body = _("%(p)s提醒%(u)s：%(c)s中，本单位%(what)s。") % {
        "p": parent, "u": unit, "c": campaign, "what": "，".join(problems) or _("尚未完成")}
    if deadline is not None and deadline >= now:
        body += _("截止时间为 %(d)s（%(left)s）。") % {"d": local_text(deadline), "left": _left(deadline, now)}
    elif deadline is not None:
        body += _("截止时间 %(d)s 已过，如需延期请联系%(p)s重新开放。") % {"d": local_text(deadline), "p": parent}
    body += _("请逐一处理待处理的课程，然后确认推荐汇总表。")
    return head, body
