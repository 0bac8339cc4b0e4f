"""Listening to the checks of declared courses: a course whose checks passed and fail after its
campaign changed its requirements (a check's severity, the production spec, the package) tells
its lead teacher and team (``courses.signals.checks_failed``, connected in ``apps.ready``).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.dispatch import receiver
from django.utils.translation import gettext as _

from courses.signals import checks_failed
from notifications.models import Kind
from notifications.services import course_link, notify, team

EDITABLE = frozenset({"draft", "returned", "withdrawn"})


def failed_text(title: str, status: str, problems: Sequence[str]) -> tuple[str, str]:
    """What the teachers read (pure): the failing items and what to do, by the course's state."""
    head = _("《%(t)s》的资源检测变为未通过") % {"t": title}
    lines = [_("遴选活动调整了检测要求，系统按新要求重新检测了已上传的文件，以下资源现在未通过："), *problems]
    if status in EDITABLE:
        lines.append(_("请按检测报告修改后重新上传；有未通过检测的资源时课程不能提交。"))
    else:
        lines.append(_("课程已提交。如需更换文件，请联系学校管理员退回后修改。"))
    return head, "\n".join(lines)


@receiver(checks_failed, dispatch_uid="notifications.checks_failed")
def on_checks_failed(sender, course, problems, **kwargs):
    title, body = failed_text(course.title, course.status, problems)
    notify(team(course), Kind.CHECKS, title, body, link=course_link(course), campaign=course.campaign)
