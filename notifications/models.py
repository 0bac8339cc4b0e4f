"""Notifications to one user (in the app, and by e-mail when he has an address), and when each
unit was last reminded by the level above (the one-click reminder's rate limit).

A notification says what happened and what to do next, and links to the page where it is done.
``dedupe_key`` names a notification that must reach a user only once (e.g. "the county's deadline
of 20 September is one day away"); the periodic reminders set it and the database refuses a second
row with the same recipient and key, however many schedulers run.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    RETURNED = "returned", _("退回修改")
    DECLINED = "declined", _("未推荐")
    RECOMMENDED = "recommended", _("已推荐")
    UNDONE = "undone", _("处理已撤销")
    AWARDED = "awarded", _("获评荣誉")
    UNAWARDED = "unawarded", _("荣誉已取消")
    INCOMING = "incoming", _("新的推荐待处理")
    INCOMING_UNDONE = "incoming_undone", _("推荐已撤回")
    DEADLINE = "deadline", _("截止提醒")
    DRAFT = "draft", _("申报截止提醒")
    REMIND = "remind", _("上级提醒")
    CHECKS = "checks", _("检测未通过")
    REVIEW_TASKS = "review_tasks", _("新的评审任务")
    REVIEW_REOPENED = "review_reopened", _("评分已重新开放")
    REVIEW_ADDED = "review_added", _("增加评审任务")
    REVIEW_DEADLINE = "review_deadline", _("评审截止提醒")


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user) -> NotificationQuerySet:
        """A user's own notifications; nobody sees another's."""
        if not (user and user.is_authenticated):
            return self.none()
        return self.filter(recipient=user)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications",
                                  verbose_name=_("接收人"))
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(_("链接"), max_length=300, blank=True)
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="+", verbose_name=_("遴选活动"))
    # SET_NULL: an undone recommendation deletes the entry it created at the level above.
    entry = models.ForeignKey("selection.Entry", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                              verbose_name=_("推荐记录"))
    dedupe_key = models.CharField(max_length=160, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("邮件发送时间"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notif_recipient_read")]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "dedupe_key"], condition=~Q(dedupe_key=""),
                                    name="notifications_once_per_key"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def read(self) -> bool:
        return self.read_at is not None

    @property
    def link_label(self) -> str:
        """What following the link does, for the button."""
        return str(LINK_LABELS.get(self.kind, _("查看")))


LINK_LABELS = {
    Kind.RETURNED: _("去修改课程"), Kind.DECLINED: _("查看课程"), Kind.RECOMMENDED: _("查看课程"),
    Kind.UNDONE: _("查看课程"), Kind.AWARDED: _("查看课程"), Kind.UNAWARDED: _("查看课程"),
    Kind.INCOMING: _("去处理"), Kind.INCOMING_UNDONE: _("打开推荐列表"), Kind.DEADLINE: _("打开推荐列表"),
    Kind.DRAFT: _("去提交课程"), Kind.REMIND: _("打开推荐列表"), Kind.CHECKS: _("查看检测报告"),
    Kind.REVIEW_TASKS: _("打开我的评审任务"), Kind.REVIEW_REOPENED: _("去修改评分"),
    Kind.REVIEW_ADDED: _("打开我的评审任务"), Kind.REVIEW_DEADLINE: _("打开我的评审任务"),
}


class UnitReminder(models.Model):
    """When the level above last reminded a unit in a campaign (one row per unit, locked while a
    reminder is sent, so two admins clicking together send one reminder)."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("orgs.Unit", on_delete=models.CASCADE, related_name="+")
    last_sent_at = models.DateTimeField(_("上次提醒时间"), null=True, blank=True)
    last_sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    times = models.PositiveIntegerField(_("提醒次数"), default=0)

    class Meta:
        verbose_name = _("单位提醒记录")
        verbose_name_plural = _("单位提醒记录")
        constraints = [models.UniqueConstraint(fields=["campaign", "unit"], name="notifications_reminder_unique")]

    def __str__(self) -> str:
        return f"{self.unit} · {self.last_sent_at}"
